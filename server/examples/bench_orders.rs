//! Load generator for `GET /api/orders/{id}` (the page's polling path), loopback.
//!
//! `cargo run --release -p wxpay-server --example bench_orders -- [seconds] [connections] [orders]`
//!
//! SQLite in a temp dir by default; with `WXPAY_DATABASE_URL=postgres://…` on PostgreSQL, and
//! with `BENCH_INSTANCES=n` as `n` instances on that one database (each its own port and pool).
//!
//! With `BENCH_SERVE_ONLY=1` it only starts the backend(s), creates the orders, writes their URLs
//! (every order on every instance) one per line to stdout and serves for `seconds` — for an
//! external generator such as `wrk`.
//!
//! Starts a real backend (test keys via openssl, SQLite in a temp dir), creates `orders` orders,
//! then `connections` keep-alive clients GET random orders for `seconds` and report throughput and
//! latency. Client and server share the machine, so the figure is a floor, not a ceiling.

mod bench_kit;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wxpay_server::config::{Config, Secret};

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (secs, conns, orders) = (
        args.first().copied().unwrap_or(10),
        args.get(1).copied().unwrap_or(32),
        args.get(2).copied().unwrap_or(1000),
    );
    let bench = bench_kit::Bench::new();
    let instances: usize = std::env::var("BENCH_INSTANCES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let database_url = std::env::var("WXPAY_DATABASE_URL").ok().map(Secret);
    let mut apis = Vec::new();
    let mut keep = Vec::new();
    for _ in 0..instances {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        let cfg = Config {
            database_url: database_url.clone(),
            ..bench.config(format!("{api}/api/wxpay/notify"))
        };
        let (backend, listener_task) = wxpay_server::serve::backend_on_configured_store(cfg)
            .await
            .unwrap();
        keep.push(listener_task);
        tokio::spawn(wxpay_server::serve::serve(
            listener,
            wxpay_server::router(backend),
        ));
        apis.push(api);
    }
    let api = apis[0].clone();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(conns as usize)
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..orders {
        let o: serde_json::Value = http
            .post(format!("{api}/api/orders"))
            .bearer_auth(bench_kit::API_TOKEN)
            .json(&serde_json::json!({"description": format!("bench order {i}"), "amount": 100 + i as i64}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(o["order_id"].as_str().unwrap().to_string());
    }
    if std::env::var_os("BENCH_SERVE_ONLY").is_some() {
        for api in &apis {
            for id in &ids {
                println!("{api}/api/orders/{id}");
            }
        }
        tokio::time::sleep(Duration::from_secs(secs)).await;
        return;
    }
    let ids = Arc::new(ids);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let api = apis[c as usize % apis.len()].clone();
        let (http, ids, stop) = (http.clone(), ids.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            let mut i = c as usize * 7919;
            while !stop.load(Ordering::Relaxed) {
                i = (i + 104_729) % ids.len();
                let t = Instant::now();
                let ok = match http
                    .get(format!("{api}/api/orders/{}", ids[i]))
                    .send()
                    .await
                {
                    Ok(r) => r.status() == 200 && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if ok {
                    latencies.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "GET /api/orders/{{id}}: {} requests in {:.1}s = {:.0} req/s; {} errors; latency p50 {:?} p99 {:?} max {:?} ({} connections, {} orders, {} instance(s) on {})",
        all.len(),
        elapsed.as_secs_f64(),
        all.len() as f64 / elapsed.as_secs_f64(),
        errors,
        pct(0.50),
        pct(0.99),
        all[all.len() - 1],
        conns,
        orders,
        apis.len(),
        if database_url.is_some() { "PostgreSQL" } else { "SQLite WAL" }
    );
}
