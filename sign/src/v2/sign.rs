//! v2 signatures: `stringA` = sorted non-empty `k=v` pairs joined by `&` (without `sign`), then
//! `stringSignTemp` = `stringA&key=KEY`, hashed with MD5 or HMAC-SHA256 (keyed with KEY),
//! uppercase hex.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use md5::{Digest as _, Md5};
use subtle::ConstantTimeEq as _;

use super::Params;
use crate::encoding::hex_upper;
use crate::{Error, PayParams};

/// The two v2 sign algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignType {
    /// `MD5`, the default when a message has no `sign_type`.
    #[default]
    Md5,
    /// `HMAC-SHA256`.
    HmacSha256,
}

impl SignType {
    /// The name WeChat uses in `sign_type` / `signType`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

impl FromStr for SignType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "MD5" => Ok(SignType::Md5),
            "HMAC-SHA256" => Ok(SignType::HmacSha256),
            other => Err(Error::UnknownSignType(other.to_string())),
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `stringA`: keys in ASCII order, empty values and `sign` left out, `k=v` joined by `&`.
/// Values are used raw (not URL-encoded), as WeChat specifies.
pub fn string_to_sign(params: &Params) -> String {
    let mut out = String::new();
    for (k, v) in params
        .iter()
        .filter(|(k, v)| !v.is_empty() && k.as_str() != "sign")
    {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The uppercase hex `sign` of `params` with API key `key`.
pub fn sign(params: &Params, key: &str, sign_type: SignType) -> String {
    hex_upper(&digest(&string_to_sign(params), key, sign_type))
}

fn digest(string_a: &str, key: &str, sign_type: SignType) -> Vec<u8> {
    let temp = format!("{string_a}&key={key}");
    match sign_type {
        SignType::Md5 => Md5::digest(temp.as_bytes()).to_vec(),
        SignType::HmacSha256 => {
            let k = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
            hmac::sign(&k, temp.as_bytes()).as_ref().to_vec()
        }
    }
}

/// Verify a received message's `sign` in constant time. The algorithm is the message's own
/// `sign_type` (MD5 when absent); it is returned so replies can use the same one.
pub fn verify(params: &Params, key: &str) -> Result<SignType, Error> {
    verify_with_fallback(params, key, SignType::Md5)
}

/// Like [`verify`], but a message without `sign_type` is checked with `fallback`. WeChat's
/// responses and payment notifications for orders placed with HMAC-SHA256 often carry no
/// `sign_type`, yet are signed HMAC-SHA256: pass the sign type the order was placed with.
pub fn verify_with_fallback(
    params: &Params,
    key: &str,
    fallback: SignType,
) -> Result<SignType, Error> {
    let received = params
        .get("sign")
        .ok_or_else(|| Error::MissingField("sign".into()))?;
    let sign_type = match params.get("sign_type") {
        Some(t) if !t.is_empty() => t.parse()?,
        _ => fallback,
    };
    let expected = sign(params, key, sign_type);
    // Hex case is not secret; comparing uppercase forms accepts a lowercase-hex sender.
    let received = received.trim().to_ascii_uppercase();
    if bool::from(expected.as_bytes().ct_eq(received.as_bytes())) {
        Ok(sign_type)
    } else {
        Err(Error::V2SignMismatch {
            sign_type: sign_type.as_str(),
        })
    }
}

/// JSAPI / mini-program pay parameters for a v2 order. `sign_type` must be the one the order
/// (unifiedorder) was placed with; `nonce` at most 32 characters.
pub fn pay_params(
    appid: &str,
    prepay_id: &str,
    timestamp: i64,
    nonce: &str,
    key: &str,
    sign_type: SignType,
) -> PayParams {
    let mut p = PayParams {
        app_id: appid.to_string(),
        time_stamp: timestamp.to_string(),
        nonce_str: nonce.to_string(),
        package: format!("prepay_id={prepay_id}"),
        sign_type: sign_type.as_str().to_string(),
        pay_sign: String::new(),
    };
    p.pay_sign = sign(&pay_fields(&p), key, sign_type);
    p
}

/// The five signed fields of pay parameters, as a v2 parameter map (`paySign` excluded).
fn pay_fields(p: &PayParams) -> Params {
    [
        ("appId", &p.app_id),
        ("timeStamp", &p.time_stamp),
        ("nonceStr", &p.nonce_str),
        ("package", &p.package),
        ("signType", &p.sign_type),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.clone()))
    .collect()
}

/// WeChat's side of [`pay_params`] (for simulators): check `paySign` with the API key, in
/// constant time, using the parameters' own `signType`.
pub fn verify_pay_params(params: &PayParams, key: &str) -> Result<SignType, Error> {
    let mut fields = pay_fields(params);
    fields.insert("sign".into(), params.pay_sign.clone());
    let sign_type: SignType = params.sign_type.parse()?;
    verify_with_fallback(&fields, key, sign_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

    fn official_example() -> Params {
        [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn official_example_string_and_both_signs() {
        let p = official_example();
        assert_eq!(
            string_to_sign(&p),
            "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
        );
        assert_eq!(
            sign(&p, KEY, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
        assert_eq!(
            sign(&p, KEY, SignType::HmacSha256),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
        );
    }

    #[test]
    fn empty_values_and_sign_field_are_skipped() {
        let mut p = official_example();
        p.insert("attach".into(), String::new());
        p.insert("sign".into(), "WHATEVER".into());
        assert_eq!(
            sign(&p, KEY, SignType::Md5),
            "9A0A8659F005D6984697E2CA0A9CF3B7"
        );
    }

    #[test]
    fn verify_uses_the_messages_sign_type() {
        let mut p = official_example();
        p.insert("sign_type".into(), "HMAC-SHA256".into());
        let s = sign(&p, KEY, SignType::HmacSha256);
        p.insert("sign".into(), s.clone());
        assert_eq!(verify(&p, KEY), Ok(SignType::HmacSha256));
        p.insert("sign".into(), s.to_ascii_lowercase());
        assert_eq!(verify(&p, KEY), Ok(SignType::HmacSha256));
        // The same sign under MD5 must fail.
        p.insert("sign_type".into(), "MD5".into());
        assert!(matches!(
            verify(&p, KEY),
            Err(Error::V2SignMismatch { sign_type: "MD5" })
        ));
    }

    #[test]
    fn fallback_applies_only_without_sign_type() {
        let mut p = official_example();
        p.insert("sign".into(), sign(&p, KEY, SignType::HmacSha256));
        assert!(verify(&p, KEY).is_err());
        assert_eq!(
            verify_with_fallback(&p, KEY, SignType::HmacSha256),
            Ok(SignType::HmacSha256)
        );
        p.insert("sign_type".into(), "MD5".into());
        assert!(verify_with_fallback(&p, KEY, SignType::HmacSha256).is_err());
    }

    #[test]
    fn verify_rejects_tampering_wrong_key_missing_sign_and_unknown_type() {
        let mut p = official_example();
        p.insert("sign".into(), "9A0A8659F005D6984697E2CA0A9CF3B7".into());
        assert_eq!(verify(&p, KEY), Ok(SignType::Md5));
        assert!(verify(&p, "00000000000000000000000000000000").is_err());
        p.insert("body".into(), "tesT".into());
        assert!(matches!(verify(&p, KEY), Err(Error::V2SignMismatch { .. })));
        p.remove("sign");
        assert_eq!(verify(&p, KEY), Err(Error::MissingField("sign".into())));
        p.insert("sign".into(), "X".into());
        p.insert("sign_type".into(), "SHA1".into());
        assert_eq!(verify(&p, KEY), Err(Error::UnknownSignType("SHA1".into())));
    }

    #[test]
    fn pay_params_verify_and_tampering_is_caught() {
        for t in [SignType::Md5, SignType::HmacSha256] {
            let mut pp = pay_params("wx1", "prepay", 1414561699, "n", KEY, t);
            assert_eq!(verify_pay_params(&pp, KEY), Ok(t));
            assert!(verify_pay_params(&pp, "wrong").is_err());
            pp.package = "prepay_id=other".into();
            assert!(matches!(
                verify_pay_params(&pp, KEY),
                Err(Error::V2SignMismatch { .. })
            ));
        }
        let mut rsa = pay_params("wx1", "prepay", 1, "n", KEY, SignType::Md5);
        rsa.sign_type = "RSA".into();
        assert_eq!(
            verify_pay_params(&rsa, KEY),
            Err(Error::UnknownSignType("RSA".into()))
        );
    }

    #[test]
    fn pay_params_sign_the_five_camel_case_fields() {
        let pp = pay_params(
            "wx1",
            "wx201410272009395522657a690389285100",
            1414561699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            KEY,
            SignType::Md5,
        );
        assert_eq!(pp.package, "prepay_id=wx201410272009395522657a690389285100");
        let mut expected_input =
            String::from("appId=wx1&nonceStr=5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
        expected_input.push_str("&package=prepay_id=wx201410272009395522657a690389285100&signType=MD5&timeStamp=1414561699");
        expected_input.push_str(&format!("&key={KEY}"));
        assert_eq!(
            pp.pay_sign,
            hex_upper(&Md5::digest(expected_input.as_bytes()))
        );
        let json = serde_json::to_value(&pp).unwrap();
        for name in [
            "appId",
            "timeStamp",
            "nonceStr",
            "package",
            "signType",
            "paySign",
        ] {
            assert!(json.get(name).is_some(), "{name} missing in {json}");
        }
    }
}
