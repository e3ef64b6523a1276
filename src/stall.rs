//! When to hold a request at its headers, and when to give up holding: the
//! state machine behind `filter::watchdog`, apart from the host calls so it
//! is tested natively.
//!
//! The filter pauses an LLM request at its headers so that tag headers can
//! be added once the body prefix is inspected. Envoy only delivers the body
//! after such a pause when the Wasm plugin config sets
//! `allow_on_headers_stop_iteration: true`; without it (an older Envoy, or
//! Istio's `WasmPlugin`) the request would hang until a timeout. So every
//! paused request is tracked; one with no body callback within
//! [`STALL_SECS`] is resumed, and the VM is degraded: headers are no longer
//! held (decisions and denials still work; tag headers are lost).
//!
//! A slow client that sends its headers and then waits looks the same as a
//! stall. One body callback after a pause proves Envoy delivers bodies, and
//! from then on nothing is tracked; but before that proof, one slow client
//! could degrade a healthy VM. So degraded is not for good: every
//! [`PROBE_SECS`] one request is held again as a probe, and a body callback
//! for it proves the configuration and ends the degraded mode. On a truly
//! misconfigured Envoy that costs one request a [`STALL_SECS`] delay per
//! [`PROBE_SECS`].

/// Requests tracked at once per VM. When full, new requests are not held.
pub const MAX_TRACKED: usize = 4096;
/// A request held this long at headers without a body callback is stalled.
pub const STALL_SECS: f64 = 1.0;
/// While degraded, one request is held as a probe this often.
pub const PROBE_SECS: f64 = 30.0;

/// What the glue does after a tick.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tick {
    /// Context ids to resume.
    pub resume: Vec<u32>,
    /// This tick entered degraded mode (log the misconfiguration once).
    pub degraded_now: bool,
}

#[derive(Clone, Debug, Default)]
pub struct StallWatch {
    /// (context id, paused at, seconds since the epoch).
    paused: Vec<(u32, f64)>,
    /// When degraded mode began or the last probe was held.
    degraded_since_probe: Option<f64>,
    /// A body callback followed a pause: Envoy is configured right.
    proven: bool,
    /// Ever degraded (so the misconfiguration is logged once).
    ever_degraded: bool,
}

/// What a body callback meant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Nothing new.
    Nothing,
    /// The first proof: stop watching.
    Proven,
    /// The proof came from a probe while degraded: holding again.
    Recovered,
}

impl StallWatch {
    pub fn degraded(&self) -> bool {
        self.degraded_since_probe.is_some()
    }

    /// Whether to hold this request's headers; if so it is tracked.
    pub fn hold(&mut self, context_id: u32, now: f64) -> bool {
        if self.proven {
            return true;
        }
        if let Some(last) = self.degraded_since_probe {
            if now - last < PROBE_SECS {
                return false;
            }
            self.degraded_since_probe = Some(now);
        }
        if self.paused.len() >= MAX_TRACKED {
            return false;
        }
        self.paused.push((context_id, now));
        true
    }

    /// The request ended.
    pub fn release(&mut self, context_id: u32) {
        self.paused.retain(|(id, _)| *id != context_id);
    }

    /// A body or trailers callback for `context_id`.
    pub fn body_arrived(&mut self, context_id: u32) -> Arrival {
        if self.proven || !self.paused.iter().any(|(id, _)| *id == context_id) {
            return Arrival::Nothing;
        }
        self.proven = true;
        self.paused.clear();
        if self.degraded_since_probe.take().is_some() {
            Arrival::Recovered
        } else {
            Arrival::Proven
        }
    }

    /// Resumes what stalled.
    pub fn tick(&mut self, now: f64) -> Tick {
        if self.proven {
            return Tick::default();
        }
        let resume: Vec<u32> = self
            .paused
            .iter()
            .filter(|(_, at)| now - at >= STALL_SECS)
            .map(|(id, _)| *id)
            .collect();
        self.paused.retain(|(_, at)| now - at < STALL_SECS);
        if resume.is_empty() {
            return Tick::default();
        }
        if self.degraded_since_probe.is_none() {
            self.degraded_since_probe = Some(now);
        }
        let degraded_now = !self.ever_degraded;
        self.ever_degraded = true;
        Tick { resume, degraded_now }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn one_slow_client_does_not_degrade_a_healthy_vm_for_good() {
        let mut w = StallWatch::default();
        assert!(w.hold(1, 0.0));
        let t = w.tick(1.5);
        assert_eq!(t.resume, vec![1]);
        assert!(t.degraded_now && w.degraded());
        // Degraded: not held, until a probe is due.
        assert!(!w.hold(2, 10.0));
        assert!(w.hold(3, 1.5 + PROBE_SECS));
        assert!(!w.hold(4, 2.0 + PROBE_SECS), "one probe at a time");
        // The probe's body arrives: healthy after all, holding again.
        assert_eq!(w.body_arrived(3), Arrival::Recovered);
        assert!(!w.degraded());
        assert!(w.hold(5, 40.0));
        assert_eq!(w.tick(100.0), Tick::default());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_misconfigured_envoy_stays_degraded_with_one_probe_per_period() {
        let mut w = StallWatch::default();
        assert!(w.hold(1, 0.0));
        assert!(w.tick(1.0).degraded_now);
        let mut held = 0;
        let mut t = 1.0;
        for id in 10..1000 {
            t += 0.5;
            if w.hold(id, t) {
                held += 1;
            }
            let tick = w.tick(t);
            assert!(!tick.degraded_now, "logged once");
            assert!(tick.resume.len() <= 1);
        }
        // 495 s of traffic: a probe every 30 s.
        assert!((15..=17).contains(&held), "{held}");
        assert!(w.degraded());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn proof_before_any_stall_means_never_degraded() {
        let mut w = StallWatch::default();
        assert!(w.hold(1, 0.0));
        assert_eq!(w.body_arrived(1), Arrival::Proven);
        assert!(w.hold(2, 0.0));
        assert_eq!(w.tick(100.0), Tick::default());
        assert!(!w.degraded());
        // A body callback for a request that was never held proves nothing.
        let mut w = StallWatch::default();
        assert_eq!(w.body_arrived(9), Arrival::Nothing);
    }
}
