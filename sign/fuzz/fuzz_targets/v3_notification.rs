//! v3 notification handling with fuzzed headers and bodies. Random bytes never carry a valid
//! signature, so to reach the JSON, AES-GCM and serde stages the target also signs the body
//! itself (with the committed TEST key) and, separately, encrypts the fuzz input as the
//! resource plaintext of a well-formed envelope.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use wxpay_sign::v3::{self, WechatpayHeaders};
use wxpay_sign::{KeySet, MerchantKey};

const APIV3_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

fn fixture() -> &'static (MerchantKey, KeySet) {
    static F: OnceLock<(MerchantKey, KeySet)> = OnceLock::new();
    F.get_or_init(|| {
        let key =
            MerchantKey::from_pkcs8_pem(include_str!("../../tests/fixtures/test_merchant_key.pem"))
                .unwrap();
        let mut keys = KeySet::new();
        keys.insert("S", key.public_key());
        (key, keys)
    })
}

fuzz_target!(|data: &[u8]| {
    let (key, keys) = fixture();
    let text = String::from_utf8_lossy(data);

    // 1. Header parsing and verification with fuzzed header values.
    let _ = v3::parse_authorization(&text);
    let mut parts = text.splitn(5, '\n');
    let (ts, nonce, sig, serial) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let body = parts.next().unwrap_or("").as_bytes();
    let h = WechatpayHeaders {
        timestamp: ts,
        nonce,
        signature: sig,
        serial,
    };
    let _ = v3::verify(&h, body, 1_700_000_000, keys);

    // 2. A correctly signed but arbitrary body: JSON envelope parsing and decryption.
    if data.first().is_some_and(|b| b & 1 == 1) {
        let sig = v3::sign_response(key, 1_700_000_000, "n", data).unwrap();
        let h = WechatpayHeaders {
            timestamp: "1700000000",
            nonce: "n",
            signature: &sig,
            serial: "S",
        };
        let _ = v3::open_payment_notification(&h, data, 1_700_000_000, keys, APIV3_KEY);
    }

    // 3. Arbitrary resource plaintext inside a valid envelope: the PaymentNotification types.
    let ct = v3::encrypt_resource(APIV3_KEY, "rnd123456789", "transaction", data).unwrap();
    assert_eq!(
        v3::decrypt_resource(APIV3_KEY, "rnd123456789", "transaction", &ct).unwrap(),
        data
    );
    let _ = serde_json::from_slice::<v3::PaymentNotification>(data);
});
