//! `checkout(options)`: reads the options into a [`Run`] (errors name the option) and starts
//! the driver; returns a Promise of the outcome object with `abort()`.

use std::rc::Rc;

use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::{get, given};
use crate::checkout::{mode_from_name, redirect_hosts, Settings};
use crate::driver::{Driver, Parts, Report};
use crate::flow::{Input, Run};
use crate::i18n::Locale;

/// Why options are refused, without the `checkout(): ` prefix.
type Refusal = String;

fn string(obj: &JsValue, key: &str) -> Result<Option<String>, Refusal> {
    match given(&get(obj, key)) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| ["option ", key, " must be a string"].concat()),
    }
}

/// A non-negative, finite number option.
fn float(obj: &JsValue, key: &str) -> Result<Option<f64>, Refusal> {
    match given(&get(obj, key)) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.is_finite() => Ok(Some(n)),
            _ => Err(["option ", key, " must be a non-negative number"].concat()),
        },
    }
}

/// A non-negative number option (milliseconds, seconds), clamped into u32.
fn number(obj: &JsValue, key: &str) -> Result<Option<u32>, Refusal> {
    Ok(float(obj, key)?.map(|n| n.min(f64::from(u32::MAX)) as u32))
}

/// The run the options describe, and its order id. `strict` (checkout()) refuses a bad
/// `mode`; the element (not strict) gets a run that fails at start instead, so the page shows
/// why.
pub fn run_from(options: &JsValue, strict: bool) -> Result<(Run, String), Refusal> {
    if !options.is_object() {
        return Err("expects an options object with at least { orderId }".into());
    }
    let order_id = string(options, "orderId")?
        .filter(|s| !s.is_empty())
        .ok_or("option orderId (the merchant order id) is required")?;
    let detected = || crate::choose_pay_mode(&crate::navigator::detect_here());
    let (mode, mode_error) = match string(options, "mode")? {
        None => (detected(), None),
        Some(m) => match mode_from_name(m.trim()) {
            Some(mode) => (mode, None),
            None => {
                let rest = "\" is not one of jsapi, h5, native, miniprogram";
                if strict {
                    return Err(["mode \"", &m, rest].concat());
                }
                // The element: name the attribute as it is written.
                (detected(), Some(["mode=\"", &m, rest].concat()))
            }
        },
    };
    let locale = Locale::parse(&string(options, "locale")?.unwrap_or_default());
    let mut settings = Settings {
        offer_retry: !strict,
        ..Settings::default()
    };
    if let Some(hosts) = given(&get(options, "redirectHosts")) {
        if !js_sys::Array::is_array(hosts) {
            return Err("option redirectHosts must be an array of host names".into());
        }
        let list: Vec<String> = js_sys::Array::from(hosts)
            .iter()
            .filter_map(|h| h.as_string())
            .collect();
        settings.redirect_hosts = redirect_hosts(list.iter().map(String::as_str));
    }
    if let Some(path) = string(options, "miniprogramPath")? {
        settings.miniprogram_path = path;
    }
    if let Some(ms) = number(options, "bridgeTimeout")? {
        settings.bridge_timeout_ms = ms;
    }
    if let Some(ms) = number(options, "h5CheckTime")? {
        settings.h5_check_ms = ms;
    }
    if let Some(ms) = number(options, "requestTimeout")? {
        settings.request_timeout_ms = ms.max(1_000);
    }
    if let Some(p) = given(&get(options, "polling")) {
        if !p.is_object() {
            return Err("option polling must be an object such as { interval: 2000 }".into());
        }
        let poll = &mut settings.poll;
        poll.interval_ms = number(p, "interval")?.unwrap_or(poll.interval_ms).max(100);
        poll.max_interval_ms = number(p, "maxInterval")?
            .unwrap_or(poll.max_interval_ms)
            .max(poll.interval_ms);
        poll.fast_for_ms = number(p, "fastFor")?.unwrap_or(poll.fast_for_ms);
        poll.max_duration_ms = number(p, "maxDuration")?.unwrap_or(poll.max_duration_ms);
        poll.long_poll_s = number(p, "longPoll")?.unwrap_or(poll.long_poll_s).min(30);
        poll.jitter = float(p, "jitter")?.map_or(poll.jitter, |j| j.min(1.0));
        poll.backoff_factor =
            float(p, "backoff")?.map_or(poll.backoff_factor, |f| f.clamp(1.0, 10.0));
    }
    let api_base = string(options, "apiBase")?.unwrap_or_else(|| "/api".into());
    let run = Run::new(order_id.clone(), mode, locale, settings, api_base);
    Ok((
        match mode_error {
            Some(msg) => run.failing(msg),
            None => run,
        },
        order_id,
    ))
}

/// `setPanel(Panel)`: the JS class that draws checkout panels (`pkg-template/checkout.js`),
/// called once by the package entry. Not re-exported.
#[wasm_bindgen(js_name = setPanel, skip_typescript)]
pub fn set_panel(panel: Function) {
    crate::driver::set_panel(panel);
}

fn bad(what: &str) -> JsError {
    JsError::new(&["checkout(): ", what].concat())
}

/// `checkout(options)` → a Promise of the outcome with `abort()`. Bad options throw at once.
#[wasm_bindgen(skip_typescript)]
pub fn checkout(options: JsValue) -> Result<Promise, JsError> {
    let (run, order_id) = run_from(&options, true).map_err(|m| bad(&m))?;
    let container = given(&get(&options, "container")).cloned();
    if let Some(c) = &container {
        if !c.is_instance_of::<web_sys::Element>() && !c.is_instance_of::<web_sys::ShadowRoot>() {
            return Err(bad("option container must be a DOM element or shadow root"));
        }
    }
    let on_state = get(&options, "onState").dyn_into::<Function>().ok();
    let mut resolve = None;
    let promise = Promise::new(&mut |ok, _| resolve = Some(ok));
    let report = move |report: Report| match report {
        // The merchant's callback must not break the checkout.
        Report::State(detail) => {
            if let Some(f) = &on_state {
                let _ = f.call1(&JsValue::UNDEFINED, &detail);
            }
        }
        Report::Done(_, outcome) => {
            if let Some(ok) = &resolve {
                let _ = ok.call1(&JsValue::UNDEFINED, &outcome);
            }
        }
    };
    let hooks = given(&get(&options, "backend")).cloned();
    let parts = Parts {
        order_id,
        hooks,
        container,
        report: Rc::new(report),
        on_retry: None,
    };
    let driver = Driver::start(run, parts);
    let abort = Closure::<dyn Fn()>::new(move || driver.send(Input::Abort)).into_js_value();
    let _ = js_sys::Reflect::set(&promise, &JsValue::from_str("abort"), &abort);
    if let Ok(signal) = get(&options, "signal").dyn_into::<web_sys::AbortSignal>() {
        if signal.aborted() {
            let _ = abort.unchecked_ref::<Function>().call0(&JsValue::UNDEFINED);
        } else {
            let once = web_sys::AddEventListenerOptions::new();
            once.set_once(true);
            let _ = signal.add_event_listener_with_callback_and_add_event_listener_options(
                "abort",
                abort.unchecked_ref(),
                &once,
            );
        }
    }
    Ok(promise)
}
