//! The refund model: a refund's status at WeChat and which status may follow which.
//!
//! A refund is saved PENDING *before* WeChat is asked, under its `out_refund_no` (WeChat's
//! idempotency key), so a crash or a timeout in between leaves a record that can be asked again
//! with the same key — never a second refund. Statuses only move forward, so duplicate or late
//! notifications change nothing.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A refund's status (WeChat's, plus PENDING: saved, WeChat's answer not yet known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundStatus {
    Pending,
    Processing,
    Success,
    Closed,
    Abnormal,
}

impl RefundStatus {
    pub const ALL: [RefundStatus; 5] = [
        RefundStatus::Pending,
        RefundStatus::Processing,
        RefundStatus::Success,
        RefundStatus::Closed,
        RefundStatus::Abnormal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "PENDING",
            RefundStatus::Processing => "PROCESSING",
            RefundStatus::Success => "SUCCESS",
            RefundStatus::Closed => "CLOSED",
            RefundStatus::Abnormal => "ABNORMAL",
        }
    }

    /// The statuses a refund may be in for a move to `self`.
    pub fn sources(self) -> &'static [RefundStatus] {
        use RefundStatus::*;
        match self {
            Pending => &[],
            Processing => &[Pending],
            Success | Closed | Abnormal => &[Pending, Processing],
        }
    }

    /// Whether the money of this refund is (or may still be) on its way back: it counts against
    /// what is left to refund.
    pub fn holds_amount(self) -> bool {
        !matches!(self, RefundStatus::Closed)
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RefundStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RefundStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown refund status {s:?}; expected one of PENDING, PROCESSING, SUCCESS, CLOSED, ABNORMAL"))
    }
}

#[cfg(test)]
mod tests {
    use super::RefundStatus::*;

    #[test]
    fn statuses_only_move_forward() {
        assert!(Success.sources().contains(&Processing));
        assert!(!Processing.sources().contains(&Success));
        assert!(!Success.sources().contains(&Success));
        for s in super::RefundStatus::ALL {
            assert_eq!(s.as_str().parse::<super::RefundStatus>(), Ok(s));
        }
        assert!(!Closed.holds_amount() && Abnormal.holds_amount());
    }
}
