//! OpenAI Responses bodies (`POST …/v1/responses`, Azure `…/openai/responses`).
//!
//! `input` is a string (one user turn) or an array of items: messages (with
//! or without `"type": "message"`), whose `content` is a string or parts;
//! tool calls and their outputs (`function_call`, `function_call_output`,
//! `*_call`, `*_call_output`), each a turn with one tool part; `reasoning`
//! items are the model's own and skipped. `instructions` and
//! `system`/`developer` items form the system text. A request may carry only
//! a stored `prompt` template or a `previous_response_id`, so a missing
//! `input` is no error then.

use crate::json::{Map, Value};

use super::extract::{boolean, bump, count, float, lower, role, turns_latest_first, uint, view, Budget};
use super::openai::content_into;
use super::{Api, ParseFailure, RequestView, Role, Turn};

pub fn responses(api: Api, root: &Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
    let mut v = view(api, root.get("model"));
    budget.push_value(&mut v.system, root.get("instructions"));
    let input = root.get("input");
    match input {
        Some(Value::String(s)) => {
            let mut t = Turn {
                role: Some(Role::User),
                ..Turn::default()
            };
            budget.push(&mut t.text, s);
            v.turns.push(t);
        }
        Some(Value::Array(items)) => {
            for item in items
                .iter()
                .filter(|i| is_message(i) && role(i.get("role")) == Some(Role::System))
            {
                let mut t = Turn::default();
                content_into(&mut t, item.get("content"), budget);
                budget.push(&mut v.system, &t.text);
            }
            v.turns = turns_latest_first(items, budget, item_turn);
        }
        None if ["prompt", "previous_response_id", "conversation"]
            .iter()
            .any(|k| root.contains_key(k)) => {}
        _ => return Err(ParseFailure::WrongShape),
    }
    let p = &mut v.params;
    p.max_output_tokens = uint(root.get("max_output_tokens"));
    p.temperature = float(root.get("temperature"));
    p.top_logprobs = uint(root.get("top_logprobs"));
    // Token log-probabilities come back only when `include` asks for them.
    let includes = root.get("include").and_then(Value::as_array);
    let asks = |s: &str| super::bytescan::find_bytes(s.as_bytes(), b"logprobs").is_some();
    p.logprobs = includes.is_some_and(|a| a.iter().any(|i| i.as_str().is_some_and(asks)))
        || p.top_logprobs.is_some_and(|n| n > 0);
    p.stream = boolean(root.get("stream"));
    p.tools = count(root.get("tools"));
    p.reasoning_effort = lower(root.get("reasoning").and_then(|r| r.get("effort")));
    Ok(v)
}

fn is_message(item: &Value) -> bool {
    match item.get("type").and_then(Value::as_str) {
        Some(t) => t == "message",
        None => item.get("role").is_some(),
    }
}

fn item_turn(item: &Value, budget: &mut Budget) -> Option<Turn> {
    if is_message(item) {
        let r = role(item.get("role"));
        if r == Some(Role::System) {
            return None;
        }
        let mut t = Turn {
            role: r,
            ..Turn::default()
        };
        content_into(&mut t, item.get("content"), budget);
        return Some(t);
    }
    let kind = item.get("type").and_then(Value::as_str)?;
    if kind.ends_with("_call_output") {
        let mut t = Turn {
            role: Some(Role::Tool),
            tool_parts: 1,
            ..Turn::default()
        };
        content_into(&mut t, item.get("output"), budget);
        Some(t)
    } else if kind.ends_with("_call") {
        Some(Turn {
            role: Some(Role::Assistant),
            tool_parts: 1,
            ..Turn::default()
        })
    } else if kind == "item_reference" {
        // A reference to a stored item: a tool part we cannot see into.
        let mut t = Turn::default();
        bump(&mut t.tool_parts, 1);
        Some(t)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::MAX_VIEW_TEXT;
    use crate::api::{Endpoint, Provider};
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    const API: Api = Api {
        provider: Provider::OpenAi,
        endpoint: Endpoint::Responses,
    };

    fn run(v: Value) -> Result<RequestView, ParseFailure> {
        responses(API, v.as_object().unwrap(), &mut Budget::new(MAX_VIEW_TEXT))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn string_input_and_instructions() {
        let v = run(
            json!({"model": "o4-mini", "instructions": "Talk like a pirate.", "input": "Are semicolons optional?",
            "max_output_tokens": 2048, "reasoning": {"effort": "High"}, "stream": true}),
        )
        .unwrap();
        assert_eq!(v.system, "Talk like a pirate.");
        assert_eq!(v.last_user_text(), "Are semicolons optional?");
        assert_eq!(v.params.max_output_tokens, Some(2048));
        assert_eq!(v.params.reasoning_effort.as_deref(), Some("high"));
        assert!(v.params.stream && !v.params.logprobs);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn item_arrays_with_parts_and_tool_calls() {
        let v = run(json!({"input": [
            {"role": "developer", "content": "Only JSON."},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Describe"},
                {"type": "input_image", "image_url": "https://x/y.png"}]},
            {"type": "reasoning", "summary": []},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c", "output": "sunny"},
            {"role": "assistant", "content": [{"type": "output_text", "text": "It is sunny."}]}
        ], "include": ["message.output_text.logprobs"], "top_logprobs": 3, "tools": [{"type": "web_search"}]}))
        .unwrap();
        assert_eq!(v.system, "Only JSON.");
        let roles: Vec<_> = v.turns.iter().map(|t| t.role).collect();
        assert_eq!(
            roles,
            [
                Some(Role::User),
                Some(Role::Assistant),
                Some(Role::Tool),
                Some(Role::Assistant)
            ]
        );
        assert_eq!(v.turns[0].image_parts, 1);
        assert_eq!(v.turns[1].tool_parts + v.turns[2].tool_parts, 2);
        assert_eq!(v.turns[2].text, "sunny");
        assert_eq!(v.last_user_text(), "Describe");
        assert!(v.params.logprobs);
        assert_eq!((v.params.top_logprobs, v.params.tools), (Some(3), 1));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn stored_prompts_need_no_input_but_bad_input_is_wrong() {
        assert!(run(json!({"prompt": {"id": "pmpt_1"}})).is_ok());
        assert!(run(json!({"previous_response_id": "resp_1"})).is_ok());
        assert_eq!(run(json!({"model": "m"})), Err(ParseFailure::WrongShape));
        assert_eq!(run(json!({"input": 5})), Err(ParseFailure::WrongShape));
    }
}
