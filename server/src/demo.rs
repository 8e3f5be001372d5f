//! `wxpay demo`: the whole checkout on one port of 127.0.0.1, offline.
//!
//! Backend (`/api`), simulator (`/v3`, `/pay`, `/connect`, `/sns`, `/sim`), the demo shop (`www/`
//! at `/`) and the built npm package (`/pkg/`); only the simulator's `/secapi/…` (v2 refunds)
//! has a second, mutual-TLS port, as WeChat requires the merchant's client certificate there. On first run it makes test merchant and platform
//! keys with openssl (see [`crate::devkeys`]) and random APIv3 / v2 keys, all kept under the data
//! directory so later runs (and the orders in SQLite) stay consistent.

use crate::backend::{router, Backend};
use crate::config::{ApiVersion, Config, Secret};
use crate::devkeys::{self, random_alnum};
use crate::sim::ledger::Lifetimes;
use crate::sim::platform::{public_key_id, PlatformKey, PlatformKeyMode};
use crate::sim::{Sim, SimApp, SimConfig};
use axum::Router;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use wxpay_sign::keys::{KeySet, PublicKey};

/// The sample merchant ids WeChat's own documentation uses.
pub const DEMO_MCHID: &str = "1900000109";
pub const DEMO_APPID: &str = "wxd678efh567hg6787";
pub const DEMO_MP_APPID: &str = "wx8888888888888888";

pub struct DemoOptions {
    /// 0 picks a free port.
    pub port: u16,
    pub data_dir: PathBuf,
    pub www_dir: Option<PathBuf>,
    pub pkg_dir: Option<PathBuf>,
    pub api_version: ApiVersion,
    /// Notification retry delays are divided by this.
    pub retry_compression: f64,
    /// Lifetime of a code_url / JSAPI prepay (WeChat: 7200 s) and of an h5_url (WeChat: 300 s);
    /// shorter ones let a test watch a QR expire and refresh.
    pub code_ttl_secs: u64,
    pub h5_ttl_secs: u64,
    /// How WeChat (the simulator) presents its platform key, and so how the backend is
    /// configured: a `PUB_KEY_ID_…` public key (WeChat's default today) or certificates.
    pub platform_key_mode: PlatformKeyMode,
    /// Rotate the simulator's platform key after this many paid orders (tests of rotation).
    pub rotate_after_payments: Option<u32>,
}

/// A demo bound to its port, ready to serve.
pub struct Demo {
    pub url: String,
    /// What `Wechatpay-Serial` says: `PUB_KEY_ID_…` (public-key mode) or a certificate serial.
    pub platform_key_id: String,
    pub backend: Arc<Backend>,
    pub sim: Sim,
    pub app: Router,
    listener: TcpListener,
    /// The simulator's `/secapi/…` (v2 refunds) on a mutual-TLS port of its own, like WeChat.
    pub secapi_url: String,
    secapi: (TcpListener, Arc<rustls::ServerConfig>),
}

impl Demo {
    pub async fn serve(self) -> std::io::Result<()> {
        let _reconciler = self.backend.start_reconciler();
        let _certificates = self.backend.start_certificate_refresher();
        let (secapi_listener, tls) = self.secapi;
        let secapi = tokio::spawn(crate::sim::mtls::serve(
            secapi_listener,
            tls,
            self.sim.secapi_router(),
        ));
        let served = crate::serve::serve(self.listener, self.app).await;
        secapi.abort();
        served
    }
}

/// Secrets generated on first run, kept in `<data_dir>/demo-secrets.toml`.
#[derive(serde::Deserialize)]
struct DemoSecrets {
    apiv3_key: String,
    v2_key: String,
    app_secret: String,
    /// The bearer token of the merchant-server routes (`wxpay refund`); added to older files.
    #[serde(default)]
    api_token: Option<String>,
}

/// The demo shop's one product; the page orders it by SKU and the server prices it.
pub const DEMO_SKU: &str = "coffee";

/// The demo's catalog.
pub fn demo_catalog() -> crate::catalog::Catalog {
    crate::catalog::Catalog::from([(
        DEMO_SKU.to_string(),
        crate::catalog::CatalogItem {
            description: "山行咖啡-云南小粒咖啡豆250g".into(),
            amount: 5800,
        },
    )])
}

/// The demo's merchant-server token (`<data_dir>/demo-secrets.toml`), for `wxpay refund --demo`.
pub fn demo_api_token(data_dir: &Path) -> Result<String, String> {
    load_or_make_secrets(data_dir)?
        .api_token
        .ok_or_else(|| "the demo secrets have no api_token".into())
}

fn load_or_make_secrets(data_dir: &Path) -> Result<DemoSecrets, String> {
    let path = data_dir.join("demo-secrets.toml");
    let write = |s: &DemoSecrets| {
        let text = format!(
            "# Test-only secrets of the offline demo (made on first run). Not real WeChat keys.\napiv3_key = \"{}\"\nv2_key = \"{}\"\napp_secret = \"{}\"\napi_token = \"{}\"\n",
            s.apiv3_key, s.v2_key, s.app_secret, s.api_token.as_deref().unwrap_or_default()
        );
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Ok(text) = std::fs::read_to_string(&path) {
        let mut s: DemoSecrets = toml::from_str(&text).map_err(|e| {
            format!(
                "{} is damaged ({e}); delete it to start afresh",
                path.display()
            )
        })?;
        if s.api_token.is_none() {
            s.api_token = Some(random_alnum(40));
            write(&s)?;
        }
        return Ok(s);
    }
    let s = DemoSecrets {
        apiv3_key: random_alnum(32),
        v2_key: random_alnum(32),
        app_secret: random_alnum(32),
        api_token: Some(random_alnum(40)),
    };
    write(&s)?;
    Ok(s)
}

/// Prepares keys, config, store, simulator and router, and binds the port.
pub async fn prepare(opts: DemoOptions) -> Result<Demo, String> {
    std::fs::create_dir_all(&opts.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", opts.data_dir.display()))?;
    let keys_dir = opts.data_dir.join("keys");
    let merchant =
        devkeys::load_or_generate(&keys_dir, "merchant", "wxpay demo merchant (TEST KEY)")
            .map_err(|e| e.to_string())?;
    let platform =
        devkeys::load_or_generate(&keys_dir, "platform", "wxpay demo platform (TEST KEY)")
            .map_err(|e| e.to_string())?;
    let secrets = load_or_make_secrets(&opts.data_dir)?;
    // WeChat's secapi host needs the merchant's API client certificate: a TEST PKI for it.
    let tls = devkeys::load_or_generate_tls(&keys_dir, DEMO_MCHID).map_err(|e| e.to_string())?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let secapi_tls = crate::sim::mtls::server_config(
        &read(&tls.ca_cert)?,
        &read(&tls.server_cert)?,
        &read(&tls.server_key)?,
    )?;
    let secapi_listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1 for the secapi simulator: {e}"))?;
    let secapi_url = format!(
        "https://{}",
        secapi_listener.local_addr().map_err(|e| e.to_string())?
    );

    let listener = TcpListener::bind(("127.0.0.1", opts.port))
        .await
        .map_err(|e| {
            format!(
                "cannot listen on 127.0.0.1:{}: {e} (try another --port)",
                opts.port
            )
        })?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let url = format!("http://{addr}");
    let local_hosts = vec!["127.0.0.1".to_string(), "localhost".to_string()];

    let mut cfg = Config {
        listen: addr,
        data_dir: opts.data_dir.clone(),
        api_version: opts.api_version,
        mchid: DEMO_MCHID.into(),
        appid: DEMO_APPID.into(),
        app_secret: Secret(secrets.app_secret.clone()),
        mp_appid: Some(DEMO_MP_APPID.into()),
        mp_secret: Some(Secret(secrets.app_secret.clone())),
        merchant_serial: merchant.serial.clone(),
        merchant_key_file: Some(merchant.key_path.clone()),
        apiv3_key: Secret(secrets.apiv3_key.clone()),
        v2_key: Some(Secret(secrets.v2_key.clone())),
        notify_url: format!("{url}/api/wxpay/notify"),
        wechat_base_url: url.clone(),
        oauth_base_url: url.clone(),
        sns_base_url: url.clone(),
        h5_redirect_hosts: local_hosts.clone(),
        query_after_secs: 15,
        query_interval_secs: 10,
        native_ttl_secs: opts.code_ttl_secs,
        h5_ttl_secs: opts.h5_ttl_secs,
        catalog: demo_catalog(),
        api_token: secrets.api_token.clone().map(Secret),
        apiclient_cert_file: Some(tls.client_cert.clone()),
        apiclient_key_file: Some(tls.client_key.clone()),
        secapi_base_url: Some(secapi_url.clone()),
        secapi_ca_file: Some(tls.ca_cert.clone()),
        ..Config::default()
    };
    let sim_platform = match opts.platform_key_mode {
        PlatformKeyMode::Certificate => {
            cfg.platform_certs =
                BTreeMap::from([(platform.serial.clone(), platform.cert_path.clone())]);
            PlatformKey::certificate(&platform.key_pem, &platform.cert_pem)?
        }
        PlatformKeyMode::PublicKey => {
            let key = PlatformKey::public_key(
                &public_key_id(DEMO_MCHID, 1),
                &platform.key_pem,
                &platform.cert_pem,
            )?;
            // What the merchant platform lets a merchant download: pub_key.pem and its id.
            let pub_path = keys_dir.join("platform_pub_key.pem");
            std::fs::write(&pub_path, &key.public_pem)
                .map_err(|e| format!("cannot write {}: {e}", pub_path.display()))?;
            cfg.platform_public_key_id = Some(key.id.clone());
            cfg.platform_public_key = Some(pub_path);
            key
        }
    };
    let mut merchant_keys = KeySet::new();
    merchant_keys.insert(
        merchant.serial.clone(),
        PublicKey::from_pem(&merchant.cert_pem).map_err(|e| e.to_string())?,
    );
    let sim = Sim::new(SimConfig {
        mchid: DEMO_MCHID.into(),
        merchant_keys,
        apiv3_key: secrets.apiv3_key.as_bytes().to_vec(),
        v2_key: secrets.v2_key.clone(),
        platform: Arc::new(sim_platform),
        apps: vec![
            SimApp {
                appid: DEMO_APPID.into(),
                secret: secrets.app_secret.clone(),
            },
            SimApp {
                appid: DEMO_MP_APPID.into(),
                secret: secrets.app_secret.clone(),
            },
        ],
        public_base_url: url.clone(),
        h5_domains: local_hosts.clone(),
        // The demo's origin as a top-level directory: every page of the demo may pay.
        jsapi_pay_dirs: vec![format!("{url}/")],
        oauth_domains: local_hosts,
        retry_compression: opts.retry_compression,
        notify_timeout: Duration::from_secs(5),
        lifetimes: Lifetimes {
            prepay: cfg.native_ttl_secs as i64,
            h5: cfg.h5_ttl_secs as i64,
        },
        mini_program: Some(DEMO_MP_APPID.into()),
    });
    if let Some(n) = opts.rotate_after_payments {
        sim.rotate_after_payments(n);
    }
    let backend = crate::serve::backend_from_config(cfg)?;

    let mut app = router(backend.clone()).merge(sim.router());
    if let Some(pkg) = &opts.pkg_dir {
        app = app.nest_service("/pkg", crate::static_files::confined(pkg));
    }
    if let Some(www) = &opts.www_dir {
        app = app.fallback_service(crate::static_files::confined(www));
    }
    Ok(Demo {
        platform_key_id: sim.platform_key().id.clone(),
        url,
        backend,
        sim,
        app,
        listener,
        secapi_url,
        secapi: (secapi_listener, secapi_tls),
    })
}
