//! RSA-OAEP for v3 sensitive fields (names, ID numbers, phone numbers in requests and
//! responses): encrypt with WeChat's platform public key, decrypt with the merchant key.
//! WeChat's parameters: OAEP with SHA-1 and MGF1-SHA-1, empty label (RFC 8017 §7.1).
//!
//! Both directions are AWS-LC's (`aws_lc_rs::rsa`), on keys parsed once at load. Decryption
//! reports every failure as the same [`Error::Decrypt`], and AWS-LC checks the padding in
//! constant time, so there is no padding oracle (Manger's attack).

use aws_lc_rs::rsa::{OaepPublicEncryptingKey, OAEP_SHA1_MGF1SHA1};

use crate::encoding::{b64_decode, b64_encode};
use crate::keys::{MerchantKey, PublicKey};
use crate::Error;

/// Encrypt `plaintext` for the holder of `key`'s private half; returns base64. At most
/// `modulus bytes − 42` bytes (214 for RSA-2048).
pub fn oaep_encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<String, Error> {
    // A cheap handle: the parsed key is reference-counted inside AWS-LC.
    let key = OaepPublicEncryptingKey::new(key.encrypting_key().clone()).map_err(|_| {
        Error::InvalidKey {
            what: "RSA-OAEP public key",
            reason: "AWS-LC refused the key for OAEP".into(),
        }
    })?;
    let max = key.max_plaintext_size(&OAEP_SHA1_MGF1SHA1);
    if plaintext.len() > max {
        return Err(Error::TooLong {
            what: "RSA-OAEP plaintext",
            got: plaintext.len(),
            max,
        });
    }
    let mut out = vec![0u8; key.ciphertext_size()];
    let ct = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut out, None)
        .map_err(|_| Error::InvalidKey {
            what: "RSA-OAEP public key",
            reason: "RSA-OAEP encryption failed inside AWS-LC".into(),
        })?;
    Ok(b64_encode(ct))
}

/// Decrypt a base64 RSA-OAEP ciphertext with the merchant key.
pub fn oaep_decrypt(key: &MerchantKey, ciphertext_b64: &str) -> Result<Vec<u8>, Error> {
    let c = b64_decode("RSA-OAEP ciphertext", ciphertext_b64)?;
    let key = key.oaep_key();
    let mut out = vec![0u8; key.min_output_size()];
    let plain = key
        .decrypt(&OAEP_SHA1_MGF1SHA1, &c, &mut out, None)
        .map_err(|_| Error::Decrypt {
            what: "RSA-OAEP ciphertext",
        })?;
    Ok(plain.to_vec())
}
