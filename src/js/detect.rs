//! `detectEnvironment()` and `choosePayMode()`.

use wasm_bindgen::prelude::*;

use super::{get, given, object, type_name};
use crate::detect::{detect, Client, Environment, Platform};
use crate::mode::choose_pay_mode;
use crate::navigator::detect_here;

/// `detectEnvironment(userAgent?)`: from the given UA, or from the running page (with its
/// browser-only hints) when none is given.
#[wasm_bindgen(js_name = detectEnvironment, skip_typescript)]
pub fn detect_environment(user_agent: JsValue) -> Result<JsValue, JsError> {
    let env = environment_of_ua(&user_agent, "detectEnvironment expects a user-agent string or nothing")?;
    Ok(object(&[
        ("client", env.client.as_str().into()),
        ("platform", env.platform.as_str().into()),
        ("mobile", env.mobile.into()),
        ("wechatVersion", env.wechat_version.map_or(JsValue::NULL, |v| JsValue::from_str(&v))),
    ]))
}

/// `choosePayMode(userAgentOrEnvironment?)`: a UA string, an object from `detectEnvironment`,
/// or nothing for the running page.
#[wasm_bindgen(js_name = choosePayMode, skip_typescript)]
pub fn choose_pay_mode_js(input: JsValue) -> Result<String, JsError> {
    let env = if input.is_object() {
        environment_from_object(&input)?
    } else {
        environment_of_ua(&input, "choosePayMode expects a user-agent string, an environment object or nothing")?
    };
    Ok(choose_pay_mode(&env).as_str().to_string())
}

/// `usage` is the start of the error for a non-string: "<function> expects …".
fn environment_of_ua(user_agent: &JsValue, usage: &str) -> Result<Environment, JsError> {
    match given(user_agent) {
        None => Ok(detect_here()),
        Some(v) => match v.as_string() {
            Some(ua) => Ok(detect(&ua)),
            None => Err(JsError::new(&[usage, ", got ", &type_name(v)].concat())),
        },
    }
}

/// Reads `{ client, platform, mobile, wechatVersion }` back, strictly: a hand-made object with
/// a typo must fail loudly rather than silently pick the wrong mode.
fn environment_from_object(obj: &JsValue) -> Result<Environment, JsError> {
    let field = |key: &str, expected: &str| {
        JsError::new(
            &[
                "choosePayMode: environment.",
                key,
                " must be ",
                expected,
                " (pass the object detectEnvironment() returns), got ",
                &describe(&get(obj, key)),
            ]
            .concat(),
        )
    };
    let client = get(obj, "client").as_string().and_then(|c| Client::from_name(&c));
    let client = client.ok_or_else(|| field("client", r#""wechat", "wecom", "miniprogram", "alipay", "qq" or "browser""#))?;
    let platform = get(obj, "platform").as_string().and_then(|p| Platform::from_name(&p));
    let platform = platform.ok_or_else(|| field("platform", r#""ios", "android", "harmonyos", "windows", "macos", "linux" or "other""#))?;
    let mobile = get(obj, "mobile").as_bool().ok_or_else(|| field("mobile", "true or false"))?;
    let version = get(obj, "wechatVersion");
    let wechat_version = match given(&version) {
        None => None,
        Some(v) => Some(v.as_string().ok_or_else(|| field("wechatVersion", "a string or null"))?),
    };
    Ok(Environment { client, platform, mobile, wechat_version })
}

/// A string value in quotes, anything else by its type.
fn describe(value: &JsValue) -> String {
    match value.as_string() {
        Some(s) => ["\"", &s, "\""].concat(),
        None => type_name(value),
    }
}
