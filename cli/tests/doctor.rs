//! `wxpay doctor`: a sound configuration (the demo's own keys, against the running demo) passes;
//! a broken one gets one finding per problem, each saying what to fix, and exit 1.

mod demo;

use demo::Demo;
use std::process::Command;

use serde_json::Value;

fn doctor(args: &[&str]) -> (bool, Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxpay"));
    cmd.arg("doctor").args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WXPAY_")) {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    (out.status.success(), report, stderr)
}

/// The certificate's serial as openssl prints it (upper-case hex).
fn openssl_serial(cert: &std::path::Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-serial", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim().trim_start_matches("serial=").to_string()
}

fn checks(report: &Value, level: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == level)
        .map(|f| f["check"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_sound_configuration_passes_and_a_broken_one_says_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path(), &["--platform-key-mode", "certificate"]);
    let url = demo.url.clone();
    let keys = dir.path().join("keys");
    let serial = openssl_serial(&keys.join("platform_cert.pem"));
    let merchant_serial = openssl_serial(&keys.join("merchant_cert.pem"));
    let config = |notify: &str, apiv3: &str, listed_serial: &str, dirs: &str| {
        format!(
            "mchid = \"1900000109\"\nappid = \"wxd678efh567hg6787\"\nmerchant_serial = \"{merchant_serial}\"\n\
             merchant_key_file = \"{}\"\napiv3_key = \"{apiv3}\"\nnotify_url = \"{notify}\"\n\
             wechat_base_url = \"{url}\"\njsapi_pay_dirs = [{dirs}]\nh5_domains = [\"shop.example\"]\n\
             oauth_domains = [\"shop.example\"]\nh5_redirect_hosts = [\"shop.example\"]\n\
             [platform_certs]\n\"{listed_serial}\" = \"{}\"\n",
            keys.join("merchant_key.pem").display(),
            keys.join("platform_cert.pem").display(),
        )
    };
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        config(
            "https://shop.example/api/wxpay/notify",
            "0123456789abcdef0123456789abcdef",
            &serial,
            "\"https://shop.example/pay/\"",
        ),
    )
    .unwrap();
    let (ok, report, err) = doctor(&[
        "--config",
        good.to_str().unwrap(),
        "--page-url",
        "https://shop.example/pay/index.html",
    ]);
    assert!(ok, "{err}\n{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert!(
        checks(&report, "ok").contains(&"clock".to_string()),
        "{report:#}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        config(
            "http://shop.example/notify?order=1",
            "short",
            "0ABC",
            "\"https://shop.example/pay/\"",
        ),
    )
    .unwrap();
    let (ok, report, err) = doctor(&[
        "--config",
        bad.to_str().unwrap(),
        "--page-url",
        "https://m.other.example/checkout/",
        "--offline",
    ]);
    drop(demo);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    let errors = checks(&report, "error");
    for check in [
        "apiv3_key",
        "notify_url",
        "platform_certs",
        "jsapi_pay_dirs",
        "h5_domains",
        "oauth_domains",
    ] {
        assert!(
            errors.contains(&check.to_string()),
            "{check} missing in {report:#}"
        );
    }
    for f in report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "error")
    {
        assert!(!f["fix"].as_str().unwrap().is_empty(), "{f}");
    }
    let text = report.to_string();
    assert!(
        text.contains("当前页面的URL未注册")
            && text.contains(&format!("list it as \\\"{serial}\\\"")),
        "{report:#}"
    );
    assert!(
        !text.contains("0123456789abcdef"),
        "secrets are never printed"
    );
}
