//! The traffic simulator: seeded, reproducible multi-day traces in the
//! replay's trace format, with a `label` on every line
//! (`{"class": "benign"|"campaign", "group", "account"}`).
//!
//! One concept a file: [`rng`] (the PRNG), [`corpus`] (real prompts from
//! `../shared/data`), [`params`] (every population and campaign parameter),
//! [`population`] (accounts), [`schedule`] (when they send), [`content`] and
//! [`campaign`] (what they send), [`client`] (wire formats and SDKs) and
//! [`writer`] (trace lines). [`heldout`] is a second scenario of traffic
//! detection was not tuned on (`simulate --scenario heldout`), split the same
//! way into `heldout_*` files. [`flood`] and [`flood_bench`] replay a
//! labelled trace while an attacker floods the tables (`distill-guard flood`).
//!
//! Memory stays proportional to one day of compact events: each day is
//! scheduled, sorted and written before the next (sessions that run past
//! midnight carry over).

pub mod actor;
pub mod answer;
pub mod campaign;
pub mod client;
pub mod content;
pub mod corpus;
pub mod csv;
pub mod flood;
pub mod flood_bench;
pub mod heldout;
pub mod heldout_content;
pub mod heldout_groups;
pub mod heldout_members;
pub mod heldout_schedule;
pub mod heldout_shapes;
pub mod params;
pub mod population;
pub mod rng;
pub mod schedule;
pub mod writer;

use std::io::{self, Write};

use actor::Event;
use corpus::Corpus;

/// What to simulate.
#[derive(Clone, Debug)]
pub struct Options {
    pub seed: u64,
    pub days: u32,
    /// Multiplies account counts (1.0: a few thousand benign accounts).
    pub scale: f64,
}

/// Counts of what was written.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub accounts: usize,
    pub requests: u64,
}

/// Writes the whole trace to `out`.
pub fn generate(opts: &Options, corpus: &Corpus, out: &mut dyn Write) -> io::Result<Stats> {
    let actors = population::build(opts.seed, opts.scale);
    let requests = write_days(
        opts.days,
        out,
        |day, events| schedule_actors(&actors, day, opts.seed, events),
        |out, e| writer::write_event(out, &actors, e, corpus, opts.seed),
    )?;
    Ok(Stats {
        accounts: actors.len(),
        requests,
    })
}

/// Adds day `day`'s events of every actor in `actors` (trace actor ids
/// from 0, in order).
fn schedule_actors(actors: &[actor::Actor], day: u32, seed: u64, events: &mut Vec<Event>) {
    for (i, a) in actors.iter().enumerate() {
        events.extend(schedule::day_events(a, i as u32, day, seed));
    }
}

/// Schedules and writes `days` days in arrival order, holding one day's
/// events at a time: `schedule` adds day `day`'s events, `write` writes one.
/// Events that fall past midnight (sessions still running) carry over to be
/// sorted with the next day's. Shared by both scenarios (`heldout.rs`) so
/// they order and cut days the same way. Returns the number written.
fn write_days(
    days: u32,
    out: &mut dyn Write,
    mut schedule: impl FnMut(u32, &mut Vec<Event>),
    mut write: impl FnMut(&mut dyn Write, &Event) -> io::Result<()>,
) -> io::Result<u64> {
    let mut requests = 0;
    let mut carry: Vec<Event> = Vec::new();
    // Days done, rate and time left on a terminal; silent in pipes and CI.
    let mut progress = crate::progress::Progress::new("simulate", "days", days as usize);
    for day in 0..days {
        let mut events = std::mem::take(&mut carry);
        schedule(day, &mut events);
        events.sort_unstable();
        let day_end_ms = (params::START_TS + u64::from(day + 1) * 86_400) * 1000;
        let last_day = day + 1 == days;
        for e in &events {
            if e.ts_ms >= day_end_ms && !last_day {
                carry.push(*e);
                continue;
            }
            write(&mut *out, e)?;
            requests += 1;
        }
        progress.update(day as usize + 1);
    }
    progress.finish();
    out.flush()?;
    Ok(requests)
}
