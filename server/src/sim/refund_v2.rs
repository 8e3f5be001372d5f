//! The simulated APIv2 refunds: `POST /secapi/pay/refund`, `POST /pay/refundquery`, and the v2
//! refund notification.
//!
//! `secapi/…` is WeChat's mutual-TLS host path: it is served only on the [`super::mtls`]
//! listener, which refuses a connection without a client certificate issued by the trusted CA,
//! and the certificate's CN must be the request's `mch_id`. The refund rules and records are
//! v3's ([`super::refund::apply_for_refund`]). The notification is not signed: its `req_info` is
//! the refund XML, AES-256-ECB encrypted with the lower-case hex MD5 of the v2 key.

use super::ledger::Api;
use super::mtls::ClientCert;
use super::refund::{apply_for_refund, with_retries, RefundAsk, RefundRefusal, SimRefund};
use super::v2::comm_fail;
use super::SimInner;
use crate::timefmt::v2_refund_time;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::Extensions;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use std::collections::BTreeMap;
use std::sync::Arc;
use wxpay_sign::v2;

type Params = BTreeMap<String, String>;

/// Plain-HTTPS routes (no client certificate needed).
pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new().route("/pay/refundquery", post(refundquery))
}

/// Routes that need the merchant's API client certificate (serve on [`super::mtls`]).
pub(crate) fn secapi_routes() -> Router<Arc<SimInner>> {
    Router::new().route("/secapi/pay/refund", post(refund))
}

/// WeChat's v2 `err_code` for a refusal.
fn err_code(r: RefundRefusal) -> &'static str {
    match r {
        RefundRefusal::OrderNotFound => "ORDERNOTEXIST",
        RefundRefusal::NotPaid => "ERROR",
        RefundRefusal::TotalMismatch => "PARAM_ERROR",
        RefundRefusal::OutRefundNoReused => "REFUND_FEE_MISMATCH",
        RefundRefusal::NotEnough { .. } => "NOTENOUGH",
        // WeChat answers a refund whose appid is not the order's (a mini-program's order
        // refunded under the official account's appid) with err_code ERROR, err_code_des
        // "您的请求参数与订单信息不一致" (developers.weixin.qq.com/community/pay/doc/
        // 000048bab240185a1c4d6917456800; "appid 需与小程序id对应" as the fix:
        // blog.51cto.com/u_16099178/11823750).
        RefundRefusal::AppidMismatch => "ERROR",
    }
}

async fn refund(State(sim): State<Arc<SimInner>>, ext: Extensions, body: Bytes) -> Response {
    // Over mutual TLS the listener has already refused connections without a certificate; this
    // is only missing when the route is served some other way.
    let Some(ConnectInfo(cert)) = ext.get::<ConnectInfo<ClientCert>>().cloned() else {
        return comm_fail(
            "证书错误 (secapi/pay/refund needs the API client certificate over mutual TLS)",
        );
    };
    let (p, sign_type) = match sim.v2_request(&body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if cert.common_name.as_deref() != Some(sim.cfg.mchid.as_str()) {
        return comm_fail(&format!(
            "证书与商户号不匹配 (client certificate CN {:?} is not mch_id {})",
            cert.common_name.unwrap_or_default(),
            sim.cfg.mchid
        ));
    }
    let appid = p.get("appid").cloned().unwrap_or_default();
    let result = check_refund(&sim, &p).and_then(|ask| {
        apply_for_refund(&sim, ask)
            .map(|r| refund_fields(&r))
            .map_err(|refused| (err_code(refused), refused.message()))
    });
    sim.v2_answer(&appid, sign_type, result)
}

fn check_refund(sim: &SimInner, p: &Params) -> Result<RefundAsk, (&'static str, String)> {
    let bad = |m: String| ("PARAM_ERROR", m);
    let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
    let appid = get("appid").ok_or_else(|| bad("appid参数缺失 (appid is required)".into()))?;
    if sim.cfg.app(&appid).is_none() {
        return Err(("APPID_NOT_EXIST", format!("appid {appid} 不存在")));
    }
    let out_refund_no = get("out_refund_no")
        .filter(|n| n.len() <= 64)
        .ok_or_else(|| bad("out_refund_no参数错误 (required, 1-64 characters)".into()))?;
    let fee = |k: &str| {
        get(k)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|v| *v >= 1)
            .ok_or_else(|| bad(format!("{k}参数错误 (required, whole fen, at least 1)")))
    };
    let (total, refund) = (fee("total_fee")?, fee("refund_fee")?);
    let (transaction_id, out_trade_no) = (get("transaction_id"), get("out_trade_no"));
    if transaction_id.is_none() && out_trade_no.is_none() {
        return Err(bad("transaction_id或out_trade_no必填其一".into()));
    }
    Ok(RefundAsk {
        api: Api::V2,
        appid: Some(appid),
        transaction_id,
        out_trade_no,
        out_refund_no,
        refund,
        total,
        notify_url: get("notify_url"),
    })
}

/// The fields of a successful refund answer.
fn refund_fields(r: &SimRefund) -> Params {
    let mut a = Params::new();
    for (k, v) in [
        ("transaction_id", r.transaction_id.clone()),
        ("out_trade_no", r.out_trade_no.clone()),
        ("out_refund_no", r.out_refund_no.clone()),
        ("refund_id", r.refund_id.clone()),
        ("refund_fee", r.refund.to_string()),
        ("settlement_refund_fee", r.refund.to_string()),
        ("total_fee", r.total.to_string()),
        ("settlement_total_fee", r.total.to_string()),
        ("cash_fee", r.total.to_string()),
        ("cash_refund_fee", r.refund.to_string()),
        ("fee_type", "CNY".to_string()),
    ] {
        a.insert(k.into(), v);
    }
    a
}

async fn refundquery(State(sim): State<Arc<SimInner>>, body: Bytes) -> Response {
    let (p, sign_type) = match sim.v2_request(&body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let get = |k: &str| p.get(k).filter(|v| !v.is_empty()).cloned();
    let appid = get("appid").unwrap_or_default();
    let found: Vec<SimRefund> = {
        let ledger = sim.ledger();
        // WeChat looks refunds up under the appid asked: one of an order placed under another
        // appid (a mini-program's) is not found (REFUNDNOTEXIST), as orders are not
        // ([`super::v2`]'s orderquery).
        let under_appid = |r: &SimRefund| {
            ledger
                .orders
                .get(&r.out_trade_no)
                .is_some_and(|o| o.params.appid == appid)
        };
        let mut found: Vec<SimRefund> = ledger
            .refunds
            .values()
            .filter(|r| under_appid(r))
            .filter(|r| match (get("out_refund_no"), get("refund_id")) {
                (Some(no), _) => r.out_refund_no == no,
                (None, Some(id)) => r.refund_id == id,
                (None, None) => {
                    get("transaction_id").is_some_and(|t| r.transaction_id == t)
                        || get("out_trade_no").is_some_and(|n| r.out_trade_no == n)
                }
            })
            .cloned()
            .collect();
        found.sort_by_key(|r| r.created_at);
        found
    };
    let result = match found.first() {
        None => Err((
            "REFUNDNOTEXIST",
            "退款订单查询失败 (no such refund)".to_string(),
        )),
        Some(first) => {
            let mut a = Params::new();
            a.insert("transaction_id".into(), first.transaction_id.clone());
            a.insert("out_trade_no".into(), first.out_trade_no.clone());
            a.insert("total_fee".into(), first.total.to_string());
            a.insert("cash_fee".into(), first.total.to_string());
            a.insert("refund_count".into(), found.len().to_string());
            for (n, r) in found.iter().enumerate() {
                let mut put = |k: &str, v: String| a.insert(format!("{k}_{n}"), v);
                put("out_refund_no", r.out_refund_no.clone());
                put("refund_id", r.refund_id.clone());
                put("refund_channel", "ORIGINAL".into());
                put("refund_fee", r.refund.to_string());
                put("refund_status", r.status.into());
                put("refund_recv_accout", "支付用户的零钱".into());
                if let Some(t) = r.success_time {
                    put("refund_success_time", v2_refund_time(t));
                }
            }
            Ok(a)
        }
    };
    sim.v2_answer(&appid, sign_type, result)
}

/// The refund XML a notification's `req_info` carries (`<root>…</root>`).
fn req_info_xml(r: &SimRefund) -> String {
    let mut info = refund_fields(r);
    for k in ["cash_fee", "cash_refund_fee", "fee_type"] {
        info.remove(k);
    }
    info.insert("refund_status".into(), r.status.into());
    if let Some(t) = r.success_time {
        info.insert("success_time".into(), v2_refund_time(t));
    }
    info.insert("refund_recv_accout".into(), "支付用户的零钱".into());
    info.insert(
        "refund_account".into(),
        "REFUND_SOURCE_UNSETTLED_FUNDS".into(),
    );
    info.insert("refund_request_source".into(), "API".into());
    let xml = v2::to_xml(&info);
    format!(
        "<root>{}</root>",
        xml.trim_start_matches("<xml>").trim_end_matches("</xml>")
    )
}

/// The v2 refund notification body for a finished refund.
pub fn notification_body(v2_key: &str, appid: &str, mchid: &str, r: &SimRefund) -> String {
    let mut p = Params::new();
    p.insert("return_code".into(), "SUCCESS".into());
    p.insert("appid".into(), appid.into());
    p.insert("mch_id".into(), mchid.into());
    p.insert("nonce_str".into(), wxpay_sign::nonce::nonce_str());
    p.insert(
        "req_info".into(),
        v2::encrypt_refund_req_info(v2_key, &req_info_xml(r)),
    );
    v2::to_xml(&p)
}

/// Delivers the notification of a finished refund to `url`, on WeChat's retry schedule, until
/// the merchant answers `return_code` SUCCESS.
pub(super) async fn notify(sim: &Arc<SimInner>, done: &SimRefund, url: &str) {
    let appid = sim
        .ledger()
        .orders
        .get(&done.out_trade_no)
        .map(|o| o.params.appid.clone())
        .unwrap_or_default();
    let body = notification_body(&sim.cfg.v2_key, &appid, &sim.cfg.mchid, done);
    with_retries(sim, || async {
        let sent = sim
            .http
            .post(url)
            .header("Content-Type", "text/xml")
            .body(body.clone())
            .send()
            .await;
        let Ok(resp) = sent else { return false };
        let ok = resp.status().is_success();
        let text = resp.bytes().await.unwrap_or_default();
        ok && super::notify::v2_reply_accepted(&text)
    })
    .await;
}
