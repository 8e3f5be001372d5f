//! `/sim/bridge.js`, a development stand-in for WeChat's `WeixinJSBridge` in an ordinary browser,
//! and `/sim/api/bridge`, which it calls: the simulator checks `paySign` exactly as WeChat's
//! client does (RSA with the merchant certificate for v3; MD5 / HMAC-SHA256 with the v2 key),
//! then applies the buyer's choice and answers with WeChat's `err_msg`. Before that, like WeChat,
//! it checks that the paying page's directory is one of the merchant's JSAPI payment
//! authorization directories ("当前页面的URL未注册" otherwise).

use super::ledger::{PayAction, Target};
use super::SimInner;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use wxpay_sign::{v2, v3, PayParams};

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/sim/bridge.js", get(bridge_js))
        .route("/sim/api/bridge", post(api_bridge))
}

async fn bridge_js() -> Response {
    (
        [
            ("content-type", "application/javascript; charset=utf-8"),
            ("cache-control", "no-cache"),
        ],
        include_str!("bridge.js"),
    )
        .into_response()
}

/// What `getBrandWCPayRequest` receives, plus the simulated buyer's decision.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BridgeRequest {
    app_id: String,
    time_stamp: String,
    nonce_str: String,
    package: String,
    sign_type: String,
    pay_sign: String,
    action: Option<PayAction>,
    /// The paying page's URL (WeChat's client knows it; bridge.js sends `location.href`).
    page_url: Option<String>,
}

/// WeChat's rule for JSAPI payment authorization directories: a registered top-level directory
/// (`https://shop.example/`) admits every page of that origin; a deeper one
/// (`https://shop.example/pay/`) only pages directly in it — not its parent, not a subdirectory.
pub fn page_directory_registered(page_url: &str, dirs: &[String]) -> bool {
    let Ok(page) = url::Url::parse(page_url) else {
        return false;
    };
    let path = page.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let origin = page.origin().ascii_serialization();
    dirs.iter().take(MAX_JSAPI_DIRS).any(|registered| {
        let Ok(r) = url::Url::parse(registered) else {
            return false;
        };
        r.origin().ascii_serialization() == origin && (r.path() == "/" || r.path() == dir)
    })
}

/// The merchant platform accepts at most five JSAPI payment authorization directories.
pub const MAX_JSAPI_DIRS: usize = 5;

async fn api_bridge(State(sim): State<Arc<SimInner>>, Json(req): Json<BridgeRequest>) -> Response {
    let params = PayParams {
        app_id: req.app_id,
        time_stamp: req.time_stamp,
        nonce_str: req.nonce_str,
        package: req.package,
        sign_type: req.sign_type,
        pay_sign: req.pay_sign.trim().to_string(),
    };
    let page = req.page_url.as_deref().unwrap_or("");
    if !page_directory_registered(page, &sim.cfg.jsapi_pay_dirs) {
        let shown = page.split(['?', '#']).next().unwrap_or("");
        let dir = &shown[..shown.rfind('/').map_or(0, |i| i + 1)];
        let desc = format!("当前页面的URL未注册：{dir}");
        return Json(json!({ "err_msg": "get_brand_wcpay_request:fail", "err_desc": desc }))
            .into_response();
    }
    let action = req.action.unwrap_or(PayAction::Pay);
    match sim.pay_sheet(&params, action) {
        Ok(()) => {
            let msg = match action {
                PayAction::Pay => "get_brand_wcpay_request:ok",
                PayAction::Cancel => "get_brand_wcpay_request:cancel",
                PayAction::Fail => "get_brand_wcpay_request:fail",
            };
            Json(json!({ "err_msg": msg })).into_response()
        }
        Err(desc) => Json(json!({ "err_msg": "get_brand_wcpay_request:fail", "err_desc": desc }))
            .into_response(),
    }
}

impl SimInner {
    /// What WeChat's client does with the signed parameters (JSAPI's `getBrandWCPayRequest`, the
    /// mini-program's `wx.requestPayment`): checks the prepay, appId and paySign, then applies
    /// the buyer's choice. `Err` is the client's description of why the sheet did not open.
    pub(super) fn pay_sheet(
        self: &Arc<Self>,
        params: &PayParams,
        action: PayAction,
    ) -> Result<(), &'static str> {
        let Some(prepay_id) = params.package.strip_prefix("prepay_id=") else {
            return Err("package 格式错误 (must be prepay_id=…)");
        };
        let target = Target::PrepayId(prepay_id.into());
        let found = self.ledger().find(&target).cloned();
        let Some(order) = found else {
            return Err("prepay_id 不存在");
        };
        if order.params.appid != params.app_id {
            return Err("appId 与下单时不一致");
        }
        if !self.pay_sign_ok(params) {
            return Err("支付验证签名失败");
        }
        self.buyer_acts(&target, action)
            .map(|_| ())
            .map_err(|r| r.codes().2)
    }

    /// RSA: the merchant's key signed `appId\ntimeStamp\nnonceStr\npackage\n` (v3).
    /// MD5 / HMAC-SHA256: the v2 sign over the five fields.
    fn pay_sign_ok(&self, params: &PayParams) -> bool {
        if params.sign_type == "RSA" {
            let keys = &self.cfg.merchant_keys;
            return keys.serials().any(|s| {
                keys.get(s)
                    .is_some_and(|k| v3::verify_pay_params(params, k).is_ok())
            });
        }
        v2::verify_pay_params(params, &self.cfg.v2_key).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::page_directory_registered as ok;

    #[test]
    fn directories_match_like_wechats() {
        let dirs = [
            "https://shop.example/pay/".to_string(),
            "https://m.shop.example/".to_string(),
        ];
        assert!(ok("https://shop.example/pay/index.html?x=1#y", &dirs));
        assert!(ok("https://shop.example/pay/", &dirs));
        assert!(
            !ok("https://shop.example/pay/sub/index.html", &dirs),
            "no subdirectories"
        );
        assert!(
            !ok("https://shop.example/index.html", &dirs),
            "not the parent"
        );
        assert!(!ok("http://shop.example/pay/", &dirs), "the scheme counts");
        assert!(
            ok("https://m.shop.example/a/b/c.html", &dirs),
            "top level admits all"
        );
        assert!(!ok("https://evil.example/pay/", &dirs));
        assert!(!ok("", &dirs));
        let six: Vec<String> = (0..6).map(|i| format!("https://s{i}.example/")).collect();
        assert!(!ok("https://s5.example/", &six), "only five are registered");
    }
}
