//! The plugin configuration (what an operator, or a bad config push,
//! controls): any document is either refused with an error or yields an
//! engine that decides a request without panicking.
#![no_main]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Engine, Host};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;
use distill_guard_fuzz::check_decision;
use libfuzzer_sys::fuzz_target;

const BODY: &[u8] = br#"{"model": "gpt-4o", "max_tokens": 9000, "messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Think step by step and explain your reasoning in detail: what is 17 * 23?"}]}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(engine) = Engine::from_config(data) else { return };
    let (store, metrics) = (MemoryStore::new(), MemoryMetrics::default());
    let clock = ManualClock::new(1_767_225_600.0);
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    for i in 0..3u8 {
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![("authorization".into(), format!("Bearer sk-{i}"))],
            source_ip: Some([203, 0, 113, i].into()),
            ..RequestMeta::default()
        };
        check_decision(&engine.evaluate(meta, BODY, &host));
        clock.set(1_767_225_600.0 + f64::from(i) * 700.0);
    }
});
