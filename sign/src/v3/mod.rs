//! WeChat Pay API v3: SHA256withRSA over newline-joined messages, JSON bodies, AES-256-GCM
//! encrypted notification resources, RSA-OAEP for sensitive fields.
//!
//! - [`authorization`]: signing our requests (`Authorization` header), and the simulator's side
//!   of it (parse + verify that header).
//! - [`verify`](mod@verify): checking WeChat's responses and notifications (`Wechatpay-*` headers), and the
//!   simulator's side (signing them).
//! - [`resource`]: AES-256-GCM decryption (and encryption) of notification resources.
//! - [`notification`]: typed notification envelopes and the one-call
//!   [`open_payment_notification`].
//! - [`pay_params`](mod@pay_params): JSAPI / mini-program / APP pay parameters (`signType=RSA`).
//! - [`oaep`]: RSA-OAEP (SHA-1) for sensitive fields.

pub mod authorization;
pub mod notification;
pub mod oaep;
pub mod pay_params;
pub mod resource;
pub mod verify;

pub use authorization::{
    parse_authorization, request_message, sign_request, verify_request, Authorization,
    AuthorizationHeader, AUTH_SCHEME,
};
pub use notification::{
    open_notification, open_payment_notification, Amount, EncryptedResource, Notification, Payer,
    PaymentNotification,
};
pub use oaep::{oaep_decrypt, oaep_encrypt};
pub use pay_params::{app_pay_params, pay_params, verify_pay_params};
pub use resource::{decrypt_resource, encrypt_resource};
pub use verify::{
    check_timestamp, response_message, sign_response, verify, Verified, WechatpayHeaders,
    MAX_CLOCK_SKEW_SECS, SIGNTEST_PREFIX,
};
