//! RSA keys: the merchant's private key, WeChat's public keys, and the key set that picks one
//! by `Wechatpay-Serial`.
//!
//! Loading is where integrations fail first (PKCS#1 instead of PKCS#8, a certificate where a
//! key was expected, a truncated paste), so each failure has its own message. Keys never appear
//! in `Debug` output.

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, PrivateDecryptingKey, PublicEncryptingKey};
use aws_lc_rs::signature::{
    self, KeyPair as _, ParsedPublicKey, RsaKeyPair, RSA_PKCS1_2048_8192_SHA256,
};
use rustls_pki_types::pem::SectionKind;

use crate::certificate::{self, Certificate, CertificateValidity};
use crate::pem::{self, Block};
use crate::Error;

/// The merchant's RSA private key (`apiclient_key.pem`, PKCS#8), used for v3 request signing
/// and JSAPI `paySign`. Also usable as a WeChat *platform* key by simulators and tests.
///
/// Parsed once, at load: signing and OAEP decryption reuse the parsed key (and the Montgomery
/// constants AWS-LC caches in it) on every call.
pub struct MerchantKey {
    pair: RsaKeyPair,
    /// The same key, for RSA-OAEP decryption of sensitive fields.
    oaep: OaepPrivateDecryptingKey,
}

impl MerchantKey {
    /// Load a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). A PKCS#1 PEM gets
    /// [`Error::Pkcs1PrivateKey`], which says how to convert it.
    pub fn from_pkcs8_pem(pem_text: &str) -> Result<Self, Error> {
        const WHAT: &str = "merchant private key";
        let wrong = |reason: String| Error::Pem { what: WHAT, reason };
        match pem::decode_first(WHAT, pem_text)? {
            Block::Known(SectionKind::PrivateKey, der) => Self::from_pkcs8_der(&der),
            Block::Known(SectionKind::RsaPrivateKey, _) => Err(Error::Pkcs1PrivateKey),
            Block::Known(SectionKind::Certificate, _) => Err(wrong(
                "this is a certificate (apiclient_cert.pem?), not a key; pass the merchant \
                 private key apiclient_key.pem (BEGIN PRIVATE KEY)"
                    .into(),
            )),
            Block::Other(label) if label == "ENCRYPTED PRIVATE KEY" => Err(wrong(
                "the key is password-protected; decrypt it with \
                 openssl pkcs8 -in key.pem -out apiclient_key.pem"
                    .into(),
            )),
            Block::Known(kind, _) => Err(wrong(format!(
                "expected BEGIN PRIVATE KEY, found BEGIN {}",
                label_of(kind)
            ))),
            Block::RsaPublicKey(_) => Err(wrong(
                "expected BEGIN PRIVATE KEY, found BEGIN RSA PUBLIC KEY".into(),
            )),
            Block::Other(label) => Err(wrong(format!(
                "expected BEGIN PRIVATE KEY, found BEGIN {label}"
            ))),
        }
    }

    /// Load PKCS#8 DER bytes. PKCS#1 `RSAPrivateKey` DER gets [`Error::Pkcs1PrivateKey`], a
    /// certificate an [`Error::InvalidKey`] that says so.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        const WHAT: &str = "merchant private key";
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| {
            if RsaKeyPair::from_der(der).is_ok() {
                return Error::Pkcs1PrivateKey;
            }
            let reason = if certificate::is_certificate(der) {
                "this is a certificate, not a private key; pass apiclient_key.pem".into()
            } else {
                rejected(&e, "an RSA key of 2048 to 8192 bits in PKCS#8")
            };
            Error::InvalidKey { what: WHAT, reason }
        })?;
        // Same bytes, same checks: cannot fail once the pair parsed, but say so if it does.
        let oaep = PrivateDecryptingKey::from_pkcs8(der)
            .ok()
            .and_then(|k| OaepPrivateDecryptingKey::new(k).ok())
            .ok_or_else(|| Error::InvalidKey {
                what: WHAT,
                reason: "AWS-LC accepted the key for signing but not for RSA-OAEP".into(),
            })?;
        Ok(MerchantKey { pair, oaep })
    }

    /// The matching public key (what WeChat, or a simulator, verifies with).
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_rsa_der(self.pair.public_key().as_ref())
            .expect("the public half of a loaded RSA key pair parses")
    }

    /// SHA256withRSA (PKCS#1 v1.5) over `message`. Deterministic for a given key and message.
    pub fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        // aws-lc-rs ignores this RNG (AWS-LC blinds with its own); the parameter is API shape.
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut sig,
            )
            .map_err(|_| Error::InvalidKey {
                what: "merchant private key",
                reason: "RSA signing failed inside AWS-LC".into(),
            })?;
        Ok(sig)
    }

    pub(crate) fn oaep_key(&self) -> &OaepPrivateDecryptingKey {
        &self.oaep
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
            self.pair.public_modulus_len() * 8
        )
    }
}

/// An RSA public key: a WeChat Pay platform certificate, a WeChat Pay public key
/// (`PUB_KEY_ID_…`), or any SPKI / PKCS#1 public key. Parsed once, at load, for both
/// signature verification and OAEP encryption.
#[derive(Clone)]
pub struct PublicKey {
    /// PKCS#1 `RSAPublicKey` DER: the key's identity, for equality.
    rsa_der: Vec<u8>,
    verifier: ParsedPublicKey,
    encrypter: PublicEncryptingKey,
    serial: Option<String>,
    validity: Option<CertificateValidity>,
    modulus_bits: usize,
}

impl PublicKey {
    /// Load `-----BEGIN CERTIFICATE-----` (X.509), `-----BEGIN PUBLIC KEY-----` (SPKI, the form
    /// of WeChat Pay public keys) or `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1).
    pub fn from_pem(pem_text: &str) -> Result<Self, Error> {
        const WHAT: &str = "public key or certificate";
        let bad = |reason: String| Error::InvalidKey { what: WHAT, reason };
        match pem::decode_first(WHAT, pem_text)? {
            Block::Known(SectionKind::Certificate, der) => {
                let parts = Certificate::from_der(&der)?;
                certificate::check_spki(&parts.spki)?;
                let mut key = Self::from_spki_der(&parts.spki)?;
                key.serial = Some(parts.serial);
                key.validity = Some(parts.validity);
                Ok(key)
            }
            Block::Known(SectionKind::PublicKey, der) => {
                certificate::check_spki(&der)?;
                Self::from_spki_der(&der)
            }
            Block::RsaPublicKey(der) => Self::from_rsa_der(&der),
            Block::Known(
                SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey,
                _,
            ) => Err(bad(
                "this is a private key; pass the platform certificate or WeChat Pay public key"
                    .into(),
            )),
            Block::Known(kind, _) => Err(bad(format!(
                "expected BEGIN CERTIFICATE or BEGIN PUBLIC KEY, found BEGIN {}",
                label_of(kind)
            ))),
            Block::Other(label) => Err(bad(format!(
                "expected BEGIN CERTIFICATE or BEGIN PUBLIC KEY, found BEGIN {label}"
            ))),
        }
    }

    /// From PKCS#1 `RSAPublicKey` DER. Checks the structure and a 2048–8192-bit modulus now,
    /// so a bad key fails at load time rather than as a mysterious bad signature later.
    pub fn from_rsa_der(rsa_der: &[u8]) -> Result<Self, Error> {
        let parsed = signature::RsaSubjectPublicKey::from_der(rsa_der)
            .map_err(|e| invalid_public(rejected(&e, "PKCS#1 RSAPublicKey DER")))?;
        // AWS-LC also reads SPKI here; this constructor promises PKCS#1 only.
        if parsed.as_ref() != rsa_der {
            return Err(invalid_public(
                "not PKCS#1 RSAPublicKey DER (an SPKI? load it with from_pem as BEGIN PUBLIC KEY)"
                    .into(),
            ));
        }
        let spki = parsed
            .as_der()
            .map_err(|_| invalid_public("could not re-encode the key as SPKI".into()))?;
        Self::new(rsa_der.to_vec(), spki.as_ref())
    }

    /// From `SubjectPublicKeyInfo` DER (already checked to be RSA).
    fn from_spki_der(spki: &[u8]) -> Result<Self, Error> {
        let parsed = signature::RsaSubjectPublicKey::from_der(spki)
            .map_err(|e| invalid_public(rejected(&e, "an RSA SubjectPublicKeyInfo")))?;
        Self::new(parsed.as_ref().to_vec(), spki)
    }

    fn new(rsa_der: Vec<u8>, spki: &[u8]) -> Result<Self, Error> {
        let range = "an RSA key of 2048 to 8192 bits";
        let encrypter =
            PublicEncryptingKey::from_der(spki).map_err(|e| invalid_public(rejected(&e, range)))?;
        let modulus_bits = encrypter.key_size_bits();
        if !(2048..=8192).contains(&modulus_bits) {
            return Err(invalid_public(format!(
                "RSA modulus is {modulus_bits} bits; 2048 to 8192 are accepted"
            )));
        }
        let verifier = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &rsa_der)
            .map_err(|e| invalid_public(rejected(&e, range)))?;
        Ok(PublicKey {
            rsa_der,
            verifier,
            encrypter,
            serial: None,
            validity: None,
            modulus_bits,
        })
    }

    /// For a certificate: its serial number as uppercase hex, the form WeChat sends in
    /// `Wechatpay-Serial`. `None` for bare public keys (their id is `PUB_KEY_ID_…`, given
    /// separately by the merchant platform).
    pub fn certificate_serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// For a certificate: its own `notBefore`/`notAfter` (e.g. the `effective_time` and
    /// `expire_time` of `/v3/certificates`). `None` for bare public keys. Not checked by
    /// [`crate::v3::verify()`]; see "What the caller still owns" in the crate docs.
    pub fn certificate_validity(&self) -> Option<CertificateValidity> {
        self.validity
    }

    /// Modulus size in bits.
    pub fn modulus_bits(&self) -> usize {
        self.modulus_bits
    }

    /// Check a SHA256withRSA (PKCS#1 v1.5) signature.
    pub fn verify_sha256(&self, message: &[u8], sig: &[u8]) -> bool {
        self.verifier.verify_sig(message, sig).is_ok()
    }

    pub(crate) fn encrypting_key(&self) -> &PublicEncryptingKey {
        &self.encrypter
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        (&self.rsa_der, &self.serial, &self.validity)
            == (&other.rsa_der, &other.serial, &other.validity)
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey(RSA-{}, serial {:?})",
            self.modulus_bits, self.serial
        )
    }
}

fn invalid_public(reason: String) -> Error {
    Error::InvalidKey {
        what: "public key",
        reason,
    }
}

/// AWS-LC's reason, in words that say what to fix.
fn rejected(e: &KeyRejected, expected: &str) -> String {
    match e.description_() {
        "TooSmall" => format!("the RSA key is too small; expected {expected}"),
        "TooLarge" => format!("the RSA key is too large; expected {expected}"),
        "WrongAlgorithm" => format!("not an RSA key; expected {expected}"),
        other => format!("{other}; expected {expected}"),
    }
}

fn label_of(kind: SectionKind) -> &'static str {
    match kind {
        SectionKind::Certificate => "CERTIFICATE",
        SectionKind::PublicKey => "PUBLIC KEY",
        SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
        SectionKind::PrivateKey => "PRIVATE KEY",
        SectionKind::EcPrivateKey => "EC PRIVATE KEY",
        SectionKind::Crl => "X509 CRL",
        SectionKind::Csr => "CERTIFICATE REQUEST",
        _ => "(another kind)",
    }
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
