//! The hash map the module keys by [`Counter`]: the glue's metric ids and
//! the held counter adds.
//!
//! Hashed by a few multiplies (FxHash, rustc's hasher), not `ahash`: the
//! keys are the closed set of counters (a few hundred at most, none chosen
//! by a client), so nothing needs a keyed or DoS-resistant hash, and
//! ahash's portable fallback was ~3.6 KB of the Envoy module (issue 8:
//! module size). Nothing depends on the maps' order: the ids are looked up
//! one by one, and the held adds are sent as increments, whose order Envoy
//! does not see.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::Counter;

pub type CounterMap<V> = HashMap<Counter, V, BuildHasherDefault<FxHasher>>;

pub fn counter_map<V>() -> CounterMap<V> {
    HashMap::default()
}

/// FxHash: each word rotated into the state and multiplied.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    /// Not inlined: `Counter`'s derived `Hash` writes a label string in
    /// most of its variants, and a copy of this loop in each was ~1 KB.
    #[inline(never)]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.add(u64::from_le_bytes(b));
        }
        for &b in words.remainder() {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Action;
    use std::hash::BuildHasher;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn hash(c: Counter) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(c)
    }

    /// Counters that differ only in a label, or in the variant with the
    /// same label, hash apart; the map finds each one it was given.
    #[wasm_bindgen_test(unsupported = test)]
    fn counters_hash_apart_and_are_found() {
        let counters = [
            Counter::Requests,
            Counter::Passthrough,
            Counter::Api("openai_chat"),
            Counter::Api("openai_chat_"),
            Counter::ParseFailure("openai_chat"),
            Counter::Reason("burst"),
            Counter::Reason("bursts"),
            Counter::Decision(Action::Allow),
            Counter::Decision(Action::Block),
            Counter::ShadowWouldDeny(Action::Block),
            Counter::Reasoning { api: "a", kind: "b" },
            Counter::Reasoning { api: "b", kind: "a" },
        ];
        let mut map = counter_map();
        for (i, c) in counters.iter().enumerate() {
            map.insert(*c, i);
        }
        for (i, c) in counters.iter().enumerate() {
            assert_eq!(map.get(c), Some(&i), "{c:?}");
            for d in &counters[i + 1..] {
                assert_ne!(hash(*c), hash(*d), "{c:?} {d:?}");
            }
        }
        assert_eq!(map.len(), counters.len());
    }

    /// Strings of every length up to 20 hash by all their bytes.
    #[wasm_bindgen_test(unsupported = test)]
    fn every_byte_counts() {
        let text = "abcdefghijklmnopqrst";
        for len in 1..=text.len() {
            let mut a = FxHasher::default();
            a.write(&text.as_bytes()[..len]);
            let mut changed = text.as_bytes()[..len].to_vec();
            changed[len - 1] ^= 1;
            let mut b = FxHasher::default();
            b.write(&changed);
            assert_ne!(a.finish(), b.finish(), "{len}");
        }
    }
}
