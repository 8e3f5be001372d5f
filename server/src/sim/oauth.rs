//! Simulated WeChat identity: the official account's OAuth (snsapi_base, silent) and the
//! mini-program's `jscode2session`. Codes are single-use and live 5 minutes, as WeChat's do.

use super::{now, SimInner};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Called by the merchant backend (fault injection applies).
pub(crate) fn api_routes() -> Router<Arc<SimInner>> {
    Router::new()
        .route("/sns/oauth2/access_token", get(access_token))
        .route("/sns/jscode2session", get(jscode2session))
}

/// Visited by the buyer's browser.
pub(crate) fn browser_routes() -> Router<Arc<SimInner>> {
    Router::new().route("/connect/oauth2/authorize", get(authorize))
}

#[derive(Deserialize)]
struct Authorize {
    appid: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    /// Simulator extra: which simulated WeChat user is authorising (default "buyer").
    sim_user: Option<String>,
}

fn error_page(msg: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>\
         <title>微信授权</title><body style='font-family:sans-serif;padding:2em'><h1>出错了</h1><p>{}</p></body>",
        super::buyer::escape(msg)
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}

async fn authorize(State(sim): State<Arc<SimInner>>, Query(q): Query<Authorize>) -> Response {
    let Some(appid) = q.appid.filter(|a| sim.cfg.app(a).is_some()) else {
        return error_page("appid 参数错误 (unknown appid)");
    };
    if q.response_type.as_deref() != Some("code") {
        return error_page("response_type 参数错误 (must be code)");
    }
    if !matches!(q.scope.as_deref(), Some("snsapi_base" | "snsapi_userinfo")) {
        return error_page("scope 参数错误 (snsapi_base or snsapi_userinfo)");
    }
    let Some(redirect) = q
        .redirect_uri
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    else {
        return error_page("redirect_uri 参数错误 (must be an absolute URL, URL-encoded)");
    };
    let host = redirect.host_str().unwrap_or("");
    if !sim
        .cfg
        .oauth_domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(host))
    {
        return error_page(&format!(
            "redirect_uri域名与后台配置不一致，错误码10003 ({host} is not an authorised domain)"
        ));
    }
    let code = sim
        .ledger()
        .issue_code(&appid, q.sim_user.as_deref().unwrap_or("buyer"), now());
    let mut back = redirect;
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", q.state.as_deref().unwrap_or(""));
    // 302 Found, as WeChat answers.
    (StatusCode::FOUND, [("location", back.to_string())]).into_response()
}

#[derive(Deserialize)]
struct CodeExchange {
    appid: Option<String>,
    secret: Option<String>,
    code: Option<String>,
    js_code: Option<String>,
    grant_type: Option<String>,
}

fn wx_error(code: i64, msg: &str) -> Response {
    Json(json!({ "errcode": code, "errmsg": msg })).into_response()
}

impl SimInner {
    fn redeem(&self, q: &CodeExchange, code: Option<&str>) -> Result<String, Response> {
        let app = q
            .appid
            .as_deref()
            .and_then(|a| self.cfg.app(a))
            .ok_or_else(|| wx_error(40013, "invalid appid"))?;
        if q.secret.as_deref() != Some(app.secret.as_str()) {
            return Err(wx_error(40125, "invalid appsecret"));
        }
        if q.grant_type.as_deref() != Some("authorization_code") {
            return Err(wx_error(40002, "invalid grant_type"));
        }
        let code = code.ok_or_else(|| wx_error(41008, "missing code"))?;
        self.ledger()
            .redeem_code(&app.appid, code, now())
            .ok_or_else(|| wx_error(40029, "invalid code"))
    }
}

async fn access_token(State(sim): State<Arc<SimInner>>, Query(q): Query<CodeExchange>) -> Response {
    match sim.redeem(&q, q.code.as_deref()) {
        Err(r) => r,
        Ok(openid) => Json(json!({
            "access_token": crate::devkeys::random_alnum(64),
            "expires_in": 7200,
            "refresh_token": crate::devkeys::random_alnum(64),
            "openid": openid,
            "scope": "snsapi_base",
        }))
        .into_response(),
    }
}

async fn jscode2session(
    State(sim): State<Arc<SimInner>>,
    Query(q): Query<CodeExchange>,
) -> Response {
    match sim.redeem(&q, q.js_code.as_deref()) {
        Err(r) => r,
        Ok(openid) => {
            Json(json!({ "openid": openid, "session_key": crate::devkeys::random_alnum(24) }))
                .into_response()
        }
    }
}
