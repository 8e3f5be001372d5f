//! `POST /api/orders/{id}/pay`: one order, four ways to pay.
//!
//! A still-valid prepay is reused (WeChat lets a `code_url` live 2 h and an `h5_url` 5 min);
//! otherwise WeChat is asked. WeChat refuses an `out_trade_no` reused with different parameters,
//! so each (mode, payer) gets its own `out_trade_no`: the order's own for the first attempt,
//! `<out_trade_no>_<n>` after that.

use super::error::ApiError;
use super::wechat::{PrepayAnswer, PrepayRequest, WechatError};
use super::Backend;
use crate::config::ApiVersion;
use crate::ids::random_alnum;
use crate::order::{PayMode, TradeState};
use crate::store::Prepay;
use crate::timefmt::{unix_now, utc_rfc3339};
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use wxpay_sign::{v2, v3};

/// A prepay closer than this to expiry is not handed out again: the buyer needs time to pay
/// (a tenth of its lifetime for short test lifetimes).
const REUSE_MARGIN_SECS: i64 = 30;

/// WeChat's answers for an out_trade_no it already holds with other parameters (v3, v2).
const DUPLICATE_CODES: [&str; 2] = ["INVALID_REQUEST", "OUT_TRADE_NO_USED"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    mode: String,
    openid: Option<String>,
    code: Option<String>,
    return_url: Option<String>,
}

/// The buyer's IP for H5 `scene_info` (WeChat compares it with the cashier's visitor).
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|s| s.trim().to_string())
            .filter(|s| s.parse::<std::net::IpAddr>().is_ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(ClientIp(
            forwarded.or(peer).unwrap_or_else(|| "127.0.0.1".into()),
        ))
    }
}

pub async fn pay(
    State(b): State<Arc<Backend>>,
    Path(order_id): Path<String>,
    ClientIp(client_ip): ClientIp,
    headers: HeaderMap,
    body: Result<Json<PayRequest>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(req) = body?;
    let mode: PayMode = req
        .mode
        .parse()
        .map_err(|e| ApiError::bad_request("invalid_mode", e))?;
    let order = b
        .store
        .order(order_id.clone())
        .await?
        .ok_or_else(|| ApiError::order_not_found(&order_id))?;
    match order.state {
        TradeState::Notpay | TradeState::Userpaying | TradeState::Payerror => {}
        TradeState::Success | TradeState::Refund => {
            return Err(ApiError::conflict(
                "already_paid",
                "this order is already paid; show the buyer the result instead",
            ))
        }
        TradeState::Closed | TradeState::Revoked => {
            return Err(ApiError::conflict(
                "order_closed",
                "this order is closed; create a new order",
            ))
        }
    }
    let return_url = req
        .return_url
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|u| b.check_redirect(u, "return_url"))
        .transpose()?;

    let openid = if mode.needs_openid() {
        Some(
            b.resolve_openid(mode, &req, return_url.as_deref(), &headers, &order_id)
                .await?,
        )
    } else {
        None
    };

    let now = unix_now();
    let api = b.cfg.api_version.as_str();
    let prepays = b.store.prepays(order_id.clone()).await?;
    let ttl = if mode == PayMode::H5 {
        b.cfg.h5_ttl_secs
    } else {
        b.cfg.native_ttl_secs
    } as i64;
    let margin = REUSE_MARGIN_SECS.min(ttl / 10);
    let same = |p: &&Prepay| p.mode == mode && p.openid == openid && p.api_version == api;
    // An attempt WeChat has closed (or failed) cannot be paid any more: make a fresh one.
    let payable = |p: &&Prepay| matches!(p.state, TradeState::Notpay | TradeState::Userpaying);
    let prepay = match prepays
        .iter()
        .find(same)
        .filter(payable)
        .filter(|p| p.expires_at > now + margin)
    {
        Some(valid) => valid.clone(),
        None => {
            // An expired out_trade_no is closed at WeChat, and another mode or payer would be a
            // "duplicate out_trade_no": every new attempt gets its own. The first uses the
            // order's; a retry after a failed call (nothing saved) reuses it with the same
            // parameters, which WeChat accepts.
            let out_trade_no = match prepays.len() {
                0 => order.out_trade_no.clone(),
                n => format!("{}_{}", order.out_trade_no, n + 1),
            };
            let mut request = PrepayRequest {
                mode,
                out_trade_no: out_trade_no.clone(),
                description: order.description.clone(),
                amount: order.amount,
                openid: openid.clone(),
                client_ip,
                expires_at: now + ttl,
            };
            let answer = match b.wechat.prepay(&request).await {
                // WeChat already has this out_trade_no with other parameters: an earlier call
                // reached it but timed out here before we could save it. Take a fresh one.
                Err(WechatError::Refused { code, .. })
                    if DUPLICATE_CODES.contains(&code.as_str()) =>
                {
                    request.out_trade_no = format!("{out_trade_no}r{}", random_alnum(3));
                    b.wechat.prepay(&request).await?
                }
                other => other?,
            };
            let out_trade_no = request.out_trade_no.clone();
            let mut p = Prepay {
                out_trade_no,
                order_id: order_id.clone(),
                mode,
                api_version: api.to_string(),
                openid: openid.clone(),
                prepay_id: None,
                code_url: None,
                h5_url: None,
                expires_at: request.expires_at,
                created_at: now,
                state: TradeState::Notpay,
            };
            match answer {
                PrepayAnswer::CodeUrl(u) => p.code_url = Some(u),
                PrepayAnswer::PrepayId(id) => p.prepay_id = Some(id),
                PrepayAnswer::H5Url(u) => p.h5_url = Some(u),
            }
            b.store.save_prepay(p.clone()).await?;
            p
        }
    };
    b.pay_answer(mode, &prepay, return_url.as_deref())
}

impl Backend {
    /// A redirect target must be http(s) on an allowed host; returns it normalised.
    fn check_redirect(&self, raw: &str, field: &str) -> Result<String, ApiError> {
        let url = url::Url::parse(raw).map_err(|e| {
            ApiError::bad_request(
                "invalid_return_url",
                format!("{field} {raw:?} is not an absolute URL: {e}"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ApiError::bad_request(
                "invalid_return_url",
                format!("{field} must be http or https, got {}", url.scheme()),
            ));
        }
        let host = url.host_str().unwrap_or("");
        if !self.cfg.redirect_host_allowed(host) {
            return Err(ApiError::bad_request(
                "redirect_host_not_allowed",
                format!(
                    "{field} host {host:?} is not on the allow-list; add it to h5_redirect_hosts (and to the H5 / OAuth domains in the WeChat Pay merchant platform)"
                ),
            ));
        }
        Ok(url.to_string())
    }

    async fn resolve_openid(
        &self,
        mode: PayMode,
        req: &PayRequest,
        return_url: Option<&str>,
        headers: &HeaderMap,
        order_id: &str,
    ) -> Result<String, ApiError> {
        if let Some(openid) = req.openid.as_deref().filter(|s| !s.is_empty()) {
            return Ok(openid.to_string());
        }
        if let Some(code) = req.code.as_deref().filter(|s| !s.is_empty()) {
            let exchanged = match mode {
                PayMode::Miniprogram => self.wechat.openid_from_mp_code(code).await,
                _ => self.wechat.openid_from_oauth_code(code).await,
            };
            return exchanged.map_err(|e| match e {
                WechatError::Refused { code: wcode, message, .. } => ApiError::bad_request(
                    "invalid_code",
                    format!("WeChat refused the code ({wcode}: {message}); codes are single-use and live 5 minutes, get a fresh one"),
                ),
                other => other.into(),
            });
        }
        if mode == PayMode::Miniprogram {
            return Err(ApiError::conflict(
                "openid_required",
                "mini-program payment needs the payer: call wx.login in the mini-program and pass its code (or an openid)",
            ));
        }
        // Come back to the page that asked: the page passes return_url, else its Referer is
        // used if it is on an allowed host (a Referer cannot be fixed by the caller, so one that
        // is not allowed just means no authorize_url, not an error).
        let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
        let back = match return_url {
            Some(u) => Some(u.to_string()),
            None => referer.and_then(|r| self.check_redirect(r, "Referer").ok()),
        };
        let mut err = ApiError::conflict(
            "openid_required",
            "JSAPI payment needs the payer's openid: send the buyer to authorize_url, then pay again with the code WeChat appends",
        );
        match back {
            Some(back) => {
                err = err.with("authorize_url", self.wechat.authorize_url(&back, order_id))
            }
            None => err
                .message
                .push_str(" (pass return_url so an authorize_url can be built)"),
        }
        Err(err)
    }

    fn pay_answer(
        &self,
        mode: PayMode,
        p: &Prepay,
        return_url: Option<&str>,
    ) -> Result<Json<Value>, ApiError> {
        let mut v = json!({
            "order_id": p.order_id,
            "out_trade_no": p.out_trade_no,
            "mode": mode,
            "expires_at": utc_rfc3339(p.expires_at),
        });
        let missing = || ApiError::internal("the stored prepay lacks its payment field");
        match mode {
            PayMode::Native => v["code_url"] = json!(p.code_url.as_ref().ok_or_else(missing)?),
            PayMode::H5 => {
                let mut url = p.h5_url.clone().ok_or_else(missing)?;
                if let Some(back) = return_url {
                    url.push(if url.contains('?') { '&' } else { '?' });
                    url.push_str("redirect_url=");
                    url.extend(url::form_urlencoded::byte_serialize(back.as_bytes()));
                }
                v["h5_url"] = json!(url);
            }
            PayMode::Jsapi | PayMode::Miniprogram => {
                let prepay_id = p.prepay_id.as_deref().ok_or_else(missing)?;
                let appid = self.wechat.appid_for(mode);
                let (now, nonce) = (unix_now(), wxpay_sign::nonce::nonce_str());
                let params = if p.api_version == ApiVersion::V2.as_str() {
                    let key = self
                        .creds
                        .v2_key
                        .as_deref()
                        .ok_or_else(|| ApiError::internal("v2_key is not configured"))?;
                    v2::pay_params(
                        appid,
                        prepay_id,
                        now,
                        &nonce,
                        key,
                        self.wechat.v2_sign_type(),
                    )
                } else {
                    v3::pay_params(&self.creds.signer, appid, prepay_id, now, &nonce).map_err(
                        |e| ApiError::internal(format!("signing the pay parameters failed: {e}")),
                    )?
                };
                v["jsapi"] =
                    serde_json::to_value(params).map_err(|e| ApiError::internal(e.to_string()))?;
            }
        }
        Ok(Json(v))
    }
}
