//! `cargo xtask demo`: builds the package and serves the demo page (`www/`) with it (`/pkg/`)
//! on http://127.0.0.1:8080/ (or `--port N`).
//!
//! Until the merchant backend (`wxpay demo`) serves the demo, a static file server is enough:
//! the page only detects the environment, picks the mode and draws a sample QR. It is tiny and
//! loopback-only on purpose; it is not a web server to deploy.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

use crate::{build, run, tools};

pub fn main(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => 8080,
        [flag, port] if flag == "--port" => port.parse().map_err(|_| format!("--port wants a number, got {port:?}"))?,
        _ => return Err("usage: cargo xtask demo [--port N]".into()),
    };
    build::package(&tools::ensure()?)?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port} ({e}); try --port with another number"))?;
    println!("demo: http://127.0.0.1:{port}/  (Ctrl-C to stop)");
    for stream in listener.incoming().flatten() {
        // One connection at a time is plenty for a person looking at a demo page.
        if let Err(e) = serve(stream) {
            eprintln!("demo: {e}");
        }
    }
    Ok(())
}

fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let (status, mime, body) = match resolve(path).and_then(|file| fs::read(&file).ok().map(|b| (file, b))) {
        Some((file, body)) => ("200 OK", mime_type(&file), body),
        None => ("404 Not Found", "text/plain; charset=utf-8", format!("not found: {path}\n").into_bytes()),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}

/// `/pkg/…` from the built package, everything else from `www/`; `..` is refused.
fn resolve(url_path: &str) -> Option<PathBuf> {
    let root = run::root();
    let rel = url_path.trim_start_matches('/');
    let (base, rel) = match rel.strip_prefix("pkg/") {
        Some(rest) => (root.join("pkg"), rest),
        None => (root.join("www"), rel),
    };
    let rel = Path::new(rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let file = base.join(rel);
    if file.is_dir() { Some(file.join("index.html")) } else { Some(file) }
}

fn mime_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
