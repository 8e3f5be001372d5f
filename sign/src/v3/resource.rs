//! AES-256-GCM, the cipher of v3 notification resources (and certificate downloads): key = the
//! 32-byte APIv3 key, nonce = the 12-character `nonce` string's bytes, AAD = `associated_data`,
//! `ciphertext` = base64 of ciphertext ‖ 16-byte tag.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use crate::encoding::{b64_decode, b64_encode};
use crate::Error;

fn key_and_nonce(apiv3_key: &[u8], nonce: &str) -> Result<(LessSafeKey, Nonce), Error> {
    let unbound = UnboundKey::new(&AES_256_GCM, apiv3_key).map_err(|_| Error::Apiv3KeyLength {
        got: apiv3_key.len(),
    })?;
    let nonce = Nonce::try_assume_unique_for_key(nonce.as_bytes())
        .map_err(|_| Error::NonceLength { got: nonce.len() })?;
    debug_assert_eq!(NONCE_LEN, 12);
    Ok((LessSafeKey::new(unbound), nonce))
}

/// Decrypt a resource. Errors: [`Error::Apiv3KeyLength`], [`Error::NonceLength`],
/// [`Error::Base64`], [`Error::Decrypt`] (wrong key / nonce / AD, or tampering).
pub fn decrypt_resource(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>, Error> {
    let (key, nonce) = key_and_nonce(apiv3_key, nonce)?;
    let mut data = b64_decode("resource ciphertext", ciphertext_b64)?;
    let plain = key
        .open_in_place(nonce, Aad::from(associated_data.as_bytes()), &mut data)
        .map_err(|_| Error::Decrypt {
            what: "notification resource",
        })?;
    let len = plain.len();
    data.truncate(len);
    Ok(data)
}

/// Encrypt a resource (the simulator's side). The nonce must be unique per message for a key.
pub fn encrypt_resource(
    apiv3_key: &[u8],
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Result<String, Error> {
    let (key, nonce) = key_and_nonce(apiv3_key, nonce)?;
    let mut data = plaintext.to_vec();
    key.seal_in_place_append_tag(nonce, Aad::from(associated_data.as_bytes()), &mut data)
        .map_err(|_| Error::TooLong {
            what: "resource plaintext",
            got: plaintext.len(),
            max: usize::try_from((1u64 << 36) - 32).unwrap_or(usize::MAX), // GCM limit
        })?;
    Ok(b64_encode(&data))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789ABCDEF";

    #[test]
    fn round_trip_and_every_rejection() {
        let ct = encrypt_resource(KEY, "abcdefghijkl", "transaction", b"{\"a\":1}").unwrap();
        assert_eq!(
            decrypt_resource(KEY, "abcdefghijkl", "transaction", &ct).unwrap(),
            b"{\"a\":1}"
        );
        assert_eq!(
            decrypt_resource(&KEY[..16], "abcdefghijkl", "", &ct),
            Err(Error::Apiv3KeyLength { got: 16 })
        );
        assert_eq!(
            decrypt_resource(KEY, "short", "", &ct),
            Err(Error::NonceLength { got: 5 })
        );
        let decrypt_err = Err(Error::Decrypt {
            what: "notification resource",
        });
        assert_eq!(
            decrypt_resource(KEY, "abcdefghijkX", "transaction", &ct),
            decrypt_err
        );
        assert_eq!(
            decrypt_resource(KEY, "abcdefghijkl", "refund", &ct),
            decrypt_err
        );
        assert_eq!(
            decrypt_resource(
                b"0123456789abcdef0123456789ABCDEX",
                "abcdefghijkl",
                "transaction",
                &ct
            ),
            decrypt_err
        );
        assert_eq!(
            decrypt_resource(KEY, "abcdefghijkl", "transaction", "AAAA"),
            decrypt_err
        );
        assert!(matches!(
            decrypt_resource(KEY, "abcdefghijkl", "", "@@"),
            Err(Error::Base64 { .. })
        ));
    }
}
