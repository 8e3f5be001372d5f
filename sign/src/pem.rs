//! PEM armour: `-----BEGIN LABEL-----`, base64, `-----END LABEL-----`.
//!
//! Hand-rolled because it is twenty lines and the errors can then say exactly which file
//! looked wrong and how (a key pasted without its header is the usual mistake).

use crate::encoding::b64_decode;
use crate::Error;

/// One decoded PEM block.
pub(crate) struct Block {
    pub label: String,
    pub der: Vec<u8>,
}

/// Decode the first PEM block in `text`. `what` names the input in errors.
pub(crate) fn decode_first(what: &'static str, text: &str) -> Result<Block, Error> {
    let fail = |reason: String| Error::Pem { what, reason };
    let begin = text.find("-----BEGIN ").ok_or_else(|| {
        fail(
            "no \"-----BEGIN ...-----\" line; pass the whole PEM file, header lines included"
                .into(),
        )
    })?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin
        .find("-----")
        .ok_or_else(|| fail("the BEGIN line is not closed with -----".into()))?;
    let label = after_begin[..label_end].trim().to_string();
    let body_and_rest = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_rest.find(&end_marker).ok_or_else(|| {
        fail(format!(
            "no matching \"{end_marker}\" line; is the file truncated?"
        ))
    })?;
    let body = &body_and_rest[..end];
    if body.contains(':') {
        return Err(fail(
            "the PEM has headers (an encrypted key?); decrypt it first, e.g. \
             openssl pkey -in key.pem -out plain.pem"
                .into(),
        ));
    }
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = b64_decode(what, &b64)?;
    if der.is_empty() {
        return Err(fail("the PEM block is empty".into()));
    }
    Ok(Block { label, der })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_label_and_body() {
        let b = decode_first(
            "test",
            "junk\n-----BEGIN THING-----\nAAEC\nAw==\n-----END THING-----\n",
        )
        .unwrap();
        assert_eq!(b.label, "THING");
        assert_eq!(b.der, vec![0, 1, 2, 3]);
    }

    #[test]
    fn rejects_missing_header_truncation_and_bad_base64() {
        assert!(matches!(decode_first("k", "AAEC"), Err(Error::Pem { .. })));
        assert!(matches!(
            decode_first("k", "-----BEGIN X-----\nAAEC\n"),
            Err(Error::Pem { .. })
        ));
        assert!(matches!(
            decode_first("k", "-----BEGIN X-----\n!!!!\n-----END X-----"),
            Err(Error::Base64 { .. })
        ));
        assert!(matches!(
            decode_first(
                "k",
                "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAAEC\n-----END X-----"
            ),
            Err(Error::Pem { .. })
        ));
    }
}
