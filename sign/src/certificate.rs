//! X.509 certificates, read with `x509-parser`: the serial WeChat names in `Wechatpay-Serial`,
//! the validity window, the subject (a merchant API certificate's CN is the mchid) and the
//! public key. The one place the workspace reads certificates: platform certificates (loaded
//! here, downloaded by the backend, handed out by the simulator) and the merchant's API client
//! certificate (`wxpay doctor`, the simulator's mutual TLS). Nothing here decides trust; a
//! certificate is trusted for where it came from (see the crate docs).

use rustls_pki_types::pem::SectionKind;
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::encoding::hex_upper;
use crate::pem::{self, Block};
use crate::Error;

/// When a certificate is valid: `notBefore` and `notAfter`, in seconds since the Unix epoch
/// (the unit of every timestamp in this crate). Both ends are inclusive, as in RFC 5280.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateValidity {
    /// `notBefore`: the certificate is not valid before this second.
    pub not_before: i64,
    /// `notAfter`: the certificate is not valid after this second.
    pub not_after: i64,
}

impl CertificateValidity {
    /// Whether `now` (seconds since the epoch) lies within the window.
    pub fn contains(&self, now: i64) -> bool {
        (self.not_before..=self.not_after).contains(&now)
    }
}

/// What the kit reads from a certificate. Read, not verified: neither the chain nor the
/// validity is checked (see [`CertificateValidity::contains`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Uppercase hex without a leading zero byte, as WeChat prints it (`openssl x509 -serial`
    /// prints the same digits).
    pub serial: String,
    pub validity: CertificateValidity,
    /// The subject as text (`C=CN, O=…, CN=1900009191`).
    pub subject: String,
    /// The subject's common name: a merchant API certificate's is the mchid.
    pub common_name: Option<String>,
    /// The whole DER `SubjectPublicKeyInfo` (any algorithm; [`crate::PublicKey`] wants RSA).
    pub spki: Vec<u8>,
}

const WHAT: &str = "certificate";

impl Certificate {
    /// Read a DER certificate. Trailing bytes are an error: a certificate is one element.
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        let bad = |reason: String| Error::InvalidKey { what: WHAT, reason };
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| bad(format!("not an X.509 certificate ({e})")))?;
        if !rest.is_empty() {
            return Err(bad("trailing bytes after the certificate".into()));
        }
        let serial = match cert.raw_serial() {
            // DER INTEGERs carry a zero byte to stay positive; the printed serial has none.
            [0, rest @ ..] if !rest.is_empty() => rest,
            s => s,
        };
        let validity = cert.validity();
        let common_name = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(String::from);
        Ok(Certificate {
            serial: hex_upper(serial),
            validity: CertificateValidity {
                not_before: validity.not_before.timestamp(),
                not_after: validity.not_after.timestamp(),
            },
            subject: cert.subject().to_string(),
            common_name,
            spki: cert.public_key().raw.to_vec(),
        })
    }

    /// Read the first PEM block of `text`, which must be a `-----BEGIN CERTIFICATE-----`.
    pub fn from_pem(text: &str) -> Result<Certificate, Error> {
        match pem::decode_first(WHAT, text)? {
            Block::Known(SectionKind::Certificate, der) => Certificate::from_der(&der),
            _ => Err(Error::Pem {
                what: WHAT,
                reason: "the first PEM block is not a CERTIFICATE; pass the certificate file \
                         (apiclient_cert.pem, a platform certificate)"
                    .into(),
            }),
        }
    }

    /// The public key as a `-----BEGIN PUBLIC KEY-----` PEM (SPKI), the form WeChat Pay public
    /// keys are handed out in.
    pub fn public_key_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki)
    }
}

/// A bare `SubjectPublicKeyInfo` (`BEGIN PUBLIC KEY`): check that it is one, and RSA.
pub(crate) fn check_spki(spki: &[u8]) -> Result<(), Error> {
    let (rest, info) = SubjectPublicKeyInfo::from_der(spki).map_err(|e| Error::InvalidKey {
        what: "public key",
        reason: format!("not a SubjectPublicKeyInfo ({e})"),
    })?;
    if !rest.is_empty() {
        return Err(Error::InvalidKey {
            what: "public key",
            reason: "trailing bytes after the key".into(),
        });
    }
    check_rsa(&info)
}

fn check_rsa(info: &SubjectPublicKeyInfo) -> Result<(), Error> {
    if info.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        return Err(Error::InvalidKey {
            what: "public key",
            reason: format!(
                "the public key is not an RSA key (algorithm {}); WeChat Pay uses RSA-2048",
                info.algorithm.algorithm
            ),
        });
    }
    Ok(())
}

/// Whether `der` parses as a certificate: for the error when one is passed as a private key.
pub(crate) fn is_certificate(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_window_is_inclusive() {
        let v = CertificateValidity {
            not_before: 10,
            not_after: 20,
        };
        assert!(v.contains(10) && v.contains(20) && v.contains(15));
        assert!(!v.contains(9) && !v.contains(21));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for len in 0..40u8 {
            let junk: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ 0x30).collect();
            assert!(Certificate::from_der(&junk).is_err());
            assert!(check_spki(&junk).is_err());
        }
    }
}
