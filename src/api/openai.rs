//! OpenAI Chat Completions and legacy Completions bodies (also Azure's
//! deployment paths, which take the same bodies).
//!
//! Chat: `messages[]` with `content` as a string or an array of parts
//! (`text`, `image_url`; the Responses names `input_text`, `input_image` are
//! accepted too since gateways mix them); `system` and `developer` messages
//! form the system text. Legacy: `prompt` as a string, an array of strings
//! (one user turn each) or token arrays (a turn without text).

use crate::json::{Map, Value};

use super::extract::{
    boolean, bump, content_with, count, float, int, lower, role, turns_latest_first, uint, view, Budget, MAX_TURNS,
};
use super::{Api, GenParams, ParseFailure, RequestView, Role, Turn};

/// `POST …/chat/completions`. The tree is the view's to take from: a
/// user or assistant turn whose `content` is one string that fits the
/// budget whole takes that string, not a copy of it (a long prompt's text
/// was copied from the body into the tree, then again into the view).
pub fn chat(api: Api, root: &mut Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
    let mut v = view(api, root.get("model"));
    chat_params(root, &mut v.params);
    let messages = root
        .get_mut("messages")
        .and_then(Value::as_array_mut)
        .ok_or(ParseFailure::WrongShape)?;
    // Every system and developer message is read into one turn, so each
    // part is charged to the budget once and joined with "\n" as parts are.
    // (Reading each message into a turn of its own and pushing that into
    // the system text charged it twice, leaving the user turns half the
    // budget when a large `max_inspect_bytes` lets system text reach it.)
    let mut system = Turn::default();
    for m in messages.iter() {
        if role(m.get("role")) == Some(Role::System) {
            content_into(&mut system, m.get("content"), budget);
        }
    }
    v.system = system.text;
    // Latest first, as `turns_latest_first` reads them.
    let mut turns = Vec::new();
    for m in messages.iter_mut().rev() {
        if turns.len() >= MAX_TURNS {
            budget.exhausted = true;
            break;
        }
        let r = role(m.get("role"));
        if r == Some(Role::System) {
            continue;
        }
        let mut t = Turn {
            role: r,
            ..Turn::default()
        };
        bump(&mut t.tool_parts, count(m.get("tool_calls")));
        if m.get("function_call").is_some_and(Value::is_object) || r == Some(Role::Tool) {
            bump(&mut t.tool_parts, 1);
        }
        match m.get_mut("content") {
            Some(Value::String(s)) => budget.take(&mut t.text, s),
            content => content_into(&mut t, content.map(|c| &*c), budget),
        }
        turns.push(t);
    }
    turns.reverse();
    v.turns = turns;
    Ok(v)
}

/// A chat body's generation parameters.
fn chat_params(root: &Map, p: &mut GenParams) {
    p.max_output_tokens = uint(root.get("max_completion_tokens")).or(uint(root.get("max_tokens")));
    p.temperature = float(root.get("temperature"));
    p.samples = uint(root.get("n"));
    p.logprobs = boolean(root.get("logprobs"));
    p.top_logprobs = uint(root.get("top_logprobs"));
    p.seed = int(root.get("seed"));
    p.stream = boolean(root.get("stream"));
    p.tools = count(root.get("tools")).saturating_add(count(root.get("functions")));
    p.reasoning_effort = lower(root.get("reasoning_effort"));
}

/// `POST …/completions` (legacy).
pub fn completions(api: Api, root: &Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
    let mut v = view(api, root.get("model"));
    let one;
    let prompts: &[Value] = match root.get("prompt") {
        Some(s @ Value::String(_)) => std::slice::from_ref(s),
        // A flat token array is one prompt; an array of strings or of token
        // arrays is a batch of prompts.
        Some(Value::Array(a)) if a.first().is_some_and(Value::is_number) => {
            one = Value::Null;
            std::slice::from_ref(&one)
        }
        Some(Value::Array(a)) => a,
        _ => return Err(ParseFailure::WrongShape),
    };
    v.turns = turns_latest_first(prompts, budget, |p, budget| {
        let mut t = Turn {
            role: Some(Role::User),
            ..Turn::default()
        };
        budget.push_value(&mut t.text, Some(p));
        Some(t)
    });
    let p = &mut v.params;
    p.max_output_tokens = uint(root.get("max_tokens"));
    p.temperature = float(root.get("temperature"));
    p.samples = uint(root.get("n"));
    // Legacy `logprobs` is the number of top alternatives to return.
    p.top_logprobs = uint(root.get("logprobs"));
    p.logprobs = p.top_logprobs.is_some();
    p.seed = int(root.get("seed"));
    p.stream = boolean(root.get("stream"));
    Ok(v)
}

/// Adds the text and part counts of an OpenAI `content` (string or parts).
pub fn content_into(t: &mut Turn, content: Option<&Value>, budget: &mut Budget) {
    content_with(t, content, budget, part_into);
}

fn part_into(t: &mut Turn, part: &Value, budget: &mut Budget) {
    match part.get("type").and_then(Value::as_str) {
        Some("text" | "input_text" | "output_text") => budget.push_value(&mut t.text, part.get("text")),
        Some("image_url" | "input_image" | "image") => bump(&mut t.image_parts, 1),
        _ if part.is_string() => budget.push_value(&mut t.text, Some(part)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::MAX_VIEW_TEXT;
    use crate::api::{Endpoint, Provider};
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    const CHAT: Api = Api {
        provider: Provider::OpenAi,
        endpoint: Endpoint::ChatCompletions,
    };
    const LEGACY: Api = Api {
        provider: Provider::OpenAi,
        endpoint: Endpoint::Completions,
    };

    type Parser = fn(Api, &mut Map, &mut Budget) -> Result<RequestView, ParseFailure>;

    fn run(f: Parser, api: Api, mut v: Value) -> Result<RequestView, ParseFailure> {
        f(api, v.as_object_mut().unwrap(), &mut Budget::new(MAX_VIEW_TEXT))
    }

    /// [`completions`] as a [`Parser`].
    fn legacy(api: Api, root: &mut Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
        completions(api, root, budget)
    }

    /// What [`chat`] replaced: the tree only read, every text copied.
    fn chat_copying(api: Api, root: &Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
        let messages = super::super::extract::required_array(root, "messages")?;
        let mut v = view(api, root.get("model"));
        let mut system = Turn::default();
        for m in messages {
            if role(m.get("role")) == Some(Role::System) {
                content_into(&mut system, m.get("content"), budget);
            }
        }
        v.system = system.text;
        v.turns = turns_latest_first(messages, budget, |m, budget| {
            let r = role(m.get("role"));
            if r == Some(Role::System) {
                return None;
            }
            let mut t = Turn {
                role: r,
                ..Turn::default()
            };
            content_into(&mut t, m.get("content"), budget);
            bump(&mut t.tool_parts, count(m.get("tool_calls")));
            if m.get("function_call").is_some_and(Value::is_object) || r == Some(Role::Tool) {
                bump(&mut t.tool_parts, 1);
            }
            Some(t)
        });
        chat_params(root, &mut v.params);
        Ok(v)
    }

    /// Random chat bodies (roles, string and part contents, empty texts,
    /// tool calls, more turns than [`MAX_TURNS`]) under random budgets,
    /// some cutting a text, some spent before the last turns: the taking
    /// reader gives the view and the budget's state the copying one gave.
    #[wasm_bindgen_test(unsupported = test)]
    fn taking_the_texts_gives_what_copying_gave() {
        let mut rng = crate::hash::TestDraws(31);
        let roles = ["system", "developer", "user", "assistant", "tool", "other"];
        for round in 0..400 {
            let n = if round % 50 == 0 {
                MAX_TURNS + 3
            } else {
                (rng.next_u64() % 9) as usize
            };
            let messages: Vec<Value> = (0..n)
                .map(|i| {
                    let r = rng.next_u64();
                    let text = "é".repeat((r >> 8) as usize % 3) + &"t".repeat((r >> 16) as usize % 40);
                    let content = match r % 5 {
                        0 => json!([{"type": "text", "text": text}, {"type": "image_url"}, text.clone()]),
                        1 => Value::Null,
                        _ => json!(text),
                    };
                    let mut m = json!({"role": roles[(r >> 32) as usize % roles.len()], "content": content});
                    if r >> 40 & 3 == 0 {
                        m = json!({"role": "assistant", "content": i.to_string(), "tool_calls": [{"id": "c"}]});
                    }
                    m
                })
                .collect();
            let body = json!({"model": "m", "messages": messages, "max_tokens": 9, "temperature": 0.5});
            let max = (rng.next_u64() % 300) as usize;
            let mut a = Budget::new(max);
            let want = chat_copying(CHAT, body.as_object().unwrap(), &mut a);
            let mut taken = body.clone();
            let mut b = Budget::new(max);
            let got = chat(CHAT, taken.as_object_mut().unwrap(), &mut b);
            assert_eq!(got, want, "{round} {max}");
            assert_eq!((a.exhausted, a.left()), (b.exhausted, b.left()), "{round} {max}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn chat_roles_parts_and_params() {
        let v = run(
            chat,
            CHAT,
            json!({
                "model": "gpt-4o",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "developer", "content": [{"type": "text", "text": "Use <thinking> tags."}]},
                    {"role": "user", "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                        {"type": "text", "text": "Explain step by step."}
                    ]},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": "c1"}, {"id": "c2"}]},
                    {"role": "tool", "tool_call_id": "c1", "content": "42"}
                ],
                "max_completion_tokens": 4096, "temperature": 1.0, "n": 8,
                "logprobs": true, "top_logprobs": 5, "seed": -7, "stream": true,
                "tools": [{}, {}, {}], "reasoning_effort": "HIGH"
            }),
        )
        .unwrap();
        assert_eq!(v.model.as_deref(), Some("gpt-4o"));
        assert_eq!(v.system, "Be brief.\nUse <thinking> tags.");
        assert_eq!(v.turns.len(), 3);
        assert_eq!(v.last_user_text(), "What is this?\nExplain step by step.");
        assert_eq!(v.turns[0].image_parts, 1);
        assert_eq!(v.turns[1].tool_parts, 2);
        assert_eq!(
            (v.turns[2].role, v.turns[2].tool_parts, v.turns[2].text.as_str()),
            (Some(Role::Tool), 1, "42")
        );
        let p = &v.params;
        assert_eq!(
            (p.max_output_tokens, p.samples, p.top_logprobs, p.seed),
            (Some(4096), Some(8), Some(5), Some(-7))
        );
        assert!(p.logprobs && p.stream);
        assert_eq!((p.temperature, p.tools), (Some(1.0), 3));
        assert_eq!(p.reasoning_effort.as_deref(), Some("high"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn system_text_is_charged_to_the_budget_once() {
        // 60 bytes of system text and a 20-byte question fit a 100-byte
        // budget only if the system text is counted once.
        let mut body = json!({"messages": [
            {"role": "system", "content": "s".repeat(30)},
            {"role": "developer", "content": [{"type": "text", "text": "d".repeat(29)}]},
            {"role": "user", "content": "q".repeat(20)}
        ]});
        let mut budget = Budget::new(100);
        let v = chat(CHAT, body.as_object_mut().unwrap(), &mut budget).unwrap();
        assert_eq!(v.system, format!("{}\n{}", "s".repeat(30), "d".repeat(29)));
        assert_eq!(v.last_user_text(), "q".repeat(20));
        assert!(!budget.exhausted);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn chat_takes_legacy_max_tokens_and_functions() {
        let v = run(
            chat,
            CHAT,
            json!({"messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 100, "functions": [{}], "logprobs": false}),
        )
        .unwrap();
        assert_eq!(v.params.max_output_tokens, Some(100));
        assert_eq!(v.params.tools, 1);
        assert!(!v.params.logprobs);
        assert_eq!(v.model, None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn chat_without_messages_is_the_wrong_shape() {
        assert_eq!(run(chat, CHAT, json!({"model": "m"})), Err(ParseFailure::WrongShape));
        assert_eq!(
            run(chat, CHAT, json!({"messages": "hi"})),
            Err(ParseFailure::WrongShape)
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn legacy_prompt_in_every_form() {
        let v = run(
            legacy,
            LEGACY,
            json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test",
            "max_tokens": 7, "logprobs": 3, "n": 2, "best_of": 4}),
        )
        .unwrap();
        assert_eq!(v.last_user_text(), "Say this is a test");
        assert_eq!(
            (v.params.max_output_tokens, v.params.top_logprobs, v.params.samples),
            (Some(7), Some(3), Some(2))
        );
        assert!(v.params.logprobs);
        let v = run(legacy, LEGACY, json!({"prompt": ["one", "two"]})).unwrap();
        assert_eq!(
            v.turns.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert!(!v.params.logprobs);
        let v = run(legacy, LEGACY, json!({"prompt": [1, 2, 3]})).unwrap();
        assert_eq!((v.turns.len(), v.last_user_text()), (1, ""));
        let v = run(legacy, LEGACY, json!({"prompt": [[1, 2], [3]]})).unwrap();
        assert_eq!(v.turns.len(), 2);
        assert_eq!(
            run(legacy, LEGACY, json!({"model": "m"})),
            Err(ParseFailure::WrongShape)
        );
    }
}
