//! `wxpay demo`'s banner: the first line stays what scripts wait for, and the simulator's
//! mutual-TLS `secapi` port (v2 refunds) is listed with the client certificate it wants.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn the_banner_lists_the_secapi_port_after_the_url_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxpay"))
        .args(["demo", "--port", "0", "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = Vec::new();
    // The banner is one write; its last line is `data`.
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push(line.trim_end().to_string());
        if line.trim_start().starts_with("data ") {
            break;
        }
    }
    let secapi = banner
        .iter()
        .find_map(|l| l.trim_start().strip_prefix("secapi (mTLS)"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no secapi line: {banner:#?}"));
    let url = secapi.split_whitespace().next().unwrap();
    let addr = url
        .strip_prefix("https://")
        .and_then(|u| u.strip_suffix("/secapi/pay/refund"))
        .unwrap_or_else(|| panic!("{url}"));
    let listening = std::net::TcpStream::connect(addr).is_ok();
    let cert = dir.path().join("keys/tls_apiclient_cert.pem");
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        banner[0].starts_with("wxpay demo: http://127.0.0.1:"),
        "{banner:#?}"
    );
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert!(listening, "the secapi port {addr} accepts connections");
    assert!(secapi.contains(&cert.display().to_string()), "{secapi}");
    assert!(cert.exists());
}
