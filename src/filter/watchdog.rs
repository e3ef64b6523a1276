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
//!
//! A slow client that sends its headers and then waits looks the same as a
//! stall, and could otherwise switch a healthy VM to degraded mode on
//! purpose. So the first body callback after a pause proves that this Envoy
//! delivers bodies: from then on nothing is tracked, resumed or degraded.

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
    /// A body callback followed a pause: this Envoy is configured right.
    proven: Cell<bool>,
}

impl Watchdog {
    /// Whether headers may be held; if so the request is tracked.
    pub fn hold(&self, context_id: u32, now: f64) -> bool {
        if self.degraded.get() {
            return false;
        }
        if self.proven.get() {
            return true;
        }
        let mut paused = self.paused.borrow_mut();
        if paused.len() >= MAX_TRACKED {
            return false;
        }
        paused.push((context_id, now));
        true
    }

    /// The request ended.
    pub fn release(&self, context_id: u32) {
        self.paused.borrow_mut().retain(|(id, _)| *id != context_id);
    }

    /// The request got a body or trailers callback: if it had been paused at
    /// its headers, Envoy delivers bodies after a pause, so stop watching.
    pub fn body_arrived(&self, context_id: u32) {
        if self.proven.get() {
            return;
        }
        let mut paused = self.paused.borrow_mut();
        if paused.iter().any(|(id, _)| *id == context_id) {
            self.proven.set(true);
            paused.clear();
        }
    }

    /// Resumes stalled requests; called from the root context's tick.
    pub fn tick(&self, now: f64) {
        if self.proven.get() {
            return;
        }
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
