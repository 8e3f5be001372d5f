//! `cargo xtask <command>`: the project's build, demo and test orchestration, in plain Rust so
//! it runs wherever cargo does (alias in `.cargo/config.toml`).
//!
//! - `tools`  — [`tools`]: installs what the others need, idempotently (wasm32 target,
//!   wasm-bindgen CLI at the Cargo.lock version into `.tools/`, npm dev dependencies).
//! - `build`  — [`build`]: the npm package in `pkg/` (wasm → wasm-bindgen → wasm-opt → template).
//! - [`imports`] — shortens wasm-bindgen's hashed import names in the package (build step).
//! - `size`   — [`size`]: raw and gzip -9 bytes of the package, checked against the budget.
//! - `demo`   — [`demo`]: builds and serves the demo page.
//! - `test`   — [`test`]: every test suite in order, with a summary; `test <suite>…` runs some.
//!
//! [`run`] holds the small process and path helpers they share.

mod build;
mod demo;
mod imports;
mod run;
mod size;
mod test;
mod tools;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  build            build the npm package into pkg/
  size             print the package's raw and gzip sizes (fails over budget)
  demo [--port N]  build and serve the demo on http://127.0.0.1:8080/
  test [suite…]    run all test suites (or the named ones: {suites})
  tools            install the build tools (done by the commands above as needed)

environment:
  WXPAY_TOOLS_DIR  where wasm-bindgen is installed (default: .tools/ in the repository)
  CARGO_TARGET_DIR honoured as by cargo";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "build" => tools::ensure().and_then(|t| build::package(&t)),
        "size" => size::report_and_check(),
        "demo" => demo::main(rest),
        "test" => return test::main(rest),
        "tools" => tools::ensure().map(|_| ()),
        "help" | "-h" | "--help" => {
            println!("{}", USAGE.replace("{suites}", &test::suite_names().join(", ")));
            Ok(())
        }
        other => Err(format!("unknown command {other:?}; run `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: {message}");
            ExitCode::FAILURE
        }
    }
}
