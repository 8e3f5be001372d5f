//! Detection facts only a live browser has: `window.__wxjs_environment` (mini-program
//! web-view) and touch points (iPadOS reporting a Mac UA), read through the real globals.

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use wxpay_checkout::js::detect::{choose_pay_mode_js, detect_environment};
use wxpay_checkout::navigator::{detect_here, hints, user_agent};
use wxpay_checkout::{Client, Platform};

const IPAD_DESKTOP_UA: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
const WECHAT_IOS_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003137) NetType/WIFI Language/zh_CN";

/// Shadows a navigator getter with an own property for the duration of `f`.
fn with_navigator<T>(props: &[(&str, JsValue)], f: impl FnOnce() -> T) -> T {
    let nav: JsValue = web_sys::window().unwrap().navigator().into();
    for (key, value) in props {
        let desc = Object::new();
        Reflect::set(&desc, &"value".into(), value).unwrap();
        Reflect::set(&desc, &"configurable".into(), &JsValue::TRUE).unwrap();
        Object::define_property(nav.unchecked_ref::<Object>(), &JsValue::from_str(key), &desc);
    }
    let out = f();
    for (key, _) in props {
        Reflect::delete_property(nav.unchecked_ref::<Object>(), &JsValue::from_str(key)).unwrap();
    }
    out
}

fn set_wxjs_environment(value: Option<&str>) {
    let window: JsValue = web_sys::window().unwrap().into();
    match value {
        Some(v) => Reflect::set(&window, &"__wxjs_environment".into(), &v.into()).unwrap(),
        None => Reflect::delete_property(window.unchecked_ref::<Object>(), &"__wxjs_environment".into()).unwrap(),
    };
}

#[wasm_bindgen_test]
fn reads_the_real_user_agent() {
    let ua = user_agent().expect("a browser has navigator.userAgent");
    assert!(ua.contains("Chrome"), "{ua}");
    // Headless desktop Chromium: a desktop browser on Linux → Native.
    let env = detect_here();
    assert_eq!((env.client, env.platform, env.mobile), (Client::Browser, Platform::Linux, false));
    assert_eq!(choose_pay_mode_js(JsValue::UNDEFINED).ok().unwrap(), "native");
}

#[wasm_bindgen_test]
fn ipad_in_desktop_mode_is_found_by_touch_points() {
    let plain = with_navigator(&[("userAgent", IPAD_DESKTOP_UA.into()), ("maxTouchPoints", 0.into())], detect_here);
    assert_eq!((plain.platform, plain.mobile), (Platform::MacOs, false), "a real Mac stays a Mac");

    let ipad = with_navigator(&[("userAgent", IPAD_DESKTOP_UA.into()), ("maxTouchPoints", 5.into())], || {
        assert_eq!(hints().max_touch_points, 5);
        (detect_here(), choose_pay_mode_js(JsValue::UNDEFINED).ok().unwrap())
    });
    assert_eq!((ipad.0.platform, ipad.0.mobile), (Platform::Ios, true));
    assert_eq!(ipad.1, "h5");

    // An explicit UA argument is taken at its word: the hints describe this page, not that UA.
    let given = with_navigator(&[("maxTouchPoints", 5.into())], || {
        detect_environment(IPAD_DESKTOP_UA.into()).ok().unwrap()
    });
    assert_eq!(Reflect::get(&given, &"platform".into()).unwrap(), "macos");
}

#[wasm_bindgen_test]
fn wxjs_environment_marks_a_mini_program_web_view() {
    with_navigator(&[("userAgent", WECHAT_IOS_UA.into())], || {
        set_wxjs_environment(None);
        assert_eq!(detect_here().client, Client::WeChat);
        assert_eq!(choose_pay_mode_js(JsValue::UNDEFINED).ok().unwrap(), "jsapi");

        set_wxjs_environment(Some("miniprogram"));
        let env = detect_environment(JsValue::UNDEFINED).ok().unwrap();
        assert_eq!(Reflect::get(&env, &"client".into()).unwrap(), "miniprogram");
        assert_eq!(Reflect::get(&env, &"wechatVersion".into()).unwrap(), "8.0.49");
        assert_eq!(choose_pay_mode_js(JsValue::UNDEFINED).ok().unwrap(), "miniprogram");

        set_wxjs_environment(Some("browser"));
        assert_eq!(detect_here().client, Client::WeChat);
        set_wxjs_environment(None);
    });
}
