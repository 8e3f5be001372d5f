//! The six parameters a page hands to `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` or
//! `wx.requestPayment` (mini-program), signed by the backend. v2 and v3 differ only in how
//! `paySign` is computed, so both produce this one type.

use serde::{Deserialize, Serialize};

/// JSAPI / mini-program pay parameters; serializes with WeChat's exact camelCase names
/// (`appId`, `timeStamp`, `nonceStr`, `package`, `signType`, `paySign`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayParams {
    /// The official account or mini-program appid the order was placed with.
    pub app_id: String,
    /// Seconds since the epoch, as a string (WeChat rejects a number here on some clients).
    pub time_stamp: String,
    /// At most 32 characters.
    pub nonce_str: String,
    /// `prepay_id=…`
    pub package: String,
    /// v2: `MD5` or `HMAC-SHA256` (the one the order was placed with); v3: `RSA`.
    pub sign_type: String,
    /// The signature over the other five.
    pub pay_sign: String,
}

/// APP pay parameters (v3), for completeness: the APP SDK's `PayReq` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPayParams {
    /// Mobile application appid.
    pub appid: String,
    /// Merchant id.
    pub partnerid: String,
    /// From the APP order.
    pub prepayid: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// At most 32 characters.
    pub noncestr: String,
    /// Seconds since the epoch, as a string.
    pub timestamp: String,
    /// base64 SHA256withRSA of `appid\ntimestamp\nnoncestr\nprepayid\n`.
    pub sign: String,
}
