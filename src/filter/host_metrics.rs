//! [`Metrics`] as Envoy stats. Envoy prefixes every name with
//! `wasmcustom.`, so `distill_guard.requests` is
//! `wasmcustom.distill_guard.requests` in `/stats`.
//!
//! A counter is counted under its flat name and, when it has one, its
//! labelled name (`crate::metrics::labelled`: what Prometheus reads, with
//! labels from Envoy's tag extraction). A metric is defined on first use and
//! its id cached per VM (one VM per worker thread; Envoy hands every VM the
//! same stat for the same name). The caches are bounded: `Counter` and
//! `Histogram` are closed enums whose labels come from fixed sets, so there
//! are a few hundred names at most.
//!
//! Counter adds are held in the VM and sent from the root context's tick
//! when `metrics.flush_interval_ms` is set (the default; see
//! `crate::metrics::batch`): one host call per counter that moved per
//! flush instead of one per add. Histograms are recorded at once.

use std::cell::{Cell, RefCell};

use super::abi;
use super::watchdog::TICK_MILLIS;
use crate::metrics::batch::CounterBatch;
use crate::metrics::{Counter, Histogram, Metrics};

/// A counter's metric ids: its flat name's and its labelled name's.
type Ids = [Option<u32>; 2];

pub struct HostMetrics {
    /// Per counter: its ids, and its deltas not sent yet (none while the
    /// interval is 0). One map, so an add is one lookup.
    counters: RefCell<CounterBatch<Ids>>,
    /// Each histogram's id, once defined (two: no map).
    score_histogram: Cell<Option<u32>>,
    time_histogram: Cell<Option<u32>>,
}

impl HostMetrics {
    pub fn new() -> HostMetrics {
        HostMetrics {
            counters: RefCell::new(CounterBatch::new(0, u64::from(TICK_MILLIS))),
            score_histogram: Cell::new(None),
            time_histogram: Cell::new(None),
        }
    }

    /// Holds counter adds and sends them every `interval_ms` (rounded up
    /// to the tick; 0: each at once). What was held so far is sent first.
    pub fn flush_every(&self, interval_ms: u64) {
        self.flush();
        self.counters
            .borrow_mut()
            .set_interval(interval_ms, u64::from(TICK_MILLIS));
    }

    /// The root context's tick: sends the held deltas when a flush is due.
    pub fn tick(&self) {
        let due = self.counters.borrow_mut().tick();
        send(due);
    }

    /// Sends every held delta now (the VM is going away).
    pub fn flush(&self) {
        let all = self.counters.borrow_mut().take();
        send(all);
    }

    /// Defines these counters and every histogram now (Envoy exports them as
    /// 0 until they count).
    pub fn predefine(&self, counters: &[Counter]) {
        for c in counters {
            self.counters.borrow_mut().value(*c, || define(*c));
        }
        for h in [Histogram::ScorePercent, Histogram::ProcessingMicros] {
            self.histogram_id(h);
        }
    }

    fn histogram_id(&self, histogram: Histogram) -> Option<u32> {
        let cached = match histogram {
            Histogram::ScorePercent => &self.score_histogram,
            Histogram::ProcessingMicros => &self.time_histogram,
        };
        if let Some(id) = cached.get() {
            return Some(id);
        }
        let id = abi::define_histogram(histogram.name()).ok()?;
        cached.set(Some(id));
        Some(id)
    }
}

/// Defines a counter's names (a host call each).
fn define(counter: Counter) -> Ids {
    let flat = counter.name();
    let labelled = counter.labelled_name().filter(|l| *l != flat);
    [
        abi::define_counter(&flat).ok(),
        labelled.and_then(|l| abi::define_counter(&l).ok()),
    ]
}

/// One increment per name of each counter that moved.
fn send(deltas: Vec<(Ids, u64)>) {
    for (ids, by) in deltas {
        let Ok(by) = i64::try_from(by) else { continue };
        increment(ids, by);
    }
}

fn increment(ids: Ids, by: i64) {
    for id in ids.into_iter().flatten() {
        let _ = abi::increment(id, by);
    }
}

impl HostMetrics {
    /// Adds `by` to a counter under each of its names (byte counts).
    pub fn add(&self, counter: Counter, by: usize) {
        let Ok(by) = i64::try_from(by) else { return };
        let mut counters = self.counters.borrow_mut();
        if counters.holds() {
            counters.add(counter, by.unsigned_abs(), || define(counter));
            return;
        }
        // Defined even when nothing is added (Envoy exports it as 0), but
        // a zero add is no host call (issue 8: an answer without reasoning
        // adds 0 reasoning tokens).
        let ids = counters.value(counter, || define(counter));
        drop(counters);
        if by != 0 {
            increment(ids, by);
        }
    }
}

impl Metrics for HostMetrics {
    fn incr(&self, counter: Counter) {
        self.add(counter, 1);
    }

    fn incr_by(&self, counter: Counter, by: u64) {
        self.add(counter, usize::try_from(by).unwrap_or(usize::MAX));
    }

    fn record(&self, histogram: Histogram, value: u64) {
        if let Some(id) = self.histogram_id(histogram) {
            let _ = abi::record(id, value);
        }
    }
}
