//! `wxpay demo` and `wxpay serve`: running the merchant backend.
//!
//! `demo` puts backend, WeChat Pay simulator, demo shop (`www/`) and built package (`pkg/`) on one
//! port of 127.0.0.1 with test keys made on first run; `serve` runs the backend alone against the
//! WeChat Pay configured in a TOML file and `WXPAY_*` variables. The work is in `wxpay-server`.

use crate::CliResult;
use clap::Subcommand;
use std::io::Write;
use std::path::PathBuf;
use wxpay_server::config::{ApiVersion, Config, Credentials};
use wxpay_server::demo::{self, DemoOptions};
use wxpay_server::sim::platform::PlatformKeyMode;

#[derive(Subcommand)]
pub enum ServeCommand {
    /// Run the whole checkout offline on 127.0.0.1: backend, WeChat Pay simulator, demo shop.
    Demo {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Where test keys, demo secrets and the SQLite database live.
        #[arg(long, default_value = ".data/demo")]
        data_dir: PathBuf,
        /// The demo shop served at / (default: ./www if present).
        #[arg(long)]
        www: Option<PathBuf>,
        /// The built npm package served at /pkg/ (default: ./pkg if present).
        #[arg(long)]
        pkg: Option<PathBuf>,
        /// WeChat Pay API generation the backend orders with: v3 or v2.
        #[arg(long, default_value = "v3")]
        api: String,
        /// Divide WeChat's notification retry delays (15 s, 15 s, 30 s, 3 min, …) by this.
        #[arg(long, default_value_t = 1.0)]
        retry_compression: f64,
        /// Seconds a code_url (QR) / JSAPI prepay stays payable (WeChat: 7200).
        #[arg(long, default_value_t = 7200)]
        code_ttl: u64,
        /// Seconds an h5_url stays usable (WeChat: 300).
        #[arg(long, default_value_t = 300)]
        h5_ttl: u64,
        /// How the simulated WeChat presents its platform key: public-key (a PUB_KEY_ID_…, the
        /// default for merchants today) or certificate (downloaded from /v3/certificates).
        #[arg(long, default_value = "public-key")]
        platform_key_mode: String,
        /// Rotate the simulated WeChat's platform key after this many paid orders, as WeChat
        /// does with its certificates (also: POST /sim/api/rotate-platform-key).
        #[arg(long, value_name = "PAYMENTS")]
        rotate_after: Option<u32>,
    },
    /// Run the merchant backend against WeChat Pay (TOML config file + WXPAY_* variables).
    Serve {
        /// TOML config file; every key can also come from WXPAY_<KEY> in the environment.
        #[arg(long)]
        config: Option<PathBuf>,
        /// PostgreSQL database shared by several instances (`postgres://user:pw@host/db`);
        /// overrides WXPAY_DATABASE_URL. Without either: SQLite under the data directory.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
}

fn existing(dir: &str) -> Option<PathBuf> {
    let p = PathBuf::from(dir);
    p.is_dir().then_some(p)
}

pub fn run(cmd: ServeCommand) -> CliResult {
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cmd {
            ServeCommand::Demo {
                port,
                data_dir,
                www,
                pkg,
                api,
                retry_compression,
                code_ttl,
                h5_ttl,
                platform_key_mode,
                rotate_after,
            } => {
                let api_version: ApiVersion = api.parse()?;
                let platform_key_mode: PlatformKeyMode = platform_key_mode
                    .parse()
                    .map_err(|e| format!("--platform-key-mode: {e}"))?;
                if retry_compression.is_nan() || retry_compression < 1.0 {
                    return Err(format!(
                        "--retry-compression must be at least 1, got {retry_compression}"
                    )
                    .into());
                }
                let www = www.or_else(|| existing("www"));
                let pkg = pkg.or_else(|| existing("pkg"));
                if code_ttl < 2 || h5_ttl < 2 {
                    return Err("--code-ttl and --h5-ttl must be at least 2 seconds".into());
                }
                let opts = DemoOptions {
                    port,
                    data_dir: data_dir.clone(),
                    www_dir: www.clone(),
                    pkg_dir: pkg.clone(),
                    api_version,
                    retry_compression,
                    code_ttl_secs: code_ttl,
                    h5_ttl_secs: h5_ttl,
                    platform_key_mode,
                    rotate_after_payments: rotate_after,
                };
                let d = demo::prepare(opts).await?;
                let mode_line = match platform_key_mode {
                    PlatformKeyMode::PublicKey => "public-key mode: keys/platform_pub_key.pem",
                    PlatformKeyMode::Certificate => "certificate mode: GET /v3/certificates",
                };
                let www_line = www.map_or("not served (no ./www; pass --www)".into(), |p| {
                    p.display().to_string()
                });
                let pkg_line = pkg.map_or(
                    "not served (no ./pkg; build it or pass --pkg)".into(),
                    |p| p.display().to_string(),
                );
                // The first line is what scripts wait for. One write, errors ignored: a caller
                // that stops reading stdout must not bring the demo down (println! would panic).
                let url = &d.url;
                let banner = [
                    format!("wxpay demo: {url}/"),
                    format!(
                        "  merchant backend  {url}/api   (API {})",
                        api_version.as_str()
                    ),
                    format!("  WeChat Pay sim    {url}/sim/scan, /sim/checkmweb, /sim/bridge.js"),
                    format!("  platform key      {} ({mode_line})", d.platform_key_id),
                    format!(
                        "  secapi (mTLS)     {}/secapi/pay/refund   (v2 refunds; client certificate {})",
                        d.secapi_url,
                        data_dir.join("keys/tls_apiclient_cert.pem").display()
                    ),
                    format!("  shop (www/)       {www_line}"),
                    format!("  package (/pkg/)   {pkg_line}"),
                    format!(
                        "  refund an order   wxpay refund ORDER_ID --api {url} --demo-data-dir {}",
                        data_dir.display()
                    ),
                    format!("  data              {}\n", data_dir.display()),
                ]
                .join("\n");
                let mut out = std::io::stdout();
                let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
                d.serve().await?;
                Ok(())
            }
            ServeCommand::Serve { config, database } => {
                let mut cfg = Config::from_file_and_env(config.as_deref())?;
                if let Some(url) = database {
                    cfg.database_url = Some(wxpay_server::config::Secret(url));
                }
                if config.is_none() {
                    // Without a file every setting must come from WXPAY_*; the first missing one
                    // is reported, with how to give a file instead.
                    Credentials::load(&cfg).map_err(|e| {
                        format!(
                            "{e} (no config file given: run `wxpay serve --config wxpay.toml`; server/wxpay.example.toml is a commented example, and `wxpay doctor --config wxpay.toml` checks one)"
                        )
                    })?;
                }
                let bound = wxpay_server::serve::bind(cfg).await?;
                // The first line of stdout is the API's URL (with `listen` on port 0, the only way
                // to learn the port); the log goes to stderr.
                let mut out = std::io::stdout();
                let line = format!("wxpay serve: http://{}/api\n", bound.local_addr());
                let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
                bound.run().await?;
                Ok(())
            }
        }
    })
}
