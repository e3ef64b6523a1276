//! [`Clock`] from Envoy's wall clock (`proxy_get_current_time_nanoseconds`).
//!
//! Within one callback the clock is read once (issue 8: each read is a host
//! call): [`HostClock::during`] runs a callback with the time it started,
//! and every `now_secs` inside it answers that time. A callback lasts
//! microseconds; detection's windows are seconds and more, so the cached
//! reading changes no decision.

use std::cell::Cell;

use super::abi;
use crate::clock::Clock;

thread_local! {
    /// The current callback's start, nanoseconds since the epoch.
    static NOW: Cell<Option<u64>> = const { Cell::new(None) };
}

pub struct HostClock;

impl HostClock {
    /// Runs `f` with the clock reading `nanos` (the callback's start); the
    /// reading is dropped when `f` returns.
    pub fn during<R>(nanos: u64, f: impl FnOnce() -> R) -> R {
        let outer = NOW.with(|n| n.replace(Some(nanos)));
        let out = f();
        NOW.with(|n| n.set(outer));
        out
    }
}

impl Clock for HostClock {
    fn now_secs(&self) -> f64 {
        // A failing clock call reads as the epoch: windows then start at 0,
        // which is wrong but bounded, and never a panic.
        let nanos = match NOW.with(Cell::get) {
            Some(ns) => ns,
            None => abi::now_nanos().unwrap_or(0),
        };
        nanos as f64 / 1e9
    }
}
