//! `wxpay refund` against a running `wxpay demo`: a paid order is refunded in part; a refund
//! that cannot be is one line on stderr saying why.

use serde_json::{json, Value};
mod demo;

use demo::Demo;
use std::process::Command;
use std::time::Duration;

fn wxpay(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(args)
        .env_remove("WXPAY_API_TOKEN")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[test]
fn refunds_a_paid_demo_order() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path(), &["--retry-compression", "100"]);
    let url = demo.url.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let id = runtime.block_on(async {
        let http = wxpay_server::http_client::client(Duration::from_secs(20));
        let post = |path: String, body: Value| {
            let http = http.clone();
            let url = format!("{url}{path}");
            async move {
                let r = http
                    .post(url)
                    .header("Content-Type", "application/json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap()
            }
        };
        let order = post(
            "/api/orders".into(),
            json!({"items": [{"sku": "coffee", "quantity": 2}]}),
        )
        .await;
        let id = order["order_id"].as_str().unwrap().to_string();
        let pay = post(format!("/api/orders/{id}/pay"), json!({"mode": "native"})).await;
        post("/sim/api/pay".into(), json!({"code_url": pay["code_url"]})).await;
        let r = http
            .get(format!("{url}/api/orders/{id}?wait=10"))
            .send()
            .await
            .unwrap();
        let paid: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
        assert_eq!(paid["state"], "SUCCESS", "{paid}");
        id
    });

    let data = dir.path().to_str().unwrap();
    let (ok, out, err) = wxpay(&[
        "refund",
        &id,
        "--api",
        &url,
        "--demo-data-dir",
        data,
        "--amount",
        "1000",
        "--reason",
        "缺货",
    ]);
    assert!(ok, "{err}");
    let refund: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(refund["amount"], 1000);
    assert!(refund["out_refund_no"].as_str().is_some(), "{refund}");

    let (ok, out, err) = wxpay(&[
        "refund",
        &id,
        "--api",
        &url,
        "--demo-data-dir",
        data,
        "--amount",
        "20000",
    ]);
    assert!(!ok && out.is_empty());
    assert!(
        err.starts_with("wxpay: refund refused (400") && err.contains("invalid_amount"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    let (ok, _, err) = wxpay(&["refund", &id, "--api", &url]);
    assert!(!ok && err.contains("--token"), "{err}");
    let (ok, _, err) = wxpay(&["refund", &id, "--api", &url, "--token", "wrong-token"]);
    assert!(!ok && err.contains("unauthorized"), "{err}");
    drop(demo);
}
