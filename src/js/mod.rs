//! The JavaScript API: the only place with `#[wasm_bindgen]` exports. Each submodule wraps one
//! Rust concept in the names and shapes of the npm contract (`pkg-template/index.d.ts`) and
//! turns Rust errors into JS `Error`s whose message says what to fix. No decisions live here.
//!
//! Values cross the boundary by hand (`Reflect`) rather than through serde-wasm-bindgen: the
//! objects are tiny, and serde's error formatting alone pulled ~17 KB of float printing into
//! the wasm.
//!
//! To add an export: write the logic in its own crate module, add a submodule here, declare it
//! in `pkg-template/index.d.ts`, and call it from `tests/node/`.

pub mod detect;
pub mod qr;
pub mod run;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsError, JsValue};

/// `undefined` and `null` both mean "not given", as JS callers expect of optional arguments.
fn given(value: &JsValue) -> Option<&JsValue> {
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// The error for an argument of the wrong JS type.
fn wrong_type(function: &str, expected: &str, got: &JsValue) -> JsError {
    JsError::new(&[function, " expects ", expected, ", got ", &type_name(got)].concat())
}

/// `typeof`, except that `null` says "null".
fn type_name(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else {
        value.js_typeof().as_string().unwrap_or_default()
    }
}

/// Reads `object[key]`; a throwing getter reads as `undefined`.
fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Builds a plain object from key/value pairs.
fn object(entries: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in entries {
        // Defining a data property on a fresh plain object cannot fail.
        let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
    }
    obj.into()
}

/// The own enumerable keys of a JS object, to catch misspelt option names.
fn keys(object: &JsValue) -> Vec<String> {
    Object::keys(object.unchecked_ref::<Object>()).iter().filter_map(|k| k.as_string()).collect()
}
