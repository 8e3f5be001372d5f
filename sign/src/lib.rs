//! Sans-IO WeChat Pay signing: API v2 (MD5 / HMAC-SHA256, XML) and API v3 (RSA, JSON).
//!
//! Bytes and values in, bytes and values out: no HTTP, no clock, no hidden randomness. Every
//! function that needs a time or a nonce takes it as a parameter ([`nonce::nonce_str`] makes
//! one), so results are exact and testable.
//!
//! # Map
//!
//! - [`v2`] — `stringA` and MD5/HMAC-SHA256 signs, constant-time verify, hardened XML, result
//!   checks, notification replies, JSAPI pay parameters, refund `req_info` decryption.
//! - [`v3`] — `Authorization` request signing (and its verification, for simulators),
//!   `Wechatpay-*` response/notification verification, AES-256-GCM resources, typed
//!   notifications, RSA pay parameters.
//! - [`keys`] — merchant private key (PKCS#8), WeChat public keys (certificate or SPKI), the key
//!   set keyed by serial, the merchant signer.
//! - [`nonce`] — random nonces from the OS RNG.
//! - [`PayParams`] — the six parameters a page passes to `getBrandWCPayRequest`.
//! - [`Error`] — the one error enum; messages say what to fix.
//!
//! Internal: `pem` (PEM armour), `der` (the few DER structures keys come in), `encoding`.

mod der;
mod encoding;
mod error;
pub mod keys;
pub mod nonce;
mod pay_params;
mod pem;
pub mod v2;
pub mod v3;

pub use error::{Error, Result};
pub use keys::{KeySet, MerchantKey, MerchantSigner, PublicKey};
pub use pay_params::{AppPayParams, PayParams};
