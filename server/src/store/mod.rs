//! The storage layer: what the backend needs to remember, behind one trait.
//!
//! What is kept: orders; their payment attempts ([`Prepay`], one `out_trade_no` each, with
//! WeChat's last verified state of that attempt); the payments WeChat confirmed
//! ([`PaymentRecord`], one per `transaction_id`, extra ones flagged); refunds ([`RefundRecord`],
//! one per `out_refund_no`); authenticated notifications whole ([`NotificationRecord`]) and
//! unauthenticated ones bounded ([`RejectedNotification`], capped); the order event log.
//!
//! [`SqliteStore`] (the default, an embedded file, one instance) and [`PostgresStore`] (several
//! instances on one database) implement [`Store`] with the same atomicity, which is what the
//! guarantees rest on: [`Store::transition`], [`Store::record_news`], [`Store::create_refund`],
//! [`Store::update_refund`] and [`Store::record_rejected`] each run as one transaction that takes
//! the write lock before reading (SQLite `BEGIN IMMEDIATE`; PostgreSQL `SELECT … FOR UPDATE` on
//! the order row, or the totals row of the rejected store), and every state change is a
//! conditional update from the allowed source states. One conformance suite
//! (`tests/store_conformance.rs`) checks both. [`changes`] carries PostgreSQL's order-change
//! announcements to the long-polls of every instance; [`postgres_tls`] makes the connections to
//! a database across a network verified TLS. Methods take owned values and return boxed
//! futures so the backend can hold an `Arc<dyn Store>` and a blocking driver can run on
//! `spawn_blocking`.

pub mod changes;
pub(crate) mod postgres;
pub mod postgres_tls;
mod sqlite;

pub use postgres::{PostgresOptions, PostgresStore};
pub use sqlite::SqliteStore;

use crate::catalog::OrderLine;
use crate::order::{Order, PayMode, TradeState};
use crate::refund::RefundStatus;
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
    /// The database cannot be reached (down, restarting, connection lost): retry later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
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
    /// The catalog lines it was priced from (empty: created with an amount).
    pub items: Vec<OrderLine>,
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
    /// WeChat's last verified `trade_state` of this attempt (NOTPAY until we hear otherwise).
    /// Saving a prepay never changes it; [`Store::record_news`] does.
    pub state: TradeState,
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

/// A notification that did not authenticate, kept in bounded form: anyone can POST to
/// `notify_url`, so nothing unauthenticated is stored whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedNotification {
    pub received_at: i64,
    pub api_version: String,
    /// The request headers an audit needs (JSON object), each value cut to a few hundred bytes.
    pub headers: String,
    /// The first few KB of the body.
    pub body_head: Vec<u8>,
    /// The whole body's size in bytes (as received, or as announced when it was too large).
    pub body_size: u64,
    /// Lower-case hex SHA-256 of the whole body; None when it was too large to read.
    pub body_sha256: Option<String>,
    /// "rejected: <code>: <reason>".
    pub verdict: String,
}

impl RejectedNotification {
    /// What the row costs against [`RejectedCap::max_bytes`].
    pub fn stored_bytes(&self) -> u64 {
        (self.headers.len() + self.body_head.len() + self.verdict.len() + 64) as u64
    }
}

/// The bound of the rejected-notification store: beyond either, the oldest rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejectedCap {
    pub max_rows: u64,
    pub max_bytes: u64,
}

/// An authenticated notification kept whole for audit, whatever its verdict.
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

/// What WeChat verifiably said about one payment attempt (one `out_trade_no`): from a verified
/// notification or a verified query answer.
#[derive(Debug, Clone)]
pub struct AttemptNews {
    pub out_trade_no: String,
    /// WeChat's `trade_state` of this attempt.
    pub state: TradeState,
    /// Required when `state` is SUCCESS or REFUND (a payment exists).
    pub transaction_id: Option<String>,
    /// The paid amount (fen), as WeChat reports it.
    pub amount: i64,
    pub paid_at: Option<String>,
    pub payer_openid: Option<String>,
    /// "notify-v3", "query-v2", …: kept in the event log.
    pub source: String,
    pub at: i64,
}

/// What recording an [`AttemptNews`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewsOutcome {
    /// The order changed state because of it (paid, or failed); exactly one caller sees this.
    OrderChanged { from: TradeState, order: Order },
    /// A payment already recorded (the same `transaction_id`): nothing changed.
    Duplicate(Order),
    /// A payment for an order that was already paid by another one, or closed by the merchant:
    /// kept as an extra payment to refund ([`PaymentRecord::extra`]).
    ExtraPayment(Order),
    /// Only the attempt's own state was recorded (e.g. CLOSED while the order may still be paid
    /// through another attempt), or it was no news at all.
    AttemptOnly(Order),
    /// No attempt with this `out_trade_no`.
    NotFound,
}

/// A payment WeChat confirmed (one `transaction_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub transaction_id: String,
    pub order_id: String,
    pub out_trade_no: String,
    pub amount: i64,
    pub paid_at: Option<String>,
    /// Not the order's payment (a second payment, or one after the merchant closed the order):
    /// money to give back.
    pub extra: bool,
    pub at: i64,
}

/// A refund to save (PENDING) before WeChat is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    /// WeChat's idempotency key of the refund.
    pub out_refund_no: String,
    pub order_id: String,
    /// The payment refunded.
    pub transaction_id: String,
    pub out_trade_no: String,
    pub amount: i64,
    /// The payment's amount (WeChat's `amount.total`).
    pub total: i64,
    pub reason: Option<String>,
    pub api_version: String,
    pub created_at: i64,
}

/// A refund as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub refund: NewRefund,
    pub status: RefundStatus,
    pub refund_id: Option<String>,
    pub success_time: Option<String>,
    pub updated_at: i64,
}

/// An order with its payments and refunds as they stood at one moment ([`Store::order_snapshot`]):
/// never a settled refund next to the order's state from before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSnapshot {
    pub order: Order,
    /// Oldest first.
    pub payments: Vec<PaymentRecord>,
    /// Oldest first.
    pub refunds: Vec<RefundRecord>,
}

/// What [`Store::create_refund`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundCreated {
    New(RefundRecord),
    /// The same `out_refund_no` with the same payment and amount: that refund (idempotent).
    Existing(RefundRecord),
    /// The `out_refund_no` is taken by a refund with other parameters.
    Conflict(RefundRecord),
    /// More than is left of the payment (`left` fen; CLOSED refunds do not count).
    NotEnough {
        left: i64,
    },
    /// No such payment of this order.
    UnknownPayment,
}

/// What WeChat said about a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundNews {
    pub out_refund_no: String,
    pub status: RefundStatus,
    pub refund_id: Option<String>,
    pub success_time: Option<String>,
    pub at: i64,
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

/// Which orders the reconciler should ask WeChat about (unix seconds throughout): those with an
/// attempt that may still be paid (NOTPAY or USERPAYING here) — an unpaid order's, or a paid
/// one's left open (a second payment to find, or an attempt to close).
#[derive(Debug, Clone, Copy)]
pub struct DueQuery {
    /// Not asked since this moment (or never).
    pub queried_before: i64,
    /// With an open attempt made before this moment (so a notification is overdue)…
    pub prepay_before: i64,
    /// …that had not long expired by then (older ones are WeChat's closed orders).
    pub prepay_expiring_after: i64,
    /// Claimed as asked at this time.
    pub now: i64,
    pub limit: i64,
}

/// Which unsettled refunds the reconciler asks WeChat about now: see
/// [`Store::claim_due_refunds`].
#[derive(Debug, Clone, Copy)]
pub struct DueRefunds {
    /// Saved before this (a younger one is still being sent by the request that saved it)…
    pub created_before: i64,
    /// …and not asked about since this…
    pub queried_before: i64,
    /// …claimed as asked at this time.
    pub now: i64,
    pub limit: i64,
}

/// The storage interface of the backend.
pub trait Store: Send + Sync + 'static {
    fn create_order(&self, order: NewOrder) -> StoreFuture<'_, Order>;
    fn order(&self, order_id: String) -> StoreFuture<'_, Option<Order>>;
    /// Applies a transition if the current state allows it, atomically, logging an event.
    /// (Merchant-side moves such as closing an order; WeChat's news goes through
    /// [`Store::record_news`].)
    fn transition(&self, t: Transition) -> StoreFuture<'_, TransitionOutcome>;
    /// Records what WeChat said about one attempt, in one transaction: the attempt's state, the
    /// payment (unique by `transaction_id`, so duplicates are recognised), and the order's state
    /// when it follows (the first payment of an unpaid order pays it; a failure of an unpaid order
    /// fails it; an attempt's CLOSED / REVOKED never closes the order). See [`NewsOutcome`].
    fn record_news(&self, news: AttemptNews) -> StoreFuture<'_, NewsOutcome>;
    /// The payments WeChat confirmed for an order, oldest first.
    fn payments(&self, order_id: String) -> StoreFuture<'_, Vec<PaymentRecord>>;
    /// Inserts or replaces the prepay for its `out_trade_no`.
    fn save_prepay(&self, prepay: Prepay) -> StoreFuture<'_, ()>;
    /// All prepays of an order, newest first.
    fn prepays(&self, order_id: String) -> StoreFuture<'_, Vec<Prepay>>;
    fn prepay_by_out_trade_no(&self, out_trade_no: String) -> StoreFuture<'_, Option<Prepay>>;
    /// Claims the order for a query of WeChat at `at` unless it was asked about after
    /// `queried_before` (by this or another instance): true when this caller may ask now.
    fn claim_query(&self, order_id: String, at: i64, queried_before: i64) -> StoreFuture<'_, bool>;
    /// Orders overdue for a query of WeChat ([`DueQuery`]), least recently asked first,
    /// *claimed*: marked asked at `now` in the same statement, past rows another instance is
    /// claiming, so instances sharing a store split them and never ask about one order at once.
    fn due_for_query(&self, q: DueQuery) -> StoreFuture<'_, Vec<Order>>;
    /// Keeps an authenticated notification whole.
    fn record_notification(&self, n: NotificationRecord) -> StoreFuture<'_, i64>;
    /// Keeps an unauthenticated notification, then drops the oldest ones beyond `cap` (rows and
    /// [`RejectedNotification::stored_bytes`]), in one transaction.
    fn record_rejected(&self, n: RejectedNotification, cap: RejectedCap) -> StoreFuture<'_, ()>;
    /// The newest `limit` rejected notifications, newest first.
    fn rejected_notifications(&self, limit: u64) -> StoreFuture<'_, Vec<RejectedNotification>>;
    fn notifications(&self, out_trade_no: String) -> StoreFuture<'_, Vec<NotificationRecord>>;
    fn events(&self, order_id: String) -> StoreFuture<'_, Vec<OrderEvent>>;
    /// Saves a refund PENDING, in one transaction with the checks that make it safe: the payment
    /// belongs to the order, `out_refund_no` is new (or the same refund again), and the amount
    /// fits what is left of the payment. See [`RefundCreated`].
    fn create_refund(&self, r: NewRefund) -> StoreFuture<'_, RefundCreated>;
    /// Moves a refund forward ([`RefundStatus::sources`]); `Some((refund, changed))`, `changed`
    /// true for exactly one caller. A SUCCESS refund of the order's own payment makes the order
    /// REFUND.
    fn update_refund(&self, news: RefundNews) -> StoreFuture<'_, Option<(RefundRecord, bool)>>;
    fn refund(&self, out_refund_no: String) -> StoreFuture<'_, Option<RefundRecord>>;
    /// An order's refunds, oldest first.
    fn refunds(&self, order_id: String) -> StoreFuture<'_, Vec<RefundRecord>>;
    /// Refunds still PENDING or PROCESSING that are due for a question to WeChat ([`DueRefunds`]),
    /// least recently asked first, *claimed*: marked asked at `now` in the same statement, past
    /// rows another instance is claiming, so instances sharing a store split the refunds and
    /// never ask about one at once.
    fn claim_due_refunds(&self, q: DueRefunds) -> StoreFuture<'_, Vec<RefundRecord>>;
    /// The order, its payments and its refunds in one read transaction (what `GET
    /// /api/orders/{id}` shows): the three agree even while a refund settles.
    fn order_snapshot(&self, order_id: String) -> StoreFuture<'_, Option<OrderSnapshot>>;
}
