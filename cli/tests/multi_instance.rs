//! Several `wxpay serve` processes on one PostgreSQL database, over real HTTP, with the simulator
//! as WeChat: what a merchant runs behind a load balancer. Each instance is this package's
//! `wxpay` binary started with `serve --config … --database postgres://…` (secrets from
//! `WXPAY_*`), on a port of its own choosing (`listen = "127.0.0.1:0"`, read from its first line
//! of stdout); they share only the database, a throwaway cluster started here. Duplicates spread
//! over instances change an order once, a long-poll on one instance is woken by a notification
//! applied on another, concurrent refunds spread over instances never exceed the payment, killing an instance with SIGKILL mid-burst loses nothing it acknowledged,
//! a lost notification is recovered by one instance's reconciler, and a database outage or its
//! connections cut answer 503 `storage_unavailable` and heal without a restart.

// The server's test harness (keys, simulator, PostgreSQL cluster, signed notifications).
#[path = "../../server/tests/common/mod.rs"]
mod common;

use common::pg::PgCluster;
use common::v3notify::{by_platform, envelope, notify_request, payment, send_to, Signed};
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wxpay_server::store::{PostgresStore, Store};

/// Where WeChat's own notifications go in these tests: nowhere (the tests deliver them by hand,
/// to the instance they choose, or not at all).
const LOST_NOTIFY_URL: &str = "http://127.0.0.1:9/api/wxpay/notify";

/// One `wxpay serve` process.
struct Instance {
    api: String,
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Instance {
    /// Starts `wxpay serve` on `database_url` against the simulator at `sim_url`, asking WeChat
    /// about an unpaid order `query_after_secs` after its prepay; returns once it listens.
    async fn start(database_url: &str, sim_url: &str, query_after_secs: u64) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("wxpay.toml");
        std::fs::write(&config, config_toml(dir.path(), sim_url, query_after_secs)).unwrap();
        let log = dir.path().join("wxpay.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxpay"));
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .args(["--database", database_url]);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WXPAY_")) {
            cmd.env_remove(k);
        }
        // Secrets from the environment, as in production (not in the file).
        cmd.env("WXPAY_APIV3_KEY", APIV3_KEY)
            .env("WXPAY_API_TOKEN", API_TOKEN)
            .env("WXPAY_APP_SECRET", SECRET)
            .env("WXPAY_V2_KEY", V2_KEY)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        let mut child = cmd.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let first = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            // Keep draining stdout so the instance never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            first
        })
        .await
        .unwrap();
        let Some(Ok(line)) = first else {
            let _ = child.wait();
            panic!(
                "wxpay serve exited without its URL line:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        let api = line
            .strip_prefix("wxpay serve: ")
            .and_then(|u| u.strip_suffix("/api"))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Instance {
            api,
            child,
            log,
            _dir: dir,
        }
    }

    fn kill_9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        let _ = self.child.wait();
    }

    /// What the instance logged so far (for failure messages).
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A configuration file as a merchant writes one (secrets come from the environment).
fn config_toml(dir: &Path, sim_url: &str, query_after_secs: u64) -> String {
    let k = keys();
    format!(
        r#"listen = "127.0.0.1:0"
data_dir = {data:?}
mchid = "{MCHID}"
appid = "{APPID}"
mp_appid = "{MP_APPID}"
merchant_serial = "{serial}"
merchant_key_file = {key:?}
notify_url = "{LOST_NOTIFY_URL}"
wechat_base_url = "{sim_url}"
oauth_base_url = "{sim_url}"
sns_base_url = "{sim_url}"
h5_redirect_hosts = ["shop.example"]
http_timeout_ms = 3000
query_after_secs = {query_after_secs}
query_interval_secs = 1

[platform_certs]
"{platform_serial}" = {platform_cert:?}

[catalog]
tea = {{ description = "Jasmine tea 250g", amount = 100 }}
"#,
        data = dir.join("data"),
        serial = k.merchant.serial,
        key = k.merchant.key_path,
        platform_serial = k.platform.serial,
        platform_cert = k.platform.cert_path,
    )
}

/// The simulator, a database and `n` instances on it.
struct Fleet {
    instances: Vec<Instance>,
    http: reqwest::Client,
    sim: wxpay_server::sim::Sim,
    sim_url: String,
    _sim_server: tokio::task::JoinHandle<()>,
    url: String,
    // Last: the database outlives the instances using it.
    pg: PgCluster,
}

async fn fleet(n: usize, query_after_secs: u64) -> Fleet {
    keys(); // made once, before the instances read them
    let pg = PgCluster::start();
    let url = pg.create_database("shop");
    let (sim, sim_url, sim_server) = start_sim(1000.0).await;
    let mut instances = Vec::new();
    for _ in 0..n {
        instances.push(Instance::start(&url, &sim_url, query_after_secs).await);
    }
    Fleet {
        instances,
        http: wxpay_server::http_client::client(Duration::from_secs(40)),
        sim,
        sim_url,
        _sim_server: sim_server,
        url,
        pg,
    }
}

impl Fleet {
    fn api(&self, i: usize) -> &str {
        &self.instances[i].api
    }

    /// The shared database, as a test's own view of it.
    async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url).await.unwrap()
    }
}

/// A new order (100 fen, from the catalog, as a page makes it) created on the instance at `api`,
/// with a native prepay: (order_id, out_trade_no, the pay answer).
async fn ordered_on(http: &reqwest::Client, api: &str) -> (String, String, Value) {
    let (status, order) = post_json(
        http,
        &format!("{api}/api/orders"),
        &json!({ "items": [{ "sku": "tea", "quantity": 1 }] }),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let id = order["order_id"].as_str().unwrap().to_string();
    let (status, pay) = post_json(
        http,
        &format!("{api}/api/orders/{id}/pay"),
        &json!({ "mode": "native" }),
    )
    .await;
    assert_eq!(status, 200, "{pay}");
    let no = pay["out_trade_no"].as_str().unwrap().to_string();
    (id, no, pay)
}

/// WeChat's notification of a 100 fen payment of `no` by transaction `tx`.
fn paid(no: &str, tx: &str) -> Signed {
    let mut resource = payment(no, 100);
    resource["transaction_id"] = json!(tx);
    by_platform(envelope(&resource))
}

/// Like [`send_to`] but a connection failure (a killed instance) is `None`, not a panic.
async fn send_to_checked(http: &reqwest::Client, api: &str, s: &Signed) -> Option<u16> {
    let r = notify_request(http, api, s).send().await.ok()?;
    Some(r.status().as_u16())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_spread_over_three_instances_change_the_order_once() {
    let f = fleet(3, 3600).await;
    let (id, no, _) = ordered_on(&f.http, f.api(0)).await;
    let signed = Arc::new(paid(&no, "4200000000000000000000000001"));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (http, api, s) = (f.http.clone(), f.api(i % 3).to_string(), signed.clone());
            tokio::spawn(async move { send_to(&http, &api, &s).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204, "every duplicate is acknowledged");
    }
    let store = f.store().await;
    let events = store.events(id.clone()).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].to.as_str(), "SUCCESS");
    let verdicts: Vec<String> = store
        .notifications(no.clone())
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.verdict)
        .collect();
    assert_eq!(
        verdicts.len(),
        200,
        "every notification kept with its verdict"
    );
    assert_eq!(verdicts.iter().filter(|v| *v == "applied").count(), 1);
    assert_eq!(store.payments(id.clone()).await.unwrap().len(), 1);
    // Every instance answers the same.
    for i in 0..3 {
        let (_, o) = get_json(&f.http, &format!("{}/api/orders/{id}", f.api(i))).await;
        assert_eq!(o["state"], "SUCCESS", "instance {i}: {o}");
    }
}

/// One trial: a long-poll on `a`, the notification on `b`; the time from `b`'s acknowledgement
/// to `a`'s answer.
async fn wake_latency(f: &Fleet, a: usize, b: usize, tx: &str) -> Duration {
    let (id, no, _) = ordered_on(&f.http, f.api(a)).await;
    let poll = {
        let (http, url) = (
            f.http.clone(),
            format!("{}/api/orders/{id}?wait=20", f.api(a)),
        );
        tokio::spawn(async move {
            let r = get_json(&http, &url).await;
            (r, Instant::now())
        })
    };
    // Let the long-poll reach its wait (an earlier change would be answered at once anyway).
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (status, _) = send_to(&f.http, f.api(b), &paid(&no, tx)).await;
    let acked = Instant::now();
    assert_eq!(status, 204);
    let ((status, order), answered) = poll.await.unwrap();
    assert_eq!((status, order["state"].as_str()), (200, Some("SUCCESS")));
    answered.saturating_duration_since(acked)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_poll_on_one_instance_is_woken_by_a_notification_on_another() {
    let f = fleet(2, 3600).await;
    let mut lat = Vec::new();
    for i in 0..50 {
        lat.push(wake_latency(&f, 0, 1, &format!("42{i:026}")).await);
    }
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    eprintln!(
        "cross-instance wake-up after the acknowledgement, 50 trials: p50 {p50:?}, p99 {p99:?}, max {:?}",
        lat[49]
    );
    // Without the LISTEN/NOTIFY wake-up a waiter sees the change at its next 1 s re-read
    // (p50 ≈ 500 ms); with it, a few ms.
    assert!(p50 < Duration::from_millis(100), "p50 {p50:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_an_instance_mid_burst_loses_nothing_acknowledged() {
    let mut f = fleet(3, 3600).await;
    let apis: Vec<String> = (0..3).map(|i| f.api(i).to_string()).collect();
    let http = wxpay_server::http_client::client(Duration::from_secs(10));
    // 90 orders with a prepay each, made on the three instances in turn.
    let mut orders = Vec::new();
    for i in 0..90 {
        let (id, no, _) = ordered_on(&http, &apis[i % 3]).await;
        orders.push((id, no, format!("44{i:026}")));
    }
    // 90 more orders, not yet paying: their buyers press "pay" during the burst.
    let mut fresh = Vec::new();
    for i in 0..90 {
        let (status, o) = post_json(
            &http,
            &format!("{}/api/orders", apis[i % 3]),
            &json!({ "items": [{ "sku": "tea", "quantity": 1 }] }),
        )
        .await;
        assert_eq!(status, 201, "{o}");
        fresh.push(o["order_id"].as_str().unwrap().to_string());
    }
    // The burst: every payment notified (to the instances in turn), a page poll per order and a
    // buyer starting to pay a fresh order; instance 2 is killed with SIGKILL a third of the way in.
    let mut pays = tokio::task::JoinSet::new();
    let mut sends = tokio::task::JoinSet::new();
    let killed_acks = Arc::new(AtomicUsize::new(0));
    for (i, (id, no, tx)) in orders.iter().enumerate() {
        if i == 30 {
            // Once instance 2 has acknowledged a few, so what it acknowledged is put to the test.
            for _ in 0..5000 {
                if killed_acks.load(Ordering::SeqCst) >= 3 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            f.instances[2].kill_9();
        }
        let (http, api) = (http.clone(), apis[i % 3].clone());
        let fresh_id = fresh[i].clone();
        pays.spawn({
            let (http, api) = (http.clone(), api.clone());
            async move {
                let r = http
                    .post(format!("{api}/api/orders/{fresh_id}/pay"))
                    .json(&json!({ "mode": "native" }))
                    .send()
                    .await;
                let answered = match r {
                    Ok(r) if r.status() == 200 => r.json::<Value>().await.ok(),
                    _ => None,
                };
                (fresh_id, answered)
            }
        });
        let (id, signed) = (id.clone(), paid(no, tx));
        let killed_acks = killed_acks.clone();
        sends.spawn(async move {
            let acked = matches!(
                tokio::time::timeout(
                    Duration::from_secs(10),
                    send_to_checked(&http, &api, &signed)
                )
                .await,
                Ok(Some(204))
            );
            if acked && i % 3 == 2 {
                killed_acks.fetch_add(1, Ordering::SeqCst);
            }
            let _ = http.get(format!("{api}/api/orders/{id}")).send().await;
            (i, acked)
        });
    }
    let mut acked = vec![false; orders.len()];
    while let Some(r) = sends.join_next().await {
        let (i, ok) = r.unwrap();
        acked[i] = ok;
    }
    let killed_acked = (0..orders.len())
        .filter(|i| i % 3 == 2 && acked[*i])
        .count();
    eprintln!(
        "acknowledged: {} of 90 ({killed_acked} of 30 by the killed instance)",
        acked.iter().filter(|a| **a).count()
    );
    assert!(
        (3..30).contains(&killed_acked),
        "the kill came mid-burst, after instance 2 acknowledged some"
    );
    // The survivors carried on: everything sent to them was acknowledged.
    for (i, ok) in acked.iter().enumerate() {
        if i % 3 != 2 {
            assert!(
                ok,
                "notification {i} to a live instance was not acknowledged:\n{}",
                f.instances[i % 3].log()
            );
        }
    }
    let store = f.store().await;
    // Nothing acknowledged is lost.
    for (i, (id, _, _)) in orders.iter().enumerate() {
        if acked[i] {
            let o = store.order(id.clone()).await.unwrap().unwrap();
            assert_eq!(o.state.as_str(), "SUCCESS", "acknowledged payment {i} lost");
        }
    }
    // Every code_url a buyer was shown is a stored attempt of its order, known to WeChat.
    let mut shown = 0;
    while let Some(r) = pays.join_next().await {
        let (order_id, answered) = r.unwrap();
        let Some(pay) = answered else { continue };
        shown += 1;
        let no = pay["out_trade_no"].as_str().unwrap();
        let attempt = store.prepay_by_out_trade_no(no.into()).await.unwrap();
        let attempt = attempt.unwrap_or_else(|| panic!("attempt {no} shown but not stored"));
        assert_eq!(attempt.order_id, order_id);
        assert_eq!(attempt.code_url.as_deref(), pay["code_url"].as_str());
        assert!(f.sim.order(no).is_some(), "WeChat does not know {no}");
    }
    eprintln!("pay answers shown to buyers during the burst: {shown} of 90");
    assert!(shown >= 60, "the live instances answered their pays");
    // WeChat re-sends every notification (those the dead instance never answered too), to the
    // survivors: each payment applied at most once, all of them in the end.
    for (i, (id, no, tx)) in orders.iter().enumerate() {
        let status = send_to_checked(&http, &apis[i % 2], &paid(no, tx)).await;
        assert_eq!(status, Some(204), "re-sent notification {i}");
        let events = store.events(id.clone()).await.unwrap();
        assert_eq!(events.len(), 1, "order {i}: {events:?}");
        assert_eq!(store.payments(id.clone()).await.unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_refunds_over_three_instances_never_exceed_the_payment() {
    let f = fleet(3, 3600).await;
    let (id, no, pay) = ordered_on(&f.http, f.api(0)).await;
    // Paid at WeChat; its notification (lost on the way) delivered to instance 1 by hand.
    let (status, _) = post_json(
        &f.http,
        &format!("{}/sim/api/pay", f.sim_url),
        &json!({ "code_url": pay["code_url"] }),
    )
    .await;
    assert_eq!(status, 200);
    let tx = f.sim.order(&no).unwrap().transaction_id.unwrap();
    assert_eq!(send_to(&f.http, f.api(1), &paid(&no, &tx)).await.0, 204);
    // Ten refunds of 30 fen of the 100 fen payment, sent to the three instances at once.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (http, api, id) = (f.http.clone(), f.api(i % 3).to_string(), id.clone());
            tokio::spawn(async move {
                let r = http
                    .post(format!("{api}/api/orders/{id}/refunds"))
                    .bearer_auth(API_TOKEN)
                    .json(&json!({ "amount": 30, "reason": "broken cup" }))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                (status, r.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut made = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (201, r) => made.push(r["out_refund_no"].as_str().unwrap().to_string()),
            (409, e) => assert_eq!(e["error"], "refund_exceeds_payment", "{e}"),
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(made.len(), 3, "3 × 30 fen fit in 100, a fourth does not");
    // WeChat got exactly those three, each once.
    for no in &made {
        let r = f.sim.refund(no).expect("WeChat has the refund");
        assert_eq!((r.refund, r.transaction_id.as_str()), (30, tx.as_str()));
    }
    let store = f.store().await;
    let refunds = store.refunds(id.clone()).await.unwrap();
    let mut stored: Vec<&str> = refunds
        .iter()
        .map(|r| r.refund.out_refund_no.as_str())
        .collect();
    stored.sort();
    made.sort();
    assert_eq!(stored, made);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_notifications_are_recovered_by_one_instances_reconciler() {
    // Every instance runs its reconciler (as `wxpay serve` does), asking about an unpaid order
    // 3 s after its prepay (the buyer has paid by then, even on a loaded machine) and then at
    // most every second.
    let f = fleet(3, 3).await;
    let mut orders = Vec::new();
    for i in 0..12 {
        let (id, no, pay) = ordered_on(&f.http, f.api(i % 3)).await;
        // The buyer pays at once; WeChat's notification goes nowhere.
        let (status, paid) = post_json(
            &f.http,
            &format!("{}/sim/api/pay", f.sim_url),
            &json!({ "code_url": pay["code_url"] }),
        )
        .await;
        assert_eq!(status, 200, "{paid}");
        orders.push((id, no));
    }
    let store = f.store().await;
    for (id, _) in &orders {
        let mut found = false;
        for _ in 0..100 {
            let o = store.order(id.clone()).await.unwrap();
            found = o.is_some_and(|o| o.state.as_str() == "SUCCESS");
            if found {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(found, "no reconciler found the payment of {id}");
    }
    // Give every reconciler more rounds: still one change and one payment per order, and WeChat
    // was asked about each order once in all (the instances claim orders from each other; paid
    // before it was due, an order needs one question).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    for (id, no) in &orders {
        let events = store.events(id.clone()).await.unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].source, "query-v3");
        assert_eq!(store.payments(id.clone()).await.unwrap().len(), 1);
        assert_eq!(
            f.sim.queries(no),
            1,
            "WeChat asked about {no} more than once"
        );
    }
}

/// Page polls of `url(i % 2)` from 40 tasks, `rounds` each: the answers' statuses.
fn polling_load(
    f: &Fleet,
    id: &str,
    rounds: usize,
) -> tokio::task::JoinHandle<BTreeMap<u16, usize>> {
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (http, url) = (f.http.clone(), format!("{}/api/orders/{id}", f.api(i % 2)));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..rounds {
                    statuses.push(get_json(&http, &url).await.0);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                statuses
            })
        })
        .collect();
    tokio::spawn(async move {
        let mut seen = BTreeMap::new();
        for t in tasks {
            for status in t.await.unwrap() {
                *seen.entry(status).or_insert(0) += 1;
            }
        }
        seen
    })
}

/// Both instances answer `GET /api/orders/{id}` again within 10 s, and hear each other's changes
/// again (their listeners reconnected): `tag` makes the trials' transaction ids unique.
async fn assert_healed(f: &Fleet, id: &str, tag: u32) {
    for i in 0..2 {
        let url = format!("{}/api/orders/{id}", f.api(i));
        let mut status = 0;
        for _ in 0..100 {
            status = get_json(&f.http, &url).await.0;
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            status,
            200,
            "instance {i} serves again:\n{}",
            f.instances[i].log()
        );
    }
    let mut woke = Duration::MAX;
    for i in 0..40 {
        woke = wake_latency(f, 0, 1, &format!("{tag}{i:026}")).await;
        if woke < Duration::from_millis(300) {
            break;
        }
    }
    assert!(
        woke < Duration::from_millis(300),
        "wake-ups after healing: {woke:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_answers_503_then_heals_without_restart() {
    let f = fleet(2, 3600).await;
    let (id, _, _) = ordered_on(&f.http, f.api(0)).await;
    // Requests in flight when the database goes away.
    let load = polling_load(&f, &id, 30);
    tokio::time::sleep(Duration::from_millis(100)).await;
    f.pg.stop();
    for i in 0..2 {
        let (status, body) = get_json(&f.http, &format!("{}/api/orders/{id}", f.api(i))).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("storage_unavailable")),
            "{body}"
        );
    }
    let seen = load.await.unwrap();
    assert!(
        seen.keys().all(|s| matches!(s, 200 | 503)),
        "only 200 or a clean 503: {seen:?}"
    );
    f.pg.restart();
    assert_healed(&f, &id, 43).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connections_cut_by_the_database_are_replaced_under_load() {
    let f = fleet(2, 3600).await;
    let (id, _, _) = ordered_on(&f.http, f.api(0)).await;
    let load = polling_load(&f, &id, 40);
    tokio::time::sleep(Duration::from_millis(150)).await;
    // The database ends every connection of the instances (pools and listeners), as a failover
    // or an administrator would, while requests are in flight.
    let cut = f.pg.sql(
        "shop",
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'wxpay-server') t",
    );
    let cut: usize = cut.trim().parse().unwrap();
    assert!(
        cut >= 4,
        "pool and listener connections of both instances: {cut}"
    );
    let seen = load.await.unwrap();
    eprintln!("answers while connections were cut ({cut} connections): {seen:?}");
    assert!(
        seen.keys().all(|s| matches!(s, 200 | 503)),
        "only 200 or a clean 503: {seen:?}"
    );
    assert_healed(&f, &id, 45).await;
}

/// `wxpay doctor` on an instance's configuration looks at the shared database the way the
/// instances connect to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn doctor_looks_at_the_shared_database() {
    let f = fleet(1, 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wxpay.toml");
    std::fs::write(&config, config_toml(dir.path(), &f.sim_url, 3600)).unwrap();
    let out = tokio::task::spawn_blocking({
        let url = f.url.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_wxpay"))
                .arg("doctor")
                .arg("--config")
                .arg(&config)
                .env("WXPAY_DATABASE_URL", url)
                .env("WXPAY_APIV3_KEY", APIV3_KEY)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let database: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "database_url")
        .collect();
    assert!(database.iter().all(|f| f["level"] == "ok"), "{database:#?}");
    assert!(
        database
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("current")),
        "the running instance migrated it: {database:#?}"
    );
}
