//! Key loading: PEM (rustls-pki-types), certificates (x509-parser) and keys (AWS-LC), with our
//! error mapping around them, must reject, never panic on, arbitrary certificates and keys;
//! OAEP decryption must reject arbitrary ciphertexts.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wxpay_sign::{v3, MerchantKey, PublicKey};

fn key() -> &'static MerchantKey {
    static K: OnceLock<MerchantKey> = OnceLock::new();
    K.get_or_init(|| {
        MerchantKey::from_pkcs8_pem(include_str!("../../tests/fixtures/test_merchant_key.pem"))
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = PublicKey::from_rsa_der(data);
    let _ = MerchantKey::from_pkcs8_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PublicKey::from_pem(text);
        let _ = MerchantKey::from_pkcs8_pem(text);
    }
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    for label in ["CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY"] {
        let pem = format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n");
        if let Ok(k) = PublicKey::from_pem(&pem) {
            let _ = k.verify_sha256(b"m", data);
            let _ = v3::oaep_encrypt(&k, b"x");
        }
    }
    if data.len() == 256 {
        let _ = v3::oaep_decrypt(key(), &b64);
    }
});
