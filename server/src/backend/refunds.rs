//! Refunds: `POST /api/orders/{id}/refunds` (merchant's server), WeChat's refund notifications
//! (`POST /api/wxpay/notify/refund`), and asking WeChat about refunds whose outcome is unknown.
//!
//! Exactly once: the refund is saved PENDING under its `out_refund_no` before WeChat is asked
//! (the store checks the amount against what is left in the same transaction), WeChat treats a
//! repeated `out_refund_no` as the same refund, and statuses only move forward. A call that
//! times out is answered 504 with the `out_refund_no` to retry with; the reconciler also asks.

use super::error::ApiError;
use super::server_auth::ServerAuth;
use super::wechat::v3::refund_answer;
use super::wechat::RefundAnswer;
use super::Backend;
use crate::order::{PayMode, TradeState};
use crate::refund::RefundStatus;
use crate::store::{DueRefunds, NewRefund, RefundCreated, RefundNews, RefundRecord};
use crate::timefmt::{parse_rfc3339, unix_now, utc_rfc3339};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use wxpay_sign::v3;

/// The body of `POST /api/orders/{id}/refunds`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Fen; default: all that is left of the payment.
    pub amount: Option<i64>,
    pub reason: Option<String>,
    /// Your idempotency key; default: a fresh one (returned).
    pub out_refund_no: Option<String>,
    /// Which payment; default: the order's own.
    pub transaction_id: Option<String>,
    /// Refund every extra payment of the order in full (one refund each) instead.
    #[serde(default)]
    pub extra_payments: bool,
}

/// The refund as the API shows it.
pub fn refund_json(r: &RefundRecord) -> Value {
    let mut v = json!({
        "out_refund_no": r.refund.out_refund_no,
        "transaction_id": r.refund.transaction_id,
        "out_trade_no": r.refund.out_trade_no,
        "amount": r.refund.amount,
        "status": r.status,
    });
    if let Some(id) = &r.refund_id {
        v["refund_id"] = json!(id);
    }
    if let Some(t) = &r.success_time {
        v["success_time"] = json!(t);
    }
    if let Some(reason) = &r.refund.reason {
        v["reason"] = json!(reason);
    }
    v
}

/// An order's refunds for the API, and the refunded total of its own payment (`paid_by`).
pub fn refunds_view(refunds: &[RefundRecord], paid_by: Option<&str>) -> (i64, Vec<Value>) {
    let refunded = refunds
        .iter()
        .filter(|r| {
            r.status == RefundStatus::Success && Some(r.refund.transaction_id.as_str()) == paid_by
        })
        .map(|r| r.refund.amount)
        .sum();
    (refunded, refunds.iter().map(refund_json).collect())
}

pub async fn create_refund(
    State(b): State<Arc<Backend>>,
    _auth: ServerAuth,
    Path(order_id): Path<String>,
    body: Result<Json<RefundRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(req) = body?;
    if req.extra_payments {
        let done = b.refund_extra_payments(&order_id, req.reason).await?;
        let list: Vec<Value> = done.iter().map(refund_json).collect();
        return Ok((StatusCode::CREATED, Json(json!({ "refunds": list }))));
    }
    let r = b.refund(&order_id, req).await?;
    Ok((StatusCode::CREATED, Json(refund_json(&r))))
}

impl Backend {
    /// Refunds (part of) a payment of an order: by default all that is left of the order's own
    /// payment. Idempotent per `out_refund_no`.
    pub async fn refund(
        &self,
        order_id: &str,
        req: RefundRequest,
    ) -> Result<RefundRecord, ApiError> {
        let order = self
            .store
            .order(order_id.to_string())
            .await?
            .ok_or_else(|| ApiError::order_not_found(order_id))?;
        let payments = self.store.payments(order_id.to_string()).await?;
        let wanted = req
            .transaction_id
            .as_deref()
            .or(order.transaction_id.as_deref());
        let payment = payments
            .iter()
            .find(|p| Some(p.transaction_id.as_str()) == wanted)
            .ok_or_else(|| match req.transaction_id {
                Some(t) => ApiError::bad_request(
                    "unknown_payment",
                    format!("order {order_id} has no payment {t}"),
                ),
                None => ApiError::conflict(
                    "not_paid",
                    format!("order {order_id} is {}: nothing to refund", order.state),
                ),
            })?;
        let refunds = self.store.refunds(order_id.to_string()).await?;
        let held: i64 = refunds
            .iter()
            .filter(|r| {
                r.refund.transaction_id == payment.transaction_id && r.status.holds_amount()
            })
            .map(|r| r.refund.amount)
            .sum();
        let amount = req.amount.unwrap_or(payment.amount - held);
        if amount < 1 && req.out_refund_no.is_none() {
            return Err(ApiError::conflict(
                "fully_refunded",
                format!(
                    "payment {} is already refunded in full",
                    payment.transaction_id
                ),
            ));
        }
        let reason = req.reason.filter(|r| !r.trim().is_empty());
        if reason.as_ref().is_some_and(|r| r.len() > 80) {
            return Err(ApiError::bad_request(
                "invalid_reason",
                "reason is at most 80 bytes (WeChat shows it to the buyer)",
            ));
        }
        let new = NewRefund {
            out_refund_no: req
                .out_refund_no
                .unwrap_or_else(|| crate::ids::out_refund_no(unix_now())),
            order_id: order_id.to_string(),
            transaction_id: payment.transaction_id.clone(),
            out_trade_no: payment.out_trade_no.clone(),
            amount,
            total: payment.amount,
            reason,
            api_version: self.cfg.api_version.as_str().to_string(),
            created_at: unix_now(),
        };
        if !(1..=payment.amount).contains(&new.amount) {
            return Err(ApiError::bad_request(
                "invalid_amount",
                format!(
                    "a refund of this payment is 1 to {} fen, got {}",
                    payment.amount, new.amount
                ),
            ));
        }
        // From here on every answer names the key: an error may come after the refund was
        // saved (a commit whose reply was lost), and only a retry under the same key is safe.
        let key = new.out_refund_no.clone();
        let keyed = |e: ApiError| e.with("out_refund_no", key.clone());
        let created = self
            .store
            .create_refund(new)
            .await
            .map_err(|e| keyed(e.into()))?;
        let record = match created {
            RefundCreated::New(r) => r,
            // Asked before but the outcome is unknown: ask again with the same key (WeChat
            // answers the same refund).
            RefundCreated::Existing(r) if r.status == RefundStatus::Pending => r,
            RefundCreated::Existing(r) => return Ok(r),
            RefundCreated::Conflict(r) => {
                return Err(ApiError::conflict(
                    "out_refund_no_used",
                    format!(
                        "out_refund_no {} is a refund of {} fen of {}; use another",
                        r.refund.out_refund_no, r.refund.amount, r.refund.transaction_id
                    ),
                ))
            }
            RefundCreated::NotEnough { left } => {
                return Err(ApiError::conflict(
                    "refund_exceeds_payment",
                    format!(
                        "only {left} fen of payment {} is left to refund",
                        payment.transaction_id
                    ),
                ))
            }
            RefundCreated::UnknownPayment => {
                return Err(ApiError::bad_request(
                    "unknown_payment",
                    "no such payment of this order",
                ))
            }
        };
        let paid_with = self.paid_with(&record.refund).await.map_err(keyed)?;
        let answer = self
            .wechat
            .refund(&record.refund, paid_with)
            .await
            .map_err(|e| keyed(e.into()))?;
        self.apply_refund_answer(&record, &answer)
            .await
            .map_err(keyed)
    }

    /// Refunds every extra payment of an order in full (one call), skipping those already refunded.
    pub async fn refund_extra_payments(
        &self,
        order_id: &str,
        reason: Option<String>,
    ) -> Result<Vec<RefundRecord>, ApiError> {
        let payments = self.store.payments(order_id.to_string()).await?;
        let refunds = self.store.refunds(order_id.to_string()).await?;
        let mut done = Vec::new();
        for p in payments.iter().filter(|p| p.extra) {
            let existing = refunds
                .iter()
                .find(|r| r.refund.transaction_id == p.transaction_id && r.status.holds_amount());
            if let Some(r) = existing.filter(|r| r.status != RefundStatus::Pending) {
                done.push(r.clone());
                continue;
            }
            let req = RefundRequest {
                amount: Some(p.amount),
                reason: reason
                    .clone()
                    .or_else(|| Some("重复支付退款 (paid twice)".into())),
                // One key per extra payment: calling again refunds nothing twice.
                out_refund_no: Some(format!("RX{}", p.transaction_id)),
                transaction_id: Some(p.transaction_id.clone()),
                extra_payments: false,
            };
            done.push(self.refund(order_id, req).await?);
        }
        if done.is_empty() {
            return Err(ApiError::conflict(
                "no_extra_payments",
                format!("order {order_id} has no extra payment to refund"),
            ));
        }
        Ok(done)
    }

    /// How the refunded payment was paid: its attempt's mode, whose appid a v2 refund names.
    async fn paid_with(&self, r: &NewRefund) -> Result<PayMode, ApiError> {
        let attempt = self
            .store
            .prepay_by_out_trade_no(r.out_trade_no.clone())
            .await?
            .ok_or_else(|| {
                ApiError::internal(format!(
                    "payment {} names attempt {}, which is not stored",
                    r.transaction_id, r.out_trade_no
                ))
            })?;
        Ok(attempt.mode)
    }

    async fn apply_refund_answer(
        &self,
        record: &RefundRecord,
        a: &RefundAnswer,
    ) -> Result<RefundRecord, ApiError> {
        if a.out_refund_no != record.refund.out_refund_no
            || a.amount.is_some_and(|x| x != record.refund.amount)
        {
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "wechat_bad_response",
                format!(
                    "WeChat's refund answer is about {} / {:?} fen, not {} / {} fen",
                    a.out_refund_no, a.amount, record.refund.out_refund_no, record.refund.amount
                ),
            ));
        }
        let news = RefundNews {
            out_refund_no: a.out_refund_no.clone(),
            status: a.status,
            refund_id: a.refund_id.clone(),
            success_time: a
                .success_time
                .as_deref()
                .and_then(parse_rfc3339)
                .map(utc_rfc3339),
            at: unix_now(),
        };
        let updated = self.store.update_refund(news).await?;
        let (r, changed) = updated.ok_or_else(|| ApiError::internal("the refund vanished"))?;
        if changed {
            tracing::info!(order_id = %r.refund.order_id, "refund {} -> {}", r.refund.out_refund_no, r.status);
            self.waiters.notify(&r.refund.order_id);
        }
        Ok(r)
    }

    /// Applies a verified refund notification (either API) to the refund it names, which must be
    /// ours and of `out_trade_no`: "applied", or "duplicate" when it changes nothing.
    pub(super) async fn apply_notified_refund(
        &self,
        answer: &RefundAnswer,
        out_trade_no: &str,
    ) -> Result<&'static str, (StatusCode, &'static str, String)> {
        let record = self
            .store
            .refund(answer.out_refund_no.clone())
            .await
            .map_err(|e| {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    e.to_string(),
                )
            })?
            .ok_or((
                StatusCode::NOT_FOUND,
                "unknown_refund",
                format!("no refund {}", answer.out_refund_no),
            ))?;
        if record.refund.out_trade_no != out_trade_no {
            return Err((
                StatusCode::BAD_REQUEST,
                "wrong_order",
                format!(
                    "refund {} is of {}, not {out_trade_no}",
                    answer.out_refund_no, record.refund.out_trade_no
                ),
            ));
        }
        let before = record.status;
        let after = self
            .apply_refund_answer(&record, answer)
            .await
            .map_err(|e| (e.status, e.code, e.message))?;
        Ok(if after.status != before {
            "applied"
        } else {
            "duplicate"
        })
    }

    /// Asks WeChat about refunds still PENDING / PROCESSING after `query_after_secs`, each at most
    /// every `query_interval_secs` and claimed first, so instances sharing a database split them;
    /// a PENDING one WeChat never received is sent again under the same `out_refund_no`.
    pub async fn reconcile_refunds(&self) {
        let now = unix_now();
        let due = DueRefunds {
            created_before: now - self.cfg.query_after_secs as i64,
            queried_before: now - self.cfg.query_interval_secs as i64,
            now,
            limit: 200,
        };
        let open = match self.store.claim_due_refunds(due).await {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!("reconciler: cannot list unsettled refunds: {e}");
                return;
            }
        };
        for r in open {
            let paid_with = match self.paid_with(&r.refund).await {
                Ok(mode) => mode,
                Err(e) => {
                    tracing::warn!("refund {}: {}", r.refund.out_refund_no, e.message);
                    continue;
                }
            };
            let asked = self
                .wechat
                .query_refund(&r.refund.out_refund_no, &r.refund.api_version, paid_with)
                .await;
            let answer = match asked {
                Ok(Some(a)) => a,
                // Saved but never received by WeChat: send it now, under the same key.
                Ok(None) if r.status == RefundStatus::Pending => {
                    match self.wechat.refund(&r.refund, paid_with).await {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!("refund {}: {e}", r.refund.out_refund_no);
                            continue;
                        }
                    }
                }
                Ok(None) => {
                    tracing::warn!(
                        "refund {} is {} here but unknown to WeChat",
                        r.refund.out_refund_no,
                        r.status
                    );
                    continue;
                }
                Err(e) => {
                    tracing::warn!("refund {}: {e}", r.refund.out_refund_no);
                    continue;
                }
            };
            if let Err(e) = self.apply_refund_answer(&r, &answer).await {
                tracing::warn!("refund {}: {}", r.refund.out_refund_no, e.message);
            }
        }
    }
}

/// `POST /api/wxpay/notify/refund`: WeChat's v3 refund notifications (verified and decrypted
/// like payment notifications; applied once).
pub async fn notify_refund(
    State(b): State<Arc<Backend>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => return b.refuse_unread("v3-refund", &headers, e).await,
    };
    let opened = b.open_v3(&headers, &body, v3::open_notification).await;
    // (the out_trade_no to file it under once authentic, the verdict or the refusal)
    let (authentic, result) = async {
        let plaintext = match opened {
            Ok((envelope, p)) if envelope.resource.original_type == "refund" => p,
            Ok((envelope, _)) => {
                let m = format!(
                    "original_type {} is not refund",
                    envelope.resource.original_type
                );
                return (None, Err((StatusCode::BAD_REQUEST, "wrong_type", m)));
            }
            Err(e) => {
                let refused = (StatusCode::UNAUTHORIZED, "unverified", e.to_string());
                return (None, Err(refused));
            }
        };
        let parsed: Result<(Value, RefundAnswer), String> =
            serde_json::from_slice::<Value>(&plaintext)
                .map_err(|e| e.to_string())
                .and_then(|v| refund_answer(&v).map(|a| (v, a)).map_err(|e| e.to_string()));
        let (value, answer) = match parsed {
            Ok(x) => x,
            Err(e) => {
                let refused = (StatusCode::BAD_REQUEST, "invalid_refund", e);
                return (Some(String::new()), Err(refused));
            }
        };
        let out_trade_no = value["out_trade_no"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if value["mchid"].as_str() != Some(b.cfg.mchid.as_str()) {
            let refused = (
                StatusCode::BAD_REQUEST,
                "wrong_mchid",
                "not our mchid".into(),
            );
            return (Some(out_trade_no), Err(refused));
        }
        let result = b.apply_notified_refund(&answer, &out_trade_no).await;
        (Some(out_trade_no), result)
    }
    .await;
    let verdict = match &result {
        Ok(verdict) => (*verdict).to_string(),
        Err((_, code, message)) => format!("rejected: {code}: {message}"),
    };
    let kept = b
        .audit("v3-refund", &headers, &body, authentic, verdict)
        .await;
    super::notify::answer_v3(result.err(), kept)
}

/// Whether an order in `state` can have refunds to show.
pub fn may_have_refunds(state: TradeState) -> bool {
    matches!(
        state,
        TradeState::Success | TradeState::Refund | TradeState::Closed
    )
}
