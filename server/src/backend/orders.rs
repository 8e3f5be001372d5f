//! `POST /api/orders` and `GET /api/orders/{id}` (with `?wait=N` long-polling).

use super::error::ApiError;
use super::Backend;
use crate::devkeys::random_alnum;
use crate::order::Order;
use crate::store::NewOrder;
use crate::timefmt::unix_now;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// WeChat's limit on `description` / `body`, in bytes of UTF-8.
pub const MAX_DESCRIPTION_BYTES: usize = 127;
/// Longest long-poll a client may ask for.
pub const MAX_WAIT_SECS: u64 = 30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    description: String,
    amount: i64,
}

/// The order as the page sees it.
pub fn order_json(o: &Order) -> Value {
    let mut v = json!({
        "order_id": o.order_id,
        "out_trade_no": o.out_trade_no,
        "description": o.description,
        "amount": o.amount,
        "state": o.state,
    });
    if let Some(t) = &o.paid_at {
        v["paid_at"] = json!(t);
    }
    if let Some(t) = &o.transaction_id {
        v["transaction_id"] = json!(t);
    }
    v
}

pub async fn create_order(
    State(b): State<Arc<Backend>>,
    body: Result<Json<CreateOrder>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(req) = body?;
    let description = req.description.trim();
    if description.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_description",
            "description must not be empty",
        ));
    }
    if description.len() > MAX_DESCRIPTION_BYTES {
        return Err(ApiError::bad_request(
            "invalid_description",
            format!(
                "description is {} bytes of UTF-8; WeChat allows at most {MAX_DESCRIPTION_BYTES}",
                description.len()
            ),
        ));
    }
    if req.amount <= 0 {
        return Err(ApiError::bad_request(
            "invalid_amount",
            format!(
                "amount is in fen and must be at least 1, got {}",
                req.amount
            ),
        ));
    }
    let now = unix_now();
    // 25 characters: room for an attempt suffix within WeChat's 32, and a date prefix that
    // makes the merchant platform's listings readable.
    let out_trade_no = format!("WXC{}{}", crate::timefmt::v2_time(now), random_alnum(8));
    let order = b
        .store
        .create_order(NewOrder {
            order_id: format!("ord_{}", random_alnum(20)),
            out_trade_no,
            description: description.to_string(),
            amount: req.amount,
            created_at: now,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(order_json(&order))))
}

#[derive(Deserialize)]
pub struct GetQuery {
    wait: Option<u64>,
}

pub async fn get_order(
    State(b): State<Arc<Backend>>,
    Path(order_id): Path<String>,
    query: Result<Query<GetQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query?;
    let wait = q.wait.unwrap_or(0);
    if wait > MAX_WAIT_SECS {
        return Err(ApiError::bad_request(
            "invalid_wait",
            format!("wait is at most {MAX_WAIT_SECS} seconds, got {wait}"),
        ));
    }
    let order = b
        .store
        .order(order_id.clone())
        .await?
        .ok_or_else(|| ApiError::order_not_found(&order_id))?;
    b.maybe_query_wechat(&order);
    if wait == 0 || order.state.is_final() {
        return Ok(Json(order_json(&order)));
    }
    let mut changed = b.waiters.subscribe(&order_id);
    // Read again after subscribing: a change between the first read and the subscription
    // would otherwise be missed until the timeout.
    let order = b
        .store
        .order(order_id.clone())
        .await?
        .ok_or_else(|| ApiError::order_not_found(&order_id))?;
    let initial = order.state;
    if order.state.is_final() {
        return Ok(Json(order_json(&order)));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        // Wake at least every second: a long wait may become due for a query of WeChat.
        let tick = deadline.min(tokio::time::Instant::now() + Duration::from_secs(1));
        let poked = match tokio::time::timeout_at(tick, changed.changed()).await {
            Ok(Ok(())) => true,
            // The channel closed (cannot happen while we hold a receiver); just wait out the tick.
            Ok(Err(_)) => {
                tokio::time::sleep_until(tick).await;
                false
            }
            Err(_) => false,
        };
        let now = b
            .store
            .order(order_id.clone())
            .await?
            .ok_or_else(|| ApiError::order_not_found(&order_id))?;
        if now.state != initial {
            return Ok(Json(order_json(&now)));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Json(order_json(&now)));
        }
        if !poked {
            b.maybe_query_wechat(&now);
        }
    }
}
