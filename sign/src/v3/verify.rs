//! The WeChat → merchant direction: `Wechatpay-Timestamp/-Nonce/-Signature/-Serial` on every
//! response and notification, over the **raw body bytes** (re-serialized JSON would not match).
//!
//! The order of checks is chosen so each rejection is distinct and cheap ones come first:
//! probe, timestamp window, serial, then the RSA verification.

use crate::encoding::{b64_decode, b64_encode};
use crate::keys::{KeySet, MerchantKey};
use crate::Error;

/// WeChat rejects, and so do we, timestamps further than this from now in either direction.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// Prefix of the signatures WeChat sends to check that merchants really verify.
pub const SIGNTEST_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// The four headers, borrowed from whatever HTTP library the caller uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WechatpayHeaders<'a> {
    /// `Wechatpay-Timestamp`
    pub timestamp: &'a str,
    /// `Wechatpay-Nonce`
    pub nonce: &'a str,
    /// `Wechatpay-Signature` (base64)
    pub signature: &'a str,
    /// `Wechatpay-Serial`: platform certificate serial or `PUB_KEY_ID_…`
    pub serial: &'a str,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The serial of the key that verified.
    pub serial: String,
    /// `Wechatpay-Timestamp`, parsed.
    pub timestamp: i64,
}

/// `TIMESTAMP\nNONCE\nBODY\n` as bytes (the body need not be UTF-8).
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [
        timestamp.as_bytes(),
        b"\n",
        nonce.as_bytes(),
        b"\n",
        body,
        b"\n",
    ] {
        m.extend_from_slice(part);
    }
    m
}

/// Reject timestamps more than [`MAX_CLOCK_SKEW_SECS`] from `now` (both in seconds).
pub fn check_timestamp(timestamp: i64, now: i64) -> Result<(), Error> {
    let skew = now.abs_diff(timestamp);
    if skew > MAX_CLOCK_SKEW_SECS as u64 {
        return Err(Error::TimestampSkew {
            timestamp,
            now,
            skew: i64::try_from(skew).unwrap_or(i64::MAX),
            max: MAX_CLOCK_SKEW_SECS,
        });
    }
    Ok(())
}

/// Verify a response or notification. `now` is the caller's clock in seconds.
///
/// Errors, each distinct: [`Error::SignTestProbe`], [`Error::InvalidHeader`] (timestamp not a
/// number, empty nonce), [`Error::TimestampSkew`], [`Error::UnknownSerial`], [`Error::Base64`],
/// [`Error::BadSignature`].
pub fn verify(
    headers: &WechatpayHeaders,
    body: &[u8],
    now: i64,
    keys: &KeySet,
) -> Result<Verified, Error> {
    if headers.signature.starts_with(SIGNTEST_PREFIX) {
        return Err(Error::SignTestProbe);
    }
    let timestamp: i64 = headers
        .timestamp
        .parse()
        .map_err(|_| Error::InvalidHeader {
            what: "Wechatpay-Timestamp",
            reason: format!(
                "{:?} is not whole seconds since the epoch",
                headers.timestamp
            ),
        })?;
    if headers.nonce.is_empty() {
        return Err(Error::InvalidHeader {
            what: "Wechatpay-Nonce",
            reason: "it is empty".into(),
        });
    }
    check_timestamp(timestamp, now)?;
    let key = keys
        .get(headers.serial)
        .ok_or_else(|| Error::UnknownSerial {
            serial: headers.serial.to_string(),
        })?;
    let sig = b64_decode("Wechatpay-Signature", headers.signature)?;
    let message = response_message(headers.timestamp, headers.nonce, body);
    if key.verify_sha256(&message, &sig) {
        Ok(Verified {
            serial: headers.serial.to_string(),
            timestamp,
        })
    } else {
        Err(Error::BadSignature {
            what: "Wechatpay-Signature",
        })
    }
}

/// Sign `TIMESTAMP\nNONCE\nBODY\n` the way WeChat signs responses and notifications; for the
/// simulator (playing WeChat, with its platform key) and tests. Returns base64.
pub fn sign_response(
    key: &impl AsRef<MerchantKey>,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> Result<String, Error> {
    let message = response_message(&timestamp.to_string(), nonce, body);
    Ok(b64_encode(&key.as_ref().sign_sha256(&message)?))
}
