//! Runs the built `wxpay` binary: exact outputs for fixed inputs, and the failure contract
//! (exit 1, one line on stderr, no key echoed).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{json, Value};

const V2_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn wxpay(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(args)
        .env_remove("WXPAY_V2_KEY")
        .env_remove("WXPAY_APIV3_KEY")
        .output()
        .expect("run wxpay")
}

fn ok_json(args: &[&str]) -> Value {
    let out = wxpay(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

fn ok_text(args: &[&str]) -> String {
    let out = wxpay(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Exit code 1, empty stdout, exactly one stderr line; returns it.
fn fails(args: &[&str]) -> String {
    let out = wxpay(args);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    err
}

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is needed: apt-get install -y openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let k = Keys {
            dir: tempfile::tempdir().unwrap(),
        };
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &k.s("key.pem"),
        ]);
        openssl(&[
            "rsa",
            "-in",
            &k.s("key.pem"),
            "-traditional",
            "-out",
            &k.s("pkcs1.pem"),
        ]);
        openssl(&[
            "pkey",
            "-in",
            &k.s("key.pem"),
            "-pubout",
            "-out",
            &k.s("pub.pem"),
        ]);
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            &k.s("key.pem"),
            "-subj",
            "/CN=test",
            "-days",
            "1",
            "-set_serial",
            "0x3775B6A45ACD588826D15E583A95F5DD",
            "-out",
            &k.s("cert.pem"),
        ]);
        k
    })
}

fn write(name: &str, contents: &[u8]) -> String {
    let p = keys().path(name);
    std::fs::write(&p, contents).unwrap();
    p.to_str().unwrap().to_string()
}

fn openssl_sign_b64(message: &[u8], name: &str) -> String {
    use base64::Engine as _;
    let msg = write(name, message);
    base64::engine::general_purpose::STANDARD.encode(openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        &keys().s("key.pem"),
        &msg,
    ]))
}

#[test]
fn sign_v2_reproduces_the_official_example() {
    let example = [
        "appid=wxd930ea5d5a258f4f",
        "mch_id=10000100",
        "device_info=1000",
        "body=test",
        "nonce_str=ibuaiVcKdpRxkhJA",
    ];
    let string_a = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA";
    let md5 = ok_json(&[&["sign-v2", "--key", V2_KEY][..], &example].concat());
    assert_eq!(
        md5,
        json!({"string_to_sign": string_a, "sign": "9A0A8659F005D6984697E2CA0A9CF3B7"})
    );
    let hmac = ok_json(
        &[
            &["sign-v2", "--key", V2_KEY, "--sign-type", "HMAC-SHA256"][..],
            &example,
        ]
        .concat(),
    );
    assert_eq!(
        hmac["sign"],
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
    // The key can come from the environment instead of argv.
    let out = Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args([&["sign-v2"][..], &example].concat())
        .env("WXPAY_V2_KEY", V2_KEY)
        .output()
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), md5);

    assert!(
        fails(&["sign-v2", "--key", V2_KEY, "--sign-type", "SHA1", "a=b"])
            .contains("MD5 or HMAC-SHA256")
    );
    assert!(fails(&["sign-v2", "--key", V2_KEY, "novalue"]).contains("NAME=VALUE"));
    assert!(fails(&["sign-v2", "--key", V2_KEY, "a=1", "a=2"]).contains("twice"));
}

#[test]
fn verify_v2_accepts_signed_xml_and_explains_a_mismatch() {
    let good = format!(
        "<xml><appid><![CDATA[wxd930ea5d5a258f4f]]></appid><body>test</body><device_info>1000</device_info><mch_id>10000100</mch_id><nonce_str>ibuaiVcKdpRxkhJA</nonce_str><sign>{}</sign></xml>",
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
    let file = write("good.xml", good.as_bytes());
    assert_eq!(
        ok_json(&["verify-v2", "--key", V2_KEY, "--xml-file", &file]),
        json!({"valid": true, "sign_type": "MD5"})
    );
    let bad = write(
        "bad.xml",
        good.replace("<body>test", "<body>TEST").as_bytes(),
    );
    let err = fails(&["verify-v2", "--key", V2_KEY, "--xml-file", &bad]);
    assert!(
        err.contains("does not match") && err.contains("body=TEST"),
        "{err}"
    );
    assert!(!err.contains(V2_KEY), "key leaked: {err}");
    // An HMAC-SHA256 answer without sign_type: needs --sign-type HMAC-SHA256.
    let hmac = write(
        "hmac.xml",
        good.replace(
            "9A0A8659F005D6984697E2CA0A9CF3B7",
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6",
        )
        .as_bytes(),
    );
    assert!(fails(&["verify-v2", "--key", V2_KEY, "--xml-file", &hmac]).contains("(MD5)"));
    assert_eq!(
        ok_json(&[
            "verify-v2",
            "--key",
            V2_KEY,
            "--xml-file",
            &hmac,
            "--sign-type",
            "HMAC-SHA256"
        ]),
        json!({"valid": true, "sign_type": "HMAC-SHA256"})
    );
    let xxe = write(
        "xxe.xml",
        b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>",
    );
    assert!(fails(&["verify-v2", "--key", V2_KEY, "--xml-file", &xxe]).contains("XXE"));
    assert!(fails(&[
        "verify-v2",
        "--key",
        V2_KEY,
        "--xml-file",
        "/nonexistent.xml"
    ])
    .contains("cannot read --xml-file"));
}

#[test]
fn sign_v3_matches_openssl_and_verify_v3_accepts_it() {
    let body = r#"{"appid":"wx1","mchid":"1900009191","amount":{"total":1}}"#;
    let body_file = write("body.json", body.as_bytes());
    let out = ok_json(&[
        "sign-v3",
        "--mchid",
        "1900009191",
        "--serial",
        "SERIAL9",
        "--private-key",
        &keys().s("key.pem"),
        "--method",
        "POST",
        "--url",
        "/v3/pay/transactions/native",
        "--body-file",
        &body_file,
        "--timestamp",
        "1700000000",
        "--nonce",
        "NONCE1",
    ]);
    let message = format!("POST\n/v3/pay/transactions/native\n1700000000\nNONCE1\n{body}\n");
    assert_eq!(out["message"], message);
    let signature = openssl_sign_b64(message.as_bytes(), "m1");
    assert_eq!(out["signature"], signature);
    assert_eq!(
        out["authorization"],
        format!("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\"NONCE1\",signature=\"{signature}\",timestamp=\"1700000000\",serial_no=\"SERIAL9\"")
    );

    // verify-v3 over a response-style message, with the certificate and with the SPKI key.
    let resp = write("resp.json", body.as_bytes());
    let resp_sig = openssl_sign_b64(format!("1700000000\nN2\n{body}\n").as_bytes(), "m2");
    let verify = |pem: &str, extra: &[&str]| {
        let args = [
            &[
                "verify-v3",
                "--public-key",
                pem,
                "--timestamp",
                "1700000000",
                "--nonce",
                "N2",
                "--signature",
                &resp_sig,
                "--body-file",
                &resp,
            ][..],
            extra,
        ]
        .concat();
        wxpay(&args)
    };
    for pem in [keys().s("cert.pem"), keys().s("pub.pem")] {
        let out = verify(&pem, &["--now", "1700000100"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            json!({"valid": true})
        );
    }
    assert!(verify(
        &keys().s("cert.pem"),
        &[
            "--now",
            "1700000100",
            "--serial",
            "3775B6A45ACD588826D15E583A95F5DD"
        ]
    )
    .status
    .success());
    let expect_fail = |out: Output, needle: &str| {
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(needle), "expected {needle:?} in {err}");
    };
    expect_fail(
        verify(
            &keys().s("cert.pem"),
            &["--now", "1700000100", "--serial", "OTHER"],
        ),
        "unknown Wechatpay-Serial",
    );
    expect_fail(
        verify(&keys().s("pub.pem"), &["--now", "1700000301"]),
        "301 s away",
    );
    let tampered = write(
        "tampered.json",
        body.replace("\"total\":1", "\"total\":2").as_bytes(),
    );
    let out = wxpay(&[
        "verify-v3",
        "--public-key",
        &keys().s("pub.pem"),
        "--timestamp",
        "1700000000",
        "--nonce",
        "N2",
        "--signature",
        &resp_sig,
        "--body-file",
        &tampered,
        "--now",
        "1700000000",
    ]);
    expect_fail(out, r#"the signed message was "1700000000\nN2\n{\"appid\""#);
}

#[test]
fn private_key_mistakes_get_actionable_errors() {
    let args = |key: &str| {
        fails(&[
            "sign-v3",
            "--mchid",
            "1",
            "--serial",
            "S",
            "--private-key",
            key,
            "--method",
            "GET",
            "--url",
            "/v3/certificates",
        ])
    };
    assert!(args(&keys().s("pkcs1.pem")).contains("openssl pkcs8 -topk8"));
    assert!(args(&keys().s("pub.pem")).contains("BEGIN PRIVATE KEY"));
    assert!(args("/nonexistent.pem").contains("cannot read --private-key"));
    let err = fails(&[
        "sign-v3",
        "--mchid",
        "1",
        "--serial",
        "S",
        "--private-key",
        &keys().s("key.pem"),
        "--method",
        "GET",
        "--url",
        "https://api.mch.weixin.qq.com/v3/certificates",
    ]);
    assert!(err.contains("path and query only"), "{err}");
}

#[test]
fn decrypt_and_decrypt_refund_print_plaintext() {
    let key = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
    let ct = wxpay_sign::v3::encrypt_resource(
        key.as_bytes(),
        "fdasflkja484",
        "transaction",
        "{\"x\":\"中\"}".as_bytes(),
    )
    .unwrap();
    assert_eq!(
        ok_text(&[
            "decrypt",
            "--apiv3-key",
            key,
            "--nonce",
            "fdasflkja484",
            "--associated-data",
            "transaction",
            "--ciphertext",
            &ct
        ]),
        "{\"x\":\"中\"}"
    );
    let err = fails(&[
        "decrypt",
        "--apiv3-key",
        "short",
        "--nonce",
        "fdasflkja484",
        "--associated-data",
        "transaction",
        "--ciphertext",
        &ct,
    ]);
    assert!(
        err.contains("must be 32 bytes, got 5") && !err.contains("short\""),
        "{err}"
    );
    assert!(fails(&[
        "decrypt",
        "--apiv3-key",
        key,
        "--nonce",
        "fdasflkja484",
        "--ciphertext",
        &ct
    ])
    .contains("could not decrypt"));

    let req_info = wxpay_sign::v2::encrypt_refund_req_info(
        V2_KEY,
        "<root><refund_status>SUCCESS</refund_status></root>",
    );
    assert_eq!(
        ok_text(&["decrypt-refund", "--key", V2_KEY, "--req-info", &req_info]),
        "<root><refund_status>SUCCESS</refund_status></root>"
    );
    let wrong = "0123456789abcdef0123456789abcdef";
    assert!(
        fails(&["decrypt-refund", "--key", wrong, "--req-info", &req_info])
            .contains("could not decrypt")
    );
}

#[test]
fn v2_keys_must_be_32_characters() {
    for args in [
        &["sign-v2", "--key", "short", "a=b"][..],
        &["decrypt-refund", "--key", "short", "--req-info", "AAAA"][..],
        &[
            "pay-params",
            "--appid",
            "wx1",
            "--prepay-id",
            "wx2",
            "--key",
            "short",
        ][..],
    ] {
        let err = fails(args);
        assert!(
            err.contains("32-character v2 API key") && err.contains("got 5 characters"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("short"), "the key is never echoed: {err}");
    }
    let spaced = format!("{} ", &V2_KEY[..31]);
    assert!(fails(&["sign-v2", "--key", &spaced, "a=b"]).contains("other characters"));
}

#[test]
fn pay_params_v3_and_v2() {
    let v3 = ok_json(&[
        "pay-params",
        "--appid",
        "wx8888888888888888",
        "--prepay-id",
        "wx201410272009395522657a690389285100",
        "--private-key",
        &keys().s("key.pem"),
        "--timestamp",
        "1414561699",
        "--nonce",
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    ]);
    let message = "wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n";
    assert_eq!(
        v3,
        json!({
            "appId": "wx8888888888888888", "timeStamp": "1414561699", "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
            "package": "prepay_id=wx201410272009395522657a690389285100", "signType": "RSA",
            "paySign": openssl_sign_b64(message.as_bytes(), "m3"),
        })
    );
    let v2 = ok_json(&[
        "pay-params",
        "--appid",
        "wx1",
        "--prepay-id",
        "p1",
        "--key",
        V2_KEY,
        "--sign-type",
        "HMAC-SHA256",
        "--timestamp",
        "1",
        "--nonce",
        "n",
    ]);
    let expected = wxpay_sign::v2::pay_params(
        "wx1",
        "p1",
        1,
        "n",
        V2_KEY,
        wxpay_sign::v2::SignType::HmacSha256,
    );
    assert_eq!(v2, serde_json::to_value(expected).unwrap());
    // Defaults: real clock, random 32-character nonce.
    let fresh = ok_json(&[
        "pay-params",
        "--appid",
        "wx1",
        "--prepay-id",
        "p1",
        "--key",
        V2_KEY,
    ]);
    assert_eq!(fresh["nonceStr"].as_str().unwrap().len(), 32);
    assert_eq!(fresh["signType"], "MD5");
    assert!(fresh["timeStamp"].as_str().unwrap().parse::<i64>().unwrap() > 1_700_000_000);

    assert!(
        fails(&["pay-params", "--appid", "wx1", "--prepay-id", "p1"]).contains("--private-key")
    );
    fails(&[
        "pay-params",
        "--appid",
        "wx1",
        "--prepay-id",
        "p1",
        "--key",
        V2_KEY,
        "--private-key",
        &keys().s("key.pem"),
    ]);
}

#[test]
fn help_lists_every_signing_subcommand() {
    let help = ok_text(&["--help"]);
    for cmd in [
        "sign-v2",
        "verify-v2",
        "sign-v3",
        "verify-v3",
        "decrypt",
        "pay-params",
        "decrypt-refund",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from --help");
    }
}
