//! Detection's shared-data tables: their key names and one read-modify-write
//! of a slot, with failures counted, so each table's owner only says how a
//! record changes.
//!
//! A key is `<ns>:v1:<table>:<slot>` with `slot = owner % slots`: the key
//! space is bounded by the configured slot counts, since Envoy never evicts
//! shared data.

use crate::fleet::tables::Table;
use crate::fleet::view;
use crate::host::Host;
use crate::metrics::Counter;
use crate::store::counters::{cas_update, slot_key, UpdateError};

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
    /// metrics and returned. A value that also holds the fleet's record
    /// (`fleet::view`) is judged on both merged: `f` runs on the local
    /// record, then on the merged one, and the second run's side effects
    /// are what the caller sees.
    pub fn update<const N: usize>(
        &self,
        table: &str,
        slots: u64,
        owner: u64,
        mut f: impl FnMut(Option<&[u64; N]>) -> [u64; N],
    ) -> Result<(), UpdateError> {
        let key = slot_key(self.namespace, table, owner % slots.max(1));
        let result = cas_update(self.host.store, &key, |cur| {
            let (local, others) = match cur {
                Some(bytes) => view::split::<N>(&key, bytes)?,
                None => (None, None),
            };
            let next = f(local.as_ref());
            // Fleet mode: judged again on the fleet's merged record, whose
            // outcome is the one `f` leaves behind; only the local record
            // is updated.
            if let (Some(o), Some(t)) = (&others, Table::from_name(table)) {
                let _ = f(Some(&view::judged(t, local.as_ref(), o)));
            }
            Ok(view::join(Some(&next), others.as_ref()))
        });
        result.map(|_| ()).inspect_err(|e| {
            self.host.metrics.incr(match e {
                UpdateError::GaveUp => Counter::CasGaveUp,
                _ => Counter::StoreError,
            })
        })
    }
}
