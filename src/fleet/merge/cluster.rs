//! Cluster records (`correlate`: template clusters, address blocks): two
//! as one, and one host's part taken back out.

use super::fades::{decayed, less, Fades};
use super::is_empty;
use super::words::{get, max_bytes, same_or_later, set};
use crate::detect::correlate::{self as c, WORDS as CW};
use crate::detect::decay;
use crate::detect::hll::{Hll, WORDS as HW};

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

/// A cluster record without `part` ([`super::remove_from`]).
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
