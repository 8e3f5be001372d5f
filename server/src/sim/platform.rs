//! The simulated WeChat Pay's own keys: the platform key it signs answers and notifications
//! with, in either of WeChat's two forms, and its rotation.
//!
//! - **Public-key mode** (WeChat's default for merchants since 2024): one RSA key with an id
//!   `PUB_KEY_ID_…`, sent in `Wechatpay-Serial`; the merchant downloads the public key once from
//!   the merchant platform. `/v3/certificates` then hands out no certificate.
//! - **Certificate mode**: platform certificates named by their serial (upper-case hex, as
//!   WeChat writes them), downloaded through `/v3/certificates`, encrypted with the APIv3 key.
//!   WeChat rotates them: a new certificate is published and then used for signing, the old one
//!   stays listed until it expires. [`PlatformKeys::rotate`] does the same.

use super::SimInner;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use wxpay_sign::keys::MerchantKey;
use wxpay_sign::Certificate;

/// Which kind of platform key WeChat gives the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlatformKeyMode {
    #[default]
    PublicKey,
    Certificate,
}

impl std::str::FromStr for PlatformKeyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "public-key" => Ok(PlatformKeyMode::PublicKey),
            "certificate" => Ok(PlatformKeyMode::Certificate),
            _ => Err(format!(
                "platform key mode must be \"public-key\" or \"certificate\", got {s:?}"
            )),
        }
    }
}

/// One platform key: its private half (the simulator plays WeChat) and how merchants know it.
pub struct PlatformKey {
    /// What `Wechatpay-Serial` says: the certificate serial or the `PUB_KEY_ID_…`.
    pub id: String,
    pub private: MerchantKey,
    /// What the merchant is given: the certificate (certificate mode) or the SPKI PEM.
    pub public_pem: String,
    /// The certificate's facts, in certificate mode.
    pub cert: Option<Certificate>,
}

impl PlatformKey {
    /// A platform certificate and its private key (PKCS#8 PEM).
    pub fn certificate(key_pem: &str, cert_pem: &str) -> Result<PlatformKey, String> {
        let info = Certificate::from_pem(cert_pem).map_err(|e| e.to_string())?;
        Ok(PlatformKey {
            id: info.serial.clone(),
            private: MerchantKey::from_pkcs8_pem(key_pem).map_err(|e| e.to_string())?,
            public_pem: cert_pem.to_string(),
            cert: Some(info),
        })
    }

    /// A WeChat Pay public key `id` (`PUB_KEY_ID_…`) made from a key pair; the certificate is
    /// only where the public half is read from.
    pub fn public_key(id: &str, key_pem: &str, cert_pem: &str) -> Result<PlatformKey, String> {
        if !id.starts_with("PUB_KEY_ID_") {
            return Err(format!(
                "a WeChat Pay public key id starts with PUB_KEY_ID_, got {id:?}"
            ));
        }
        let info = Certificate::from_pem(cert_pem).map_err(|e| e.to_string())?;
        Ok(PlatformKey {
            id: id.to_string(),
            private: MerchantKey::from_pkcs8_pem(key_pem).map_err(|e| e.to_string())?,
            public_pem: info.public_key_pem(),
            cert: None,
        })
    }

    pub fn mode(&self) -> PlatformKeyMode {
        if self.cert.is_some() {
            PlatformKeyMode::Certificate
        } else {
            PlatformKeyMode::PublicKey
        }
    }
}

/// A `PUB_KEY_ID_…` in WeChat's shape (`PUB_KEY_ID_` + 28 digits: `01`, the mchid, a counter),
/// stable for a given merchant and key number.
pub fn public_key_id(mchid: &str, n: u32) -> String {
    let digits: String = mchid.chars().filter(char::is_ascii_digit).collect();
    format!(
        "PUB_KEY_ID_01{digits:0>10}{:016}",
        2024_0000_0000_0000_u64 + u64::from(n)
    )
}

/// The key signing now and the certificates still handed out.
pub struct PlatformKeys {
    current: Arc<PlatformKey>,
    /// Keys used before, newest last; their certificates stay listed until they expire.
    retired: Vec<Arc<PlatformKey>>,
}

impl PlatformKeys {
    pub fn new(current: Arc<PlatformKey>) -> Self {
        PlatformKeys {
            current,
            retired: Vec::new(),
        }
    }

    /// The key answers and notifications are signed with.
    pub fn current(&self) -> Arc<PlatformKey> {
        self.current.clone()
    }

    /// Signs with `next` from now on; the previous key stays published.
    pub fn rotate(&mut self, next: PlatformKey) {
        let old = std::mem::replace(&mut self.current, Arc::new(next));
        self.retired.push(old);
    }

    /// How many keys have signed so far (the current one included).
    pub fn generation(&self) -> u32 {
        self.retired.len() as u32 + 1
    }

    /// What `/v3/certificates` lists: every certificate valid at `now`, newest first.
    pub fn certificates(&self, now: i64) -> Vec<Arc<PlatformKey>> {
        std::iter::once(&self.current)
            .chain(self.retired.iter().rev())
            .filter(|k| k.cert.as_ref().is_some_and(|c| c.validity.contains(now)))
            .cloned()
            .collect()
    }
}

/// A new key pair in `mode` (openssl, in a scratch directory removed afterwards); `n` numbers
/// public-key ids. Blocking: run it off the async threads.
pub fn generate(mode: PlatformKeyMode, mchid: &str, n: u32) -> Result<PlatformKey, String> {
    let dir = std::env::temp_dir().join(format!(
        "wxpay-sim-platform-{}",
        crate::devkeys::random_alnum(12)
    ));
    let made =
        crate::devkeys::load_or_generate(&dir, "platform", "wxpay simulator platform (TEST KEY)");
    let _ = std::fs::remove_dir_all(&dir);
    let pair = made.map_err(|e| e.to_string())?;
    match mode {
        PlatformKeyMode::Certificate => PlatformKey::certificate(&pair.key_pem, &pair.cert_pem),
        PlatformKeyMode::PublicKey => {
            PlatformKey::public_key(&public_key_id(mchid, n), &pair.key_pem, &pair.cert_pem)
        }
    }
}

impl SimInner {
    /// Makes a new key in the current key's mode and signs with it from now on.
    pub(crate) async fn rotate_platform_key(&self) -> Result<(String, String), String> {
        let (mode, n) = {
            let keys = self.platform();
            (keys.current().mode(), keys.generation() + 1)
        };
        let mchid = self.cfg.mchid.clone();
        let next = tokio::task::spawn_blocking(move || generate(mode, &mchid, n))
            .await
            .map_err(|e| e.to_string())??;
        let new_id = next.id.clone();
        let old_id = {
            let mut keys = self.platform();
            let old = keys.current().id.clone();
            keys.rotate(next);
            old
        };
        tracing::info!("simulator: platform key {old_id} -> {new_id}");
        Ok((old_id, new_id))
    }
}

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new().route("/sim/api/rotate-platform-key", post(rotate))
}

/// `POST /sim/api/rotate-platform-key`: WeChat switches to a new platform key.
async fn rotate(State(sim): State<Arc<SimInner>>) -> Response {
    match sim.rotate_platform_key().await {
        Ok((previous, current)) => {
            Json(json!({ "previous": previous, "current": current })).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "code": "SYSTEM_ERROR", "message": e })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_key_ids_have_wechats_shape() {
        let id = public_key_id("1900000109", 1);
        assert!(id.starts_with("PUB_KEY_ID_01"), "{id}");
        assert_eq!(id.len(), "PUB_KEY_ID_".len() + 28, "{id}");
        assert_ne!(id, public_key_id("1900000109", 2));
        assert!("rsa"
            .parse::<PlatformKeyMode>()
            .unwrap_err()
            .contains("public-key"));
    }
}
