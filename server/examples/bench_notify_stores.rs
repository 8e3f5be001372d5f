//! Verified v3 payment notifications per second, SQLite against PostgreSQL in the same run.
//!
//! `WXPAY_DATABASE_URL=postgres://… cargo run --release -p wxpay-server --example bench_notify_stores -- [notifications] [concurrency]`
//!
//! For each store (SQLite in a temp dir; then PostgreSQL at `WXPAY_DATABASE_URL`, an empty
//! database, if set): a backend on loopback, `notifications` orders each with one attempt, then
//! one signed, encrypted payment notification per order POSTed `concurrency` at a time — the
//! whole path: signature check, AES-GCM decryption, the order's payment transaction, the audit
//! row. Prints notifications/s per store and their ratio (the machine is shared: only the ratio
//! is meaningful).

mod bench_kit;

use std::sync::Arc;
use std::time::{Duration, Instant};
use wxpay_server::config::{Config, Secret};
use wxpay_server::order::{PayMode, TradeState};
use wxpay_server::store::Prepay;
use wxpay_sign::keys::MerchantKey;
use wxpay_sign::v3;

use bench_kit::APIV3;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (count, concurrency) = (
        args.first().copied().unwrap_or(2000),
        args.get(1).copied().unwrap_or(16),
    );
    let sqlite = run(None, count, concurrency).await;
    println!("SQLite:     {sqlite:.0} verified notifications/s ({count}, {concurrency} at a time)");
    if let Ok(url) = std::env::var("WXPAY_DATABASE_URL") {
        let pg = run(Some(url), count, concurrency).await;
        println!("PostgreSQL: {pg:.0} verified notifications/s ({count}, {concurrency} at a time)");
        println!("PostgreSQL / SQLite: {:.2}", pg / sqlite);
    }
}

async fn run(database_url: Option<String>, count: usize, concurrency: usize) -> f64 {
    let bench = bench_kit::Bench::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let cfg = Config {
        database_url: database_url.map(Secret),
        ..bench.config(format!("{api}/api/wxpay/notify"))
    };
    let (backend, _changes) = wxpay_server::serve::backend_on_configured_store(cfg)
        .await
        .unwrap();
    tokio::spawn(wxpay_server::serve::serve(
        listener,
        wxpay_server::router(backend.clone()),
    ));
    let platform_key = MerchantKey::from_pkcs8_pem(&bench.platform.key_pem).unwrap();
    let now = wxpay_server::timefmt::unix_now();
    let mut requests = Vec::new();
    for i in 0..count {
        let order = backend.create_order("bench", 100).await.unwrap();
        let no = format!("{}A", order.out_trade_no);
        backend
            .store
            .save_prepay(Prepay {
                out_trade_no: no.clone(),
                order_id: order.order_id.clone(),
                mode: PayMode::Native,
                api_version: "v3".into(),
                openid: None,
                prepay_id: None,
                code_url: Some(format!("weixin://wxpay/bizpayurl?pr={i}")),
                h5_url: None,
                expires_at: now + 7200,
                created_at: now,
                state: TradeState::Notpay,
            })
            .await
            .unwrap();
        let resource = serde_json::json!({
            "mchid": "1900000109", "appid": "wxd678efh567hg6787", "out_trade_no": no,
            "transaction_id": format!("42{i:026}"), "trade_type": "NATIVE",
            "trade_state": "SUCCESS", "trade_state_desc": "ok", "bank_type": "OTHERS", "attach": "",
            "success_time": "2026-12-01T18:00:00+08:00", "payer": { "openid": "oBench" },
            "amount": { "total": 100, "payer_total": 100, "currency": "CNY", "payer_currency": "CNY" },
        });
        let nonce = format!("n{i:011}");
        let ciphertext = v3::encrypt_resource(
            APIV3.as_bytes(),
            &nonce,
            "transaction",
            resource.to_string().as_bytes(),
        )
        .unwrap();
        let body = serde_json::json!({
            "id": format!("EV-{i}"), "create_time": "2026-12-01T18:00:01+08:00",
            "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "ok",
            "resource": { "original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                          "ciphertext": ciphertext, "associated_data": "transaction", "nonce": nonce },
        })
        .to_string();
        let sign_nonce = format!("N{i:031}");
        let signature =
            v3::sign_response(&platform_key, now, &sign_nonce, body.as_bytes()).unwrap();
        requests.push((body, sign_nonce, signature));
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let requests = Arc::new(requests);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (http, api, requests, next) =
            (http.clone(), api.clone(), requests.clone(), next.clone());
        let serial = bench.platform.serial.clone();
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((body, nonce, signature)) = requests.get(i) else {
                    return;
                };
                let status = http
                    .post(format!("{api}/api/wxpay/notify"))
                    .header("Content-Type", "application/json")
                    .header("Wechatpay-Timestamp", now.to_string())
                    .header("Wechatpay-Nonce", nonce)
                    .header("Wechatpay-Signature", signature)
                    .header("Wechatpay-Serial", &serial)
                    .body(body.clone())
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0);
                assert_eq!(status, 204, "notification {i}");
            }
        });
    }
    while workers.join_next().await.is_some() {}
    count as f64 / started.elapsed().as_secs_f64()
}
