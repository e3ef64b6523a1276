//! The static per-identity rate limit (`limits.identity_requests_per_minute`),
//! counted in shared data so every Envoy worker sees the same count.
//!
//! Identities hash into a fixed table of slots; each slot remembers which
//! identity owns it this minute, so two identities that share a slot never
//! add up to a false throttle (the newcomer is simply not limited until the
//! slot frees, at the next minute).

use crate::config::Settings;
use crate::host::Host;
use crate::identity::Identity;
use crate::metrics::Counter;
use crate::store::counters::{cas_update, decode_words, encode_words, slot_key, UpdateError};

/// Slots in the table: bounds the shared-data keys this limit can create.
pub const SLOTS: u64 = 8192;
const WINDOW_SECS: u64 = 60;

/// `Some(retry_after_secs)` when this request exceeds the limit.
pub fn check_identity(settings: &Settings, id: &Identity, now: f64, host: &Host<'_>) -> Option<u64> {
    let limit = settings.identity_requests_per_minute;
    if limit == 0 {
        return None;
    }
    let now = if now.is_finite() && now > 0.0 { now as u64 } else { 0 };
    let start = now - now % WINDOW_SECS;
    let key = slot_key(&settings.namespace, "idrate", id.hash % SLOTS);
    let result = cas_update(host.store, &key, |cur| {
        let [w, owner, count] = match cur {
            Some(bytes) => decode_words::<3>(&key, bytes)?,
            None => [start, id.hash, 0],
        };
        let next = if w != start || count == 0 {
            [start, id.hash, 1]
        } else if owner == id.hash {
            [w, owner, count.saturating_add(1)]
        } else {
            [w, owner, count]
        };
        Ok(encode_words(&next))
    });
    match result.and_then(|bytes| decode_words::<3>(&key, &bytes)) {
        Ok([_, owner, count]) if owner == id.hash && count > limit => {
            Some((start + WINDOW_SECS).saturating_sub(now).max(1))
        }
        Ok(_) => None,
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
