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
