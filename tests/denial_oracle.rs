//! A denial teaches the caller nothing (issue 10): the answer to a denied
//! request (status, headers, body) carries no reason code, score or
//! threshold unless the operator opts in with `response.expose_reasons`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Decision, Engine, Host};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;
use distill_guard::verdict::Action;

const RULES: &str = r#""rules": [{"phrases": ["pineapple"], "action": "block", "reason": "known_campaign"}, {"phrases": ["mango"], "action": "throttle", "reason": "slow_down_rule"}], "detection": {"enabled": false}"#;

fn deny(extra: &str, prompt: &str) -> Decision {
    let config = format!(r#"{{"mode": "enforce", "identity": {{"secret": "s3cret"}}, {extra} {RULES}}}"#);
    let engine = Engine::from_config(config.as_bytes()).unwrap();
    let (store, clock, metrics) = (
        MemoryStore::new(),
        ManualClock::new(1_767_225_600.0),
        MemoryMetrics::default(),
    );
    let meta = RequestMeta {
        method: "POST".into(),
        path: "/v1/chat/completions".into(),
        authority: Some("llm.example".into()),
        headers: vec![("authorization".into(), "Bearer sk-oracle".into())],
        source_ip: Some("198.51.100.20".parse().unwrap()),
    };
    let body = format!(r#"{{"model":"gpt-4o","messages":[{{"role":"user","content":"{prompt}"}}]}}"#);
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    engine.evaluate(meta, body.as_bytes(), &host)
}

#[test]
fn denials_carry_no_reason_score_or_threshold_by_default() {
    for (prompt, action, status) in [("pineapple", Action::Block, 403), ("mango", Action::Throttle, 429)] {
        let d = deny("", prompt);
        assert_eq!(d.verdict.action, action);
        let reply = d.reply.unwrap();
        assert_eq!(reply.status, status);
        for (name, value) in &reply.headers {
            assert!(!name.starts_with("x-distill-guard"), "{name}: {value}");
            assert!(
                !value.contains("known_campaign") && !value.contains("slow_down_rule"),
                "{name}: {value}"
            );
        }
        let names: Vec<&str> = reply.headers.iter().map(|(n, _)| n.as_str()).collect();
        // `x-should-retry` (steers the official SDKs' retries) says only
        // what the status and Retry-After already say.
        let expected: &[&str] = if action == Action::Throttle {
            &["content-type", "retry-after", "x-should-retry"]
        } else {
            &["content-type", "x-should-retry"]
        };
        assert_eq!(names, expected);
        for word in [
            "known_campaign",
            "slow_down_rule",
            "score",
            "threshold",
            "reason",
            "operator_rule",
        ] {
            assert!(!reply.body.contains(word), "{word} in {}", reply.body);
        }
        // The reasons stay where the operator sees them.
        assert!(!d.verdict.reasons.is_empty());
    }
}

#[test]
fn an_operator_may_opt_in_for_debugging() {
    let d = deny(r#""response": {"expose_reasons": true},"#, "pineapple");
    let reply = d.reply.unwrap();
    let get = |n: &str| reply.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("x-distill-guard-action"), Some("block"));
    assert_eq!(get("x-distill-guard-reasons"), Some("known_campaign"));
    assert!(get("x-distill-guard-score").is_some());
}
