//! The little URL handling the flows need, done by hand so it is exact, testable natively and
//! small in the wasm: reading and rewriting query parameters of the page URL, and deciding
//! whether a URL from the network is a place we may send the buyer to.
//!
//! The redirect check is a security boundary (an open redirect on a payment page is a
//! phishing tool), so it is strict: absolute `https:` URLs only (plain `http:` only for
//! loopback hosts, which browsers treat as secure contexts, for the local simulator), no
//! user-info, no backslashes or control characters that browsers would "fix up", and the host
//! (optionally with its port) must be on the allow-list.

/// Why a URL is not a safe redirect target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectError {
    /// Not an absolute URL we can read.
    Malformed,
    /// `http:` to a public host, `javascript:`, `data:` and the like.
    Scheme,
    /// `user@host` URLs hide the real host from the buyer.
    UserInfo,
    /// The host is fine but not on the allow-list.
    HostNotAllowed(String),
}

impl RedirectError {
    pub fn message(&self) -> String {
        match self {
            RedirectError::Malformed => "the payment URL from the backend is not an absolute URL".into(),
            RedirectError::Scheme => "the payment URL from the backend must use https (http only on localhost)".into(),
            RedirectError::UserInfo => "the payment URL from the backend must not contain user@ credentials".into(),
            RedirectError::HostNotAllowed(host) => {
                ["the payment URL points to ", host, ", which is not in the allowed redirect hosts; add it to the `redirectHosts` option if it is yours"].concat()
            }
        }
    }
}

/// Scheme, host (lower-case, IPv6 kept in brackets) and port of an absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
}

/// Splits `scheme://host[:port]` off an absolute URL, refusing anything a browser might read
/// differently from us.
pub fn origin(url: &str) -> Result<Origin, RedirectError> {
    if url.bytes().any(|b| b <= b' ' || b == b'\\' || b == 0x7f) {
        return Err(RedirectError::Malformed);
    }
    // Byte positions and `get` rather than `split_once("://")` and `&s[a..b]`: same result,
    // without a substring searcher or a panic path in the wasm.
    let colon = url
        .bytes()
        .position(|b| b == b':')
        .ok_or(RedirectError::Malformed)?;
    let scheme = url.get(..colon).unwrap_or_default();
    if url.get(colon..colon + 3) != Some("://") {
        return Err(RedirectError::Malformed);
    }
    let rest = url.get(colon + 3..).unwrap_or_default();
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return Err(RedirectError::Malformed);
    }
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    if authority.bytes().any(|b| b == b'@') {
        return Err(RedirectError::UserInfo);
    }
    let (host, port) = match authority.bytes().rposition(|b| b == b':') {
        Some(i) if !authority.bytes().skip(i).any(|b| b == b']') => (
            authority.get(..i).unwrap_or_default(),
            authority.get(i + 1..),
        ),
        _ => (authority, None),
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            // At most five ASCII digits, so the fold cannot overflow a u32; no `str::parse`,
            // whose generic integer parser is larger than this check.
            let n = p.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
            Some(u16::try_from(n).map_err(|_| RedirectError::Malformed)?)
        }
        Some(_) => return Err(RedirectError::Malformed),
    };
    let valid_host = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']').is_some_and(|inner| {
            !inner.is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        })
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    if !valid_host {
        return Err(RedirectError::Malformed);
    }
    Ok(Origin {
        scheme: scheme.to_ascii_lowercase(),
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.starts_with("127.")
}

/// Accepts `url` only if it is a safe place to send the buyer (see the module comment).
/// Allow-list entries are host names (`wx.tenpay.com`, any port) or `host:port`.
pub fn check_redirect(url: &str, allowed_hosts: &[String]) -> Result<(), RedirectError> {
    let o = origin(url)?;
    match o.scheme.as_str() {
        "https" => {}
        "http" if is_loopback(&o.host) => {}
        _ => return Err(RedirectError::Scheme),
    }
    let with_port = o
        .port
        .map(|p| [o.host.as_str(), ":", &crate::i18n::decimal(p.into())].concat());
    let allowed = allowed_hosts.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        entry == o.host || with_port.as_deref() == Some(entry.as_str())
    });
    if allowed {
        Ok(())
    } else {
        Err(RedirectError::HostNotAllowed(with_port.unwrap_or(o.host)))
    }
}

/// `text` up to the first `sep` and what follows it (if `sep` occurs). Byte search rather than
/// `split_once(char)`: the same result without core's char searcher in the wasm.
fn cut(text: &str, sep: u8) -> (&str, Option<&str>) {
    match text.bytes().position(|b| b == sep) {
        Some(i) => (text.get(..i).unwrap_or_default(), text.get(i + 1..)),
        None => (text, None),
    }
}

/// The query of `url` (between `?` and `#`), if it has one.
fn query_of(url: &str) -> (&str, Option<&str>) {
    cut(cut(url, b'#').0, b'?')
}

/// Calls `each` with every `&`-separated pair of `query`, in order, until it returns `Some`.
fn find_pair<T>(query: &str, mut each: impl FnMut(&str) -> Option<T>) -> Option<T> {
    let mut rest = Some(query);
    while let Some(text) = rest {
        let (pair, next) = cut(text, b'&');
        if let Some(found) = each(pair) {
            return Some(found);
        }
        rest = next;
    }
    None
}

/// The decoded value of query parameter `name` in `url` (first occurrence).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    find_pair(query_of(url).1?, |pair| {
        let (k, v) = cut(pair, b'=');
        (decode(k) == name).then(|| decode(v.unwrap_or_default()))
    })
}

/// `url` with every parameter in `names` removed, `extra` (name, value) pairs appended, and
/// the fragment dropped (a `#` in a return URL would swallow what WeChat appends).
pub fn rewrite_query(url: &str, names: &[&str], extra: &[(&str, &str)]) -> String {
    let (base, query) = query_of(url);
    let mut out = String::with_capacity(url.len() + 32);
    out.push_str(base);
    let mut add = |pair: &str| {
        out.push(if out.len() == base.len() { '?' } else { '&' });
        out.push_str(pair);
    };
    find_pair::<()>(query.unwrap_or_default(), |pair| {
        if !pair.is_empty() && !names.contains(&decode(cut(pair, b'=').0).as_str()) {
            add(pair);
        }
        None
    });
    for (k, v) in extra {
        add(&[encode(k), "=".into(), encode(v)].concat());
    }
    out
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// Decodes `%XX` and `+` (form encoding); malformed escapes stay as they are, and so does a
/// text whose escapes do not decode to UTF-8 (no lossy conversion: smaller in the wasm).
pub fn decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wechat_and_listed_hosts_pass() {
        let allow = hosts(&["wx.tenpay.com", "127.0.0.1:8080"]);
        let h5 = "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2016&package=1037687096&redirect_url=https%3A%2F%2Fshop.example%2Fpay";
        assert_eq!(check_redirect(h5, &allow), Ok(()));
        assert_eq!(
            check_redirect("HTTPS://WX.TENPAY.COM:443/x", &allow),
            Ok(())
        );
        assert_eq!(
            check_redirect("http://127.0.0.1:8080/sim/checkmweb?prepay_id=1", &allow),
            Ok(())
        );
    }

    #[test]
    fn everything_else_is_refused_with_a_reason() {
        let allow = hosts(&["wx.tenpay.com", "127.0.0.1:8080", "localhost"]);
        let cases = [
            ("http://wx.tenpay.com/x", RedirectError::Scheme),
            (
                "javascript://wx.tenpay.com/%0aalert(1)",
                RedirectError::Scheme,
            ),
            (
                "https://wx.tenpay.com@evil.example/x",
                RedirectError::UserInfo,
            ),
            (
                "https://evil.example\\@wx.tenpay.com/",
                RedirectError::Malformed,
            ),
            (
                "https://evil.example/?https://wx.tenpay.com",
                RedirectError::HostNotAllowed("evil.example".into()),
            ),
            (
                "https://wx.tenpay.com.evil.example/",
                RedirectError::HostNotAllowed("wx.tenpay.com.evil.example".into()),
            ),
            (
                "http://127.0.0.1:9090/",
                RedirectError::HostNotAllowed("127.0.0.1:9090".into()),
            ),
            ("//wx.tenpay.com/x", RedirectError::Malformed),
            ("/relative", RedirectError::Malformed),
            ("https://wx.tenpay.com:99999/", RedirectError::Malformed),
            ("https:// wx.tenpay.com/", RedirectError::Malformed),
            ("https://wx.ten\tpay.com/", RedirectError::Malformed),
        ];
        for (url, expected) in cases {
            assert_eq!(check_redirect(url, &allow), Err(expected.clone()), "{url}");
            assert!(!expected.message().is_empty());
        }
        assert_eq!(check_redirect("http://localhost:3000/", &allow), Ok(()));
        assert_eq!(
            check_redirect("http://[::1]:8080/", &hosts(&["[::1]:8080"])),
            Ok(())
        );
    }

    #[test]
    fn query_reading_and_rewriting() {
        let url = "https://shop.example/pay?item=7&code=CODE&state=s&wxpay_order=o%2F1#top";
        assert_eq!(query_param(url, "wxpay_order").as_deref(), Some("o/1"));
        assert_eq!(query_param(url, "code").as_deref(), Some("CODE"));
        assert_eq!(query_param(url, "top"), None);
        assert_eq!(query_param("https://a/?flag", "flag").as_deref(), Some(""));
        assert_eq!(
            rewrite_query(
                url,
                &["code", "state", "wxpay_order"],
                &[("wxpay_order", "新/订单 1")]
            ),
            "https://shop.example/pay?item=7&wxpay_order=%E6%96%B0%2F%E8%AE%A2%E5%8D%95%201"
        );
        assert_eq!(rewrite_query("https://a/p?code=1#x", &["code"], &[]), "https://a/p");
        assert_eq!(rewrite_query("https://a/p", &[], &[("m", "1")]), "https://a/p?m=1");
        assert_eq!(rewrite_query("https://a/p?&&x=1&code=2&", &["code"], &[("m", "1")]), "https://a/p?x=1&m=1");
        assert_eq!(query_param("https://a/p?x=1&y", "y").as_deref(), Some(""));
    }

    #[test]
    fn percent_coding_round_trips() {
        for text in [
            "",
            "abc",
            "a b+c",
            "https://x/?a=1&b=2#f",
            "订单%zz",
            "100%",
        ] {
            assert_eq!(decode(&encode(text)), text);
        }
        assert_eq!(decode("%E8%AE%A2+%zz%4"), "订 %zz%4");
        assert_eq!(decode("a%FFb"), "a%FFb");
    }
}
