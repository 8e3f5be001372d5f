//! `cargo xtask build`: compiles the root crate to wasm and assembles the npm package in `pkg/`.
//!
//! cargo (wasm32, release profile tuned for size) → `wasm-bindgen --target web` (JS glue that
//! the entry module in `pkg-template/index.js` initialises) → `wasm-opt -Oz` → short import
//! names (`imports`) → esbuild-minified glue → `pkg/` = the
//! template (its driver module minified too), with the version from Cargo.toml, plus the
//! glue and the optimised wasm.

use std::fs;
use std::path::Path;
use std::time::Instant;

use crate::imports;
use crate::run::{self, cargo, command, output, status};
use crate::tools::Tools;

/// The crate and the file stem wasm-bindgen writes (`wxpay_checkout.js`, `…_bg.wasm`).
const CRATE: &str = "wxpay-checkout";
const STEM: &str = "wxpay_checkout";

pub fn package(tools: &Tools) -> Result<(), String> {
    let started = Instant::now();
    let root = run::root();
    status(cargo().args(["build", "-p", CRATE, "--lib", "--release", "--target", "wasm32-unknown-unknown"]))?;
    let wasm = run::target_dir().join(format!("wasm32-unknown-unknown/release/{STEM}.wasm"));

    let staging = run::target_dir().join("wxpay-pkg-staging");
    recreate_dir(&staging)?;
    status(
        command(&tools.wasm_bindgen)
            .args(["--target", "web", "--no-typescript", "--out-name", STEM, "--out-dir"])
            .arg(&staging)
            .arg(&wasm),
    )?;

    let pkg = root.join("pkg");
    recreate_dir(&pkg)?;
    let bg = format!("{STEM}_bg.wasm");
    // The features wasm-bindgen's output uses are read from its target_features section;
    // producers/target_features are then dropped from the shipped file as dead weight.
    // `--converge` repeats -Oz until it stops shrinking (~0.1 KB gzip, a few seconds). A first
    // -Oz, then `--flatten --rereloop` (control flow rebuilt) before the final -Oz, and
    // `--low-memory-unused` (Rust's data starts at 1 MiB and its stack never reaches the low
    // 1 KiB, so constant addresses fold into offsets) save another ~0.45 KB gzip together.
    status(
        command(&tools.wasm_opt)
            .args(["-Oz", "--flatten", "--rereloop", "-Oz", "--converge", "--low-memory-unused"])
            .args(["--strip-producers", "--strip-target-features", "-o"])
            .arg(pkg.join(&bg))
            .arg(staging.join(&bg)),
    )?;
    // Hand-written JS lives in pkg-template/ (checkout.js); `inline_js` / `module =` snippets
    // would need their own copying, minifying and `files` entry, so they are refused here.
    if staging.join("snippets").exists() {
        return Err("wasm-bindgen wrote snippets/ (inline_js or a JS module import): put that JS in pkg-template/ instead".into());
    }
    // The generated JS is minified (a quarter of the package's gzip bytes otherwise); exports,
    // import paths and `new URL('…_bg.wasm', import.meta.url)` survive esbuild's minifier.
    // So are pkg-template's hand-written modules (checkout.js, the driver), copied below.
    // pkg-template/index.js is not minified (its inline bundler hint comments must stay); only
    // its whole-line `//` comments, written for maintainers, are dropped below.
    let mut generated = vec![pkg.join(format!("{STEM}.js"))];
    // Import names shortened in the wasm and the glue together (see imports.rs).
    let wasm_path = pkg.join(&bg);
    let wasm_bytes = fs::read(&wasm_path).map_err(|e| format!("cannot read {}: {e}", wasm_path.display()))?;
    let (wasm_bytes, glue, renamed) = imports::shorten(&wasm_bytes, &read(&staging.join(format!("{STEM}.js")))?)?;
    fs::write(&wasm_path, wasm_bytes).map_err(|e| format!("cannot write {}: {e}", wasm_path.display()))?;
    write(&generated[0], &glue)?;
    println!("xtask: shortened {renamed} import names");

    let version = crate_version()?;
    for entry in fs::read_dir(root.join("pkg-template")).map_err(|e| format!("cannot read pkg-template/: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let name = path.file_name().unwrap_or_default();
        if name == "package.json" {
            let text = read(&path)?;
            if !text.contains("{{version}}") {
                return Err("pkg-template/package.json must have \"version\": \"{{version}}\"".into());
            }
            write(&pkg.join(name), &text.replace("{{version}}", &version))?;
        } else if name == "index.js" {
            write(&pkg.join(name), &without_line_comments(&read(&path)?))?;
        } else if path.is_file() {
            copy(&path, &pkg.join(name))?;
            if is_minified_template(&name.to_string_lossy()) {
                generated.push(pkg.join(name));
            }
        }
    }
    for file in &generated {
        status(command(&tools.esbuild).arg("--minify").arg("--format=esm").arg("--log-level=warning").arg("--allow-overwrite").arg(file).arg(format!("--outfile={}", file.display())))?;
    }
    println!("xtask: built pkg/ ({CRATE} {version}) in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The root crate's version as cargo resolves it (it may come from `[workspace.package]`).
fn crate_version() -> Result<String, String> {
    let id = output(cargo().args(["pkgid", "-p", CRATE])).ok_or("`cargo pkgid -p wxpay-checkout` failed")?;
    version_from_pkgid(&id).ok_or_else(|| format!("cannot read a version from `cargo pkgid` output {id:?}"))
}

/// `path+file:///…#wxpay-checkout@0.1.0`, or `file:///…#0.1.0` on older cargo → `0.1.0`.
fn version_from_pkgid(id: &str) -> Option<String> {
    let version = id.trim().rsplit(['@', '#']).next()?;
    version.starts_with(|c: char| c.is_ascii_digit()).then(|| version.to_string())
}

fn recreate_dir(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

/// pkg-template files shipped minified: every `.js` module but the entry `index.js`.
fn is_minified_template(name: &str) -> bool {
    name.ends_with(".js") && name != "index.js"
}

/// `js` without its whole-line `//` comments (inline `/* … */` hints stay), so the shipped
/// entry module is code only while pkg-template/index.js keeps the explanations.
fn without_line_comments(js: &str) -> String {
    js.lines().filter(|line| !line.trim_start().starts_with("//")).map(|line| [line, "\n"].concat()).collect()
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to).map(|_| ()).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::{is_minified_template, version_from_pkgid, without_line_comments};

    #[test]
    fn template_modules_but_the_entry_are_minified() {
        assert!(is_minified_template("checkout.js"));
        for name in ["index.js", "index.d.ts", "package.json", "README.md", "LICENSE"] {
            assert!(!is_minified_template(name), "{name}");
        }
    }

    #[test]
    fn line_comments_go_inline_hints_stay() {
        let js = "// why\nconst a = 1; // kept: not a whole line\n  // indented\nawait import(/* webpackIgnore: true */ m);\n";
        assert_eq!(without_line_comments(js), "const a = 1; // kept: not a whole line\nawait import(/* webpackIgnore: true */ m);\n");
    }

    #[test]
    fn pkgid_formats_old_and_new() {
        assert_eq!(version_from_pkgid("path+file:///work/main#wxpay-checkout@0.1.0\n").as_deref(), Some("0.1.0"));
        assert_eq!(version_from_pkgid("file:///work/main#1.2.3-beta.1").as_deref(), Some("1.2.3-beta.1"));
        assert_eq!(version_from_pkgid("path+file:///work/main#wxpay-checkout"), None);
    }
}
