//! Test harness: simulator and backend on their own ephemeral loopback ports, keys made once
//! with openssl and reused (under cargo's test tmp dir), helpers to play buyer and WeChat.
#![allow(dead_code)]

pub mod pg;
pub mod v3notify;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use wxpay_server::config::{ApiVersion, Config, Secret};
use wxpay_server::devkeys::{load_or_generate, load_or_generate_tls, DevKeyPair, TestTls};
use wxpay_server::sim::ledger::Lifetimes;
use wxpay_server::sim::platform::PlatformKey;
use wxpay_server::sim::{Sim, SimApp, SimConfig};
use wxpay_server::store::{SqliteStore, Store};
use wxpay_server::Backend;
use wxpay_sign::keys::{KeySet, PublicKey};

pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd678efh567hg6787";
pub const MP_APPID: &str = "wx8888888888888888";
pub const APIV3_KEY: &str = "TestApiV3Key0123456789abcdefghij";
pub const V2_KEY: &str = "TestV2Key0123456789abcdefghijklm";
pub const SECRET: &str = "test-app-secret";
/// The bearer token of the merchant-server routes in tests (TEST ONLY).
pub const API_TOKEN: &str = "test-api-token-0123456789abcdefghijkl";

pub struct Keys {
    pub merchant: DevKeyPair,
    pub platform: DevKeyPair,
    /// A key pair WeChat does not know (unknown-serial tests).
    pub stranger: DevKeyPair,
    /// The TEST PKI of the simulator's mutual TLS (`/secapi/…`).
    pub tls: TestTls,
    /// Another TEST PKI, whose CA the simulator does not trust.
    pub stranger_tls: TestTls,
}

/// Test keys (TEST ONLY), generated on first use and kept in cargo's tmp dir for later runs.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wxpay-test-keys");
        let make = |name: &str| {
            load_or_generate(&dir, name, &format!("wxpay {name} TEST KEY"))
                .expect("openssl test keys")
        };
        Keys {
            merchant: make("merchant"),
            platform: make("platform"),
            stranger: make("stranger"),
            tls: load_or_generate_tls(&dir, MCHID).expect("openssl test PKI"),
            stranger_tls: load_or_generate_tls(&dir.join("stranger"), MCHID)
                .expect("openssl test PKI"),
        }
    })
}

pub struct Opts {
    pub api_version: ApiVersion,
    pub http_timeout_ms: u64,
    pub query_after_secs: u64,
    pub retry_compression: f64,
    /// Where the simulator sends notifications; None = the backend's own endpoint.
    pub notify_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub native_ttl_secs: u64,
    /// (rows, bytes) of the rejected-notification store; None = the defaults.
    pub rejected_cap: Option<(u64, u64)>,
    /// The simulator's mutual-TLS `/secapi/…` URL, set by [`start`].
    pub secapi_url: Option<String>,
    /// Puts the backend's SQLite store inside another [`Store`] (a fault injected around it).
    pub wrap_store: Option<WrapStore>,
}

pub type WrapStore = Arc<dyn Fn(Arc<dyn Store>) -> Arc<dyn Store> + Send + Sync>;

impl Default for Opts {
    fn default() -> Self {
        Opts {
            api_version: ApiVersion::V3,
            http_timeout_ms: 3000,
            query_after_secs: 3600,
            retry_compression: 1000.0,
            notify_url: None,
            data_dir: None,
            native_ttl_secs: 7200,
            rejected_cap: None,
            secapi_url: None,
            wrap_store: None,
        }
    }
}

pub struct Env {
    pub api: String,
    pub sim_url: String,
    /// `https://127.0.0.1:…`: the simulator's `/secapi/…`, mutual TLS.
    pub secapi_url: String,
    pub sim: Sim,
    pub backend: Arc<Backend>,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
    sim_server: tokio::task::JoinHandle<()>,
    secapi_server: tokio::task::JoinHandle<()>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.server.abort();
        self.sim_server.abort();
        self.secapi_server.abort();
    }
}

pub async fn bind() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

pub fn sim_config(sim_url: &str, compression: f64) -> SimConfig {
    let k = keys();
    let mut merchant_keys = KeySet::new();
    merchant_keys.insert(
        k.merchant.serial.clone(),
        PublicKey::from_pem(&k.merchant.cert_pem).unwrap(),
    );
    SimConfig {
        mchid: MCHID.into(),
        merchant_keys,
        apiv3_key: APIV3_KEY.as_bytes().to_vec(),
        v2_key: V2_KEY.into(),
        platform: Arc::new(
            PlatformKey::certificate(&k.platform.key_pem, &k.platform.cert_pem).unwrap(),
        ),
        apps: vec![
            SimApp {
                appid: APPID.into(),
                secret: SECRET.into(),
            },
            SimApp {
                appid: MP_APPID.into(),
                secret: SECRET.into(),
            },
        ],
        public_base_url: sim_url.into(),
        h5_domains: vec!["shop.example".into(), "127.0.0.1".into()],
        jsapi_pay_dirs: vec!["https://shop.example/pay/".into()],
        oauth_domains: vec!["shop.example".into()],
        retry_compression: compression,
        notify_timeout: Duration::from_secs(2),
        lifetimes: Lifetimes {
            prepay: 7200,
            h5: 300,
        },
        mini_program: Some(MP_APPID.into()),
    }
}

pub fn backend_config(api: &str, sim_url: &str, data_dir: &std::path::Path, o: &Opts) -> Config {
    let k = keys();
    let defaults = Config::default();
    let (max_rows, max_bytes) = o.rejected_cap.unwrap_or((
        defaults.rejected_notifications_max_rows,
        defaults.rejected_notifications_max_bytes,
    ));
    Config {
        rejected_notifications_max_rows: max_rows,
        rejected_notifications_max_bytes: max_bytes,
        data_dir: data_dir.into(),
        api_version: o.api_version,
        mchid: MCHID.into(),
        appid: APPID.into(),
        app_secret: Secret(SECRET.into()),
        mp_appid: Some(MP_APPID.into()),
        merchant_serial: k.merchant.serial.clone(),
        merchant_key_file: Some(k.merchant.key_path.clone()),
        apiv3_key: Secret(APIV3_KEY.into()),
        v2_key: Some(Secret(V2_KEY.into())),
        platform_certs: BTreeMap::from([(k.platform.serial.clone(), k.platform.cert_path.clone())]),
        notify_url: o
            .notify_url
            .clone()
            .unwrap_or_else(|| format!("{api}/api/wxpay/notify")),
        wechat_base_url: sim_url.into(),
        oauth_base_url: sim_url.into(),
        sns_base_url: sim_url.into(),
        h5_redirect_hosts: vec!["shop.example".into()],
        http_timeout_ms: o.http_timeout_ms,
        query_after_secs: o.query_after_secs,
        query_interval_secs: 1,
        native_ttl_secs: o.native_ttl_secs,
        catalog: wxpay_server::catalog::Catalog::from([(
            "tea".to_string(),
            wxpay_server::catalog::CatalogItem {
                description: "Jasmine tea 250g".into(),
                amount: 100,
            },
        )]),
        api_token: Some(Secret(API_TOKEN.into())),
        apiclient_cert_file: Some(k.tls.client_cert.clone()),
        apiclient_key_file: Some(k.tls.client_key.clone()),
        secapi_base_url: o.secapi_url.clone(),
        secapi_ca_file: Some(k.tls.ca_cert.clone()),
        ..Config::default()
    }
}

/// Starts a backend on `data_dir` (a fresh temp dir if None) on a new port.
pub async fn start_backend(
    sim_url: &str,
    o: &Opts,
    data_dir: &std::path::Path,
) -> (Arc<Backend>, String, tokio::task::JoinHandle<()>) {
    let (listener, api) = bind().await;
    let cfg = backend_config(&api, sim_url, data_dir, o);
    serve_backend_on(listener, api, cfg, o.wrap_store.clone()).await
}

/// Serves a backend built from `cfg` on `listener` (whose URL is `api`).
pub async fn serve_backend(
    listener: TcpListener,
    api: String,
    cfg: wxpay_server::Config,
) -> (Arc<Backend>, String, tokio::task::JoinHandle<()>) {
    serve_backend_on(listener, api, cfg, None).await
}

/// [`serve_backend`], its store wrapped by `wrap`.
async fn serve_backend_on(
    listener: TcpListener,
    api: String,
    cfg: wxpay_server::Config,
    wrap: Option<WrapStore>,
) -> (Arc<Backend>, String, tokio::task::JoinHandle<()>) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&cfg.database_path()).unwrap());
    let store = wrap.map_or(store.clone(), |wrap| wrap(store));
    let backend = Backend::new(cfg, store).unwrap();
    let app = wxpay_server::router(backend.clone());
    let server = tokio::spawn(async move {
        let _ = wxpay_server::serve::serve(listener, app).await;
    });
    (backend, api, server)
}

/// A simulator on its own port: (handle, url, server task).
pub async fn start_sim(compression: f64) -> (Sim, String, tokio::task::JoinHandle<()>) {
    let (sim_listener, sim_url) = bind().await;
    let sim = Sim::new(sim_config(&sim_url, compression));
    let sim_app = sim.router();
    let sim_server = tokio::spawn(async move {
        let _ = wxpay_server::serve::serve(sim_listener, sim_app).await;
    });
    (sim, sim_url, sim_server)
}

/// The simulator's `/secapi/…` on its own mutual-TLS port (TEST PKI): (url, server task).
pub async fn start_secapi(sim: &Sim) -> (String, tokio::task::JoinHandle<()>) {
    let tls = &keys().tls;
    let read = |p: &PathBuf| std::fs::read(p).unwrap();
    let config = wxpay_server::sim::mtls::server_config(
        &read(&tls.ca_cert),
        &read(&tls.server_cert),
        &read(&tls.server_key),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let app = sim.secapi_router();
    let server = tokio::spawn(async move {
        let _ = wxpay_server::sim::mtls::serve(listener, config, app).await;
    });
    (url, server)
}

pub async fn start(mut o: Opts) -> Env {
    let (sim, sim_url, sim_server) = start_sim(o.retry_compression).await;
    let (secapi_url, secapi_server) = start_secapi(&sim).await;
    o.secapi_url = Some(secapi_url.clone());
    let (tmp, data_dir) = match &o.data_dir {
        Some(d) => (None, d.clone()),
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    };
    let (backend, api, server) = start_backend(&sim_url, &o, &data_dir).await;
    Env {
        api,
        sim_url,
        secapi_url,
        sim,
        backend,
        http: wxpay_server::http_client::client(Duration::from_secs(40)),
        data_dir,
        _tmp: tmp,
        server,
        sim_server,
        secapi_server,
    }
}

/// POSTs JSON, returns (status, JSON body or null).
pub async fn post_json(http: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let r = http.post(url).json(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn get_json(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = http.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

impl Env {
    /// POST to a backend path, or to a full URL (the simulator).
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.api)
        };
        post_json(&self.http, &url, &body).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        get_json(&self.http, &format!("{}{path}", self.api)).await
    }

    /// `POST /api/orders/{id}/pay` with `body`.
    pub async fn pay(&self, order_id: &str, body: Value) -> (u16, Value) {
        self.post(&format!("/api/orders/{order_id}/pay"), body)
            .await
    }

    /// The audit verdicts of the notifications kept for an out_trade_no, oldest first.
    pub async fn verdicts(&self, out_trade_no: &str) -> Vec<String> {
        let kept = self
            .backend
            .store
            .notifications(out_trade_no.to_string())
            .await
            .unwrap();
        kept.into_iter().map(|n| n.verdict).collect()
    }

    /// An order at `amount` fen, created the merchant-server way (bearer token).
    pub async fn create_order(&self, amount: i64) -> Value {
        let (status, order) = self
            .server_post(
                "/api/orders",
                json!({ "description": "Jasmine tea 250g", "amount": amount }),
            )
            .await;
        assert_eq!(status, 201, "{order}");
        order
    }

    /// POST to a backend path as the merchant's server (with the bearer token).
    pub async fn server_post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.api))
            .bearer_auth(API_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Long-polls until the order leaves `from` (or `secs` pass); returns the order.
    pub async fn wait_change(&self, order_id: &str, secs: u64) -> Value {
        self.get(&format!("/api/orders/{order_id}?wait={secs}"))
            .await
            .1
    }

    /// Plays the buyer via the simulator's automation endpoint.
    pub async fn sim_pay(&self, body: Value) -> (u16, Value) {
        self.post(&format!("{}/sim/api/pay", self.sim_url), body)
            .await
    }

    pub async fn events(&self, order_id: &str) -> Vec<wxpay_server::store::OrderEvent> {
        self.backend
            .store
            .events(order_id.to_string())
            .await
            .unwrap()
    }
}

/// Waits (polling, up to `secs`) until `check` holds; for background effects like deliveries.
pub async fn eventually(secs: u64, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

/// An order at `amount` fen, paid by QR code through the simulator: (order id, the paid order).
pub async fn paid_order(e: &Env, amount: i64) -> (String, Value) {
    let order = e.create_order(amount).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let (_, pay) = e.pay(&id, json!({ "mode": "native" })).await;
    e.sim_pay(json!({ "code_url": pay["code_url"] })).await;
    let paid = e.wait_change(&id, 10).await;
    assert_eq!(paid["state"], "SUCCESS", "{paid}");
    (id, paid)
}

/// An order at `amount` fen, paid in the mini-program (ordered under `mp_appid`, paid with
/// `wx.requestPayment`): (order id, the paid order).
pub async fn paid_in_miniprogram(e: &Env, amount: i64) -> (String, Value) {
    let order = e.create_order(amount).await;
    let id = order["order_id"].as_str().unwrap().to_string();
    let code = miniprogram_login(e).await;
    let (status, pay) = e
        .pay(&id, json!({ "mode": "miniprogram", "code": code }))
        .await;
    assert_eq!(status, 200, "{pay}");
    let mut params = pay["jsapi"].clone();
    params["appId"] = json!(MP_APPID);
    let (_, r) = e
        .post(&format!("{}/sim/api/requestPayment", e.sim_url), params)
        .await;
    assert_eq!(r["errMsg"], "requestPayment:ok", "{r}");
    let paid = e.wait_change(&id, 10).await;
    assert_eq!(paid["state"], "SUCCESS", "{paid}");
    (id, paid)
}

/// A `wx.login` code of the simulator's buyer in the mini-program.
pub async fn miniprogram_login(e: &Env) -> Value {
    let (_, login) = e
        .post(
            &format!("{}/sim/api/login", e.sim_url),
            json!({ "appid": MP_APPID }),
        )
        .await;
    login["code"].clone()
}

/// A refund of a paid order's payment (from [`paid_order`]) to hand to `Wechat` directly, as a
/// merchant whose records disagree with WeChat's would.
pub fn refund_of(
    order_id: &str,
    paid: &Value,
    out_refund_no: &str,
    amount: i64,
    api_version: &str,
) -> wxpay_server::store::NewRefund {
    wxpay_server::store::NewRefund {
        out_refund_no: out_refund_no.into(),
        order_id: order_id.into(),
        transaction_id: paid["transaction_id"].as_str().unwrap().into(),
        out_trade_no: paid["out_trade_no"].as_str().unwrap().into(),
        amount,
        total: paid["amount"].as_i64().unwrap(),
        reason: None,
        api_version: api_version.into(),
        created_at: wxpay_server::timefmt::unix_now(),
    }
}

/// `POST /api/orders/{id}/refunds` as the merchant's server.
pub async fn refund(e: &Env, id: &str, body: Value) -> (u16, Value) {
    e.server_post(&format!("/api/orders/{id}/refunds"), body)
        .await
}

/// Polls the order until `check` holds on it (refunds settle in the background).
pub async fn order_until(e: &Env, id: &str, check: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..100 {
        let (_, o) = e.get(&format!("/api/orders/{id}")).await;
        if check(&o) {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    e.get(&format!("/api/orders/{id}")).await.1
}
