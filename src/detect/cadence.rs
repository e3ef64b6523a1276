//! Per-identity behaviour over time, in one fixed-size shared-data slot per
//! identity: inter-arrival statistics (EWMA mean and variance of the gaps,
//! regularity as their coefficient of variation), hour-of-day coverage (24-bit
//! masks of active hours for today and yesterday: around the clock versus a
//! human day), bursts (requests this minute), first seen (identity age), the
//! identity's own dynamic-limit window, a memory of its score, and how many
//! long outputs it asked for today and yesterday (harvest volume: no person
//! reads hundreds of long answers a day).
//!
//! Slots are keyed by identity hash and remember their owner. On a collision
//! the incumbent is kept when it is suspicious (remembered score at least
//! [`PROTECT_SCORE`]) and still active, so a flood of fresh identities cannot
//! push an established suspicious one out; otherwise a stale incumbent is
//! replaced, and an active harmless one with probability 1/4 (so two
//! colliding benign identities do not reset each other on every request).

use crate::hash::fingerprint;

/// Words in a stored record.
pub const WORDS: usize = 12;
/// Remembered score from which an entry cannot be displaced while active.
pub const PROTECT_SCORE: f64 = 0.4;
/// An entry idle this long is free for anyone.
pub const STALE_SECS: u64 = 2 * 86_400;
/// Weight of the newest gap in the running mean and variance.
const ALPHA: f64 = 0.1;
/// Requests needed before gap statistics mean anything.
pub const MIN_REQUESTS: u64 = 12;

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
    pub limit_start: u64,
    pub limit_count: u64,
    /// EWMA of this identity's scores.
    pub memory: f64,
    /// Bits 32-63: minute number; 0-31: requests in that minute.
    pub minute: u64,
    /// Requests asking for a long output. Bits 48-63: day number; 24-47:
    /// yesterday's count; 0-23: today's.
    pub long_days: u64,
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
        let [owner, first_seen, last_seen, count, mean, var, hours, limit_start, limit_count, memory, minute, long_days] =
            *w;
        Record {
            owner,
            first_seen,
            last_seen,
            count,
            gap_mean: finite(f64::from_bits(mean)),
            gap_var: finite(f64::from_bits(var)),
            hours,
            limit_start,
            limit_count,
            memory: finite(f64::from_bits(memory)).clamp(0.0, 1.0),
            minute,
            long_days,
        }
    }

    pub fn encode(&self) -> [u64; WORDS] {
        [
            self.owner,
            self.first_seen,
            self.last_seen,
            self.count,
            self.gap_mean.to_bits(),
            self.gap_var.to_bits(),
            self.hours,
            self.limit_start,
            self.limit_count,
            self.memory.to_bits(),
            self.minute,
            self.long_days,
        ]
    }

    /// Whether `newcomer` takes this slot from its owner at `now`.
    pub fn yields_to(&self, newcomer: u64, now: u64) -> bool {
        if self.owner == newcomer || self.count == 0 {
            return true;
        }
        if now.saturating_sub(self.last_seen) > STALE_SECS {
            return true;
        }
        if self.memory >= PROTECT_SCORE {
            return false;
        }
        // Deterministic coin per newcomer and minute: every worker agrees.
        coin(newcomer, now / 60) % 4 == 0
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

/// A hash of two words: a coin every worker flips the same way.
pub fn coin(a: u64, b: u64) -> u64 {
    let mut bytes = [0u8; 16];
    for (dst, w) in bytes.chunks_exact_mut(8).zip([a, b]) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
    fingerprint(&bytes)
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

    #[wasm_bindgen_test(unsupported = test)]
    fn suspicious_incumbents_survive_a_flood() {
        let mut r = Record::fresh(1, 1_000).observe(1_000, false);
        r.memory = 0.8;
        let displaced = (2..10_000u64).filter(|n| r.yields_to(*n, 2_000)).count();
        assert_eq!(displaced, 0);
        // Harmless incumbent: about a quarter of newcomers win.
        r.memory = 0.1;
        let displaced = (2..10_000u64).filter(|n| r.yields_to(*n, 2_000)).count();
        assert!((1_500..3_500).contains(&displaced), "{displaced}");
        // Stale: anyone.
        r.memory = 0.9;
        assert!(r.yields_to(5, 1_000 + STALE_SECS + 1));
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
            0,
            0,
            f64::INFINITY.to_bits(),
            0,
            0,
        ]);
        assert!(junk.gap_mean == 0.0 && junk.memory == 0.0);
    }
}
