//! The order life around the flows: attempts (mode switches, expiry, closing the others once
//! paid), long-polling, and bad input answered with what to fix.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_mode_gets_a_new_out_trade_no_and_bad_input_is_explained() {
    let e = start(Opts::default()).await;
    let order = e.create_order(300).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, native) = e.pay(id, json!({ "mode": "native" })).await;
    assert_eq!(native["out_trade_no"], order["out_trade_no"]);
    let (status, h5) = e.pay(id, json!({ "mode": "h5" })).await;
    assert_eq!(status, 200, "{h5}");
    assert_eq!(
        h5["out_trade_no"],
        format!("{}_2", order["out_trade_no"].as_str().unwrap())
    );
    assert!(!h5["h5_url"].as_str().unwrap().contains("redirect_url"));
    // Paying the H5 attempt pays the order.
    let no = h5["out_trade_no"].as_str().unwrap();
    assert_eq!(e.sim_pay(json!({ "out_trade_no": no })).await.0, 200);
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");

    let bad = [
        (
            json!({ "description": "", "amount": 1 }),
            "invalid_description",
        ),
        (
            json!({ "description": "x".repeat(128), "amount": 1 }),
            "invalid_description",
        ),
        (
            json!({ "description": "tea", "amount": 0 }),
            "invalid_amount",
        ),
        // Issue 9: WeChat's total is 32-bit; i64::MAX used to be accepted.
        (
            json!({ "description": "tea", "amount": 2_147_483_648i64 }),
            "invalid_amount",
        ),
        (
            json!({ "description": "tea", "amount": i64::MAX }),
            "invalid_amount",
        ),
        (
            json!({ "description": "tea", "amount": "1" }),
            "invalid_json",
        ),
    ];
    for (body, code) in bad {
        let (status, err) = e.server_post("/api/orders", body).await;
        assert!(
            (400..500).contains(&status) && err["error"] == code,
            "{status} {err}"
        );
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
    let (status, top) = e
        .server_post(
            "/api/orders",
            json!({ "description": "tea", "amount": 2_147_483_647i64 }),
        )
        .await;
    assert_eq!(
        (status, top["amount"].as_i64()),
        (201, Some(2_147_483_647)),
        "{top}"
    );
    let (status, err) = e.pay(id, json!({ "mode": "alipay" })).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_mode")));
    let (status, err) = e.get("/api/orders/ord_nope").await;
    assert_eq!(
        (status, err["error"].as_str()),
        (404, Some("order_not_found"))
    );
    let (status, err) = e.get(&format!("/api/orders/{id}?wait=31")).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_wait")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_answers_when_the_state_changes_not_at_the_timeout() {
    let e = start(Opts::default()).await;
    let order = e.create_order(100).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (_, pay) = e.pay(&id, json!({ "mode": "native" })).await;
    // Nothing happens: the wait runs to its end and reports the unchanged state.
    let t = std::time::Instant::now();
    assert_eq!(e.wait_change(&id, 1).await["state"], "NOTPAY");
    assert!(t.elapsed() >= std::time::Duration::from_millis(900));
    // A payment 300 ms into a 25 s wait ends the wait right away.
    let started = std::time::Instant::now();
    let waiting = {
        let (http, api, id) = (e.http.clone(), e.api.clone(), id.clone());
        tokio::spawn(async move {
            http.get(format!("{api}/api/orders/{id}?wait=25"))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    e.sim_pay(json!({ "code_url": pay["code_url"] })).await;
    let got = waiting.await.unwrap();
    assert_eq!(got["state"], "SUCCESS");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_qr_is_replaced_and_other_attempts_close_once_paid() {
    let e = start(Opts {
        native_ttl_secs: 2,
        ..Opts::default()
    })
    .await;
    let order = e.create_order(100).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, first) = e.pay(id, json!({ "mode": "native" })).await;
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let (status, second) = e.pay(id, json!({ "mode": "native" })).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["code_url"], first["code_url"]);
    assert_ne!(second["out_trade_no"], first["out_trade_no"]);
    assert!(second["expires_at"].as_str() > first["expires_at"].as_str());
    // The old QR no longer pays (WeChat closed it at time_expire); the new one does.
    let (status, err) = e.sim_pay(json!({ "code_url": first["code_url"] })).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("ORDER_EXPIRED")),
        "{err}"
    );
    assert_eq!(
        e.sim_pay(json!({ "code_url": second["code_url"] })).await.0,
        200
    );
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");

    // Once one attempt is paid, the order's other attempts are closed at WeChat, so the buyer
    // cannot pay twice.
    let order = e.create_order(100).await;
    let id = order["order_id"].as_str().unwrap();
    let (_, native) = e.pay(id, json!({ "mode": "native" })).await;
    let (_, h5) = e.pay(id, json!({ "mode": "h5" })).await;
    e.sim_pay(json!({ "out_trade_no": native["out_trade_no"] }))
        .await;
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");
    let h5_no = h5["out_trade_no"].as_str().unwrap();
    assert!(
        eventually(10, || e
            .sim
            .order(h5_no)
            .is_some_and(|o| o.state.as_str() == "CLOSED"))
        .await
    );
    let (status, err) = e.sim_pay(json!({ "out_trade_no": h5_no })).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("ORDERCLOSED")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_pages_are_allowed_only_from_configured_origins() {
    let (_sim, sim_url, _s) = start_sim(1000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let (listener, api) = bind().await;
    let mut cfg = backend_config(&api, &sim_url, dir.path(), &Opts::default());
    cfg.cors_origins = vec!["https://shop.example".into()];
    let (_b, api, _server) = serve_backend(listener, api, cfg).await;
    let http = wxpay_server::http_client::client(std::time::Duration::from_secs(10));
    let preflight = |origin: &'static str| {
        http.request(reqwest::Method::OPTIONS, format!("{api}/api/orders"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let ok = preflight("https://shop.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // Notifications are not for browsers.
    let r = http
        .request(reqwest::Method::OPTIONS, format!("{api}/api/wxpay/notify"))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_that_reached_wechat_but_timed_out_does_not_block_the_next() {
    let e = start(Opts {
        http_timeout_ms: 300,
        ..Opts::default()
    })
    .await;
    let order = e.create_order(100).await;
    let id = order["order_id"].as_str().unwrap();
    assert_eq!(e.pay(id, json!({ "mode": "native" })).await.0, 200);
    // The H5 order reaches WeChat after the backend gave up: WeChat holds `<no>_2` as MWEB.
    e.sim.inject_fault(
        wxpay_server::sim::Fault::Delay(std::time::Duration::from_millis(600)),
        1,
    );
    let (status, err) = e.pay(id, json!({ "mode": "h5" })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (504, Some("wechat_timeout"))
    );
    let second = format!("{}_2", order["out_trade_no"].as_str().unwrap());
    assert!(eventually(5, || e.sim.order(&second).is_some()).await);
    // The buyer switches to JSAPI: `<no>_2` with other parameters is refused by WeChat, so the
    // backend takes a fresh out_trade_no instead of failing.
    let openid = e.sim.openid_for(APPID, "buyer");
    let (status, pay) = e
        .pay(id, json!({ "mode": "jsapi", "openid": openid }))
        .await;
    assert_eq!(status, 200, "{pay}");
    let no = pay["out_trade_no"].as_str().unwrap();
    assert!(
        no.starts_with(&format!("{second}r")) && no.len() <= 32,
        "{no}"
    );
    let prepay_id = pay["jsapi"]["package"]
        .as_str()
        .unwrap()
        .trim_start_matches("prepay_id=");
    assert_eq!(e.sim_pay(json!({ "prepay_id": prepay_id })).await.0, 200);
    assert_eq!(e.wait_change(id, 10).await["state"], "SUCCESS");
}

/// Issue 9: the page used to set the price. Now it names catalog items and the server prices
/// them; only the merchant's server (bearer token) may name an amount.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sets_the_price_not_the_page() {
    let e = start(Opts::default()).await;
    let (status, order) = e
        .post(
            "/api/orders",
            json!({ "items": [{ "sku": "tea", "quantity": 3 }] }),
        )
        .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["amount"], 300);
    assert_eq!(order["description"], "Jasmine tea 250g x3");
    assert_eq!(
        order["items"],
        json!([{ "sku": "tea", "description": "Jasmine tea 250g", "quantity": 3, "unit_amount": 100 }])
    );
    // What WeChat is asked for is the catalog's price.
    let id = order["order_id"].as_str().unwrap();
    let (_, pay) = e.pay(id, json!({ "mode": "native" })).await;
    let at_wechat = e.sim.order(pay["out_trade_no"].as_str().unwrap()).unwrap();
    assert_eq!(at_wechat.params.amount, 300);

    // A page naming its own price is refused, whatever it claims.
    let cheap = json!({ "description": "Jasmine tea 250g", "amount": 1 });
    let (status, err) = e.post("/api/orders", cheap.clone()).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (401, Some("unauthorized")),
        "{err}"
    );
    assert!(err["message"].as_str().unwrap().contains("items"), "{err}");
    let r = e
        .http
        .post(format!("{}/api/orders", e.api))
        .bearer_auth("not-the-token-0123456789abcdefghijklmn")
        .json(&cheap)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let mixed = json!({ "items": [{ "sku": "tea", "quantity": 1 }], "amount": 1 });
    assert_eq!(e.post("/api/orders", mixed).await.0, 400);
    for (items, code) in [
        (json!([{ "sku": "gold", "quantity": 1 }]), "unknown_sku"),
        (json!([{ "sku": "tea", "quantity": 0 }]), "invalid_items"),
        (json!([]), "invalid_items"),
        (json!([{ "sku": "tea", "quantity": -1 }]), "invalid_json"),
        (
            json!([{ "sku": "tea", "quantity": 1, "price": 1 }]),
            "invalid_json",
        ),
    ] {
        let (status, err) = e.post("/api/orders", json!({ "items": items })).await;
        assert!((400..500).contains(&status), "{items} {status}");
        assert_eq!(err["error"].as_str(), Some(code), "{items} {err}");
    }
    // The merchant's server may name an amount.
    let (status, order) = e.server_post("/api/orders", cheap).await;
    assert_eq!(
        (status, order["amount"].as_i64()),
        (201, Some(1)),
        "{order}"
    );
    // Without a configured token the server routes are off.
    let (_sim, sim_url, _s) = start_sim(1000.0).await;
    let dir = tempfile::tempdir().unwrap();
    let (listener, api) = bind().await;
    let mut cfg = backend_config(&api, &sim_url, dir.path(), &Opts::default());
    cfg.api_token = None;
    let (_b, api, _server) = serve_backend(listener, api, cfg).await;
    let (status, err) = post_json(
        &e.http,
        &format!("{api}/api/orders"),
        &json!({ "description": "tea", "amount": 1 }),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (403, Some("server_api_disabled"))
    );
}
