//! One conformance suite for every [`Store`]: the same checks run against SQLite (a temp file)
//! and PostgreSQL (a throwaway cluster started by the test, one database per check). Whatever
//! the backend relies on — exactly-once transitions and payments under concurrent duplicates,
//! attempts, refunds that never exceed the payment, the bounded rejected-notification store,
//! data surviving a reopen — holds on both.

mod common;

use common::pg::{free_port, PgCluster};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use wxpay_server::catalog::OrderLine;
use wxpay_server::order::{PayMode, TradeState};
use wxpay_server::refund::RefundStatus;
use wxpay_server::store::{
    AttemptNews, DueQuery, DueRefunds, NewOrder, NewRefund, NewsOutcome, NotificationRecord,
    PostgresOptions, PostgresStore, Prepay, RefundCreated, RefundNews, RejectedCap,
    RejectedNotification, SqliteStore, Store, StoreError, Transition, TransitionOutcome,
};

/// Where a check's store lives; `open` may be called again to reopen the same data.
#[derive(Clone)]
enum Backing {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backing {
    async fn open(&self) -> Arc<dyn Store> {
        match self {
            Backing::Sqlite(path) => Arc::new(SqliteStore::open(path).unwrap()),
            Backing::Postgres(url) => Arc::new(PostgresStore::connect(url).await.unwrap()),
        }
    }
}

type Check = fn(Backing) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! checks {
    ($($name:ident),* $(,)?) => {
        const CHECKS: &[(&str, Check)] = &[$((stringify!($name), |b| Box::pin($name(b)))),*];
    };
}

checks!(
    orders_round_trip,
    duplicate_out_trade_no_refused,
    concurrent_transitions_apply_once,
    concurrent_duplicate_payments_apply_once,
    attempts_and_extra_payments,
    prepays_upsert_keeps_attempt_state,
    due_for_query_lists_overdue_unpaid,
    due_orders_are_claimed_by_one_instance,
    notifications_kept,
    rejected_notifications_capped,
    refunds_exactly_once,
    concurrent_refunds_never_exceed_payment,
    order_snapshot_is_one_moment,
    refund_claims_split_between_instances,
    data_survives_reopen,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store_conformance() {
    for (name, check) in CHECKS {
        let dir = tempfile::tempdir().unwrap();
        eprintln!("sqlite: {name}");
        check(Backing::Sqlite(dir.path().join("t.sqlite3"))).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_store_conformance() {
    let cluster = PgCluster::start();
    for (name, check) in CHECKS {
        eprintln!("postgres: {name}");
        check(Backing::Postgres(cluster.create_database(name))).await;
    }
}

/// Two instances starting at once on an empty database both come up (one migrates, the other
/// waits for it), and a third start later finds nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_start_migrates_once() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("race");
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        })
        .collect();
    for s in starts {
        s.await.unwrap().expect("every instance starts");
    }
    let store = PostgresStore::connect(&url).await.unwrap();
    store.create_order(new_order("o1", 100)).await.unwrap();
}

/// A database that cannot be reached is `Unavailable` (503 storage_unavailable), and the store
/// recovers by itself once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_unavailable_then_recovers() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("down");
    let store = PostgresStore::connect(&url).await.unwrap();
    store.create_order(new_order("o1", 100)).await.unwrap();
    cluster.stop();
    match store.order("o1".into()).await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("expected Unavailable while the database is down, got {other:?}"),
    }
    cluster.restart();
    let mut back = None;
    for _ in 0..50 {
        if let Ok(o) = store.order("o1".into()).await {
            back = o;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(back.expect("the store answers again").amount, 100);
    let url_wrong_port = format!("postgres://postgres@127.0.0.1:{}/down", free_port());
    match PostgresStore::connect(&url_wrong_port).await {
        Err(StoreError::Unavailable(reason)) => {
            assert!(reason.contains("check that PostgreSQL runs"), "{reason}")
        }
        other => panic!("expected Unavailable, got {:?}", other.err()),
    }
}

/// An instance frozen mid-transaction (here: a session holding the order's row locked and
/// sleeping) does not stall the others: their write gives up after `lock_timeout` as
/// `Unavailable` (503; WeChat re-sends), and succeeds once the lock is gone. Every connection
/// also commits synchronously whatever the server's default.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_row_held_by_a_frozen_instance_fails_fast_not_forever() {
    let cluster = Arc::new(PgCluster::start());
    let url = cluster.create_database("frozen");
    let options = PostgresOptions {
        lock_timeout: std::time::Duration::from_millis(300),
        ..PostgresOptions::default()
    };
    let store: Arc<dyn Store> =
        Arc::new(PostgresStore::connect_with(&url, &options).await.unwrap());
    order_with_attempt(&store, "o1").await;
    cluster.sql(
        "frozen",
        "ALTER DATABASE frozen SET synchronous_commit = off",
    );
    let holder = {
        let cluster = cluster.clone();
        std::thread::spawn(move || {
            cluster.sql(
                "frozen",
                "BEGIN; SELECT 1 FROM orders WHERE order_id = 'o1' FOR UPDATE; \
                 SELECT pg_sleep(3); COMMIT;",
            )
        })
    };
    // Until the other session holds the row.
    for _ in 0..100 {
        let held = cluster.sql(
            "frozen",
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()",
        );
        if held.trim() != "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let started = std::time::Instant::now();
    let paid = news("Po1", TradeState::Success, Some("Xo1"));
    match store.record_news(paid.clone()).await {
        Err(StoreError::Unavailable(reason)) => assert!(reason.contains("lock"), "{reason}"),
        other => panic!("expected Unavailable behind the lock, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(2),
        "waited {waited:?}"
    );
    holder.join().unwrap();
    assert!(matches!(
        store.record_news(paid).await.unwrap(),
        NewsOutcome::OrderChanged { .. }
    ));
    // The store's sessions commit synchronously although the database's default now says off,
    // and carry the timeouts.
    let fresh = PostgresStore::connect_with(&url, &options).await.unwrap();
    assert_eq!(fresh.setting("synchronous_commit").await.unwrap(), "on");
    assert_eq!(fresh.setting("lock_timeout").await.unwrap(), "300ms");
    assert_eq!(
        fresh
            .setting("idle_in_transaction_session_timeout")
            .await
            .unwrap(),
        "30s"
    );
}

// ---- helpers ----

fn new_order(id: &str, amount: i64) -> NewOrder {
    NewOrder {
        order_id: id.into(),
        out_trade_no: format!("T{id}"),
        description: format!("order {id}"),
        amount,
        created_at: 1_000,
        items: Vec::new(),
    }
}

fn prepay(order_id: &str, out_trade_no: &str, created_at: i64) -> Prepay {
    Prepay {
        out_trade_no: out_trade_no.into(),
        order_id: order_id.into(),
        mode: PayMode::Native,
        api_version: "v3".into(),
        openid: None,
        prepay_id: None,
        code_url: Some(format!("weixin://wxpay/{out_trade_no}")),
        h5_url: None,
        expires_at: created_at + 7200,
        created_at,
        state: TradeState::Notpay,
    }
}

fn news(out_trade_no: &str, state: TradeState, transaction_id: Option<&str>) -> AttemptNews {
    AttemptNews {
        out_trade_no: out_trade_no.into(),
        state,
        transaction_id: transaction_id.map(Into::into),
        amount: 100,
        paid_at: Some("2026-12-01T10:00:00Z".into()),
        payer_openid: Some("openid-1".into()),
        source: "notify-v3".into(),
        at: 2_000,
    }
}

/// An order with one attempt `P<id>`.
async fn order_with_attempt(store: &Arc<dyn Store>, id: &str) {
    store.create_order(new_order(id, 100)).await.unwrap();
    store
        .save_prepay(prepay(id, &format!("P{id}"), 1_000))
        .await
        .unwrap();
}

/// An order paid by transaction `X<id>` (amount 100).
async fn paid_order(store: &Arc<dyn Store>, id: &str) {
    order_with_attempt(store, id).await;
    let n = news(
        &format!("P{id}"),
        TradeState::Success,
        Some(&format!("X{id}")),
    );
    assert!(matches!(
        store.record_news(n).await.unwrap(),
        NewsOutcome::OrderChanged { .. }
    ));
}

fn refund(id: &str, order_id: &str, amount: i64) -> NewRefund {
    NewRefund {
        out_refund_no: id.into(),
        order_id: order_id.into(),
        transaction_id: format!("X{order_id}"),
        out_trade_no: format!("P{order_id}"),
        amount,
        total: 100,
        reason: None,
        api_version: "v3".into(),
        created_at: 3_000,
    }
}

// ---- checks ----

async fn orders_round_trip(b: Backing) {
    let store = b.open().await;
    let mut o = new_order("o1", 250);
    o.items = vec![OrderLine {
        sku: "tea".into(),
        description: "Tea".into(),
        quantity: 2,
        unit_amount: 125,
    }];
    let created = store.create_order(o).await.unwrap();
    assert_eq!(created.state, TradeState::Notpay);
    let read = store.order("o1".into()).await.unwrap().unwrap();
    assert_eq!(read, created);
    assert_eq!(read.items.len(), 1);
    assert_eq!(read.items[0].unit_amount, 125);
    assert!(store.order("nope".into()).await.unwrap().is_none());
}

async fn duplicate_out_trade_no_refused(b: Backing) {
    let store = b.open().await;
    store.create_order(new_order("o1", 100)).await.unwrap();
    let mut again = new_order("o2", 100);
    again.out_trade_no = "To1".into();
    match store.create_order(again).await {
        Err(StoreError::DuplicateOutTradeNo(n)) => assert_eq!(n, "To1"),
        other => panic!("expected DuplicateOutTradeNo, got {other:?}"),
    }
}

async fn concurrent_transitions_apply_once(b: Backing) {
    let store = b.open().await;
    store.create_order(new_order("o1", 100)).await.unwrap();
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .transition(Transition {
                        order_id: "o1".into(),
                        to: TradeState::Closed,
                        transaction_id: None,
                        paid_at: None,
                        payer_openid: None,
                        source: format!("close-{i}"),
                        at: 2_000,
                    })
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut applied = 0;
    for t in tasks {
        match t.await.unwrap() {
            TransitionOutcome::Applied { from, order } => {
                assert_eq!(from, TradeState::Notpay);
                assert_eq!(order.state, TradeState::Closed);
                applied += 1;
            }
            TransitionOutcome::Unchanged(o) => assert_eq!(o.state, TradeState::Closed),
            TransitionOutcome::NotFound => panic!("order not found"),
        }
    }
    assert_eq!(applied, 1);
    assert_eq!(store.events("o1".into()).await.unwrap().len(), 1);
    let missing = Transition {
        order_id: "nope".into(),
        to: TradeState::Closed,
        transaction_id: None,
        paid_at: None,
        payer_openid: None,
        source: "x".into(),
        at: 1,
    };
    assert_eq!(
        store.transition(missing).await.unwrap(),
        TransitionOutcome::NotFound
    );
}

async fn concurrent_duplicate_payments_apply_once(b: Backing) {
    let store = b.open().await;
    order_with_attempt(&store, "o1").await;
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_news(news("Po1", TradeState::Success, Some("Xo1")))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let (mut changed, mut duplicates) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            NewsOutcome::OrderChanged { from, order } => {
                assert_eq!(from, TradeState::Notpay);
                assert_eq!(order.state, TradeState::Success);
                assert_eq!(order.transaction_id.as_deref(), Some("Xo1"));
                changed += 1;
            }
            NewsOutcome::Duplicate(_) => duplicates += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((changed, duplicates), (1, 99));
    assert_eq!(store.payments("o1".into()).await.unwrap().len(), 1);
    let events = store.events("o1".into()).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].to, TradeState::Success);
    let o = store.order("o1".into()).await.unwrap().unwrap();
    assert_eq!(o.payer_openid.as_deref(), Some("openid-1"));
}

async fn attempts_and_extra_payments(b: Backing) {
    use TradeState::*;
    let store = b.open().await;
    order_with_attempt(&store, "o1").await;
    store
        .save_prepay(prepay("o1", "Po1b", 1_100))
        .await
        .unwrap();
    // One attempt closing does not close the order.
    assert!(matches!(
        store.record_news(news("Po1", Closed, None)).await.unwrap(),
        NewsOutcome::AttemptOnly(o) if o.state == Notpay
    ));
    // A failure fails the unpaid order; a later payment through another attempt still pays it.
    assert!(matches!(
        store.record_news(news("Po1b", Payerror, None)).await.unwrap(),
        NewsOutcome::OrderChanged { order, .. } if order.state == Payerror
    ));
    assert!(matches!(
        store.record_news(news("Po1b", Success, Some("X1"))).await.unwrap(),
        NewsOutcome::OrderChanged { from: Payerror, order } if order.state == Success
    ));
    // A second payment (another attempt) is an extra payment to give back.
    assert!(matches!(
        store.record_news(news("Po1", Success, Some("X2"))).await.unwrap(),
        NewsOutcome::ExtraPayment(o) if o.transaction_id.as_deref() == Some("X1")
    ));
    let payments = store.payments("o1".into()).await.unwrap();
    assert_eq!(payments.len(), 2);
    assert!(!payments[0].extra && payments[1].extra);
    // A paid attempt stays paid whatever a later answer says.
    store.record_news(news("Po1b", Closed, None)).await.unwrap();
    let p = store
        .prepay_by_out_trade_no("Po1b".into())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.state, Success);
    assert_eq!(
        store
            .record_news(news("nope", Success, Some("X3")))
            .await
            .unwrap(),
        NewsOutcome::NotFound
    );
}

async fn prepays_upsert_keeps_attempt_state(b: Backing) {
    let store = b.open().await;
    order_with_attempt(&store, "o1").await;
    store
        .save_prepay(prepay("o1", "Po1b", 1_500))
        .await
        .unwrap();
    store
        .record_news(news("Po1", TradeState::Closed, None))
        .await
        .unwrap();
    let mut again = prepay("o1", "Po1", 1_000);
    again.code_url = Some("weixin://wxpay/new".into());
    store.save_prepay(again).await.unwrap();
    let all = store.prepays("o1".into()).await.unwrap();
    let names: Vec<&str> = all.iter().map(|p| p.out_trade_no.as_str()).collect();
    assert_eq!(names, ["Po1b", "Po1"], "newest first");
    assert_eq!(all[1].code_url.as_deref(), Some("weixin://wxpay/new"));
    assert_eq!(
        all[1].state,
        TradeState::Closed,
        "the upsert keeps the state"
    );
}

async fn due_for_query_lists_overdue_unpaid(b: Backing) {
    let store = b.open().await;
    order_with_attempt(&store, "late").await;
    paid_order(&store, "paid").await;
    store.create_order(new_order("fresh", 100)).await.unwrap();
    store
        .save_prepay(prepay("fresh", "Pfresh", 5_000))
        .await
        .unwrap();
    store.create_order(new_order("asked", 100)).await.unwrap();
    store
        .save_prepay(prepay("asked", "Pasked", 1_000))
        .await
        .unwrap();
    // Paid, with a second attempt still open: due (a second payment to find, or to close).
    paid_order(&store, "paid2").await;
    store
        .save_prepay(prepay("paid2", "Ppaid2b", 1_000))
        .await
        .unwrap();
    // Unpaid, its only attempt closed at WeChat: nothing can be paid, not due.
    order_with_attempt(&store, "closed").await;
    store
        .record_news(news("Pclosed", TradeState::Closed, None))
        .await
        .unwrap();
    assert!(store
        .claim_query("asked".into(), 4_500, 4_000)
        .await
        .unwrap());
    assert!(
        !store
            .claim_query("asked".into(), 4_501, 4_000)
            .await
            .unwrap(),
        "asked at 4 500: not again before the interval"
    );
    let due = |now| DueQuery {
        queried_before: now - 500,
        prepay_before: 4_000,
        prepay_expiring_after: 0,
        now,
        limit: 10,
    };
    let listed = store.due_for_query(due(4_500)).await.unwrap();
    let mut ids: Vec<&str> = listed.iter().map(|o| o.order_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["late", "paid2"]);
    assert!(
        store.due_for_query(due(4_600)).await.unwrap().is_empty(),
        "listing claimed it"
    );
    let mut ids: Vec<String> = store
        .due_for_query(due(5_001))
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.order_id)
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        ["asked", "late", "paid2"],
        "due again once the interval passed"
    );
}

/// Instances listing due orders at once split them: each order goes to exactly one (claimed and
/// marked queried in one statement), so no two instances ask WeChat about it.
async fn due_orders_are_claimed_by_one_instance(b: Backing) {
    let store = b.open().await;
    for i in 0..60 {
        order_with_attempt(&store, &format!("o{i}")).await;
    }
    let instances = [store, b.open().await, b.open().await];
    let q = DueQuery {
        queried_before: 4_000,
        prepay_before: 4_000,
        prepay_expiring_after: 0,
        now: 10_000,
        limit: 25,
    };
    let mut listed = Vec::new();
    for _round in 0..3 {
        let tasks: Vec<_> = instances
            .iter()
            .map(|s| {
                let s = s.clone();
                tokio::spawn(async move { s.due_for_query(q).await.unwrap() })
            })
            .collect();
        for t in tasks {
            listed.extend(t.await.unwrap().into_iter().map(|o| o.order_id));
        }
    }
    let total = listed.len();
    listed.sort();
    listed.dedup();
    assert_eq!(
        (total, listed.len()),
        (60, 60),
        "each due order listed exactly once"
    );
}

async fn notifications_kept(b: Backing) {
    let store = b.open().await;
    for verdict in ["applied", "duplicate"] {
        store
            .record_notification(NotificationRecord {
                received_at: 10,
                api_version: "v3".into(),
                headers: "{\"Wechatpay-Serial\":\"S\"}".into(),
                body: vec![0, 159, 146, 150, b'{'],
                out_trade_no: Some("P1".into()),
                verdict: verdict.into(),
            })
            .await
            .unwrap();
    }
    let kept = store.notifications("P1".into()).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].verdict, "applied");
    assert_eq!(kept[1].body, vec![0, 159, 146, 150, b'{']);
}

async fn rejected_notifications_capped(b: Backing) {
    let store = b.open().await;
    let cap = RejectedCap {
        max_rows: 5,
        max_bytes: 1 << 20,
    };
    let rejected = |i: i64, head: usize| RejectedNotification {
        received_at: i,
        api_version: "v3".into(),
        headers: "{}".into(),
        body_head: vec![b'x'; head],
        body_size: head as u64,
        body_sha256: None,
        verdict: format!("rejected: bad_signature: {i}"),
    };
    for i in 0..12 {
        store.record_rejected(rejected(i, 10), cap).await.unwrap();
    }
    let kept = store.rejected_notifications(100).await.unwrap();
    let at: Vec<i64> = kept.iter().map(|r| r.received_at).collect();
    assert_eq!(at, [11, 10, 9, 8, 7], "the newest five, newest first");
    // The byte bound: rows of ~1 KB under a 3 KB cap leave at most 2.
    let tight = RejectedCap {
        max_rows: 1000,
        max_bytes: 3000,
    };
    for i in 100..110 {
        store
            .record_rejected(rejected(i, 1000), tight)
            .await
            .unwrap();
    }
    let kept = store.rejected_notifications(100).await.unwrap();
    let bytes: u64 = kept.iter().map(|r| r.stored_bytes()).sum();
    assert!(bytes <= 3000, "{bytes} bytes kept");
    assert_eq!(kept[0].received_at, 109);
}

async fn refunds_exactly_once(b: Backing) {
    let store = b.open().await;
    paid_order(&store, "o1").await;
    let first = store.create_refund(refund("R1", "o1", 40)).await.unwrap();
    assert!(matches!(first, RefundCreated::New(ref r) if r.status == RefundStatus::Pending));
    assert!(matches!(
        store.create_refund(refund("R1", "o1", 40)).await.unwrap(),
        RefundCreated::Existing(_)
    ));
    assert!(matches!(
        store.create_refund(refund("R1", "o1", 41)).await.unwrap(),
        RefundCreated::Conflict(_)
    ));
    assert_eq!(
        store.create_refund(refund("R2", "o1", 61)).await.unwrap(),
        RefundCreated::NotEnough { left: 60 }
    );
    let mut foreign = refund("R3", "o1", 1);
    foreign.transaction_id = "nope".into();
    assert_eq!(
        store.create_refund(foreign).await.unwrap(),
        RefundCreated::UnknownPayment
    );
    // Concurrent SUCCESS news: exactly one caller changes it.
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .update_refund(RefundNews {
                        out_refund_no: "R1".into(),
                        status: RefundStatus::Success,
                        refund_id: Some("RID1".into()),
                        success_time: Some("2026-12-01T11:00:00Z".into()),
                        at: 4_000,
                    })
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let mut changed = 0;
    for t in tasks {
        let (r, c) = t.await.unwrap();
        assert_eq!(r.status, RefundStatus::Success);
        changed += c as usize;
    }
    assert_eq!(changed, 1);
    let o = store.order("o1".into()).await.unwrap().unwrap();
    assert_eq!(o.state, TradeState::Refund);
    let unsettled = store
        .claim_due_refunds(due_refunds(10_000, 10))
        .await
        .unwrap();
    assert!(unsettled.is_empty());
    assert_eq!(store.refunds("o1".into()).await.unwrap().len(), 1);
    assert_eq!(
        store
            .refund("R1".into())
            .await
            .unwrap()
            .unwrap()
            .refund_id
            .as_deref(),
        Some("RID1")
    );
}

async fn concurrent_refunds_never_exceed_payment(b: Backing) {
    let store = b.open().await;
    paid_order(&store, "o1").await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_refund(refund(&format!("R{i}"), "o1", 30))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut new = 0;
    for t in tasks {
        match t.await.unwrap() {
            RefundCreated::New(_) => new += 1,
            RefundCreated::NotEnough { left } => assert!(left < 30),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(new, 3, "3 × 30 fit in 100, a fourth does not");
    assert_eq!(
        store
            .claim_due_refunds(due_refunds(10_000, 100))
            .await
            .unwrap()
            .len(),
        3
    );
}

/// Refunds due for a question to WeChat at `now` (created and last asked long enough before).
fn due_refunds(now: i64, limit: i64) -> DueRefunds {
    DueRefunds {
        created_before: now - 60,
        queried_before: now - 30,
        now,
        limit,
    }
}

async fn refund_claims_split_between_instances(b: Backing) {
    // Two handles on one database: two instances' stores.
    let (one, two) = (b.open().await, b.open().await);
    for i in 0..8 {
        let order = format!("o{i}");
        paid_order(&one, &order).await;
        for j in 0..5 {
            let no = format!("R{i}-{j}");
            one.create_refund(refund(&no, &order, 10)).await.unwrap();
        }
    }
    // Each claims in batches of 7, at the same time, until nothing is left.
    let claim_all = |store: Arc<dyn Store>| {
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store
                    .claim_due_refunds(due_refunds(10_000, 7))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    return mine;
                }
                mine.extend(batch.into_iter().map(|r| r.refund.out_refund_no));
            }
        })
    };
    let (a, b2) = (claim_all(one.clone()), claim_all(two.clone()));
    let (a, b2) = (a.await.unwrap(), b2.await.unwrap());
    let mut all: Vec<String> = a.iter().chain(&b2).cloned().collect();
    all.sort();
    let claimed = all.len();
    all.dedup();
    assert_eq!(claimed, 40, "every refund claimed once: {a:?} / {b2:?}");
    assert_eq!(all.len(), 40);
    // Claimed ones are not due again until the interval passes; then they are, oldest first.
    assert!(one
        .claim_due_refunds(due_refunds(10_010, 100))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        two.claim_due_refunds(due_refunds(10_031, 100))
            .await
            .unwrap()
            .len(),
        40
    );
    // A settled refund is never claimed.
    one.update_refund(RefundNews {
        out_refund_no: "R0-0".into(),
        status: RefundStatus::Success,
        refund_id: Some("RID".into()),
        success_time: None,
        at: 10_040,
    })
    .await
    .unwrap();
    let left = one
        .claim_due_refunds(due_refunds(10_100, 100))
        .await
        .unwrap();
    assert_eq!(left.len(), 39);
    assert!(left.iter().all(|r| r.refund.out_refund_no != "R0-0"));
}

/// The order, its payments and its refunds read while refunds settle: a SUCCESS refund of the
/// order's payment never shows next to the order's state from before it (SUCCESS), nor the
/// other way round.
async fn order_snapshot_is_one_moment(b: Backing) {
    let store = b.open().await;
    assert_eq!(store.order_snapshot("nobody".into()).await.unwrap(), None);
    const N: usize = 80;
    let ids: Vec<String> = (0..N).map(|i| format!("s{i}")).collect();
    for id in &ids {
        paid_order(&store, id).await;
        let created = store.create_refund(refund(&format!("R{id}"), id, 100));
        assert!(matches!(created.await.unwrap(), RefundCreated::New(_)));
    }
    let s = store.order_snapshot("s0".into()).await.unwrap().unwrap();
    assert_eq!(s.order.state, TradeState::Success);
    assert_eq!(
        (s.payments.len(), s.payments[0].transaction_id.as_str()),
        (1, "Xs0")
    );
    assert_eq!(s.refunds.len(), 1);
    assert_eq!(s.refunds[0].status, RefundStatus::Pending);

    let settle = {
        let (store, ids) = (store.clone(), ids.clone());
        tokio::spawn(async move {
            for id in ids {
                let news = RefundNews {
                    out_refund_no: format!("R{id}"),
                    status: RefundStatus::Success,
                    refund_id: Some(format!("RID{id}")),
                    success_time: Some("2026-12-01T11:00:00Z".into()),
                    at: 4_000,
                };
                store.update_refund(news).await.unwrap().unwrap();
            }
        })
    };
    let mut reads = 0;
    while !settle.is_finished() {
        for id in &ids {
            let s = store.order_snapshot(id.clone()).await.unwrap().unwrap();
            let settled = s.refunds[0].status == RefundStatus::Success;
            assert_eq!(settled, s.order.state == TradeState::Refund, "{s:?}");
            reads += 1;
        }
    }
    settle.await.unwrap();
    assert!(reads >= N, "read while settling");
    let s = store.order_snapshot("s0".into()).await.unwrap().unwrap();
    assert_eq!(
        (s.order.state, s.refunds[0].status),
        (TradeState::Refund, RefundStatus::Success)
    );
}

async fn data_survives_reopen(b: Backing) {
    {
        let store = b.open().await;
        paid_order(&store, "o1").await;
        store.create_refund(refund("R1", "o1", 10)).await.unwrap();
    }
    let store = b.open().await;
    let o = store.order("o1".into()).await.unwrap().unwrap();
    assert_eq!(o.state, TradeState::Success);
    assert_eq!(store.payments("o1".into()).await.unwrap().len(), 1);
    assert_eq!(store.prepays("o1".into()).await.unwrap().len(), 1);
    assert_eq!(store.refunds("o1".into()).await.unwrap().len(), 1);
    // A re-sent notification after the restart is still a duplicate.
    assert!(matches!(
        store
            .record_news(news("Po1", TradeState::Success, Some("Xo1")))
            .await
            .unwrap(),
        NewsOutcome::Duplicate(_)
    ));
}
