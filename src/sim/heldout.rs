//! The held-out scenario (`distill-guard simulate --scenario heldout`):
//! traffic that detection was *not* tuned on, to measure how it generalises.
//!
//! The default scenario's benign population is kept as background (so rates
//! are measured against ordinary traffic), its campaigns are replaced by
//! new shapes, and new hard look-alikes are added:
//!
//! | group | class | shape |
//! |---|---|---|
//! | `novel_phrasing` | campaign | English templates phrased outside the elicitation lists, proxy /24s |
//! | `multilingual` | campaign | Spanish, Russian, Japanese templates |
//! | `system_prompt` | campaign | instructions in the system prompt, bare seed item as user turn |
//! | `cloud_spread` | campaign | one account per cloud /24, synchronised machine cadence |
//! | `few_busy` | campaign | 20 accounts at ~500 requests a day |
//! | `model_rotation` | campaign | moves to a newly released model half way |
//! | `byok_tutor` | benign | homework app: "Explain step by step how to solve: …", own keys, homes |
//! | `translation_app` | benign | "Translate into French: …" across many user keys |
//! | `classroom` | benign | 30 students behind one NAT, the same GSM8K homework, "show your work" |
//! | `eval_company` | benign | 20 keys in one cloud /24, MMLU/GSM8K with "Let's think step by step", around the clock |
//! | `support_bot` | benign | end-user accounts through a backend, one shared user-turn template |
//! | `eval_runs` | benign | 5 keys, ~2,000 requests a day each: runs re-sending one closed set of MT-Bench, HumanEval and GSM8K items, "think step by step" |
//! | `agent_product` | benign | 300 coding-agent users (about 5 tasks of 5-40 calls a day) sharing its agent system prompt ("think step by step before each tool call"), tools, max_tokens 32,768, tool loops in bursts |
//! | `logprob_sweep` | campaign | 40 accounts around the clock: fresh items with `logprobs`, `top_logprobs` 20, `n` 4-8 |
//! | `moderation_logprobs` | benign | a moderation classifier on 4 keys: one-token answers with `top_logprobs` 20, around the clock |
//!
//! Seeded and byte-reproducible like the default scenario; the default
//! scenario's output is untouched by this module.
//!
//! One concept a file: [`super::heldout_groups`] (the table above),
//! [`super::heldout_members`] (accounts), [`super::heldout_schedule`] (when
//! they send), [`super::heldout_content`] and [`super::heldout_shapes`] (what they send); this file drives
//! the days and writes the lines.

use std::io::{self, Write};

use super::actor::Event;
use super::client;
use super::corpus::Corpus;
use super::heldout_content::{self as hc, Content};
use super::heldout_members::{members, Member};
use super::heldout_schedule::{self as hs, DAY};
use super::heldout_shapes;
use super::writer::{self, Label};
use super::{params, population, schedule_actors, write_days, Options, Stats};

pub use super::heldout_groups::{Addr, Client, Group, When, GROUPS, NEW_MODEL};

fn write_member(
    out: &mut dyn Write,
    m: &Member,
    e: &Event,
    corpus: &Corpus,
    seed: u64,
    half_ms: u64,
) -> io::Result<()> {
    let Some(g) = GROUPS.get(m.group) else {
        return Ok(());
    };
    let shaped = heldout_shapes::wire(g.content, &m.sdk, &m.credential, e.seed, e.turn, seed ^ e.seed, corpus);
    let mut wire = match shaped {
        Some(wire) => wire,
        None => client::encode(
            &m.sdk,
            &m.credential,
            &hc::prompt(g.content, m.index, seed ^ e.seed, e.seed, corpus),
        ),
    };
    if g.content == Content::Rotation && e.ts_ms >= half_ms {
        let mut body: serde_json::Value = serde_json::from_str(&wire.body).map_err(io::Error::other)?;
        if let Some(o) = body.as_object_mut() {
            o.insert("model".to_owned(), serde_json::Value::from(NEW_MODEL));
        }
        wire.body = body.to_string();
    }
    let label = Label {
        class: g.class,
        group: g.name,
        account: &m.account,
    };
    writer::write_line(out, e.ts_ms, &wire, &m.ip, label)
}

/// Writes the held-out trace: the default benign population as background
/// plus the groups above, day by day in arrival order.
pub fn generate(opts: &Options, corpus: &Corpus, out: &mut dyn Write) -> io::Result<Stats> {
    let background: Vec<_> = population::build(opts.seed, opts.scale)
        .into_iter()
        .filter(|a| a.class == "benign")
        .collect();
    let members = members(opts.seed, opts.scale);
    // Trace actors: the background first, then the held-out members.
    let nb = background.len();
    let half_ms = (params::START_TS as f64 + f64::from(opts.days) * DAY / 2.0) as u64 * 1000;
    let requests = write_days(
        opts.days,
        out,
        |day, events| {
            schedule_actors(&background, day, opts.seed, events);
            for (j, m) in members.iter().enumerate() {
                events.extend(hs::day_events(m, (nb + j) as u32, day, opts.seed));
            }
        },
        |out, e| match (e.actor as usize).checked_sub(nb) {
            None => writer::write_event(out, &background, e, corpus, opts.seed),
            Some(j) => match members.get(j) {
                Some(m) => write_member(out, m, e, corpus, opts.seed, half_ms),
                None => Ok(()),
            },
        },
    )?;
    Ok(Stats {
        accounts: nb + members.len(),
        requests,
    })
}
