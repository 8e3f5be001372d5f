//! v3 notifications: the JSON envelope, its encrypted `resource`, and the decrypted payment
//! ("transaction") body, with one call that does verify → parse → decrypt → deserialize in the
//! only safe order (nothing is parsed before the signature over the raw bytes holds).

use serde::{Deserialize, Serialize};

use super::resource::decrypt_resource;
use super::verify::{verify, WechatpayHeaders};
use crate::keys::KeySet;
use crate::Error;

/// The notification envelope WeChat POSTs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Unique notification id (use it to de-duplicate retries).
    pub id: String,
    /// RFC 3339 time.
    pub create_time: String,
    /// e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`.
    pub event_type: String,
    /// `encrypt-resource`.
    pub resource_type: String,
    /// Human-readable summary, e.g. `支付成功`.
    #[serde(default)]
    pub summary: String,
    /// The encrypted payload.
    pub resource: EncryptedResource,
}

/// The `resource` object of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// `AEAD_AES_256_GCM`, the only algorithm WeChat uses.
    pub algorithm: String,
    /// base64 ciphertext ‖ tag.
    pub ciphertext: String,
    /// AES-GCM associated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// What the plaintext is: `transaction`, `refund`, …
    pub original_type: String,
    /// 12-character nonce.
    pub nonce: String,
}

/// The decrypted body of a payment notification (`original_type` = `transaction`); also the
/// shape of a v3 order query response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentNotification {
    pub mchid: String,
    pub appid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    /// `SUCCESS`, `REFUND`, `NOTPAY`, `CLOSED`, `REVOKED`, `USERPAYING`, `PAYERROR`.
    pub trade_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_state_desc: Option<String>,
    /// `JSAPI`, `NATIVE`, `APP`, `MWEB` (H5), …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// RFC 3339 time of payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// The merchant's own data, echoed back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    pub amount: Amount,
    pub payer: Payer,
}

/// Amounts in the smallest currency unit (fen for CNY).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// Order total.
    pub total: i64,
    /// What the payer actually paid (after coupons).
    pub payer_total: i64,
    /// `CNY`.
    pub currency: String,
    pub payer_currency: String,
}

/// The payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    /// The payer's openid under `appid`.
    pub openid: String,
}

/// The algorithm name in [`EncryptedResource::algorithm`].
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// Verify the headers over the raw body, parse the envelope and decrypt its resource; returns
/// the envelope and the plaintext bytes. For any notification kind (refunds, …).
pub fn open_notification(
    headers: &WechatpayHeaders,
    body: &[u8],
    now: i64,
    keys: &KeySet,
    apiv3_key: &[u8],
) -> Result<(Notification, Vec<u8>), Error> {
    verify(headers, body, now, keys)?;
    let envelope: Notification = serde_json::from_slice(body).map_err(|e| Error::Json {
        what: "notification",
        reason: e.to_string(),
    })?;
    let r = &envelope.resource;
    if r.algorithm != AEAD_AES_256_GCM {
        return Err(Error::Unsupported {
            what: "resource algorithm",
            name: r.algorithm.clone(),
            expected: AEAD_AES_256_GCM,
        });
    }
    let plaintext = decrypt_resource(apiv3_key, &r.nonce, &r.associated_data, &r.ciphertext)?;
    Ok((envelope, plaintext))
}

/// [`open_notification`] for payment notifications: additionally requires
/// `original_type = "transaction"` and deserializes the [`PaymentNotification`].
///
/// The result is authentic, but whether it is *new* is the caller's business: handle
/// `transaction_id` idempotently, compare `amount.total` with the order, and only then mark
/// the order paid (if `trade_state` is `SUCCESS`).
pub fn open_payment_notification(
    headers: &WechatpayHeaders,
    body: &[u8],
    now: i64,
    keys: &KeySet,
    apiv3_key: &[u8],
) -> Result<(Notification, PaymentNotification), Error> {
    let (envelope, plaintext) = open_notification(headers, body, now, keys, apiv3_key)?;
    if envelope.resource.original_type != "transaction" {
        return Err(Error::WrongNotificationType {
            got: envelope.resource.original_type.clone(),
            expected: "transaction",
        });
    }
    let payment = serde_json::from_slice(&plaintext).map_err(|e| Error::Json {
        what: "payment notification resource",
        reason: e.to_string(),
    })?;
    Ok((envelope, payment))
}
