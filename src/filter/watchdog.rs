//! A guard against an Envoy that never calls the body callbacks.
//!
//! The filter pauses an LLM request at its headers so that tag headers can
//! be added once the body prefix is inspected. Envoy only delivers the body
//! after such a pause when the Wasm plugin config sets
//! `allow_on_headers_stop_iteration: true`; without it (an older Envoy, or
//! Istio's `WasmPlugin`, which cannot set it) the pause becomes
//! StopAllIteration and the request would hang until a timeout.
//!
//! So every paused request is tracked here; the root context's tick resumes
//! any that got no body callback within [`STALL_SECS`], logs the
//! misconfiguration once, and switches this VM to a degraded mode in which
//! headers are never held: decisions are still made on the body and denials
//! still answered, but tag headers can no longer be added.

use std::cell::{Cell, RefCell};

use super::abi::{self, Level};

/// Requests tracked at once per VM (one VM per worker thread). When full,
/// new requests are not held at headers (they lose tag headers, never
/// hang).
const MAX_TRACKED: usize = 4096;
/// A request held this long at headers without a body callback is stalled.
pub const STALL_SECS: f64 = 1.0;
/// Tick period of the root context.
pub const TICK_MILLIS: u32 = 500;

#[derive(Default)]
pub struct Watchdog {
    /// (context id, paused at, seconds since the epoch).
    paused: RefCell<Vec<(u32, f64)>>,
    /// A stall was seen: hold no more headers.
    degraded: Cell<bool>,
}

impl Watchdog {
    /// Whether headers may be held; if so the request is tracked.
    pub fn hold(&self, context_id: u32, now: f64) -> bool {
        if self.degraded.get() {
            return false;
        }
        let mut paused = self.paused.borrow_mut();
        if paused.len() >= MAX_TRACKED {
            return false;
        }
        paused.push((context_id, now));
        true
    }

    /// The request got a body or trailers callback, or ended.
    pub fn release(&self, context_id: u32) {
        self.paused.borrow_mut().retain(|(id, _)| *id != context_id);
    }

    /// Resumes stalled requests; called from the root context's tick.
    pub fn tick(&self, now: f64) {
        let stalled: Vec<u32> = {
            let mut paused = self.paused.borrow_mut();
            let stalled = paused
                .iter()
                .filter(|(_, at)| now - at >= STALL_SECS)
                .map(|(id, _)| *id)
                .collect();
            paused.retain(|(_, at)| now - at < STALL_SECS);
            stalled
        };
        if stalled.is_empty() {
            return;
        }
        if !self.degraded.replace(true) {
            abi::log(
                Level::Error,
                "distill-guard: Envoy does not call the body callbacks after a pause at headers: set \
                 `allow_on_headers_stop_iteration: true` in the Wasm plugin config. Until then requests \
                 are decided on their body without holding headers (no tag headers are added).",
            );
        }
        for id in stalled {
            let _ = abi::resume_request_of(id);
        }
    }
}
