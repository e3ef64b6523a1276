//! A guard against an Envoy that never calls the body callbacks after a
//! pause at headers: the host side of [`crate::stall::StallWatch`] (what is
//! held, when to give up and when to try again is decided there, and tested
//! natively). This file resumes what stalled and logs.

use std::cell::RefCell;

use super::abi::{self, Level};
use crate::stall::{Arrival, StallWatch};

/// Tick period of the root context.
pub const TICK_MILLIS: u32 = 500;

#[derive(Default)]
pub struct Watchdog {
    watch: RefCell<StallWatch>,
}

impl Watchdog {
    /// Whether headers may be held; if so the request is tracked.
    pub fn hold(&self, context_id: u32, now: f64) -> bool {
        self.watch.borrow_mut().hold(context_id, now)
    }

    /// The request ended.
    pub fn release(&self, context_id: u32) {
        self.watch.borrow_mut().release(context_id);
    }

    /// The request got a body or trailers callback.
    pub fn body_arrived(&self, context_id: u32) {
        if self.watch.borrow_mut().body_arrived(context_id) == Arrival::Recovered {
            abi::log(
                Level::Info,
                "distill-guard: a request held at its headers got its body: Envoy delivers bodies after a pause, holding headers again (the earlier stall was a slow client)",
            );
        }
    }

    /// Resumes stalled requests; called from the root context's tick.
    pub fn tick(&self, now: f64) {
        let tick = self.watch.borrow_mut().tick(now);
        if tick.degraded_now {
            abi::log(
                Level::Error,
                "distill-guard: a request held at its headers got no body callback: if this Envoy does not call the body callbacks after a pause, set \
                 `allow_on_headers_stop_iteration: true` in the Wasm plugin config. Until a held request gets its body, requests are decided \
                 on their body without holding headers (no tag headers are added); one request is held every 30 s to check again.",
            );
        }
        for id in tick.resume {
            let _ = abi::resume_request_of(id);
        }
    }
}
