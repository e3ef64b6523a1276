//! Bounded, versioned keys and compare-and-swap updates over a
//! [`SharedStore`].
//!
//! Keys are `<namespace>:v1:<kind>:<slot>` with `slot < table size`, so the
//! key space is fixed by configuration however many identities, templates or
//! addresses are seen. Values are fixed-width little-endian words; a value of
//! the wrong width is a [`UpdateError::Decode`], never a silent zero.

use super::{SharedStore, StoreError};

/// Format version of every key and value layout in this crate.
pub const LAYOUT_VERSION: &str = "v1";

/// How many times a read-modify-write is retried after a cas mismatch before
/// giving up (Envoy workers rarely collide; a bounded loop keeps the data
/// path's cost bounded when they do).
pub const CAS_RETRIES: usize = 8;

/// `<ns>:v1:<kind>:<slot>`. Written by hand: a request reads and writes
/// about ten keys, and `format!` costs its formatting machinery for each.
pub fn slot_key(namespace: &str, kind: &str, slot: u64) -> String {
    let mut key = String::with_capacity(namespace.len() + LAYOUT_VERSION.len() + kind.len() + 23);
    for part in [namespace, ":", LAYOUT_VERSION, ":", kind, ":"] {
        key.push_str(part);
    }
    crate::decimal::push_u64(&mut key, slot);
    key
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateError {
    /// Every retry met a concurrent writer.
    GaveUp,
    /// The host failed the call.
    Store(StoreError),
    /// The stored bytes are not a valid value of the expected layout.
    Decode { key: String, len: usize, expected: usize },
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateError::GaveUp => write!(f, "gave up after {CAS_RETRIES} cas retries"),
            UpdateError::Store(e) => write!(f, "shared data call failed: {e:?}"),
            UpdateError::Decode { key, len, expected } => {
                write!(f, "value of {key} has {len} bytes, expected {expected}")
            }
        }
    }
}

/// Read-modify-write of one key: `f` gets the current value (`None` when the
/// key is missing) and returns the new one. Returns the value written.
///
/// A missing key is written with cas 0 (Envoy accepts any cas for a missing
/// key, so two workers creating the same key at the same moment can both
/// succeed and one creation is lost; the tables are small and long-lived, so
/// this happens at most once per slot).
pub fn cas_update<S, F>(store: &S, key: &str, mut f: F) -> Result<Vec<u8>, UpdateError>
where
    S: SharedStore + ?Sized,
    F: FnMut(Option<&[u8]>) -> Result<Vec<u8>, UpdateError>,
{
    for _ in 0..CAS_RETRIES {
        let current = store.get(key).map_err(UpdateError::Store)?;
        let (next, cas) = match &current {
            Some(v) => (f(Some(&v.value))?, v.cas),
            None => (f(None)?, 0),
        };
        match store.set(key, &next, cas) {
            Ok(()) => return Ok(next),
            Err(StoreError::CasMismatch) => continue,
            Err(e) => return Err(UpdateError::Store(e)),
        }
    }
    Err(UpdateError::GaveUp)
}

/// A read-modify-write callback of [`cas_update_dyn`].
pub type Update<'a> = dyn FnMut(Option<&[u8]>) -> Result<Vec<u8>, UpdateError> + 'a;

/// [`cas_update`] with the callback behind a `dyn`: one copy of the retry
/// loop for the fleet sync's keys (run per tick, not per request), where
/// each closure's instantiation was inlined into the timer's callbacks with
/// a loop of its own (issue 8: module size). Detection's writes keep the
/// generic: no indirect call on the request path.
#[inline(never)]
pub fn cas_update_dyn(store: &dyn SharedStore, key: &str, f: &mut Update<'_>) -> Result<Vec<u8>, UpdateError> {
    cas_update(store, key, f)
}

/// Decodes `N` little-endian u64 words; any other length is an error.
pub fn decode_words<const N: usize>(key: &str, bytes: &[u8]) -> Result<[u64; N], UpdateError> {
    if bytes.len() != N * 8 {
        return Err(UpdateError::Decode {
            key: key.to_owned(),
            len: bytes.len(),
            expected: N * 8,
        });
    }
    let mut out = [0u64; N];
    for (word, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *word = u64::from_le_bytes(b);
    }
    Ok(out)
}

/// Encodes words as fixed-width little-endian bytes.
pub fn encode_words(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// A count within a fixed time window, stored as `[window_start, count]`:
/// adds `n` and returns the count in the window that contains `now_secs`.
/// The window restarts (count from zero) once `window_secs` have passed.
/// Only the tests use it (to drive `cas_update` under contention).
#[cfg(test)]
pub fn window_add<S: SharedStore + ?Sized>(
    store: &S,
    key: &str,
    now_secs: u64,
    window_secs: u64,
    n: u64,
) -> Result<u64, UpdateError> {
    let window_secs = window_secs.max(1);
    let start = now_secs - now_secs % window_secs;
    let written = cas_update(store, key, |cur| {
        let [w_start, count] = match cur {
            Some(bytes) => decode_words::<2>(key, bytes)?,
            None => [start, 0],
        };
        let count = if w_start == start { count.saturating_add(n) } else { n };
        Ok(encode_words(&[start, count]))
    })?;
    let [_, count] = decode_words::<2>(key, &written)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use std::sync::Arc;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn keys_are_what_format_wrote() {
        let mut draws = crate::hash::TestDraws(21);
        let mut slots: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 4095, 65_535, u64::MAX, u64::MAX / 10];
        slots.extend((0..20).map(|k| 10u64.pow(k) - 1).chain((0..20).map(|k| 10u64.pow(k))));
        slots.extend((0..500).map(|i| draws.next_u64() >> (i % 64)));
        for slot in slots {
            for (ns, kind) in [("dg", "id5"), ("", ""), ("a:b", "tpl4")] {
                assert_eq!(slot_key(ns, kind, slot), format!("{ns}:{LAYOUT_VERSION}:{kind}:{slot}"));
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn keys_are_versioned_and_slotted() {
        assert_eq!(slot_key("dg", "id-rate", 17), "dg:v1:id-rate:17");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn window_counts_and_restarts() {
        let s = MemoryStore::new();
        assert_eq!(window_add(&s, "k", 100, 60, 1).unwrap(), 1);
        assert_eq!(window_add(&s, "k", 119, 60, 2).unwrap(), 3);
        // 120 starts a new minute.
        assert_eq!(window_add(&s, "k", 120, 60, 1).unwrap(), 1);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn undecodable_value_is_an_error_not_zero() {
        let s = MemoryStore::new();
        s.set("k", b"abc", 0).unwrap();
        let err = window_add(&s, "k", 0, 60, 1).unwrap_err();
        assert!(
            matches!(
                err,
                UpdateError::Decode {
                    len: 3,
                    expected: 16,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    /// A store whose first `n` sets lose a race.
    struct Contended {
        inner: MemoryStore,
        losses: std::cell::Cell<usize>,
    }
    impl SharedStore for Contended {
        fn get(&self, key: &str) -> Result<Option<crate::store::Versioned>, StoreError> {
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
            if self.losses.get() > 0 {
                self.losses.set(self.losses.get() - 1);
                return Err(StoreError::CasMismatch);
            }
            self.inner.set(key, value, cas)
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn retries_are_bounded() {
        let s = Contended {
            inner: MemoryStore::new(),
            losses: std::cell::Cell::new(3),
        };
        assert_eq!(window_add(&s, "k", 0, 60, 1).unwrap(), 1);
        let s = Contended {
            inner: MemoryStore::new(),
            losses: std::cell::Cell::new(CAS_RETRIES),
        };
        assert_eq!(window_add(&s, "k", 0, 60, 1), Err(UpdateError::GaveUp));
    }

    #[test]
    fn concurrent_increments_are_not_lost() {
        let s = Arc::new(MemoryStore::new());
        window_add(&*s, "k", 0, 3600, 0).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = Arc::clone(&s);
                std::thread::spawn(move || {
                    let mut gave_up = 0;
                    for _ in 0..500 {
                        // Retry on give-up so the final count must be exact.
                        while window_add(&*s, "k", 1, 3600, 1).is_err() {
                            gave_up += 1;
                        }
                    }
                    gave_up
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(window_add(&*s, "k", 1, 3600, 0).unwrap(), 2000);
    }
}
