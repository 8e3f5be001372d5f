//! `wxpay doctor` on the merchant API client certificate (`apiclient_cert_file` /
//! `apiclient_key_file`, v2 refunds' mutual TLS), with TEST keys made by openssl: a sound pair
//! passes, one near the end of its validity is a warning, and each problem — a file that does
//! not load, a key that is not the certificate's, an expired or not yet valid certificate, a CN
//! that is not the mchid — is its own finding saying what to fix.

use std::path::Path;
use wxpay_server::config::{ApiVersion, Config};
use wxpay_server::devkeys::{load_or_generate, DevKeyPair};
use wxpay_server::doctor::{check, Finding, Level};
use wxpay_sign::Certificate;

const MCHID: &str = "1900000109";
const DAY: i64 = 86_400;

fn config(cert: &Path, key: &Path) -> Config {
    Config {
        mchid: MCHID.into(),
        apiclient_cert_file: Some(cert.into()),
        apiclient_key_file: Some(key.into()),
        ..Config::default()
    }
}

/// The findings about the API client certificate.
fn apiclient(cfg: &Config, now: i64) -> Vec<Finding> {
    check(cfg, None, now)
        .into_iter()
        .filter(|f| f.check == "apiclient_cert")
        .collect()
}

fn levels(findings: &[Finding]) -> Vec<Level> {
    findings.iter().map(|f| f.level).collect()
}

/// Validity of a generated certificate: (not_before, not_after).
fn validity(pair: &DevKeyPair) -> (i64, i64) {
    let v = Certificate::from_pem(&pair.cert_pem).unwrap().validity;
    (v.not_before, v.not_after)
}

#[test]
fn a_sound_api_client_certificate_passes_and_one_near_its_end_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let pair = load_or_generate(dir.path(), "apiclient", MCHID).unwrap();
    let cfg = config(&pair.cert_path, &pair.key_path);
    let (not_before, not_after) = validity(&pair);

    let sound = apiclient(&cfg, not_before + DAY);
    assert_eq!(levels(&sound), [Level::Ok], "{sound:?}");
    assert!(sound[0].message.contains(&pair.serial), "{sound:?}");

    let soon = apiclient(&cfg, not_after - 10 * DAY);
    assert_eq!(levels(&soon), [Level::Warning], "{soon:?}");
    assert!(soon[0].message.contains("expires on"), "{soon:?}");
    assert!(soon[0].fix.contains("renew"), "{soon:?}");
    // 30 days is the line.
    assert_eq!(levels(&apiclient(&cfg, not_after - 31 * DAY)), [Level::Ok]);
}

#[test]
fn a_broken_api_client_certificate_gets_one_finding_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let pair = load_or_generate(dir.path(), "apiclient", MCHID).unwrap();
    let other = load_or_generate(dir.path(), "other", MCHID).unwrap();
    let stranger = load_or_generate(dir.path(), "stranger", "1234567890").unwrap();
    let (not_before, not_after) = validity(&pair);
    let now = not_before + DAY;

    // Another certificate's key.
    let f = apiclient(&config(&pair.cert_path, &other.key_path), now);
    assert_eq!(levels(&f), [Level::Error], "{f:?}");
    assert!(
        f[0].message.contains("is not the key of certificate"),
        "{f:?}"
    );
    assert!(f[0].fix.contains("apiclient_key.pem"), "{f:?}");

    // Expired, and not yet valid.
    let f = apiclient(&config(&pair.cert_path, &pair.key_path), not_after + 1);
    assert_eq!(levels(&f), [Level::Error], "{f:?}");
    assert!(f[0].message.contains("expired on"), "{f:?}");
    assert!(f[0].fix.contains("renew"), "{f:?}");
    let f = apiclient(&config(&pair.cert_path, &pair.key_path), not_before - 60);
    assert_eq!(levels(&f), [Level::Error], "{f:?}");
    assert!(f[0].fix.contains("clock"), "{f:?}");

    // Issued to another merchant.
    let f = apiclient(&config(&stranger.cert_path, &stranger.key_path), now);
    assert_eq!(levels(&f), [Level::Error], "{f:?}");
    assert!(
        f[0].message.contains("\"1234567890\"") && f[0].message.contains(MCHID),
        "{f:?}"
    );

    // Both wrong at once: two findings.
    let f = apiclient(&config(&stranger.cert_path, &pair.key_path), now);
    assert_eq!(levels(&f), [Level::Error, Level::Error], "{f:?}");

    // Files that do not load: the key given as the certificate, a missing key file.
    let missing = dir.path().join("missing.pem");
    let f = apiclient(&config(&pair.key_path, &missing), now);
    assert_eq!(levels(&f), [Level::Error, Level::Error], "{f:?}");
    assert!(f[0].message.starts_with("apiclient_cert_file"), "{f:?}");
    assert!(f[0].fix.contains("BEGIN CERTIFICATE"), "{f:?}");
    assert!(f[1].message.contains("cannot read"), "{f:?}");
    assert!(f[1].fix.contains("apiclient_key.pem"), "{f:?}");

    // Half configured.
    let half = Config {
        apiclient_key_file: None,
        ..config(&pair.cert_path, &pair.key_path)
    };
    let f = apiclient(&half, now);
    assert_eq!(levels(&f), [Level::Error], "{f:?}");
    assert!(f[0].fix.contains("set both"), "{f:?}");
}

#[test]
fn a_v2_merchant_without_the_certificate_is_told_refunds_need_it() {
    let v3 = Config {
        mchid: MCHID.into(),
        ..Config::default()
    };
    assert!(
        apiclient(&v3, 0).is_empty(),
        "v3 refunds need no client certificate"
    );
    let v2 = Config {
        api_version: ApiVersion::V2,
        ..v3
    };
    let f = apiclient(&v2, 0);
    assert_eq!(levels(&f), [Level::Warning], "{f:?}");
    assert!(f[0].fix.contains("apiclient_cert_file"), "{f:?}");
}
