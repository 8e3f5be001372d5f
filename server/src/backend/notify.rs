//! `POST /api/wxpay/notify` (v3) and `/api/wxpay/notify/v2`: WeChat telling us an order is paid.
//!
//! Order of checks: signature over the raw body (and, v3, timestamp within 5 minutes and a known
//! platform serial — an unknown one first triggers a platform-certificate refresh) → decrypt →
//! our mchid / appid → a prepay we made → the amount we asked for → one conditional state change.
//! Every notification is kept with its verdict ([`super::audit`]: whole when authentic, bounded
//! when not). Whatever fails gets a non-2xx (v3) / FAIL (v2) answer and changes nothing; WeChat
//! will retry, and a duplicate of something already applied is acknowledged without changing
//! anything.

use super::Backend;
use crate::order::{Order, TradeState};
use crate::store::{AttemptNews, NewsOutcome};
use crate::timefmt::{parse_rfc3339, parse_v2_time, unix_now, utc_rfc3339};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;
use wxpay_sign::keys::KeySet;
use wxpay_sign::{v2, v3, Error as SignError};

/// Why a notification was turned away.
struct Rejection {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Known once the notification is authentic; files the audit record under the order.
    out_trade_no: Option<String>,
}

fn reject(status: StatusCode, code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        status,
        code,
        message: message.into(),
        out_trade_no: None,
    }
}

/// What the payment in a (verified) notification says.
struct Payment {
    out_trade_no: String,
    appid: String,
    mchid: String,
    total: i64,
    state: TradeState,
    transaction_id: Option<String>,
    paid_at: Option<String>,
    openid: Option<String>,
}

/// The `Wechatpay-Timestamp`, `-Nonce`, `-Signature`, `-Serial` values ("" when absent).
fn wechatpay_header_values(headers: &HeaderMap) -> [String; 4] {
    ["Timestamp", "Nonce", "Signature", "Serial"].map(|n| {
        headers
            .get(format!("Wechatpay-{n}"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    })
}

/// How a v3 notification is verified and opened: [`v3::open_payment_notification`] or
/// [`v3::open_notification`] (refunds).
type OpenV3<T> = fn(&v3::WechatpayHeaders, &[u8], i64, &KeySet, &[u8]) -> Result<T, SignError>;

impl Backend {
    /// Verifies and opens a v3 notification with `open`, under the platform keys held or, for a
    /// serial not known yet, once refreshed.
    pub(super) async fn open_v3<T>(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        open: OpenV3<T>,
    ) -> Result<T, SignError> {
        let [timestamp, nonce, signature, serial] = wechatpay_header_values(headers);
        let wh = v3::WechatpayHeaders {
            timestamp: &timestamp,
            nonce: &nonce,
            signature: &signature,
            serial: &serial,
        };
        self.wechat
            .with_platform_keys(&serial, |keys| {
                open(&wh, body, unix_now(), keys, &self.creds.apiv3_key)
            })
            .await
    }
}

pub async fn notify_v3(
    State(b): State<Arc<Backend>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return b.refuse_unread("v3", &headers, e).await,
    };
    let opened = b
        .open_v3(&headers, &body, v3::open_payment_notification)
        .await;
    let result = match opened {
        Err(e) => Err(sign_rejection(e)),
        Ok((_, p)) => {
            let state = match p.trade_state.parse() {
                Ok(s) => s,
                // Not NOTPAY: a state we do not understand must not be acknowledged, so WeChat
                // retries (and a human reads the log).
                Err(e) => {
                    let r = Rejection {
                        out_trade_no: Some(p.out_trade_no.clone()),
                        ..reject(StatusCode::BAD_REQUEST, "unknown_trade_state", e)
                    };
                    tracing::error!("verified v3 notification not applied: {}", r.message);
                    return b.finish_v3(&headers, &body, Err(r)).await;
                }
            };
            let payment = Payment {
                out_trade_no: p.out_trade_no,
                appid: p.appid,
                mchid: p.mchid,
                total: p.amount.total,
                state,
                transaction_id: Some(p.transaction_id).filter(|s| !s.is_empty()),
                paid_at: p
                    .success_time
                    .as_deref()
                    .and_then(parse_rfc3339)
                    .map(utc_rfc3339),
                openid: Some(p.payer.openid).filter(|s| !s.is_empty()),
            };
            b.apply_payment(payment, "notify-v3").await
        }
    };
    b.finish_v3(&headers, &body, result).await
}

impl Backend {
    /// Keeps the v3 notification for audit and answers WeChat.
    async fn finish_v3(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        result: Result<(String, Verdict), Rejection>,
    ) -> Response {
        let (out_trade_no, verdict) = verdict_of(&result);
        let kept = self.audit("v3", headers, body, out_trade_no, verdict).await;
        answer_v3(result.err().map(|r| (r.status, r.code, r.message)), kept)
    }
}

/// WeChat's answer to a v3 notification: 204 (received) when it was applied and kept; when it
/// was applied but not kept, 503 `FAIL` so that it is sent again (and kept then); else the
/// refusal `(status, code, message)`.
pub(super) fn answer_v3(refused: Option<(StatusCode, &str, String)>, kept: bool) -> Response {
    let (status, code, message) = match refused {
        // WeChat accepts 200 or 204 without a body as "received".
        None if kept => return StatusCode::NO_CONTENT.into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            super::audit::NOT_KEPT.to_string(),
        ),
        Some(r) => r,
    };
    (
        status,
        Json(json!({ "code": "FAIL", "error": code, "message": message })),
    )
        .into_response()
}

/// The same for a v2 notification, in XML: `SUCCESS`, or `FAIL` with the reason.
pub(super) fn answer_v2(refused: Option<(StatusCode, String)>, kept: bool) -> Response {
    let xml = [("content-type", "text/xml; charset=utf-8")];
    match refused {
        None if kept => (StatusCode::OK, xml, v2::reply_success()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            xml,
            v2::reply_fail(super::audit::NOT_KEPT),
        )
            .into_response(),
        Some((status, reason)) => (status, xml, v2::reply_fail(&reason)).into_response(),
    }
}

pub async fn notify_v2(
    State(b): State<Arc<Backend>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return b.refuse_unread("v2", &headers, e).await,
    };
    let result = b.open_v2(&body).await;
    let (out_trade_no, verdict) = verdict_of(&result);
    let kept = b.audit("v2", &headers, &body, out_trade_no, verdict).await;
    let refused = result
        .err()
        .map(|r| (r.status, format!("{}: {}", r.code, r.message)));
    answer_v2(refused, kept)
}

fn sign_rejection(e: SignError) -> Rejection {
    let code = match &e {
        SignError::SignTestProbe => "signtest_probe",
        SignError::UnknownSerial { .. } => "unknown_serial",
        SignError::TimestampSkew { .. } => "stale_timestamp",
        SignError::BadSignature { .. }
        | SignError::InvalidHeader { .. }
        | SignError::Base64 { .. } => "bad_signature",
        _ => "undecryptable",
    };
    let status = if code == "undecryptable" {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::UNAUTHORIZED
    };
    reject(status, code, e.to_string())
}

/// The audit verdict and the out_trade_no to file the record under: known exactly when the
/// notification authenticated (then it is kept whole; otherwise bounded).
fn verdict_of(r: &Result<(String, Verdict), Rejection>) -> (Option<String>, String) {
    match r {
        Ok((no, Verdict::Applied)) => (Some(no.clone()), "applied".into()),
        Ok((no, Verdict::Duplicate)) => (Some(no.clone()), "duplicate".into()),
        Ok((no, Verdict::ExtraPayment)) => {
            (Some(no.clone()), "extra payment: refund needed".into())
        }
        Ok((no, Verdict::AttemptOnly(state))) => (
            Some(no.clone()),
            format!("attempt {state}: order unchanged"),
        ),
        Err(r) => (
            r.out_trade_no.clone(),
            format!("rejected: {}: {}", r.code, r.message),
        ),
    }
}

impl Backend {
    /// A body that could not be read (too large, cut off): 413 / 400, kept as headers + size.
    pub(super) async fn refuse_unread(
        &self,
        api: &str,
        headers: &HeaderMap,
        e: BytesRejection,
    ) -> Response {
        self.audit_oversized(api, headers).await;
        (e.status(), e.body_text()).into_response()
    }

    async fn open_v2(self: &Arc<Self>, body: &[u8]) -> Result<(String, Verdict), Rejection> {
        let p = v2::parse_xml(body)
            .map_err(|e| reject(StatusCode::BAD_REQUEST, "invalid_xml", e.to_string()))?;
        if p.get("return_code").map(String::as_str) != Some("SUCCESS") {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "not_success",
                "return_code is not SUCCESS; nothing to record",
            ));
        }
        let key = self.creds.v2_key.as_deref().ok_or_else(|| {
            reject(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no_v2_key",
                "v2 notification received but v2_key is not configured",
            )
        })?;
        let accepted = self.wechat.v2_accepted_sign_types();
        super::wechat::v2::verify_v2(&p, key, self.wechat.v2_sign_type(), &accepted)
            .map_err(|e| reject(StatusCode::UNAUTHORIZED, "bad_signature", e))?;
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        let state = if get("result_code") == "SUCCESS" {
            TradeState::Success
        } else {
            TradeState::Payerror
        };
        let payment = Payment {
            out_trade_no: get("out_trade_no"),
            appid: get("appid"),
            mchid: get("mch_id"),
            total: get("total_fee").parse().map_err(|_| {
                reject(
                    StatusCode::BAD_REQUEST,
                    "invalid_amount",
                    "total_fee is not a whole number",
                )
            })?,
            state,
            transaction_id: Some(get("transaction_id")).filter(|s| !s.is_empty()),
            paid_at: parse_v2_time(&get("time_end")).map(utc_rfc3339),
            openid: Some(get("openid")).filter(|s| !s.is_empty()),
        };
        self.apply_payment(payment, "notify-v2").await
    }

    /// Checks an authentic payment against our records and applies it; `Ok((no, applied))`.
    async fn apply_payment(
        self: &Arc<Self>,
        p: Payment,
        source: &str,
    ) -> Result<(String, Verdict), Rejection> {
        let no = p.out_trade_no.clone();
        self.check_and_apply(p, source).await.map_err(|mut r| {
            r.out_trade_no = Some(no);
            r
        })
    }

    async fn check_and_apply(
        self: &Arc<Self>,
        p: Payment,
        source: &str,
    ) -> Result<(String, Verdict), Rejection> {
        if p.mchid != self.cfg.mchid {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "wrong_mchid",
                format!("mchid {} is not ours ({})", p.mchid, self.cfg.mchid),
            ));
        }
        if p.appid != self.cfg.appid && p.appid != self.cfg.mp_appid() {
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "wrong_appid",
                format!("appid {} is not one of ours", p.appid),
            ));
        }
        let unknown = || {
            reject(
                StatusCode::NOT_FOUND,
                "unknown_order",
                format!("no prepay with out_trade_no {}", p.out_trade_no),
            )
        };
        let prepay = self
            .store
            .prepay_by_out_trade_no(p.out_trade_no.clone())
            .await
            .map_err(storage)?
            .ok_or_else(unknown)?;
        let order: Order = self
            .store
            .order(prepay.order_id.clone())
            .await
            .map_err(storage)?
            .ok_or_else(unknown)?;
        if p.total != order.amount {
            tracing::error!(order_id = %order.order_id, "notification amount {} != order amount {}", p.total, order.amount);
            return Err(reject(
                StatusCode::BAD_REQUEST,
                "amount_mismatch",
                format!(
                    "notification says {} fen but order {} is {} fen; not applied",
                    p.total, order.order_id, order.amount
                ),
            ));
        }
        let outcome = self
            .record_news(AttemptNews {
                out_trade_no: p.out_trade_no.clone(),
                state: p.state,
                transaction_id: p.transaction_id,
                amount: p.total,
                paid_at: p.paid_at,
                payer_openid: p.openid,
                source: source.into(),
                at: unix_now(),
            })
            .await
            .map_err(storage)?;
        let verdict = match outcome {
            NewsOutcome::OrderChanged { .. } => Verdict::Applied,
            NewsOutcome::Duplicate(_) => Verdict::Duplicate,
            NewsOutcome::ExtraPayment(_) => Verdict::ExtraPayment,
            NewsOutcome::AttemptOnly(_) => Verdict::AttemptOnly(p.state),
            NewsOutcome::NotFound => return Err(unknown()),
        };
        Ok((p.out_trade_no, verdict))
    }
}

/// What became of an authentic notification (kept in the audit record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The order changed (paid, or failed).
    Applied,
    /// This payment was already recorded.
    Duplicate,
    /// A payment of an order already paid otherwise, or closed by the merchant: refund it.
    ExtraPayment,
    /// Only this attempt's state was recorded (e.g. CLOSED while another attempt may be paid).
    AttemptOnly(TradeState),
}

fn storage(e: crate::store::StoreError) -> Rejection {
    // 5xx: WeChat retries later, by which time the database may be back.
    reject(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage_unavailable",
        e.to_string(),
    )
}
