//! Backend configuration: a TOML file, then `WXPAY_*` environment variables on top.
//!
//! Secrets (merchant private key, APIv3 key, v2 key, app secrets) are wrapped in [`Secret`], whose
//! `Debug` prints `***`, so logging a config never leaks them. Key *files* are read and parsed by
//! [`crate::config::Credentials::load`] (in `credentials.rs`), which is where a wrong key gets an error saying what to fix.

use crate::catalog::Catalog;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

mod credentials;
pub use credentials::Credentials;

pub const WECHAT_BASE_URL: &str = "https://api.mch.weixin.qq.com";
pub const OAUTH_BASE_URL: &str = "https://open.weixin.qq.com";
pub const SNS_BASE_URL: &str = "https://api.weixin.qq.com";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path} is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("environment variable {var}: {reason}")]
    Env { var: String, reason: String },
    #[error("config: {0}")]
    Invalid(String),
    #[error("cannot load {what} from {path}: {reason}")]
    Key {
        what: &'static str,
        path: String,
        reason: String,
    },
}

/// A secret string; never printed.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

/// Which WeChat Pay API generation the backend speaks when it orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    #[default]
    V3,
    V2,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V3 => "v3",
            ApiVersion::V2 => "v2",
        }
    }
}

impl FromStr for ApiVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "v3" => Ok(ApiVersion::V3),
            "v2" => Ok(ApiVersion::V2),
            _ => Err(format!("api_version must be \"v3\" or \"v2\", got {s:?}")),
        }
    }
}

/// Everything the backend is configured with. Field names are the TOML keys; the environment
/// variable for a field is `WXPAY_` + its name in upper case (lists: comma separated;
/// `platform_certs`: `SERIAL=path` pairs separated by commas).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// SQLite file; default `<data_dir>/wxpay.sqlite3`.
    pub database: Option<PathBuf>,
    /// PostgreSQL instead of SQLite (`postgres://user:password@host:port/db`): for several
    /// instances on one database. `WXPAY_DATABASE_URL` or `wxpay serve --database`.
    pub database_url: Option<Secret>,
    /// Connections each instance keeps to PostgreSQL at most (plus one listening for changes);
    /// instances × (this + 1) must stay under the server's `max_connections`.
    pub database_pool_size: usize,
    /// TLS to PostgreSQL (`sslmode=require` in `database_url`; always verified, host name too):
    /// the CA certificate (PEM) that signed the database's certificate, when it is not one the
    /// operating system trusts (a cloud provider's CA bundle, a private CA).
    pub database_ca_file: Option<PathBuf>,
    pub api_version: ApiVersion,
    pub mchid: String,
    /// Official-account / website appid (native, jsapi, h5).
    pub appid: String,
    /// Its AppSecret, for exchanging OAuth codes.
    pub app_secret: Secret,
    /// Mini-program appid and secret (jscode2session); default to `appid` / `app_secret`.
    pub mp_appid: Option<String>,
    pub mp_secret: Option<Secret>,
    pub merchant_serial: String,
    /// PEM file of the merchant API private key (PKCS#8), or the PEM itself in `merchant_key_pem`.
    pub merchant_key_file: Option<PathBuf>,
    pub merchant_key_pem: Option<Secret>,
    /// 32-byte APIv3 key.
    pub apiv3_key: Secret,
    /// v2 API key (32 characters), needed for api_version v2 and v2 notifications.
    pub v2_key: Option<Secret>,
    /// "MD5" or "HMAC-SHA256" for v2 requests.
    pub v2_sign_type: String,
    /// Sign types accepted on v2 answers and notifications. Empty (the default): only
    /// `v2_sign_type`. List both only while migrating from MD5.
    pub v2_accepted_sign_types: Vec<String>,
    /// The merchant API client certificate and its key (`apiclient_cert.pem`,
    /// `apiclient_key.pem` from the merchant platform): WeChat requires them, over mutual TLS,
    /// on `secapi/pay/refund` (APIv2 refunds).
    pub apiclient_cert_file: Option<PathBuf>,
    pub apiclient_key_file: Option<PathBuf>,
    /// Where `/secapi/…` calls go; default `wechat_base_url`.
    pub secapi_base_url: Option<String>,
    /// A CA certificate (PEM) to trust *instead of* the system roots on `/secapi/…` calls: only
    /// for the simulator's TEST CA; leave unset against WeChat.
    pub secapi_ca_file: Option<PathBuf>,
    /// Platform certificates or WeChat Pay public keys: serial → PEM file.
    pub platform_certs: BTreeMap<String, PathBuf>,
    /// The WeChat Pay public key's id (`PUB_KEY_ID_…`, merchant platform → API security), the
    /// default for merchants since 2024; may stand beside `platform_certs` during a migration.
    pub platform_public_key_id: Option<String>,
    /// Its PEM file (`pub_key.pem`), or the PEM text itself.
    pub platform_public_key: Option<PathBuf>,
    /// Where WeChat sends notifications; must be reachable from WeChat (https in production).
    pub notify_url: String,
    /// v2 notifications go here; default `notify_url` + "/v2".
    pub notify_url_v2: Option<String>,
    pub wechat_base_url: String,
    pub oauth_base_url: String,
    pub sns_base_url: String,
    /// Hosts an H5 `return_url` or OAuth `redirect_uri` may point to.
    pub h5_redirect_hosts: Vec<String>,
    /// What is registered on the merchant platform, for `wxpay doctor` (WeChat offers no API to
    /// read it): the JSAPI payment authorization directories (at most 5, e.g.
    /// `https://shop.example.com/pay/`), the H5 payment domains, and the official account's
    /// OAuth web-authorisation domains.
    pub jsapi_pay_dirs: Vec<String>,
    pub h5_domains: Vec<String>,
    pub oauth_domains: Vec<String>,
    /// Origins (e.g. `https://shop.example.com`) whose pages may call `/api/orders…` from the
    /// browser when the API lives on another origin (CORS). Empty: same origin only.
    pub cors_origins: Vec<String>,
    /// Timeout of each call to WeChat, milliseconds.
    pub http_timeout_ms: u64,
    /// Ask WeChat about an unpaid order once its prepay is this old without a notification.
    pub query_after_secs: u64,
    /// …and then at most this often.
    pub query_interval_secs: u64,
    /// Lifetime of a `code_url` / JSAPI prepay (WeChat: 2 h) and of an `h5_url` (WeChat: 5 min).
    pub native_ttl_secs: u64,
    pub h5_ttl_secs: u64,
    /// The products pages may order, by SKU: `[catalog] coffee = { description, amount }`. The
    /// server prices every page's order from here (env: `WXPAY_CATALOG` holding the same TOML).
    pub catalog: Catalog,
    /// Bearer token of the server-to-server routes (orders with an amount, refunds, closing an
    /// order): `Authorization: Bearer <api_token>`, at least 32 characters. Unset: those routes
    /// answer 403.
    pub api_token: Option<Secret>,
    /// Bound of the store of notifications that failed authentication (oldest dropped beyond
    /// either): rows, and bytes (each row holds at most a few KB of the body).
    pub rejected_notifications_max_rows: u64,
    pub rejected_notifications_max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from(".data"),
            database: None,
            database_url: None,
            database_pool_size: crate::store::postgres::DEFAULT_POOL_SIZE,
            database_ca_file: None,
            api_version: ApiVersion::V3,
            mchid: String::new(),
            appid: String::new(),
            app_secret: Secret::default(),
            mp_appid: None,
            mp_secret: None,
            merchant_serial: String::new(),
            merchant_key_file: None,
            merchant_key_pem: None,
            apiv3_key: Secret::default(),
            v2_key: None,
            v2_sign_type: "HMAC-SHA256".into(),
            v2_accepted_sign_types: Vec::new(),
            apiclient_cert_file: None,
            apiclient_key_file: None,
            secapi_base_url: None,
            secapi_ca_file: None,
            platform_certs: BTreeMap::new(),
            platform_public_key_id: None,
            platform_public_key: None,
            notify_url: String::new(),
            notify_url_v2: None,
            wechat_base_url: WECHAT_BASE_URL.into(),
            oauth_base_url: OAUTH_BASE_URL.into(),
            sns_base_url: SNS_BASE_URL.into(),
            h5_redirect_hosts: Vec::new(),
            jsapi_pay_dirs: Vec::new(),
            h5_domains: Vec::new(),
            oauth_domains: Vec::new(),
            cors_origins: Vec::new(),
            http_timeout_ms: 10_000,
            query_after_secs: 60,
            query_interval_secs: 30,
            native_ttl_secs: 2 * 3600,
            h5_ttl_secs: 300,
            catalog: Catalog::new(),
            api_token: None,
            rejected_notifications_max_rows: 10_000,
            rejected_notifications_max_bytes: 16 << 20,
        }
    }
}

/// Names of the settings that may come from the environment (all of them).
const FIELDS: &[&str] = &[
    "listen",
    "data_dir",
    "database",
    "database_url",
    "database_pool_size",
    "database_ca_file",
    "api_version",
    "mchid",
    "appid",
    "app_secret",
    "mp_appid",
    "mp_secret",
    "merchant_serial",
    "merchant_key_file",
    "merchant_key_pem",
    "apiv3_key",
    "v2_key",
    "v2_sign_type",
    "v2_accepted_sign_types",
    "apiclient_cert_file",
    "apiclient_key_file",
    "secapi_base_url",
    "secapi_ca_file",
    "platform_certs",
    "platform_public_key_id",
    "platform_public_key",
    "notify_url",
    "notify_url_v2",
    "wechat_base_url",
    "oauth_base_url",
    "sns_base_url",
    "h5_redirect_hosts",
    "jsapi_pay_dirs",
    "h5_domains",
    "oauth_domains",
    "cors_origins",
    "http_timeout_ms",
    "query_after_secs",
    "query_interval_secs",
    "native_ttl_secs",
    "h5_ttl_secs",
    "catalog",
    "api_token",
    "rejected_notifications_max_rows",
    "rejected_notifications_max_bytes",
];

impl Config {
    /// Reads the TOML file (if given) and applies `WXPAY_*` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let (mut table, path) = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                let t: toml::Table =
                    text.parse()
                        .map_err(|e: toml::de::Error| ConfigError::Parse {
                            path: p.display().to_string(),
                            reason: e.to_string(),
                        })?;
                (t, p.display().to_string())
            }
            None => (toml::Table::new(), "(environment)".to_string()),
        };
        for field in FIELDS {
            let var = format!("WXPAY_{}", field.to_ascii_uppercase());
            if let Some(value) = env(&var) {
                table.insert(
                    field.to_string(),
                    env_value(field, &value).map_err(|reason| ConfigError::Env { var, reason })?,
                );
            }
        }
        let cfg: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path,
                reason: e.to_string(),
            })?;
        Ok(cfg)
    }

    /// Loads from a file and the process environment.
    pub fn from_file_and_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::load(file, |k| std::env::var(k).ok())
    }

    pub fn database_path(&self) -> PathBuf {
        self.database
            .clone()
            .unwrap_or_else(|| self.data_dir.join("wxpay.sqlite3"))
    }

    pub fn mp_appid(&self) -> &str {
        self.mp_appid.as_deref().unwrap_or(&self.appid)
    }

    pub fn notify_url_v2(&self) -> String {
        self.notify_url_v2
            .clone()
            .unwrap_or_else(|| format!("{}/v2", self.notify_url.trim_end_matches('/')))
    }

    /// Where v2 refund notifications go: the v2 notify URL + "/refund".
    pub fn notify_url_refund_v2(&self) -> String {
        format!("{}/refund", self.notify_url_v2().trim_end_matches('/'))
    }

    pub fn secapi_base_url(&self) -> &str {
        self.secapi_base_url
            .as_deref()
            .unwrap_or(&self.wechat_base_url)
    }

    /// Where v3 refund notifications go: `notify_url` + "/refund".
    pub fn notify_url_refund(&self) -> String {
        format!("{}/refund", self.notify_url.trim_end_matches('/'))
    }

    pub fn http_timeout(&self) -> Duration {
        Duration::from_millis(self.http_timeout_ms)
    }

    /// Whether `host` may be the target of an H5 return or OAuth redirect.
    pub fn redirect_host_allowed(&self, host: &str) -> bool {
        self.h5_redirect_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }
}

/// Turns an environment string into the TOML value the field expects.
fn env_value(field: &str, value: &str) -> Result<toml::Value, String> {
    Ok(match field {
        "http_timeout_ms"
        | "database_pool_size"
        | "query_after_secs"
        | "query_interval_secs"
        | "native_ttl_secs"
        | "h5_ttl_secs"
        | "rejected_notifications_max_rows"
        | "rejected_notifications_max_bytes" => toml::Value::Integer(
            value
                .trim()
                .parse()
                .map_err(|_| format!("expected a whole number, got {value:?}"))?,
        ),
        "h5_redirect_hosts"
        | "cors_origins"
        | "jsapi_pay_dirs"
        | "h5_domains"
        | "oauth_domains"
        | "v2_accepted_sign_types" => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.into()))
                .collect(),
        ),
        "platform_certs" => {
            let mut t = toml::Table::new();
            for pair in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let (serial, path) = pair.split_once('=').ok_or_else(|| {
                    format!("expected SERIAL=path pairs separated by commas, got {pair:?}")
                })?;
                t.insert(
                    serial.trim().to_string(),
                    toml::Value::String(path.trim().to_string()),
                );
            }
            toml::Value::Table(t)
        }
        "catalog" => toml::Value::Table(value.parse().map_err(|e: toml::de::Error| {
            format!(
                "expected TOML like `coffee = {{ description = \"Coffee\", amount = 5800 }}`: {e}"
            )
        })?),
        _ => toml::Value::String(value.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_and_secrets_stay_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wxpay.toml");
        std::fs::write(&file, "mchid = \"1900000109\"\napiv3_key = \"file-key\"\nh5_redirect_hosts = [\"a.example\"]\n").unwrap();
        let env = |k: &str| match k {
            "WXPAY_APIV3_KEY" => Some("0123456789abcdef0123456789abcdef".to_string()),
            "WXPAY_H5_REDIRECT_HOSTS" => Some("shop.example, m.shop.example".to_string()),
            "WXPAY_PLATFORM_CERTS" => Some("ABC=/tmp/a.pem".to_string()),
            "WXPAY_QUERY_AFTER_SECS" => Some("5".to_string()),
            _ => None,
        };
        let cfg = Config::load(Some(&file), env).unwrap();
        assert_eq!(cfg.mchid, "1900000109");
        assert_eq!(cfg.apiv3_key.0, "0123456789abcdef0123456789abcdef");
        assert_eq!(
            cfg.h5_redirect_hosts,
            vec!["shop.example", "m.shop.example"]
        );
        assert_eq!(
            cfg.platform_certs.get("ABC").unwrap(),
            Path::new("/tmp/a.pem")
        );
        assert_eq!(cfg.query_after_secs, 5);
        assert_eq!(cfg.wechat_base_url, WECHAT_BASE_URL);
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
        assert!(cfg.redirect_host_allowed("SHOP.example"));
        assert!(!cfg.redirect_host_allowed("evil.example"));
    }

    #[test]
    fn bad_values_say_what_to_fix() {
        let env = |k: &str| (k == "WXPAY_HTTP_TIMEOUT_MS").then(|| "soon".to_string());
        let err = Config::load(None, env).unwrap_err().to_string();
        assert!(
            err.contains("WXPAY_HTTP_TIMEOUT_MS") && err.contains("whole number"),
            "{err}"
        );
        let err = Config::load(None, |k| (k == "WXPAY_API_VERSION").then(|| "v4".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("v4"), "{err}");
    }
}

#[cfg(test)]
mod example_file {
    /// The shipped example must stay loadable as the docs promise.
    #[test]
    fn example_config_parses() {
        // At run time: a shared build cache may have compiled this test in another clone.
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or(env!("CARGO_MANIFEST_DIR").into());
        let path = std::path::Path::new(&dir).join("wxpay.example.toml");
        let cfg = super::Config::load(Some(&path), |_| None).unwrap();
        assert_eq!(cfg.mchid, "1900000109");
        assert!(cfg.platform_certs.is_empty());
        assert!(cfg
            .platform_public_key_id
            .unwrap()
            .starts_with("PUB_KEY_ID_"));
        assert_eq!(cfg.h5_redirect_hosts.len(), 2);
    }
}
