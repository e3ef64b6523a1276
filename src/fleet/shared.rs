//! A host's fleet bookkeeping in shared data, common to its workers: the
//! slots touched since the last sync (each worker adds its own every tick;
//! the syncing worker takes them), the host's id, the service cursor, and
//! whether the fleet is currently unreachable (one log line per episode).
//! Every key is fixed; the pending list is bounded in bytes.

use super::tables::Table;
use super::touched::Touched;
use crate::store::counters::{cas_update_dyn, decode_words, encode_words};
use crate::store::SharedStore;

/// Not inlined: six callers, each with its own `format!` (issue 8).
#[inline(never)]
fn key(namespace: &str, what: &str) -> String {
    format!("{namespace}:v1:fleet:{what}")
}

/// Moves a worker's touched slots into the host's pending list (at most
/// `cap` entries; the rest are dropped and counted). Returns how many were
/// dropped; on a failed write the slots stay in `local`.
pub fn flush(store: &dyn SharedStore, namespace: &str, local: &mut Touched, cap: usize) -> u64 {
    if local.is_empty() {
        return 0;
    }
    let entries = local.take();
    let k = key(namespace, "pending");
    let mut dropped = 0;
    let result = cas_update_dyn(store, &k, &mut |cur| {
        let mut all = Touched::new(cap);
        all.extend_encoded(cur.unwrap_or(&[]));
        for (t, s) in &entries {
            all.insert(*t, u64::from(*s));
        }
        dropped = all.dropped;
        Ok(Touched::encode(&all.take()))
    });
    if result.is_err() {
        for (t, s) in entries {
            local.insert(t, u64::from(s));
        }
        return 0;
    }
    dropped
}

/// Takes the host's pending slots (the list is emptied).
pub fn take_pending(store: &dyn SharedStore, namespace: &str) -> Vec<(Table, u32)> {
    let k = key(namespace, "pending");
    let mut taken = Vec::new();
    let result = cas_update_dyn(store, &k, &mut |cur| {
        let mut all = Touched::new(usize::MAX);
        all.extend_encoded(cur.unwrap_or(&[]));
        taken = all.take();
        Ok(Vec::new())
    });
    if result.is_err() {
        return Vec::new();
    }
    taken
}

/// The host's id: the first worker's `candidate` wins, every worker then
/// reads the same one.
pub fn host_id(store: &dyn SharedStore, namespace: &str, candidate: u64) -> u64 {
    let k = key(namespace, "host");
    let written = cas_update_dyn(store, &k, &mut |cur| match cur {
        Some(b) if b.len() == 8 => Ok(b.to_vec()),
        _ => Ok(encode_words(&[candidate.max(1)])),
    });
    written
        .ok()
        .and_then(|b| decode_words::<1>(&k, &b).ok())
        .map_or(candidate.max(1), |[id]| id)
}

/// The cursor of the host's last answer (0: none yet).
pub fn cursor(store: &dyn SharedStore, namespace: &str) -> u64 {
    let k = key(namespace, "cursor");
    match store.get(&k) {
        Ok(Some(v)) => decode_words::<1>(&k, &v.value).map_or(0, |[c]| c),
        _ => 0,
    }
}

pub fn set_cursor(store: &dyn SharedStore, namespace: &str, cursor: u64) {
    let _ = cas_update_dyn(store, &key(namespace, "cursor"), &mut |_| Ok(encode_words(&[cursor])));
}

/// Records whether the fleet is reachable; true when that changed (the
/// caller logs once per episode).
pub fn set_down(store: &dyn SharedStore, namespace: &str, down: bool) -> bool {
    let k = key(namespace, "down");
    let was = matches!(store.get(&k), Ok(Some(v)) if v.value == b"1");
    if was == down {
        return false;
    }
    cas_update_dyn(store, &k, &mut |_| Ok(if down { b"1".to_vec() } else { b"0".to_vec() })).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn workers_pool_their_slots_bounded_and_the_syncer_takes_them() {
        let s = MemoryStore::new();
        let mut a = Touched::new(100);
        a.insert(Table::Identity, 1);
        a.insert(Table::Template, 2);
        let mut b = Touched::new(100);
        b.insert(Table::Identity, 1);
        b.insert(Table::Network, 3);
        b.insert(Table::Network, 4);
        assert_eq!(flush(&s, "dg", &mut a, 3), 0);
        assert_eq!(flush(&s, "dg", &mut b, 3), 1, "one over the cap");
        assert!(a.is_empty() && b.is_empty());
        assert_eq!(take_pending(&s, "dg").len(), 3);
        assert!(take_pending(&s, "dg").is_empty());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn host_id_cursor_and_episodes() {
        let s = MemoryStore::new();
        assert_eq!(host_id(&s, "dg", 7), 7);
        assert_eq!(host_id(&s, "dg", 9), 7, "the first worker's id stands");
        assert_eq!(cursor(&s, "dg"), 0);
        set_cursor(&s, "dg", 42);
        assert_eq!(cursor(&s, "dg"), 42);
        assert!(set_down(&s, "dg", true));
        assert!(!set_down(&s, "dg", true), "one log per episode");
        assert!(set_down(&s, "dg", false));
        assert!(!set_down(&s, "dg", false));
    }
}
