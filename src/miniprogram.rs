//! Mini-program pay from a `<web-view>`: a web page there cannot pay itself, so it hands the
//! order to a mini-program page (`wx.miniProgram.navigateTo`) that calls
//! `wx.requestPayment`, then polls the backend like every other flow.
//!
//! The JS-SDK (`jweixin.js`) must be on the page; without it the flow fails with a message
//! that says so instead of hanging.

use crate::url::encode;

/// The mini-program page to open: `path` plus `order_id`, or a message saying what is wrong.
pub fn target_page(path: &str, order_id: &str) -> Result<String, &'static str> {
    if !path.starts_with('/') || path.bytes().any(|b| matches!(b, b'?' | b'#' | b' ')) {
        return Err("the mini-program page path must be an absolute page path like \"/pages/pay/index\" without a query");
    }
    Ok([path, "?order_id=", &encode(order_id)].concat())
}

#[cfg(target_arch = "wasm32")]
pub use browser::flow;

#[cfg(target_arch = "wasm32")]
mod browser {
    use js_sys::{Function, Object, Reflect};
    use wasm_bindgen::prelude::*;

    use super::target_page;
    use crate::checkout::{failed, Ctx, End, PollEnd, State};

    const NO_SDK: &str = "the mini-program JS-SDK is not on this page: add <script src=\"https://res.wx.qq.com/open/js/jweixin-1.6.0.js\"> (wx.miniProgram.navigateTo is missing)";

    fn navigate_to() -> Option<(JsValue, Function)> {
        let wx = Reflect::get(&js_sys::global(), &"wx".into())
            .ok()
            .filter(JsValue::is_object)?;
        let mp = Reflect::get(&wx, &"miniProgram".into())
            .ok()
            .filter(JsValue::is_object)?;
        let f = Reflect::get(&mp, &"navigateTo".into())
            .ok()?
            .dyn_into()
            .ok()?;
        Some((mp, f))
    }

    pub async fn flow(ctx: &Ctx) -> End {
        let page = match target_page(&ctx.settings.miniprogram_path, &ctx.order_id) {
            Ok(p) => p,
            Err(why) => return failed(why),
        };
        let Some((mp, navigate)) = navigate_to() else {
            return failed(NO_SDK);
        };
        let args = Object::new();
        let _ = Reflect::set(&args, &"url".into(), &page.as_str().into());
        if navigate.call1(&mp, &args).is_err() {
            return failed("wx.miniProgram.navigateTo threw");
        }
        ctx.enter(State::Paying, &[("miniprogramPage", page.as_str().into())]);
        // The buyer comes back with navigateBack; the page turns visible and polls at once.
        let mut poller = ctx.poller();
        match ctx.poll(&mut poller, &|_| false).await {
            PollEnd::End(end) => end,
            PollEnd::Event(_) => End::Aborted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_paths() {
        assert_eq!(
            target_page("/pages/pay/index", "O 1").as_deref(),
            Ok("/pages/pay/index?order_id=O%201")
        );
        for bad in ["pages/pay/index", "/pages/pay?x=1", "", "/p#x"] {
            assert!(target_page(bad, "1").is_err(), "{bad}");
        }
    }
}
