//! Issue 9: `notify_url` is public, and every rejected body used to be stored whole (150 unsigned
//! 2 MB POSTs grew the database by 294 MB). Now large bodies are refused unread and what does
//! not authenticate is kept bounded: size, SHA-256, headers, the first 4 KB, under a cap.

mod common;

use common::*;
use std::path::Path;

fn db_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("wxpay.sqlite3"))
        .map(|e| e.metadata().unwrap().len())
        .sum()
}

async fn flood(e: &Env, path: &str, n: usize, size: usize) -> Vec<u16> {
    let body = vec![b'{'; size];
    // Its own connections: a 413 closes the connection it was sent on.
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let sends = chunk.iter().map(|_| {
            http.post(format!("{}{path}", e.api))
                .header("Content-Type", "application/json")
                .header("Wechatpay-Serial", "FLOOD")
                .body(body.clone())
                .send()
        });
        for r in futures_join(sends).await {
            statuses.push(r.map(|r| r.status().as_u16()).unwrap_or(0));
        }
    }
    statuses
}

async fn futures_join<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_flood_cannot_grow_the_database() {
    let e = start(Opts {
        rejected_cap: Some((40, 100_000)),
        ..Opts::default()
    })
    .await;
    let dir = e.data_dir.clone();
    let before = db_bytes(&dir);

    // 40 × 2 MB: refused unread (413), only headers and the announced size kept.
    let big = flood(&e, "/api/wxpay/notify", 40, 2 << 20).await;
    assert!(big.iter().all(|s| *s == 413 || *s == 0), "{big:?}");
    // 300 × 60 KB unsigned, v3 and v2: refused (4xx), kept bounded.
    let v3 = flood(&e, "/api/wxpay/notify", 150, 60_000).await;
    let v2 = flood(&e, "/api/wxpay/notify/v2", 150, 60_000).await;
    assert!(
        v3.iter().chain(&v2).all(|s| (400..500).contains(s)),
        "{v3:?} {v2:?}"
    );

    let kept = e.backend.store.rejected_notifications(1000).await.unwrap();
    assert!(kept.len() <= 40, "{} rows kept", kept.len());
    let bytes: u64 = kept.iter().map(|k| k.stored_bytes()).sum();
    assert!(bytes <= 100_000, "{bytes} bytes kept");
    let newest = &kept[0];
    assert_eq!(newest.api_version, "v2");
    assert_eq!(newest.body_size, 60_000);
    assert_eq!(newest.body_head.len(), 4096);
    assert_eq!(
        newest.body_sha256.as_deref(),
        Some(wxpay_server::backend::audit::sha256_hex(&vec![b'{'; 60_000]).as_str())
    );
    assert!(
        newest.headers.contains("Wechatpay-Serial"),
        "{}",
        newest.headers
    );
    assert!(
        newest.verdict.starts_with("rejected: "),
        "{}",
        newest.verdict
    );

    let grown = db_bytes(&dir) - before;
    // 80 MB + 18 MB were sent; what stays is the capped few hundred KB (+ WAL).
    assert!(grown < 8 << 20, "the database grew by {grown} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_refund_notifications_are_refused_unread_and_kept_bounded() {
    let e = start(Opts::default()).await;
    for (path, api) in [
        ("/api/wxpay/notify/refund", "v3-refund"),
        ("/api/wxpay/notify/v2/refund", "v2-refund"),
    ] {
        let statuses = flood(&e, path, 1, 2 << 20).await;
        assert!(
            statuses.iter().all(|s| *s == 413 || *s == 0),
            "{statuses:?}"
        );
        let kept = e.backend.store.rejected_notifications(10).await.unwrap();
        assert_eq!(kept[0].api_version, api, "{kept:?}");
        assert!(kept[0].verdict.contains("too_large"), "{kept:?}");
        assert!(kept[0].body_head.is_empty());
    }
}
