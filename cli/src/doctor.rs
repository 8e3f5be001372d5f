//! `wxpay doctor --config wxpay.toml [--page-url https://shop.example/pay/]`: checks a
//! configuration against what breaks in the field and prints the findings as JSON, each with
//! what to fix. Exit 1 when any finding is an error. The checks live in `wxpay_server::doctor`.

use crate::CliResult;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use wxpay_server::config::Config;
use wxpay_server::doctor::{self, Finding, Level};

#[derive(Args)]
pub struct DoctorArgs {
    /// TOML config file (WXPAY_* variables apply on top, as for `wxpay serve`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The page that will pay: its directory is checked against jsapi_pay_dirs, its host
    /// against h5_domains and oauth_domains.
    #[arg(long, value_name = "URL")]
    page_url: Option<String>,
    /// Skip the network checks (the clock against WeChat's Date header; the PostgreSQL
    /// database of `database_url`).
    #[arg(long)]
    offline: bool,
}

pub fn run(a: DoctorArgs) -> CliResult {
    let cfg = Config::from_file_and_env(a.config.as_deref())?;
    let mut findings = doctor::check(
        &cfg,
        a.page_url.as_deref(),
        wxpay_server::timefmt::unix_now(),
    );
    if !a.offline {
        findings.push(clock(&cfg));
        findings.extend(database(&cfg));
    }
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let (errors, warnings) = (count(Level::Error), count(Level::Warning));
    let report = json!({ "errors": errors, "warnings": warnings, "findings": findings });
    crate::sign_tools::print_json(&report)?;
    if errors > 0 {
        return Err(format!(
            "{errors} problem(s) to fix, {warnings} warning(s): see the findings above"
        )
        .into());
    }
    Ok(())
}

/// A look at the PostgreSQL database, if one is configured.
fn database(cfg: &Config) -> Vec<Finding> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(doctor::database(cfg)),
        Err(e) => vec![Finding {
            level: Level::Warning,
            check: "database_url",
            message: format!("could not check the database: {e}"),
            fix: "run wxpay doctor again".into(),
        }],
    }
}

fn clock(cfg: &Config) -> Finding {
    let measured = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| {
            rt.block_on(doctor::measure_skew(
                &cfg.wechat_base_url,
                Duration::from_secs(5),
            ))
        });
    match measured {
        Ok(skew) => doctor::clock_skew(skew),
        Err(e) => Finding {
            level: Level::Warning,
            check: "clock",
            message: format!("could not compare clocks with WeChat: {e}"),
            fix: "check that this machine reaches wechat_base_url, or pass --offline".into(),
        },
    }
}
