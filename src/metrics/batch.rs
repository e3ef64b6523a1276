//! Counter increments held in the VM and sent in batches
//! (`metrics.flush_interval_ms`, issue 8): each counter add of a request
//! would otherwise be a host call (`proxy_increment_metric`), ~11 a request.
//! The glue adds here and, on its tick, sends one increment per counter
//! that moved since the last flush. Pure bookkeeping, tested natively; the
//! host side is `filter::host_metrics`.
//!
//! Bounded: the keys are [`Counter`]s, a closed set of names (see
//! [`crate::metrics`]), so the map holds at most a few hundred entries.

use super::counter_map::{counter_map, CounterMap};
use super::Counter;

/// The counters' held adds, and beside each what its caller keeps for it
/// (the glue: the counter's metric ids). One map for both: a request's add
/// is one lookup, and the module carries one map type fewer (issue 8).
pub struct CounterBatch<V> {
    /// Flush every this many ticks; 0: no batching (every add is sent at
    /// once, as without this module).
    every_ticks: u64,
    /// Ticks since the last flush.
    ticks: u64,
    /// Per counter: its value and the delta held since the last flush.
    counters: CounterMap<(V, u64)>,
}

/// `interval_ms` (0: immediate) rounded up to whole ticks of `tick_ms`.
fn every_ticks(interval_ms: u64, tick_ms: u64) -> u64 {
    if interval_ms == 0 {
        0
    } else {
        interval_ms.div_ceil(tick_ms.max(1))
    }
}

impl<V: Copy> CounterBatch<V> {
    /// `interval_ms` (0: immediate) rounded up to whole ticks of `tick_ms`.
    pub fn new(interval_ms: u64, tick_ms: u64) -> CounterBatch<V> {
        CounterBatch {
            every_ticks: every_ticks(interval_ms, tick_ms),
            ticks: 0,
            counters: counter_map(),
        }
    }

    /// A new interval, counted from now; the counters' values and held
    /// deltas stay.
    pub fn set_interval(&mut self, interval_ms: u64, tick_ms: u64) {
        self.every_ticks = every_ticks(interval_ms, tick_ms);
        self.ticks = 0;
    }

    /// Whether adds are held (false: the caller sends each add at once).
    pub fn holds(&self) -> bool {
        self.every_ticks > 0
    }

    /// The counter's value, made by `make` on the counter's first use.
    pub fn value(&mut self, counter: Counter, make: impl FnOnce() -> V) -> V {
        self.counters.entry(counter).or_insert_with(|| (make(), 0)).0
    }

    /// Holds `by` more for `counter` (its value made by `make` on first use).
    pub fn add(&mut self, counter: Counter, by: u64, make: impl FnOnce() -> V) {
        let slot = self.counters.entry(counter).or_insert_with(|| (make(), 0));
        slot.1 = slot.1.saturating_add(by);
    }

    /// One tick passed: the held deltas (each counter that moved once,
    /// with its value) when a flush is due, else nothing.
    pub fn tick(&mut self) -> Vec<(V, u64)> {
        self.ticks = self.ticks.saturating_add(1);
        if self.every_ticks == 0 || self.ticks < self.every_ticks {
            return Vec::new();
        }
        self.ticks = 0;
        self.take()
    }

    /// Every held delta, now (the VM is going away).
    pub fn take(&mut self) -> Vec<(V, u64)> {
        self.counters
            .values_mut()
            .filter_map(|(value, held)| {
                let by = std::mem::take(held);
                (by > 0).then_some((*value, by))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Action;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// The tests keep each counter itself as its value.
    type Batch = CounterBatch<Counter>;

    fn add(b: &mut Batch, counter: Counter, by: u64) {
        b.add(counter, by, || counter);
    }

    fn sorted(mut v: Vec<(Counter, u64)>) -> Vec<(String, u64)> {
        v.sort_by_key(|(c, _)| c.name());
        v.into_iter().map(|(c, n)| (c.name(), n)).collect()
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn zero_interval_holds_nothing() {
        let b = Batch::new(0, 500);
        assert!(!b.holds());
    }

    /// 1000 ms on a 500 ms tick: a flush every second tick, each counter
    /// that moved once with its sum.
    #[wasm_bindgen_test(unsupported = test)]
    fn flushes_each_counter_once_when_due() {
        let mut b = Batch::new(1000, 500);
        assert!(b.holds());
        for _ in 0..3 {
            add(&mut b, Counter::Requests, 1);
            add(&mut b, Counter::Decision(Action::Allow), 1);
        }
        add(&mut b, Counter::Response("usage"), 40);
        assert!(b.tick().is_empty(), "not due after one tick");
        add(&mut b, Counter::Requests, 1);
        let sent = sorted(b.tick());
        assert_eq!(
            sent,
            vec![
                ("distill_guard.decision.allow".to_owned(), 3),
                ("distill_guard.requests".to_owned(), 4),
                (Counter::Response("usage").name(), 40),
            ]
        );
        // Nothing moved since: nothing to send.
        assert!(b.tick().is_empty());
        assert!(b.tick().is_empty());
    }

    /// An interval under the tick (or not a multiple of it) rounds up.
    #[wasm_bindgen_test(unsupported = test)]
    fn intervals_round_up_to_the_tick() {
        for (interval, due_at) in [(1, 1), (500, 1), (501, 2), (1500, 3)] {
            let mut b = Batch::new(interval, 500);
            for tick in 1..=due_at {
                add(&mut b, Counter::Requests, 1);
                let sent = b.tick();
                assert_eq!(sent.is_empty(), tick < due_at, "interval {interval} tick {tick}");
            }
        }
    }

    /// Whatever the pattern of adds and ticks, the sums sent (by the ticks
    /// and a final take) are the sums added: nothing lost or counted twice.
    #[wasm_bindgen_test(unsupported = test)]
    fn nothing_is_lost_or_doubled() {
        let counters = [Counter::Requests, Counter::BodyTruncated, Counter::Reason("burst")];
        let mut b = Batch::new(2000, 500);
        let mut added = [0u64; 3];
        let mut sent = [0u64; 3];
        let mut seed = 7u64;
        for _ in 0..500 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let pick = (seed >> 33) as usize % 4;
            let mut record = |v: Vec<(Counter, u64)>| {
                for (c, n) in v {
                    let i = counters.iter().position(|x| *x == c).unwrap();
                    sent[i] += n;
                }
            };
            match pick {
                3 => record(b.tick()),
                i => {
                    let by = (seed >> 40) % 5;
                    add(&mut b, counters[i], by);
                    added[i] += by;
                }
            }
        }
        for (c, n) in b.take() {
            sent[counters.iter().position(|x| *x == c).unwrap()] += n;
        }
        assert_eq!(sent, added);
        assert!(b.take().is_empty());
    }

    /// A counter's value is made once, on its first use, and outlives a
    /// change of interval; a change of interval restarts the count of ticks.
    #[wasm_bindgen_test(unsupported = test)]
    fn values_are_made_once_and_kept() {
        let mut b = CounterBatch::<u32>::new(0, 500);
        let mut made = 0;
        for _ in 0..3 {
            let v = b.value(Counter::Requests, || {
                made += 1;
                7
            });
            assert_eq!(v, 7);
        }
        assert_eq!(made, 1);
        b.set_interval(1000, 500);
        assert!(b.holds());
        b.add(Counter::Requests, 2, || unreachable!("made already"));
        b.add(Counter::Anonymous, 3, || 9);
        assert!(b.tick().is_empty());
        let mut sent = b.tick();
        sent.sort();
        assert_eq!(sent, vec![(7, 2), (9, 3)]);
        assert_eq!(b.value(Counter::Anonymous, || 0), 9);
        b.set_interval(0, 500);
        assert!(!b.holds());
    }
}
