//! The simulated APIv2: `/pay/unifiedorder` (NATIVE, JSAPI, MWEB), `/pay/orderquery`,
//! `/pay/closeorder`. Signed XML both ways; a bad sign is `return_code` FAIL like WeChat's.

use super::ledger::{Api, OrderParams, Refusal, SimOrder, TradeType};
use super::{now, validate, SimInner};
use crate::order::TradeState;
use crate::timefmt::{parse_v2_time, v2_time};
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::collections::BTreeMap;
use std::sync::Arc;
use wxpay_sign::v2::{self, SignType};

type Params = BTreeMap<String, String>;

pub(crate) fn routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/pay/unifiedorder", post(unifiedorder))
        .route("/pay/orderquery", post(orderquery))
        .route("/pay/closeorder", post(closeorder))
}

pub(super) fn xml(body: String) -> Response {
    ([("content-type", "text/xml; charset=utf-8")], body).into_response()
}

/// `return_code` FAIL: the request itself was not acceptable (unsigned answer).
pub(super) fn comm_fail(msg: &str) -> Response {
    let mut p = Params::new();
    p.insert("return_code".into(), "FAIL".into());
    p.insert("return_msg".into(), msg.into());
    xml(v2::to_xml(&p))
}

impl SimInner {
    /// Parses and verifies a merchant request; returns it with its sign type.
    pub(super) fn v2_request(&self, body: &[u8]) -> Result<(Params, SignType), Response> {
        let p = v2::parse_xml(body).map_err(|e| comm_fail(&format!("XML格式错误: {e}")))?;
        if p.get("mch_id") != Some(&self.cfg.mchid) {
            return Err(comm_fail("mch_id参数错误 (not the registered merchant)"));
        }
        if p.get("nonce_str")
            .is_none_or(|n| n.is_empty() || n.len() > 32)
        {
            return Err(comm_fail(
                "nonce_str参数错误 (required, at most 32 characters)",
            ));
        }
        let sign_type =
            v2::verify(&p, &self.cfg.v2_key).map_err(|e| comm_fail(&format!("签名错误: {e}")))?;
        Ok((p, sign_type))
    }

    /// A business answer (return_code SUCCESS), signed with the request's sign type. Like
    /// WeChat, the answer does not say which sign type it used.
    pub(super) fn v2_answer(
        &self,
        appid: &str,
        sign_type: SignType,
        result: Result<Params, (&str, String)>,
    ) -> Response {
        let mut p = Params::new();
        p.insert("return_code".into(), "SUCCESS".into());
        p.insert("return_msg".into(), "OK".into());
        p.insert("appid".into(), appid.into());
        p.insert("mch_id".into(), self.cfg.mchid.clone());
        p.insert("nonce_str".into(), wxpay_sign::nonce::nonce_str());
        match result {
            Ok(fields) => {
                p.insert("result_code".into(), "SUCCESS".into());
                p.extend(fields);
            }
            Err((code, des)) => {
                p.insert("result_code".into(), "FAIL".into());
                p.insert("err_code".into(), code.into());
                p.insert("err_code_des".into(), des);
            }
        }
        let sign = v2::sign(&p, &self.cfg.v2_key, sign_type);
        p.insert("sign".into(), sign);
        xml(v2::to_xml(&p))
    }
}

fn refusal(r: Refusal) -> (&'static str, String) {
    let (_, code, msg) = r.codes();
    (code, msg.to_string())
}

async fn unifiedorder(State(sim): State<Arc<SimInner>>, body: Bytes) -> Response {
    let (p, sign_type) = match sim.v2_request(&body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let appid = p.get("appid").cloned().unwrap_or_default();
    let result = check_order(&sim, &p).and_then(|(params, time_expire)| {
        let placed = sim
            .ledger()
            .place(params, sign_type, time_expire, now(), sim.cfg.lifetimes);
        let order = placed.map_err(refusal)?;
        let mut a = Params::new();
        a.insert("trade_type".into(), order.params.trade_type.as_str().into());
        a.insert("prepay_id".into(), order.prepay_id.clone());
        match order.params.trade_type {
            TradeType::Native => {
                a.insert(
                    "code_url".into(),
                    order.code_url.clone().unwrap_or_default(),
                );
            }
            TradeType::Mweb => {
                a.insert("mweb_url".into(), sim.h5_url(&order));
            }
            TradeType::Jsapi => {}
        }
        Ok(a)
    });
    sim.v2_answer(&appid, sign_type, result)
}

fn check_order(
    sim: &SimInner,
    p: &Params,
) -> Result<(OrderParams, Option<i64>), (&'static str, String)> {
    let bad = |m: String| ("PARAM_ERROR", m);
    let get = |k: &str| {
        p.get(k)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| bad(format!("{k}参数缺失 ({k} is required)")))
    };
    let appid = get("appid")?;
    if sim.cfg.app(&appid).is_none() {
        return Err(("APPID_NOT_EXIST", format!("appid {appid} 不存在")));
    }
    let description = get("body")?;
    validate::description(&description).map_err(bad)?;
    let out_trade_no = get("out_trade_no")?;
    validate::out_trade_no(&out_trade_no).map_err(bad)?;
    let notify_url = get("notify_url")?;
    validate::notify_url(&notify_url).map_err(bad)?;
    get("spbill_create_ip")?;
    let amount = validate::amount(get("total_fee")?.parse().ok()).map_err(bad)?;
    let trade_type = match get("trade_type")?.as_str() {
        "NATIVE" => TradeType::Native,
        "JSAPI" => TradeType::Jsapi,
        "MWEB" => TradeType::Mweb,
        other => {
            return Err(bad(format!(
                "trade_type {other} is not one of NATIVE, JSAPI, MWEB"
            )))
        }
    };
    let time_expire = match p.get("time_expire").filter(|v| !v.is_empty()) {
        None => None,
        Some(t) => Some(
            parse_v2_time(t)
                .ok_or_else(|| bad(format!("time_expire {t} is not yyyyMMddHHmmss")))?,
        ),
    };
    let openid = if trade_type == TradeType::Jsapi {
        let openid = get("openid")
            .map_err(|_| bad("trade_type=JSAPI时（即JSAPI支付），此参数必传 (openid)".into()))?;
        if !sim.ledger().knows_openid(&appid, &openid) {
            return Err(bad(format!(
                "appid和openid不匹配 ({openid} is not a user of {appid})"
            )));
        }
        Some(openid)
    } else {
        None
    };
    let mchid = sim.cfg.mchid.clone();
    let params = OrderParams {
        api: Api::V2,
        appid,
        mchid,
        out_trade_no,
        description,
        amount,
        trade_type,
        openid,
        notify_url,
        attach: p.get("attach").cloned().unwrap_or_default(),
    };
    Ok((params, time_expire))
}

/// The order fields v2 queries and notifications carry.
pub(super) fn transaction_fields(o: &SimOrder) -> Params {
    let mut a = Params::new();
    a.insert("out_trade_no".into(), o.params.out_trade_no.clone());
    a.insert("trade_type".into(), o.params.trade_type.as_str().into());
    a.insert("total_fee".into(), o.params.amount.to_string());
    a.insert("fee_type".into(), "CNY".into());
    // A refunded order (REFUND, 转入退款) was paid: WeChat still reports the payment.
    if matches!(o.state, TradeState::Success | TradeState::Refund) {
        a.insert(
            "transaction_id".into(),
            o.transaction_id.clone().unwrap_or_default(),
        );
        a.insert(
            "time_end".into(),
            o.success_time.map(v2_time).unwrap_or_default(),
        );
        a.insert("openid".into(), o.payer_openid.clone().unwrap_or_default());
        a.insert("bank_type".into(), "OTHERS".into());
        a.insert("cash_fee".into(), o.params.amount.to_string());
        a.insert("is_subscribe".into(), "N".into());
    }
    a
}

/// The verified request of an out_trade_no operation: (appid, out_trade_no, sign type).
fn about_order(sim: &SimInner, body: &[u8]) -> Result<(String, String, SignType), Response> {
    let (p, sign_type) = sim.v2_request(body)?;
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    Ok((get("appid"), get("out_trade_no"), sign_type))
}

async fn orderquery(State(sim): State<Arc<SimInner>>, body: Bytes) -> Response {
    let (appid, no, sign_type) = match about_order(&sim, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let found = {
        let mut ledger = sim.ledger();
        *ledger.queries.entry(no.clone()).or_default() += 1;
        ledger.order_under(&appid, &no)
    };
    let result = match found {
        None => Err(refusal(Refusal::NotFound)),
        Some(o) => {
            let mut a = transaction_fields(&o);
            a.insert("trade_state".into(), o.state.as_str().into());
            a.insert(
                "trade_state_desc".into(),
                super::v3::trade_state_desc(o.state).into(),
            );
            Ok(a)
        }
    };
    sim.v2_answer(&appid, sign_type, result)
}

async fn closeorder(State(sim): State<Arc<SimInner>>, body: Bytes) -> Response {
    let (appid, no, sign_type) = match about_order(&sim, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let closed = {
        let mut ledger = sim.ledger();
        match ledger.order_under(&appid, &no) {
            Some(_) => ledger.close(&no),
            None => Err(Refusal::NotFound),
        }
    };
    sim.v2_answer(
        &appid,
        sign_type,
        closed.map(|()| Params::new()).map_err(refusal),
    )
}
