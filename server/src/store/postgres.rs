//! The PostgreSQL store: several backend instances on one database.
//!
//! The same guarantees as the SQLite store, reached the PostgreSQL way: every write that decides
//! something (a payment, a transition, a refund) first locks the order's row (`SELECT … FOR
//! UPDATE`), so concurrent duplicates from any number of instances are serialised per order and
//! exactly one sees the change. Migrations run at start inside one transaction holding an advisory
//! lock, so instances starting together migrate once. Every committed order change sends
//! `NOTIFY wxpay_orders, '<order_id>'` (see [`super::changes`]), which wakes long-polls held by
//! other instances. The reconciler's listing claims orders (`FOR UPDATE SKIP LOCKED`), so each is
//! queried by one instance at a time.
//!
//! A connection that cannot be made or is lost is [`StoreError::Unavailable`] (HTTP 503
//! `storage_unavailable`); the pool makes new connections as soon as the database is back.

use super::postgres_tls::DbTls;
use super::{
    AttemptNews, DueQuery, DueRefunds, NewOrder, NewRefund, NewsOutcome, NotificationRecord,
    OrderEvent, PaymentRecord, Prepay, RefundCreated, RefundNews, RefundRecord, RejectedCap,
    RejectedNotification, Store, StoreError, StoreFuture, Transition, TransitionOutcome,
};
use crate::order::{Order, TradeState};
use crate::refund::RefundStatus;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{NoTls, Row};

/// Each entry moves the schema from version `i` to `i + 1` (kept in `wxpay_schema`).
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE orders (
    order_id        TEXT PRIMARY KEY,
    out_trade_no    TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    state           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    paid_at         TEXT,
    transaction_id  TEXT,
    payer_openid    TEXT,
    last_queried_at BIGINT,
    -- The catalog lines an order was priced from (JSON array; NULL: created with an amount).
    items           TEXT
);
CREATE INDEX orders_by_state ON orders(state, last_queried_at);
CREATE TABLE prepays (
    out_trade_no TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders(order_id),
    mode         TEXT NOT NULL,
    api_version  TEXT NOT NULL,
    openid       TEXT,
    prepay_id    TEXT,
    code_url     TEXT,
    h5_url       TEXT,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'NOTPAY',
    seq          BIGSERIAL
);
CREATE INDEX prepays_by_order ON prepays(order_id, created_at);
CREATE TABLE order_events (
    id         BIGSERIAL PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders(order_id),
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    source     TEXT NOT NULL,
    at         BIGINT NOT NULL
);
CREATE INDEX order_events_by_order ON order_events(order_id);
CREATE TABLE notifications (
    id           BIGSERIAL PRIMARY KEY,
    received_at  BIGINT NOT NULL,
    api_version  TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body         BYTEA NOT NULL,
    out_trade_no TEXT,
    verdict      TEXT NOT NULL
);
CREATE INDEX notifications_by_out_trade_no ON notifications(out_trade_no);
-- Every payment WeChat confirmed, one row per transaction_id; extra: money to give back.
CREATE TABLE payments (
    transaction_id TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL REFERENCES orders(order_id),
    out_trade_no   TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    paid_at        TEXT,
    extra          BOOLEAN NOT NULL,
    source         TEXT NOT NULL,
    at             BIGINT NOT NULL,
    seq            BIGSERIAL
);
CREATE INDEX payments_by_order ON payments(order_id);
CREATE TABLE rejected_notifications (
    id           BIGSERIAL PRIMARY KEY,
    received_at  BIGINT NOT NULL,
    api_version  TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body_head    BYTEA NOT NULL,
    body_size    BIGINT NOT NULL,
    body_sha256  TEXT,
    verdict      TEXT NOT NULL,
    stored_bytes BIGINT NOT NULL
);
-- Running totals of rejected_notifications (one row; its lock serialises the cap).
CREATE TABLE rejected_totals (total_rows BIGINT NOT NULL, total_bytes BIGINT NOT NULL);
INSERT INTO rejected_totals VALUES (0, 0);
CREATE TABLE refunds (
    out_refund_no  TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL REFERENCES orders(order_id),
    transaction_id TEXT NOT NULL REFERENCES payments(transaction_id),
    out_trade_no   TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount > 0),
    total          BIGINT NOT NULL,
    reason         TEXT,
    api_version    TEXT NOT NULL,
    status         TEXT NOT NULL,
    refund_id      TEXT,
    success_time   TEXT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    seq            BIGSERIAL
);
CREATE INDEX refunds_by_order ON refunds(order_id);
CREATE INDEX refunds_by_status ON refunds(status, created_at);
"#,
    r#"
-- When the reconciler last asked WeChat about a refund (claimed by one instance at a time).
ALTER TABLE refunds ADD COLUMN last_queried_at BIGINT;
"#,
];

/// The advisory lock key held while migrating ("wxpay" in ASCII).
const MIGRATION_LOCK: i64 = 0x0077_7870_6179;

/// The channel order changes are announced on (payload: the order id).
pub const CHANGES_CHANNEL: &str = "wxpay_orders";

/// Connections per instance, unless configured ([`PostgresOptions::pool_size`]).
pub const DEFAULT_POOL_SIZE: usize = 16;
/// How long a request waits for a connection (or for one to be made) before 503.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the PostgreSQL store besides its connection string.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections this instance keeps at most (plus one listening for changes). Instances ×
    /// (pool_size + 1) must stay under the server's `max_connections` (100 by default).
    pub pool_size: usize,
    /// The CA (PEM) that signed the database's certificate, for `sslmode=require` against a
    /// private CA; default: the operating system's roots ([`super::postgres_tls`]).
    pub ca_file: Option<PathBuf>,
    /// How long a statement waits for a row another instance holds locked before giving up (a
    /// 503 the caller retries; WeChat re-sends a notification) instead of queueing behind an
    /// instance that froze mid-transaction.
    pub lock_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: DEFAULT_POOL_SIZE,
            ca_file: None,
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// Longest a statement may run, and a transaction may sit idle (its client frozen or cut off:
/// the server then ends the session and frees its locks).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);
const IDLE_IN_TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Session settings every connection starts with, before any the connection string gives:
/// the timeouts above, and `synchronous_commit=on` — a payment acknowledged to WeChat is on the
/// server's disk (and its synchronous standbys'), whatever the server's default.
fn session_options(config: &tokio_postgres::Config, lock_timeout: Duration) -> String {
    let ours = format!(
        "-c lock_timeout={} -c statement_timeout={} -c idle_in_transaction_session_timeout={} \
         -c synchronous_commit=on",
        lock_timeout.as_millis().max(1),
        STATEMENT_TIMEOUT.as_millis(),
        IDLE_IN_TRANSACTION_TIMEOUT.as_millis()
    );
    match config.get_options() {
        Some(theirs) if !theirs.trim().is_empty() => format!("{ours} {theirs}"),
        _ => ours,
    }
}

/// The [`Store`] for several instances: PostgreSQL through a connection pool.
pub struct PostgresStore {
    pool: Pool,
    config: tokio_postgres::Config,
    tls: DbTls,
}

type Params<'a> = [&'a (dyn ToSql + Sync)];

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/db`, or key=value form) with the default
    /// [`PostgresOptions`] and migrates the schema (once, even when several instances start
    /// together).
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        Self::connect_with(url, &PostgresOptions::default()).await
    }

    /// [`PostgresStore::connect`] with `options`.
    pub async fn connect_with(
        url: &str,
        options: &PostgresOptions,
    ) -> Result<PostgresStore, StoreError> {
        let (config, tls) = prepare(url, options)?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match &tls {
            DbTls::Plain => Manager::from_config(config.clone(), NoTls, manager_config),
            DbTls::Verified(tls) => {
                Manager::from_config(config.clone(), tls.clone(), manager_config)
            }
        };
        let pool = Pool::builder(manager)
            .max_size(options.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Database(format!("connection pool: {e}")))?;
        let store = PostgresStore { pool, config, tls };
        let tls_hint = match store.tls {
            DbTls::Plain => "",
            DbTls::Verified(_) => "; over TLS the database's certificate must chain to the operating system's roots or to database_ca_file, and name the host of the URL",
        };
        store.migrate().await.map_err(|e| match e {
            StoreError::Unavailable(reason) => StoreError::Unavailable(format!(
                "cannot reach {}: {reason}; check that PostgreSQL runs and the URL (host, port, user, database, sslmode) is right{tls_hint}",
                redact(url)
            )),
            other => StoreError::Database(format!("migrating {}: {other}", redact(url))),
        })?;
        Ok(store)
    }

    /// The value of a server setting as this store's sessions see it (`current_setting`).
    pub async fn setting(&self, name: &str) -> Result<String, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT current_setting($1)", &[&name])
            .await?;
        col(&row, 0)
    }

    /// The connection settings and TLS, for a listening connection of its own
    /// ([`super::changes`]).
    pub fn connection(&self) -> (tokio_postgres::Config, DbTls) {
        (self.config.clone(), self.tls.clone())
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Held until commit: a second instance starting now waits here, then finds the schema
        // current.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS wxpay_schema (version INTEGER NOT NULL)")
            .await?;
        let version: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM wxpay_schema",
                &[],
            )
            .await?
            .try_get(0)?;
        let version = version as usize;
        if version > MIGRATIONS.len() {
            return Err(StoreError::Database(format!(
                "the database has schema version {version}, newer than this program knows ({}); use a newer wxpay-server",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.batch_execute(sql).await?;
            tx.execute("DELETE FROM wxpay_schema", &[]).await?;
            tx.execute(
                "INSERT INTO wxpay_schema (version) VALUES ($1)",
                &[&((i + 1) as i32)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| {
            StoreError::Unavailable(format!("no connection to PostgreSQL: {}", with_causes(&e)))
        })
    }

    /// Runs `f` with a pooled connection.
    fn with<'a, T, F, Fut>(&'a self, f: F) -> StoreFuture<'a, T>
    where
        T: Send + 'a,
        F: FnOnce(deadpool_postgres::Object) -> Fut + Send + 'a,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'a,
    {
        Box::pin(async move { f(self.client().await?).await })
    }
}

/// The schema version this program migrates to.
pub fn schema_version() -> usize {
    MIGRATIONS.len()
}

/// The connection settings every connection of the store uses (timeouts, application name,
/// session settings, keepalives) and its TLS, from `url` and `options`.
pub fn prepare(
    url: &str,
    options: &PostgresOptions,
) -> Result<(tokio_postgres::Config, DbTls), StoreError> {
    // libpq's names for what `require` does here (the certificate and host name are always
    // verified, see `postgres_tls`): accepted rather than refused as unknown.
    let url = url
        .replace("sslmode=verify-full", "sslmode=require")
        .replace("sslmode=verify-ca", "sslmode=require");
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
        StoreError::Database(format!(
            "{} is not a PostgreSQL connection string ({}); use postgres://user:password@host:port/database, with ?sslmode=require for TLS (the CA file, if private, is database_ca_file)",
            redact(&url),
            with_causes(&e)
        ))
    })?;
    if options.pool_size == 0 {
        return Err(StoreError::Database(
            "database_pool_size must be at least 1".into(),
        ));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(POOL_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("wxpay-server");
    }
    let session = session_options(&config, options.lock_timeout);
    config.options(session);
    // A database that vanished without closing the connection (a cut network, a frozen host) is
    // noticed in about a minute, not after the kernel's two hours (unless the connection string
    // says otherwise).
    if config.get_keepalives_idle() == Duration::from_secs(2 * 3600) {
        config
            .keepalives_idle(Duration::from_secs(30))
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(Duration::from_secs(60));
    }
    let tls = DbTls::for_config(&config, options.ca_file.as_deref())?;
    Ok((config, tls))
}

/// One connection made exactly as the store's are, outside any pool (`wxpay doctor`), its I/O
/// driven in the background.
pub async fn connect_once(
    config: &tokio_postgres::Config,
    tls: &DbTls,
) -> Result<tokio_postgres::Client, StoreError> {
    let client = match tls {
        DbTls::Plain => {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(connection);
            client
        }
        DbTls::Verified(tls) => {
            let (client, connection) = config.connect(tls.clone()).await?;
            tokio::spawn(connection);
            client
        }
    };
    Ok(client)
}

/// An error with its causes (`a: b: c`): the driver's own message alone may be just "error
/// performing TLS handshake", the cause says which certificate check failed.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "the PostgreSQL connection string".into(),
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.code() {
            // Class 08 (connection exception), 57P01-57P03 (shut down, cannot connect now),
            // 55P03 (a row another instance holds past lock_timeout), 57014 (statement timeout):
            // all transient, the caller retries.
            Some(c)
                if c.code().starts_with("08")
                    || c.code().starts_with("57P")
                    || c.code() == "55P03"
                    || c.code() == "57014" =>
            {
                StoreError::Unavailable(with_causes(&e))
            }
            Some(_) => StoreError::Database(with_causes(&e)),
            // No server error: the connection failed or closed under us.
            None => {
                StoreError::Unavailable(format!("PostgreSQL connection lost: {}", with_causes(&e)))
            }
        }
    }
}

fn col<'r, T: FromSql<'r>>(r: &'r Row, idx: usize) -> Result<T, StoreError> {
    Ok(r.try_get(idx)?)
}

/// A text column holding one of our enums; a value this build does not know is an error naming it.
fn parsed<T: std::str::FromStr<Err = String>>(r: &Row, idx: usize) -> Result<T, StoreError> {
    let text: String = col(r, idx)?;
    text.parse()
        .map_err(|e: String| StoreError::Database(format!("column {idx}: {e}")))
}

fn rows<T>(rows: Vec<Row>, f: fn(&Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

const ORDER_COLUMNS: &str = "order_id, out_trade_no, description, amount, state, created_at, \
    updated_at, paid_at, transaction_id, payer_openid, last_queried_at, items";

fn order_from_row(r: &Row) -> Result<Order, StoreError> {
    Ok(Order {
        order_id: col(r, 0)?,
        out_trade_no: col(r, 1)?,
        description: col(r, 2)?,
        amount: col(r, 3)?,
        state: parsed(r, 4)?,
        created_at: col(r, 5)?,
        updated_at: col(r, 6)?,
        paid_at: col(r, 7)?,
        transaction_id: col(r, 8)?,
        payer_openid: col(r, 9)?,
        last_queried_at: col(r, 10)?,
        items: match col::<Option<String>>(r, 11)? {
            None => Vec::new(),
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| StoreError::Database(format!("orders.items: {e}")))?,
        },
    })
}

/// Reads an order; `lock` takes its row lock for the rest of the transaction.
async fn load_order(
    c: &impl GenericClient,
    order_id: &str,
    lock: bool,
) -> Result<Option<Order>, StoreError> {
    let sql = format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    // Cached: this is the statement behind every poll of GET /api/orders/{id}.
    let stmt = c.prepare_cached(&sql).await?;
    c.query_opt(&stmt, &[&order_id])
        .await?
        .as_ref()
        .map(order_from_row)
        .transpose()
}

async fn locked_order(c: &impl GenericClient, order_id: &str) -> Result<Order, StoreError> {
    load_order(c, order_id, true)
        .await?
        .ok_or_else(|| StoreError::Database("order vanished inside its own transaction".into()))
}

const PREPAY_COLUMNS: &str = "out_trade_no, order_id, mode, api_version, openid, prepay_id, \
    code_url, h5_url, expires_at, created_at, state";

fn prepay_from_row(r: &Row) -> Result<Prepay, StoreError> {
    Ok(Prepay {
        out_trade_no: col(r, 0)?,
        order_id: col(r, 1)?,
        mode: parsed(r, 2)?,
        api_version: col(r, 3)?,
        openid: col(r, 4)?,
        prepay_id: col(r, 5)?,
        code_url: col(r, 6)?,
        h5_url: col(r, 7)?,
        expires_at: col(r, 8)?,
        created_at: col(r, 9)?,
        state: parsed(r, 10)?,
    })
}

async fn load_prepay(
    c: &impl GenericClient,
    out_trade_no: &str,
) -> Result<Option<Prepay>, StoreError> {
    let sql = format!("SELECT {PREPAY_COLUMNS} FROM prepays WHERE out_trade_no = $1");
    c.query_opt(&sql, &[&out_trade_no])
        .await?
        .as_ref()
        .map(prepay_from_row)
        .transpose()
}

/// Logs a state change and announces it to every instance (delivered at commit).
async fn log_event(
    c: &impl GenericClient,
    order_id: &str,
    from: TradeState,
    to: TradeState,
    source: &str,
    at: i64,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO order_events (order_id, from_state, to_state, source, at) VALUES ($1, $2, $3, $4, $5)",
        &[&order_id, &from.as_str(), &to.as_str(), &source, &at],
    )
    .await?;
    announce(c, order_id).await
}

async fn announce(c: &impl GenericClient, order_id: &str) -> Result<(), StoreError> {
    c.execute("SELECT pg_notify($1, $2)", &[&CHANGES_CHANNEL, &order_id])
        .await?;
    Ok(())
}

async fn apply_transition(
    client: &mut deadpool_postgres::Object,
    t: &Transition,
) -> Result<TransitionOutcome, StoreError> {
    let tx = client.transaction().await?;
    // The row lock makes concurrent callers (any instance) take turns: the second sees the
    // state the first left.
    let Some(before) = load_order(&tx, &t.order_id, true).await? else {
        return Ok(TransitionOutcome::NotFound);
    };
    if !t.to.sources().contains(&before.state) {
        return Ok(TransitionOutcome::Unchanged(before));
    }
    let sources: Vec<&str> = t.to.sources().iter().map(|s| s.as_str()).collect();
    let changed = tx
        .execute(
            "UPDATE orders SET state = $2, updated_at = $3, \
             paid_at = COALESCE($4, paid_at), transaction_id = COALESCE($5, transaction_id), \
             payer_openid = COALESCE($6, payer_openid) \
             WHERE order_id = $1 AND state = ANY($7)",
            &[
                &t.order_id,
                &t.to.as_str(),
                &t.at,
                &t.paid_at,
                &t.transaction_id,
                &t.payer_openid,
                &sources,
            ],
        )
        .await?;
    if changed == 0 {
        return Ok(TransitionOutcome::Unchanged(before));
    }
    log_event(&tx, &t.order_id, before.state, t.to, &t.source, t.at).await?;
    let after = locked_order(&tx, &t.order_id).await?;
    tx.commit().await?;
    Ok(TransitionOutcome::Applied {
        from: before.state,
        order: after,
    })
}

/// [`Store::record_news`] in one transaction under the order's row lock.
async fn apply_news(
    client: &mut deadpool_postgres::Object,
    n: &AttemptNews,
) -> Result<NewsOutcome, StoreError> {
    use TradeState::*;
    let tx = client.transaction().await?;
    let Some(found) = load_prepay(&tx, &n.out_trade_no).await? else {
        return Ok(NewsOutcome::NotFound);
    };
    let Some(order) = load_order(&tx, &found.order_id, true).await? else {
        return Ok(NewsOutcome::NotFound);
    };
    // Read again under the order's lock: the attempt's state may have moved meanwhile.
    let prepay = load_prepay(&tx, &n.out_trade_no)
        .await?
        .ok_or_else(|| StoreError::Database("attempt vanished".into()))?;
    let set_attempt = |state: TradeState| {
        let tx = &tx;
        async move {
            tx.execute(
                "UPDATE prepays SET state = $2 WHERE out_trade_no = $1",
                &[&n.out_trade_no, &state.as_str()],
            )
            .await
        }
    };
    let outcome = match n.state {
        Success | Refund => {
            let transaction_id = n.transaction_id.as_deref().ok_or_else(|| {
                StoreError::Database("a payment without transaction_id cannot be recorded".into())
            })?;
            set_attempt(Success).await?;
            let known = tx
                .query_opt(
                    "SELECT 1 FROM payments WHERE transaction_id = $1",
                    &[&transaction_id],
                )
                .await?;
            if known.is_some() {
                return Ok(NewsOutcome::Duplicate(order));
            }
            let pays_order = Success.sources().contains(&order.state);
            tx.execute(
                "INSERT INTO payments (transaction_id, order_id, out_trade_no, amount, paid_at, extra, source, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&transaction_id, &order.order_id, &n.out_trade_no, &n.amount, &n.paid_at, &!pays_order, &n.source, &n.at],
            )
            .await?;
            if pays_order {
                tx.execute(
                    "UPDATE orders SET state = 'SUCCESS', updated_at = $2, paid_at = $3, \
                     transaction_id = $4, payer_openid = COALESCE($5, payer_openid) WHERE order_id = $1",
                    &[&order.order_id, &n.at, &n.paid_at, &transaction_id, &n.payer_openid],
                )
                .await?;
                log_event(&tx, &order.order_id, order.state, Success, &n.source, n.at).await?;
                NewsOutcome::OrderChanged {
                    from: order.state,
                    order: locked_order(&tx, &order.order_id).await?,
                }
            } else {
                announce(&tx, &order.order_id).await?;
                NewsOutcome::ExtraPayment(order)
            }
        }
        Payerror => {
            if prepay.state != Success {
                set_attempt(Payerror).await?;
            }
            if Payerror.sources().contains(&order.state) {
                tx.execute(
                    "UPDATE orders SET state = 'PAYERROR', updated_at = $2 WHERE order_id = $1",
                    &[&order.order_id, &n.at],
                )
                .await?;
                log_event(&tx, &order.order_id, order.state, Payerror, &n.source, n.at).await?;
                NewsOutcome::OrderChanged {
                    from: order.state,
                    order: locked_order(&tx, &order.order_id).await?,
                }
            } else {
                NewsOutcome::AttemptOnly(order)
            }
        }
        Closed | Revoked | Notpay | Userpaying => {
            // A paid attempt stays paid in our records whatever a later answer says.
            if prepay.state != Success {
                set_attempt(n.state).await?;
            }
            NewsOutcome::AttemptOnly(order)
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

const REFUND_COLUMNS: &str = "out_refund_no, order_id, transaction_id, out_trade_no, amount, \
    total, reason, api_version, status, refund_id, success_time, created_at, updated_at";

fn refund_from_row(r: &Row) -> Result<RefundRecord, StoreError> {
    Ok(RefundRecord {
        refund: NewRefund {
            out_refund_no: col(r, 0)?,
            order_id: col(r, 1)?,
            transaction_id: col(r, 2)?,
            out_trade_no: col(r, 3)?,
            amount: col(r, 4)?,
            total: col(r, 5)?,
            reason: col(r, 6)?,
            api_version: col(r, 7)?,
            created_at: col(r, 11)?,
        },
        status: parsed(r, 8)?,
        refund_id: col(r, 9)?,
        success_time: col(r, 10)?,
        updated_at: col(r, 12)?,
    })
}

async fn load_refund(
    c: &impl GenericClient,
    out_refund_no: &str,
) -> Result<Option<RefundRecord>, StoreError> {
    let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = $1");
    c.query_opt(&sql, &[&out_refund_no])
        .await?
        .as_ref()
        .map(refund_from_row)
        .transpose()
}

async fn insert_refund(
    client: &mut deadpool_postgres::Object,
    r: &NewRefund,
) -> Result<RefundCreated, StoreError> {
    let tx = client.transaction().await?;
    // Refunds of one order take turns on the order's row lock: two cannot both fit what is left.
    if load_order(&tx, &r.order_id, true).await?.is_none() {
        return Ok(RefundCreated::UnknownPayment);
    }
    if let Some(existing) = load_refund(&tx, &r.out_refund_no).await? {
        let same = existing.refund.order_id == r.order_id
            && existing.refund.transaction_id == r.transaction_id
            && existing.refund.amount == r.amount;
        return Ok(if same {
            RefundCreated::Existing(existing)
        } else {
            RefundCreated::Conflict(existing)
        });
    }
    let paid = tx
        .query_opt(
            "SELECT amount FROM payments WHERE transaction_id = $1 AND order_id = $2",
            &[&r.transaction_id, &r.order_id],
        )
        .await?;
    let Some(paid) = paid else {
        return Ok(RefundCreated::UnknownPayment);
    };
    let paid: i64 = col(&paid, 0)?;
    let held: i64 = col(
        &tx.query_one(
            "SELECT COALESCE(SUM(amount), 0)::BIGINT FROM refunds WHERE transaction_id = $1 AND status != 'CLOSED'",
            &[&r.transaction_id],
        )
        .await?,
        0,
    )?;
    if held + r.amount > paid {
        return Ok(RefundCreated::NotEnough { left: paid - held });
    }
    let inserted = tx
        .execute(
            &format!("INSERT INTO refunds ({REFUND_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', NULL, NULL, $9, $9) ON CONFLICT (out_refund_no) DO NOTHING"),
            &[&r.out_refund_no, &r.order_id, &r.transaction_id, &r.out_trade_no, &r.amount, &r.total, &r.reason, &r.api_version, &r.created_at],
        )
        .await?;
    let saved = load_refund(&tx, &r.out_refund_no)
        .await?
        .ok_or_else(|| StoreError::Database("refund vanished".into()))?;
    tx.commit().await?;
    if inserted == 0 {
        // The same out_refund_no saved for another order at this very moment.
        return Ok(RefundCreated::Conflict(saved));
    }
    Ok(RefundCreated::New(saved))
}

async fn apply_refund_news(
    client: &mut deadpool_postgres::Object,
    n: &RefundNews,
) -> Result<Option<(RefundRecord, bool)>, StoreError> {
    let tx = client.transaction().await?;
    let Some(found) = load_refund(&tx, &n.out_refund_no).await? else {
        return Ok(None);
    };
    // Order first, then the refund: the same lock order as every other write.
    let order = load_order(&tx, &found.refund.order_id, true).await?;
    let before = load_refund(&tx, &n.out_refund_no)
        .await?
        .ok_or_else(|| StoreError::Database("refund vanished".into()))?;
    if !n.status.sources().contains(&before.status) {
        return Ok(Some((before, false)));
    }
    tx.execute(
        "UPDATE refunds SET status = $2, refund_id = COALESCE($3, refund_id), \
         success_time = COALESCE($4, success_time), updated_at = $5 WHERE out_refund_no = $1",
        &[
            &n.out_refund_no,
            &n.status.as_str(),
            &n.refund_id,
            &n.success_time,
            &n.at,
        ],
    )
    .await?;
    if n.status == RefundStatus::Success {
        if let Some(o) = order.filter(|o| {
            o.state == TradeState::Success
                && o.transaction_id.as_deref() == Some(before.refund.transaction_id.as_str())
        }) {
            tx.execute(
                "UPDATE orders SET state = 'REFUND', updated_at = $2 WHERE order_id = $1",
                &[&o.order_id, &n.at],
            )
            .await?;
            log_event(
                &tx,
                &o.order_id,
                o.state,
                TradeState::Refund,
                "refund",
                n.at,
            )
            .await?;
        }
    }
    let after = load_refund(&tx, &n.out_refund_no)
        .await?
        .ok_or_else(|| StoreError::Database("refund vanished".into()))?;
    tx.commit().await?;
    Ok(Some((after, true)))
}

async fn record_rejected(
    client: &mut deadpool_postgres::Object,
    n: &RejectedNotification,
    cap: RejectedCap,
) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    let size = n.stored_bytes() as i64;
    tx.execute(
        "INSERT INTO rejected_notifications (received_at, api_version, headers, body_head, \
         body_size, body_sha256, verdict, stored_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &n.received_at,
            &n.api_version,
            &n.headers,
            &n.body_head,
            &(n.body_size as i64),
            &n.body_sha256,
            &n.verdict,
            &size,
        ],
    )
    .await?;
    // Updating the one totals row locks it: concurrent inserts take turns enforcing the cap.
    let mut totals = tx
        .query_one(
            "UPDATE rejected_totals SET total_rows = total_rows + 1, total_bytes = total_bytes + $1 \
             RETURNING total_rows, total_bytes",
            &[&size],
        )
        .await?;
    // Drop the oldest until both bounds hold again (usually one row, or none).
    loop {
        let (rows, bytes): (i64, i64) = (col(&totals, 0)?, col(&totals, 1)?);
        if rows <= 1 || (rows as u64 <= cap.max_rows && bytes as u64 <= cap.max_bytes) {
            break;
        }
        let oldest = tx
            .query_one(
                "DELETE FROM rejected_notifications WHERE id = \
                 (SELECT MIN(id) FROM rejected_notifications) RETURNING stored_bytes",
                &[],
            )
            .await?;
        let dropped: i64 = col(&oldest, 0)?;
        totals = tx
            .query_one(
                "UPDATE rejected_totals SET total_rows = total_rows - 1, total_bytes = total_bytes - $1 \
                 RETURNING total_rows, total_bytes",
                &[&dropped],
            )
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn rejected_from_row(r: &Row) -> Result<RejectedNotification, StoreError> {
    Ok(RejectedNotification {
        received_at: col(r, 0)?,
        api_version: col(r, 1)?,
        headers: col(r, 2)?,
        body_head: col(r, 3)?,
        body_size: col::<i64>(r, 4)? as u64,
        body_sha256: col(r, 5)?,
        verdict: col(r, 6)?,
    })
}

fn notification_from_row(r: &Row) -> Result<NotificationRecord, StoreError> {
    Ok(NotificationRecord {
        received_at: col(r, 0)?,
        api_version: col(r, 1)?,
        headers: col(r, 2)?,
        body: col(r, 3)?,
        out_trade_no: col(r, 4)?,
        verdict: col(r, 5)?,
    })
}

fn payment_from_row(r: &Row) -> Result<PaymentRecord, StoreError> {
    Ok(PaymentRecord {
        transaction_id: col(r, 0)?,
        order_id: col(r, 1)?,
        out_trade_no: col(r, 2)?,
        amount: col(r, 3)?,
        paid_at: col(r, 4)?,
        extra: col(r, 5)?,
        at: col(r, 6)?,
    })
}

fn event_from_row(r: &Row) -> Result<OrderEvent, StoreError> {
    Ok(OrderEvent {
        order_id: col(r, 0)?,
        from: parsed(r, 1)?,
        to: parsed(r, 2)?,
        source: col(r, 3)?,
        at: col(r, 4)?,
    })
}

async fn query<T>(
    c: &impl GenericClient,
    sql: &str,
    params: &Params<'_>,
    f: fn(&Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    rows(c.query(sql, params).await?, f)
}

impl Store for PostgresStore {
    fn create_order(&self, o: NewOrder) -> StoreFuture<'_, Order> {
        self.with(move |c| async move {
            let items = if o.items.is_empty() {
                None
            } else {
                Some(
                    serde_json::to_string(&o.items)
                        .map_err(|e| StoreError::Database(e.to_string()))?,
                )
            };
            let inserted = c
                .execute(
                    "INSERT INTO orders (order_id, out_trade_no, description, amount, state, created_at, updated_at, items) \
                     VALUES ($1, $2, $3, $4, 'NOTPAY', $5, $5, $6)",
                    &[&o.order_id, &o.out_trade_no, &o.description, &o.amount, &o.created_at, &items],
                )
                .await;
            match inserted {
                Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                    return Err(StoreError::DuplicateOutTradeNo(o.out_trade_no));
                }
                other => other?,
            };
            load_order(&c, &o.order_id, false)
                .await?
                .ok_or_else(|| StoreError::Database("inserted order not found".into()))
        })
    }

    fn order(&self, order_id: String) -> StoreFuture<'_, Option<Order>> {
        self.with(move |c| async move { load_order(&c, &order_id, false).await })
    }

    fn transition(&self, t: Transition) -> StoreFuture<'_, TransitionOutcome> {
        self.with(move |mut c| async move { apply_transition(&mut c, &t).await })
    }

    fn record_news(&self, news: AttemptNews) -> StoreFuture<'_, NewsOutcome> {
        self.with(move |mut c| async move { apply_news(&mut c, &news).await })
    }

    fn payments(&self, order_id: String) -> StoreFuture<'_, Vec<PaymentRecord>> {
        self.with(move |c| async move {
            query(
                &c,
                "SELECT transaction_id, order_id, out_trade_no, amount, paid_at, extra, at \
                 FROM payments WHERE order_id = $1 ORDER BY at, seq",
                &[&order_id],
                payment_from_row,
            )
            .await
        })
    }

    fn save_prepay(&self, p: Prepay) -> StoreFuture<'_, ()> {
        self.with(move |c| async move {
            // An upsert that leaves `state` alone: what WeChat said about the attempt stays.
            c.execute(
                "INSERT INTO prepays (out_trade_no, order_id, mode, api_version, openid, prepay_id, \
                 code_url, h5_url, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (out_trade_no) DO UPDATE SET order_id = excluded.order_id, mode = excluded.mode, \
                 api_version = excluded.api_version, openid = excluded.openid, prepay_id = excluded.prepay_id, \
                 code_url = excluded.code_url, h5_url = excluded.h5_url, expires_at = excluded.expires_at, \
                 created_at = excluded.created_at",
                &[
                    &p.out_trade_no, &p.order_id, &p.mode.as_str(), &p.api_version, &p.openid,
                    &p.prepay_id, &p.code_url, &p.h5_url, &p.expires_at, &p.created_at,
                ],
            )
            .await?;
            Ok(())
        })
    }

    fn prepays(&self, order_id: String) -> StoreFuture<'_, Vec<Prepay>> {
        self.with(move |c| async move {
            let sql = format!("SELECT {PREPAY_COLUMNS} FROM prepays WHERE order_id = $1 ORDER BY created_at DESC, seq DESC");
            query(&c, &sql, &[&order_id], prepay_from_row).await
        })
    }

    fn prepay_by_out_trade_no(&self, out_trade_no: String) -> StoreFuture<'_, Option<Prepay>> {
        self.with(move |c| async move { load_prepay(&c, &out_trade_no).await })
    }

    fn claim_query(&self, order_id: String, at: i64, queried_before: i64) -> StoreFuture<'_, bool> {
        self.with(move |c| async move {
            let claimed = c
                .execute(
                    "UPDATE orders SET last_queried_at = $2 WHERE order_id = $1 \
                     AND (last_queried_at IS NULL OR last_queried_at <= $3)",
                    &[&order_id, &at, &queried_before],
                )
                .await?;
            Ok(claimed == 1)
        })
    }

    /// Lists *and claims*: the listed orders are marked queried at `now` in the same statement
    /// that picks them past rows other instances are claiming (`SKIP LOCKED`), so instances
    /// sharing the database split the work and never ask about one order at once.
    fn due_for_query(&self, q: DueQuery) -> StoreFuture<'_, Vec<Order>> {
        self.with(move |c| async move {
            let sql = format!(
                "UPDATE orders SET last_queried_at = $4 \
                 WHERE order_id IN ( \
                   SELECT o.order_id FROM orders o \
                   WHERE (o.last_queried_at IS NULL OR o.last_queried_at <= $1) \
                   AND o.order_id IN (SELECT p.order_id FROM prepays p \
                               WHERE p.state IN ('NOTPAY', 'USERPAYING') \
                               AND p.created_at <= $2 AND p.expires_at >= $3) \
                   ORDER BY o.last_queried_at NULLS FIRST LIMIT $5 \
                   FOR UPDATE SKIP LOCKED) \
                 RETURNING {ORDER_COLUMNS}"
            );
            query(
                &c,
                &sql,
                &[
                    &q.queried_before,
                    &q.prepay_before,
                    &q.prepay_expiring_after,
                    &q.now,
                    &q.limit,
                ],
                order_from_row,
            )
            .await
        })
    }

    fn record_notification(&self, n: NotificationRecord) -> StoreFuture<'_, i64> {
        self.with(move |c| async move {
            let row = c
                .query_one(
                    "INSERT INTO notifications (received_at, api_version, headers, body, out_trade_no, verdict) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    &[&n.received_at, &n.api_version, &n.headers, &n.body, &n.out_trade_no, &n.verdict],
                )
                .await?;
            col(&row, 0)
        })
    }

    fn record_rejected(&self, n: RejectedNotification, cap: RejectedCap) -> StoreFuture<'_, ()> {
        self.with(move |mut c| async move { record_rejected(&mut c, &n, cap).await })
    }

    fn rejected_notifications(&self, limit: u64) -> StoreFuture<'_, Vec<RejectedNotification>> {
        self.with(move |c| async move {
            query(
                &c,
                "SELECT received_at, api_version, headers, body_head, body_size, body_sha256, verdict \
                 FROM rejected_notifications ORDER BY id DESC LIMIT $1",
                &[&(limit as i64)],
                rejected_from_row,
            )
            .await
        })
    }

    fn notifications(&self, out_trade_no: String) -> StoreFuture<'_, Vec<NotificationRecord>> {
        self.with(move |c| async move {
            query(
                &c,
                "SELECT received_at, api_version, headers, body, out_trade_no, verdict \
                 FROM notifications WHERE out_trade_no = $1 ORDER BY id",
                &[&out_trade_no],
                notification_from_row,
            )
            .await
        })
    }

    fn events(&self, order_id: String) -> StoreFuture<'_, Vec<OrderEvent>> {
        self.with(move |c| async move {
            query(
                &c,
                "SELECT order_id, from_state, to_state, source, at FROM order_events WHERE order_id = $1 ORDER BY id",
                &[&order_id],
                event_from_row,
            )
            .await
        })
    }

    fn create_refund(&self, r: NewRefund) -> StoreFuture<'_, RefundCreated> {
        self.with(move |mut c| async move { insert_refund(&mut c, &r).await })
    }

    fn update_refund(&self, news: RefundNews) -> StoreFuture<'_, Option<(RefundRecord, bool)>> {
        self.with(move |mut c| async move { apply_refund_news(&mut c, &news).await })
    }

    fn refund(&self, out_refund_no: String) -> StoreFuture<'_, Option<RefundRecord>> {
        self.with(move |c| async move { load_refund(&c, &out_refund_no).await })
    }

    fn refunds(&self, order_id: String) -> StoreFuture<'_, Vec<RefundRecord>> {
        self.with(move |c| async move {
            let sql = format!(
                "SELECT {REFUND_COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, seq"
            );
            query(&c, &sql, &[&order_id], refund_from_row).await
        })
    }

    /// Lists and claims in one statement, past refunds other instances are claiming (`SKIP
    /// LOCKED`), like [`Store::due_for_query`] for orders.
    fn claim_due_refunds(&self, q: DueRefunds) -> StoreFuture<'_, Vec<RefundRecord>> {
        self.with(move |c| async move {
            let sql = format!(
                "UPDATE refunds SET last_queried_at = $3 WHERE out_refund_no IN ( \
                   SELECT out_refund_no FROM refunds WHERE status IN ('PENDING', 'PROCESSING') \
                   AND created_at <= $1 AND (last_queried_at IS NULL OR last_queried_at <= $2) \
                   ORDER BY last_queried_at NULLS FIRST, created_at LIMIT $4 \
                   FOR UPDATE SKIP LOCKED) \
                 RETURNING {REFUND_COLUMNS}"
            );
            let mut due = query(
                &c,
                &sql,
                &[&q.created_before, &q.queried_before, &q.now, &q.limit],
                refund_from_row,
            )
            .await?;
            due.sort_by_key(|r: &RefundRecord| r.refund.created_at);
            Ok(due)
        })
    }

    fn order_snapshot(&self, order_id: String) -> StoreFuture<'_, Option<super::OrderSnapshot>> {
        self.with(move |mut c| async move {
            // REPEATABLE READ: one snapshot for the three reads (READ COMMITTED gives each
            // statement its own).
            let tx = c
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let Some(order) = load_order(&tx, &order_id, false).await? else {
                return Ok(None);
            };
            let payments = query(
                &tx,
                "SELECT transaction_id, order_id, out_trade_no, amount, paid_at, extra, at \
                 FROM payments WHERE order_id = $1 ORDER BY at, seq",
                &[&order_id],
                payment_from_row,
            )
            .await?;
            let sql = format!(
                "SELECT {REFUND_COLUMNS} FROM refunds WHERE order_id = $1 ORDER BY created_at, seq"
            );
            let refunds = query(&tx, &sql, &[&order_id], refund_from_row).await?;
            tx.commit().await?;
            Ok(Some(super::OrderSnapshot {
                order,
                payments,
                refunds,
            }))
        })
    }
}
