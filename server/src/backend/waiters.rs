//! Wake-ups for long-polling `GET /api/orders/{id}?wait=N`.
//!
//! One `watch` channel per order that somebody is waiting on; a state change pokes it. The
//! channel only says "look again" — the waiter re-reads the store, which stays the truth. On
//! PostgreSQL, changes made by other instances poke it too ([`crate::store::changes`]); on a
//! SQLite file shared by processes they are seen at the waiter's next periodic re-read.

use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::watch;

#[derive(Default)]
pub struct Waiters {
    channels: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl Waiters {
    /// A receiver that changes when `notify(order_id)` is called.
    pub fn subscribe(&self, order_id: &str) -> watch::Receiver<u64> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        // Drop channels nobody listens to any more, so the map stays as small as the waiters.
        map.retain(|_, tx| tx.receiver_count() > 0);
        map.entry(order_id.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// Pokes every waiter (after a gap in what we heard of other instances' changes).
    pub fn notify_all(&self) {
        let map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        for tx in map.values() {
            tx.send_modify(|v| *v += 1);
        }
    }

    pub fn notify(&self, order_id: &str) {
        let map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = map.get(order_id) {
            tx.send_modify(|v| *v += 1);
        }
    }
}
