//! Notifications to the merchant after a payment, the way WeChat sends them.
//!
//! v3: JSON envelope, resource encrypted with AES-256-GCM under the APIv3 key, `Wechatpay-*`
//! headers signed with the platform key (re-signed on each retry, as the timestamp changes).
//! v2: XML signed with the v2 key. A delivery counts when the merchant answers 2xx (v3) or
//! `return_code` SUCCESS (v2); otherwise WeChat retries 15 times over about 24 hours.

use super::ledger::{Api, Delivery, SimOrder};
use super::{now, SimInner};
use crate::devkeys::random_alnum;
use crate::timefmt::beijing_rfc3339;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wxpay_sign::{v2, v3};

/// WeChat's retry delays after a failed delivery, in seconds
/// (15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h).
pub const RETRY_SCHEDULE_SECS: [u64; 15] = [
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/// Starts delivering the notification for a just-paid order, in the background.
pub(crate) fn spawn_delivery(sim: Arc<SimInner>, order: SimOrder) {
    tokio::spawn(async move {
        sim.count_payment().await;
        let body = match build_body(&sim, &order) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!("simulator: cannot build notification: {e}");
                return;
            }
        };
        let mut delays = RETRY_SCHEDULE_SECS.iter();
        for attempt in 0.. {
            let (status, accepted) = deliver_once(&sim, &order, &body).await;
            sim.ledger().deliveries.push(Delivery {
                out_trade_no: order.params.out_trade_no.clone(),
                attempt,
                status,
                accepted,
                at: now(),
            });
            // Accepted, or the 15 retries are spent: WeChat gives up (the merchant must query).
            let Some(delay) = delays.next().filter(|_| !accepted) else {
                return;
            };
            let delay = *delay as f64 / sim.cfg.retry_compression.max(1e-9);
            tokio::time::sleep(Duration::from_secs_f64(delay)).await;
        }
    });
}

fn build_body(sim: &SimInner, order: &SimOrder) -> Result<Vec<u8>, wxpay_sign::Error> {
    match order.params.api {
        Api::V3 => {
            let plaintext = super::v3::transaction_json(order).to_string();
            let nonce = random_alnum(12);
            let ciphertext = v3::encrypt_resource(
                &sim.cfg.apiv3_key,
                &nonce,
                "transaction",
                plaintext.as_bytes(),
            )?;
            Ok(json!({
                "id": format!("{}-{}-{}", random_alnum(8), random_alnum(4), random_alnum(12)),
                "create_time": beijing_rfc3339(now()),
                "resource_type": "encrypt-resource",
                "event_type": "TRANSACTION.SUCCESS",
                "summary": "支付成功",
                "resource": {
                    "original_type": "transaction",
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": ciphertext,
                    "associated_data": "transaction",
                    "nonce": nonce,
                },
            })
            .to_string()
            .into_bytes())
        }
        Api::V2 => {
            let mut p = super::v2::transaction_fields(order);
            p.insert("return_code".into(), "SUCCESS".into());
            p.insert("result_code".into(), "SUCCESS".into());
            p.insert("appid".into(), order.params.appid.clone());
            p.insert("mch_id".into(), order.params.mchid.clone());
            p.insert("nonce_str".into(), wxpay_sign::nonce::nonce_str());
            let sign = v2::sign(&p, &sim.cfg.v2_key, order.sign_type);
            p.insert("sign".into(), sign);
            Ok(v2::to_xml(&p).into_bytes())
        }
    }
}

/// One POST to notify_url: (status if any answer, accepted?).
async fn deliver_once(sim: &SimInner, order: &SimOrder, body: &[u8]) -> (Option<u16>, bool) {
    let mut req = sim.http.post(&order.params.notify_url).body(body.to_vec());
    match order.params.api {
        Api::V3 => {
            let (ts, nonce) = (now(), wxpay_sign::nonce::nonce_str());
            let key = sim.platform_key();
            let Ok(signature) = v3::sign_response(&key.private, ts, &nonce, body) else {
                return (None, false);
            };
            req = req
                .header("Content-Type", super::v3::JSON_UTF8)
                .header("Wechatpay-Timestamp", ts.to_string())
                .header("Wechatpay-Nonce", nonce)
                .header("Wechatpay-Signature", signature)
                .header("Wechatpay-Serial", key.id.clone())
                .header("Wechatpay-Signature-Type", super::v3::SIGNATURE_TYPE);
        }
        Api::V2 => req = req.header("Content-Type", "text/xml"),
    }
    let Ok(resp) = req.send().await else {
        return (None, false);
    };
    let status = resp.status();
    let text = resp.bytes().await.unwrap_or_default();
    let accepted = status.is_success()
        && match order.params.api {
            Api::V3 => true,
            Api::V2 => v2_reply_accepted(&text),
        };
    (Some(status.as_u16()), accepted)
}

/// Whether a merchant's answer to a v2 notification says `return_code` SUCCESS.
pub(super) fn v2_reply_accepted(body: &[u8]) -> bool {
    v2::parse_xml(body)
        .ok()
        .and_then(|p| p.get("return_code").cloned())
        .as_deref()
        == Some("SUCCESS")
}
