//! In-memory [`SharedStore`] with Envoy's compare-and-swap rules; used by the
//! offline replay and the tests. Thread-safe, so tests can hammer it from
//! several threads the way Envoy workers do.

use std::sync::Mutex;

use crate::fastmap::{fast_map, FastMap};

use super::{SharedStore, StoreError, Versioned};

pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore {
            inner: Mutex::new(Inner {
                map: fast_map(),
                last_cas: 0,
            }),
        }
    }
}

struct Inner {
    map: FastMap<String, (Vec<u8>, u32)>,
    last_cas: u32,
}

impl Inner {
    /// Like Envoy's `nextCas`: monotonically increasing, never 0.
    fn next_cas(&mut self) -> u32 {
        self.last_cas = self.last_cas.wrapping_add(1);
        if self.last_cas == 0 {
            self.last_cas = 1;
        }
        self.last_cas
    }
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Number of keys held: lets tests prove the key space stays bounded.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.lock().map(|g| g.map.len()).unwrap_or(0)
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every key, sorted (tests and the flood benchmark's per-table bytes).
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .inner
            .lock()
            .map(|g| g.map.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }
}

impl SharedStore for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let guard = self.inner.lock().map_err(|_| StoreError::Host)?;
        Ok(guard.map.get(key).map(|(value, cas)| Versioned {
            value: value.clone(),
            cas: *cas,
        }))
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        let mut guard = self.inner.lock().map_err(|_| StoreError::Host)?;
        if let Some((_, current)) = guard.map.get(key) {
            if cas != 0 && cas != *current {
                return Err(StoreError::CasMismatch);
            }
        }
        let next = guard.next_cas();
        guard.map.insert(key.to_owned(), (value.to_vec(), next));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn follows_envoy_cas_rules() {
        let s = MemoryStore::new();
        assert_eq!(s.get("a"), Ok(None));
        // A missing key is written whatever the cas.
        s.set("a", b"1", 77).unwrap();
        let v = s.get("a").unwrap().unwrap();
        assert_eq!(v.value, b"1");
        assert_ne!(v.cas, 0);
        // Stale cas refused, current cas accepted, zero always accepted.
        assert_eq!(s.set("a", b"2", v.cas.wrapping_add(1)), Err(StoreError::CasMismatch));
        s.set("a", b"2", v.cas).unwrap();
        assert_eq!(s.set("a", b"3", v.cas), Err(StoreError::CasMismatch));
        s.set("a", b"4", 0).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().value, b"4");
    }
}
