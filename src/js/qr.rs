//! `renderQrSvg()` and `mountQr()`.

use wasm_bindgen::prelude::*;

use super::{get, given, keys, wrong_type};
use crate::dom::mount_qr;
use crate::qr::{render_svg, EcLevel, QrError, QrOptions};

/// The option names of the JS API, in the order the docs list them.
const OPTION_NAMES: [&str; 6] = ["margin", "ecLevel", "dark", "light", "size", "title"];

/// `renderQrSvg(text, options?)` → SVG string.
#[wasm_bindgen(js_name = renderQrSvg, skip_typescript)]
pub fn render_qr_svg(text: JsValue, options: JsValue) -> Result<String, JsError> {
    let text = text_arg(&text, "renderQrSvg")?;
    render_svg(&text, &options_arg(&options).map_err(js_error)?).map_err(js_error)
}

/// `mountQr(element, text, options?)`: draws the QR into `element`, labelled for screen readers.
#[wasm_bindgen(js_name = mountQr, skip_typescript)]
pub fn mount_qr_js(element: JsValue, text: JsValue, options: JsValue) -> Result<(), JsError> {
    let element: web_sys::Element = element
        .dyn_into()
        .map_err(|v| wrong_type("mountQr", "a DOM Element as its first argument", &v))?;
    let text = text_arg(&text, "mountQr")?;
    mount_qr(&element, &text, &options_arg(&options).map_err(js_error)?).map_err(js_error)
}

/// `JsError::from` would format through `Display` (core's formatter); the message is the same.
fn js_error(e: QrError) -> JsError {
    JsError::new(&e.message())
}

fn text_arg(text: &JsValue, function: &str) -> Result<String, JsError> {
    text.as_string().ok_or_else(|| wrong_type(function, "the code_url string to encode", text))
}

/// Reads the options object; absent keys keep their defaults, unknown keys are refused.
fn options_arg(options: &JsValue) -> Result<QrOptions, QrError> {
    let mut opts = QrOptions::default();
    let Some(options) = given(options) else { return Ok(opts) };
    if !options.is_object() {
        return Err(bad("options", "an object such as { margin: 2, ecLevel: \"H\" }"));
    }
    if let Some(unknown) = keys(options).into_iter().find(|k| !OPTION_NAMES.contains(&k.as_str())) {
        return Err(QrError::UnknownOption(unknown));
    }
    if let Some(v) = present(options, "margin") {
        opts.margin = whole_number(&v).ok_or_else(|| bad("margin", "a whole number of modules"))?;
    }
    if let Some(v) = present(options, "ecLevel") {
        let name = v.as_string().ok_or_else(|| bad("ecLevel", "\"L\", \"M\", \"Q\" or \"H\""))?;
        opts.ec_level = EcLevel::from_name(&name).ok_or(QrError::BadEcLevel(name))?;
    }
    if let Some(v) = present(options, "dark") {
        opts.dark = v.as_string().ok_or_else(|| bad("dark", "a CSS colour string"))?;
    }
    if let Some(v) = present(options, "light") {
        opts.light = v.as_string().ok_or_else(|| bad("light", "a CSS colour string"))?;
    }
    if let Some(v) = present(options, "size") {
        opts.size = Some(whole_number(&v).ok_or_else(|| bad("size", "a whole number of pixels"))?);
    }
    if let Some(v) = present(options, "title") {
        opts.title = v.as_string().ok_or_else(|| bad("title", "a string"))?;
    }
    Ok(opts)
}

fn present(options: &JsValue, key: &str) -> Option<JsValue> {
    let value = get(options, key);
    given(&value).cloned()
}

/// A non-negative integer that fits in u32; range checks with exact limits follow in `qr`.
fn whole_number(value: &JsValue) -> Option<u32> {
    let n = value.as_f64()?;
    (n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n)).then_some(n as u32)
}

fn bad(option: &str, expected: &'static str) -> QrError {
    QrError::BadOption { option: option.to_string(), expected }
}
