//! Detection against traffic shapes: a templated campaign across many
//! accounts is denied within a bounded number of requests, while the real
//! customers that look similar (a popular app's shared system prompt, a
//! batch job, a benchmark harness, pasted personas, an office NAT) are not.
//!
//! Drives `Detector::assess` over a `MemoryStore` with the default
//! configuration; the score maps to actions by the default thresholds (tag
//! 0.4, throttle 0.7, block 0.9) and a dynamic limit forces a throttle, as in
//! `engine::decide`.

#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::sentence;
use distill_guard::api::{Api, Endpoint, GenParams, Provider, RequestView, Role, Turn};
use distill_guard::clock::ManualClock;
use distill_guard::config::Settings;
use distill_guard::detect::config::DetectionSettings;
use distill_guard::detect::{Assessment, Detector, Observation};
use distill_guard::host::Host;
use distill_guard::identity::{self, Identity};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;

struct World {
    detector: Detector,
    settings: Settings,
    store: MemoryStore,
    clock: ManualClock,
    metrics: MemoryMetrics,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Act {
    Allow,
    Tag,
    Deny,
}

fn act(a: &Assessment) -> Act {
    if a.rate_limited.is_some() || a.score >= 0.7 {
        Act::Deny
    } else if a.score >= 0.4 {
        Act::Tag
    } else {
        Act::Allow
    }
}

impl World {
    fn new() -> World {
        World {
            detector: Detector::new(DetectionSettings::default()),
            settings: Settings::default(),
            store: MemoryStore::new(),
            clock: ManualClock::new(0.0),
            metrics: MemoryMetrics::default(),
        }
    }

    fn identity(&self, key: &str, ip: &str, ua: &str) -> Identity {
        let meta = RequestMeta {
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![
                ("authorization".into(), format!("Bearer {key}")),
                ("user-agent".into(), ua.into()),
            ],
            source_ip: ip.parse().ok(),
            ..RequestMeta::default()
        };
        identity::resolve(&self.settings, &meta)
    }

    fn send(&self, id: &Identity, now: f64, view: &RequestView) -> Assessment {
        self.clock.set(now);
        let meta = RequestMeta::default();
        let obs = Observation {
            identity: id,
            view: Some(view),
            meta: &meta,
            now,
        };
        let host = Host {
            store: &self.store,
            clock: &self.clock,
            metrics: &self.metrics,
        };
        self.detector.assess(&obs, &host)
    }

    /// What the proxy does after a request: a forwarded one gets the
    /// upstream's answer (`status`); a denied one none.
    fn answer(&self, id: &Identity, now: f64, a: &Assessment, status: u16) {
        if act(a) == Act::Deny {
            return;
        }
        let host = Host {
            store: &self.store,
            clock: &self.clock,
            metrics: &self.metrics,
        };
        self.detector.upstream_status(id, a.charge, status, now, &host);
    }
}

fn view(system: &str, turns: &[&str], params: GenParams) -> RequestView {
    RequestView {
        api: Api {
            provider: Provider::OpenAi,
            endpoint: Endpoint::ChatCompletions,
        },
        model: Some("m".into()),
        system: system.into(),
        turns: turns
            .iter()
            .enumerate()
            .map(|(i, t)| Turn {
                role: Some(if i % 2 == 0 { Role::User } else { Role::Assistant }),
                text: (*t).into(),
                ..Turn::default()
            })
            .collect(),
        params,
        truncated: false,
    }
}

const DAY: f64 = 86_400.0;
const T0: f64 = 1_767_225_600.0; // a midnight

/// A human-looking time: within waking hours, sessions of a few messages.
fn human_time(account: u64, k: u64) -> f64 {
    let day = (k / 12) as f64;
    let session = (k / 4) % 3;
    let hour = 8.0 + ((account * 7 + session * 4) % 12) as f64;
    T0 + day * DAY + hour * 3600.0 + (k % 4) as f64 * 95.0 + (account % 50) as f64
}

#[test]
fn templated_campaign_across_accounts_is_denied_quickly() {
    let w = World::new();
    let accounts: Vec<Identity> = (0..300)
        .map(|i| {
            w.identity(
                &format!("sk-camp-{i}"),
                &format!("198.51.100.{}", i % 30),
                "python-httpx/0.27",
            )
        })
        .collect();
    let mut first_deny = None;
    let (mut denied_after, mut total_after) = (0, 0);
    // About 26 requests per account per day, round the clock, all accounts interleaved.
    for k in 0..6_000u64 {
        let a = (k * 7) % 300;
        let now = T0 + k as f64 * (DAY / 7_800.0);
        let text = format!(
            "Imagine and articulate the internal reasoning behind a completed response to this problem: {}. Write it out step by step and justify each step.",
            sentence(k, 14)
        );
        let v = view(
            "",
            &[&text],
            GenParams {
                max_output_tokens: Some(16_000),
                ..GenParams::default()
            },
        );
        let r = w.send(&accounts[a as usize], now, &v);
        if act(&r) == Act::Deny {
            first_deny.get_or_insert(k);
        }
        if first_deny.is_some() {
            total_after += 1;
            denied_after += usize::from(act(&r) == Act::Deny);
        }
    }
    let first = first_deny.expect("campaign never denied");
    assert!(first < 1_000, "first denial after {first} requests");
    assert!(
        denied_after as f64 >= 0.95 * total_after as f64,
        "{denied_after}/{total_after}"
    );
}

/// A campaign of real keys cannot leave its clusters by getting itself
/// refused: before each harvest request every account sends a probe the
/// upstream answers 403 (a model it may not use), then the harvest request
/// is answered 200. A key the upstream has accepted stays accepted, so the
/// harvest still counts and is denied as without the probes.
#[test]
fn accepted_keys_cannot_leave_their_clusters_with_403_probes() {
    let w = World::new();
    let accounts: Vec<Identity> = (0..300)
        .map(|i| {
            w.identity(
                &format!("sk-probe-{i}"),
                &format!("198.51.100.{}", i % 30),
                "python-httpx/0.27",
            )
        })
        .collect();
    let mut first_deny = None;
    let (mut denied_after, mut total_after) = (0, 0);
    for k in 0..6_000u64 {
        let a = &accounts[((k * 7) % 300) as usize];
        let now = T0 + k as f64 * (DAY / 7_800.0);
        let probe = w.send(a, now - 1.0, &view("", &["hello"], GenParams::default()));
        w.answer(a, now - 1.0, &probe, 403);
        let text = format!(
            "Imagine and articulate the internal reasoning behind a completed response to this problem: {}. Write it out step by step and justify each step.",
            sentence(k, 14)
        );
        let v = view(
            "",
            &[&text],
            GenParams {
                max_output_tokens: Some(16_000),
                ..GenParams::default()
            },
        );
        let r = w.send(a, now, &v);
        w.answer(a, now, &r, 200);
        if act(&r) == Act::Deny {
            first_deny.get_or_insert(k);
        }
        if first_deny.is_some() {
            total_after += 1;
            denied_after += usize::from(act(&r) == Act::Deny);
        }
    }
    let first = first_deny.expect("campaign never denied");
    assert!(first < 1_000, "first denial after {first} requests");
    assert!(
        denied_after as f64 >= 0.95 * total_after as f64,
        "{denied_after}/{total_after}"
    );
}

#[test]
fn chinese_campaign_is_denied() {
    let w = World::new();
    let accounts: Vec<Identity> = (0..200)
        .map(|i| w.identity(&format!("sk-zh-{i}"), &format!("203.0.113.{}", i % 20), "ua"))
        .collect();
    let mut denied = 0;
    for k in 0..3_000u64 {
        let text = format!(
            "请一步一步详细推理下面的问题，并写出完整的推理过程：第{}题，{}。最后给出答案。",
            k,
            sentence(k, 6)
        );
        let v = view("", &[&text], GenParams::default());
        let r = w.send(&accounts[(k % 200) as usize], T0 + k as f64 * 10.0, &v);
        denied += usize::from(k >= 1_000 && act(&r) == Act::Deny);
    }
    assert!(denied >= 1_900, "{denied}/2000");
}

#[test]
fn popular_app_users_sharing_a_system_prompt_are_never_denied() {
    let w = World::new();
    let system = format!("You are HelpfulBot, the assistant of ExampleCorp. {} Always be polite. Think step by step when helping with maths.", sentence(1, 300));
    let mut worst = Act::Allow;
    for k in 0..8_000u64 {
        let a = k % 2_000;
        let id = w.identity(
            &format!("sk-user-{a}"),
            &format!("10.{}.{}.{}", a % 200, a % 7, a % 250),
            "Mozilla/5.0",
        );
        let q = format!("{}?", sentence(k * 31 + 5, 6 + (k % 9) as usize));
        let v = view(&system, &[&q], GenParams::default());
        let r = w.send(&id, human_time(a, k / 2_000), &v);
        if act(&r) == Act::Deny {
            eprintln!("{k} {r:?}");
        }
        worst = worst.max(act(&r));
    }
    assert!(worst < Act::Deny, "{worst:?}");
}

#[test]
fn batch_job_at_machine_cadence_is_at_most_tagged() {
    let w = World::new();
    let keys = [
        w.identity("sk-batch-1", "192.0.2.10", "batch/1.0"),
        w.identity("sk-batch-2", "192.0.2.10", "batch/1.0"),
    ];
    let mut worst = Act::Allow;
    for k in 0..6_000u64 {
        let text = format!(
            "Classify this review as positive or negative. Review: {}. Answer with one word.",
            sentence(k, 20)
        );
        let v = view(
            "",
            &[&text],
            GenParams {
                max_output_tokens: Some(5),
                ..GenParams::default()
            },
        );
        worst = worst.max(act(&w.send(&keys[(k % 2) as usize], T0 + k as f64 * 2.0, &v)));
    }
    assert!(worst <= Act::Tag, "{worst:?}");
}

#[test]
fn benchmark_harness_is_at_most_tagged() {
    let w = World::new();
    let keys = [
        w.identity("sk-eval-a", "192.0.2.20", "lm-eval"),
        w.identity("sk-eval-b", "192.0.2.21", "lm-eval"),
    ];
    let mut worst = Act::Allow;
    for run in 0..5u64 {
        for item in 0..600u64 {
            let text = format!("Question: {}? Let's think step by step.", sentence(item, 25));
            let v = view(
                "",
                &[&text],
                GenParams {
                    logprobs: true,
                    top_logprobs: Some(5),
                    ..GenParams::default()
                },
            );
            let now = T0 + run as f64 * DAY / 2.0 + item as f64 * 3.0;
            worst = worst.max(act(&w.send(&keys[(item % 2) as usize], now, &v)));
        }
    }
    assert!(worst <= Act::Tag, "{worst:?}");
}

#[test]
fn pasted_personas_and_office_nat_are_never_denied() {
    let w = World::new();
    let persona = "I want you to act as a linux terminal. I will type commands and you will reply with what the terminal should show. I want you to only reply with the terminal output inside one unique code block, and nothing else. Do not write explanations. My first command is";
    let mut worst = Act::Allow;
    // 600 people behind one office NAT, most pasting the persona with their own
    // first command, then following up with their own commands.
    for k in 0..6_000u64 {
        let a = k % 600;
        let id = w.identity(&format!("sk-office-{a}"), "192.0.2.77", "Mozilla/5.0");
        let first = format!("{persona} {}", sentence(a, 1 + (a % 3) as usize));
        let follow = format!("now run {} and explain step by step", sentence(k, 3));
        let turns: Vec<&str> = if (k / 600) % 3 == 0 {
            vec![&first]
        } else {
            vec![&first, "ok", &follow]
        };
        let v = view("", &turns, GenParams::default());
        worst = worst.max(act(&w.send(&id, human_time(a, k / 600), &v)));
    }
    assert!(worst < Act::Deny, "{worst:?}");
}

#[test]
fn a_flood_of_fresh_identities_does_not_unflag_a_live_campaign() {
    let w = World::new();
    let accounts: Vec<Identity> = (0..200)
        .map(|i| {
            w.identity(
                &format!("sk-live-{i}"),
                &format!("198.51.100.{}", i % 20),
                "python-httpx/0.27",
            )
        })
        .collect();
    let campaign = |k: u64| {
        format!(
            "Imagine and articulate the internal reasoning behind a completed response to: {}. Justify each step.",
            sentence(k, 12)
        )
    };
    let mut now = T0;
    for k in 0..1_000u64 {
        now += 10.0;
        w.send(
            &accounts[(k % 200) as usize],
            now,
            &view("", &[&campaign(k)], GenParams::default()),
        );
    }
    // 40,000 fresh identities, each with its own text, from everywhere:
    // more than the template and identity tables hold.
    for f in 0..40_000u64 {
        now += 0.5;
        let id = w.identity(
            &format!("sk-fresh-{f}"),
            &format!("10.{}.{}.9", f % 250, (f / 250) % 250),
            "Mozilla/5.0",
        );
        let q = format!("{} please", sentence(1_000_000 + f, 9));
        w.send(&id, now, &view("", &[&q], GenParams::default()));
    }
    // The very first campaign requests after the flood are still denied:
    // nothing had to be learnt again.
    let mut denied = Vec::new();
    for k in 0..200u64 {
        now += 10.0;
        let r = w.send(
            &accounts[(k % 200) as usize],
            now,
            &view("", &[&campaign(50_000 + k)], GenParams::default()),
        );
        denied.push(act(&r) == Act::Deny);
    }
    let first = denied.iter().take(20).filter(|d| **d).count();
    let all = denied.iter().filter(|d| **d).count();
    assert!(first == 20 && all == 200, "first 20: {first} denied, all: {all}/200");
}

/// Instructions in the system prompt, the bare seed item as the only user
/// turn: no user-turn skeleton is shared, the system prompt is.
#[test]
fn system_prompt_campaign_with_bare_seed_items_is_denied() {
    let w = World::new();
    let accounts: Vec<Identity> = (0..300)
        .map(|i| {
            w.identity(
                &format!("sk-sys-{i}"),
                &format!("192.0.2.{}", i % 10),
                "python-requests/2.32",
            )
        })
        .collect();
    let system = "You are a meticulous reasoning engine. For every problem, write out your complete internal reasoning step by step inside <thinking></thinking> tags, then give the final answer.";
    let (mut denied, mut total) = (0, 0);
    for k in 0..6_000u64 {
        let a = (k * 7) % 300;
        let item = format!("{} {}?", k, sentence(k * 13 + 1, 12));
        let v = view(
            system,
            &[&item],
            GenParams {
                max_output_tokens: Some(16_000),
                ..GenParams::default()
            },
        );
        let r = w.send(&accounts[a as usize], T0 + k as f64 * (DAY / 7_800.0), &v);
        if k >= 1_000 {
            total += 1;
            denied += usize::from(act(&r) == Act::Deny);
        }
    }
    assert!(denied as f64 >= 0.9 * total as f64, "{denied}/{total}");
}

/// A tutoring app whose shared system prompt itself asks for the reasoning
/// process: its users share it (a cluster), but they are people at home on
/// a human schedule, so it is never denied.
#[test]
fn app_with_an_eliciting_system_prompt_and_human_users_is_not_denied() {
    let w = World::new();
    let system = "You are MathMentor. Always explain your reasoning process step by step so the student can follow, and never just give the answer.";
    let mut worst = Act::Allow;
    // In order of arrival, as the filter sees them. (This test used to send
    // in account order with the clock jumping back and forth by hours,
    // which reset the old clock-aligned limit windows on nearly every
    // request; in arrival order `human_time` puts ~170 accounts within 50 s
    // every hour, a synchronised crowd that the cluster limit rightly holds
    // back in the tag band. People spread over their hour.)
    let mut arrivals: Vec<(f64, u64)> = (0..8_000u64)
        .map(|k| {
            let a = k % 2_000;
            (human_time(a, k / 2_000) + ((a * 7_919) % 3_000) as f64, k)
        })
        .collect();
    arrivals.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (now, k) in arrivals {
        let a = k % 2_000;
        let id = w.identity(
            &format!("sk-mentor-{a}"),
            &format!("10.{}.{}.{}", a % 200, a % 7, a % 250),
            "MathMentor/2.1",
        );
        let q = format!("{}?", sentence(k * 31 + 7, 6 + (k % 9) as usize));
        let v = view(system, &[&q], GenParams::default());
        worst = worst.max(act(&w.send(&id, now, &v)));
    }
    assert!(worst < Act::Deny, "{worst:?}");
}

/// Six hours of framing: a round of 40 framing requests (`framer(round,
/// i)`, long outputs, every half second) every five minutes, answered 401,
/// and the app's own requests (`app`, ordinary outputs, answered 200) at
/// irregular times in between, all on `template`. Returns the app's worst
/// action, how many of its requests were tagged or worse, and how many it
/// sent.
fn app_under_framing(
    w: &World,
    app: &Identity,
    framer: impl Fn(u64, u64) -> Identity,
    template: impl Fn(u64) -> String,
) -> (Act, usize, usize) {
    let long = GenParams {
        max_output_tokens: Some(16_000),
        ..GenParams::default()
    };
    let (mut app_worst, mut app_tagged, mut app_sent) = (Act::Allow, 0, 0);
    let mut next_app = T0;
    let mut k = 0u64;
    for round in 0..72u64 {
        let start = T0 + round as f64 * 300.0;
        for i in 0..40u64 {
            k += 1;
            let id = framer(round, i);
            let now = start + i as f64 * 0.5;
            let r = w.send(&id, now, &view("", &[&template(k)], long.clone()));
            w.answer(&id, now, &r, 401);
        }
        while next_app < start + 300.0 {
            k += 1;
            let r = w.send(app, next_app, &view("", &[&template(k)], GenParams::default()));
            w.answer(app, next_app, &r, 200);
            app_worst = app_worst.max(act(&r));
            app_tagged += usize::from(act(&r) >= Act::Tag);
            app_sent += 1;
            // 5 to 95 s between the app's users.
            next_app += 5.0 + (k * 7_919 % 91) as f64;
        }
    }
    (app_worst, app_tagged, app_sent)
}

/// Framing a real customer (issue 10): 40 random bearer tokens that the
/// upstream refuses (401), all on one /24, send an app's own user-turn
/// template with fresh fillers, long outputs and in synchronised rounds.
/// The app's own key (accepted, on its own address, its users' irregular
/// timing, ordinary outputs) must not be pushed into the limited band.
#[test]
fn random_tokens_cannot_frame_an_apps_template() {
    let w = World::new();
    let app = w.identity("sk-app-production", "192.0.2.50", "app-backend/3.1");
    let framers: Vec<Identity> = (0..40)
        .map(|i| w.identity(&format!("sk-random-{i:04x}"), &format!("203.0.113.{}", i + 1), "curl/8"))
        .collect();
    let template = |k: u64| {
        format!(
            "Summarize the following customer review for the support dashboard in three short bullet points: {}",
            sentence(k, 16)
        )
    };
    let (app_worst, app_tagged, app_sent) = app_under_framing(&w, &app, |_, i| framers[i as usize].clone(), template);
    assert!(app_sent > 300, "{app_sent}");
    assert!(
        app_worst < Act::Deny && app_tagged == 0,
        "app worst {app_worst:?}, {app_tagged}/{app_sent} in the limited band"
    );
}

/// Framing with tokens used once each (issue 10): every framing request
/// comes from a fresh random bearer token, so each is that token's first
/// request and the upstream's 401 arrives only after it was counted. The
/// app's key sends an eliciting template of its own ("explain your
/// reasoning step by step": content, but no sharing while it is alone).
/// Alone it is allowed; the framers (2,880 tokens, one /24, long outputs,
/// rounds) must not make its template "shared across accounts" and push it
/// into the tag band or the limited one: a token's first request counts in
/// no cluster until the upstream has accepted it.
#[test]
fn single_use_random_tokens_cannot_frame_an_apps_template() {
    let w = World::new();
    let app = w.identity("sk-app-tutor", "192.0.2.60", "tutor-backend/1.0");
    let framer = |round: u64, i: u64| {
        w.identity(
            &format!("sk-once-{round}-{i}"),
            &format!("203.0.113.{}", i + 1),
            "curl/8",
        )
    };
    let template = |k: u64| {
        format!(
            "Explain your reasoning process step by step so the student can follow, then answer: {}",
            sentence(k, 12)
        )
    };
    let (app_worst, app_tagged, app_sent) = app_under_framing(&w, &app, framer, template);
    assert!(app_sent > 300, "{app_sent}");
    assert!(
        app_worst < Act::Tag && app_tagged == 0,
        "app worst {app_worst:?}, {app_tagged}/{app_sent} tagged or worse"
    );
}

/// Framing by an accepted minority (issue 10): a tutoring app whose
/// template asks for the model's reasoning is shared by its 120 users (each
/// with a key of their own, at human times, on their own addresses), which
/// puts them in the limited band but far under the cluster's limit. Twenty
/// cheap keys the upstream accepts (one /24, long outputs, two requests a
/// minute each) send the same template with fresh fillers, pushing the
/// cluster's count over its limit. The cluster limit is charged to an
/// identity by its own part in the cluster's requests: the app's users keep
/// being served, while the framers are denied on their own records.
#[test]
fn an_accepted_minority_cannot_get_an_apps_users_limited() {
    let w = World::new();
    let users: Vec<Identity> = (0..120u64)
        .map(|u| {
            w.identity(
                &format!("sk-tutor-user-{u:04}"),
                &format!("100.{}.{}.9", 64 + u % 50, u + 1),
                "TutorApp/2.0",
            )
        })
        .collect();
    let framers: Vec<Identity> = (0..20u64)
        .map(|i| w.identity(&format!("sk-free-{i:02}"), &format!("203.0.113.{}", i + 1), "curl/8"))
        .collect();
    let template = |k: u64| {
        format!(
            "Explain your reasoning process step by step so the student can follow, then answer: {}",
            sentence(k, 12)
        )
    };
    let long = GenParams {
        max_output_tokens: Some(16_000),
        ..GenParams::default()
    };
    let (mut app_denied, mut app_limited_band, mut app_sent) = (0usize, 0usize, 0usize);
    let (mut framer_denied, mut framer_sent) = (0usize, 0usize);
    let mut k = 0u64;
    // Six hours, minute by minute; the framers join after the first hour.
    for minute in 0..360u64 {
        let start = T0 + minute as f64 * 60.0;
        if minute >= 60 {
            for (i, f) in framers.iter().enumerate() {
                for half in 0..2u64 {
                    k += 1;
                    let now = start + half as f64 * 30.0 + i as f64;
                    let r = w.send(f, now, &view("", &[&template(k)], long.clone()));
                    w.answer(f, now, &r, 200);
                    framer_sent += usize::from(minute >= 120);
                    framer_denied += usize::from(minute >= 120 && act(&r) == Act::Deny);
                }
            }
        }
        // The app's users: two or three requests a minute between them.
        for j in 0..(2 + minute % 2) {
            k += 1;
            let u = &users[((minute * 37 + j * 53) % 120) as usize];
            let now = start + 7.0 + j as f64 * 19.0 + (k % 5) as f64;
            let r = w.send(u, now, &view("", &[&template(k)], GenParams::default()));
            w.answer(u, now, &r, 200);
            app_sent += 1;
            app_denied += usize::from(act(&r) == Act::Deny);
            app_limited_band += usize::from(r.score >= 0.4);
        }
    }
    assert!(app_sent > 800, "{app_sent}");
    // The app's users are in the limited band (their template is shared
    // and asks for reasoning): only the cluster limit could deny them.
    assert!(app_limited_band * 2 > app_sent, "{app_limited_band}/{app_sent}");
    assert_eq!(app_denied, 0, "{app_denied}/{app_sent} of the app's requests denied");
    assert!(
        framer_denied * 10 >= framer_sent * 9,
        "framers denied {framer_denied}/{framer_sent}"
    );
}
