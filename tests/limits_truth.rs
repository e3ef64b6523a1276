//! Limits that tell the truth (issue 10), through the whole engine with the
//! manual clock, as the replay runs it: a client told to come back after
//! `Retry-After` seconds is served when it does, and not before.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Decision, Engine, Host};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;
use distill_guard::verdict::Action;

const T0: f64 = 1_767_225_600.0;
const ACCOUNTS: u64 = 300;

struct World {
    engine: Engine,
    store: MemoryStore,
    clock: ManualClock,
    metrics: MemoryMetrics,
}

impl World {
    fn new() -> World {
        World::with(r#"{"mode": "enforce", "identity": {"secret": "limits-truth-test-secret"}}"#)
    }

    fn with(config: &str) -> World {
        World {
            engine: Engine::from_config(config.as_bytes()).unwrap(),
            store: MemoryStore::new(),
            clock: ManualClock::new(T0),
            metrics: MemoryMetrics::default(),
        }
    }

    fn send(&self, account: u64, now: f64, text: &str, max_tokens: u64) -> Decision {
        self.clock.set(now);
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
        let host = Host {
            store: &self.store,
            clock: &self.clock,
            metrics: &self.metrics,
        };
        self.engine.evaluate(meta, body.to_string().as_bytes(), &host)
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

/// The static limit (`limits.identity_requests_per_minute`) at 10 a minute.
fn static_limit() -> World {
    World::with(
        r#"{"mode": "enforce", "identity": {"secret": "limits-truth-test-secret"},
            "limits": {"identity_requests_per_minute": 10}}"#,
    )
}

/// `n` ordinary questions from `account` at `now`; how many were served.
fn burst(w: &World, account: u64, now: f64, n: u64) -> u64 {
    (0..n)
        .filter(|_| !w.send(account, now, BENIGN, 200).verdict.action.denies())
        .count() as u64
}

/// The static limit gives no fresh allowance at a minute boundary: ten
/// requests at second 50 of a minute and ten more at second 61 are not
/// twenty served (a limit counted in clock-aligned minutes served them all).
#[test]
fn the_static_limit_gives_no_fresh_allowance_at_the_minute() {
    let w = static_limit();
    assert_eq!(burst(&w, 1, T0 + 50.0, 10), 10);
    let more = burst(&w, 1, T0 + 61.0, 10);
    assert!(more <= 2, "{more} of 10 served 11 s after the limit was used up");
}

/// A client throttled by the static limit that waits exactly its
/// `Retry-After` is served; one that comes back a second earlier is not.
#[test]
fn the_static_limit_retry_after_is_when_it_serves_again() {
    for at in [3.0, 30.0, 59.0] {
        let w = static_limit();
        let start = T0 + at;
        assert_eq!(burst(&w, 2, start, 10), 10);
        let d = w.send(2, start, BENIGN, 200);
        assert_eq!(d.verdict.action, Action::Throttle, "{:?}", d.verdict);
        let after = d.verdict.retry_after_secs as f64;
        assert!(after >= 1.0);
        let early = w.send(2, start + after - 1.0, BENIGN, 200);
        assert!(early.verdict.action.denies(), "served {} s early at {at}", 1);
        let on_time = w.send(2, start + after, BENIGN, 200);
        assert!(
            !on_time.verdict.action.denies(),
            "denied after Retry-After {after} s at {at}"
        );
    }
}

/// Two identities that used up the static limit at different seconds of
/// the same minute are let through again at different seconds (a limit in
/// clock-aligned minutes released both, and everyone else, at the minute).
#[test]
fn the_static_limit_does_not_release_identities_in_step() {
    let w = static_limit();
    let release = |account: u64, at: f64| {
        assert_eq!(burst(&w, account, T0 + at, 10), 10);
        let d = w.send(account, T0 + at, BENIGN, 200);
        assert_eq!(d.verdict.action, Action::Throttle, "{:?}", d.verdict);
        T0 + at + d.verdict.retry_after_secs as f64
    };
    let (a, b) = (release(3, 5.0), release(4, 40.0));
    assert!((b - a - 35.0).abs() <= 1.0, "released at {a} and {b}");
}
