//! Raw RSA (m^e mod n, c^d mod n) for RSA-OAEP, the one RSA operation ring does not offer.
//!
//! Built on crypto-bigint rather than the `rsa` crate (RUSTSEC-2023-0071, a timing side
//! channel in its private-key operation). The private operation here:
//! - exponentiates with crypto-bigint's constant-time Montgomery ladder over the full precision
//!   of `d` (its bit length is not leaked);
//! - is blinded: c' = c·r^e, m = (c')^d·r⁻¹ with a fresh random r per call, so the exponentiated
//!   value is unrelated to the attacker's ciphertext;
//! - does not use CRT: slower (see BENCHMARKS.md) but with no fault-attack exposure and a
//!   fraction of the code. Decrypting sensitive fields is rare; signing (ring) is the hot path.

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams};
use crypto_bigint::{BoxedUint, NonZero, Odd};
use ring::rand::{SecureRandom, SystemRandom};

use crate::der::{tag, Reader};
use crate::Error;

fn bad_key(reason: &str) -> Error {
    Error::InvalidKey {
        what: "RSA key for OAEP",
        reason: reason.into(),
    }
}

/// Precision for a modulus of `len` bytes: whole 64-bit limbs.
fn precision(len: usize) -> u32 {
    u32::try_from(len.div_ceil(8) * 64).unwrap_or(u32::MAX)
}

fn to_uint(bytes: &[u8], bits: u32) -> Result<BoxedUint, Error> {
    BoxedUint::from_be_slice(bytes, bits).map_err(|_| bad_key("integer larger than the modulus"))
}

/// `value` as exactly `len` big-endian bytes (it is known to be < n, so it fits).
fn to_bytes(value: &BoxedUint, len: usize) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    bytes[bytes.len().saturating_sub(len)..].to_vec()
}

struct Modulus {
    n: BoxedUint,
    params: BoxedMontyParams,
    bits: u32,
    len: usize,
}

impl Modulus {
    fn new(n_bytes: &[u8]) -> Result<Self, Error> {
        let bits = precision(n_bytes.len());
        let n = to_uint(n_bytes, bits)?;
        let odd: Odd<BoxedUint> =
            Option::from(n.to_odd()).ok_or_else(|| bad_key("RSA modulus must be odd"))?;
        // The modulus is public, so the faster variable-time setup leaks nothing.
        Ok(Modulus {
            n,
            params: BoxedMontyParams::new_vartime(odd),
            bits,
            len: n_bytes.len(),
        })
    }

    /// Parse `input` (exactly `len` bytes) as an integer below n.
    fn element(&self, input: &[u8]) -> Result<BoxedMontyForm, Error> {
        let fail = Error::Decrypt {
            what: "RSA-OAEP ciphertext",
        };
        if input.len() != self.len {
            return Err(fail);
        }
        let x = to_uint(input, self.bits).map_err(|_| fail.clone())?;
        if x >= self.n {
            return Err(fail);
        }
        Ok(BoxedMontyForm::new(x, self.params.clone()))
    }
}

/// m^e mod n; `m` must be exactly as long as n. Public values only, so variable time is fine.
pub(crate) fn public_op(n: &[u8], e: &[u8], m: &[u8]) -> Result<Vec<u8>, Error> {
    let modulus = Modulus::new(n)?;
    let e = to_uint(e, modulus.bits)?;
    let c = modulus.element(m)?.pow_bounded_exp(&e, e.bits());
    Ok(to_bytes(&c.retrieve(), modulus.len))
}

/// The fields of a PKCS#1 `RSAPrivateKey` that the non-CRT private operation needs.
struct PrivateParts<'a> {
    n: &'a [u8],
    e: &'a [u8],
    d: &'a [u8],
}

/// PKCS#8 `PrivateKeyInfo` → (n, e, d) of its RSA key.
fn private_parts(pkcs8: &[u8]) -> Result<PrivateParts<'_>, Error> {
    let bad = |r: &str| bad_key(r);
    let mut outer = Reader::new(pkcs8);
    let mut info = Reader::new(outer.read(tag::SEQUENCE).map_err(bad)?);
    info.read(tag::INTEGER).map_err(bad)?; // version
    info.read(tag::SEQUENCE).map_err(bad)?; // algorithm (ring already checked it is RSA)
    let mut key = Reader::new(info.read(tag::OCTET_STRING).map_err(bad)?);
    let mut rsa = Reader::new(key.read(tag::SEQUENCE).map_err(bad)?);
    rsa.read(tag::INTEGER).map_err(bad)?; // version
    let n = rsa.read_unsigned().map_err(bad)?;
    let e = rsa.read_unsigned().map_err(bad)?;
    let d = rsa.read_unsigned().map_err(bad)?;
    Ok(PrivateParts { n, e, d })
}

/// c^d mod n, blinded; `c` must be exactly as long as n.
pub(crate) fn private_op(pkcs8: &[u8], c: &[u8]) -> Result<Vec<u8>, Error> {
    let parts = private_parts(pkcs8)?;
    let modulus = Modulus::new(parts.n)?;
    let c = modulus.element(c)?;
    let e = to_uint(parts.e, modulus.bits)?;
    let d = to_uint(parts.d, modulus.bits)?;
    let (r, r_inv) = blinding_factor(&modulus)?;
    let r = BoxedMontyForm::new(r, modulus.params.clone());
    let r_inv = BoxedMontyForm::new(r_inv, modulus.params.clone());
    let blinded = &c * &r.pow_bounded_exp(&e, e.bits());
    let m = &blinded.pow(&d) * &r_inv;
    Ok(to_bytes(&m.retrieve(), modulus.len))
}

/// A random r in [1, n) that is invertible mod n, and its inverse.
fn blinding_factor(modulus: &Modulus) -> Result<(BoxedUint, BoxedUint), Error> {
    let rng = SystemRandom::new();
    let n_nonzero: NonZero<BoxedUint> =
        Option::from(NonZero::new(modulus.n.clone())).ok_or_else(|| bad_key("zero modulus"))?;
    let odd: Odd<BoxedUint> =
        Option::from(modulus.n.to_odd()).ok_or_else(|| bad_key("RSA modulus must be odd"))?;
    // A non-invertible r would reveal a factor of n; with real keys it never happens, but loop
    // rather than assume.
    for _ in 0..8 {
        let mut bytes = vec![0u8; modulus.len];
        rng.fill(&mut bytes)
            .map_err(|_| bad_key("operating system RNG failed"))?;
        let r = to_uint(&bytes, modulus.bits)?.rem(&n_nonzero);
        if let Some(inv) = Option::<BoxedUint>::from(r.inv_odd_mod(&odd)) {
            return Ok((r, inv));
        }
    }
    Err(bad_key(
        "could not find a blinding factor; is the modulus valid?",
    ))
}
