//! An offline WeChat Pay, strict like the real one, for development and tests.
//!
//! - [`ledger`]: orders, prepays, codes and openids in memory, with WeChat's rules.
//! - [`validate`]: field checks on merchant requests (lengths, formats, amounts).
//! - [`v3`] / [`v2`]: the merchant-facing APIs (signature-checked, answers signed).
//! - [`oauth`]: `/connect/oauth2/authorize`, `/sns/oauth2/access_token`, `/sns/jscode2session`.
//! - [`buyer`]: what the buyer touches: `/sim/scan`, `/sim/checkmweb`, and the automation
//!   endpoints `/sim/api/pay`, `/sim/api/login`.
//! - [`bridge`]: `/sim/bridge.js` (a `WeixinJSBridge` for ordinary browsers) and `/sim/api/bridge`.
//! - [`miniprogram`]: `/sim/api/requestPayment`, `/sim/miniprogram.js` (a `wx.miniProgram` for
//!   ordinary browsers) and the mini-program kit's pay page run with a stand-in `wx`.
//! - [`notify`]: signed (v3: AES-GCM encrypted) notifications with WeChat's retry schedule.
//! - [`platform`]: WeChat's own signing key (public-key or certificate mode) and its rotation.
//! - [`refund`]: v3 refunds (partial, over-refund refused, signed answers, refund notifications).
//! - [`refund_v2`]: v2 refunds (`/secapi/pay/refund`, `/pay/refundquery`, `req_info` notifications).
//! - [`mtls`]: the mutual-TLS listener `/secapi/…` is served on ([`Sim::secapi_router`]).
//!
//! Mount [`Sim::router`] on its own listener (tests) or merge it beside the backend (demo): its
//! paths (`/v3/…`, `/pay/…`, `/connect/…`, `/sns/…`, `/sim/…`) never collide with `/api`.
//! `/secapi/…` needs the merchant's client certificate, like WeChat: serve
//! [`Sim::secapi_router`] with [`mtls::serve`] on a listener of its own.

// Handlers here return early with a ready WeChat-shaped `Response` as the error; it is built only
// on failure paths, so its size does not matter.
#![allow(clippy::result_large_err)]

pub mod bridge;
pub mod buyer;
pub mod ledger;
pub mod miniprogram;
pub mod mtls;
pub mod notify;
pub mod oauth;
pub mod platform;
pub mod refund;
pub mod refund_v2;
pub mod v2;
pub mod v3;
pub mod validate;

use crate::timefmt::unix_now;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use ledger::{Delivery, Ledger, Lifetimes, SimOrder, Target};
use platform::{PlatformKey, PlatformKeys};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use wxpay_sign::keys::KeySet;

/// An app registered with the simulated WeChat (official account or mini-program).
#[derive(Clone)]
pub struct SimApp {
    pub appid: String,
    pub secret: String,
}

/// What the simulated WeChat knows about the (one) merchant and how it behaves.
pub struct SimConfig {
    pub mchid: String,
    /// Merchant API certificates by serial: verify `Authorization` headers.
    pub merchant_keys: KeySet,
    pub apiv3_key: Vec<u8>,
    pub v2_key: String,
    /// The platform key answers and notifications are signed with at start (a certificate,
    /// handed out by `/v3/certificates`, or a `PUB_KEY_ID_…` public key). After a rotation the
    /// key in use is [`Sim::platform_key`].
    pub platform: Arc<PlatformKey>,
    pub apps: Vec<SimApp>,
    /// How browsers reach the simulator, e.g. `http://127.0.0.1:8080` (for h5_url).
    pub public_base_url: String,
    /// Hosts allowed in the Referer of the H5 cashier (the merchant's configured H5 domains).
    pub h5_domains: Vec<String>,
    /// JSAPI payment authorization directories (at most 5, like the merchant platform), e.g.
    /// `https://shop.example/pay/`; a page outside them cannot open the pay sheet.
    pub jsapi_pay_dirs: Vec<String>,
    /// Hosts allowed in OAuth `redirect_uri` (the official account's web authorisation domain).
    pub oauth_domains: Vec<String>,
    /// WeChat's notification retry delays are divided by this (1 = real time).
    pub retry_compression: f64,
    /// How long a notify_url gets to answer one delivery.
    pub notify_timeout: Duration,
    pub lifetimes: Lifetimes,
    /// The registered app that `/sim/miniprogram/…` plays as the mini-program (its `wx.login`
    /// codes and `wx.requestPayment` are for this appid); `None`: no mini-program page.
    pub mini_program: Option<String>,
}

impl SimConfig {
    fn app(&self, appid: &str) -> Option<&SimApp> {
        self.apps.iter().find(|a| a.appid == appid)
    }
}

/// Something going wrong on purpose, for tests of the merchant's error handling.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answer merchant API calls with this HTTP status (e.g. 503) without processing them.
    Status(u16),
    /// Process the request, then hold the answer this long (longer than the merchant's timeout =
    /// a timeout after WeChat has acted).
    Delay(Duration),
}

pub(crate) struct SimInner {
    pub cfg: SimConfig,
    ledger: Mutex<Ledger>,
    faults: Mutex<VecDeque<Fault>>,
    platform: Mutex<PlatformKeys>,
    /// `--rotate-after`: switch platform keys once this many orders have been paid (0 = never).
    rotate_after_payments: AtomicU32,
    payments: AtomicU32,
    pub http: reqwest::Client,
}

impl SimInner {
    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn platform(&self) -> MutexGuard<'_, PlatformKeys> {
        self.platform.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a payment; rotates the platform key when `--rotate-after` says so.
    pub(crate) async fn count_payment(&self) {
        let after = self.rotate_after_payments.load(Ordering::SeqCst);
        let paid = self.payments.fetch_add(1, Ordering::SeqCst);
        if after > 0 && paid == after {
            if let Err(e) = self.rotate_platform_key().await {
                tracing::error!("simulator: platform key rotation failed: {e}");
            }
        }
    }

    /// The key signing answers and notifications right now.
    pub(crate) fn platform_key(&self) -> Arc<PlatformKey> {
        self.platform().current()
    }
}

/// A handle on a running simulator (cheap to clone).
#[derive(Clone)]
pub struct Sim(pub(crate) Arc<SimInner>);

impl Sim {
    pub fn new(cfg: SimConfig) -> Sim {
        let http = crate::http_client::client(cfg.notify_timeout);
        let platform = Mutex::new(PlatformKeys::new(cfg.platform.clone()));
        Sim(Arc::new(SimInner {
            cfg,
            ledger: Mutex::default(),
            faults: Mutex::default(),
            platform,
            rotate_after_payments: AtomicU32::new(0),
            payments: AtomicU32::new(0),
            http,
        }))
    }

    /// All simulator routes. Merchant API routes go through fault injection.
    pub fn router(&self) -> Router {
        let merchant_api = Router::new()
            .merge(v3::routes())
            .merge(v2::routes())
            .merge(refund::routes())
            .merge(refund_v2::routes())
            .merge(oauth::api_routes())
            .layer(axum::middleware::from_fn_with_state(
                self.0.clone(),
                apply_faults,
            ));
        Router::new()
            .merge(merchant_api)
            .merge(oauth::browser_routes())
            .merge(buyer::routes())
            .merge(bridge::routes())
            .merge(miniprogram::routes())
            .merge(platform::routes())
            .with_state(self.0.clone())
    }

    /// The routes WeChat serves only to a client with the merchant's API certificate
    /// (`/secapi/pay/refund`); serve them with [`mtls::serve`].
    pub fn secapi_router(&self) -> Router {
        refund_v2::secapi_routes()
            .layer(axum::middleware::from_fn_with_state(
                self.0.clone(),
                apply_faults,
            ))
            .with_state(self.0.clone())
    }

    /// The next `times` merchant API calls meet `fault`.
    pub fn inject_fault(&self, fault: Fault, times: usize) {
        let mut q = self.0.faults.lock().unwrap_or_else(|p| p.into_inner());
        q.extend(std::iter::repeat_n(fault, times));
    }

    pub fn clear_faults(&self) {
        self.0
            .faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The platform key signing answers and notifications now.
    pub fn platform_key(&self) -> Arc<PlatformKey> {
        self.0.platform_key()
    }

    /// Switches to a new platform key (same mode), like WeChat rotating; the old certificate
    /// stays listed in `/v3/certificates` until it expires. Returns (previous id, new id).
    pub async fn rotate_platform_key(&self) -> Result<(String, String), String> {
        self.0.rotate_platform_key().await
    }

    /// Rotates the platform key once `n` orders have been paid: the notification of payment
    /// `n + 1` and every answer after it are signed with the new key.
    pub fn rotate_after_payments(&self, n: u32) {
        self.0.rotate_after_payments.store(n, Ordering::SeqCst);
    }

    /// Notification delivery attempts for an order so far.
    pub fn deliveries(&self, out_trade_no: &str) -> Vec<Delivery> {
        self.0
            .ledger()
            .deliveries
            .iter()
            .filter(|d| d.out_trade_no == out_trade_no)
            .cloned()
            .collect()
    }

    /// How many times the merchant asked about an order (v3 query, v2 `orderquery`).
    pub fn queries(&self, out_trade_no: &str) -> u32 {
        self.0
            .ledger()
            .queries
            .get(out_trade_no)
            .copied()
            .unwrap_or(0)
    }

    pub fn order(&self, out_trade_no: &str) -> Option<SimOrder> {
        self.0
            .ledger()
            .find(&Target::OutTradeNo(out_trade_no.into()))
            .cloned()
    }

    /// A refund as WeChat holds it.
    pub fn refund(&self, out_refund_no: &str) -> Option<refund::SimRefund> {
        self.0.ledger().refunds.get(out_refund_no).cloned()
    }

    /// The openid a simulated user has under `appid` (registers it, like a user following).
    pub fn openid_for(&self, appid: &str, user: &str) -> String {
        self.0.ledger().openid_for(appid, user)
    }
}

async fn apply_faults(State(sim): State<Arc<SimInner>>, req: Request, next: Next) -> Response {
    let fault = sim
        .faults
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .pop_front();
    match fault {
        Some(Fault::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, "simulated failure").into_response()
        }
        Some(Fault::Delay(d)) => {
            // Process first, answer late: like WeChat under load, the request takes effect even
            // when the merchant has given up waiting for the answer.
            let response = next.run(req).await;
            tokio::time::sleep(d).await;
            response
        }
        None => next.run(req).await,
    }
}

/// Seconds since the epoch, as the simulator sees it.
pub(crate) fn now() -> i64 {
    unix_now()
}
