//! Counters the engine reports, behind a trait the glue implements with
//! Envoy stats. Every counter is a variant here, so the set of metric names
//! is fixed and small: no identity, template or address ever becomes part of
//! a metric name.

use std::cell::RefCell;

use crate::fastmap::{fast_map, FastMap};
use crate::verdict::Action;

pub mod batch;
pub mod counter_map;
pub mod labelled;

pub use labelled::Histogram;

/// A counter. `name()` is the Envoy stat name (Envoy prefixes it with
/// `wasmcustom.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Every request the filter saw on an LLM API path.
    Requests,
    /// Requests on paths that are not an LLM API: passed untouched.
    Passthrough,
    /// By the action applied.
    Decision(Action),
    /// By the action enforce mode would have applied, in shadow mode, when
    /// it would have denied.
    ShadowWouldDeny(Action),
    /// By the API called (see `crate::api::Api::label`).
    Api(&'static str),
    /// Bodies that could not be parsed, by cause (see
    /// `crate::api::ParseFailure::code`).
    ParseFailure(&'static str),
    /// Bodies larger than the inspection cap (inspected up to the cap).
    BodyTruncated,
    /// Requests whose identity came from no credential.
    Anonymous,
    /// Spoofed `x-distill-guard-*` headers removed.
    SpoofedHeaderStripped,
    /// A shared-data read-modify-write gave up after its retries.
    CasGaveUp,
    /// A shared-data call failed or held an undecodable value.
    StoreError,
    /// Fleet sync events (`crate::fleet`): `sync_ok`, `sync_failed`,
    /// `touched_dropped`.
    Fleet(&'static str),
    /// Shared-data keys this filter created (a write with cas 0, which
    /// the store layer uses only for a missing key): with
    /// [`Counter::SharedDataBytesCreated`], the footprint of the bounded
    /// tables in Envoy, which flattens once every slot is in use. Counted
    /// by the Envoy glue only (`MemoryStore` reports its sizes directly).
    SharedDataKeysCreated,
    /// Key and value bytes of those keys (values are fixed-width).
    SharedDataBytesCreated,
    /// Every decided request by API, mode, the action applied and the one
    /// enforce mode would apply (they differ only in shadow mode and on the
    /// allowlist). Labelled only (see [`labelled`]).
    Decided {
        api: &'static str,
        mode: &'static str,
        action: Action,
        intended: Action,
    },
    /// Each reason code of a decided request. Reason codes come from a fixed
    /// set plus the configuration's rules, so the set of names is bounded.
    Reason(&'static str),
    /// Answers to tagged requests read for reasoning
    /// (`response.reasoning: strip`), by API and what became of them:
    /// `withheld` (reasoning removed), `oversize` (a JSON answer over
    /// `response.reasoning_max_bytes`, answered with an error instead, or a
    /// stream that had an over-long event dropped), `unreadable` (encoded or
    /// not JSON: forwarded as it came).
    Reasoning { api: &'static str, kind: &'static str },
    /// Output tokens (reasoning included) of upstream answers, by API and
    /// the action applied to the request (`allow` or `tag`). Labelled only.
    OutputTokens { api: &'static str, action: Action },
    /// Of which reasoning tokens. Labelled only.
    ReasoningTokens { api: &'static str, action: Action },
    /// Upstream answers read, by where their count came from (`usage`,
    /// `estimate`, `compressed`), and SSE events too long to hold
    /// (`sse_overlong`). Labelled only.
    Response(&'static str),
}

impl Counter {
    pub fn name(&self) -> String {
        // A name is a head and a tail, appended in one place: a constant
        // name's own `String` per arm (an allocation and a copy inlined
        // each) and a `format!` per arm were larger (issue 8: module size).
        let (head, tail) = match self {
            Counter::Requests => ("distill_guard.requests", ""),
            Counter::Passthrough => ("distill_guard.passthrough", ""),
            Counter::Decision(a) => ("distill_guard.decision.", a.as_str()),
            Counter::ShadowWouldDeny(a) => ("distill_guard.shadow_would.", a.as_str()),
            Counter::Api(label) => ("distill_guard.api.", *label),
            Counter::ParseFailure(code) => ("distill_guard.parse_failure.", *code),
            Counter::BodyTruncated => ("distill_guard.body_truncated", ""),
            Counter::Anonymous => ("distill_guard.anonymous", ""),
            Counter::SpoofedHeaderStripped => ("distill_guard.spoofed_header_stripped", ""),
            Counter::CasGaveUp => ("distill_guard.shared_data.cas_gave_up", ""),
            Counter::StoreError => ("distill_guard.shared_data.error", ""),
            Counter::Fleet(what) => ("distill_guard.fleet.", *what),
            Counter::SharedDataKeysCreated => ("distill_guard.shared_data.keys_created", ""),
            Counter::SharedDataBytesCreated => ("distill_guard.shared_data.bytes_created", ""),
            Counter::Reasoning { api, kind } => return format!("distill_guard.reasoning.{kind}.{api}"),
            Counter::Decided { .. }
            | Counter::Reason(_)
            | Counter::OutputTokens { .. }
            | Counter::ReasoningTokens { .. }
            | Counter::Response(_) => return self.labelled_name().unwrap_or_default(),
        };
        [head, tail].concat()
    }
}

pub trait Metrics {
    fn incr(&self, counter: Counter);
    /// Adds `by` to a counter (token counts).
    fn incr_by(&self, counter: Counter, by: u64);
    /// One value of a distribution (an Envoy histogram). Sinks that keep no
    /// distributions ignore it.
    fn record(&self, _histogram: Histogram, _value: u64) {}
}

/// Discards everything.
pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn incr(&self, _: Counter) {}
    fn incr_by(&self, _: Counter, _: u64) {}
}

/// Counts in memory (replay summary and tests).
pub struct MemoryMetrics {
    counts: RefCell<FastMap<Counter, u64>>,
}

impl Default for MemoryMetrics {
    fn default() -> Self {
        MemoryMetrics {
            counts: RefCell::new(fast_map()),
        }
    }
}

impl MemoryMetrics {
    pub fn get(&self, counter: Counter) -> u64 {
        self.counts.borrow().get(&counter).copied().unwrap_or(0)
    }

    /// All non-zero counters by name, sorted.
    #[cfg(test)]
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self.counts.borrow().iter().map(|(c, n)| (c.name(), *n)).collect();
        v.sort();
        v
    }
}

impl Metrics for MemoryMetrics {
    fn incr(&self, counter: Counter) {
        self.incr_by(counter, 1);
    }

    fn incr_by(&self, counter: Counter, by: u64) {
        let mut counts = self.counts.borrow_mut();
        let n = counts.entry(counter).or_insert(0);
        *n = n.saturating_add(by);
    }
}
