//! v3 notifications end to end: AES-256-GCM cross-checked with Python's `cryptography`, and a
//! whole notification (encrypted by Python, signed by openssl) opened in one call.

mod common;

use base64::Engine as _;
use common::*;
use wxpay_sign::v3::{self, WechatpayHeaders};
use wxpay_sign::{Error, KeySet};

const APIV3_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

const AESGCM_ENCRYPT: &str = r#"
import base64, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key, nonce, ad, plain = (a.encode() for a in sys.argv[1:5])
print(base64.b64encode(AESGCM(key).encrypt(nonce, plain, ad)).decode())
"#;

const AESGCM_DECRYPT: &str = r#"
import base64, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
key, nonce, ad = (a.encode() for a in sys.argv[1:4])
sys.stdout.write(AESGCM(key).decrypt(nonce, base64.b64decode(sys.argv[4]), ad).decode())
"#;

fn py_encrypt(nonce: &str, ad: &str, plain: &str) -> String {
    let key = std::str::from_utf8(APIV3_KEY).unwrap();
    String::from_utf8(python(AESGCM_ENCRYPT, &[key, nonce, ad, plain]))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn aes_gcm_agrees_with_python_cryptography_both_ways() {
    let plain = r#"{"out_trade_no":"1217752501201407033233368018","note":"中文"}"#;
    let ct = py_encrypt("fdasflkja484", "transaction", plain);
    assert_eq!(
        v3::decrypt_resource(APIV3_KEY, "fdasflkja484", "transaction", &ct).unwrap(),
        plain.as_bytes()
    );
    // Ours is deterministic for fixed inputs, so it must equal Python's bytes exactly.
    assert_eq!(
        v3::encrypt_resource(APIV3_KEY, "fdasflkja484", "transaction", plain.as_bytes()).unwrap(),
        ct
    );
    let ours = v3::encrypt_resource(APIV3_KEY, "0123456789ab", "", b"x").unwrap();
    let key = std::str::from_utf8(APIV3_KEY).unwrap();
    assert_eq!(
        python(AESGCM_DECRYPT, &[key, "0123456789ab", "", &ours]),
        b"x"
    );
}

fn payment_json(out_trade_no: &str) -> String {
    format!(
        r#"{{"mchid":"1900009191","appid":"wxd678efh567hg6787","out_trade_no":"{out_trade_no}","transaction_id":"4200000000202401010000000001","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"CMC","attach":"cart=42","success_time":"2024-01-01T10:00:00+08:00","payer":{{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}},"amount":{{"total":100,"payer_total":90,"currency":"CNY","payer_currency":"CNY"}},"promotion_detail":[]}}"#
    )
}

/// A notification as WeChat would send it: body + headers, signed with the platform key by
/// openssl, resource encrypted by Python.
fn notification(original_type: &str, algorithm: &str, timestamp: &str) -> (Vec<u8>, String) {
    let ct = py_encrypt(
        "rnd123456789",
        original_type,
        &payment_json("1217752501201407033233368018"),
    );
    let body = format!(
        r#"{{"id":"EV-2018022511223320873","create_time":"2015-05-20T13:29:35+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"支付成功","resource":{{"original_type":"{original_type}","algorithm":"{algorithm}","ciphertext":"{ct}","associated_data":"{original_type}","nonce":"rnd123456789"}}}}"#
    );
    let message = format!("{timestamp}\nhdr-nonce\n{body}\n");
    let msg = temp_file("notify", message.as_bytes());
    let sig = openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        path_str(&platform().private_pem),
        path_str(&msg),
    ]);
    (
        body.into_bytes(),
        base64::engine::general_purpose::STANDARD.encode(sig),
    )
}

fn keys() -> KeySet {
    let mut keys = KeySet::new();
    keys.insert(CERT_SERIAL, platform().certificate());
    keys
}

#[test]
fn opens_a_payment_notification_in_one_call() {
    let (body, sig) = notification("transaction", "AEAD_AES_256_GCM", "1700000000");
    let h = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "hdr-nonce",
        signature: &sig,
        serial: CERT_SERIAL,
    };
    let (envelope, pay) =
        v3::open_payment_notification(&h, &body, 1700000001, &keys(), APIV3_KEY).unwrap();
    assert_eq!(envelope.event_type, "TRANSACTION.SUCCESS");
    assert_eq!(envelope.id, "EV-2018022511223320873");
    assert_eq!(pay.out_trade_no, "1217752501201407033233368018");
    assert_eq!(pay.transaction_id, "4200000000202401010000000001");
    assert_eq!(pay.trade_state, "SUCCESS");
    assert_eq!(
        (
            pay.amount.total,
            pay.amount.payer_total,
            pay.amount.currency.as_str()
        ),
        (100, 90, "CNY")
    );
    assert_eq!(pay.payer.openid, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    assert_eq!(pay.attach.as_deref(), Some("cart=42"));
    assert_eq!(
        pay.success_time.as_deref(),
        Some("2024-01-01T10:00:00+08:00")
    );
    assert_eq!(
        (pay.mchid.as_str(), pay.appid.as_str()),
        ("1900009191", "wxd678efh567hg6787")
    );
}

#[test]
fn notification_rejections() {
    let (body, sig) = notification("transaction", "AEAD_AES_256_GCM", "1700000000");
    let h = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "hdr-nonce",
        signature: &sig,
        serial: CERT_SERIAL,
    };
    let open = |h: &WechatpayHeaders, body: &[u8], key: &[u8]| {
        v3::open_payment_notification(h, body, 1700000000, &keys(), key)
    };

    // Tampered body: one byte changed in the amount-free envelope is still caught by the signature.
    let mut tampered = body.clone();
    let pos = tampered.iter().position(|&b| b == b'2').unwrap();
    tampered[pos] = b'3';
    assert_eq!(
        open(&h, &tampered, APIV3_KEY).unwrap_err(),
        Error::BadSignature {
            what: "Wechatpay-Signature"
        }
    );
    assert_eq!(
        open(&h, &body, &APIV3_KEY[..31]).unwrap_err(),
        Error::Apiv3KeyLength { got: 31 }
    );
    assert_eq!(
        open(&h, &body, b"A7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb").unwrap_err(),
        Error::Decrypt {
            what: "notification resource"
        }
    );
    assert!(matches!(
        v3::open_payment_notification(&h, &body, 1700000400, &keys(), APIV3_KEY),
        Err(Error::TimestampSkew { .. })
    ));
    assert!(matches!(
        v3::open_payment_notification(&h, &body, 1700000000, &KeySet::new(), APIV3_KEY),
        Err(Error::UnknownSerial { .. })
    ));

    let (refund_body, refund_sig) = notification("refund", "AEAD_AES_256_GCM", "1700000000");
    let rh = WechatpayHeaders {
        signature: &refund_sig,
        ..h
    };
    assert!(matches!(
        open(&rh, &refund_body, APIV3_KEY),
        Err(Error::WrongNotificationType { .. })
    ));
    // The generic opener still decrypts it.
    let (_, plain) =
        v3::open_notification(&rh, &refund_body, 1700000000, &keys(), APIV3_KEY).unwrap();
    assert!(plain.starts_with(b"{\"mchid\""));

    let (odd_body, odd_sig) = notification("transaction", "AEAD_CHACHA20", "1700000000");
    let oh = WechatpayHeaders {
        signature: &odd_sig,
        ..h
    };
    assert!(matches!(
        open(&oh, &odd_body, APIV3_KEY),
        Err(Error::Unsupported { .. })
    ));

    // A signed body that is not a notification at all.
    let junk = b"[1,2,3]";
    let junk_sig =
        v3::sign_response(&platform().merchant_key(), 1700000000, "hdr-nonce", junk).unwrap();
    let jh = WechatpayHeaders {
        signature: &junk_sig,
        ..h
    };
    assert!(matches!(
        open(&jh, junk, APIV3_KEY),
        Err(Error::Json { .. })
    ));
}

#[test]
fn simulator_built_notification_round_trips_through_the_serde_types() {
    // What server/sim does: build the typed body, encrypt, wrap, sign; the merchant opens it.
    let pay: v3::PaymentNotification = serde_json::from_str(&payment_json("A1")).unwrap();
    let plain = serde_json::to_vec(&pay).unwrap();
    let resource = v3::EncryptedResource {
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: v3::encrypt_resource(APIV3_KEY, "abcdefabcdef", "transaction", &plain).unwrap(),
        associated_data: "transaction".into(),
        original_type: "transaction".into(),
        nonce: "abcdefabcdef".into(),
    };
    let envelope = v3::Notification {
        id: "EV-1".into(),
        create_time: "2024-01-01T10:00:00+08:00".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        resource_type: "encrypt-resource".into(),
        summary: "支付成功".into(),
        resource,
    };
    let body = serde_json::to_vec(&envelope).unwrap();
    let sig = v3::sign_response(&platform().merchant_key(), 1700000000, "n", &body).unwrap();
    let h = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "n",
        signature: &sig,
        serial: CERT_SERIAL,
    };
    let (env2, pay2) =
        v3::open_payment_notification(&h, &body, 1700000000, &keys(), APIV3_KEY).unwrap();
    assert_eq!((env2, pay2), (envelope, pay));
}
