//! Operations per second next to OpenSSL, in one window: RSA-2048 sign and verify interleaved
//! with `openssl speed -elapsed -seconds 3 rsa2048` (ours, openssl, ours, openssl, …), so both
//! see the same load on a shared machine and the per-pair ratio is what counts. Then a whole v3
//! notification (verify + decrypt + parse) and RSA-OAEP, per second on one core.
//!
//! `cargo bench -p wxpay-sign --bench speed` (rounds: `WXPAY_SPEED_ROUNDS`, default 5). Prints
//! markdown for sign/BENCHMARKS.md. `-elapsed` because plain `openssl speed` divides by CPU time,
//! which flatters OpenSSL when the machine is busy; we count wall time too.

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{key, payment_body, APIV3_KEY};
use wxpay_sign::v3::{self, WechatpayHeaders};
use wxpay_sign::KeySet;

const WINDOW: Duration = Duration::from_secs(3);

/// Calls of `f` per wall-clock second over [`WINDOW`].
fn per_second(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < WINDOW {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// (sign/s, verify/s) from `openssl speed -elapsed -mr`: its `+F2:…:bits:sign/s:verify/s` line.
fn openssl_speed() -> (f64, f64) {
    let out = Command::new("openssl")
        .args(["speed", "-elapsed", "-mr", "-seconds", "3", "rsa2048"])
        .output()
        .expect("openssl is needed for the comparison: apt-get install -y openssl");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("+F2:"))
        .unwrap_or_else(|| panic!("no +F2 line in openssl speed output:\n{text}"));
    let f: Vec<f64> = line
        .split(':')
        .skip(3)
        .map(|x| x.parse().unwrap())
        .collect();
    (f[0], f[1])
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn notification() -> (Vec<u8>, String, KeySet) {
    let (body, _) = payment_body(APIV3_KEY);
    let key = key();
    let sig = v3::sign_response(&key, 1_700_000_000, "n", &body).unwrap();
    let mut keys = KeySet::new();
    keys.insert("PUB_KEY_ID_01", key.public_key());
    (body, sig, keys)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing and must not spend a minute.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rounds: usize = std::env::var("WXPAY_SPEED_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    // Parsed once, as a backend holds them: every call below reuses the parsed keys.
    let key = key();
    let public = key.public_key();
    let msg =
        b"POST\n/v3/pay/transactions/native\n1700000000\n593BEC0C930BF1AFEB40B4A08C8FB242\n{}\n";
    let sig = key.sign_sha256(msg).unwrap();

    println!("load average at start: {}\n", load());
    println!("| pair | wxpay-sign sign/s | OpenSSL sign/s | ratio | wxpay-sign verify/s | OpenSSL verify/s | ratio |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let (mut sign_ratios, mut verify_ratios) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let ours_sign = per_second(|| {
            black_box(key.sign_sha256(black_box(msg)).unwrap());
        });
        let ours_verify = per_second(|| assert!(public.verify_sha256(black_box(msg), &sig)));
        let (ossl_sign, ossl_verify) = openssl_speed();
        let (rs, rv) = (ours_sign / ossl_sign, ours_verify / ossl_verify);
        sign_ratios.push(rs);
        verify_ratios.push(rv);
        println!(
            "| {round} | {ours_sign:.0} | {ossl_sign:.0} | {rs:.2} | {ours_verify:.0} | {ossl_verify:.0} | {rv:.2} |"
        );
    }
    println!(
        "| **median** | | | **{:.2}** | | | **{:.2}** |",
        median(sign_ratios),
        median(verify_ratios)
    );
    println!("\nload average after RSA rounds: {}\n", load());

    let (body, notif_sig, keys) = notification();
    let headers = WechatpayHeaders {
        timestamp: "1700000000",
        nonce: "n",
        signature: &notif_sig,
        serial: "PUB_KEY_ID_01",
    };
    let open = per_second(|| {
        black_box(
            v3::open_payment_notification(
                &headers,
                black_box(&body),
                1_700_000_000,
                &keys,
                APIV3_KEY,
            )
            .unwrap(),
        );
    });
    let ct = v3::oaep_encrypt(&public, b"13800138000").unwrap();
    let enc = per_second(|| {
        black_box(v3::oaep_encrypt(&public, black_box(b"13800138000")).unwrap());
    });
    let dec = per_second(|| {
        black_box(v3::oaep_decrypt(&key, black_box(&ct)).unwrap());
    });
    println!("| operation (one core) | per second |");
    println!("| --- | --- |");
    println!("| v3 `open_payment_notification` (verify + AES-GCM decrypt + parse) | {open:.0} |");
    println!("| RSA-OAEP encrypt (`oaep_encrypt`, 11-byte phone number) | {enc:.0} |");
    println!("| RSA-OAEP decrypt (`oaep_decrypt`) | {dec:.0} |");
    println!("\nload average at end: {}", load());
}
