//! WeChat Pay API v2: MD5 / HMAC-SHA256 signs over sorted `k=v` pairs, XML bodies, and the
//! AES-256-ECB refund notification.
//!
//! - [`sign`](mod@sign): `stringA`, signing, constant-time verification, JSAPI pay parameters.
//! - [`xml`]: `<xml>` encoding with CDATA, hardened parsing, result checks, notification replies.
//! - [`refund`]: the refund notification's `req_info`.

pub mod refund;
pub mod sign;
pub mod xml;

pub use refund::{decrypt_refund_req_info, encrypt_refund_req_info};
pub use sign::{
    pay_params, sign, string_to_sign, verify, verify_pay_params, verify_with_fallback, SignType,
};
pub use xml::{check_result, parse_xml, reply_fail, reply_success, to_xml, MAX_XML_BYTES};

/// The parameter map v2 works on. A `BTreeMap` because its byte-wise key order is exactly the
/// ASCII order WeChat sorts by.
pub type Params = std::collections::BTreeMap<String, String>;
