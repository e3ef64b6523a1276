//! Which slots changed since the last sync: a bounded set, and a store
//! wrapper that fills it from the writes detection makes.
//!
//! Bounded in entries (so in bytes: five bytes an entry when flushed to
//! shared data); what does not fit is counted as dropped and reaches the
//! fleet the next time its slot is written.
//!
//! The set is a sorted vector of packed keys, not a `BTreeSet` (issue 8:
//! the B-tree's insert and node code were ~3 KB of the module): a lookup is
//! a binary search over contiguous words, and `take` hands the entries out
//! in the same order the B-tree did, `(table, slot)` ascending.

use std::cell::RefCell;

use super::tables::{parse_key, Table};
use crate::store::{SharedStore, StoreError, Versioned};

/// A bounded set of `(table, slot)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Touched {
    /// `key(table, slot)`, ascending, no repeats, at most `cap`.
    set: Vec<u64>,
    cap: usize,
    /// Slots refused because the set was full, since the last take.
    pub dropped: u64,
}

impl Touched {
    pub fn new(cap: usize) -> Touched {
        Touched {
            set: Vec::new(),
            cap,
            dropped: 0,
        }
    }

    pub fn insert(&mut self, table: Table, slot: u64) {
        let Ok(slot) = u32::try_from(slot) else {
            return;
        };
        let key = key(table, slot);
        // Err: where it would go. Slots arrive in no order within a tick;
        // the pending list's own entries (`extend_encoded`) ascending, so
        // those land at the end without moving any.
        if let Err(at) = self.set.binary_search(&key) {
            if self.set.len() < self.cap {
                self.set.insert(at, key);
            } else {
                self.dropped += 1;
            }
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
        std::mem::take(&mut self.set)
            .into_iter()
            .filter_map(|k| Some((Table::from_id((k >> 32) as u8)?, k as u32)))
            .collect()
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

/// The table's id above the slot: ascending keys are `(table, slot)`
/// ascending, as `Table`'s order is its ids' (pinned by a test).
fn key(table: Table, slot: u32) -> u64 {
    u64::from(table.id()) << 32 | u64::from(slot)
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

    /// The B-tree this replaced, as the oracle: the same entries in the same
    /// order, the same drops, over random inserts with repeats and bounds
    /// small and large (and the pending list's path: encoded, extended).
    #[wasm_bindgen_test(unsupported = test)]
    fn the_same_as_a_btree_set() {
        use std::collections::BTreeSet;
        let mut draws = crate::hash::TestDraws(3);
        for cap in [0, 1, 2, 7, 64, 1_000, usize::MAX] {
            let (mut t, mut oracle, mut dropped) = (Touched::new(cap), BTreeSet::new(), 0);
            for round in 0..3 {
                for _ in 0..2_000 {
                    let r = draws.next_u64();
                    let table = super::super::tables::ALL[(r % 3) as usize];
                    // Few slots (repeats), any u32, and beyond u32 (ignored).
                    let slot = match (r >> 8) % 4 {
                        0 => r >> 40 & 63,
                        1 => u64::from((r >> 16) as u32),
                        2 => u64::from(u32::MAX) + (r >> 60),
                        _ => r >> 50,
                    };
                    t.insert(table, slot);
                    if let Ok(s) = u32::try_from(slot) {
                        if oracle.len() < cap || oracle.contains(&(table, s)) {
                            oracle.insert((table, s));
                        } else {
                            dropped += 1;
                        }
                    }
                }
                assert_eq!((t.len(), t.dropped), (oracle.len(), dropped), "cap {cap}");
                let entries = t.take();
                let expected: Vec<(Table, u32)> = std::mem::take(&mut oracle).into_iter().collect();
                assert_eq!(entries, expected, "cap {cap}, round {round}");
                dropped = 0;
                let mut back = Touched::new(cap);
                back.extend_encoded(&Touched::encode(&entries));
                assert_eq!(back.take(), expected);
            }
        }
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
