//! Several backend instances on one PostgreSQL database, over real HTTP, with the simulator as
//! WeChat: each instance has its own HTTP port, connection pool, change listener and (where
//! started) reconciler, as separate `wxpay serve` processes would; they share only the database.
//! Duplicates spread over instances change an order once, a long-poll on one instance is woken
//! by a notification applied on another, a lost notification is recovered by the reconcilers,
//! and a database outage answers 503 `storage_unavailable` and heals without a restart.

mod common;

use common::pg::PgCluster;
use common::v3notify::{by_platform, envelope, notify_request, payment, send_to};
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wxpay_server::backend::reconcile::Reconciler;
use wxpay_server::store::changes::Listener;
use wxpay_server::Backend;

struct Instance {
    api: String,
    backend: Arc<Backend>,
    server: tokio::task::JoinHandle<()>,
    _listener: Option<Listener>,
    _reconciler: Option<Reconciler>,
    _tmp: tempfile::TempDir,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

struct Fleet {
    instances: Vec<Instance>,
    http: reqwest::Client,
    sim_url: String,
    _sim: wxpay_server::sim::Sim,
    _sim_server: tokio::task::JoinHandle<()>,
    // Last: the database outlives the instances using it.
    pg: PgCluster,
}

/// `n` instances on one fresh database; `reconcile` starts each one's reconciler.
async fn fleet(n: usize, o: Opts, reconcile: bool) -> Fleet {
    let pg = PgCluster::start();
    let url = pg.create_database("shop");
    let (sim, sim_url, sim_server) = start_sim(o.retry_compression).await;
    let mut instances = Vec::new();
    for _ in 0..n {
        let tmp = tempfile::tempdir().unwrap();
        let (listener, api) = bind().await;
        let mut cfg = backend_config(&api, &sim_url, tmp.path(), &o);
        cfg.database_url = Some(wxpay_server::config::Secret(url.clone()));
        let (backend, changes) = wxpay_server::serve::backend_on_configured_store(cfg)
            .await
            .unwrap();
        assert!(changes.is_some(), "a PostgreSQL store listens for changes");
        let reconciler = reconcile.then(|| backend.start_reconciler());
        let app = wxpay_server::router(backend.clone());
        let server = tokio::spawn(async move {
            let _ = wxpay_server::serve::serve(listener, app).await;
        });
        instances.push(Instance {
            api,
            backend,
            server,
            _listener: changes,
            _reconciler: reconciler,
            _tmp: tmp,
        });
    }
    Fleet {
        instances,
        http: wxpay_server::http_client::client(Duration::from_secs(40)),
        sim_url,
        _sim: sim,
        _sim_server: sim_server,
        pg,
    }
}

impl Fleet {
    /// A new order (100 fen) created on instance `i`, with a native prepay.
    async fn ordered(&self, i: usize) -> (String, String, Value) {
        ordered_on(&self.http, &self.instances[i].api).await
    }
}

/// A new order (100 fen) created on the instance at `api`, with a native prepay:
/// (order_id, out_trade_no, the pay answer).
async fn ordered_on(http: &reqwest::Client, api: &str) -> (String, String, Value) {
    let r = http
        .post(format!("{api}/api/orders"))
        .bearer_auth(API_TOKEN)
        .json(&json!({ "description": "Jasmine tea 250g", "amount": 100 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let order: Value = r.json().await.unwrap();
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
fn paid(no: &str, tx: &str) -> common::v3notify::Signed {
    let mut resource = payment(no, 100);
    resource["transaction_id"] = json!(tx);
    by_platform(envelope(&resource))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_spread_over_three_instances_change_the_order_once() {
    let f = fleet(3, Opts::default(), false).await;
    let (id, no, _) = f.ordered(0).await;
    let signed = Arc::new(paid(&no, "4200000000000000000000000001"));
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (http, api, s) = (
                f.http.clone(),
                f.instances[i % 3].api.clone(),
                signed.clone(),
            );
            tokio::spawn(async move { send_to(&http, &api, &s).await.0 })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 204, "every duplicate is acknowledged");
    }
    let store = &f.instances[2].backend.store;
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
    assert_eq!(verdicts.len(), 200);
    assert_eq!(verdicts.iter().filter(|v| *v == "applied").count(), 1);
    assert_eq!(store.payments(id).await.unwrap().len(), 1);
}

/// One trial: a long-poll on `a`, the notification on `b`; the time from `b`'s acknowledgement
/// to `a`'s answer.
async fn wake_latency(f: &Fleet, a: usize, b: usize, tx: &str) -> Duration {
    let (id, no, _) = f.ordered(a).await;
    let poll = {
        let (http, url) = (
            f.http.clone(),
            format!("{}/api/orders/{id}?wait=20", f.instances[a].api),
        );
        tokio::spawn(async move {
            let r = get_json(&http, &url).await;
            (r, Instant::now())
        })
    };
    // Let the long-poll reach its wait (an earlier change would be answered at once anyway).
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (status, _) = send_to(&f.http, &f.instances[b].api, &paid(&no, tx)).await;
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
    let f = fleet(2, Opts::default(), false).await;
    let mut lat = Vec::new();
    for i in 0..50 {
        lat.push(wake_latency(&f, 0, 1, &format!("42{i:026}")).await);
    }
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    eprintln!("cross-instance wake-up after the acknowledgement, 50 trials: p50 {p50:?}, p99 {p99:?}, max {:?}", lat[49]);
    // Without the LISTEN/NOTIFY wake-up a waiter sees the change at its next 1 s re-read
    // (p50 ≈ 500 ms).
    assert!(p50 < Duration::from_millis(150), "p50 {p50:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_notification_is_recovered_once_by_the_reconcilers() {
    let f = fleet(
        3,
        Opts {
            query_after_secs: 1,
            // WeChat's notification goes nowhere.
            notify_url: Some("http://127.0.0.1:9/api/wxpay/notify".into()),
            ..Opts::default()
        },
        true,
    )
    .await;
    let (id, _, pay) = f.ordered(0).await;
    let (status, paid) = post_json(
        &f.http,
        &format!("{}/sim/api/pay", f.sim_url),
        &json!({ "code_url": pay["code_url"] }),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    let store = f.instances[1].backend.store.clone();
    let mut state = String::new();
    for _ in 0..100 {
        let o = store.order(id.clone()).await.unwrap().unwrap();
        state = o.state.as_str().to_string();
        if state == "SUCCESS" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "SUCCESS", "a reconciler found the payment");
    // Give the other reconcilers their rounds: still one change, one payment.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let events = store.events(id.clone()).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].source, "query-v3");
    assert_eq!(store.payments(id).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_answers_503_then_heals_without_restart() {
    let f = fleet(2, Opts::default(), false).await;
    let (id, _, _) = f.ordered(0).await;
    let url = |i: usize| format!("{}/api/orders/{id}", f.instances[i].api);
    f.pg.stop();
    for i in 0..2 {
        let (status, body) = get_json(&f.http, &url(i)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (503, Some("storage_unavailable")),
            "{body}"
        );
    }
    f.pg.restart();
    for i in 0..2 {
        let mut status = 0;
        for _ in 0..100 {
            status = get_json(&f.http, &url(i)).await.0;
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, 200, "instance {i} serves again");
    }
    // The change listeners reconnected too: cross-instance wake-ups work again.
    let mut woke = Duration::MAX;
    for i in 0..40 {
        woke = wake_latency(&f, 0, 1, &format!("43{i:026}")).await;
        if woke < Duration::from_millis(300) {
            break;
        }
    }
    assert!(woke < Duration::from_millis(300), "{woke:?}");
}

/// An instance in a process of its own (this test binary run again as [`child_instance`]), so it
/// can be killed with SIGKILL mid-request.
struct ChildInstance {
    api: String,
    child: std::process::Child,
}

impl ChildInstance {
    fn spawn(database_url: &str, sim_url: &str) -> ChildInstance {
        use std::io::{BufRead, BufReader};
        keys(); // made once, before the children read them
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["child_instance", "--exact", "--ignored", "--nocapture"])
            .env("WXPAY_TEST_CHILD_DATABASE_URL", database_url)
            .env("WXPAY_TEST_CHILD_SIM_URL", sim_url)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let api = loop {
            let line = lines
                .next()
                .expect("the child instance printed its URL")
                .unwrap();
            if let Some(api) = line.strip_prefix("INSTANCE ") {
                break api.to_string();
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ChildInstance { api, child }
    }

    fn kill_9(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for ChildInstance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Not a test: the body of a [`ChildInstance`] process (serves until killed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by ChildInstance::spawn as an instance process"]
async fn child_instance() {
    let (Ok(url), Ok(sim_url)) = (
        std::env::var("WXPAY_TEST_CHILD_DATABASE_URL"),
        std::env::var("WXPAY_TEST_CHILD_SIM_URL"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (listener, api) = bind().await;
    let mut cfg = backend_config(&api, &sim_url, tmp.path(), &Opts::default());
    cfg.database_url = Some(wxpay_server::config::Secret(url));
    let (backend, _changes) = wxpay_server::serve::backend_on_configured_store(cfg)
        .await
        .unwrap();
    println!("INSTANCE {api}");
    let _ = wxpay_server::serve::serve(listener, wxpay_server::router(backend)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_an_instance_mid_burst_loses_nothing_acknowledged() {
    let pg = PgCluster::start();
    let url = pg.create_database("shop");
    let (_sim, sim_url, _sim_server) = start_sim(1000.0).await;
    let mut instances: Vec<ChildInstance> = (0..3)
        .map(|_| ChildInstance::spawn(&url, &sim_url))
        .collect();
    let apis: Vec<String> = instances.iter().map(|i| i.api.clone()).collect();
    let http = wxpay_server::http_client::client(Duration::from_secs(10));
    // 90 orders with a prepay each, made on the three instances in turn.
    let mut orders = Vec::new();
    for i in 0..90 {
        let (id, no, _) = ordered_on(&http, &apis[i % 3]).await;
        orders.push((id, no, format!("44{i:026}")));
    }
    // The burst: every payment notified (to the instances in turn), plus a page poll per order;
    // instance 2 is killed with SIGKILL a third of the way in.
    let orders = Arc::new(orders);
    let mut sends = tokio::task::JoinSet::new();
    for (i, (id, no, tx)) in orders.iter().enumerate() {
        if i == 30 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            instances[2].kill_9();
        }
        let (http, api) = (http.clone(), apis[i % 3].clone());
        let (id, signed) = (id.clone(), paid(no, tx));
        sends.spawn(async move {
            let acked = matches!(
                tokio::time::timeout(
                    Duration::from_secs(10),
                    send_to_checked(&http, &api, &signed)
                )
                .await,
                Ok(Some(204))
            );
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
    assert!(killed_acked < 30, "the kill came mid-burst");
    // The survivors carried on: everything sent to them was acknowledged.
    for (i, ok) in acked.iter().enumerate() {
        if i % 3 != 2 {
            assert!(
                ok,
                "notification {i} to a live instance was not acknowledged"
            );
        }
    }
    let store = wxpay_server::store::PostgresStore::connect(&url)
        .await
        .unwrap();
    use wxpay_server::store::Store;
    // Nothing acknowledged is lost.
    for (i, (id, _, _)) in orders.iter().enumerate() {
        if acked[i] {
            let o = store.order(id.clone()).await.unwrap().unwrap();
            assert_eq!(o.state.as_str(), "SUCCESS", "acknowledged payment {i} lost");
        }
    }
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

/// Like [`send_to`] but a connection failure (a killed instance) is `None`, not a panic.
async fn send_to_checked(
    http: &reqwest::Client,
    api: &str,
    s: &common::v3notify::Signed,
) -> Option<u16> {
    let r = notify_request(http, api, s).send().await.ok()?;
    Some(r.status().as_u16())
}
