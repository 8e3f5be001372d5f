//! The merchant backend: the HTTP contract the browser package speaks, mounted under `/api`.
//!
//! - [`orders`]: create an order, read it (with `?wait=` long-polling).
//! - [`pay`]: turn an order into a way to pay (code_url / JSAPI parameters / h5_url).
//! - [`notify`]: WeChat's asynchronous notifications (v3 JSON, v2 XML) — the only place besides
//!   [`reconcile`] where an order can become paid.
//! - [`audit`]: keeping notifications (whole when authentic, bounded when not).
//! - [`refunds`]: refunds (merchant-server route, WeChat's v3 refund notifications, reconciling).
//! - [`refund_notify_v2`]: WeChat's v2 refund notifications (`req_info`).
//! - [`reconcile`]: asks WeChat about orders that waited too long without a notification.
//! - [`wechat`]: the signed, verified calls to WeChat Pay.
//! - [`server_auth`]: the bearer token of the merchant-server routes.
//! - [`waiters`]: wake-ups for long-polls; [`error`]: the `{"error", "message"}` answer.

pub mod audit;
pub mod error;
pub mod notify;
pub mod orders;
pub mod pay;
pub mod reconcile;
pub mod refund_notify_v2;
pub mod refunds;
pub mod server_auth;
pub mod waiters;
pub mod wechat;

use crate::config::{Config, ConfigError, Credentials};
use crate::order::TradeState;
use crate::store::{AttemptNews, NewsOutcome, Store, StoreError, Transition, TransitionOutcome};
use axum::routing::{get, post};
use axum::Router;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Everything a request handler needs; shared behind an `Arc`.
pub struct Backend {
    pub cfg: Arc<Config>,
    pub creds: Arc<Credentials>,
    pub store: Arc<dyn Store>,
    pub wechat: wechat::Wechat,
    pub waiters: waiters::Waiters,
    /// Orders a query to WeChat is running for, so concurrent polls do not all ask.
    querying: Mutex<HashSet<String>>,
    /// Writes of rejected notifications in flight ([`audit::REJECTED_WRITERS`] at most).
    rejected_writers: tokio::sync::Semaphore,
}

impl Backend {
    /// Checks the configuration, parses the keys and builds the backend around `store`.
    pub fn new(cfg: Config, store: Arc<dyn Store>) -> Result<Arc<Backend>, ConfigError> {
        let creds = Credentials::load(&cfg)?;
        Ok(Backend::from_parts(cfg, creds, store))
    }

    /// The backend from already-checked parts.
    pub fn from_parts(cfg: Config, creds: Credentials, store: Arc<dyn Store>) -> Arc<Backend> {
        let (cfg, creds) = (Arc::new(cfg), Arc::new(creds));
        Arc::new(Backend {
            wechat: wechat::Wechat::new(cfg.clone(), creds.clone()),
            cfg,
            creds,
            store,
            waiters: waiters::Waiters::default(),
            querying: Mutex::new(HashSet::new()),
            rejected_writers: tokio::sync::Semaphore::new(audit::REJECTED_WRITERS),
        })
    }

    /// Applies a state change through the store and wakes whoever long-polls the order.
    pub async fn transition(&self, t: Transition) -> Result<TransitionOutcome, StoreError> {
        let order_id = t.order_id.clone();
        let outcome = self.store.transition(t).await?;
        if let TransitionOutcome::Applied { from, order } = &outcome {
            tracing::info!(order_id = %order.order_id, "order {from} -> {}", order.state);
            self.waiters.notify(&order_id);
        }
        Ok(outcome)
    }

    /// Records verified news about one attempt (see [`Store::record_news`]), wakes long-polls,
    /// and once the order is paid closes its other attempts at WeChat.
    pub async fn record_news(
        self: &Arc<Self>,
        news: AttemptNews,
    ) -> Result<NewsOutcome, StoreError> {
        let (out_trade_no, transaction_id) =
            (news.out_trade_no.clone(), news.transaction_id.clone());
        let outcome = self.store.record_news(news).await?;
        match &outcome {
            NewsOutcome::OrderChanged { from, order } => {
                tracing::info!(order_id = %order.order_id, "order {from} -> {} ({out_trade_no})", order.state);
                self.waiters.notify(&order.order_id);
                if order.state == TradeState::Success {
                    self.close_other_attempts(&order.order_id, &out_trade_no);
                }
            }
            // The payment again (WeChat re-sends until acknowledged): if the instance that
            // recorded it died before closing the other attempts, they are closed now.
            NewsOutcome::Duplicate(order)
                if order.state == TradeState::Success
                    && order.transaction_id.is_some()
                    && order.transaction_id == transaction_id =>
            {
                self.close_other_attempts(&order.order_id, &out_trade_no);
            }
            NewsOutcome::ExtraPayment(order) => {
                tracing::error!(order_id = %order.order_id, "extra payment {transaction_id:?} ({out_trade_no}) of an order that is {}: refund it", order.state);
                self.waiters.notify(&order.order_id);
            }
            _ => {}
        }
        Ok(outcome)
    }
}

/// The backend's routes (all under `/api`), ready to be merged into an app or served alone.
pub fn router(backend: Arc<Backend>) -> Router {
    // The page-facing routes may be called cross-origin (configured origins only); WeChat's
    // notifications are server to server and get no CORS headers.
    let page_api = Router::new()
        .route("/api/orders", post(orders::create_order))
        .route("/api/orders/{order_id}", get(orders::get_order))
        .route("/api/orders/{order_id}/pay", post(pay::pay));
    let page_api = match cors_layer(&backend.cfg.cors_origins) {
        Some(cors) => page_api.layer(cors),
        None => page_api,
    };
    Router::new()
        .merge(page_api)
        .merge(
            Router::new()
                .route("/api/wxpay/notify", post(notify::notify_v3))
                .route("/api/wxpay/notify/v2", post(notify::notify_v2))
                .route("/api/wxpay/notify/refund", post(refunds::notify_refund))
                .route(
                    "/api/wxpay/notify/v2/refund",
                    post(refund_notify_v2::notify_refund_v2),
                )
                // Nothing WeChat sends is this large; a bigger body is refused unread.
                .layer(axum::extract::DefaultBodyLimit::max(
                    audit::MAX_NOTIFICATION_BYTES,
                )),
        )
        .route("/api/orders/{order_id}/close", post(orders::close_order))
        .route(
            "/api/orders/{order_id}/refunds",
            post(refunds::create_refund),
        )
        .with_state(backend)
}

fn cors_layer(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, HeaderValue, Method};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| o.trim_end_matches('/').parse().ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        tower_http::cors::CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            // Date: the checkout's countdown runs on the server's clock, not the buyer's.
            .expose_headers([header::RETRY_AFTER, header::DATE]),
    )
}
