//! Detection's shared-data tables: their key names, where a record lives,
//! and one read-modify-write of a slot, with failures counted, so each
//! table's owner only says how a record changes.
//!
//! A key is `<ns>:v1:<table>:<slot>`: the key space is bounded by the
//! configured slot counts, since Envoy never evicts shared data. The slot
//! is a SipHash of the table, the choice and the record's owner under a key
//! derived from the deployment's secret (`identity.secret`), not
//! `owner % slots`: owners of template and address-block records are public
//! fingerprints, and with a public placement an attacker could search
//! offline for templates that land in a campaign's slot and displace it.
//! Every table has two places per owner (two-choice hashing): an owner
//! whose first slot is held by another goes to its second.
//!
//! In fleet mode a slot's value also holds the other hosts' merged record
//! (`fleet::view`): [`Slots::read`] judges on both merged, [`Slots::write`]
//! updates only this host's half. Without fleet sync the values and
//! decisions are exactly those of a single host.

use crate::fleet::carry::carry;
use crate::fleet::merge::Fades;
use crate::fleet::tables::Table;
use crate::fleet::view;
use crate::hash::{siphash24, SipKey};
use crate::host::Host;
use crate::metrics::Counter;
use crate::store::counters::{cas_update, slot_key, UpdateError};
use crate::store::StoreError;

/// Table names in shared-data keys (`<ns>:v1:<kind>:<slot>`). The suffix is
/// the record layout: Envoy keeps shared data across module reloads, and a
/// value of an older layout would fail to decode on every request, so a
/// layout change takes new keys (`2`: long-output and synchronisation
/// counters; `3`: keyed placement, decayed limit counts and eviction
/// pressure, the identity's upstream status and own shares of the
/// cluster evidence; `id4`: the identity's output tokens; `id5`: its denial
/// cool-down, tool-loop conversations and texts sketch; `tpl4`, `net4`:
/// the cluster's output tokens and long answers).
pub const TEMPLATE_TABLE: &str = "tpl4";
pub const NETWORK_TABLE: &str = "net4";
pub const IDENTITY_TABLE: &str = "id5";

/// The name a table's keyed placement hashes. A new record layout takes new
/// keys but keeps every record where the old layout had it (`id4` and `id5`
/// place as `id3` did, `tpl4` and `net4` as `tpl3` and `net3`), so a layout
/// change alone never changes which identities or clusters share a slot,
/// and with it no decision.
fn placement_name(table: &str) -> &str {
    match table {
        IDENTITY_TABLE => "id3",
        TEMPLATE_TABLE => "tpl3",
        NETWORK_TABLE => "net3",
        other => other,
    }
}

/// The shared store as detection uses it: fixed tables of fixed-width
/// records under one namespace.
pub struct Slots<'h> {
    host: &'h Host<'h>,
    namespace: &'h str,
    key: SipKey,
    fades: Fades,
}

/// A slot's value read ahead of its update: its key, words and cas token.
///
/// In fleet mode a value also holds the other hosts' merged record of the
/// slot (`fleet::view`): `words` is then what the request is judged on
/// (this host's record merged with theirs), while [`Slots::write`] updates
/// only this host's record and keeps theirs as it found it. Without it,
/// `words` is the stored record.
pub struct Read<const N: usize> {
    pub key: String,
    /// Which of its owner's two places this is (0 or 1).
    pub choice: u8,
    pub words: Option<[u64; N]>,
    local: Option<[u64; N]>,
    others: Option<[u64; N]>,
    table: Option<Table>,
    cas: u32,
}

impl<const N: usize> Read<N> {
    /// The value also held other hosts' record (fleet mode): `words` is
    /// the merged record, not this host's.
    pub fn merged(&self) -> bool {
        self.others.is_some()
    }
}

impl<'h> Slots<'h> {
    pub fn new(host: &'h Host<'h>, namespace: &'h str, key: SipKey) -> Slots<'h> {
        Slots {
            host,
            namespace,
            key,
            fades: Fades::DEFAULT,
        }
    }

    /// How detection's decayed counts fade, for merging the fleet's records
    /// with this host's (detection's settings; the defaults otherwise).
    pub fn fading(self, fades: Fades) -> Slots<'h> {
        Slots { fades, ..self }
    }

    /// The slot of `owner` in `table` of `slots` slots, at its `choice`-th
    /// place (0 or 1).
    pub fn slot(&self, table: &str, slots: u64, owner: u64, choice: u8) -> u64 {
        place(self.key, table, slots, owner, choice)
    }

    /// One read-modify-write of `owner`'s `choice`-th slot of `table`, a
    /// record of `N` words: `f` gets the stored words (`None` for an empty
    /// slot) and returns the words to write. `f` runs again on each cas
    /// retry. A host failure, cas contention that outlasts the retries, or a
    /// stored value of another layout (an error, never a silent zero) is
    /// counted in the metrics and returned.
    pub fn update_at<const N: usize>(
        &self,
        table: &str,
        slots: u64,
        owner: u64,
        choice: u8,
        f: impl FnMut(Option<&[u64; N]>) -> [u64; N],
    ) -> Result<(), UpdateError> {
        let read = self.read::<N>(table, slots, owner, choice)?;
        self.write(read, f)
    }

    /// Reads `owner`'s `choice`-th slot of `table` (one `get`).
    pub fn read<const N: usize>(
        &self,
        table: &str,
        slots: u64,
        owner: u64,
        choice: u8,
    ) -> Result<Read<N>, UpdateError> {
        let key = slot_key(self.namespace, table, self.slot(table, slots, owner, choice));
        let got = self.host.store.get(&key).map_err(UpdateError::Store);
        let got = self.counted(got)?;
        let ((local, others), cas) = match got {
            Some(v) => (self.counted(view::split::<N>(&key, &v.value))?, v.cas),
            None => ((None, None), 0),
        };
        let table = Table::from_name(table);
        let words = self.judged(table, local.as_ref(), others.as_ref());
        Ok(Read {
            key,
            choice,
            words,
            local,
            others,
            table,
            cas,
        })
    }

    /// The record a request is judged on: the local one, merged with the
    /// fleet's when the value holds it.
    fn judged<const N: usize>(
        &self,
        table: Option<Table>,
        local: Option<&[u64; N]>,
        others: Option<&[u64; N]>,
    ) -> Option<[u64; N]> {
        match (table, others) {
            (Some(t), Some(o)) => Some(view::judged(t, self.fades, local, o)),
            _ => local.copied(),
        }
    }

    /// `f` on the local record (what is stored, with the fleet's record
    /// behind it as found), then, in fleet mode, on the merged one: the
    /// side effects the caller sees are the second run's, so the request is
    /// judged on the fleet's evidence, and what that run decided from the
    /// fleet's evidence is kept in the stored record (`fleet::carry`).
    fn next<const N: usize>(
        &self,
        table: Option<Table>,
        (local, others): view::Parts<N>,
        f: &mut impl FnMut(Option<&[u64; N]>) -> [u64; N],
    ) -> Vec<u8> {
        let mut next = f(local.as_ref());
        if others.is_some() {
            let judged = self.judged(table, local.as_ref(), others.as_ref());
            let after = f(judged.as_ref());
            carry(table, local.as_ref(), &mut next, judged.as_ref(), &after);
        }
        view::join(Some(&next), others.as_ref())
    }

    /// Writes what `f` makes of a slot read with [`Slots::read`]: one `set`
    /// when nobody wrote in between, else a bounded read-modify-write.
    pub fn write<const N: usize>(
        &self,
        read: Read<N>,
        mut f: impl FnMut(Option<&[u64; N]>) -> [u64; N],
    ) -> Result<(), UpdateError> {
        let table = read.table;
        let first = self.next(table, (read.local, read.others), &mut f);
        match self.host.store.set(&read.key, &first, read.cas) {
            Ok(()) => return Ok(()),
            Err(StoreError::CasMismatch) => {}
            Err(e) => return self.counted(Err(UpdateError::Store(e))),
        }
        let key = read.key;
        let result = cas_update(self.host.store, &key, |cur| {
            let parts = match cur {
                Some(bytes) => view::split::<N>(&key, bytes)?,
                None => (None, None),
            };
            Ok(self.next(table, parts, &mut f))
        });
        self.counted(result.map(|_| ()))
    }

    fn counted<T>(&self, r: Result<T, UpdateError>) -> Result<T, UpdateError> {
        r.inspect_err(|e| {
            self.host.metrics.incr(match e {
                UpdateError::GaveUp => Counter::CasGaveUp,
                _ => Counter::StoreError,
            })
        })
    }
}

/// Keyed placement: `SipHash(key, table ‖ choice ‖ owner) % slots`.
pub fn place(key: SipKey, table: &str, slots: u64, owner: u64, choice: u8) -> u64 {
    let table = placement_name(table);
    let mut material = [0u8; 24];
    for (dst, src) in material.iter_mut().zip(table.bytes().take(15)) {
        *dst = src;
    }
    if let Some(c) = material.get_mut(15) {
        *c = choice;
    }
    if let Some(dst) = material.get_mut(16..) {
        dst.copy_from_slice(&owner.to_le_bytes());
    }
    siphash24(key, &material) % slots.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The `id4` layout (output tokens) places every identity where `id3`
    /// did: the layout change alone moves no record, so no two identities
    /// come to share a slot and no decision changes.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_new_identity_layout_keeps_every_place() {
        let key = SipKey::derive(b"k");
        for owner in 0..1_000u64 {
            for choice in 0..2 {
                let old = siphash24(key, &{
                    let mut m = [0u8; 24];
                    m[..3].copy_from_slice(b"id3");
                    m[15] = choice;
                    m[16..].copy_from_slice(&owner.to_le_bytes());
                    m
                }) % 16_384;
                assert_eq!(place(key, IDENTITY_TABLE, 16_384, owner, choice), old);
            }
        }
    }

    /// The `tpl4`/`net4` layouts (the cluster's output tokens) place every
    /// cluster where `tpl3`/`net3` did.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_new_cluster_layout_keeps_every_place() {
        let key = SipKey::derive(b"k");
        for (table, old) in [(TEMPLATE_TABLE, "tpl3"), (NETWORK_TABLE, "net3")] {
            assert_ne!(table, old);
            for owner in 0..1_000u64 {
                for choice in 0..2 {
                    let before = siphash24(key, &{
                        let mut m = [0u8; 24];
                        m[..4].copy_from_slice(old.as_bytes());
                        m[15] = choice;
                        m[16..].copy_from_slice(&owner.to_le_bytes());
                        m
                    }) % 8_192;
                    assert_eq!(place(key, table, 8_192, owner, choice), before);
                }
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn placement_is_keyed_spread_and_has_two_choices() {
        let (a, b) = (SipKey::derive(b"one"), SipKey::derive(b"two"));
        let same = (0..1_000u64)
            .filter(|o| place(a, "tpl3", 8_192, *o, 0) == place(b, "tpl3", 8_192, *o, 0))
            .count();
        assert!(same < 5, "{same}");
        let both = (0..1_000u64)
            .filter(|o| place(a, "id3", 8_192, *o, 0) == place(a, "id3", 8_192, *o, 1))
            .count();
        assert!(both < 5, "{both}");
        assert!((0..1_000u64).all(|o| place(a, "net3", 7, o, 0) < 7));
    }
}
