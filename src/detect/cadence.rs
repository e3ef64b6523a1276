//! Per-identity behaviour over time, in one fixed-size shared-data slot per
//! identity: inter-arrival statistics (EWMA mean and variance of the gaps,
//! regularity as their coefficient of variation), hour-of-day coverage (24-bit
//! masks of active hours for today and yesterday: around the clock versus a
//! human day), bursts (requests this minute), first seen (identity age), the
//! identity's recent requests as a decayed count (its dynamic limit), a
//! memory of its score that fades with time, how many long outputs it asked
//! for today and yesterday (harvest volume: no person reads hundreds of long
//! answers a day), whether the upstream ever served it (an identity the
//! upstream only refuses, 401/403, counts in no cluster), and its own shares of
//! long-output and synchronised requests (its part in its clusters'
//! evidence).
//!
//! Slots remember their owner. An identity has two places (two-choice
//! hashing, see `slots`); one whose both places are held lives as a guest
//! of its first: the guests' requests are a decayed count of their own
//! (`GUESTS`), which is both the guests' dynamic limit and the pressure on
//! the incumbent. The incumbent yields when it is stale, or when it is not
//! suspicious (remembered score below [`PROTECT_SCORE`]) and its guests'
//! recent requests have caught up with its own. No coin is flipped: every
//! worker and host agrees, and a flood of one-off identities cannot push
//! out an established suspicious one.
//!
//! # Record layout (`id5`) and how two hosts' records merge
//!
//! Records merge only when their `OWNER`s are equal (otherwise keep the one
//! with the later `LAST_SEEN`, ties to the larger owner). Decayed values
//! are brought to the later of their timestamps first. The rules are
//! implemented in `fleet::merge`.
//!
//! | index | name | meaning | merge |
//! |---|---|---|---|
//! | 0 | `OWNER` | identity hash | equal |
//! | 1 | `FIRST_SEEN` | second first seen | min |
//! | 2 | `LAST_SEEN` | second of the last request; timestamp of `LEVEL`, `MEMORY` | max |
//! | 3 | `COUNT` | requests | sum |
//! | 4 | `GAP_MEAN` | `f64`: EWMA of the gaps between requests (in fleet mode: anywhere in the fleet) | the later `LAST_SEEN`'s |
//! | 5 | `GAP_VAR` | `f64`: EWMA variance of the gaps | with `GAP_MEAN` |
//! | 6 | `HOURS` | bits 48-63 day number, 24-47 yesterday's hours, 0-23 today's | align days, or |
//! | 7 | `LEVEL` | `f64`: requests decayed by `e` per `limit_window_secs` (the dynamic limit, and the incumbent's hold on the slot) | decay to the later `LAST_SEEN`, sum |
//! | 8 | `MEMORY` | `f64`: remembered score, halving every `memory_half_life_secs` | the later `LAST_SEEN`'s (ties: the higher) |
//! | 9 | `MINUTE` | bits 32-63 minute number, 0-31 requests in it | same minute: sum; else the later |
//! | 10 | `LONG_DAYS` | long-output requests: bits 48-63 day, 24-47 yesterday, 0-23 today | align days, sum |
//! | 11 | `GUESTS` | `f64`: requests of identities living here as guests, decayed like `LEVEL` | decay to the later `GUESTS_AT`, sum |
//! | 12 | `GUESTS_AT` | second of `GUESTS` | max |
//! | 13 | `UPSTREAM` | `second << 2 \| status`: accepted (1) once the upstream served any request, else refused (2) after a 401/403 | [`combine_upstream`]: accepted if either, at the later second |
//! | 14 | `OWN_SYNC` | `f64`: EWMA of "this request was in a crowded minute of its template" | the later `LAST_SEEN`'s |
//! | 15 | `OWN_LONG` | `f64`: EWMA of "this request asked for a long output" | the later `LAST_SEEN`'s |
//! | 16 | `COOLDOWN_UNTIL` | second until which the identity is denied after a denial (`cooldown`) | max |
//! | 17 | `STRIKES` | `f64`: recent denials as of `COOLDOWN_UNTIL`, halving every `cooldown_forget_secs` after it | max |
//! | 18 | `CONVERSATION` | the last request with tool results: its conversation's key (48 bits) `<< 16 \|` its turns (`continuation`) | the later `LAST_SEEN`'s |
//! | 19 | `OWN_CONT` | `f64`: EWMA of "this request continued the identity's own conversation, grown, with tool results" | the later `LAST_SEEN`'s |
//! | 20 | `TEXTS` | 16 × 4-bit HyperLogLog registers of the identity's texts (`recurrence`) | register max |
//! | 21 | `TEXT_COUNTS` | bits 0-31 requests in `TEXTS`; 32-63 `f32` closed-set strength of the last period | sum; max |
//! | 22 | `TOKENS` | `f64`: output tokens the upstream sent the identity (read from its answers), decayed by `e` per `limit_window_secs` (its token budget) | decay to the later `TOKENS_AT`, sum |
//! | 23 | `TOKENS_AT` | second of `TOKENS` | max |

use super::decay;

/// Words in a stored record.
pub const WORDS: usize = 24;

pub(crate) const OWNER: usize = 0;
pub(crate) const FIRST_SEEN: usize = 1;
pub(crate) const LAST_SEEN: usize = 2;
pub(crate) const COUNT: usize = 3;
pub(crate) const GAP_MEAN: usize = 4;
pub(crate) const GAP_VAR: usize = 5;
pub(crate) const HOURS: usize = 6;
pub(crate) const LEVEL: usize = 7;
pub(crate) const MEMORY: usize = 8;
pub(crate) const MINUTE: usize = 9;
pub(crate) const LONG_DAYS: usize = 10;
pub(crate) const GUESTS: usize = 11;
pub(crate) const GUESTS_AT: usize = 12;
pub(crate) const UPSTREAM: usize = 13;
pub(crate) const OWN_SYNC: usize = 14;
pub(crate) const OWN_LONG: usize = 15;
pub(crate) const COOLDOWN_UNTIL: usize = 16;
pub(crate) const STRIKES: usize = 17;
pub(crate) const CONVERSATION: usize = 18;
pub(crate) const OWN_CONT: usize = 19;
pub(crate) const TEXTS: usize = 20;
pub(crate) const TEXT_COUNTS: usize = 21;
pub(crate) const TOKENS: usize = 22;
pub(crate) const TOKENS_AT: usize = 23;

/// Remembered score from which an entry cannot be displaced while active.
pub const PROTECT_SCORE: f64 = 0.4;
/// An entry idle this long is free for anyone.
pub const STALE_SECS: u64 = 2 * 86_400;
/// Weight of the newest gap in the running mean and variance.
const ALPHA: f64 = 0.1;
/// Weight of the newest request in the identity's own shares.
pub const OWN_ALPHA: f64 = 0.2;
/// Requests needed before gap statistics mean anything.
pub const MIN_REQUESTS: u64 = 12;

/// `UPSTREAM` status: the upstream served one of the identity's requests.
pub const ACCEPTED: u64 = 1;
/// `UPSTREAM` status: the upstream refused it (401/403).
pub const REFUSED: u64 = 2;

/// Two `UPSTREAM` words as one (a new answer on an old word, or two hosts'
/// words): accepted if either is, at the later second. Acceptance is
/// sticky: a key the upstream has served is a real key, and if a later
/// 401/403 could undo that, a campaign would send a probe the upstream
/// refuses (a model it may not use) before each harvest request and never
/// count in a cluster. Commutative, associative, 0 is its identity.
pub fn combine_upstream(a: u64, b: u64) -> u64 {
    let second = (a >> 2).max(b >> 2);
    let status = if (a | b) & ACCEPTED != 0 {
        ACCEPTED
    } else {
        (a | b) & REFUSED
    };
    second << 2 | status
}

/// One identity's slot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Record {
    pub owner: u64,
    pub first_seen: u64,
    pub last_seen: u64,
    pub count: u64,
    pub gap_mean: f64,
    pub gap_var: f64,
    /// Bits 0-23: hours active today; 24-47: yesterday; 48-63: day number.
    pub hours: u64,
    /// Requests, decayed by `e` per limit window, as of `last_seen`.
    pub level: f64,
    /// Remembered score as of `last_seen`.
    pub memory: f64,
    /// Bits 32-63: minute number; 0-31: requests in that minute.
    pub minute: u64,
    /// Requests asking for a long output. Bits 48-63: day number; 24-47:
    /// yesterday's count; 0-23: today's.
    pub long_days: u64,
    /// Guests' requests, decayed like `level`, as of `guests_at`.
    pub guests: f64,
    pub guests_at: u64,
    /// `second << 2 | status` of the upstream's answers ([`combine_upstream`]).
    pub upstream: u64,
    /// Share of the identity's requests in crowded minutes (EWMA).
    pub own_sync: f64,
    /// Share of the identity's requests asking for long outputs (EWMA).
    pub own_long: f64,
    /// Its denial cool-down ([`super::cooldown`]).
    pub cooldown: super::cooldown::State,
    /// Its last conversation with tool results ([`super::continuation`]).
    pub conversation: u64,
    /// Share of its requests that continued its own conversation (EWMA).
    pub own_cont: f64,
    /// Its distinct texts against its requests ([`super::recurrence`]).
    pub texts: super::recurrence::Texts,
    /// Output tokens of its answers, decayed like `level`, as of `tokens_at`.
    pub tokens: f64,
    pub tokens_at: u64,
}

/// What the cadence says about the identity, after this request.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Features {
    /// 1 for clockwork gaps, 0 for human irregularity.
    pub regularity: f64,
    /// 1 when active in (nearly) every hour of the day.
    pub around_the_clock: f64,
    /// 1 for a machine-speed burst this minute.
    pub burst: f64,
    /// Seconds since first seen.
    pub age_secs: u64,
    /// Remembered score before this request.
    pub memory: f64,
    /// Long-output requests over about the last 24 hours.
    pub long_volume: f64,
}

impl Record {
    pub fn fresh(owner: u64, now: u64) -> Record {
        Record {
            owner,
            first_seen: now,
            last_seen: now,
            ..Record::default()
        }
    }

    pub fn decode(w: &[u64; WORDS]) -> Record {
        let word = |i: usize| w.get(i).copied().unwrap_or(0);
        let float = |i: usize| finite(f64::from_bits(word(i)));
        Record {
            owner: word(OWNER),
            first_seen: word(FIRST_SEEN),
            last_seen: word(LAST_SEEN),
            count: word(COUNT),
            gap_mean: float(GAP_MEAN),
            gap_var: float(GAP_VAR),
            hours: word(HOURS),
            level: float(LEVEL),
            memory: float(MEMORY).clamp(0.0, 1.0),
            minute: word(MINUTE),
            long_days: word(LONG_DAYS),
            guests: float(GUESTS),
            guests_at: word(GUESTS_AT),
            upstream: word(UPSTREAM),
            own_sync: float(OWN_SYNC).clamp(0.0, 1.0),
            own_long: float(OWN_LONG).clamp(0.0, 1.0),
            cooldown: super::cooldown::State {
                until: word(COOLDOWN_UNTIL),
                strikes: float(STRIKES),
            },
            conversation: word(CONVERSATION),
            own_cont: float(OWN_CONT).clamp(0.0, 1.0),
            texts: super::recurrence::Texts {
                registers: word(TEXTS),
                counts: word(TEXT_COUNTS),
            },
            tokens: float(TOKENS).max(0.0),
            tokens_at: word(TOKENS_AT),
        }
    }

    pub fn encode(&self) -> [u64; WORDS] {
        let mut w = [0u64; WORDS];
        for (i, v) in [
            (OWNER, self.owner),
            (FIRST_SEEN, self.first_seen),
            (LAST_SEEN, self.last_seen),
            (COUNT, self.count),
            (GAP_MEAN, self.gap_mean.to_bits()),
            (GAP_VAR, self.gap_var.to_bits()),
            (HOURS, self.hours),
            (LEVEL, self.level.to_bits()),
            (MEMORY, self.memory.to_bits()),
            (MINUTE, self.minute),
            (LONG_DAYS, self.long_days),
            (GUESTS, self.guests.to_bits()),
            (GUESTS_AT, self.guests_at),
            (UPSTREAM, self.upstream),
            (OWN_SYNC, self.own_sync.to_bits()),
            (OWN_LONG, self.own_long.to_bits()),
            (COOLDOWN_UNTIL, self.cooldown.until),
            (STRIKES, self.cooldown.strikes.to_bits()),
            (CONVERSATION, self.conversation),
            (OWN_CONT, self.own_cont.to_bits()),
            (TEXTS, self.texts.registers),
            (TEXT_COUNTS, self.texts.counts),
            (TOKENS, self.tokens.to_bits()),
            (TOKENS_AT, self.tokens_at),
        ] {
            if let Some(dst) = w.get_mut(i) {
                *dst = v;
            }
        }
        w
    }

    /// The remembered score at `now`, halving every `half_life_secs`.
    pub fn memory_at(&self, now: u64, half_life_secs: f64) -> f64 {
        decay::at(
            self.memory,
            self.last_seen,
            now,
            half_life_secs / std::f64::consts::LN_2,
        )
    }

    /// The identity's recent requests at `now` (decayed by `e` per `tau`).
    pub fn level_at(&self, now: u64, tau_secs: f64) -> f64 {
        decay::at(self.level, self.last_seen, now, tau_secs)
    }

    /// Output tokens of its recent answers at `now` (decayed like `level`).
    pub fn tokens_at_time(&self, now: u64, tau_secs: f64) -> f64 {
        decay::at(self.tokens, self.tokens_at, now, tau_secs)
    }

    /// Counts one answer's output tokens at `now`.
    pub fn add_tokens(&mut self, tokens: u64, now: u64, tau_secs: f64) {
        self.tokens = self.tokens_at_time(now, tau_secs) + tokens as f64;
        self.tokens_at = self.tokens_at.max(now);
    }

    /// Its guests' recent requests at `now`.
    pub fn guests_at_time(&self, now: u64, tau_secs: f64) -> f64 {
        decay::at(self.guests, self.guests_at, now, tau_secs)
    }

    /// The upstream refused the identity and never served it.
    pub fn refused(&self) -> bool {
        self.upstream & 3 == REFUSED
    }

    /// Whether `newcomer` takes this slot from its owner at `now`, one more
    /// of its guests' requests counted (`memory_half_life`, `tau`: how the
    /// owner's memory and requests fade).
    pub fn yields_to(&self, newcomer: u64, now: u64, memory_half_life: f64, tau: f64) -> bool {
        if self.owner == newcomer || self.count == 0 {
            return true;
        }
        if now.saturating_sub(self.last_seen) > STALE_SECS {
            return true;
        }
        if self.memory_at(now, memory_half_life) >= PROTECT_SCORE {
            return false;
        }
        self.guests_at_time(now, tau) + 1.0 >= self.level_at(now, tau).max(1.0)
    }

    /// The record with one more guest's request at `now`.
    pub fn host_guest(mut self, now: u64, tau: f64) -> Record {
        self.guests = self.guests_at_time(now, tau) + 1.0;
        self.guests_at = now.max(self.guests_at);
        self
    }

    /// The record after one more request at `now`; `long`: it asked for a
    /// long output.
    pub fn observe(mut self, now: u64, long: bool) -> Record {
        let now = now.max(self.last_seen);
        if self.count > 0 {
            let gap = (now - self.last_seen).min(STALE_SECS) as f64;
            if self.count == 1 {
                self.gap_mean = gap;
                self.gap_var = 0.0;
            } else {
                let d = gap - self.gap_mean;
                self.gap_mean += ALPHA * d;
                self.gap_var = (1.0 - ALPHA) * (self.gap_var + ALPHA * d * d);
            }
        }
        let day = now / 86_400;
        let hour = (now % 86_400) / 3_600;
        let stored_day = self.hours >> 48;
        let (mut today, mut yesterday) = (self.hours & 0xff_ffff, (self.hours >> 24) & 0xff_ffff);
        if day != stored_day {
            yesterday = if day == stored_day + 1 { today } else { 0 };
            today = 0;
        }
        today |= 1 << hour;
        self.hours = (day & 0xffff) << 48 | yesterday << 24 | today;
        self.long_days = roll_days(self.long_days, day, u64::from(long));
        let minute = now / 60;
        let in_minute = if self.minute >> 32 == minute & 0xffff_ffff {
            (self.minute & 0xffff_ffff) + 1
        } else {
            1
        };
        self.minute = (minute & 0xffff_ffff) << 32 | in_minute.min(0xffff_ffff);
        self.count = self.count.saturating_add(1);
        self.last_seen = now;
        self
    }

    pub fn features(&self, now: u64, prior_memory: f64) -> Features {
        let cv = if self.gap_mean > 0.0 {
            self.gap_var.sqrt() / self.gap_mean
        } else {
            f64::INFINITY
        };
        let regularity = if self.count >= MIN_REQUESTS {
            ramp_down(cv, 0.35, 1.0)
        } else {
            0.0
        };
        let hours = ((self.hours & 0xff_ffff) | ((self.hours >> 24) & 0xff_ffff)).count_ones();
        let around_the_clock = if self.count >= 20 {
            ramp_up(f64::from(hours), 15.0, 20.0)
        } else {
            0.0
        };
        let burst = ramp_up((self.minute & 0xffff_ffff) as f64, 12.0, 40.0);
        // Today's count plus the part of yesterday's that a sliding 24 hours
        // still covers (assuming yesterday was steady).
        let days = roll_days(self.long_days, now / 86_400, 0);
        let (today, yesterday) = (days & 0xff_ffff, (days >> 24) & 0xff_ffff);
        let left = 1.0 - (now % 86_400) as f64 / 86_400.0;
        Features {
            long_volume: today as f64 + yesterday as f64 * left,
            regularity,
            around_the_clock,
            burst,
            age_secs: now.saturating_sub(self.first_seen),
            memory: prior_memory,
        }
    }
}

/// A per-day counter word (bits 48-63 day, 24-47 yesterday, 0-23 today)
/// after adding `add` on `day`.
pub(crate) fn roll_days(word: u64, day: u64, add: u64) -> u64 {
    let stored_day = word >> 48;
    let (mut today, mut yesterday) = (word & 0xff_ffff, (word >> 24) & 0xff_ffff);
    if day != stored_day {
        yesterday = if day == stored_day + 1 { today } else { 0 };
        today = 0;
    }
    today = (today + add).min(0xff_ffff);
    (day & 0xffff) << 48 | yesterday << 24 | today
}

fn finite(x: f64) -> f64 {
    if x.is_finite() && x >= 0.0 {
        x
    } else {
        0.0
    }
}

/// 0 at `lo` or below, 1 at `hi` or above, linear between.
pub fn ramp_up(x: f64, lo: f64, hi: f64) -> f64 {
    if hi <= lo {
        return if x >= hi { 1.0 } else { 0.0 };
    }
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// 1 at `lo` or below, 0 at `hi` or above.
pub fn ramp_down(x: f64, lo: f64, hi: f64) -> f64 {
    1.0 - ramp_up(x, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn acceptance_is_sticky_and_combines_in_any_order() {
        let (acc, ref_) = (10 << 2 | ACCEPTED, 20 << 2 | REFUSED);
        // A later refusal does not undo an acceptance; the time is the later.
        assert_eq!(combine_upstream(acc, ref_), 20 << 2 | ACCEPTED);
        assert_eq!(combine_upstream(ref_, acc), combine_upstream(acc, ref_));
        assert_eq!(combine_upstream(0, ref_), ref_);
        assert_eq!(combine_upstream(ref_, 30 << 2 | REFUSED), 30 << 2 | REFUSED);
        let c = 5 << 2 | REFUSED;
        assert_eq!(
            combine_upstream(combine_upstream(acc, ref_), c),
            combine_upstream(acc, combine_upstream(ref_, c))
        );
    }

    fn run(times: &[u64]) -> Record {
        let first = times.first().copied().unwrap_or(0);
        times.iter().fold(Record::fresh(7, first), |r, t| r.observe(*t, false))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn clockwork_is_regular_human_sessions_are_not() {
        let machine: Vec<u64> = (0..50).map(|i| 1_000_000 + i * 30).collect();
        let r = run(&machine);
        assert!(r.features(r.last_seen, 0.0).regularity > 0.9);
        // Sessions: 8 quick messages, then hours of silence.
        let mut human = Vec::new();
        for s in 0..6u64 {
            for m in 0..8u64 {
                human.push(1_000_000 + s * 5 * 3600 + m * (20 + (m * 37) % 90));
            }
        }
        let r = run(&human);
        assert!(r.features(r.last_seen, 0.0).regularity < 0.2, "{:?}", r);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn around_the_clock_versus_a_day() {
        let day0 = 86_400 * 20_000;
        // 26 requests a day spread over all hours, two days.
        let bot: Vec<u64> = (0..52).map(|i| day0 + i * 3_323).collect();
        let r = run(&bot);
        assert!(r.features(r.last_seen, 0.0).around_the_clock > 0.9);
        // Office hours 9-18 for two days.
        let office: Vec<u64> = (0..2)
            .flat_map(|d| (0..30).map(move |i| day0 + d * 86_400 + 9 * 3600 + i * 1_100))
            .collect();
        let r = run(&office);
        assert_eq!(r.features(r.last_seen, 0.0).around_the_clock, 0.0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn bursts_and_age() {
        let times: Vec<u64> = (0..30).map(|i| 6_000 + i).collect();
        let r = run(&times);
        let f = r.features(6_100, 0.0);
        assert!(f.burst > 0.5);
        assert_eq!(f.age_secs, 100);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn long_output_volume_slides_over_a_day() {
        let day0 = 86_400 * 20_000;
        // 20 long-output requests an hour for a day, then 6 hours more.
        let r = (0..30 * 20u64).fold(Record::fresh(7, day0), |r, i| r.observe(day0 + i * 180, true));
        let f = r.features(r.last_seen, 0.0);
        assert!((440.0..520.0).contains(&f.long_volume), "{f:?}");
        // Short outputs do not count; two quiet days forget.
        let r = r.observe(day0 + 30 * 3_600, false);
        assert!(r.features(day0 + 3 * 86_400, 0.0).long_volume < 1.0);
    }

    /// A clock stepping back across midnight keeps the day's hours and
    /// long-output counts.
    #[wasm_bindgen_test(unsupported = test)]
    fn a_clock_stepping_back_across_midnight_keeps_the_day() {
        let midnight = 86_400 * 20_000;
        let r = (0..30u64).fold(Record::fresh(7, midnight), |r, i| {
            r.observe(midnight + 60 + i * 60, true)
        });
        let before = r.features(midnight + 2_000, 0.0).long_volume;
        let r = r.observe(midnight - 5, true);
        let after = r.features(midnight + 2_000, 0.0).long_volume;
        assert!(after >= before, "{before} -> {after}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn suspicious_incumbents_survive_a_flood() {
        let (day, tau) = (86_400.0, 600.0);
        let mut r = Record::fresh(1, 1_000).observe(1_000, false);
        r.memory = 0.8;
        r.level = 1.0;
        // Each of 10,000 newcomers presses once: no one displaces it.
        let mut pressed = r;
        for n in 2..10_000u64 {
            assert!(!pressed.yields_to(n, 2_000, day, tau));
            pressed = pressed.host_guest(2_000, tau);
        }
        // A harmless incumbent yields once its guests' recent requests
        // catch up with its own, whoever they are; not on the first.
        r.memory = 0.1;
        r.level = 3.0;
        let r = r.observe(1_000, false);
        assert!(!r.yields_to(2, 1_000, day, tau));
        let pressed = r.host_guest(1_000, tau).host_guest(1_000, tau);
        assert!(pressed.yields_to(3, 1_000, day, tau));
        // Memory fades with time: a suspicious record idle for days is no
        // longer protected; stale: anyone.
        let mut old = r;
        old.memory = 0.9;
        assert!(!old.yields_to(5, 1_000 + 3_600, day, tau));
        assert!(old.memory_at(1_000 + 2 * 86_400, day) < 0.25);
        assert!(old.yields_to(5, 1_000 + STALE_SECS + 1, day, tau));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn round_trips_and_survives_garbage() {
        let r = run(&[10, 20, 45, 100]);
        assert_eq!(Record::decode(&r.encode()), r);
        let junk = Record::decode(&[
            1,
            2,
            3,
            4,
            f64::NAN.to_bits(),
            u64::MAX,
            0,
            f64::NAN.to_bits(),
            f64::INFINITY.to_bits(),
            0,
            0,
            f64::NEG_INFINITY.to_bits(),
            0,
            u64::MAX,
            f64::NAN.to_bits(),
            7,
            u64::MAX,
            f64::NAN.to_bits(),
            u64::MAX,
            f64::INFINITY.to_bits(),
            u64::MAX,
            u64::MAX,
            f64::NEG_INFINITY.to_bits(),
            9,
        ]);
        assert!(junk.gap_mean == 0.0 && junk.memory == 0.0 && junk.level == 0.0 && junk.guests == 0.0);
        assert!(junk.cooldown.strikes == 0.0 && junk.own_cont == 0.0 && junk.texts.strength() <= 1.0);
        assert_eq!(junk.tokens, 0.0);
    }
}
