//! RSA-OAEP for v3 sensitive fields (names, ID numbers, phone numbers in requests and
//! responses): encrypt with WeChat's platform public key, decrypt with the merchant key.
//! WeChat's parameters: OAEP with SHA-1 and MGF1-SHA-1, empty label (RFC 8017 §7.1).
//!
//! Decryption reports every failure as the same [`Error::Decrypt`] and checks the padding
//! without data-dependent branches, so it is no padding oracle (Manger's attack).

use ring::digest::{digest, Context, SHA1_FOR_LEGACY_USE_ONLY as SHA1};
use ring::rand::{SecureRandom, SystemRandom};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

use crate::encoding::{b64_decode, b64_encode};
use crate::keys::{MerchantKey, PublicKey};
use crate::rsa_raw;
use crate::Error;

const H_LEN: usize = 20;

/// MGF1 with SHA-1: `len` bytes of SHA1(seed ‖ counter) blocks.
fn mgf1_xor(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in out.chunks_mut(H_LEN).enumerate() {
        let mut ctx = Context::new(&SHA1);
        ctx.update(seed);
        ctx.update(&(counter as u32).to_be_bytes());
        for (o, m) in chunk.iter_mut().zip(ctx.finish().as_ref()) {
            *o ^= m;
        }
    }
}

/// Encrypt `plaintext` for the holder of `key`'s private half; returns base64. At most
/// `modulus bytes − 42` bytes (214 for RSA-2048).
pub fn oaep_encrypt(key: &PublicKey, plaintext: &[u8]) -> Result<String, Error> {
    let (n, e) = key.components();
    let k = n.len();
    // PublicKey only holds 2048..8192-bit keys, so this never fails; checked all the same.
    let max = k.checked_sub(2 * H_LEN + 2).ok_or(Error::InvalidKey {
        what: "RSA-OAEP public key",
        reason: "modulus too small for OAEP".into(),
    })?;
    if plaintext.len() > max {
        return Err(Error::TooLong {
            what: "RSA-OAEP plaintext",
            got: plaintext.len(),
            max,
        });
    }
    let mut em = vec![0u8; k];
    let (seed, db) = em[1..].split_at_mut(H_LEN);
    // DB = lHash ‖ PS (zeros) ‖ 0x01 ‖ M
    db[..H_LEN].copy_from_slice(digest(&SHA1, b"").as_ref());
    let one_at = db.len() - plaintext.len() - 1;
    db[one_at] = 1;
    db[one_at + 1..].copy_from_slice(plaintext);
    SystemRandom::new()
        .fill(seed)
        .map_err(|_| Error::InvalidKey {
            what: "RSA-OAEP",
            reason: "operating system RNG failed".into(),
        })?;
    mgf1_xor(db, seed);
    mgf1_xor(seed, db);
    Ok(b64_encode(&rsa_raw::public_op(n, e, &em)?))
}

/// Decrypt a base64 RSA-OAEP ciphertext with the merchant key.
pub fn oaep_decrypt(key: &MerchantKey, ciphertext_b64: &str) -> Result<Vec<u8>, Error> {
    let fail = Error::Decrypt {
        what: "RSA-OAEP ciphertext",
    };
    let c = b64_decode("RSA-OAEP ciphertext", ciphertext_b64)?;
    let mut em = rsa_raw::private_op(key.pkcs8_der(), &c)?;
    if em.len() < 2 * H_LEN + 2 {
        return Err(fail);
    }
    let y = em[0];
    let (seed, db) = em[1..].split_at_mut(H_LEN);
    mgf1_xor(seed, db);
    mgf1_xor(db, seed);

    let mut good = y.ct_eq(&0) & db[..H_LEN].ct_eq(digest(&SHA1, b"").as_ref());
    // Find the 0x01 after the zero padding without branching on secret bytes.
    let mut looking = Choice::from(1);
    let mut one_index = 0u32;
    let mut bad_padding = Choice::from(0);
    for (i, &b) in db.iter().enumerate().skip(H_LEN) {
        let is_one = b.ct_eq(&1);
        let is_zero = b.ct_eq(&0);
        one_index.conditional_assign(&(i as u32), looking & is_one);
        bad_padding |= looking & !is_one & !is_zero;
        looking &= !is_one;
    }
    good &= !looking & !bad_padding;
    if !bool::from(good) {
        return Err(fail);
    }
    Ok(db[one_index as usize + 1..].to_vec())
}
