//! The engine end to end against the in-memory host: every API is parsed,
//! every action is produced and shaped, bad bodies are handled as
//! configured. Detection is switched off where exact outcomes are asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Decision, Engine, Host};
use distill_guard::metrics::{Counter, MemoryMetrics};
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;
use distill_guard::verdict::Action;

struct World {
    engine: Engine,
    store: MemoryStore,
    clock: ManualClock,
    metrics: MemoryMetrics,
}

impl World {
    fn new(config: &str) -> World {
        World {
            engine: Engine::from_config(config.as_bytes()).unwrap(),
            store: MemoryStore::new(),
            clock: ManualClock::new(1_767_225_600.0),
            metrics: MemoryMetrics::default(),
        }
    }

    fn send(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Decision {
        self.send_bytes(path, headers, body.as_bytes())
    }

    fn send_bytes(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Decision {
        let meta = RequestMeta {
            method: "POST".into(),
            path: path.into(),
            authority: Some("llm.example".into()),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            source_ip: Some("198.51.100.20".parse().unwrap()),
        };
        let host = Host {
            store: &self.store,
            clock: &self.clock,
            metrics: &self.metrics,
        };
        self.engine.evaluate(meta, body, &host)
    }
}

const TAG_RULE: &str = r#"{"rules": [{"phrases": ["pineapple"], "action": "tag"}], "detection": {"enabled": false}}"#;

fn apis() -> Vec<(&'static str, &'static str, String)> {
    let chat = r#"{"model":"gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"pineapple facts"}]}"#;
    vec![
        ("openai_chat", "/v1/chat/completions", chat.to_owned()),
        ("openai_responses", "/v1/responses", r#"{"model":"gpt-4.1","input":"pineapple facts"}"#.to_owned()),
        ("openai_completions", "/v1/completions", r#"{"model":"gpt-3.5-turbo-instruct","prompt":"pineapple facts"}"#.to_owned()),
        ("azure_chat", "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21", chat.to_owned()),
        (
            "anthropic_messages",
            "/v1/messages",
            r#"{"model":"claude-sonnet-4-5","max_tokens":512,"messages":[{"role":"user","content":[{"type":"text","text":"pineapple facts"}]}]}"#.to_owned(),
        ),
        (
            "gemini_generate",
            "/v1beta/models/gemini-2.5-flash:generateContent",
            r#"{"contents":[{"role":"user","parts":[{"text":"pineapple facts"}]}]}"#.to_owned(),
        ),
        (
            "gemini_stream",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            r#"{"contents":[{"role":"user","parts":[{"text":"pineapple facts"}]}]}"#.to_owned(),
        ),
    ]
}

#[test]
fn every_api_is_parsed_and_tagged() {
    let w = World::new(TAG_RULE);
    for (label, path, body) in apis() {
        let d = w.send(path, &[("authorization", "Bearer sk-test-1")], &body);
        assert_eq!(d.verdict.action, Action::Tag, "{label}");
        assert_eq!(d.verdict.reasons, vec!["operator_rule"], "{label}");
        let names: Vec<&str> = d.tag_headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "x-distill-guard-action",
                "x-distill-guard-score",
                "x-distill-guard-reasons",
                "x-distill-guard-mode"
            ]
        );
        assert_eq!(w.metrics.get(Counter::Api(label)), 1, "{label}");
    }
    assert_eq!(w.metrics.get(Counter::Requests), 7);
    assert_eq!(w.metrics.get(Counter::Decision(Action::Tag)), 7);
}

#[test]
fn other_paths_pass_untouched() {
    let w = World::new(TAG_RULE);
    let d = w.send("/v1/models", &[], "pineapple");
    assert_eq!(d.verdict.action, Action::Allow);
    assert!(d.tag_headers.is_empty() && d.reply.is_none());
    assert_eq!(w.metrics.get(Counter::Passthrough), 1);
    assert_eq!(w.metrics.get(Counter::Requests), 0);
}

#[test]
fn denials_answer_in_the_called_apis_error_shape() {
    let w = World::new(
        r#"{"mode":"enforce","identity":{"secret":"pipes-secret"},"rules":[{"phrases":["pineapple"],"action":"block","reason":"known_campaign"}],"detection":{"enabled":false}}"#,
    );
    for (label, path, body) in apis() {
        let d = w.send(path, &[("x-api-key", "k")], &body);
        assert_eq!(d.verdict.action, Action::Block, "{label}");
        let reply = d.reply.expect("a block has a reply");
        assert_eq!(reply.status, 403);
        let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        if label.starts_with("anthropic") {
            assert_eq!(json["type"], "error", "{label}");
            assert_eq!(json["error"]["type"], "permission_error", "{label}");
        } else if label.starts_with("gemini") {
            assert_eq!(json["error"]["code"], 403, "{label}");
            assert_eq!(json["error"]["status"], "PERMISSION_DENIED", "{label}");
        } else {
            assert!(
                json["error"]["message"].as_str().unwrap().contains("blocked"),
                "{label}"
            );
        }
        // No reasons for the caller (tests/denial_oracle.rs).
        assert!(reply.headers.iter().all(|(n, _)| !n.starts_with("x-distill-guard")));
    }
}

#[test]
fn static_identity_limit_throttles_with_retry_after() {
    let w = World::new(
        r#"{"mode":"enforce","identity":{"secret":"pipes-secret"},"limits":{"identity_requests_per_minute":3},"detection":{"enabled":false}}"#,
    );
    let (_, path, body) = &apis()[0];
    let mut actions = Vec::new();
    for _ in 0..5 {
        actions.push(w.send(path, &[("authorization", "Bearer one")], body));
    }
    assert_eq!(actions.iter().filter(|d| d.verdict.action == Action::Allow).count(), 3);
    let throttled = actions.last().unwrap();
    assert_eq!(throttled.verdict.action, Action::Throttle);
    let reply = throttled.reply.as_ref().unwrap();
    assert_eq!(reply.status, 429);
    let retry: u64 = reply
        .headers
        .iter()
        .find(|(n, _)| n == "retry-after")
        .unwrap()
        .1
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    // Another identity has its own budget.
    assert_eq!(
        w.send(path, &[("authorization", "Bearer two")], body).verdict.action,
        Action::Allow
    );
    // A minute later the bucket is full again.
    w.clock.set(w.clock_now() + 60.0);
    assert_eq!(
        w.send(path, &[("authorization", "Bearer one")], body).verdict.action,
        Action::Allow
    );
}

trait Now {
    fn clock_now(&self) -> f64;
}
impl Now for World {
    fn clock_now(&self) -> f64 {
        use distill_guard::clock::Clock;
        self.clock.now_secs()
    }
}

#[test]
fn shadow_mode_tags_what_it_would_deny() {
    let w = World::new(r#"{"rules":[{"phrases":["pineapple"],"action":"block"}],"detection":{"enabled":false}}"#);
    let (_, path, body) = &apis()[0];
    let d = w.send(path, &[], body);
    assert_eq!((d.verdict.action, d.verdict.intended), (Action::Tag, Action::Block));
    assert!(d.reply.is_none());
    assert!(d.tag_headers.contains(&("x-distill-guard-action", "block".to_owned())));
    assert!(d.tag_headers.contains(&("x-distill-guard-mode", "shadow".to_owned())));
    assert_eq!(w.metrics.get(Counter::ShadowWouldDeny(Action::Block)), 1);
}

#[test]
fn allowlisted_identity_is_never_denied() {
    let probe = World::new(r#"{"identity":{"secret":"pipes-secret"}}"#);
    let key = probe
        .send("/v1/models", &[("authorization", "Bearer partner")], "")
        .identity;
    let w = World::new(&format!(
        r#"{{"mode":"enforce","identity":{{"secret":"pipes-secret"}},"allowlist":{{"identities":["{key}"]}},"rules":[{{"phrases":["pineapple"],"action":"block"}}],"detection":{{"enabled":false}}}}"#
    ));
    let (_, path, body) = &apis()[0];
    let d = w.send(path, &[("authorization", "Bearer partner")], body);
    assert_eq!(d.verdict.action, Action::Tag);
    assert_eq!(d.verdict.reasons.first(), Some(&"allowlisted"));
    assert_eq!(
        w.send(path, &[("authorization", "Bearer stranger")], body)
            .verdict
            .action,
        Action::Block
    );
}

#[test]
fn bad_bodies_are_counted_and_handled_as_configured() {
    let path = "/v1/chat/completions";
    type Case<'a> = (&'a str, Vec<u8>, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("malformed", b"{\"messages\": [".to_vec(), vec![]),
        ("not_utf8", vec![b'{', b'"', 0xff, 0xfe, b'"', b'}'], vec![]),
        (
            "compressed",
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0],
            vec![("content-encoding", "gzip")],
        ),
        ("too_deep", "[".repeat(100_000).into_bytes(), vec![]),
        ("empty", Vec::new(), vec![]),
    ];
    for policy in ["allow", "tag", "block"] {
        let w = World::new(&format!(
            r#"{{"mode":"enforce","identity":{{"secret":"pipes-secret"}},"body":{{"on_parse_error":"{policy}"}},"detection":{{"enabled":false}}}}"#
        ));
        for (code, body, headers) in &cases {
            let d = w.send_bytes(path, headers, body);
            assert_eq!(d.verdict.action.as_str(), policy, "{code} under {policy}");
            assert_eq!(w.metrics.get(Counter::ParseFailure(code)), 1, "{code} under {policy}");
            if policy != "allow" {
                assert!(d.verdict.reasons.contains(&"parse_error"));
            }
        }
    }
}

#[test]
fn oversized_body_is_inspected_up_to_the_cap() {
    let w = World::new(
        r#"{"body":{"max_inspect_bytes":4096},"rules":[{"phrases":["pineapple"],"action":"tag"}],"detection":{"enabled":false}}"#,
    );
    // Words, not one long run: a run of base64 characters is compacted to
    // its first 256 bytes (api::compact), which would bring `late` into view.
    let filler = "x ".repeat(2 * 1024 * 1024);
    let early = format!(r#"{{"model":"m","messages":[{{"role":"user","content":"pineapple {filler}"}}]}}"#);
    let d = w.send("/v1/chat/completions", &[], &early);
    assert_eq!(d.verdict.action, Action::Tag, "a phrase inside the cap is seen");
    assert_eq!(w.metrics.get(Counter::BodyTruncated), 1);
    let late = format!(r#"{{"model":"m","messages":[{{"role":"user","content":"{filler} pineapple"}}]}}"#);
    assert_eq!(
        w.send("/v1/chat/completions", &[], &late).verdict.action,
        Action::Allow,
        "what lies past the cap is not read"
    );
}

#[test]
fn decisions_never_carry_the_credential() {
    let w = World::new(TAG_RULE);
    let (_, path, body) = &apis()[0];
    let d = w.send(path, &[("authorization", "Bearer sk-very-secret-credential")], body);
    let printed = format!("{d:?}");
    assert!(!printed.contains("sk-very-secret"), "{printed}");
    assert!(d.identity.starts_with("k:"));
}

/// A clock that counts its readings (a host call each in Envoy).
struct CountingClock {
    inner: ManualClock,
    reads: std::cell::Cell<usize>,
}

impl distill_guard::clock::Clock for CountingClock {
    fn now_secs(&self) -> f64 {
        self.reads.set(self.reads.get() + 1);
        self.inner.now_secs()
    }
}

/// The upstream's 2xx for an identity its decision already knew accepted
/// records nothing, so it reads no clock either (issue 8: a host call
/// fewer per answered request); a first request's 2xx and any refusal
/// still do.
#[test]
fn a_known_identitys_2xx_reads_no_clock() {
    let engine = Engine::from_config(br#"{"mode": "enforce", "identity": {"secret": "clock-test-secret"}}"#).unwrap();
    let (store, metrics) = (MemoryStore::new(), MemoryMetrics::default());
    let clock = CountingClock {
        inner: ManualClock::new(1_767_225_600.0),
        reads: std::cell::Cell::new(0),
    };
    let host = Host {
        store: &store,
        clock: &clock,
        metrics: &metrics,
    };
    let (_, path, body) = &apis()[0];
    let status_reads = |status: u16| {
        let meta = RequestMeta {
            method: "POST".into(),
            path: (*path).into(),
            headers: vec![("authorization".into(), "Bearer sk-clock".into())],
            ..RequestMeta::default()
        };
        let ex = engine.begin(meta, &metrics).unwrap();
        let mut prefix = engine.body_prefix(&ex);
        prefix.push(body.len(), body.as_bytes());
        let d = engine.decide(&ex, &prefix, true, &host);
        assert_eq!(d.verdict.action, Action::Allow);
        let before = clock.reads.get();
        engine.upstream_status(&ex, status, &host);
        clock.reads.get() - before
    };
    assert_eq!(status_reads(200), 1, "a first request's 2xx is recorded");
    assert_eq!(status_reads(200), 0, "an accepted identity's 2xx reads nothing");
    assert_eq!(status_reads(401), 1, "a refusal is still read");
}
