//! Refunds end to end through the simulator: partial refunds, over-refund refused (by us and by
//! WeChat), idempotency per out_refund_no, verified refund notifications applied once, the
//! order showing what was refunded, extra payments refunded with one call, restart safety.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use wxpay_server::sim::Fault;
use wxpay_server::timefmt::unix_now;

/// Runs the refund reconciler until the refund is SUCCESS at WeChat and here (or 5 s pass).
async fn settle(backend: &wxpay_server::Backend, out_refund_no: &str) {
    for _ in 0..50 {
        backend.reconcile_refunds().await;
        let r = backend
            .store
            .refund(out_refund_no.into())
            .await
            .unwrap()
            .unwrap();
        if r.status.as_str() == "SUCCESS" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_refunds_settle_by_verified_notification_and_never_exceed_the_payment() {
    let e = start(Opts::default()).await;
    let (id, paid) = paid_order(&e, 1000).await;
    let (status, r) = refund(&e, &id, json!({ "amount": 300, "reason": "缺货" })).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["amount"].as_i64(), r["status"].as_str()),
        (Some(300), Some("PROCESSING"))
    );
    assert_eq!(r["transaction_id"], paid["transaction_id"]);
    let no = r["out_refund_no"].as_str().unwrap().to_string();

    // The order and its refunds are read at one moment: the settled refund comes with REFUND.
    let o = order_until(&e, &id, |o| o["refunds"][0]["status"] == "SUCCESS").await;
    assert_eq!(o["state"], "REFUND", "{o}");
    assert_eq!(o["refunded"], 300);
    assert!(o["refunds"][0]["refund_id"].as_str().is_some(), "{o}");
    let out_trade_no = paid["out_trade_no"].as_str().unwrap();
    assert_eq!(
        e.verdicts(out_trade_no).await.last().map(String::as_str),
        Some("applied")
    );
    // WeChat's query of a refunded order still reports its payment (the reconciler asks).
    let stored = e.backend.store.order(id.clone()).await.unwrap().unwrap();
    let late = unix_now() + 3601;
    e.backend.query_wechat(&stored, late).await.unwrap();

    // The same out_refund_no again is the same refund, not a second one.
    let (status, again) = refund(&e, &id, json!({ "amount": 300, "out_refund_no": no })).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (201, Some("SUCCESS")),
        "{again}"
    );
    let (status, err) = refund(&e, &id, json!({ "amount": 200, "out_refund_no": no })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (409, Some("out_refund_no_used")),
        "{err}"
    );
    // More than is left: refused here…
    let (status, err) = refund(&e, &id, json!({ "amount": 701 })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (409, Some("refund_exceeds_payment")),
        "{err}"
    );
    // …and by WeChat, for a merchant whose records disagree.
    let over = refund_of(&id, &paid, "RF-over-1", 701, "v3");
    let err = e
        .backend
        .wechat
        .v3_refund(&over)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("NOT_ENOUGH"), "{err}");
    // The rest (default amount: all that is left).
    let (status, rest) = refund(&e, &id, json!({})).await;
    assert_eq!(
        (status, rest["amount"].as_i64()),
        (201, Some(700)),
        "{rest}"
    );
    let o = order_until(&e, &id, |o| o["refunded"] == 1000).await;
    assert_eq!(o["refunded"], 1000, "{o}");
    let (status, err) = refund(&e, &id, json!({})).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (409, Some("fully_refunded"))
    );
    // One SUCCESS -> REFUND transition, whatever the notifications.
    let events = e.events(&id).await;
    assert_eq!(
        events
            .iter()
            .filter(|ev| ev.to.as_str() == "REFUND")
            .count(),
        1,
        "{events:?}"
    );
    // Only the merchant's server may refund.
    assert_eq!(
        e.post(&format!("/api/orders/{id}/refunds"), json!({}))
            .await
            .0,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_whose_answer_was_lost_is_finished_once_after_a_restart() {
    // No background queries here: the one injected fault must meet the refund call.
    let e = start(Opts::default()).await;
    let (id, _) = paid_order(&e, 500).await;
    e.sim.inject_fault(Fault::Status(503), 1);
    let (status, err) = refund(&e, &id, json!({ "amount": 500 })).await;
    assert_eq!(status, 502, "{err}");
    let no = err["out_refund_no"].as_str().unwrap().to_string();
    let (_, o) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["refunds"][0]["status"], "PENDING", "{o}");

    // A new backend process on the same database finds it and finishes it under the same key.
    let (backend, api2, _server) = start_backend(
        &e.sim_url,
        &Opts {
            query_after_secs: 0,
            ..Opts::default()
        },
        &e.data_dir,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    backend.reconcile_refunds().await;
    let r = backend.store.refund(no.clone()).await.unwrap().unwrap();
    assert_ne!(r.status.as_str(), "PENDING");
    settle(&backend, &no).await;
    let (_, o) = get_json(&e.http, &format!("{api2}/api/orders/{id}")).await;
    assert_eq!(
        (o["refunded"].as_i64(), o["state"].as_str()),
        (Some(500), Some("REFUND")),
        "{o}"
    );
    assert_eq!(o["refunds"].as_array().unwrap().len(), 1, "{o}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extra_payments_are_refunded_with_one_call() {
    // Notifications are lost, so WeChat has two paid attempts before the backend hears of any.
    let e = start(Opts {
        query_after_secs: 0,
        notify_url: Some("http://127.0.0.1:9/notify".into()),
        ..Opts::default()
    })
    .await;
    let order = e.create_order(600).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (_, native) = e.pay(&id, json!({ "mode": "native" })).await;
    let (_, h5) = e.pay(&id, json!({ "mode": "h5" })).await;
    for no in [&native["out_trade_no"], &h5["out_trade_no"]] {
        assert_eq!(e.sim_pay(json!({ "out_trade_no": no })).await.0, 200);
    }
    let stored = e.backend.store.order(id.clone()).await.unwrap().unwrap();
    e.backend.query_wechat(&stored, unix_now()).await.unwrap();
    let (_, o) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["state"], "SUCCESS");
    assert_eq!(o["extra_payments"].as_array().map(Vec::len), Some(1), "{o}");
    let extra_tx = o["extra_payments"][0]["transaction_id"].clone();

    let (status, done) = refund(&e, &id, json!({ "extra_payments": true })).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["refunds"][0]["transaction_id"], extra_tx);
    assert_eq!(done["refunds"][0]["amount"], 600);
    // Called again: the same refund, nothing refunded twice.
    let (_, again) = refund(&e, &id, json!({ "extra_payments": true })).await;
    assert_eq!(
        again["refunds"][0]["out_refund_no"],
        done["refunds"][0]["out_refund_no"]
    );
    settle(
        &e.backend,
        done["refunds"][0]["out_refund_no"].as_str().unwrap(),
    )
    .await;
    let (_, o) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(o["state"], "SUCCESS", "the order's own payment stays: {o}");
    assert_eq!(o["refunded"], 0);
    assert_eq!(o["refunds"][0]["status"], "SUCCESS", "{o}");
}
