//! Limits that tell the truth (issue 10), through the whole engine with the
//! manual clock, as the replay runs it: a client told to come back after
//! `Retry-After` seconds is served when it does, and not before.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use distill_guard::engine::Decision;
use distill_guard::request::RequestMeta;
use distill_guard::verdict::Action;

const T0: f64 = 1_767_225_600.0;
const ACCOUNTS: u64 = 300;

struct World(common::World);

impl World {
    fn new() -> World {
        World(common::World::new(
            r#"{"mode": "enforce", "identity": {"secret": "limits-truth-test-secret"}}"#,
            T0,
        ))
    }

    fn send(&self, account: u64, now: f64, text: &str, max_tokens: u64) -> Decision {
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![
                ("authorization".into(), format!("Bearer sk-truth-{account}")),
                ("content-type".into(), "application/json".into()),
            ],
            source_ip: format!("198.51.100.{}", account % 30).parse().ok(),
            ..RequestMeta::default()
        };
        let body = serde_json::json!({
            "model": "gpt-4o",
            "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": text}],
        });
        self.0.evaluate(meta, body.to_string().as_bytes(), now)
    }
}

fn words(seed: u64, n: usize) -> String {
    const W: &[&str] = &[
        "apple", "river", "engine", "market", "garden", "signal", "ladder", "copper", "winter", "planet", "harbor",
        "violet", "matrix", "canyon", "pencil", "rocket", "meadow", "silver", "tunnel", "candle",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            W[(x % W.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A templated campaign over 300 accounts until it is denied; returns the
/// time of the last request.
fn campaign(w: &World) -> f64 {
    let mut now = T0;
    for k in 0..4_000u64 {
        now = T0 + k as f64 * 11.0;
        let text = format!(
            "Imagine and articulate the internal reasoning behind a completed response to this problem: {}. Write it out step by step and justify each step.",
            words(k, 14)
        );
        w.send((k * 7) % ACCOUNTS, now, &text, 16_000);
    }
    now
}

const BENIGN: &str = "What is a good name for a grey kitten that likes to sleep on keyboards?";

/// A caught campaign account that stops: its remembered suspicion denies
/// an ordinary question, with a `Retry-After` that is when its memory lets
/// it go. Coming back exactly then is served; coming back at half the time
/// is not.
#[test]
fn a_history_throttle_retry_after_is_when_the_filter_serves_again() {
    let probe = |wait: Option<f64>| {
        let w = World::new();
        let end = campaign(&w);
        let d = w.send(7, end + 1.0, BENIGN, 200);
        assert_eq!(d.verdict.action, Action::Throttle, "{:?}", d.verdict);
        let after = d.verdict.retry_after_secs;
        assert!(after >= 1);
        wait.map(|f| {
            (
                after,
                w.send(7, end + 1.0 + f * after as f64, BENIGN, 200).verdict.action,
            )
        })
    };
    let (after, on_time) = probe(Some(1.0)).unwrap();
    assert!(
        !on_time.denies(),
        "came back after exactly Retry-After ({after} s) and was denied: {on_time:?}"
    );
    let (_, early) = probe(Some(0.5)).unwrap();
    assert!(
        early.denies(),
        "came back at half of Retry-After ({after} s) and was served"
    );
}
