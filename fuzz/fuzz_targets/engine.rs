//! The whole engine, headers and body to decision, as the filter drives it:
//! `begin` at headers, the body pushed chunk by chunk into the engine's
//! `BodyPrefix` (chunk sizes from the input's length) until it is done or
//! the stream ends, then `decide` once. Never panics, and decides exactly
//! once per request (the `requests` and `decision.*` counters move by one
//! each). The same request is sent twice so the second meets the records
//! the first wrote. Input: a request in the text form of fuzz/src/lib.rs;
//! its length picks one of three configurations.
#![no_main]

use std::sync::OnceLock;

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Engine, Host};
use distill_guard::metrics::{Counter, MemoryMetrics};
use distill_guard::store::MemoryStore;
use distill_guard::verdict::Action;
use distill_guard_fuzz::{check_decision, request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let engines = engines();
    let engine = &engines[data.len() % engines.len()];
    let (meta, body) = request(data);
    let (store, metrics) = (MemoryStore::new(), MemoryMetrics::default());
    let clock = ManualClock::new(1_767_225_600.0);
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let mut decided = 0u64;
    for round in 0..2u32 {
        let Some(ex) = engine.begin(meta.clone(), &metrics) else {
            assert_eq!(metrics.get(Counter::Requests), 0, "a passthrough is not a request");
            return;
        };
        // What the glue does: each chunk as it arrives, until the prefix is
        // done (cap or raw bound) or the stream ends.
        let mut prefix = engine.body_prefix(&ex);
        let mut step = 1 + data.len() % 97;
        let mut rest = body;
        let end_of_stream = loop {
            let (chunk, after) = rest.split_at(step.min(rest.len()));
            rest = after;
            step = step * 7 % 4093 + 1;
            let want = prefix.wants(chunk.len());
            prefix.push(chunk.len(), &chunk[..want.min(chunk.len())]);
            if rest.is_empty() {
                break true;
            }
            if prefix.done() {
                break false;
            }
        };
        assert!(prefix.bytes().len() <= engine.body_cap(), "prefix past the cap");
        let d = engine.decide(&ex, &prefix, end_of_stream, &host);
        check_decision(&d);
        decided += 1;
        let actions: u64 = Action::ALL.iter().map(|a| metrics.get(Counter::Decision(*a))).sum();
        assert_eq!(metrics.get(Counter::Requests), decided, "counted once");
        assert_eq!(actions, decided, "decided once");
        clock.set(1_767_225_600.0 + f64::from(round + 1));
    }
});

fn engines() -> &'static [Engine] {
    static E: OnceLock<Vec<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        [
            r#"{"mode": "enforce", "identity": {"secret": "fuzz"}}"#,
            r#"{"mode": "enforce", "body": {"max_inspect_bytes": 1024, "on_parse_error": "block"}, "identity": {"secret": "fuzz", "trusted_xff_hops": 1, "sources": [{"jwt_claim": "sub", "verified_by_envoy": true}, "authorization", "x-api-key", "query_key"]}, "limits": {"identity_requests_per_minute": 1}, "rules": [{"phrases": ["step by step"], "action": "throttle"}]}"#,
            r#"{"allowlist": {"client_cidrs": ["203.0.113.0/24"]}, "detection": {"identity_slots": 1, "template_slots": 1, "network_slots": 1}}"#,
        ]
        .iter()
        .map(|c| Engine::from_config(c.as_bytes()).expect("fuzz configurations are valid"))
        .collect()
    })
}
