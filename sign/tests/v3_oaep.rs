//! RSA-OAEP (SHA-1, MGF1-SHA-1) against `openssl pkeyutl`, both directions, and rejection of
//! every kind of bad ciphertext with one indistinguishable error.

mod common;

use base64::Engine as _;
use common::*;
use wxpay_sign::{v3, Error};

const OAEP_OPTS: [&str; 6] = [
    "-pkeyopt",
    "rsa_padding_mode:oaep",
    "-pkeyopt",
    "rsa_oaep_md:sha1",
    "-pkeyopt",
    "rsa_mgf1_md:sha1",
];

fn b64d(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn openssl_decrypts_what_we_encrypt() {
    for plain in [&b""[..], "张三 110101199003077777".as_bytes(), &[0xAB; 214]] {
        let ct = v3::oaep_encrypt(&platform().public_key(), plain).unwrap();
        assert_eq!(b64d(&ct).len(), 256);
        let ct_file = temp_file("oaep.bin", &b64d(&ct));
        let args = [
            &[
                "pkeyutl",
                "-decrypt",
                "-inkey",
                path_str(&platform().private_pem),
                "-in",
                path_str(&ct_file),
            ][..],
            &OAEP_OPTS,
        ]
        .concat();
        assert_eq!(openssl(&args), plain);
    }
    // Randomized: the same plaintext encrypts differently each time.
    let a = v3::oaep_encrypt(&platform().certificate(), b"x").unwrap();
    let b = v3::oaep_encrypt(&platform().certificate(), b"x").unwrap();
    assert_ne!(a, b);
}

#[test]
fn we_decrypt_what_openssl_encrypts() {
    for plain in [&b"13800138000"[..], b"", &[7u8; 214]] {
        let file = temp_file("plain.bin", plain);
        let args = [
            &[
                "pkeyutl",
                "-encrypt",
                "-pubin",
                "-inkey",
                path_str(&merchant().public_pem),
                "-in",
                path_str(&file),
            ][..],
            &OAEP_OPTS,
        ]
        .concat();
        let ct = base64::engine::general_purpose::STANDARD.encode(openssl(&args));
        assert_eq!(
            v3::oaep_decrypt(&merchant().merchant_key(), &ct).unwrap(),
            plain
        );
    }
}

#[test]
fn bad_ciphertexts_all_fail_the_same_way() {
    let key = merchant().merchant_key();
    let ct = b64d(&v3::oaep_encrypt(&merchant().public_key(), b"secret").unwrap());
    let fail = Err(Error::Decrypt {
        what: "RSA-OAEP ciphertext",
    });
    let enc = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    // Wrong key.
    assert_eq!(
        v3::oaep_decrypt(&platform().merchant_key(), &enc(&ct)),
        fail
    );
    // Any flipped bit.
    for i in [0, 100, 255] {
        let mut t = ct.clone();
        t[i] ^= 1;
        assert_eq!(v3::oaep_decrypt(&key, &enc(&t)), fail, "byte {i}");
    }
    // Wrong length, zero, all ones (≥ n).
    assert_eq!(v3::oaep_decrypt(&key, &enc(&ct[1..])), fail);
    assert_eq!(
        v3::oaep_decrypt(&key, &enc(&[ct.clone(), vec![0]].concat())),
        fail
    );
    assert_eq!(v3::oaep_decrypt(&key, &enc(&[0u8; 256])), fail);
    assert_eq!(v3::oaep_decrypt(&key, &enc(&[0xFF; 256])), fail);
    // PKCS#1 v1.5 encryption padding is not OAEP.
    let file = temp_file("plain.bin", b"secret");
    let v15 = openssl(&[
        "pkeyutl",
        "-encrypt",
        "-pubin",
        "-inkey",
        path_str(&merchant().public_pem),
        "-in",
        path_str(&file),
    ]);
    assert_eq!(v3::oaep_decrypt(&key, &enc(&v15)), fail);
    assert!(matches!(
        v3::oaep_decrypt(&key, "not base64!"),
        Err(Error::Base64 { .. })
    ));
}

#[test]
fn plaintext_longer_than_one_block_is_refused() {
    assert_eq!(
        v3::oaep_encrypt(&merchant().public_key(), &[0; 215]),
        Err(Error::TooLong {
            what: "RSA-OAEP plaintext",
            got: 215,
            max: 214
        })
    );
}
