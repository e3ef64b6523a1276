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

    /// Every key, sorted (tests, `tests/slot_placement.rs` among them; the
    /// flood benchmark reads [`MemoryStore::table_sizes`]).
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

/// Keys, key text bytes and value bytes of one table
/// (`<ns>:v1:<table>:<slot>`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TableSize {
    pub table: String,
    pub keys: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

impl MemoryStore {
    /// What the store holds, per table, in table order: how the flood
    /// bench (`sim::flood_bench`) weighs the shared data.
    pub fn table_sizes(&self) -> Vec<TableSize> {
        let mut by: std::collections::BTreeMap<String, TableSize> = std::collections::BTreeMap::new();
        let Ok(guard) = self.inner.lock() else {
            return Vec::new();
        };
        for (key, (value, _)) in guard.map.iter() {
            let table = key.split(':').nth(2).unwrap_or("?").to_owned();
            let e = by.entry(table.clone()).or_insert(TableSize {
                table,
                keys: 0,
                key_bytes: 0,
                value_bytes: 0,
            });
            e.keys += 1;
            e.key_bytes += key.len() as u64;
            e.value_bytes += value.len() as u64;
        }
        by.into_values().collect()
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

    #[wasm_bindgen_test(unsupported = test)]
    fn sizes_per_table() {
        let s = MemoryStore::new();
        s.set("dg:v1:id2:1", &[0; 16], 0).unwrap();
        s.set("dg:v1:id2:2", &[0; 16], 0).unwrap();
        s.set("dg:v1:net2:7", &[0; 8], 0).unwrap();
        let t = s.table_sizes();
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].table.as_str(), t[0].keys, t[0].key_bytes, t[0].value_bytes),
            ("id2", 2, 22, 32)
        );
        assert_eq!((t[1].table.as_str(), t[1].keys, t[1].value_bytes), ("net2", 1, 8));
    }
}
