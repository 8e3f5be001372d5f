//! Creating orders (priced on the server) and reading them (`?wait=N` long-polling); closing
//! an order the merchant gives up on.
//!
//! A page orders catalog items (`{"items": [{"sku", "quantity"}]}`) and the catalog sets the
//! price. Only the merchant's own server, authenticated by its bearer token, may name an amount
//! (`{"description", "amount"}`), as may Rust code through [`Backend::create_order`].

use super::error::ApiError;
use super::refunds::refunds_view;
use super::server_auth::{self, ServerAuth};
use super::Backend;
use crate::catalog::{self, ItemRequest, OrderLine};
use crate::order::{Order, TradeState};
use crate::store::{NewOrder, OrderSnapshot, Transition, TransitionOutcome};
use crate::timefmt::unix_now;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub use crate::catalog::MAX_DESCRIPTION_BYTES;
/// Longest long-poll a client may ask for.
pub const MAX_WAIT_SECS: u64 = 30;

/// The body of `POST /api/orders`: catalog items (pages), or a description and an amount (the
/// merchant's server, with its bearer token).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    items: Option<Vec<ItemRequest>>,
    description: Option<String>,
    amount: Option<i64>,
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
    if !o.items.is_empty() {
        v["items"] = json!(o
            .items
            .iter()
            .map(|l| json!({ "sku": l.sku, "description": l.description,
                             "quantity": l.quantity, "unit_amount": l.unit_amount }))
            .collect::<Vec<_>>());
    }
    v
}

pub async fn create_order(
    State(b): State<Arc<Backend>>,
    headers: HeaderMap,
    body: Result<Json<CreateOrder>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(req) = body?;
    let order = match (req.items, req.description, req.amount) {
        (Some(items), None, None) => b.create_catalog_order(&items).await?,
        (None, Some(description), Some(amount)) => {
            server_auth::check(&b, &headers).map_err(|e| {
                let mut e = e;
                e.message.push_str(
                    r#"; pages order catalog items instead: {"items": [{"sku": "…", "quantity": 1}]}"#,
                );
                e
            })?;
            b.create_order(&description, amount).await?
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_order",
                r#"send {"items": [{"sku", "quantity"}]} (priced from the catalog), or from the merchant's server {"description", "amount"} with its bearer token"#,
            ))
        }
    };
    Ok((StatusCode::CREATED, Json(b.order_view(&order).await?)))
}

/// `POST /api/orders/{id}/close` (merchant's server): the shop gives up on an unpaid order.
pub async fn close_order(
    State(b): State<Arc<Backend>>,
    _auth: ServerAuth,
    Path(order_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let order = b.close_order(&order_id).await?;
    Ok(Json(b.order_view(&order).await?))
}

impl Backend {
    /// Creates an order at a price the merchant's server decided (1 ≤ `amount` fen ≤ 2³¹−1,
    /// `description` 1–127 bytes). Never call this with a price that came from a browser.
    pub async fn create_order(&self, description: &str, amount: i64) -> Result<Order, ApiError> {
        let description = catalog::check_description(description)
            .map_err(|m| ApiError::bad_request("invalid_description", m))?;
        let amount = catalog::check_amount(amount)
            .map_err(|m| ApiError::bad_request("invalid_amount", m))?;
        self.insert_order(description.to_string(), amount, Vec::new())
            .await
    }

    /// Creates an order of catalog items, priced from the configured `[catalog]`.
    pub async fn create_catalog_order(&self, items: &[ItemRequest]) -> Result<Order, ApiError> {
        let priced = catalog::price(&self.cfg.catalog, items).map_err(|e| {
            let code = match e {
                catalog::PricingError::UnknownSku { .. } => "unknown_sku",
                catalog::PricingError::Amount(_) => "invalid_amount",
                _ => "invalid_items",
            };
            ApiError::bad_request(code, e.to_string())
        })?;
        self.insert_order(priced.description, priced.amount, priced.lines)
            .await
    }

    async fn insert_order(
        &self,
        description: String,
        amount: i64,
        items: Vec<OrderLine>,
    ) -> Result<Order, ApiError> {
        let now = unix_now();
        Ok(self
            .store
            .create_order(NewOrder {
                order_id: crate::ids::order_id(),
                out_trade_no: crate::ids::out_trade_no(now),
                description,
                amount,
                created_at: now,
                items,
            })
            .await?)
    }

    /// The shop gives up on an unpaid order: it becomes CLOSED, then every attempt is closed at
    /// WeChat. A payment that still arrives for it is kept as an extra payment to refund.
    pub async fn close_order(self: &Arc<Self>, order_id: &str) -> Result<Order, ApiError> {
        let outcome = self
            .transition(Transition {
                order_id: order_id.to_string(),
                to: TradeState::Closed,
                transaction_id: None,
                paid_at: None,
                payer_openid: None,
                source: "merchant-close".into(),
                at: unix_now(),
            })
            .await?;
        let order = match outcome {
            TransitionOutcome::NotFound => return Err(ApiError::order_not_found(order_id)),
            TransitionOutcome::Applied { order, .. } => order,
            TransitionOutcome::Unchanged(o) if o.state == TradeState::Closed => o,
            TransitionOutcome::Unchanged(o) => {
                return Err(ApiError::conflict(
                    "already_paid",
                    format!(
                        "order {order_id} is {}; refund it instead of closing it",
                        o.state
                    ),
                ))
            }
        };
        for p in self.store.prepays(order_id.to_string()).await? {
            if let Err(e) = self.wechat.close(&p).await {
                tracing::warn!(
                    order_id,
                    "closing attempt {} at WeChat: {e}",
                    p.out_trade_no
                );
                // Paid meanwhile? Ask, so the payment is recorded (as an extra one to refund).
                if let Ok(answer) = self.wechat.query(&p).await {
                    let _ = self.apply_query_answer(&order, &p, &answer).await;
                }
            }
        }
        Ok(order)
    }

    /// The order as the API shows it: once paid or closed, with the payments to give back and
    /// its refunds, read again with them at one moment ([`crate::store::Store::order_snapshot`])
    /// so that the refunded total and the state agree.
    pub async fn order_view(&self, order: &Order) -> Result<Value, ApiError> {
        // A payment of an unpaid order pays it, so only a paid or closed order has money to show.
        if !order.state.is_final() {
            return Ok(order_json(order));
        }
        let snapshot = self
            .store
            .order_snapshot(order.order_id.clone())
            .await?
            .ok_or_else(|| ApiError::order_not_found(&order.order_id))?;
        Ok(snapshot_json(&snapshot))
    }
}

/// An order with its money: extra payments to give back, refunds and the refunded total.
fn snapshot_json(s: &OrderSnapshot) -> Value {
    let mut v = order_json(&s.order);
    let extra: Vec<Value> = s
        .payments
        .iter()
        .filter(|p| p.extra)
        .map(|p| {
            json!({ "transaction_id": p.transaction_id, "out_trade_no": p.out_trade_no,
                         "amount": p.amount, "paid_at": p.paid_at })
        })
        .collect();
    if !extra.is_empty() {
        v["extra_payments"] = json!(extra);
    }
    if super::refunds::may_have_refunds(s.order.state) && !s.refunds.is_empty() {
        let (refunded, list) = refunds_view(&s.refunds, s.order.transaction_id.as_deref());
        v["refunded"] = json!(refunded);
        v["refunds"] = json!(list);
    }
    v
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
        return Ok(Json(b.order_view(&order).await?));
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
        return Ok(Json(b.order_view(&order).await?));
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
            return Ok(Json(b.order_view(&now).await?));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Json(b.order_view(&now).await?));
        }
        if !poked {
            b.maybe_query_wechat(&now);
        }
    }
}
