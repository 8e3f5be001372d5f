//! TLS to PostgreSQL (`sslmode=require`): against a throwaway cluster serving a TEST certificate
//! (`127.0.0.1` / `localhost`, signed by the TEST CA), the store and its change listener connect
//! over verified TLS when given the CA; an unknown CA, a server without TLS and a CA file without
//! `sslmode=require` are refused with an error saying what to fix.

mod common;

use common::pg::PgCluster;
use common::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wxpay_server::store::changes;
use wxpay_server::store::{NewOrder, PostgresOptions, PostgresStore, Store, StoreError};

fn order(id: &str) -> NewOrder {
    NewOrder {
        order_id: id.into(),
        out_trade_no: format!("T{id}"),
        description: "tea".into(),
        amount: 100,
        items: Vec::new(),
        created_at: 1_000,
    }
}

fn with_ca() -> PostgresOptions {
    PostgresOptions {
        ca_file: Some(keys().tls.ca_cert.clone()),
        ..PostgresOptions::default()
    }
}

/// Whether the server sees the store's connections (application `wxpay-server`) as TLS: asked
/// over a plain connection of the test's own.
async fn store_connections_use_tls(cluster: &PgCluster) -> Vec<bool> {
    let url = format!("{}?sslmode=disable", cluster.url("shop"));
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name = 'wxpay-server'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_and_its_listener_connect_over_verified_tls() {
    let tls = &keys().tls;
    let cluster = PgCluster::start_with_tls(&tls.server_cert, &tls.server_key);
    let url = format!("{}?sslmode=require", cluster.create_database("shop"));
    let store = PostgresStore::connect_with(&url, &with_ca()).await.unwrap();
    // The listener connects the same way and hears a change made through the store.
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    let (config, tls) = store.connection();
    let _listener = changes::listen(config, tls, {
        let heard = heard.clone();
        Arc::new(move |id: Option<&str>| {
            if let Some(id) = id {
                heard.lock().unwrap().push(id.to_string());
            }
        })
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.create_order(order("o1")).await.unwrap();
    store
        .transition(wxpay_server::store::Transition {
            order_id: "o1".into(),
            to: wxpay_server::order::TradeState::Closed,
            transaction_id: None,
            paid_at: None,
            payer_openid: None,
            source: "merchant".into(),
            at: 1_001,
        })
        .await
        .unwrap();
    assert!(
        eventually(5, || heard.lock().unwrap().iter().any(|id| id == "o1")).await,
        "the listener heard the change"
    );
    // libpq's name for what `require` does here is accepted too.
    let verify_full = url.replace("sslmode=require", "sslmode=verify-full");
    PostgresStore::connect_with(&verify_full, &with_ca())
        .await
        .unwrap();
    let ssl = store_connections_use_tls(&cluster).await;
    assert!(ssl.len() >= 2, "pool and listener connections: {ssl:?}");
    assert!(ssl.iter().all(|s| *s), "every connection is TLS: {ssl:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_ca_a_server_without_tls_and_a_ca_without_sslmode_are_refused() {
    let tls = &keys().tls;
    let cluster = PgCluster::start_with_tls(&tls.server_cert, &tls.server_key);
    let plain_url = cluster.create_database("shop");
    // The TEST CA is not among the operating system's roots: the certificate is not trusted.
    let url = format!("{plain_url}?sslmode=require");
    match PostgresStore::connect(&url).await {
        Err(StoreError::Unavailable(reason)) => {
            eprintln!("unknown CA: {reason}");
            assert!(
                reason.contains("certificate") && reason.contains("database_ca_file"),
                "{reason}"
            )
        }
        other => panic!("expected a TLS refusal, got {:?}", other.err()),
    }
    // Another CA than the one that signed the server's certificate.
    let stranger = PostgresOptions {
        ca_file: Some(keys().stranger_tls.ca_cert.clone()),
        ..PostgresOptions::default()
    };
    assert!(PostgresStore::connect_with(&url, &stranger).await.is_err());
    // A CA file is only used with sslmode=require: saying so beats a silent plain connection.
    match PostgresStore::connect_with(&plain_url, &with_ca()).await {
        Err(StoreError::Database(reason)) => {
            assert!(reason.contains("add sslmode=require"), "{reason}")
        }
        other => panic!("expected a configuration error, got {:?}", other.err()),
    }
    // libpq's way to name the CA is not ours: the error says which setting it is.
    let libpq = format!("{plain_url}?sslmode=require&sslrootcert=/etc/ca.pem");
    match PostgresStore::connect(&libpq).await {
        Err(StoreError::Database(reason)) => assert!(
            reason.contains("sslrootcert") && reason.contains("database_ca_file"),
            "{reason}"
        ),
        other => panic!("expected a configuration error, got {:?}", other.err()),
    }
    // A server without TLS, asked for TLS.
    let no_tls = PgCluster::start();
    let url = format!("{}?sslmode=require", no_tls.create_database("shop"));
    let refused = PostgresStore::connect_with(&url, &with_ca()).await.err();
    eprintln!("server without TLS: {refused:?}");
    assert!(
        format!("{refused:?}").contains("server does not support TLS"),
        "{refused:?}"
    );
    // A pool of no connections cannot serve.
    let zero = PostgresOptions {
        pool_size: 0,
        ..PostgresOptions::default()
    };
    assert!(PostgresStore::connect_with(&plain_url, &zero)
        .await
        .is_err());
}
