//! How two hosts' records of one slot become one: the rule for every word
//! of every synced table, in one place so a layout change is re-aligned
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

use super::tables::Table;
use crate::detect::cadence::{self, roll_days, Record};
use crate::detect::config::DetectionSettings;
use crate::detect::correlate::{self as c, WORDS as CW};
use crate::detect::decay;
use crate::detect::hll::{Hll, WORDS as HW};

/// How detection's decayed counts fade (its settings of the same names):
/// merging two of them brings both to one time first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fades {
    /// The limit level and the guests' count fade by `e` per this.
    pub limit_window_secs: u64,
    /// The score memory halves in this.
    pub memory_half_life_secs: u64,
    /// The eviction pressure halves in one correlation window.
    pub window_secs: u64,
}

impl Fades {
    /// Detection's defaults.
    pub const DEFAULT: Fades = Fades {
        limit_window_secs: 600,
        memory_half_life_secs: 1_209_600,
        window_secs: 86_400,
    };

    pub fn of(s: &DetectionSettings) -> Fades {
        Fades {
            limit_window_secs: s.limit_window_secs,
            memory_half_life_secs: s.memory_half_life_secs,
            window_secs: s.window_secs,
        }
    }

    fn limit_tau(self) -> f64 {
        self.limit_window_secs.max(1) as f64
    }

    fn pressure_tau(self) -> f64 {
        self.window_secs.max(1) as f64 / std::f64::consts::LN_2
    }
}

impl Default for Fades {
    fn default() -> Fades {
        Fades::DEFAULT
    }
}

/// Two decayed counts `(value, at)` as one: both faded to the later `at`
/// and `combine`d.
fn decayed(a: (f64, u64), b: (f64, u64), tau: f64, combine: impl Fn(f64, f64) -> f64) -> (f64, u64) {
    let at = a.1.max(b.1);
    let (x, y) = (decay::at(a.0, a.1, at, tau), decay::at(b.0, b.1, at, tau));
    (combine(x, y), at)
}

/// A cluster record's counters (`add`ed) and decayed counts (faded to the
/// later time and `combine`d) of `a` and `b`, into `out`.
fn cluster_counts(
    fades: Fades,
    out: &mut [u64; CW],
    a: &[u64; CW],
    b: &[u64; CW],
    add: fn(u64, u64) -> u64,
    combine: fn(f64, f64) -> f64,
) {
    for at in c::WINDOW_COUNTERS.into_iter().flat_map(|(prev, cur)| [prev, cur]) {
        set(out, at, add(get(a, at), get(b, at)));
    }
    for (value, at, tau) in [
        (c::LIMIT_LEVEL, c::LIMIT_AT, fades.limit_tau()),
        (c::TOKENS, c::TOKENS_AT, fades.limit_tau()),
        (c::PRESSURE, c::PRESSURE_AT, fades.pressure_tau()),
    ] {
        let (v, t) = decayed(
            (decay::from_bits(get(a, value)), get(a, at)),
            (decay::from_bits(get(b, value)), get(b, at)),
            tau,
            combine,
        );
        set(out, value, v.to_bits());
        set(out, at, t);
    }
}

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

/// `x − y`, never below zero (decayed counts).
fn less(x: f64, y: f64) -> f64 {
    (x - y).max(0.0)
}

/// A cluster record without `part` ([`remove_from`]).
pub fn remove_cluster(fades: Fades, m: &[u64; CW], part: &[u64; CW]) -> [u64; CW] {
    let window = get(m, c::WINDOW);
    if is_empty(part) || is_empty(m) || get(m, c::OWNER) != get(part, c::OWNER) || get(part, c::WINDOW) > window {
        return *m;
    }
    let p = roll_cluster(part, window);
    let mut out = *m;
    cluster_counts(fades, &mut out, m, &p, u64::saturating_sub, less);
    out
}

/// An identity record without `part` ([`remove_from`]).
pub fn remove_identity(fades: Fades, m: &[u64; cadence::WORDS], part: &[u64; cadence::WORDS]) -> [u64; cadence::WORDS] {
    if is_empty(part) || is_empty(m) {
        return *m;
    }
    let (rm, rp) = (Record::decode(m), Record::decode(part));
    if rm.owner != rp.owner || rp.last_seen > rm.last_seen {
        return *m;
    }
    let mut out = rm;
    out.count = rm.count.saturating_sub(rp.count);
    let day = rm.long_days >> 48;
    let lp = roll_days(rp.long_days, day, 0);
    let today = (rm.long_days & 0xff_ffff).saturating_sub(lp & 0xff_ffff);
    let yesterday = ((rm.long_days >> 24) & 0xff_ffff).saturating_sub((lp >> 24) & 0xff_ffff);
    out.long_days = (day & 0xffff) << 48 | yesterday << 24 | today;
    decayed_counts(fades, &mut out, &rm, &rp, less);
    if rm.minute >> 32 == rp.minute >> 32 {
        let left = (rm.minute & 0xffff_ffff).saturating_sub(rp.minute & 0xffff_ffff);
        out.minute = (rm.minute >> 32) << 32 | left;
    }
    // The texts sketch: its registers stay, its requests are summed.
    let requests = |t: &crate::detect::recurrence::Texts| t.counts & 0xffff_ffff;
    out.texts.counts = (rm.texts.counts & !0xffff_ffff) | requests(&rm.texts).saturating_sub(requests(&rp.texts));
    out.encode()
}

/// Whether a record is empty (never written, or zeroed).
pub fn is_empty(words: &[u64]) -> bool {
    words.iter().all(|w| *w == 0)
}

fn get(w: &[u64], i: usize) -> u64 {
    w.get(i).copied().unwrap_or(0)
}

fn set(w: &mut [u64], i: usize, v: u64) {
    if let Some(x) = w.get_mut(i) {
        *x = v;
    }
}

fn hll(w: &[u64], at: usize) -> Hll {
    Hll::from_words(w.get(at..at + HW).unwrap_or(&[]))
}

/// Distinct accounts a cluster record holds (both windows).
fn cluster_accounts(w: &[u64; CW]) -> f64 {
    hll(w, c::IDS_CUR).merge(&hll(w, c::IDS_PREV)).estimate()
}

/// `w` seen from window `to`: unchanged, rolled by one, or empty.
fn roll_cluster(w: &[u64; CW], to: u64) -> [u64; CW] {
    let at = get(w, c::WINDOW);
    if at == to {
        return *w;
    }
    if at + 1 != to {
        // As `correlate::apply` after two idle windows: only the owner and
        // the decayed counts carry over (an empty record stays empty).
        let mut r = [0; CW];
        if is_empty(w) {
            return r;
        }
        for i in c::KEPT_WHEN_IDLE {
            set(&mut r, i, get(w, i));
        }
        set(&mut r, c::WINDOW, to);
        return r;
    }
    let mut r = *w;
    for (prev, cur) in [(c::IDS_PREV, c::IDS_CUR), (c::TEXTS_PREV, c::TEXTS_CUR)] {
        for i in 0..HW {
            set(&mut r, prev + i, get(w, cur + i));
            set(&mut r, cur + i, 0);
        }
    }
    for (prev, cur) in c::WINDOW_COUNTERS {
        set(&mut r, prev, get(w, cur));
        set(&mut r, cur, 0);
    }
    set(&mut r, c::WINDOW, to);
    r
}

/// Two cluster records of one slot as one.
pub fn merge_cluster(fades: Fades, a: &[u64; CW], b: &[u64; CW]) -> [u64; CW] {
    if is_empty(b) {
        return *a;
    }
    if is_empty(a) {
        return *b;
    }
    let window = get(a, c::WINDOW).max(get(b, c::WINDOW));
    if get(a, c::WINDOW) == window && get(b, c::WINDOW) == window {
        return merge_aligned(fades, a, b);
    }
    merge_aligned(fades, &roll_cluster(a, window), &roll_cluster(b, window))
}

/// Two cluster records of the same window as one.
fn merge_aligned(fades: Fades, a: &[u64; CW], b: &[u64; CW]) -> [u64; CW] {
    let (a, b) = (*a, *b);
    if is_empty(&b) {
        return a;
    }
    if is_empty(&a) {
        return b;
    }
    if get(&a, c::OWNER) != get(&b, c::OWNER) {
        let key = |w: &[u64; CW]| (cluster_accounts(w), get(w, c::OWNER));
        return if key(&a) >= key(&b) { a } else { b };
    }
    let mut out = a;
    for at in [
        c::IDS_CUR,
        c::IDS_PREV,
        c::TEXTS_CUR,
        c::TEXTS_PREV,
        c::BLOCKS_CUR,
        c::BLOCKS_PREV,
    ] {
        // Register-wise maximum, eight one-byte registers a word.
        if let (Some(o), Some(x)) = (out.get_mut(at..at + HW), b.get(at..at + HW)) {
            for (o, x) in o.iter_mut().zip(x) {
                *o = max_bytes(*o, *x);
            }
        }
    }
    cluster_counts(fades, &mut out, &a, &b, u64::saturating_add, |x, y| x + y);
    let (bitmap, minute) = same_or_later(
        (get(&a, c::MINUTE_IDS), get(&a, c::MINUTE)),
        (get(&b, c::MINUTE_IDS), get(&b, c::MINUTE)),
        |x, y| x | y,
    );
    set(&mut out, c::MINUTE_IDS, bitmap);
    set(&mut out, c::MINUTE, minute);
    let since = match (get(&a, c::SINCE), get(&b, c::SINCE)) {
        (0, s) | (s, 0) => s,
        (x, y) => x.min(y),
    };
    set(&mut out, c::SINCE, since);
    out
}

/// Byte-wise maximum of two words (eight HyperLogLog registers each).
/// Registers hold ranks up to 59, so when no byte has its top bit set the
/// lanes compare without borrows (SWAR); otherwise byte by byte.
fn max_bytes(x: u64, y: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if (x | y) & HIGH == 0 {
        // Lane bit 7 set where x >= y.
        let ge = ((x | HIGH) - y) & HIGH;
        let mask = (ge >> 7) * 0xff;
        return (x & mask) | (y & !mask);
    }
    let (x, y) = (x.to_le_bytes(), y.to_le_bytes());
    let mut out = [0u8; 8];
    for ((o, a), b) in out.iter_mut().zip(x).zip(y) {
        *o = a.max(b);
    }
    u64::from_le_bytes(out)
}

/// `(value, period)` pairs: combined when in the same period, else the
/// later period's.
fn same_or_later(a: (u64, u64), b: (u64, u64), combine: impl Fn(u64, u64) -> u64) -> (u64, u64) {
    match a.1.cmp(&b.1) {
        std::cmp::Ordering::Equal => (combine(a.0, b.0), a.1),
        std::cmp::Ordering::Less => b,
        std::cmp::Ordering::Greater => a,
    }
}

/// An hours word (bits 48-63 day, 24-47 yesterday's hours, 0-23 today's)
/// seen from `day`.
fn roll_hours(word: u64, day: u64) -> u64 {
    let stored = word >> 48;
    if stored == day & 0xffff {
        return word;
    }
    let today = word & 0xff_ffff;
    let yesterday = if (stored + 1) & 0xffff == day & 0xffff {
        today
    } else {
        0
    };
    (day & 0xffff) << 48 | yesterday << 24
}

/// An identity's decayed counts (the limit level, the guests', the output
/// tokens) of `a` and `b`, each faded to the later of their times and
/// `combine`d, into `out`.
fn decayed_counts(fades: Fades, out: &mut Record, a: &Record, b: &Record, combine: fn(f64, f64) -> f64) {
    let tau = fades.limit_tau();
    out.level = decayed((a.level, a.last_seen), (b.level, b.last_seen), tau, combine).0;
    (out.guests, out.guests_at) = decayed((a.guests, a.guests_at), (b.guests, b.guests_at), tau, combine);
    (out.tokens, out.tokens_at) = decayed((a.tokens, a.tokens_at), (b.tokens, b.tokens_at), tau, combine);
}

/// Two identity records of one slot as one.
pub fn merge_identity(fades: Fades, a: &[u64; cadence::WORDS], b: &[u64; cadence::WORDS]) -> [u64; cadence::WORDS] {
    if is_empty(b) {
        return *a;
    }
    if is_empty(a) {
        return *b;
    }
    let (ra, rb) = (Record::decode(a), Record::decode(b));
    if ra.owner != rb.owner {
        let key = |r: &Record| (r.last_seen, r.owner);
        return if key(&ra) < key(&rb) { *b } else { *a };
    }
    let mut m = ra;
    m.count = ra.count.saturating_add(rb.count);
    m.first_seen = match (ra.first_seen, rb.first_seen) {
        (0, s) | (s, 0) => s,
        (x, y) => x.min(y),
    };
    m.last_seen = ra.last_seen.max(rb.last_seen);
    let day = (ra.hours >> 48).max(rb.hours >> 48);
    let (ha, hb) = (roll_hours(ra.hours, day), roll_hours(rb.hours, day));
    m.hours = (day & 0xffff) << 48 | ((ha | hb) & 0xffff_ffff_ffff);
    let long_day = (ra.long_days >> 48).max(rb.long_days >> 48);
    let (la, lb) = (
        roll_days(ra.long_days, long_day, 0),
        roll_days(rb.long_days, long_day, 0),
    );
    let today = ((la & 0xff_ffff) + (lb & 0xff_ffff)).min(0xff_ffff);
    let yesterday = (((la >> 24) & 0xff_ffff) + ((lb >> 24) & 0xff_ffff)).min(0xff_ffff);
    m.long_days = (long_day & 0xffff) << 48 | yesterday << 24 | today;
    // Decayed values: `LEVEL` and `MEMORY` are as of `LAST_SEEN`.
    let sum: fn(f64, f64) -> f64 = |x, y| x + y;
    decayed_counts(fades, &mut m, &ra, &rb, sum);
    // Score memory: the latest host's, as the gaps below (each host keeps
    // the memory its merged run remembered, the fleet's as of its last
    // sync moved by its own request: `fleet::carry`).
    let remembered = |r: &Record| (r.last_seen, r.memory.to_bits());
    m.memory = if remembered(&ra) >= remembered(&rb) {
        ra.memory
    } else {
        rb.memory
    };
    let (in_minute, minute) = same_or_later(
        (ra.minute & 0xffff_ffff, ra.minute >> 32),
        (rb.minute & 0xffff_ffff, rb.minute >> 32),
        |x, y| x.saturating_add(y).min(0xffff_ffff),
    );
    m.minute = minute << 32 | in_minute;
    m.upstream = cadence::combine_upstream(ra.upstream, rb.upstream);
    m.texts = crate::detect::recurrence::Texts::merge(ra.texts, rb.texts);
    m.conversation = if (rb.last_seen, rb.conversation) > (ra.last_seen, ra.conversation) {
        rb.conversation
    } else {
        ra.conversation
    };
    // A cool-down lasts until the later end; strikes: the more.
    m.cooldown.until = ra.cooldown.until.max(rb.cooldown.until);
    m.cooldown.strikes = ra.cooldown.strikes.max(rb.cooldown.strikes);
    // Gap statistics and own shares (running averages of the fleet's
    // stream, as of each host's last request): the latest. Ties by count,
    // then by the bits.
    let running = |r: &Record| {
        (
            r.last_seen,
            r.count,
            [r.gap_mean, r.gap_var, r.own_long, r.own_sync, r.own_cont].map(f64::to_bits),
        )
    };
    let latest = if running(&ra) >= running(&rb) { ra } else { rb };
    (m.gap_mean, m.gap_var) = (latest.gap_mean, latest.gap_var);
    (m.own_long, m.own_sync, m.own_cont) = (latest.own_long, latest.own_sync, latest.own_cont);
    m.encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::correlate::{apply, Touch};
    use crate::hash::fingerprint;
    use wasm_bindgen_test::wasm_bindgen_test;

    const F: Fades = Fades::DEFAULT;

    fn touch(owner: u64, identity: u64, now: u64) -> Touch {
        Touch {
            owner,
            identity: fingerprint(&identity.to_le_bytes()),
            text: Some(fingerprint(&(identity * 7).to_le_bytes())),
            block: Some(fingerprint(&(identity % 5).to_le_bytes())),
            long: identity % 2 == 0,
            now,
            window_secs: 86_400,
            limit_window_secs: 600,
            press: 0.0,
            continuation: false,
        }
    }

    fn feed(slot: Option<[u64; CW]>, touches: impl Iterator<Item = Touch>) -> Option<[u64; CW]> {
        touches.fold(slot, |s, t| Some(apply(s.as_ref(), &t).0))
    }

    /// What a request at `now` would see on a slot (the view, not the words).
    fn view(slot: &[u64; CW], now: u64) -> c::ClusterView {
        apply(Some(slot), &touch(1, 999_999, now)).1
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn two_hosts_halves_merge_to_the_whole() {
        let all = feed(None, (0..200).map(|i| touch(1, i, 10_000 + i))).unwrap();
        let even = feed(None, (0..200).step_by(2).map(|i| touch(1, i, 10_000 + i))).unwrap();
        let odd = feed(None, (1..200).step_by(2).map(|i| touch(1, i, 10_000 + i))).unwrap();
        let merged = merge_cluster(F, &even, &odd);
        assert_eq!(merged, merge_cluster(F, &odd, &even), "commutative");
        let (w, m) = (view(&all, 10_300), view(&merged, 10_300));
        assert_eq!(w.accounts, m.accounts);
        assert_eq!(w.texts, m.texts);
        assert_eq!(w.blocks, m.blocks);
        assert_eq!(w.requests, m.requests);
        assert_eq!(w.long_requests, m.long_requests);
        assert!((w.limit_level - m.limit_level).abs() < 1e-9);
        // One host sees half the accounts.
        assert!(view(&even, 10_300).accounts < 0.6 * w.accounts);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn empty_is_the_identity_and_merges_associate() {
        let a = feed(None, (0..30).map(|i| touch(1, i, 100 + i))).unwrap();
        let b = feed(None, (30..60).map(|i| touch(1, i, 200 + i))).unwrap();
        let d = feed(None, (60..90).map(|i| touch(1, i, 86_400 + i))).unwrap();
        assert_eq!(merge_cluster(F, &a, &[0; CW]), a);
        assert_eq!(merge_cluster(F, &[0; CW], &a), a);
        assert_eq!(
            merge_cluster(F, &merge_cluster(F, &a, &b), &d),
            merge_cluster(F, &a, &merge_cluster(F, &b, &d))
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn windows_align_before_merging() {
        // Yesterday's record on one host, today's on another: yesterday's
        // accounts still count (previous window), two days old do not.
        let old = feed(None, (0..50).map(|i| touch(1, i, 100 + i))).unwrap();
        let today = feed(None, (50..60).map(|i| touch(1, i, 86_400 + i))).unwrap();
        let m = view(&merge_cluster(F, &old, &today), 86_500);
        assert!(m.accounts > 50.0, "{m:?}");
        assert_eq!(m.requests, 61.0);
        let later = feed(None, (50..60).map(|i| touch(1, i, 3 * 86_400 + i))).unwrap();
        let m = view(&merge_cluster(F, &old, &later), 3 * 86_400 + 100);
        assert!(m.accounts < 12.0, "{m:?}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn different_owners_keep_the_better_evidenced() {
        let big = feed(None, (0..40).map(|i| touch(1, i, 100 + i))).unwrap();
        let small = feed(None, (0..2).map(|i| touch(2, i, 100 + i))).unwrap();
        assert_eq!(merge_cluster(F, &big, &small), big);
        assert_eq!(merge_cluster(F, &small, &big), big);
    }

    fn identity(times: impl Iterator<Item = u64>) -> [u64; cadence::WORDS] {
        let mut times = times.peekable();
        let first = times.peek().copied().unwrap_or(0);
        times
            .fold(Record::fresh(7, first), |r, t| r.observe(t, t % 3 == 0))
            .encode()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn identity_counts_sum_hours_or_memory_latest() {
        let base = 10 * 86_400;
        let a = identity((0..10).map(|i| base + i * 3_600));
        let b = identity((10..20).map(|i| base + i * 3_600));
        let m = Record::decode(&merge_identity(F, &a, &b));
        assert_eq!(merge_identity(F, &a, &b), merge_identity(F, &b, &a));
        assert_eq!(m.count, 20);
        assert_eq!(m.first_seen, base);
        assert_eq!(m.last_seen, base + 19 * 3_600);
        assert_eq!((m.hours & 0xff_ffff).count_ones(), 20);
        let whole = Record::decode(&identity((0..20).map(|i| base + i * 3_600)));
        assert_eq!(m.long_days, whole.long_days);
        // The latest host's memory is the fleet's: a suspicious host's when
        // it saw the identity last, else the later host's (which judged on
        // the fleet's as of its last sync).
        let mut sus = Record::decode(&a);
        sus.memory = 0.9;
        let mut calm = Record::decode(&b);
        calm.memory = 0.2;
        let m = |x: &Record, y: &Record| Record::decode(&merge_identity(F, &x.encode(), &y.encode())).memory;
        assert_eq!((m(&sus, &calm), m(&calm, &sus)), (0.2, 0.2));
        let (mut sus_late, mut calm_early) = (Record::decode(&b), Record::decode(&a));
        (sus_late.memory, calm_early.memory) = (0.9, 0.2);
        assert_eq!((m(&sus_late, &calm_early), m(&calm_early, &sus_late)), (0.9, 0.9));
        assert_eq!(merge_identity(F, &a, &[0; cadence::WORDS]), a);
    }

    /// Output tokens two hosts counted for one identity add up, each
    /// faded to the later of their times, as one host counting both would.
    #[wasm_bindgen_test(unsupported = test)]
    fn identity_tokens_sum_as_one_host_counts_them() {
        let tau = F.limit_tau();
        let (mut a, mut b, mut one) = (Record::fresh(7, 100), Record::fresh(7, 100), Record::fresh(7, 100));
        a.add_tokens(5_000, 200, tau);
        b.add_tokens(3_000, 900, tau);
        one.add_tokens(5_000, 200, tau);
        one.add_tokens(3_000, 900, tau);
        let m = Record::decode(&merge_identity(F, &a.encode(), &b.encode()));
        assert_eq!(m.tokens_at, 900);
        assert!((m.tokens - one.tokens).abs() < 1e-6, "{} vs {}", m.tokens, one.tokens);
        assert_eq!(
            merge_identity(F, &a.encode(), &b.encode()),
            merge_identity(F, &b.encode(), &a.encode())
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn identity_gaps_are_the_latest_hosts() {
        // Both hosts hold the fleet's running averages as of their last
        // request: the later one's are the fleet's.
        let a = identity((0..20).map(|i| 1_000 + i * 60));
        let b = identity((0..10).map(|i| 5_000 + i * 90));
        let (ra, rb) = (Record::decode(&a), Record::decode(&b));
        for m in [merge_identity(F, &a, &b), merge_identity(F, &b, &a)] {
            let m = Record::decode(&m);
            assert_eq!((m.gap_mean, m.gap_var), (rb.gap_mean, rb.gap_var), "{m:?}");
        }
        assert_ne!(ra.gap_mean, rb.gap_mean);
    }

    /// Taking one host's part back out of a merge of three leaves the
    /// other two's merge on every summed word, and the merge's own value on
    /// words merged by maximum.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_cluster_part_taken_out_leaves_the_others() {
        let a = feed(None, (0..30).map(|i| touch(1, i, 100 + i * 7))).unwrap();
        let b = feed(None, (30..60).map(|i| touch(1, i, 500 + i * 3))).unwrap();
        let d = feed(None, (60..90).map(|i| touch(1, i, 86_400 + i))).unwrap();
        let all = merge_cluster(F, &merge_cluster(F, &a, &b), &d);
        let without_b = remove_cluster(F, &all, &b);
        let ad = merge_cluster(F, &a, &d);
        for i in [
            c::REQ_CUR,
            c::REQ_PREV,
            c::LONG_CUR,
            c::LONG_PREV,
            c::SYNC_CUR,
            c::SYNC_PREV,
        ] {
            assert_eq!(without_b[i], ad[i], "word {i}");
        }
        for (v, at) in [(c::LIMIT_LEVEL, c::LIMIT_AT), (c::PRESSURE, c::PRESSURE_AT)] {
            assert_eq!(without_b[at], ad[at]);
            assert!(close(f64::from_bits(without_b[v]), f64::from_bits(ad[v])), "word {v}");
        }
        assert_eq!(without_b[c::IDS_CUR], all[c::IDS_CUR], "registers stay");
        // Replacing a part: M ⊖ old ⊕ new is the merge with the new part.
        let b2 = feed(Some(b), (90..95).map(|i| touch(1, i, 86_400 + 200 + i))).unwrap();
        let replaced = merge_cluster(F, &remove_cluster(F, &all, &b), &b2);
        let direct = merge_cluster(F, &ad, &b2);
        for i in [c::REQ_CUR, c::REQ_PREV, c::SYNC_CUR] {
            assert_eq!(replaced[i], direct[i], "word {i}");
        }
        // Another owner's part was never in it.
        let other = feed(None, (0..3).map(|i| touch(2, i, 100 + i)));
        assert_eq!(remove_cluster(F, &all, &other.unwrap()), all);
        assert_eq!(remove_cluster(F, &all, &[0; CW]), all);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_identity_part_taken_out_leaves_the_others() {
        let (a, b, d) = (rich(10_000, 0, 0.2), rich(10_600, 0, 0.6), rich(11_000, 0, 1.0));
        let (ae, be, de) = (a.encode(), b.encode(), d.encode());
        let all = merge_identity(F, &merge_identity(F, &ae, &be), &de);
        let without_b = Record::decode(&remove_identity(F, &all, &be));
        let ad = Record::decode(&merge_identity(F, &ae, &de));
        assert_eq!(without_b.count, ad.count);
        assert_eq!(without_b.long_days, ad.long_days);
        assert_eq!(without_b.texts, ad.texts);
        for (x, y) in [
            (without_b.level, ad.level),
            (without_b.guests, ad.guests),
            (without_b.own_long, ad.own_long),
            (without_b.own_sync, ad.own_sync),
        ] {
            assert!(close(x, y), "{without_b:?} {ad:?}");
        }
        // Latest and maximum words stay the merge's.
        let all_r = Record::decode(&all);
        assert_eq!(without_b.last_seen, all_r.last_seen);
        assert_eq!(without_b.hours, all_r.hours);
        assert_eq!(remove_identity(F, &all, &[0; cadence::WORDS]), all);
        let mut stranger = b;
        stranger.owner = 9;
        assert_eq!(remove_identity(F, &all, &stranger.encode()), all);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn byte_maximum_matches_a_byte_loop() {
        let naive = |x: u64, y: u64| {
            let (a, b) = (x.to_le_bytes(), y.to_le_bytes());
            u64::from_le_bytes(std::array::from_fn(|i| a[i].max(b[i])))
        };
        let mut v = 0x0123_4567_89ab_cdefu64;
        for _ in 0..10_000 {
            v = fingerprint(&v.to_le_bytes());
            let w = fingerprint(&v.to_be_bytes());
            for (x, y) in [
                (v, w),
                (v & 0x3f3f_3f3f_3f3f_3f3f, w & 0x3f3f_3f3f_3f3f_3f3f),
                (v & 0x3f, w),
            ] {
                assert_eq!(max_bytes(x, y), naive(x, y), "{x:x} {y:x}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn wrong_widths_are_refused() {
        let mut acc = vec![0u64; 3];
        assert!(!merge_into(Table::Identity, F, &mut acc, &[1, 2, 3]));
        let mut acc = vec![0u64; cadence::WORDS];
        let other = identity((0..3).map(|i| 100 + i));
        assert!(merge_into(Table::Identity, F, &mut acc, &other));
        assert_eq!(acc, other.to_vec());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn defaults_are_detections() {
        assert_eq!(Fades::default(), Fades::of(&DetectionSettings::default()));
    }

    fn close(x: f64, y: f64) -> bool {
        (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn cluster_decayed_counts_fade_to_the_later_time_then_sum() {
        let at = |t: u64| feed(None, [touch(1, 1, t)].into_iter()).unwrap();
        // Same window, limit counts 600 s apart: e^-1 of the older one.
        let (a, mut b) = (at(100_000), at(100_600));
        b[c::PRESSURE] = 4.0f64.to_bits();
        b[c::PRESSURE_AT] = 100_600;
        let mut a2 = a;
        a2[c::PRESSURE] = 2.0f64.to_bits();
        a2[c::PRESSURE_AT] = 100_600 - 86_400 / 2;
        for (x, y) in [(a2, b), (b, a2)] {
            let m = merge_cluster(F, &x, &y);
            assert_eq!(m[c::LIMIT_AT], 100_600);
            assert!(close(f64::from_bits(m[c::LIMIT_LEVEL]), 1.0 + (-1.0f64).exp()));
            assert_eq!(m[c::PRESSURE_AT], 100_600);
            // Half-life one window: 2 → 1.4142… after half a window.
            assert!(close(f64::from_bits(m[c::PRESSURE]), 4.0 + 2.0 * 0.5f64.sqrt()));
        }
        assert_eq!(merge_cluster(F, &a, &b), merge_cluster(F, &b, &a));
        // Two windows idle: only the owner and the decayed counts carry over.
        let late = at(3 * 86_400 + 5);
        let m = merge_cluster(F, &a2, &late);
        assert_eq!(m[c::REQ_CUR], 1);
        assert_eq!(m[c::REQ_PREV], 0);
        assert!(f64::from_bits(m[c::PRESSURE]) > 0.0);
    }

    /// The cluster's output tokens merge as a decayed count (faded to the
    /// later `TOKENS_AT`, summed); its answer counters as the request
    /// counters (summed once both are in the same window).
    #[wasm_bindgen_test(unsupported = test)]
    fn cluster_tokens_merge_like_their_kinds() {
        use crate::detect::correlate::{answered, Answer};
        let charge = |w: [u64; CW], tokens: u64, now: u64| {
            let a = Answer {
                owner: w[c::OWNER],
                tokens,
                long: tokens >= 2_048,
                now,
                window_secs: 86_400,
                limit_window_secs: 600,
            };
            answered(Some(&w), &a).unwrap()
        };
        let a = charge(feed(None, [touch(1, 1, 100_000)].into_iter()).unwrap(), 6_000, 100_000);
        let b = charge(feed(None, [touch(1, 2, 100_600)].into_iter()).unwrap(), 300, 100_600);
        for (x, y) in [(a, b), (b, a)] {
            let m = merge_cluster(F, &x, &y);
            assert_eq!(m[c::TOKENS_AT], 100_600);
            assert!(close(f64::from_bits(m[c::TOKENS]), 300.0 + 6_000.0 * (-1.0f64).exp()));
            assert_eq!((m[c::ANSWERS_CUR], m[c::LONG_ANSWERS_CUR]), (2, 1));
        }
        // One host a window ahead: the other's answers become the previous
        // window's; two windows ahead: only the decayed tokens carry over.
        let later = charge(feed(None, [touch(1, 3, 186_500)].into_iter()).unwrap(), 50, 186_500);
        let m = merge_cluster(F, &a, &later);
        assert_eq!(
            (m[c::ANSWERS_CUR], m[c::ANSWERS_PREV], m[c::LONG_ANSWERS_PREV]),
            (1, 1, 1)
        );
        let idle = charge(feed(None, [touch(1, 3, 400_000)].into_iter()).unwrap(), 50, 400_000);
        let m = merge_cluster(F, &a, &idle);
        assert_eq!(
            (m[c::ANSWERS_CUR], m[c::ANSWERS_PREV], m[c::LONG_ANSWERS_PREV]),
            (1, 0, 0)
        );
        assert!(f64::from_bits(m[c::TOKENS]) >= 50.0);
        assert_eq!(merge_cluster(F, &a, &[0; CW]), a);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn cluster_merges_associate_and_commute_on_every_word() {
        let a = feed(None, (0..30).map(|i| touch(1, i, 100 + i * 7))).unwrap();
        let b = feed(None, (30..60).map(|i| touch(1, i, 500 + i * 3))).unwrap();
        let d = feed(None, (60..90).map(|i| touch(1, i, 86_400 + i))).unwrap();
        let l = merge_cluster(F, &merge_cluster(F, &a, &b), &d);
        let r = merge_cluster(F, &a, &merge_cluster(F, &b, &d));
        for i in 0..CW {
            if [c::LIMIT_LEVEL, c::PRESSURE, c::TOKENS].contains(&i) {
                assert!(close(f64::from_bits(l[i]), f64::from_bits(r[i])), "word {i}");
            } else {
                assert_eq!(l[i], r[i], "word {i}");
            }
        }
        assert_eq!(merge_cluster(F, &a, &b), merge_cluster(F, &b, &a));
        assert_eq!(merge_cluster(F, &l, &[0; CW]), l);
    }

    fn rich(at: u64, upstream: u64, own: f64) -> Record {
        let mut r = Record::decode(&identity((0..5).map(|i| at + i * 90)));
        r.level = 3.0;
        r.memory = 0.5;
        r.guests = 2.0;
        r.guests_at = at;
        r.upstream = upstream;
        r.own_long = own;
        r.own_sync = own / 2.0;
        r
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn identity_new_words_merge_by_their_rules() {
        let (a, b) = (rich(10_000, 9_000 << 2 | 2, 0.2), rich(10_600, 10_500 << 2 | 1, 0.6));
        let m = Record::decode(&merge_identity(F, &a.encode(), &b.encode()));
        assert_eq!(
            merge_identity(F, &a.encode(), &b.encode()),
            merge_identity(F, &b.encode(), &a.encode())
        );
        let t = b.last_seen;
        assert_eq!(m.last_seen, t);
        assert!(close(m.level, a.level_at(t, 600.0) + b.level));
        assert_eq!(m.memory, b.memory, "the later host's");
        assert_eq!(m.guests_at, b.guests_at);
        assert!(close(m.guests, a.guests_at_time(b.guests_at, 600.0) + b.guests));
        // The later answer (accepted at 10 500 over refused at 9 000).
        assert_eq!(m.upstream, b.upstream);
        assert!(!m.refused());
        // Own shares: the later host's (running averages of the fleet's stream).
        assert_eq!((m.own_long, m.own_sync), (b.own_long, b.own_sync), "{m:?}");
        // Identity and associativity.
        let d = rich(20_000, 0, 1.0);
        let (ae, be, de) = (a.encode(), b.encode(), d.encode());
        assert_eq!(merge_identity(F, &[0; cadence::WORDS], &ae), ae);
        let l = Record::decode(&merge_identity(F, &merge_identity(F, &ae, &be), &de));
        let r = Record::decode(&merge_identity(F, &ae, &merge_identity(F, &be, &de)));
        for (x, y) in [
            (l.level, r.level),
            (l.memory, r.memory),
            (l.guests, r.guests),
            (l.own_long, r.own_long),
            (l.own_sync, r.own_sync),
            (l.gap_mean, r.gap_mean),
        ] {
            assert!(close(x, y), "{l:?} {r:?}");
        }
        assert_eq!(
            (
                l.count,
                l.first_seen,
                l.last_seen,
                l.hours,
                l.minute,
                l.long_days,
                l.upstream,
                l.guests_at
            ),
            (
                r.count,
                r.first_seen,
                r.last_seen,
                r.hours,
                r.minute,
                r.long_days,
                r.upstream,
                r.guests_at
            )
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn identities_of_different_owners_keep_the_later_seen() {
        let a = rich(10_000, 0, 0.0).encode();
        let mut b = rich(50_000, 0, 0.0);
        b.owner = 8;
        let b = b.encode();
        assert_eq!(merge_identity(F, &a, &b), b);
        assert_eq!(merge_identity(F, &b, &a), b);
    }
}
