//! The order model and its state machine: which `trade_state` may follow which.
//!
//! The states are WeChat's own `trade_state` values, so what the page sees is exactly what WeChat
//! reports. Transitions are declared here once; the store turns `sources_of(to)` into a conditional
//! `UPDATE … WHERE state IN (…)`, which is what makes a state change happen exactly once even when
//! a hundred duplicate notifications arrive at the same moment.

use crate::catalog::OrderLine;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// WeChat Pay's `trade_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TradeState {
    /// Ordered, not paid yet (the start state).
    Notpay,
    /// The buyer is entering a password or similar; not final.
    Userpaying,
    /// Paid. Only ever set from a verified notification or a verified query.
    Success,
    /// Closed by the merchant or expired; can no longer be paid.
    Closed,
    /// The payment failed (bank refused, …).
    Payerror,
    /// Paid, then (partly) refunded.
    Refund,
    /// Revoked (v2 micropay); kept so every value WeChat sends parses.
    Revoked,
}

impl TradeState {
    pub const ALL: [TradeState; 7] = [
        TradeState::Notpay,
        TradeState::Userpaying,
        TradeState::Success,
        TradeState::Closed,
        TradeState::Payerror,
        TradeState::Refund,
        TradeState::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TradeState::Notpay => "NOTPAY",
            TradeState::Userpaying => "USERPAYING",
            TradeState::Success => "SUCCESS",
            TradeState::Closed => "CLOSED",
            TradeState::Payerror => "PAYERROR",
            TradeState::Refund => "REFUND",
            TradeState::Revoked => "REVOKED",
        }
    }

    /// A final state never changes again except SUCCESS → REFUND; a page can stop polling.
    pub fn is_final(self) -> bool {
        !matches!(self, TradeState::Notpay | TradeState::Userpaying)
    }

    /// The states an order may be in for a move to `self` to be allowed.
    ///
    /// A verified SUCCESS beats a recorded PAYERROR: WeChat is the source of truth, and a buyer
    /// may retry after a failed attempt on another prepay of the same order.
    pub fn sources(self) -> &'static [TradeState] {
        use TradeState::*;
        match self {
            Notpay => &[],
            Userpaying => &[Notpay],
            Success => &[Notpay, Userpaying, Payerror],
            Closed => &[Notpay, Userpaying, Payerror],
            Payerror => &[Notpay, Userpaying],
            Refund => &[Success],
            Revoked => &[Notpay, Userpaying],
        }
    }

    pub fn can_move_to(self, to: TradeState) -> bool {
        to.sources().contains(&self)
    }
}

impl fmt::Display for TradeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TradeState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TradeState::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown trade_state {s:?}; expected one of NOTPAY, USERPAYING, SUCCESS, CLOSED, PAYERROR, REFUND, REVOKED"))
    }
}

/// How the buyer pays; chosen by the page from where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayMode {
    /// PC browser: a QR (`code_url`) scanned with the WeChat app.
    Native,
    /// Inside WeChat's browser: `WeixinJSBridge` with six signed parameters.
    Jsapi,
    /// Another phone browser: WeChat's H5 cashier (`h5_url` / `mweb_url`).
    H5,
    /// A mini-program page (`wx.requestPayment`), same parameters as JSAPI.
    Miniprogram,
}

impl PayMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PayMode::Native => "native",
            PayMode::Jsapi => "jsapi",
            PayMode::H5 => "h5",
            PayMode::Miniprogram => "miniprogram",
        }
    }

    /// Whether WeChat needs the payer's openid for this mode.
    pub fn needs_openid(self) -> bool {
        matches!(self, PayMode::Jsapi | PayMode::Miniprogram)
    }
}

impl FromStr for PayMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            PayMode::Native,
            PayMode::Jsapi,
            PayMode::H5,
            PayMode::Miniprogram,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
        .ok_or_else(|| format!("unknown mode {s:?}; use native, jsapi, h5 or miniprogram"))
    }
}

/// A merchant order as the backend stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Public id used in URLs by the page.
    pub order_id: String,
    /// The id WeChat knows the first payment attempt by (later attempts get a suffix).
    pub out_trade_no: String,
    pub description: String,
    /// Amount in fen (1/100 CNY).
    pub amount: i64,
    pub state: TradeState,
    pub created_at: i64,
    pub updated_at: i64,
    /// RFC 3339, from WeChat's `success_time` / `time_end`.
    pub paid_at: Option<String>,
    pub transaction_id: Option<String>,
    pub payer_openid: Option<String>,
    /// When the backend last asked WeChat about this order (unix seconds).
    pub last_queried_at: Option<i64>,
    /// The catalog lines it was priced from; empty for an order created with an amount.
    pub items: Vec<OrderLine>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_only_from_unpaid_or_failed() {
        use TradeState::*;
        assert!(Notpay.can_move_to(Success));
        assert!(Payerror.can_move_to(Success));
        assert!(!Closed.can_move_to(Success));
        assert!(!Success.can_move_to(Success));
        assert!(!Refund.can_move_to(Success));
        assert!(Success.can_move_to(Refund));
        assert!(!Notpay.can_move_to(Notpay));
    }

    #[test]
    fn names_round_trip() {
        for s in TradeState::ALL {
            assert_eq!(s.as_str().parse::<TradeState>().unwrap(), s);
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("paid".parse::<TradeState>().is_err());
        assert_eq!("h5".parse::<PayMode>().unwrap(), PayMode::H5);
        assert!("mweb"
            .parse::<PayMode>()
            .unwrap_err()
            .contains("native, jsapi"));
    }
}
