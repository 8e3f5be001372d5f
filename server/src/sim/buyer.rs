//! What the buyer touches: the phone page behind a scanned `code_url`, the H5 cashier, a
//! development `WeixinJSBridge`, and JSON endpoints so tests can play the buyer.
//!
//! The development `WeixinJSBridge` lives in [`super::bridge`]. Every successful pay starts the notification to the merchant; nothing here tells the merchant
//! anything directly (just like WeChat: the page's redirect or `:ok` is not proof of payment).

use super::ledger::{PayAction, Refusal, SimOrder, Target};
use super::{notify, now, SimInner};
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/sim/scan", get(scan_page).post(scan_submit))
        .route("/sim/checkmweb", get(cashier_page).post(cashier_submit))
        .route("/sim/api/pay", post(api_pay))
        .route("/sim/api/login", post(api_login))
}

/// HTML-escapes text from requests before it goes into a page.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · 微信支付模拟器</title>
<style>body{{font-family:-apple-system,"PingFang SC",sans-serif;background:#ededed;margin:0}}main{{max-width:420px;margin:0 auto;background:#fff;min-height:100vh;padding:24px;box-sizing:border-box}}
h1{{font-size:18px;font-weight:500;color:#333}}.amount{{font-size:40px;font-weight:600;margin:16px 0}}.muted{{color:#888;font-size:14px}}
button{{display:block;width:100%;padding:12px;margin:12px 0;border:0;border-radius:6px;font-size:17px}}.pay{{background:#07c160;color:#fff}}.cancel{{background:#f2f2f2;color:#333}}.fail{{background:#fff;color:#fa5151;border:1px solid #fa5151}}
.banner{{background:#fff3cd;font-size:12px;padding:6px;text-align:center}}</style>
<div class="banner">WeChat Pay simulator — no real money moves</div><main>{body}</main></html>"#,
        title = escape(title)
    );
    (status, Html(html)).into_response()
}

fn refusal_page(r: Refusal) -> Response {
    let (_, _, msg) = r.codes();
    page(
        StatusCode::BAD_REQUEST,
        msg,
        &format!("<h1>{}</h1>", escape(msg)),
    )
}

fn yuan(fen: i64) -> String {
    format!("¥{}.{:02}", fen / 100, fen % 100)
}

/// The pay / cancel (/ fail) buttons posting back to `action_path` with the hidden fields.
fn order_form(o: &SimOrder, action_path: &str, hidden: &[(&str, &str)]) -> String {
    let fields: String = hidden
        .iter()
        .map(|(k, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                escape(k),
                escape(v)
            )
        })
        .collect();
    format!(
        r#"<h1>{desc}</h1><div class="muted">商户单号 {no}</div><div class="amount">{amount}</div>
<form method="post" action="{action_path}">{fields}
<button class="pay" name="action" value="pay">确认支付 Pay</button>
<button class="cancel" name="action" value="cancel">取消 Cancel</button>
<button class="fail" name="action" value="fail">模拟失败 Fail</button></form>"#,
        desc = escape(&o.params.description),
        no = escape(&o.params.out_trade_no),
        amount = yuan(o.params.amount),
    )
}

impl SimInner {
    /// Applies the buyer's action; a pay starts the notification.
    pub(super) fn buyer_acts(
        self: &Arc<Self>,
        target: &Target,
        action: PayAction,
    ) -> Result<SimOrder, Refusal> {
        let appid = self
            .ledger()
            .find(target)
            .map(|o| o.params.appid.clone())
            .ok_or(Refusal::NotFound)?;
        let payer = self.ledger().openid_for(&appid, "buyer");
        let order = self.ledger().act(target, action, &payer, now())?;
        if action == PayAction::Pay {
            notify::spawn_delivery(self.clone(), order.clone());
        }
        Ok(order)
    }
}

fn outcome_page(o: &SimOrder, action: PayAction) -> Response {
    let (title, line) = match action {
        PayAction::Pay => ("支付成功", format!("已支付 {}", yuan(o.params.amount))),
        PayAction::Cancel => ("已取消", "你取消了这次支付".to_string()),
        PayAction::Fail => (
            "支付失败",
            "模拟的支付失败（例如银行卡余额不足）".to_string(),
        ),
    };
    page(
        StatusCode::OK,
        title,
        &format!(
            "<h1>{title}</h1><p>{}</p><p class=muted>{}</p>",
            escape(&line),
            escape(&o.params.description)
        ),
    )
}

#[derive(Deserialize)]
struct ScanQuery {
    code_url: Option<String>,
}

async fn scan_page(State(sim): State<Arc<SimInner>>, Query(q): Query<ScanQuery>) -> Response {
    let Some(code_url) = q.code_url else {
        return page(
            StatusCode::BAD_REQUEST,
            "扫码",
            "<h1>缺少 code_url</h1><p>Open /sim/scan?code_url=weixin://wxpay/bizpayurl?pr=…</p>",
        );
    };
    let found = sim
        .ledger()
        .find(&Target::CodeUrl(code_url.clone()))
        .cloned();
    match found {
        None => refusal_page(Refusal::NotFound),
        Some(o) if now() > o.expires_at => refusal_page(Refusal::Expired),
        Some(o) => page(
            StatusCode::OK,
            "付款",
            &order_form(&o, "/sim/scan", &[("code_url", &code_url)]),
        ),
    }
}

#[derive(Deserialize)]
struct ScanForm {
    code_url: String,
    action: PayAction,
}

async fn scan_submit(State(sim): State<Arc<SimInner>>, Form(f): Form<ScanForm>) -> Response {
    match sim.buyer_acts(&Target::CodeUrl(f.code_url), f.action) {
        Ok(o) => outcome_page(&o, f.action),
        Err(r) => refusal_page(r),
    }
}

#[derive(Deserialize)]
struct CashierQuery {
    prepay_id: Option<String>,
    package: Option<String>,
    redirect_url: Option<String>,
}

async fn cashier_page(
    State(sim): State<Arc<SimInner>>,
    headers: HeaderMap,
    Query(q): Query<CashierQuery>,
) -> Response {
    // WeChat checks that the buyer came from a page on the merchant's configured H5 domain.
    let referer_host = headers
        .get("referer")
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .and_then(|u| u.host_str().map(str::to_string));
    let allowed = referer_host
        .as_deref()
        .is_some_and(|h| sim.cfg.h5_domains.iter().any(|d| d.eq_ignore_ascii_case(h)));
    if !allowed {
        let detail = match &referer_host {
            Some(h) => format!("Referer host {h} is not a configured H5 domain"),
            None => {
                "no Referer: open the h5_url from a page on the H5 domain (not by typing it)".into()
            }
        };
        return page(
            StatusCode::FORBIDDEN,
            "商家参数格式有误",
            &format!(
                "<h1>商家存在未配置的参数，请联系商家解决</h1><p class=muted>{}</p>",
                escape(&detail)
            ),
        );
    }
    let (Some(prepay_id), Some(package)) = (q.prepay_id, q.package) else {
        return page(
            StatusCode::BAD_REQUEST,
            "参数错误",
            "<h1>缺少 prepay_id 或 package</h1>",
        );
    };
    let found = sim
        .ledger()
        .find(&Target::PrepayId(prepay_id.clone()))
        .cloned();
    let Some(o) = found else {
        return refusal_page(Refusal::NotFound);
    };
    if o.h5_package.as_deref() != Some(package.as_str()) {
        return page(
            StatusCode::BAD_REQUEST,
            "链接已失效",
            "<h1>支付链接已失效，请重新发起支付</h1>",
        );
    }
    if now() > o.h5_expires_at {
        return page(
            StatusCode::BAD_REQUEST,
            "链接已过期",
            "<h1>支付链接已过期（5 分钟），请重新发起支付</h1>",
        );
    }
    let redirect = q.redirect_url.unwrap_or_default();
    page(
        StatusCode::OK,
        "微信支付",
        &order_form(
            &o,
            "/sim/checkmweb",
            &[("prepay_id", &prepay_id), ("redirect_url", &redirect)],
        ),
    )
}

#[derive(Deserialize)]
struct CashierForm {
    prepay_id: String,
    redirect_url: Option<String>,
    action: PayAction,
}

async fn cashier_submit(State(sim): State<Arc<SimInner>>, Form(f): Form<CashierForm>) -> Response {
    let result = sim.buyer_acts(&Target::PrepayId(f.prepay_id), f.action);
    let back = f
        .redirect_url
        .filter(|u| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")));
    match (result, back) {
        // Like WeChat: back to the merchant whatever happened; the merchant must ask its backend.
        (Ok(_), Some(url)) => Redirect::to(&url).into_response(),
        (Ok(o), None) => outcome_page(&o, f.action),
        (Err(r), _) => refusal_page(r),
    }
}

#[derive(Deserialize)]
struct ApiPay {
    code_url: Option<String>,
    prepay_id: Option<String>,
    out_trade_no: Option<String>,
    action: Option<PayAction>,
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

async fn api_pay(State(sim): State<Arc<SimInner>>, Json(req): Json<ApiPay>) -> Response {
    let target = match (req.code_url, req.prepay_id, req.out_trade_no) {
        (Some(c), None, None) => Target::CodeUrl(c),
        (None, Some(p), None) => Target::PrepayId(p),
        (None, None, Some(n)) => Target::OutTradeNo(n),
        _ => {
            return api_error(
                StatusCode::BAD_REQUEST,
                "PARAM_ERROR",
                "give exactly one of code_url, prepay_id, out_trade_no",
            )
        }
    };
    let action = req.action.unwrap_or(PayAction::Pay);
    match sim.buyer_acts(&target, action) {
        Ok(o) => Json(json!({
            "out_trade_no": o.params.out_trade_no,
            "trade_state": o.state,
            "transaction_id": o.transaction_id,
        }))
        .into_response(),
        Err(r) => {
            let (code, _, msg) = r.codes();
            let status = if r == Refusal::NotFound {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::CONFLICT
            };
            api_error(status, code, msg)
        }
    }
}

#[derive(Deserialize)]
struct Login {
    appid: String,
    user: Option<String>,
}

/// Stand-in for `wx.login()` in a mini-program: a code for jscode2session.
async fn api_login(State(sim): State<Arc<SimInner>>, Json(req): Json<Login>) -> Response {
    if sim.cfg.app(&req.appid).is_none() {
        return api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_APPID",
            "appid is not registered with the simulator",
        );
    }
    let code = sim
        .ledger()
        .issue_code(&req.appid, req.user.as_deref().unwrap_or("buyer"), now());
    Json(json!({ "code": code })).into_response()
}
