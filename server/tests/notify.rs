//! Notifications that must not change anything (tampered, replayed, unknown serial, SIGNTEST
//! probe, wrong amount, not ours) and 100 concurrent duplicates that must change it once.

mod common;

use common::v3notify::*;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use wxpay_server::config::ApiVersion;
use wxpay_server::timefmt::unix_now;
use wxpay_sign::v2;

/// An order with a native prepay (so WeChat could notify about it): (order_id, out_trade_no).
async fn ordered(e: &Env, amount: i64) -> (String, String) {
    let order = e.create_order(amount).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (status, pay) = e.pay(&id, json!({ "mode": "native" })).await;
    assert_eq!(status, 200, "{pay}");
    (id, pay["out_trade_no"].as_str().unwrap().to_string())
}

async fn send(e: &Env, s: &Signed) -> (u16, Value) {
    send_to(&e.http, &e.api, s).await
}

async fn state(e: &Env, id: &str) -> String {
    e.get(&format!("/api/orders/{id}")).await.1["state"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v3_forgeries_change_nothing_and_are_kept_for_audit() {
    let e = start(Opts::default()).await;
    let (id, no) = ordered(&e, 1000).await;
    let good = envelope(&payment(&no, 1000));

    // Tampered: signed, then one byte of the body changed.
    let mut tampered = by_platform(good.clone());
    let pos = tampered.body.iter().position(|&b| b == b'E').unwrap();
    tampered.body[pos] = b'F';
    // Replayed: a genuine signature, but more than 300 s old.
    let replayed = sign_with(
        good.clone(),
        &keys().platform.key_pem,
        &keys().platform.serial,
        unix_now() - 301,
    );
    // Unknown serial: signed by a key WeChat never issued.
    let stranger = sign_with(
        good.clone(),
        &keys().stranger.key_pem,
        &keys().stranger.serial,
        unix_now(),
    );
    // A known serial on a signature made by another key.
    let impostor = sign_with(
        good.clone(),
        &keys().stranger.key_pem,
        &keys().platform.serial,
        unix_now(),
    );
    // WeChat's SIGNTEST probe: the merchant must fail it.
    let mut probe = by_platform(good.clone());
    probe.signature = format!("WECHATPAY/SIGNTEST/{}", probe.signature);
    // Authentic but for a different amount / another merchant / another app.
    let wrong_amount = by_platform(envelope(&payment(&no, 1)));
    let mut other_mch = payment(&no, 1000);
    other_mch["mchid"] = json!("1230000109");
    let other_mch = by_platform(envelope(&other_mch));
    let mut other_app = payment(&no, 1000);
    other_app["appid"] = json!("wx0000000000000000");
    let other_app = by_platform(envelope(&other_app));

    let cases = [
        (&tampered, 401, "bad_signature"),
        (&replayed, 401, "stale_timestamp"),
        (&stranger, 401, "unknown_serial"),
        (&impostor, 401, "bad_signature"),
        (&probe, 401, "signtest_probe"),
        (&wrong_amount, 400, "amount_mismatch"),
        (&other_mch, 400, "wrong_mchid"),
        (&other_app, 400, "wrong_appid"),
    ];
    for (signed, status, code) in cases {
        let (got, body) = send(&e, signed).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(code)),
            "{body}"
        );
        assert_eq!(body["code"], "FAIL");
        assert_eq!(state(&e, &id).await, "NOTPAY", "{code} must change nothing");
    }
    assert!(e.events(&id).await.is_empty());

    // The real thing is accepted (so the rejections above were about what they say).
    let (status, _) = send(&e, &by_platform(good)).await;
    assert_eq!(status, 204);
    assert_eq!(state(&e, &id).await, "SUCCESS");

    let kept = e.backend.store.notifications(no.clone()).await.unwrap();
    let verdicts: Vec<&str> = kept.iter().map(|n| n.verdict.as_str()).collect();
    assert_eq!(
        verdicts
            .iter()
            .filter(|v| v.starts_with("rejected: amount_mismatch"))
            .count(),
        1,
        "{verdicts:?}"
    );
    assert_eq!(verdicts.last(), Some(&"applied"));
    assert!(kept
        .iter()
        .all(|n| !n.body.is_empty() && n.headers.contains("Wechatpay-Serial")));
    // The five that did not authenticate are kept bounded: size, SHA-256, head, headers.
    let rejected = e.backend.store.rejected_notifications(100).await.unwrap();
    let codes: Vec<&str> = rejected
        .iter()
        .map(|r| r.verdict.split(": ").nth(1).unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "signtest_probe",
            "bad_signature",
            "unknown_serial",
            "stale_timestamp",
            "bad_signature"
        ]
    );
    assert!(rejected
        .iter()
        .all(|r| r.body_size as usize == r.body_head.len()
            && r.body_sha256.as_ref().is_some_and(|h| h.len() == 64)
            && r.headers.contains("Wechatpay-Serial")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_duplicates_make_one_transition() {
    let e = start(Opts::default()).await;
    let (id, no) = ordered(&e, 2500).await;
    let signed = by_platform(envelope(&payment(&no, 2500)));
    let signed = std::sync::Arc::new(signed);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (http, api, s) = (e.http.clone(), e.api.clone(), signed.clone());
        tasks.push(tokio::spawn(
            async move { send_to(&http, &api, &s).await.0 },
        ));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap(),
            204,
            "every duplicate is acknowledged so WeChat stops retrying"
        );
    }
    let events = e.events(&id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].from.as_str(), events[0].to.as_str()),
        ("NOTPAY", "SUCCESS")
    );
    let verdicts = e.verdicts(&no).await;
    assert_eq!(verdicts.len(), 100);
    assert_eq!(verdicts.iter().filter(|v| *v == "applied").count(), 1);
    assert_eq!(verdicts.iter().filter(|v| *v == "duplicate").count(), 99);
}

fn v2_notification(no: &str, total: i64) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    for (k, v) in [
        ("return_code", "SUCCESS"),
        ("result_code", "SUCCESS"),
        ("appid", APPID),
        ("mch_id", MCHID),
        ("nonce_str", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
        ("openid", "oSimPayer"),
        ("trade_type", "NATIVE"),
        ("bank_type", "OTHERS"),
        ("fee_type", "CNY"),
        ("transaction_id", "4200000000000000000000000002"),
        ("time_end", "20261126180000"),
        ("out_trade_no", no),
    ] {
        p.insert(k.to_string(), v.to_string());
    }
    p.insert("total_fee".into(), total.to_string());
    p.insert("cash_fee".into(), total.to_string());
    p
}

async fn send_v2(e: &Env, p: &BTreeMap<String, String>) -> (u16, BTreeMap<String, String>) {
    let r = e
        .http
        .post(format!("{}/api/wxpay/notify/v2", e.api))
        .body(v2::to_xml(p))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, v2::parse_xml(&r.bytes().await.unwrap()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_notifications_are_verified_and_idempotent() {
    let e = start(Opts {
        api_version: ApiVersion::V2,
        ..Opts::default()
    })
    .await;
    let (id, no) = ordered(&e, 700).await;
    let sign = |mut p: BTreeMap<String, String>, key: &str| {
        let s = v2::sign(&p, key, v2::SignType::HmacSha256);
        p.insert("sign".into(), s);
        p
    };
    let forged = sign(
        v2_notification(&no, 700),
        "NotTheV2Key0123456789abcdefghijk",
    );
    let mut tampered = sign(v2_notification(&no, 700), V2_KEY);
    tampered.insert("total_fee".into(), "7".into());
    let wrong_amount = sign(v2_notification(&no, 7), V2_KEY);
    for p in [&forged, &tampered, &wrong_amount] {
        let (status, reply) = send_v2(&e, p).await;
        assert!(status >= 400, "{reply:?}");
        assert_eq!(reply["return_code"], "FAIL");
        assert_eq!(state(&e, &id).await, "NOTPAY");
    }
    let good = sign(v2_notification(&no, 700), V2_KEY);
    for _ in 0..3 {
        let (status, reply) = send_v2(&e, &good).await;
        assert_eq!((status, reply["return_code"].as_str()), (200, "SUCCESS"));
    }
    let order = e.get(&format!("/api/orders/{id}")).await.1;
    assert_eq!(order["state"], "SUCCESS");
    assert_eq!(
        order["paid_at"], "2026-11-26T10:00:00Z",
        "time_end is Beijing time"
    );
    assert_eq!(e.events(&id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_payment_of_a_paid_order_is_acknowledged_and_flagged_for_refund() {
    let e = start(Opts::default()).await;
    let (id, no) = ordered(&e, 1000).await;
    assert_eq!(
        send(&e, &by_platform(envelope(&payment(&no, 1000))))
            .await
            .0,
        204
    );
    let mut second = payment(&no, 1000);
    second["transaction_id"] = json!("4200000000000000000000000999");
    assert_eq!(
        send(&e, &by_platform(envelope(&second))).await.0,
        204,
        "acknowledged so WeChat stops retrying"
    );
    let order = e.get(&format!("/api/orders/{id}")).await.1;
    assert_eq!(
        order["transaction_id"], "4200000000000000000000000001",
        "the first payment stays the record"
    );
    assert_eq!(e.events(&id).await.len(), 1);
    let verdicts = e.verdicts(&no).await;
    assert_eq!(verdicts, vec!["applied", "extra payment: refund needed"]);
}

/// Issue 9: a verified CLOSED (or REVOKED) of one attempt, then a verified SUCCESS of another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_attempt_notification_does_not_close_the_order() {
    let e = start(Opts::default()).await;
    let (id, first) = ordered(&e, 1000).await;
    let (_, h5) = e.pay(&id, json!({ "mode": "h5" })).await;
    let second = h5["out_trade_no"].as_str().unwrap().to_string();
    for state in ["CLOSED", "REVOKED"] {
        let mut closed = payment(&first, 1000);
        closed["trade_state"] = json!(state);
        closed["transaction_id"] = json!("");
        closed.as_object_mut().unwrap().remove("success_time");
        let (status, body) = send(&e, &by_platform(envelope(&closed))).await;
        assert_eq!(status, 204, "{body}");
        assert_eq!(state_of(&e, &id).await, "NOTPAY");
    }
    let (status, body) = send(&e, &by_platform(envelope(&payment(&second, 1000)))).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(state_of(&e, &id).await, "SUCCESS");
    assert_eq!(e.verdicts(&second).await, vec!["applied"]);
    assert_eq!(
        e.verdicts(&first).await,
        vec![
            "attempt CLOSED: order unchanged",
            "attempt REVOKED: order unchanged"
        ]
    );
}

/// Issue 9: an unknown trade_state was acknowledged as a "duplicate"; now it is refused (WeChat
/// retries) and kept with its reason, like the query path treats it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_trade_state_is_refused_not_acknowledged() {
    let e = start(Opts::default()).await;
    let (id, no) = ordered(&e, 1000).await;
    let mut odd = payment(&no, 1000);
    odd["trade_state"] = json!("ACCEPTED");
    let (status, body) = send(&e, &by_platform(envelope(&odd))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unknown_trade_state")),
        "{body}"
    );
    assert_eq!(state_of(&e, &id).await, "NOTPAY");
    let verdicts = e.verdicts(&no).await;
    assert!(
        verdicts[0].starts_with("rejected: unknown_trade_state"),
        "{verdicts:?}"
    );
}

async fn state_of(e: &Env, id: &str) -> String {
    state(e, id).await
}

/// Issue 9: once the shop has given up on an order (closed it), a payment that still arrives is
/// kept as an extra payment to refund, shown on the order — never a "duplicate".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_after_the_merchant_closed_the_order_is_an_extra_payment() {
    let e = start(Opts::default()).await;
    let (id, no) = ordered(&e, 1000).await;
    let (status, closed) = e
        .server_post(&format!("/api/orders/{id}/close"), json!({}))
        .await;
    assert_eq!(
        (status, closed["state"].as_str()),
        (200, Some("CLOSED")),
        "{closed}"
    );
    assert_eq!(
        e.sim.order(&no).unwrap().state.as_str(),
        "CLOSED",
        "closed at WeChat too"
    );
    assert_eq!(
        e.post(&format!("/api/orders/{id}/close"), json!({}))
            .await
            .0,
        401
    );

    let (status, _) = send(&e, &by_platform(envelope(&payment(&no, 1000)))).await;
    assert_eq!(status, 204, "acknowledged so WeChat stops retrying");
    assert_eq!(e.verdicts(&no).await, vec!["extra payment: refund needed"]);
    let order = e.get(&format!("/api/orders/{id}")).await.1;
    assert_eq!(order["state"], "CLOSED");
    assert_eq!(
        order["extra_payments"],
        json!([{ "transaction_id": "4200000000000000000000000001", "out_trade_no": no,
                 "amount": 1000, "paid_at": "2026-11-26T10:00:00Z" }])
    );
    // The same payment again is a duplicate of the recorded extra payment.
    send(&e, &by_platform(envelope(&payment(&no, 1000)))).await;
    assert_eq!(
        e.verdicts(&no).await,
        vec!["extra payment: refund needed", "duplicate"]
    );
}

/// Issue 9: the v2 notification accepted MD5 while the merchant signs with HMAC-SHA256. Now the
/// accepted sign types are configured, and only the configured one by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_sign_types_are_strict_unless_configured() {
    let e = start(Opts {
        api_version: ApiVersion::V2,
        ..Opts::default()
    })
    .await;
    let (id, no) = ordered(&e, 700).await;
    let md5 = {
        let mut p = v2_notification(&no, 700);
        p.insert("sign_type".into(), "MD5".into());
        let s = v2::sign(&p, V2_KEY, v2::SignType::Md5);
        p.insert("sign".into(), s);
        p
    };
    let (status, reply) = send_v2(&e, &md5).await;
    assert_eq!(
        (status, reply["return_code"].as_str()),
        (401, "FAIL"),
        "{reply:?}"
    );
    assert!(reply["return_msg"].contains("MD5"), "{reply:?}");
    assert_eq!(state(&e, &id).await, "NOTPAY");

    // A merchant migrating from MD5 may accept both.
    let (listener, api) = bind().await;
    let mut cfg = backend_config(
        &api,
        &e.sim_url,
        &e.data_dir,
        &Opts {
            api_version: ApiVersion::V2,
            ..Opts::default()
        },
    );
    cfg.v2_accepted_sign_types = vec!["HMAC-SHA256".into(), "MD5".into()];
    let (_b, api, _server) = serve_backend(listener, api, cfg).await;
    let r = e
        .http
        .post(format!("{api}/api/wxpay/notify/v2"))
        .body(v2::to_xml(&md5))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(state(&e, &id).await, "SUCCESS");
}
