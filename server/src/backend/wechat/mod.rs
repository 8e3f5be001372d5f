//! The backend's calls to WeChat Pay: order (prepay), query, OAuth code exchange, and the
//! platform keys answers are verified with ([`certificates`]: they grow as WeChat rotates).
//!
//! Every call is signed with `wxpay-sign` and every answer's signature is verified before it is
//! believed. Failures come back as [`WechatError`], which keeps "WeChat is down / slow" apart from
//! "WeChat said no" apart from "the answer is not authentic" — the order is never touched on any
//! of them, so a retry is always safe.

pub mod certificates;
mod oauth;
pub mod v2;
pub mod v3;

use crate::backend::error::ApiError;
use crate::config::{ApiVersion, Config, Credentials};
use crate::order::{PayMode, TradeState};
use crate::store::{NewRefund, Prepay};
use axum::http::StatusCode;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("WeChat Pay did not answer within {timeout_ms} ms ({what})")]
    Timeout { what: &'static str, timeout_ms: u64 },
    #[error("WeChat Pay answered HTTP {status} ({what}); nothing was changed, retry later")]
    Unavailable { what: &'static str, status: u16 },
    #[error("cannot reach WeChat Pay ({what}): {reason}")]
    Transport { what: &'static str, reason: String },
    #[error("WeChat Pay's answer ({what}) failed verification: {reason}; check platform_certs and the APIv3 key")]
    Unverified { what: &'static str, reason: String },
    #[error("WeChat Pay refused ({what}): {code}: {message}")]
    Refused {
        what: &'static str,
        code: String,
        message: String,
    },
    #[error("WeChat Pay's answer ({what}) is not understood: {reason}")]
    BadResponse { what: &'static str, reason: String },
    #[error("signing the request failed: {0}")]
    Sign(#[from] wxpay_sign::Error),
}

impl From<WechatError> for ApiError {
    fn from(e: WechatError) -> Self {
        tracing::warn!("wechat: {e}");
        let (status, code) = match &e {
            WechatError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "wechat_timeout"),
            WechatError::Unavailable { .. } | WechatError::Transport { .. } => {
                (StatusCode::BAD_GATEWAY, "wechat_unavailable")
            }
            WechatError::Unverified { .. } => (StatusCode::BAD_GATEWAY, "wechat_unverified"),
            WechatError::Refused { .. } => (StatusCode::BAD_GATEWAY, "wechat_refused"),
            WechatError::BadResponse { .. } => (StatusCode::BAD_GATEWAY, "wechat_bad_response"),
            WechatError::Sign(_) => (StatusCode::INTERNAL_SERVER_ERROR, "signing_failed"),
        };
        let mut err = ApiError::new(status, code, e.to_string());
        if let WechatError::Refused { code, .. } = &e {
            err = err.with("wechat_code", code.clone());
        }
        err
    }
}

/// What to order from WeChat.
#[derive(Debug, Clone)]
pub struct PrepayRequest {
    pub mode: PayMode,
    pub out_trade_no: String,
    pub description: String,
    pub amount: i64,
    pub openid: Option<String>,
    pub client_ip: String,
    pub expires_at: i64,
}

/// What WeChat gives back, by mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrepayAnswer {
    CodeUrl(String),
    PrepayId(String),
    H5Url(String),
}

/// An order as WeChat's query reports it (already verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    pub out_trade_no: String,
    pub trade_state: TradeState,
    pub transaction_id: Option<String>,
    /// RFC 3339.
    pub success_time: Option<String>,
    pub amount: Option<i64>,
    pub payer_openid: Option<String>,
    pub appid: String,
    pub mchid: String,
}

/// A refund as WeChat reports it (already verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundAnswer {
    pub out_refund_no: String,
    pub refund_id: Option<String>,
    pub status: crate::refund::RefundStatus,
    /// RFC 3339.
    pub success_time: Option<String>,
    pub amount: Option<i64>,
}

/// The `trade_state` of a query answer, or what is wrong with it.
fn trade_state_of(value: Option<String>) -> Result<TradeState, WechatError> {
    let bad = |reason: String| WechatError::BadResponse {
        what: "query",
        reason,
    };
    value
        .ok_or_else(|| bad("no trade_state".into()))?
        .parse()
        .map_err(bad)
}

/// A configured client for one merchant.
pub struct Wechat {
    http: reqwest::Client,
    /// `/secapi/…` calls, presenting the API client certificate; None when none is configured.
    secapi: Option<reqwest::Client>,
    cfg: Arc<Config>,
    creds: Arc<Credentials>,
    /// WeChat's public keys: the configured ones plus certificates downloaded since.
    pub platform_keys: certificates::PlatformKeys,
}

impl Wechat {
    pub fn new(cfg: Arc<Config>, creds: Arc<Credentials>) -> Self {
        let secapi = creds
            .apiclient_identity_pem
            .as_deref()
            .and_then(|identity| {
                crate::http_client::secapi_client(
                    cfg.http_timeout(),
                    Some(identity),
                    creds.secapi_ca_pem.as_deref(),
                )
                .inspect_err(|e| tracing::error!("v2 refunds will fail: {e}"))
                .ok()
            });
        Wechat {
            http: crate::http_client::client(cfg.http_timeout()),
            secapi,
            platform_keys: certificates::PlatformKeys::new(
                creds.platform_keys.clone(),
                !cfg.platform_certs.is_empty(),
            ),
            cfg,
            creds,
        }
    }

    /// The appid WeChat should see for this mode (mini-programs have their own).
    pub fn appid_for(&self, mode: PayMode) -> &str {
        match mode {
            PayMode::Miniprogram => self.cfg.mp_appid(),
            _ => &self.cfg.appid,
        }
    }

    pub async fn prepay(&self, req: &PrepayRequest) -> Result<PrepayAnswer, WechatError> {
        match self.cfg.api_version {
            ApiVersion::V3 => self.v3_prepay(req).await,
            ApiVersion::V2 => self.v2_prepay(req).await,
        }
    }

    /// Asks about an attempt (by its out_trade_no) with the API and appid it was ordered with.
    pub async fn query(&self, attempt: &Prepay) -> Result<QueryAnswer, WechatError> {
        if attempt.api_version == "v2" {
            self.v2_query(&attempt.out_trade_no, self.appid_for(attempt.mode))
                .await
        } else {
            self.v3_query(&attempt.out_trade_no).await
        }
    }

    /// Closes an attempt at WeChat so it can no longer be paid.
    pub async fn close(&self, attempt: &Prepay) -> Result<(), WechatError> {
        if attempt.api_version == "v2" {
            self.v2_close(&attempt.out_trade_no, self.appid_for(attempt.mode))
                .await
        } else {
            self.v3_close(&attempt.out_trade_no).await
        }
    }

    /// Refunds with the API the refund was saved with (idempotent per `out_refund_no`).
    /// `paid_with`: the mode of the attempt paid, whose appid a v2 refund must name (v3 refunds
    /// name no appid).
    pub async fn refund(
        &self,
        r: &NewRefund,
        paid_with: PayMode,
    ) -> Result<RefundAnswer, WechatError> {
        if r.api_version == "v2" {
            self.v2_refund(r, self.appid_for(paid_with)).await
        } else {
            self.v3_refund(r).await
        }
    }

    /// Asks about a refund with the API it was made with (and, for v2, the appid of the attempt
    /// paid, as for [`Wechat::refund`]); `Ok(None)`: WeChat has no such refund.
    pub async fn query_refund(
        &self,
        out_refund_no: &str,
        api_version: &str,
        paid_with: PayMode,
    ) -> Result<Option<RefundAnswer>, WechatError> {
        let answer = if api_version == "v2" {
            self.v2_query_refund(out_refund_no, self.appid_for(paid_with))
                .await
        } else {
            self.v3_query_refund(out_refund_no).await
        };
        match answer {
            Err(WechatError::Refused { code, .. })
                if code == "RESOURCE_NOT_EXISTS" || code == "REFUNDNOTEXIST" =>
            {
                Ok(None)
            }
            other => other.map(Some),
        }
    }

    /// Sends a request and reads the whole answer; 5xx and transport failures become errors.
    async fn exchange(
        &self,
        what: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<
        (
            reqwest::StatusCode,
            reqwest::header::HeaderMap,
            axum::body::Bytes,
        ),
        WechatError,
    > {
        let response = request.send().await.map_err(|e| self.classify(what, e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| self.classify(what, e))?;
        if status.is_server_error() {
            return Err(WechatError::Unavailable {
                what,
                status: status.as_u16(),
            });
        }
        Ok((status, headers, bytes))
    }

    fn classify(&self, what: &'static str, e: reqwest::Error) -> WechatError {
        if e.is_timeout() {
            WechatError::Timeout {
                what,
                timeout_ms: self.cfg.http_timeout_ms,
            }
        } else {
            // The source chain says why (refused, DNS, TLS), which the top-level message hides.
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason.push_str(": ");
                reason.push_str(&s.to_string());
                source = s.source();
            }
            WechatError::Transport { what, reason }
        }
    }
}
