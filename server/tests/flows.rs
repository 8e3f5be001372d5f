//! Every pay mode, in v3 and v2, from order to SUCCESS through the simulator over real HTTP.

mod common;

use common::*;
use serde_json::{json, Value};
use wxpay_server::config::ApiVersion;

async fn env(v: ApiVersion) -> Env {
    start(Opts {
        api_version: v,
        ..Opts::default()
    })
    .await
}

/// The order ends SUCCESS with WeChat's transaction id, and exactly one transition got it there.
async fn assert_paid(e: &Env, order: &Value, source: &str) {
    let id = order["order_id"].as_str().unwrap();
    let got = e.wait_change(id, 10).await;
    assert_eq!(got["state"], "SUCCESS", "{got}");
    assert_eq!(got["amount"], order["amount"]);
    let tx = got["transaction_id"].as_str().unwrap();
    assert!(tx.starts_with("4200") && tx.len() == 28, "{tx}");
    assert!(got["paid_at"].as_str().unwrap().ends_with('Z'));
    let events = e.events(id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].source, source);
}

async fn native(v: ApiVersion) {
    let e = env(v).await;
    let order = e.create_order(1999).await;
    let id = order["order_id"].as_str().unwrap();
    let (status, pay) = e.pay(id, json!({ "mode": "native" })).await;
    assert_eq!(status, 200, "{pay}");
    let code_url = pay["code_url"].as_str().unwrap();
    assert!(
        code_url.starts_with("weixin://wxpay/bizpayurl?pr="),
        "{code_url}"
    );
    assert_eq!(pay["mode"], "native");
    assert!(pay["expires_at"].as_str().unwrap().ends_with('Z'));
    // A still-valid code_url is reused, not ordered twice.
    let (_, again) = e.pay(id, json!({ "mode": "native" })).await;
    assert_eq!(again["code_url"], pay["code_url"]);
    // The phone page behind the QR shows the order.
    let page = e
        .http
        .get(format!(
            "{}/sim/scan?code_url={}",
            e.sim_url,
            urlenc(code_url)
        ))
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("¥19.99"));
    assert_eq!(
        e.get(&format!("/api/orders/{id}")).await.1["state"],
        "NOTPAY"
    );
    let (status, paid) = e.sim_pay(json!({ "code_url": code_url })).await;
    assert_eq!(
        (status, paid["trade_state"].as_str()),
        (200, Some("SUCCESS")),
        "{paid}"
    );
    assert_paid(&e, &order, &format!("notify-{}", v.as_str())).await;
    // Paid orders cannot be paid again.
    let (status, err) = e.pay(id, json!({ "mode": "native" })).await;
    assert_eq!((status, err["error"].as_str()), (409, Some("already_paid")));
}

fn urlenc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// JSAPI: openid_required → OAuth at the simulator → code → signed params → bridge pays.
async fn jsapi(v: ApiVersion) {
    let e = env(v).await;
    let order = e.create_order(800).await;
    let id = order["order_id"].as_str().unwrap();
    let return_url = format!("https://shop.example/checkout?order={id}");
    let (status, need) = e
        .pay(id, json!({ "mode": "jsapi", "return_url": return_url }))
        .await;
    assert_eq!(
        (status, need["error"].as_str()),
        (409, Some("openid_required")),
        "{need}"
    );
    // Without return_url, the page's Referer (on an allowed host) is where WeChat comes back to.
    let r = e
        .http
        .post(format!("{}/api/orders/{id}/pay", e.api))
        .header("Referer", "https://shop.example/checkout")
        .json(&json!({ "mode": "jsapi" }))
        .send()
        .await
        .unwrap();
    let by_referer: Value = r.json().await.unwrap();
    assert!(by_referer["authorize_url"]
        .as_str()
        .unwrap()
        .contains("redirect_uri=https%3A%2F%2Fshop.example%2Fcheckout"));
    let authorize = need["authorize_url"].as_str().unwrap();
    assert!(
        authorize.starts_with(&format!(
            "{}/connect/oauth2/authorize?appid={APPID}&redirect_uri=https%3A%2F%2Fshop.example",
            e.sim_url
        )),
        "{authorize}"
    );
    assert!(authorize.contains("scope=snsapi_base") && authorize.ends_with("#wechat_redirect"));
    let r = e.http.get(authorize).send().await.unwrap();
    assert_eq!(r.status(), 302);
    let back = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(back.host_str(), Some("shop.example"));
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(q["state"], id);
    assert_eq!(q["order"], id, "the page's own query survives");
    let (status, pay) = e
        .pay(id, json!({ "mode": "jsapi", "code": q["code"] }))
        .await;
    assert_eq!(status, 200, "{pay}");
    let params = &pay["jsapi"];
    assert_eq!(params["appId"], APPID);
    assert!(params["package"]
        .as_str()
        .unwrap()
        .starts_with("prepay_id=wx"));
    assert_eq!(
        params["signType"],
        if v == ApiVersion::V3 {
            "RSA"
        } else {
            "HMAC-SHA256"
        }
    );
    // The code is single-use, like WeChat's.
    let (status, err) = e
        .pay(id, json!({ "mode": "jsapi", "code": q["code"] }))
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_code")),
        "{err}"
    );
    // A tampered paySign is refused by the bridge; the real one pays.
    let mut forged = params.clone();
    forged["nonceStr"] = json!("0000000000000000000000000000000X");
    forged["pageUrl"] = json!("https://shop.example/pay/");
    let (_, r) = e
        .post(&format!("{}/sim/api/bridge", e.sim_url), forged)
        .await;
    assert_eq!(r["err_msg"], "get_brand_wcpay_request:fail", "{r}");
    let mut body = params.clone();
    body["action"] = json!("pay");
    // From a page outside the registered JSAPI directories WeChat refuses the pay sheet.
    body["pageUrl"] = json!("https://shop.example/checkout/pay.html");
    let (_, r) = e
        .post(&format!("{}/sim/api/bridge", e.sim_url), body.clone())
        .await;
    assert_eq!(
        (r["err_msg"].as_str(), r["err_desc"].as_str()),
        (
            Some("get_brand_wcpay_request:fail"),
            Some("当前页面的URL未注册：https://shop.example/checkout/")
        ),
        "{r}"
    );
    body["pageUrl"] = json!("https://shop.example/pay/?order=1");
    let (_, r) = e.post(&format!("{}/sim/api/bridge", e.sim_url), body).await;
    assert_eq!(r["err_msg"], "get_brand_wcpay_request:ok", "{r}");
    assert_paid(&e, &order, &format!("notify-{}", v.as_str())).await;
}

async fn h5(v: ApiVersion) {
    let e = env(v).await;
    let order = e.create_order(100).await;
    let id = order["order_id"].as_str().unwrap();
    let (status, err) = e
        .pay(
            id,
            json!({ "mode": "h5", "return_url": "https://evil.example/x" }),
        )
        .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("redirect_host_not_allowed")),
        "{err}"
    );
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("h5_redirect_hosts"));
    let return_url = "https://shop.example/pay/return?order=1&h5=back";
    let (status, pay) = e
        .pay(id, json!({ "mode": "h5", "return_url": return_url }))
        .await;
    assert_eq!(status, 200, "{pay}");
    let h5_url = pay["h5_url"].as_str().unwrap();
    assert!(
        h5_url.ends_with(&format!("&redirect_url={}", urlenc(return_url))),
        "{h5_url}"
    );
    assert!(h5_url.starts_with(&format!("{}/sim/checkmweb?prepay_id=wx", e.sim_url)));
    // Without a Referer from the H5 domain, WeChat's cashier refuses.
    let r = e.http.get(h5_url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("商家存在未配置的参数"));
    let r = e
        .http
        .get(h5_url)
        .header("referer", "https://shop.example/checkout")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let prepay_id = url::Url::parse(h5_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "prepay_id")
        .unwrap()
        .1
        .into_owned();
    let r = e
        .http
        .post(format!("{}/sim/checkmweb", e.sim_url))
        .form(&[
            ("prepay_id", prepay_id.as_str()),
            ("redirect_url", return_url),
            ("action", "pay"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], return_url);
    assert_paid(&e, &order, &format!("notify-{}", v.as_str())).await;
}

async fn miniprogram(v: ApiVersion) {
    let e = env(v).await;
    let order = e.create_order(4200).await;
    let id = order["order_id"].as_str().unwrap();
    let (status, err) = e.pay(id, json!({ "mode": "miniprogram" })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (409, Some("openid_required"))
    );
    let code = miniprogram_login(&e).await;
    let (status, pay) = e
        .pay(id, json!({ "mode": "miniprogram", "code": code }))
        .await;
    assert_eq!(status, 200, "{pay}");
    assert_eq!(pay["jsapi"]["appId"], MP_APPID);
    // wx.requestPayment: the five, with the mini-program's appid (implicit in WeChat).
    let request_payment = format!("{}/sim/api/requestPayment", e.sim_url);
    let mut params = pay["jsapi"].clone();
    params["appId"] = json!(MP_APPID);
    let refused = [
        ("nonceStr", json!("0000000000000000000000000000000X"), "requestPayment:fail 支付验证签名失败"),
        ("appId", json!(APPID), "requestPayment:fail appId 与下单时不一致"),
        ("paySign", Value::Null, "requestPayment:fail parameter error: parameter.paySign should be String instead of Undefined;"),
    ];
    for (field, value, err_msg) in refused {
        let mut forged = params.clone();
        forged[field] = value;
        let (_, r) = e.post(&request_payment, forged).await;
        assert_eq!(r["errMsg"], err_msg, "{field}: {r}");
    }
    let mut cancel = params.clone();
    cancel["action"] = json!("cancel");
    let (_, r) = e.post(&request_payment, cancel).await;
    assert_eq!(r["errMsg"], "requestPayment:fail cancel", "{r}");
    let (_, r) = e.post(&request_payment, params).await;
    assert_eq!(r["errMsg"], "requestPayment:ok", "{r}");
    assert_paid(&e, &order, &format!("notify-{}", v.as_str())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_v3() {
    native(ApiVersion::V3).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_v2() {
    native(ApiVersion::V2).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsapi_v3() {
    jsapi(ApiVersion::V3).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsapi_v2() {
    jsapi(ApiVersion::V2).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h5_v3() {
    h5(ApiVersion::V3).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h5_v2() {
    h5(ApiVersion::V2).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miniprogram_v3() {
    miniprogram(ApiVersion::V3).await
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn miniprogram_v2() {
    miniprogram(ApiVersion::V2).await
}
