//! The mini-program side of the simulator, so the fourth flow runs end to end offline.
//!
//! - `POST /sim/api/requestPayment`: what WeChat's client does with `wx.requestPayment` (the
//!   five parameters; the mini-program's appid is implicit in WeChat, explicit here): the same
//!   checks as the JSAPI sheet ([`SimInner::pay_sheet`]), answered with the mini-program's `errMsg`.
//! - `/sim/miniprogram.js`: a development stand-in for the JS-SDK's `wx.miniProgram` in an
//!   ordinary browser (as `/sim/bridge.js` is for `WeixinJSBridge`). Its `navigateTo` opens the
//!   mini-program page over the web page, like a mini-program page pushed over the `<web-view>`.
//! - `/sim/miniprogram/pages/pay/index`: that page. It runs the kit's own files
//!   (`miniprogram/wxpay.js`, `i18n.js`, `pages/pay/index.js`, its WXSS) with a stand-in `wx`
//!   (`login` through `/sim/api/login`, `request` as `fetch`, `requestPayment` through the
//!   endpoint above) and draws the page's data as its WXML does.

use super::ledger::PayAction;
use super::SimInner;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use wxpay_sign::PayParams;

/// The kit's page, as the element's hand-off names it (`miniprogramPath`'s default).
const PAY_PAGE: &str = "/pages/pay/index";

/// The kit's modules, by their path inside `miniprogram/`. `config.js` is the simulator's: the
/// backend is the page's own origin.
const KIT: [(&str, &str); 4] = [
    ("wxpay.js", include_str!("../../../miniprogram/wxpay.js")),
    ("i18n.js", include_str!("../../../miniprogram/i18n.js")),
    (
        "config.js",
        "module.exports = { apiBase: location.origin + '/api', header: function () { return {}; } };",
    ),
    (
        "pages/pay/index.js",
        include_str!("../../../miniprogram/pages/pay/index.js"),
    ),
];
const PAGE_WXSS: &str = include_str!("../../../miniprogram/pages/pay/index.wxss");

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/sim/api/requestPayment", post(request_payment))
        .route("/sim/miniprogram.js", get(webview_js))
        .route("/sim/miniprogram/kit.js", get(kit_js))
        .route(&format!("/sim/miniprogram{PAY_PAGE}"), get(pay_page))
}

fn javascript(body: String) -> Response {
    (
        [
            ("content-type", "application/javascript; charset=utf-8"),
            ("cache-control", "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn webview_js() -> Response {
    javascript(include_str!("miniprogram.js").replace("__PAY_PAGE__", PAY_PAGE))
}

/// The kit's modules as functions for the page's small `require` (see `miniprogram_host.js`).
async fn kit_js() -> Response {
    let mut out = String::from("window.__wxpayKit = {\n");
    for (path, source) in KIT {
        out.push_str(&format!(
            "{path:?}: function (module, exports, require) {{\n{source}\n}},\n"
        ));
    }
    out.push_str("};\n");
    out.push_str(include_str!("miniprogram_host.js"));
    javascript(out)
}

async fn pay_page(State(sim): State<Arc<SimInner>>) -> Response {
    let Some(appid) = sim.cfg.mini_program.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "this simulator plays no mini-program (SimConfig::mini_program is None)",
        )
            .into_response();
    };
    let html = format!(
        r#"<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信支付 · 小程序模拟器</title>
<style>body{{margin:0;background:#ededed}}.sim-bar{{position:sticky;top:0;display:flex;align-items:center;height:44px;background:#ededed;font:17px -apple-system,"PingFang SC",sans-serif;border-bottom:1px solid #ddd}}
.sim-bar button{{width:44px;height:44px;border:0;background:none;font-size:28px;line-height:1;cursor:pointer}}.sim-bar span{{flex:1;text-align:center;margin-right:44px}}
.sim-banner{{background:#fff3cd;font:12px sans-serif;padding:6px;text-align:center}}#page{{--rpx:calc(min(100vw,480px)/750);max-width:480px;margin:0 auto}}
.wxpay-icon{{display:block;font-size:56px;line-height:64px}}[data-icon=success]{{color:#07c160}}[data-icon=warn]{{color:#fa5151}}[data-icon=cancel]{{color:#b2b2b2}}[data-icon=waiting]{{color:#10aeff}}button.wxpay-button{{display:block;padding:12px;border:0}}
{wxss}</style>
<div class="sim-bar"><button type="button" id="sim-back" aria-label="返回 Back">‹</button><span id="sim-title">微信支付</span></div>
<div class="sim-banner">Mini-program simulator — the kit's pages/pay/index runs with a stand-in wx; no money moves</div>
<div id="page" data-appid="{appid}" data-route="{route}"></div>
<script src="/sim/miniprogram/kit.js"></script></html>"#,
        wxss = rpx_to_css(PAGE_WXSS),
        appid = super::buyer::escape(appid),
        route = &PAY_PAGE[1..],
    );
    Html(html).into_response()
}

/// WXSS → CSS: `24rpx` → `calc(24 * var(--rpx))` (750 rpx = the screen's width).
fn rpx_to_css(wxss: &str) -> String {
    let mut out = String::with_capacity(wxss.len() * 2);
    let mut rest = wxss;
    while let Some(at) = rest.find("rpx") {
        let before = &rest[..at];
        let number_len = before
            .bytes()
            .rev()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (head, number) = before.split_at(before.len() - number_len);
        out.push_str(head);
        if number.is_empty() {
            out.push_str("rpx");
        } else {
            out.push_str(&format!("calc({number} * var(--rpx))"));
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

/// What `wx.requestPayment` receives, the mini-program's appid, and the simulated buyer's choice.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestPayment {
    app_id: String,
    time_stamp: Option<String>,
    nonce_str: Option<String>,
    package: Option<String>,
    sign_type: Option<String>,
    pay_sign: Option<String>,
    action: Option<PayAction>,
}

async fn request_payment(
    State(sim): State<Arc<SimInner>>,
    Json(req): Json<RequestPayment>,
) -> Response {
    let answer = |msg: String| Json(json!({ "errMsg": msg })).into_response();
    let fields = [
        ("timeStamp", req.time_stamp),
        ("nonceStr", req.nonce_str),
        ("package", req.package),
        ("signType", req.sign_type),
        ("paySign", req.pay_sign),
    ];
    if let Some((name, _)) = fields.iter().find(|(_, v)| v.is_none()) {
        return answer(format!(
            "requestPayment:fail parameter error: parameter.{name} should be String instead of Undefined;"
        ));
    }
    let [t, n, p, s, sign] = fields.map(|(_, v)| v.unwrap_or_default());
    let params = PayParams {
        app_id: req.app_id,
        time_stamp: t,
        nonce_str: n,
        package: p,
        sign_type: s,
        pay_sign: sign.trim().to_string(),
    };
    let action = req.action.unwrap_or(PayAction::Pay);
    match sim.pay_sheet(&params, action) {
        Ok(()) => answer(
            match action {
                PayAction::Pay => "requestPayment:ok",
                PayAction::Cancel => "requestPayment:fail cancel",
                PayAction::Fail => "requestPayment:fail 支付失败",
            }
            .into(),
        ),
        Err(desc) => answer(format!("requestPayment:fail {desc}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpx_becomes_a_share_of_the_width() {
        assert_eq!(
            rpx_to_css("a{padding:160rpx 4.5rpx;width:100%}"),
            "a{padding:calc(160 * var(--rpx)) calc(4.5 * var(--rpx));width:100%}"
        );
        assert_eq!(rpx_to_css("rpx"), "rpx");
    }
}
