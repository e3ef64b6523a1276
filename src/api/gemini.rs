//! Gemini `generateContent` / `streamGenerateContent` bodies (Google AI and
//! Vertex AI). The model comes from the path, not the body.
//!
//! `contents[]` holds `{role, parts[]}` with role `user`, `model` or
//! `function` (a missing role is the user, as in single-turn calls). Parts:
//! `text` (parts marked `thought` are the model's own reasoning, skipped);
//! `inlineData` / `fileData` count as images when their MIME type is an
//! image or unstated; `functionCall` / `functionResponse` are tool parts.
//! Proto JSON accepts snake_case field names too, so both are read.

use crate::json::{Map, Value};

use super::extract::{
    boolean, bump, either, float, int, lower, required_array, turns_latest_first, uint, view, Budget,
};
use super::{Api, Endpoint, ParseFailure, RequestView, Role, Turn};

pub fn generate(api: Api, root: &Map, budget: &mut Budget) -> Result<RequestView, ParseFailure> {
    let contents = required_array(root, "contents")?;
    let mut v = view(api, None);
    let mut system = Turn::default();
    match either(root, "systemInstruction", "system_instruction") {
        Some(Value::String(s)) => budget.push(&mut system.text, s),
        Some(Value::Object(o)) => parts_into(&mut system, o, budget),
        _ => {}
    }
    v.system = system.text;
    v.turns = turns_latest_first(contents, budget, |c, budget| {
        let c = c.as_object()?;
        let role = match c.get("role").and_then(Value::as_str) {
            None | Some("user") => Role::User,
            Some("model") => Role::Assistant,
            Some("function" | "tool") => Role::Tool,
            Some(_) => Role::Other,
        };
        let mut t = Turn {
            role: Some(role),
            ..Turn::default()
        };
        parts_into(&mut t, c, budget);
        Some(t)
    });
    let p = &mut v.params;
    p.stream = api.endpoint == Endpoint::StreamGenerateContent;
    p.tools = root
        .get("tools")
        .and_then(Value::as_array)
        .map_or(0, |tools| tools_count(tools));
    if let Some(g) = either(root, "generationConfig", "generation_config").and_then(Value::as_object) {
        p.max_output_tokens = uint(either(g, "maxOutputTokens", "max_output_tokens"));
        p.temperature = float(g.get("temperature"));
        p.samples = uint(either(g, "candidateCount", "candidate_count"));
        p.top_logprobs = uint(g.get("logprobs"));
        p.logprobs = boolean(either(g, "responseLogprobs", "response_logprobs"));
        p.seed = int(g.get("seed"));
        if let Some(t) = either(g, "thinkingConfig", "thinking_config").and_then(Value::as_object) {
            // -1 ("dynamic": the model decides) is not a budget.
            p.thinking_budget = uint(either(t, "thinkingBudget", "thinking_budget"));
            p.reasoning_effort = lower(either(t, "thinkingLevel", "thinking_level"));
        }
    }
    Ok(v)
}

/// Function declarations count one each; other tools (search, code
/// execution) one per tool entry.
fn tools_count(tools: &[Value]) -> u32 {
    let mut n = 0u32;
    for tool in tools.iter().filter_map(Value::as_object) {
        let decls = either(tool, "functionDeclarations", "function_declarations").and_then(Value::as_array);
        let k = decls.map_or(1, |d| u32::try_from(d.len()).unwrap_or(u32::MAX));
        bump(&mut n, k);
    }
    n
}

fn parts_into(t: &mut Turn, content: &Map, budget: &mut Budget) {
    let Some(parts) = content.get("parts").and_then(Value::as_array) else {
        return;
    };
    for part in parts.iter().filter_map(Value::as_object) {
        if let Some(text) = part.get("text") {
            if !boolean(part.get("thought")) {
                budget.push_value(&mut t.text, Some(text));
            }
        } else if let Some(data) =
            either(part, "inlineData", "inline_data").or_else(|| either(part, "fileData", "file_data"))
        {
            let mime = data
                .as_object()
                .and_then(|d| either(d, "mimeType", "mime_type"))
                .and_then(Value::as_str);
            if mime.is_none_or(|m| m.starts_with("image/")) {
                bump(&mut t.image_parts, 1);
            }
        } else if ["functionCall", "function_call", "functionResponse", "function_response"]
            .iter()
            .any(|k| part.contains_key(k))
        {
            bump(&mut t.tool_parts, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::extract::MAX_VIEW_TEXT;
    use crate::api::Provider;
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn run(endpoint: Endpoint, v: Value) -> Result<RequestView, ParseFailure> {
        let api = Api {
            provider: Provider::Gemini,
            endpoint,
        };
        generate(api, v.as_object().unwrap(), &mut Budget::new(MAX_VIEW_TEXT))
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn contents_parts_and_generation_config() {
        let v = run(Endpoint::StreamGenerateContent, json!({
            "systemInstruction": {"parts": [{"text": "You are a cat."}]},
            "contents": [
                {"role": "user", "parts": [
                    {"text": "What is in"}, {"text": "this picture?"},
                    {"inlineData": {"mimeType": "image/jpeg", "data": "AAAA"}},
                    {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/f.pdf"}}]},
                {"role": "model", "parts": [{"text": "pondering", "thought": true}, {"functionCall": {"name": "f", "args": {}}}]},
                {"role": "function", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}
            ],
            "tools": [{"functionDeclarations": [{"name": "f"}, {"name": "g"}]}, {"googleSearch": {}}],
            "generationConfig": {"maxOutputTokens": "8192", "temperature": 0.9, "candidateCount": 4,
                "responseLogprobs": true, "logprobs": 5, "seed": 11,
                "thinkingConfig": {"thinkingBudget": 24576}}
        })).unwrap();
        assert_eq!(v.model, None);
        assert_eq!(v.system, "You are a cat.");
        assert_eq!(v.last_user_text(), "What is in\nthis picture?");
        assert_eq!(v.turns[0].image_parts, 1);
        assert_eq!(
            (v.turns[1].role, v.turns[1].text.as_str(), v.turns[1].tool_parts),
            (Some(Role::Assistant), "", 1)
        );
        assert_eq!((v.turns[2].role, v.turns[2].tool_parts), (Some(Role::Tool), 1));
        let p = &v.params;
        assert!(p.stream && p.logprobs);
        assert_eq!(
            (p.max_output_tokens, p.samples, p.top_logprobs, p.seed),
            (Some(8192), Some(4), Some(5), Some(11))
        );
        assert_eq!((p.tools, p.thinking_budget, p.temperature), (3, Some(24576), Some(0.9)));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn snake_case_and_roleless_contents() {
        let v = run(
            Endpoint::GenerateContent,
            json!({
                "system_instruction": {"parts": [{"text": "S"}]},
                "contents": [{"parts": [{"text": "Hi"}, {"inline_data": {"mime_type": "image/png", "data": ""}}]}],
                "generation_config": {"max_output_tokens": 64, "response_logprobs": false,
                    "thinking_config": {"thinking_budget": -1, "thinking_level": "LOW"}}
            }),
        )
        .unwrap();
        assert_eq!((v.system.as_str(), v.last_user_text()), ("S", "Hi"));
        assert_eq!(v.turns[0].image_parts, 1);
        assert!(!v.params.stream && !v.params.logprobs);
        assert_eq!((v.params.max_output_tokens, v.params.thinking_budget), (Some(64), None));
        assert_eq!(v.params.reasoning_effort.as_deref(), Some("low"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn missing_contents_is_the_wrong_shape() {
        assert_eq!(
            run(Endpoint::GenerateContent, json!({"prompt": "x"})),
            Err(ParseFailure::WrongShape)
        );
    }
}
