//! When the held-out scenario's accounts send (see [`super::heldout`]): one
//! account's events for one day, shaped by its group's [`When`].

use super::actor::Event;
use super::heldout_groups::{When, GROUPS};
use super::heldout_members::Member;
use super::rng::Rng;
use super::{params, schedule};

/// Seconds in a day.
pub(super) const DAY: f64 = 86_400.0;

/// An event at `t` seconds since the epoch.
fn event(t: f64, actor: u32, seed: u64) -> Event {
    Event {
        ts_ms: (t * 1000.0) as u64,
        actor,
        turn: 0,
        seed,
    }
}

/// Poisson count (normal approximation above 50).
fn poisson(rng: &mut Rng, mean: f64) -> usize {
    if mean > 50.0 {
        return (mean + mean.sqrt() * rng.normal()).round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let (mut p, mut k) = (rng.f64(), 0);
    while p > limit && k < 1000 {
        p *= rng.f64();
        k += 1;
    }
    k
}

/// The events of member `m` (trace actor `actor`) on day `day`. For lessons
/// and harnesses the event seed is the fixed item number.
pub(super) fn day_events(m: &Member, actor: u32, day: u32, seed: u64) -> Vec<Event> {
    let Some(g) = GROUPS.get(m.group) else {
        return Vec::new();
    };
    let mut rng = Rng::derive(seed, g.name, (m.index as u64) << 16 | u64::from(day));
    let day_start = params::START_TS as f64 + f64::from(day) * DAY;
    let mut out = Vec::new();
    match g.when {
        When::Rounds => {
            let interval = DAY / g.per_day;
            let mut t = day_start + (m.group as f64 * 389.0) % interval;
            while t < day_start + DAY {
                if rng.chance(0.95) {
                    out.push(event(t + rng.f64() * 40.0, actor, rng.next_u64()));
                }
                t += interval;
            }
        }
        When::Poisson => {
            let mut t = day_start + rng.exp(DAY / g.per_day);
            while t < day_start + DAY {
                out.push(event(t, actor, rng.next_u64()));
                t += rng.exp(DAY / g.per_day);
            }
        }
        When::Human => {
            if rng.chance(0.65) {
                for _ in 0..poisson(&mut rng, g.per_day) {
                    let mut tries = 0;
                    let t0 = loop {
                        let t = rng.f64() * DAY;
                        tries += 1;
                        if tries > 200 || rng.f64() < schedule::diurnal(t / 3600.0 + m.tz_hours) {
                            break t;
                        }
                    };
                    let mut t = day_start + t0;
                    // A few fresh prompts a few minutes apart.
                    for _ in 0..1 + rng.below(3) {
                        out.push(event(t, actor, rng.next_u64()));
                        t += 60.0 + rng.exp(240.0);
                    }
                }
            }
        }
        When::Lesson => {
            if day % 7 < 5 {
                let local = 10.0 - m.tz_hours;
                let mut t = day_start + local.rem_euclid(24.0) * 3600.0 + rng.f64() * 300.0;
                for k in 0..g.per_day as u64 {
                    out.push(event(t, actor, u64::from(day) * 100 + k));
                    t += 120.0 + rng.exp(180.0);
                }
            }
        }
        When::Clockwork => {
            let interval = DAY / g.per_day;
            let mut t = day_start + rng.f64() * interval;
            let mut item = (m.index as u64 + u64::from(day) * 7) * 37;
            while t < day_start + DAY {
                out.push(event(t, actor, item));
                item += 1;
                t += interval * (0.9 + 0.2 * rng.f64());
            }
        }
        When::Runs => {
            // Runs of the whole closed set, as many as make `per_day`, each
            // starting at its own moment, items in order a second or two
            // apart (a harness with a little concurrency).
            let items = super::heldout_shapes::EVAL_ITEMS;
            let runs = (g.per_day / items as f64).round().max(1.0) as u64;
            for r in 0..runs {
                let mut t = day_start + (r as f64 + 0.8 * rng.f64()) * DAY / runs as f64;
                for k in 0..items {
                    out.push(event(t, actor, k));
                    t += 0.3 + rng.exp(1.2);
                }
            }
        }
        When::Tasks => {
            if rng.chance(0.8) {
                for _ in 0..poisson(&mut rng, g.per_day) {
                    let mut tries = 0;
                    let t0 = loop {
                        let t = rng.f64() * DAY;
                        tries += 1;
                        if tries > 200 || rng.f64() < schedule::diurnal(t / 3600.0 + m.tz_hours) {
                            break t;
                        }
                    };
                    let task = rng.next_u64();
                    let mut t = day_start + t0;
                    // One task: the loop calls the model again as soon as
                    // each tool has answered.
                    for call in 0..5 + rng.below(36) as u32 {
                        out.push(Event {
                            ts_ms: (t * 1000.0) as u64,
                            actor,
                            turn: call,
                            seed: task,
                        });
                        t += 2.0 + rng.exp(6.0);
                    }
                }
            }
        }
    }
    let start_ms = ((params::START_TS as f64 + m.start_offset) * 1000.0) as u64;
    out.retain(|e| e.ts_ms >= start_ms);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::heldout_members::members;

    #[test]
    fn classmates_get_the_same_items_and_harnesses_run_all_day() {
        let ms = members(1, 1.0);
        let class: Vec<(usize, &Member)> = ms
            .iter()
            .enumerate()
            .filter(|(_, m)| GROUPS.get(m.group).is_some_and(|g| g.name == "classroom"))
            .collect();
        let items =
            |(i, m): (usize, &Member)| -> Vec<u64> { day_events(m, i as u32, 0, 1).iter().map(|e| e.seed).collect() };
        let a = items(class[0]);
        assert_eq!(a.len(), 8);
        assert_eq!(a, items(class[1]));
        assert!(items(class[0]).iter().all(|s| *s < 100));
        let (i, eval) = ms
            .iter()
            .enumerate()
            .find(|(_, m)| GROUPS.get(m.group).is_some_and(|g| g.name == "eval_company"))
            .unwrap();
        let ev = day_events(eval, i as u32, 1, 1);
        assert!(ev.len() > 900, "{}", ev.len());
        let first = ev.iter().map(|e| e.ts_ms).min().unwrap();
        let last = ev.iter().map(|e| e.ts_ms).max().unwrap();
        assert!(last - first > 23 * 3_600_000, "around the clock");
    }
}
