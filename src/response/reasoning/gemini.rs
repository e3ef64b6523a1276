//! Gemini `generateContent` and `streamGenerateContent`. Reasoning is a
//! part with `"thought": true` in a candidate's `content.parts` (thought
//! summaries, when the caller set `includeThoughts`). Every stream event is
//! a whole `GenerateContentResponse`, and the stream without `alt=sse` is a
//! JSON array of them; both are handled by the same removal.
//!
//! `thoughtSignature` on other parts stays: it is an opaque, encrypted
//! token that a caller must send back for function calling to go on, not
//! readable reasoning.

use crate::json::Value;

use super::retain_in;

fn is_thought(part: &Value) -> bool {
    part.get("thought").and_then(Value::as_bool) == Some(true)
}

/// A response, or an array of them: thought parts removed from every
/// candidate. A candidate left with no parts keeps an empty `parts` list.
pub fn strip(doc: &mut Value) -> bool {
    if let Some(items) = doc.as_array_mut() {
        return items.iter_mut().fold(false, |removed, item| strip(item) | removed);
    }
    let Some(candidates) = doc.get_mut("candidates").and_then(Value::as_array_mut) else {
        return false;
    };
    let mut removed = false;
    for candidate in candidates {
        if let Some(content) = candidate.get_mut("content") {
            removed |= retain_in(content, "parts", is_thought);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn thought_parts_leave_every_candidate() {
        let mut doc = json!({"candidates": [
            {"content": {"role": "model", "parts": [
                {"text": "**Working it out**", "thought": true},
                {"text": "4", "thoughtSignature": "CiQB"}]}, "finishReason": "STOP", "index": 0},
            {"content": {"role": "model", "parts": [{"text": "hm", "thought": true}]}, "index": 1}
        ], "usageMetadata": {"candidatesTokenCount": 1, "thoughtsTokenCount": 30}});
        assert!(strip(&mut doc));
        assert_eq!(
            doc["candidates"][0]["content"]["parts"],
            json!([{"text": "4", "thoughtSignature": "CiQB"}])
        );
        assert_eq!(doc["candidates"][1]["content"]["parts"], json!([]));
        assert_eq!(doc["usageMetadata"]["thoughtsTokenCount"], 30);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_json_array_stream_is_stripped_element_by_element() {
        let mut doc = json!([
            {"candidates": [{"content": {"parts": [{"text": "t", "thought": true}]}}]},
            {"candidates": [{"content": {"parts": [{"text": "4"}]}}]}
        ]);
        assert!(strip(&mut doc));
        assert_eq!(doc[0]["candidates"][0]["content"]["parts"], json!([]));
        assert_eq!(doc[1]["candidates"][0]["content"]["parts"], json!([{"text": "4"}]));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn answers_without_thoughts_are_left_alone() {
        let mut doc = json!({"candidates": [{"content": {"parts": [{"text": "4", "thought": false}]}}]});
        let before = doc.clone();
        assert!(!strip(&mut doc));
        assert_eq!(doc, before);
        assert!(!strip(&mut json!({"promptFeedback": {"blockReason": "SAFETY"}})));
    }
}
