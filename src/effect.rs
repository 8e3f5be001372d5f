//! What a checkout run asks the page to do, written as one JSON array per step.
//!
//! The run ([`crate::flow`]) never touches the browser: it appends effects here and the JS
//! driver (`pkg-template/checkout.js`) carries them out — fetch, timers, DOM, navigation, the
//! bridge — and feeds what happened back in. JSON is the cheapest way across the boundary: one
//! string per step and one `JSON.parse` in JS, instead of a JS import per object field. The
//! shapes are the contract of `pkg-template/checkout.js`; `tests/flows.rs` reads them back.
//!
//! | `t` | fields | the driver |
//! |---|---|---|
//! | `state` | `state`, `text`, `lang`, `detail` | shows the state's sentence; spinner or mark; reports `detail` (`expiresAt` becomes a `Date`) |
//! | `note` | `text` or null | the secondary line |
//! | `qr` | `svg`, `codeUrl`, `caption`, `time`, `say` | draws our SVG (the only markup ever inserted) with its countdown |
//! | `tick` | `time`, `say` or null | one second of the countdown; `say` goes to the live region |
//! | `qr-expired` | `text` | dims the code |
//! | `buttons` | `list` of `[action, label]` | a click steps `action` |
//! | `fetch` | `id`, `call` (`pay`/`status`), `url`, `body` or `wait` | HTTP or the merchant's hooks; steps `answer` |
//! | `cancel` | | aborts the request in flight; its answer never comes back |
//! | `timer` | `id`, `ms` | steps `timer` `id` later |
//! | `go`, `replace` | `url` | `location.assign`, `history.replaceState` |
//! | `bridge` | `params` (the six), `timeout` | waits for `WeixinJSBridge`, `getBrandWCPayRequest`; steps `bridge` |
//! | `mini` | `url` | `wx.miniProgram.navigateTo` |
//! | `done` | `outcome`, `retry` label, `message` | the run is over: resolves `checkout()`, fires the element's event |

use crate::bridge::JsapiParams;
use crate::i18n::decimal;

/// A value of a `detail` entry of a `state` effect.
#[derive(Clone, Copy)]
pub enum Value<'a> {
    Str(&'a str),
    /// Epoch milliseconds; the driver turns `expiresAt` into a `Date`.
    Ms(i64),
}

/// The effects of one step, as a JSON array under construction.
#[derive(Default)]
pub struct Effects {
    json: String,
}

impl Effects {
    /// The JSON array of everything written since the last call; empties the list.
    pub fn take(&mut self) -> String {
        let body = std::mem::take(&mut self.json);
        ["[", &body, "]"].concat()
    }

    /// Opens an effect object of kind `t`; fields follow with [`Effects::field`].
    fn open(&mut self, t: &str) {
        if !self.json.is_empty() {
            self.json.push(',');
        }
        self.json.push_str("{\"t\":");
        string(&mut self.json, t);
    }

    fn key(&mut self, key: &str) {
        self.json.push(',');
        string(&mut self.json, key);
        self.json.push(':');
    }

    fn field(&mut self, key: &str, value: Option<&str>) {
        self.key(key);
        match value {
            Some(v) => string(&mut self.json, v),
            None => self.json.push_str("null"),
        }
    }

    fn number(&mut self, key: &str, n: u32) {
        self.key(key);
        self.json.push_str(&decimal(n.into()));
    }

    fn close(&mut self) {
        self.json.push('}');
    }

    /// Entered `state`: the view shows `text` in language `lang`; `detail` = `{ state, mode,
    /// orderId, …extra }` goes to `onState` / `wxpay-state`.
    pub fn state(&mut self, state: &str, text: &str, lang: &str, [mode, order_id]: [&str; 2], extra: &[(&str, Value)]) {
        self.open("state");
        self.field("state", Some(state));
        self.field("text", Some(text));
        self.field("lang", Some(lang));
        self.key("detail");
        self.json.push('{');
        for (key, value) in [("state", Value::Str(state)), ("mode", Value::Str(mode)), ("orderId", Value::Str(order_id))].iter().chain(extra) {
            if !self.json.ends_with('{') {
                self.json.push(',');
            }
            string(&mut self.json, key);
            self.json.push(':');
            match value {
                Value::Str(s) => string(&mut self.json, s),
                Value::Ms(ms) => self.json.push_str(&decimal(ms.unsigned_abs())),
            }
        }
        self.json.push('}');
        self.close();
    }

    /// The secondary line; `None` clears it.
    pub fn note(&mut self, text: Option<&str>) {
        self.open("note");
        self.field("text", text);
        self.close();
    }

    /// Draw the QR code (our own SVG) with its countdown.
    pub fn qr(&mut self, svg: &str, code_url: &str, caption: &str, time: &str, say: Option<&str>) {
        self.open("qr");
        self.field("svg", Some(svg));
        self.field("codeUrl", Some(code_url));
        self.field("caption", Some(caption));
        self.field("time", Some(time));
        self.field("say", say);
        self.close();
    }

    /// One second of the countdown.
    pub fn tick(&mut self, time: &str, say: Option<&str>) {
        self.open("tick");
        self.field("time", Some(time));
        self.field("say", say);
        self.close();
    }

    /// Dim the expired QR code and say so.
    pub fn qr_expired(&mut self, text: &str) {
        self.open("qr-expired");
        self.field("text", Some(text));
        self.close();
    }

    /// Replace the buttons: `(action, label)` pairs.
    pub fn buttons<'a>(&mut self, list: impl Iterator<Item = (&'a str, &'a str)>) {
        self.open("buttons");
        self.key("list");
        self.json.push('[');
        for (i, (action, label)) in list.enumerate() {
            if i > 0 {
                self.json.push(',');
            }
            self.json.push('[');
            string(&mut self.json, action);
            self.json.push(',');
            string(&mut self.json, label);
            self.json.push(']');
        }
        self.json.push(']');
        self.close();
    }

    /// `POST {url}` with the JSON `body` (`(key, value)` pairs), or the `pay` hook.
    pub fn fetch_pay(&mut self, id: u32, url: &str, body: &[(&str, Option<&str>)]) {
        self.open("fetch");
        self.number("id", id);
        self.field("call", Some("pay"));
        self.field("url", Some(url));
        self.key("body");
        self.json.push('{');
        let mut first = true;
        for (key, value) in body {
            let Some(value) = value else { continue };
            if !first {
                self.json.push(',');
            }
            first = false;
            string(&mut self.json, key);
            self.json.push(':');
            string(&mut self.json, value);
        }
        self.json.push('}');
        self.close();
    }

    /// `GET {url}`, or the `status` hook with `{ wait }`.
    pub fn fetch_status(&mut self, id: u32, url: &str, wait_s: Option<u32>) {
        self.open("fetch");
        self.number("id", id);
        self.field("call", Some("status"));
        self.field("url", Some(url));
        if let Some(w) = wait_s {
            self.number("wait", w);
        }
        self.close();
    }

    /// Abort the request in flight; its answer must not come back.
    pub fn cancel(&mut self) {
        self.open("cancel");
        self.close();
    }

    /// Call back with `timer` `id` after `ms`.
    pub fn timer(&mut self, id: u32, ms: u32) {
        self.open("timer");
        self.number("id", id);
        self.number("ms", ms);
        self.close();
    }

    /// Leave the page for `url` (`location.assign`).
    pub fn go(&mut self, url: &str) {
        self.open("go");
        self.field("url", Some(url));
        self.close();
    }

    /// Rewrite the address bar without a navigation (`history.replaceState`).
    pub fn replace(&mut self, url: &str) {
        self.open("replace");
        self.field("url", Some(url));
        self.close();
    }

    /// Wait up to `timeout_ms` for `WeixinJSBridge`, then show WeChat's pay sheet.
    pub fn bridge(&mut self, params: &JsapiParams, timeout_ms: u32) {
        self.open("bridge");
        self.key("params");
        self.json.push('{');
        for (i, (key, value)) in params.fields().iter().enumerate() {
            if i > 0 {
                self.json.push(',');
            }
            string(&mut self.json, key);
            self.json.push(':');
            string(&mut self.json, value);
        }
        self.json.push('}');
        self.number("timeout", timeout_ms);
        self.close();
    }

    /// `wx.miniProgram.navigateTo({ url })`.
    pub fn mini(&mut self, url: &str) {
        self.open("mini");
        self.field("url", Some(url));
        self.close();
    }

    /// The run is over. `outcome` is the JS outcome object, already JSON.
    pub fn done(&mut self, outcome_json: &str, retry: Option<&str>, message: Option<&str>) {
        self.open("done");
        self.key("outcome");
        self.json.push_str(outcome_json);
        self.field("retry", retry);
        self.field("message", message);
        self.close();
    }
}

/// The outcome object JS receives: `{ status, orderId, mode, detail: { tradeState,
/// transactionId, message, reason } }`.
pub fn outcome_json(
    status: &str,
    order_id: &str,
    mode: &str,
    detail: [(&str, Option<&str>); 4],
) -> String {
    let mut json = String::from("{\"status\":");
    string(&mut json, status);
    json.push_str(",\"orderId\":");
    string(&mut json, order_id);
    json.push_str(",\"mode\":");
    string(&mut json, mode);
    json.push_str(",\"detail\":{");
    for (i, (key, value)) in detail.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        string(&mut json, key);
        json.push(':');
        match value {
            Some(v) => string(&mut json, v),
            None => json.push_str("null"),
        }
    }
    json.push_str("}}");
    json
}

/// Appends `s` as a JSON string. Non-ASCII passes through as UTF-8 (valid JSON); quotes,
/// backslashes and control characters are escaped, and so are `<`, `>` and `&`, so the text
/// stays inert even if someone pastes the effects into HTML while debugging.
fn string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            0..=0x1f | b'<' | b'>' | b'&' => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        start = i + 1;
        if escaped.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(escaped);
        }
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_unicode_passes() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\n\u{1}<img>&支付");
        assert_eq!(out, r#""a\"b\\c\n\u0001\u003cimg\u003e\u0026支付""#);
    }

    #[test]
    fn effects_form_one_array() {
        let mut fx = Effects::default();
        assert_eq!(fx.take(), "[]");
        fx.timer(3, 1000);
        fx.note(None);
        fx.fetch_pay(1, "/api/orders/o/pay", &[("mode", Some("h5")), ("code", None), ("return_url", Some("x"))]);
        assert_eq!(
            fx.take(),
            r#"[{"t":"timer","id":3,"ms":1000},{"t":"note","text":null},{"t":"fetch","id":1,"call":"pay","url":"/api/orders/o/pay","body":{"mode":"h5","return_url":"x"}}]"#
        );
    }
}
