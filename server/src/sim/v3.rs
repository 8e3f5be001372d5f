//! The simulated APIv3: `POST /v3/pay/transactions/{native,jsapi,h5}`, the out-trade-no query
//! and close, `/v3/certificates`. Every request's `Authorization` is verified against the
//! merchant's certificate; every answer to an authenticated request is signed with the current
//! platform key and carries all five `Wechatpay-*` headers, errors and 204s included. Answer
//! bodies follow WeChat's field for field (keys in alphabetical order, as WeChat sends them).
//!
//! `serial_no` in `Authorization` is matched without regard to case: WeChat names certificates
//! in upper-case hex and accepts the lower-case hex some SDKs derive (node-forge, @fidm/x509).

use super::ledger::{Api, OrderParams, Refusal, SimOrder, TradeType};
use super::{now, validate, SimInner};
use crate::order::TradeState;
use crate::timefmt::{beijing_rfc3339, parse_rfc3339};
use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::sync::Arc;
use wxpay_sign::v2::SignType;
use wxpay_sign::v3;

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/v3/pay/transactions/{kind}", post(prepay))
        .route("/v3/pay/transactions/out-trade-no/{no}", get(query))
        .route("/v3/pay/transactions/out-trade-no/{no}/close", post(close))
        .route("/v3/certificates", get(certificates))
}

/// `Wechatpay-Signature-Type` of every signed answer and notification (SHA256withRSA).
pub(super) const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// WeChat's `Content-Type` on JSON answers.
pub(super) const JSON_UTF8: &str = "application/json; charset=utf-8";

/// WeChat's error shape; 401 SIGN_ERROR answers are unsigned (the caller is not authenticated).
fn unsigned_error(status: StatusCode, code: &str, message: String) -> Response {
    let body = json!({ "code": code, "message": message }).to_string();
    (status, [("content-type", JSON_UTF8)], body).into_response()
}

impl SimInner {
    /// A JSON answer with `Wechatpay-*` headers signed by the platform key.
    pub(super) fn signed(&self, status: StatusCode, body: Option<Value>) -> Response {
        let has_body = body.is_some();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (ts, nonce) = (now(), wxpay_sign::nonce::nonce_str());
        let key = self.platform_key();
        let signature = match v3::sign_response(&key.private, ts, &nonce, body.as_bytes()) {
            Ok(s) => s,
            Err(e) => {
                return unsigned_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    e.to_string(),
                )
            }
        };
        let mut r = (status, body).into_response();
        let h = r.headers_mut();
        let mut put = |k: &'static str, v: String| {
            if let Ok(v) = v.parse() {
                h.insert(k, v);
            }
        };
        if has_body {
            put("content-type", JSON_UTF8.into());
        }
        put("wechatpay-timestamp", ts.to_string());
        put("wechatpay-nonce", nonce);
        put("wechatpay-signature", signature);
        put("wechatpay-serial", key.id.clone());
        put("wechatpay-signature-type", SIGNATURE_TYPE.into());
        put(
            "request-id",
            format!("sim-{}", crate::devkeys::random_alnum(16)),
        );
        r
    }

    fn param_error(&self, message: String) -> Response {
        self.signed(
            StatusCode::BAD_REQUEST,
            Some(json!({ "code": "PARAM_ERROR", "message": message })),
        )
    }

    fn refusal(&self, r: Refusal) -> Response {
        let (code, _, message) = r.codes();
        let status = if r == Refusal::NotFound {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::BAD_REQUEST
        };
        self.signed(status, Some(json!({ "code": code, "message": message })))
    }

    /// Checks the merchant's `Authorization` over the request exactly as received.
    fn authenticate(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Response> {
        let sign_error = |why: String| {
            unsigned_error(
                StatusCode::UNAUTHORIZED,
                "SIGN_ERROR",
                format!("签名错误: {why}"),
            )
        };
        let header = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| sign_error("no Authorization header".into()))?;
        let parsed = v3::parse_authorization(header).map_err(|e| sign_error(e.to_string()))?;
        if parsed.mchid != self.cfg.mchid {
            return Err(sign_error(format!(
                "mchid {} is not registered",
                parsed.mchid
            )));
        }
        let key = self
            .cfg
            .merchant_keys
            .serials()
            .find(|s| s.eq_ignore_ascii_case(&parsed.serial_no))
            .and_then(|s| self.cfg.merchant_keys.get(s))
            .ok_or_else(|| {
                sign_error(format!(
                    "no merchant certificate with serial_no {}",
                    parsed.serial_no
                ))
            })?;
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        v3::verify_request(header, method.as_str(), path, body, key)
            .map_err(|e| sign_error(e.to_string()))?;
        v3::check_timestamp(parsed.timestamp, now()).map_err(|e| sign_error(e.to_string()))?;
        Ok(())
    }
}

/// A merchant request whose `Authorization` verified over the request as received.
pub(super) struct Authenticated {
    pub(super) uri: Uri,
    pub(super) body: Bytes,
}

impl FromRequest<Arc<SimInner>> for Authenticated {
    type Rejection = Response;
    async fn from_request(req: Request, sim: &Arc<SimInner>) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        // The full path even when the simulator is nested under a prefix.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
        let body = axum::body::to_bytes(body, 1 << 20).await.map_err(|e| {
            unsigned_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PARAM_ERROR",
                format!("请求体过大或不完整: {e}"),
            )
        })?;
        sim.authenticate(&parts.method, &uri, &parts.headers, &body)?;
        Ok(Authenticated { uri, body })
    }
}

async fn prepay(
    State(sim): State<Arc<SimInner>>,
    Path(kind): Path<String>,
    auth: Authenticated,
) -> Response {
    let trade_type = match kind.as_str() {
        "native" => TradeType::Native,
        "jsapi" => TradeType::Jsapi,
        "h5" => TradeType::Mweb,
        _ => {
            return unsigned_error(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!("no such API: {kind}"),
            )
        }
    };
    let body = auth.body;
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return sim.param_error(format!("请求体不是合法的JSON: {e}")),
    };
    match check_order(&sim, &req, trade_type) {
        Err(msg) => sim.param_error(msg),
        Ok((params, time_expire)) => {
            let placed = sim.ledger().place(
                params,
                SignType::HmacSha256,
                time_expire,
                now(),
                sim.cfg.lifetimes,
            );
            match placed {
                Err(r) => sim.refusal(r),
                Ok(order) => {
                    let answer = match trade_type {
                        TradeType::Native => json!({ "code_url": order.code_url }),
                        TradeType::Jsapi => json!({ "prepay_id": order.prepay_id }),
                        TradeType::Mweb => json!({ "h5_url": sim.h5_url(&order) }),
                    };
                    sim.signed(StatusCode::OK, Some(answer))
                }
            }
        }
    }
}

fn check_order(
    sim: &SimInner,
    req: &Value,
    trade_type: TradeType,
) -> Result<(OrderParams, Option<i64>), String> {
    let text = |k: &str| {
        req[k]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{k} is required"))
    };
    let appid = text("appid")?;
    if sim.cfg.app(&appid).is_none() {
        return Err(format!(
            "appid {appid} 不存在 (not registered with this merchant)"
        ));
    }
    let mchid = text("mchid")?;
    if mchid != sim.cfg.mchid {
        return Err(format!(
            "mchid {mchid} does not match the requesting merchant"
        ));
    }
    let description = text("description")?;
    validate::description(&description)?;
    let out_trade_no = text("out_trade_no")?;
    validate::out_trade_no(&out_trade_no)?;
    let notify_url = text("notify_url")?;
    validate::notify_url(&notify_url)?;
    let amount = validate::amount(req["amount"]["total"].as_i64())?;
    if let Some(c) = req["amount"]["currency"].as_str() {
        if c != "CNY" {
            return Err(format!("amount.currency must be CNY, got {c}"));
        }
    }
    let attach = req["attach"].as_str().unwrap_or_default().to_string();
    if attach.len() > 128 {
        return Err(format!(
            "attach must be at most 128 bytes, got {}",
            attach.len()
        ));
    }
    let time_expire = match req["time_expire"].as_str() {
        None => None,
        Some(t) => {
            let t = parse_rfc3339(t).ok_or_else(|| {
                format!("time_expire {t:?} is not RFC 3339 (yyyy-MM-DDTHH:mm:ss+TIMEZONE)")
            })?;
            if t <= now() {
                return Err("time_expire is in the past".into());
            }
            Some(t)
        }
    };
    let openid = match trade_type {
        TradeType::Jsapi => {
            let openid = req["payer"]["openid"]
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or("payer.openid is required for JSAPI")?;
            if !sim.ledger().knows_openid(&appid, openid) {
                return Err(format!("openid {openid} 和 appid {appid} 不匹配 (get it through OAuth / jscode2session of this appid)"));
            }
            Some(openid.to_string())
        }
        TradeType::Mweb => {
            if req["scene_info"]["payer_client_ip"]
                .as_str()
                .is_none_or(str::is_empty)
            {
                return Err("scene_info.payer_client_ip is required for H5".into());
            }
            if req["scene_info"]["h5_info"]["type"]
                .as_str()
                .is_none_or(str::is_empty)
            {
                return Err("scene_info.h5_info.type is required for H5".into());
            }
            None
        }
        TradeType::Native => None,
    };
    let params = OrderParams {
        api: Api::V3,
        appid,
        mchid,
        out_trade_no,
        description,
        amount,
        trade_type,
        openid,
        notify_url,
        attach,
    };
    Ok((params, time_expire))
}

impl SimInner {
    pub(super) fn h5_url(&self, order: &SimOrder) -> String {
        format!(
            "{}/sim/checkmweb?prepay_id={}&package={}",
            self.cfg.public_base_url.trim_end_matches('/'),
            order.prepay_id,
            order.h5_package.as_deref().unwrap_or("")
        )
    }
}

/// The transaction as v3 query answers and notification resources describe it, field for field
/// as WeChat's: an unpaid or closed order has no `trade_type`, `attach`, `payer.openid` or
/// `transaction_id` yet, and its amount only `total` and `payer_currency`.
pub(super) fn transaction_json(o: &SimOrder) -> Value {
    let p = &o.params;
    let mut v = json!({
        "appid": p.appid,
        "mchid": p.mchid,
        "out_trade_no": p.out_trade_no,
        "trade_state": o.state,
        "trade_state_desc": trade_state_desc(o.state),
        "amount": { "total": p.amount, "payer_currency": "CNY" },
        "promotion_detail": [],
    });
    if p.trade_type == TradeType::Mweb {
        // H5 orders carry scene_info; WeChat echoes its device_id (empty when not given).
        v["scene_info"] = json!({ "device_id": "" });
    }
    // A refunded order (REFUND, 转入退款) was paid: WeChat still reports the payment.
    if matches!(o.state, TradeState::Success | TradeState::Refund) {
        v["trade_type"] = json!(p.trade_type.as_str());
        v["attach"] = json!(p.attach);
        v["transaction_id"] = json!(o.transaction_id);
        v["bank_type"] = json!("OTHERS");
        v["success_time"] = json!(o.success_time.map(beijing_rfc3339));
        v["payer"] = json!({ "openid": o.payer_openid });
        v["amount"] = json!({ "total": p.amount, "payer_total": p.amount, "currency": "CNY", "payer_currency": "CNY" });
    } else if o.state == TradeState::Closed {
        v["payer"] = json!({});
    }
    v
}

/// WeChat's `trade_state_desc` texts.
pub(super) fn trade_state_desc(s: TradeState) -> &'static str {
    match s {
        TradeState::Success => "支付成功",
        TradeState::Notpay => "订单未支付",
        TradeState::Userpaying => "用户支付中",
        TradeState::Closed => "订单已关闭",
        TradeState::Payerror => "支付失败",
        TradeState::Refund => "转入退款",
        TradeState::Revoked => "已撤销",
    }
}

async fn query(
    State(sim): State<Arc<SimInner>>,
    Path(no): Path<String>,
    auth: Authenticated,
) -> Response {
    let mchid = auth
        .uri
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "mchid"))
        .map(|(_, v)| v.into_owned());
    if mchid.as_deref() != Some(sim.cfg.mchid.as_str()) {
        return sim.param_error(
            "query parameter mchid is required and must be the requesting merchant".into(),
        );
    }
    let found = {
        let mut ledger = sim.ledger();
        *ledger.queries.entry(no.clone()).or_default() += 1;
        ledger.orders.get(&no).cloned()
    };
    match found {
        None => sim.refusal(Refusal::NotFound),
        Some(o) => sim.signed(StatusCode::OK, Some(transaction_json(&o))),
    }
}

async fn close(
    State(sim): State<Arc<SimInner>>,
    Path(no): Path<String>,
    auth: Authenticated,
) -> Response {
    let req: Value = serde_json::from_slice(&auth.body).unwrap_or(Value::Null);
    if req["mchid"].as_str() != Some(sim.cfg.mchid.as_str()) {
        return sim.param_error(
            "mchid is required in the body and must be the requesting merchant".into(),
        );
    }
    let closed = sim.ledger().close(&no);
    match closed {
        Ok(()) => sim.signed(StatusCode::NO_CONTENT, None),
        Err(r) => sim.refusal(r),
    }
}

/// `GET /v3/certificates`: the platform certificates valid now (newest first, the old one stays
/// listed after a rotation until it expires), each AES-256-GCM encrypted with the APIv3 key, with
/// the certificate's own validity. In public-key mode there is no certificate to hand out.
async fn certificates(State(sim): State<Arc<SimInner>>, _auth: Authenticated) -> Response {
    let listed = sim.platform().certificates(now());
    let mut data = Vec::new();
    for key in listed {
        let Some(cert) = &key.cert else { continue };
        let nonce = crate::devkeys::random_alnum(12);
        let ciphertext = match v3::encrypt_resource(
            &sim.cfg.apiv3_key,
            &nonce,
            "certificate",
            key.public_pem.as_bytes(),
        ) {
            Ok(c) => c,
            Err(e) => {
                return unsigned_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "SYSTEM_ERROR",
                    e.to_string(),
                )
            }
        };
        data.push(json!({
            "serial_no": key.id,
            "effective_time": beijing_rfc3339(cert.validity.not_before),
            "expire_time": beijing_rfc3339(cert.validity.not_after),
            "encrypt_certificate": {
                "algorithm": "AEAD_AES_256_GCM",
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": ciphertext,
            },
        }));
    }
    sim.signed(StatusCode::OK, Some(json!({ "data": data })))
}
