//! The URL handling the flows need: reading and rewriting query parameters of the page URL,
//! and deciding whether a URL from the network is a place we may send the buyer to.
//!
//! The redirect check is a security boundary (an open redirect on a payment page is a
//! phishing tool), so it is strict. Parsing is the browser's own (`URL`, through
//! `web_sys::Url`) in the wasm, so we read a URL exactly as the navigation will; natively (the
//! tests) a strict hand parser that refuses anything a browser might "fix up". The decision,
//! [`check_origin`], is a pure function of the parsed parts: `https:` only (plain `http:` only
//! for loopback hosts, which browsers treat as secure contexts, for the local simulator), no
//! user-info, and scheme, host and port exactly those of an allow-list entry.

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
            RedirectError::HostNotAllowed(origin) => {
                ["the payment URL points to ", origin, ", which is not in the allowed redirect hosts; add its host (with its port, if not the default) to the `redirectHosts` option if it is yours"].concat()
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

/// Splits `scheme://host[:port]` off an absolute URL with the browser's URL parser.
#[cfg(target_arch = "wasm32")]
pub fn origin(url: &str) -> Result<Origin, RedirectError> {
    let parsed = web_sys::Url::new(url).map_err(|_| RedirectError::Malformed)?;
    if !parsed.username().is_empty() || !parsed.password().is_empty() {
        return Err(RedirectError::UserInfo);
    }
    let protocol = parsed.protocol();
    let scheme = protocol.strip_suffix(':').unwrap_or(&protocol).to_owned();
    let port = parsed.port();
    // `port` is empty for the scheme's default port (the URL standard drops it).
    let port = if port.is_empty() {
        None
    } else {
        Some(digits_u16(&port).ok_or(RedirectError::Malformed)?)
    };
    let host = parsed.hostname();
    if host.is_empty() {
        return Err(RedirectError::Malformed);
    }
    Ok(Origin { scheme, host, port })
}

#[cfg(target_arch = "wasm32")]
fn digits_u16(p: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    u16::try_from(p.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0'))).ok()
}

/// Splits `scheme://host[:port]` off an absolute URL, refusing anything a browser might read
/// differently from us (the native stand-in for the browser's `URL`).
#[cfg(not(target_arch = "wasm32"))]
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
    let scheme = scheme.to_ascii_lowercase();
    // As the URL standard does: the scheme's default port is no port.
    let port = port.filter(|p| Some(*p) != default_port(&scheme));
    Ok(Origin {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.starts_with("127.")
}

/// Accepts `url` only if it is a safe place to send the buyer (see the module comment).
pub fn check_redirect(url: &str, allowed_hosts: &[String]) -> Result<(), RedirectError> {
    check_origin(&origin(url)?, allowed_hosts)
}

/// The decision over the parsed parts. Allow-list entries are `host` (https, port 443),
/// `host:port`, or an origin `scheme://host[:port]`; a loopback entry without a scheme allows
/// http and https. Scheme, host and port must all match one entry exactly.
pub fn check_origin(o: &Origin, allowed_hosts: &[String]) -> Result<(), RedirectError> {
    match o.scheme.as_str() {
        "https" => {}
        "http" if is_loopback(&o.host) => {}
        _ => return Err(RedirectError::Scheme),
    }
    let port = o.port.or(default_port(&o.scheme));
    let allowed = allowed_hosts.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        let (scheme, rest) = match entry.find("://") {
            Some(i) => (Some(&entry[..i]), &entry[i + 3..]),
            None => (None, entry.as_str()),
        };
        let rest = rest.trim_end_matches('/');
        let (host, entry_port) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains(']') => (&rest[..i], rest[i + 1..].parse::<u16>().ok()),
            _ => (rest, None),
        };
        let scheme_ok = match scheme {
            Some(s) => s == o.scheme,
            None => o.scheme == "https" || is_loopback(host),
        };
        scheme_ok && host == o.host && entry_port.or(default_port(&o.scheme)) == port
    });
    if allowed {
        Ok(())
    } else {
        let shown = match o.port {
            Some(p) => [
                o.scheme.as_str(),
                "://",
                &o.host,
                ":",
                &crate::i18n::decimal(p.into()),
            ]
            .concat(),
            None => [o.scheme.as_str(), "://", &o.host].concat(),
        };
        Err(RedirectError::HostNotAllowed(shown))
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
                RedirectError::HostNotAllowed("https://evil.example".into()),
            ),
            (
                "https://wx.tenpay.com.evil.example/",
                RedirectError::HostNotAllowed("https://wx.tenpay.com.evil.example".into()),
            ),
            (
                "http://127.0.0.1:9090/",
                RedirectError::HostNotAllowed("http://127.0.0.1:9090".into()),
            ),
            // A host-only entry is that host on its default port, not any port.
            (
                "https://wx.tenpay.com:8443/x",
                RedirectError::HostNotAllowed("https://wx.tenpay.com:8443".into()),
            ),
            (
                "http://localhost:1/",
                RedirectError::HostNotAllowed("http://localhost:1".into()),
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
        assert_eq!(check_redirect("http://localhost/", &allow), Ok(()));
        assert_eq!(
            check_redirect("http://localhost:3000/", &hosts(&["localhost:3000"])),
            Ok(())
        );
        assert_eq!(
            check_redirect("http://[::1]:8080/", &hosts(&["[::1]:8080"])),
            Ok(())
        );
    }

    /// The decision over parsed parts, as the browser's URL hands them over.
    #[test]
    fn origins_must_match_an_entry_in_scheme_host_and_port() {
        let o = |scheme: &str, host: &str, port: Option<u16>| Origin {
            scheme: scheme.into(),
            host: host.into(),
            port,
        };
        let allow = hosts(&[
            "pay.example.com",
            "127.0.0.1:8080",
            "https://shop.example:8443",
            "http://127.0.0.2",
        ]);
        assert_eq!(
            check_origin(&o("https", "pay.example.com", None), &allow),
            Ok(())
        );
        assert_eq!(
            check_origin(&o("https", "pay.example.com", Some(444)), &allow),
            Err(RedirectError::HostNotAllowed(
                "https://pay.example.com:444".into()
            ))
        );
        // http only on loopback, and there only on the listed port.
        assert_eq!(
            check_origin(&o("http", "pay.example.com", None), &allow),
            Err(RedirectError::Scheme)
        );
        assert_eq!(
            check_origin(&o("http", "127.0.0.1", Some(8080)), &allow),
            Ok(())
        );
        assert_eq!(
            check_origin(&o("https", "127.0.0.1", Some(8080)), &allow),
            Ok(())
        );
        assert!(check_origin(&o("http", "127.0.0.1", Some(1)), &allow).is_err());
        assert!(check_origin(&o("http", "127.0.0.1", None), &allow).is_err());
        // An entry with a scheme allows only that scheme.
        assert_eq!(
            check_origin(&o("https", "shop.example", Some(8443)), &allow),
            Ok(())
        );
        assert_eq!(check_origin(&o("http", "127.0.0.2", None), &allow), Ok(()));
        assert!(check_origin(&o("https", "127.0.0.2", None), &allow).is_err());
        assert_eq!(
            check_origin(&o("javascript", "x", None), &allow),
            Err(RedirectError::Scheme)
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
        assert_eq!(
            rewrite_query("https://a/p?code=1#x", &["code"], &[]),
            "https://a/p"
        );
        assert_eq!(
            rewrite_query("https://a/p", &[], &[("m", "1")]),
            "https://a/p?m=1"
        );
        assert_eq!(
            rewrite_query("https://a/p?&&x=1&code=2&", &["code"], &[("m", "1")]),
            "https://a/p?x=1&m=1"
        );
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
