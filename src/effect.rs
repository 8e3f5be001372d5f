//! What a checkout run asks the page to do: the [`Effect`]s of one step, as Rust values.
//!
//! The run ([`crate::flow`]) never touches the browser: it returns effects and the driver
//! (`src/driver.rs`, wasm32 only) carries them out — HTTP, timers, navigation, the bridge —
//! and feeds what happened back in. The drawing effects (`State` … `Buttons`) are folded into
//! the panel's view model by [`crate::view`]; state details and outcomes reach JS as plain
//! objects through serde-wasm-bindgen. `Serialize` gives the JSON shape `tests/flows.rs`
//! reads (one object per effect, its kind in `t`).
//!
//! | `t` | the driver |
//! |---|---|
//! | `state` | shows the state's sentence; with a `detail`, reports it (`onState`, `wxpay-state`) |
//! | `note` | the secondary line |
//! | `qr` | draws our SVG with its countdown |
//! | `tick` | one second of the countdown; `say` goes to the live region |
//! | `qr-expired` | dims the code |
//! | `buttons` | a click steps `Input::Action` |
//! | `fetch` | HTTP or the merchant's hooks; steps `Input::Answer` |
//! | `cancel` | aborts the request in flight; its answer never comes back |
//! | `timer` | steps `Input::Timer(id)` after `ms` |
//! | `go`, `replace` | `location.assign`, `history.replaceState` |
//! | `bridge` | waits for `WeixinJSBridge`, `getBrandWCPayRequest`; steps `Input::Bridge` |
//! | `mini` | `wx.miniProgram.navigateTo` |
//! | `done` | the run is over: resolves `checkout()`, fires the element's event |

use serde::Serialize;

use crate::backend::Status;
use crate::bridge::JsapiParams;
use crate::checkout::State;
use crate::mode::PayMode;

/// One thing a step asks of the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "t", rename_all = "kebab-case")]
pub enum Effect {
    /// Entered (or, without `detail`, re-labelled) `state`: the view shows `text` in `lang`.
    State {
        state: State,
        text: String,
        lang: &'static str,
        detail: Option<StateDetail>,
    },
    /// The secondary line; `None` clears it.
    Note {
        text: Option<String>,
    },
    /// Draw the QR code (our own SVG) with its countdown.
    #[serde(rename_all = "camelCase")]
    Qr {
        svg: String,
        code_url: String,
        caption: String,
        time: String,
        say: Option<String>,
    },
    /// One second of the countdown.
    Tick {
        time: String,
        say: Option<String>,
    },
    /// Dim the expired QR code and say so.
    QrExpired {
        text: String,
    },
    /// Replace the buttons.
    Buttons {
        list: Vec<Button>,
    },
    Fetch(Request),
    /// Abort the request in flight; its answer must not come back.
    Cancel,
    /// Step `Input::Timer(id)` after `ms`.
    Timer {
        id: u32,
        ms: u32,
    },
    /// Leave the page for `url` (`location.assign`).
    Go {
        url: String,
    },
    /// Rewrite the address bar without a navigation (`history.replaceState`).
    Replace {
        url: String,
    },
    /// Wait up to `timeout` ms for `WeixinJSBridge`, then show WeChat's pay sheet.
    Bridge {
        params: JsapiParams,
        timeout: u32,
    },
    /// `wx.miniProgram.navigateTo({ url })`.
    Mini {
        url: String,
    },
    /// The run is over.
    Done {
        outcome: OutcomeObject,
    },
}

/// A button of the panel: `action` is what a click steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Button {
    pub action: crate::flow::Action,
    pub label: &'static str,
}

/// Which backend call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Call {
    Pay,
    Status,
}

/// A request to the merchant backend: `POST {url}` with `body`, or `GET {url}` (the `pay` and
/// `status` hooks of a custom backend instead, with `body` / `{ wait }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    pub id: u32,
    pub call: Call,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<PayRequest>,
    /// `?wait=` seconds of a long-poll.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait: Option<u32>,
}

/// The body of `POST /api/orders/{id}/pay` (and the `pay` hook's `request`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayRequest {
    pub mode: PayMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
}

/// The `detail` of `wxpay-state` events and `onState`: `{ state, mode, orderId, …extra }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateDetail {
    pub state: Option<State>,
    pub mode: Option<PayMode>,
    pub order_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_url: Option<String>,
    /// Epoch milliseconds; the driver hands JS a `Date`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h5_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miniprogram_page: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The outcome object JS receives: `{ status, orderId, mode, detail: { tradeState,
/// transactionId, message, reason } }` (absent values are `null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeObject {
    pub status: Status,
    pub order_id: String,
    pub mode: PayMode,
    pub detail: OutcomeDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeDetail {
    pub trade_state: Option<String>,
    pub transaction_id: Option<String>,
    /// Why, in English, for developers and logs (buyers see a translated sentence).
    pub message: Option<String>,
    /// `"aborted"` for an abort.
    pub reason: Option<&'static str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_serialise_with_their_kind_in_t() {
        let fx = vec![
            Effect::Timer { id: 3, ms: 1000 },
            Effect::Note { text: None },
            Effect::Fetch(Request {
                id: 1,
                call: Call::Pay,
                url: "/api/orders/o/pay".into(),
                body: Some(PayRequest {
                    mode: PayMode::H5,
                    code: None,
                    return_url: Some("x".into()),
                }),
                wait: None,
            }),
        ];
        assert_eq!(
            serde_json::to_string(&fx).unwrap(),
            r#"[{"t":"timer","id":3,"ms":1000},{"t":"note","text":null},{"t":"fetch","id":1,"call":"pay","url":"/api/orders/o/pay","body":{"mode":"h5","return_url":"x"}}]"#
        );
    }
}
