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

/// The instance that recorded a payment may die before it closes the order's other attempts (or
/// WeChat may refuse the close): WeChat re-sends the notification until acknowledged, and that
/// duplicate closes what is still open, so the buyer cannot pay the order twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_payment_notification_closes_attempts_left_open() {
    let e = start(Opts::default()).await;
    let order = e.create_order(880).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, native) = e.pay(id, json!({ "mode": "native" })).await;
    let (status, h5) = e.pay(id, json!({ "mode": "h5" })).await;
    assert_eq!(status, 200, "{h5}");
    let (paid, open) = (
        native["out_trade_no"].as_str().unwrap(),
        h5["out_trade_no"].as_str().unwrap(),
    );
    // The close after the payment fails at WeChat.
    e.sim.inject_fault(wxpay_server::sim::Fault::Status(503), 1);
    assert_eq!(e.sim_pay(json!({ "out_trade_no": paid })).await.0, 200);
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        e.sim.order(open).unwrap().state.as_str(),
        "NOTPAY",
        "the H5 attempt is still payable"
    );
    // WeChat's re-sent notification of the payment.
    let tx = e.sim.order(paid).unwrap().transaction_id.unwrap();
    let mut resource = common::v3notify::payment(paid, 880);
    resource["transaction_id"] = json!(tx);
    let resent = common::v3notify::by_platform(common::v3notify::envelope(&resource));
    assert_eq!(
        common::v3notify::send_to(&e.http, &e.api, &resent).await.0,
        204
    );
    assert!(
        eventually(5, || e.sim.order(open).unwrap().state.as_str() == "CLOSED").await,
        "the duplicate closed the attempt left open"
    );
    let mut recorded = String::new();
    for _ in 0..50 {
        let attempt = e.backend.store.prepay_by_out_trade_no(open.into()).await;
        recorded = attempt.unwrap().unwrap().state.as_str().to_string();
        if recorded == "CLOSED" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(recorded, "CLOSED", "and recorded it closed");
    assert_eq!(e.events(id).await.len(), 1, "the order changed once");
}

/// The buyer pays a second attempt that stayed open (its close failed) and that notification is
/// lost: the reconciler still asks about the paid order's open attempt and records the extra
/// payment, money to give back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_payment_whose_notification_was_lost_is_found_by_the_reconciler() {
    let e = start(Opts {
        query_after_secs: 1,
        notify_url: Some("http://127.0.0.1:9/api/wxpay/notify".into()),
        ..Opts::default()
    })
    .await;
    let order = e.create_order(880).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, native) = e.pay(id, json!({ "mode": "native" })).await;
    let (_, h5) = e.pay(id, json!({ "mode": "h5" })).await;
    let (first, second) = (
        native["out_trade_no"].as_str().unwrap(),
        h5["out_trade_no"].as_str().unwrap(),
    );
    // The first payment's notification reaches the backend (by hand: WeChat's goes nowhere);
    // closing the other attempt then fails at WeChat.
    assert_eq!(e.sim_pay(json!({ "out_trade_no": first })).await.0, 200);
    e.sim.inject_fault(wxpay_server::sim::Fault::Status(503), 1);
    let tx = e.sim.order(first).unwrap().transaction_id.unwrap();
    let mut resource = common::v3notify::payment(first, 880);
    resource["transaction_id"] = json!(tx);
    let signed = common::v3notify::by_platform(common::v3notify::envelope(&resource));
    assert_eq!(
        common::v3notify::send_to(&e.http, &e.api, &signed).await.0,
        204
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The buyer pays the H5 attempt too; that notification is lost.
    assert_eq!(e.sim_pay(json!({ "out_trade_no": second })).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    e.backend.reconcile_backlog().await;
    let payments = e.backend.store.payments(id.into()).await.unwrap();
    assert_eq!(payments.len(), 2, "{payments:?}");
    assert!(payments.iter().any(|p| p.extra && p.out_trade_no == second));
    let (_, o) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["state"], "SUCCESS", "{o}");
    assert_eq!(o["extra_payments"].as_array().map(Vec::len), Some(1), "{o}");
}
