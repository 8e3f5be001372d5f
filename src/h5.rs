//! H5 (MWEB) pay in phone browsers outside WeChat: send the buyer to WeChat's cashier
//! (`h5_url`, which opens the WeChat app) and handle their return.
//!
//! Coming back proves nothing: WeChat returns to `redirect_url` whether the buyer paid,
//! cancelled or just switched apps. So the page marks the return URL with the order
//! ([`return_url`]), and on return shows "checking", polls, and if still unpaid offers WeChat's
//! two recommended choices: "I have paid" (check again) and "Pay again" (a fresh `h5_url`,
//! since one lives only five minutes).

use crate::url::{query_param, rewrite_query};

/// The query parameter that marks "back from WeChat for this order". Also used by the JSAPI
/// OAuth round trip, which returns to the same kind of URL.
pub const MARKER: &str = "wxpay_order";

/// The page URL to come back to: `page` with the marker for `order_id` (replacing an old
/// one and any used OAuth `code`/`state`), without a fragment.
pub fn return_url(page: &str, order_id: &str) -> String {
    rewrite_query(page, &[MARKER, "code", "state"], &[(MARKER, order_id)])
}

/// Whether `page` is a return from WeChat for `order_id`.
pub fn returned_for(page: &str, order_id: &str) -> bool {
    query_param(page, MARKER).is_some_and(|id| id == order_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_url_marks_the_order_and_drops_stale_parameters() {
        assert_eq!(
            return_url("https://shop.example/checkout?sku=7#pay", "O-1"),
            "https://shop.example/checkout?sku=7&wxpay_order=O-1"
        );
        // Paying again from a returned page does not stack markers or keep a used OAuth code.
        let back = "https://shop.example/checkout?sku=7&wxpay_order=O-1&code=abc&state=xyz";
        assert_eq!(
            return_url(back, "O-2"),
            "https://shop.example/checkout?sku=7&wxpay_order=O-2"
        );
    }

    #[test]
    fn recognises_its_own_return() {
        let back = return_url("http://127.0.0.1:8080/?x=1", "订单 9");
        assert!(returned_for(&back, "订单 9"));
        assert!(!returned_for(&back, "订单 1"));
        assert!(!returned_for("http://127.0.0.1:8080/?x=1", "订单 9"));
    }
}
