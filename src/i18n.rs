//! Every word the checkout shows the buyer, in Simplified Chinese (the default), Traditional
//! Chinese and English.
//!
//! One `match` per language keeps the wasm small (no runtime catalogue, no formatting
//! machinery) and makes a missing translation a compile error.

/// The languages the checkout speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    ZhCn,
    ZhTw,
    En,
}

impl Locale {
    /// Reads a BCP 47 tag leniently: `zh-TW`, `zh-HK`, `zh-Hant…` → Traditional; other `zh…`
    /// → Simplified; `en…` → English; anything else falls back to the default, `zh-CN`.
    pub fn parse(tag: &str) -> Locale {
        let tag = tag.trim().to_ascii_lowercase();
        // Split on bytes: a `char` predicate would link core's char searcher into the wasm.
        let mut parts = tag.as_bytes().split(|&b| b == b'-' || b == b'_');
        match parts.next().and_then(|p| std::str::from_utf8(p).ok()) {
            Some("en") => Locale::En,
            Some("zh") if parts.any(|p| matches!(p, b"tw" | b"hk" | b"mo" | b"hant")) => Locale::ZhTw,
            _ => Locale::ZhCn,
        }
    }

    /// The tag for the `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::ZhTw => "zh-TW",
            Locale::En => "en",
        }
    }
}

/// A sentence or label the checkout shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Preparing,
    Authorizing,
    Redirecting,
    InWeChat,
    ScanToPay,
    QrTitle,
    ExpiresIn,
    QrExpired,
    RefreshQr,
    Confirming,
    Checking,
    Unconfirmed,
    IHavePaid,
    PayAgain,
    InMiniProgram,
    Paid,
    Cancelled,
    Failed,
    Expired,
    TryAgain,
    Retrying,
}

/// The text for `text` in `locale`.
pub fn text(locale: Locale, text: Text) -> &'static str {
    use Text::*;
    match locale {
        Locale::ZhCn => match text {
            Preparing => "正在准备支付…",
            Authorizing => "正在获取微信授权…",
            Redirecting => "正在跳转到微信支付…",
            InWeChat => "请在微信中完成支付",
            ScanToPay => "请使用微信扫一扫，扫描二维码完成支付",
            QrTitle => "微信支付二维码",
            ExpiresIn => "二维码有效期剩余",
            QrExpired => "二维码已过期，正在刷新…",
            RefreshQr => "刷新二维码",
            Confirming => "正在确认支付结果…",
            Checking => "正在查询支付结果…",
            Unconfirmed => "暂未查询到支付结果。如已支付，请稍候再查询。",
            IHavePaid => "我已完成支付",
            PayAgain => "重新支付",
            InMiniProgram => "请在小程序中完成支付",
            Paid => "支付成功",
            Cancelled => "支付已取消",
            Failed => "支付失败",
            Expired => "支付已超时，请重新下单",
            TryAgain => "重新支付",
            Retrying => "网络不稳定，正在重试…",
        },
        Locale::ZhTw => match text {
            Preparing => "正在準備支付…",
            Authorizing => "正在取得微信授權…",
            Redirecting => "正在跳轉到微信支付…",
            InWeChat => "請在微信中完成支付",
            ScanToPay => "請使用微信掃一掃，掃描二維碼完成支付",
            QrTitle => "微信支付二維碼",
            ExpiresIn => "二維碼有效期剩餘",
            QrExpired => "二維碼已過期，正在重新整理…",
            RefreshQr => "重新整理二維碼",
            Confirming => "正在確認支付結果…",
            Checking => "正在查詢支付結果…",
            Unconfirmed => "暫未查詢到支付結果。如已支付，請稍候再查詢。",
            IHavePaid => "我已完成支付",
            PayAgain => "重新支付",
            InMiniProgram => "請在小程式中完成支付",
            Paid => "支付成功",
            Cancelled => "支付已取消",
            Failed => "支付失敗",
            Expired => "支付已逾時，請重新下單",
            TryAgain => "重新支付",
            Retrying => "網路不穩定，正在重試…",
        },
        Locale::En => match text {
            Preparing => "Preparing your payment…",
            Authorizing => "Asking WeChat to sign you in…",
            Redirecting => "Taking you to WeChat Pay…",
            InWeChat => "Complete the payment in WeChat",
            ScanToPay => "Scan the QR code with WeChat to pay",
            QrTitle => "WeChat Pay QR code",
            ExpiresIn => "QR code expires in",
            QrExpired => "The QR code expired. Getting a new one…",
            RefreshQr => "Get a new QR code",
            Confirming => "Confirming your payment…",
            Checking => "Checking whether your payment went through…",
            Unconfirmed => {
                "We have not received your payment yet. If you have paid, check again in a moment."
            }
            IHavePaid => "I have paid",
            PayAgain => "Pay again",
            InMiniProgram => "Complete the payment in the mini-program",
            Paid => "Payment received",
            Cancelled => "Payment cancelled",
            Failed => "Payment failed",
            Expired => "This payment has timed out. Please place the order again.",
            TryAgain => "Try again",
            Retrying => "Connection trouble. Retrying…",
        },
    }
}

/// The screen-reader announcement for `minutes` (≥ 1) or, when `minutes` is 0, `seconds`
/// left on the QR code.
pub fn time_left(locale: Locale, minutes: u32, seconds: u32) -> String {
    let (n, unit) = if minutes > 0 {
        (minutes, 0)
    } else {
        (seconds, 1)
    };
    let n = decimal(n.into());
    match locale {
        Locale::ZhCn => ["二维码还剩 ", &n, [" 分钟有效", " 秒有效"][unit]].concat(),
        Locale::ZhTw => ["二維碼還剩 ", &n, [" 分鐘有效", " 秒有效"][unit]].concat(),
        Locale::En => {
            let unit = match (unit, n.as_str()) {
                (0, "1") => " minute",
                (0, _) => " minutes",
                (_, "1") => " second",
                _ => " seconds",
            };
            ["QR code valid for ", &n, unit, " more"].concat()
        }
    }
}

/// `n` in decimal digits. Hand-written because `to_string()` and `format!` pull core's
/// formatting machinery into the wasm (see the size note in `lib.rs`).
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[i..].iter().map(|&d| d as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_parse_leniently_with_a_simplified_default() {
        for (tag, locale) in [
            ("zh-CN", Locale::ZhCn),
            ("zh", Locale::ZhCn),
            ("zh-Hans-CN", Locale::ZhCn),
            ("zh_TW", Locale::ZhTw),
            ("zh-HK", Locale::ZhTw),
            ("zh-Hant", Locale::ZhTw),
            ("en", Locale::En),
            ("en-GB", Locale::En),
            ("EN-us", Locale::En),
            ("fr", Locale::ZhCn),
            ("", Locale::ZhCn),
        ] {
            assert_eq!(Locale::parse(tag), locale, "{tag}");
        }
        assert_eq!(Locale::parse(Locale::ZhTw.tag()), Locale::ZhTw);
    }

    #[test]
    fn languages_differ_where_they_should() {
        assert_eq!(text(Locale::ZhCn, Text::Paid), "支付成功");
        assert_eq!(text(Locale::En, Text::Paid), "Payment received");
        // Traditional is not a copy of Simplified.
        assert_ne!(
            text(Locale::ZhCn, Text::QrTitle),
            text(Locale::ZhTw, Text::QrTitle)
        );
    }

    #[test]
    fn decimals() {
        for n in [0u64, 7, 10, 99, 100, 65_535, 4_294_967_295, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn time_left_announcements() {
        assert_eq!(
            time_left(Locale::En, 5, 0),
            "QR code valid for 5 minutes more"
        );
        assert_eq!(
            time_left(Locale::En, 1, 0),
            "QR code valid for 1 minute more"
        );
        assert_eq!(
            time_left(Locale::En, 0, 30),
            "QR code valid for 30 seconds more"
        );
        assert_eq!(time_left(Locale::ZhCn, 2, 0), "二维码还剩 2 分钟有效");
        assert_eq!(time_left(Locale::ZhTw, 0, 10), "二維碼還剩 10 秒有效");
    }
}
