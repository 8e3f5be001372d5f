//! v3 pay parameters: `paySign` = base64 SHA256withRSA of `appId\ntimeStamp\nnonceStr\npackage\n`
//! with the merchant key, `signType` = `RSA`. Same for JSAPI and mini-program; APP differs only
//! in field names and `package`.

use crate::encoding::{b64_decode, b64_encode};
use crate::keys::{MerchantKey, PublicKey};
use crate::{AppPayParams, Error, PayParams};

fn check_nonce(nonce: &str) -> Result<(), Error> {
    if nonce.is_empty() || nonce.len() > 32 {
        return Err(Error::InvalidHeader {
            what: "nonceStr",
            reason: format!("must be 1 to 32 characters, got {}", nonce.len()),
        });
    }
    Ok(())
}

/// JSAPI / mini-program pay parameters. `key` is a [`MerchantKey`] or a
/// [`crate::keys::MerchantSigner`].
pub fn pay_params(
    key: &impl AsRef<MerchantKey>,
    appid: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<PayParams, Error> {
    check_nonce(nonce)?;
    let package = format!("prepay_id={prepay_id}");
    let time_stamp = timestamp.to_string();
    let message = pay_message(appid, &time_stamp, nonce, &package);
    Ok(PayParams {
        app_id: appid.to_string(),
        time_stamp,
        nonce_str: nonce.to_string(),
        package,
        sign_type: "RSA".to_string(),
        pay_sign: b64_encode(&key.as_ref().sign_sha256(message.as_bytes())?),
    })
}

/// `appId\ntimeStamp\nnonceStr\npackage\n`, the message `paySign` signs.
fn pay_message(appid: &str, time_stamp: &str, nonce: &str, package: &str) -> String {
    format!("{appid}\n{time_stamp}\n{nonce}\n{package}\n")
}

/// WeChat's side of [`pay_params`] (for simulators): `signType` must be `RSA` and `paySign` must
/// verify with the merchant's public key.
pub fn verify_pay_params(params: &PayParams, key: &PublicKey) -> Result<(), Error> {
    if params.sign_type != "RSA" {
        return Err(Error::Unsupported {
            what: "signType",
            name: params.sign_type.clone(),
            expected: "RSA (API v3)",
        });
    }
    let sig = b64_decode("paySign", &params.pay_sign)?;
    let message = pay_message(
        &params.app_id,
        &params.time_stamp,
        &params.nonce_str,
        &params.package,
    );
    if key.verify_sha256(message.as_bytes(), &sig) {
        Ok(())
    } else {
        Err(Error::BadSignature { what: "paySign" })
    }
}

/// APP pay parameters (`PayReq`): signs `appid\ntimestamp\nnoncestr\nprepayid\n`.
pub fn app_pay_params(
    key: &impl AsRef<MerchantKey>,
    appid: &str,
    mchid: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
) -> Result<AppPayParams, Error> {
    check_nonce(nonce)?;
    let timestamp = timestamp.to_string();
    let message = format!("{appid}\n{timestamp}\n{nonce}\n{prepay_id}\n");
    Ok(AppPayParams {
        appid: appid.to_string(),
        partnerid: mchid.to_string(),
        prepayid: prepay_id.to_string(),
        package: "Sign=WXPay".to_string(),
        noncestr: nonce.to_string(),
        timestamp,
        sign: b64_encode(&key.as_ref().sign_sha256(message.as_bytes())?),
    })
}
