//! Multi-turn continuations: a request that carries tool results and
//! continues the identity's own previous conversation, grown by a few turns
//! (an agent's tool loop: the model is called again with what the tools
//! answered). A campaign harvests one-shot prompts over fresh items; a
//! coding agent's users send the product's shared system prompt too, but
//! each of their requests is the next step of their own task.
//!
//! A conversation is known by its key: the system prompt and the first
//! user turn (24 bits of their fingerprint) and, in the low 8 bits, its
//! number of turns (at most 255). Only requests with tool results have one
//! (0: none), so a chat's follow-ups and a few-shot prompt's made-up turns
//! do not count. The identity's record keeps its last two conversations
//! (an agent may run two tasks at once), one 32-bit key in each half of a
//! word, the latest low, and the share of its requests that continued one
//! (`cadence`'s `CONVERSATION`, `OWN_CONT`).

use crate::api::{RequestView, Role};
use crate::hash::fingerprint;

/// The conversation key of a request with tool results (0 for others).
pub fn key(view: &RequestView) -> u64 {
    let tool_results = view
        .turns
        .iter()
        .any(|t| t.role == Some(Role::Tool) || (t.role == Some(Role::User) && t.tool_parts > 0));
    if !tool_results {
        return 0;
    }
    let first = view
        .turns
        .iter()
        .find(|t| t.role == Some(Role::User))
        .map_or("", |t| t.text.as_str());
    let mut text = String::with_capacity(view.system.len() + first.len() + 1);
    text.push_str(&view.system);
    text.push('\u{0}');
    text.push_str(first);
    let turns = view.turns.len().clamp(1, 0xff) as u64;
    (fingerprint(text.as_bytes()) & 0xff_ffff) << 8 | turns
}

fn grows(prev: u64, next: u64) -> bool {
    prev != 0 && next != 0 && prev >> 8 == next >> 8 && (next & 0xff > prev & 0xff || next & 0xff == 0xff)
}

/// `next` continues one of the conversations remembered in `word` (the
/// same conversation with more turns).
pub fn continues(word: u64, next: u64) -> bool {
    grows(word & 0xffff_ffff, next) || grows(word >> 32, next)
}

/// The remembered conversations after a request with key `next`: it
/// becomes the latest, replacing its own earlier state; the other one
/// stays as the second. A request without tool results changes nothing.
pub fn remember(word: u64, next: u64) -> u64 {
    if next == 0 {
        return word;
    }
    let (latest, second) = (word & 0xffff_ffff, word >> 32);
    let keep = if latest >> 8 == next >> 8 { second } else { latest };
    keep << 32 | next
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Api, Endpoint, GenParams, Provider, Turn};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn view(turns: &[(Role, &str, u32)]) -> RequestView {
        RequestView {
            api: Api {
                provider: Provider::OpenAi,
                endpoint: Endpoint::ChatCompletions,
            },
            model: None,
            system: "You are an agent.".into(),
            turns: turns
                .iter()
                .map(|(role, text, tools)| Turn {
                    role: Some(*role),
                    text: (*text).into(),
                    image_parts: 0,
                    tool_parts: *tools,
                })
                .collect(),
            params: GenParams::default(),
            truncated: false,
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_tool_loop_continues_and_one_shot_prompts_do_not() {
        let task = (Role::User, "fix the failing test", 0);
        let call = (Role::Assistant, "Step 1: read the file", 1);
        let result = (Role::Tool, "def f(x): ...", 0);
        let first = key(&view(&[task]));
        assert_eq!(first, 0, "no tool results yet");
        let second = key(&view(&[task, call, result]));
        let third = key(&view(&[task, call, result, call, result]));
        assert!(continues(remember(0, second), third));
        assert!(!continues(remember(0, third), second), "a conversation does not shrink");
        let other = key(&view(&[(Role::User, "another task", 0), call, result, call, result]));
        assert!(!continues(remember(0, second), other), "another conversation");
        // Two tasks at once, their calls interleaved.
        let mut word = remember(remember(0, second), other);
        assert!(continues(word, third));
        word = remember(word, third);
        let other_next = key(&view(&[
            (Role::User, "another task", 0),
            call,
            result,
            call,
            result,
            call,
            result,
        ]));
        assert!(continues(word, other_next));
        assert_eq!(remember(word, 0), word);
        // Follow-ups in a chat have no tool results.
        let chat = view(&[task, (Role::Assistant, "sure", 0), (Role::User, "and then?", 0)]);
        assert_eq!(key(&chat), 0);
        assert!(!continues(0, third));
    }
}
