//! The storage layer: what the backend needs to remember, behind one trait.
//!
//! `SqliteStore` (the default, an embedded file) implements it; a PostgreSQL store would implement
//! the same [`Store`] trait with the same SQL shape (the conditional `UPDATE … WHERE state IN (…)`
//! in one transaction is plain SQL). Methods take owned values and return boxed futures so the
//! backend can hold an `Arc<dyn Store>` and a blocking driver can run on `spawn_blocking`.

mod sqlite;

pub use sqlite::SqliteStore;

use crate::order::{Order, PayMode, TradeState};
use std::future::Future;
use std::pin::Pin;

/// What every store method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("cannot open the database at {path}: {reason}; check that the data directory exists and is writable")]
    Open { path: String, reason: String },
    #[error("out_trade_no {0} is already used by another order")]
    DuplicateOutTradeNo(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(e.to_string())
    }
}

/// A new order to insert (state NOTPAY).
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub order_id: String,
    pub out_trade_no: String,
    pub description: String,
    pub amount: i64,
    pub created_at: i64,
}

/// One request to WeChat for a way to pay (one `out_trade_no`), and what WeChat answered.
///
/// An order can have several: WeChat refuses an `out_trade_no` reused with different parameters,
/// so switching mode (or payer) needs a fresh `out_trade_no`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepay {
    pub out_trade_no: String,
    pub order_id: String,
    pub mode: PayMode,
    /// "v3" or "v2": which API the prepay was made with (and notifications will use).
    pub api_version: String,
    pub openid: Option<String>,
    pub prepay_id: Option<String>,
    pub code_url: Option<String>,
    /// Without `redirect_url`; that is appended per request.
    pub h5_url: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
}

/// A requested state change, with what WeChat told us about it.
#[derive(Debug, Clone)]
pub struct Transition {
    pub order_id: String,
    pub to: TradeState,
    pub transaction_id: Option<String>,
    pub paid_at: Option<String>,
    pub payer_openid: Option<String>,
    /// "notify-v3", "notify-v2", "query", …: kept in the event log.
    pub source: String,
    pub at: i64,
}

/// What happened to a [`Transition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionOutcome {
    /// This call changed the state (exactly one concurrent caller sees this).
    Applied {
        from: TradeState,
        order: Order,
    },
    /// The order was already in a state the move is not allowed from (a duplicate, or late news).
    Unchanged(Order),
    NotFound,
}

/// A raw notification kept for audit, whatever its verdict.
#[derive(Debug, Clone)]
pub struct NotificationRecord {
    pub received_at: i64,
    pub api_version: String,
    /// The `Wechatpay-*` headers (v3) as JSON; empty for v2.
    pub headers: String,
    pub body: Vec<u8>,
    pub out_trade_no: Option<String>,
    /// "applied", "duplicate" or "rejected: <reason>".
    pub verdict: String,
}

/// One row of the order event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderEvent {
    pub order_id: String,
    pub from: TradeState,
    pub to: TradeState,
    pub source: String,
    pub at: i64,
}

/// Which unpaid orders the reconciler should ask WeChat about (unix seconds throughout).
#[derive(Debug, Clone, Copy)]
pub struct DueQuery {
    /// Not asked since this moment (or never).
    pub queried_before: i64,
    /// With a prepay made before this moment (so a notification is overdue)…
    pub prepay_before: i64,
    /// …that had not long expired by then (older ones are WeChat's closed orders).
    pub prepay_expiring_after: i64,
    pub limit: i64,
}

/// The storage interface of the backend.
pub trait Store: Send + Sync + 'static {
    fn create_order(&self, order: NewOrder) -> StoreFuture<'_, Order>;
    fn order(&self, order_id: String) -> StoreFuture<'_, Option<Order>>;
    /// Applies a transition if the current state allows it, atomically, logging an event.
    fn transition(&self, t: Transition) -> StoreFuture<'_, TransitionOutcome>;
    /// Inserts or replaces the prepay for its `out_trade_no`.
    fn save_prepay(&self, prepay: Prepay) -> StoreFuture<'_, ()>;
    /// All prepays of an order, newest first.
    fn prepays(&self, order_id: String) -> StoreFuture<'_, Vec<Prepay>>;
    fn prepay_by_out_trade_no(&self, out_trade_no: String) -> StoreFuture<'_, Option<Prepay>>;
    fn mark_queried(&self, order_id: String, at: i64) -> StoreFuture<'_, ()>;
    /// Unpaid orders overdue for a query of WeChat, least recently asked first.
    fn due_for_query(&self, q: DueQuery) -> StoreFuture<'_, Vec<Order>>;
    fn record_notification(&self, n: NotificationRecord) -> StoreFuture<'_, i64>;
    fn notifications(&self, out_trade_no: String) -> StoreFuture<'_, Vec<NotificationRecord>>;
    fn events(&self, order_id: String) -> StoreFuture<'_, Vec<OrderEvent>>;
}
