//! Talking to the merchant backend: the two calls the checkout makes (`POST
//! /api/orders/{id}/pay` and `GET /api/orders/{id}`) in the contract of `server/`, or through a
//! merchant's own functions (the `backend` option) when their backend speaks differently.
//!
//! What the answers mean (which trade states are final, which errors are worth retrying) is
//! pure and tested natively; the HTTP (`fetch` through web-sys: gloo-net's request builder and
//! error types cost ~5 KB of wasm for nothing we use) is the wasm-only half at the bottom.

use crate::bridge::JsapiParams;
use crate::i18n::decimal;
use crate::mode::PayMode;

/// Body of `POST /api/orders/{id}/pay`.
#[derive(Debug, Clone, Default)]
pub struct PayRequest {
    pub mode: Option<PayMode>,
    pub code: Option<String>,
    pub return_url: Option<String>,
}

/// Answer of `POST /api/orders/{id}/pay`: one of the three payment handles.
#[derive(Debug, Clone, Default)]
pub struct Payment {
    pub expires_at: Option<String>,
    pub code_url: Option<String>,
    pub jsapi: Option<JsapiParams>,
    pub h5_url: Option<String>,
}

/// Answer of `GET /api/orders/{id}`.
#[derive(Debug, Clone, Default)]
pub struct OrderStatus {
    /// WeChat's `trade_state`: NOTPAY, USERPAYING, SUCCESS, CLOSED, PAYERROR, REFUND…
    pub state: String,
    pub transaction_id: Option<String>,
    pub paid_at: Option<String>,
}

/// How a checkout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Paid,
    Cancelled,
    Failed,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Paid => "paid",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
            Status::Expired => "expired",
        }
    }
}

/// The checkout outcome a `trade_state` settles, or `None` while the buyer may still pay.
pub fn final_status(trade_state: &str) -> Option<Status> {
    match trade_state {
        "SUCCESS" => Some(Status::Paid),
        "CLOSED" | "REVOKED" => Some(Status::Expired),
        // Refunded before the page learned it was paid: not something to celebrate.
        "PAYERROR" | "REFUND" => Some(Status::Failed),
        _ => None,
    }
}

/// What went wrong talking to the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// JSAPI/mini-program orders need the buyer's openid: send them to `authorize_url`.
    OpenIdRequired { authorize_url: String },
    /// The backend answered with an error status; `code`/`message` are from its JSON body.
    Http { status: u16, code: String, message: String, retry_after_ms: Option<u32> },
    /// No answer: offline, DNS, CORS, connection reset.
    Network(String),
    /// An answer we cannot read.
    BadResponse(String),
}

impl BackendError {
    /// Worth asking again later (network trouble, timeouts, overload, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            BackendError::Network(_) => true,
            BackendError::Http { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            _ => false,
        }
    }

    pub fn retry_after_ms(&self) -> Option<u32> {
        match self {
            BackendError::Http { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BackendError::OpenIdRequired { .. } => "the backend needs the buyer's openid (OAuth) first".into(),
            BackendError::Http { status, code, message, .. } => {
                ["the merchant backend answered HTTP ", &decimal((*status).into()), " ", code, ": ", message].concat()
            }
            BackendError::Network(why) => ["cannot reach the merchant backend: ", why].concat(),
            BackendError::BadResponse(why) => ["the merchant backend's answer is not what the checkout expects: ", why].concat(),
        }
    }
}

/// `{api_base}/orders/{id}` with the id escaped, without a doubled slash.
pub fn order_url(api_base: &str, order_id: &str) -> String {
    [api_base.trim_end_matches('/'), "/orders/", &crate::url::encode(order_id)].concat()
}

#[cfg(target_arch = "wasm32")]
pub use browser::Backend;

#[cfg(target_arch = "wasm32")]
mod browser {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    use super::{order_url, BackendError, OrderStatus, PayRequest, Payment};
    use crate::bridge::JsapiParams;
    use crate::dom::plain_object;
    use crate::poll::parse_retry_after;

    /// The default contract over HTTP, or the merchant's own `{ pay, status }` functions.
    #[derive(Clone)]
    pub enum Backend {
        Http { api_base: String },
        Custom(JsValue),
    }

    impl Backend {
        pub async fn pay(&self, order_id: &str, req: &PayRequest, signal: Option<web_sys::AbortSignal>) -> Result<Payment, BackendError> {
            let body = pay_body(req);
            let value = match self {
                Backend::Http { api_base } => {
                    let body = js_sys::JSON::stringify(&body).map(JsValue::from).unwrap_or(JsValue::NULL);
                    send(&[&order_url(api_base, order_id), "/pay"].concat(), Some(&body), signal).await?
                }
                Backend::Custom(hooks) => call(hooks, "pay", &order_id.into(), &body).await?,
            };
            read_payment(&value)
        }

        pub async fn status(&self, order_id: &str, wait_s: Option<u32>, signal: Option<web_sys::AbortSignal>) -> Result<OrderStatus, BackendError> {
            let value = match self {
                Backend::Http { api_base } => {
                    let mut url = order_url(api_base, order_id);
                    if let Some(w) = wait_s {
                        url.push_str("?wait=");
                        url.push_str(&crate::i18n::decimal(w.into()));
                    }
                    send(&url, None, signal).await?
                }
                Backend::Custom(hooks) => {
                    let opts = js_sys::Object::new();
                    if let Some(w) = wait_s {
                        let _ = Reflect::set(&opts, &"wait".into(), &w.into());
                    }
                    if let Some(s) = &signal {
                        let _ = Reflect::set(&opts, &"signal".into(), s);
                    }
                    call(hooks, "status", &order_id.into(), &opts).await?
                }
            };
            let state = text(&value, "state").ok_or_else(|| BackendError::BadResponse("the order has no state".into()))?;
            Ok(OrderStatus { state, transaction_id: text(&value, "transaction_id"), paid_at: text(&value, "paid_at") })
        }
    }

    fn text(obj: &JsValue, key: &str) -> Option<String> {
        Reflect::get(obj, &key.into()).ok().and_then(|v| v.as_string())
    }

    fn pay_body(req: &PayRequest) -> JsValue {
        let body = js_sys::Object::new();
        let set = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                let _ = Reflect::set(&body, &k.into(), &v.into());
            }
        };
        set("mode", req.mode.map(crate::checkout::mode_name));
        set("code", req.code.as_deref());
        set("return_url", req.return_url.as_deref());
        body.into()
    }

    fn read_payment(value: &JsValue) -> Result<Payment, BackendError> {
        let jsapi = match Reflect::get(value, &"jsapi".into()) {
            Ok(p) if p.is_object() => {
                let field = |k: &'static str| text(&p, k).ok_or_else(|| BackendError::BadResponse(["jsapi.", k, " is missing"].concat()));
                Some(JsapiParams {
                    app_id: field("appId")?,
                    time_stamp: field("timeStamp")?,
                    nonce_str: field("nonceStr")?,
                    package: field("package")?,
                    sign_type: field("signType")?,
                    pay_sign: field("paySign")?,
                })
            }
            _ => None,
        };
        Ok(Payment { expires_at: text(value, "expires_at"), code_url: text(value, "code_url"), jsapi, h5_url: text(value, "h5_url") })
    }

    /// `fetch` with JSON headers: a GET, or a POST of the JSON `body`; network failures (and
    /// aborts) become `Network`. The init and headers are plain objects (see `dom::plain_object`).
    async fn send(url: &str, body: Option<&JsValue>, signal: Option<web_sys::AbortSignal>) -> Result<JsValue, BackendError> {
        let network = |e: JsValue| {
            BackendError::Network(Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| "fetch failed".into()))
        };
        let json: JsValue = "application/json".into();
        let signal: JsValue = signal.map_or(JsValue::UNDEFINED, JsValue::from);
        let init = match body {
            Some(body) => {
                let headers = plain_object(&[("Accept", &json), ("Content-Type", &json)]);
                plain_object(&[("method", &"POST".into()), ("body", body), ("headers", &headers), ("signal", &signal)])
            }
            None => plain_object(&[("headers", &plain_object(&[("Accept", &json)])), ("signal", &signal)]),
        };
        let init: &web_sys::RequestInit = init.unchecked_ref();
        let window = web_sys::window().ok_or_else(|| BackendError::Network("no window".into()))?;
        let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, init)).await.map_err(network)?.unchecked_into();
        let status = response.status();
        let text = match response.text() {
            Ok(p) => JsFuture::from(p).await.map_err(network)?.as_string().unwrap_or_default(),
            Err(e) => return Err(network(e)),
        };
        let json = js_sys::JSON::parse(&text).ok();
        if (200..300).contains(&status) {
            return json.ok_or_else(|| BackendError::BadResponse(["not JSON (HTTP ", &crate::i18n::decimal(status.into()), ")"].concat()));
        }
        let field = |name: &str| json.as_ref().and_then(|j| Reflect::get(j, &name.into()).ok()).and_then(|v| v.as_string());
        if let (Some(code), Some(url)) = (field("error"), field("authorize_url")) {
            if code == "openid_required" {
                return Err(BackendError::OpenIdRequired { authorize_url: url });
            }
        }
        let retry_after_ms = response.headers().get("Retry-After").ok().flatten().and_then(|v| parse_retry_after(&v, crate::session::now()));
        Err(BackendError::Http {
            status,
            code: field("error").unwrap_or_default(),
            message: field("message").unwrap_or_else(|| response.status_text()),
            retry_after_ms,
        })
    }

    /// Calls `hooks[name](a, b)`, awaiting a returned promise. A thrown or rejected value
    /// with `error: "openid_required"` and `authorize_url` maps like the HTTP contract;
    /// anything else thrown counts as a network failure (retried when polling).
    async fn call(hooks: &JsValue, name: &str, a: &JsValue, b: &JsValue) -> Result<JsValue, BackendError> {
        let f: Function = Reflect::get(hooks, &name.into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| BackendError::BadResponse(["the custom backend has no ", name, "() function"].concat()))?;
        let result = match f.call2(hooks, a, b) {
            Ok(v) => JsFuture::from(Promise::resolve(&v)).await,
            Err(e) => Err(e),
        };
        result.map_err(|thrown| {
            let field = |k: &str| Reflect::get(&thrown, &k.into()).ok().and_then(|v| v.as_string());
            match (field("error").as_deref(), field("authorize_url")) {
                (Some("openid_required"), Some(authorize_url)) => BackendError::OpenIdRequired { authorize_url },
                _ => BackendError::Network(field("message").unwrap_or_else(|| "the custom backend threw".into())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_trade_states_end_the_checkout() {
        assert_eq!(final_status("SUCCESS"), Some(Status::Paid));
        assert_eq!(final_status("CLOSED"), Some(Status::Expired));
        assert_eq!(final_status("PAYERROR"), Some(Status::Failed));
        assert_eq!(final_status("REFUND"), Some(Status::Failed));
        for pending in ["NOTPAY", "USERPAYING", "", "success", "SOMETHING_NEW"] {
            assert_eq!(final_status(pending), None, "{pending}");
        }
    }

    #[test]
    fn transient_errors_are_retried_others_are_not() {
        let http = |status| BackendError::Http { status, code: String::new(), message: String::new(), retry_after_ms: None };
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(http(s).is_transient(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(!http(s).is_transient(), "{s}");
        }
        assert!(BackendError::Network("reset".into()).is_transient());
        assert!(!BackendError::BadResponse("x".into()).is_transient());
        assert!(!BackendError::OpenIdRequired { authorize_url: "u".into() }.is_transient());
    }

    #[test]
    fn order_urls() {
        assert_eq!(order_url("/api", "o1"), "/api/orders/o1");
        assert_eq!(order_url("https://shop.example/api/", "a/b c"), "https://shop.example/api/orders/a%2Fb%20c");
    }
}
