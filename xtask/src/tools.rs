//! Installs the build tools into project-local places, idempotently, so `cargo xtask build`,
//! `demo` and `test` work on a fresh clone and are quick when everything is already there.
//!
//! - the `wasm32-unknown-unknown` Rust target (rustup);
//! - `wasm-bindgen` and `wasm-bindgen-test-runner` from `wasm-bindgen-cli` at exactly the
//!   `wasm-bindgen` version in Cargo.lock (the CLI refuses wasm from another version), into
//!   `.tools/bin` or `$WXPAY_TOOLS_DIR/bin`;
//! - npm dev dependencies (binaryen's `wasm-opt`, esbuild, …) from the committed package-lock.json.
//!
//! No wasm-pack, no system binaryen, nothing downloaded outside crates.io and npm.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::run::{self, cargo, command, output, status};

/// Where the tools are, once [`ensure`] has run.
pub struct Tools {
    pub wasm_bindgen: PathBuf,
    pub test_runner: PathBuf,
    pub wasm_opt: PathBuf,
    /// esbuild, to minify the generated JS glue.
    pub esbuild: PathBuf,
}

/// Makes sure every tool is installed and returns their paths.
pub fn ensure() -> Result<Tools, String> {
    ensure_wasm_target()?;
    let bin = tools_dir().join("bin");
    let version = locked_wasm_bindgen_version()?;
    let wasm_bindgen = bin.join("wasm-bindgen");
    let test_runner = bin.join("wasm-bindgen-test-runner");
    let installed = output(command(&wasm_bindgen).arg("--version"));
    let current = installed.as_deref().map(str::trim) == Some(&format!("wasm-bindgen {version}")) && test_runner.is_file();
    if !current {
        println!("xtask: installing wasm-bindgen-cli {version} into {} (a few minutes, once)", tools_dir().display());
        // No --locked: wasm-bindgen-cli's own lock file does not build with current Rust.
        status(cargo().args(["install", "wasm-bindgen-cli", "--force", "--version"]).arg(format!("={version}")).arg("--root").arg(tools_dir()))?;
    }
    ensure_node_modules()?;
    let wasm_opt = run::root().join("node_modules/.bin/wasm-opt");
    if !wasm_opt.is_file() {
        return Err(format!("{} is missing after npm ci; is binaryen in package.json?", wasm_opt.display()));
    }
    let esbuild = run::root().join("node_modules/.bin/esbuild");
    if !esbuild.is_file() {
        return Err(format!("{} is missing after npm ci; is esbuild in package.json?", esbuild.display()));
    }
    Ok(Tools { wasm_bindgen, test_runner, wasm_opt, esbuild })
}

/// `$WXPAY_TOOLS_DIR` (for CI caches) or `.tools/` in the repository.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("WXPAY_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => run::root().join(".tools"),
    }
}

fn ensure_wasm_target() -> Result<(), String> {
    let Some(installed) = output(command("rustup").args(["target", "list", "--installed"])) else {
        // Without rustup (a distro Rust) we cannot add targets; the build will say if it is missing.
        return Ok(());
    };
    if installed.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    status(command("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// The `wasm-bindgen` version Cargo.lock pins.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock_path = run::root().join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path).map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    wasm_bindgen_version_in(&lock).ok_or_else(|| "Cargo.lock has no wasm-bindgen package; run `cargo generate-lockfile`".into())
}

/// The version line that follows `name = "wasm-bindgen"` in a Cargo.lock.
fn wasm_bindgen_version_in(lock: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == r#"name = "wasm-bindgen""# {
            let version = lines.next()?.trim().strip_prefix("version = ")?;
            return Some(version.trim_matches('"').to_string());
        }
    }
    None
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
fn ensure_node_modules() -> Result<(), String> {
    let root = run::root();
    check_node_version()?;
    let marker = root.join("node_modules/.package-lock.json");
    if modified(&marker) >= modified(&root.join("package-lock.json")) && modified(&marker).is_some() {
        return Ok(());
    }
    status(command("npm").args(["ci", "--no-audit", "--no-fund"]))
}

fn check_node_version() -> Result<(), String> {
    let version = output(command("node").arg("--version"))
        .ok_or("Node.js is not installed; install Node 20.19 or newer (Debian: apt-get install nodejs npm)")?;
    if node_version(&version) < (20, 19) {
        // The package itself runs on any Node 20; the test tools (Vite 7) need 20.19.
        return Err(format!("Node.js {} is too old; the tests need Node 20.19 or newer", version.trim()));
    }
    Ok(())
}

/// `v20.19.2` → (20, 19); anything unreadable → (0, 0).
fn node_version(text: &str) -> (u32, u32) {
    let mut parts = text.trim().trim_start_matches('v').split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::{node_version, wasm_bindgen_version_in};

    #[test]
    fn node_versions_compare_by_major_and_minor() {
        assert_eq!(node_version("v20.19.2\n"), (20, 19));
        assert!(node_version("v20.18.9") < (20, 19));
        assert!(node_version("v22.1.0") >= (20, 19));
        assert_eq!(node_version("banana"), (0, 0));
    }

    #[test]
    fn reads_the_wasm_bindgen_version_not_a_look_alike() {
        let lock = r#"
[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
dependencies = [
 "cfg-if",
]
"#;
        assert_eq!(wasm_bindgen_version_in(lock).as_deref(), Some("0.2.130"));
        assert_eq!(wasm_bindgen_version_in("[[package]]\nname = \"serde\"\nversion = \"1.0.0\"\n"), None);
    }
}
