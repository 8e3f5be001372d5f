//! APIv2 refunds end to end through the simulator: `secapi/pay/refund` over mutual TLS with the
//! merchant's API client certificate (a TEST PKI), partial refunds settled by the `req_info`
//! notification, over-refund refused by WeChat, duplicate notifications applied once, refund
//! queries for the reconciler, and the simulator refusing a client without the certificate.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use wxpay_server::config::ApiVersion;
use wxpay_server::order::PayMode;
use wxpay_server::sim::Fault;
use wxpay_server::timefmt::unix_now;

fn v2() -> Opts {
    Opts {
        api_version: ApiVersion::V2,
        ..Opts::default()
    }
}

/// The audit verdicts of an out_trade_no once there are `n` (the payment's and each refund's
/// notification; a row is written just after the change it records).
async fn verdicts_of(e: &Env, out_trade_no: &str, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let v = e.verdicts(out_trade_no).await;
        if v.len() >= n {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    e.verdicts(out_trade_no).await
}

/// POSTs a v2 refund notification body to the backend: (status, return_code).
async fn notify(e: &Env, body: String) -> (u16, String) {
    let r = e
        .http
        .post(format!("{}/api/wxpay/notify/v2/refund", e.api))
        .header("Content-Type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.bytes().await.unwrap();
    let p = wxpay_sign::v2::parse_xml(&text).unwrap();
    (status, p.get("return_code").cloned().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_partial_refunds_settle_by_req_info_notification_and_over_refund_is_refused() {
    let e = start(v2()).await;
    let (id, paid) = paid_order(&e, 1000).await;
    let (status, r) = refund(&e, &id, json!({ "amount": 300, "reason": "缺货" })).await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (r["amount"].as_i64(), r["status"].as_str()),
        (Some(300), Some("PROCESSING"))
    );
    let no = r["out_refund_no"].as_str().unwrap().to_string();
    assert!(r["refund_id"].as_str().is_some(), "{r}");

    let o = order_until(&e, &id, |o| o["refunds"][0]["status"] == "SUCCESS").await;
    assert_eq!(
        (o["state"].as_str(), o["refunded"].as_i64()),
        (Some("REFUND"), Some(300)),
        "{o}"
    );
    assert!(o["refunds"][0]["success_time"].as_str().is_some(), "{o}");
    let out_trade_no = paid["out_trade_no"].as_str().unwrap();
    assert_eq!(
        verdicts_of(&e, out_trade_no, 2).await,
        ["applied", "applied"]
    );
    // What the reconciler asks: refundquery, with the v2 key.
    let q = e
        .backend
        .wechat
        .query_refund(&no, "v2", PayMode::Native)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (q.status.as_str(), q.amount),
        ("SUCCESS", Some(300)),
        "{q:?}"
    );
    assert_eq!(
        e.backend
            .wechat
            .query_refund("RF-nobody", "v2", PayMode::Native)
            .await
            .unwrap(),
        None
    );

    // The same out_refund_no again is the same refund.
    let (status, again) = refund(&e, &id, json!({ "amount": 300, "out_refund_no": no })).await;
    assert_eq!((status, again["status"].as_str()), (201, Some("SUCCESS")));
    // Over-refund: refused here, and by WeChat (NOTENOUGH) for a merchant whose records disagree.
    let (status, err) = refund(&e, &id, json!({ "amount": 701 })).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (409, Some("refund_exceeds_payment"))
    );
    let over = refund_of(&id, &paid, "RF-over-v2", 701, "v2");
    let err = e
        .backend
        .wechat
        .refund(&over, PayMode::Native)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("NOTENOUGH"), "{err}");
    // The same key with another amount: WeChat refuses it too.
    let reused = wxpay_server::store::NewRefund {
        out_refund_no: no.clone(),
        amount: 200,
        ..over
    };
    let err = e
        .backend
        .wechat
        .refund(&reused, PayMode::Native)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("REFUND_FEE_MISMATCH"), "{err}");

    let (status, rest) = refund(&e, &id, json!({})).await;
    assert_eq!(
        (status, rest["amount"].as_i64()),
        (201, Some(700)),
        "{rest}"
    );
    let o = order_until(&e, &id, |o| o["refunded"] == 1000).await;
    assert_eq!(o["refunded"], 1000, "{o}");
    let refunds = e.events(&id).await;
    assert_eq!(
        refunds
            .iter()
            .filter(|ev| ev.to.as_str() == "REFUND")
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_v2_refund_notification_is_applied_once_and_a_forged_one_not_at_all() {
    let e = start(v2()).await;
    let (id, paid) = paid_order(&e, 800).await;
    let (status, r) = refund(&e, &id, json!({ "amount": 800 })).await;
    assert_eq!(status, 201, "{r}");
    let no = r["out_refund_no"].as_str().unwrap().to_string();
    order_until(&e, &id, |o| o["refunds"][0]["status"] == "SUCCESS").await;
    let out_trade_no = paid["out_trade_no"].as_str().unwrap();
    let applied = verdicts_of(&e, out_trade_no, 2).await;
    assert_eq!(applied, ["applied", "applied"]);

    // WeChat sends it again (it retries whenever it did not see SUCCESS): acknowledged, no change.
    let done = e.sim.refund(&no).unwrap();
    let body = wxpay_server::sim::refund_v2::notification_body(V2_KEY, APPID, MCHID, &done);
    for _ in 0..2 {
        assert_eq!(notify(&e, body.clone()).await, (200, "SUCCESS".into()));
    }
    let verdicts = e.verdicts(out_trade_no).await;
    assert_eq!(verdicts.len(), applied.len() + 2, "{verdicts:?}");
    assert!(
        verdicts.ends_with(&["duplicate".into(), "duplicate".into()]),
        "{verdicts:?}"
    );
    let (_, o) = e.get(&format!("/api/orders/{id}")).await;
    assert_eq!(
        (
            o["refunded"].as_i64(),
            o["refunds"].as_array().unwrap().len()
        ),
        (Some(800), 1)
    );
    assert_eq!(
        e.events(&id)
            .await
            .iter()
            .filter(|ev| ev.to.as_str() == "REFUND")
            .count(),
        1
    );

    // Encrypted with another key: not WeChat's; refused, nothing kept under the order.
    let forged = wxpay_server::sim::refund_v2::notification_body(
        "NotTheV2Key0123456789abcdefghijk",
        APPID,
        MCHID,
        &done,
    );
    let (status, code) = notify(&e, forged).await;
    assert_eq!((status, code.as_str()), (401, "FAIL"));
    // A refund we never made: refused (WeChat retries; the merchant's log shows why).
    let stranger = wxpay_server::sim::refund::SimRefund {
        out_refund_no: "RF-not-ours".into(),
        ..done
    };
    let body = wxpay_server::sim::refund_v2::notification_body(V2_KEY, APPID, MCHID, &stranger);
    assert_eq!(notify(&e, body).await, (404, "FAIL".into()));
    assert_eq!(e.verdicts(out_trade_no).await.len(), applied.len() + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_refund_whose_answer_was_lost_is_finished_by_the_reconciler_after_a_restart() {
    // No background queries here: the one injected fault must meet the refund call.
    let e = start(v2()).await;
    let (id, _) = paid_order(&e, 500).await;
    e.sim.inject_fault(Fault::Status(503), 1);
    let (status, err) = refund(&e, &id, json!({ "amount": 500 })).await;
    assert_eq!(status, 502, "{err}");
    let no = err["out_refund_no"].as_str().unwrap().to_string();
    assert!(e.sim.refund(&no).is_none(), "WeChat never got it");
    // A new backend process on the same database finds it PENDING.
    let (backend, _, _server) = start_backend(
        &e.sim_url,
        &Opts {
            query_after_secs: 0,
            secapi_url: Some(e.secapi_url.clone()),
            ..v2()
        },
        &e.data_dir,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // refundquery says REFUNDNOTEXIST: the PENDING refund is sent again under the same key.
    backend.reconcile_refunds().await;
    assert!(e.sim.refund(&no).is_some());
    let o = order_until(&e, &id, |o| o["refunded"] == 500).await;
    assert_eq!(
        (o["state"].as_str(), o["refunds"].as_array().map(Vec::len)),
        (Some("REFUND"), Some(1)),
        "{o}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secapi_refuses_a_client_without_the_merchant_api_certificate() {
    let e = start(v2()).await;
    let (id, paid) = paid_order(&e, 300).await;
    let k = keys();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&k.tls.ca_cert).unwrap()).unwrap();
    let identity = |tls: &wxpay_server::devkeys::TestTls| {
        let mut pem = std::fs::read(&tls.client_cert).unwrap();
        pem.extend(std::fs::read(&tls.client_key).unwrap());
        reqwest::Identity::from_pem(&pem).unwrap()
    };
    let client = |id: Option<reqwest::Identity>| {
        let mut b = reqwest::Client::builder()
            .tls_certs_only([ca.clone()])
            .timeout(Duration::from_secs(5));
        if let Some(id) = id {
            b = b.identity(id);
        }
        b.build().unwrap()
    };
    let body = || {
        let mut p = wxpay_sign::v2::Params::new();
        for (k, v) in [
            ("appid", APPID),
            ("mch_id", MCHID),
            ("nonce_str", "n0nce"),
            ("out_refund_no", "RF-mtls-1"),
            ("total_fee", "300"),
            ("refund_fee", "100"),
            ("sign_type", "HMAC-SHA256"),
        ] {
            p.insert(k.into(), v.into());
        }
        p.insert(
            "transaction_id".into(),
            paid["transaction_id"].as_str().unwrap().into(),
        );
        let sign = wxpay_sign::v2::sign(&p, V2_KEY, wxpay_sign::v2::SignType::HmacSha256);
        p.insert("sign".into(), sign);
        wxpay_sign::v2::to_xml(&p)
    };
    let url = format!("{}/secapi/pay/refund", e.secapi_url);
    // No certificate, or one from a CA WeChat does not trust: the TLS handshake fails.
    for id in [None, Some(identity(&k.stranger_tls))] {
        let sent = client(id).post(&url).body(body()).send().await;
        let failed = match sent {
            Err(_) => true,
            Ok(r) => r.bytes().await.is_err(),
        };
        assert!(
            failed,
            "a refund got through without the merchant's certificate"
        );
    }
    assert!(e.sim.refund("RF-mtls-1").is_none());
    // The merchant's certificate: accepted.
    let r = client(Some(identity(&k.tls)))
        .post(&url)
        .body(body())
        .send()
        .await
        .unwrap();
    let a = wxpay_sign::v2::parse_xml(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        a.get("result_code").map(String::as_str),
        Some("SUCCESS"),
        "{a:?}"
    );
    assert!(e.sim.refund("RF-mtls-1").is_some());
    // The backend without a client certificate says what to configure, and asks nobody.
    let dir = tempfile::tempdir().unwrap();
    let (listener, api) = bind().await;
    let mut cfg = backend_config(
        &api,
        &e.sim_url,
        dir.path(),
        &Opts {
            secapi_url: Some(e.secapi_url.clone()),
            ..v2()
        },
    );
    cfg.apiclient_cert_file = None;
    cfg.apiclient_key_file = None;
    let (backend, _, _server) = serve_backend(listener, api, cfg).await;
    let _ = id;
    let err = backend
        .wechat
        .refund(
            &refund_of("o", &paid, "RF-mtls-2", 100, "v2"),
            PayMode::Native,
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("apiclient_cert_file"), "{err}");
    assert!(e.sim.refund("RF-mtls-2").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miniprogram_order_is_refunded_queried_and_closed_under_the_miniprogram_appid() {
    let e = start(Opts {
        query_after_secs: 0,
        ..v2()
    })
    .await;
    assert_ne!(APPID, MP_APPID);
    let (id, paid) = paid_in_miniprogram(&e, 900).await;
    let out_trade_no = paid["out_trade_no"].as_str().unwrap().to_string();
    assert_eq!(
        e.sim.order(&out_trade_no).unwrap().params.appid,
        MP_APPID,
        "ordered under the mini-program's appid"
    );

    // WeChat refuses the official account's appid for it, as it does.
    let under_appid = refund_of(&id, &paid, "RF-mp-wrong-appid", 100, "v2");
    let err = e
        .backend
        .wechat
        .refund(&under_appid, PayMode::Jsapi)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ERROR") && err.contains("您的请求参数与订单信息不一致"),
        "{err}"
    );
    assert!(e.sim.refund("RF-mp-wrong-appid").is_none());
    let attempt = e
        .backend
        .store
        .prepay_by_out_trade_no(out_trade_no.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempt.mode, PayMode::Miniprogram);
    let as_jsapi = wxpay_server::store::Prepay {
        mode: PayMode::Jsapi,
        ..attempt.clone()
    };
    let err = e.backend.wechat.query(&as_jsapi).await.unwrap_err();
    assert!(err.to_string().contains("ORDERNOTEXIST"), "{err}");

    // The backend names the mini-program's appid: refunded, and settled by the notification.
    let (status, r) = refund(&e, &id, json!({ "amount": 400 })).await;
    assert_eq!(status, 201, "{r}");
    let no = r["out_refund_no"].as_str().unwrap().to_string();
    let o = order_until(&e, &id, |o| o["refunds"][0]["status"] == "SUCCESS").await;
    assert_eq!(
        (o["state"].as_str(), o["refunded"].as_i64()),
        (Some("REFUND"), Some(400)),
        "{o}"
    );
    // The payment's notification may meet a payment a page-triggered query recorded first
    // (query_after_secs is 0 here): applied or duplicate; the refund's is applied.
    let verdicts = verdicts_of(&e, &out_trade_no, 2).await;
    assert_eq!(verdicts.len(), 2, "{verdicts:?}");
    assert!(
        matches!(verdicts[0].as_str(), "applied" | "duplicate"),
        "{verdicts:?}"
    );
    assert_eq!(verdicts[1], "applied", "{verdicts:?}");
    // refundquery and orderquery under the mini-program's appid find them; under the official
    // account's they do not.
    let q = e
        .backend
        .wechat
        .query_refund(&no, "v2", PayMode::Miniprogram)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((q.status.as_str(), q.amount), ("SUCCESS", Some(400)));
    assert_eq!(
        e.backend
            .wechat
            .query_refund(&no, "v2", PayMode::Jsapi)
            .await
            .unwrap(),
        None
    );
    let stored = e.backend.store.order(id.clone()).await.unwrap().unwrap();
    e.backend.query_wechat(&stored, unix_now()).await.unwrap();
    // The rest through the reconciler's path: the whole remainder, settled.
    let (status, rest) = refund(&e, &id, json!({})).await;
    assert_eq!(
        (status, rest["amount"].as_i64()),
        (201, Some(500)),
        "{rest}"
    );
    let o = order_until(&e, &id, |o| o["refunded"] == 900).await;
    assert_eq!(o["refunded"], 900, "{o}");
    e.backend.reconcile_refunds().await;

    // closeorder too: refused under the official account's appid, answered under the
    // mini-program's (a paid order cannot be closed: ORDERPAID, not ORDERNOTEXIST).
    let err = e.backend.wechat.close(&as_jsapi).await.unwrap_err();
    assert!(err.to_string().contains("ORDERNOTEXIST"), "{err}");
    let err = e.backend.wechat.close(&attempt).await.unwrap_err();
    assert!(err.to_string().contains("ORDERPAID"), "{err}");
}
