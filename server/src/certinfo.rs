//! What the kit needs to know about an X.509 certificate besides its key: serial, validity and
//! its public key as PEM. Used where certificates are handed out (the simulator's
//! `/v3/certificates`), downloaded (the backend's platform-certificate refresh) and checked
//! (`wxpay doctor`). Parsing only; signatures are checked with `wxpay-sign`.

use base64::Engine;
use x509_parser::pem::parse_x509_pem;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The facts of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// Upper-case hex without separators or leading `00`, the way WeChat writes serials.
    pub serial: String,
    /// Validity, unix seconds.
    pub not_before: i64,
    pub not_after: i64,
    /// The subject public key as a `-----BEGIN PUBLIC KEY-----` PEM (SPKI).
    pub public_key_pem: String,
    pub subject: String,
}

impl CertInfo {
    /// Reads the first `-----BEGIN CERTIFICATE-----` of `pem`.
    pub fn from_pem(pem: &str) -> Result<CertInfo, String> {
        let (_, block) =
            parse_x509_pem(pem.as_bytes()).map_err(|e| format!("not a PEM certificate: {e}"))?;
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "expected BEGIN CERTIFICATE, found BEGIN {}",
                block.label
            ));
        }
        let (_, cert) = X509Certificate::from_der(&block.contents)
            .map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let serial: String = cert
            .raw_serial()
            .iter()
            .skip_while(|&&b| b == 0)
            .map(|b| format!("{b:02X}"))
            .collect();
        let validity = cert.validity();
        Ok(CertInfo {
            serial,
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            public_key_pem: pem_block("PUBLIC KEY", cert.public_key().raw),
            subject: cert.subject().to_string(),
        })
    }

    /// Whether `now` is inside the validity period.
    pub fn valid_at(&self, now: i64) -> bool {
        (self.not_before..=self.not_after).contains(&now)
    }
}

/// `-----BEGIN label-----`, base64 in 64-column lines, `-----END label-----`.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
