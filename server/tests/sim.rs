//! The simulator on its own, spoken to like WeChat Pay by a hand-signed client: it is strict
//! (signatures, fields, duplicates) and everything it answers is signed.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use wxpay_server::timefmt::unix_now;
use wxpay_sign::keys::{KeySet, MerchantKey, MerchantSigner, PublicKey};
use wxpay_sign::v3;

struct Answer {
    status: u16,
    body: Value,
    /// Whether the Wechatpay-* headers verify against the platform certificate.
    verified: Result<(), String>,
}

async fn call(
    sim_url: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    key_pem: &str,
) -> Answer {
    let k = keys();
    let signer = MerchantSigner::new(
        MCHID,
        k.merchant.serial.clone(),
        MerchantKey::from_pkcs8_pem(key_pem).unwrap(),
    );
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = v3::sign_request(
        &signer,
        method,
        path,
        &body,
        unix_now(),
        &wxpay_sign::nonce::nonce_str(),
    )
    .unwrap();
    let http = wxpay_server::http_client::client(Duration::from_secs(10));
    let method: reqwest::Method = method.parse().unwrap();
    let mut req = http
        .request(method, format!("{sim_url}{path}"))
        .header("Authorization", auth.header);
    if !body.is_empty() {
        req = req.header("Content-Type", "application/json").body(body);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ts, nonce, sig, serial) = (
        h("Wechatpay-Timestamp"),
        h("Wechatpay-Nonce"),
        h("Wechatpay-Signature"),
        h("Wechatpay-Serial"),
    );
    let mut platform = KeySet::new();
    platform.insert(
        k.platform.serial.clone(),
        PublicKey::from_pem(&k.platform.cert_pem).unwrap(),
    );
    let wh = v3::WechatpayHeaders {
        timestamp: &ts,
        nonce: &nonce,
        signature: &sig,
        serial: &serial,
    };
    let verified = v3::verify(&wh, &bytes, unix_now(), &platform)
        .map(|_| ())
        .map_err(|e| e.to_string());
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        verified,
    }
}

fn native_order(no: &str, amount: i64) -> Value {
    json!({
        "appid": APPID, "mchid": MCHID, "description": "Jasmine tea", "out_trade_no": no,
        "notify_url": "https://shop.example/api/wxpay/notify", "amount": { "total": amount, "currency": "CNY" },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_is_strict_and_signs_what_it_answers() {
    let (_sim, url, _server) = start_sim(1000.0).await;
    let merchant = &keys().merchant.key_pem;

    let ok = call(
        &url,
        "POST",
        "/v3/pay/transactions/native",
        Some(native_order("sim_test_0001", 100)),
        merchant,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.verified.is_ok(), "{:?}", ok.verified);
    assert!(ok.body["code_url"]
        .as_str()
        .unwrap()
        .starts_with("weixin://wxpay/bizpayurl?pr="));

    // Signed by a key the merchant never uploaded: WeChat's 401 SIGN_ERROR, unsigned.
    let forged = call(
        &url,
        "POST",
        "/v3/pay/transactions/native",
        Some(native_order("sim_test_0002", 100)),
        &keys().stranger.key_pem,
    )
    .await;
    assert_eq!(
        (forged.status, forged.body["code"].as_str()),
        (401, Some("SIGN_ERROR")),
        "{}",
        forged.body
    );
    assert!(forged.verified.is_err());

    // Field rules, answered as signed PARAM_ERRORs.
    for (body, what) in [
        (native_order("short", 100), "out_trade_no"),
        (native_order("sim_test_0003", 0), "amount.total"),
        (
            {
                let mut b = native_order("sim_test_0004", 1);
                b["description"] = json!("茶".repeat(43));
                b
            },
            "description",
        ),
        (
            {
                let mut b = native_order("sim_test_0005", 1);
                b["notify_url"] = json!("https://shop.example/n?x=1");
                b
            },
            "notify_url",
        ),
        (
            {
                let mut b = native_order("sim_test_0006", 1);
                b["appid"] = json!("wx0000000000000000");
                b
            },
            "appid",
        ),
    ] {
        let a = call(
            &url,
            "POST",
            "/v3/pay/transactions/native",
            Some(body),
            merchant,
        )
        .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (400, Some("PARAM_ERROR")),
            "{what}: {}",
            a.body
        );
        assert!(
            a.body["message"].as_str().unwrap().contains(what),
            "{}",
            a.body
        );
        assert!(a.verified.is_ok());
    }
    // JSAPI needs a payer of this appid.
    let mut jsapi = native_order("sim_test_0007", 1);
    jsapi["payer"] = json!({ "openid": "oNotAUserOfThisApp" });
    let a = call(
        &url,
        "POST",
        "/v3/pay/transactions/jsapi",
        Some(jsapi),
        merchant,
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);

    // The same out_trade_no: same parameters give the same code_url, others are refused.
    let again = call(
        &url,
        "POST",
        "/v3/pay/transactions/native",
        Some(native_order("sim_test_0001", 100)),
        merchant,
    )
    .await;
    assert_eq!(again.body["code_url"], ok.body["code_url"]);
    let dup = call(
        &url,
        "POST",
        "/v3/pay/transactions/native",
        Some(native_order("sim_test_0001", 101)),
        merchant,
    )
    .await;
    assert_eq!(
        (dup.status, dup.body["code"].as_str()),
        (400, Some("INVALID_REQUEST"))
    );

    // Query and close.
    let path = format!("/v3/pay/transactions/out-trade-no/sim_test_0001?mchid={MCHID}");
    let q = call(&url, "GET", &path, None, merchant).await;
    assert_eq!(
        (q.status, q.body["trade_state"].as_str()),
        (200, Some("NOTPAY")),
        "{}",
        q.body
    );
    let closed = call(
        &url,
        "POST",
        "/v3/pay/transactions/out-trade-no/sim_test_0001/close",
        Some(json!({ "mchid": MCHID })),
        merchant,
    )
    .await;
    assert_eq!(closed.status, 204);
    assert!(closed.verified.is_ok());
    let q = call(&url, "GET", &path, None, merchant).await;
    assert_eq!(q.body["trade_state"], "CLOSED");
    let missing = call(
        &url,
        "GET",
        &format!("/v3/pay/transactions/out-trade-no/nope_000001?mchid={MCHID}"),
        None,
        merchant,
    )
    .await;
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("ORDER_NOT_EXIST"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_certificates_download_decrypts_to_the_platform_certificate() {
    let (_sim, url, _server) = start_sim(1000.0).await;
    let a = call(
        &url,
        "GET",
        "/v3/certificates",
        None,
        &keys().merchant.key_pem,
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.verified.is_ok());
    let cert = &a.body["data"][0];
    assert_eq!(cert["serial_no"], keys().platform.serial.as_str());
    let e = &cert["encrypt_certificate"];
    let pem = v3::decrypt_resource(
        APIV3_KEY.as_bytes(),
        e["nonce"].as_str().unwrap(),
        e["associated_data"].as_str().unwrap(),
        e["ciphertext"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(String::from_utf8(pem).unwrap(), keys().platform.cert_pem);
}
