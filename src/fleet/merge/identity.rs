//! Identity records (`cadence`): two as one, and one host's part taken
//! back out.

use super::fades::{decayed, less, Fades};
use super::is_empty;
use super::words::same_or_later;
use crate::detect::cadence::{self, roll_days, Record};

/// An identity record without `part` ([`super::remove_from`]).
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
