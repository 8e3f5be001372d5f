//! `wxpay doctor` on a PostgreSQL `database_url`, against throwaway clusters: a reachable
//! database passes (and says whether `wxpay serve` will migrate it), and what would break serving
//! is a finding saying what to fix — unreachable, a schema newer than this program, too few
//! connections for two instances, a plain connection to another machine, a CA without sslmode.

mod common;

use common::pg::{free_port, PgCluster};
use common::*;
use wxpay_server::config::{Config, Secret};
use wxpay_server::doctor::{database, Finding, Level};
use wxpay_server::store::PostgresStore;

fn config(url: &str) -> Config {
    Config {
        database_url: Some(Secret(url.into())),
        ..Config::default()
    }
}

fn worst(findings: &[Finding]) -> Level {
    for level in [Level::Error, Level::Warning] {
        if findings.iter().any(|f| f.level == level) {
            return level;
        }
    }
    Level::Ok
}

fn says(findings: &[Finding], level: Level, text: &str) -> bool {
    findings
        .iter()
        .any(|f| f.level == level && format!("{} {}", f.message, f.fix).contains(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reachable_database_passes_and_problems_say_what_to_fix() {
    let cluster = PgCluster::start();
    let url = cluster.create_database("shop");
    // SQLite: nothing to look at.
    assert!(database(&Config::default()).await.is_empty());

    // Empty: fine, `wxpay serve` will migrate it.
    let fresh = database(&config(&url)).await;
    assert_eq!(worst(&fresh), Level::Ok, "{fresh:#?}");
    assert!(says(&fresh, Level::Ok, "plain connection"), "{fresh:#?}");
    assert!(
        says(&fresh, Level::Ok, "migrates it at start"),
        "{fresh:#?}"
    );
    PostgresStore::connect(&url).await.unwrap();
    let current = database(&config(&url)).await;
    assert!(says(&current, Level::Ok, "current"), "{current:#?}");

    // Room for one instance only (max_connections 300 here).
    let mut tight = config(&url);
    tight.database_pool_size = 200;
    let tight = database(&tight).await;
    assert_eq!(worst(&tight), Level::Warning, "{tight:#?}");
    assert!(
        says(&tight, Level::Warning, "lower database_pool_size"),
        "{tight:#?}"
    );

    // A plain connection to a host name that is not this machine (reached at 127.0.0.1).
    let remote = format!(
        "host=db.shop.example hostaddr=127.0.0.1 port={} user=postgres dbname=shop",
        cluster.port
    );
    let remote = database(&config(&remote)).await;
    assert!(
        says(&remote, Level::Warning, "sslmode=require"),
        "{remote:#?}"
    );

    // A newer wxpay migrated it.
    cluster.sql("shop", "UPDATE wxpay_schema SET version = 999");
    let newer = database(&config(&url)).await;
    assert!(
        says(&newer, Level::Error, "newer than this program"),
        "{newer:#?}"
    );

    // Nobody there.
    let nowhere = format!("postgres://postgres@127.0.0.1:{}/shop", free_port());
    let nowhere = database(&config(&nowhere)).await;
    assert!(
        says(&nowhere, Level::Error, "cannot connect"),
        "{nowhere:#?}"
    );

    // A CA file without sslmode=require.
    let mut ca_only = config(&url);
    ca_only.database_ca_file = Some(keys().tls.ca_cert.clone());
    let ca_only = database(&ca_only).await;
    assert!(
        says(&ca_only, Level::Error, "add sslmode=require"),
        "{ca_only:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_over_verified_tls_is_reported_so() {
    let tls = &keys().tls;
    let cluster = PgCluster::start_with_tls(&tls.server_cert, &tls.server_key);
    let url = format!("{}?sslmode=require", cluster.create_database("shop"));
    let mut cfg = config(&url);
    cfg.database_ca_file = Some(tls.ca_cert.clone());
    let found = database(&cfg).await;
    assert_eq!(worst(&found), Level::Ok, "{found:#?}");
    assert!(says(&found, Level::Ok, "verified TLS"), "{found:#?}");
    // Without the CA: the certificate is not trusted, and the finding says where to give it.
    let untrusted = database(&config(&url)).await;
    assert!(
        says(&untrusted, Level::Error, "database_ca_file"),
        "{untrusted:#?}"
    );
}
