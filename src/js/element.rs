//! `CheckoutElement`: what `<wxpay-checkout>` does, behind the JS class that forwards its
//! lifecycle here (`connected`, `disconnected`, `attributeChanged`). The decisions are
//! [`crate::element`]'s; this file reads attributes into `checkout()` options, runs the
//! driver and turns its reports into the element's events.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Object};
use wasm_bindgen::prelude::*;
use web_sys::Element;

use super::checkout::run_from;
use crate::backend::Status;
use crate::driver::{Driver, Parts, Report};
use crate::element::{number, on_change, Change, ATTRIBUTES, POLLING};
use crate::i18n::Locale;

#[wasm_bindgen(js_name = CheckoutElement, skip_typescript)]
pub struct CheckoutElement {
    state: Rc<State>,
}

struct State {
    element: Element,
    driver: RefCell<Option<Driver>>,
    /// A (re)start is already due on the next microtask.
    queued: Cell<bool>,
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(target, &JsValue::from_str(key), value);
}

#[wasm_bindgen(js_class = CheckoutElement)]
impl CheckoutElement {
    #[wasm_bindgen(constructor)]
    pub fn new(element: Element) -> CheckoutElement {
        CheckoutElement {
            state: Rc::new(State {
                element,
                driver: RefCell::new(None),
                queued: Cell::new(false),
            }),
        }
    }

    /// The observed attributes.
    pub fn attributes() -> Array {
        ATTRIBUTES.iter().map(|a| JsValue::from_str(a)).collect()
    }

    pub fn connected(&self) {
        later(&self.state);
    }

    /// Removed from the page: all its work stops, silently, and its panel goes.
    pub fn disconnected(&self) {
        stop(&self.state);
    }

    #[wasm_bindgen(js_name = attributeChanged)]
    pub fn attribute_changed(&self, name: String, old: Option<String>, value: Option<String>) {
        if old == value || !self.state.element.is_connected() {
            return;
        }
        match on_change(&name) {
            Change::NewRun => later(&self.state),
            Change::Relabel => {
                let driver = self.state.driver.borrow().clone();
                if let Some(driver) = driver {
                    driver.relabel(Locale::parse(value.as_deref().unwrap_or_default()));
                }
            }
            Change::NextRun => {}
        }
    }
}

/// (Re)starts the checkout on the next microtask, once per burst of attribute changes.
fn later(state: &Rc<State>) {
    if state.queued.replace(true) {
        return;
    }
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        state.queued.set(false);
        if state.element.is_connected() {
            restart(&state);
        }
    });
}

fn stop(state: &State) {
    let driver = state.driver.borrow_mut().take();
    if let Some(driver) = driver {
        driver.stop_silently();
    }
    if let Some(root) = state.element.shadow_root() {
        root.set_inner_html("");
    }
}

fn restart(state: &Rc<State>) {
    stop(state);
    let attr = |name: &str| {
        state
            .element
            .get_attribute(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let Some(order_id) = attr("order-id") else {
        return;
    };
    let options: JsValue = Object::new().into();
    set(&options, "orderId", &JsValue::from_str(&order_id));
    for (attribute, key) in [
        ("api-base", "apiBase"),
        ("mode", "mode"),
        ("locale", "locale"),
        ("miniprogram-path", "miniprogramPath"),
    ] {
        if let Some(v) = attr(attribute) {
            set(&options, key, &JsValue::from_str(&v));
        }
    }
    if let Some(hosts) = attr("redirect-hosts") {
        let list: Array = hosts
            .split_ascii_whitespace()
            .map(JsValue::from_str)
            .collect();
        set(&options, "redirectHosts", &list);
    }
    let polling: JsValue = Object::new().into();
    let mut refused = None;
    for (attribute, key) in POLLING {
        if let Some(v) = attr(attribute) {
            match number(attribute, &v) {
                Ok(n) => set(&polling, key, &JsValue::from(n)),
                Err(why) => refused = refused.or(Some(why)),
            }
        }
    }
    set(&options, "polling", &polling);
    // A bad attribute: a run that fails at start, so the page shows why.
    let run = match (run_from(&options, false), refused) {
        (Ok((run, _)), None) => run,
        (Ok((run, _)), Some(why)) => run.failing(why),
        (Err(why), _) => {
            let mode = crate::choose_pay_mode(&crate::navigator::detect_here());
            let locale = Locale::parse(&attr("locale").unwrap_or_default());
            crate::flow::Run::new(
                order_id.clone(),
                mode,
                locale,
                Default::default(),
                "/api".into(),
            )
            .failing(why)
        }
    };
    let root: JsValue = match state.element.shadow_root() {
        Some(root) => root.into(),
        None => state
            .element
            .attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))
            .map(Into::into)
            .unwrap_or(JsValue::NULL),
    };
    let element = state.element.clone();
    let report = move |report: Report| {
        let (name, detail) = match report {
            Report::State(detail) => ("wxpay-state", detail),
            Report::Done(outcome, value) => (event_name(outcome.status), value),
        };
        let init = web_sys::CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        init.set_detail(&detail);
        if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(name, &init) {
            let _ = element.dispatch_event(&event);
        }
    };
    let weak = Rc::downgrade(state);
    let on_retry = move || {
        if let Some(state) = weak.upgrade() {
            later(&state);
        }
    };
    let container = (!root.is_null()).then_some(root);
    let parts = Parts {
        order_id,
        hooks: None,
        container,
        report: Rc::new(report),
        on_retry: Some(Rc::new(on_retry)),
    };
    let driver = Driver::start(run, parts);
    *state.driver.borrow_mut() = Some(driver);
}

/// The element's event for an outcome.
fn event_name(status: Status) -> &'static str {
    match status {
        Status::Paid => "wxpay-paid",
        Status::Cancelled => "wxpay-cancel",
        Status::Failed => "wxpay-fail",
        Status::Expired => "wxpay-expire",
    }
}
