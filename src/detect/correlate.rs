//! Across accounts: how many distinct identities (and, for a template, how
//! many distinct texts and address blocks) share a template skeleton or an
//! address block, in fixed
//! slot tables of HyperLogLog sketches, time-bucketed (current and previous
//! window; older windows are dropped).
//!
//! A slot remembers its owner (the key's hash). A newcomer that collides
//! takes the slot when the incumbent is stale or has seen at most two
//! accounts (the churn of one-off texts), and otherwise only with
//! probability 1/accounts², so a live campaign (hundreds of accounts) is
//! practically never pushed out by a flood of new keys, while a slot held by
//! a small, fading cluster frees up.
//!
//! A template slot also counts, per window, its requests that asked for a
//! long output and those that arrived in a synchronised crowd of its
//! accounts ([`super::sync`]), so the score can see a harvest (every account
//! wants the longest answers) and a scheduler (rounds) without any phrase.

use std::net::IpAddr;

use super::cadence::coin;
use super::hll::{Hll, WORDS as HW};
use super::sync::{self, Minute};
use crate::hash::fingerprint;

/// Words in a stored cluster record.
pub const WORDS: usize = 6 + 6 * HW + 7;

pub(crate) const OWNER: usize = 0;
pub(crate) const WINDOW: usize = 1;
pub(crate) const LIMIT_START: usize = 2;
pub(crate) const LIMIT_COUNT: usize = 3;
pub(crate) const REQ_CUR: usize = 4;
pub(crate) const REQ_PREV: usize = 5;
pub(crate) const IDS_CUR: usize = 6;
pub(crate) const IDS_PREV: usize = IDS_CUR + HW;
pub(crate) const TEXTS_CUR: usize = IDS_PREV + HW;
pub(crate) const TEXTS_PREV: usize = TEXTS_CUR + HW;
pub(crate) const BLOCKS_CUR: usize = TEXTS_PREV + HW;
pub(crate) const BLOCKS_PREV: usize = BLOCKS_CUR + HW;
pub(crate) const LONG_CUR: usize = BLOCKS_PREV + HW;
pub(crate) const LONG_PREV: usize = LONG_CUR + 1;
pub(crate) const SYNC_CUR: usize = LONG_PREV + 1;
pub(crate) const SYNC_PREV: usize = SYNC_CUR + 1;
pub(crate) const MINUTE: usize = SYNC_PREV + 1;
pub(crate) const MINUTE_IDS: usize = MINUTE + 1;
/// When the owner started counting (so a young slot's rate is not guessed
/// from a window it did not see).
pub(crate) const SINCE: usize = MINUTE_IDS + 1;

/// What one request learns about its cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClusterView {
    /// Distinct identities in the current and previous window.
    pub accounts: f64,
    /// Distinct texts in the current and previous window.
    pub texts: f64,
    /// Distinct address blocks of those identities (0 when not tracked).
    pub blocks: f64,
    /// Requests in the current and previous window (this one included).
    pub requests: f64,
    /// Requests in the current limit window (this one included).
    pub window_requests: u64,
    /// Of `requests`, those that asked for a long output.
    pub long_requests: f64,
    /// Of `requests`, those that arrived in a crowded minute.
    pub synced_requests: f64,
    /// False when the slot belongs to another key (nothing was counted).
    pub tracked: bool,
}

/// One request's contribution to a cluster slot.
#[derive(Clone, Copy, Debug)]
pub struct Touch {
    /// Hash of the cluster key (template skeleton, address block, …).
    pub owner: u64,
    pub identity: u64,
    /// Hash of the whole normalised text, when the cluster is a template.
    pub text: Option<u64>,
    /// The client's address block, when the cluster is a template.
    pub block: Option<u64>,
    /// The request asked for a long output (`long_output_tokens`).
    pub long: bool,
    pub now: u64,
    pub window_secs: u64,
    pub limit_window_secs: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Record {
    words: [u64; WORDS],
}

impl Record {
    fn hll(&self, at: usize) -> Hll {
        Hll::from_words(self.words.get(at..at + HW).unwrap_or(&[]))
    }

    fn put_hll(&mut self, at: usize, h: &Hll) {
        if let Some(dst) = self.words.get_mut(at..at + HW) {
            dst.copy_from_slice(&h.to_words());
        }
    }

    fn get(&self, i: usize) -> u64 {
        self.words.get(i).copied().unwrap_or(0)
    }

    fn set(&mut self, i: usize, v: u64) {
        if let Some(w) = self.words.get_mut(i) {
            *w = v;
        }
    }

    fn accounts(&self) -> f64 {
        self.hll(IDS_CUR).merge(&self.hll(IDS_PREV)).estimate()
    }
}

/// The slot's new value and what the request learns, from its current
/// value (`None`: empty slot).
pub fn apply(current: Option<&[u64; WORDS]>, t: &Touch) -> ([u64; WORDS], ClusterView) {
    let window = t.now / t.window_secs.max(1);
    let mut r = match current {
        Some(w) => Record { words: *w },
        None => Record { words: [0; WORDS] },
    };
    // Roll the time buckets forward.
    let stored = r.get(WINDOW);
    if stored + 1 == window {
        let (ids, texts) = (r.hll(IDS_CUR), r.hll(TEXTS_CUR));
        r.put_hll(IDS_PREV, &ids);
        r.put_hll(TEXTS_PREV, &texts);
        r.put_hll(IDS_CUR, &Hll::default());
        for (prev, cur) in [(REQ_PREV, REQ_CUR), (LONG_PREV, LONG_CUR), (SYNC_PREV, SYNC_CUR)] {
            r.set(prev, r.get(cur));
            r.set(cur, 0);
        }
        r.put_hll(TEXTS_CUR, &Hll::default());
    } else if stored != window {
        r = Record { words: [0; WORDS] };
    }
    r.set(WINDOW, window);

    if current.is_some() && r.get(OWNER) != t.owner && !r.hll(IDS_CUR).merge(&r.hll(IDS_PREV)).is_empty() {
        let n = r.accounts();
        let take = n <= 2.5 || coin(t.owner, t.now) % ((n * n) as u64).max(1) == 0;
        if !take {
            return (r.words, ClusterView::default());
        }
        r = Record { words: [0; WORDS] };
        r.set(WINDOW, window);
    }
    if r.get(OWNER) != t.owner || r.get(SINCE) == 0 {
        r.set(SINCE, t.now.max(1));
    }
    r.set(OWNER, t.owner);

    let mut ids = r.hll(IDS_CUR);
    ids.insert(t.identity);
    r.put_hll(IDS_CUR, &ids);
    for (at, item) in [(TEXTS_CUR, t.text), (BLOCKS_CUR, t.block)] {
        if let Some(item) = item {
            let mut h = r.hll(at);
            h.insert(item);
            r.put_hll(at, &h);
        }
    }
    r.set(REQ_CUR, r.get(REQ_CUR).saturating_add(1));
    let requests = r.get(REQ_CUR).saturating_add(r.get(REQ_PREV));
    if t.long {
        r.set(LONG_CUR, r.get(LONG_CUR).saturating_add(1));
    }
    // Rounds: this request's minute crowded far above the template's rate.
    let minute = Minute {
        number: r.get(MINUTE),
        bitmap: r.get(MINUTE_IDS),
    };
    let (minute, in_minute) = minute.observe(t.now, t.identity);
    r.set(MINUTE, minute.number);
    r.set(MINUTE_IDS, minute.bitmap);
    // The counted history covers the previous window only if it was kept.
    let history_start = if r.get(REQ_PREV) > 0 {
        window.saturating_sub(1) * t.window_secs.max(1)
    } else {
        window * t.window_secs.max(1)
    };
    let elapsed = t.now.saturating_sub(history_start.max(r.get(SINCE)));
    if sync::crowded(in_minute, requests as f64, elapsed) {
        r.set(SYNC_CUR, r.get(SYNC_CUR).saturating_add(1));
    }
    let limit_start = super::limits::window_start(t.now, t.limit_window_secs);
    let count = if r.get(LIMIT_START) == limit_start {
        r.get(LIMIT_COUNT).saturating_add(1)
    } else {
        1
    };
    r.set(LIMIT_START, limit_start);
    r.set(LIMIT_COUNT, count);
    let view = ClusterView {
        accounts: r.accounts(),
        texts: r.hll(TEXTS_CUR).merge(&r.hll(TEXTS_PREV)).estimate(),
        blocks: r.hll(BLOCKS_CUR).merge(&r.hll(BLOCKS_PREV)).estimate(),
        requests: requests as f64,
        window_requests: count,
        long_requests: r.get(LONG_CUR).saturating_add(r.get(LONG_PREV)) as f64,
        synced_requests: r.get(SYNC_CUR).saturating_add(r.get(SYNC_PREV)) as f64,
        tracked: true,
    };
    (r.words, view)
}

/// The address block a client belongs to: /24 for IPv4, /48 for IPv6
/// (what one operator or proxy pool typically holds).
pub fn address_block(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            fingerprint(&[b'4', o[0], o[1], o[2]])
        }
        IpAddr::V6(v6) => {
            let mut b = [b'6'; 7];
            for (dst, src) in b.iter_mut().skip(1).zip(v6.octets()) {
                *dst = src;
            }
            fingerprint(&b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn touch(owner: u64, identity: u64, text: u64, now: u64) -> Touch {
        Touch {
            owner,
            identity: fingerprint(&identity.to_le_bytes()),
            text: Some(fingerprint(&text.to_le_bytes())),
            block: Some(fingerprint(&(identity % 10).to_le_bytes())),
            long: false,
            now,
            window_secs: 86_400,
            limit_window_secs: 600,
        }
    }

    fn feed(
        mut slot: Option<[u64; WORDS]>,
        touches: impl Iterator<Item = Touch>,
    ) -> (Option<[u64; WORDS]>, ClusterView) {
        let mut last = ClusterView::default();
        for t in touches {
            let (w, v) = apply(slot.as_ref(), &t);
            slot = Some(w);
            last = v;
        }
        (slot, last)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn counts_distinct_accounts_and_texts() {
        let (_, v) = feed(None, (0..300).map(|i| touch(1, i % 100, i, 1_000 + i)));
        assert!((70.0..130.0).contains(&v.accounts), "{v:?}");
        assert!(v.texts > 200.0, "{v:?}");
        // One text pasted by many accounts: many accounts, one text.
        let (_, v) = feed(None, (0..50).map(|i| touch(2, i, 7, 1_000 + i)));
        assert!(v.accounts > 35.0 && v.texts < 1.5, "{v:?}");
        assert_eq!(v.window_requests, 50);
        assert_eq!(v.requests, 50.0);
        // 50 accounts from 10 blocks.
        assert!((8.0..12.0).contains(&v.blocks), "{v:?}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn windows_decay() {
        let (slot, _) = feed(None, (0..50).map(|i| touch(1, i, i, 10 + i)));
        // Next day: yesterday still counts.
        let (slot, v) = feed(slot, std::iter::once(touch(1, 999, 999, 86_400 + 10)));
        assert!(v.accounts > 40.0, "{v:?}");
        // Two days later: forgotten.
        let (_, v) = feed(slot, std::iter::once(touch(1, 999, 999, 3 * 86_400 + 10)));
        assert!(v.accounts < 1.5, "{v:?}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_flood_of_new_keys_does_not_push_out_a_campaign() {
        let (slot, _) = feed(None, (0..200).map(|i| touch(1, i, i, 1_000 + i)));
        // 10,000 one-off keys colliding on the same slot.
        let (slot, _) = feed(slot, (0..10_000u64).map(|i| touch(1_000 + i, 50_000 + i, i, 2_000 + i)));
        let (_, v) = feed(slot, std::iter::once(touch(1, 7, 7, 20_000)));
        assert!(v.tracked && v.accounts > 150.0, "{v:?}");
        // A slot held by a one-off text is taken at once.
        let (slot, _) = feed(None, std::iter::once(touch(5, 1, 1, 100)));
        let (_, v) = feed(slot, std::iter::once(touch(6, 2, 2, 101)));
        assert!(v.tracked && v.accounts < 1.5);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn counts_long_outputs_and_synchronised_rounds() {
        // 100 accounts in rounds: all within 40 s every hour, long outputs.
        let rounds = (0..24u64).flat_map(|h| {
            (0..100u64).map(move |a| Touch {
                long: true,
                ..touch(1, a, h * 100 + a, 3_600 * (h + 1) + a * 40 / 100)
            })
        });
        let (_, v) = feed(None, rounds);
        assert_eq!(v.long_requests, v.requests);
        assert!(v.synced_requests / v.requests > 0.7, "{v:?}");
        // The same volume spread evenly over the day: no crowd.
        let steady = (0..2_400u64).map(|i| touch(2, i % 100, i, 3_600 + i * 36));
        let (_, v) = feed(None, steady);
        assert_eq!(v.long_requests, 0.0);
        assert_eq!(v.synced_requests, 0.0, "{v:?}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn address_blocks() {
        let a = |s: &str| address_block(s.parse().unwrap());
        assert_eq!(a("203.0.113.7"), a("203.0.113.250"));
        assert_ne!(a("203.0.113.7"), a("203.0.114.7"));
        assert_eq!(a("2001:db8:1:1::1"), a("2001:db8:1:ffff::2"));
        assert_ne!(a("2001:db8:1::1"), a("2001:db8:2::1"));
    }
}
