//! The simulated v3 refunds: `POST /v3/refund/domestic/refunds`,
//! `GET /v3/refund/domestic/refunds/{out_refund_no}`, and the `REFUND.SUCCESS` notification.
//!
//! WeChat's rules: only a paid order is refundable; `amount.total` must be the order's; the
//! refunds of an order never exceed what was paid (over-refund refused with `NOT_ENOUGH`); an
//! `out_refund_no` reused with the same parameters answers the same refund, with others it is
//! refused. A refund is PROCESSING when created and SUCCESS shortly after (the order's
//! `trade_state` becomes REFUND); then the refund's `notify_url`, if any, is notified.
//!
//! The rules and the ledger records are shared with v2 ([`super::refund_v2`]): only the wire
//! format differs.

use super::ledger::Api;
use super::v3::Authenticated;
use super::{now, SimInner};
use crate::devkeys::{random_alnum, random_digits};
use crate::order::TradeState;
use crate::timefmt::beijing_rfc3339;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wxpay_sign::v3;

/// How long a simulated refund stays PROCESSING.
pub const PROCESSING_FOR: Duration = Duration::from_millis(200);

/// One refund as the simulated WeChat keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRefund {
    /// The API it was asked with (and is notified in).
    pub api: Api,
    pub refund_id: String,
    pub out_refund_no: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub refund: i64,
    pub total: i64,
    /// "PROCESSING", then "SUCCESS".
    pub status: &'static str,
    pub notify_url: Option<String>,
    pub created_at: i64,
    pub success_time: Option<i64>,
}

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/v3/refund/domestic/refunds", post(create))
        .route("/v3/refund/domestic/refunds/{no}", get(query))
}

fn refund_json(r: &SimRefund) -> Value {
    let mut v = json!({
        "refund_id": r.refund_id, "out_refund_no": r.out_refund_no,
        "transaction_id": r.transaction_id, "out_trade_no": r.out_trade_no,
        "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
        "create_time": beijing_rfc3339(r.created_at), "status": r.status,
        "amount": { "total": r.total, "refund": r.refund, "payer_total": r.total,
                    "payer_refund": r.refund, "currency": "CNY" },
    });
    if let Some(t) = r.success_time {
        v["success_time"] = json!(beijing_rfc3339(t));
    }
    v
}

fn error(sim: &SimInner, status: StatusCode, code: &str, message: String) -> Response {
    sim.signed(status, Some(json!({ "code": code, "message": message })))
}

async fn create(State(sim): State<Arc<SimInner>>, auth: Authenticated) -> Response {
    let req: Value = match serde_json::from_slice(&auth.body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                &sim,
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                format!("请求体不是合法的JSON: {e}"),
            )
        }
    };
    let bad = |m: &str| error(&sim, StatusCode::BAD_REQUEST, "PARAM_ERROR", m.to_string());
    let Some(out_refund_no) = req["out_refund_no"]
        .as_str()
        .filter(|s| (1..=64).contains(&s.len()))
    else {
        return bad("out_refund_no is required (1-64 characters)");
    };
    let (Some(refund), Some(total)) = (
        req["amount"]["refund"].as_i64(),
        req["amount"]["total"].as_i64(),
    ) else {
        return bad("amount.refund and amount.total are required (fen)");
    };
    if refund < 1 {
        return bad("amount.refund must be at least 1");
    }
    let ask = RefundAsk {
        api: Api::V3,
        // v3 refunds name no appid: the merchant and the payment are enough.
        appid: None,
        transaction_id: req["transaction_id"].as_str().map(String::from),
        out_trade_no: req["out_trade_no"].as_str().map(String::from),
        out_refund_no: out_refund_no.to_string(),
        refund,
        total,
        notify_url: req["notify_url"].as_str().map(String::from),
    };
    if ask.transaction_id.is_none() && ask.out_trade_no.is_none() {
        return bad("transaction_id or out_trade_no is required");
    }
    match apply_for_refund(&sim, ask) {
        Ok(r) => sim.signed(StatusCode::OK, Some(refund_json(&r))),
        Err(refused) => {
            let (status, code) = match refused {
                RefundRefusal::OrderNotFound => (StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS"),
                RefundRefusal::NotPaid | RefundRefusal::NotEnough { .. } => {
                    (StatusCode::FORBIDDEN, "NOT_ENOUGH")
                }
                RefundRefusal::TotalMismatch => (StatusCode::BAD_REQUEST, "PARAM_ERROR"),
                RefundRefusal::OutRefundNoReused => (StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
                // (v3 asks carry no appid.)
                RefundRefusal::AppidMismatch => (StatusCode::BAD_REQUEST, "PARAM_ERROR"),
            };
            error(&sim, status, code, refused.message())
        }
    }
}

/// A merchant's refund request, either API.
pub(super) struct RefundAsk {
    pub api: Api,
    /// v2: the appid asked under, which must be the one the order was placed with.
    pub appid: Option<String>,
    pub transaction_id: Option<String>,
    pub out_trade_no: Option<String>,
    pub out_refund_no: String,
    pub refund: i64,
    pub total: i64,
    pub notify_url: Option<String>,
}

/// Why WeChat refuses a refund (both APIs; each names it its own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RefundRefusal {
    OrderNotFound,
    NotPaid,
    TotalMismatch,
    OutRefundNoReused,
    NotEnough {
        left: i64,
    },
    /// A v2 refund under another appid than the order's (say the official account's for a
    /// mini-program's order).
    AppidMismatch,
}

impl RefundRefusal {
    pub fn message(self) -> String {
        match self {
            RefundRefusal::OrderNotFound => "订单不存在".into(),
            RefundRefusal::NotPaid => "订单未支付, 无法退款".into(),
            RefundRefusal::TotalMismatch => {
                "订单金额或退款金额与之前请求不一致 (the total does not match the order's amount)"
                    .into()
            }
            RefundRefusal::OutRefundNoReused => "out_refund_no 已存在且参数不一致".into(),
            RefundRefusal::NotEnough { left } => {
                format!("退款金额超过可退金额 ({left} fen left)")
            }
            RefundRefusal::AppidMismatch => {
                "您的请求参数与订单信息不一致 (appid is not the one the order was placed with)"
                    .into()
            }
        }
    }
}

/// WeChat's refund rules on the ledger: a new refund starts PROCESSING (and finishes in the
/// background); the same `out_refund_no` with the same parameters is that refund again.
pub(super) fn apply_for_refund(
    sim: &Arc<SimInner>,
    ask: RefundAsk,
) -> Result<SimRefund, RefundRefusal> {
    let mut ledger = sim.ledger();
    let order = match (&ask.transaction_id, &ask.out_trade_no) {
        (Some(t), _) => ledger
            .orders
            .values()
            .find(|o| o.transaction_id.as_deref() == Some(t)),
        (None, Some(n)) => ledger.orders.get(n),
        (None, None) => None,
    };
    let order = order.cloned().ok_or(RefundRefusal::OrderNotFound)?;
    if ask.appid.as_ref().is_some_and(|a| *a != order.params.appid) {
        return Err(RefundRefusal::AppidMismatch);
    }
    if !matches!(order.state, TradeState::Success | TradeState::Refund) {
        return Err(RefundRefusal::NotPaid);
    }
    if ask.total != order.params.amount {
        return Err(RefundRefusal::TotalMismatch);
    }
    if let Some(existing) = ledger.refunds.get(&ask.out_refund_no) {
        if existing.out_trade_no != order.params.out_trade_no || existing.refund != ask.refund {
            return Err(RefundRefusal::OutRefundNoReused);
        }
        return Ok(existing.clone());
    }
    let refunded: i64 = ledger
        .refunds
        .values()
        .filter(|r| r.out_trade_no == order.params.out_trade_no)
        .map(|r| r.refund)
        .sum();
    if refunded + ask.refund > order.params.amount {
        return Err(RefundRefusal::NotEnough {
            left: order.params.amount - refunded,
        });
    }
    let r = SimRefund {
        api: ask.api,
        refund_id: format!("5030{}", random_digits(25)),
        out_refund_no: ask.out_refund_no,
        out_trade_no: order.params.out_trade_no.clone(),
        transaction_id: order.transaction_id.clone().unwrap_or_default(),
        refund: ask.refund,
        total: ask.total,
        status: "PROCESSING",
        notify_url: ask.notify_url,
        created_at: now(),
        success_time: None,
    };
    ledger.refunds.insert(r.out_refund_no.clone(), r.clone());
    drop(ledger);
    tokio::spawn(complete(sim.clone(), r.out_refund_no.clone()));
    Ok(r)
}

/// The bank side finishes: SUCCESS, the order shows REFUND, the merchant is notified.
async fn complete(sim: Arc<SimInner>, out_refund_no: String) {
    tokio::time::sleep(PROCESSING_FOR).await;
    let done = {
        let mut ledger = sim.ledger();
        let Some(r) = ledger.refunds.get_mut(&out_refund_no) else {
            return;
        };
        r.status = "SUCCESS";
        r.success_time = Some(now());
        let r = r.clone();
        if let Some(o) = ledger.orders.get_mut(&r.out_trade_no) {
            o.state = TradeState::Refund;
        }
        r
    };
    let Some(url) = done.notify_url.clone() else {
        return;
    };
    match done.api {
        Api::V3 => notify_v3(&sim, &done, &url).await,
        Api::V2 => super::refund_v2::notify(&sim, &done, &url).await,
    }
}

/// `REFUND.SUCCESS`: the refund AES-GCM encrypted, signed with the platform key, retried on
/// WeChat's schedule.
async fn notify_v3(sim: &Arc<SimInner>, done: &SimRefund, url: &str) {
    let resource = json!({
        "mchid": sim.cfg.mchid, "out_trade_no": done.out_trade_no, "transaction_id": done.transaction_id,
        "out_refund_no": done.out_refund_no, "refund_id": done.refund_id, "refund_status": "SUCCESS",
        "success_time": done.success_time.map(beijing_rfc3339), "user_received_account": "支付用户零钱",
        "amount": { "total": done.total, "refund": done.refund, "payer_total": done.total, "payer_refund": done.refund },
    });
    let nonce = random_alnum(12);
    let Ok(ciphertext) = v3::encrypt_resource(
        &sim.cfg.apiv3_key,
        &nonce,
        "refund",
        resource.to_string().as_bytes(),
    ) else {
        return;
    };
    let body = json!({
        "id": format!("{}-{}", random_alnum(8), random_alnum(12)),
        "create_time": beijing_rfc3339(now()), "resource_type": "encrypt-resource",
        "event_type": "REFUND.SUCCESS", "summary": "退款成功",
        "resource": { "original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
                      "ciphertext": ciphertext, "associated_data": "refund", "nonce": nonce },
    })
    .to_string();
    with_retries(sim, || async {
        let (ts, n) = (now(), wxpay_sign::nonce::nonce_str());
        let key = sim.platform_key();
        let Ok(signature) = v3::sign_response(&key.private, ts, &n, body.as_bytes()) else {
            return true; // nothing to send
        };
        let sent = sim
            .http
            .post(url)
            .header("Content-Type", super::v3::JSON_UTF8)
            .header("Wechatpay-Timestamp", ts.to_string())
            .header("Wechatpay-Nonce", n)
            .header("Wechatpay-Signature", signature)
            .header("Wechatpay-Serial", key.id.clone())
            .header("Wechatpay-Signature-Type", super::v3::SIGNATURE_TYPE)
            .body(body.clone())
            .send()
            .await;
        sent.is_ok_and(|r| r.status().is_success())
    })
    .await;
}

/// Runs `attempt` until it reports the merchant accepted, on WeChat's retry schedule.
pub(super) async fn with_retries<F, Fut>(sim: &SimInner, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut delays = super::notify::RETRY_SCHEDULE_SECS.iter();
    while !attempt().await {
        let Some(delay) = delays.next() else { return };
        let delay = *delay as f64 / sim.cfg.retry_compression.max(1e-9);
        tokio::time::sleep(Duration::from_secs_f64(delay)).await;
    }
}

async fn query(
    State(sim): State<Arc<SimInner>>,
    Path(no): Path<String>,
    _auth: Authenticated,
) -> Response {
    let found = sim.ledger().refunds.get(&no).cloned();
    match found {
        Some(r) => sim.signed(StatusCode::OK, Some(refund_json(&r))),
        None => error(
            &sim,
            StatusCode::NOT_FOUND,
            "RESOURCE_NOT_EXISTS",
            "退款单不存在".into(),
        ),
    }
}
