//! The `wxpay` command.
//!
//! - `sign_tools` — `sign-v2`, `verify-v2`, `sign-v3`, `verify-v3`, `decrypt`, `pay-params`,
//!   `decrypt-refund`: every intermediate string of WeChat Pay signing, so a developer in any
//!   language can compare their own integration step by step.
//! - `serve` — `demo`, `serve`: the merchant backend (with the WeChat Pay simulator for `demo`).
//! - `refund` — `refund`: refund an order (or its extra payments) through a running backend.
//!
//! Conventions for every subcommand: JSON (or the requested plaintext) on stdout; on failure
//! exit code 1 and exactly one line on stderr saying what to fix; never print a key. To add a
//! subcommand group, add a module and a variant to [`Command`].

mod refund;
mod serve;
mod sign_tools;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// WeChat Pay signing and debugging tools.
#[derive(Parser)]
#[command(name = "wxpay", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Sign(sign_tools::SignCommand),
    #[command(flatten)]
    Serve(serve::ServeCommand),
    /// Refund an order, or its extra payments, through a running backend (needs its api_token).
    Refund(refund::RefundArgs),
}

/// What every subcommand returns; any error type converts with `?`.
pub type CliResult = Result<(), Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help / --version: clap's normal output, success.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message spans lines (the error, its details, a usage block); keep the
            // error and its details on one line.
            let text = e.to_string();
            let summary: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:"))
                .filter(|l| !l.is_empty())
                .collect();
            let summary = summary.join(" ");
            let summary = summary.strip_prefix("error: ").unwrap_or(&summary);
            eprintln!("wxpay: {summary} (see wxpay --help)");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Sign(cmd) => sign_tools::run(cmd),
        Command::Serve(cmd) => serve::run(cmd),
        Command::Refund(args) => refund::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the error's own formatting.
            eprintln!("wxpay: {}", e.to_string().replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
