//! The outbound HTTP client shared by the backend (→ WeChat) and the simulator (→ notify_url).
//!
//! reqwest on the same tokio runtime as axum, TLS by rustls with aws-lc-rs as its crypto provider
//! (the library wxpay-sign uses, so no second crypto library), roots from the operating system. Every request has a
//! timeout: a slow WeChat must turn into a clear error, never a request hanging forever.

use std::time::Duration;

pub fn client(timeout: Duration) -> reqwest::Client {
    // Installing twice is harmless (the second call reports the first provider and is ignored).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("wxpay-server/", env!("CARGO_PKG_VERSION")))
        // WeChat never redirects API calls; following one would re-send a signed request elsewhere.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        // Only fails if the TLS backend cannot initialise, which is a build problem, not input.
        .expect("the HTTP client (rustls + aws-lc-rs) failed to initialise")
}
