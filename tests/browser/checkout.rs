//! `checkout()` as JS calls it, in a real page, against a custom backend (the `backend` hook):
//! the Native panel, the outcome shape, abort, option errors, and text never becoming markup.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;
use wxpay_checkout::js::checkout::checkout_js;

#[wasm_bindgen(inline_js = "
export function fakeBackend(states, codeUrl) {
  const log = { pays: [], polls: [] };
  return {
    log,
    async pay(orderId, request) {
      log.pays.push([orderId, request]);
      return { mode: 'native', code_url: codeUrl, expires_at: new Date(Date.now() + 60000).toISOString() };
    },
    async status(orderId, options) {
      log.polls.push(options);
      return { state: states.length > 1 ? states.shift() : states[0], transaction_id: '4200000001' };
    },
  };
}
export function fakeMiniProgram(present) {
  window.__navigations = [];
  if (present) window.wx = { miniProgram: { navigateTo(o) { window.__navigations.push(o.url); } } };
  else delete window.wx;
}
export function navigations() { return window.__navigations; }
export function options(backend, container, extra) {
  return Object.assign({ orderId: 'ord_1', mode: 'native', backend, container, locale: 'en',
    polling: { interval: 100, longPoll: 0, jitter: 0 } }, extra);
}
")]
extern "C" {
    #[wasm_bindgen(js_name = fakeBackend)]
    fn fake_backend(states: js_sys::Array, code_url: &str) -> JsValue;
    fn options(backend: &JsValue, container: &JsValue, extra: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = fakeMiniProgram)]
    fn fake_mini_program(present: bool);
    fn navigations() -> js_sys::Array;
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter()
        .fold(v.clone(), |v, k| Reflect::get(&v, &(*k).into()).unwrap())
}

/// The string at `path`, or "" if there is none.
fn string(v: &JsValue, path: &[&str]) -> String {
    get(v, path).as_string().unwrap_or_default()
}

fn container() -> web_sys::Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div
}

fn states(list: &[&str]) -> js_sys::Array {
    list.iter().map(|s| JsValue::from_str(s)).collect()
}

#[wasm_bindgen_test]
async fn native_through_a_custom_backend_ends_paid() {
    let backend = fake_backend(
        states(&["NOTPAY", "USERPAYING", "SUCCESS"]),
        "weixin://wxpay/bizpayurl?pr=<b>x</b>",
    );
    let div = container();
    let seen = js_sys::Array::new();
    let s = seen.clone();
    let on_state = Closure::<dyn Fn(JsValue)>::new(move |d: JsValue| {
        s.push(&get(&d, &["state"]));
    });
    let extra = Object::new();
    Reflect::set(&extra, &"onState".into(), on_state.as_ref()).unwrap();
    let promise = checkout_js(options(&backend, &div, &extra)).unwrap();
    // While scanning, the QR and an accessible timer are in the container…
    let outcome = JsFuture::from(promise).await.unwrap();
    assert_eq!(string(&outcome, &["status"]), "paid");
    assert_eq!(string(&outcome, &["orderId"]), "ord_1");
    assert_eq!(string(&outcome, &["mode"]), "native");
    assert_eq!(string(&outcome, &["detail", "tradeState"]), "SUCCESS");
    assert_eq!(string(&outcome, &["detail", "transactionId"]), "4200000001");
    let states: Vec<String> = seen.iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(states, ["preparing", "scanning", "paid"]);
    let pays = js_sys::Array::from(&get(&backend, &["log", "pays"]));
    assert_eq!(pays.length(), 1);
    assert_eq!(
        get(&pays.get(0), &["1", "mode"]).as_string().as_deref(),
        Some("native")
    );
    // Three checks: NOTPAY, USERPAYING, SUCCESS; no long-poll asked for (longPoll: 0).
    let polls = js_sys::Array::from(&get(&backend, &["log", "polls"]));
    assert_eq!(polls.length(), 3);
    assert!(get(&polls.get(0), &["wait"]).is_undefined());
    // The final panel says so, in English, and nothing from the network became markup.
    assert_eq!(
        div.query_selector("[data-state=paid] .wxpay-status")
            .unwrap()
            .unwrap()
            .text_content()
            .as_deref(),
        Some("Payment received")
    );
    assert!(div.query_selector("b").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn scanning_shows_qr_and_timer_and_abort_stops_everything() {
    let backend = fake_backend(states(&["NOTPAY"]), "weixin://wxpay/bizpayurl?pr=abc");
    let div = container();
    let promise = checkout_js(options(&backend, &div, &Object::new())).unwrap();
    sleep(400).await;
    let panel = div
        .query_selector("[data-state=scanning]")
        .unwrap()
        .expect("scanning panel");
    assert!(panel.query_selector(".wxpay-qr svg").unwrap().is_some());
    assert_eq!(
        panel
            .query_selector(".wxpay-qr")
            .unwrap()
            .unwrap()
            .get_attribute("role")
            .as_deref(),
        Some("img")
    );
    let timer = panel
        .query_selector("[role=timer]")
        .unwrap()
        .expect("a timer");
    let t = timer.text_content().unwrap();
    assert!(t == "01:00" || t.starts_with("00:5"), "{t}");
    assert!(panel
        .query_selector("[aria-live=polite]")
        .unwrap()
        .is_some());

    let abort: Function = get(&promise, &["abort"]).dyn_into().unwrap();
    abort.call0(&promise).unwrap();
    let outcome = JsFuture::from(Promise::from(JsValue::from(promise)))
        .await
        .unwrap();
    assert_eq!(string(&outcome, &["status"]), "cancelled");
    assert_eq!(string(&outcome, &["detail", "reason"]), "aborted");
    let polls = js_sys::Array::from(&get(&backend, &["log", "polls"])).length();
    sleep(500).await;
    assert_eq!(
        js_sys::Array::from(&get(&backend, &["log", "polls"])).length(),
        polls,
        "no polling after abort"
    );
}

#[wasm_bindgen_test]
fn option_errors_say_what_to_fix() {
    let err = |opts: JsValue| -> String {
        let e: JsValue = checkout_js(opts).unwrap_err().into();
        get(&e, &["message"]).as_string().unwrap()
    };
    assert!(err(JsValue::from_str("ord_1")).contains("options object"));
    assert!(err(Object::new().into()).contains("orderId"));
    let bad_mode = options(
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
    );
    Reflect::set(&bad_mode, &"mode".into(), &"app".into()).unwrap();
    assert!(err(bad_mode).contains("\"app\" is not one of"));
    let bad_poll = options(
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
        &JsValue::UNDEFINED,
    );
    Reflect::set(
        &get(&bad_poll, &["polling"]),
        &"interval".into(),
        &(-1).into(),
    )
    .unwrap();
    assert!(err(bad_poll).contains("interval must be a non-negative number"));
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

fn mini_program_options(backend: &JsValue, div: &JsValue) -> JsValue {
    let extra = Object::new();
    Reflect::set(&extra, &"mode".into(), &"miniprogram".into()).unwrap();
    Reflect::set(
        &extra,
        &"miniprogramPath".into(),
        &"/pages/wxpay/pay".into(),
    )
    .unwrap();
    Reflect::set(&extra, &"orderId".into(), &"ord 7".into()).unwrap();
    options(backend, div, &extra)
}

#[wasm_bindgen_test]
async fn mini_program_hands_off_with_the_order_and_polls_to_paid() {
    fake_mini_program(true);
    let backend = fake_backend(states(&["NOTPAY", "SUCCESS"]), "unused");
    let outcome =
        JsFuture::from(checkout_js(mini_program_options(&backend, &container())).unwrap())
            .await
            .unwrap();
    assert_eq!(string(&outcome, &["status"]), "paid");
    assert_eq!(string(&outcome, &["mode"]), "miniprogram");
    let urls: Vec<String> = navigations().iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(urls, ["/pages/wxpay/pay?order_id=ord%207"]);
    // The mini-program pays; the page never asks the backend for a payment itself.
    assert_eq!(
        js_sys::Array::from(&get(&backend, &["log", "pays"])).length(),
        0
    );
    fake_mini_program(false);
}

#[wasm_bindgen_test]
async fn mini_program_without_the_js_sdk_fails_clearly() {
    fake_mini_program(false);
    let backend = fake_backend(states(&["NOTPAY"]), "unused");
    let outcome =
        JsFuture::from(checkout_js(mini_program_options(&backend, &container())).unwrap())
            .await
            .unwrap();
    assert_eq!(string(&outcome, &["status"]), "failed");
    let message = get(&outcome, &["detail", "message"]).as_string().unwrap();
    assert!(
        message.contains("JS-SDK") && message.contains("jweixin"),
        "{message}"
    );
    assert_eq!(
        js_sys::Array::from(&get(&backend, &["log", "polls"])).length(),
        0
    );
}
