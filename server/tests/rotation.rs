//! WeChat rotating its platform key while orders are being paid: the backend learns the new
//! certificate from `/v3/certificates` (decrypted with the APIv3 key, answer verified) without a
//! restart, and no notification is lost or refused for good. Plus public-key mode and a mixed
//! key set (certificate and `PUB_KEY_ID_…` side by side, as during WeChat's migration).

mod common;

use common::*;
use serde_json::json;
use std::sync::Arc;
use wxpay_server::sim::platform::{public_key_id, PlatformKey};
use wxpay_server::sim::Sim;

/// Creates an order, orders it natively and pays it at the simulator; returns (order_id, out_trade_no).
async fn order_and_pay(e: &Env, amount: i64) -> (String, String) {
    let order = e.create_order(amount).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (status, pay) = e.pay(&id, json!({ "mode": "native" })).await;
    assert_eq!(status, 200, "{pay}");
    let (status, paid) = e.sim_pay(json!({ "code_url": pay["code_url"] })).await;
    assert_eq!(status, 200, "{paid}");
    (id, paid["out_trade_no"].as_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_mid_run_loses_no_notification() {
    let e = start(Opts::default()).await;
    let first = e.sim.platform_key().id.clone();
    e.sim.rotate_after_payments(3);
    let mut paid = Vec::new();
    for i in 0..8 {
        paid.push(order_and_pay(&e, 100 + i).await);
    }
    for (id, out_trade_no) in &paid {
        let order = e.wait_change(id, 15).await;
        assert_eq!(order["state"], "SUCCESS", "{out_trade_no}: {order}");
        // Delivered and acknowledged: the simulator stops retrying once accepted.
        assert!(
            eventually(10, || e
                .sim
                .deliveries(out_trade_no)
                .iter()
                .any(|d| d.accepted))
            .await,
            "{out_trade_no}: {:?}",
            e.sim.deliveries(out_trade_no)
        );
    }
    let rotated = e.sim.platform_key().id.clone();
    assert_ne!(rotated, first, "the simulator rotated after 3 payments");
    // The backend holds the new certificate now, learned without a restart.
    let held = e.backend.wechat.platform_keys.snapshot();
    assert!(held.get(&first).is_some() && held.get(&rotated).is_some());
    // Answers signed with the new key verify too (a query of WeChat).
    let attempt = e
        .backend
        .store
        .prepay_by_out_trade_no(paid[0].1.clone())
        .await;
    let q = e
        .backend
        .wechat
        .query(&attempt.unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(q.trade_state.as_str(), "SUCCESS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_before_start_is_learned_at_start_and_by_query() {
    let e = start(Opts::default()).await;
    let (previous, current) = e.sim.rotate_platform_key().await.unwrap();
    assert_eq!(previous, keys().platform.serial);
    // The start-up download adds the new certificate; the old one stays listed and held.
    let added = e
        .backend
        .wechat
        .refresh_platform_certificates()
        .await
        .unwrap();
    assert_eq!(added, vec![current.clone()]);
    assert!(e
        .backend
        .wechat
        .refresh_platform_certificates()
        .await
        .unwrap()
        .is_empty());
    let (id, _) = order_and_pay(&e, 1).await;
    assert_eq!(e.wait_change(&id, 10).await["state"], "SUCCESS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_does_not_decrypt_with_the_apiv3_key_is_not_learned() {
    // A simulator with another APIv3 key stands for someone who is not WeChat.
    let (listener, url) = bind().await;
    let mut cfg = sim_config(&url, 1000.0);
    cfg.apiv3_key = b"AnotherApiV3Key0123456789abcdefg".to_vec();
    let sim = Sim::new(cfg);
    let app = sim.router();
    let _server = tokio::spawn(async move { wxpay_server::serve::serve(listener, app).await });
    let dir = tempfile::tempdir().unwrap();
    let (backend, _api, _b) = start_backend(&url, &Opts::default(), dir.path()).await;
    sim.rotate_platform_key().await.unwrap();
    let err = backend
        .wechat
        .refresh_platform_certificates()
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("APIv3 key"), "{err}");
    assert_eq!(backend.wechat.platform_keys.snapshot().len(), 1);
}

/// A simulator signing with a `PUB_KEY_ID_…` key made from the test platform key pair.
async fn public_key_sim() -> (Sim, String, String) {
    let (listener, url) = bind().await;
    let mut cfg = sim_config(&url, 1000.0);
    let k = keys();
    let id = public_key_id(MCHID, 1);
    cfg.platform =
        Arc::new(PlatformKey::public_key(&id, &k.platform.key_pem, &k.platform.cert_pem).unwrap());
    let sim = Sim::new(cfg);
    let app = sim.router();
    tokio::spawn(async move { wxpay_server::serve::serve(listener, app).await });
    (sim, url, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_key_mode_and_a_mixed_key_set_both_pay() {
    let (sim, url, id) = public_key_sim().await;
    let public = sim.platform_key().public_pem.clone();
    for keep_certificate in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let (listener, api) = bind().await;
        let mut cfg = backend_config(&api, &url, dir.path(), &Opts::default());
        if !keep_certificate {
            cfg.platform_certs.clear();
        }
        cfg.platform_public_key_id = Some(id.clone());
        cfg.platform_public_key = Some(public.clone().into());
        let (backend, api, _server) = serve_backend(listener, api, cfg).await;
        assert_eq!(
            backend.wechat.platform_keys.certificate_mode,
            keep_certificate
        );
        let http = wxpay_server::http_client::client(std::time::Duration::from_secs(20));
        // An order with an amount comes from the merchant's server (bearer token).
        let order: serde_json::Value = http
            .post(format!("{api}/api/orders"))
            .bearer_auth(API_TOKEN)
            .json(&json!({"description": "tea", "amount": 5}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let oid = order["order_id"].as_str().unwrap();
        let (status, pay) = post_json(
            &http,
            &format!("{api}/api/orders/{oid}/pay"),
            &json!({"mode": "native"}),
        )
        .await;
        assert_eq!(status, 200, "{pay}");
        post_json(
            &http,
            &format!("{url}/sim/api/pay"),
            &json!({"code_url": pay["code_url"]}),
        )
        .await;
        let (_, got) = get_json(&http, &format!("{api}/api/orders/{oid}?wait=10")).await;
        assert_eq!(
            got["state"], "SUCCESS",
            "keep_certificate={keep_certificate}: {got}"
        );
    }
}

#[test]
fn public_key_settings_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = backend_config(
        "http://127.0.0.1:1",
        "http://127.0.0.1:1",
        dir.path(),
        &Opts::default(),
    );
    cfg.platform_certs.clear();
    let err = |cfg: &wxpay_server::Config| {
        wxpay_server::config::Credentials::load(cfg)
            .err()
            .unwrap()
            .to_string()
    };
    assert!(err(&cfg).contains("platform_public_key_id"));
    cfg.platform_public_key_id = Some("ABC123".into());
    assert!(
        err(&cfg).contains("platform_public_key is not"),
        "{}",
        err(&cfg)
    );
    cfg.platform_public_key = Some(keys().platform.cert_path.clone());
    assert!(
        err(&cfg).contains("must start with PUB_KEY_ID_"),
        "{}",
        err(&cfg)
    );
    cfg.platform_public_key_id = Some(public_key_id(MCHID, 1));
    cfg.platform_public_key = Some(keys().merchant.key_path.clone());
    assert!(err(&cfg).contains("private key"), "{}", err(&cfg));
}
