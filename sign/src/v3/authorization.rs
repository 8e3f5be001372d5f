//! The merchant → WeChat direction: the `Authorization` header on every v3 request.
//!
//! Message: `METHOD\nPATH_AND_QUERY\nTIMESTAMP\nNONCE\nBODY\n`, signed SHA256withRSA with the
//! merchant key. The parse/verify half exists for the simulator in `server/`, and so that the
//! CLI can explain why WeChat rejects a header.

use crate::encoding::{b64_decode, b64_encode};
use crate::keys::{MerchantSigner, PublicKey};
use crate::Error;

/// The only v3 signature scheme.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// A signed request: what was signed, the signature, and the full header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The exact message that was signed (five lines, each ending in `\n`).
    pub message: String,
    /// base64 signature.
    pub signature: String,
    /// The `Authorization` header value, scheme included.
    pub header: String,
}

/// The request message. `path_and_query` is the URL without scheme and host, e.g.
/// `/v3/pay/transactions/native` or `/v3/certificates?x=1`; `body` is empty for GET.
pub fn request_message(
    method: &str,
    path_and_query: &str,
    timestamp: i64,
    nonce: &str,
    body: &str,
) -> Result<String, Error> {
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::InvalidHeader {
            what: "HTTP method",
            reason: format!("{method:?} must be an uppercase method such as GET or POST"),
        });
    }
    if !path_and_query.starts_with('/') || path_and_query.contains(['\n', ' ']) {
        return Err(Error::InvalidHeader {
            what: "URL",
            reason: format!(
                "{path_and_query:?} must be the path and query only, starting with /, e.g. \
                 /v3/pay/transactions/native (no https://host)"
            ),
        });
    }
    check_header_value("nonce", nonce)?;
    Ok(format!(
        "{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n"
    ))
}

/// Values end up inside `name="…"` in the header, so quotes, commas and line breaks would
/// corrupt it.
fn check_header_value(what: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.contains(['"', ',', '\n', '\r']) {
        return Err(Error::InvalidHeader {
            what,
            reason: format!(
                "{value:?} must be non-empty and free of quotes, commas and line breaks"
            ),
        });
    }
    Ok(())
}

/// Sign a request. `timestamp` (seconds) and `nonce` are parameters so the result is exact;
/// use [`crate::nonce::nonce_str`] and the system clock in production.
pub fn sign_request(
    signer: &MerchantSigner,
    method: &str,
    path_and_query: &str,
    body: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<Authorization, Error> {
    check_header_value("mchid", &signer.mchid)?;
    check_header_value("serial_no", &signer.serial_no)?;
    let message = request_message(method, path_and_query, timestamp, nonce, body)?;
    let signature = b64_encode(&signer.key().sign_sha256(message.as_bytes())?);
    let header = format!(
        "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",\
         timestamp=\"{timestamp}\",serial_no=\"{}\"",
        signer.mchid, signer.serial_no
    );
    Ok(Authorization {
        message,
        signature,
        header,
    })
}

/// The fields of a parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub mchid: String,
    pub nonce_str: String,
    /// base64, as sent.
    pub signature: String,
    pub timestamp: i64,
    pub serial_no: String,
}

/// Parse `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",…`. Field order is free; all five
/// fields are required, each once; unknown fields are rejected.
pub fn parse_authorization(header: &str) -> Result<AuthorizationHeader, Error> {
    let bad = |reason: String| Error::InvalidHeader {
        what: "Authorization header",
        reason,
    };
    let rest = header
        .trim()
        .strip_prefix(AUTH_SCHEME)
        .filter(|r| r.starts_with(' '))
        .ok_or_else(|| bad(format!("must start with \"{AUTH_SCHEME} \"")))?;
    let mut fields: [Option<String>; 5] = Default::default();
    const NAMES: [&str; 5] = ["mchid", "nonce_str", "signature", "timestamp", "serial_no"];
    for part in rest.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad(format!("field {:?} is not name=\"value\"", part.trim())))?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .filter(|v| !v.contains('"'))
            .ok_or_else(|| bad(format!("value of {name} must be in double quotes")))?;
        let slot = NAMES
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| bad(format!("unknown field {name:?}")))?;
        if fields[slot].replace(value.to_string()).is_some() {
            return Err(bad(format!("field {name} appears twice")));
        }
    }
    let [mchid, nonce_str, signature, timestamp, serial_no] = fields;
    let need = |v: Option<String>, n: &str| v.ok_or_else(|| bad(format!("missing field {n}")));
    let timestamp = need(timestamp, "timestamp")?;
    Ok(AuthorizationHeader {
        mchid: need(mchid, "mchid")?,
        nonce_str: need(nonce_str, "nonce_str")?,
        signature: need(signature, "signature")?,
        timestamp: timestamp
            .parse()
            .map_err(|_| bad(format!("timestamp {timestamp:?} is not whole seconds")))?,
        serial_no: need(serial_no, "serial_no")?,
    })
}

/// The simulator's check of a merchant request: parse the header, rebuild the message from the
/// request as received, verify with the merchant's public key. The caller decides whether
/// `mchid`, `serial_no` and `timestamp` (see [`super::check_timestamp`]) are acceptable.
pub fn verify_request(
    header: &str,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    key: &PublicKey,
) -> Result<AuthorizationHeader, Error> {
    let auth = parse_authorization(header)?;
    let body = std::str::from_utf8(body).map_err(|_| Error::NotUtf8 {
        what: "request body",
    })?;
    let message = request_message(
        method,
        path_and_query,
        auth.timestamp,
        &auth.nonce_str,
        body,
    )?;
    let sig = b64_decode("Authorization signature", &auth.signature)?;
    if key.verify_sha256(message.as_bytes(), &sig) {
        Ok(auth)
    } else {
        Err(Error::BadSignature {
            what: "Authorization",
        })
    }
}
