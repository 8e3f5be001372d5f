//! `checkout(options)` → a Promise of the outcome with an `abort()` method.

use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::given;
use crate::backend::Backend;
use crate::checkout::{mode_from_name, outcome_js, redirect_hosts, run, Ctx, Settings};
use crate::i18n::Locale;
use crate::session::Session;
use crate::view::View;

fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(obj, &key.into())
        .ok()
        .filter(|v| given(v).is_some())
}

fn bad(what: &str) -> JsError {
    JsError::new(&["checkout(): ", what].concat())
}

fn string(obj: &JsValue, key: &str) -> Result<Option<String>, JsError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| bad(&["option ", key, " must be a string"].concat())),
    }
}

/// A non-negative number option, scaled (seconds → ms) and clamped into u32.
fn number(obj: &JsValue, key: &str, scale: f64) -> Result<Option<u32>, JsError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if n >= 0.0 && n.is_finite() => {
                Ok(Some((n * scale).min(f64::from(u32::MAX)) as u32))
            }
            _ => Err(bad(
                &["option ", key, " must be a non-negative number"].concat()
            )),
        },
    }
}

/// `checkout({ orderId, apiBase?, mode?, container?, locale?, polling?, redirectHosts?,
/// miniprogramPath?, bridgeTimeout?, backend?, onState?, signal? })`.
#[wasm_bindgen(js_name = checkout, skip_typescript)]
pub fn checkout_js(options: JsValue) -> Result<Promise, JsError> {
    if !options.is_object() {
        return Err(bad("expects an options object with at least { orderId }"));
    }
    let order_id = string(&options, "orderId")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("option orderId (the merchant order id) is required"))?;
    let mode = match string(&options, "mode")? {
        None => crate::choose_pay_mode(&crate::navigator::detect_here()),
        Some(m) => mode_from_name(&m).ok_or_else(|| {
            bad(&[
                "mode \"",
                &m,
                "\" is not one of jsapi, h5, native, miniprogram",
            ]
            .concat())
        })?,
    };
    let locale = Locale::parse(&string(&options, "locale")?.unwrap_or_default());
    let mut settings = Settings::default();
    if let Some(hosts) = get(&options, "redirectHosts") {
        let list: Vec<String> = js_sys::Array::from(&hosts)
            .iter()
            .filter_map(|h| h.as_string())
            .collect();
        settings.redirect_hosts = redirect_hosts(list.iter().map(String::as_str));
    }
    if let Some(path) = string(&options, "miniprogramPath")? {
        settings.miniprogram_path = path;
    }
    if let Some(ms) = number(&options, "bridgeTimeout", 1.0)? {
        settings.bridge_timeout_ms = ms;
    }
    if let Some(ms) = number(&options, "h5CheckTime", 1.0)? {
        settings.h5_check_ms = ms;
    }
    if let Some(p) = get(&options, "polling") {
        let poll = &mut settings.poll;
        poll.interval_ms = number(&p, "interval", 1.0)?
            .unwrap_or(poll.interval_ms)
            .max(100);
        poll.max_interval_ms = number(&p, "maxInterval", 1.0)?
            .unwrap_or(poll.max_interval_ms)
            .max(poll.interval_ms);
        poll.fast_for_ms = number(&p, "fastFor", 1.0)?.unwrap_or(poll.fast_for_ms);
        poll.max_duration_ms = number(&p, "maxDuration", 1.0)?.unwrap_or(poll.max_duration_ms);
        poll.long_poll_s = number(&p, "longPoll", 1.0)?
            .unwrap_or(poll.long_poll_s)
            .min(30);
        if let Some(j) = get(&p, "jitter").and_then(|j| j.as_f64()) {
            poll.jitter = j.clamp(0.0, 1.0);
        }
        if let Some(f) = get(&p, "backoff").and_then(|f| f.as_f64()) {
            poll.backoff_factor = f.clamp(1.0, 10.0);
        }
    }
    let backend = match get(&options, "backend") {
        Some(hooks) => Backend::Custom(hooks),
        None => Backend::Http {
            api_base: string(&options, "apiBase")?.unwrap_or_else(|| "/api".into()),
        },
    };
    let view = match get(&options, "container") {
        None => None,
        Some(c) => {
            let node: web_sys::Node = c
                .dyn_into()
                .map_err(|_| bad("option container must be a DOM element or shadow root"))?;
            Some(Rc::new(
                View::new(&node, locale).ok_or_else(|| bad("cannot draw into container"))?,
            ))
        }
    };
    let on_state = get(&options, "onState").and_then(|f| f.dyn_into::<Function>().ok());
    let session = Session::new();
    let ctx = Ctx {
        order_id,
        mode,
        backend,
        session: session.clone(),
        view,
        locale,
        settings,
        report: Rc::new(move |detail| {
            if let Some(f) = &on_state {
                let _ = f.call1(&JsValue::NULL, detail);
            }
        }),
    };
    let promise = wasm_bindgen_futures::future_to_promise(async move {
        let end = run(&ctx).await;
        Ok(outcome_js(&end, &ctx.order_id, ctx.mode))
    });
    let s = session.clone();
    // FnMut, not Fn: the same closure kind as every other no-argument callback (one JS shim).
    let abort = Closure::<dyn FnMut()>::new(move || s.abort()).into_js_value();
    let _ = Reflect::set(&promise, &"abort".into(), &abort);
    if let Some(signal) =
        get(&options, "signal").and_then(|s| s.dyn_into::<web_sys::AbortSignal>().ok())
    {
        if signal.aborted() {
            session.abort();
        } else {
            let _ = signal.add_event_listener_with_callback("abort", abort.unchecked_ref());
        }
    }
    Ok(promise)
}
