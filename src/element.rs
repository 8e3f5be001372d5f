//! `<wxpay-checkout>` as decisions: which attributes it has, what a change of each one does,
//! and how an attribute's text becomes an option. The element class itself is a few lines of
//! JS (`pkg-template/checkout.js`) forwarding its lifecycle to `src/js/element.rs`.
//!
//! A finished checkout is final: only a new order (`order-id`), another `mode` or `api-base`
//! starts a new run; `locale` re-labels what is shown; every other attribute applies to the
//! next run. So a paid order never turns into "payment failed" because the page changed its
//! language.

/// The observed attributes, in the order the docs list them.
pub const ATTRIBUTES: [&str; 9] = [
    "order-id",
    "api-base",
    "mode",
    "locale",
    "redirect-hosts",
    "miniprogram-path",
    "max-duration",
    "poll-interval",
    "long-poll",
];

/// The polling attributes and the `polling` option each one sets.
pub const POLLING: [(&str, &str); 3] = [
    ("max-duration", "maxDuration"),
    ("poll-interval", "interval"),
    ("long-poll", "longPoll"),
];

/// What a changed attribute does to the element's checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Another order, mode or backend: stop the run (finished or not) and start a new one.
    NewRun,
    /// Another language: the same run, re-labelled.
    Relabel,
    /// Read when the next run starts.
    NextRun,
}

pub fn on_change(attribute: &str) -> Change {
    match attribute {
        "order-id" | "mode" | "api-base" => Change::NewRun,
        "locale" => Change::Relabel,
        _ => Change::NextRun,
    }
}

/// A whole, non-negative number attribute (`max-duration="600000"`), or a message that says
/// what to write.
pub fn number(attribute: &str, value: &str) -> Result<u32, String> {
    let value = value.trim();
    let unit = if attribute == "long-poll" {
        "seconds"
    } else {
        "milliseconds"
    };
    if value.is_empty() || value.len() > 9 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err([
            attribute,
            "=\"",
            value,
            "\" must be a whole number of ",
            unit,
        ]
        .concat());
    }
    Ok(value.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_order_mode_and_backend_start_a_new_run() {
        assert_eq!(on_change("order-id"), Change::NewRun);
        assert_eq!(on_change("mode"), Change::NewRun);
        assert_eq!(on_change("api-base"), Change::NewRun);
        assert_eq!(on_change("locale"), Change::Relabel);
        for later in [
            "redirect-hosts",
            "miniprogram-path",
            "max-duration",
            "poll-interval",
            "long-poll",
            "class",
        ] {
            assert_eq!(on_change(later), Change::NextRun, "{later}");
        }
        for (attribute, _) in POLLING {
            assert!(ATTRIBUTES.contains(&attribute));
        }
    }

    #[test]
    fn numbers_are_whole_and_say_their_unit() {
        assert_eq!(number("max-duration", " 600000 "), Ok(600_000));
        assert_eq!(number("long-poll", "0"), Ok(0));
        assert_eq!(
            number("max-duration", "10m"),
            Err("max-duration=\"10m\" must be a whole number of milliseconds".into())
        );
        assert_eq!(
            number("long-poll", "-1"),
            Err("long-poll=\"-1\" must be a whole number of seconds".into())
        );
        assert!(number("poll-interval", "1e3").is_err());
    }
}
