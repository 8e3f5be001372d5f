//! APIv3 calls: JSON bodies, `Authorization: WECHATPAY2-SHA256-RSA2048 …`, answers verified
//! with the platform keys (`Wechatpay-*` headers).

use super::{PrepayAnswer, PrepayRequest, QueryAnswer, RefundAnswer, Wechat, WechatError};
use crate::order::PayMode;
use crate::store::NewRefund;
use crate::timefmt::{beijing_rfc3339, unix_now};
use axum::http::HeaderMap;
use reqwest::Method;
use serde_json::{json, Value};
use wxpay_sign::keys::KeySet;
use wxpay_sign::v3;

impl Wechat {
    pub(super) async fn v3_prepay(&self, req: &PrepayRequest) -> Result<PrepayAnswer, WechatError> {
        let mut body = json!({
            "appid": self.appid_for(req.mode),
            "mchid": self.cfg.mchid,
            "description": req.description,
            "out_trade_no": req.out_trade_no,
            "time_expire": beijing_rfc3339(req.expires_at),
            "notify_url": self.cfg.notify_url,
            "amount": { "total": req.amount, "currency": "CNY" },
        });
        let path = match req.mode {
            PayMode::Native => "/v3/pay/transactions/native",
            PayMode::Jsapi | PayMode::Miniprogram => {
                body["payer"] = json!({ "openid": req.openid });
                "/v3/pay/transactions/jsapi"
            }
            PayMode::H5 => {
                body["scene_info"] =
                    json!({ "payer_client_ip": req.client_ip, "h5_info": { "type": "Wap" } });
                "/v3/pay/transactions/h5"
            }
        };
        let answer = self
            .v3_call("prepay", Method::POST, path, Some(&body))
            .await?;
        let field = match req.mode {
            PayMode::Native => "code_url",
            PayMode::Jsapi | PayMode::Miniprogram => "prepay_id",
            PayMode::H5 => "h5_url",
        };
        let value = answer[field]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| WechatError::BadResponse {
                what: "prepay",
                reason: format!("no {field} in the answer"),
            })?;
        Ok(match req.mode {
            PayMode::Native => PrepayAnswer::CodeUrl(value.into()),
            PayMode::Jsapi | PayMode::Miniprogram => PrepayAnswer::PrepayId(value.into()),
            PayMode::H5 => PrepayAnswer::H5Url(value.into()),
        })
    }

    pub(super) async fn v3_query(&self, out_trade_no: &str) -> Result<QueryAnswer, WechatError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}?mchid={}",
            url::form_urlencoded::byte_serialize(out_trade_no.as_bytes()).collect::<String>(),
            self.cfg.mchid
        );
        let a = self.v3_call("query", Method::GET, &path, None).await?;
        let text = |k: &str| a[k].as_str().filter(|s| !s.is_empty()).map(String::from);
        let trade_state = super::trade_state_of(text("trade_state"))?;
        Ok(QueryAnswer {
            out_trade_no: text("out_trade_no").unwrap_or_default(),
            trade_state,
            transaction_id: text("transaction_id"),
            success_time: text("success_time"),
            amount: a["amount"]["total"].as_i64(),
            payer_openid: a["payer"]["openid"].as_str().map(String::from),
            appid: text("appid").unwrap_or_default(),
            mchid: text("mchid").unwrap_or_default(),
        })
    }

    pub(super) async fn v3_close(&self, out_trade_no: &str) -> Result<(), WechatError> {
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{}/close",
            url::form_urlencoded::byte_serialize(out_trade_no.as_bytes()).collect::<String>()
        );
        self.v3_call(
            "close",
            Method::POST,
            &path,
            Some(&json!({ "mchid": self.cfg.mchid })),
        )
        .await
        .map(|_| ())
    }

    /// `POST /v3/refund/domestic/refunds` (idempotent per `out_refund_no`).
    pub async fn v3_refund(&self, r: &NewRefund) -> Result<RefundAnswer, WechatError> {
        let mut body = json!({
            "transaction_id": r.transaction_id,
            "out_refund_no": r.out_refund_no,
            "notify_url": self.cfg.notify_url_refund(),
            "amount": { "refund": r.amount, "total": r.total, "currency": "CNY" },
        });
        if let Some(reason) = &r.reason {
            body["reason"] = json!(reason);
        }
        let a = self
            .v3_call(
                "refund",
                Method::POST,
                "/v3/refund/domestic/refunds",
                Some(&body),
            )
            .await?;
        refund_answer(&a)
    }

    /// `GET /v3/refund/domestic/refunds/{out_refund_no}`.
    pub async fn v3_query_refund(&self, out_refund_no: &str) -> Result<RefundAnswer, WechatError> {
        let path = format!(
            "/v3/refund/domestic/refunds/{}",
            url::form_urlencoded::byte_serialize(out_refund_no.as_bytes()).collect::<String>()
        );
        let a = self
            .v3_call("refund query", Method::GET, &path, None)
            .await?;
        refund_answer(&a)
    }

    /// Signs, sends, verifies. Returns the JSON of a 2xx answer (`null` for 204).
    async fn v3_call(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, WechatError> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, headers, bytes) = self.v3_send(what, method, path, &body).await?;
        let signed = headers.contains_key("Wechatpay-Signature");
        // WeChat signs every answer to a correctly signed request; an error answer to a request it
        // could not authenticate (401) carries no signature, and is only ever treated as a refusal.
        if status.is_success() || signed {
            self.verify_answer(what, &headers, &bytes).await?;
        }
        let json: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|e| WechatError::BadResponse {
                what,
                reason: e.to_string(),
            })?
        };
        if !status.is_success() {
            return Err(WechatError::Refused {
                what,
                code: json["code"].as_str().unwrap_or("HTTP_ERROR").to_string(),
                message: json["message"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| format!("HTTP {status}")),
            });
        }
        Ok(json)
    }

    /// Signs and sends; the answer unverified (5xx and transport failures are errors).
    pub(super) async fn v3_send(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        body: &str,
    ) -> Result<(reqwest::StatusCode, HeaderMap, axum::body::Bytes), WechatError> {
        let auth = v3::sign_request(
            &self.creds.signer,
            method.as_str(),
            path,
            body,
            unix_now(),
            &wxpay_sign::nonce::nonce_str(),
        )?;
        let url = format!("{}{}", self.cfg.wechat_base_url.trim_end_matches('/'), path);
        let mut request = self
            .http
            .request(method, url)
            .header("Authorization", auth.header)
            .header("Accept", "application/json");
        if !body.is_empty() {
            request = request
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        self.exchange(what, request).await
    }

    /// Verifies with the keys held; an unknown serial gets one platform-certificate refresh.
    async fn verify_answer(
        &self,
        what: &'static str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), WechatError> {
        self.with_platform_keys(header(headers, "Wechatpay-Serial"), |keys| {
            verify(headers, body, keys)
        })
        .await
        .map_err(|e| WechatError::Unverified {
            what,
            reason: e.to_string(),
        })
    }

    /// Verifies with `keys` exactly (no refresh).
    pub(super) fn verify_with(
        &self,
        what: &'static str,
        headers: &HeaderMap,
        body: &[u8],
        keys: &KeySet,
    ) -> Result<(), WechatError> {
        verify(headers, body, keys).map_err(|e| WechatError::Unverified {
            what,
            reason: e.to_string(),
        })
    }
}

fn verify(headers: &HeaderMap, body: &[u8], keys: &KeySet) -> Result<(), wxpay_sign::Error> {
    let wh = v3::WechatpayHeaders {
        timestamp: header(headers, "Wechatpay-Timestamp"),
        nonce: header(headers, "Wechatpay-Nonce"),
        signature: header(headers, "Wechatpay-Signature"),
        serial: header(headers, "Wechatpay-Serial"),
    };
    v3::verify(&wh, body, unix_now(), keys).map(|_| ())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A refund as a v3 answer (or decrypted notification) describes it.
pub fn refund_answer(a: &Value) -> Result<RefundAnswer, WechatError> {
    let bad = |reason: String| WechatError::BadResponse {
        what: "refund",
        reason,
    };
    let text = |k: &str| a[k].as_str().filter(|s| !s.is_empty()).map(String::from);
    // Answers say `status`, notifications `refund_status`.
    let status = text("status")
        .or_else(|| text("refund_status"))
        .ok_or_else(|| bad("no status".into()))?
        .parse()
        .map_err(bad)?;
    Ok(RefundAnswer {
        out_refund_no: text("out_refund_no").ok_or_else(|| bad("no out_refund_no".into()))?,
        refund_id: text("refund_id"),
        status,
        success_time: text("success_time"),
        amount: a["amount"]["refund"].as_i64(),
    })
}
