//! A slot's stored value in fleet mode, and the merged record a request is
//! judged on.
//!
//! Without fleet sync a value is this host's record: `N` words. After a
//! sync it is `2N` words: this host's record, then the merged record of the
//! fleet's other hosts for the same slot (written by the timer). Detection
//! updates only the first half and keeps the second as it found it; it
//! judges the request on both merged. A host that never saw the key holds
//! an all-zero first half, which reads as an empty slot. So the request
//! path makes the same shared-data calls as without fleet mode.

use super::merge::{self, Fades};
use super::tables::Table;
use crate::store::counters::{decode_words, encode_words, UpdateError};

/// A stored value: the local record (`None`: empty) and the others'.
pub type Parts<const N: usize> = (Option<[u64; N]>, Option<[u64; N]>);

/// Splits a stored value of `N` or `2N` words; any other length is an
/// error, as before.
pub fn split<const N: usize>(key: &str, bytes: &[u8]) -> Result<Parts<N>, UpdateError> {
    let local_only = || decode_words::<N>(key, bytes);
    if bytes.len() != 2 * N * 8 {
        let local = local_only()?;
        return Ok((Some(local), None));
    }
    let (a, b) = bytes.split_at(N * 8);
    let local = decode_words::<N>(key, a)?;
    let others = decode_words::<N>(key, b)?;
    let local = (!merge::is_empty(&local)).then_some(local);
    let others = (!merge::is_empty(&others)).then_some(others);
    Ok((local, others))
}

/// The value to store: the local record, with the others' behind it when
/// there are any (an empty local record is stored as zeros).
pub fn join<const N: usize>(local: Option<&[u64; N]>, others: Option<&[u64; N]>) -> Vec<u8> {
    match others {
        None => encode_words(local.unwrap_or(&[0; N])),
        Some(o) => {
            let mut out = encode_words(local.unwrap_or(&[0; N]));
            out.extend(encode_words(o));
            out
        }
    }
}

/// The record a request is judged on: the local record merged with the
/// others'. When the slot holds another key locally than on the other
/// hosts, the local one stands (this host's request is about it).
pub fn judged<const N: usize>(table: Table, fades: Fades, local: Option<&[u64; N]>, others: &[u64; N]) -> [u64; N] {
    let Some(local) = local else {
        return *others;
    };
    // Owner is word 0 of every synced layout.
    if local.first() != others.first() {
        return *local;
    }
    let mut out = *local;
    if merge::merge_into(table, fades, &mut out, others) {
        out
    } else {
        *local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn values_split_and_join() {
        let local = [1u64, 2, 3];
        let others = [1u64, 5, 6];
        let v = join(Some(&local), Some(&others));
        assert_eq!(split::<3>("k", &v).unwrap(), (Some(local), Some(others)));
        let v = join(Some(&local), None);
        assert_eq!(v.len(), 24);
        assert_eq!(split::<3>("k", &v).unwrap(), (Some(local), None));
        // A host that never saw the key: zeros, then the fleet's record.
        let v = join(None, Some(&others));
        assert_eq!(split::<3>("k", &v).unwrap(), (None, Some(others)));
        assert!(matches!(
            split::<3>("k", &[0u8; 20]),
            Err(UpdateError::Decode { len: 20, .. })
        ));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn another_key_locally_stands() {
        let local = [1u64; crate::detect::cadence::WORDS];
        let mut others = local;
        others[0] = 2;
        assert_eq!(judged(Table::Identity, Fades::DEFAULT, Some(&local), &others), local);
        assert_eq!(judged(Table::Identity, Fades::DEFAULT, None, &others), others);
    }
}
