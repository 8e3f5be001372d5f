//! Keeping notifications for audit without letting strangers fill the disk.
//!
//! `notify_url` is public by necessity. An *authenticated* notification is kept whole: it is
//! evidence about money. One that did not authenticate is kept as what an audit needs — size,
//! SHA-256, the relevant headers, the first [`BODY_HEAD_BYTES`] — in a store capped by rows and
//! bytes (`rejected_notifications_max_rows` / `_max_bytes`, oldest dropped). Bodies over
//! [`MAX_NOTIFICATION_BYTES`] are not even read (WeChat's are a few KB). At most
//! [`REJECTED_WRITERS`] rejected ones are written at once; beyond that they are logged, not
//! stored, so a flood of forgeries cannot take the database connections real notifications and
//! pages need.

use super::Backend;
use crate::store::{NotificationRecord, RejectedCap, RejectedNotification, StoreError};
use crate::timefmt::unix_now;
use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// Largest notification body read (WeChat's are a few KB); larger ones get 413.
pub const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;
/// Rejected notifications written at once; more arriving meanwhile are only logged.
pub const REJECTED_WRITERS: usize = 2;
/// How much of an unauthenticated body is kept.
pub const BODY_HEAD_BYTES: usize = 4096;
/// How much of each audited header value is kept.
const HEADER_VALUE_BYTES: usize = 256;
/// The headers an audit of a notification needs.
const AUDITED_HEADERS: [&str; 9] = [
    "Wechatpay-Timestamp",
    "Wechatpay-Nonce",
    "Wechatpay-Signature",
    "Wechatpay-Serial",
    "Wechatpay-Signature-Type",
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Forwarded-For",
];

/// The audited headers present in `headers`, as a JSON object, each value cut to a bounded size.
pub fn audited_headers(headers: &HeaderMap) -> String {
    let mut m = Map::new();
    for name in AUDITED_HEADERS {
        if let Some(v) = headers.get(name) {
            let text = String::from_utf8_lossy(v.as_bytes());
            m.insert(name.into(), Value::String(cut(&text, HEADER_VALUE_BYTES)));
        }
    }
    Value::Object(m).to_string()
}

fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The message WeChat gets for a notification that was applied but could not be kept: not
/// acknowledged, so it is sent again (and recognised as a duplicate, and kept, then).
pub(super) const NOT_KEPT: &str =
    "storage_unavailable: the notification could not be recorded; send it again";

impl Backend {
    fn rejected_cap(&self) -> RejectedCap {
        RejectedCap {
            max_rows: self.cfg.rejected_notifications_max_rows,
            max_bytes: self.cfg.rejected_notifications_max_bytes,
        }
    }

    /// Keeps a notification for audit: whole when `authentic`, bounded otherwise. False when an
    /// authentic one could not be kept: then it must not be acknowledged (WeChat sends it again,
    /// and it is kept then), so that every acknowledged notification is on record.
    #[must_use]
    pub(super) async fn audit(
        &self,
        api: &str,
        headers: &HeaderMap,
        body: &[u8],
        authentic: Option<String>,
        verdict: String,
    ) -> bool {
        let must_keep = authentic.is_some();
        let kept = match authentic {
            Some(out_trade_no) => self
                .store
                .record_notification(NotificationRecord {
                    received_at: unix_now(),
                    api_version: api.into(),
                    headers: audited_headers(headers),
                    body: body.to_vec(),
                    out_trade_no: Some(out_trade_no),
                    verdict,
                })
                .await
                .map(|_| ()),
            None => {
                let record = RejectedNotification {
                    received_at: unix_now(),
                    api_version: api.into(),
                    headers: audited_headers(headers),
                    body_head: body[..body.len().min(BODY_HEAD_BYTES)].to_vec(),
                    body_size: body.len() as u64,
                    body_sha256: Some(sha256_hex(body)),
                    verdict: cut(&verdict, 512),
                };
                self.keep_rejected(record).await
            }
        };
        match kept {
            Ok(()) => true,
            Err(e) => {
                tracing::error!("could not keep a notification for audit: {e}");
                !must_keep
            }
        }
    }

    /// Keeps a rejected notification in the capped store, unless [`REJECTED_WRITERS`] are being
    /// written already: then it is only logged (a flood must not take the connections real
    /// notifications and pages need).
    async fn keep_rejected(&self, record: RejectedNotification) -> Result<(), StoreError> {
        let Ok(_slot) = self.rejected_writers.try_acquire() else {
            tracing::warn!(
                "{} notification rejected ({}); not stored: {REJECTED_WRITERS} rejected ones are being written already (a flood?)",
                record.api_version,
                record.verdict
            );
            return Ok(());
        };
        self.store
            .record_rejected(record, self.rejected_cap())
            .await
    }

    /// Keeps what is known of a body too large to read: its headers and announced size.
    pub(super) async fn audit_oversized(&self, api: &str, headers: &HeaderMap) {
        let announced = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        tracing::warn!(
            "{api} notification of {announced} bytes refused: over {MAX_NOTIFICATION_BYTES}"
        );
        let record = RejectedNotification {
            received_at: unix_now(),
            api_version: api.into(),
            headers: audited_headers(headers),
            body_head: Vec::new(),
            body_size: announced,
            body_sha256: None,
            verdict: format!("rejected: too_large: over {MAX_NOTIFICATION_BYTES} bytes; not read"),
        };
        if let Err(e) = self.keep_rejected(record).await {
            tracing::error!("could not keep a notification for audit: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_of_abc() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
