//! How much can unauthenticated POSTs to `notify_url` grow the database?
//!
//! `cargo run --release -p wxpay-server --example bench_notify_flood -- [posts] [kb_each]`
//!
//! Starts a real backend (test keys via openssl, SQLite in a temp dir), sends `posts` unsigned
//! bodies of `kb_each` KB (8 at a time) to `POST /api/wxpay/notify`, and reports the growth of the
//! database files (main file + WAL) and how long the flood took.

mod bench_kit;

use std::time::Instant;

fn db_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("wxpay.sqlite3"))
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum()
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (posts, kb) = (
        args.first().copied().unwrap_or(150),
        args.get(1).copied().unwrap_or(2048),
    );
    let bench = bench_kit::Bench::new();
    let dir = &bench.dir;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let cfg = bench.config(format!("{api}/api/wxpay/notify"));
    let backend = wxpay_server::serve::backend_from_config(cfg).unwrap();
    tokio::spawn(wxpay_server::serve::serve(
        listener,
        wxpay_server::router(backend),
    ));
    let http = reqwest::Client::new();
    let before = db_bytes(dir.path());
    let body = vec![b'x'; (kb << 10) as usize];
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    let mut sent = 0;
    while sent < posts {
        let batch: Vec<_> = (0..8.min(posts - sent))
            .map(|_| {
                let (http, url, body) = (
                    http.clone(),
                    format!("{api}/api/wxpay/notify"),
                    body.clone(),
                );
                tokio::spawn(async move {
                    match http
                        .post(url)
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    }
                })
            })
            .collect();
        for t in batch {
            *statuses.entry(t.await.unwrap()).or_default() += 1;
            sent += 1;
        }
    }
    let elapsed = started.elapsed();
    let after = db_bytes(dir.path());
    println!(
        "{posts} unsigned POSTs of {kb} KB to /api/wxpay/notify in {:.1}s: database {} -> {} bytes (+{:.1} MB); answers {statuses:?} (0 = connection closed)",
        elapsed.as_secs_f64(),
        before,
        after,
        (after as f64 - before as f64) / 1e6,
    );
}
