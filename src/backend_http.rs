//! The wasm-only half of `backend`: the two calls over `fetch` (web-sys; gloo-net's request
//! builder and error types cost ~5 KB of wasm for nothing used here), or through the
//! merchant's own `{ pay, status }` functions.

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
    pub async fn pay(
        &self,
        order_id: &str,
        req: &PayRequest,
        signal: Option<web_sys::AbortSignal>,
    ) -> Result<Payment, BackendError> {
        let body = pay_body(req);
        let value = match self {
            Backend::Http { api_base } => {
                let body = js_sys::JSON::stringify(&body)
                    .map(JsValue::from)
                    .unwrap_or(JsValue::NULL);
                send(
                    &[&order_url(api_base, order_id), "/pay"].concat(),
                    Some(&body),
                    signal,
                )
                .await?
            }
            Backend::Custom(hooks) => call(hooks, "pay", &order_id.into(), &body).await?,
        };
        read_payment(&value)
    }

    pub async fn status(
        &self,
        order_id: &str,
        wait_s: Option<u32>,
        signal: Option<web_sys::AbortSignal>,
    ) -> Result<OrderStatus, BackendError> {
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
        let state = text(&value, "state")
            .ok_or_else(|| BackendError::BadResponse("the order has no state".into()))?;
        Ok(OrderStatus {
            state,
            transaction_id: text(&value, "transaction_id"),
            paid_at: text(&value, "paid_at"),
        })
    }
}

fn text(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &key.into())
        .ok()
        .and_then(|v| v.as_string())
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
            let field = |k: &'static str| {
                text(&p, k)
                    .ok_or_else(|| BackendError::BadResponse(["jsapi.", k, " is missing"].concat()))
            };
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
    Ok(Payment {
        expires_at: text(value, "expires_at"),
        code_url: text(value, "code_url"),
        jsapi,
        h5_url: text(value, "h5_url"),
    })
}

/// `fetch` with JSON headers: a GET, or a POST of the JSON `body`; network failures (and
/// aborts) become `Network`. The init and headers are plain objects (see `dom::plain_object`).
async fn send(
    url: &str,
    body: Option<&JsValue>,
    signal: Option<web_sys::AbortSignal>,
) -> Result<JsValue, BackendError> {
    let network = |e: JsValue| {
        BackendError::Network(
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "fetch failed".into()),
        )
    };
    let json: JsValue = "application/json".into();
    let signal: JsValue = signal.map_or(JsValue::UNDEFINED, JsValue::from);
    let init = match body {
        Some(body) => {
            let headers = plain_object(&[("Accept", &json), ("Content-Type", &json)]);
            plain_object(&[
                ("method", &"POST".into()),
                ("body", body),
                ("headers", &headers),
                ("signal", &signal),
            ])
        }
        None => plain_object(&[
            ("headers", &plain_object(&[("Accept", &json)])),
            ("signal", &signal),
        ]),
    };
    let init: &web_sys::RequestInit = init.unchecked_ref();
    let window = web_sys::window().ok_or_else(|| BackendError::Network("no window".into()))?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map_err(network)?
        .unchecked_into();
    let status = response.status();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .map_err(network)?
            .as_string()
            .unwrap_or_default(),
        Err(e) => return Err(network(e)),
    };
    let json = js_sys::JSON::parse(&text).ok();
    if (200..300).contains(&status) {
        return json.ok_or_else(|| {
            BackendError::BadResponse(
                ["not JSON (HTTP ", &crate::i18n::decimal(status.into()), ")"].concat(),
            )
        });
    }
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| Reflect::get(j, &name.into()).ok())
            .and_then(|v| v.as_string())
    };
    if let (Some(code), Some(url)) = (field("error"), field("authorize_url")) {
        if code == "openid_required" {
            return Err(BackendError::OpenIdRequired { authorize_url: url });
        }
    }
    let retry_after_ms = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|v| parse_retry_after(&v, crate::session::now()));
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
async fn call(
    hooks: &JsValue,
    name: &str,
    a: &JsValue,
    b: &JsValue,
) -> Result<JsValue, BackendError> {
    let f: Function = Reflect::get(hooks, &name.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| {
            BackendError::BadResponse(["the custom backend has no ", name, "() function"].concat())
        })?;
    let result = match f.call2(hooks, a, b) {
        Ok(v) => JsFuture::from(Promise::resolve(&v)).await,
        Err(e) => Err(e),
    };
    result.map_err(|thrown| {
        let field = |k: &str| {
            Reflect::get(&thrown, &k.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        match (field("error").as_deref(), field("authorize_url")) {
            (Some("openid_required"), Some(authorize_url)) => {
                BackendError::OpenIdRequired { authorize_url }
            }
            _ => BackendError::Network(
                field("message").unwrap_or_else(|| "the custom backend threw".into()),
            ),
        }
    })
}
