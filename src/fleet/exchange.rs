//! A host's side of a sync, over its shared data: read the local records of
//! the touched slots to send, and write the fleet's answer behind the local
//! records. The filter's timer and `replay --hosts` both call these.

use super::tables::Table;
use super::view;
use super::wire::Record;
use crate::detect::cadence::WORDS as IW;
use crate::detect::correlate::WORDS as CW;
use crate::store::counters::{cas_update_dyn, slot_key, UpdateError};
use crate::store::SharedStore;

/// The local records of `slots` (empty or unreadable ones are skipped), in
/// order, at most `max`.
pub fn collect(store: &dyn SharedStore, namespace: &str, slots: &[(Table, u32)], max: usize) -> Vec<Record> {
    let mut out = Vec::new();
    for (table, slot) in slots {
        if out.len() >= max {
            break;
        }
        let key = slot_key(namespace, table.name(), u64::from(*slot));
        let Ok(Some(v)) = store.get(&key) else {
            continue;
        };
        let local = match table {
            Table::Template | Table::Network => view::split::<CW>(&key, &v.value)
                .ok()
                .and_then(|p| p.0.map(|w| w.to_vec())),
            Table::Identity => view::split::<IW>(&key, &v.value)
                .ok()
                .and_then(|p| p.0.map(|w| w.to_vec())),
        };
        if let Some(words) = local {
            out.push(Record {
                table: *table,
                slot: *slot,
                words,
            });
        }
    }
    out
}

/// Writes one answered record behind the slot's local record (cas, bounded
/// retries). A slot this host never wrote gets an empty local half.
pub fn apply(store: &dyn SharedStore, namespace: &str, r: &Record) -> Result<(), UpdateError> {
    match r.table {
        Table::Template | Table::Network => apply_n::<CW>(store, namespace, r),
        Table::Identity => apply_n::<IW>(store, namespace, r),
    }
}

fn apply_n<const N: usize>(store: &dyn SharedStore, namespace: &str, r: &Record) -> Result<(), UpdateError> {
    let key = slot_key(namespace, r.table.name(), u64::from(r.slot));
    let others: [u64; N] = r.words.as_slice().try_into().map_err(|_| UpdateError::Decode {
        key: key.clone(),
        len: r.words.len() * 8,
        expected: N * 8,
    })?;
    cas_update_dyn(store, &key, &mut |cur| {
        let local = match cur {
            Some(bytes) => view::split::<N>(&key, bytes)?.0,
            None => None,
        };
        Ok(view::join(local.as_ref(), Some(&others)))
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counters::encode_words;
    use crate::store::MemoryStore;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn answers_go_behind_local_records_which_are_sent_alone() {
        let s = MemoryStore::new();
        let local = [5u64; IW];
        s.set("dg:v1:id5:3", &encode_words(&local), 0).unwrap();
        let fleet = Record {
            table: Table::Identity,
            slot: 3,
            words: vec![5; IW],
        };
        apply(&s, "dg", &fleet).unwrap();
        apply(
            &s,
            "dg",
            &Record {
                slot: 4,
                ..fleet.clone()
            },
        )
        .unwrap();
        assert_eq!(s.get("dg:v1:id5:3").unwrap().unwrap().value.len(), 2 * IW * 8);
        let sent = collect(
            &s,
            "dg",
            &[(Table::Identity, 3), (Table::Identity, 4), (Table::Identity, 9)],
            10,
        );
        // Slot 4 holds only the fleet's record: nothing local to send.
        assert_eq!(
            sent,
            vec![Record {
                words: local.to_vec(),
                ..fleet.clone()
            }]
        );
        assert!(apply(
            &s,
            "dg",
            &Record {
                words: vec![1],
                ..fleet
            }
        )
        .is_err());
    }
}
