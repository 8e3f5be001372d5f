//! Signed v3 payment notifications as WeChat sends them (platform test key), for tests that
//! play WeChat directly.

use super::{keys, APIV3_KEY, APPID, MCHID};
use serde_json::{json, Value};
use wxpay_server::timefmt::unix_now;
use wxpay_sign::keys::MerchantKey;
use wxpay_sign::v3;

pub fn payment(out_trade_no: &str, total: i64) -> Value {
    json!({
        "mchid": MCHID, "appid": APPID, "out_trade_no": out_trade_no,
        "transaction_id": "4200000000000000000000000001", "trade_type": "NATIVE",
        "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS", "attach": "",
        "success_time": "2026-11-26T18:00:00+08:00", "payer": { "openid": "oSimPayer" },
        "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" },
    })
}

pub fn envelope(resource: &Value) -> Vec<u8> {
    let nonce = "n0nce0123456";
    let ciphertext = v3::encrypt_resource(
        APIV3_KEY.as_bytes(),
        nonce,
        "transaction",
        resource.to_string().as_bytes(),
    )
    .unwrap();
    json!({
        "id": "EV-2018022511223320873", "create_time": "2026-11-26T18:00:01+08:00",
        "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                      "ciphertext": ciphertext, "associated_data": "transaction", "nonce": nonce },
    })
    .to_string()
    .into_bytes()
}

pub struct Signed {
    pub body: Vec<u8>,
    pub timestamp: i64,
    pub nonce: String,
    pub signature: String,
    pub serial: String,
}

pub fn sign_with(body: Vec<u8>, key_pem: &str, serial: &str, timestamp: i64) -> Signed {
    let key = MerchantKey::from_pkcs8_pem(key_pem).unwrap();
    let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".to_string();
    let signature = v3::sign_response(&key, timestamp, &nonce, &body).unwrap();
    Signed {
        body,
        timestamp,
        nonce,
        signature,
        serial: serial.into(),
    }
}

pub fn by_platform(body: Vec<u8>) -> Signed {
    let k = &keys().platform;
    sign_with(body, &k.key_pem, &k.serial, unix_now())
}

/// The POST WeChat makes to `{api}/api/wxpay/notify` with `s`.
pub fn notify_request(http: &reqwest::Client, api: &str, s: &Signed) -> reqwest::RequestBuilder {
    http.post(format!("{api}/api/wxpay/notify"))
        .header("Content-Type", "application/json")
        .header("Wechatpay-Timestamp", s.timestamp.to_string())
        .header("Wechatpay-Nonce", &s.nonce)
        .header("Wechatpay-Signature", &s.signature)
        .header("Wechatpay-Serial", &s.serial)
        .body(s.body.clone())
}

pub async fn send_to(http: &reqwest::Client, api: &str, s: &Signed) -> (u16, Value) {
    let r = notify_request(http, api, s).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
