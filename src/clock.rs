//! Times that arrive from the network, turned into milliseconds since the Unix epoch so the
//! countdown and the polling schedule can do plain arithmetic with an injectable "now".
//!
//! The backend sends `expires_at` as RFC 3339 and may send `Retry-After` as an HTTP date.
//! Parsing them here (instead of `Date.parse`) keeps the logic testable natively and the
//! accepted grammar exact: anything else is rejected rather than guessed.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type EpochMs = i64;

/// Parses an RFC 3339 timestamp such as `2026-11-26T20:37:42+08:00` or
/// `2026-11-26T12:37:42.5Z`. Returns `None` for anything that is not one.
pub fn parse_rfc3339(text: &str) -> Option<EpochMs> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let mut rest = &b[19..];
    let mut millis = 0;
    if rest.first() == Some(&b'.') {
        let frac_len = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac_len == 0 {
            return None;
        }
        // Only the first three digits matter at millisecond precision.
        let frac = &rest[1..1 + frac_len];
        for i in 0..3 {
            millis = millis * 10 + frac.get(i).map_or(0, |d| i64::from(d - b'0'));
        }
        rest = &rest[1 + frac_len..];
    }
    let offset_minutes = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let minutes = digits(&[*h1, *h2])? * 60 + digits(&[*m1, *m2])?;
            if *sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59)
            - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// Parses an HTTP date in the preferred IMF-fixdate form, `Sun, 06 Nov 1994 08:49:37 GMT`
/// (RFC 9110 §5.6.7). The obsolete forms are not produced by any current server.
pub fn parse_http_date(text: &str) -> Option<EpochMs> {
    let b = text.trim().as_bytes();
    if b.len() != 29
        || &b[3..5] != b", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || &b[25..] != b" GMT"
    {
        return None;
    }
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == &b[8..11])? as i64 + 1;
    let day = digits(&b[5..7])?;
    let year = digits(&b[12..16])?;
    if b[19] != b':' || b[22] != b':' || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let (hour, minute, second) = (
        digits(&b[17..19])?,
        digits(&b[20..22])?,
        digits(&b[23..25])?,
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(
        (days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59))
            * 1000,
    )
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, d| {
        d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offsets_and_fractions() {
        // 2026-11-26T12:37:42Z = 1795696662 s (checked with `date -d ... +%s`).
        let utc = 1_795_696_662_000;
        assert_eq!(parse_rfc3339("2026-11-26T12:37:42Z"), Some(utc));
        assert_eq!(parse_rfc3339("2026-11-26T20:37:42+08:00"), Some(utc));
        assert_eq!(parse_rfc3339("2026-11-26T07:37:42-05:00"), Some(utc));
        assert_eq!(parse_rfc3339("2026-11-26T12:37:42.250Z"), Some(utc + 250));
        assert_eq!(
            parse_rfc3339("2026-11-26T12:37:42.123456789Z"),
            Some(utc + 123)
        );
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
    }

    #[test]
    fn rfc3339_rejects_near_misses() {
        for bad in [
            "",
            "2026-11-26",
            "2026-11-26T12:37:42",
            "2026-11-26T12:37:42+0800",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T12:37:42.Z",
            "2026/11/26T12:37:42Z",
            "2026-11-26T12:37:42Zjunk",
            "二〇二六-11-26T12:37:42Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn http_dates() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777_000)
        );
        assert_eq!(
            parse_http_date("Thu, 26 Nov 2026 12:37:42 GMT"),
            Some(1_795_696_662_000)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("120"), None);
    }
}
