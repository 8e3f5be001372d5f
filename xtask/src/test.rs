//! `cargo xtask test`: every test suite of the project, in order, then a summary. Exits
//! non-zero if any suite failed. `cargo xtask test browser node` runs only the named suites
//! (plus the package build when one of them needs it).
//!
//! To add a suite: write a `fn(&Tools) -> Result<Outcome, String>` and list it in [`SUITES`].

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use crate::run::{self, cargo, command, output, status, which};
use crate::tools::{self, Tools};
use crate::{build, size};

/// What a suite reports when it did not fail.
enum Outcome {
    Passed,
    Skipped(String),
}

struct Suite {
    name: &'static str,
    /// Needs `pkg/` built first (by the `build` suite).
    needs_pkg: bool,
    run: fn(&Tools) -> Result<Outcome, String>,
}

/// The suites, in the order they run.
const SUITES: &[Suite] = &[
    Suite { name: "native", needs_pkg: false, run: native },
    Suite { name: "build", needs_pkg: false, run: build_pkg },
    Suite { name: "size", needs_pkg: true, run: size_budget },
    Suite { name: "browser", needs_pkg: false, run: browser },
    Suite { name: "node", needs_pkg: true, run: node },
    Suite { name: "bundlers", needs_pkg: true, run: bundlers },
    Suite { name: "e2e", needs_pkg: true, run: e2e },
];

pub fn suite_names() -> Vec<&'static str> {
    SUITES.iter().map(|s| s.name).collect()
}

pub fn main(args: &[String]) -> ExitCode {
    if let Some(unknown) = args.iter().find(|a| !SUITES.iter().any(|s| s.name == a.as_str())) {
        eprintln!("xtask test: unknown suite {unknown:?}; suites are {}", suite_names().join(", "));
        return ExitCode::FAILURE;
    }
    let wanted = |s: &Suite| args.is_empty() || args.iter().any(|a| a == s.name);
    let needs_build = SUITES.iter().any(|s| wanted(s) && s.needs_pkg);

    let mut summary: Vec<(&str, String, f64)> = Vec::new();
    let started = Instant::now();
    let tools = match tools::ensure() {
        Ok(tools) => tools,
        Err(e) => {
            eprintln!("xtask test: installing tools failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    summary.push(("tools", "ok".into(), started.elapsed().as_secs_f64()));

    let mut pkg_ok = true;
    let mut failed = false;
    for suite in SUITES {
        if !(wanted(suite) || (suite.name == "build" && needs_build)) {
            continue;
        }
        println!("\n==> {}", suite.name);
        let t = Instant::now();
        let result = if suite.needs_pkg && !pkg_ok {
            Ok(Outcome::Skipped("the package did not build".into()))
        } else {
            (suite.run)(&tools)
        };
        let line = match result {
            Ok(Outcome::Passed) => "ok".to_string(),
            Ok(Outcome::Skipped(why)) => format!("skipped: {why}"),
            Err(e) => {
                failed = true;
                if suite.name == "build" {
                    pkg_ok = false;
                }
                eprintln!("xtask test {}: {e}", suite.name);
                format!("FAILED: {e}")
            }
        };
        summary.push((suite.name, line, t.elapsed().as_secs_f64()));
    }

    println!("\n==> summary");
    for (name, line, secs) in &summary {
        println!("  {name:<8} {secs:>6.1}s  {line}");
    }
    println!("  {:<8} {:>6.1}s  {}", "total", started.elapsed().as_secs_f64(), if failed { "FAILED" } else { "all passed" });
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// Unit and integration tests of every crate, on the host.
fn native(_: &Tools) -> Result<Outcome, String> {
    status(cargo().args(["test", "--workspace"]))?;
    Ok(Outcome::Passed)
}

fn build_pkg(tools: &Tools) -> Result<Outcome, String> {
    build::package(tools)?;
    Ok(Outcome::Passed)
}

fn size_budget(_: &Tools) -> Result<Outcome, String> {
    size::report_and_check()?;
    Ok(Outcome::Passed)
}

/// wasm-bindgen tests (`tests/browser/`) in headless Chromium through chromedriver; the
/// browser flags are in `webdriver.json`.
fn browser(tools: &Tools) -> Result<Outcome, String> {
    let chromedriver = std::env::var_os("CHROMEDRIVER").map(PathBuf::from).or_else(|| which("chromedriver")).ok_or(
        "chromedriver not found on PATH: install Chromium and its driver (Debian: apt-get install chromium chromium-driver), or run .ci/run",
    )?;
    status(
        cargo()
            .args(["test", "-p", "wxpay-checkout", "--target", "wasm32-unknown-unknown", "--test", "browser"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &tools.test_runner)
            .env("CHROMEDRIVER", chromedriver)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    )?;
    Ok(Outcome::Passed)
}

/// `tests/node/`: imports the package by name after installing it the way npm would (from
/// `npm pack`, so the `files` list is tested too).
fn node(_: &Tools) -> Result<Outcome, String> {
    run_node_tests(&run::root().join("tests/node"))
}

/// `tests/bundlers/`: the same installed package bundled by Vite and webpack 5 with their
/// default configuration and run in Chromium (issue 2: no plugin, no init() call).
fn bundlers(_: &Tools) -> Result<Outcome, String> {
    run_node_tests(&run::root().join("tests/bundlers"))
}

/// `tests/e2e/`: whole checkout flows in Chromium against the simulator (added with the flows).
fn e2e(_: &Tools) -> Result<Outcome, String> {
    run_node_tests(&run::root().join("tests/e2e"))
}

/// Runs the `*.test.mjs` files of `dir` with `node --test`, the package installed first.
fn run_node_tests(dir: &Path) -> Result<Outcome, String> {
    let files = test_files(dir);
    if files.is_empty() {
        return Ok(Outcome::Skipped(format!("no *.test.mjs in {}", dir.display())));
    }
    install_packed_pkg()?;
    // Files listed one by one: `node --test <dir>` differs between Node 20 and 22.
    status(command("node").arg("--test").args(&files))?;
    Ok(Outcome::Passed)
}

fn test_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    files
}

/// `npm pack pkg/` and unpack the tarball as `node_modules/wxpay-checkout`.
fn install_packed_pkg() -> Result<(), String> {
    let root = run::root();
    let packs = run::target_dir().join("wxpay-npm");
    fs::create_dir_all(&packs).map_err(|e| format!("cannot create {}: {e}", packs.display()))?;
    let out = output(command("npm").args(["pack", "--silent", "--pack-destination"]).arg(&packs).arg(root.join("pkg")))
        .ok_or("`npm pack pkg/` failed")?;
    let tarball = packs.join(out.lines().last().unwrap_or_default().trim());
    let dest = root.join("node_modules/wxpay-checkout");
    if fs::symlink_metadata(&dest).is_ok() {
        let removed = if dest.is_symlink() { fs::remove_file(&dest) } else { fs::remove_dir_all(&dest) };
        removed.map_err(|e| format!("cannot remove {}: {e}", dest.display()))?;
    }
    fs::create_dir_all(&dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    status(command("tar").arg("-xzf").arg(&tarball).arg("-C").arg(&dest).arg("--strip-components=1"))
}
