//! The one error type of the crate.
//!
//! Every failure a caller can hit is a variant here, and every message says what was wrong
//! *and* what to do about it, because the person reading it is usually a developer staring at
//! a rejected payment. Variants carry data (never key material) so callers can branch on them,
//! e.g. answer a WeChat notification with FAIL on [`Error::BadSignature`] but log
//! [`Error::SignTestProbe`] as the expected probe it is.

/// Everything that can go wrong while signing, verifying, decrypting or parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- keys and PEM -------------------------------------------------------------------
    /// Text that should be PEM is not (missing armour, bad base64, wrong label).
    #[error("invalid PEM for {what}: {reason}")]
    Pem { what: &'static str, reason: String },

    /// A PKCS#1 "RSA PRIVATE KEY" was given where WeChat's PKCS#8 key is expected.
    #[error(
        "the merchant private key is PKCS#1 (BEGIN RSA PRIVATE KEY); WeChat's apiclient_key.pem is \
         PKCS#8 (BEGIN PRIVATE KEY). Convert it with: \
         openssl pkcs8 -topk8 -nocrypt -in key.pem -out apiclient_key.pem"
    )]
    Pkcs1PrivateKey,

    /// The key bytes decoded but are not a usable RSA key.
    #[error("invalid {what}: {reason}")]
    InvalidKey { what: &'static str, reason: String },

    // ---- v3 verification ----------------------------------------------------------------
    /// No key in the key set has the serial named by `Wechatpay-Serial`.
    #[error(
        "unknown Wechatpay-Serial {serial:?}: no platform certificate or WeChat Pay public key \
         with that serial is loaded; download the current platform certificate or public key"
    )]
    UnknownSerial { serial: String },

    /// `Wechatpay-Timestamp` is too far from the caller's clock (replay or clock skew).
    #[error(
        "Wechatpay-Timestamp {timestamp} is {skew} s away from now ({now}); at most {max} s is \
         accepted, so this may be a replay or the server clock is wrong"
    )]
    TimestampSkew {
        timestamp: i64,
        now: i64,
        skew: i64,
        max: i64,
    },

    /// The RSA signature does not match the message.
    #[error("{what} signature does not verify: the body was changed or the wrong key was used")]
    BadSignature { what: &'static str },

    /// WeChat's deliberate probe (`WECHATPAY/SIGNTEST/…`) that checks merchants do verify.
    #[error(
        "signature is a WECHATPAY/SIGNTEST/ probe; WeChat sends it to check that signatures are \
         verified, reject it"
    )]
    SignTestProbe,

    /// A header or header field is missing or malformed.
    #[error("invalid {what}: {reason}")]
    InvalidHeader { what: &'static str, reason: String },

    /// The operating system's random number generator failed (nothing safe is left to do).
    #[error("the operating system's random number generator failed")]
    Random,

    // ---- symmetric crypto ---------------------------------------------------------------
    /// The APIv3 key is not 32 bytes.
    #[error("APIv3 key must be 32 bytes, got {got}; copy it exactly from the merchant platform")]
    Apiv3KeyLength { got: usize },

    /// The AES-GCM nonce is not 12 bytes.
    #[error("resource nonce must be 12 bytes, got {got}")]
    NonceLength { got: usize },

    /// Base64 text did not decode.
    #[error("{what} is not valid base64: {reason}")]
    Base64 { what: &'static str, reason: String },

    /// Authenticated decryption failed: wrong key, wrong nonce/associated data, or tampering.
    #[error(
        "could not decrypt {what}: wrong key, wrong nonce/associated_data, or the data was altered"
    )]
    Decrypt { what: &'static str },

    /// An algorithm name this crate does not implement.
    #[error("unsupported {what} {name:?}; expected {expected}")]
    Unsupported {
        what: &'static str,
        name: String,
        expected: &'static str,
    },

    /// An input longer than the operation can take (e.g. one RSA-OAEP block).
    #[error("{what} is {got} bytes; at most {max} fit")]
    TooLong {
        what: &'static str,
        got: usize,
        max: usize,
    },

    // ---- v2 -----------------------------------------------------------------------------
    /// A v2 `sign` that does not match the parameters and key.
    #[error(
        "v2 sign does not match ({sign_type}): check the API key and that no field was altered"
    )]
    V2SignMismatch { sign_type: &'static str },

    /// A `sign_type` other than MD5 / HMAC-SHA256.
    #[error("unknown sign_type {0:?}; expected MD5 or HMAC-SHA256")]
    UnknownSignType(String),

    /// XML that is malformed or outside what WeChat sends.
    #[error("invalid XML: {0}")]
    Xml(String),

    /// DOCTYPE / ENTITY declarations, rejected to rule out XXE.
    #[error("XML contains a DOCTYPE or entity declaration; rejected to prevent XXE")]
    XmlDoctype,

    /// The body is larger than [`crate::v2::MAX_XML_BYTES`].
    #[error("XML body is {size} bytes; the limit is {limit}")]
    XmlTooLarge { size: usize, limit: usize },

    /// The same field appears twice (a classic signature-confusion trick).
    #[error("XML field <{0}> appears more than once")]
    XmlDuplicate(String),

    /// A field the operation needs is absent.
    #[error("missing field {0:?}")]
    MissingField(String),

    /// `return_code` or `result_code` is not SUCCESS.
    #[error(
        "WeChat returned return_code={return_code} return_msg={return_msg:?} \
         result_code={result_code:?} err_code={err_code:?} err_code_des={err_code_des:?}"
    )]
    Wechat {
        return_code: String,
        return_msg: String,
        result_code: Option<String>,
        err_code: Option<String>,
        err_code_des: Option<String>,
    },

    // ---- v3 JSON ------------------------------------------------------------------------
    /// JSON that does not have the expected shape.
    #[error("invalid {what} JSON: {reason}")]
    Json { what: &'static str, reason: String },

    /// A notification of another kind than the caller asked for.
    #[error("notification resource is {got:?}, expected {expected:?}")]
    WrongNotificationType { got: String, expected: &'static str },

    /// A plaintext that should be UTF-8 is not.
    #[error("{what} is not UTF-8")]
    NotUtf8 { what: &'static str },
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
