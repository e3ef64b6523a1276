//! `replay --hosts N`: the trace spread over N simulated Envoys, each with
//! its own shared data, synced every `--sync-secs` of trace time through
//! the same code the filter's timer and the sync service run (the host's
//! `fleet::exchange`, the `fleet::wire` message both ways, `fleet::hub`
//! over a backend: in memory, or Redis).

use std::cell::RefCell;
use std::io::{BufRead, Write};

use super::{each_request, ReplayError, Summary};
use crate::clock::ManualClock;
use crate::engine::{Engine, Host};
use crate::fleet::exchange;
use crate::fleet::hub::{self, Backend, Limits};
use crate::fleet::touched::{Touched, Touching};
use crate::fleet::wire::{self, Request};
use crate::hash::fingerprint;
use crate::metrics::{MemoryMetrics, Metrics};
use crate::store::MemoryStore;

/// How requests are spread over hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// A random host per request (a round-robin or least-load balancer).
    Request,
    /// Every request of one identity on one host (sticky by credential).
    Account,
}

impl std::str::FromStr for Spread {
    type Err = String;
    fn from_str(s: &str) -> Result<Spread, String> {
        match s {
            "request" => Ok(Spread::Request),
            "account" => Ok(Spread::Account),
            other => Err(format!("unknown spread {other:?} (request, account)")),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub hosts: usize,
    pub spread: Spread,
    /// Seconds of trace time between syncs; 0: the hosts never sync.
    pub sync_secs: u64,
}

/// What fleet sync cost over the replay.
#[derive(Clone, Debug, Default)]
pub struct SyncStats {
    /// Host syncs (one request and answer each).
    pub syncs: u64,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub largest_request: u64,
    pub records_sent: u64,
    pub records_received: u64,
    /// Slots a full touched set left out (reached the fleet later).
    pub dropped: u64,
    /// Sync rounds (every host once).
    pub rounds: u64,
    /// Records the service read from the fleet's store (when the backend
    /// counts them: the in-memory one).
    pub records_read: Option<u64>,
}

impl SyncStats {
    pub fn render(&self, hosts: usize) -> String {
        let per = |x: u64| {
            if self.syncs == 0 {
                0.0
            } else {
                x as f64 / self.syncs as f64
            }
        };
        let read = self
            .records_read
            .map(|r| format!("; {:.1} records read from the store", per(r)))
            .unwrap_or_default();
        format!(
            "fleet: {hosts} hosts, {} sync rounds, {} host syncs; per host sync: {:.0} bytes sent ({:.1} records), {:.0} bytes received ({:.1} records){read}; largest request {} bytes; {} touched slots dropped\n",
            self.rounds,
            self.syncs,
            per(self.request_bytes),
            per(self.records_sent),
            per(self.response_bytes),
            per(self.records_received),
            self.largest_request,
            self.dropped,
        )
    }
}

struct SimHost {
    id: u64,
    store: MemoryStore,
    metrics: MemoryMetrics,
    touched: RefCell<Touched>,
    cursor: u64,
}

/// A backend whose clock is the trace's (the in-memory one), or one with
/// its own (Redis: the clock argument is ignored).
pub trait TraceClocked: Backend {
    fn set_trace_ms(&mut self, _ms: u64) {}
    /// Records read from the store so far, if counted.
    fn records_read(&self) -> Option<u64> {
        None
    }
}

impl TraceClocked for hub::MemoryBackend {
    fn set_trace_ms(&mut self, ms: u64) {
        self.now_ms = ms;
    }
    fn records_read(&self) -> Option<u64> {
        Some(self.records_read)
    }
}

/// Replays `trace` over `opts.hosts` hosts syncing through `backend`.
pub fn run<B: TraceClocked>(
    engine: &Engine,
    trace: &mut dyn BufRead,
    out: &mut dyn Write,
    opts: Options,
    backend: &mut B,
) -> Result<(Summary, SyncStats), ReplayError> {
    let settings = engine.settings();
    let namespace = settings.namespace.clone();
    let fleet = &settings.fleet;
    let limits = Limits {
        max_records: fleet.max_records,
        fades: crate::fleet::merge::Fades::of(&settings.detection),
    };
    let hosts: Vec<SimHost> = (0..opts.hosts.max(1))
        .map(|i| SimHost {
            id: i as u64 + 1,
            store: MemoryStore::new(),
            metrics: MemoryMetrics::default(),
            touched: RefCell::new(Touched::new(fleet.max_records)),
            cursor: 0,
        })
        .collect();
    let mut hosts = hosts;
    let clock = ManualClock::new(0.0);
    let mut stats = SyncStats::default();
    let mut next_sync: Option<f64> = None;
    let mut failure: Option<String> = None;
    let n = hosts.len() as u64;
    let summary = each_request(trace, out, |i, req| {
        if opts.sync_secs > 0 && n > 1 {
            let period = opts.sync_secs as f64;
            let due = *next_sync.get_or_insert(((req.ts / period).floor() + 1.0) * period);
            if req.ts >= due {
                backend.set_trace_ms((req.ts * 1_000.0) as u64);
                for h in hosts.iter_mut() {
                    if let Err(e) = sync_host(h, &namespace, fleet, limits, backend, &mut stats) {
                        failure.get_or_insert(e);
                    }
                }
                stats.rounds += 1;
                next_sync = Some(((req.ts / period).floor() + 1.0) * period);
            }
        }
        let at = match opts.spread {
            Spread::Request => fingerprint(&i.to_le_bytes()) % n,
            Spread::Account => fingerprint(crate::identity::resolve(settings, &req.meta).key.as_bytes()) % n,
        };
        let h = hosts.get(at as usize).or(hosts.first());
        let Some(h) = h else {
            return engine.evaluate(
                req.meta,
                &req.body,
                &Host {
                    store: &MemoryStore::new(),
                    clock: &clock,
                    metrics: &MemoryMetrics::default(),
                },
            );
        };
        clock.set(req.ts);
        let store = Touching {
            inner: &h.store,
            namespace: &namespace,
            touched: &h.touched,
        };
        // As `replay` does: the recorded upstream status, or 200.
        engine.evaluate_recorded(
            req.meta,
            &req.body,
            &req.response.recorded(req.status.unwrap_or(200)),
            &Host {
                store: &store,
                clock: &clock,
                metrics: &h.metrics,
            },
        )
    })?;
    if let Some(e) = failure {
        return Err(ReplayError::Io(std::io::Error::other(format!("fleet backend: {e}"))));
    }
    stats.records_read = backend.records_read();
    Ok((summary, stats))
}

/// One host's sync: its touched records out, the fleet's answer in, both
/// through the wire format.
fn sync_host<B: Backend>(
    h: &mut SimHost,
    namespace: &str,
    fleet: &crate::fleet::settings::FleetSettings,
    limits: Limits,
    backend: &mut B,
    stats: &mut SyncStats,
) -> Result<(), String> {
    let (slots, dropped) = {
        let mut t = h.touched.borrow_mut();
        let dropped = t.dropped;
        (t.take(), dropped)
    };
    stats.dropped += dropped;
    let records = exchange::collect(&h.store, namespace, &slots, fleet.max_records);
    let request = wire::encode_request(
        &fleet.key,
        &Request {
            host: h.id,
            cursor: h.cursor,
            records,
        },
    );
    // The service's side.
    let req = wire::decode_request(&fleet.key, &request, fleet.max_records).map_err(|e| e.to_string())?;
    let (cursor, answer) = hub::sync(backend, limits, &req).map_err(|e| e.to_string())?;
    let response = wire::encode_response(
        &fleet.key,
        &wire::Response {
            echo: wire::echo_of(&request),
            cursor,
            records: answer,
        },
    );
    // Back on the host.
    let resp = wire::decode_response(&fleet.key, &response, fleet.max_records).map_err(|e| e.to_string())?;
    stats.syncs += 1;
    stats.request_bytes += request.len() as u64;
    stats.response_bytes += response.len() as u64;
    stats.largest_request = stats.largest_request.max(request.len() as u64);
    stats.records_sent += req.records.len() as u64;
    stats.records_received += resp.records.len() as u64;
    h.cursor = resp.cursor;
    for r in &resp.records {
        // A failed write is counted like any shared-data failure; the next
        // sync brings the slot again when it changes.
        if exchange::apply(&h.store, namespace, r).is_err() {
            h.metrics.incr(crate::metrics::Counter::StoreError);
        }
    }
    Ok(())
}
