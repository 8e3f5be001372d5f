//! The v2 refund notification's `req_info`: AES-256-ECB with PKCS#7 padding, key = lowercase
//! hex MD5 of the API key (32 ASCII bytes = 256 bits).
//!
//! ECB is WeChat's choice, not ours, and it is why this module uses the RustCrypto `aes` block
//! cipher: ring deliberately offers only authenticated modes. ECB has no integrity, so the
//! decrypted XML is only as trustworthy as the transport; callers should still check the refund
//! against their own records (or query WeChat) before acting on it.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use md5::{Digest as _, Md5};

use crate::encoding::{b64_decode, b64_encode, hex_lower};
use crate::Error;

const BLOCK: usize = 16;

fn cipher(api_key: &str) -> Aes256 {
    let key = hex_lower(&Md5::digest(api_key.as_bytes()));
    Aes256::new(GenericArray::from_slice(key.as_bytes()))
}

/// Decrypt `req_info` (base64) with the merchant's v2 API key; returns the `<root>…</root>` XML,
/// which [`super::parse_xml`] reads.
pub fn decrypt_refund_req_info(api_key: &str, req_info_b64: &str) -> Result<String, Error> {
    const WHAT: &str = "refund req_info";
    let mut data = b64_decode(WHAT, req_info_b64)?;
    if data.is_empty() || data.len() % BLOCK != 0 {
        return Err(Error::Decrypt { what: WHAT });
    }
    let aes = cipher(api_key);
    for block in data.chunks_exact_mut(BLOCK) {
        aes.decrypt_block(GenericArray::from_mut_slice(block));
    }
    // PKCS#7: the last byte says how many padding bytes (1..=16) there are, all equal to it.
    let pad = usize::from(data[data.len() - 1]);
    if pad == 0
        || pad > BLOCK
        || data[data.len() - pad..]
            .iter()
            .any(|&b| usize::from(b) != pad)
    {
        return Err(Error::Decrypt { what: WHAT });
    }
    data.truncate(data.len() - pad);
    String::from_utf8(data).map_err(|_| Error::NotUtf8 { what: WHAT })
}

/// The inverse, for simulators and tests.
pub fn encrypt_refund_req_info(api_key: &str, plaintext: &str) -> String {
    let mut data = plaintext.as_bytes().to_vec();
    let pad = BLOCK - data.len() % BLOCK;
    data.resize(data.len() + pad, pad as u8);
    let aes = cipher(api_key);
    for block in data.chunks_exact_mut(BLOCK) {
        aes.encrypt_block(GenericArray::from_mut_slice(block));
    }
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
