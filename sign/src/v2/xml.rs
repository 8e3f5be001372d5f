//! v2 XML: flat `<xml><field>value</field>…</xml>` documents.
//!
//! Parsing is deliberately narrow because notifications arrive from the internet: a size limit
//! before any parsing, no DOCTYPE (so no entity expansion or external entities, the XXE class
//! of bugs that hit several WeChat SDKs), no duplicate fields (two `<total_fee>`s would let a
//! signed value and a used value differ), and no nesting (WeChat never nests).

use quick_xml::events::Event;
use quick_xml::Reader;

use super::Params;
use crate::Error;

/// Largest body [`parse_xml`] accepts. WeChat's largest v2 messages (refund queries with many
/// refunds) are a few KiB; 64 KiB leaves ample room and bounds the work an attacker can cause.
pub const MAX_XML_BYTES: usize = 64 * 1024;

/// Encode as `<xml><k><![CDATA[v]]></k>…</xml>` in key order. Field names must be XML names
/// (WeChat's are `[a-z0-9_]`); values may contain anything, including `]]>`.
pub fn to_xml(params: &Params) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in params {
        out.push('<');
        out.push_str(k);
        out.push_str("><![CDATA[");
        // "]]>" cannot appear inside CDATA: end the section after "]]" and start a new one.
        out.push_str(&v.replace("]]>", "]]]]><![CDATA[>"));
        out.push_str("]]></");
        out.push_str(k);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}

/// Parse a v2 response or notification body into a map.
///
/// The root element's name is not checked (`<xml>` for messages, `<root>` inside a refund
/// `req_info`). Errors: [`Error::XmlTooLarge`], [`Error::XmlDoctype`], [`Error::XmlDuplicate`],
/// [`Error::Xml`] for anything else malformed.
pub fn parse_xml(body: &[u8]) -> Result<Params, Error> {
    if body.len() > MAX_XML_BYTES {
        return Err(Error::XmlTooLarge {
            size: body.len(),
            limit: MAX_XML_BYTES,
        });
    }
    let text = std::str::from_utf8(body).map_err(|e| Error::Xml(format!("not UTF-8: {e}")))?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;

    let mut params = Params::new();
    let mut seen_root = false;
    let mut depth = 0usize;
    // The field being read: (name, accumulated value).
    let mut field: Option<(String, String)> = None;

    loop {
        let event = reader
            .read_event()
            .map_err(|e| Error::Xml(format!("{e} at byte {}", reader.buffer_position())))?;
        match event {
            Event::DocType(_) => return Err(Error::XmlDoctype),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => {
                return Err(Error::Xml("processing instructions are not allowed".into()))
            }
            Event::Start(e) => {
                let name = element_name(e.name().as_ref())?;
                match depth {
                    0 if seen_root => return Err(Error::Xml("more than one root element".into())),
                    0 => seen_root = true,
                    1 => field = Some((name, String::new())),
                    _ => {
                        return Err(Error::Xml(format!(
                            "nested element <{name}>; v2 fields are flat"
                        )))
                    }
                }
                depth += 1;
            }
            Event::Empty(e) => {
                let name = element_name(e.name().as_ref())?;
                match depth {
                    0 if seen_root => return Err(Error::Xml("more than one root element".into())),
                    0 => {
                        seen_root = true;
                    }
                    1 => insert_unique(&mut params, name, String::new())?,
                    _ => {
                        return Err(Error::Xml(format!(
                            "nested element <{name}>; v2 fields are flat"
                        )))
                    }
                }
            }
            Event::End(_) => {
                // quick-xml's check_end_names already pairs End with Start; checked anyway.
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| Error::Xml("unmatched end tag".into()))?;
                if depth == 1 {
                    if let Some((name, value)) = field.take() {
                        insert_unique(&mut params, name, value)?;
                    }
                }
            }
            Event::Text(t) => {
                let value = t
                    .unescape()
                    .map_err(|e| Error::Xml(format!("bad character or entity reference: {e}")))?;
                match (&mut field, depth) {
                    (Some((_, acc)), 2) => acc.push_str(&value),
                    _ if value.trim().is_empty() => {}
                    _ => return Err(Error::Xml("text outside a field element".into())),
                }
            }
            Event::CData(c) => match (&mut field, depth) {
                (Some((_, acc)), 2) => acc.push_str(
                    std::str::from_utf8(&c).map_err(|_| Error::Xml("CDATA is not UTF-8".into()))?,
                ),
                _ => return Err(Error::Xml("CDATA outside a field element".into())),
            },
            Event::Eof => break,
        }
    }
    if !seen_root {
        return Err(Error::Xml("no root element; expected <xml>…</xml>".into()));
    }
    if depth != 0 {
        return Err(Error::Xml(
            "document ends inside an element (truncated?)".into(),
        ));
    }
    Ok(params)
}

/// Element names must be plain ASCII names (`[A-Za-z_][A-Za-z0-9_.-]*`), which covers every
/// WeChat field. quick-xml is lenient about names (the fuzzer found `<<\x12";>` accepted), and a
/// name we cannot write back out would break re-encoding a parsed message.
fn element_name(raw: &[u8]) -> Result<String, Error> {
    let valid = matches!(raw.first(), Some(b) if b.is_ascii_alphabetic() || *b == b'_')
        && raw
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !valid {
        return Err(Error::Xml(format!(
            "element name {:?} is not a plain ASCII name",
            String::from_utf8_lossy(raw)
        )));
    }
    Ok(String::from_utf8_lossy(raw).into_owned())
}

fn insert_unique(params: &mut Params, name: String, value: String) -> Result<(), Error> {
    if params.contains_key(&name) {
        return Err(Error::XmlDuplicate(name));
    }
    params.insert(name, value);
    Ok(())
}

/// Turn `return_code` / `result_code` failures into [`Error::Wechat`] carrying `return_msg`,
/// `err_code` and `err_code_des`. A message without `result_code` (some APIs) passes on
/// `return_code=SUCCESS` alone.
pub fn check_result(params: &Params) -> Result<(), Error> {
    let get = |k: &str| params.get(k).cloned();
    let return_code =
        get("return_code").ok_or_else(|| Error::MissingField("return_code".into()))?;
    let result_code = get("result_code");
    let ok = return_code == "SUCCESS" && matches!(result_code.as_deref(), None | Some("SUCCESS"));
    if ok {
        return Ok(());
    }
    Err(Error::Wechat {
        return_code,
        return_msg: get("return_msg").unwrap_or_default(),
        result_code,
        err_code: get("err_code"),
        err_code_des: get("err_code_des"),
    })
}

/// The reply that tells WeChat a notification was handled (it stops retrying).
pub fn reply_success() -> String {
    reply("SUCCESS", "OK")
}

/// The reply that tells WeChat a notification was not handled; it will retry.
pub fn reply_fail(msg: &str) -> String {
    reply("FAIL", msg)
}

fn reply(code: &str, msg: &str) -> String {
    let params: Params = [("return_code", code), ("return_msg", msg)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    to_xml(&params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn round_trips_including_cdata_terminator_and_markup() {
        let p = map(&[
            ("a", "x]]>y"),
            ("b", "<tag>&amp;"),
            ("c", ""),
            ("d", " spaced "),
        ]);
        assert_eq!(parse_xml(to_xml(&p).as_bytes()).unwrap(), p);
    }

    #[test]
    fn parses_plain_text_entities_and_mixed_whitespace() {
        let body = b"<?xml version=\"1.0\"?>\n<xml>\n  <a>1 &lt; 2</a>\n  <b><![CDATA[x]]></b><c/>\n</xml>\n";
        assert_eq!(
            parse_xml(body).unwrap(),
            map(&[("a", "1 < 2"), ("b", "x"), ("c", "")])
        );
    }

    #[test]
    fn rejects_doctype_entities_duplicates_nesting_and_size() {
        let xxe = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><xml><a>&e;</a></xml>";
        assert_eq!(parse_xml(xxe), Err(Error::XmlDoctype));
        assert!(matches!(
            parse_xml(b"<xml><a>&e;</a></xml>"),
            Err(Error::Xml(_))
        ));
        assert_eq!(
            parse_xml(b"<xml><a>1</a><a>2</a></xml>"),
            Err(Error::XmlDuplicate("a".into()))
        );
        assert_eq!(
            parse_xml(b"<xml><a/><a>2</a></xml>"),
            Err(Error::XmlDuplicate("a".into()))
        );
        assert!(matches!(
            parse_xml(b"<xml><a><b>1</b></a></xml>"),
            Err(Error::Xml(_))
        ));
        let big = format!("<xml><a>{}</a></xml>", "x".repeat(MAX_XML_BYTES));
        assert!(matches!(
            parse_xml(big.as_bytes()),
            Err(Error::XmlTooLarge { .. })
        ));
    }

    #[test]
    fn rejects_truncated_mismatched_empty_and_two_roots() {
        for bad in [
            &b"<xml><a>1</a>"[..],
            b"<xml><a>1</b></xml>",
            b"",
            b"   ",
            b"<xml/><xml/>",
            b"<xml>text</xml>",
            b"\xff",
        ] {
            assert!(
                parse_xml(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn rejects_names_that_are_not_plain_ascii_names() {
        // Found by the v2_xml fuzz target: quick-xml accepted this as an element name.
        assert!(matches!(
            parse_xml(b"<xml><<\x12;\x12\"/></xml>"),
            Err(Error::Xml(_))
        ));
        assert!(matches!(parse_xml(b"<><a/></>"), Err(Error::Xml(_))));
        assert!(matches!(
            parse_xml(b"<xml><1a>x</1a></xml>"),
            Err(Error::Xml(_))
        ));
        assert!(matches!(
            parse_xml("<xml><名>x</名></xml>".as_bytes()),
            Err(Error::Xml(_))
        ));
        assert!(parse_xml(b"<xml><coupon_id_0>x</coupon_id_0><A.b-c>y</A.b-c></xml>").is_ok());
    }

    #[test]
    fn check_result_reports_wechat_errors() {
        assert_eq!(
            check_result(&map(&[
                ("return_code", "SUCCESS"),
                ("result_code", "SUCCESS")
            ])),
            Ok(())
        );
        assert_eq!(check_result(&map(&[("return_code", "SUCCESS")])), Ok(()));
        let e =
            check_result(&map(&[("return_code", "FAIL"), ("return_msg", "签名错误")])).unwrap_err();
        assert!(matches!(&e, Error::Wechat { return_msg, .. } if return_msg == "签名错误"));
        let e = check_result(&map(&[
            ("return_code", "SUCCESS"),
            ("result_code", "FAIL"),
            ("err_code", "ORDERPAID"),
            ("err_code_des", "该订单已支付"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("ORDERPAID"));
        assert_eq!(
            check_result(&Params::new()),
            Err(Error::MissingField("return_code".into()))
        );
    }

    #[test]
    fn replies() {
        assert_eq!(
            reply_success(),
            "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>"
        );
        let fail = parse_xml(reply_fail("bad sign").as_bytes()).unwrap();
        assert_eq!(
            fail,
            map(&[("return_code", "FAIL"), ("return_msg", "bad sign")])
        );
    }
}
