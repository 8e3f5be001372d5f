//! Talking to the merchant backend: the two calls the checkout makes (`POST
//! /api/orders/{id}/pay` and `GET /api/orders/{id}`) in the contract of `server/`, or through a
//! merchant's own functions (the `backend` option) when their backend speaks differently.
//!
//! What the answers mean is pure and tested natively: [`read_pay`] and [`read_status`] turn
//! an HTTP answer (status, the JSON [`Body`], `Retry-After`, `Date`) into what the run sees,
//! [`final_status`] says which trade states end a checkout, [`BackendError::is_transient`]
//! which errors are worth retrying. The HTTP itself is the driver's (`src/driver.rs`, gloo-net).

use serde::Deserialize;

use crate::bridge::JsapiParams;
use crate::clock::{parse_http_date, EpochMs};
use crate::i18n::decimal;
use crate::poll::parse_retry_after;

/// Answer of `POST /api/orders/{id}/pay`: one of the three payment handles.
#[derive(Debug, Clone, Default)]
pub struct Payment {
    pub expires_at: Option<String>,
    /// The backend's clock when it answered (its `Date` header), so the countdown to
    /// `expires_at` does not depend on the buyer's clock.
    pub server_now: Option<EpochMs>,
    pub code_url: Option<String>,
    pub jsapi: Option<JsapiParams>,
    pub h5_url: Option<String>,
}

/// Answer of `GET /api/orders/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderStatus {
    /// WeChat's `trade_state`: NOTPAY, USERPAYING, SUCCESS, CLOSED, PAYERROR, REFUND…
    pub state: String,
    pub transaction_id: Option<String>,
    pub paid_at: Option<String>,
}

/// How a checkout ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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
    /// No answer within the request's deadline (it was aborted).
    Timeout { ms: u32 },
    /// An answer we cannot read.
    BadResponse(String),
}

impl BackendError {
    /// Worth asking again later (network trouble, timeouts, overload, server errors).
    pub fn is_transient(&self) -> bool {
        match self {
            BackendError::Network(_) | BackendError::Timeout { .. } => true,
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
            BackendError::Timeout { ms } => [
                "the merchant backend did not answer within ",
                &decimal((*ms).into()),
                " ms",
            ]
            .concat(),
            BackendError::BadResponse(why) => [
                "the merchant backend's answer is not what the checkout expects: ",
                why,
            ]
            .concat(),
        }
    }
}

/// A JSON answer of the backend (or what a custom backend's hook resolved or threw), every
/// field optional: which ones must be there depends on the call and is checked by
/// [`read_pay`] / [`read_status`] with a message naming the field.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Body {
    pub order_id: Option<String>,
    pub state: Option<String>,
    pub transaction_id: Option<String>,
    pub paid_at: Option<String>,
    pub expires_at: Option<String>,
    pub code_url: Option<String>,
    pub h5_url: Option<String>,
    pub jsapi: Option<JsapiBody>,
    /// Error answers: `{ error, message }`, and `authorize_url` with `openid_required`.
    pub error: Option<String>,
    pub message: Option<String>,
    pub authorize_url: Option<String>,
}

/// The six JSAPI parameters as the backend sent them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiBody {
    pub app_id: Option<String>,
    pub time_stamp: Option<String>,
    pub nonce_str: Option<String>,
    pub package: Option<String>,
    pub sign_type: Option<String>,
    pub pay_sign: Option<String>,
}

/// An answer that arrived: HTTP status (200 for a hook's value), its body if it was JSON of
/// the expected shape, and the two headers that matter.
#[derive(Debug, Clone, Default)]
pub struct HttpAnswer {
    pub status: u16,
    pub status_text: String,
    pub body: Option<Body>,
    pub retry_after: Option<String>,
    pub date: Option<String>,
}

/// Classifies an answer that is not a success; `None` for 2xx.
fn error_of(answer: &mut HttpAnswer, now: EpochMs) -> Option<BackendError> {
    if (200..300).contains(&answer.status) {
        return None;
    }
    let body = answer.body.take().unwrap_or_default();
    if let Some(e) = openid_required(&body) {
        return Some(e);
    }
    Some(BackendError::Http {
        status: answer.status,
        code: body.error.unwrap_or_default(),
        message: body
            .message
            .unwrap_or_else(|| std::mem::take(&mut answer.status_text)),
        retry_after_ms: answer
            .retry_after
            .as_deref()
            .and_then(|v| parse_retry_after(v, now)),
    })
}

fn openid_required(body: &Body) -> Option<BackendError> {
    match (body.error.as_deref(), &body.authorize_url) {
        (Some("openid_required"), Some(url)) => Some(BackendError::OpenIdRequired {
            authorize_url: url.clone(),
        }),
        _ => None,
    }
}

/// What a custom backend's hook threw: `{ error: "openid_required", authorize_url }` starts
/// OAuth; anything else means "try again later" (its `message`, if any, is kept).
pub fn thrown(body: Option<Body>, message: Option<String>) -> BackendError {
    let body = body.unwrap_or_default();
    openid_required(&body).unwrap_or_else(|| {
        BackendError::Network(
            message
                .or(body.message)
                .unwrap_or_else(|| "the request failed".into()),
        )
    })
}

fn body_of(answer: HttpAnswer) -> Result<Body, BackendError> {
    answer.body.ok_or_else(|| {
        BackendError::BadResponse(
            [
                "not a JSON object of the expected shape (HTTP ",
                &decimal(answer.status.into()),
                ")",
            ]
            .concat(),
        )
    })
}

/// The answer of `POST /api/orders/{id}/pay`.
pub fn read_pay(mut answer: HttpAnswer, now: EpochMs) -> Result<Payment, BackendError> {
    if let Some(e) = error_of(&mut answer, now) {
        return Err(e);
    }
    let server_now = answer.date.as_deref().and_then(parse_http_date);
    let body = body_of(answer)?;
    let jsapi = match body.jsapi {
        None => None,
        Some(p) => {
            let field = |v: Option<String>, k: &str| {
                v.ok_or_else(|| BackendError::BadResponse(["jsapi.", k, " is missing"].concat()))
            };
            Some(JsapiParams {
                app_id: field(p.app_id, "appId")?,
                time_stamp: field(p.time_stamp, "timeStamp")?,
                nonce_str: field(p.nonce_str, "nonceStr")?,
                package: field(p.package, "package")?,
                sign_type: field(p.sign_type, "signType")?,
                pay_sign: field(p.pay_sign, "paySign")?,
            })
        }
    };
    Ok(Payment {
        expires_at: body.expires_at,
        server_now,
        code_url: body.code_url,
        jsapi,
        h5_url: body.h5_url,
    })
}

/// The answer of `GET /api/orders/{id}` for `order_id`. An answer about another order is a
/// bad answer (a misrouted proxy or cache must never make this order look paid).
pub fn read_status(
    mut answer: HttpAnswer,
    order_id: &str,
    now: EpochMs,
) -> Result<OrderStatus, BackendError> {
    if let Some(e) = error_of(&mut answer, now) {
        return Err(e);
    }
    let body = body_of(answer)?;
    if let Some(other) = body.order_id.as_deref().filter(|id| *id != order_id) {
        return Err(BackendError::BadResponse(
            [
                "the status answer is about order ",
                other,
                ", not ",
                order_id,
            ]
            .concat(),
        ));
    }
    Ok(OrderStatus {
        state: body
            .state
            .ok_or_else(|| BackendError::BadResponse("the order has no state".into()))?,
        transaction_id: body.transaction_id,
        paid_at: body.paid_at,
    })
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

    fn answer(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer {
            status,
            body: serde_json::from_str(body).ok(),
            ..HttpAnswer::default()
        }
    }

    #[test]
    fn status_answers_are_read_for_this_order_only() {
        let paid = read_status(
            answer(
                200,
                r#"{"order_id":"o1","state":"SUCCESS","transaction_id":"42","amount":1}"#,
            ),
            "o1",
            0,
        )
        .unwrap();
        assert_eq!(
            (paid.state.as_str(), paid.transaction_id.as_deref()),
            ("SUCCESS", Some("42"))
        );
        // A custom backend need not echo the order id.
        assert!(read_status(answer(200, r#"{"state":"NOTPAY"}"#), "o1", 0).is_ok());
        let other = read_status(
            answer(200, r#"{"order_id":"ord_OTHER","state":"SUCCESS"}"#),
            "o1",
            0,
        )
        .unwrap_err();
        assert_eq!(
            other,
            BackendError::BadResponse("the status answer is about order ord_OTHER, not o1".into())
        );
        assert_eq!(
            read_status(answer(200, "{}"), "o1", 0),
            Err(BackendError::BadResponse("the order has no state".into()))
        );
        assert!(
            matches!(read_status(answer(200, "<html>"), "o1", 0), Err(BackendError::BadResponse(m)) if m.contains("HTTP 200"))
        );
        // A field of the wrong type makes the body unreadable, not a guess.
        assert!(matches!(
            read_status(answer(200, r#"{"state":7}"#), "o1", 0),
            Err(BackendError::BadResponse(_))
        ));
    }

    #[test]
    fn error_answers_keep_code_message_and_a_clamped_retry_after() {
        let mut a = answer(503, r#"{"error":"busy","message":"try later"}"#);
        a.retry_after = Some("99999999999".into());
        assert_eq!(
            read_status(a, "o1", 0),
            Err(BackendError::Http {
                status: 503,
                code: "busy".into(),
                message: "try later".into(),
                retry_after_ms: Some(60_000)
            })
        );
        let mut bare = answer(502, "not json");
        bare.status_text = "Bad Gateway".into();
        assert!(
            matches!(read_pay(bare, 0), Err(BackendError::Http { status: 502, message, .. }) if message == "Bad Gateway")
        );
        let oauth = answer(
            403,
            r#"{"error":"openid_required","authorize_url":"https://open.weixin.qq.com/x"}"#,
        );
        assert_eq!(
            read_pay(oauth, 0).unwrap_err(),
            BackendError::OpenIdRequired {
                authorize_url: "https://open.weixin.qq.com/x".into()
            }
        );
        let paid = answer(409, r#"{"error":"already_paid","message":"m"}"#);
        assert!(
            matches!(read_pay(paid, 0), Err(BackendError::Http { status: 409, code, .. }) if code == "already_paid")
        );
    }

    #[test]
    fn pay_answers_carry_the_server_clock_and_name_missing_jsapi_fields() {
        let mut a = answer(
            200,
            r#"{"code_url":"weixin://x","expires_at":"2026-11-26T12:39:42Z"}"#,
        );
        a.date = Some("Thu, 26 Nov 2026 12:37:42 GMT".into());
        let p = read_pay(a, 0).unwrap();
        assert_eq!(
            (p.code_url.as_deref(), p.server_now),
            (Some("weixin://x"), Some(1_795_696_662_000))
        );
        let e = read_pay(answer(200, r#"{"jsapi":{"appId":"wx1"}}"#), 0).unwrap_err();
        assert_eq!(
            e,
            BackendError::BadResponse("jsapi.timeStamp is missing".into())
        );
        assert_eq!(
            thrown(
                serde_json::from_str(r#"{"error":"openid_required","authorize_url":"u"}"#).ok(),
                None
            ),
            BackendError::OpenIdRequired {
                authorize_url: "u".into()
            }
        );
        assert_eq!(
            thrown(None, Some("offline".into())),
            BackendError::Network("offline".into())
        );
        assert!(BackendError::Timeout { ms: 30_000 }.is_transient());
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
