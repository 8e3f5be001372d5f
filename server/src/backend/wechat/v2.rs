//! APIv2 calls: signed XML (MD5 or HMAC-SHA256 with the v2 key), answers' `sign` verified.
//! Refunds go to `/secapi/pay/refund` over mutual TLS (the merchant's API client certificate).

use super::{PrepayAnswer, PrepayRequest, QueryAnswer, RefundAnswer, Wechat, WechatError};
use crate::order::PayMode;
use crate::refund::RefundStatus;
use crate::store::NewRefund;
use crate::timefmt::{parse_v2_refund_time, parse_v2_time, utc_rfc3339, v2_time};
use std::collections::BTreeMap;
use wxpay_sign::v2::{self, SignType};

type Params = BTreeMap<String, String>;

impl Wechat {
    pub(super) fn v2_key(&self) -> Result<&str, WechatError> {
        self.creds
            .v2_key
            .as_deref()
            .ok_or_else(|| WechatError::Refused {
                what: "v2",
                code: "NO_V2_KEY".into(),
                message: "v2_key is not configured".into(),
            })
    }

    pub fn v2_sign_type(&self) -> SignType {
        self.cfg
            .v2_sign_type
            .parse()
            .unwrap_or(SignType::HmacSha256)
    }

    /// The sign types a v2 answer or notification may use: `v2_accepted_sign_types`, or just
    /// `v2_sign_type` (strict) when that is empty. Names were checked when the config loaded.
    pub fn v2_accepted_sign_types(&self) -> Vec<SignType> {
        let listed: Vec<SignType> = self
            .cfg
            .v2_accepted_sign_types
            .iter()
            .filter_map(|t| t.parse().ok())
            .collect();
        if listed.is_empty() {
            vec![self.v2_sign_type()]
        } else {
            listed
        }
    }

    pub(super) async fn v2_prepay(&self, req: &PrepayRequest) -> Result<PrepayAnswer, WechatError> {
        let trade_type = match req.mode {
            PayMode::Native => "NATIVE",
            PayMode::Jsapi | PayMode::Miniprogram => "JSAPI",
            PayMode::H5 => "MWEB",
        };
        let mut p = Params::new();
        p.insert("appid".into(), self.appid_for(req.mode).into());
        p.insert("mch_id".into(), self.cfg.mchid.clone());
        p.insert("body".into(), req.description.clone());
        p.insert("out_trade_no".into(), req.out_trade_no.clone());
        p.insert("total_fee".into(), req.amount.to_string());
        p.insert("spbill_create_ip".into(), req.client_ip.clone());
        p.insert("time_expire".into(), v2_time(req.expires_at));
        p.insert("notify_url".into(), self.cfg.notify_url_v2());
        p.insert("trade_type".into(), trade_type.into());
        if let Some(openid) = &req.openid {
            p.insert("openid".into(), openid.clone());
        }
        if req.mode == PayMode::H5 {
            p.insert("scene_info".into(), r#"{"h5_info":{"type":"Wap"}}"#.into());
        }
        let a = self.v2_call("prepay", "/pay/unifiedorder", p).await?;
        let get = |k: &str| {
            a.get(k)
                .filter(|s| !s.is_empty())
                .cloned()
                .ok_or_else(|| WechatError::BadResponse {
                    what: "prepay",
                    reason: format!("no {k} in the answer"),
                })
        };
        Ok(match req.mode {
            PayMode::Native => PrepayAnswer::CodeUrl(get("code_url")?),
            PayMode::Jsapi | PayMode::Miniprogram => PrepayAnswer::PrepayId(get("prepay_id")?),
            PayMode::H5 => PrepayAnswer::H5Url(get("mweb_url")?),
        })
    }

    /// `POST /pay/orderquery`; `appid`: the one the attempt was ordered with (WeChat does not
    /// find a mini-program's order under the official account's appid).
    pub(super) async fn v2_query(
        &self,
        out_trade_no: &str,
        appid: &str,
    ) -> Result<QueryAnswer, WechatError> {
        let mut p = Params::new();
        p.insert("appid".into(), appid.into());
        p.insert("mch_id".into(), self.cfg.mchid.clone());
        p.insert("out_trade_no".into(), out_trade_no.into());
        let a = self.v2_call("query", "/pay/orderquery", p).await?;
        let get = |k: &str| a.get(k).filter(|s| !s.is_empty()).cloned();
        let trade_state = super::trade_state_of(get("trade_state"))?;
        Ok(QueryAnswer {
            out_trade_no: get("out_trade_no").unwrap_or_default(),
            trade_state,
            transaction_id: get("transaction_id"),
            success_time: get("time_end")
                .and_then(|t| parse_v2_time(&t))
                .map(utc_rfc3339),
            amount: get("total_fee").and_then(|t| t.parse().ok()),
            payer_openid: get("openid"),
            appid: get("appid").unwrap_or_default(),
            mchid: get("mch_id").unwrap_or_default(),
        })
    }

    /// `POST /pay/closeorder`, under the appid the attempt was ordered with.
    pub(super) async fn v2_close(
        &self,
        out_trade_no: &str,
        appid: &str,
    ) -> Result<(), WechatError> {
        let mut p = Params::new();
        p.insert("appid".into(), appid.into());
        p.insert("mch_id".into(), self.cfg.mchid.clone());
        p.insert("out_trade_no".into(), out_trade_no.into());
        self.v2_call("close", "/pay/closeorder", p)
            .await
            .map(|_| ())
    }

    /// `POST /secapi/pay/refund` with the API client certificate (idempotent per
    /// `out_refund_no`). WeChat's answer only says the refund was accepted: PROCESSING.
    /// `appid`: the one the paid attempt was ordered with (a mini-program's own for its orders);
    /// WeChat refuses any other.
    pub async fn v2_refund(&self, r: &NewRefund, appid: &str) -> Result<RefundAnswer, WechatError> {
        const WHAT: &str = "refund";
        let Some(secapi) = &self.secapi else {
            return Err(WechatError::Refused {
                what: WHAT,
                code: "NO_APICLIENT_CERT".into(),
                message: "v2 refunds need the merchant API client certificate: set apiclient_cert_file and apiclient_key_file (apiclient_cert.pem / apiclient_key.pem from the merchant platform)".into(),
            });
        };
        let mut p = Params::new();
        p.insert("appid".into(), appid.into());
        p.insert("mch_id".into(), self.cfg.mchid.clone());
        p.insert("transaction_id".into(), r.transaction_id.clone());
        p.insert("out_refund_no".into(), r.out_refund_no.clone());
        p.insert("total_fee".into(), r.total.to_string());
        p.insert("refund_fee".into(), r.amount.to_string());
        p.insert("refund_fee_type".into(), "CNY".into());
        p.insert("notify_url".into(), self.cfg.notify_url_refund_v2());
        if let Some(reason) = &r.reason {
            p.insert("refund_desc".into(), reason.clone());
        }
        let base = self.cfg.secapi_base_url().to_string();
        let a = self
            .v2_call_with(secapi, &base, WHAT, "/secapi/pay/refund", p)
            .await?;
        let get = |k: &str| a.get(k).filter(|s| !s.is_empty()).cloned();
        Ok(RefundAnswer {
            out_refund_no: get("out_refund_no").unwrap_or_default(),
            refund_id: get("refund_id"),
            status: RefundStatus::Processing,
            success_time: None,
            amount: get("refund_fee").and_then(|f| f.parse().ok()),
        })
    }

    /// `POST /pay/refundquery` by `out_refund_no`, under the appid of the paid attempt.
    pub async fn v2_query_refund(
        &self,
        out_refund_no: &str,
        appid: &str,
    ) -> Result<RefundAnswer, WechatError> {
        const WHAT: &str = "refund query";
        let mut p = Params::new();
        p.insert("appid".into(), appid.into());
        p.insert("mch_id".into(), self.cfg.mchid.clone());
        p.insert("out_refund_no".into(), out_refund_no.into());
        let a = self.v2_call(WHAT, "/pay/refundquery", p).await?;
        let count: usize = a
            .get("refund_count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let n = (0..count)
            .find(|n| {
                a.get(&format!("out_refund_no_{n}")).map(String::as_str) == Some(out_refund_no)
            })
            .ok_or_else(|| WechatError::BadResponse {
                what: WHAT,
                reason: format!("the answer does not list refund {out_refund_no}"),
            })?;
        let get = |k: &str| {
            a.get(&format!("{k}_{n}"))
                .filter(|s| !s.is_empty())
                .cloned()
        };
        Ok(RefundAnswer {
            out_refund_no: out_refund_no.to_string(),
            refund_id: get("refund_id"),
            status: v2_refund_status(get("refund_status").as_deref())
                .map_err(|reason| WechatError::BadResponse { what: WHAT, reason })?,
            success_time: get("refund_success_time")
                .and_then(|t| parse_v2_refund_time(&t))
                .map(utc_rfc3339),
            amount: get("refund_fee").and_then(|f| f.parse().ok()),
        })
    }

    async fn v2_call(
        &self,
        what: &'static str,
        path: &str,
        p: Params,
    ) -> Result<Params, WechatError> {
        self.v2_call_with(&self.http, &self.cfg.wechat_base_url, what, path, p)
            .await
    }

    async fn v2_call_with(
        &self,
        http: &reqwest::Client,
        base_url: &str,
        what: &'static str,
        path: &str,
        mut p: Params,
    ) -> Result<Params, WechatError> {
        let key = self.v2_key()?;
        let sign_type = self.v2_sign_type();
        p.insert("nonce_str".into(), wxpay_sign::nonce::nonce_str());
        p.insert("sign_type".into(), sign_type.as_str().into());
        let sign = v2::sign(&p, key, sign_type);
        p.insert("sign".into(), sign);
        let url = format!("{}{}", base_url.trim_end_matches('/'), path);
        let request = http
            .post(url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(v2::to_xml(&p));
        let (status, _, bytes) = self.exchange(what, request).await?;
        let a = v2::parse_xml(&bytes).map_err(|e| WechatError::BadResponse {
            what,
            reason: e.to_string(),
        })?;
        if a.get("return_code").map(String::as_str) != Some("SUCCESS") {
            return Err(WechatError::Refused {
                what,
                code: a
                    .get("return_code")
                    .cloned()
                    .unwrap_or_else(|| format!("HTTP_{}", status.as_u16())),
                message: a.get("return_msg").cloned().unwrap_or_default(),
            });
        }
        // With return_code SUCCESS WeChat always signs; an unsigned or wrongly signed answer is
        // not from WeChat.
        verify_v2(&a, key, sign_type, &self.v2_accepted_sign_types())
            .map_err(|reason| WechatError::Unverified { what, reason })?;
        if a.get("result_code").map(String::as_str) != Some("SUCCESS") {
            return Err(WechatError::Refused {
                what,
                code: a.get("err_code").cloned().unwrap_or_else(|| "FAIL".into()),
                message: a.get("err_code_des").cloned().unwrap_or_default(),
            });
        }
        Ok(a)
    }
}

/// Verifies a v2 message from WeChat. WeChat's answers and notifications for HMAC-SHA256 orders
/// carry no `sign_type`, so the sign type we ordered with is the fallback (not MD5, which is what
/// `v2::verify` assumes when the field is absent). A message signed with a type not in
/// `accepted` is refused even when its signature is right: MD5 must not be a way around a
/// merchant who chose HMAC-SHA256 (WeChat's own SDK accepts either).
pub fn verify_v2(
    p: &Params,
    key: &str,
    ordered_with: SignType,
    accepted: &[SignType],
) -> Result<(), String> {
    let used = v2::verify_with_fallback(p, key, ordered_with)
        .map_err(|e| format!("{e}; check v2_key and v2_sign_type"))?;
    if !accepted.contains(&used) {
        return Err(format!(
            "signed with {used}, which this merchant does not accept (v2_accepted_sign_types: {})",
            accepted
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// A v2 `refund_status` (refund queries and the notification's `req_info`).
pub fn v2_refund_status(s: Option<&str>) -> Result<RefundStatus, String> {
    match s {
        Some("SUCCESS") => Ok(RefundStatus::Success),
        Some("PROCESSING") => Ok(RefundStatus::Processing),
        Some("REFUNDCLOSE") => Ok(RefundStatus::Closed),
        Some("CHANGE") => Ok(RefundStatus::Abnormal),
        other => Err(format!(
            "unknown v2 refund_status {other:?}; expected SUCCESS, PROCESSING, REFUNDCLOSE or CHANGE"
        )),
    }
}

/// The refund a decrypted v2 refund notification (`req_info`) describes.
pub fn v2_notified_refund(info: &Params) -> Result<RefundAnswer, String> {
    let get = |k: &str| info.get(k).filter(|s| !s.is_empty()).cloned();
    Ok(RefundAnswer {
        out_refund_no: get("out_refund_no").ok_or("no out_refund_no in req_info")?,
        refund_id: get("refund_id"),
        status: v2_refund_status(get("refund_status").as_deref())?,
        success_time: get("success_time")
            .and_then(|t| parse_v2_refund_time(&t))
            .map(utc_rfc3339),
        amount: get("refund_fee").and_then(|f| f.parse().ok()),
    })
}
