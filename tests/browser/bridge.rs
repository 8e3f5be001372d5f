//! `WeixinJSBridge` in a real browser with a fake bridge: waiting for `WeixinJSBridgeReady`,
//! the parameters handed to `invoke`, every answer spelling, and the timeout.

use js_sys::{Array, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;
use wxpay_checkout::bridge::{invoke, BridgeError, BridgeResult, JsapiParams};

#[wasm_bindgen(inline_js = "
export function installBridge(answer, later) {
  window.__calls = [];
  const bridge = { invoke(name, params, cb) { window.__calls.push([name, params]); setTimeout(() => cb(answer), 0); } };
  if (later < 0) { window.WeixinJSBridge = bridge; return; }
  delete window.WeixinJSBridge;
  setTimeout(() => { window.WeixinJSBridge = bridge; document.dispatchEvent(new Event('WeixinJSBridgeReady')); }, later);
}
export function removeBridge() { delete window.WeixinJSBridge; window.__calls = []; }
export function calls() { return window.__calls; }
")]
extern "C" {
    #[wasm_bindgen(js_name = installBridge)]
    fn install_bridge(answer: &JsValue, later_ms: i32);
    #[wasm_bindgen(js_name = removeBridge)]
    fn remove_bridge();
    fn calls() -> Array;
}

fn params() -> JsapiParams {
    JsapiParams {
        app_id: "wxd678efh567hg6787".into(),
        time_stamp: "1795696662".into(),
        nonce_str: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
        package: "prepay_id=wx201410272009395522657a690389285100".into(),
        sign_type: "RSA".into(),
        pay_sign: "c2lnbmF0dXJl".into(),
    }
}

fn answer(key: &str, msg: &str) -> JsValue {
    let o = js_sys::Object::new();
    Reflect::set(&o, &key.into(), &msg.into()).unwrap();
    o.into()
}

#[wasm_bindgen_test]
async fn invokes_get_brand_wcpay_request_with_the_six_parameters() {
    install_bridge(&answer("err_msg", "get_brand_wcpay_request:ok"), -1);
    assert_eq!(invoke(&params(), 1_000).await, Ok(BridgeResult::Ok));
    let calls = calls();
    assert_eq!(calls.length(), 1);
    let call = Array::from(&calls.get(0));
    assert_eq!(
        call.get(0).as_string().as_deref(),
        Some("getBrandWCPayRequest")
    );
    let p = call.get(1);
    for (key, value) in [
        ("appId", "wxd678efh567hg6787"),
        ("timeStamp", "1795696662"),
        ("nonceStr", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"),
        ("package", "prepay_id=wx201410272009395522657a690389285100"),
        ("signType", "RSA"),
        ("paySign", "c2lnbmF0dXJl"),
    ] {
        // Strings, not numbers: some WeChat clients reject a numeric timeStamp.
        assert_eq!(
            Reflect::get(&p, &key.into())
                .unwrap()
                .as_string()
                .as_deref(),
            Some(value),
            "{key}"
        );
    }
    remove_bridge();
}

#[wasm_bindgen_test]
async fn maps_every_answer_spelling() {
    for (key, msg, expected) in [
        (
            "err_msg",
            "get_brand_wcpay_request:cancel",
            BridgeResult::Cancel,
        ),
        ("err_msg", "getBrandWCPayRequest:ok", BridgeResult::Ok),
        (
            "errMsg",
            "getBrandWCPayRequest:cancel",
            BridgeResult::Cancel,
        ),
        (
            "err_msg",
            "get_brand_wcpay_request:fail_nosupport",
            BridgeResult::NotSupported,
        ),
        (
            "err_msg",
            "get_brand_wcpay_request:fail",
            BridgeResult::Fail("get_brand_wcpay_request:fail".into()),
        ),
        (
            "other",
            "get_brand_wcpay_request:ok",
            BridgeResult::Fail(String::new()),
        ),
    ] {
        install_bridge(&answer(key, msg), -1);
        assert_eq!(invoke(&params(), 1_000).await, Ok(expected), "{key}={msg}");
    }
    remove_bridge();
}

#[wasm_bindgen_test]
async fn waits_for_weixin_js_bridge_ready() {
    install_bridge(&answer("err_msg", "get_brand_wcpay_request:ok"), 200);
    assert_eq!(invoke(&params(), 3_000).await, Ok(BridgeResult::Ok));
    assert_eq!(calls().length(), 1);
    remove_bridge();
}

#[wasm_bindgen_test]
async fn gives_up_with_a_clear_error_when_no_bridge_comes() {
    remove_bridge();
    let started = js_sys::Date::now();
    let err = invoke(&params(), 150).await.unwrap_err();
    assert_eq!(err, BridgeError::NotReady { waited_ms: 150 });
    assert!(js_sys::Date::now() - started >= 140.0);
    assert!(
        err.message().contains("only work inside the WeChat app"),
        "{}",
        err.message()
    );
}

#[wasm_bindgen_test]
async fn bad_parameters_never_reach_the_bridge() {
    install_bridge(&answer("err_msg", "get_brand_wcpay_request:ok"), -1);
    let bad = JsapiParams {
        package: "wx2014".into(),
        ..params()
    };
    assert!(matches!(
        invoke(&bad, 1_000).await,
        Err(BridgeError::BadParams(_))
    ));
    assert_eq!(calls().length(), 0);
    remove_bridge();
}
