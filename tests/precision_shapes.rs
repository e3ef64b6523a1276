//! Precision on real customers and denials of a log-probability sweep
//! (issue 7), through the whole engine as the replay runs it: an
//! evaluation company re-running one closed benchmark set, a coding agent's
//! users in tool loops under the product's shared eliciting system prompt,
//! a moderation classifier reading `top_logprobs`: never denied. A sweep of
//! fresh items asking for the most log-probabilities and several samples
//! over 40 accounts: at most 10% served. Each comes with its contrast (the
//! same traffic without the trait that tells it apart is denied), so the
//! test shows which signal does the work.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{frac, sentence};
use distill_guard::engine::Decision;
use distill_guard::request::RequestMeta;
use serde_json::{json, Value};

const T0: f64 = 1_767_225_600.0;
const DAY: f64 = 86_400.0;

struct World(common::World);

impl World {
    fn new() -> World {
        World::with(r#"{"mode": "enforce", "identity": {"secret": "precision-test-secret"}}"#)
    }

    fn with(config: &str) -> World {
        World(common::World::new(config, T0))
    }

    fn send(&self, key: &str, ip: &str, now: f64, body: &Value) -> Decision {
        self.send_as(key, None, ip, now, body)
    }

    fn send_as(&self, key: &str, org: Option<&str>, ip: &str, now: f64, body: &Value) -> Decision {
        let mut headers = vec![
            ("authorization".into(), format!("Bearer {key}")),
            ("content-type".into(), "application/json".into()),
        ];
        headers.extend(org.map(|o| ("openai-organization".to_owned(), o.to_owned())));
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers,
            source_ip: ip.parse().ok(),
            ..RequestMeta::default()
        };
        self.0.evaluate(meta, body.to_string().as_bytes(), now)
    }
}

/// (served, denied) over a sequence of decisions.
fn tally(decisions: impl Iterator<Item = Decision>) -> (usize, usize) {
    decisions.fold((0, 0), |(s, d), x| {
        if x.verdict.action.denies() {
            (s, d + 1)
        } else {
            (s + 1, d)
        }
    })
}

/// Requests of `accounts` arriving at random around the clock, `per_day`
/// each, for `days`: (time, account), in arrival order.
fn around_the_clock(accounts: u64, per_day: u64, days: u64, salt: u64) -> Vec<(f64, u64)> {
    let mut v: Vec<(f64, u64)> = (0..accounts * per_day * days)
        .map(|k| (T0 + frac(k ^ salt) * days as f64 * DAY, k % accounts))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

/// The log-probability sweep: 40 accounts, five per /24, fresh items with
/// `logprobs`, `top_logprobs` 20 and `n` 4 to 8, around the clock. Its bare
/// items share no template; its parameter shape is what its accounts
/// share. Before, about 99% of it was served.
#[test]
fn a_log_probability_sweep_is_mostly_denied() {
    let w = World::new();
    let (served, denied) = tally(
        around_the_clock(40, 300, 1, 1)
            .into_iter()
            .enumerate()
            .map(|(k, (now, a))| {
                let body = json!({
                    "model": "gpt-4o", "temperature": 1.0, "max_tokens": 512,
                    "logprobs": true, "top_logprobs": 20, "n": 4 + k % 5,
                    "messages": [{"role": "user", "content": format!("{}?", sentence(k as u64 * 7 + 3, 12))}],
                });
                w.send(
                    &format!("sk-sweep-{a}"),
                    &format!("45.{}.7.{}", a / 5, 10 + a),
                    now,
                    &body,
                )
            }),
    );
    let share = served as f64 / (served + denied) as f64;
    assert!(share <= 0.10, "{served} of {} served", served + denied);
}

/// A moderation classifier on 4 keys of one backend: one-token answers with
/// `top_logprobs` 20 over users' messages, around the clock. Not a sweep:
/// few accounts, one token each.
#[test]
fn a_moderation_classifier_reading_logprobs_is_never_denied() {
    let w = World::new();
    let (_, denied) = tally(around_the_clock(4, 1_500, 1, 2).into_iter().enumerate().map(|(k, (now, a))| {
        let body = json!({
            "model": "gpt-4o", "temperature": 0.0, "max_tokens": 1,
            "logprobs": true, "top_logprobs": 20,
            "messages": [
                {"role": "system", "content": "You are a content-policy classifier. Answer Yes or No."},
                {"role": "user", "content": format!("Message:\n{}\n\nDoes this message violate the policy?", sentence(k as u64, 10))},
            ],
        });
        w.send(&format!("sk-moderation-{a}"), &format!("34.12.9.{}", 10 + a), now, &body)
    }));
    assert_eq!(denied, 0);
}

/// Benchmark runs: 25 keys re-run the same 300 public items with "Let's
/// think step by step": twenty keys of other evaluators at a steady pace
/// from the first day, five of a company from the second day in bursts
/// (four runs a day, an item every 1.5 s). Returns the company's (served,
/// denied). The items are public: by the time the company runs them they
/// have been sent before (the very first pass of a new item set is fresh
/// items as far as the filter can tell).
fn benchmark_runs(temperature: f64) -> (usize, usize) {
    let w = World::new();
    let item = |k: u64| {
        format!(
            "Q: {} has {} apples and buys {} more. How many now?\nA: Let's think step by step.",
            sentence(k % 300, 9),
            k % 300,
            k % 7 + 2
        )
    };
    let mut arrivals: Vec<(f64, u64, u64)> = Vec::new();
    for a in 0..25u64 {
        if a < 5 {
            // Four runs a day of the whole set, an item every ~1.5 s.
            for run in 0..6u64 {
                let start = T0 + DAY + run as f64 * DAY / 4.0 + a as f64 * 900.0;
                arrivals.extend((0..300u64).map(|k| (start + k as f64 * 1.5, a, k)));
            }
        } else {
            arrivals.extend((0..1_200u64).map(|k| (T0 + k as f64 * 144.0 + a as f64, a, k + a * 37)));
        }
    }
    arrivals.sort_by(|x, y| x.0.total_cmp(&y.0));
    tally(arrivals.into_iter().filter_map(|(now, a, k)| {
        let body = json!({
            "model": "gpt-4o", "temperature": temperature, "max_tokens": 1024,
            "messages": [{"role": "user", "content": item(k)}],
        });
        let d = w.send(&format!("sk-eval-{a}"), &format!("34.56.78.{}", 10 + a % 3), now, &body);
        (a < 5).then_some(d)
    }))
}

#[test]
fn benchmark_runs_of_a_closed_set_at_temperature_zero_are_never_denied() {
    let (served, denied) = benchmark_runs(0.0);
    assert_eq!(denied, 0, "{denied} of {} denied", served + denied);
    // Contrast: the same items sampled (temperature 1) are resampling, a
    // harvest's way to get several answers per item; they are denied.
    let (_, sampled) = benchmark_runs(1.0);
    assert!(sampled > 0, "sampling the same set is not spared");
}

/// A coding agent's users: one shared system prompt that asks the model to
/// think step by step before each tool call, the product's own task
/// template, tools, 32k outputs, each task a burst of calls seconds apart
/// whose conversation grows with tool results. Returns (served, denied).
fn agent_users(tool_loops: bool) -> (usize, usize) {
    let w = World::new();
    let system = "You are Forge, an autonomous coding agent. Before each tool call, think step by step about what you already know and what you still need, and write that reasoning down.";
    let mut arrivals: Vec<(f64, u64, u64, u64)> = Vec::new();
    for u in 0..150u64 {
        for task in 0..6u64 {
            let start = T0 + (task as f64 + 8.0) * 3_600.0 + frac(u * 31 + task) * 3_600.0;
            let calls = 5 + (u + task) % 20;
            arrivals.extend((0..calls).map(|c| (start + c as f64 * 6.0, u, task, c)));
        }
    }
    arrivals.sort_by(|x, y| x.0.total_cmp(&y.0));
    tally(arrivals.into_iter().map(|(now, u, task, call)| {
        let ask = format!(
            "Implement this in our codebase and make the tests pass:\n\n{}",
            sentence(u * 1_000 + task, 12)
        );
        let mut messages = vec![json!({"role": "system", "content": system})];
        if tool_loops {
            messages.push(json!({"role": "user", "content": ask}));
            for c in 0..call {
                let id = format!("call_{u}_{task}_{c}");
                messages.push(json!({"role": "assistant", "content": format!("Step {c}: read the file."),
                    "tool_calls": [{"id": id, "type": "function", "function": {"name": "read_file", "arguments": "{\"path\": \"src/lib.rs\"}"}}]}));
                messages.push(json!({"role": "tool", "tool_call_id": id, "content": sentence(u + c * 13, 20)}));
            }
        } else {
            // One-shot prompts at the same pace: every call a fresh item.
            let item = sentence(u * 1_000 + task * 50 + call, 12);
            messages.push(json!({"role": "user", "content": format!(
                "Implement this in our codebase and make the tests pass:\n\n{item}")}));
        }
        let body = json!({
            "model": "gpt-4o", "temperature": 0.2, "max_tokens": 32_768, "messages": messages,
            "tools": [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}],
        });
        w.send(&format!("sk-forge-{u}"), &format!("{}.{}.{}.{}", 60 + u % 50, u % 200, u % 13, 20 + u % 200), now, &body)
    }))
}

#[test]
fn coding_agent_users_in_tool_loops_are_never_denied() {
    let (served, denied) = agent_users(true);
    assert_eq!(denied, 0, "{denied} of {} denied", served + denied);
    // Contrast: the same product prompt as one-shot prompts at that pace.
    let (_, one_shot) = agent_users(false);
    assert!(one_shot > 0, "one-shot prompts are not spared");
}

/// One customer's own template over its 60 keys (one organisation, named
/// in `openai-organization`), asking for the reasoning, from its backend's
/// /24, around the clock. With `identity.organization` configured its keys
/// are one account: the template is not shared across accounts. Returns
/// (served, denied, requests with `template_shared_across_accounts`).
fn one_customer(config: &str) -> (usize, usize, usize) {
    let w = World::with(config);
    let mut shared = 0;
    let (served, denied) = tally(around_the_clock(60, 200, 1, 3).into_iter().enumerate().map(|(k, (now, a))| {
        let body = json!({
            "model": "gpt-4o", "max_tokens": 2048,
            "messages": [{"role": "user", "content": format!(
                "Explain your reasoning step by step, then classify this support ticket: {}", sentence(k as u64, 14))}],
        });
        let d = w.send_as(&format!("sk-acme-{a}"), Some("org-acme"), &format!("52.14.9.{}", 10 + a % 4), now, &body);
        shared += usize::from(d.verdict.reasons.contains(&"template_shared_across_accounts"));
        d
    }));
    (served, denied, shared)
}

#[test]
fn keys_of_one_organisation_do_not_share_a_template_across_accounts() {
    let org = r#"{"mode": "enforce", "identity": {"secret": "precision-test-secret",
        "organization": [{"header": "openai-organization"}, {"header": "openai-project"}]}}"#;
    let (_, denied, shared) = one_customer(org);
    assert_eq!((denied, shared), (0, 0));
    // Contrast: without it, 60 keys on one template are 60 accounts.
    let (_, _, shared) = one_customer(r#"{"mode": "enforce", "identity": {"secret": "precision-test-secret"}}"#);
    assert!(shared > 0);
}
