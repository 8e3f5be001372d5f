//! What both bench targets feed in: the committed test key and a real-shaped payment
//! notification body (encrypted resource included).

#![allow(dead_code)]

use wxpay_sign::{v3, MerchantKey};

pub const TEST_KEY: &str = include_str!("../../tests/fixtures/test_merchant_key.pem");
pub const APIV3_KEY: &[u8] = b"a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

pub fn key() -> MerchantKey {
    MerchantKey::from_pkcs8_pem(TEST_KEY).expect("fixture key")
}

/// A TRANSACTION.SUCCESS notification body and its resource ciphertext (~430 bytes of JSON).
pub fn payment_body(apiv3_key: &[u8]) -> (Vec<u8>, String) {
    let plain = br#"{"mchid":"1900009191","appid":"wxd678efh567hg6787","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000000202401010000000001","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"ok","bank_type":"CMC","attach":"","success_time":"2024-01-01T10:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#;
    let ct = v3::encrypt_resource(apiv3_key, "rnd123456789", "transaction", plain).unwrap();
    let body = format!(
        r#"{{"id":"EV-1","create_time":"2024-01-01T10:00:00+08:00","resource_type":"encrypt-resource","event_type":"TRANSACTION.SUCCESS","summary":"ok","resource":{{"original_type":"transaction","algorithm":"AEAD_AES_256_GCM","ciphertext":"{ct}","associated_data":"transaction","nonce":"rnd123456789"}}}}"#
    );
    (body.into_bytes(), ct)
}
