//! `/sim/bridge.js`, a development stand-in for WeChat's `WeixinJSBridge` in an ordinary browser,
//! and `/sim/api/bridge`, which it calls: the simulator checks `paySign` exactly as WeChat's
//! client does (RSA with the merchant certificate for v3; MD5 / HMAC-SHA256 with the v2 key),
//! then applies the buyer's choice and answers with WeChat's `err_msg`.

use super::ledger::{PayAction, Target};
use super::SimInner;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use axum::Router;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use wxpay_sign::v2::{self, SignType};

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
}

async fn api_bridge(State(sim): State<Arc<SimInner>>, Json(req): Json<BridgeRequest>) -> Response {
    let fail = |desc: &str| {
        Json(json!({ "err_msg": "get_brand_wcpay_request:fail", "err_desc": desc })).into_response()
    };
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
        if r.sign_type == "RSA" {
            let message = format!(
                "{}\n{}\n{}\n{}\n",
                r.app_id, r.time_stamp, r.nonce_str, r.package
            );
            let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(&r.pay_sign) else {
                return false;
            };
            let keys = &self.cfg.merchant_keys;
            return keys.serials().any(|s| {
                keys.get(s)
                    .is_some_and(|k| k.verify_sha256(message.as_bytes(), &sig))
            });
        }
        let Ok(sign_type) = r.sign_type.parse::<SignType>() else {
            return false;
        };
        let fields: BTreeMap<String, String> = [
            ("appId", &r.app_id),
            ("timeStamp", &r.time_stamp),
            ("nonceStr", &r.nonce_str),
            ("package", &r.package),
            ("signType", &r.sign_type),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        v2::sign(&fields, &self.cfg.v2_key, sign_type).eq_ignore_ascii_case(r.pay_sign.trim())
    }
}
