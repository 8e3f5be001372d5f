//! X.509 platform certificates, read with `x509-parser`: the serial WeChat names in
//! `Wechatpay-Serial`, the validity window, and the RSA public key. Nothing here decides
//! trust; a certificate is trusted for where it came from (see the crate docs).

use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::encoding::hex_upper;
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

/// What a certificate gives a key set.
pub(crate) struct CertificateParts {
    /// Uppercase hex, as WeChat prints it (`openssl x509 -serial` prints the same digits).
    pub serial: String,
    pub validity: CertificateValidity,
    /// The whole `SubjectPublicKeyInfo`, checked to hold an RSA key.
    pub spki: Vec<u8>,
}

const WHAT: &str = "certificate";

/// Read a DER certificate. Trailing bytes are an error: a certificate is one element.
pub(crate) fn read(der: &[u8]) -> Result<CertificateParts, Error> {
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
    check_rsa(cert.public_key())?;
    Ok(CertificateParts {
        serial: hex_upper(serial),
        validity: CertificateValidity {
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
        },
        spki: cert.public_key().raw.to_vec(),
    })
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
            assert!(read(&junk).is_err());
            assert!(check_spki(&junk).is_err());
        }
    }
}
