//! How long until the reconciler finds a payment whose notification was lost, with a backlog of
//! unpaid orders in front of it?
//!
//! `cargo run --release -p wxpay-server --example bench_reconcile -- [unpaid_orders] [interval_secs]`
//!
//! Simulator + backend on loopback (test keys via openssl, SQLite in a temp dir). The backend's
//! `notify_url` points at a closed port, so every notification is lost. `unpaid_orders` orders get
//! a native prepay each; the buyer then pays the *last* one (the reconciler reaches it last: all
//! are equally overdue). The reconciler starts and the clock runs until the order is SUCCESS.

mod bench_kit;

use std::time::{Duration, Instant};
use wxpay_server::config::Config;
use wxpay_server::sim::ledger::Lifetimes;
use wxpay_server::sim::{Sim, SimApp, SimConfig};
use wxpay_sign::keys::{KeySet, PublicKey};

use bench_kit::{APIV3, APPID, MCHID};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (orders, interval) = (
        args.first().copied().unwrap_or(2000),
        args.get(1).copied().unwrap_or(10),
    );
    let bench = bench_kit::Bench::new();
    let (merchant, platform) = (&bench.merchant, &bench.platform);

    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", sim_listener.local_addr().unwrap());
    let mut merchant_keys = KeySet::new();
    merchant_keys.insert(
        merchant.serial.clone(),
        PublicKey::from_pem(&merchant.cert_pem).unwrap(),
    );
    let sim = Sim::new(SimConfig {
        mchid: MCHID.into(),
        merchant_keys,
        apiv3_key: APIV3.as_bytes().to_vec(),
        v2_key: "BenchV2Key0123456789abcdefghijklm".into(),
        platform: std::sync::Arc::new(
            wxpay_server::sim::platform::PlatformKey::certificate(
                &platform.key_pem,
                &platform.cert_pem,
            )
            .unwrap(),
        ),
        apps: vec![SimApp {
            appid: APPID.into(),
            secret: "bench".into(),
        }],
        public_base_url: sim_url.clone(),
        h5_domains: vec![],
        jsapi_pay_dirs: vec![],
        mini_program: None,
        oauth_domains: vec![],
        retry_compression: 1.0,
        notify_timeout: Duration::from_secs(2),
        lifetimes: Lifetimes {
            prepay: 7200,
            h5: 300,
        },
    });
    tokio::spawn(wxpay_server::serve::serve(sim_listener, sim.router()));

    // A port nobody listens on: every notification is lost.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/api/wxpay/notify", dead.local_addr().unwrap());
    drop(dead);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let cfg = Config {
        wechat_base_url: sim_url.clone(),
        query_after_secs: 1,
        query_interval_secs: interval,
        ..bench.config(dead_url)
    };
    let backend = wxpay_server::serve::backend_from_config(cfg).unwrap();
    tokio::spawn(wxpay_server::serve::serve(
        listener,
        wxpay_server::router(backend.clone()),
    ));

    let http = reqwest::Client::new();
    let made = Instant::now();
    let mut last = (String::new(), String::new());
    for i in 0..orders {
        let o: serde_json::Value = http
            .post(format!("{api}/api/orders"))
            .bearer_auth(bench_kit::API_TOKEN)
            .json(&serde_json::json!({"description": format!("bench order {i}"), "amount": 100}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = o["order_id"].as_str().unwrap().to_string();
        let p: serde_json::Value = http
            .post(format!("{api}/api/orders/{id}/pay"))
            .json(&serde_json::json!({"mode": "native"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        last = (id, p["out_trade_no"].as_str().unwrap().to_string());
    }
    let made = made.elapsed();
    let (id, no) = last;
    let paid = http
        .post(format!("{sim_url}/sim/api/pay"))
        .json(&serde_json::json!({"out_trade_no": no}))
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success());
    tokio::time::sleep(Duration::from_millis(1100)).await; // past query_after_secs
    let started = Instant::now();
    let _reconciler = backend.start_reconciler();
    loop {
        let o = backend.store.order(id.clone()).await.unwrap().unwrap();
        if o.state.as_str() == "SUCCESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "lost notification recovered by the reconciler in {:.1}s behind {orders} unpaid orders (query_interval_secs {interval}; orders + prepays made in {:.1}s)",
        started.elapsed().as_secs_f64(),
        made.as_secs_f64()
    );
}
