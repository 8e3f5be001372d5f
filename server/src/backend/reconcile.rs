//! Asking WeChat when a notification is late.
//!
//! Notifications can be lost (a firewall, a deploy at the wrong second), so an order whose prepay
//! is older than `query_after_secs` without news gets an out-trade-no query, at most every
//! `query_interval_secs` — triggered by the page's own polling, and by [`Backend::start_reconciler`]
//! for orders nobody polls any more (the buyer paid and closed the page). What the *verified*
//! query answer says is recorded exactly like a notification would be. Every query is claimed in
//! the store first (the order marked asked, unless it was asked lately), so instances sharing a
//! database split the work and ask WeChat about an order once per interval between them.

use super::wechat::QueryAnswer;
use super::Backend;
use crate::order::{Order, TradeState};
use crate::store::{AttemptNews, Prepay};
use crate::timefmt::{parse_rfc3339, unix_now, utc_rfc3339};
use std::sync::Arc;

/// The running reconciler; dropping it stops it (so it never outlives the server it serves).
pub struct Reconciler(tokio::task::JoinHandle<()>);

impl Drop for Reconciler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Orders listed at a time; a full list means a backlog, and the next is listed at once.
const RECONCILE_BATCH: i64 = 200;
/// Queries of WeChat in flight at once: throughput grows with the backlog, WeChat is not flooded.
pub const RECONCILE_CONCURRENCY: usize = 8;
/// Orders whose every prepay expired more than this long ago are left alone (WeChat closed them).
const RECONCILE_HORIZON_SECS: i64 = 24 * 3600;

impl Backend {
    /// Starts the background task that asks WeChat about overdue unpaid orders every
    /// `query_interval_secs`, draining any backlog with [`RECONCILE_CONCURRENCY`] queries in
    /// flight. It stops when the returned handle is dropped.
    pub fn start_reconciler(self: &Arc<Self>) -> Reconciler {
        let this = self.clone();
        Reconciler(tokio::spawn(async move {
            let every = std::time::Duration::from_secs(this.cfg.query_interval_secs.max(1));
            // A first round at once: after a restart, what was missed meanwhile is found now.
            loop {
                this.reconcile_backlog().await;
                this.reconcile_refunds().await;
                tokio::time::sleep(every).await;
            }
        }))
    }

    /// Queries every overdue unpaid order once, [`RECONCILE_CONCURRENCY`] at a time.
    pub async fn reconcile_backlog(self: &Arc<Self>) {
        let limit = Arc::new(tokio::sync::Semaphore::new(RECONCILE_CONCURRENCY));
        let round_started = unix_now();
        let mut seen = std::collections::HashSet::new();
        loop {
            let now = unix_now();
            let due = crate::store::DueQuery {
                // Each order once per round: those queried since it began are not listed again.
                queried_before: (now - self.cfg.query_interval_secs as i64).min(round_started - 1),
                prepay_before: now - self.cfg.query_after_secs as i64,
                prepay_expiring_after: now - RECONCILE_HORIZON_SECS,
                now,
                limit: RECONCILE_BATCH,
            };
            let orders = match self.store.due_for_query(due).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!("reconciler: cannot list overdue orders: {e}");
                    return;
                }
            };
            // No progress (every listed order was already handled this round): stop.
            if orders.iter().all(|o| seen.contains(&o.order_id)) {
                return;
            }
            seen.extend(orders.iter().map(|o| o.order_id.clone()));
            let listed = orders.len() as i64;
            let mut running = tokio::task::JoinSet::new();
            for order in orders {
                let Ok(permit) = limit.clone().acquire_owned().await else {
                    return;
                };
                let this = self.clone();
                running.spawn(async move {
                    this.query_if_not_running(&order).await;
                    drop(permit);
                });
            }
            while running.join_next().await.is_some() {}
            if listed < RECONCILE_BATCH {
                return;
            }
        }
    }

    /// Queries WeChat about `order` now unless a query for it is already running here (another
    /// instance's is excluded by the claim the caller holds).
    async fn query_if_not_running(self: &Arc<Self>, order: &Order) {
        {
            let mut running = self.querying.lock().unwrap_or_else(|p| p.into_inner());
            if !running.insert(order.order_id.clone()) {
                return;
            }
        }
        if let Err(e) = self.ask_wechat(order, unix_now()).await {
            tracing::warn!(order_id = %order.order_id, "query of WeChat failed: {e}");
        }
        self.querying
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&order.order_id);
    }

    /// Starts a background query of WeChat if this order is due for one; returns at once.
    pub fn maybe_query_wechat(self: &Arc<Self>, order: &Order) {
        if order.state.is_final() {
            return;
        }
        let now = unix_now();
        if now - order.created_at < self.cfg.query_after_secs as i64 {
            return;
        }
        if order
            .last_queried_at
            .is_some_and(|t| now - t < self.cfg.query_interval_secs as i64)
        {
            return;
        }
        let this = self.clone();
        let order = order.clone();
        tokio::spawn(async move {
            // Claimed first: pages polling the same order on several instances ask WeChat once.
            let queried_before = now - this.cfg.query_interval_secs as i64;
            match this
                .store
                .claim_query(order.order_id.clone(), now, queried_before)
                .await
            {
                Ok(true) => this.query_if_not_running(&order).await,
                Ok(false) => {}
                Err(e) => tracing::warn!(order_id = %order.order_id, "cannot claim a query: {e}"),
            }
        });
    }

    /// Queries WeChat about the order now, whenever it was last asked (marking it asked, so the
    /// reconciler and pages' polls leave it alone for `query_interval_secs`).
    pub async fn query_wechat(self: &Arc<Self>, order: &Order, now: i64) -> Result<(), String> {
        self.store
            .claim_query(order.order_id.clone(), now, i64::MAX)
            .await
            .map_err(|e| e.to_string())?;
        self.ask_wechat(order, now).await
    }

    /// Queries every attempt of the order that may still be paid (not final here) and is old
    /// enough to be late, newest first, applying answers. If the order is paid and an attempt
    /// is still open at WeChat (its close died with an instance, or was refused), closes it.
    /// The caller holds the claim ([`crate::store::Store::claim_query`] or the reconciler's
    /// listing).
    async fn ask_wechat(self: &Arc<Self>, order: &Order, now: i64) -> Result<(), String> {
        let prepays = self
            .store
            .prepays(order.order_id.clone())
            .await
            .map_err(|e| e.to_string())?;
        let late: Vec<&Prepay> = prepays
            .iter()
            .filter(|p| {
                !p.state.is_final() && now - p.created_at >= self.cfg.query_after_secs as i64
            })
            .collect();
        if late.is_empty() {
            return Ok(());
        }
        let result = self.ask_about(order, &late).await;
        self.close_if_paid(&order.order_id).await;
        result
    }

    /// After a round of questions: if the order is paid and some other attempt is still open
    /// here, closes the open ones at WeChat.
    async fn close_if_paid(self: &Arc<Self>, order_id: &str) {
        let Ok(Some(order)) = self.store.order(order_id.to_string()).await else {
            return;
        };
        let Some(tx) = order.transaction_id else {
            return; // unpaid: every attempt may still be the one paid
        };
        let Ok(payments) = self.store.payments(order_id.to_string()).await else {
            return;
        };
        if let Some(paid) = payments.iter().find(|p| p.transaction_id == tx) {
            // Closes only the attempts still open here; none: nothing is asked of WeChat.
            self.close_other_attempts(order_id, &paid.out_trade_no);
        }
    }

    /// Asks WeChat about each of `late`, applying the verified answers.
    async fn ask_about(self: &Arc<Self>, order: &Order, late: &[&Prepay]) -> Result<(), String> {
        // One attempt failing to answer (WeChat never got it, a timeout) must not hide the
        // others: the paid one may be next.
        let mut failures = Vec::new();
        for &p in late {
            let answer = match self.wechat.query(p).await {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{}: {e}", p.out_trade_no));
                    continue;
                }
            };
            if let Err(e) = self.apply_query_answer(order, p, &answer).await {
                failures.push(format!("{}: {e}", p.out_trade_no));
            }
            // No stop at the first SUCCESS: a second paid attempt is money to give back.
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
        Ok(())
    }

    pub(super) async fn apply_query_answer(
        self: &Arc<Self>,
        order: &Order,
        p: &Prepay,
        a: &QueryAnswer,
    ) -> Result<(), String> {
        if a.out_trade_no != p.out_trade_no || a.mchid != self.cfg.mchid {
            return Err(format!(
                "the query answer is about {} / {}, not {} / {}",
                a.out_trade_no, a.mchid, p.out_trade_no, self.cfg.mchid
            ));
        }
        let paid = matches!(a.trade_state, TradeState::Success | TradeState::Refund);
        if paid && a.amount != Some(order.amount) {
            return Err(format!(
                "WeChat reports {:?} fen paid but the order is {} fen; not marking it paid",
                a.amount, order.amount
            ));
        }
        if paid && a.transaction_id.is_none() {
            return Err("WeChat reports a payment without transaction_id; not recorded".into());
        }
        self.record_news(AttemptNews {
            out_trade_no: p.out_trade_no.clone(),
            state: a.trade_state,
            transaction_id: a.transaction_id.clone(),
            amount: a.amount.unwrap_or(order.amount),
            paid_at: a
                .success_time
                .as_deref()
                .and_then(parse_rfc3339)
                .map(utc_rfc3339),
            payer_openid: a.payer_openid.clone(),
            source: format!("query-{}", p.api_version),
            at: unix_now(),
        })
        .await
        .map_err(|e| e.to_string())?;
        Ok(())
    }

    /// Once one attempt is paid, closes the order's other attempts at WeChat so the buyer cannot
    /// pay twice (say the QR on the PC and then the H5 cashier on the phone), and records them
    /// CLOSED. Attempts already final are left alone, so calling it again (for a re-sent
    /// notification of the payment: the first call may have died with its instance) only closes
    /// what is still open. In the background: a failure only leaves the (detected and flagged)
    /// double-payment window open.
    pub fn close_other_attempts(self: &Arc<Self>, order_id: &str, paid_out_trade_no: &str) {
        let (this, order_id, paid) = (
            self.clone(),
            order_id.to_string(),
            paid_out_trade_no.to_string(),
        );
        tokio::spawn(async move {
            let Ok(prepays) = this.store.prepays(order_id.clone()).await else {
                return;
            };
            let open = prepays
                .iter()
                .filter(|p| p.out_trade_no != paid && !p.state.is_final());
            for p in open {
                if let Err(e) = this.wechat.close(p).await {
                    tracing::warn!(order_id = %order_id, "could not close attempt {} at WeChat: {e}", p.out_trade_no);
                    continue;
                }
                let closed = AttemptNews {
                    out_trade_no: p.out_trade_no.clone(),
                    state: TradeState::Closed,
                    transaction_id: None,
                    amount: 0,
                    paid_at: None,
                    payer_openid: None,
                    source: format!("close-{}", p.api_version),
                    at: unix_now(),
                };
                if let Err(e) = this.store.record_news(closed).await {
                    tracing::warn!(order_id = %order_id, "attempt {} closed at WeChat, not recorded: {e}", p.out_trade_no);
                }
            }
        });
    }
}
