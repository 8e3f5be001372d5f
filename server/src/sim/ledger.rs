//! The simulator's memory: orders by out_trade_no, the prepay ids / code_urls pointing at them,
//! OAuth codes, issued openids, notification deliveries. Pure logic, no HTTP.
//!
//! The rules here are WeChat's: an out_trade_no reused with the same parameters gets its prepay
//! back, with different ones it is refused; a paid order cannot be ordered or paid again; a
//! `code_url` lives until `time_expire` (2 h by default), an `h5_url` 5 minutes.

use crate::devkeys::{random_alnum, random_digits};
use crate::order::TradeState;
use crate::timefmt::v2_time;
use std::collections::{HashMap, HashSet};
use wxpay_sign::v2::SignType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    V3,
    V2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeType {
    Native,
    Jsapi,
    Mweb,
}

impl TradeType {
    pub fn as_str(self) -> &'static str {
        match self {
            TradeType::Native => "NATIVE",
            TradeType::Jsapi => "JSAPI",
            TradeType::Mweb => "MWEB",
        }
    }
}

/// What a merchant orders with; equality of these decides "same order again" vs "duplicate".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderParams {
    pub api: Api,
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    pub description: String,
    pub amount: i64,
    pub trade_type: TradeType,
    pub openid: Option<String>,
    pub notify_url: String,
    /// The merchant's `attach`, given back in queries and notifications once paid.
    pub attach: String,
}

#[derive(Debug, Clone)]
pub struct SimOrder {
    pub params: OrderParams,
    /// v2 only: the sign type answers and notifications use.
    pub sign_type: SignType,
    pub state: TradeState,
    pub transaction_id: Option<String>,
    pub success_time: Option<i64>,
    pub payer_openid: Option<String>,
    pub prepay_id: String,
    pub code_url: Option<String>,
    /// `package` of the current h5_url (changes with each new h5_url).
    pub h5_package: Option<String>,
    /// When the prepay / code_url stops being payable.
    pub expires_at: i64,
    /// When the current h5_url stops being usable.
    pub h5_expires_at: i64,
}

/// How the buyer ends the cashier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayAction {
    Pay,
    Cancel,
    Fail,
}

/// Which order a buyer-side action is about.
#[derive(Debug, Clone)]
pub enum Target {
    CodeUrl(String),
    PrepayId(String),
    OutTradeNo(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Same out_trade_no, different parameters.
    Duplicate,
    OrderPaid,
    OrderClosed,
    NotFound,
    Expired,
}

impl Refusal {
    /// (v3 code, v2 err_code, Chinese message as WeChat writes it)
    pub fn codes(&self) -> (&'static str, &'static str, &'static str) {
        match self {
            Refusal::Duplicate => ("INVALID_REQUEST", "OUT_TRADE_NO_USED", "201 商户订单号重复"),
            Refusal::OrderPaid => ("ORDERPAID", "ORDERPAID", "该订单已支付"),
            Refusal::OrderClosed => ("ORDERCLOSED", "ORDERCLOSED", "该订单已关闭"),
            Refusal::NotFound => ("ORDER_NOT_EXIST", "ORDERNOTEXIST", "订单不存在"),
            Refusal::Expired => ("ORDER_EXPIRED", "ORDER_EXPIRED", "订单已过期，请重新下单"),
        }
    }
}

/// One try to deliver a notification (kept for tests and the developer).
#[derive(Debug, Clone)]
pub struct Delivery {
    pub out_trade_no: String,
    pub attempt: usize,
    /// HTTP status, or None when the merchant could not be reached / timed out.
    pub status: Option<u16>,
    pub accepted: bool,
    pub at: i64,
}

#[derive(Default)]
pub struct Ledger {
    pub orders: HashMap<String, SimOrder>,
    by_prepay: HashMap<String, String>,
    by_code: HashMap<String, String>,
    /// OAuth / wx.login codes: code → (appid, openid, expires_at). Single use.
    codes: HashMap<String, (String, String, i64)>,
    /// (appid, openid) pairs this simulator has handed out.
    openids: HashSet<(String, String)>,
    pub deliveries: Vec<Delivery>,
    /// Refunds by out_refund_no (see [`super::refund`]).
    pub refunds: HashMap<String, super::refund::SimRefund>,
    /// Order queries (v3 out-trade-no, v2 `orderquery`) received per out_trade_no: what tests of
    /// several instances count to see that each order was asked about once.
    pub queries: HashMap<String, u32>,
}

/// Lifetimes the ledger enforces (seconds).
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub prepay: i64,
    pub h5: i64,
}

impl Ledger {
    /// Places (or re-places) an order; returns a copy of it.
    pub fn place(
        &mut self,
        params: OrderParams,
        sign_type: SignType,
        time_expire: Option<i64>,
        now: i64,
        life: Lifetimes,
    ) -> Result<SimOrder, Refusal> {
        if let Some(existing) = self.orders.get_mut(&params.out_trade_no) {
            if existing.params != params {
                return Err(Refusal::Duplicate);
            }
            match existing.state {
                TradeState::Success | TradeState::Refund => return Err(Refusal::OrderPaid),
                TradeState::Closed | TradeState::Revoked => return Err(Refusal::OrderClosed),
                _ => {}
            }
            if now >= existing.expires_at {
                // Past time_expire WeChat closes the order; the merchant needs a new out_trade_no.
                existing.state = TradeState::Closed;
                return Err(Refusal::OrderClosed);
            }
            existing.expires_at = time_expire
                .unwrap_or(now + life.prepay)
                .max(existing.expires_at);
            if params.trade_type == TradeType::Mweb {
                // Every request gives a fresh 5-minute h5_url for the same prepay.
                let package = random_digits(10);
                existing.h5_package = Some(package);
                existing.h5_expires_at = now + life.h5;
            }
            return Ok(existing.clone());
        }
        let prepay_id = format!(
            "wx{}{}",
            v2_time(now),
            random_alnum(20).to_ascii_lowercase()
        );
        let code_url = (params.trade_type == TradeType::Native)
            .then(|| format!("weixin://wxpay/bizpayurl?pr={}", random_alnum(7)));
        let (h5_package, h5_expires_at) = if params.trade_type == TradeType::Mweb {
            (Some(random_digits(10)), now + life.h5)
        } else {
            (None, 0)
        };
        let order = SimOrder {
            sign_type,
            state: TradeState::Notpay,
            transaction_id: None,
            success_time: None,
            payer_openid: None,
            prepay_id: prepay_id.clone(),
            code_url: code_url.clone(),
            h5_package,
            expires_at: time_expire.unwrap_or(now + life.prepay),
            h5_expires_at,
            params,
        };
        let no = order.params.out_trade_no.clone();
        self.by_prepay.insert(prepay_id, no.clone());
        if let Some(c) = code_url {
            self.by_code.insert(c, no.clone());
        }
        self.orders.insert(no, order.clone());
        Ok(order)
    }

    pub fn find(&self, target: &Target) -> Option<&SimOrder> {
        let no = match target {
            Target::CodeUrl(c) => self.by_code.get(c)?,
            Target::PrepayId(p) => self.by_prepay.get(p)?,
            Target::OutTradeNo(n) => n,
        };
        self.orders.get(no)
    }

    /// The buyer's decision. `Ok` carries the order after it; a pay makes it SUCCESS.
    pub fn act(
        &mut self,
        target: &Target,
        action: PayAction,
        payer: &str,
        now: i64,
    ) -> Result<SimOrder, Refusal> {
        let no = self
            .find(target)
            .ok_or(Refusal::NotFound)?
            .params
            .out_trade_no
            .clone();
        let order = self.orders.get_mut(&no).ok_or(Refusal::NotFound)?;
        match order.state {
            TradeState::Success | TradeState::Refund => return Err(Refusal::OrderPaid),
            TradeState::Closed | TradeState::Revoked => return Err(Refusal::OrderClosed),
            _ => {}
        }
        if now >= order.expires_at {
            return Err(Refusal::Expired);
        }
        match action {
            PayAction::Cancel => {}
            PayAction::Fail => order.state = TradeState::Payerror,
            PayAction::Pay => {
                order.state = TradeState::Success;
                order.transaction_id = Some(format!("4200{}", random_digits(24)));
                order.success_time = Some(now);
                order.payer_openid = Some(
                    order
                        .params
                        .openid
                        .clone()
                        .unwrap_or_else(|| payer.to_string()),
                );
            }
        }
        Ok(order.clone())
    }

    /// An order as a v2 query finds it: only under the appid it was placed with. WeChat answers
    /// an orderquery / closeorder under another appid (a mini-program's order asked about with
    /// the official account's appid) ORDERNOTEXIST, "订单不存在"
    /// (developers.weixin.qq.com/community/develop/doc/00002215378ac050667fe192756800).
    pub fn order_under(&self, appid: &str, out_trade_no: &str) -> Option<SimOrder> {
        self.orders
            .get(out_trade_no)
            .filter(|o| o.params.appid == appid)
            .cloned()
    }

    pub fn close(&mut self, out_trade_no: &str) -> Result<(), Refusal> {
        let order = self.orders.get_mut(out_trade_no).ok_or(Refusal::NotFound)?;
        match order.state {
            TradeState::Success | TradeState::Refund => Err(Refusal::OrderPaid),
            _ => {
                order.state = TradeState::Closed;
                Ok(())
            }
        }
    }

    /// The openid a simulated WeChat user has under an appid (stable, so a buyer is recognisable).
    pub fn openid_for(&mut self, appid: &str, user: &str) -> String {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("{appid}\n{user}").as_bytes(),
        );
        let tail: String = digest
            .as_ref()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect();
        let openid = format!("oSim{}", &tail[..24]);
        self.openids.insert((appid.to_string(), openid.clone()));
        openid
    }

    pub fn knows_openid(&self, appid: &str, openid: &str) -> bool {
        self.openids
            .contains(&(appid.to_string(), openid.to_string()))
    }

    /// A single-use code for `user` under `appid`, valid 5 minutes (as WeChat's are).
    pub fn issue_code(&mut self, appid: &str, user: &str, now: i64) -> String {
        let openid = self.openid_for(appid, user);
        let code = random_alnum(32);
        self.codes
            .insert(code.clone(), (appid.to_string(), openid, now + 300));
        code
    }

    /// Redeems a code for its openid; `None` if unknown, used, expired or for another appid.
    pub fn redeem_code(&mut self, appid: &str, code: &str, now: i64) -> Option<String> {
        let (code_appid, openid, expires) = self.codes.remove(code)?;
        (code_appid == appid && now <= expires).then_some(openid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(no: &str, amount: i64) -> OrderParams {
        OrderParams {
            api: Api::V3,
            appid: "wx1".into(),
            mchid: "1900000109".into(),
            out_trade_no: no.into(),
            description: "tea".into(),
            amount,
            trade_type: TradeType::Native,
            openid: None,
            notify_url: "https://shop.example/notify".into(),
            attach: String::new(),
        }
    }
    const LIFE: Lifetimes = Lifetimes {
        prepay: 7200,
        h5: 300,
    };

    #[test]
    fn same_params_reuse_different_params_refused_paid_refused() {
        let mut l = Ledger::default();
        let a = l
            .place(params("order_001", 100), SignType::Md5, None, 1000, LIFE)
            .unwrap();
        let b = l
            .place(params("order_001", 100), SignType::Md5, None, 1001, LIFE)
            .unwrap();
        assert_eq!(a.code_url, b.code_url);
        assert_eq!(
            l.place(params("order_001", 101), SignType::Md5, None, 1002, LIFE)
                .unwrap_err(),
            Refusal::Duplicate
        );
        let code = Target::CodeUrl(a.code_url.clone().unwrap());
        let paid = l.act(&code, PayAction::Pay, "oSim", 1003).unwrap();
        assert_eq!(paid.state, TradeState::Success);
        assert_eq!(paid.transaction_id.as_ref().unwrap().len(), 28);
        assert_eq!(
            l.act(&code, PayAction::Pay, "oSim", 1004).unwrap_err(),
            Refusal::OrderPaid
        );
        assert_eq!(
            l.place(params("order_001", 100), SignType::Md5, None, 1005, LIFE)
                .unwrap_err(),
            Refusal::OrderPaid
        );
    }

    #[test]
    fn expired_and_codes() {
        let mut l = Ledger::default();
        l.place(
            params("order_002", 100),
            SignType::Md5,
            Some(2000),
            1000,
            LIFE,
        )
        .unwrap();
        let t = Target::OutTradeNo("order_002".into());
        assert_eq!(
            l.act(&t, PayAction::Pay, "oSim", 2001).unwrap_err(),
            Refusal::Expired
        );
        assert_eq!(
            l.place(params("order_002", 100), SignType::Md5, None, 2002, LIFE)
                .unwrap_err(),
            Refusal::OrderClosed
        );
        assert_eq!(l.find(&t).unwrap().state, TradeState::Closed);
        let code = l.issue_code("wx1", "alice", 1000);
        assert_eq!(
            l.redeem_code("wx2", &code, 1001),
            None,
            "a code is bound to its appid (and now spent)"
        );
        let code = l.issue_code("wx1", "alice", 1000);
        let openid = l.redeem_code("wx1", &code, 1001).unwrap();
        assert!(l.knows_openid("wx1", &openid));
        assert_eq!(l.redeem_code("wx1", &code, 1002), None, "single use");
        let late = l.issue_code("wx1", "alice", 1000);
        assert_eq!(l.redeem_code("wx1", &late, 1301), None, "5 minutes");
    }
}
