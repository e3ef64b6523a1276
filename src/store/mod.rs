//! Shared state between Envoy worker threads, behind a narrow trait.
//!
//! Envoy's shared data (proxy-wasm-cpp-host `shared_data.cc`) is a map from
//! key to `(bytes, cas)` shared by every VM of the same `vm_id`. Its rules,
//! which [`MemoryStore`] copies exactly:
//!
//! - `get` of a missing key is `NotFound`;
//! - `set` with `cas == 0` writes unconditionally;
//! - `set` with a non-zero `cas` on an existing key writes only if the key's
//!   current cas equals it, else `CasMismatch`;
//! - `set` on a missing key always writes (whatever the cas);
//! - every successful write gives the key a fresh, non-zero cas.
//!
//! Entries live forever (no TTL, no eviction), so every key this crate writes
//! comes from a bounded, versioned key space: see [`counters`] and [`once`].

pub mod counters;
pub mod memory;
pub mod once;

pub use memory::MemoryStore;

/// Why a shared-data call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// `set` with a stale cas: someone wrote in between.
    CasMismatch,
    /// The host refused or failed the call (any status other than the above).
    Host,
}

/// A value and its compare-and-swap token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versioned {
    pub value: Vec<u8>,
    pub cas: u32,
}

/// Envoy's shared data, or a fake that follows its rules.
pub trait SharedStore {
    /// `Ok(None)` when the key does not exist.
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError>;
    /// See the module docs for the cas rules.
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError>;
}
