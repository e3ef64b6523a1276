//! Time, behind a trait: Envoy's clock in the filter, the trace's timestamps
//! in the replay, a settable clock in tests.

use std::cell::Cell;

pub trait Clock {
    /// Seconds since the Unix epoch.
    fn now_secs(&self) -> f64;
}

/// A clock that says what it was last told (replay and tests).
#[derive(Default)]
pub struct ManualClock {
    now: Cell<f64>,
}

impl ManualClock {
    pub fn new(now: f64) -> ManualClock {
        ManualClock { now: Cell::new(now) }
    }

    pub fn set(&self, now: f64) {
        self.now.set(now);
    }
}

impl Clock for ManualClock {
    fn now_secs(&self) -> f64 {
        self.now.get()
    }
}
