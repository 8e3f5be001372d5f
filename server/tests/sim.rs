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
    headers: reqwest::header::HeaderMap,
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
    call_as(sim_url, method, path, body, key_pem, &k.merchant.serial).await
}

/// [`call`] with `serial_no` as given in `Authorization`.
async fn call_as(
    sim_url: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    key_pem: &str,
    serial_no: &str,
) -> Answer {
    let k = keys();
    let signer = MerchantSigner::new(
        MCHID,
        serial_no,
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
        headers,
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
        assert_signed_like_wechat(&a, what);
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
    assert_signed_like_wechat(&closed, "close");
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
    // Errors to an authenticated caller are signed too, and shaped {code, message}.
    assert_signed_like_wechat(&missing, "404");
    assert_eq!(keys_of(&missing.body), ["code", "message"]);
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

/// The keys of a JSON object, sorted.
fn keys_of(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn header<'a>(a: &'a Answer, name: &str) -> &'a str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// All five `Wechatpay-*` headers (signature verified), `Request-ID` and WeChat's content type.
fn assert_signed_like_wechat(a: &Answer, what: &str) {
    assert!(a.verified.is_ok(), "{what}: {:?}", a.verified);
    assert_eq!(
        header(a, "Wechatpay-Signature-Type"),
        "WECHATPAY2-SHA256-RSA2048",
        "{what}"
    );
    assert_eq!(
        header(a, "Wechatpay-Serial"),
        keys().platform.serial,
        "{what}"
    );
    assert!(!header(a, "Request-ID").is_empty(), "{what}");
    if a.status != 204 {
        assert_eq!(
            header(a, "Content-Type"),
            "application/json; charset=utf-8",
            "{what}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_have_wechats_headers_and_shapes_field_for_field() {
    let (sim, url, _server) = start_sim(1000.0).await;
    let merchant = &keys().merchant.key_pem;

    let placed = call(
        &url,
        "POST",
        "/v3/pay/transactions/native",
        Some(native_order("shape_0001", 100)),
        merchant,
    )
    .await;
    assert_signed_like_wechat(&placed, "native order");
    assert_eq!(keys_of(&placed.body), ["code_url"]);

    // Unpaid: WeChat's NOTPAY shape, no trade_type / attach / payer / transaction_id yet.
    let path = format!("/v3/pay/transactions/out-trade-no/shape_0001?mchid={MCHID}");
    let q = call(&url, "GET", &path, None, merchant).await;
    assert_signed_like_wechat(&q, "query NOTPAY");
    assert_eq!(
        q.body,
        json!({
            "amount": { "payer_currency": "CNY", "total": 100 },
            "appid": APPID, "mchid": MCHID, "out_trade_no": "shape_0001",
            "promotion_detail": [], "trade_state": "NOTPAY", "trade_state_desc": "订单未支付",
        })
    );

    // Paid: the full transaction.
    let mut order = native_order("shape_0002", 100);
    order["attach"] = json!("table 7");
    let placed = call(
        &url,
        "POST",
        "/v3/pay/transactions/native",
        Some(order),
        merchant,
    )
    .await;
    let pay = wxpay_server::http_client::client(Duration::from_secs(10))
        .post(format!("{url}/sim/api/pay"))
        .json(&json!({ "code_url": placed.body["code_url"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(pay.status(), 200);
    let path = format!("/v3/pay/transactions/out-trade-no/shape_0002?mchid={MCHID}");
    let q = call(&url, "GET", &path, None, merchant).await;
    assert_signed_like_wechat(&q, "query SUCCESS");
    assert_eq!(
        keys_of(&q.body),
        [
            "amount",
            "appid",
            "attach",
            "bank_type",
            "mchid",
            "out_trade_no",
            "payer",
            "promotion_detail",
            "success_time",
            "trade_state",
            "trade_state_desc",
            "trade_type",
            "transaction_id"
        ]
    );
    assert_eq!(
        keys_of(&q.body["amount"]),
        ["currency", "payer_currency", "payer_total", "total"]
    );
    assert_eq!(
        (
            q.body["attach"].as_str(),
            q.body["trade_type"].as_str(),
            q.body["trade_state_desc"].as_str()
        ),
        (Some("table 7"), Some("NATIVE"), Some("支付成功"))
    );
    assert_eq!(
        sim.order("shape_0002").unwrap().transaction_id.as_deref(),
        q.body["transaction_id"].as_str()
    );

    // Closed: 204 signed (empty body), then WeChat's CLOSED shape.
    let close_path = "/v3/pay/transactions/out-trade-no/shape_0001/close";
    let closed = call(
        &url,
        "POST",
        close_path,
        Some(json!({ "mchid": MCHID })),
        merchant,
    )
    .await;
    assert_eq!(closed.status, 204);
    assert_signed_like_wechat(&closed, "close");
    let path = format!("/v3/pay/transactions/out-trade-no/shape_0001?mchid={MCHID}");
    let q = call(&url, "GET", &path, None, merchant).await;
    assert_eq!(
        keys_of(&q.body),
        [
            "amount",
            "appid",
            "mchid",
            "out_trade_no",
            "payer",
            "promotion_detail",
            "trade_state",
            "trade_state_desc"
        ]
    );
    assert_eq!(q.body["trade_state_desc"], "订单已关闭");

    // WeChat names certificates in upper-case hex and accepts a lower-case serial_no.
    let lower = keys().merchant.serial.to_ascii_lowercase();
    let q = call_as(&url, "GET", &path, None, merchant, &lower).await;
    assert_eq!(q.status, 200, "{}", q.body);
}

/// `notBefore=Dec  1 10:41:00 2026 GMT` as openssl prints it → unix seconds.
fn openssl_date(line: &str) -> i64 {
    let text = line.split_once('=').unwrap().1.trim();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let format = time::macros::format_description!(
        "[month repr:short] [day padding:none] [hour]:[minute]:[second] [year] GMT"
    );
    time::PrimitiveDateTime::parse(&text, format)
        .unwrap()
        .assume_utc()
        .unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_carry_the_certificates_own_validity() {
    let (_sim, url, _server) = start_sim(1000.0).await;
    let a = call(
        &url,
        "GET",
        "/v3/certificates",
        None,
        &keys().merchant.key_pem,
    )
    .await;
    assert_eq!(
        header(&a, "Wechatpay-Signature-Type"),
        "WECHATPAY2-SHA256-RSA2048"
    );
    // Read independently of the simulator's parser: ask openssl.
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-startdate", "-enddate", "-in"])
        .arg(&keys().platform.cert_path)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let (start, end) = (
        openssl_date(lines.next().unwrap()),
        openssl_date(lines.next().unwrap()),
    );
    let cert = &a.body["data"][0];
    let at = |k: &str| wxpay_server::timefmt::parse_rfc3339(cert[k].as_str().unwrap()).unwrap();
    assert_eq!(
        (at("effective_time"), at("expire_time")),
        (start, end),
        "{cert}"
    );
    assert!(cert["effective_time"].as_str().unwrap().ends_with("+08:00"));
}
