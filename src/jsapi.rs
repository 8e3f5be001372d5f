//! JSAPI pay inside WeChat's browser: get the buyer's openid through OAuth when the backend
//! asks for it, then pay through `WeixinJSBridge` and confirm with the backend.
//!
//! The OAuth round trip leaves the page and comes back to the same URL (marked with the
//! order, see `h5::return_url`) with a one-time `code`, which is passed to the backend and
//! removed from the address bar so a reload does not replay it. Wasm-only: the decisions it
//! makes are in `bridge` (parameters, answers) and `url` (redirect checks), tested natively.

use crate::backend::{BackendError, PayRequest, Status};
use crate::bridge::{invoke, BridgeResult};
use crate::checkout::{failed, Ctx, End, Outcome, PollEnd, State};
use crate::h5::{return_url, returned_for};
use crate::mode::PayMode;
use crate::session::Event;
use crate::url::{check_redirect, query_param, rewrite_query};

pub async fn flow(ctx: &Ctx) -> End {
    let window = web_sys::window();
    let page = window
        .as_ref()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    let code = returned_for(&page, &ctx.order_id)
        .then(|| query_param(&page, "code"))
        .flatten()
        .filter(|c| !c.is_empty());
    if code.is_some() {
        // The code is single-use: keep it out of history, bookmarks and reloads.
        let clean = rewrite_query(&page, &["code", "state"], &[]);
        if let Some(h) = window.as_ref().and_then(|w| w.history().ok()) {
            let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&clean));
        }
    }
    ctx.enter(State::Preparing, &[]);
    let req = PayRequest {
        mode: Some(PayMode::Jsapi),
        code: code.clone(),
        return_url: Some(return_url(&page, &ctx.order_id)),
    };
    let payment = match ctx.pay(&req).await {
        Ok(p) => p,
        Err(Err(end)) => return end,
        Err(Ok(BackendError::OpenIdRequired { authorize_url })) if code.is_none() => {
            if let Err(e) = check_redirect(&authorize_url, &ctx.settings.redirect_hosts) {
                return failed(&e.message());
            }
            ctx.enter(State::Authorizing, &[("authorizeUrl", authorize_url.as_str().into())]);
            if let Some(w) = &window {
                let _ = w.location().assign(&authorize_url);
            }
            // The page is leaving for WeChat's OAuth page; if it is still here much later,
            // the navigation did not happen.
            return match ctx.session.next(Some(15_000), &|_| false).await {
                Event::Abort => End::Aborted,
                _ => failed("WeChat's OAuth page did not open"),
            };
        }
        Err(Ok(BackendError::OpenIdRequired { .. })) => {
            return failed("the backend still asks for the buyer's openid after the OAuth round trip: check its OAuth appid/secret")
        }
        Err(Ok(e)) => return failed(&e.message()),
    };
    let Some(params) = payment.jsapi else {
        return failed("the backend's JSAPI payment has no jsapi parameters");
    };
    ctx.enter(State::Paying, &[]);
    let result = match ctx
        .session
        .race(invoke(&params, ctx.settings.bridge_timeout_ms), &|_| false)
        .await
    {
        Err(_) => return End::Aborted,
        Ok(Err(e)) => return failed(&e.message()),
        Ok(Ok(result)) => result,
    };
    match result {
        BridgeResult::Ok => {
            // Only the backend's SUCCESS counts.
            ctx.enter(State::Confirming, &[]);
            let mut poller = ctx.poller();
            match ctx.poll(&mut poller, &|_| false).await {
                PollEnd::End(end) => end,
                PollEnd::Event(_) => End::Aborted,
            }
        }
        // WeChat's answer is not guaranteed either way: ask once before believing it.
        other => match ctx.check_once().await {
            Some(end) => end,
            None => match other {
                BridgeResult::Cancel => Outcome::new(Status::Cancelled, Some("the buyer closed WeChat's pay sheet".into())).into(),
                BridgeResult::NotSupported => {
                    failed("this WeChat version cannot pay here (fail_nosupport): ask the buyer to update WeChat")
                }
                BridgeResult::Fail(msg) => failed(&["WeChat Pay failed: ", &msg].concat()),
                BridgeResult::Ok => End::Aborted,
            },
        },
    }
}
