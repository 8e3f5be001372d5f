//! PEM armour, decoded by `rustls-pki-types` (the parser rustls uses); this module turns its
//! errors into ours, so they say which file looked wrong and how to fix it, and writes the
//! armour back ([`encode`]) where a key is handed out as text.
//!
//! pki-types skips sections it has no type for. Two of those matter here and are recognised
//! by their `BEGIN` line: `ENCRYPTED PRIVATE KEY` (a password-protected merchant key, which
//! gets the command that decrypts it) and `RSA PUBLIC KEY` (PKCS#1, which has the same armour
//! as `PUBLIC KEY` and is decoded as one).

use rustls_pki_types::pem::{self, SectionKind};

use crate::Error;

/// What the first PEM block of a text holds.
pub(crate) enum Block {
    /// A section pki-types knows (certificate, SPKI, PKCS#8, PKCS#1 private key, …).
    Known(SectionKind, Vec<u8>),
    /// `-----BEGIN RSA PUBLIC KEY-----`: PKCS#1 `RSAPublicKey` DER.
    RsaPublicKey(Vec<u8>),
    /// A section with another label; nothing was decoded.
    Other(String),
}

const PKCS1_PUBLIC: &str = "RSA PUBLIC KEY";

/// Decode the first PEM block in `text`. `what` names the input in errors.
pub(crate) fn decode_first(what: &'static str, text: &str) -> Result<Block, Error> {
    let fail = |reason: String| Error::Pem { what, reason };
    let Some(label) = first_label(text) else {
        return Err(fail(
            "no \"-----BEGIN ...-----\" line; pass the whole PEM file, header lines included"
                .into(),
        ));
    };
    if text.contains("Proc-Type:") {
        return Err(fail(
            "the PEM has headers (an encrypted key?); decrypt it first, e.g. \
             openssl pkey -in key.pem -out plain.pem"
                .into(),
        ));
    }
    let relabelled;
    let text = if label == PKCS1_PUBLIC {
        relabelled = text.replace(PKCS1_PUBLIC, "PUBLIC KEY");
        &relabelled
    } else {
        text
    };
    // pki-types returns the first section it has a type for, skipping others.
    let first = pem::from_buf(&mut text.as_bytes()).map_err(|e| section_error(what, e))?;
    match first {
        Some((_, der)) if der.is_empty() => Err(fail("the PEM block is empty".into())),
        Some((SectionKind::PublicKey, der)) if label == PKCS1_PUBLIC => {
            Ok(Block::RsaPublicKey(der))
        }
        Some((kind, der)) => Ok(Block::Known(kind, der)),
        None => Ok(Block::Other(label.to_string())),
    }
}

fn section_error(what: &'static str, e: pem::Error) -> Error {
    match e {
        pem::Error::Base64Decode(reason) => Error::Base64 { what, reason },
        pem::Error::MissingSectionEnd { end_marker } => Error::Pem {
            what,
            reason: format!(
                "no matching \"{}\" line; is the file truncated?",
                String::from_utf8_lossy(&end_marker)
            ),
        },
        pem::Error::IllegalSectionStart { line } => Error::Pem {
            what,
            reason: format!("malformed BEGIN line {:?}", String::from_utf8_lossy(&line)),
        },
        other => Error::Pem {
            what,
            reason: other.to_string(),
        },
    }
}

/// The label of the first `-----BEGIN LABEL-----` line: for the messages above, and to spot the
/// two labels pki-types skips. Decoding is pki-types' job.
fn first_label(text: &str) -> Option<&str> {
    let after = &text[text.find("-----BEGIN ")? + "-----BEGIN ".len()..];
    Some(after[..after.find("-----")?].trim())
}

/// `-----BEGIN label-----`, the DER in base64 lines of 64 columns, `-----END label-----`.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 is ASCII: every chunk is text.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(text: &str) -> (SectionKind, Vec<u8>) {
        match decode_first("test", text) {
            Ok(Block::Known(kind, der)) => (kind, der),
            _ => panic!("expected a known block"),
        }
    }

    #[test]
    fn decodes_kind_and_body() {
        let (kind, der) =
            known("junk\n-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\n");
        assert_eq!((kind, der), (SectionKind::PublicKey, vec![0, 1, 2, 3]));
    }

    #[test]
    fn names_labels_pki_types_skips() {
        let pkcs1 = "-----BEGIN RSA PUBLIC KEY-----\nAAEC\n-----END RSA PUBLIC KEY-----\n";
        assert!(
            matches!(decode_first("k", pkcs1), Ok(Block::RsaPublicKey(der)) if der == [0, 1, 2])
        );
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAEC\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(
            matches!(decode_first("k", enc), Ok(Block::Other(l)) if l == "ENCRYPTED PRIVATE KEY")
        );
    }

    #[test]
    fn rejects_missing_header_truncation_headers_empty_and_bad_base64() {
        assert!(matches!(decode_first("k", "AAEC"), Err(Error::Pem { .. })));
        let truncated = decode_first("k", "-----BEGIN PUBLIC KEY-----\nAAEC\n");
        assert!(
            matches!(truncated, Err(Error::Pem { reason, .. }) if reason.contains("truncated"))
        );
        assert!(matches!(
            decode_first(
                "k",
                "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----"
            ),
            Err(Error::Base64 { .. })
        ));
        assert!(matches!(
            decode_first("k", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----"),
            Err(Error::Pem { .. })
        ));
        assert!(matches!(
            decode_first(
                "k",
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAEC\n-----END RSA PRIVATE KEY-----"
            ),
            Err(Error::Pem { reason, .. }) if reason.contains("decrypt")
        ));
    }
}
