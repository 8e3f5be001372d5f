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

/// The order id a page was returned for, so a shop page can resume its checkout on load.
pub fn returned_order(page: &str) -> Option<String> {
    query_param(page, MARKER).filter(|id| !id.is_empty())
}

#[cfg(target_arch = "wasm32")]
pub use browser::flow;

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::{return_url, returned_for};
    use crate::backend::PayRequest;
    use crate::checkout::{failed, Ctx, End, PollEnd, State};
    use crate::i18n::Text;
    use crate::mode::PayMode;
    use crate::session::{Action, Event};
    use crate::url::check_redirect;

    pub fn page_url() -> String {
        web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default()
    }

    /// Orders a fresh `h5_url` and navigates to it; `Some` if that failed or was aborted.
    async fn go_to_cashier(ctx: &Ctx) -> Option<End> {
        ctx.enter(State::Preparing, &[]);
        let req = PayRequest {
            mode: Some(PayMode::H5),
            code: None,
            return_url: Some(return_url(&page_url(), &ctx.order_id)),
        };
        let payment = match ctx.pay(&req).await {
            Ok(p) => p,
            Err(Err(end)) => return Some(end),
            Err(Ok(e)) => return Some(failed(&e.message())),
        };
        let Some(h5_url) = payment.h5_url else {
            return Some(failed("the backend's H5 payment has no h5_url"));
        };
        if let Err(e) = check_redirect(&h5_url, &ctx.settings.redirect_hosts) {
            return Some(failed(&e.message()));
        }
        ctx.enter(State::Redirecting, &[("h5Url", h5_url.as_str().into())]);
        let assigned = web_sys::window().map(|w| w.location().assign(&h5_url));
        if !matches!(assigned, Some(Ok(()))) {
            return Some(failed("the browser refused to open the WeChat cashier"));
        }
        // The page is unloading. If it is still here later (restored from the back-forward
        // cache, or navigation blocked) carry on as a return.
        if ctx
            .session
            .next(Some(10_000), &|e| e == Event::Visible)
            .await
            == Event::Abort
        {
            return Some(End::Aborted);
        }
        None
    }

    pub async fn flow(ctx: &Ctx) -> End {
        let mut poller = ctx.poller();
        if !returned_for(&page_url(), &ctx.order_id) {
            if let Some(end) = go_to_cashier(ctx).await {
                return end;
            }
        }
        ctx.enter(State::Checking, &[]);
        ctx.session
            .push_later(ctx.settings.h5_check_ms, Event::Deadline);
        loop {
            let stop = |e| {
                matches!(
                    e,
                    Event::Deadline | Event::Action(Action::PayAgain | Action::IHavePaid)
                )
            };
            match ctx.poll(&mut poller, &stop).await {
                PollEnd::End(end) => return end,
                PollEnd::Event(Event::Action(Action::PayAgain)) => {
                    if let Some(end) = go_to_cashier(ctx).await {
                        return end;
                    }
                    ctx.enter(State::Checking, &[]);
                    ctx.session
                        .push_later(ctx.settings.h5_check_ms, Event::Deadline);
                }
                PollEnd::Event(Event::Action(_)) => {
                    ctx.enter(State::Checking, &[]);
                    poller.hurry();
                    ctx.session
                        .push_later(ctx.settings.h5_check_ms, Event::Deadline);
                }
                PollEnd::Event(_) => {
                    ctx.enter(State::Unconfirmed, &[]);
                    if let Some(view) = &ctx.view {
                        view.set_buttons(
                            &[
                                (Text::IHavePaid, Action::IHavePaid),
                                (Text::PayAgain, Action::PayAgain),
                            ],
                            Some(&ctx.session),
                        );
                    }
                }
            }
        }
    }
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
        assert_eq!(returned_order(&back).as_deref(), Some("订单 9"));
        assert_eq!(returned_order("https://a/?wxpay_order="), None);
    }
}
