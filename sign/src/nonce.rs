//! Random nonces (`nonce_str`, `Wechatpay-Nonce`, v3 request nonces).
//!
//! Everything else in the crate takes the nonce as a parameter so tests are exact; this is the
//! one place randomness comes from, and it is the operating system's (via `aws_lc_rs::rand`).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::Error;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Length of the nonces made here: WeChat accepts at most 32 characters.
pub const NONCE_LEN: usize = 32;

/// 32 random alphanumerics from the OS RNG.
///
/// # Panics
/// Only if the operating system's random source fails, which leaves nothing safe to do.
pub fn nonce_str() -> String {
    try_nonce_str().expect("the operating system random number generator failed")
}

/// Like [`nonce_str`], but reports an RNG failure instead of panicking.
pub fn try_nonce_str() -> Result<String, Error> {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(NONCE_LEN);
    let mut buf = [0u8; 64];
    while out.len() < NONCE_LEN {
        rng.fill(&mut buf).map_err(|_| Error::Random)?;
        // Rejection sampling: 248 = 4 * 62, so bytes below it map uniformly onto the alphabet.
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == NONCE_LEN {
                break;
            }
            out.push(ALPHABET[usize::from(b % 62)] as char);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_32_alphanumerics_and_differ() {
        let a = nonce_str();
        let b = nonce_str();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn every_alphabet_class_appears_over_many_nonces() {
        let joined: String = (0..50).map(|_| nonce_str()).collect();
        assert!(joined.bytes().any(|c| c.is_ascii_digit()));
        assert!(joined.bytes().any(|c| c.is_ascii_uppercase()));
        assert!(joined.bytes().any(|c| c.is_ascii_lowercase()));
    }
}
