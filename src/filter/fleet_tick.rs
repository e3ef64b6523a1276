//! Fleet sync from the root context's timer (glue only: the logic is in
//! `crate::fleet`). Every worker, each tick, moves its touched slots into
//! the host's pending list; the worker holding the lease, once a period,
//! sends the pending slots' local records to the sync service
//! (`dispatch_http_call` to `fleet.cluster`) and writes the answer behind
//! the local records. No request waits on any of it: a failed, slow or
//! garbled sync is counted, logged once per episode, and the host keeps
//! deciding on its own records; its slots go back to pending for the next
//! try.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::abi::{self, Level};
use super::host_metrics::HostMetrics;
use super::host_store::HostStore;
use crate::fleet::settings::FleetSettings;
use crate::fleet::tables::Table;
use crate::fleet::touched::Touched;
use crate::fleet::{exchange, lease, shared, wire};
use crate::hash::fingerprint;
use crate::metrics::{Counter, Metrics};

struct InFlight {
    token: u32,
    echo: u64,
    slots: Vec<(Table, u32)>,
}

pub struct FleetTick {
    settings: FleetSettings,
    namespace: String,
    /// This VM's lease id.
    me: u64,
    /// Slots this VM's requests wrote since its last tick.
    pub touched: Rc<RefCell<Touched>>,
    in_flight: Option<InFlight>,
}

impl FleetTick {
    pub fn new(settings: FleetSettings, namespace: &str, now_nanos: u64, context_id: u32) -> FleetTick {
        let mut seed = now_nanos.to_le_bytes().to_vec();
        seed.extend_from_slice(&context_id.to_le_bytes());
        let cap = settings.max_records;
        FleetTick {
            settings,
            namespace: crate::config::raw::owned(namespace),
            me: fingerprint(&seed).max(1),
            touched: Rc::new(RefCell::new(Touched::new(cap))),
            in_flight: None,
        }
    }

    pub fn tick(&mut self, now_ms: u64, metrics: &HostMetrics) {
        let cap = self.settings.max_records.saturating_mul(4);
        let store = HostStore { metrics };
        if let Ok(mut local) = self.touched.try_borrow_mut() {
            for _ in 0..shared::flush(&store, &self.namespace, &mut local, cap) {
                metrics.incr(Counter::Fleet("touched_dropped"));
            }
        }
        if self.in_flight.is_some() {
            return;
        }
        let period = self.settings.sync_secs * 1_000;
        if lease::due(&store, &self.namespace, self.me, now_ms, period) {
            self.start(metrics);
        }
    }

    fn start(&mut self, metrics: &HostMetrics) {
        let ns = &self.namespace;
        let store = HostStore { metrics };
        let mut slots = shared::take_pending(&store, ns);
        let max = self.settings.max_records;
        // What does not fit waits for the next sync.
        if slots.len() > max {
            let rest = slots.split_off(max);
            if let Ok(mut local) = self.touched.try_borrow_mut() {
                for (t, s) in rest {
                    local.insert(t, u64::from(s));
                }
            }
        }
        let records = exchange::collect(&store, ns, &slots, max);
        let host = shared::host_id(&store, ns, self.me);
        let body = wire::encode_request(
            &self.settings.key,
            &wire::Request {
                host,
                cursor: shared::cursor(&store, ns),
                records,
            },
        );
        let headers = vec![
            (":method", "POST"),
            (":path", self.settings.path.as_str()),
            (":authority", self.settings.authority.as_str()),
            ("content-type", "application/octet-stream"),
        ];
        // The SDK's call (it registers the token for the response
        // callback). Envoy answers Ok, BadArgument (unknown cluster, bad
        // headers) or InternalFailure, which come back as errors; the SDK
        // panics only on a status Envoy 1.40 does not return here.
        let called = proxy_wasm::hostcalls::dispatch_http_call(
            &self.settings.cluster,
            headers,
            Some(&body),
            vec![],
            Duration::from_millis(self.settings.timeout_ms),
        );
        match called {
            Ok(token) => {
                self.in_flight = Some(InFlight {
                    token,
                    echo: wire::echo_of(&body),
                    slots,
                })
            }
            Err(status) => {
                self.requeue(slots);
                self.failed(
                    metrics,
                    &format!("cannot call cluster {} ({status:?})", self.settings.cluster),
                );
            }
        }
    }

    /// Envoy's answer to the sync call (or its own error answer).
    pub fn response(&mut self, token: u32, body_size: usize, metrics: &HostMetrics) {
        let Some(call) = self.in_flight.take_if(|c| c.token == token) else {
            return;
        };
        let store = HostStore { metrics };
        let status = abi::header_map(abi::HTTP_CALL_RESPONSE_HEADERS)
            .ok()
            .and_then(|h| h.get_exact(":status").map(|v| v.into_owned()));
        if status.as_deref() != Some("200") {
            self.requeue(call.slots);
            let status = status.unwrap_or_else(|| crate::config::raw::owned("none (timeout or reset)"));
            self.failed(metrics, &format!("sync service answered status {status}"));
            return;
        }
        let limit = wire_limit(self.settings.max_records);
        let body = match abi::get_buffer(abi::HTTP_CALL_RESPONSE_BODY, 0, body_size.min(limit)) {
            Ok(b) => b.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let answer = wire::decode_response(&self.settings.key, &body, self.settings.max_records);
        let answer = match answer {
            Ok(a) if a.echo == call.echo => a,
            Ok(_) => {
                self.requeue(call.slots);
                self.failed(metrics, "sync answer is not for this request");
                return;
            }
            Err(e) => {
                self.requeue(call.slots);
                self.failed(metrics, &format!("sync answer refused: {e}"));
                return;
            }
        };
        for r in &answer.records {
            if exchange::apply(&store, &self.namespace, r).is_err() {
                metrics.incr(Counter::StoreError);
            }
        }
        shared::set_cursor(&store, &self.namespace, answer.cursor);
        metrics.incr(Counter::Fleet("sync_ok"));
        if shared::set_down(&store, &self.namespace, false) {
            abi::log(Level::Info, "distill-guard: fleet sync is back");
        }
    }

    fn requeue(&self, slots: Vec<(Table, u32)>) {
        if let Ok(mut local) = self.touched.try_borrow_mut() {
            for (t, s) in slots {
                local.insert(t, u64::from(s));
            }
        }
    }

    fn failed(&self, metrics: &HostMetrics, why: &str) {
        let store = HostStore { metrics };
        metrics.incr(Counter::Fleet("sync_failed"));
        if shared::set_down(&store, &self.namespace, true) {
            abi::log(
                Level::Warn,
                &format!("distill-guard: fleet sync failing, deciding locally until it is back: {why}"),
            );
        }
    }
}

/// Largest answer read: `max_records` of the widest table plus framing.
fn wire_limit(max_records: usize) -> usize {
    let widest = crate::fleet::tables::ALL
        .iter()
        .map(|t| wire::record_bytes(*t))
        .max()
        .unwrap_or(0);
    64 + max_records.saturating_mul(widest)
}
