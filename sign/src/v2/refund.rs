//! The v2 refund notification's `req_info`: AES-256-ECB with PKCS#7 padding, key = lowercase
//! hex MD5 of the API key (32 ASCII bytes = 256 bits).
//!
//! ECB is WeChat's choice, not ours; AWS-LC offers it (`PaddedBlock…Key::ecb_pkcs7`) for
//! exactly such compatibility. ECB has no integrity, so the decrypted XML is only as
//! trustworthy as the transport; callers should still check the refund against their own
//! records (or query WeChat) before acting on it.

use aws_lc_rs::cipher::{
    DecryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey, UnboundCipherKey,
    AES_256,
};
use md5::{Digest as _, Md5};

use crate::encoding::{b64_decode, b64_encode, hex_lower};
use crate::Error;

const BLOCK: usize = 16;

/// The AES-256 key: the 32 ASCII bytes of the lowercase hex MD5 of the API key.
fn cipher_key(api_key: &str) -> UnboundCipherKey {
    let key = hex_lower(&Md5::digest(api_key.as_bytes()));
    UnboundCipherKey::new(&AES_256, key.as_bytes()).expect("32 hex digits are an AES-256 key")
}

/// Decrypt `req_info` (base64) with the merchant's v2 API key; returns the `<root>…</root>` XML,
/// which [`super::parse_xml`] reads.
pub fn decrypt_refund_req_info(api_key: &str, req_info_b64: &str) -> Result<String, Error> {
    const WHAT: &str = "refund req_info";
    let mut data = b64_decode(WHAT, req_info_b64)?;
    if data.is_empty() || data.len() % BLOCK != 0 {
        return Err(Error::Decrypt { what: WHAT });
    }
    let key = PaddedBlockDecryptingKey::ecb_pkcs7(cipher_key(api_key))
        .expect("AWS-LC offers AES-256-ECB");
    // A wrong key shows up here, as PKCS#7 padding that does not check out.
    let plain = key
        .decrypt(&mut data, DecryptionContext::None)
        .map_err(|_| Error::Decrypt { what: WHAT })?;
    String::from_utf8(plain.to_vec()).map_err(|_| Error::NotUtf8 { what: WHAT })
}

/// The inverse, for simulators and tests.
pub fn encrypt_refund_req_info(api_key: &str, plaintext: &str) -> String {
    let mut data = plaintext.as_bytes().to_vec();
    let key = PaddedBlockEncryptingKey::ecb_pkcs7(cipher_key(api_key))
        .expect("AWS-LC offers AES-256-ECB");
    key.encrypt(&mut data)
        .expect("ECB with PKCS#7 padding encrypts any length");
    b64_encode(&data)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    #[test]
    fn round_trip_at_every_padding_length() {
        for len in 0..40 {
            let text = format!("<root>{}", "a".repeat(len));
            let enc = encrypt_refund_req_info(KEY, &text);
            assert_eq!(decrypt_refund_req_info(KEY, &enc).unwrap(), text);
        }
    }

    #[test]
    fn wrong_key_bad_length_and_bad_base64_are_errors() {
        let enc =
            encrypt_refund_req_info(KEY, "<root><refund_status>SUCCESS</refund_status></root>");
        assert!(decrypt_refund_req_info("another key", &enc).is_err());
        assert_eq!(
            decrypt_refund_req_info(KEY, "AAAA"),
            Err(Error::Decrypt {
                what: "refund req_info"
            })
        );
        assert_eq!(
            decrypt_refund_req_info(KEY, ""),
            Err(Error::Decrypt {
                what: "refund req_info"
            })
        );
        assert!(matches!(
            decrypt_refund_req_info(KEY, "%%%"),
            Err(Error::Base64 { .. })
        ));
    }
}
