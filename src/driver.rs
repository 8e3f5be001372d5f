//! The driver: carries out the effects of a checkout run in the browser and feeds back what
//! happened (wasm32 only). Like the caller of rustls it moves bytes and decides nothing: every
//! decision is the run's ([`crate::flow`]).
//!
//! - requests to the merchant backend with gloo-net (`POST …/pay`, `GET …/orders/{id}`,
//!   `?wait=` long-polls), each with an `AbortController`; bodies read with `Response.json()`
//!   and serde-wasm-bindgen, classified by [`crate::backend`]; or the merchant's own hooks;
//! - timers (gloo-timers), the page's visibility (`visibilitychange`, `pageshow`);
//! - `WeixinJSBridge` (its ready event, `getBrandWCPayRequest`) and `wx.miniProgram.navigateTo`
//!   through js-sys; `location.assign` and `history.replaceState` through web-sys;
//! - the panel: drawing effects are folded into a [`View`] that the JS panel
//!   (`pkg-template/checkout.js`) draws once per step; state details and outcomes go to the
//!   caller as plain JS objects (serde-wasm-bindgen).
//!
//! Inputs that arrive while a step's effects are being carried out (a bridge answering at
//! once, `onState` calling `abort()`) are queued, so the run is never re-entered and the page
//! never shows an older state after a newer one. No `RefCell` borrow is held across a call
//! into JS.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use js_sys::{Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{AbortController, AbortSignal, EventTarget};

use crate::backend::{read_pay, read_status, thrown, BackendError, Body, HttpAnswer};
use crate::bridge::{map_result, BridgeError};
use crate::effect::{Call, Effect, OutcomeObject, Request, StateDetail};
use crate::flow::{Action, Answer, Input, Run};
use crate::i18n::Locale;
use crate::view::View;

/// What a run tells its owner: `checkout()`'s promise and `onState`, or the element's events.
pub enum Report {
    /// A state was entered: the `detail` object.
    State(JsValue),
    /// The run is over: the outcome and its object.
    Done(OutcomeObject, JsValue),
}

/// Where reports go.
pub type Sink = Rc<dyn Fn(Report)>;

/// A running (or finished) checkout.
#[derive(Clone)]
pub struct Driver {
    shared: Rc<Shared>,
}

struct Shared {
    inner: RefCell<Inner>,
    /// `None` once the owner stopped listening (an element removed).
    report: RefCell<Option<Sink>>,
    /// "Try again" was clicked (the element starts a new run).
    on_retry: Option<Rc<dyn Fn()>>,
}

struct Inner {
    run: Run,
    order_id: String,
    hooks: Option<JsValue>,
    view: View,
    panel: Option<JsValue>,
    /// Pending timers by id (a handful at a time: a Vec, no hash map in the wasm).
    timers: Vec<(u32, Timeout)>,
    request: Option<AbortController>,
    bridge_wait: Option<(Timeout, Listener)>,
    listeners: Vec<Listener>,
    /// Keeps the panel's click handler alive.
    on_action: Option<Closure<dyn Fn(JsValue)>>,
    queue: VecDeque<Input>,
    busy: bool,
    over: bool,
}

/// An event listener, removed when dropped.
struct Listener {
    target: EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.closure.as_ref().unchecked_ref());
    }
}

fn listen(
    target: &EventTarget,
    kind: &'static str,
    f: impl FnMut(web_sys::Event) + 'static,
) -> Listener {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
    Listener {
        target: target.clone(),
        kind,
        closure,
    }
}

thread_local! {
    /// The JS panel class (`pkg-template/checkout.js`), set once by the package entry.
    static PANEL: RefCell<Option<Function>> = const { RefCell::new(None) };
}

/// The class that draws a [`View`] (`new Panel(root, onAction)`, `panel.draw(view)`), given
/// once by the package entry (`setPanel`); without it nothing is drawn.
pub fn set_panel(panel: Function) {
    PANEL.with(|p| *p.borrow_mut() = Some(panel));
}

/// Values to JS: absent values as `null`, maps as plain objects.
pub fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::UNDEFINED)
}

fn global() -> JsValue {
    js_sys::global().into()
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// What a run needs besides the run itself.
pub struct Parts {
    pub order_id: String,
    /// The merchant's `{ pay, status }` functions instead of HTTP.
    pub hooks: Option<JsValue>,
    /// Where to draw the panel (an element or shadow root).
    pub container: Option<JsValue>,
    pub report: Sink,
    pub on_retry: Option<Rc<dyn Fn()>>,
}

impl Driver {
    /// Starts `run`: listeners now, the first step on a microtask (so `checkout()` returns
    /// its handle first and an abort comes before anything is asked of the backend).
    pub fn start(run: Run, parts: Parts) -> Driver {
        let shared = Rc::new(Shared {
            inner: RefCell::new(Inner {
                run,
                order_id: parts.order_id,
                hooks: parts.hooks,
                view: View::default(),
                panel: None,
                timers: Vec::new(),
                request: None,
                bridge_wait: None,
                listeners: Vec::new(),
                on_action: None,
                queue: VecDeque::new(),
                busy: false,
                over: false,
            }),
            report: RefCell::new(Some(parts.report)),
            on_retry: parts.on_retry,
        });
        let driver = Driver { shared };
        if let Some(container) = parts.container {
            driver.mount(&container);
        }
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            let weak = driver.weak();
            let doc = document.clone();
            let visibility = listen(&document, "visibilitychange", move |_| {
                send_weak(
                    &weak,
                    if doc.hidden() {
                        Input::Hidden
                    } else {
                        Input::Visible
                    },
                );
            });
            // Back from the H5 cashier, the page may come from the back-forward cache:
            // pageshow, no load.
            let weak = driver.weak();
            let pageshow = listen(&global().unchecked_into(), "pageshow", move |e| {
                if get(&e, "persisted").is_truthy() {
                    send_weak(&weak, Input::Visible);
                }
            });
            driver
                .shared
                .inner
                .borrow_mut()
                .listeners
                .extend([visibility, pageshow]);
            if document.hidden() {
                driver.send(Input::Hidden);
            }
        }
        let page = get(&get(&global(), "location"), "href")
            .as_string()
            .unwrap_or_default();
        let weak = driver.weak();
        spawn_local(async move { send_weak(&weak, Input::Start { page }) });
        driver
    }

    fn weak(&self) -> Weak<Shared> {
        Rc::downgrade(&self.shared)
    }

    /// Creates the panel in `container`; a click on one of its buttons steps the run.
    fn mount(&self, container: &JsValue) {
        let Some(class) = PANEL.with(|p| p.borrow().clone()) else {
            return;
        };
        let weak = self.weak();
        let on_action = Closure::<dyn Fn(JsValue)>::new(move |name: JsValue| {
            let Some(shared) = weak.upgrade() else { return };
            let name = name.as_string().unwrap_or_default();
            match Action::from_name(&name) {
                Some(Action::Retry) => {
                    if let Some(retry) = shared.on_retry.clone() {
                        retry();
                    }
                }
                Some(action) => send(&shared, Input::Action(action)),
                None => {}
            }
        });
        let args = js_sys::Array::of2(container, on_action.as_ref());
        if let Ok(panel) = Reflect::construct(&class, &args) {
            let mut inner = self.shared.inner.borrow_mut();
            inner.panel = Some(panel);
            inner.on_action = Some(on_action);
        }
    }

    pub fn send(&self, input: Input) {
        send(&self.shared, input);
    }

    /// Stops the run without another word to its owner (the element was removed).
    pub fn stop_silently(&self) {
        *self.shared.report.borrow_mut() = None;
        self.send(Input::Abort);
    }

    /// Shows the run (finished or not) in another language.
    pub fn relabel(&self, locale: Locale) {
        self.send(Input::Locale(locale));
    }
}

fn send_weak(weak: &Weak<Shared>, input: Input) {
    if let Some(shared) = weak.upgrade() {
        send(&shared, input);
    }
}

/// Queues `input` and, unless a step is already being carried out, steps the run until the
/// queue is empty. A finished run only takes another language.
fn send(shared: &Rc<Shared>, input: Input) {
    {
        let mut inner = shared.inner.borrow_mut();
        inner.queue.push_back(input);
        if inner.busy {
            return;
        }
        inner.busy = true;
    }
    loop {
        let (effects, panel, view) = {
            let mut inner = shared.inner.borrow_mut();
            let Some(input) = inner.queue.pop_front() else {
                break;
            };
            if inner.over && !matches!(input, Input::Locale(_)) {
                continue;
            }
            let effects = inner
                .run
                .step(input, js_sys::Date::now() as i64, js_sys::Math::random());
            let mut changed = false;
            for e in &effects {
                changed |= inner.view.apply(e);
            }
            let view = changed.then(|| to_js(&inner.view));
            (effects, inner.panel.clone(), view)
        };
        if let (Some(panel), Some(view)) = (panel, view) {
            if let Ok(draw) = get(&panel, "draw").dyn_into::<Function>() {
                let _ = draw.call1(&panel, &view);
            }
        }
        for effect in effects {
            carry_out(shared, effect);
        }
    }
    shared.inner.borrow_mut().busy = false;
}

fn report(shared: &Rc<Shared>, report: Report) {
    let sink = shared.report.borrow().clone();
    if let Some(sink) = sink {
        sink(report);
    }
}

fn carry_out(shared: &Rc<Shared>, effect: Effect) {
    if shared.inner.borrow().over {
        return;
    }
    match effect {
        Effect::State {
            detail: Some(detail),
            ..
        } => report(shared, Report::State(detail_object(&detail))),
        Effect::Fetch(request) => fetch(shared, request),
        Effect::Cancel => {
            if let Some(c) = shared.inner.borrow_mut().request.take() {
                c.abort();
            }
        }
        Effect::Timer { id, ms } => {
            let weak = Rc::downgrade(shared);
            let timeout = Timeout::new(ms, move || {
                if let Some(shared) = weak.upgrade() {
                    shared.inner.borrow_mut().timers.retain(|t| t.0 != id);
                    send(&shared, Input::Timer(id));
                }
            });
            shared.inner.borrow_mut().timers.push((id, timeout));
        }
        Effect::Go { url } => {
            let assigned = web_sys::window().map(|w| w.location().assign(&url));
            if !matches!(assigned, Some(Ok(()))) {
                send(shared, Input::NavigationFailed);
            }
        }
        Effect::Replace { url } => {
            // Only tidies the address bar (drops a used OAuth code).
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
            }
        }
        Effect::Bridge { params, timeout } => bridge(shared, to_js(&params), timeout),
        Effect::Mini { url } => mini_program(shared, &url),
        Effect::Done { outcome } => {
            {
                let mut inner = shared.inner.borrow_mut();
                inner.over = true;
                if let Some(c) = inner.request.take() {
                    c.abort();
                }
                inner.timers.clear();
                inner.bridge_wait = None;
                inner.listeners.clear();
            }
            let value = to_js(&outcome);
            report(shared, Report::Done(outcome, value));
        }
        // Drawn: folded into the view.
        _ => {}
    }
}

/// The `detail` object, `expiresAt` as a `Date`.
fn detail_object(detail: &StateDetail) -> JsValue {
    let value = detail
        .serialize(&serde_wasm_bindgen::Serializer::new())
        .unwrap_or(JsValue::UNDEFINED);
    if let Some(ms) = detail.expires_at {
        set(
            &value,
            "expiresAt",
            &js_sys::Date::new(&JsValue::from_f64(ms as f64)),
        );
    }
    value
}

// ---- the merchant backend ------------------------------------------------------------------

fn fetch(shared: &Rc<Shared>, request: Request) {
    let Ok(controller) = AbortController::new() else {
        let missing = Err(BackendError::Network("AbortController is missing".into()));
        let answer = answer(request.call, missing, "", 0);
        return send(
            shared,
            Input::Answer {
                id: request.id,
                answer,
            },
        );
    };
    let signal = controller.signal();
    let (hooks, order_id) = {
        let mut inner = shared.inner.borrow_mut();
        if let Some(previous) = inner.request.replace(controller) {
            previous.abort();
        }
        (inner.hooks.clone(), inner.order_id.clone())
    };
    let weak = Rc::downgrade(shared);
    spawn_local(async move {
        let got = match hooks {
            Some(hooks) => hook(&hooks, &order_id, &request, &signal).await,
            None => http(&request, &signal).await,
        };
        // A cancelled or superseded call's answer is never delivered.
        if signal.aborted() {
            return;
        }
        let Some(shared) = weak.upgrade() else { return };
        shared.inner.borrow_mut().request = None;
        let answer = answer(request.call, got, &order_id, js_sys::Date::now() as i64);
        send(
            &shared,
            Input::Answer {
                id: request.id,
                answer,
            },
        );
    });
}

/// What arrived (or why nothing did), read as what the request asked for.
fn answer(call: Call, got: Result<HttpAnswer, BackendError>, order_id: &str, now: i64) -> Answer {
    match call {
        Call::Pay => Answer::Pay(got.and_then(|a| read_pay(a, now))),
        Call::Status => Answer::Status(got.and_then(|a| read_status(a, order_id, now))),
    }
}

/// HTTP to the default `/api` contract.
async fn http(request: &Request, signal: &AbortSignal) -> Result<HttpAnswer, BackendError> {
    const JSON_TYPE: &str = "application/json";
    let builder = match request.call {
        Call::Pay => gloo_net::http::Request::post(&request.url),
        Call::Status => gloo_net::http::Request::get(&request.url),
    }
    .header("Accept", JSON_TYPE)
    .abort_signal(Some(signal));
    let built = match &request.body {
        Some(body) => {
            let json = js_sys::JSON::stringify(&to_js(body))
                .map(String::from)
                .unwrap_or_default();
            builder.header("Content-Type", JSON_TYPE).body(json)
        }
        None => builder.build(),
    };
    let network = |e: gloo_net::Error| BackendError::Network(e.to_string());
    let response = built.map_err(network)?.send().await.map_err(network)?;
    let headers = response.headers();
    let (status, status_text) = (response.status(), response.status_text());
    let raw = web_sys::Response::from(response);
    // Not JSON (a proxy's error page): no body, and the classification says so.
    let body = match raw.json() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| serde_wasm_bindgen::from_value::<Body>(v).ok()),
        Err(_) => None,
    };
    Ok(HttpAnswer {
        status,
        status_text,
        body,
        retry_after: headers.get("retry-after"),
        date: headers.get("date"),
    })
}

/// The merchant's own `pay(orderId, request, { signal })` / `status(orderId, { wait, signal },
/// { signal })`: what it resolves is the body; what it throws is a failure.
async fn hook(
    hooks: &JsValue,
    order_id: &str,
    request: &Request,
    signal: &AbortSignal,
) -> Result<HttpAnswer, BackendError> {
    let name = match request.call {
        Call::Pay => "pay",
        Call::Status => "status",
    };
    let function = get(hooks, name).dyn_into::<Function>().map_err(|_| {
        BackendError::BadResponse(["the custom backend has no ", name, "() function"].concat())
    })?;
    let options: JsValue = Object::new().into();
    set(&options, "signal", signal);
    let second = match (&request.body, request.call) {
        (Some(body), _) => to_js(body),
        (None, _) => {
            let status_options: JsValue = Object::new().into();
            if let Some(wait) = request.wait {
                set(&status_options, "wait", &JsValue::from(wait));
            }
            set(&status_options, "signal", signal);
            status_options
        }
    };
    let called = function.call3(hooks, &JsValue::from_str(order_id), &second, &options);
    let settled = match called {
        Ok(value) => JsFuture::from(Promise::resolve(&value)).await,
        Err(e) => Err(e),
    };
    match settled {
        Ok(value) => Ok(HttpAnswer {
            status: 200,
            body: serde_wasm_bindgen::from_value(value).ok(),
            ..HttpAnswer::default()
        }),
        Err(e) => Err(thrown(
            serde_wasm_bindgen::from_value(e.clone()).ok(),
            get(&e, "message").as_string(),
        )),
    }
}

// ---- WeChat --------------------------------------------------------------------------------

/// The pay sheet's answer, `{ err_msg }` (`errMsg` on old clients).
#[derive(Deserialize)]
struct BridgeAnswer {
    err_msg: Option<String>,
    #[serde(rename = "errMsg")]
    err_msg_old: Option<String>,
}

/// Waits up to `timeout` ms for `WeixinJSBridge` (WeChat injects it some time after the page
/// loads, then fires `WeixinJSBridgeReady`), then calls `getBrandWCPayRequest`.
fn bridge(shared: &Rc<Shared>, params: JsValue, timeout: u32) {
    if get(&global(), "WeixinJSBridge").is_object() {
        return invoke_bridge(shared, &params);
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return send(
            shared,
            Input::Bridge(Err(BridgeError::NotReady { waited_ms: 0 })),
        );
    };
    let ready = {
        let weak = Rc::downgrade(shared);
        Rc::new(move || {
            let Some(shared) = weak.upgrade() else { return };
            if shared.inner.borrow_mut().bridge_wait.take().is_none() {
                return;
            }
            if get(&global(), "WeixinJSBridge").is_object() {
                invoke_bridge(&shared, &params);
            } else {
                send(
                    &shared,
                    Input::Bridge(Err(BridgeError::NotReady { waited_ms: 0 })),
                );
            }
        })
    };
    let on_event = ready.clone();
    let listener = listen(&document, "WeixinJSBridgeReady", move |_| on_event());
    let timer = Timeout::new(timeout, move || ready());
    shared.inner.borrow_mut().bridge_wait = Some((timer, listener));
}

fn invoke_bridge(shared: &Rc<Shared>, params: &JsValue) {
    let bridge = get(&global(), "WeixinJSBridge");
    let weak = Rc::downgrade(shared);
    let callback = Closure::once_into_js(move |res: JsValue| {
        let answer: Option<BridgeAnswer> = serde_wasm_bindgen::from_value(res).ok();
        let msg = answer
            .and_then(|a| a.err_msg.or(a.err_msg_old))
            .unwrap_or_default();
        send_weak(&weak, Input::Bridge(Ok(map_result(&msg))));
    });
    let invoked = get(&bridge, "invoke").dyn_into::<Function>().map(|invoke| {
        invoke.call3(
            &bridge,
            &JsValue::from_str("getBrandWCPayRequest"),
            params,
            &callback,
        )
    });
    if !matches!(invoked, Ok(Ok(_))) {
        send(shared, Input::Bridge(Err(BridgeError::InvokeFailed)));
    }
}

/// `wx.miniProgram.navigateTo({ url, fail })` of the mini-program JS-SDK.
fn mini_program(shared: &Rc<Shared>, url: &str) {
    let mini = get(&get(&global(), "wx"), "miniProgram");
    let Ok(navigate) = get(&mini, "navigateTo").dyn_into::<Function>() else {
        return send(shared, Input::MiniProgramFailed { sdk_missing: true });
    };
    let weak = Rc::downgrade(shared);
    let fail = Closure::once_into_js(move || {
        send_weak(&weak, Input::MiniProgramFailed { sdk_missing: false })
    });
    let options: JsValue = Object::new().into();
    set(&options, "url", &JsValue::from_str(url));
    set(&options, "fail", &fail);
    if navigate.call1(&mini, &options).is_err() {
        send(shared, Input::MiniProgramFailed { sdk_missing: false });
    }
}
