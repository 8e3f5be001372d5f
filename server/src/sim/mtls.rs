//! Mutual TLS for the simulator's `/secapi/…` paths, as WeChat serves them: HTTPS with a server
//! certificate, and a client certificate required and verified against a trusted CA (WeChat's
//! own CA issues merchants' `apiclient_cert.pem`; tests and the demo make a TEST CA, see
//! [`crate::devkeys::load_or_generate_tls`]). A client without a valid certificate fails the
//! handshake, so its request never reaches a handler.
//!
//! [`MtlsListener`] plugs into `axum::serve`; handlers see the peer's certificate CN through
//! `ConnectInfo<ClientCert>`.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client gets to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS server configuration: `cert_pem` / `key_pem` for the server, clients must present a
/// certificate issued by `client_ca_pem`.
pub fn server_config(
    client_ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(client_ca_pem) {
        let cert = cert.map_err(|e| format!("client CA certificate: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("client CA certificate: {e}"))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("client certificate verifier: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("server certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("server key: {e}"))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("server certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Who is on the other end of a mutual-TLS connection.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub addr: SocketAddr,
    /// The CN of the verified client certificate (WeChat: the mchid).
    pub common_name: Option<String>,
}

/// A TCP listener whose connections have completed a mutual-TLS handshake. Handshakes run in
/// their own tasks, so a slow or failing client holds up nobody.
pub struct MtlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, ClientCert)>,
    local: SocketAddr,
    acceptor_task: tokio::task::JoinHandle<()>,
}

impl MtlsListener {
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> std::io::Result<MtlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let acceptor_task = tokio::spawn(async move {
            loop {
                let Ok((stream, addr)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    let shake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    match shake.await {
                        Ok(Ok(tls)) => {
                            let common_name = tls
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .and_then(|c| common_name(c));
                            let _ = tx.send((tls, ClientCert { addr, common_name })).await;
                        }
                        Ok(Err(e)) => tracing::info!("simulator: mutual TLS refused {addr}: {e}"),
                        Err(_) => tracing::info!("simulator: TLS handshake of {addr} timed out"),
                    }
                });
            }
        });
        Ok(MtlsListener {
            ready,
            local,
            acceptor_task,
        })
    }
}

impl Drop for MtlsListener {
    fn drop(&mut self) {
        self.acceptor_task.abort();
    }
}

fn common_name(der: &CertificateDer<'_>) -> Option<String> {
    wxpay_sign::Certificate::from_der(der.as_ref())
        .ok()?
        .common_name
}

impl Listener for MtlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = ClientCert;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(x) => x,
            // The acceptor task only ends when aborted with the listener: nothing more to serve.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(ClientCert {
            addr: self.local,
            common_name: None,
        })
    }
}

impl Connected<IncomingStream<'_, MtlsListener>> for ClientCert {
    fn connect_info(stream: IncomingStream<'_, MtlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Serves `app` over mutual TLS on `tcp` until the task is dropped.
pub async fn serve(
    tcp: TcpListener,
    config: Arc<ServerConfig>,
    app: axum::Router,
) -> std::io::Result<()> {
    let listener = MtlsListener::new(tcp, config)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<ClientCert>(),
    )
    .await
}
