//! `wxpay serve` / `wxpay demo`: bad configuration ends with one line saying what to fix, and the
//! demo starts and prints its URL first (what scripts wait for), then the rest of its banner
//! (the simulator's mutual-TLS `secapi` port among it).

mod demo;

use demo::Demo;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn wxpay(args: &[&str], envs: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(args)
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[test]
fn serve_without_a_config_says_how_to_give_one() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxpay"));
    cmd.arg("serve");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("WXPAY_")) {
        cmd.env_remove(k);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("mchid is not set") && err.contains("--config wxpay.toml"),
        "{err}"
    );
}

#[test]
fn serve_explains_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, err) = wxpay(&["serve", "--config", "/nonexistent/wxpay.toml"], &[]);
    assert!(!ok);
    assert!(
        err.contains("cannot read config file /nonexistent/wxpay.toml"),
        "{err}"
    );

    let file = dir.path().join("wxpay.toml");
    std::fs::write(&file, "mchid = \"1900000109\"\nappid = \"wxd678efh567hg6787\"\nmerchant_serial = \"ABC\"\nnotify_url = \"https://shop.example/api/wxpay/notify\"\n").unwrap();
    let cfg = file.to_str().unwrap();
    let (ok, err) = wxpay(
        &["serve", "--config", cfg],
        &[("WXPAY_APIV3_KEY", "too-short")],
    );
    assert!(!ok);
    assert!(err.contains("apiv3_key must be 32 bytes"), "{err}");
    assert!(
        !err.contains("too-short"),
        "secrets are never printed: {err}"
    );

    let key = "0123456789abcdef0123456789abcdef";
    let data = dir.path().join("data");
    let data_dir = data.to_str().unwrap();
    let env = [("WXPAY_APIV3_KEY", key), ("WXPAY_DATA_DIR", data_dir)];
    let (ok, err) = wxpay(&["serve", "--config", cfg], &env);
    assert!(!ok);
    assert!(err.contains("platform_certs is empty"), "{err}");
    assert!(!data.exists(), "a config that cannot work writes nothing");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("wxpay:")).count(),
        1,
        "{err}"
    );
}

#[test]
fn demo_prints_its_url_first_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(dir.path(), &[]);
    let (url, banner) = (&demo.url, &demo.banner);
    // The simulator's mutual-TLS `secapi` port (v2 refunds), with the client certificate it wants.
    let secapi = banner
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("secapi (mTLS)"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no secapi line: {banner:#?}"))
        .to_string();
    let secapi_addr = secapi
        .split_whitespace()
        .next()
        .and_then(|u| u.strip_prefix("https://"))
        .and_then(|u| u.strip_suffix("/secapi/pay/refund"))
        .unwrap_or_else(|| panic!("{secapi}"))
        .to_string();
    let secapi_listening = std::net::TcpStream::connect(&secapi_addr).is_ok();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // A plain HTTP/1.1 request over std (no client dependency needed for one GET).
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    use std::io::{Read, Write};
    write!(
        stream,
        "GET /sim/bridge.js HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    drop(demo);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("WeixinJSBridge"));
    assert!(dir.path().join("keys/platform_cert.pem").exists());
    assert!(secapi_addr.starts_with("127.0.0.1:"), "{secapi_addr}");
    assert!(
        secapi_listening,
        "the secapi port {secapi_addr} accepts connections"
    );
    let cert = dir.path().join("keys/tls_apiclient_cert.pem");
    assert!(secapi.contains(&cert.display().to_string()), "{secapi}");
    assert!(cert.exists());
}

#[test]
fn serve_runs_in_public_key_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| {
        let ok = Command::new("openssl")
            .args(args)
            .output()
            .unwrap()
            .status
            .success();
        assert!(ok, "openssl {args:?}");
    };
    for name in ["merchant", "platform"] {
        let key = path(&format!("{name}_key.pem"));
        openssl(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            &key,
        ]);
    }
    openssl(&[
        "pkey",
        "-in",
        &path("platform_key.pem"),
        "-pubout",
        "-out",
        &path("pub_key.pem"),
    ]);
    let config = dir.path().join("wxpay.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\nmchid = \"1900000109\"\nappid = \"wxd678efh567hg6787\"\n\
             merchant_serial = \"5157F09EFDC096DE15EBE81A47057A7232F1B8E1\"\nmerchant_key_file = \"{}\"\n\
             apiv3_key = \"0123456789abcdef0123456789abcdef\"\nnotify_url = \"https://shop.example/api/wxpay/notify\"\n\
             platform_public_key_id = \"PUB_KEY_ID_0119000001092024000000000001\"\nplatform_public_key = \"{}\"\n",
            path("data"),
            path("merchant_key.pem"),
            path("pub_key.pem"),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(line.contains("listening on http://127.0.0.1:"), "{line}");
}

/// `wxpay serve --database postgres://…` uses PostgreSQL instead of SQLite: a database that
/// cannot be reached ends the start with one line saying what to check (password not printed),
/// and nothing is written to the SQLite data directory.
#[test]
fn serve_on_an_unreachable_postgres_says_what_to_check() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let platform =
        wxpay_server::devkeys::load_or_generate(&keys, "platform", "wxpay TEST KEY").unwrap();
    let merchant =
        wxpay_server::devkeys::load_or_generate(&keys, "merchant", "wxpay TEST KEY").unwrap();
    let file = dir.path().join("wxpay.toml");
    std::fs::write(
        &file,
        format!(
            "mchid = \"1900000109\"\nappid = \"wxd678efh567hg6787\"\nmerchant_serial = \"{}\"\n\
             merchant_key_file = \"{}\"\nnotify_url = \"https://shop.example/api/wxpay/notify\"\n\
             platform_certs = {{ \"{}\" = \"{}\" }}\n",
            merchant.serial,
            merchant.key_path.display(),
            platform.serial,
            platform.cert_path.display()
        ),
    )
    .unwrap();
    let free_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://wxpay:hunter2secret@127.0.0.1:{free_port}/shop");
    let data = dir.path().join("data");
    let (ok, err) = wxpay(
        &[
            "serve",
            "--config",
            file.to_str().unwrap(),
            "--database",
            &url,
        ],
        &[
            ("WXPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef"),
            ("WXPAY_DATA_DIR", data.to_str().unwrap()),
        ],
    );
    assert!(!ok);
    assert!(err.contains("check that PostgreSQL runs"), "{err}");
    assert!(err.contains(&format!("127.0.0.1:{free_port}")), "{err}");
    assert!(
        !err.contains("hunter2secret"),
        "no password in errors: {err}"
    );
    assert!(!data.exists(), "SQLite was not used");
}
