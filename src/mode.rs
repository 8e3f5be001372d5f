//! Which WeChat Pay mode fits where the buyer is: the one decision every checkout makes first.
//!
//! WeChat Pay offers four web-facing flows and each works in exactly one kind of place, so the
//! choice is a pure function of the [`Environment`]:
//!
//! | where the buyer is                               | mode          | why                                             |
//! |--------------------------------------------------|---------------|-------------------------------------------------|
//! | WeChat mini-program `<web-view>`                 | `miniprogram` | only the mini-program may call `requestPayment` |
//! | WeChat on a phone or tablet                      | `jsapi`       | `WeixinJSBridge` pays in place                  |
//! | WeChat for Windows / Mac                         | `native`      | its browser cannot run JSAPI payments           |
//! | WeCom on a phone or tablet                       | `h5`          | see below                                       |
//! | any other phone/tablet browser or in-app WebView | `h5`          | `mweb_url` hands over to the WeChat app         |
//! | any desktop browser (and WeCom on a desktop)     | `native`      | the buyer scans a QR code with their phone      |
//!
//! WeCom is not WeChat even though its UA says `MicroMessenger`: JSAPI needs the buyer's
//! `openid` for the merchant's official account, which only WeChat's OAuth hands out, and
//! WeCom's in-app browser has no `getBrandWCPayRequest`. So WeCom is treated as any other app
//! WebView: H5 on a phone (the WeChat app takes over), Native QR on a desktop.

use crate::detect::{Client, Environment};

/// The WeChat Pay product to order on the merchant backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayMode {
    /// JSAPI: in WeChat's browser, pay with `WeixinJSBridge.invoke('getBrandWCPayRequest')`.
    Jsapi,
    /// H5 (MWEB): open `mweb_url` in a phone browser, which switches to the WeChat app.
    H5,
    /// Native: show `code_url` as a QR code for the buyer to scan.
    Native,
    /// Mini-program: hand the order to a mini-program page that calls `wx.requestPayment`.
    MiniProgram,
}

impl PayMode {
    pub const ALL: [PayMode; 4] = [PayMode::Jsapi, PayMode::H5, PayMode::Native, PayMode::MiniProgram];

    /// The name in the JS API (and what the backend is told to order), e.g. `"jsapi"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PayMode::Jsapi => "jsapi",
            PayMode::H5 => "h5",
            PayMode::Native => "native",
            PayMode::MiniProgram => "miniprogram",
        }
    }

    /// The inverse of [`PayMode::as_str`].
    pub fn from_name(name: &str) -> Option<PayMode> {
        PayMode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// Picks the pay mode for an environment (see the table at the top of this file).
pub fn choose_pay_mode(env: &Environment) -> PayMode {
    match (env.client, env.mobile) {
        (Client::MiniProgram, _) => PayMode::MiniProgram,
        (Client::WeChat, true) => PayMode::Jsapi,
        (_, true) => PayMode::H5,
        (_, false) => PayMode::Native,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Platform;

    fn env(client: Client, mobile: bool) -> Environment {
        Environment { client, platform: Platform::Other, mobile, wechat_version: None }
    }

    #[test]
    fn names_round_trip() {
        for mode in PayMode::ALL {
            assert_eq!(PayMode::from_name(mode.as_str()), Some(mode));
        }
    }

    #[test]
    fn every_client_on_both_form_factors() {
        use Client::*;
        use PayMode::*;
        let expected = [
            (WeChat, true, Jsapi),
            (WeChat, false, Native),
            (WeCom, true, H5),
            (WeCom, false, Native),
            (Client::MiniProgram, true, PayMode::MiniProgram),
            (Client::MiniProgram, false, PayMode::MiniProgram),
            (Alipay, true, H5),
            (Alipay, false, Native),
            (Qq, true, H5),
            (Qq, false, Native),
            (Browser, true, H5),
            (Browser, false, Native),
        ];
        for (client, mobile, mode) in expected {
            assert_eq!(choose_pay_mode(&env(client, mobile)), mode, "{client:?} mobile={mobile}");
        }
    }
}
