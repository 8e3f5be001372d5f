//! JSAPI payment through WeChat's in-page `WeixinJSBridge`: check the six signed parameters,
//! wait for the bridge, call `getBrandWCPayRequest`, and read what it answers.
//!
//! What the bridge answers is a hint, never proof: `:ok` only means the WeChat sheet closed
//! after a payment attempt, so the flow shows "confirming" and asks the backend. The checks
//! and the answer mapping are pure (tested natively); waiting and invoking are the JS driver's
//! (`pkg-template/checkout.js`, its `bridge` effect; tested end to end with a fake bridge).

/// The six parameters the backend signed, in WeChat's spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsapiParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// Why the JSAPI payment could not be started or finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeError {
    /// A parameter is missing or malformed; the message names it and says what it must be.
    BadParams(&'static str),
    /// `WeixinJSBridge` never appeared.
    NotReady { waited_ms: u32 },
    /// The bridge threw or has no `invoke`.
    InvokeFailed,
}

impl BridgeError {
    /// What to fix, in English (the flows show translated text; this goes into `detail`).
    pub fn message(&self) -> String {
        match self {
            BridgeError::BadParams(what) => ["JSAPI pay parameters from the backend are invalid: ", what].concat(),
            BridgeError::NotReady { waited_ms } => [
                "WeixinJSBridge did not become ready within ",
                &crate::i18n::decimal((*waited_ms).into()),
                " ms: JSAPI payments only work inside the WeChat app (use mode \"h5\" or \"native\" elsewhere)",
            ]
            .concat(),
            BridgeError::InvokeFailed => "WeixinJSBridge.invoke is missing or threw; is this page really inside WeChat?".into(),
        }
    }
}

impl JsapiParams {
    /// The six in WeChat's spelling and order, as `getBrandWCPayRequest` takes them.
    pub fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("appId", &self.app_id),
            ("timeStamp", &self.time_stamp),
            ("nonceStr", &self.nonce_str),
            ("package", &self.package),
            ("signType", &self.sign_type),
            ("paySign", &self.pay_sign),
        ]
    }

    /// Checks the parameters before handing them to WeChat, whose own errors are a bare
    /// `:fail` that tells the buyer nothing.
    pub fn validate(&self) -> Result<(), BridgeError> {
        let bad = BridgeError::BadParams;
        let app_id = self.app_id.as_bytes();
        if app_id.len() < 3
            || !app_id.starts_with(b"wx")
            || !app_id.iter().all(u8::is_ascii_alphanumeric)
        {
            return Err(bad(
                "appId must be the official account's appid, \"wx\" followed by letters and digits",
            ));
        }
        let ts = self.time_stamp.as_bytes();
        if ts.is_empty() || ts.len() > 10 || !ts.iter().all(u8::is_ascii_digit) {
            return Err(bad(
                "timeStamp must be a string of Unix seconds (at most 10 digits)",
            ));
        }
        let nonce = self.nonce_str.as_bytes();
        if nonce.is_empty() || nonce.len() > 32 || !nonce.iter().all(u8::is_ascii_alphanumeric) {
            return Err(bad("nonceStr must be 1 to 32 letters or digits"));
        }
        match self.package.strip_prefix("prepay_id=") {
            Some(id)
                if !id.is_empty()
                    && id.len() <= 64
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') => {}
            _ => {
                return Err(bad(
                    "package must be \"prepay_id=\" followed by the prepay id",
                ))
            }
        }
        if !matches!(self.sign_type.as_str(), "RSA" | "MD5" | "HMAC-SHA256") {
            return Err(bad(
                "signType must be \"RSA\" (APIv3), \"MD5\" or \"HMAC-SHA256\" (APIv2)",
            ));
        }
        if self.pay_sign.is_empty()
            || self.pay_sign.len() > 1024
            || self.pay_sign.bytes().any(|b| b.is_ascii_whitespace())
        {
            return Err(bad(
                "paySign must be the non-empty signature over the other five",
            ));
        }
        Ok(())
    }
}

/// What the WeChat pay sheet reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeResult {
    /// The buyer went through with it; still to be confirmed by the backend.
    Ok,
    /// The buyer closed the sheet.
    Cancel,
    /// This WeChat version cannot pay here (`fail_nosupport`).
    NotSupported,
    /// Anything else, with WeChat's own text for the logs.
    Fail(String),
}

/// Maps the callback's `err_msg`. WeChat spells the prefix `get_brand_wcpay_request` on
/// current clients and `getBrandWCPayRequest` on old iOS ones; anything unrecognised is a
/// failure, never a success.
pub fn map_result(err_msg: &str) -> BridgeResult {
    let msg = err_msg.trim();
    // Byte position, not `split_once(':')`: no char searcher in the wasm.
    let Some(colon) = msg.bytes().position(|b| b == b':') else {
        return BridgeResult::Fail(msg.into());
    };
    let (prefix, outcome) = (msg.get(..colon).unwrap_or_default(), msg.get(colon + 1..).unwrap_or_default());
    if !prefix.eq_ignore_ascii_case("get_brand_wcpay_request") && !prefix.eq_ignore_ascii_case("getBrandWCPayRequest") {
        return BridgeResult::Fail(msg.into());
    }
    let outcome = outcome.trim().to_ascii_lowercase();
    match outcome.as_str() {
        "ok" => BridgeResult::Ok,
        "cancel" => BridgeResult::Cancel,
        "fail_nosupport" | "fail_no_support" | "nosupport" => BridgeResult::NotSupported,
        _ => BridgeResult::Fail(msg.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> JsapiParams {
        JsapiParams {
            app_id: "wxd678efh567hg6787".into(),
            time_stamp: "1414561699".into(),
            nonce_str: "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
            package: "prepay_id=wx201410272009395522657a690389285100".into(),
            sign_type: "RSA".into(),
            pay_sign: "oR9d8PuhnIc+YZ8cBHFCwfgpaK9gd7vaRvkYD7rthRAZ/X+QBhcCYL21N7cHCTUxbQ+EAt6Uy+lwSN22f5YZvI45MLko8Pfso0jm46v5hqcVwrk6uddkGuT+Cdvu4WBqDzaDjnNa5UK3GfE1Wfl2gHxIIY5lLdUgWFts17D4WuolLLkiFZV+JSHMvH7eaLdT9N5GBovBwu5yYKUR7skR8Fu+LozcSqQixnlEZUfyE55feLOQTUYzLmR9pNtPbPsu6WVhbNHMS3Ss2+AehHvz+n64GDmXxbX++IOBvm2olHu3PsOUGRwhudhVf7UcGcunXt8cqNjKNqZLhLw4jq/xDg==".into(),
        }
    }

    #[test]
    fn well_formed_v3_and_v2_params_pass() {
        assert_eq!(good().validate(), Ok(()));
        for sign_type in ["MD5", "HMAC-SHA256"] {
            assert_eq!(
                JsapiParams {
                    sign_type: sign_type.into(),
                    pay_sign: "C380BEC2BFD727A4B6845133519F3AD6".into(),
                    ..good()
                }
                .validate(),
                Ok(())
            );
        }
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let cases: [(fn(&mut JsapiParams), &str); 10] = [
            (|p| p.app_id.clear(), "appId"),
            (|p| p.app_id = "1234567890".into(), "appId"),
            (|p| p.time_stamp = "1414561699000".into(), "timeStamp"),
            (|p| p.time_stamp = "14145616.9".into(), "timeStamp"),
            (|p| p.nonce_str = "x".repeat(33), "nonceStr"),
            (
                |p| p.package = "wx201410272009395522657a690389285100".into(),
                "package",
            ),
            (|p| p.package = "prepay_id=".into(), "package"),
            (|p| p.sign_type = "SHA256".into(), "signType"),
            (|p| p.pay_sign.clear(), "paySign"),
            (|p| p.pay_sign = "abc def".into(), "paySign"),
        ];
        for (break_it, name) in cases {
            let mut p = good();
            break_it(&mut p);
            let err = p.validate().unwrap_err();
            assert!(err.message().contains(name), "{name}: {}", err.message());
        }
    }

    #[test]
    fn results_in_both_spellings() {
        assert_eq!(map_result("get_brand_wcpay_request:ok"), BridgeResult::Ok);
        assert_eq!(map_result("getBrandWCPayRequest:ok"), BridgeResult::Ok);
        assert_eq!(map_result("getBrandWCPayRequest:OK "), BridgeResult::Ok);
        assert_eq!(
            map_result("get_brand_wcpay_request:cancel"),
            BridgeResult::Cancel
        );
        assert_eq!(
            map_result("getBrandWCPayRequest:cancel"),
            BridgeResult::Cancel
        );
        assert_eq!(
            map_result("get_brand_wcpay_request:fail_nosupport"),
            BridgeResult::NotSupported
        );
        assert_eq!(
            map_result("getBrandWCPayRequest:fail_nosupport"),
            BridgeResult::NotSupported
        );
        assert_eq!(
            map_result("get_brand_wcpay_request:fail"),
            BridgeResult::Fail("get_brand_wcpay_request:fail".into())
        );
        assert_eq!(
            map_result("get_brand_wcpay_request:fail_invalid appid"),
            BridgeResult::Fail("get_brand_wcpay_request:fail_invalid appid".into())
        );
    }

    #[test]
    fn nothing_unrecognised_counts_as_ok() {
        for msg in [
            "",
            "ok",
            ":ok",
            "chooseWXPay:ok",
            "system:access_denied",
            "get_brand_wcpay_request:okay",
            "get_brand_wcpay_request",
        ] {
            assert!(matches!(map_result(msg), BridgeResult::Fail(_)), "{msg:?}");
        }
    }
}
