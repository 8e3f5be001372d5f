//! WeChat failing (5xx, timeouts, wrong keys), notifications failing or lost, and restarts:
//! the order is never lost or corrupted, and the truth arrives anyway.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wxpay_server::config::ApiVersion;
use wxpay_server::sim::Fault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wechat_5xx_and_timeouts_give_clear_errors_and_change_nothing() {
    let e = start(Opts {
        http_timeout_ms: 300,
        ..Opts::default()
    })
    .await;
    let order = e.create_order(500).await;
    let id = order["order_id"].as_str().unwrap();
    let pay = format!("/api/orders/{id}/pay");

    e.sim.inject_fault(Fault::Status(503), 1);
    let (status, err) = e.post(&pay, json!({ "mode": "native" })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (502, Some("wechat_unavailable")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("503"));

    e.sim
        .inject_fault(Fault::Delay(Duration::from_millis(1500)), 1);
    let (status, err) = e.post(&pay, json!({ "mode": "native" })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (504, Some("wechat_timeout")),
        "{err}"
    );

    assert_eq!(
        e.get(&format!("/api/orders/{id}")).await.1["state"],
        "NOTPAY"
    );
    assert!(e
        .backend
        .store
        .prepays(id.to_string())
        .await
        .unwrap()
        .is_empty());
    assert!(e.events(id).await.is_empty());

    // WeChat is back: the same order goes through (the timed-out request may have reached
    // WeChat; re-ordering with identical parameters is accepted there).
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (status, ok) = e.post(&pay, json!({ "mode": "native" })).await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        e.sim_pay(json!({ "code_url": ok["code_url"] })).await.0,
        200
    );
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_verified_and_requests_must_be_signed_by_the_merchant() {
    // A backend holding the wrong platform certificate must not believe the answers.
    let (sim_listener, sim_url) = bind().await;
    let sim = wxpay_server::sim::Sim::new(sim_config(&sim_url, 1000.0));
    let app = sim.router();
    let _sim = tokio::spawn(async move { wxpay_server::serve::serve(sim_listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let (listener, api) = bind().await;
    let mut cfg = backend_config(&api, &sim_url, dir.path(), &Opts::default());
    cfg.platform_certs.insert(
        keys().platform.serial.clone(),
        keys().stranger.cert_path.clone(),
    );
    let (_b, api, _server) = serve_backend(listener, api, cfg).await;
    let http = wxpay_server::http_client::client(Duration::from_secs(10));
    let order_and_pay = |api: String| {
        let http = http.clone();
        async move {
            let tea = json!({"items": [{"sku": "tea", "quantity": 1}]});
            let (_, order) = post_json(&http, &format!("{api}/api/orders"), &tea).await;
            let id = order["order_id"].as_str().unwrap().to_string();
            post_json(
                &http,
                &format!("{api}/api/orders/{id}/pay"),
                &json!({"mode": "native"}),
            )
            .await
        }
    };
    let (status, err) = order_and_pay(api).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (502, Some("wechat_unverified")),
        "{err}"
    );

    // A merchant signing with a key WeChat does not have gets WeChat's SIGN_ERROR (401).
    let (listener, api2) = bind().await;
    let dir2 = tempfile::tempdir().unwrap();
    let mut cfg = backend_config(&api2, &sim_url, dir2.path(), &Opts::default());
    cfg.merchant_key_file = Some(keys().stranger.key_path.clone());
    let (_b2, api2, _server2) = serve_backend(listener, api2, cfg).await;
    let (status, err) = order_and_pay(api2).await;
    assert_eq!(status, 502);
    assert_eq!(
        (err["error"].as_str(), err["wechat_code"].as_str()),
        (Some("wechat_refused"), Some("SIGN_ERROR")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_notifications_are_retried_on_the_compressed_schedule() {
    // A notify_url that fails twice, then accepts.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let (listener, url) = bind().await;
    let _flaky = tokio::spawn(async move { wxpay_server::serve::serve(listener, app).await });
    // Compression 100: 15 s → 150 ms.
    let e = start(Opts {
        notify_url: Some(format!("{url}/notify")),
        retry_compression: 100.0,
        ..Opts::default()
    })
    .await;
    let order = e.create_order(100).await;
    let (_, pay) = e
        .post(
            &format!("/api/orders/{}/pay", order["order_id"].as_str().unwrap()),
            json!({"mode": "native"}),
        )
        .await;
    let started = std::time::Instant::now();
    e.sim_pay(json!({ "code_url": pay["code_url"] })).await;
    let no = pay["out_trade_no"].as_str().unwrap();
    assert!(eventually(10, || e.sim.deliveries(no).iter().any(|d| d.accepted)).await);
    let d = e.sim.deliveries(no);
    assert_eq!(
        d.iter().map(|d| d.status).collect::<Vec<_>>(),
        vec![Some(500), Some(500), Some(204)]
    );
    // Two waits of 15 s / 100 each.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "no delivery after acceptance"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_notification_is_recovered_by_querying_wechat() {
    for v in [ApiVersion::V3, ApiVersion::V2] {
        // Notifications go nowhere (port 9 on loopback refuses).
        let e = start(Opts {
            api_version: v,
            query_after_secs: 1,
            notify_url: Some("http://127.0.0.1:9/notify".into()),
            ..Opts::default()
        })
        .await;
        let order = e.create_order(900).await;
        let id = order["order_id"].as_str().unwrap();
        let (_, pay) = e.pay(id, json!({"mode": "native"})).await;
        e.sim_pay(json!({ "code_url": pay["code_url"] })).await;
        let got = e.wait_change(id, 10).await;
        assert_eq!(got["state"], "SUCCESS", "{v:?}: {got}");
        assert!(got["transaction_id"].as_str().unwrap().starts_with("4200"));
        let events = e.events(id).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].source, format!("query-{}", v.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_every_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_sim, sim_url, _sim_server) = start_sim(1000.0).await;
    let http = wxpay_server::http_client::client(Duration::from_secs(20));
    let post = |url: String, body: serde_json::Value| {
        let http = http.clone();
        async move { post_json(&http, &url, &body).await.1 }
    };
    let get = |url: String| {
        let http = http.clone();
        async move { get_json(&http, &url).await.1 }
    };

    let (backend, api, server) = start_backend(&sim_url, &Opts::default(), dir.path()).await;
    let order = |amount: i64| {
        post(
            format!("{api}/api/orders"),
            json!({"items": [{"sku": "tea", "quantity": amount / 100}]}),
        )
    };
    let (paid, pending, fresh) = (order(100).await, order(200).await, order(300).await);
    let id = |o: &serde_json::Value| o["order_id"].as_str().unwrap().to_string();
    let pay = post(
        format!("{api}/api/orders/{}/pay", id(&paid)),
        json!({"mode": "native"}),
    )
    .await;
    post(
        format!("{sim_url}/sim/api/pay"),
        json!({"code_url": pay["code_url"]}),
    )
    .await;
    let paid_before = get(format!("{api}/api/orders/{}?wait=10", id(&paid))).await;
    assert_eq!(paid_before["state"], "SUCCESS");
    let pending_pay = post(
        format!("{api}/api/orders/{}/pay", id(&pending)),
        json!({"mode": "native"}),
    )
    .await;

    // Stop the backend and close its database; the simulator (WeChat) keeps running.
    server.abort();
    let _ = server.await;
    drop(backend);
    let (backend2, api2, _server2) = start_backend(
        &sim_url,
        &Opts {
            query_after_secs: 1,
            ..Opts::default()
        },
        dir.path(),
    )
    .await;
    assert_ne!(api, api2);
    for (before, state) in [
        (&paid_before, "SUCCESS"),
        (&pending, "NOTPAY"),
        (&fresh, "NOTPAY"),
    ] {
        let after = get(format!("{api2}/api/orders/{}", id(before))).await;
        assert_eq!(after["state"], state);
        for field in ["out_trade_no", "amount", "transaction_id", "paid_at"] {
            assert_eq!(after[field], before[field], "{field}");
        }
    }
    // The pending order's prepay survived too: the same code_url, not a second order at WeChat.
    let again = post(
        format!("{api2}/api/orders/{}/pay", id(&pending)),
        json!({"mode": "native"}),
    )
    .await;
    assert_eq!(again["code_url"], pending_pay["code_url"]);
    assert_eq!(backend2.store.events(id(&paid)).await.unwrap().len(), 1);
    // Paid while the old backend is gone (its notify_url is dead): the new one finds out by
    // querying WeChat.
    post(
        format!("{sim_url}/sim/api/pay"),
        json!({"code_url": again["code_url"]}),
    )
    .await;
    assert_eq!(
        get(format!("{api2}/api/orders/{}?wait=10", id(&pending))).await["state"],
        "SUCCESS"
    );
    assert_eq!(
        backend2.store.events(id(&pending)).await.unwrap()[0].source,
        "query-v3"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_finds_payments_nobody_polls_for() {
    // The buyer paid and closed the page; the notification is lost. Nothing polls.
    let e = start(Opts {
        query_after_secs: 1,
        notify_url: Some("http://127.0.0.1:9/notify".into()),
        ..Opts::default()
    })
    .await;
    let _reconciler = e.backend.start_reconciler();
    let order = e.create_order(300).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (_, pay) = e.pay(&id, json!({"mode": "native"})).await;
    e.sim_pay(json!({ "code_url": pay["code_url"] })).await;
    let store = e.backend.store.clone();
    let mut state = String::new();
    for _ in 0..100 {
        state = store
            .order(id.clone())
            .await
            .unwrap()
            .unwrap()
            .state
            .to_string();
        if state == "SUCCESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "SUCCESS");
    assert_eq!(e.events(&id).await[0].source, "query-v3");
}

/// Issue 9: the reconciler checked 50 orders per interval, so a payment behind a backlog of
/// abandoned orders waited minutes. One round now drains the whole backlog (bounded concurrency).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_reconciler_round_drains_a_backlog() {
    let e = start(Opts {
        query_after_secs: 0,
        notify_url: Some("http://127.0.0.1:9/notify".into()),
        ..Opts::default()
    })
    .await;
    let mut last = (String::new(), String::new());
    for _ in 0..260 {
        let order = e.create_order(100).await;
        let id = order["order_id"].as_str().unwrap().to_string();
        let (_, pay) = e.pay(&id, json!({"mode": "native"})).await;
        last = (id, pay["out_trade_no"].as_str().unwrap().to_string());
    }
    let (id, no) = last;
    e.sim_pay(json!({ "out_trade_no": no })).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    e.backend.reconcile_backlog().await;
    let order = e.backend.store.order(id.clone()).await.unwrap().unwrap();
    assert_eq!(order.state.as_str(), "SUCCESS");
    assert_eq!(e.events(&id).await[0].source, "query-v3");
}
