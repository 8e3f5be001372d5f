//! `wxpay doctor` on the merchant API client certificate (`apiclient_cert_file` +
//! `apiclient_key_file`): the identity v2 refunds present over mutual TLS on `secapi/…`.
//!
//! WeChat answers a wrong one only at refund time, with a failed TLS handshake or 证书与商户号不匹配;
//! here each file is read as the backend would, and each problem is its own finding: a file that
//! does not load, a key that is not the certificate's, a certificate out of (or near the end of)
//! its validity, a CN that is not the mchid.

use super::{finding, ok, Finding, Level, EXPIRY_WARNING_DAYS};
use crate::config::{ApiVersion, Config};
use crate::timefmt::beijing_rfc3339;
use std::path::Path;
use wxpay_sign::keys::{MerchantKey, PublicKey};
use wxpay_sign::Certificate;

const CHECK: &str = "apiclient_cert";
const DOWNLOAD: &str = "the merchant platform (账户中心 → API安全 → API证书)";

/// Checks the API client certificate and key when configured (a v2 merchant without them is
/// told that refunds need them).
pub(super) fn apiclient_cert(cfg: &Config, now: i64, out: &mut Vec<Finding>) {
    let (cert_path, key_path) = match (&cfg.apiclient_cert_file, &cfg.apiclient_key_file) {
        (Some(cert), Some(key)) => (cert, key),
        (None, None) => {
            if cfg.api_version == ApiVersion::V2 {
                out.push(finding(
                    Level::Warning,
                    CHECK,
                    "no API client certificate: APIv2 refunds (secapi/pay/refund) will be refused",
                    format!("set apiclient_cert_file and apiclient_key_file to apiclient_cert.pem and apiclient_key.pem from {DOWNLOAD}"),
                ));
            }
            return;
        }
        _ => {
            out.push(finding(
                Level::Error,
                CHECK,
                "only one of apiclient_cert_file and apiclient_key_file is set",
                "set both: apiclient_cert.pem and apiclient_key.pem of one download",
            ));
            return;
        }
    };
    let cert = read(cert_path).and_then(|pem| {
        let cert = Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
        // Its bare key (a key read from a certificate also carries its serial and validity).
        let key = PublicKey::from_pem(&cert.public_key_pem()).map_err(|e| e.to_string())?;
        Ok((cert, key))
    });
    let key =
        read(key_path).and_then(|pem| MerchantKey::from_pkcs8_pem(&pem).map_err(|e| e.to_string()));
    if let Err(e) = &cert {
        out.push(finding(
            Level::Error,
            CHECK,
            format!("apiclient_cert_file {}: {e}", cert_path.display()),
            format!("point apiclient_cert_file at apiclient_cert.pem (BEGIN CERTIFICATE) from {DOWNLOAD}"),
        ));
    }
    if let Err(e) = &key {
        out.push(finding(
            Level::Error,
            CHECK,
            format!("apiclient_key_file {}: {e}", key_path.display()),
            format!("point apiclient_key_file at apiclient_key.pem (PKCS#8, BEGIN PRIVATE KEY) from {DOWNLOAD}; convert an RSA PRIVATE KEY with `openssl pkcs8 -topk8 -nocrypt`"),
        ));
    }
    let (Ok((cert, cert_key)), Ok(key)) = (cert, key) else {
        return;
    };
    let before = out.len();
    let serial = &cert.serial;
    if key.public_key() != cert_key {
        out.push(finding(
            Level::Error,
            CHECK,
            format!("apiclient_key_file is not the key of certificate {serial}: the TLS handshake with secapi fails"),
            "use the apiclient_key.pem that came with this apiclient_cert.pem (one download), or both files of a new one",
        ));
    }
    let (not_before, not_after) = (cert.validity.not_before, cert.validity.not_after);
    let renew = format!("renew the API certificate on {DOWNLOAD} and install the new apiclient_cert.pem and apiclient_key.pem");
    if now > not_after {
        out.push(finding(
            Level::Error,
            CHECK,
            format!(
                "certificate {serial} expired on {}",
                beijing_rfc3339(not_after)
            ),
            renew,
        ));
    } else if now < not_before {
        out.push(finding(
            Level::Error,
            CHECK,
            format!(
                "certificate {serial} is valid only from {}",
                beijing_rfc3339(not_before)
            ),
            "check this machine's clock",
        ));
    } else if not_after - now < EXPIRY_WARNING_DAYS * 86_400 {
        out.push(finding(
            Level::Warning,
            CHECK,
            format!(
                "certificate {serial} expires on {}",
                beijing_rfc3339(not_after)
            ),
            renew,
        ));
    }
    if cert.common_name.as_deref() != Some(cfg.mchid.as_str()) {
        out.push(finding(
            Level::Error,
            CHECK,
            format!(
                "certificate {serial} is issued to CN {:?}, not to mchid {}: WeChat refuses it (证书与商户号不匹配)",
                cert.common_name.as_deref().unwrap_or(""),
                cfg.mchid
            ),
            format!("use the API certificate of merchant {} (its CN is the mchid), or correct mchid", cfg.mchid),
        ));
    }
    if out.len() == before {
        out.push(ok(
            CHECK,
            format!(
                "certificate {serial} of {}, with its key, valid until {}",
                cfg.mchid,
                beijing_rfc3339(not_after)
            ),
        ));
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))
}
