//! Detection's shared-data tables: their key names and one read-modify-write
//! of a slot, with failures counted, so each table's owner only says how a
//! record changes.
//!
//! A key is `<ns>:v1:<table>:<slot>` with `slot = owner % slots`: the key
//! space is bounded by the configured slot counts, since Envoy never evicts
//! shared data.

use crate::host::Host;
use crate::metrics::Counter;
use crate::store::counters::{cas_update, decode_words, encode_words, slot_key, UpdateError};

/// Table names in shared-data keys (`<ns>:v1:<kind>:<slot>`). The suffix is
/// the record layout: Envoy keeps shared data across module reloads, and a
/// value of an older layout would fail to decode on every request, so a
/// layout change takes new keys (`2`: long-output and synchronisation
/// counters).
pub const TEMPLATE_TABLE: &str = "tpl2";
pub const NETWORK_TABLE: &str = "net2";
pub const IDENTITY_TABLE: &str = "id2";

/// The shared store as detection uses it: fixed tables of fixed-width
/// records under one namespace.
pub struct Slots<'h> {
    host: &'h Host<'h>,
    namespace: &'h str,
}

impl<'h> Slots<'h> {
    pub fn new(host: &'h Host<'h>, namespace: &'h str) -> Slots<'h> {
        Slots { host, namespace }
    }

    /// One read-modify-write of slot `owner % slots` of `table`, a record of
    /// `N` words: `f` gets the stored words (`None` for an empty slot) and
    /// returns the words to write. `f` runs again on each cas retry. A host
    /// failure, cas contention that outlasts the retries, or a stored value
    /// of another layout (an error, never a silent zero) is counted in the
    /// metrics and returned.
    pub fn update<const N: usize>(
        &self,
        table: &str,
        slots: u64,
        owner: u64,
        mut f: impl FnMut(Option<&[u64; N]>) -> [u64; N],
    ) -> Result<(), UpdateError> {
        let key = slot_key(self.namespace, table, owner % slots.max(1));
        let result = cas_update(self.host.store, &key, |cur| {
            let words = match cur {
                Some(bytes) => Some(decode_words::<N>(&key, bytes)?),
                None => None,
            };
            Ok(encode_words(&f(words.as_ref())))
        });
        result.map(|_| ()).inspect_err(|e| {
            self.host.metrics.incr(match e {
                UpdateError::GaveUp => Counter::CasGaveUp,
                _ => Counter::StoreError,
            })
        })
    }
}
