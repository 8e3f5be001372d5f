//! A refund saved but answered with an error (the database committed, then the connection was
//! lost before the reply) must be retried under the same `out_refund_no`, never as a second
//! refund: every answer after the key is chosen carries it. The store here is the real SQLite
//! store inside a wrapper that, once armed, reports a lost connection *after* `create_refund`
//! committed — the one fault a real database cannot be made to produce on cue.

mod common;

use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wxpay_server::order::Order;
use wxpay_server::store::*;

/// Armed: the next `create_refund` commits, then answers as if the reply was lost.
static LOSE_NEXT_REPLY: AtomicBool = AtomicBool::new(false);

struct LostReply(Arc<dyn Store>);

fn lost_reply(inner: Arc<dyn Store>) -> Arc<dyn Store> {
    Arc::new(LostReply(inner))
}

impl Store for LostReply {
    fn create_refund(&self, r: NewRefund) -> StoreFuture<'_, RefundCreated> {
        Box::pin(async move {
            let created = self.0.create_refund(r).await?;
            if LOSE_NEXT_REPLY.swap(false, Ordering::SeqCst) {
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
        self.0.record_notification(n)
    }
    fn record_rejected(&self, n: RejectedNotification, cap: RejectedCap) -> StoreFuture<'_, ()> {
        self.0.record_rejected(n, cap)
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_saved_but_answered_503_is_retried_under_its_key_not_paid_twice() {
    let e = start(Opts {
        query_after_secs: 0,
        wrap_store: Some(lost_reply),
        ..Opts::default()
    })
    .await;
    let (id, paid) = paid_order(&e, 100).await;
    let tx = paid["transaction_id"].as_str().unwrap().to_string();

    LOSE_NEXT_REPLY.store(true, Ordering::SeqCst);
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
