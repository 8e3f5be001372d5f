//! RSA keys: the merchant's private key, WeChat's public keys, and the key set that picks one
//! by `Wechatpay-Serial`.
//!
//! Loading is where integrations fail first (PKCS#1 instead of PKCS#8, a certificate where a
//! key was expected, a truncated paste), so each failure has its own message. Keys never appear
//! in `Debug` output.

use std::collections::HashMap;
use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _, RsaKeyPair};

use crate::der::{self, tag, Reader};
use crate::encoding::hex_upper;
use crate::{pem, Error};

/// The merchant's RSA private key (`apiclient_key.pem`, PKCS#8), used for v3 request signing
/// and JSAPI `paySign`. Also usable as a WeChat *platform* key by simulators and tests.
pub struct MerchantKey {
    pair: RsaKeyPair,
    /// Kept for RSA-OAEP decryption, which needs the CRT components ring does not expose.
    pkcs8: Vec<u8>,
}

impl MerchantKey {
    /// Load a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). A PKCS#1 PEM gets
    /// [`Error::Pkcs1PrivateKey`], which says how to convert it.
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<Self, Error> {
        let block = pem::decode_first("merchant private key", pem_text)?;
        match block.label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_der(&block.der),
            "RSA PRIVATE KEY" => Err(Error::Pkcs1PrivateKey),
            "ENCRYPTED PRIVATE KEY" => Err(Error::Pem {
                what: "merchant private key",
                reason: "the key is password-protected; decrypt it with \
                         openssl pkcs8 -in key.pem -out apiclient_key.pem"
                    .into(),
            }),
            other => Err(Error::Pem {
                what: "merchant private key",
                reason: format!("expected BEGIN PRIVATE KEY, found BEGIN {other}"),
            }),
        }
    }

    /// Load PKCS#8 DER bytes.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| Error::InvalidKey {
            what: "merchant private key",
            reason: format!("{e} (expected an RSA key of 2048 to 4096 bits in PKCS#8)"),
        })?;
        Ok(MerchantKey {
            pair,
            pkcs8: der.to_vec(),
        })
    }

    /// The matching public key (what WeChat, or a simulator, verifies with).
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            rsa_der: self.pair.public_key().as_ref().to_vec(),
            serial: None,
            modulus_bits: self.pair.public().modulus_len() * 8,
        }
    }

    /// SHA256withRSA (PKCS#1 v1.5) over `message`. Deterministic for a given key and message.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        // The RNG is only used by ring for blinding; the signature itself is deterministic.
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| Error::InvalidKey {
                what: "merchant private key",
                reason: "RSA signing failed (operating system RNG unavailable?)".into(),
            })?;
        Ok(sig)
    }

    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
}

impl AsRef<MerchantKey> for MerchantKey {
    fn as_ref(&self) -> &MerchantKey {
        self
    }
}

impl fmt::Debug for MerchantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MerchantKey(RSA-{}, private)",
            self.pair.public().modulus_len() * 8
        )
    }
}

/// An RSA public key: a WeChat Pay platform certificate, a WeChat Pay public key
/// (`PUB_KEY_ID_…`), or any SPKI / PKCS#1 public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// PKCS#1 `RSAPublicKey` DER, the form ring verifies with.
    rsa_der: Vec<u8>,
    serial: Option<String>,
    modulus_bits: usize,
}

impl PublicKey {
    /// Load `-----BEGIN CERTIFICATE-----` (X.509), `-----BEGIN PUBLIC KEY-----` (SPKI, the form
    /// of WeChat Pay public keys) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1).
    pub fn from_pem(pem_text: &str) -> Result<Self, Error> {
        const WHAT: &str = "public key or certificate";
        let block = pem::decode_first(WHAT, pem_text)?;
        let bad = |reason: &str| Error::InvalidKey {
            what: WHAT,
            reason: reason.to_string(),
        };
        match block.label.as_str() {
            "CERTIFICATE" => {
                let parts = der::certificate_parts(&block.der).map_err(bad)?;
                let rsa = der::spki_to_rsa_public_key(parts.spki).map_err(bad)?;
                let mut key = Self::from_rsa_der(rsa)?;
                key.serial = Some(hex_upper(parts.serial));
                Ok(key)
            }
            "PUBLIC KEY" => {
                Self::from_rsa_der(der::spki_to_rsa_public_key(&block.der).map_err(bad)?)
            }
            "RSA PUBLIC KEY" => Self::from_rsa_der(&block.der),
            "PRIVATE KEY" | "RSA PRIVATE KEY" => Err(bad(
                "this is a private key; pass the platform certificate or WeChat Pay public key",
            )),
            other => Err(bad(&format!(
                "expected BEGIN CERTIFICATE or BEGIN PUBLIC KEY, found BEGIN {other}"
            ))),
        }
    }

    /// From PKCS#1 `RSAPublicKey` DER. Checks the structure and a 2048–8192-bit modulus now,
    /// so a bad key fails at load time rather than as a mysterious bad signature later.
    pub fn from_rsa_der(rsa_der: &[u8]) -> Result<Self, Error> {
        let (n, _e) = rsa_components(rsa_der)?;
        let modulus_bits = n.len() * 8 - n[0].leading_zeros() as usize;
        if !(2048..=8192).contains(&modulus_bits) {
            return Err(Error::InvalidKey {
                what: "public key",
                reason: format!("RSA modulus is {modulus_bits} bits; 2048 to 8192 are accepted"),
            });
        }
        Ok(PublicKey {
            rsa_der: rsa_der.to_vec(),
            serial: None,
            modulus_bits,
        })
    }

    /// For a certificate: its serial number as uppercase hex, the form WeChat sends in
    /// `Wechatpay-Serial`. `None` for bare public keys (their id is `PUB_KEY_ID_…`, given
    /// separately by the merchant platform).
    pub fn certificate_serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// Modulus size in bits.
    pub fn modulus_bits(&self) -> usize {
        self.modulus_bits
    }

    /// Check a SHA256withRSA (PKCS#1 v1.5) signature.
    pub fn verify_sha256(&self, message: &[u8], sig: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.rsa_der)
            .verify(message, sig)
            .is_ok()
    }

    /// (modulus, public exponent), big-endian without sign bytes.
    pub(crate) fn components(&self) -> (&[u8], &[u8]) {
        // Validated in from_rsa_der, so this cannot fail.
        rsa_components(&self.rsa_der).unwrap_or((&[], &[]))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey(RSA-{}, serial {:?})",
            self.modulus_bits, self.serial
        )
    }
}

/// Split PKCS#1 `RSAPublicKey` DER into (n, e).
fn rsa_components(rsa_der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let bad = |reason: &str| Error::InvalidKey {
        what: "RSA public key",
        reason: reason.into(),
    };
    let mut outer = Reader::new(rsa_der);
    let mut seq = Reader::new(outer.read(tag::SEQUENCE).map_err(bad)?);
    outer.finish().map_err(bad)?;
    let n = seq.read_unsigned().map_err(bad)?;
    let e = seq.read_unsigned().map_err(bad)?;
    seq.finish().map_err(bad)?;
    if n[0] == 0 || e == [0] {
        return Err(bad("zero modulus or exponent"));
    }
    Ok((n, e))
}

/// WeChat's public keys by serial: platform certificates (hex serial) and WeChat Pay public
/// keys (`PUB_KEY_ID_…`) side by side, as during a migration from one to the other.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, PublicKey>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) the key for `serial`.
    pub fn insert(&mut self, serial: impl Into<String>, key: PublicKey) {
        self.keys.insert(serial.into(), key);
    }

    /// The key for `serial`, if loaded.
    pub fn get(&self, serial: &str) -> Option<&PublicKey> {
        self.keys.get(serial)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The loaded serials, in no particular order.
    pub fn serials(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }
}

/// Everything v3 request signing needs: merchant id, the serial of the merchant's API
/// certificate, and its private key.
pub struct MerchantSigner {
    /// Merchant id (`mchid`).
    pub mchid: String,
    /// Serial number of the merchant API certificate (`serial_no`).
    pub serial_no: String,
    key: MerchantKey,
}

impl MerchantSigner {
    /// Bundle the three.
    pub fn new(mchid: impl Into<String>, serial_no: impl Into<String>, key: MerchantKey) -> Self {
        MerchantSigner {
            mchid: mchid.into(),
            serial_no: serial_no.into(),
            key,
        }
    }

    /// The private key.
    pub fn key(&self) -> &MerchantKey {
        &self.key
    }
}

impl AsRef<MerchantKey> for MerchantSigner {
    fn as_ref(&self) -> &MerchantKey {
        &self.key
    }
}

impl fmt::Debug for MerchantSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantSigner")
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("key", &self.key)
            .finish()
    }
}
