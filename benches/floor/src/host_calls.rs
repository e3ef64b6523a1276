//! The floor plus distill-guard's host calls (feature `host-calls`, a
//! measurement only, never the `make bench-proxy` floor): the same
//! callbacks and body reads as the floor, plus, per request, the calls
//! distill-guard makes on Envoy's side of the boundary at 1.5 KB as
//! `make bench-hostcalls` counted them — clock reads, header-map reads,
//! shared-data read-modify-writes of records the size distill-guard's are,
//! filter-state properties, histogram records and a read of the answer —
//! but no detection. What a filter that correlates across workers through
//! shared data pays before its engine does any work: a lower bound for
//! distill-guard's cost over the floor.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, MetricType};

/// Each count below is distill-guard's at 1.5 KB unless the build sets it
/// (`FLOOR_HC_<NAME>=N cargo build --features host-calls ...`), so one
/// module can measure a smaller profile, e.g. the least any cross-account
/// correlation needs.
const fn count(value: Option<&str>, default: u32) -> u32 {
    let Some(text) = value else { return default };
    let bytes = text.as_bytes();
    let mut n = 0u32;
    let mut i = 0;
    while i < bytes.len() {
        n = n * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// Shared-data records read and CAS-written per request at the decision
/// and when the answer ends (distill-guard at 1.5 KB: 7.4 gets, 6.3 sets,
/// ~5.7 KB copied: about 440 bytes a call).
const DECISION_RECORDS: u32 = count(option_env!("FLOOR_HC_DECISION_RECORDS"), 4);
const ANSWER_RECORDS: u32 = count(option_env!("FLOOR_HC_ANSWER_RECORDS"), 2);
/// Extra reads without a write (the second place of a two-choice lookup).
const DECISION_EXTRA_READS: u32 = count(option_env!("FLOOR_HC_EXTRA_READS"), 1);
const RECORD_BYTES: usize = count(option_env!("FLOOR_HC_RECORD_BYTES"), 440) as usize;
/// Filter-state properties set per decision (distill-guard sets six).
const PROPERTY_COUNT: u32 = count(option_env!("FLOOR_HC_PROPERTIES"), 6);
/// Whether the answer is read and timed (distill-guard meters its tokens).
const READ_ANSWER: bool = count(option_env!("FLOOR_HC_READ_ANSWER"), 1) != 0;
/// Clock reads and histogram records (the processing-time histogram).
const TIMED: bool = count(option_env!("FLOOR_HC_TIMED"), 1) != 0;
/// Bounded key space, like distill-guard's slot tables.
const KEYS: u32 = 4096;
const PROPERTIES: [&str; 6] = [
    "dg.verdict",
    "dg.score",
    "dg.reasons",
    "dg.identity",
    "dg.template",
    "dg.processing_us",
];

pub struct HostCalls {
    bytes: usize,
    seq: u32,
    histogram: u32,
}

impl HostCalls {
    pub fn new(context_id: u32) -> Self {
        let histogram =
            hostcalls::define_metric(MetricType::Histogram, "floor_processing_us").unwrap_or(0);
        HostCalls {
            bytes: 0,
            seq: context_id.wrapping_mul(2_654_435_761),
            histogram,
        }
    }

    fn clock(&self) -> u64 {
        if !TIMED {
            return 0;
        }
        hostcalls::get_current_time()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64)
    }

    /// One CAS read-modify-write of a record, retried once on a mismatch.
    fn update_record(&mut self, table: &str) {
        self.seq = self.seq.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let key = format!("floor.{table}.{}", (self.seq >> 8) % KEYS);
        for _ in 0..2 {
            let (value, cas) = hostcalls::get_shared_data(&key).unwrap_or((None, None));
            let mut record = value.unwrap_or_else(|| vec![0; RECORD_BYTES]);
            if let Some(first) = record.first_mut() {
                *first = first.wrapping_add(1);
            }
            if hostcalls::set_shared_data(&key, Some(&record), cas).is_ok() {
                return;
            }
        }
    }

    fn record_time(&self, start: u64) {
        if TIMED {
            let took = self.clock().saturating_sub(start) / 1000;
            let _ = hostcalls::record_metric(self.histogram, took);
        }
    }

    fn read_record(&mut self, table: &str) {
        let key = format!("floor.{table}.{}", (self.seq >> 9) % KEYS);
        let _ = hostcalls::get_shared_data(&key);
    }
}

impl Context for HostCalls {}

impl HttpContext for HostCalls {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        self.clock();
        self.bytes += self.get_http_request_headers_bytes().len();
        if end_of_stream {
            return Action::Continue;
        }
        Action::Pause
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let start = self.clock();
        if let Some(chunk) = self.get_http_request_body(0, body_size) {
            self.bytes += chunk.len() + usize::from(chunk.last().copied().unwrap_or(0) == 0);
        }
        if !end_of_stream {
            self.clock();
            return Action::StopIterationAndWatermark;
        }
        for _ in 0..DECISION_EXTRA_READS {
            self.read_record("id");
        }
        for table in ["id", "net", "tpl", "tpl2", "x1", "x2"].iter().take(DECISION_RECORDS as usize) {
            self.update_record(table);
        }
        for name in PROPERTIES.iter().take(PROPERTY_COUNT as usize) {
            let _ = hostcalls::set_property(vec![*name], Some(b"allow"));
        }
        self.set_http_request_header("x-floor-bytes", Some(&self.bytes.to_string()));
        self.record_time(start);
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        if !READ_ANSWER {
            return Action::Continue;
        }
        self.clock();
        self.bytes += self.get_http_response_headers_bytes().len();
        Action::Continue
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if !end_of_stream || !READ_ANSWER {
            return Action::Continue;
        }
        let start = self.clock();
        if let Some(chunk) = self.get_http_response_body(0, body_size) {
            self.bytes += chunk.len();
        }
        for table in ["id", "tpl"].iter().take(ANSWER_RECORDS as usize) {
            self.update_record(table);
        }
        self.record_time(start);
        Action::Continue
    }
}
