//! An order's payment attempts (one `out_trade_no` each) at WeChat: one attempt's CLOSED never
//! closes the order while another may still be paid, and a verified payment of any attempt is
//! never lost as a "duplicate".

mod common;

use common::*;
use serde_json::json;
use wxpay_server::timefmt::unix_now;

/// The case from issue 9: attempt 1 (native) is closed at WeChat, the page's polling makes the
/// backend query both attempts, then the buyer pays attempt 2 (H5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_attempt_never_swallows_the_payment_of_another() {
    let e = start(Opts {
        query_after_secs: 0,
        ..Opts::default()
    })
    .await;
    let order = e.create_order(880).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, native) = e.pay(id, json!({ "mode": "native" })).await;
    let (status, h5) = e.pay(id, json!({ "mode": "h5" })).await;
    assert_eq!(status, 200, "{h5}");
    let (first, second) = (
        native["out_trade_no"].as_str().unwrap(),
        h5["out_trade_no"].as_str().unwrap(),
    );
    close_at_wechat(&e, first).await;
    assert_eq!(e.sim.order(first).unwrap().state.as_str(), "CLOSED");

    let stored = e.backend.store.order(id.into()).await.unwrap().unwrap();
    e.backend.query_wechat(&stored, unix_now()).await.unwrap();
    let (_, now) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(now["state"], "NOTPAY", "attempt 2 can still be paid: {now}");
    let attempt = e.backend.store.prepay_by_out_trade_no(first.into()).await;
    assert_eq!(attempt.unwrap().unwrap().state.as_str(), "CLOSED");

    assert_eq!(e.sim_pay(json!({ "out_trade_no": second })).await.0, 200);
    let paid = e.wait_change(id, 10).await;
    assert_eq!(paid["state"], "SUCCESS", "{paid}");
    assert_eq!(
        paid["transaction_id"].as_str(),
        e.sim.order(second).unwrap().transaction_id.as_deref()
    );
    assert!(
        eventually(10, || e.sim.deliveries(second).iter().any(|d| d.accepted)).await,
        "the notification is acknowledged"
    );
    assert_eq!(e.verdicts(second).await, vec!["applied"]);

    // The closed attempt is not handed out again: a new native attempt gets a fresh out_trade_no.
    let order = e.create_order(880).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, native) = e.pay(id, json!({ "mode": "native" })).await;
    let first = native["out_trade_no"].as_str().unwrap();
    close_at_wechat(&e, first).await;
    let stored = e.backend.store.order(id.into()).await.unwrap().unwrap();
    e.backend.query_wechat(&stored, unix_now()).await.unwrap();
    let (status, again) = e.pay(id, json!({ "mode": "native" })).await;
    assert_eq!(status, 200, "{again}");
    assert_ne!(again["out_trade_no"].as_str(), Some(first));
    assert_eq!(
        e.sim_pay(json!({ "code_url": again["code_url"] })).await.0,
        200
    );
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");
}

/// Closes an attempt at WeChat as the backend does.
async fn close_at_wechat(e: &Env, out_trade_no: &str) {
    let attempt = e
        .backend
        .store
        .prepay_by_out_trade_no(out_trade_no.into())
        .await;
    e.backend
        .wechat
        .close(&attempt.unwrap().unwrap())
        .await
        .unwrap();
}
