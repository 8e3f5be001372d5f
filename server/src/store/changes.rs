//! Order changes made by other instances, heard through PostgreSQL's `LISTEN`/`NOTIFY`.
//!
//! [`super::PostgresStore`] announces every committed order change on
//! [`CHANGES_CHANNEL`](super::postgres::CHANGES_CHANNEL). Each instance keeps one connection of
//! its own listening to it and hands each order id to a callback (the backend's long-poll
//! waiters). When that connection drops, it reconnects with a growing pause and then calls the
//! callback with `None` — "anything may have changed": announcements sent while nobody listened
//! are lost, so every waiter re-reads the store (the catch-up).

use super::postgres_tls::DbTls;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{AsyncMessage, NoTls, Socket};

/// What to do with an announcement: `Some(order_id)`, or `None` after a reconnect.
pub type OnChange = Arc<dyn Fn(Option<&str>) + Send + Sync>;

/// The running listener; dropping it stops it.
pub struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often an idle listening connection is checked (a silently dead one is replaced).
const PING_EVERY: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts listening with `config` (connecting like the store: `tls`), calling `on_change` for
/// each announcement.
pub fn listen(config: tokio_postgres::Config, tls: DbTls, on_change: OnChange) -> Listener {
    Listener(tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        let mut first = true;
        loop {
            let listened = match &tls {
                DbTls::Plain => listen_once(&config, NoTls, &on_change, first).await,
                DbTls::Verified(tls) => listen_once(&config, tls.clone(), &on_change, first).await,
            };
            match listened {
                Ok(()) => backoff = Duration::from_millis(100),
                Err(e) => tracing::warn!("order-change listener: {e}; reconnecting"),
            }
            first = false;
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }))
}

/// One listening connection, until it fails.
async fn listen_once<T>(
    config: &tokio_postgres::Config,
    tls: T,
    on_change: &OnChange,
    first: bool,
) -> Result<(), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, mut connection) = config.connect(tls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    // The connection object does the I/O; announcements arrive through it.
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("order-change listener connection: {e}");
                    return;
                }
            }
        }
    });
    let _stop_driver = AbortOnDrop(driver);
    client
        .batch_execute(&format!("LISTEN {}", super::postgres::CHANGES_CHANNEL))
        .await?;
    tracing::info!("listening for order changes of other instances");
    if !first {
        // Whatever was announced while we were away is lost: every waiter looks again.
        on_change(None);
    }
    loop {
        match tokio::time::timeout(PING_EVERY, rx.recv()).await {
            Ok(Some(order_id)) => on_change(Some(&order_id)),
            // The driver ended: the connection is gone.
            Ok(None) => {
                client.simple_query("").await?;
                return Ok(());
            }
            // Idle: a ping, which a half-open connection never answers — then reconnect.
            Err(_) => match tokio::time::timeout(PING_EVERY, client.simple_query("")).await {
                Ok(answered) => drop(answered?),
                Err(_) => {
                    tracing::warn!("order-change listener: no answer to a ping; reconnecting");
                    return Ok(());
                }
            },
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
