//! `wxpay doctor`: a configuration checked against what breaks in the field, each finding saying
//! what to fix. Pure checks over the config, its key files and (optionally) the paying page's URL,
//! plus one network check — the clock against WeChat's `Date` — kept apart in [`clock_skew`].
//!
//! The merchant platform's own settings (JSAPI payment authorization directories, H5 domains,
//! the official account's OAuth domain) are not visible through any API, so the config states
//! what was registered (`jsapi_pay_dirs`, `h5_domains`, `oauth_domains`) and doctor checks the
//! page against those, by WeChat's rules.
//!
//! The merchant API client certificate (v2 refunds' mutual TLS) has its own checks in
//! [`apiclient`]; a PostgreSQL `database_url` is looked at (a second network check) in
//! [`database()`].

mod apiclient;
mod database;

pub use database::database;

use crate::config::Config;
use crate::sim::bridge::{page_directory_registered, MAX_JSAPI_DIRS};
use serde::Serialize;
use wxpay_sign::keys::{MerchantKey, PublicKey};
use wxpay_sign::Certificate;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Payments will fail (or already do).
    Error,
    /// Works today, breaks soon or in some cases.
    Warning,
    /// Checked and fine.
    Ok,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub level: Level,
    /// Which setting or rule.
    pub check: &'static str,
    pub message: String,
    /// What to do; empty for `Ok`.
    pub fix: String,
}

fn finding(
    level: Level,
    check: &'static str,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        level,
        check,
        message: message.into(),
        fix: fix.into(),
    }
}

fn ok(check: &'static str, message: impl Into<String>) -> Finding {
    finding(Level::Ok, check, message, "")
}

/// Certificates expiring within this many days get a warning.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// Every offline check; `page_url` is the page that will pay (its directory and host).
pub fn check(cfg: &Config, page_url: Option<&str>, now: i64) -> Vec<Finding> {
    let mut out = Vec::new();
    ids(cfg, &mut out);
    merchant_key(cfg, &mut out);
    secrets(cfg, &mut out);
    platform_keys(cfg, now, &mut out);
    apiclient::apiclient_cert(cfg, now, &mut out);
    notify_url(cfg, &mut out);
    registered(cfg, &mut out);
    if let Some(page) = page_url {
        page_checks(cfg, page, &mut out);
    }
    out
}

fn ids(cfg: &Config, out: &mut Vec<Finding>) {
    if cfg.mchid.is_empty() || !cfg.mchid.chars().all(|c| c.is_ascii_digit()) {
        out.push(finding(
            Level::Error,
            "mchid",
            format!("mchid {:?} is not a merchant number", cfg.mchid),
            "set mchid to the digits shown at the top of the merchant platform",
        ));
    } else {
        out.push(ok("mchid", format!("mchid {}", cfg.mchid)));
    }
    for (key, appid) in [
        ("appid", Some(cfg.appid.as_str())),
        ("mp_appid", cfg.mp_appid.as_deref()),
    ] {
        let Some(appid) = appid else { continue };
        if appid.len() != 18 || !appid.starts_with("wx") {
            out.push(finding(Level::Error, "appid", format!("{key} {appid:?} is not an appid (wx + 16 characters)"), format!("copy {key} from the official account / mini-program settings (开发 → 基本配置)")));
        }
    }
}

fn merchant_key(cfg: &Config, out: &mut Vec<Finding>) {
    let serial = &cfg.merchant_serial;
    if serial.is_empty() || !serial.chars().all(|c| c.is_ascii_hexdigit()) {
        out.push(finding(Level::Error, "merchant_serial", format!("merchant_serial {serial:?} is not a hex certificate serial"), "copy the serial of the merchant API certificate (merchant platform → API security → 管理证书), or run `openssl x509 -noout -serial -in apiclient_cert.pem`"));
    } else {
        out.push(ok("merchant_serial", format!("merchant_serial {serial}")));
    }
    let pem = match (&cfg.merchant_key_pem, &cfg.merchant_key_file) {
        (Some(p), _) => Ok(p.0.clone()),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
        (None, None) => Err("neither merchant_key_file nor merchant_key_pem is set".into()),
    };
    match pem.and_then(|p| MerchantKey::from_pkcs8_pem(&p).map_err(|e| e.to_string())) {
        Ok(_) => out.push(ok("merchant_key", "the merchant private key loads")),
        Err(e) => out.push(finding(Level::Error, "merchant_key", e, "point merchant_key_file at apiclient_key.pem (PKCS#8, BEGIN PRIVATE KEY) from the merchant API certificate download; convert an RSA PRIVATE KEY with `openssl pkcs8 -topk8 -nocrypt`")),
    }
}

fn secrets(cfg: &Config, out: &mut Vec<Finding>) {
    let n = cfg.apiv3_key.0.len();
    if n == 32 {
        out.push(ok("apiv3_key", "the APIv3 key is 32 bytes"));
    } else {
        out.push(finding(Level::Error, "apiv3_key", format!("the APIv3 key is {n} bytes, not 32"), "set apiv3_key to the 32-character APIv3 key (merchant platform → API security → 设置APIv3密钥)"));
    }
    if let Some(k) = &cfg.v2_key {
        let n = k.0.chars().count();
        if n != 32 || !k.0.chars().all(|c| c.is_ascii_alphanumeric()) {
            out.push(finding(Level::Error, "v2_key", format!("the v2 API key is {n} characters (or not letters and digits); it is exactly 32 letters and digits"), "set v2_key to the API key (merchant platform → API security → API密钥)"));
        }
    }
}

fn platform_keys(cfg: &Config, now: i64, out: &mut Vec<Finding>) {
    if cfg.platform_certs.is_empty() && cfg.platform_public_key_id.is_none() {
        out.push(finding(Level::Error, "platform_keys", "no WeChat Pay platform key: answers and notifications cannot be verified", "set platform_public_key_id + platform_public_key (merchant platform → API security → 微信支付公钥), or platform_certs"));
    }
    for (serial, path) in &cfg.platform_certs {
        let pem = match std::fs::read_to_string(path) {
            Ok(p) => p,
            Err(e) => {
                out.push(finding(
                    Level::Error,
                    "platform_certs",
                    format!("{serial}: cannot read {}: {e}", path.display()),
                    "fix the path, or download the certificate again",
                ));
                continue;
            }
        };
        if pem.contains("BEGIN PUBLIC KEY") {
            let id_ok = serial.starts_with("PUB_KEY_ID_");
            out.push(if id_ok {
                ok("platform_certs", format!("{serial}: a WeChat Pay public key"))
            } else {
                finding(Level::Error, "platform_certs", format!("{serial}: a public key filed under a name that is not PUB_KEY_ID_…"), "file it under its id PUB_KEY_ID_… (shown beside it on the merchant platform), or use platform_public_key_id")
            });
            continue;
        }
        let info = match Certificate::from_pem(&pem) {
            Ok(i) => i,
            Err(e) => {
                out.push(finding(Level::Error, "platform_certs", format!("{serial}: {}: {e}", path.display()), "use the decrypted certificate PEM from /v3/certificates (BEGIN CERTIFICATE), not apiclient_cert.pem"));
                continue;
            }
        };
        if !info.serial.eq_ignore_ascii_case(serial) {
            out.push(finding(
                Level::Error,
                "platform_certs",
                format!(
                    "{} is listed as {serial} but its serial is {}",
                    path.display(),
                    info.serial
                ),
                format!(
                    "list it as \"{}\" (Wechatpay-Serial names it so)",
                    info.serial
                ),
            ));
        } else if now > info.validity.not_after {
            out.push(finding(Level::Error, "platform_certs", format!("{serial} expired on {}", crate::timefmt::beijing_rfc3339(info.validity.not_after)), "download the current platform certificates (GET /v3/certificates; the backend does it at start in certificate mode), or move to the WeChat Pay public key"));
        } else if now < info.validity.not_before {
            out.push(finding(
                Level::Error,
                "platform_certs",
                format!(
                    "{serial} is valid only from {}",
                    crate::timefmt::beijing_rfc3339(info.validity.not_before)
                ),
                "check this machine's clock",
            ));
        } else if info.validity.not_after - now < EXPIRY_WARNING_DAYS * 86_400 {
            out.push(finding(Level::Warning, "platform_certs", format!("{serial} expires on {}", crate::timefmt::beijing_rfc3339(info.validity.not_after)), "keep the backend running in certificate mode (it downloads the successor), or move to the WeChat Pay public key"));
        } else if PublicKey::from_pem(&pem).is_err() {
            out.push(finding(
                Level::Error,
                "platform_certs",
                format!("{serial}: the certificate's key is not a usable RSA key"),
                "download the platform certificate again",
            ));
        } else {
            out.push(ok(
                "platform_certs",
                format!(
                    "{serial}: valid until {}",
                    crate::timefmt::beijing_rfc3339(info.validity.not_after)
                ),
            ));
        }
    }
    match (&cfg.platform_public_key_id, &cfg.platform_public_key) {
        (None, None) => {}
        (Some(id), Some(path)) => {
            let text = path.to_string_lossy();
            let pem = if text.trim_start().starts_with("-----BEGIN") {
                Ok(text.into_owned())
            } else {
                std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))
            };
            let loaded = pem.and_then(|p| PublicKey::from_pem(&p).map_err(|e| e.to_string()));
            if !id.starts_with("PUB_KEY_ID_") {
                out.push(finding(Level::Error, "platform_public_key_id", format!("{id:?} does not start with PUB_KEY_ID_"), "copy the id shown beside the public key on the merchant platform; a certificate serial belongs in platform_certs"));
            } else if let Err(e) = loaded {
                out.push(finding(Level::Error, "platform_public_key", e, "point platform_public_key at pub_key.pem downloaded from the merchant platform (BEGIN PUBLIC KEY)"));
            } else {
                out.push(ok(
                    "platform_public_key",
                    format!("{id}: the WeChat Pay public key loads"),
                ));
            }
        }
        _ => out.push(finding(
            Level::Error,
            "platform_public_key",
            "only one of platform_public_key_id and platform_public_key is set",
            "set both: the id (PUB_KEY_ID_…) and the pub_key.pem it names",
        )),
    }
}

fn notify_url(cfg: &Config, out: &mut Vec<Finding>) {
    let url = match url::Url::parse(&cfg.notify_url) {
        Ok(u) => u,
        Err(e) => {
            out.push(finding(
                Level::Error,
                "notify_url",
                format!("{:?} is not an absolute URL: {e}", cfg.notify_url),
                "set notify_url to https://your-host/api/wxpay/notify",
            ));
            return;
        }
    };
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !loopback {
        out.push(finding(
            Level::Error,
            "notify_url",
            format!("{} is not https", cfg.notify_url),
            "WeChat only notifies https URLs: serve the backend behind TLS and use https://",
        ));
    } else if loopback {
        out.push(finding(
            Level::Warning,
            "notify_url",
            format!(
                "{} is on this machine; WeChat cannot reach it",
                cfg.notify_url
            ),
            "use a public https URL (fine for the simulator)",
        ));
    } else if url.query().is_some() {
        out.push(finding(
            Level::Error,
            "notify_url",
            "notify_url has a query string; WeChat refuses it",
            "drop the ?…; put what you need in the path or look the order up by out_trade_no",
        ));
    } else if cfg.notify_url.len() > 256 {
        out.push(finding(
            Level::Error,
            "notify_url",
            "notify_url is longer than 256 characters",
            "use a shorter path",
        ));
    } else {
        out.push(ok("notify_url", cfg.notify_url.clone()));
    }
}

fn registered(cfg: &Config, out: &mut Vec<Finding>) {
    if cfg.jsapi_pay_dirs.len() > MAX_JSAPI_DIRS {
        out.push(finding(Level::Error, "jsapi_pay_dirs", format!("{} JSAPI payment directories; the merchant platform holds at most {MAX_JSAPI_DIRS}", cfg.jsapi_pay_dirs.len()), "serve the paying pages from at most five directories (a top-level one such as https://shop.example/ covers a whole host)"));
    }
    for dir in &cfg.jsapi_pay_dirs {
        if !dir.ends_with('/') || url::Url::parse(dir).is_err() {
            out.push(finding(Level::Error, "jsapi_pay_dirs", format!("{dir:?} is not a directory URL"), "register directories like https://shop.example/pay/ (scheme, host, path ending in /)"));
        }
    }
}

fn page_checks(cfg: &Config, page: &str, out: &mut Vec<Finding>) {
    let Ok(url) = url::Url::parse(page) else {
        out.push(finding(
            Level::Error,
            "page_url",
            format!("{page:?} is not an absolute URL"),
            "pass --page-url https://shop.example/pay/",
        ));
        return;
    };
    let host = url.host_str().unwrap_or("");
    let path = url.path();
    let dir = format!(
        "{}{}",
        url.origin().ascii_serialization(),
        &path[..path.rfind('/').map_or(0, |i| i + 1)]
    );
    if page_directory_registered(page, &cfg.jsapi_pay_dirs) {
        out.push(ok(
            "jsapi_pay_dirs",
            format!("{dir} is a registered JSAPI payment directory"),
        ));
    } else {
        out.push(finding(Level::Error, "jsapi_pay_dirs", format!("{dir} is not among the JSAPI payment directories {:?}: in WeChat the pay sheet fails with 当前页面的URL未注册", cfg.jsapi_pay_dirs), format!("register {dir} on the merchant platform (产品中心 → 开发配置 → JSAPI支付授权目录) and add it to jsapi_pay_dirs")));
    }
    let listed = |hosts: &[String]| hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
    if listed(&cfg.h5_domains) {
        out.push(ok(
            "h5_domains",
            format!("{host} is a registered H5 domain"),
        ));
    } else {
        out.push(finding(Level::Error, "h5_domains", format!("{host} is not among the H5 domains {:?}: the H5 cashier answers 商家参数格式有误", cfg.h5_domains), format!("register {host} under H5支付域名 on the merchant platform and add it to h5_domains; and keep the Referer (no `no-referrer` policy, no server-side 302 to h5_url)")));
    }
    if listed(&cfg.oauth_domains) {
        out.push(ok(
            "oauth_domains",
            format!("{host} is the OAuth web-authorisation domain"),
        ));
    } else {
        out.push(finding(Level::Error, "oauth_domains", format!("{host} is not among the OAuth domains {:?}: openid lookup fails with redirect_uri域名与后台配置不一致 (10003)", cfg.oauth_domains), format!("set 网页授权域名 of the official account to {host} and add it to oauth_domains")));
    }
    if !cfg.redirect_host_allowed(host) {
        out.push(finding(Level::Warning, "h5_redirect_hosts", format!("{host} is not in h5_redirect_hosts: the backend refuses it as an H5 return or OAuth redirect target"), format!("add {host} to h5_redirect_hosts")));
    }
}

/// WeChat refuses timestamps more than five minutes off; warn from one minute.
pub fn clock_skew(skew_secs: i64) -> Finding {
    let s = skew_secs.abs();
    if s > 300 {
        finding(Level::Error, "clock", format!("this machine's clock is {skew_secs} s off WeChat's"), "sync the clock (NTP): WeChat refuses signatures more than 5 minutes off, and answers fail verification here")
    } else if s > 60 {
        finding(
            Level::Warning,
            "clock",
            format!("this machine's clock is {skew_secs} s off WeChat's"),
            "sync the clock (NTP) before it drifts past WeChat's 5 minutes",
        )
    } else {
        ok("clock", format!("within {s} s of WeChat's"))
    }
}

/// Asks `base_url` for its `Date` and returns (our clock − theirs) in seconds.
pub async fn measure_skew(base_url: &str, timeout: std::time::Duration) -> Result<i64, String> {
    let http = crate::http_client::client(timeout);
    let answer = http
        .get(format!(
            "{}/v3/certificates",
            base_url.trim_end_matches('/')
        ))
        .send()
        .await
        .map_err(|e| format!("cannot reach {base_url}: {e}"))?;
    let date = answer
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("{base_url} sent no Date header"))?;
    let theirs = time::OffsetDateTime::parse(date, &time::format_description::well_known::Rfc2822)
        .map_err(|e| format!("Date {date:?} is not understood: {e}"))?
        .unix_timestamp();
    Ok(crate::timefmt::unix_now() - theirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_skew_levels_follow_wechats_five_minutes() {
        assert_eq!(clock_skew(-20).level, Level::Ok);
        assert_eq!(clock_skew(90).level, Level::Warning);
        let far = clock_skew(-301);
        assert_eq!(far.level, Level::Error);
        assert!(far.fix.contains("NTP"), "{}", far.fix);
    }

    #[test]
    fn a_page_is_checked_against_every_registered_setting() {
        let cfg = Config {
            jsapi_pay_dirs: vec!["https://shop.example/pay/".into()],
            h5_domains: vec!["shop.example".into()],
            oauth_domains: vec!["shop.example".into()],
            h5_redirect_hosts: vec!["shop.example".into()],
            ..Config::default()
        };
        let level = |page: &str, check: &str| {
            let mut out = Vec::new();
            page_checks(&cfg, page, &mut out);
            out.into_iter().find(|f| f.check == check).map(|f| f.level)
        };
        assert_eq!(
            level("https://shop.example/pay/a.html", "jsapi_pay_dirs"),
            Some(Level::Ok)
        );
        assert_eq!(
            level("https://shop.example/pay/sub/a.html", "jsapi_pay_dirs"),
            Some(Level::Error)
        );
        assert_eq!(
            level("https://m.shop.example/pay/", "h5_domains"),
            Some(Level::Error)
        );
        assert_eq!(
            level("https://m.shop.example/pay/", "h5_redirect_hosts"),
            Some(Level::Warning)
        );
        let six = Config {
            jsapi_pay_dirs: (0..6).map(|i| format!("https://s{i}.example/")).collect(),
            ..Config::default()
        };
        let mut out = Vec::new();
        registered(&six, &mut out);
        assert_eq!(out[0].level, Level::Error);
    }
}
