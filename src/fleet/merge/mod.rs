//! How two hosts' records of one slot become one: the rule for every word
//! of every synced table, in one module so a layout change is re-aligned
//! here (the word tables of `detect::cadence` and `detect::correlate` say
//! the same rule per word). Merges are commutative, associative (up to
//! floating-point rounding of decayed counts) and an empty (all-zero)
//! record is their identity.
//!
//! Cluster records (`correlate`: template clusters, address blocks):
//! - the later time window wins: a record one window behind is rolled first
//!   (current buckets become previous, as `correlate::apply` does); one two
//!   or more behind keeps only its owner and decayed counts, as there;
//! - HyperLogLog sketches (accounts, texts, address blocks): register-wise
//!   maximum; request, long-output and synchronised counters: sum;
//! - decayed counts (the limit level, the eviction pressure, the output
//!   tokens of the cluster's answers): both faded to the later of their
//!   timestamps, then summed; answer and long-answer counters: summed
//!   (aligned), as the request counters;
//! - the current minute's bitmap: or-ed when both are in the same minute,
//!   else the later one's;
//! - `SINCE` (when counting started): the earliest.
//!
//! Identity records (`cadence`):
//! - request count: sum; first seen: earliest; last seen: latest;
//! - hours of the day: or, after aligning both to the later day; long-output
//!   counts per day: sum, aligned the same way;
//! - the limit level and the guests' count (decayed): faded to the later
//!   timestamp, summed;
//! - score memory: the latest host's (ties: the higher). Each host keeps
//!   the memory its request's merged run remembered (`fleet::carry`): the
//!   fleet's as of its last sync, moved by that request, so the latest is
//!   the fleet's, as for the gaps below. A maximum (the rule before) can
//!   never come down again once merged (`remove_from` cannot take a
//!   maximum out): one suspicious burst of an identity held the fleet's
//!   memory at its peak for weeks where one host lets it sink over its
//!   next harmless requests (measured: held-out, 32 hosts at random, a
//!   coding agent's accounts denied that one host never denies). A host's
//!   suspicion still reaches every host at the next sync, and a denial's
//!   cool-down (`cooldown`, below) still merges by the later end;
//! - the minute's burst count: summed in the same minute, else the later;
//! - the upstream's answer: accepted if either host saw the key served,
//!   at the later second (`cadence::combine_upstream`, the rule one host
//!   applies to a new answer);
//! - own shares (long outputs, crowded minutes, its own tool loops) and
//!   gaps: each host's statistics are running averages over the
//!   identity's requests anywhere in the fleet (its gaps: since its
//!   previous request anywhere), as of its own last request (the request
//!   path updates them on the merged record and keeps them,
//!   `fleet::carry`), so the latest is the fleet's: it wins. (Own shares
//!   merged as a count-weighted mean before: each host that had not seen
//!   the identity started them afresh, and on 32 hosts a coding agent's
//!   share of calls continuing its own tool loop stayed near zero.)
//!   Averaging the hosts' (older) copies instead would slow the running
//!   average by the number of hosts and keep the early, near-zero variance
//!   of its first gaps (measured: a person's account judged clockwork on 32
//!   hosts). A union rate (`1 / Σ 1/mean`) would be right for hosts each
//!   measuring their own thinned stream, but such a stream looks irregular
//!   on every host, which no merge can undo.
//!
//! Two records of different owners (a slot shared by two keys on different
//! hosts): a cluster with more accounts wins, an identity seen later wins;
//! ties to the larger owner, so every order agrees.
//!
//! Files: `fades` (how decayed counts fade to one time), `words` (word
//! helpers), `cluster` and `identity` (the rules per layout); here, the
//! dispatch by table.

mod cluster;
mod fades;
mod identity;
#[cfg(test)]
mod tests;
mod words;

pub use cluster::{merge_cluster, remove_cluster};
pub use fades::Fades;
pub use identity::{merge_identity, remove_identity};

use super::tables::Table;
use crate::detect::cadence;
use crate::detect::correlate::WORDS as CW;

/// One record operation per table layout.
type Op<const N: usize> = fn(Fades, &[u64; N], &[u64; N]) -> [u64; N];

/// `acc = op(acc, other)` with the operation of `table`'s layout. False
/// (and `acc` unchanged) when either has the wrong width.
fn per_table(
    table: Table,
    fades: Fades,
    acc: &mut [u64],
    other: &[u64],
    cluster: Op<CW>,
    identity: Op<{ cadence::WORDS }>,
) -> bool {
    fn apply<const N: usize>(fades: Fades, acc: &mut [u64], other: &[u64], op: Op<N>) -> bool {
        let (Ok(a), Ok(b)) = (<&mut [u64; N]>::try_from(acc), <&[u64; N]>::try_from(other)) else {
            return false;
        };
        *a = op(fades, a, b);
        true
    }
    match table {
        Table::Template | Table::Network => apply(fades, acc, other, cluster),
        Table::Identity => apply(fades, acc, other, identity),
    }
}

/// Merges `other` into `acc`, both records of `table`. False (and `acc`
/// unchanged) when either has the wrong width.
pub fn merge_into(table: Table, fades: Fades, acc: &mut [u64], other: &[u64]) -> bool {
    per_table(table, fades, acc, other, merge_cluster, merge_identity)
}

/// Takes `part` (one host's earlier contribution, merged into `acc`
/// before) back out of `acc`, both records of `table`: what the service
/// does to replace a host's part of a slot's merged record, and to answer
/// a host the others' part without reading every host's record. False (and
/// `acc` unchanged) when either has the wrong width.
///
/// Summed words are subtracted (decayed ones after fading both to the
/// later time, never below zero). Words merged by maximum, or, earliest or
/// latest (sketch registers, minute bitmaps, hours, first and last seen,
/// the upstream's answer, score memory, cool-down, gaps, own shares)
/// cannot be taken back: `acc` keeps them, the
/// part included. Merging `part` or a later record of the same host back in
/// is idempotent on those words, so a host judging its own record merged
/// with what this returns sees each of them as if its part were left out
/// (a word that should be able to come down again, such as the score
/// memory, therefore merges as the latest, never as a maximum). A part of
/// another owner than `acc`, or of a later window, was never in it: `acc`
/// stands.
pub fn remove_from(table: Table, fades: Fades, acc: &mut [u64], part: &[u64]) -> bool {
    per_table(table, fades, acc, part, remove_cluster, remove_identity)
}

/// Whether a record is empty (never written, or zeroed).
pub fn is_empty(words: &[u64]) -> bool {
    words.iter().all(|w| *w == 0)
}
