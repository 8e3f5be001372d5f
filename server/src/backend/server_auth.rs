//! Authentication of the merchant's own server on the server-to-server routes (orders with an
//! amount, refunds, closing an order): `Authorization: Bearer <api_token>`.
//!
//! A page must never reach these, so the token lives only in the merchant's configuration
//! (`api_token` / `WXPAY_API_TOKEN`); without one configured the routes are off (403).

use super::error::ApiError;
use super::Backend;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use std::sync::Arc;

/// Proof that the request carried the configured bearer token.
pub struct ServerAuth;

/// Whether `headers` carry `Authorization: Bearer <token>` for the configured token.
pub fn check(b: &Backend, headers: &axum::http::HeaderMap) -> Result<ServerAuth, ApiError> {
    let Some(token) = b.cfg.api_token.as_ref().filter(|t| !t.0.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "server_api_disabled",
            "this route is for the merchant's server; set api_token (or WXPAY_API_TOKEN) to enable it",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if constant_time_eq(g.as_bytes(), token.0.as_bytes()) => Ok(ServerAuth),
        _ => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this route needs Authorization: Bearer <api_token> from the merchant's server",
        )),
    }
}

impl FromRequestParts<Arc<Backend>> for ServerAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, b: &Arc<Backend>) -> Result<Self, ApiError> {
        check(b, &parts.headers)
    }
}

/// Equal bytes, in a time that does not depend on where they first differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn compares_whole_tokens() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"abcd"));
    }
}
