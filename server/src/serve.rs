//! Running the backend for real (`wxpay serve`): config → store → backend → listener
//! ([`bind`], then [`Bound::run`]).
//!
//! The store is SQLite under the data directory unless `database_url` names a PostgreSQL
//! database; then long-polls also hear other instances' changes ([`crate::store::changes`]).

use crate::backend::{router, Backend};
use crate::config::{Config, Credentials};
use crate::store::changes::{self, Listener};
use crate::store::{PostgresOptions, PostgresStore, SqliteStore};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves `app` on `listener` until the process ends, with peer addresses available to handlers
/// (H5 orders need the buyer's IP).
pub async fn serve(listener: TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Checks the configuration and keys, then opens the SQLite store under the data directory
/// (creating it) and builds the backend. Nothing is written to disk for a config that cannot work.
pub fn backend_from_config(cfg: Config) -> Result<Arc<Backend>, String> {
    let creds = Credentials::load(&cfg).map_err(|e| e.to_string())?;
    let db = cfg.database_path();
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
    }
    let store = SqliteStore::open(&db).map_err(|e| e.to_string())?;
    Ok(Backend::from_parts(cfg, creds, Arc::new(store)))
}

/// The backend on the configured store: PostgreSQL when `database_url` is set (with the listener
/// that wakes this instance's long-polls on other instances' changes; keep it alive), SQLite
/// otherwise.
pub async fn backend_on_configured_store(
    cfg: Config,
) -> Result<(Arc<Backend>, Option<Listener>), String> {
    let Some(url) = cfg.database_url.clone() else {
        return Ok((backend_from_config(cfg)?, None));
    };
    let creds = Credentials::load(&cfg).map_err(|e| e.to_string())?;
    let options = PostgresOptions {
        pool_size: cfg.database_pool_size,
        ca_file: cfg.database_ca_file.clone(),
        ..PostgresOptions::default()
    };
    let store = PostgresStore::connect_with(&url.0, &options)
        .await
        .map_err(|e| e.to_string())?;
    let (listen_config, listen_tls) = store.connection();
    let backend = Backend::from_parts(cfg, creds, Arc::new(store));
    let weak = Arc::downgrade(&backend);
    let listener = changes::listen(
        listen_config,
        listen_tls,
        Arc::new(move |order_id| {
            let Some(b) = weak.upgrade() else { return };
            match order_id {
                Some(id) => b.waiters.notify(id),
                None => b.waiters.notify_all(),
            }
        }),
    );
    Ok((backend, Some(listener)))
}

/// A backend ready to serve (`wxpay serve`): configuration checked, store open, port bound.
pub struct Bound {
    backend: Arc<Backend>,
    listener: TcpListener,
    addr: SocketAddr,
    changes: Option<Listener>,
}

/// Checks the configuration, opens the configured store and binds `listen` (port 0: a free one,
/// see [`Bound::local_addr`]).
pub async fn bind(cfg: Config) -> Result<Bound, String> {
    let listen = cfg.listen;
    let (backend, changes) = backend_on_configured_store(cfg).await?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    Ok(Bound {
        backend,
        listener,
        addr,
        changes,
    })
}

impl Bound {
    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts the reconciler and the platform-certificate refresher, then serves until the
    /// process ends.
    pub async fn run(self) -> Result<(), String> {
        let _changes = self.changes;
        let _reconciler = self.backend.start_reconciler();
        let _certificates = self.backend.start_certificate_refresher();
        tracing::info!("wxpay backend listening on http://{}", self.addr);
        serve(self.listener, router(self.backend))
            .await
            .map_err(|e| e.to_string())
    }
}
