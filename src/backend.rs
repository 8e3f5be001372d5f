//! Talking to the merchant backend: the two calls the checkout makes (`POST
//! /api/orders/{id}/pay` and `GET /api/orders/{id}`) in the contract of `server/`, or through a
//! merchant's own functions (the `backend` option) when their backend speaks differently.
//!
//! What the answers mean (which trade states are final, which errors are worth retrying) is
//! pure and tested natively; the HTTP is the JS driver's (`pkg-template/checkout.js`), and
//! `js/run.rs` reads its answers into these types.

use crate::bridge::JsapiParams;
use crate::i18n::decimal;

/// Answer of `POST /api/orders/{id}/pay`: one of the three payment handles.
#[derive(Debug, Clone, Default)]
pub struct Payment {
    pub expires_at: Option<String>,
    pub code_url: Option<String>,
    pub jsapi: Option<JsapiParams>,
    pub h5_url: Option<String>,
}

/// Answer of `GET /api/orders/{id}`.
#[derive(Debug, Clone, Default)]
pub struct OrderStatus {
    /// WeChat's `trade_state`: NOTPAY, USERPAYING, SUCCESS, CLOSED, PAYERROR, REFUND…
    pub state: String,
    pub transaction_id: Option<String>,
    pub paid_at: Option<String>,
}

/// How a checkout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Paid,
    Cancelled,
    Failed,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Paid => "paid",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
            Status::Expired => "expired",
        }
    }
}

/// The checkout outcome a `trade_state` settles, or `None` while the buyer may still pay.
pub fn final_status(trade_state: &str) -> Option<Status> {
    match trade_state {
        "SUCCESS" => Some(Status::Paid),
        "CLOSED" | "REVOKED" => Some(Status::Expired),
        // Refunded before the page learned it was paid: not something to celebrate.
        "PAYERROR" | "REFUND" => Some(Status::Failed),
        _ => None,
    }
}

/// What went wrong talking to the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// JSAPI/mini-program orders need the buyer's openid: send them to `authorize_url`.
    OpenIdRequired { authorize_url: String },
    /// The backend answered with an error status; `code`/`message` are from its JSON body.
    Http {
        status: u16,
        code: String,
        message: String,
        retry_after_ms: Option<u32>,
    },
    /// No answer: offline, DNS, CORS, connection reset.
    Network(String),
    /// An answer we cannot read.
    BadResponse(String),
}

impl BackendError {
    /// Worth asking again later (network trouble, timeouts, overload, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            BackendError::Network(_) => true,
            BackendError::Http { status, .. } => matches!(status, 408 | 425 | 429 | 500..=599),
            _ => false,
        }
    }

    pub fn retry_after_ms(&self) -> Option<u32> {
        match self {
            BackendError::Http { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    pub fn message(&self) -> String {
        match self {
            BackendError::OpenIdRequired { .. } => {
                "the backend needs the buyer's openid (OAuth) first".into()
            }
            BackendError::Http {
                status,
                code,
                message,
                ..
            } => [
                "the merchant backend answered HTTP ",
                &decimal((*status).into()),
                " ",
                code,
                ": ",
                message,
            ]
            .concat(),
            BackendError::Network(why) => ["cannot reach the merchant backend: ", why].concat(),
            BackendError::BadResponse(why) => [
                "the merchant backend's answer is not what the checkout expects: ",
                why,
            ]
            .concat(),
        }
    }
}

/// `{api_base}/orders/{id}` with the id escaped, without a doubled slash.
pub fn order_url(api_base: &str, order_id: &str) -> String {
    [
        api_base.trim_end_matches('/'),
        "/orders/",
        &crate::url::encode(order_id),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_trade_states_end_the_checkout() {
        assert_eq!(final_status("SUCCESS"), Some(Status::Paid));
        assert_eq!(final_status("CLOSED"), Some(Status::Expired));
        assert_eq!(final_status("PAYERROR"), Some(Status::Failed));
        assert_eq!(final_status("REFUND"), Some(Status::Failed));
        for pending in ["NOTPAY", "USERPAYING", "", "success", "SOMETHING_NEW"] {
            assert_eq!(final_status(pending), None, "{pending}");
        }
    }

    #[test]
    fn transient_errors_are_retried_others_are_not() {
        let http = |status| BackendError::Http {
            status,
            code: String::new(),
            message: String::new(),
            retry_after_ms: None,
        };
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(http(s).is_transient(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 422] {
            assert!(!http(s).is_transient(), "{s}");
        }
        assert!(BackendError::Network("reset".into()).is_transient());
        assert!(!BackendError::BadResponse("x".into()).is_transient());
        assert!(!BackendError::OpenIdRequired {
            authorize_url: "u".into()
        }
        .is_transient());
    }

    #[test]
    fn order_urls() {
        assert_eq!(order_url("/api", "o1"), "/api/orders/o1");
        assert_eq!(
            order_url("https://shop.example/api/", "a/b c"),
            "https://shop.example/api/orders/a%2Fb%20c"
        );
    }
}
