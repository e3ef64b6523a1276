//! Anthropic Messages bodies (`POST …/v1/messages`).
//!
//! `system` is a string or an array of text blocks. Each message's `content`
//! is a string or blocks: `text`; `image` (and `document`, which may hold a
//! scanned page, is not counted as an image); `tool_use`, `server_tool_use`
//! and `mcp_tool_use` are tool parts; `tool_result` (and the server
//! `*_tool_result` blocks) are tool parts whose text and images count too.
//! `thinking` blocks are the model's own earlier reasoning and are skipped.

use crate::json::{Map, Value};

use super::extract::{
    boolean, bump, content_with, count, float, required_array, role, turns_latest_first, uint, view, Budget,
};
use super::{Api, ParseFailure, RequestView, Turn};

pub fn messages(api: Api, root: &Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
    let messages = required_array(root, "messages")?;
    let mut v = view(api, root.get("model"));
    let mut system = Turn::default();
    content_into(&mut system, root.get("system"), budget);
    v.system = system.text;
    v.turns = turns_latest_first(messages, budget, |m, budget| {
        let mut t = Turn {
            role: role(m.get("role")),
            ..Turn::default()
        };
        content_into(&mut t, m.get("content"), budget);
        Some(t)
    });
    let p = &mut v.params;
    p.max_output_tokens = uint(root.get("max_tokens"));
    p.temperature = float(root.get("temperature"));
    p.stream = boolean(root.get("stream"));
    p.tools = count(root.get("tools"));
    let thinking = root.get("thinking");
    if thinking.and_then(|t| t.get("type")).and_then(Value::as_str) != Some("disabled") {
        p.thinking_budget = uint(thinking.and_then(|t| t.get("budget_tokens")));
    }
    Ok(v)
}

fn content_into(t: &mut Turn, content: Option<&Value>, budget: &mut Budget) {
    content_with(t, content, budget, block_into);
}

fn block_into(t: &mut Turn, block: &Value, budget: &mut Budget) {
    let Some(kind) = block.get("type").and_then(Value::as_str) else {
        return;
    };
    match kind {
        "text" => budget.push_value(&mut t.text, block.get("text")),
        "image" => bump(&mut t.image_parts, 1),
        k if k.ends_with("tool_use") => bump(&mut t.tool_parts, 1),
        k if k.ends_with("tool_result") => {
            bump(&mut t.tool_parts, 1);
            content_with(t, block.get("content"), budget, result_block_into);
        }
        _ => {}
    }
}

/// Blocks inside a `tool_result`: text and images only, one level deep as
/// the API allows, so this does not recurse.
fn result_block_into(t: &mut Turn, block: &Value, budget: &mut Budget) {
    match block.get("type").and_then(Value::as_str) {
        Some("text") => budget.push_value(&mut t.text, block.get("text")),
        Some("image") => bump(&mut t.image_parts, 1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::MAX_VIEW_TEXT;
    use crate::api::{Endpoint, Provider, Role};
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    const API: Api = Api {
        provider: Provider::Anthropic,
        endpoint: Endpoint::Messages,
    };

    fn run(v: Value) -> Result<RequestView, ParseFailure> {
        messages(API, v.as_object().unwrap(), &mut Budget::new(MAX_VIEW_TEXT))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn blocks_tools_and_thinking() {
        let v = run(json!({
        "model": "claude-sonnet-4-5", "max_tokens": 16000, "stream": true,
        "system": [{"type": "text", "text": "You are a tutor."}, {"type": "text", "text": "Be kind."}],
        "thinking": {"type": "enabled", "budget_tokens": 10000},
        "tools": [{"name": "calc"}],
        "messages": [
            {"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
                {"type": "text", "text": "Solve this."}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "secret", "signature": "s"},
                {"type": "tool_use", "id": "t1", "name": "calc", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": "4"}]},
                {"type": "text", "text": "Now explain."}]}
        ]}))
        .unwrap();
        assert_eq!(v.system, "You are a tutor.\nBe kind.");
        assert_eq!(v.turns.len(), 3);
        assert_eq!((v.turns[0].image_parts, v.turns[0].text.as_str()), (1, "Solve this."));
        assert_eq!(
            (v.turns[1].role, v.turns[1].tool_parts, v.turns[1].text.as_str()),
            (Some(Role::Assistant), 1, "")
        );
        assert_eq!(v.last_user_text(), "4\nNow explain.");
        assert_eq!(v.turns[2].tool_parts, 1);
        let p = &v.params;
        assert_eq!(
            (p.max_output_tokens, p.thinking_budget, p.tools),
            (Some(16000), Some(10000), 1)
        );
        assert!(p.stream);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn string_system_and_content() {
        let v = run(json!({"model": "claude-3-haiku", "system": "Terse.", "max_tokens": 5,
            "thinking": {"type": "disabled", "budget_tokens": 2048},
            "messages": [{"role": "user", "content": "Hello"}]}))
        .unwrap();
        assert_eq!((v.system.as_str(), v.last_user_text()), ("Terse.", "Hello"));
        assert_eq!(v.params.thinking_budget, None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn missing_messages_is_the_wrong_shape() {
        assert_eq!(run(json!({"model": "m", "prompt": "x"})), Err(ParseFailure::WrongShape));
    }
}
