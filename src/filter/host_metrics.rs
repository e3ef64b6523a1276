//! [`Metrics`] as Envoy counters. Envoy prefixes every name with
//! `wasmcustom.`, so `distill_guard.requests` is
//! `wasmcustom.distill_guard.requests` in `/stats`.
//!
//! A counter is defined on first use and its id cached per VM (one VM per
//! worker thread; Envoy hands every VM the same stat for the same name). The
//! cache is bounded: `Counter` is a closed enum whose labels come from fixed
//! sets, so there are a few dozen names at most.

use std::cell::RefCell;

use super::abi;
use crate::fastmap::{fast_map, FastMap};
use crate::metrics::{Counter, Metrics};

pub struct HostMetrics {
    ids: RefCell<FastMap<Counter, u32>>,
}

impl HostMetrics {
    pub fn new() -> HostMetrics {
        HostMetrics {
            ids: RefCell::new(fast_map()),
        }
    }

    fn id(&self, counter: Counter) -> Option<u32> {
        if let Some(id) = self.ids.borrow().get(&counter) {
            return Some(*id);
        }
        let id = abi::define_counter(&counter.name()).ok()?;
        self.ids.borrow_mut().insert(counter, id);
        Some(id)
    }
}

impl HostMetrics {
    /// Adds `by` to a counter (byte counts).
    pub fn add(&self, counter: Counter, by: usize) {
        if let (Some(id), Ok(by)) = (self.id(counter), i64::try_from(by)) {
            let _ = abi::increment(id, by);
        }
    }
}

impl Metrics for HostMetrics {
    fn incr(&self, counter: Counter) {
        self.add(counter, 1);
    }
}
