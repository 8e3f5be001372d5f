//! Field rules WeChat enforces on orders, with its limits. Each returns a message naming the
//! field and the rule, the way WeChat's PARAM_ERROR answers do.

/// 6–32 characters of `[A-Za-z0-9_\-|*]`.
pub fn out_trade_no(s: &str) -> Result<(), String> {
    let ok_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '|' | '*'));
    if !(6..=32).contains(&s.len()) || !ok_chars {
        return Err(format!(
            "out_trade_no {s:?} must be 6-32 characters of letters, digits, _ - | *"
        ));
    }
    Ok(())
}

/// 1–127 bytes of UTF-8.
pub fn description(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 127 {
        return Err(format!(
            "description must be 1-127 bytes of UTF-8, got {} bytes",
            s.len()
        ));
    }
    Ok(())
}

/// A whole number of fen, at least 1.
pub fn amount(total: Option<i64>) -> Result<i64, String> {
    match total {
        Some(t) if t > 0 => Ok(t),
        Some(t) => Err(format!(
            "amount.total must be a positive number of fen, got {t}"
        )),
        None => Err("amount.total is required (an integer number of fen)".into()),
    }
}

/// An absolute http(s) URL without a query string (WeChat refuses parameters in notify_url).
pub fn notify_url(s: &str) -> Result<(), String> {
    let url =
        url::Url::parse(s).map_err(|e| format!("notify_url {s:?} is not an absolute URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("notify_url must be http(s), got {}", url.scheme()));
    }
    if url.query().is_some() {
        return Err("notify_url must not carry query parameters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wechat_limits() {
        assert!(out_trade_no("WXC20261126183300abcd_2").is_ok());
        assert!(out_trade_no("a|b*c-d_e").is_ok());
        assert!(out_trade_no("short").is_err());
        assert!(out_trade_no(&"x".repeat(33)).is_err());
        assert!(out_trade_no("has space").is_err());
        assert!(description(&"茶".repeat(42)).is_ok()); // 126 bytes
        assert!(description(&"茶".repeat(43)).is_err()); // 129 bytes
        assert!(amount(Some(0)).is_err());
        assert_eq!(amount(Some(1)), Ok(1));
        assert!(notify_url("https://shop.example/notify?x=1").is_err());
        assert!(notify_url("https://shop.example/notify").is_ok());
    }
}
