//! What the benchmarks share: TEST keys made with openssl in a temp dir, and a backend
//! configuration around them (each benchmark sets what it measures on top).

// Each benchmark uses part of it.
#![allow(dead_code)]

use wxpay_server::config::{Config, Secret};
use wxpay_server::devkeys::{load_or_generate, DevKeyPair};

pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd678efh567hg6787";
pub const APIV3: &str = "BenchApiV3Key0123456789abcdefghi";
pub const API_TOKEN: &str = "bench-token-0123456789abcdefghijklmn";

/// Keys and data of one benchmark run, deleted with it.
pub struct Bench {
    pub dir: tempfile::TempDir,
    pub merchant: DevKeyPair,
    pub platform: DevKeyPair,
}

impl Bench {
    pub fn new() -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let make = |name: &str| load_or_generate(&keys, name, "bench TEST KEY").unwrap();
        let (merchant, platform) = (make("merchant"), make("platform"));
        Bench {
            dir,
            merchant,
            platform,
        }
    }

    /// A backend with its data (SQLite) in the run's directory, told to expect WeChat's
    /// notifications at `notify_url`.
    pub fn config(&self, notify_url: String) -> Config {
        Config {
            data_dir: self.dir.path().into(),
            mchid: MCHID.into(),
            appid: APPID.into(),
            merchant_serial: self.merchant.serial.clone(),
            merchant_key_file: Some(self.merchant.key_path.clone()),
            apiv3_key: Secret(APIV3.into()),
            platform_certs: [(
                self.platform.serial.clone(),
                self.platform.cert_path.clone(),
            )]
            .into(),
            notify_url,
            api_token: Some(Secret(API_TOKEN.into())),
            ..Config::default()
        }
    }
}
