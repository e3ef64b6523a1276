//! The merge rules, word by word.

use super::words::max_bytes;
use super::*;
use crate::detect::cadence::{self, Record};
use crate::detect::config::DetectionSettings;
use crate::detect::correlate::{self as c, WORDS as CW};
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

/// Three hosts' records of one template: two in one window, the third a
/// window later.
fn three_hosts() -> [[u64; CW]; 3] {
    [
        feed(None, (0..30).map(|i| touch(1, i, 100 + i * 7))).unwrap(),
        feed(None, (30..60).map(|i| touch(1, i, 500 + i * 3))).unwrap(),
        feed(None, (60..90).map(|i| touch(1, i, 86_400 + i))).unwrap(),
    ]
}

/// Taking one host's part back out of a merge of three leaves the
/// other two's merge on every summed word, and the merge's own value on
/// words merged by maximum.
#[wasm_bindgen_test(unsupported = test)]
fn a_cluster_part_taken_out_leaves_the_others() {
    let [a, b, d] = three_hosts();
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
    let [a, b, d] = three_hosts();
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
