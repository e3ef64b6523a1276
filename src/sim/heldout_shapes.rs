//! The held-out scenario's shapes that need more of the wire than one
//! prompt (see [`super::heldout`]): an evaluation company re-running public
//! benchmarks, a coding-agent product's tool loops, a log-probability sweep
//! and a moderation classifier that reads log-probabilities. Each writes an
//! OpenAI chat-completions body of its own (tools, tool results,
//! `logprobs`), so these groups are OpenAI clients.
//!
//! The eval runs re-send one closed item set (the same texts every run);
//! the agent's conversation grows call by call with tool results in it; the
//! sweep asks for the most log-probabilities and several samples of fresh
//! items; the moderation classifier asks for the most log-probabilities of
//! a one-token answer.

use serde_json::{json, Value};

use super::client::{self, Sdk, Wire};
use super::corpus::Corpus;
use super::heldout_content::Content;
use super::rng::Rng;

/// Items in the evaluation company's closed set: MT-Bench first turns,
/// HumanEval and GSM8K items, the same every run.
pub const EVAL_ITEMS: u64 = 500;

/// The agent product's system prompt, shared by every user.
pub const AGENT_SYSTEM: &str = "You are Forge, an autonomous coding agent working in the user's repository. Before each tool call, think step by step about what you already know and what you still need, and write that reasoning down. Use the tools to read files, run the tests and edit code; never guess a file's contents. When the task is done, summarise the change.";

const TOOL_FILES: [&str; 6] = [
    "src/lib.rs",
    "src/main.py",
    "tests/test_core.py",
    "package.json",
    "src/utils/parse.ts",
    "README.md",
];

fn tools() -> Value {
    let tool = |name: &str, what: &str, arg: &str| {
        json!({"type": "function", "function": {"name": name, "description": what,
            "parameters": {"type": "object", "properties": {arg: {"type": "string"}}, "required": [arg]}}})
    };
    json!([
        tool("read_file", "Read a file of the repository.", "path"),
        tool("run_tests", "Run the test suite, or one test file.", "target"),
        tool("edit_file", "Replace a file's contents.", "path"),
        tool("search", "Search the repository for a string.", "query"),
    ])
}

fn pick(rng: &mut Rng, v: &[String]) -> String {
    rng.pick(v).cloned().unwrap_or_default()
}

/// Item `k` of the closed evaluation set (the same text every run).
pub fn eval_item(c: &Corpus, k: u64) -> String {
    let k = k % EVAL_ITEMS;
    let mt = c.mt_bench.len() as u64;
    let he = c.humaneval.len() as u64;
    let at = |v: &[String], i: u64| v.get(i as usize).cloned().unwrap_or_default();
    if k < mt.min(80) {
        let q = c
            .mt_bench
            .get(k as usize)
            .and_then(|t| t.first())
            .cloned()
            .unwrap_or_default();
        return format!("{q}\n\nThink step by step before you answer.");
    }
    let k = k - mt.min(80);
    if k < he.min(164) {
        return format!(
            "Complete the following Python function. Think step by step, then give only the code.\n\n{}",
            at(&c.humaneval, k)
        );
    }
    let k = k - he.min(164);
    let n = c.gsm8k.len().max(1) as u64;
    format!("Q: {}\nA: Let's think step by step.", at(&c.gsm8k, k % n))
}

/// The agent's conversation at call `call` of a task (`task` seeds it):
/// the task, then one assistant tool call and its result per earlier call.
fn agent_messages(c: &Corpus, task: u64, call: u32) -> Vec<Value> {
    let mut rng = Rng::derive(task, "agent-task", 0);
    let ask = if rng.chance(0.5) {
        format!(
            "Implement this in our codebase and make the tests pass:\n\n{}",
            pick(&mut rng, &c.humaneval)
        )
    } else {
        pick(&mut rng, &c.arena)
    };
    let mut messages = vec![
        json!({"role": "system", "content": AGENT_SYSTEM}),
        json!({"role": "user", "content": ask}),
    ];
    for i in 0..call {
        let id = format!("call_{}", rng.hex(24));
        let (name, arg, result) = match rng.below(4) {
            0 => {
                let f = rng.pick(&TOOL_FILES).copied().unwrap_or("README.md");
                ("read_file", json!({"path": f}), pick(&mut rng, &c.humaneval))
            }
            1 => (
                "run_tests",
                json!({"target": "tests/"}),
                format!(
                    "{} passed, {} failed\nFAILED tests/test_core.py::test_case_{} - AssertionError",
                    rng.range(3, 40),
                    rng.range(0, 4),
                    rng.range(1, 30)
                ),
            ),
            2 => {
                let f = rng.pick(&TOOL_FILES).copied().unwrap_or("README.md");
                ("edit_file", json!({"path": f}), "ok".to_owned())
            }
            _ => (
                "search",
                json!({"query": format!("fn_{}", rng.hex(6))}),
                format!("{} matches in {} files", rng.range(1, 12), rng.range(1, 5)),
            ),
        };
        let thought = format!(
            "Step {}: I need to check the {} before changing anything.",
            i + 1,
            name.replace('_', " ")
        );
        messages.push(json!({"role": "assistant", "content": thought, "tool_calls": [
            {"id": id, "type": "function", "function": {"name": name, "arguments": arg.to_string()}}]}));
        messages.push(json!({"role": "tool", "tool_call_id": id, "content": result}));
    }
    messages
}

/// The request body of one event of a shape this file writes, `None` for
/// the other contents. `item` is the event's item (eval runs), task
/// (agent) or seed; `call` the call within an agent task.
pub fn body(content: Content, item: u64, call: u32, seed: u64, c: &Corpus) -> Option<Value> {
    let model = client::model(client::Provider::OpenAi);
    let mut rng = Rng::derive(seed, "heldout-shapes", item);
    Some(match content {
        Content::EvalRuns => json!({
            "model": model, "temperature": 0.0, "max_tokens": 1024,
            "messages": [{"role": "user", "content": eval_item(c, item)}],
        }),
        Content::AgentLoop => json!({
            "model": model, "temperature": 0.2, "max_tokens": 32_768,
            "messages": agent_messages(c, item, call), "tools": tools(), "tool_choice": "auto",
        }),
        Content::LogprobSweep => {
            let text = match rng.below(3) {
                0 => pick(&mut rng, &c.arena),
                1 => pick(&mut rng, &c.self_instruct),
                _ => pick(&mut rng, &c.gsm8k),
            };
            json!({
                "model": model, "temperature": 1.0, "max_tokens": 512,
                "logprobs": true, "top_logprobs": 20, "n": rng.range(4, 8),
                "messages": [{"role": "user", "content": text}],
            })
        }
        Content::Moderation => {
            let text = if rng.chance(0.5) {
                pick(&mut rng, &c.arena)
            } else {
                pick(&mut rng, &c.self_instruct)
            };
            json!({
                "model": model, "temperature": 0.0, "max_tokens": 1,
                "logprobs": true, "top_logprobs": 20,
                "messages": [
                    {"role": "system", "content": "You are a content-policy classifier. Answer with exactly one word: Yes if the message violates the policy, No otherwise."},
                    {"role": "user", "content": format!("Message:\n{text}\n\nDoes this message violate the policy?")},
                ],
            })
        }
        _ => return None,
    })
}

/// The wire request of one event of a shape this file writes (OpenAI chat
/// completions with `sdk`'s headers), `None` for the other contents.
pub fn wire(
    content: Content,
    sdk: &Sdk,
    credential: &str,
    item: u64,
    call: u32,
    seed: u64,
    c: &Corpus,
) -> Option<Wire> {
    let body = body(content, item, call, seed, c)?;
    // The headers as the SDK sends them; the body is this file's own.
    let mut wire = client::encode(sdk, credential, &client::Prompt::default());
    wire.body = body.to_string();
    Some(wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        Corpus {
            gsm8k: vec!["What is 2 + 3?".into(), "A train leaves at 3pm.".into()],
            humaneval: vec!["def f(x):".into()],
            self_instruct: vec!["Write a haiku about rain.".into()],
            arena: vec!["Hello there".into()],
            mt_bench: vec![vec!["Compose a travel blog post.".into(), "Rewrite it.".into()]],
            ..Corpus::default()
        }
    }

    #[test]
    fn eval_runs_resend_one_closed_set() {
        let c = corpus();
        assert_eq!(eval_item(&c, 3), eval_item(&c, 3 + EVAL_ITEMS));
        assert!(eval_item(&c, 0).contains("travel blog"));
        assert!(eval_item(&c, 1).contains("def f(x):"));
        assert!(eval_item(&c, 2).contains("Let's think step by step"));
    }

    #[test]
    fn agent_conversation_grows_with_tool_results() {
        let c = corpus();
        let first = body(Content::AgentLoop, 7, 0, 1, &c).unwrap();
        let later = body(Content::AgentLoop, 7, 3, 1, &c).unwrap();
        let msgs = |v: &Value| v["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(msgs(&first).len(), 2);
        assert_eq!(msgs(&later).len(), 8);
        assert_eq!(msgs(&first)[..2], msgs(&later)[..2], "the same task, grown");
        assert!(msgs(&later).iter().any(|m| m["role"] == "tool"));
        assert!(later["tools"].as_array().is_some_and(|t| !t.is_empty()));
    }

    #[test]
    fn sweep_asks_for_the_most_logprobs_and_samples() {
        let c = corpus();
        for item in 0..20 {
            let b = body(Content::LogprobSweep, item, 0, 5, &c).unwrap();
            assert_eq!(b["top_logprobs"], 20);
            let n = b["n"].as_u64().unwrap();
            assert!((4..=8).contains(&n), "{n}");
        }
        let m = body(Content::Moderation, 1, 0, 5, &c).unwrap();
        assert_eq!(
            (m["max_tokens"].as_u64(), m["top_logprobs"].as_u64()),
            (Some(1), Some(20))
        );
        assert!(body(Content::Tutor, 1, 0, 5, &c).is_none());
    }
}
