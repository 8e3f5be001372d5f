//! Writes that fail at the worst moment, and what the backend answers so nothing is lost:
//! - a refund saved but answered with an error (the database committed, then the connection was
//!   lost before the reply) is retried under the same `out_refund_no`, never paid twice: every
//!   answer after the key is chosen carries it;
//! - a notification applied but not kept for audit is not acknowledged, so WeChat sends it again
//!   and it is kept then: every acknowledged notification is on record;
//! - a flood of forgeries meeting a slow database occupies only a few writers (the rest are
//!   logged, not stored) while a real notification gets through.
//!
//! The store is the real SQLite store inside a wrapper that, once armed, fails one write *after*
//! it committed (or the one after it) — faults a real database cannot be made to produce on cue.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use wxpay_server::order::Order;
use wxpay_server::store::*;

/// The faults a test arms.
#[derive(Default)]
struct Faults {
    /// The next `create_refund` commits, then answers as if the reply was lost.
    lose_next_refund_reply: AtomicBool,
    /// The next `record_notification` fails (the connection lost after the payment's commit).
    fail_next_record: AtomicBool,
    /// Every `record_rejected` takes 200 ms (a database under a flood)…
    slow_rejected: AtomicBool,
    /// …and these count how many run at once.
    rejected_in_flight: AtomicUsize,
    rejected_most_at_once: AtomicUsize,
}

struct Faulty(Arc<dyn Store>, Arc<Faults>);

/// Options whose backend's store fails as `faults` say.
fn faulty(faults: &Arc<Faults>, o: Opts) -> Opts {
    let faults = faults.clone();
    Opts {
        wrap_store: Some(Arc::new(move |inner| {
            Arc::new(Faulty(inner, faults.clone())) as Arc<dyn Store>
        })),
        ..o
    }
}

impl Store for Faulty {
    fn create_refund(&self, r: NewRefund) -> StoreFuture<'_, RefundCreated> {
        Box::pin(async move {
            let created = self.0.create_refund(r).await?;
            if self.1.lose_next_refund_reply.swap(false, Ordering::SeqCst) {
                return Err(StoreError::Unavailable(
                    "PostgreSQL connection lost (after COMMIT)".into(),
                ));
            }
            Ok(created)
        })
    }
    fn create_order(&self, order: NewOrder) -> StoreFuture<'_, Order> {
        self.0.create_order(order)
    }
    fn order(&self, order_id: String) -> StoreFuture<'_, Option<Order>> {
        self.0.order(order_id)
    }
    fn transition(&self, t: Transition) -> StoreFuture<'_, TransitionOutcome> {
        self.0.transition(t)
    }
    fn record_news(&self, news: AttemptNews) -> StoreFuture<'_, NewsOutcome> {
        self.0.record_news(news)
    }
    fn payments(&self, order_id: String) -> StoreFuture<'_, Vec<PaymentRecord>> {
        self.0.payments(order_id)
    }
    fn save_prepay(&self, prepay: Prepay) -> StoreFuture<'_, ()> {
        self.0.save_prepay(prepay)
    }
    fn prepays(&self, order_id: String) -> StoreFuture<'_, Vec<Prepay>> {
        self.0.prepays(order_id)
    }
    fn prepay_by_out_trade_no(&self, no: String) -> StoreFuture<'_, Option<Prepay>> {
        self.0.prepay_by_out_trade_no(no)
    }
    fn claim_query(&self, order_id: String, at: i64, before: i64) -> StoreFuture<'_, bool> {
        self.0.claim_query(order_id, at, before)
    }
    fn due_for_query(&self, q: DueQuery) -> StoreFuture<'_, Vec<Order>> {
        self.0.due_for_query(q)
    }
    fn record_notification(&self, n: NotificationRecord) -> StoreFuture<'_, i64> {
        if self.1.fail_next_record.swap(false, Ordering::SeqCst) {
            return Box::pin(async {
                Err(StoreError::Unavailable("PostgreSQL connection lost".into()))
            });
        }
        self.0.record_notification(n)
    }
    fn record_rejected(&self, n: RejectedNotification, cap: RejectedCap) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let f = &self.1;
            let now = f.rejected_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            f.rejected_most_at_once.fetch_max(now, Ordering::SeqCst);
            if f.slow_rejected.load(Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            let r = self.0.record_rejected(n, cap).await;
            f.rejected_in_flight.fetch_sub(1, Ordering::SeqCst);
            r
        })
    }
    fn rejected_notifications(&self, limit: u64) -> StoreFuture<'_, Vec<RejectedNotification>> {
        self.0.rejected_notifications(limit)
    }
    fn notifications(&self, no: String) -> StoreFuture<'_, Vec<NotificationRecord>> {
        self.0.notifications(no)
    }
    fn events(&self, order_id: String) -> StoreFuture<'_, Vec<OrderEvent>> {
        self.0.events(order_id)
    }
    fn update_refund(&self, news: RefundNews) -> StoreFuture<'_, Option<(RefundRecord, bool)>> {
        self.0.update_refund(news)
    }
    fn refund(&self, out_refund_no: String) -> StoreFuture<'_, Option<RefundRecord>> {
        self.0.refund(out_refund_no)
    }
    fn refunds(&self, order_id: String) -> StoreFuture<'_, Vec<RefundRecord>> {
        self.0.refunds(order_id)
    }
    fn claim_due_refunds(&self, q: DueRefunds) -> StoreFuture<'_, Vec<RefundRecord>> {
        self.0.claim_due_refunds(q)
    }
    fn order_snapshot(&self, order_id: String) -> StoreFuture<'_, Option<OrderSnapshot>> {
        self.0.order_snapshot(order_id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_saved_but_answered_503_is_retried_under_its_key_not_paid_twice() {
    let faults = Arc::new(Faults::default());
    let e = start(faulty(
        &faults,
        Opts {
            query_after_secs: 0,
            ..Opts::default()
        },
    ))
    .await;
    let (id, paid) = paid_order(&e, 100).await;
    let tx = paid["transaction_id"].as_str().unwrap().to_string();

    faults.lose_next_refund_reply.store(true, Ordering::SeqCst);
    let (status, err) = refund(&e, &id, json!({ "amount": 40 })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (503, Some("storage_unavailable")),
        "{err}"
    );
    let key = err["out_refund_no"]
        .as_str()
        .unwrap_or_else(|| panic!("the error names the refund's key: {err}"))
        .to_string();
    assert!(
        !err["message"].as_str().unwrap().contains("PostgreSQL"),
        "no internals in the answer: {err}"
    );

    // The merchant retries under that key: the saved refund is sent, once.
    let (status, r) = refund(&e, &id, json!({ "amount": 40, "out_refund_no": key })).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["out_refund_no"], key.as_str());
    // The reconciler finds nothing left to send.
    e.backend.reconcile_refunds().await;
    let o = order_until(&e, &id, |o| o["refunded"] == 40).await;
    let refunds = o["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 1, "{o}");
    let sim = e.sim.refund(&key).expect("WeChat has the refund");
    assert_eq!((sim.refund, sim.transaction_id.as_str()), (40, tx.as_str()));
    // What is left to refund is 60, not 20.
    let (status, rest) = refund(&e, &id, json!({})).await;
    assert_eq!((status, rest["amount"].as_i64()), (201, Some(60)), "{rest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_applied_but_not_kept_is_not_acknowledged_and_kept_when_resent() {
    let faults = Arc::new(Faults::default());
    let e = start(faulty(&faults, Opts::default())).await;
    let order = e.create_order(300).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, pay) = e.pay(id, json!({ "mode": "native" })).await;
    let no = pay["out_trade_no"].as_str().unwrap().to_string();
    faults.fail_next_record.store(true, Ordering::SeqCst);
    assert_eq!(
        e.sim_pay(json!({ "code_url": pay["code_url"] })).await.0,
        200
    );
    assert!(
        eventually(10, || e.sim.deliveries(&no).iter().any(|d| d.accepted)).await,
        "the re-sent notification is acknowledged"
    );
    let deliveries = e.sim.deliveries(&no);
    assert!(
        !deliveries[0].accepted,
        "the first, not kept, was refused: {deliveries:?}"
    );
    // Applied once (by the first), kept once (the second, a duplicate by then).
    assert_eq!(e.events(id).await.len(), 1);
    assert_eq!(e.verdicts(&no).await, vec!["duplicate"]);
    let (_, o) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["state"], "SUCCESS", "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_forgeries_takes_only_a_few_writers_and_real_notifications_get_through() {
    let faults = Arc::new(Faults::default());
    faults.slow_rejected.store(true, Ordering::SeqCst);
    let e = start(faulty(&faults, Opts::default())).await;
    let order = e.create_order(300).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, pay) = e.pay(id, json!({ "mode": "native" })).await;
    let no = pay["out_trade_no"].as_str().unwrap().to_string();
    let forged: Vec<_> = (0..30)
        .map(|_| {
            let (http, url) = (e.http.clone(), format!("{}/api/wxpay/notify", e.api));
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .header("Wechatpay-Serial", "FORGED")
                    .header("Content-Type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                r.status().as_u16()
            })
        })
        .collect();
    // A real notification in the middle of the flood.
    let mut resource = common::v3notify::payment(&no, 300);
    resource["transaction_id"] = json!("4200000000000000000000000991");
    let real = common::v3notify::by_platform(common::v3notify::envelope(&resource));
    assert_eq!(
        common::v3notify::send_to(&e.http, &e.api, &real).await.0,
        204
    );
    for f in forged {
        assert!((400..500).contains(&f.await.unwrap()));
    }
    let most = faults.rejected_most_at_once.load(Ordering::SeqCst);
    assert!(
        (1..=wxpay_server::backend::audit::REJECTED_WRITERS).contains(&most),
        "{most} rejected writes at once"
    );
    let kept = e.backend.store.rejected_notifications(100).await.unwrap();
    assert!(!kept.is_empty() && kept.len() < 30, "{} kept", kept.len());
}
