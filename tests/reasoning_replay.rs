//! The replay counts what the filter's reasoning glue does to a recorded
//! answer (`response.reasoning: strip`): withheld for a tagged request,
//! nothing for an untagged one or with `keep`, oversize past the bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Engine, Host, Recorded};
use distill_guard::metrics::{Counter, MemoryMetrics};
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;

const ANSWER: &str = r#"{"content":[{"type":"thinking","thinking":"step by step","signature":"s"},{"type":"text","text":"4"}],"usage":{"input_tokens":3,"output_tokens":9}}"#;

fn config(reasoning: &str, max: usize) -> String {
    config_in("enforce", reasoning, max)
}

fn config_in(mode: &str, reasoning: &str, max: usize) -> String {
    format!(
        r#"{{"mode": "{mode}", "identity": {{"secret": "reasoning-replay-secret"}},
            "detection": {{"enabled": false}}, "rules": [{{"phrases": ["tag-me"], "action": "tag"}}],
            "response": {{"reasoning": "{reasoning}", "reasoning_max_bytes": {max}}}}}"#
    )
}

/// The counter of `kind` after one request with `prompt`, answered with
/// `answer` (an Anthropic Messages JSON answer).
fn count(config: &str, prompt: &str, answer: &str, kind: &'static str) -> u64 {
    let engine = Engine::from_config(config.as_bytes()).unwrap();
    let (store, clock, metrics) = (
        MemoryStore::new(),
        ManualClock::new(1_767_225_600.0),
        MemoryMetrics::default(),
    );
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let meta = RequestMeta {
        method: "POST".into(),
        path: "/v1/messages".into(),
        headers: vec![("x-api-key".into(), "k1".into())],
        ..RequestMeta::default()
    };
    let body = format!(r#"{{"model":"claude","max_tokens":64,"messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
    let recorded = Recorded {
        status: 200,
        content_type: Some("application/json"),
        content_encoding: None,
        body: Some(answer.as_bytes()),
    };
    engine.evaluate_recorded(meta, body.as_bytes(), &recorded, &host);
    metrics.get(Counter::Reasoning {
        api: "anthropic_messages",
        kind,
    })
}

#[test]
fn a_tagged_answer_has_its_reasoning_withheld_in_the_replay_too() {
    assert_eq!(count(&config("strip", 65536), "tag-me please", ANSWER, "withheld"), 1);
}

#[test]
fn untagged_answers_and_keep_count_nothing() {
    assert_eq!(count(&config("strip", 65536), "hello", ANSWER, "withheld"), 0);
    assert_eq!(count(&config("keep", 65536), "tag-me please", ANSWER, "withheld"), 0);
    // Shadow mode never changes an answer, so it withholds nothing.
    assert_eq!(
        count(
            &config_in("shadow", "strip", 65536),
            "tag-me please",
            ANSWER,
            "withheld"
        ),
        0
    );
}

#[test]
fn an_answer_past_the_bound_is_oversize() {
    let big = ANSWER.replace("step by step", &"x".repeat(70_000));
    assert_eq!(count(&config("strip", 65536), "tag-me please", &big, "oversize"), 1);
    assert_eq!(count(&config("strip", 65536), "tag-me please", &big, "withheld"), 0);
}
