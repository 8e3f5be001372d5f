//! `cargo xtask demo [--port N] [other `wxpay demo` flags]`: builds the npm package, then runs
//! `wxpay demo` — merchant backend, WeChat Pay simulator, the shop (`www/` at `/`) and the
//! package (`pkg/` at `/pkg/`) on one port of 127.0.0.1 (8080 unless `--port`).
//!
//! Flags are passed to `wxpay demo` as given (see `wxpay demo --help`); `--www`, `--pkg` and
//! `--data-dir` default to this checkout's `www/`, `pkg/` and `.data/demo/`.

use crate::{build, run, tools};

pub fn main(args: &[String]) -> Result<(), String> {
    build::package(&tools::ensure()?)?;
    let root = run::root();
    let mut cmd = run::cargo();
    cmd.args(["run", "--quiet", "--package", "wxpay-cli", "--bin", "wxpay", "--", "demo"]);
    cmd.args(args);
    let given = |flag: &str| args.iter().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    for (flag, dir) in [("--www", "www"), ("--pkg", "pkg"), ("--data-dir", ".data/demo")] {
        if !given(flag) {
            cmd.arg(flag).arg(root.join(dir));
        }
    }
    run::status(&mut cmd)
}
