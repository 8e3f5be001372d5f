//! v3 RSA against openssl: request signatures byte-for-byte, response verification of
//! openssl-made signatures, key loading from every PEM form, and every rejection.

mod common;

use base64::Engine as _;
use common::*;
use wxpay_sign::v3::{self, WechatpayHeaders};
use wxpay_sign::{Error, KeySet, MerchantKey, MerchantSigner, PublicKey};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// openssl's SHA256withRSA signature of `message` with `key_pem`, base64.
fn openssl_sign(key_pem: &std::path::Path, message: &[u8]) -> String {
    let msg = temp_file("msg", message);
    b64(&openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        path_str(key_pem),
        path_str(&msg),
    ]))
}

#[test]
fn request_signature_matches_openssl_byte_for_byte() {
    let signer = MerchantSigner::new(
        "1900009191",
        "408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB",
        merchant().merchant_key(),
    );
    let body = r#"{"appid":"wxd678efh567hg6787","mchid":"1900009191","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"}}"#;
    let auth = v3::sign_request(
        &signer,
        "POST",
        "/v3/pay/transactions/native",
        body,
        1554208460,
        "593BEC0C930BF1AFEB40B4A08C8FB242",
    )
    .unwrap();
    let expected_message = format!(
        "POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{body}\n"
    );
    assert_eq!(auth.message, expected_message);
    assert_eq!(
        auth.signature,
        openssl_sign(&merchant().private_pem, expected_message.as_bytes())
    );
    assert_eq!(
        auth.header,
        format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"593BEC0C930BF1AFEB40B4A08C8FB242\",signature=\"{}\",timestamp=\"1554208460\",serial_no=\"408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB\"",
            auth.signature
        )
    );
    // GET: empty body, query string kept verbatim.
    let get = v3::sign_request(&signer, "GET", "/v3/certificates?a=1&b=%20", "", 1, "n").unwrap();
    assert_eq!(get.message, "GET\n/v3/certificates?a=1&b=%20\n1\nn\n\n");
    assert_eq!(
        get.signature,
        openssl_sign(&merchant().private_pem, get.message.as_bytes())
    );
}

#[test]
fn request_signing_rejects_bad_inputs_with_hints() {
    let signer = MerchantSigner::new("1900009191", "SERIAL", merchant().merchant_key());
    let full_url = v3::sign_request(
        &signer,
        "POST",
        "https://api.mch.weixin.qq.com/v3/x",
        "",
        1,
        "n",
    )
    .unwrap_err();
    assert!(
        full_url.to_string().contains("path and query only"),
        "{full_url}"
    );
    assert!(v3::sign_request(&signer, "post", "/v3/x", "", 1, "n").is_err());
    assert!(v3::sign_request(&signer, "POST", "/v3/x", "", 1, "a\"b").is_err());
    let bad_mchid = MerchantSigner::new("19\"00", "S", merchant().merchant_key());
    assert!(v3::sign_request(&bad_mchid, "POST", "/v3/x", "", 1, "n").is_err());
}

#[test]
fn simulator_side_parses_and_verifies_the_authorization_header() {
    let signer = MerchantSigner::new("1900009191", "SERIAL1", merchant().merchant_key());
    let body = r#"{"a":1}"#;
    let auth = v3::sign_request(
        &signer,
        "POST",
        "/v3/pay/transactions/jsapi",
        body,
        1700000000,
        "abc",
    )
    .unwrap();
    let parsed = v3::verify_request(
        &auth.header,
        "POST",
        "/v3/pay/transactions/jsapi",
        body.as_bytes(),
        &merchant().public_key(),
    )
    .unwrap();
    assert_eq!(
        (
            parsed.mchid.as_str(),
            parsed.serial_no.as_str(),
            parsed.timestamp,
            parsed.nonce_str.as_str()
        ),
        ("1900009191", "SERIAL1", 1700000000, "abc")
    );
    let bad = Err(Error::BadSignature {
        what: "Authorization",
    });
    assert_eq!(
        v3::verify_request(
            &auth.header,
            "POST",
            "/v3/pay/transactions/native",
            body.as_bytes(),
            &merchant().public_key()
        ),
        bad
    );
    assert_eq!(
        v3::verify_request(
            &auth.header,
            "POST",
            "/v3/pay/transactions/jsapi",
            b"{\"a\":2}",
            &merchant().public_key()
        ),
        bad
    );
    assert_eq!(
        v3::verify_request(
            &auth.header,
            "POST",
            "/v3/pay/transactions/jsapi",
            body.as_bytes(),
            &platform().public_key()
        ),
        bad
    );

    for broken in [
        "Bearer x",
        "WECHATPAY2-SHA256-RSA2048",
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="1""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="n",signature="s",timestamp="1",serial_no="x""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="n",signature="s",timestamp="1",serial_no="x""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="soon",serial_no="x""#,
        r#"WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="n",signature="s",timestamp="1",serial_no="x",extra="y""#,
    ] {
        assert!(
            matches!(
                v3::parse_authorization(broken),
                Err(Error::InvalidHeader { .. })
            ),
            "{broken}"
        );
    }
    // Field order is free.
    let reordered = r#"WECHATPAY2-SHA256-RSA2048 serial_no="x",timestamp="7",signature="s",nonce_str="n",mchid="1""#;
    assert_eq!(v3::parse_authorization(reordered).unwrap().timestamp, 7);
}

fn platform_keys() -> KeySet {
    let mut keys = KeySet::new();
    keys.insert(CERT_SERIAL, platform().certificate());
    keys.insert(
        "PUB_KEY_ID_0114232134912410000000000000",
        merchant().public_key(),
    );
    keys
}

#[test]
fn verifies_openssl_signed_responses_by_serial() {
    let body = br#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#;
    let message = [&b"1700000000\nnonce123\n"[..], body, b"\n"].concat();
    let keys = platform_keys();
    // Certificate serial → platform key.
    let sig = openssl_sign(&platform().private_pem, &message);
    let h = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "nonce123",
        signature: &sig,
        serial: CERT_SERIAL,
    };
    assert_eq!(
        v3::verify(&h, body, 1700000100, &keys).unwrap().serial,
        CERT_SERIAL
    );
    // PUB_KEY_ID serial → the other key; the platform signature must not verify under it.
    let sig2 = openssl_sign(&merchant().private_pem, &message);
    let h2 = WechatpayHeaders {
        signature: &sig2,
        serial: "PUB_KEY_ID_0114232134912410000000000000",
        ..h
    };
    assert!(v3::verify(&h2, body, 1700000000, &keys).is_ok());
    let crossed = WechatpayHeaders {
        signature: &sig,
        ..h2
    };
    assert_eq!(
        v3::verify(&crossed, body, 1700000000, &keys),
        Err(Error::BadSignature {
            what: "Wechatpay-Signature"
        })
    );
    // sign_response is what openssl does.
    assert_eq!(
        v3::sign_response(&platform().merchant_key(), 1700000000, "nonce123", body).unwrap(),
        sig
    );
}

#[test]
fn every_verification_rejection_is_distinct() {
    let keys = platform_keys();
    let body = b"{\"x\":1}";
    let key = platform().merchant_key();
    let sig = v3::sign_response(&key, 1000, "n", body).unwrap();
    let ok = WechatpayHeaders {
        timestamp: "1000",
        nonce: "n",
        signature: &sig,
        serial: CERT_SERIAL,
    };
    assert!(v3::verify(&ok, body, 1000, &keys).is_ok());
    // Exactly 300 s either way is accepted, 301 is not.
    assert!(v3::verify(&ok, body, 1300, &keys).is_ok());
    assert!(v3::verify(&ok, body, 700, &keys).is_ok());
    assert!(matches!(
        v3::verify(&ok, body, 1301, &keys),
        Err(Error::TimestampSkew { skew: 301, .. })
    ));
    assert!(matches!(
        v3::verify(&ok, body, 699, &keys),
        Err(Error::TimestampSkew { skew: 301, .. })
    ));
    assert!(matches!(
        v3::verify(&ok, body, i64::MIN, &keys),
        Err(Error::TimestampSkew { .. })
    ));
    let unknown = WechatpayHeaders {
        serial: "DEADBEEF",
        ..ok
    };
    assert_eq!(
        v3::verify(&unknown, body, 1000, &keys),
        Err(Error::UnknownSerial {
            serial: "DEADBEEF".into()
        })
    );
    assert_eq!(
        v3::verify(&ok, b"{\"x\":2}", 1000, &keys),
        Err(Error::BadSignature {
            what: "Wechatpay-Signature"
        })
    );
    assert_eq!(
        v3::verify(&ok, b"{\"x\":1} ", 1000, &keys),
        Err(Error::BadSignature {
            what: "Wechatpay-Signature"
        })
    );
    let probe = format!("WECHATPAY/SIGNTEST/{sig}");
    assert_eq!(
        v3::verify(
            &WechatpayHeaders {
                signature: &probe,
                ..ok
            },
            body,
            1000,
            &keys
        ),
        Err(Error::SignTestProbe)
    );
    assert!(matches!(
        v3::verify(
            &WechatpayHeaders {
                signature: "***",
                ..ok
            },
            body,
            1000,
            &keys
        ),
        Err(Error::Base64 { .. })
    ));
    assert!(matches!(
        v3::verify(
            &WechatpayHeaders {
                timestamp: "10a",
                ..ok
            },
            body,
            1000,
            &keys
        ),
        Err(Error::InvalidHeader { .. })
    ));
    assert!(matches!(
        v3::verify(&WechatpayHeaders { nonce: "", ..ok }, body, 1000, &keys),
        Err(Error::InvalidHeader { .. })
    ));
    // A different nonce changes the message.
    assert!(matches!(
        v3::verify(&WechatpayHeaders { nonce: "m", ..ok }, body, 1000, &keys),
        Err(Error::BadSignature { .. })
    ));
}

#[test]
fn key_loading_accepts_every_public_form_and_explains_mistakes() {
    let cert = platform().certificate();
    assert_eq!(cert.certificate_serial(), Some(CERT_SERIAL));
    assert_eq!(cert.modulus_bits(), 2048);
    let spki = PublicKey::from_pem(&read(&platform().public_pem)).unwrap();
    assert_eq!(spki.certificate_serial(), None);
    assert_eq!(platform().merchant_key().public_key(), spki);
    // Certificate and SPKI carry the same key: each verifies what the other's private half signed.
    let sig = platform().merchant_key().sign_sha256(b"m").unwrap();
    assert!(cert.verify_sha256(b"m", &sig) && spki.verify_sha256(b"m", &sig));
    assert!(!merchant().public_key().verify_sha256(b"m", &sig));
    // PKCS#1 public key form.
    let rsa_pub = temp_file(
        "rsapub.pem",
        &openssl(&[
            "rsa",
            "-in",
            path_str(&platform().private_pem),
            "-RSAPublicKey_out",
        ]),
    );
    assert_eq!(PublicKey::from_pem(&read(&rsa_pub)).unwrap(), spki);

    let pkcs1 = MerchantKey::from_pkcs8_pem(&read(&merchant().pkcs1_pem)).unwrap_err();
    assert_eq!(pkcs1, Error::Pkcs1PrivateKey);
    assert!(pkcs1.to_string().contains("openssl pkcs8 -topk8 -nocrypt"));
    assert!(matches!(
        MerchantKey::from_pkcs8_pem(&read(&merchant().public_pem)),
        Err(Error::Pem { .. })
    ));
    assert!(matches!(
        PublicKey::from_pem(&read(&merchant().private_pem)),
        Err(Error::InvalidKey { .. })
    ));

    // Malformed PEM: truncated, corrupted base64, missing armour, wrong content.
    let pem = read(&merchant().private_pem);
    assert!(matches!(
        MerchantKey::from_pkcs8_pem(&pem[..pem.len() / 2]),
        Err(Error::Pem { .. })
    ));
    let corrupted = pem.replacen("MII", "M*I", 1);
    assert!(matches!(
        MerchantKey::from_pkcs8_pem(&corrupted),
        Err(Error::Base64 { .. })
    ));
    let body_only: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(matches!(
        MerchantKey::from_pkcs8_pem(&body_only),
        Err(Error::Pem { .. })
    ));
    let lines: Vec<&str> = pem.lines().collect();
    let missing_line = [&lines[..3], &lines[4..]].concat().join("\n");
    assert!(MerchantKey::from_pkcs8_pem(&missing_line).is_err());
    let cert_pem = read(&platform().cert_pem);
    let lines: Vec<&str> = cert_pem.lines().collect();
    let short_cert = [&lines[..5], &lines[lines.len() - 1..]].concat().join("\n");
    assert!(PublicKey::from_pem(&short_cert).is_err());

    // Too-small keys are refused at load time.
    let small = temp_file(
        "small.pem",
        &openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ]),
    );
    assert!(matches!(
        MerchantKey::from_pkcs8_pem(&read(&small)),
        Err(Error::InvalidKey { .. })
    ));
    let small_pub = openssl(&["pkey", "-in", path_str(&small), "-pubout"]);
    assert!(matches!(
        PublicKey::from_pem(std::str::from_utf8(&small_pub).unwrap()),
        Err(Error::InvalidKey { .. })
    ));
    // Non-RSA keys get a clear error.
    let ec = openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
    ]);
    let ec_pub = openssl(&[
        "pkey",
        "-in",
        path_str(&temp_file("ec.pem", &ec)),
        "-pubout",
    ]);
    let err = PublicKey::from_pem(std::str::from_utf8(&ec_pub).unwrap()).unwrap_err();
    assert!(err.to_string().contains("not an RSA key"), "{err}");
}

/// Serial and validity as Python's `cryptography` reads them from the same certificate.
const PY_CERT_FIELDS: &str = r#"
import sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], 'rb').read())
print(format(c.serial_number, 'X'), int(c.not_valid_before_utc.timestamp()),
      int(c.not_valid_after_utc.timestamp()))
"#;

#[test]
fn certificate_serial_and_validity_match_python_cryptography() {
    let out = python(PY_CERT_FIELDS, &[path_str(&platform().cert_pem)]);
    let out = String::from_utf8(out).unwrap();
    let fields: Vec<&str> = out.split_whitespace().collect();
    let cert = platform().certificate();
    assert_eq!(cert.certificate_serial(), Some(fields[0]));
    let validity = cert
        .certificate_validity()
        .expect("a certificate has a validity");
    assert_eq!(validity.not_before, fields[1].parse::<i64>().unwrap());
    assert_eq!(validity.not_after, fields[2].parse::<i64>().unwrap());
    // `-days 2` in common::generate.
    assert_eq!(validity.not_after - validity.not_before, 2 * 86_400);
    assert!(validity.contains(validity.not_before) && !validity.contains(validity.not_after + 1));
    // Bare keys have neither.
    let spki = platform().public_key();
    assert_eq!(
        (spki.certificate_serial(), spki.certificate_validity()),
        (None, None)
    );
}

#[test]
fn der_keys_in_the_wrong_form_say_what_they_are() {
    let pkcs1_der = openssl(&[
        "rsa",
        "-in",
        path_str(&merchant().private_pem),
        "-traditional",
        "-outform",
        "DER",
    ]);
    assert_eq!(
        MerchantKey::from_pkcs8_der(&pkcs1_der).unwrap_err(),
        Error::Pkcs1PrivateKey
    );
    let cert_der = openssl(&[
        "x509",
        "-in",
        path_str(&platform().cert_pem),
        "-outform",
        "DER",
    ]);
    let err = MerchantKey::from_pkcs8_der(&cert_der).unwrap_err();
    assert!(err.to_string().contains("certificate"), "{err}");
    let err = MerchantKey::from_pkcs8_pem(&read(&platform().cert_pem)).unwrap_err();
    assert!(
        matches!(err, Error::Pem { .. }) && err.to_string().contains("apiclient_key.pem"),
        "{err}"
    );
    // from_rsa_der promises PKCS#1: an SPKI is refused with a pointer to from_pem.
    let spki_der = openssl(&[
        "pkey",
        "-in",
        path_str(&merchant().private_pem),
        "-pubout",
        "-outform",
        "DER",
    ]);
    let err = PublicKey::from_rsa_der(&spki_der).unwrap_err();
    assert!(err.to_string().contains("from_pem"), "{err}");
    let rsa_der = openssl(&[
        "rsa",
        "-in",
        path_str(&merchant().private_pem),
        "-RSAPublicKey_out",
        "-outform",
        "DER",
    ]);
    assert_eq!(
        PublicKey::from_rsa_der(&rsa_der).unwrap(),
        merchant().public_key()
    );

    // A password-protected PKCS#8 key gets the command that decrypts it.
    let encrypted = openssl(&[
        "pkcs8",
        "-topk8",
        "-in",
        path_str(&merchant().private_pem),
        "-passout",
        "pass:test",
    ]);
    let err = MerchantKey::from_pkcs8_pem(std::str::from_utf8(&encrypted).unwrap()).unwrap_err();
    assert!(err.to_string().contains("password-protected"), "{err}");
}

#[test]
fn keys_never_show_in_debug_output() {
    let key = merchant().merchant_key();
    let debug = format!("{:?}", MerchantSigner::new("1", "S", key));
    assert!(
        debug.contains("RSA-2048") && !debug.contains("MII"),
        "{debug}"
    );
}

#[test]
fn v3_pay_params_match_openssl() {
    let key = merchant().merchant_key();
    let p = v3::pay_params(
        &key,
        "wx8888888888888888",
        "wx201410272009395522657a690389285100",
        1414561699,
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    )
    .unwrap();
    let message = "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n";
    assert_eq!(
        p.pay_sign,
        openssl_sign(&merchant().private_pem, message.as_bytes())
    );
    assert_eq!(
        (
            p.sign_type.as_str(),
            p.time_stamp.as_str(),
            p.package.as_str()
        ),
        (
            "RSA",
            "1414561699",
            "prepay_id=wx201410272009395522657a690389285100"
        )
    );
    // A MerchantSigner works the same as the bare key.
    let signer = MerchantSigner::new("1900009191", "S", merchant().merchant_key());
    assert_eq!(
        v3::pay_params(
            &signer,
            "wx8888888888888888",
            "wx201410272009395522657a690389285100",
            1414561699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
        )
        .unwrap(),
        p
    );
    assert!(v3::pay_params(&key, "wx", "p", 1, &"x".repeat(33)).is_err());
    // The simulator's check of what the page hands to getBrandWCPayRequest.
    assert_eq!(v3::verify_pay_params(&p, &merchant().public_key()), Ok(()));
    assert_eq!(
        v3::verify_pay_params(&p, &platform().public_key()),
        Err(Error::BadSignature { what: "paySign" })
    );
    let mut other_app = p.clone();
    other_app.app_id = "wxminiprogram".into();
    assert_eq!(
        v3::verify_pay_params(&other_app, &merchant().public_key()),
        Err(Error::BadSignature { what: "paySign" })
    );
    let mut v2_typed = p.clone();
    v2_typed.sign_type = "MD5".into();
    assert!(matches!(
        v3::verify_pay_params(&v2_typed, &merchant().public_key()),
        Err(Error::Unsupported { .. })
    ));

    let app = v3::app_pay_params(
        &key,
        "wxapp",
        "1900009191",
        "WX1217752501201407033233368018",
        1414561699,
        "nonce",
    )
    .unwrap();
    let app_message = "wxapp\n1414561699\nnonce\nWX1217752501201407033233368018\n";
    assert_eq!(
        app.sign,
        openssl_sign(&merchant().private_pem, app_message.as_bytes())
    );
    assert_eq!(app.package, "Sign=WXPay");
}
