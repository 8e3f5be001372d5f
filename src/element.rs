//! `<wxpay-checkout order-id="…" api-base="/api" mode="…" locale="…">`: the whole checkout as
//! one tag, registered when the package is imported.
//!
//! A custom element needs a JS class (`extends HTMLElement`), so a few lines of inline JS
//! define it and call back into Rust on connect, disconnect and attribute change. Each
//! element gets an open shadow root with one panel (`view`), reports every state change as
//! `wxpay-state` and the outcome as `wxpay-paid` / `wxpay-cancel` / `wxpay-fail` /
//! `wxpay-expire` (bubbling, composed), and stops everything when removed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CustomEvent, Element};

use crate::dom::plain_object;

use crate::backend::{Backend, Status};
use crate::checkout::{mode_from_name, outcome_js, redirect_hosts, run, Ctx, End, Settings};
use crate::i18n::{Locale, Text};
use crate::session::Session;
use crate::view::View;

#[wasm_bindgen(inline_js = "
export function defineElement(name, connected, disconnected, changed) {
  if (typeof customElements === 'undefined' || typeof HTMLElement === 'undefined' || customElements.get(name)) return;
  customElements.define(name, class extends HTMLElement {
    static get observedAttributes() { return ['order-id', 'api-base', 'mode', 'locale', 'redirect-hosts', 'miniprogram-path']; }
    connectedCallback() { connected(this); }
    disconnectedCallback() { disconnected(this); }
    attributeChangedCallback(_name, old, value) { if (old !== value) changed(this); }
  });
}")]
extern "C" {
    #[wasm_bindgen(js_name = defineElement)]
    fn define_element(
        name: &str,
        connected: &Function,
        disconnected: &Function,
        changed: &Function,
    );
}

/// What runs inside one element.
struct Running {
    element: Element,
    session: Option<Session>,
    view: Option<Rc<View>>,
    /// A restart is queued for the next microtask (attributes often change in bursts).
    scheduled: Rc<Cell<bool>>,
}

thread_local! {
    static RUNNING: RefCell<Vec<Running>> = const { RefCell::new(Vec::new()) };
}

/// Registers `<wxpay-checkout>` on import; a no-op outside browsers (Node SSR) and when the
/// name is already taken.
#[wasm_bindgen(start)]
pub fn register() {
    let connected = Closure::<dyn Fn(Element)>::new(schedule).into_js_value();
    let disconnected = Closure::<dyn Fn(Element)>::new(stop).into_js_value();
    let changed = Closure::<dyn Fn(Element)>::new(|el: Element| {
        if el.is_connected() {
            schedule(el)
        }
    })
    .into_js_value();
    define_element(
        "wxpay-checkout",
        connected.unchecked_ref(),
        disconnected.unchecked_ref(),
        changed.unchecked_ref(),
    );
}

fn with_entry<T>(el: &Element, f: impl FnOnce(&mut Running) -> T) -> T {
    RUNNING.with(|r| {
        let mut list = r.borrow_mut();
        let i = match list.iter().position(|e| Object::is(&e.element, el)) {
            Some(i) => i,
            None => {
                list.push(Running {
                    element: el.clone(),
                    session: None,
                    view: None,
                    scheduled: Rc::default(),
                });
                list.len() - 1
            }
        };
        f(&mut list[i])
    })
}

/// (Re)starts the element's checkout on the next microtask, once per burst of changes.
fn schedule(el: Element) {
    let flag = with_entry(&el, |e| e.scheduled.clone());
    if flag.replace(true) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        flag.set(false);
        if el.is_connected() {
            start(&el);
        }
    });
}

/// Removal stops all work: the session (timers, listeners, fetches) and the panel.
fn stop(el: Element) {
    RUNNING.with(|r| {
        let mut list = r.borrow_mut();
        if let Some(i) = list.iter().position(|e| Object::is(&e.element, &el)) {
            let entry = list.swap_remove(i);
            if let Some(s) = entry.session {
                s.abort();
            }
            if let Some(v) = entry.view {
                v.remove();
            }
        }
    });
}

fn start(el: &Element) {
    let (old_session, old_view) = with_entry(el, |e| (e.session.take(), e.view.take()));
    if let Some(s) = old_session {
        s.abort();
    }
    if let Some(v) = old_view {
        v.remove();
    }
    let attr = |name: &str| el.get_attribute(name).filter(|v| !v.trim().is_empty());
    let Some(order_id) = attr("order-id") else {
        return;
    };
    let root = match el.shadow_root() {
        Some(root) => root,
        None => match el.attach_shadow(plain_object(&[("mode", &"open".into())]).unchecked_ref()) {
            Ok(root) => root,
            Err(_) => return,
        },
    };
    let locale = Locale::parse(&attr("locale").unwrap_or_default());
    let Some(view) = View::new(&root, locale).map(Rc::new) else {
        return;
    };
    let mut settings = Settings::default();
    let hosts = attr("redirect-hosts").unwrap_or_default();
    settings.redirect_hosts = redirect_hosts(hosts.split_ascii_whitespace());
    if let Some(path) = attr("miniprogram-path") {
        settings.miniprogram_path = path;
    }
    let mode = match attr("mode") {
        None => crate::choose_pay_mode(&crate::navigator::detect_here()),
        Some(name) => match mode_from_name(name.trim()) {
            Some(m) => m,
            None => {
                let msg = [
                    "mode=\"",
                    &name,
                    "\" is not one of jsapi, h5, native, miniprogram",
                ]
                .concat();
                let detected = crate::choose_pay_mode(&crate::navigator::detect_here());
                view.show(crate::checkout::State::Failed, detected);
                view.note_text(&msg);
                let end = End::Done(crate::checkout::Outcome::new(Status::Failed, Some(msg)));
                dispatch(el, "wxpay-fail", &outcome_js(&end, &order_id, detected));
                with_entry(el, |e| e.view = Some(view));
                return;
            }
        },
    };
    let session = Session::new();
    let target = el.clone();
    let ctx = Ctx {
        order_id,
        mode,
        backend: Backend::Http {
            api_base: attr("api-base").unwrap_or_else(|| "/api".into()),
        },
        session: session.clone(),
        view: Some(view.clone()),
        locale,
        settings,
        report: Rc::new(move |detail| dispatch(&target, "wxpay-state", detail)),
    };
    with_entry(el, |e| {
        e.session = Some(session);
        e.view = Some(view);
    });
    let el = el.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let end = run(&ctx).await;
        let End::Done(outcome) = &end else { return };
        let name = match outcome.status {
            Status::Paid => "wxpay-paid",
            Status::Cancelled => "wxpay-cancel",
            Status::Failed => "wxpay-fail",
            Status::Expired => "wxpay-expire",
        };
        // The reason is English for developers; a buyer only needs it when something broke.
        if let (Some(view), Some(message), Status::Failed) =
            (&ctx.view, &outcome.message, outcome.status)
        {
            view.note_text(message);
        }
        dispatch(&el, name, &outcome_js(&end, &ctx.order_id, ctx.mode));
        if outcome.status != Status::Paid {
            if let Some(view) = &ctx.view {
                let el = el.clone();
                view.offer(Text::TryAgain, Box::new(move || schedule(el.clone())));
            }
        }
    });
}

fn dispatch(el: &Element, name: &str, detail: &JsValue) {
    let init = plain_object(&[("bubbles", &JsValue::TRUE), ("composed", &JsValue::TRUE), ("detail", detail)]);
    if let Ok(event) = CustomEvent::new_with_event_init_dict(name, init.unchecked_ref()) {
        let _ = el.dispatch_event(&event);
    }
}
