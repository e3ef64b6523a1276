//! A shared system prompt that asks for long outputs (issue 7): a campaign
//! can put its instructions in the system prompt in words no phrase list
//! knows and send bare seed items as the user turn. Before, such a system
//! prompt joined no cluster (only an eliciting one did), so its accounts
//! shared nothing and about half of such a campaign's held-out traffic was
//! served. Now a system prompt also stands in for the template when the
//! request asks for a long output (and is not a tool-loop step): the
//! campaign on a proxy pool is denied; an app whose users share its system
//! prompt and ask for long outputs at human pace from their own addresses
//! is not. The system prompts here are this test's own, not the held-out
//! scenario's.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{frac, sentence};
use distill_guard::request::RequestMeta;
use serde_json::json;

const T0: f64 = 1_767_225_600.0;
const DAY: f64 = 86_400.0;

/// `accounts` sending `per_day` requests each at random times over two
/// days under `system`, `max_tokens` each, from `ip(account)`: (served,
/// denied).
fn traffic(system: &str, accounts: u64, per_day: u64, max_tokens: u64, ip: impl Fn(u64) -> String) -> (usize, usize) {
    let w = common::World::new(
        r#"{"mode": "enforce", "identity": {"secret": "system-prompt-shapes-secret"}}"#,
        T0,
    );
    let mut arrivals: Vec<(f64, u64, u64)> = (0..accounts * per_day * 2)
        .map(|k| (T0 + frac(k) * 2.0 * DAY, k % accounts, k))
        .collect();
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
    arrivals.into_iter().fold((0, 0), |(served, denied), (now, a, k)| {
        let body = json!({
            "model": "gpt-4o", "temperature": 1.0, "max_tokens": max_tokens,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": format!("{}?", sentence(k * 13 + 5, 14))},
            ],
        });
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![
                ("authorization".into(), format!("Bearer sk-sysprompt-{a}")),
                ("content-type".into(), "application/json".into()),
            ],
            source_ip: ip(a).parse().ok(),
            ..RequestMeta::default()
        };
        if w.evaluate(meta, body.to_string().as_bytes(), now)
            .verdict
            .action
            .denies()
        {
            (served, denied + 1)
        } else {
            (served + 1, denied)
        }
    })
}

const PLAIN: &str = "You are a solution writer. Lay out each deduction separately and in order, from the premises to the conclusion, and only then give the final line.";

#[test]
fn a_campaign_instructing_in_a_plain_system_prompt_is_denied() {
    // 150 accounts, 15 per /24 of a proxy pool, 30 long outputs a day each.
    let (served, denied) = traffic(PLAIN, 150, 30, 16_384, |a| format!("45.{}.9.{}", a / 15, 10 + a % 15));
    let share = served as f64 / (served + denied) as f64;
    assert!(share <= 0.10, "{served} of {} served", served + denied);
}

#[test]
fn an_apps_users_asking_for_long_outputs_are_never_denied() {
    // 300 users of one app, each from an address of its own, a few long
    // answers a day each.
    let (_, denied) = traffic(PLAIN, 300, 4, 16_384, |a| {
        format!("{}.{}.{}.{}", 60 + a % 90, (a * 7) % 250, (a * 13) % 250, 10 + a % 200)
    });
    assert_eq!(denied, 0);
}
