//! v2 end to end: a signed notification through XML and back, digests cross-checked with
//! openssl, and the refund req_info against `openssl enc -aes-256-ecb`.

mod common;

use common::*;
use wxpay_sign::v2::{self, Params, SignType};
use wxpay_sign::Error;

const KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn params(pairs: &[(&str, &str)]) -> Params {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn notification() -> Params {
    params(&[
        ("appid", "wx2421b1c4370ec43b"),
        ("attach", "支付测试"),
        ("bank_type", "CFT"),
        ("fee_type", "CNY"),
        ("is_subscribe", "Y"),
        ("mch_id", "10000100"),
        ("nonce_str", "5d2b6c2a8db53831f7eda20af46e531c"),
        ("openid", "oUpF8uMEb4qRXf22hE3X68TekukE"),
        ("out_trade_no", "1409811653"),
        ("result_code", "SUCCESS"),
        ("return_code", "SUCCESS"),
        ("time_end", "20140903131540"),
        ("total_fee", "1"),
        ("coupon_fee", ""),
        ("trade_type", "JSAPI"),
        ("transaction_id", "1004400740201409030005092168"),
    ])
}

#[test]
fn signs_agree_with_openssl_digests() {
    let p = notification();
    let sign_temp = format!("{}&key={KEY}", v2::string_to_sign(&p));
    let file = temp_file("v2", sign_temp.as_bytes());
    let md5 = String::from_utf8(openssl(&["dgst", "-md5", "-r", path_str(&file)])).unwrap();
    assert_eq!(
        v2::sign(&p, KEY, SignType::Md5),
        md5[..32].to_ascii_uppercase()
    );
    let hmac = String::from_utf8(openssl(&[
        "dgst",
        "-sha256",
        "-hmac",
        KEY,
        "-r",
        path_str(&file),
    ]))
    .unwrap();
    assert_eq!(
        v2::sign(&p, KEY, SignType::HmacSha256),
        hmac[..64].to_ascii_uppercase()
    );
    // Empty coupon_fee is not in stringA; the UTF-8 attach is, raw.
    assert!(!sign_temp.contains("coupon_fee") && sign_temp.contains("attach=支付测试&"));
}

#[test]
fn notification_round_trip_and_tamper_detection() {
    for t in [SignType::Md5, SignType::HmacSha256] {
        let mut p = notification();
        if t == SignType::HmacSha256 {
            p.insert("sign_type".into(), "HMAC-SHA256".into());
        }
        let s = v2::sign(&p, KEY, t);
        p.insert("sign".into(), s);
        let xml = v2::to_xml(&p);
        let parsed = v2::parse_xml(xml.as_bytes()).unwrap();
        assert_eq!(v2::verify(&parsed, KEY), Ok(t));
        v2::check_result(&parsed).unwrap();

        let tampered = xml.replace("<total_fee><![CDATA[1]]>", "<total_fee><![CDATA[100]]>");
        assert_ne!(tampered, xml);
        let parsed = v2::parse_xml(tampered.as_bytes()).unwrap();
        assert!(matches!(
            v2::verify(&parsed, KEY),
            Err(Error::V2SignMismatch { .. })
        ));
        // Smuggling a second total_fee is refused before any sign check.
        let doubled = xml.replace("</xml>", "<total_fee>100</total_fee></xml>");
        assert_eq!(
            v2::parse_xml(doubled.as_bytes()),
            Err(Error::XmlDuplicate("total_fee".into()))
        );
    }
}

#[test]
fn hostile_xml_is_refused() {
    let billion_laughs = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>"#;
    assert_eq!(v2::parse_xml(billion_laughs), Err(Error::XmlDoctype));
    let oversized = format!("<xml>{}</xml>", "<a>1</a>".repeat(v2::MAX_XML_BYTES / 8));
    assert!(matches!(
        v2::parse_xml(oversized.as_bytes()),
        Err(Error::XmlTooLarge { .. })
    ));
}

#[test]
fn jsapi_pay_params_for_both_sign_types() {
    let md5 = v2::pay_params(
        "wx2421b1c4370ec43b",
        "wx20141027",
        1414561699,
        "e61463f8efa94090b1f366cccfbbb444",
        KEY,
        SignType::Md5,
    );
    let hmac = v2::pay_params(
        "wx2421b1c4370ec43b",
        "wx20141027",
        1414561699,
        "e61463f8efa94090b1f366cccfbbb444",
        KEY,
        SignType::HmacSha256,
    );
    assert_eq!(
        (md5.sign_type.as_str(), hmac.sign_type.as_str()),
        ("MD5", "HMAC-SHA256")
    );
    assert_eq!((md5.pay_sign.len(), hmac.pay_sign.len()), (32, 64));
    // The page's five fields verify with the ordinary v2 verify.
    let mut p = params(&[
        ("appId", &md5.app_id),
        ("timeStamp", &md5.time_stamp),
        ("nonceStr", &md5.nonce_str),
        ("package", &md5.package),
        ("signType", &md5.sign_type),
        ("sign", &md5.pay_sign),
    ]);
    assert_eq!(v2::verify(&p, KEY), Ok(SignType::Md5));
    p.insert("timeStamp".into(), "1414561700".into());
    assert!(v2::verify(&p, KEY).is_err());
}

#[test]
fn refund_req_info_agrees_with_openssl_aes_256_ecb() {
    let plain = "<root><out_refund_no><![CDATA[131811191610442717309]]></out_refund_no><refund_status><![CDATA[SUCCESS]]></refund_status><refund_fee><![CDATA[3960]]></refund_fee></root>";
    // key = lowercase hex MD5 of the API key, used as 32 ASCII bytes.
    let md5_file = temp_file("apikey", KEY.as_bytes());
    let md5_hex = String::from_utf8(openssl(&["dgst", "-md5", "-r", path_str(&md5_file)])).unwrap()
        [..32]
        .to_string();
    let aes_key_hex: String = md5_hex.bytes().map(|b| format!("{b:02x}")).collect();
    let plain_file = temp_file("refund.xml", plain.as_bytes());
    let enc = openssl(&[
        "enc",
        "-aes-256-ecb",
        "-K",
        &aes_key_hex,
        "-base64",
        "-A",
        "-in",
        path_str(&plain_file),
    ]);
    let enc = String::from_utf8(enc).unwrap();
    assert_eq!(v2::decrypt_refund_req_info(KEY, enc.trim()).unwrap(), plain);
    assert_eq!(v2::encrypt_refund_req_info(KEY, plain), enc.trim());
    let fields = v2::parse_xml(plain.as_bytes()).unwrap();
    assert_eq!(fields["refund_status"], "SUCCESS");
}
