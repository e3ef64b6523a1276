//! In-process hash maps keyed by `ahash`.
//!
//! Only for maps that never leave the process (the in-memory store, the
//! replay's bookkeeping): ahash output is not stable across versions, so
//! nothing stored or shared is ever keyed by it (see [`crate::hash`]). Seeds
//! are fixed because the Wasm sandbox has no entropy source to draw from and
//! these maps hold no attacker-chosen keys in the filter's data path.

use std::collections::HashMap;

pub type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;

pub fn fast_map<K, V>() -> FastMap<K, V> {
    HashMap::with_hasher(ahash::RandomState::with_seeds(
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    ))
}
