//! The key material the backend signs and verifies with, parsed from the configuration: the
//! merchant private key, the platform certificates / public keys, the APIv3 and v2 keys. Every
//! failure says which setting or file to fix.

use super::{ApiVersion, Config, ConfigError};
use wxpay_sign::keys::{KeySet, MerchantKey, MerchantSigner, PublicKey};

/// Shortest accepted `api_token`: it guards refunds.
pub const MIN_API_TOKEN_LEN: usize = 32;

/// The parsed key material the backend signs and verifies with.
pub struct Credentials {
    pub signer: MerchantSigner,
    /// The configured platform keys. Verify with `Wechat::platform_keys` instead: it also holds
    /// the certificates downloaded since (rotation).
    pub platform_keys: KeySet,
    pub apiv3_key: Vec<u8>,
    pub v2_key: Option<String>,
    /// `apiclient_cert.pem` + `apiclient_key.pem` as one PEM (a TLS client identity), if set.
    pub apiclient_identity_pem: Option<Vec<u8>>,
    /// `secapi_ca_file`'s PEM.
    pub secapi_ca_pem: Option<Vec<u8>>,
}

impl Credentials {
    /// Checks the config for what every deployment needs and parses the keys.
    pub fn load(cfg: &Config) -> Result<Credentials, ConfigError> {
        let missing = |what: &str| {
            ConfigError::Invalid(format!(
                "{what} is not set; put it in the config file or WXPAY_{}",
                what.to_ascii_uppercase()
            ))
        };
        if cfg.mchid.is_empty() {
            return Err(missing("mchid"));
        }
        if cfg.appid.is_empty() {
            return Err(missing("appid"));
        }
        if cfg.merchant_serial.is_empty() {
            return Err(missing("merchant_serial"));
        }
        if cfg.notify_url.is_empty() {
            return Err(missing("notify_url"));
        }
        if cfg.apiv3_key.0.len() != 32 {
            return Err(ConfigError::Invalid(format!(
                "apiv3_key must be 32 bytes (set in the merchant platform under API security), got {}",
                cfg.apiv3_key.0.len()
            )));
        }
        if cfg.api_version == ApiVersion::V2 && cfg.v2_key.as_ref().is_none_or(|k| k.0.is_empty()) {
            return Err(ConfigError::Invalid(
                "api_version is v2 but v2_key is not set".into(),
            ));
        }
        crate::catalog::check_catalog(&cfg.catalog).map_err(ConfigError::Invalid)?;
        for t in std::iter::once(&cfg.v2_sign_type).chain(&cfg.v2_accepted_sign_types) {
            if t.parse::<wxpay_sign::v2::SignType>().is_err() {
                return Err(ConfigError::Invalid(format!(
                    "v2 sign type {t:?} is not MD5 or HMAC-SHA256 (v2_sign_type, v2_accepted_sign_types)"
                )));
            }
        }
        if let Some(token) = &cfg.api_token {
            if token.0.len() < MIN_API_TOKEN_LEN {
                return Err(ConfigError::Invalid(format!(
                    "api_token must be at least {MIN_API_TOKEN_LEN} characters (random, e.g. `openssl rand -hex 24`), got {}",
                    token.0.len()
                )));
            }
        }
        if cfg.platform_certs.is_empty() && cfg.platform_public_key_id.is_none() {
            return Err(ConfigError::Invalid(
                "platform_certs is empty and platform_public_key_id is not set: add the WeChat Pay public key (platform_public_key_id = \"PUB_KEY_ID_…\", platform_public_key = \"pub_key.pem\") or platform certificates (serial = \"file.pem\") so responses and notifications can be verified".into(),
            ));
        }
        let (key_pem, key_origin) = match (&cfg.merchant_key_pem, &cfg.merchant_key_file) {
            (Some(pem), _) => (pem.0.clone(), "merchant_key_pem".to_string()),
            (None, Some(path)) => (
                std::fs::read_to_string(path).map_err(|e| ConfigError::Key {
                    what: "the merchant private key",
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?,
                path.display().to_string(),
            ),
            (None, None) => return Err(missing("merchant_key_file")),
        };
        let key = MerchantKey::from_pkcs8_pem(&key_pem).map_err(|e| ConfigError::Key {
            what: "the merchant private key",
            path: key_origin,
            reason: e.to_string(),
        })?;
        let mut platform_keys = KeySet::new();
        for (serial, path) in &cfg.platform_certs {
            let pem = std::fs::read_to_string(path).map_err(|e| ConfigError::Key {
                what: "a platform certificate",
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            let public = PublicKey::from_pem(&pem).map_err(|e| ConfigError::Key {
                what: "a platform certificate",
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            platform_keys.insert(serial.clone(), public);
        }
        if let Some((id, public)) = public_key(cfg)? {
            platform_keys.insert(id, public);
        }
        let (apiclient_identity_pem, secapi_ca_pem) = secapi_tls(cfg)?;
        Ok(Credentials {
            apiclient_identity_pem,
            secapi_ca_pem,
            signer: MerchantSigner::new(cfg.mchid.clone(), cfg.merchant_serial.clone(), key),
            platform_keys,
            apiv3_key: cfg.apiv3_key.0.as_bytes().to_vec(),
            v2_key: cfg.v2_key.as_ref().map(|k| k.0.clone()),
        })
    }
}

/// (client identity PEM, CA PEM).
type SecapiPems = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The client identity and CA of `/secapi/…` calls, read and checked now so a wrong file is a
/// startup error, not a failed refund.
fn secapi_tls(cfg: &Config) -> Result<SecapiPems, ConfigError> {
    let read = |what: &'static str, path: &std::path::Path| {
        std::fs::read(path).map_err(|e| ConfigError::Key {
            what,
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    };
    let identity = match (&cfg.apiclient_cert_file, &cfg.apiclient_key_file) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            let mut pem = read("the API client certificate", cert)?;
            pem.push(b'\n');
            pem.extend(read("the API client key", key)?);
            reqwest::Identity::from_pem(&pem).map_err(|e| ConfigError::Key {
                what: "the API client certificate and key",
                path: format!("{} + {}", cert.display(), key.display()),
                reason: format!("{e}; expected the PEM files apiclient_cert.pem and apiclient_key.pem from the merchant platform"),
            })?;
            Some(pem)
        }
        _ => {
            return Err(ConfigError::Invalid(
                "apiclient_cert_file and apiclient_key_file go together (apiclient_cert.pem and apiclient_key.pem from the merchant platform)".into(),
            ))
        }
    };
    let ca = match &cfg.secapi_ca_file {
        None => None,
        Some(path) => {
            let pem = read("the secapi CA certificate", path)?;
            reqwest::Certificate::from_pem(&pem).map_err(|e| ConfigError::Key {
                what: "the secapi CA certificate",
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Some(pem)
        }
    };
    Ok((identity, ca))
}

/// `platform_public_key_id` + `platform_public_key`, both or neither.
fn public_key(cfg: &Config) -> Result<Option<(String, PublicKey)>, ConfigError> {
    let (id, source) = match (&cfg.platform_public_key_id, &cfg.platform_public_key) {
        (None, None) => return Ok(None),
        (Some(id), Some(source)) => (id, source),
        (Some(_), None) => {
            return Err(ConfigError::Invalid(
                "platform_public_key_id is set but platform_public_key is not: give the pub_key.pem downloaded with it".into(),
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::Invalid(
                "platform_public_key is set but platform_public_key_id is not: give its id (PUB_KEY_ID_…, shown beside it on the merchant platform)".into(),
            ))
        }
    };
    if !id.starts_with("PUB_KEY_ID_") {
        return Err(ConfigError::Invalid(format!(
            "platform_public_key_id must start with PUB_KEY_ID_, got {id:?} (a certificate serial belongs in platform_certs)"
        )));
    }
    let text = source.to_string_lossy();
    let (pem, origin) = if text.trim_start().starts_with("-----BEGIN") {
        (text.into_owned(), "platform_public_key".to_string())
    } else {
        let pem = std::fs::read_to_string(source).map_err(|e| ConfigError::Key {
            what: "the WeChat Pay public key",
            path: source.display().to_string(),
            reason: e.to_string(),
        })?;
        (pem, source.display().to_string())
    };
    let public = PublicKey::from_pem(&pem).map_err(|e| ConfigError::Key {
        what: "the WeChat Pay public key",
        path: origin,
        reason: e.to_string(),
    })?;
    Ok(Some((id.clone(), public)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    #[test]
    fn a_short_apiv3_key_is_explained() {
        let cfg = Config {
            mchid: "1".into(),
            appid: "wx1".into(),
            merchant_serial: "S".into(),
            notify_url: "https://x/n".into(),
            apiv3_key: Secret("short".into()),
            ..Config::default()
        };
        let err = Credentials::load(&cfg).err().unwrap().to_string();
        assert!(err.contains("32 bytes") && err.contains("got 5"), "{err}");
    }
}
