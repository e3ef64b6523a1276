//! The static per-identity rate limit (`limits.identity_requests_per_minute`),
//! counted in shared data so every Envoy worker sees the same count.
//!
//! A token bucket in its GCRA form (one number per identity, the
//! "theoretical arrival time" `tat`): `limit` requests may arrive at once,
//! then one every `60 / limit` seconds; a denied request uses nothing.
//! Counting in minutes aligned to the clock released every throttled
//! identity at the same second, each with a fresh allowance (twice the
//! limit across a boundary); a bucket refills continuously and each
//! identity's release is its own. `Retry-After` is exactly when the bucket
//! lets the next request through.
//!
//! Identities hash into a fixed table of slots; each slot remembers which
//! identity owns it, so two identities that share a slot never add up to a
//! false throttle: the newcomer is not limited until the incumbent's bucket
//! is full again (it has sent nothing for a minute), then takes the slot.
//!
//! Record (`idrate2`, 16 B): `[tat_ms, owner]`, `tat_ms` in milliseconds
//! since the epoch.

use crate::config::Settings;
use crate::host::Host;
use crate::identity::Identity;
use crate::metrics::Counter;
use crate::store::counters::{cas_update, decode_words, encode_words, slot_key, UpdateError};

/// Slots in the table: bounds the shared-data keys this limit can create.
pub const SLOTS: u64 = 8192;
const WINDOW_MS: u64 = 60_000;
/// The table's name in shared-data keys (`2`: a token bucket; `idrate`
/// counted in clock-aligned minutes).
const TABLE: &str = "idrate2";

/// What the bucket says about one request at `now_ms`, and the record after
/// it: `Some(wait_ms)` when it is over the limit (the record unchanged).
fn bucket(stored: Option<[u64; 2]>, id: u64, limit: u64, now_ms: u64) -> ([u64; 2], Option<u64>) {
    let interval = (WINDOW_MS / limit.max(1)).max(1);
    let tolerance = interval.saturating_mul(limit.max(1) - 1);
    let tat = match stored {
        Some([tat, owner]) if owner == id => tat.max(now_ms),
        // Another identity's bucket, not yet full again: not ours to count.
        Some([tat, owner]) if tat > now_ms => return ([tat, owner], None),
        _ => now_ms,
    };
    let early = tat.saturating_sub(now_ms);
    if early > tolerance {
        let kept = stored.unwrap_or([tat, id]);
        return (kept, Some(early - tolerance));
    }
    ([tat.saturating_add(interval), id], None)
}

/// `Some(retry_after_secs)` when this request exceeds the limit.
pub fn check_identity(settings: &Settings, id: &Identity, now: f64, host: &Host<'_>) -> Option<u64> {
    let limit = settings.identity_requests_per_minute;
    if limit == 0 {
        return None;
    }
    let now_ms = if now.is_finite() && now > 0.0 {
        (now * 1000.0) as u64
    } else {
        0
    };
    let key = slot_key(&settings.namespace, TABLE, id.hash % SLOTS);
    let mut wait_ms = None;
    let result = cas_update(host.store, &key, |cur| {
        let stored = cur.map(|bytes| decode_words::<2>(&key, bytes)).transpose()?;
        let (next, wait) = bucket(stored, id.hash, limit, now_ms);
        wait_ms = wait;
        Ok(encode_words(&next))
    });
    match result {
        // Whole seconds, rounded up: a client back after exactly that long
        // is through.
        Ok(_) => wait_ms.map(|ms| ms.div_ceil(1000).max(1)),
        Err(UpdateError::GaveUp) => {
            host.metrics.incr(Counter::CasGaveUp);
            None
        }
        Err(_) => {
            host.metrics.incr(Counter::StoreError);
            None
        }
    }
}
