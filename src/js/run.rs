//! `CheckoutRun`: the [`crate::flow::Run`] state machine as a JS class, driven by
//! `pkg-template/checkout.js` (which `checkout()` and `<wxpay-checkout>` share; the class is
//! not re-exported from the package entry).
//!
//! This file only converts: the options object into settings (with errors that name the
//! option), and what the driver saw (a backend answer, the bridge's `res`) into
//! [`Input`]s. Effects go back as one JSON string per step (see `effect.rs`).
//!
//! `step(kind, arg, now, random)` kinds: `start` (the page URL), `answer` (`{ id, status,
//! statusText, body, retryAfter }` of an HTTP answer, `{ id, status: 200, body }` of a hook,
//! `{ id, status: 0, error }` when it failed, `status: -1` when the hook is missing), `timer`
//! (its id), `hidden`, `visible`, `action` (a button's name), `bridge` (the bridge's `res`),
//! `bridge-missing`, `bridge-threw`, `mini-missing`, `mini-failed`, `nav-failed`, and `abort`.

use wasm_bindgen::prelude::*;

use super::{get, given};
use crate::backend::{BackendError, OrderStatus, Payment};
use crate::bridge::{map_result, BridgeError, JsapiParams};
use crate::checkout::{mode_from_name, redirect_hosts, Settings};
use crate::flow::{Action, Answer, Call, Input, Run};
use crate::i18n::{decimal, Locale};
use crate::poll::parse_retry_after;

#[wasm_bindgen(js_name = CheckoutRun, skip_typescript)]
pub struct CheckoutRun {
    run: Run,
}

fn bad(what: &str) -> JsError {
    JsError::new(&["checkout(): ", what].concat())
}

fn string(obj: &JsValue, key: &str) -> Result<Option<String>, JsError> {
    match given(&get(obj, key)) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| bad(&["option ", key, " must be a string"].concat())),
    }
}

/// A non-negative, finite number option.
fn float(obj: &JsValue, key: &str) -> Result<Option<f64>, JsError> {
    match given(&get(obj, key)) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.is_finite() => Ok(Some(n)),
            _ => Err(bad(&["option ", key, " must be a non-negative number"].concat())),
        },
    }
}

/// A non-negative number option (milliseconds, seconds), clamped into u32.
fn number(obj: &JsValue, key: &str) -> Result<Option<u32>, JsError> {
    Ok(float(obj, key)?.map(|n| n.min(f64::from(u32::MAX)) as u32))
}

fn text(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

#[wasm_bindgen(js_class = CheckoutRun)]
impl CheckoutRun {
    /// Reads `checkout()` options. `strict` (checkout()) throws on a bad `mode`; the element
    /// (not strict) gets a run that fails at start instead, so the page shows why.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, strict: bool) -> Result<CheckoutRun, JsError> {
        if !options.is_object() {
            return Err(bad("expects an options object with at least { orderId }"));
        }
        let order_id = string(&options, "orderId")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("option orderId (the merchant order id) is required"))?;
        let detected = || crate::choose_pay_mode(&crate::navigator::detect_here());
        let (mode, mode_error) = match string(&options, "mode")? {
            None => (detected(), None),
            Some(m) => match mode_from_name(m.trim()) {
                Some(mode) => (mode, None),
                None => {
                    let rest = "\" is not one of jsapi, h5, native, miniprogram";
                    if strict {
                        return Err(bad(&["mode \"", &m, rest].concat()));
                    }
                    // The element: name the attribute as it is written.
                    (detected(), Some(["mode=\"", &m, rest].concat()))
                }
            },
        };
        let locale = Locale::parse(&string(&options, "locale")?.unwrap_or_default());
        let mut settings = Settings::default();
        if let Some(hosts) = given(&get(&options, "redirectHosts")) {
            if !js_sys::Array::is_array(hosts) {
                return Err(bad("option redirectHosts must be an array of host names"));
            }
            let list: Vec<String> = js_sys::Array::from(hosts).iter().filter_map(|h| h.as_string()).collect();
            settings.redirect_hosts = redirect_hosts(list.iter().map(String::as_str));
        }
        if let Some(path) = string(&options, "miniprogramPath")? {
            settings.miniprogram_path = path;
        }
        if let Some(ms) = number(&options, "bridgeTimeout")? {
            settings.bridge_timeout_ms = ms;
        }
        if let Some(ms) = number(&options, "h5CheckTime")? {
            settings.h5_check_ms = ms;
        }
        if let Some(p) = given(&get(&options, "polling")) {
            if !p.is_object() {
                return Err(bad("option polling must be an object such as { interval: 2000 }"));
            }
            let poll = &mut settings.poll;
            poll.interval_ms = number(p, "interval")?.unwrap_or(poll.interval_ms).max(100);
            poll.max_interval_ms = number(p, "maxInterval")?.unwrap_or(poll.max_interval_ms).max(poll.interval_ms);
            poll.fast_for_ms = number(p, "fastFor")?.unwrap_or(poll.fast_for_ms);
            poll.max_duration_ms = number(p, "maxDuration")?.unwrap_or(poll.max_duration_ms);
            poll.long_poll_s = number(p, "longPoll")?.unwrap_or(poll.long_poll_s).min(30);
            poll.jitter = float(p, "jitter")?.map_or(poll.jitter, |j| j.min(1.0));
            poll.backoff_factor = float(p, "backoff")?.map_or(poll.backoff_factor, |f| f.clamp(1.0, 10.0));
        }
        let api_base = string(&options, "apiBase")?.unwrap_or_else(|| "/api".into());
        let run = Run::new(order_id, mode, locale, settings, api_base);
        Ok(CheckoutRun { run: match mode_error {
            Some(msg) => run.failing(msg),
            None => run,
        } })
    }

    /// One input (see `pkg-template/checkout.js` for the kinds); returns the effects as JSON.
    pub fn step(&mut self, kind: &str, arg: JsValue, now: f64, random: f64) -> String {
        let now = now as i64;
        let page;
        let input = match kind {
            "start" => {
                page = arg.as_string().unwrap_or_default();
                Input::Start { page: &page }
            }
            "answer" => match self.answer(&arg, now) {
                Some(input) => input,
                None => return "[]".into(),
            },
            "timer" => Input::Timer(arg.as_f64().unwrap_or(0.0) as u32),
            "hidden" => Input::Hidden,
            "visible" => Input::Visible,
            "action" => match arg.as_string().as_deref().and_then(Action::from_name) {
                Some(a) => Input::Action(a),
                None => return "[]".into(),
            },
            "bridge" => {
                // Old clients name the field errMsg.
                let msg = text(&arg, "err_msg").or_else(|| text(&arg, "errMsg")).unwrap_or_default();
                Input::Bridge(Ok(map_result(&msg)))
            }
            "bridge-missing" => Input::Bridge(Err(BridgeError::NotReady { waited_ms: 0 })),
            "bridge-threw" => Input::Bridge(Err(BridgeError::InvokeFailed)),
            "mini-missing" => Input::MiniProgramFailed { sdk_missing: true },
            "mini-failed" => Input::MiniProgramFailed { sdk_missing: false },
            "nav-failed" => Input::NavigationFailed,
            _ => Input::Abort,
        };
        self.run.step(input, now, random)
    }

    /// Reads `{ id, status, statusText, body, retryAfter, error }` (see the driver).
    fn answer(&self, arg: &JsValue, now: i64) -> Option<Input<'static>> {
        let id = get(arg, "id").as_f64()? as u32;
        let call = self.run.awaiting(id)?;
        let status = get(arg, "status").as_f64().unwrap_or(0.0) as i32;
        let body = get(arg, "body");
        let value = match status {
            200..=299 if given(&body).is_some() => Ok(body),
            200..=299 => Err(BackendError::BadResponse(["not JSON (HTTP ", &decimal(status as u64), ")"].concat())),
            0 | -1 => {
                let thrown = get(arg, "error");
                Err(match openid_required(&thrown) {
                    Some(e) => e,
                    None => {
                        let message = text(&thrown, "message").unwrap_or_else(|| "the request failed".into());
                        if status == 0 {
                            BackendError::Network(message)
                        } else {
                            BackendError::BadResponse(message)
                        }
                    }
                })
            }
            _ => Err(openid_required(&body).unwrap_or_else(|| BackendError::Http {
                status: status.clamp(0, u16::MAX.into()) as u16,
                code: text(&body, "error").unwrap_or_default(),
                message: text(&body, "message").or_else(|| text(arg, "statusText")).unwrap_or_default(),
                retry_after_ms: text(arg, "retryAfter").and_then(|v| parse_retry_after(&v, now)),
            })),
        };
        let answer = match call {
            Call::Pay => Answer::Pay(value.and_then(|v| read_payment(&v))),
            Call::Status => Answer::Status(value.and_then(|v| {
                Ok(OrderStatus {
                    state: text(&v, "state").ok_or_else(|| BackendError::BadResponse("the order has no state".into()))?,
                    transaction_id: text(&v, "transaction_id"),
                    paid_at: text(&v, "paid_at"),
                })
            })),
        };
        Some(Input::Answer { id, answer })
    }
}

/// `{ error: "openid_required", authorize_url }`, as an answer body or a thrown value.
fn openid_required(value: &JsValue) -> Option<BackendError> {
    (text(value, "error")? == "openid_required")
        .then(|| text(value, "authorize_url"))
        .flatten()
        .map(|authorize_url| BackendError::OpenIdRequired { authorize_url })
}

fn read_payment(value: &JsValue) -> Result<Payment, BackendError> {
    let p = get(value, "jsapi");
    let jsapi = if p.is_object() {
        let field = |k: &'static str| {
            text(&p, k).ok_or_else(|| BackendError::BadResponse(["jsapi.", k, " is missing"].concat()))
        };
        Some(JsapiParams {
            app_id: field("appId")?,
            time_stamp: field("timeStamp")?,
            nonce_str: field("nonceStr")?,
            package: field("package")?,
            sign_type: field("signType")?,
            pay_sign: field("paySign")?,
        })
    } else {
        None
    };
    Ok(Payment {
        expires_at: text(value, "expires_at"),
        code_url: text(value, "code_url"),
        jsapi,
        h5_url: text(value, "h5_url"),
    })
}
