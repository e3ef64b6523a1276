//! Output tokens as cluster evidence (issue 7), through the whole engine as
//! the replay runs it (`Engine::evaluate_recorded`: each request's
//! recorded answer through the same meter as the glue): a templated
//! campaign that asks for no particular output length but takes long
//! answers is a harvest measured in tokens, charged to its template
//! cluster across its accounts; the same campaign with short answers is
//! not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Engine, Host, Recorded};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;

const T0: f64 = 1_767_225_600.0;
const ACCOUNTS: u64 = 120;

/// Denied requests and the requests whose reasons name a harvest, of a
/// campaign over `ACCOUNTS` accounts in 12 address blocks (a proxy pool),
/// whose answers are `answer_tokens` long, under `detection`.
fn campaign(answer_tokens: u64, detection: &str) -> (usize, usize) {
    let config = format!(
        r#"{{"mode": "enforce", "identity": {{"secret": "cluster-tokens-test-secret"}}, "detection": {detection}}}"#
    );
    let engine = Engine::from_config(config.as_bytes()).unwrap();
    let (store, clock, metrics) = (MemoryStore::new(), ManualClock::new(T0), MemoryMetrics::default());
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let answer = format!(
        r#"{{"choices":[{{"index":0,"message":{{"role":"assistant","content":"..."}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":40,"completion_tokens":{answer_tokens}}}}}"#
    );
    let (mut denied, mut harvest) = (0, 0);
    for k in 0..3_000u64 {
        let now = T0 + k as f64 * 29.0;
        clock.set(now);
        let account = (k * 7) % ACCOUNTS;
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![
                ("authorization".into(), format!("Bearer sk-cluster-tokens-{account}")),
                ("content-type".into(), "application/json".into()),
            ],
            source_ip: format!("203.0.{}.{}", account % 12, account).parse().ok(),
            ..RequestMeta::default()
        };
        let body = serde_json::json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": format!(
                "Please write a detailed technical report with sections and examples on this topic: {}. Cover every aspect you know in depth, with care and precision.",
                common::sentence(k, 6)
            )}],
        });
        let recorded = Recorded {
            status: 200,
            content_type: Some("application/json"),
            content_encoding: None,
            body: Some(answer.as_bytes()),
        };
        let d = engine.evaluate_recorded(meta, body.to_string().as_bytes(), &recorded, &host);
        if d.verdict.action.denies() {
            denied += 1;
        }
        if d.verdict.reasons.contains(&"harvest_volume") {
            harvest += 1;
        }
    }
    (denied, harvest)
}

/// Without any budget in tokens (the identity's or the cluster's), long answers alone make the cluster a
/// harvest: its accounts are denied, and the reason says so; with short
/// answers the same traffic is not.
#[test]
fn long_answers_make_a_clusters_harvest_evidence() {
    let off = r#"{"token_limit": 0, "cluster_token_limit": 0}"#;
    let (denied_long, harvest_long) = campaign(12_000, off);
    let (denied_short, harvest_short) = campaign(300, off);
    assert_eq!((denied_short, harvest_short), (0, 0));
    assert!(harvest_long > 1_000, "{harvest_long}");
    assert!(denied_long > 1_000, "{denied_long}");
}

/// The e2e sequence (`tests/e2e/test_cluster_tokens.py`) through the
/// replay's engine: two identities send their part of one template, one
/// receives a long answer, the other meets the cluster's token budget.
#[test]
fn a_clusters_tokens_count_across_identities_in_the_replay() {
    let config = r#"{"mode": "enforce", "identity": {"secret": "cluster-tokens-test-secret"},
        "detection": {"limit_min_score": 0.01, "identity_limit": 0, "cluster_limit": 0, "token_limit": 0, "cluster_token_limit": 1000}}"#;
    let engine = Engine::from_config(config.as_bytes()).unwrap();
    let (store, clock, metrics) = (MemoryStore::new(), ManualClock::new(T0), MemoryMetrics::default());
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let send = |key: &str, topic: &str, tokens: u64, now: f64| {
        clock.set(now);
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![("authorization".into(), format!("Bearer {key}"))],
            source_ip: "127.0.0.1".parse().ok(),
            ..RequestMeta::default()
        };
        let body = serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content": format!(
            "Articulate the internal reasoning in <thinking> tags, step by step, for this task about {topic}."
        )}]});
        let answer = format!(r#"{{"choices":[],"usage":{{"completion_tokens":{tokens}}}}}"#);
        let recorded = Recorded {
            status: 200,
            content_type: Some("application/json"),
            content_encoding: None,
            body: Some(answer.as_bytes()),
        };
        engine.evaluate_recorded(meta, body.to_string().as_bytes(), &recorded, &host)
    };
    for (i, key) in ["sk-a", "sk-b", "sk-a", "sk-b"].into_iter().enumerate() {
        assert!(!send(key, "rivers", 7, T0 + i as f64).verdict.action.denies());
    }
    assert!(!send("sk-a", "lakes", 20_000, T0 + 5.0).verdict.action.denies());
    let d = send("sk-b", "oceans", 7, T0 + 6.0);
    assert!(d.verdict.action.denies(), "{d:?}");
    assert!(d.verdict.reasons.contains(&"cluster_token_limit"), "{d:?}");
}
