//! Getting the payer's openid: OAuth snsapi_base (official account) and jscode2session
//! (mini-program). Plain HTTPS GETs answered with JSON, `{"errcode", "errmsg"}` on failure.

use super::{Wechat, WechatError};
use serde_json::Value;

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

impl Wechat {
    /// Where to send the buyer so WeChat comes back to `redirect_uri` with `?code=…&state=…`.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        format!(
            "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
            self.cfg.oauth_base_url.trim_end_matches('/'),
            enc(&self.cfg.appid),
            enc(redirect_uri),
            enc(state)
        )
    }

    /// Exchanges an OAuth `code` for the buyer's openid under the official account.
    pub async fn openid_from_oauth_code(&self, code: &str) -> Result<String, WechatError> {
        let url = format!(
            "{}/sns/oauth2/access_token?appid={}&secret={}&code={}&grant_type=authorization_code",
            self.cfg.sns_base_url.trim_end_matches('/'),
            enc(&self.cfg.appid),
            enc(&self.cfg.app_secret.0),
            enc(code)
        );
        self.openid_call("oauth", url).await
    }

    /// Exchanges a mini-program `wx.login` code for the buyer's openid under the mini-program.
    pub async fn openid_from_mp_code(&self, code: &str) -> Result<String, WechatError> {
        let secret = self.cfg.mp_secret.as_ref().unwrap_or(&self.cfg.app_secret);
        let url = format!(
            "{}/sns/jscode2session?appid={}&secret={}&js_code={}&grant_type=authorization_code",
            self.cfg.sns_base_url.trim_end_matches('/'),
            enc(self.cfg.mp_appid()),
            enc(&secret.0),
            enc(code)
        );
        self.openid_call("jscode2session", url).await
    }

    async fn openid_call(&self, what: &'static str, url: String) -> Result<String, WechatError> {
        let (_, _, bytes) = self.exchange(what, self.http.get(url)).await?;
        let json: Value = serde_json::from_slice(&bytes).map_err(|e| WechatError::BadResponse {
            what,
            reason: e.to_string(),
        })?;
        if let Some(code) = json["errcode"].as_i64().filter(|c| *c != 0) {
            return Err(WechatError::Refused {
                what,
                code: code.to_string(),
                message: json["errmsg"].as_str().unwrap_or("").into(),
            });
        }
        json["openid"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(String::from)
            .ok_or_else(|| WechatError::BadResponse {
                what,
                reason: "no openid in the answer".into(),
            })
    }
}
