//! One checkout, start to finish: environment → pay mode → that mode's flow → polling the
//! backend → an outcome: the states a run passes through, its settings and its outcome, as
//! plain data. The run itself is the state machine in [`crate::flow`].

use crate::backend::{final_status, OrderStatus, Status};
use crate::i18n::Text;
use crate::mode::PayMode;
use crate::poll::PollSettings;

/// Where a checkout is; `wxpay-state` events carry [`State::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Asking the backend for a payment.
    Preparing,
    /// On the way to WeChat's OAuth page (JSAPI needs the buyer's openid).
    Authorizing,
    /// On the way to the H5 cashier.
    Redirecting,
    /// WeChat's pay sheet or the mini-program is in charge.
    Paying,
    /// A Native QR code is on screen.
    Scanning,
    /// The bridge said ok; waiting for the backend to confirm.
    Confirming,
    /// Back from the H5 cashier; asking the backend.
    Checking,
    /// Back from H5 and still unpaid: "I have paid" / "Pay again".
    Unconfirmed,
    Paid,
    Cancelled,
    Failed,
    Expired,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Preparing => "preparing",
            State::Authorizing => "authorizing",
            State::Redirecting => "redirecting",
            State::Paying => "paying",
            State::Scanning => "scanning",
            State::Confirming => "confirming",
            State::Checking => "checking",
            State::Unconfirmed => "unconfirmed",
            State::Paid => "paid",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
            State::Expired => "expired",
        }
    }

    pub fn of_status(status: Status) -> State {
        match status {
            Status::Paid => State::Paid,
            Status::Cancelled => State::Cancelled,
            Status::Failed => State::Failed,
            Status::Expired => State::Expired,
        }
    }

    /// What the view says in this state.
    pub fn text(self, mode: PayMode) -> Text {
        match self {
            State::Preparing => Text::Preparing,
            State::Authorizing => Text::Authorizing,
            State::Redirecting => Text::Redirecting,
            State::Paying if mode == PayMode::MiniProgram => Text::InMiniProgram,
            State::Paying => Text::InWeChat,
            State::Scanning => Text::ScanToPay,
            State::Confirming => Text::Confirming,
            State::Checking => Text::Checking,
            State::Unconfirmed => Text::Unconfirmed,
            State::Paid => Text::Paid,
            State::Cancelled => Text::Cancelled,
            State::Failed => Text::Failed,
            State::Expired => Text::Expired,
        }
    }

    /// Final states end the run.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            State::Paid | State::Cancelled | State::Failed | State::Expired
        )
    }
}

/// Everything a run can be told beyond the order id (`checkout()` options / element attributes).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub poll: PollSettings,
    /// Hosts the H5 cashier and OAuth URLs may point to.
    pub redirect_hosts: Vec<String>,
    /// How long to wait for `WeixinJSBridgeReady`.
    pub bridge_timeout_ms: u32,
    /// The mini-program page that pays (`/pages/pay/index`); `?order_id=` is appended.
    pub miniprogram_path: String,
    /// After returning from H5, how long to keep checking before offering the two choices.
    pub h5_check_ms: u32,
    /// How many times a Native QR code is refreshed by itself before asking the buyer.
    pub auto_refresh: u32,
    /// How long a request (other than a long-poll, which gets `wait` + a margin) may take.
    pub request_timeout_ms: u32,
    /// Offer "Try again" when a run ends unpaid (the element, which can start a new run).
    pub offer_retry: bool,
}

/// WeChat's own hosts: the H5 cashier and the OAuth page.
pub const WECHAT_HOSTS: [&str; 2] = ["wx.tenpay.com", "open.weixin.qq.com"];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            poll: PollSettings::default(),
            redirect_hosts: redirect_hosts([]),
            bridge_timeout_ms: 5_000,
            miniprogram_path: "/pages/pay/index".into(),
            h5_check_ms: 6_000,
            auto_refresh: 3,
            request_timeout_ms: 15_000,
            offer_retry: false,
        }
    }
}

/// How a run ended, before it becomes the JS outcome object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    /// The backend's `trade_state`, when it decided.
    pub trade_state: Option<String>,
    pub transaction_id: Option<String>,
    /// Why, for anything but a confirmed payment (English, for developers and logs).
    pub message: Option<String>,
}

impl Outcome {
    pub fn new(status: Status, message: Option<String>) -> Outcome {
        Outcome {
            status,
            trade_state: None,
            transaction_id: None,
            message,
        }
    }

    /// The outcome the backend's answer settles, or `None` while the order is still payable.
    pub fn settled_by(order: OrderStatus) -> Option<Outcome> {
        let status = final_status(&order.state)?;
        let message = (status != Status::Paid)
            .then(|| ["the order's trade_state is ", &order.state].concat());
        Some(Outcome {
            status,
            trade_state: Some(order.state),
            transaction_id: order.transaction_id,
            message,
        })
    }
}

/// The JS name of a pay mode (`"jsapi"`, `"h5"`, `"native"`, `"miniprogram"`).
pub fn mode_name(mode: PayMode) -> &'static str {
    match mode {
        PayMode::Jsapi => "jsapi",
        PayMode::H5 => "h5",
        PayMode::Native => "native",
        PayMode::MiniProgram => "miniprogram",
    }
}

/// The inverse of [`mode_name`]; `None` for anything else.
pub fn mode_from_name(name: &str) -> Option<PayMode> {
    [
        PayMode::Jsapi,
        PayMode::H5,
        PayMode::Native,
        PayMode::MiniProgram,
    ]
    .into_iter()
    .find(|m| mode_name(*m) == name)
}

/// `redirectHosts` / `redirect-hosts` added to WeChat's own hosts (which are always allowed).
pub fn redirect_hosts<'a>(extra: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut hosts: Vec<String> = WECHAT_HOSTS.iter().map(|h| (*h).to_owned()).collect();
    for h in extra {
        let h = h.trim().to_ascii_lowercase();
        if !h.is_empty() && !hosts.contains(&h) {
            hosts.push(h);
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_states_are_exactly_the_four_outcomes() {
        let all = [
            State::Preparing,
            State::Authorizing,
            State::Redirecting,
            State::Paying,
            State::Scanning,
            State::Confirming,
            State::Checking,
            State::Unconfirmed,
            State::Paid,
            State::Cancelled,
            State::Failed,
            State::Expired,
        ];
        let finals: Vec<_> = all
            .iter()
            .filter(|s| s.is_final())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(finals, ["paid", "cancelled", "failed", "expired"]);
        for status in [
            Status::Paid,
            Status::Cancelled,
            Status::Failed,
            Status::Expired,
        ] {
            assert_eq!(State::of_status(status).as_str(), status.as_str());
        }
        // Names are unique: they are the `detail.state` contract.
        let mut names: Vec<_> = all.iter().map(|s| s.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn mode_names_round_trip_and_hosts_merge() {
        for m in [
            PayMode::Jsapi,
            PayMode::H5,
            PayMode::Native,
            PayMode::MiniProgram,
        ] {
            assert_eq!(mode_from_name(mode_name(m)), Some(m));
        }
        assert_eq!(mode_from_name("NATIVE"), None);
        assert_eq!(mode_from_name("app"), None);
        assert_eq!(
            redirect_hosts(" 127.0.0.1:8080  WX.tenpay.com".split(' ')),
            ["wx.tenpay.com", "open.weixin.qq.com", "127.0.0.1:8080"]
        );
    }

    #[test]
    fn only_final_trade_states_settle_an_outcome() {
        let order = |state: &str| OrderStatus {
            state: state.into(),
            transaction_id: Some("4200".into()),
            paid_at: None,
        };
        let paid = Outcome::settled_by(order("SUCCESS")).unwrap();
        assert_eq!(
            (paid.status, paid.message, paid.transaction_id.as_deref()),
            (Status::Paid, None, Some("4200"))
        );
        let closed = Outcome::settled_by(order("CLOSED")).unwrap();
        assert_eq!(closed.status, Status::Expired);
        assert_eq!(
            closed.message.as_deref(),
            Some("the order's trade_state is CLOSED")
        );
        assert_eq!(Outcome::settled_by(order("USERPAYING")), None);
    }

    #[test]
    fn paying_text_depends_on_the_mode() {
        assert_eq!(State::Paying.text(PayMode::Jsapi), Text::InWeChat);
        assert_eq!(
            State::Paying.text(PayMode::MiniProgram),
            Text::InMiniProgram
        );
        assert_eq!(State::Confirming.text(PayMode::Jsapi), Text::Confirming);
    }

    #[test]
    fn default_settings_allow_only_wechat_hosts() {
        let s = Settings::default();
        assert_eq!(s.redirect_hosts, ["wx.tenpay.com", "open.weixin.qq.com"]);
        assert!(crate::url::check_redirect(
            "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=1",
            &s.redirect_hosts
        )
        .is_ok());
        assert!(crate::url::check_redirect(
            "http://127.0.0.1:8080/sim/checkmweb",
            &s.redirect_hosts
        )
        .is_err());
    }
}
