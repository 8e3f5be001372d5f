//! `cargo xtask size`: how many bytes a user downloads — raw and gzip -9 of every `.wasm` and
//! `.js` in `pkg/` — and the regression guard on the gzip total used by `cargo xtask test`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::run;

/// Fails the test run above this many gzip bytes: a guard against regressions such as an
/// accidental `image` feature.
///
/// Issue 2's guard. History: with the whole checkout as async Rust the package was 82 267
/// bytes (2026-11-26), 69 190 after a first size pass; the sans-IO run (src/flow.rs) with the
/// JS driver (pkg-template/checkout.js) and our own QR encoder (src/qr_symbol.rs) brought it
/// under this. Never raise it to make a change fit: find what grew (twiggy, see lib.rs).
pub const GZIP_BUDGET: u64 = 45_000;

/// Prints the table and fails if the gzip total is over [`GZIP_BUDGET`].
pub fn report_and_check() -> Result<(), String> {
    let pkg = run::root().join("pkg");
    if !pkg.join("package.json").is_file() {
        return Err("pkg/ is not built; run `cargo xtask build` first".into());
    }
    let mut files = Vec::new();
    collect_files(&pkg, &mut files)?;
    files.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js")));
    files.sort();
    let (mut raw_total, mut gz_total) = (0, 0);
    println!("{:<28} {:>10} {:>10}", "file", "raw", "gzip -9");
    for path in &files {
        let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let gz = gzip_len(&bytes)?;
        let name = path.strip_prefix(&pkg).unwrap_or(path).to_string_lossy();
        println!("{name:<28} {:>10} {gz:>10}", bytes.len());
        raw_total += bytes.len() as u64;
        gz_total += gz;
    }
    println!("{:<28} {raw_total:>10} {gz_total:>10}   (budget {GZIP_BUDGET} gzip)", "total");
    if gz_total > GZIP_BUDGET {
        return Err(format!("package is {gz_total} gzip bytes, over the {GZIP_BUDGET}-byte budget: find what grew (e.g. with twiggy) before raising it"));
    }
    Ok(())
}

/// Every file under `dir`, subfolders included.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() { collect_files(&path, out)? } else { out.push(path) }
    }
    Ok(())
}

/// Size of `gzip -9` output, by the system gzip so the number is the one people quote.
fn gzip_len(bytes: &[u8]) -> Result<u64, String> {
    let mut child = Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("gzip has no stdin")?;
    let input = bytes.to_vec();
    // Write from a thread so a large input cannot deadlock against gzip's full stdout pipe.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().map_err(|e| format!("gzip failed: {e}"))?;
    writer.join().map_err(|_| "gzip writer panicked")?.map_err(|e| format!("cannot feed gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip failed ({})", out.status));
    }
    Ok(out.stdout.len() as u64)
}
