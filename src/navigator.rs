//! Reads where-am-I facts out of the live JS runtime: the user agent and the two browser-only
//! hints (`window.__wxjs_environment`, `navigator.maxTouchPoints`).
//!
//! Goes through `globalThis` with `Reflect` rather than `web_sys::window()` so that the same
//! code runs in Node (server-side rendering), where there is no `window` and, before Node 21,
//! no `navigator`: there it answers "a desktop browser" instead of throwing.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::detect::{detect_with_hints, BrowserHints, Environment};

/// The environment of the page this code runs in.
pub fn detect_here() -> Environment {
    match user_agent() {
        Some(ua) => detect_with_hints(&ua, &hints()),
        None => Environment::desktop_browser(),
    }
}

/// `navigator.userAgent`, if the runtime has one.
pub fn user_agent() -> Option<String> {
    get(&navigator()?, "userAgent").as_string()
}

/// The hints a UA string cannot carry; absent ones read as "no hint".
pub fn hints() -> BrowserHints {
    let global = global_this();
    let wxjs_environment = get(&global, "__wxjs_environment").as_string();
    let max_touch_points = navigator()
        .and_then(|n| get(&n, "maxTouchPoints").as_f64())
        .map_or(0, |n| n.clamp(0.0, u32::MAX as f64) as u32);
    BrowserHints { wxjs_environment, max_touch_points }
}

fn navigator() -> Option<JsValue> {
    let nav = get(&global_this(), "navigator");
    (nav.is_object()).then_some(nav)
}

#[wasm_bindgen]
extern "C" {
    // One import, where js_sys::global() probes four names (globalThis, self, window, global).
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// `globalThis`: the window in a browser, the global object in Node.
fn global_this() -> JsValue {
    GLOBAL_THIS.with(JsValue::clone)
}

/// A property read that never throws: a missing object or getter error reads as `undefined`.
fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}
