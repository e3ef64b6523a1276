//! The data path never panics: real request bodies, mutated at random
//! (bytes flipped, inserted, deleted, duplicated, cut), go through the whole
//! engine with detection on, under every parse-error policy. A panic here
//! would abort an Envoy worker's VM and the traffic on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Engine, Host};
use distill_guard::metrics::{Counter, MemoryMetrics};
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;

/// SplitMix64: reproducible mutations without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that steer a JSON parser into its interesting states.
const SPICE: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud83d",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b",",
    b"null",
    b"1e999",
    b"-",
    b"\xff",
    b"\xc3",
    b"\xe4\xb8",
    b"\x00",
    b"\"role\":\"user\"",
    b"\"content\":",
    b"\"messages\":[",
];

fn mutate(rng: &mut Rng, body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 => {
                let spice = SPICE[rng.below(SPICE.len())];
                out.splice(at..at, spice.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            3 => {
                let start = rng.below(out.len() + 1);
                let end = (start + rng.below(64)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            4 => out.truncate(at),
            _ => {}
        }
    }
    out
}

#[test]
fn mutated_bodies_never_panic_and_are_always_decided() {
    let fixtures: Vec<(&str, Vec<u8>)> = [
        ("/v1/chat/completions", "openai_chat.json"),
        ("/v1/responses", "openai_responses.json"),
        ("/v1/completions", "openai_completions.json"),
        ("/v1/messages", "anthropic_messages.json"),
        ("/v1beta/models/gemini-2.5-pro:generateContent", "gemini_generate.json"),
    ]
    .iter()
    .map(|(path, file)| {
        let body = std::fs::read(format!("{}/tests/fixtures/requests/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        (*path, body)
    })
    .collect();
    let mut rng = Rng(0x5eed);
    for policy in ["allow", "tag", "block"] {
        let config = format!(
            r#"{{"mode": "enforce", "identity": {{"secret": "mutations-secret"}}, "body": {{"on_parse_error": "{policy}", "max_inspect_bytes": 2048}}}}"#
        );
        let engine = Engine::from_config(config.as_bytes()).unwrap();
        let (store, metrics) = (MemoryStore::new(), MemoryMetrics::default());
        let clock = ManualClock::new(1_767_225_600.0);
        let host = Host {
            store: &store,
            clock: &clock,
            metrics: &metrics,
        };
        let mut sent = 0u64;
        for round in 0..4_000u32 {
            let (path, body) = &fixtures[rng.below(fixtures.len())];
            let mutated = mutate(&mut rng, body);
            clock.set(1_767_225_600.0 + f64::from(round) * 0.5);
            let meta = RequestMeta {
                method: "POST".into(),
                path: (*path).into(),
                headers: vec![("authorization".into(), format!("Bearer key-{}", rng.below(50)))],
                source_ip: Some(format!("203.0.113.{}", rng.below(200)).parse().unwrap()),
                ..RequestMeta::default()
            };
            let d = engine.evaluate(meta, &mutated, &host);
            sent += 1;
            assert!(
                (0.0..=1.0).contains(&d.verdict.score),
                "{policy}: score {}",
                d.verdict.score
            );
            assert_eq!(
                d.reply.is_some(),
                d.verdict.action.denies(),
                "{policy}: a denial always has a reply"
            );
        }
        // Every request was counted once and decided once.
        assert_eq!(metrics.get(Counter::Requests), sent);
        let decided: u64 = distill_guard::verdict::Action::ALL
            .iter()
            .map(|a| metrics.get(Counter::Decision(*a)))
            .sum();
        assert_eq!(decided, sent, "{policy}");
        // The mutations really reached the failure paths, not just the happy one.
        let failures: u64 = [
            "empty",
            "not_utf8",
            "compressed",
            "malformed",
            "too_deep",
            "wrong_shape",
        ]
        .iter()
        .map(|c| metrics.get(Counter::ParseFailure(c)))
        .sum();
        assert!(
            failures > 500 && failures < sent,
            "{policy}: {failures} parse failures of {sent}"
        );
    }
}
