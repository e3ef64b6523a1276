//! OpenAI Chat Completions, and the servers that speak it with reasoning:
//! DeepSeek and vLLM (`reasoning_content`), OpenRouter and others
//! (`reasoning`, `reasoning_details`). Reasoning sits beside `content` in
//! each choice's `message` (JSON) or `delta` (stream chunk).

use serde_json::{Map, Value};

use super::Fate;

/// Fields of a message or delta that carry reasoning.
const FIELDS: [&str; 3] = ["reasoning_content", "reasoning", "reasoning_details"];

/// Removes the reasoning fields that hold something (a `null` one tells
/// nothing and is left as sent); true if any.
fn strip_fields(obj: &mut Map<String, Value>) -> bool {
    let mut removed = false;
    for field in FIELDS {
        if obj.get(field).is_some_and(|v| !v.is_null()) {
            obj.remove(field);
            removed = true;
        }
    }
    removed
}

/// Each choice's object under `key` (`message` or `delta`), stripped.
fn strip_choices(doc: &mut Value, key: &str) -> bool {
    let Some(choices) = doc.get_mut("choices").and_then(Value::as_array_mut) else {
        return false;
    };
    let mut removed = false;
    for choice in choices {
        if let Some(obj) = choice.get_mut(key).and_then(Value::as_object_mut) {
            removed |= strip_fields(obj);
        }
    }
    removed
}

/// A whole `chat.completion`.
pub fn strip_completion(doc: &mut Value) -> bool {
    strip_choices(doc, "message")
}

/// One `chat.completion.chunk`. A chunk whose only payload was reasoning
/// (what is left of every delta is empty, no `finish_reason`, no
/// `logprobs`, no `usage`) is dropped; one that also carried anything else
/// is kept without the reasoning.
pub fn strip_chunk(doc: &mut Value) -> Fate {
    if !strip_choices(doc, "delta") {
        return Fate::Keep;
    }
    if carries_nothing(doc) {
        Fate::Drop
    } else {
        Fate::Rewrite
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn carries_nothing(doc: &Value) -> bool {
    if doc.get("usage").is_some_and(|u| !u.is_null()) {
        return false;
    }
    let Some(choices) = doc.get("choices").and_then(Value::as_array) else {
        return false;
    };
    choices.iter().all(|choice| {
        let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
        let logprobs = choice.get("logprobs").is_some_and(|l| !l.is_null());
        let delta_empty = choice
            .get("delta")
            .and_then(Value::as_object)
            .is_none_or(|d| d.values().all(empty));
        !finished && !logprobs && delta_empty
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn deepseek_reasoner_message_loses_its_reasoning_content() {
        let mut doc = json!({
            "id": "x", "object": "chat.completion", "model": "deepseek-reasoner",
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": "4", "reasoning_content": "2+2 is 4 because"}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 20,
                "completion_tokens_details": {"reasoning_tokens": 18}}
        });
        assert!(strip_completion(&mut doc));
        assert_eq!(
            doc["choices"][0]["message"],
            json!({"role": "assistant", "content": "4"})
        );
        assert_eq!(doc["usage"]["completion_tokens_details"]["reasoning_tokens"], 18);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn openrouter_reasoning_and_details_are_removed_from_every_choice() {
        let mut doc = json!({"choices": [
            {"index": 0, "message": {"role": "assistant", "content": "a", "reasoning": "r0",
                "reasoning_details": [{"type": "reasoning.text", "text": "r0"}]}},
            {"index": 1, "message": {"role": "assistant", "content": "b", "reasoning": "r1"}}
        ]});
        assert!(strip_completion(&mut doc));
        assert_eq!(
            doc["choices"][0]["message"],
            json!({"role": "assistant", "content": "a"})
        );
        assert_eq!(
            doc["choices"][1]["message"],
            json!({"role": "assistant", "content": "b"})
        );
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_answer_without_reasoning_is_left_alone() {
        let mut doc = json!({"choices": [{"index": 0,
            "message": {"role": "assistant", "content": "hi", "reasoning_content": null}}]});
        let before = doc.clone();
        assert!(!strip_completion(&mut doc));
        assert_eq!(doc, before);
        assert!(!strip_completion(&mut json!({"choices": "nonsense"})));
        assert!(!strip_completion(&mut json!([1, 2])));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_reasoning_only_chunk_is_dropped() {
        let mut chunk = json!({"id": "x", "object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"content": null, "reasoning_content": "let me"}, "finish_reason": null,
             "logprobs": null}]});
        assert_eq!(strip_chunk(&mut chunk), Fate::Drop);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_chunk_with_anything_else_is_kept_without_reasoning() {
        let mut role = json!({"choices": [{"index": 0,
            "delta": {"role": "assistant", "content": "", "reasoning": "hmm"}, "finish_reason": null}]});
        assert_eq!(strip_chunk(&mut role), Fate::Rewrite);
        assert_eq!(role["choices"][0]["delta"], json!({"role": "assistant", "content": ""}));

        let mut last = json!({"choices": [{"index": 0, "delta": {"reasoning_content": "."},
            "finish_reason": "stop"}]});
        assert_eq!(strip_chunk(&mut last), Fate::Rewrite);

        let mut usage = json!({"choices": [{"index": 0, "delta": {"reasoning_content": "."}}],
            "usage": {"completion_tokens": 3}});
        assert_eq!(strip_chunk(&mut usage), Fate::Rewrite);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn content_chunks_pass_untouched() {
        let mut chunk = json!({"choices": [{"index": 0, "delta": {"content": "4", "reasoning_content": null}}]});
        assert_eq!(strip_chunk(&mut chunk), Fate::Keep);
        assert_eq!(
            strip_chunk(&mut json!({"choices": [], "usage": {"total_tokens": 1}})),
            Fate::Keep
        );
    }
}
