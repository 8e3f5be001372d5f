//! Hex and base64 helpers shared by v2 and v3, with errors that name the field.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::Error;

/// Uppercase hex, the form WeChat v2 signs are compared in.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Lowercase hex (the refund key is the lowercase MD5 of the API key).
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    hex_upper(bytes).to_ascii_lowercase()
}

/// Standard base64 with padding, as WeChat uses everywhere.
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decode standard base64, naming `what` in the error. Surrounding whitespace is tolerated
/// because values are often pasted from logs.
pub(crate) fn b64_decode(what: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    STANDARD.decode(text.trim()).map_err(|e| Error::Base64 {
        what,
        reason: e.to_string(),
    })
}
