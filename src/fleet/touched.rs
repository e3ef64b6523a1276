//! Which slots changed since the last sync: a bounded set, and a store
//! wrapper that fills it from the writes detection makes.
//!
//! Bounded in entries (so in bytes: five bytes an entry when flushed to
//! shared data); what does not fit is counted as dropped and reaches the
//! fleet the next time its slot is written.

use std::cell::RefCell;
use std::collections::BTreeSet;

use super::tables::{parse_key, Table};
use crate::store::{SharedStore, StoreError, Versioned};

/// A bounded set of `(table, slot)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    set: BTreeSet<(Table, u32)>,
    cap: usize,
    /// Slots refused because the set was full, since the last take.
    pub dropped: u64,
}

impl Touched {
    pub fn new(cap: usize) -> Touched {
        Touched {
            set: BTreeSet::new(),
            cap,
            dropped: 0,
        }
    }

    pub fn insert(&mut self, table: Table, slot: u64) {
        let Ok(slot) = u32::try_from(slot) else {
            return;
        };
        if self.set.len() < self.cap || self.set.contains(&(table, slot)) {
            self.set.insert((table, slot));
        } else {
            self.dropped += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    /// Everything touched, oldest-first order not kept; the set is emptied.
    pub fn take(&mut self) -> Vec<(Table, u32)> {
        self.dropped = 0;
        std::mem::take(&mut self.set).into_iter().collect()
    }

    /// Five bytes an entry: table id, slot (LE u32).
    pub fn encode(entries: &[(Table, u32)]) -> Vec<u8> {
        let mut out = Vec::with_capacity(entries.len() * 5);
        for (t, s) in entries {
            out.push(t.id());
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Adds encoded entries (bad ones are skipped).
    pub fn extend_encoded(&mut self, bytes: &[u8]) {
        for e in bytes.chunks_exact(5) {
            let (id, slot) = e.split_at(1);
            let mut b = [0u8; 4];
            b.copy_from_slice(slot);
            if let Some(t) = id.first().copied().and_then(Table::from_id) {
                self.insert(t, u64::from(u32::from_le_bytes(b)));
            }
        }
    }
}

/// A store that notes every detection slot written through it.
pub struct Touching<'a> {
    pub inner: &'a dyn SharedStore,
    pub namespace: &'a str,
    pub touched: &'a RefCell<Touched>,
}

impl SharedStore for Touching<'_> {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.inner.get(key)
    }

    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        self.inner.set(key, value, cas)?;
        if let Some((t, slot)) = parse_key(self.namespace, key) {
            if let Ok(mut touched) = self.touched.try_borrow_mut() {
                touched.insert(t, slot);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn bounded_and_round_trips() {
        let mut t = Touched::new(2);
        t.insert(Table::Identity, 5);
        t.insert(Table::Identity, 5);
        t.insert(Table::Template, 1);
        t.insert(Table::Network, 9);
        assert_eq!((t.len(), t.dropped), (2, 1));
        let entries = t.take();
        assert!(t.is_empty() && t.dropped == 0);
        let mut back = Touched::new(10);
        back.extend_encoded(&Touched::encode(&entries));
        back.extend_encoded(&[0, 1, 2]);
        assert_eq!(back.take(), entries);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn writes_through_the_wrapper_are_noted() {
        let inner = MemoryStore::new();
        let touched = RefCell::new(Touched::new(10));
        let s = Touching {
            inner: &inner,
            namespace: "dg",
            touched: &touched,
        };
        s.set("dg:v1:id5:7", b"x", 0).unwrap();
        s.set("dg:v1:once:started", b"1", 0).unwrap();
        assert_eq!(touched.borrow_mut().take(), vec![(Table::Identity, 7)]);
        assert_eq!(inner.get("dg:v1:id5:7").unwrap().unwrap().value, b"x");
    }
}
