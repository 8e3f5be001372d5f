//! `wxpay demo`'s assembly: one port with backend, simulator, shop and package; keys made on
//! first run and reused after.

mod common;

use common::{get_json, post_json};
use serde_json::{json, Value};
use std::time::Duration;
use wxpay_server::config::ApiVersion;
use wxpay_server::demo::{prepare, DemoOptions};
use wxpay_server::sim::platform::PlatformKeyMode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_everything_on_one_port_and_pays() {
    let dir = tempfile::tempdir().unwrap();
    let (www, pkg) = (dir.path().join("www"), dir.path().join("pkg"));
    std::fs::create_dir_all(&www).unwrap();
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>shop</title>").unwrap();
    std::fs::write(pkg.join("wxpay_checkout_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let opts = |data: &std::path::Path| DemoOptions {
        port: 0,
        data_dir: data.to_path_buf(),
        www_dir: Some(www.clone()),
        pkg_dir: Some(pkg.clone()),
        api_version: ApiVersion::V3,
        retry_compression: 100.0,
        code_ttl_secs: 7200,
        h5_ttl_secs: 300,
        platform_key_mode: PlatformKeyMode::PublicKey,
        rotate_after_payments: None,
    };
    let data = dir.path().join("data");
    let demo = prepare(opts(&data)).await.unwrap();
    let url = demo.url.clone();
    let merchant_key = std::fs::read(data.join("keys/merchant_key.pem")).unwrap();
    let server = tokio::spawn(demo.serve());
    let http = wxpay_server::http_client::client(Duration::from_secs(20));

    let r = http.get(format!("{url}/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<title>shop</title>"));
    // Issue 9: a symlink inside --www must not serve a file outside it.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "not for the web").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.txt"), www.join("leak.txt")).unwrap();
    std::os::unix::fs::symlink(outside.path(), www.join("out")).unwrap();
    for path in ["/leak.txt", "/out/secret.txt"] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = http
        .get(format!("{url}/pkg/wxpay_checkout_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/wasm");
    let r = http
        .get(format!("{url}/sim/bridge.js"))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("getBrandWCPayRequest"));

    let post = |path: &str, body: Value| {
        let (http, u) = (http.clone(), format!("{url}{path}"));
        async move { post_json(&http, &u, &body).await.1 }
    };
    let order = post(
        "/api/orders",
        json!({"items": [{"sku": "coffee", "quantity": 2}]}),
    )
    .await;
    let id = order["order_id"].as_str().unwrap();
    // H5 in the demo: the return URL on 127.0.0.1 is allowed, and the cashier accepts a Referer
    // from the demo's own origin.
    let back = format!("{url}/?order={id}");
    let pay = post(
        &format!("/api/orders/{id}/pay"),
        json!({"mode": "h5", "return_url": back}),
    )
    .await;
    let h5_url = pay["h5_url"].as_str().unwrap();
    assert!(
        h5_url.starts_with(&format!("{url}/sim/checkmweb?")),
        "{pay}"
    );
    let r = http
        .get(h5_url)
        .header("referer", format!("{url}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let native = post(&format!("/api/orders/{id}/pay"), json!({"mode": "native"})).await;
    post("/sim/api/pay", json!({"code_url": native["code_url"]})).await;
    let (_, got) = get_json(&http, &format!("{url}/api/orders/{id}?wait=10")).await;
    assert_eq!(got["state"], "SUCCESS");
    server.abort();

    // Second run: same keys, same orders.
    let again = prepare(opts(&data)).await.unwrap();
    assert_eq!(
        std::fs::read(data.join("keys/merchant_key.pem")).unwrap(),
        merchant_key
    );
    let url2 = again.url.clone();
    let _server = tokio::spawn(again.serve());
    let (_, got) = get_json(&http, &format!("{url2}/api/orders/{id}")).await;
    assert_eq!(got["state"], "SUCCESS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_demo_refunds_through_its_mutual_tls_secapi_port() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = prepare(DemoOptions {
        port: 0,
        data_dir: data.clone(),
        www_dir: None,
        pkg_dir: None,
        api_version: ApiVersion::V2,
        retry_compression: 100.0,
        code_ttl_secs: 7200,
        h5_ttl_secs: 300,
        platform_key_mode: PlatformKeyMode::PublicKey,
        rotate_after_payments: None,
    })
    .await
    .unwrap();
    let (url, secapi) = (demo.url.clone(), demo.secapi_url.clone());
    assert!(secapi.starts_with("https://127.0.0.1:"), "{secapi}");
    let _server = tokio::spawn(demo.serve());
    let http = wxpay_server::http_client::client(Duration::from_secs(20));
    let token = wxpay_server::demo::demo_api_token(&data).unwrap();

    let (status, order) = post_json(
        &http,
        &format!("{url}/api/orders"),
        &json!({ "items": [{ "sku": "coffee", "quantity": 1 }] }),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["order_id"].as_str().unwrap();
    let (_, pay) = post_json(
        &http,
        &format!("{url}/api/orders/{id}/pay"),
        &json!({ "mode": "native" }),
    )
    .await;
    post_json(
        &http,
        &format!("{url}/sim/api/pay"),
        &json!({ "code_url": pay["code_url"] }),
    )
    .await;
    let (_, paid) = get_json(&http, &format!("{url}/api/orders/{id}?wait=10")).await;
    assert_eq!(paid["state"], "SUCCESS", "{paid}");

    let r = http
        .post(format!("{url}/api/orders/{id}/refunds"))
        .bearer_auth(&token)
        .json(&json!({ "amount": 800 }))
        .send()
        .await
        .unwrap();
    let (status, refund): (u16, Value) = (r.status().as_u16(), r.json().await.unwrap());
    assert_eq!(status, 201, "{refund}");
    let mut o = Value::Null;
    for _ in 0..100 {
        o = get_json(&http, &format!("{url}/api/orders/{id}")).await.1;
        if o["refunded"] == 800 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(o["refunded"], 800, "{o}");
}
