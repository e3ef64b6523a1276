//! What a request decides on the fleet's view, kept in this host's record.
//!
//! A record update runs twice in fleet mode (`detect::slots`): on this
//! host's record, which is what gets stored, and on that record merged with
//! the other hosts', which is what the request is judged on. Most words do
//! not care: a request adds one to a counter, a register to a sketch, on
//! either. Some words record a *decision* the update took from the record
//! it saw, and on the local record alone that decision is a different one:
//!
//! - a cluster's `SYNC_CUR` counts requests that arrived in a crowded
//!   minute of the template, judged from the minute's accounts against the
//!   template's rate; with the traffic spread over 32 hosts each host sees
//!   a thirty-second of every crowd and never calls one, so the fleet's
//!   sum stays near zero although every request is judged crowded on the
//!   merged view (measured: held-out `synchronised_rounds` on 99% of
//!   cloud_spread's requests on one host, on none with 32 hosts);
//! - an identity's `MEMORY` is the remembered score, moved towards this
//!   request's score from the remembered one; on the local record that is
//!   this host's thirty-second of the identity's history, so the fleet's
//!   memory (the hosts' maximum) rose a thirty-second as fast;
//! - an identity's gap statistics (`GAP_MEAN`, `GAP_VAR`: its cadence) are
//!   running averages of the gap since its previous request; on the local
//!   record that is the previous request *on this host*, and a clockwork
//!   stream thinned at random has gaps as irregular as a person's (renewal
//!   theory: `CV² = p·CV₀² + (1 − p)` for a host's share `p`, a variance
//!   too noisy to undo at `p` = 1/32), while a host holding two requests
//!   has a variance of zero (measured: held-out, 32 hosts at random,
//!   `machine_cadence` on 32% of the requests of people's own accounts,
//!   none on one host). On the merged record the gap is the one since the
//!   identity's previous request anywhere in the fleet (as of the last
//!   sync), so each host's statistics are the fleet's as of its last
//!   request, and the latest wins the merge (`fleet::merge`);
//! - an identity's own shares (`OWN_LONG`, `OWN_SYNC`, `OWN_CONT`: how
//!   many of its requests ask for long outputs, arrive in crowded minutes,
//!   continue its own tool loops) are running averages like the gaps: on
//!   the local record they start afresh on every host that has not seen
//!   the identity, so a coding agent whose every call continues its own
//!   conversation kept a share near zero on 32 hosts and was charged its
//!   app's shared template in full (measured: held-out agent_product
//!   accounts denied on 32 hosts at random, none on one host); the merged
//!   run's are the fleet's, and the latest wins the merge;
//! - an identity's cool-down (`COOLDOWN_UNTIL`, `STRIKES`) starts when
//!   the request is denied, by a limit or by its score; on the local
//!   record the identity's limit count is this host's part of its requests
//!   and its memory this host's, so a request the fleet's view denies
//!   started no cool-down and the identity's next request, an hour later
//!   on another host, was served where one host still denies it
//!   (measured: held-out, 32 hosts at random, novel_phrasing 4.8% served
//!   on one host, 10.8% on 32 once the memory no longer stuck at its peak).
//!
//! [`carry`] takes those words' decisions from the merged run into the
//! stored record: the crowded-minute counter gets the merged run's
//! increment (the fleet's sum then counts each request once, as its own
//! host judged it), the memory the merged run remembered and the gap
//! statistics it updated (both merge as the latest host's, which is then
//! the fleet's as of its request, `fleet::merge`), its own shares (the
//! same), and the cool-down it
//! started (merged by maximum: the fleet's denial holds on every host).
//! Everything
//! else in the stored record stays as the local run made it.

use super::tables::Table;
use crate::detect::cadence::{
    self, COOLDOWN_UNTIL, GAP_MEAN, GAP_VAR, LAST_SEEN, MEMORY, OWN_CONT, OWN_LONG, OWN_SYNC, STRIKES,
};
use crate::detect::correlate::{self as c, WORDS as CW};

fn get(w: &[u64], i: usize) -> u64 {
    w.get(i).copied().unwrap_or(0)
}

/// `stored`, the local run's result, with the merged run's decisions
/// (`judged` before and `after` that run; `local` the stored record before
/// it) carried over. Unchanged when the two runs ended on different owners
/// or windows (a collision decided apart): then the local record stands.
pub fn carry<const N: usize>(
    table: Option<Table>,
    local: Option<&[u64; N]>,
    stored: &mut [u64; N],
    judged: Option<&[u64; N]>,
    after: &[u64; N],
) {
    // Owner is word 0 of every synced layout.
    if get(stored, 0) != get(after, 0) {
        return;
    }
    match table {
        Some(Table::Template | Table::Network) if N == CW => {
            if get(stored, c::WINDOW) != get(after, c::WINDOW) {
                return;
            }
            let added = |before: Option<&[u64; N]>, now: &[u64; N]| {
                get(now, c::SYNC_CUR).saturating_sub(counted_before(before, now))
            };
            let own = added(local, stored);
            let fleet = added(judged, after);
            if let Some(w) = stored.get_mut(c::SYNC_CUR) {
                *w = w.saturating_sub(own).saturating_add(fleet);
            }
        }
        Some(Table::Identity) if N == cadence::WORDS => {
            // Both as of this request (`LAST_SEEN`): the merged one may be
            // a moment later when another host's clock is ahead; the memory
            // halves in days, so that moment does not matter.
            if get(after, LAST_SEEN) < get(stored, LAST_SEEN) {
                return;
            }
            for i in [
                MEMORY,
                GAP_MEAN,
                GAP_VAR,
                OWN_LONG,
                OWN_SYNC,
                OWN_CONT,
                COOLDOWN_UNTIL,
                STRIKES,
            ] {
                if let (Some(w), Some(m)) = (stored.get_mut(i), after.get(i)) {
                    *w = *m;
                }
            }
        }
        _ => {}
    }
}

/// `SYNC_CUR` of `before` as `now` counts on from it: the same owner's
/// same window keeps it, a rolled or new one starts from zero.
fn counted_before<const N: usize>(before: Option<&[u64; N]>, now: &[u64; N]) -> u64 {
    match before {
        Some(b) if get(b, 0) == get(now, 0) && get(b, c::WINDOW) == get(now, c::WINDOW) => get(b, c::SYNC_CUR),
        _ => 0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::detect::correlate::{apply, Touch};
    use crate::fleet::merge::Fades;
    use crate::fleet::view;
    use crate::hash::fingerprint;
    use wasm_bindgen_test::wasm_bindgen_test;

    pub(crate) fn touch(identity: u64, now: u64) -> Touch {
        Touch {
            owner: 7,
            identity: fingerprint(&identity.to_le_bytes()),
            text: Some(identity),
            block: None,
            long: false,
            now,
            window_secs: 86_400,
            limit_window_secs: 600,
            press: 0.0,
            continuation: false,
        }
    }

    pub(crate) const DAY: u64 = 1_000 * 86_400;

    /// A template's round as the fleet saw it: the other hosts' record
    /// (an hour of quiet history, then 39 accounts in this minute) and this
    /// host's (one request before), and the request that comes next here.
    pub(crate) fn round() -> ([u64; CW], [u64; CW], Touch) {
        let quiet = (0..30u64).map(|i| touch(1_000 + i, DAY + i * 120));
        let mut others = None;
        for t in quiet.chain((0..39u64).map(|i| touch(i, DAY + 3_600 + i))) {
            others = Some(apply(others.as_ref(), &t).0);
        }
        let local = apply(None, &touch(500, DAY + 60)).0;
        (others.unwrap_or([0; CW]), local, touch(99, DAY + 3_650))
    }

    /// Rounds spread over hosts: the host that takes a round's request
    /// judges it on the fleet's minute and counts it as synchronised, as
    /// one host would.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_crowd_seen_by_the_fleet_is_counted_where_the_request_landed() {
        let (others, local, t) = round();
        let local = Some(local);
        let (mut stored, _) = apply(local.as_ref(), &t);
        assert_eq!(get(&stored, c::SYNC_CUR), 0, "alone, no crowd");
        let judged = view::judged(Table::Template, Fades::DEFAULT, local.as_ref(), &others);
        let (after, seen) = apply(Some(&judged), &t);
        assert!(seen.synced);
        carry(
            Some(Table::Template),
            local.as_ref(),
            &mut stored,
            Some(&judged),
            &after,
        );
        assert_eq!(get(&stored, c::SYNC_CUR), 1);
        // Everything else as the local run made it.
        let (plain, _) = apply(local.as_ref(), &t);
        for i in (0..CW).filter(|i| *i != c::SYNC_CUR) {
            assert_eq!(get(&stored, i), get(&plain, i), "word {i}");
        }
        // No crowd on the fleet's view: a local count is taken back.
        let mut counted = stored;
        carry(
            Some(Table::Template),
            local.as_ref(),
            &mut counted,
            Some(&plain),
            &plain,
        );
        assert_eq!(get(&counted, c::SYNC_CUR), 0);
    }

    /// The identity's own shares (long outputs, crowded minutes, its own
    /// tool loops) are running averages over its requests: the merged
    /// run's, over the fleet's stream, are stored. A host that never saw
    /// the identity starts them from nothing, so with 32 hosts a coding
    /// agent whose every call continues its own conversation kept a share
    /// near zero and was charged its app's whole template as if each call
    /// were a template's slot (measured: held-out agent_product accounts
    /// denied on 32 hosts at random, none on one host).
    #[wasm_bindgen_test(unsupported = test)]
    fn the_own_shares_of_the_fleets_stream_are_stored() {
        let record = |own: f64| {
            let mut r = cadence::Record::fresh(3, 50);
            r.last_seen = 100;
            (r.own_long, r.own_sync, r.own_cont) = (own, own / 2.0, own);
            r.encode()
        };
        let mut stored = record(0.0);
        let after = record(0.8);
        carry(Some(Table::Identity), None, &mut stored, Some(&after), &after);
        let r = cadence::Record::decode(&stored);
        assert_eq!((r.own_long, r.own_sync, r.own_cont), (0.8, 0.4, 0.8));
    }

    /// A request the fleet's view denies starts the cool-down in the
    /// stored record, as one host would: the next request, on any host, is
    /// still denied while it lasts.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_cooldown_the_fleet_started_is_stored() {
        let record = |until: u64, strikes: f64| {
            let mut r = cadence::Record::fresh(3, 50);
            r.last_seen = 100;
            r.cooldown.until = until;
            r.cooldown.strikes = strikes;
            r.encode()
        };
        let mut stored = record(0, 0.0);
        let after = record(400, 1.0);
        carry(Some(Table::Identity), None, &mut stored, Some(&after), &after);
        let r = cadence::Record::decode(&stored);
        assert_eq!((r.cooldown.until, r.cooldown.strikes), (400, 1.0));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_memory_the_fleet_remembered_is_stored() {
        let record = |owner: u64, memory: f64| {
            let mut w = [0u64; cadence::WORDS];
            w[0] = owner;
            w[LAST_SEEN] = 100;
            w[MEMORY] = memory.to_bits();
            w
        };
        let mut stored = record(3, 0.1);
        let after = record(3, 0.6);
        carry(Some(Table::Identity), None, &mut stored, Some(&after), &after);
        assert_eq!(f64::from_bits(stored[MEMORY]), 0.6);
        // Another owner on the fleet's view: the local record stands.
        let other = record(4, 0.9);
        carry(Some(Table::Identity), None, &mut stored, Some(&other), &other);
        assert_eq!(f64::from_bits(stored[MEMORY]), 0.6);
    }
}
