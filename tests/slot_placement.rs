//! Slot placement is keyed with the deployment's secret (issue 10): an
//! attacker who can compute public fingerprints cannot tell which shared-data
//! slot a template or an address block lands in, so cannot find templates
//! offline that displace a campaign's record.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Engine, Host};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;

/// The shared-data keys one request creates, under `secret`, other than
/// the identity table's (identity hashes were always keyed).
fn cluster_keys(secret: &str) -> Vec<String> {
    let engine =
        Engine::from_config(format!(r#"{{"mode": "enforce", "identity": {{"secret": "{secret}"}}}}"#).as_bytes())
            .unwrap();
    let store = MemoryStore::new();
    let clock = ManualClock::new(1.0e9);
    let metrics = MemoryMetrics::default();
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let meta = RequestMeta {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        headers: vec![("authorization".into(), "Bearer sk-placement".into())],
        source_ip: "198.51.100.7".parse().ok(),
        ..RequestMeta::default()
    };
    let body = br#"{"model": "m", "messages": [{"role": "user", "content": "Imagine and articulate the internal reasoning behind a completed response to: trains leave at noon. Justify each step."}]}"#;
    // Twice: an identity's first request only reads its clusters.
    engine.evaluate(meta.clone(), body, &host);
    engine.evaluate(meta, body, &host);
    let keys: Vec<String> = store.keys().into_iter().filter(|k| !k.contains(":id")).collect();
    assert!(keys.len() >= 2, "{keys:?}");
    keys
}

#[test]
fn template_and_block_slots_depend_on_the_secret() {
    let (a, b) = (
        cluster_keys("first deployment secret"),
        cluster_keys("second deployment secret"),
    );
    let shared: Vec<&String> = a.iter().filter(|k| b.contains(k)).collect();
    assert!(shared.is_empty(), "same slots under two secrets: {shared:?}");
}
