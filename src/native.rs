//! Native pay on a desktop: the backend's `code_url` drawn as a QR code in the page (never an
//! image from a server, so no third party learns the order), with a countdown to `expires_at`
//! and a fresh code when it runs out.
//!
//! The countdown text and when to announce it to screen readers are pure functions (tested
//! natively). The visible timer has `role="timer"`, whose updates assistive technology does not
//! read every second; instead a separate polite live region speaks at the thresholds below.
//! The run (`flow`) ticks the countdown; the JS driver draws it.

use crate::clock::EpochMs;

/// Seconds left at which the live region speaks (plus once when the code appears).
const ANNOUNCE_AT_S: [i64; 8] = [3600, 1800, 600, 300, 120, 60, 30, 10];

/// `H:MM:SS` for an hour or more, `MM:SS` below; zero once expired.
pub fn format_remaining(ms: i64) -> String {
    // Round up: "00:00" should appear only when the code has really expired.
    let s = (ms.max(0) + 999) / 1000;
    let two = |n: i64| -> String {
        [
            ((b'0' + (n / 10) as u8) as char),
            ((b'0' + (n % 10) as u8) as char),
        ]
        .iter()
        .collect()
    };
    if s >= 3600 {
        [
            crate::i18n::decimal((s / 3600) as u64),
            ":".into(),
            two(s / 60 % 60),
            ":".into(),
            two(s % 60),
        ]
        .concat()
    } else {
        [two(s / 60), ":".into(), two(s % 60)].concat()
    }
}

/// Whether a countdown tick from `prev_ms` to `now_ms` left should be announced, and as
/// (minutes, seconds) for [`crate::i18n::time_left`]. `prev_ms = None` is the first tick.
pub fn announcement(prev_ms: Option<i64>, now_ms: i64) -> Option<(u32, u32)> {
    let now_s = (now_ms.max(0) + 999) / 1000;
    if now_s == 0 {
        return None;
    }
    let crossed = match prev_ms {
        None => true,
        Some(prev) => {
            let prev_s = (prev.max(0) + 999) / 1000;
            ANNOUNCE_AT_S.iter().any(|&t| prev_s > t && now_s <= t)
        }
    };
    if !crossed {
        return None;
    }
    Some(if now_s >= 60 {
        ((now_s / 60) as u32, 0)
    } else {
        (0, now_s as u32)
    })
}

/// When the QR code counts as expired: `expires_at` if the backend sent a readable one, else
/// WeChat's documented two hours from `now`.
pub fn expiry(expires_at: Option<&str>, now: EpochMs) -> EpochMs {
    expires_at
        .and_then(crate::clock::parse_rfc3339)
        .unwrap_or(now + 2 * 3600 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_formats() {
        assert_eq!(format_remaining(2 * 3600 * 1000), "2:00:00");
        assert_eq!(format_remaining(7_199_001), "2:00:00");
        assert_eq!(format_remaining(7_199_000), "1:59:59");
        assert_eq!(format_remaining(3_600_000), "1:00:00");
        assert_eq!(format_remaining(3_599_000), "59:59");
        assert_eq!(format_remaining(300_000), "05:00");
        assert_eq!(format_remaining(9_500), "00:10");
        assert_eq!(format_remaining(1), "00:01");
        assert_eq!(format_remaining(0), "00:00");
        assert_eq!(format_remaining(-5_000), "00:00");
    }

    #[test]
    fn announces_on_appearance_and_at_thresholds_only() {
        assert_eq!(announcement(None, 7_200_000), Some((120, 0)));
        assert_eq!(announcement(None, 45_000), Some((0, 45)));
        // Every second of a 2-hour code: announcements only when a threshold is crossed.
        let mut said = Vec::new();
        let mut prev = Some(7_200_000);
        for left in (0..7_200_000i64).rev().step_by(1000) {
            if let Some(a) = announcement(prev, left) {
                said.push(a);
            }
            prev = Some(left);
        }
        assert_eq!(
            said,
            [
                (60, 0),
                (30, 0),
                (10, 0),
                (5, 0),
                (2, 0),
                (1, 0),
                (0, 30),
                (0, 10)
            ]
        );
        // A throttled tab that skips several thresholds at once speaks once.
        assert_eq!(announcement(Some(700_000), 50_000), Some((0, 50)));
        assert_eq!(announcement(Some(5_000), 0), None);
    }

    #[test]
    fn expiry_falls_back_to_two_hours() {
        assert_eq!(expiry(Some("2026-11-26T12:37:42Z"), 0), 1_795_696_662_000);
        assert_eq!(expiry(Some("tomorrow"), 1_000), 1_000 + 7_200_000);
        assert_eq!(expiry(None, 0), 7_200_000);
    }
}
