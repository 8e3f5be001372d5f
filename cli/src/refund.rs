//! `wxpay refund`: refund an order (or its extra payments) through a running backend, as the
//! merchant's server does — `POST /api/orders/{id}/refunds` with the bearer `api_token`.
//!
//! Prints the backend's JSON answer (the refund, or `{"refunds": […]}`); the backend keeps the
//! refund exactly once per `out_refund_no`, so rerunning with the printed `out_refund_no` after a
//! timeout never refunds twice.

use crate::CliResult;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args)]
pub struct RefundArgs {
    /// The order to refund (its order_id).
    order_id: String,
    /// The backend's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: String,
    /// The backend's api_token.
    #[arg(long, env = "WXPAY_API_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Take the token of a `wxpay demo` from its data directory instead.
    #[arg(long)]
    demo_data_dir: Option<PathBuf>,
    /// Fen to refund (default: all that is left of the payment).
    #[arg(long)]
    amount: Option<i64>,
    /// Shown to the buyer (at most 80 bytes).
    #[arg(long)]
    reason: Option<String>,
    /// Your idempotency key; reuse the printed one to retry safely.
    #[arg(long)]
    out_refund_no: Option<String>,
    /// Which payment (default: the order's own).
    #[arg(long)]
    transaction_id: Option<String>,
    /// Refund every extra payment of the order in full instead.
    #[arg(long, conflicts_with_all = ["amount", "out_refund_no", "transaction_id"])]
    extra_payments: bool,
}

pub fn run(args: RefundArgs) -> CliResult {
    let token = match (&args.token, &args.demo_data_dir) {
        (_, Some(dir)) => wxpay_server::demo::demo_api_token(dir)?,
        (Some(t), None) => t.clone(),
        (None, None) => {
            return Err("no token: pass --token or set WXPAY_API_TOKEN (the backend's api_token), or --demo-data-dir for a demo".into())
        }
    };
    let mut body = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        body.insert(k.into(), v);
    };
    if let Some(a) = args.amount {
        put("amount", a.into());
    }
    if let Some(r) = &args.reason {
        put("reason", r.clone().into());
    }
    if let Some(n) = &args.out_refund_no {
        put("out_refund_no", n.clone().into());
    }
    if let Some(t) = &args.transaction_id {
        put("transaction_id", t.clone().into());
    }
    if args.extra_payments {
        put("extra_payments", true.into());
    }
    let url = format!(
        "{}/api/orders/{}/refunds",
        args.api.trim_end_matches('/'),
        args.order_id
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (status, text) = runtime.block_on(async move {
        let answer = wxpay_server::http_client::client(Duration::from_secs(30))
            .post(&url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .body(serde_json::Value::Object(body).to_string())
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((status, text))
    })?;
    if !status.is_success() {
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let mut line = format!(
            "refund refused ({status}): {}: {}",
            v["error"].as_str().unwrap_or("error"),
            v["message"].as_str().unwrap_or(&text)
        );
        if let Some(no) = v["out_refund_no"].as_str() {
            line.push_str(&format!(" (retry with --out-refund-no {no})"));
        }
        return Err(line.into());
    }
    println!("{text}");
    Ok(())
}
