//! The SQLite store: one embedded file under the data directory, schema migrated at open.
//!
//! WAL mode lets readers run beside the single writer, so order polling (the hot path) never waits
//! for a notification being written. rusqlite is blocking, so every call runs on tokio's blocking
//! pool; writes go through one connection behind a mutex (`synchronous = FULL`: a committed
//! payment survives a power loss), reads round-robin over a few more.

use super::{
    AttemptNews, DueQuery, DueRefunds, NewOrder, NewRefund, NewsOutcome, NotificationRecord,
    OrderEvent, PaymentRecord, Prepay, RefundCreated, RefundNews, RefundRecord, RejectedCap,
    RejectedNotification, Store, StoreError, StoreFuture, Transition, TransitionOutcome,
};
use crate::order::{Order, TradeState};
use crate::refund::RefundStatus;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Each entry moves the schema from version `i` to `i + 1` (kept in `PRAGMA user_version`).
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE orders (
    order_id        TEXT PRIMARY KEY,
    out_trade_no    TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    state           TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    paid_at         TEXT,
    transaction_id  TEXT,
    payer_openid    TEXT,
    last_queried_at INTEGER
);
CREATE TABLE prepays (
    out_trade_no TEXT PRIMARY KEY,
    order_id     TEXT NOT NULL REFERENCES orders(order_id),
    mode         TEXT NOT NULL,
    api_version  TEXT NOT NULL,
    openid       TEXT,
    prepay_id    TEXT,
    code_url     TEXT,
    h5_url       TEXT,
    expires_at   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX prepays_by_order ON prepays(order_id, created_at);
CREATE TABLE order_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   TEXT NOT NULL REFERENCES orders(order_id),
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    source     TEXT NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX order_events_by_order ON order_events(order_id);
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  INTEGER NOT NULL,
    api_version  TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body         BLOB NOT NULL,
    out_trade_no TEXT,
    verdict      TEXT NOT NULL
);
CREATE INDEX notifications_by_out_trade_no ON notifications(out_trade_no);
"#,
    r#"
-- The reconciler looks for unpaid orders not asked about lately.
CREATE INDEX orders_by_state ON orders(state, last_queried_at);
"#,
    r#"
-- The catalog lines an order was priced from (JSON array; NULL: created with an amount).
ALTER TABLE orders ADD COLUMN items TEXT;
-- Each attempt's own state at WeChat: one attempt's CLOSED no longer closes the order.
ALTER TABLE prepays ADD COLUMN state TEXT NOT NULL DEFAULT 'NOTPAY';
-- Every payment WeChat confirmed, one row per transaction_id (so a duplicate is recognised by
-- key); extra = 1: not the order's payment, money to give back.
CREATE TABLE payments (
    transaction_id TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL REFERENCES orders(order_id),
    out_trade_no   TEXT NOT NULL,
    amount         INTEGER NOT NULL,
    paid_at        TEXT,
    extra          INTEGER NOT NULL,
    source         TEXT NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX payments_by_order ON payments(order_id);
INSERT INTO payments (transaction_id, order_id, out_trade_no, amount, paid_at, extra, source, at)
    SELECT transaction_id, order_id, out_trade_no, amount, paid_at, 0, 'migration', updated_at
    FROM orders WHERE transaction_id IS NOT NULL AND state IN ('SUCCESS', 'REFUND');
UPDATE prepays SET state = 'SUCCESS' WHERE out_trade_no IN (SELECT out_trade_no FROM payments);
-- Notifications that did not authenticate: bounded (head of the body, its size and SHA-256),
-- capped by rows and bytes, oldest dropped.
CREATE TABLE rejected_notifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at  INTEGER NOT NULL,
    api_version  TEXT NOT NULL,
    headers      TEXT NOT NULL,
    body_head    BLOB NOT NULL,
    body_size    INTEGER NOT NULL,
    body_sha256  TEXT,
    verdict      TEXT NOT NULL,
    stored_bytes INTEGER NOT NULL
);
-- Running totals of rejected_notifications, so enforcing the cap costs O(1) per insert.
CREATE TABLE rejected_totals (total_rows INTEGER NOT NULL, total_bytes INTEGER NOT NULL);
INSERT INTO rejected_totals VALUES (0, 0);
-- Refunds, saved PENDING before WeChat is asked (out_refund_no is WeChat's idempotency key).
CREATE TABLE refunds (
    out_refund_no  TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL REFERENCES orders(order_id),
    transaction_id TEXT NOT NULL REFERENCES payments(transaction_id),
    out_trade_no   TEXT NOT NULL,
    amount         INTEGER NOT NULL CHECK (amount > 0),
    total          INTEGER NOT NULL,
    reason         TEXT,
    api_version    TEXT NOT NULL,
    status         TEXT NOT NULL,
    refund_id      TEXT,
    success_time   TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX refunds_by_order ON refunds(order_id);
CREATE INDEX refunds_by_status ON refunds(status, created_at);
"#,
    r#"
-- When the reconciler last asked WeChat about a refund (claimed by one process at a time).
ALTER TABLE refunds ADD COLUMN last_queried_at INTEGER;
"#,
];

const READERS: usize = 4;

/// The default [`Store`]: SQLite in one file.
pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Arc<Mutex<Connection>>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and migrates it to the current schema.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open = |path: &Path| -> Result<Connection, StoreError> {
            let conn = Connection::open(path).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            conn.execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
            )?;
            Ok(conn)
        };
        let mut writer = open(path)?;
        // Every write (above all a payment's state change, acknowledged to WeChat right after)
        // is fsynced at commit: with NORMAL a power loss may drop the last commits of the WAL.
        writer.execute_batch("PRAGMA synchronous = FULL;")?;
        migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| open(path).map(|c| Arc::new(Mutex::new(c))))
            .collect::<Result<_, _>>()?;
        Ok(SqliteStore {
            writer: Arc::new(Mutex::new(writer)),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        run(self.writer.clone(), f)
    }

    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        run(self.readers[i].clone(), f)
    }
}

fn run<T: Send + 'static>(
    conn: Arc<Mutex<Connection>>,
    f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
) -> StoreFuture<'static, T> {
    Box::pin(async move {
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock cannot leave SQLite half-written (transactions roll
            // back), so a poisoned mutex is still safe to use.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Database(format!("storage task failed: {e}")))?
    })
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize =
        conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Database(format!(
            "the database has schema version {version}, newer than this program knows ({}); use a newer wxpay-server",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

const ORDER_COLUMNS: &str = "order_id, out_trade_no, description, amount, state, created_at, \
    updated_at, paid_at, transaction_id, payer_openid, last_queried_at, items";

fn order_from_row(r: &Row) -> rusqlite::Result<Order> {
    Ok(Order {
        order_id: r.get(0)?,
        out_trade_no: r.get(1)?,
        description: r.get(2)?,
        amount: r.get(3)?,
        state: parsed_column(r, 4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        paid_at: r.get(7)?,
        transaction_id: r.get(8)?,
        payer_openid: r.get(9)?,
        last_queried_at: r.get(10)?,
        items: match r.get::<_, Option<String>>(11)? {
            None => Vec::new(),
            Some(json) => serde_json::from_str(&json).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(11, rusqlite::types::Type::Text, e.into())
            })?,
        },
    })
}

/// A text column holding one of our enums (trade state, pay mode); a value this build does not
/// know is a conversion error naming the column, not a panic.
fn parsed_column<T: std::str::FromStr<Err = String>>(r: &Row, idx: usize) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    text.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into())
    })
}

fn load_order(conn: &Connection, order_id: &str) -> Result<Option<Order>, StoreError> {
    // Cached: this is the statement behind every poll of GET /api/orders/{id}.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = ?1"
    ))?;
    Ok(stmt.query_row([order_id], order_from_row).optional()?)
}

const PREPAY_COLUMNS: &str = "out_trade_no, order_id, mode, api_version, openid, prepay_id, \
    code_url, h5_url, expires_at, created_at, state";

fn prepay_from_row(r: &Row) -> rusqlite::Result<Prepay> {
    Ok(Prepay {
        out_trade_no: r.get(0)?,
        order_id: r.get(1)?,
        mode: parsed_column(r, 2)?,
        api_version: r.get(3)?,
        openid: r.get(4)?,
        prepay_id: r.get(5)?,
        code_url: r.get(6)?,
        h5_url: r.get(7)?,
        expires_at: r.get(8)?,
        created_at: r.get(9)?,
        state: parsed_column(r, 10)?,
    })
}

/// The heart of exactly-once: the UPDATE only matches while the order is still in a state the
/// move is allowed from, inside an IMMEDIATE transaction (the write lock is taken before the read,
/// so two processes sharing the file cannot both see the old state).
fn apply_transition(
    conn: &mut Connection,
    t: &Transition,
) -> Result<TransitionOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some(before) = load_order(&tx, &t.order_id)? else {
        return Ok(TransitionOutcome::NotFound);
    };
    let sources = t.to.sources();
    if sources.is_empty() {
        return Ok(TransitionOutcome::Unchanged(before));
    }
    let placeholders = (0..sources.len())
        .map(|i| format!("?{}", i + 7))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE orders SET state = ?2, updated_at = ?3, \
         paid_at = COALESCE(?4, paid_at), transaction_id = COALESCE(?5, transaction_id), \
         payer_openid = COALESCE(?6, payer_openid) \
         WHERE order_id = ?1 AND state IN ({placeholders})"
    );
    let to = t.to.as_str();
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &t.order_id,
        &to,
        &t.at,
        &t.paid_at,
        &t.transaction_id,
        &t.payer_openid,
    ];
    let names: Vec<&'static str> = sources.iter().map(|s| s.as_str()).collect();
    for n in &names {
        values.push(n);
    }
    let changed = tx.execute(&sql, values.as_slice())?;
    if changed == 0 {
        return Ok(TransitionOutcome::Unchanged(before));
    }
    tx.execute(
        "INSERT INTO order_events (order_id, from_state, to_state, source, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![t.order_id, before.state.as_str(), t.to.as_str(), t.source, t.at],
    )?;
    let after = load_order(&tx, &t.order_id)?
        .ok_or_else(|| StoreError::Database("order vanished inside its own transaction".into()))?;
    tx.commit()?;
    Ok(TransitionOutcome::Applied {
        from: before.state,
        order: after,
    })
}

fn load_prepay(conn: &Connection, out_trade_no: &str) -> Result<Option<Prepay>, StoreError> {
    let sql = format!("SELECT {PREPAY_COLUMNS} FROM prepays WHERE out_trade_no = ?1");
    Ok(conn
        .query_row(&sql, [out_trade_no], prepay_from_row)
        .optional()?)
}

fn log_event(
    conn: &Connection,
    order_id: &str,
    from: TradeState,
    to: TradeState,
    source: &str,
    at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO order_events (order_id, from_state, to_state, source, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![order_id, from.as_str(), to.as_str(), source, at],
    )?;
    Ok(())
}

/// [`Store::record_news`] in one IMMEDIATE transaction: the attempt, the payment and the order
/// move together or not at all.
fn apply_news(conn: &mut Connection, n: &AttemptNews) -> Result<NewsOutcome, StoreError> {
    use TradeState::*;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some(prepay) = load_prepay(&tx, &n.out_trade_no)? else {
        return Ok(NewsOutcome::NotFound);
    };
    let Some(order) = load_order(&tx, &prepay.order_id)? else {
        return Ok(NewsOutcome::NotFound);
    };
    let set_attempt = |state: TradeState| {
        tx.execute(
            "UPDATE prepays SET state = ?2 WHERE out_trade_no = ?1",
            params![n.out_trade_no, state.as_str()],
        )
    };
    let outcome = match n.state {
        Success | Refund => {
            let transaction_id = n.transaction_id.as_deref().ok_or_else(|| {
                StoreError::Database("a payment without transaction_id cannot be recorded".into())
            })?;
            set_attempt(Success)?;
            let known: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM payments WHERE transaction_id = ?1",
                    [transaction_id],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_some() {
                return Ok(NewsOutcome::Duplicate(order));
            }
            let pays_order = Success.sources().contains(&order.state);
            tx.execute(
                "INSERT INTO payments (transaction_id, order_id, out_trade_no, amount, paid_at, extra, source, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![transaction_id, order.order_id, n.out_trade_no, n.amount, n.paid_at, !pays_order, n.source, n.at],
            )?;
            if pays_order {
                tx.execute(
                    "UPDATE orders SET state = 'SUCCESS', updated_at = ?2, paid_at = ?3, \
                     transaction_id = ?4, payer_openid = COALESCE(?5, payer_openid) WHERE order_id = ?1",
                    params![order.order_id, n.at, n.paid_at, transaction_id, n.payer_openid],
                )?;
                log_event(&tx, &order.order_id, order.state, Success, &n.source, n.at)?;
                let after = load_order(&tx, &order.order_id)?
                    .ok_or_else(|| StoreError::Database("order vanished".into()))?;
                NewsOutcome::OrderChanged {
                    from: order.state,
                    order: after,
                }
            } else {
                NewsOutcome::ExtraPayment(order)
            }
        }
        Payerror => {
            if prepay.state != Success {
                set_attempt(Payerror)?;
            }
            if Payerror.sources().contains(&order.state) {
                tx.execute(
                    "UPDATE orders SET state = 'PAYERROR', updated_at = ?2 WHERE order_id = ?1",
                    params![order.order_id, n.at],
                )?;
                log_event(&tx, &order.order_id, order.state, Payerror, &n.source, n.at)?;
                let after = load_order(&tx, &order.order_id)?
                    .ok_or_else(|| StoreError::Database("order vanished".into()))?;
                NewsOutcome::OrderChanged {
                    from: order.state,
                    order: after,
                }
            } else {
                NewsOutcome::AttemptOnly(order)
            }
        }
        Closed | Revoked | Notpay | Userpaying => {
            // A paid attempt stays paid in our records whatever a later answer says.
            if prepay.state != Success {
                set_attempt(n.state)?;
            }
            NewsOutcome::AttemptOnly(order)
        }
    };
    tx.commit()?;
    Ok(outcome)
}

const REFUND_COLUMNS: &str = "out_refund_no, order_id, transaction_id, out_trade_no, amount, \
    total, reason, api_version, status, refund_id, success_time, created_at, updated_at";

fn refund_from_row(r: &Row) -> rusqlite::Result<RefundRecord> {
    Ok(RefundRecord {
        refund: NewRefund {
            out_refund_no: r.get(0)?,
            order_id: r.get(1)?,
            transaction_id: r.get(2)?,
            out_trade_no: r.get(3)?,
            amount: r.get(4)?,
            total: r.get(5)?,
            reason: r.get(6)?,
            api_version: r.get(7)?,
            created_at: r.get(11)?,
        },
        status: parsed_column(r, 8)?,
        refund_id: r.get(9)?,
        success_time: r.get(10)?,
        updated_at: r.get(12)?,
    })
}

/// An order's refunds, oldest first.
fn load_refunds(conn: &Connection, order_id: &str) -> Result<Vec<RefundRecord>, StoreError> {
    let sql = format!(
        "SELECT {REFUND_COLUMNS} FROM refunds WHERE order_id = ?1 ORDER BY created_at, rowid"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([order_id], refund_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An order's payments, oldest first.
fn load_payments(conn: &Connection, order_id: &str) -> Result<Vec<PaymentRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT transaction_id, order_id, out_trade_no, amount, paid_at, extra, at \
         FROM payments WHERE order_id = ?1 ORDER BY at, rowid",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        Ok(PaymentRecord {
            transaction_id: r.get(0)?,
            order_id: r.get(1)?,
            out_trade_no: r.get(2)?,
            amount: r.get(3)?,
            paid_at: r.get(4)?,
            extra: r.get(5)?,
            at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn load_refund(conn: &Connection, out_refund_no: &str) -> Result<Option<RefundRecord>, StoreError> {
    let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE out_refund_no = ?1");
    Ok(conn
        .query_row(&sql, [out_refund_no], refund_from_row)
        .optional()?)
}

fn insert_refund(conn: &mut Connection, r: &NewRefund) -> Result<RefundCreated, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if let Some(existing) = load_refund(&tx, &r.out_refund_no)? {
        let same = existing.refund.order_id == r.order_id
            && existing.refund.transaction_id == r.transaction_id
            && existing.refund.amount == r.amount;
        return Ok(if same {
            RefundCreated::Existing(existing)
        } else {
            RefundCreated::Conflict(existing)
        });
    }
    let paid: Option<i64> = tx
        .query_row(
            "SELECT amount FROM payments WHERE transaction_id = ?1 AND order_id = ?2",
            [&r.transaction_id, &r.order_id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(paid) = paid else {
        return Ok(RefundCreated::UnknownPayment);
    };
    let held: i64 = tx.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE transaction_id = ?1 AND status != 'CLOSED'",
        [&r.transaction_id],
        |row| row.get(0),
    )?;
    if held + r.amount > paid {
        return Ok(RefundCreated::NotEnough { left: paid - held });
    }
    tx.execute(
        &format!("INSERT INTO refunds ({REFUND_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'PENDING', NULL, NULL, ?9, ?9)"),
        params![r.out_refund_no, r.order_id, r.transaction_id, r.out_trade_no, r.amount, r.total, r.reason, r.api_version, r.created_at],
    )?;
    let saved = load_refund(&tx, &r.out_refund_no)?
        .ok_or_else(|| StoreError::Database("refund vanished".into()))?;
    tx.commit()?;
    Ok(RefundCreated::New(saved))
}

fn apply_refund_news(
    conn: &mut Connection,
    n: &RefundNews,
) -> Result<Option<(RefundRecord, bool)>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some(before) = load_refund(&tx, &n.out_refund_no)? else {
        return Ok(None);
    };
    if !n.status.sources().contains(&before.status) {
        return Ok(Some((before, false)));
    }
    tx.execute(
        "UPDATE refunds SET status = ?2, refund_id = COALESCE(?3, refund_id), \
         success_time = COALESCE(?4, success_time), updated_at = ?5 WHERE out_refund_no = ?1",
        params![
            n.out_refund_no,
            n.status.as_str(),
            n.refund_id,
            n.success_time,
            n.at
        ],
    )?;
    if n.status == RefundStatus::Success {
        let order = load_order(&tx, &before.refund.order_id)?;
        if let Some(o) = order.filter(|o| {
            o.state == TradeState::Success
                && o.transaction_id.as_deref() == Some(before.refund.transaction_id.as_str())
        }) {
            tx.execute(
                "UPDATE orders SET state = 'REFUND', updated_at = ?2 WHERE order_id = ?1",
                params![o.order_id, n.at],
            )?;
            log_event(
                &tx,
                &o.order_id,
                o.state,
                TradeState::Refund,
                "refund",
                n.at,
            )?;
        }
    }
    let after = load_refund(&tx, &n.out_refund_no)?
        .ok_or_else(|| StoreError::Database("refund vanished".into()))?;
    tx.commit()?;
    Ok(Some((after, true)))
}

impl Store for SqliteStore {
    fn create_order(&self, o: NewOrder) -> StoreFuture<'_, Order> {
        self.write(move |conn| {
            let items = if o.items.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&o.items).map_err(|e| StoreError::Database(e.to_string()))?)
            };
            let inserted = conn.execute(
                "INSERT INTO orders (order_id, out_trade_no, description, amount, state, created_at, updated_at, items) \
                 VALUES (?1, ?2, ?3, ?4, 'NOTPAY', ?5, ?5, ?6)",
                params![o.order_id, o.out_trade_no, o.description, o.amount, o.created_at, items],
            );
            match inserted {
                // A unique key (order_id, out_trade_no), not any constraint: a CHECK failing is
                // a database error, not a duplicate.
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                        || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
                {
                    return Err(StoreError::DuplicateOutTradeNo(o.out_trade_no));
                }
                other => other?,
            };
            load_order(conn, &o.order_id)?
                .ok_or_else(|| StoreError::Database("inserted order not found".into()))
        })
    }

    fn order(&self, order_id: String) -> StoreFuture<'_, Option<Order>> {
        self.read(move |conn| load_order(conn, &order_id))
    }

    fn transition(&self, t: Transition) -> StoreFuture<'_, TransitionOutcome> {
        self.write(move |conn| apply_transition(conn, &t))
    }

    fn create_refund(&self, r: NewRefund) -> StoreFuture<'_, RefundCreated> {
        self.write(move |conn| insert_refund(conn, &r))
    }

    fn update_refund(&self, news: RefundNews) -> StoreFuture<'_, Option<(RefundRecord, bool)>> {
        self.write(move |conn| apply_refund_news(conn, &news))
    }

    fn refund(&self, out_refund_no: String) -> StoreFuture<'_, Option<RefundRecord>> {
        self.read(move |conn| load_refund(conn, &out_refund_no))
    }

    fn refunds(&self, order_id: String) -> StoreFuture<'_, Vec<RefundRecord>> {
        self.read(move |conn| load_refunds(conn, &order_id))
    }

    fn claim_due_refunds(&self, q: DueRefunds) -> StoreFuture<'_, Vec<RefundRecord>> {
        // A write: the claim and the listing are one statement under the write lock.
        self.write(move |conn| {
            let sql = format!(
                "UPDATE refunds SET last_queried_at = ?3 WHERE out_refund_no IN ( \
                   SELECT out_refund_no FROM refunds WHERE status IN ('PENDING', 'PROCESSING') \
                   AND created_at <= ?1 AND (last_queried_at IS NULL OR last_queried_at <= ?2) \
                   ORDER BY last_queried_at IS NOT NULL, last_queried_at, created_at LIMIT ?4) \
                 RETURNING {REFUND_COLUMNS}"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![q.created_before, q.queried_before, q.now, q.limit],
                refund_from_row,
            )?;
            let mut due: Vec<RefundRecord> = rows.collect::<Result<_, _>>()?;
            due.sort_by_key(|r| r.refund.created_at);
            Ok(due)
        })
    }

    fn record_news(&self, news: AttemptNews) -> StoreFuture<'_, NewsOutcome> {
        self.write(move |conn| apply_news(conn, &news))
    }

    fn payments(&self, order_id: String) -> StoreFuture<'_, Vec<PaymentRecord>> {
        self.read(move |conn| load_payments(conn, &order_id))
    }

    fn save_prepay(&self, p: Prepay) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
            // An upsert that leaves `state` alone: what WeChat said about the attempt stays.
            conn.execute(
                "INSERT INTO prepays (out_trade_no, order_id, mode, api_version, openid, prepay_id, \
                 code_url, h5_url, expires_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (out_trade_no) DO UPDATE SET order_id = excluded.order_id, mode = excluded.mode, \
                 api_version = excluded.api_version, openid = excluded.openid, prepay_id = excluded.prepay_id, \
                 code_url = excluded.code_url, h5_url = excluded.h5_url, expires_at = excluded.expires_at, \
                 created_at = excluded.created_at",
                params![
                    p.out_trade_no, p.order_id, p.mode.as_str(), p.api_version, p.openid,
                    p.prepay_id, p.code_url, p.h5_url, p.expires_at, p.created_at
                ],
            )?;
            Ok(())
        })
    }

    fn prepays(&self, order_id: String) -> StoreFuture<'_, Vec<Prepay>> {
        self.read(move |conn| {
            let sql = format!("SELECT {PREPAY_COLUMNS} FROM prepays WHERE order_id = ?1 ORDER BY created_at DESC, rowid DESC");
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([order_id], prepay_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn prepay_by_out_trade_no(&self, out_trade_no: String) -> StoreFuture<'_, Option<Prepay>> {
        self.read(move |conn| load_prepay(conn, &out_trade_no))
    }

    fn claim_query(&self, order_id: String, at: i64, queried_before: i64) -> StoreFuture<'_, bool> {
        self.write(move |conn| {
            let claimed = conn.execute(
                "UPDATE orders SET last_queried_at = ?2 WHERE order_id = ?1 \
                 AND (last_queried_at IS NULL OR last_queried_at <= ?3)",
                params![order_id, at, queried_before],
            )?;
            Ok(claimed == 1)
        })
    }

    fn due_for_query(&self, q: DueQuery) -> StoreFuture<'_, Vec<Order>> {
        // A write: the claim and the listing are one statement under the write lock.
        self.write(move |conn| {
            let sql = format!(
                "UPDATE orders SET last_queried_at = ?4 WHERE order_id IN ( \
                   SELECT o.order_id FROM orders o \
                   WHERE (o.last_queried_at IS NULL OR o.last_queried_at <= ?1) \
                   AND o.order_id IN (SELECT p.order_id FROM prepays p \
                               WHERE p.state IN ('NOTPAY', 'USERPAYING') \
                               AND p.created_at <= ?2 AND p.expires_at >= ?3) \
                   ORDER BY o.last_queried_at IS NOT NULL, o.last_queried_at LIMIT ?5) \
                 RETURNING {ORDER_COLUMNS}"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(
                params![
                    q.queried_before,
                    q.prepay_before,
                    q.prepay_expiring_after,
                    q.now,
                    q.limit
                ],
                order_from_row,
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn record_notification(&self, n: NotificationRecord) -> StoreFuture<'_, i64> {
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO notifications (received_at, api_version, headers, body, out_trade_no, verdict) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![n.received_at, n.api_version, n.headers, n.body, n.out_trade_no, n.verdict],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn record_rejected(&self, n: RejectedNotification, cap: RejectedCap) -> StoreFuture<'_, ()> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO rejected_notifications (received_at, api_version, headers, body_head, \
                 body_size, body_sha256, verdict, stored_bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    n.received_at, n.api_version, n.headers, n.body_head, n.body_size as i64,
                    n.body_sha256, n.verdict, n.stored_bytes() as i64
                ],
            )?;
            tx.execute(
                "UPDATE rejected_totals SET total_rows = total_rows + 1, total_bytes = total_bytes + ?1",
                [n.stored_bytes() as i64],
            )?;
            // Drop the oldest until both bounds hold again (usually one row, or none).
            loop {
                let (rows, bytes): (i64, i64) = tx.query_row(
                    "SELECT total_rows, total_bytes FROM rejected_totals",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                if rows <= 1 || (rows as u64 <= cap.max_rows && bytes as u64 <= cap.max_bytes) {
                    break;
                }
                let (id, size): (i64, i64) = tx.query_row(
                    "SELECT id, stored_bytes FROM rejected_notifications ORDER BY id LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                tx.execute("DELETE FROM rejected_notifications WHERE id = ?1", [id])?;
                tx.execute(
                    "UPDATE rejected_totals SET total_rows = total_rows - 1, total_bytes = total_bytes - ?1",
                    [size],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn rejected_notifications(&self, limit: u64) -> StoreFuture<'_, Vec<RejectedNotification>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT received_at, api_version, headers, body_head, body_size, body_sha256, verdict \
                 FROM rejected_notifications ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok(RejectedNotification {
                    received_at: r.get(0)?,
                    api_version: r.get(1)?,
                    headers: r.get(2)?,
                    body_head: r.get(3)?,
                    body_size: r.get::<_, i64>(4)? as u64,
                    body_sha256: r.get(5)?,
                    verdict: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn notifications(&self, out_trade_no: String) -> StoreFuture<'_, Vec<NotificationRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT received_at, api_version, headers, body, out_trade_no, verdict \
                 FROM notifications WHERE out_trade_no = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([out_trade_no], |r| {
                Ok(NotificationRecord {
                    received_at: r.get(0)?,
                    api_version: r.get(1)?,
                    headers: r.get(2)?,
                    body: r.get(3)?,
                    out_trade_no: r.get(4)?,
                    verdict: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn events(&self, order_id: String) -> StoreFuture<'_, Vec<OrderEvent>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT order_id, from_state, to_state, source, at FROM order_events WHERE order_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([order_id], |r| {
                Ok(OrderEvent {
                    order_id: r.get(0)?,
                    from: parsed_column(r, 1)?,
                    to: parsed_column(r, 2)?,
                    source: r.get(3)?,
                    at: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn order_snapshot(&self, order_id: String) -> StoreFuture<'_, Option<super::OrderSnapshot>> {
        self.read(move |conn| {
            // A deferred transaction reads one WAL snapshot from its first SELECT to its end.
            let tx = conn.transaction()?;
            let Some(order) = load_order(&tx, &order_id)? else {
                return Ok(None);
            };
            let payments = load_payments(&tx, &order_id)?;
            let refunds = load_refunds(&tx, &order_id)?;
            tx.commit()?;
            Ok(Some(super::OrderSnapshot {
                order,
                payments,
                refunds,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 9: transitions were committed with synchronous=NORMAL, which in WAL mode may lose
    /// the last commits on power loss after WeChat was told SUCCESS.
    #[test]
    fn writes_are_durable_at_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.sqlite3")).unwrap();
        let writer = store.writer.lock().unwrap();
        let level: i64 = writer
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(level, 2, "FULL");
        let mode: String = writer
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
