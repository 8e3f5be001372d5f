//! `POST /api/wxpay/notify/v2/refund`: WeChat's APIv2 refund notifications.
//!
//! They carry no signature: `return_code`, `mch_id` and `req_info`, the refund XML encrypted
//! with AES-256-ECB under the MD5 of the v2 key. Decrypting it with our key is what makes it
//! WeChat's; then it must name a refund we made, of the same order and amount, and is applied
//! like a query answer (statuses only move forward, so a duplicate changes nothing).

use super::wechat::v2::v2_notified_refund;
use super::Backend;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::sync::Arc;
use wxpay_sign::v2;

/// Why a notification was not applied: (HTTP status, code, message).
type Refusal = (StatusCode, &'static str, String);

pub async fn notify_refund_v2(
    State(b): State<Arc<Backend>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return b.refuse_unread("v2-refund", &headers, e).await,
    };
    let (authentic, result) = open_and_apply(&b, &body).await;
    let verdict = match &result {
        Ok(v) => (*v).to_string(),
        Err((_, code, message)) => format!("rejected: {code}: {message}"),
    };
    let kept = b
        .audit("v2-refund", &headers, &body, authentic, verdict)
        .await;
    let refused = result
        .err()
        .map(|(status, code, message)| (status, format!("{code}: {message}")));
    super::notify::answer_v2(refused, kept)
}

/// (the out_trade_no to file the notification under once it decrypted, the verdict).
async fn open_and_apply(
    b: &Backend,
    body: &[u8],
) -> (Option<String>, Result<&'static str, Refusal>) {
    let bad = |code, message: String| Err((StatusCode::BAD_REQUEST, code, message));
    let outer = match v2::parse_xml(body) {
        Ok(p) => p,
        Err(e) => return (None, bad("invalid_xml", e.to_string())),
    };
    if outer.get("return_code").map(String::as_str) != Some("SUCCESS") {
        let msg = outer.get("return_msg").cloned().unwrap_or_default();
        return (
            None,
            bad("not_success", format!("return_code is not SUCCESS: {msg}")),
        );
    }
    if outer.get("mch_id") != Some(&b.cfg.mchid) {
        return (None, bad("wrong_mchid", "not our mch_id".into()));
    }
    let Some(key) = b.creds.v2_key.as_deref() else {
        return (
            None,
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "no_v2_key",
                "v2_key is not configured: cannot decrypt req_info".into(),
            )),
        );
    };
    let info = match outer
        .get("req_info")
        .ok_or_else(|| "no req_info".to_string())
        .and_then(|r| v2::decrypt_refund_req_info(key, r).map_err(|e| e.to_string()))
        .and_then(|xml| v2::parse_xml(xml.as_bytes()).map_err(|e| e.to_string()))
    {
        Ok(info) => info,
        Err(e) => {
            return (
                None,
                Err((
                    StatusCode::UNAUTHORIZED,
                    "undecryptable",
                    format!("{e}; check v2_key"),
                )),
            )
        }
    };
    let out_trade_no = info.get("out_trade_no").cloned().unwrap_or_default();
    let answer = match v2_notified_refund(&info) {
        Ok(a) => a,
        Err(e) => return (Some(out_trade_no), bad("invalid_refund", e)),
    };
    let result = b.apply_notified_refund(&answer, &out_trade_no).await;
    (Some(out_trade_no), result)
}
