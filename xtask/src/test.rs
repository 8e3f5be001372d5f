//! `cargo xtask test`: every test suite of the project, in order, then a summary. Exits
//! non-zero if any suite failed. `cargo xtask test browser node` runs only the named suites
//! (plus the package build when one of them needs it).
//!
//! To add a suite: write a `fn(&Tools) -> Result<Outcome, String>` (or a `fn()` if it needs
//! none of the installed tools) and list it in [`SUITES`]. The tools are installed only when
//! a suite that needs them is about to run, so `cargo xtask test fmt clippy` stays quick.

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
    run: Run,
}

enum Run {
    /// Needs nothing beyond cargo (and its components).
    Plain(fn() -> Result<Outcome, String>),
    /// Needs the installed tools (wasm-bindgen CLI, npm packages).
    WithTools(fn(&Tools) -> Result<Outcome, String>),
}

/// The suites, in the order they run: the cheap source checks first.
const SUITES: &[Suite] = &[
    Suite {
        name: "fmt",
        needs_pkg: false,
        run: Run::Plain(fmt),
    },
    Suite {
        name: "clippy",
        needs_pkg: false,
        run: Run::Plain(clippy),
    },
    Suite {
        name: "native",
        needs_pkg: false,
        run: Run::Plain(native),
    },
    Suite {
        name: "interop",
        needs_pkg: false,
        run: Run::Plain(interop),
    },
    Suite {
        name: "build",
        needs_pkg: false,
        run: Run::WithTools(build_pkg),
    },
    Suite {
        name: "size",
        needs_pkg: true,
        run: Run::WithTools(size_budget),
    },
    Suite {
        name: "browser",
        needs_pkg: false,
        run: Run::WithTools(browser),
    },
    Suite {
        name: "node",
        needs_pkg: true,
        run: Run::WithTools(node),
    },
    Suite {
        name: "bundlers",
        needs_pkg: true,
        run: Run::WithTools(bundlers),
    },
    Suite {
        name: "miniprogram",
        needs_pkg: false,
        run: Run::Plain(miniprogram),
    },
    Suite {
        name: "e2e",
        needs_pkg: true,
        run: Run::WithTools(e2e),
    },
];

pub fn suite_names() -> Vec<&'static str> {
    SUITES.iter().map(|s| s.name).collect()
}

pub fn main(args: &[String]) -> ExitCode {
    if let Some(unknown) = args
        .iter()
        .find(|a| !SUITES.iter().any(|s| s.name == a.as_str()))
    {
        eprintln!(
            "xtask test: unknown suite {unknown:?}; suites are {}",
            suite_names().join(", ")
        );
        return ExitCode::FAILURE;
    }
    let wanted = |s: &Suite| args.is_empty() || args.iter().any(|a| a == s.name);
    let needs_build = SUITES.iter().any(|s| wanted(s) && s.needs_pkg);

    let mut summary: Vec<(&str, String, f64)> = Vec::new();
    let started = Instant::now();
    // Installed before the first suite that needs them; a failure fails those suites.
    let mut tools: Option<Result<Tools, String>> = None;

    let mut pkg_ok = true;
    let mut failed = false;
    for suite in SUITES {
        if !(wanted(suite) || (suite.name == "build" && needs_build)) {
            continue;
        }
        if matches!(suite.run, Run::WithTools(_)) && tools.is_none() {
            println!("\n==> tools");
            let t = Instant::now();
            let installed = tools::ensure();
            let line = match &installed {
                Ok(_) => "ok".to_string(),
                Err(e) => {
                    failed = true;
                    eprintln!("xtask test: installing tools failed: {e}");
                    format!("FAILED: {e}")
                }
            };
            summary.push(("tools", line, t.elapsed().as_secs_f64()));
            tools = Some(installed);
        }
        println!("\n==> {}", suite.name);
        let t = Instant::now();
        let result = if suite.needs_pkg && !pkg_ok {
            Ok(Outcome::Skipped("the package did not build".into()))
        } else {
            match (&suite.run, &tools) {
                (Run::Plain(run), _) => run(),
                (Run::WithTools(run), Some(Ok(tools))) => run(tools),
                (Run::WithTools(_), _) => Ok(Outcome::Skipped("the tools did not install".into())),
            }
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
    println!(
        "  {:<8} {:>6.1}s  {}",
        "total",
        started.elapsed().as_secs_f64(),
        if failed { "FAILED" } else { "all passed" }
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `cargo fmt --check`: the tree is formatted the way `cargo fmt` leaves it.
fn fmt() -> Result<Outcome, String> {
    cargo_component("fmt", "rustfmt")?;
    status(cargo().args(["fmt", "--all", "--check"]))
        .map_err(|e| format!("{e}; run `cargo fmt` and commit the result"))?;
    Ok(Outcome::Passed)
}

/// Clippy on every crate and target, warnings as errors. In a target directory of its own
/// (`<target>/clippy`): clippy's check-mode artefacts next to `cargo test`'s and `cargo
/// doc`'s in one directory once left the tests without a dependency's rlib.
fn clippy() -> Result<Outcome, String> {
    cargo_component("clippy", "clippy")?;
    status(
        cargo()
            .args(["clippy", "--workspace", "--all-targets", "--target-dir"])
            .arg(run::target_dir().join("clippy"))
            .args(["--", "-D", "warnings"]),
    )?;
    Ok(Outcome::Passed)
}

/// Checks that `cargo <subcommand>` exists, naming the rustup component that provides it.
fn cargo_component(subcommand: &str, component: &str) -> Result<(), String> {
    match output(cargo().args([subcommand, "--version"])) {
        Some(_) => Ok(()),
        None => Err(format!(
            "`cargo {subcommand}` is not installed: rustup component add {component}"
        )),
    }
}

/// Unit and integration tests of every crate, on the host.
fn native() -> Result<Outcome, String> {
    status(cargo().args(["test", "--workspace"]))?;
    Ok(Outcome::Passed)
}

/// `tests/interop/`: third-party WeChat Pay SDKs drive `wxpay demo` (orders, query, close,
/// certificate download, answer signatures and a notification checked by the SDK): PyPI
/// `wechatpayv3` (pinned in `requirements.txt`) and npm `wechatpay-axios-plugin` (`node/`,
/// pinned by its lock file), both installed under the target directory.
fn interop() -> Result<Outcome, String> {
    let dir = run::root().join("tests/interop");
    let requirements = dir.join("requirements.txt");
    let pinned = fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    let site = run::target_dir().join("interop-python");
    let stamp = site.join(".installed-requirements.txt");
    if fs::read_to_string(&stamp).ok().as_deref() != Some(pinned.as_str()) {
        if output(command("python3").args(["-m", "pip", "--version"])).is_none() {
            return Err("python3 with pip is needed for the interop suite (Debian: apt-get install python3-pip), or run .ci/run".into());
        }
        let _ = fs::remove_dir_all(&site);
        // --target installs beside the system, never into it; every dependency is pinned.
        let pip = [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "--target",
        ];
        status(
            command("python3")
                .args(pip)
                .arg(&site)
                .arg("-r")
                .arg(&requirements),
        )?;
        fs::write(&stamp, &pinned).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    }
    status(cargo().args(["build", "--quiet", "-p", "wxpay-cli", "--bin", "wxpay"]))?;
    let wxpay = run::target_dir()
        .join("debug")
        .join(format!("wxpay{}", std::env::consts::EXE_SUFFIX));
    status(
        command("python3")
            .arg(dir.join("wechatpayv3_test.py"))
            .env("PYTHONPATH", &site)
            .env("WXPAY_BIN", &wxpay),
    )?;
    // Node: the tests and their lock file copied under the target dir, `npm ci` there (pinned).
    let node = run::target_dir().join("interop-node");
    fs::create_dir_all(&node).map_err(|e| format!("cannot create {}: {e}", node.display()))?;
    let lock = fs::read(dir.join("node/package-lock.json"))
        .map_err(|e| format!("tests/interop/node/package-lock.json: {e}"))?;
    let installed = fs::read(node.join("package-lock.json")).ok() == Some(lock)
        && node.join("node_modules").is_dir();
    for file in fs::read_dir(dir.join("node"))
        .map_err(|e| e.to_string())?
        .flatten()
    {
        fs::copy(file.path(), node.join(file.file_name()))
            .map_err(|e| format!("cannot copy {}: {e}", file.path().display()))?;
    }
    if !installed {
        status(
            command("npm")
                .args(["ci", "--silent", "--no-audit", "--no-fund"])
                .current_dir(&node),
        )?;
    }
    status(
        command("node")
            .arg("--test")
            .args(test_files(&node))
            .env("WXPAY_BIN", &wxpay)
            .current_dir(&node),
    )?;
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
            .args([
                "test",
                "-p",
                "wxpay-checkout",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "browser",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                &tools.test_runner,
            )
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

/// `tests/miniprogram/`: the mini-program kit (`miniprogram/`) in Node with a fake `wx`,
/// against `wxpay demo` and its simulator (no package needed).
fn miniprogram() -> Result<Outcome, String> {
    status(
        command("node")
            .arg("--test")
            .args(test_files(&run::root().join("tests/miniprogram"))),
    )?;
    Ok(Outcome::Passed)
}

/// `tests/e2e/`: whole checkout flows in Chromium against the simulator (added with the flows).
fn e2e(_: &Tools) -> Result<Outcome, String> {
    run_node_tests(&run::root().join("tests/e2e"))
}

/// Runs the `*.test.mjs` files of `dir` with `node --test`, the package installed first.
fn run_node_tests(dir: &Path) -> Result<Outcome, String> {
    let files = test_files(dir);
    if files.is_empty() {
        return Ok(Outcome::Skipped(format!(
            "no *.test.mjs in {}",
            dir.display()
        )));
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
    let out = output(
        command("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&packs)
            .arg(root.join("pkg")),
    )
    .ok_or("`npm pack pkg/` failed")?;
    let tarball = packs.join(out.lines().last().unwrap_or_default().trim());
    let dest = root.join("node_modules/wxpay-checkout");
    if fs::symlink_metadata(&dest).is_ok() {
        let removed = if dest.is_symlink() {
            fs::remove_file(&dest)
        } else {
            fs::remove_dir_all(&dest)
        };
        removed.map_err(|e| format!("cannot remove {}: {e}", dest.display()))?;
    }
    fs::create_dir_all(&dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    status(
        command("tar")
            .arg("-xzf")
            .arg(&tarball)
            .arg("-C")
            .arg(&dest)
            .arg("--strip-components=1"),
    )
}
