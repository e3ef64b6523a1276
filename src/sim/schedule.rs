//! When each account sends: a human day (diurnal curve by timezone, sessions
//! of follow-ups), machine cadence (batch jobs, harnesses) and the campaigns'
//! around-the-clock schedules.

use super::actor::{Actor, Event, Kind};
use super::params::{self, Cadence, BATCH_JOBS, CAMPAIGNS, HARNESS_INTERVAL_SECS, HARNESS_ITEMS, HARNESS_RUNS_PER_DAY};
use super::rng::Rng;

const DAY: f64 = 86_400.0;

/// Relative activity of a person by local hour: quiet at night, peaks in the
/// late morning and afternoon, some evening use.
pub fn diurnal(hour: f64) -> f64 {
    const W: [f64; 24] = [
        0.06, 0.04, 0.03, 0.03, 0.03, 0.05, 0.12, 0.3, 0.6, 0.9, 1.0, 1.0, 0.7, 0.9, 1.0, 1.0, 0.9, 0.8, 0.6, 0.6, 0.6,
        0.45, 0.3, 0.15,
    ];
    W.get((hour.rem_euclid(24.0)) as usize).copied().unwrap_or(0.0)
}

/// Office hours: 8-18 local on weekdays.
fn office(hour: f64, weekday: bool) -> f64 {
    let h = hour.rem_euclid(24.0);
    if weekday && (8.0..18.0).contains(&h) {
        if (12.0..13.0).contains(&h) {
            0.5
        } else {
            1.0
        }
    } else {
        0.0
    }
}

/// A time within the day (seconds from day start, UTC) drawn from a
/// weight-by-local-hour curve by rejection; `None` if the curve is empty.
fn draw_time(rng: &mut Rng, tz: f64, weight: impl Fn(f64) -> f64) -> Option<f64> {
    for _ in 0..200 {
        let t = rng.f64() * DAY;
        if rng.f64() < weight(t / 3600.0 + tz) {
            return Some(t);
        }
    }
    None
}

/// A Poisson count with the given mean (inversion; means here are small,
/// large means use a normal approximation).
fn poisson(rng: &mut Rng, mean: f64) -> usize {
    if mean > 50.0 {
        return (mean + mean.sqrt() * rng.normal()).round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let mut p = rng.f64();
    let mut k = 0;
    while p > limit && k < 1000 {
        p *= rng.f64();
        k += 1;
    }
    k
}

/// Sessions of a person: each opens at a diurnal time and continues with
/// follow-up turns a minute or a few apart.
fn human_sessions(
    rng: &mut Rng,
    a: &Actor,
    idx: u32,
    day_start: f64,
    weight: &dyn Fn(f64) -> f64,
    turns: impl Fn(&mut Rng) -> u32,
) -> Vec<Event> {
    let mut out = Vec::new();
    for _ in 0..poisson(rng, a.activity) {
        let Some(t0) = draw_time(rng, a.tz_hours, weight) else {
            continue;
        };
        let seed = rng.next_u64();
        let mut t = day_start + t0;
        for turn in 0..turns(rng) {
            out.push(Event {
                ts_ms: (t * 1000.0) as u64,
                actor: idx,
                turn,
                seed,
            });
            t += 20.0 + rng.exp(90.0);
        }
    }
    out
}

/// Geometric number of turns with the given mean number of follow-ups.
fn session_turns(mean_followups: f64) -> impl Fn(&mut Rng) -> u32 {
    move |rng: &mut Rng| {
        let mut n = 1;
        while n < 12 && rng.chance(mean_followups / (1.0 + mean_followups)) {
            n += 1;
        }
        n
    }
}

/// The events of actor `idx` on day `day` (0-based), unsorted.
pub fn day_events(a: &Actor, idx: u32, day: u32, seed: u64) -> Vec<Event> {
    let mut rng = Rng::derive(seed, a.group, u64::from(idx) << 16 | u64::from(day));
    let trace_start = params::START_TS as f64;
    let day_start = trace_start + f64::from(day) * DAY;
    let weekday = day % 7 < 5;
    let followups = params::INDIVIDUALS.mean_followups;
    let mut events = match a.kind {
        Kind::Individual { .. } | Kind::Persona { .. } | Kind::PopularApp => {
            if !rng.chance(params::INDIVIDUALS.active_day) {
                return Vec::new();
            }
            human_sessions(&mut rng, a, idx, day_start, &diurnal, session_turns(followups))
        }
        Kind::Office { .. } => human_sessions(
            &mut rng,
            a,
            idx,
            day_start,
            &|h| office(h, weekday),
            session_turns(followups),
        ),
        Kind::Batch { job, key, keys } => {
            let Some(j) = BATCH_JOBS.get(job) else {
                return Vec::new();
            };
            // The job's keys take turns; each key fires every `interval * keys`.
            let step = j.interval_secs * keys as f64;
            let mut t = day_start + j.start_hour_utc * 3600.0 + j.interval_secs * key as f64;
            let end = t + j.hours * 3600.0;
            let mut out = Vec::new();
            while t < end {
                out.push(Event {
                    ts_ms: (t * 1000.0) as u64,
                    actor: idx,
                    turn: 0,
                    seed: rng.next_u64(),
                });
                t += step * (0.95 + 0.1 * rng.f64());
            }
            out
        }
        Kind::Harness => {
            let mut out = Vec::new();
            for run in 0..HARNESS_RUNS_PER_DAY {
                // Runs start in the working day of the harness's timezone.
                let hour = 9.0 + 5.0 * run as f64 + rng.f64() * 2.0 - a.tz_hours;
                let mut t = day_start + hour.rem_euclid(24.0) * 3600.0;
                for item in 0..HARNESS_ITEMS {
                    out.push(Event {
                        ts_ms: (t * 1000.0) as u64,
                        actor: idx,
                        turn: 0,
                        seed: item as u64,
                    });
                    t += HARNESS_INTERVAL_SECS * (0.5 + rng.f64());
                }
            }
            out
        }
        Kind::Campaign { campaign } => {
            let Some(c) = CAMPAIGNS.get(campaign) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            match c.cadence {
                Cadence::Synchronised => {
                    // A central scheduler fires rounds at fixed times for every
                    // account; each account joins most rounds with a little jitter.
                    let interval = DAY / c.requests_per_day;
                    let phase = (campaign as f64 * 613.0) % interval;
                    let mut t = day_start + phase;
                    while t < day_start + DAY {
                        if rng.chance(0.95) {
                            let ts = t + rng.f64() * 40.0;
                            out.push(Event {
                                ts_ms: (ts * 1000.0) as u64,
                                actor: idx,
                                turn: 0,
                                seed: rng.next_u64(),
                            });
                        }
                        t += interval;
                    }
                }
                Cadence::AroundTheClock => {
                    let mut t = day_start + rng.exp(DAY / c.requests_per_day);
                    while t < day_start + DAY {
                        out.push(Event {
                            ts_ms: (t * 1000.0) as u64,
                            actor: idx,
                            turn: 0,
                            seed: rng.next_u64(),
                        });
                        t += rng.exp(DAY / c.requests_per_day);
                    }
                }
                Cadence::Human => {
                    let per_session = 4.0;
                    let sessions = Actor {
                        activity: c.requests_per_day / per_session,
                        ..a.clone()
                    };
                    out = human_sessions(
                        &mut rng,
                        &sessions,
                        idx,
                        day_start,
                        &diurnal,
                        session_turns(per_session - 1.0),
                    );
                    // Each request of a session is a fresh prompt, not a follow-up.
                    for e in &mut out {
                        e.seed = e.seed.wrapping_add(u64::from(e.turn));
                        e.turn = 0;
                    }
                }
            }
            out
        }
    };
    let start_ms = ((trace_start + a.start_offset) * 1000.0) as u64;
    events.retain(|e| e.ts_ms >= start_ms);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diurnal_is_quiet_at_night() {
        assert!(diurnal(3.0) < 0.1 && diurnal(10.5) > 0.9 && diurnal(-21.0) == diurnal(3.0));
    }

    #[test]
    fn poisson_mean_is_close() {
        let mut rng = Rng::new(3);
        let n = 5000;
        let total: usize = (0..n).map(|_| poisson(&mut rng, 4.0)).sum();
        let mean = total as f64 / n as f64;
        assert!((mean - 4.0).abs() < 0.2, "{mean}");
    }
}
