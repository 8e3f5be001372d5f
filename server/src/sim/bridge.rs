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
    let fail = |desc: &str| {
        Json(json!({ "err_msg": "get_brand_wcpay_request:fail", "err_desc": desc })).into_response()
    };
    let page = req.page_url.as_deref().unwrap_or("");
    if !page_directory_registered(page, &sim.cfg.jsapi_pay_dirs) {
        let shown = page.split(['?', '#']).next().unwrap_or("");
        let dir = &shown[..shown.rfind('/').map_or(0, |i| i + 1)];
        return fail(&format!("当前页面的URL未注册：{dir}"));
    }
    let Some(prepay_id) = req.package.strip_prefix("prepay_id=") else {
        return fail("package 格式错误 (must be prepay_id=…)");
    };
    let found = sim
        .ledger()
        .find(&Target::PrepayId(prepay_id.into()))
        .cloned();
    let Some(order) = found else {
        return fail("prepay_id 不存在");
    };
    if order.params.appid != req.app_id {
        return fail("appId 与下单时不一致");
    }
    if !sim.pay_sign_ok(&req) {
        return fail("支付验证签名失败");
    }
    let action = req.action.unwrap_or(PayAction::Pay);
    match sim.buyer_acts(&Target::PrepayId(prepay_id.into()), action) {
        Ok(_) => {
            let msg = match action {
                PayAction::Pay => "get_brand_wcpay_request:ok",
                PayAction::Cancel => "get_brand_wcpay_request:cancel",
                PayAction::Fail => "get_brand_wcpay_request:fail",
            };
            Json(json!({ "err_msg": msg })).into_response()
        }
        Err(r) => fail(r.codes().2),
    }
}

impl SimInner {
    /// RSA: the merchant's key signed `appId\ntimeStamp\nnonceStr\npackage\n` (v3).
    /// MD5 / HMAC-SHA256: the v2 sign over the five fields.
    fn pay_sign_ok(&self, r: &BridgeRequest) -> bool {
        let params = PayParams {
            app_id: r.app_id.clone(),
            time_stamp: r.time_stamp.clone(),
            nonce_str: r.nonce_str.clone(),
            package: r.package.clone(),
            sign_type: r.sign_type.clone(),
            pay_sign: r.pay_sign.trim().to_string(),
        };
        if params.sign_type == "RSA" {
            let keys = &self.cfg.merchant_keys;
            return keys.serials().any(|s| {
                keys.get(s)
                    .is_some_and(|k| v3::verify_pay_params(&params, k).is_ok())
            });
        }
        v2::verify_pay_params(&params, &self.cfg.v2_key).is_ok()
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
