//! One worker per host syncs: a lease in shared data. Every worker's root
//! context ticks; each tick a worker reads the lease `[holder, expires_ms,
//! last_sync_ms]` and, when it holds it or it has expired, renews it with a
//! compare-and-swap. The holder syncs when `period` has passed since the
//! last sync, recording the time in the same write, so two workers cannot
//! both start a sync for the same interval. A holder that stops ticking
//! (its VM gone) loses the lease after three periods.

use crate::store::counters::{cas_update_dyn, decode_words, encode_words, UpdateError};
use crate::store::SharedStore;

/// The lease key under `namespace`.
pub fn key(namespace: &str) -> String {
    format!("{namespace}:v1:fleet:lease")
}

/// True when worker `me` holds the lease at `now_ms` and a sync is due; the
/// lease then records `now_ms` as the last sync.
pub fn due(store: &dyn SharedStore, namespace: &str, me: u64, now_ms: u64, period_ms: u64) -> bool {
    let key = key(namespace);
    let mut start = false;
    let result = cas_update_dyn(store, &key, &mut |cur| {
        start = false;
        let [holder, expires, last] = match cur {
            Some(b) => decode_words::<3>(&key, b).unwrap_or([0; 3]),
            None => [0; 3],
        };
        if holder != me && expires > now_ms {
            return Err(UpdateError::GaveUp);
        }
        let due = now_ms.saturating_sub(last) >= period_ms;
        start = due;
        let last = if due { now_ms } else { last };
        Ok(encode_words(&[me, now_ms + 3 * period_ms, last]))
    });
    result.is_ok() && start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn one_worker_syncs_once_per_period_and_takes_over_when_one_dies() {
        let s = MemoryStore::new();
        // Four workers tick every 500 ms for 20 s: one sync per 5 s.
        let mut syncs = Vec::new();
        for t in (100_000..120_000).step_by(500) {
            for w in 1..=4u64 {
                if due(&s, "dg", w, t, 5_000) {
                    syncs.push((t, w));
                }
            }
        }
        assert_eq!(syncs, vec![(100_000, 1), (105_000, 1), (110_000, 1), (115_000, 1)]);
        // Worker 1 stops; after the lease expires another one syncs.
        let mut after = Vec::new();
        for t in (120_000..140_000).step_by(500) {
            for w in 2..=4u64 {
                if due(&s, "dg", w, t, 5_000) {
                    after.push((t, w));
                }
            }
        }
        // Three periods after its last tick (119.5 s).
        assert_eq!(after.first(), Some(&(134_500, 2)), "{after:?}");
        assert!(after.iter().all(|(_, w)| *w == 2));
    }
}
