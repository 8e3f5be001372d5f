//! The outbound HTTP client shared by the backend (→ WeChat) and the simulator (→ notify_url).
//!
//! reqwest on the same tokio runtime as axum, TLS by rustls with aws-lc-rs as its crypto provider
//! (the library wxpay-sign uses, so no second crypto library), roots from the operating system. Every request has a
//! timeout: a slow WeChat must turn into a clear error, never a request hanging forever.
//! [`secapi_client`] also presents the merchant's API client certificate (mutual TLS).

use std::time::Duration;

pub fn client(timeout: Duration) -> reqwest::Client {
    builder(timeout)
        .build()
        // Only fails if the TLS backend cannot initialise, which is a build problem, not input.
        .expect("the HTTP client (rustls + aws-lc-rs) failed to initialise")
}

/// The client of WeChat's `/secapi/…` calls: it presents the merchant's API client certificate
/// (`identity_pem`: certificate + key PEM) for mutual TLS; `ca_pem`, if given, is the only CA
/// trusted (the simulator's TEST CA).
pub fn secapi_client(
    timeout: Duration,
    identity_pem: Option<&[u8]>,
    ca_pem: Option<&[u8]>,
) -> Result<reqwest::Client, String> {
    let mut b = builder(timeout);
    if let Some(pem) = identity_pem {
        b = b.identity(reqwest::Identity::from_pem(pem).map_err(|e| e.to_string())?);
    }
    if let Some(pem) = ca_pem {
        b = b.tls_certs_only([reqwest::Certificate::from_pem(pem).map_err(|e| e.to_string())?]);
    }
    b.build()
        .map_err(|e| format!("the secapi HTTP client: {e}"))
}

fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    // Installing twice is harmless (the second call reports the first provider and is ignored).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("wxpay-server/", env!("CARGO_PKG_VERSION")))
        // WeChat never redirects API calls; following one would re-send a signed request elsewhere.
        .redirect(reqwest::redirect::Policy::none())
}
