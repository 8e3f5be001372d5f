//! Platform keys that rotate: the backend's set of WeChat's public keys grows without a restart.
//!
//! WeChat rotates platform certificates; a backend that knows only the configured ones starts
//! rejecting every notification and answer the day a new one signs. So, in certificate mode, the
//! backend downloads `GET /v3/certificates` at start and then periodically: each certificate is
//! AES-256-GCM decrypted with the APIv3 key (only WeChat and the merchant hold it — that is what
//! vouches for a certificate not yet known), its serial must be the one it is listed under, and
//! the answer itself must verify with the keys held once the new ones are added. New serials join
//! the set; none is ever removed while the process runs (an old key still verifies retries of
//! notifications it signed). An unknown serial on a notification or answer triggers one refresh,
//! rate limited, before it is rejected.
//!
//! In public-key mode (only `platform_public_key_id`), there is nothing to download.

use super::{Wechat, WechatError};
use crate::timefmt::unix_now;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};
use wxpay_sign::keys::{KeySet, PublicKey};
use wxpay_sign::v3;
use wxpay_sign::Certificate;

/// At most one on-demand refresh (unknown serial) this often.
pub const REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(60);
/// The periodic refresh (WeChat publishes a new certificate well before it signs with it).
pub const REFRESH_EVERY: Duration = Duration::from_secs(12 * 3600);

/// WeChat's public keys as held now: configured, then grown by downloads.
pub struct PlatformKeys {
    keys: RwLock<KeySet>,
    last_refresh: Mutex<Option<Instant>>,
    /// Whether any platform certificate is configured (certificate mode): only then is there
    /// anything to download.
    pub certificate_mode: bool,
}

impl PlatformKeys {
    pub fn new(configured: KeySet, certificate_mode: bool) -> Self {
        PlatformKeys {
            keys: RwLock::new(configured),
            last_refresh: Mutex::new(None),
            certificate_mode,
        }
    }

    /// The keys held now.
    pub fn snapshot(&self) -> KeySet {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn add(&self, serial: String, key: PublicKey) -> bool {
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        let new = keys.get(&serial).is_none();
        keys.insert(serial, key);
        new
    }

    /// True (and the clock restarted) when an on-demand refresh is allowed now.
    fn may_refresh(&self) -> bool {
        let mut last = self.last_refresh.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| t.elapsed() < REFRESH_MIN_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}

impl Wechat {
    /// Downloads `/v3/certificates` and adds the certificates not held yet; returns their serials.
    pub async fn refresh_platform_certificates(&self) -> Result<Vec<String>, WechatError> {
        let what = "certificates";
        let (status, headers, bytes) = self
            .v3_send(what, reqwest::Method::GET, "/v3/certificates", "")
            .await?;
        let bad = |reason: String| WechatError::BadResponse { what, reason };
        if !status.is_success() {
            return Err(WechatError::Unavailable {
                what,
                status: status.as_u16(),
            });
        }
        let answer: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        let mut candidates = self.platform_keys.snapshot();
        let mut downloaded = Vec::new();
        let now = unix_now();
        for item in answer["data"].as_array().into_iter().flatten() {
            let text = |k: &str| item["encrypt_certificate"][k].as_str().unwrap_or("");
            let serial = item["serial_no"].as_str().unwrap_or("");
            let pem = v3::decrypt_resource(
                &self.creds.apiv3_key,
                text("nonce"),
                text("associated_data"),
                text("ciphertext"),
            )
            .map_err(|e| WechatError::Unverified {
                what,
                reason: format!("certificate {serial} does not decrypt with the APIv3 key: {e}"),
            })?;
            let pem = String::from_utf8(pem).map_err(|_| bad("certificate is not text".into()))?;
            let info = Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
            if info.serial != serial {
                return Err(bad(format!(
                    "certificate listed as {serial} has serial {}",
                    info.serial
                )));
            }
            if !info.validity.contains(now) {
                continue;
            }
            let key = PublicKey::from_pem(&pem).map_err(|e| bad(e.to_string()))?;
            candidates.insert(serial.to_string(), key.clone());
            downloaded.push((serial.to_string(), key));
        }
        // The answer must be WeChat's: signed by a key held or one it just handed over.
        self.verify_with(what, &headers, &bytes, &candidates)?;
        let mut added = Vec::new();
        for (serial, key) in downloaded {
            if self.platform_keys.add(serial.clone(), key) {
                tracing::info!("platform certificate {serial} added");
                added.push(serial);
            }
        }
        Ok(added)
    }

    /// After an unknown `serial`: one refresh (in certificate mode, rate limited); true when
    /// the serial is known afterwards.
    pub async fn learn_serial(&self, serial: &str) -> bool {
        if !self.platform_keys.certificate_mode || !self.platform_keys.may_refresh() {
            return false;
        }
        match self.refresh_platform_certificates().await {
            Ok(_) => self.platform_keys.snapshot().get(serial).is_some(),
            Err(e) => {
                tracing::warn!("platform certificate refresh after unknown serial {serial}: {e}");
                false
            }
        }
    }

    /// Runs `check` (a verification under `serial`) with the platform keys held; when the
    /// serial is not held yet (WeChat may have rotated), one (rate-limited) download, then again.
    pub async fn with_platform_keys<T>(
        &self,
        serial: &str,
        check: impl Fn(&KeySet) -> Result<T, wxpay_sign::Error>,
    ) -> Result<T, wxpay_sign::Error> {
        let first = check(&self.platform_keys.snapshot());
        if matches!(first, Err(wxpay_sign::Error::UnknownSerial { .. }))
            && self.learn_serial(serial).await
        {
            return check(&self.platform_keys.snapshot());
        }
        first
    }
}

/// Refreshes at start and every [`REFRESH_EVERY`] while held; dropping it stops the task.
pub struct CertificateRefresher(tokio::task::JoinHandle<()>);

impl Drop for CertificateRefresher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl crate::backend::Backend {
    /// In certificate mode: downloads platform certificates now and every [`REFRESH_EVERY`]
    /// while the handle is held. `None` in public-key mode.
    pub fn start_certificate_refresher(
        self: &std::sync::Arc<Self>,
    ) -> Option<CertificateRefresher> {
        if !self.wechat.platform_keys.certificate_mode {
            return None;
        }
        let this = self.clone();
        Some(CertificateRefresher(tokio::spawn(async move {
            loop {
                if let Err(e) = this.wechat.refresh_platform_certificates().await {
                    tracing::warn!("platform certificate refresh: {e}");
                }
                tokio::time::sleep(REFRESH_EVERY).await;
            }
        })))
    }
}
