//! Mounting the Native QR code into the page: accessible markup, real rendering (the SVG is
//! parsed by Chromium's HTML parser and laid out), and no damage on error.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::{Element, SvgGraphicsElement};
use wxpay_checkout::dom::mount_qr;
use wxpay_checkout::js::qr::mount_qr_js;
use wxpay_checkout::QrOptions;

const URL: &str = "weixin://wxpay/bizpayurl?pr=AbCdEf1";

fn fresh_div() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

#[wasm_bindgen_test]
fn mounts_an_accessible_svg() {
    let div = fresh_div();
    mount_qr(&div, URL, &QrOptions { title: "Scan to pay ¥12.00".into(), size: Some(240), ..Default::default() }).unwrap();
    assert_eq!(div.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(div.get_attribute("aria-label").as_deref(), Some("Scan to pay ¥12.00"));

    let svg = div.query_selector("svg").unwrap().expect("an <svg> child");
    assert_eq!(svg.namespace_uri().as_deref(), Some("http://www.w3.org/2000/svg"), "parsed as SVG, not as unknown HTML");
    assert_eq!(svg.get_attribute("viewBox").as_deref(), Some("0 0 37 37"));
    assert_eq!(svg.query_selector("title").unwrap().unwrap().text_content().as_deref(), Some("Scan to pay ¥12.00"));
    assert_eq!(div.query_selector_all("path").unwrap().length(), 1);

    // Laid out at the requested pixel size, and the path covers the code area inside the quiet zone.
    let rect = svg.get_bounding_client_rect();
    assert_eq!((rect.width(), rect.height()), (240.0, 240.0));
    let path: SvgGraphicsElement = div.query_selector("path").unwrap().unwrap().dyn_into().unwrap();
    let bbox = path.get_b_box().unwrap();
    assert_eq!((bbox.x(), bbox.y(), bbox.width(), bbox.height()), (4.0, 4.0, 29.0, 29.0));
    div.remove();
}

#[wasm_bindgen_test]
fn remounting_replaces_the_previous_code() {
    let div = fresh_div();
    mount_qr(&div, URL, &QrOptions::default()).unwrap();
    mount_qr(&div, "weixin://wxpay/bizpayurl?pr=Other12", &QrOptions::default()).unwrap();
    assert_eq!(div.query_selector_all("svg").unwrap().length(), 1);
    div.remove();
}

#[wasm_bindgen_test]
fn an_error_leaves_the_element_untouched_and_says_why() {
    let div = fresh_div();
    div.set_inner_html("<p>loading…</p>");
    let err = mount_qr(&div, "", &QrOptions::default()).unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    assert_eq!(div.inner_html(), "<p>loading…</p>");
    assert_eq!(div.get_attribute("role"), None);

    // Through the JS export: a thrown Error with the message, for bad options and bad targets.
    let options = js_sys::JSON::parse(r##"{"dark": "red\" onload=\"alert(1)"}"##).unwrap();
    let thrown: JsValue = mount_qr_js(div.clone().into(), URL.into(), options).unwrap_err().into();
    let error: js_sys::Error = thrown.dyn_into().expect("an Error object");
    assert!(String::from(error.message()).contains("QR option dark must be a CSS colour"));
    assert_eq!(div.inner_html(), "<p>loading…</p>");

    let thrown: JsValue = mount_qr_js(JsValue::from_str("#qr"), URL.into(), JsValue::UNDEFINED).unwrap_err().into();
    let message = String::from(thrown.dyn_into::<js_sys::Error>().unwrap().message());
    assert_eq!(message, "mountQr expects a DOM Element as its first argument, got string");
    div.remove();
}
