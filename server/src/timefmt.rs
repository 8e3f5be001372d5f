//! Clock and the time formats WeChat uses: RFC 3339 with +08:00 (v3), `yyyyMMddHHmmss`
//! Beijing time (v2), `yyyy-MM-dd HH:mm:ss` Beijing time (v2 refunds), and unix seconds.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const BEIJING: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(o) => o,
    Err(_) => panic!("+08:00 is a valid offset"),
};

pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2026-11-26T18:00:00+08:00`, the way WeChat writes `time_expire` and `success_time`.
pub fn beijing_rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(BEIJING)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// `2026-11-26T10:00:00Z`, for our own API.
pub fn utc_rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)
        .unwrap_or_default()
}

pub fn parse_rfc3339(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// v2 `time_end` / `time_expire`: `yyyyMMddHHmmss` in Beijing time.
pub fn v2_time(unix: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(BEIJING);
    t.format(format_description!(
        "[year][month][day][hour][minute][second]"
    ))
    .unwrap_or_default()
}

pub fn parse_v2_time(s: &str) -> Option<i64> {
    let t = PrimitiveDateTime::parse(
        s,
        format_description!("[year][month][day][hour][minute][second]"),
    )
    .ok()?;
    Some(t.assume_offset(BEIJING).unix_timestamp())
}

/// v2 refund times (`success_time`, `refund_success_time_$n`): `yyyy-MM-dd HH:mm:ss`, Beijing.
pub fn v2_refund_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(BEIJING)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

pub fn parse_v2_refund_time(s: &str) -> Option<i64> {
    let t = PrimitiveDateTime::parse(
        s,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()?;
    Some(t.assume_offset(BEIJING).unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = 1_780_000_000;
        assert_eq!(beijing_rfc3339(t), "2026-05-29T04:26:40+08:00");
        assert_eq!(utc_rfc3339(t), "2026-05-28T20:26:40Z");
        assert_eq!(v2_time(t), "20260529042640");
        assert_eq!(parse_v2_time("20260529042640"), Some(t));
        assert_eq!(v2_refund_time(t), "2026-05-29 04:26:40");
        assert_eq!(parse_v2_refund_time("2026-05-29 04:26:40"), Some(t));
        assert_eq!(parse_rfc3339(&beijing_rfc3339(t)), Some(t));
        assert_eq!(parse_v2_time("2026-05-29"), None);
    }
}
