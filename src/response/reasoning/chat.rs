//! OpenAI Chat Completions, and the servers that speak it with reasoning:
//! DeepSeek and vLLM (`reasoning_content`), OpenRouter and others
//! (`reasoning`, `reasoning_details`). Reasoning sits beside `content` in
//! each choice's `message` (JSON) or `delta` (stream chunk). Servers
//! without a reasoning parser put it in `content` instead, as an opening
//! `<think>` block (`think`).

use crate::json::{Map, Value};

use super::think::{self, InlineThink};
use super::Fate;

/// Choices of one stream whose inline reasoning is followed (`n` is at most
/// 128 in OpenAI's API); a choice past it passes as it came.
const MAX_CHOICES: usize = 128;

/// Fields of a message or delta that carry reasoning.
const FIELDS: [&str; 3] = ["reasoning_content", "reasoning", "reasoning_details"];

/// Removes the reasoning fields that hold something (a `null` one tells
/// nothing and is left as sent); true if any.
fn strip_fields(obj: &mut Map) -> bool {
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
    let mut removed = strip_choices(doc, "message");
    let Some(choices) = doc.get_mut("choices").and_then(Value::as_array_mut) else {
        return removed;
    };
    for message in choices.iter_mut().filter_map(|c| c.get_mut("message")) {
        let Some(content) = message.get_mut("content") else {
            continue;
        };
        if let Some(stripped) = content.as_str().and_then(think::strip_text) {
            *content = Value::String(stripped);
            removed = true;
        }
    }
    removed
}

/// A chat stream: one chunk at a time, each choice's inline reasoning
/// followed across chunks.
#[derive(Clone, Debug, Default)]
pub struct ChatStream {
    choices: Vec<(u64, InlineThink)>,
}

impl ChatStream {
    /// One `chat.completion.chunk`. A chunk whose only payload was
    /// reasoning (what is left of every delta is empty, no `finish_reason`,
    /// no `logprobs`, no `usage`) is dropped; one that also carried
    /// anything else is kept without the reasoning.
    pub fn chunk(&mut self, doc: &mut Value) -> Fate {
        let mut removed = strip_choices(doc, "delta");
        if let Some(choices) = doc.get_mut("choices").and_then(Value::as_array_mut) {
            for choice in choices {
                removed |= self.inline(choice);
            }
        }
        if !removed {
            Fate::Keep
        } else if carries_nothing(doc) {
            Fate::Drop
        } else {
            Fate::Rewrite
        }
    }

    /// One choice of a chunk: its delta's text through the choice's
    /// `InlineThink`; true if the text changed.
    fn inline(&mut self, choice: &mut Value) -> bool {
        let index = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
        let finished = choice.get("finish_reason").is_some_and(|f| !f.is_null());
        let Some(delta) = choice.get_mut("delta").and_then(Value::as_object_mut) else {
            return false;
        };
        let state = match self.choices.iter().position(|(i, _)| *i == index) {
            Some(at) => self.choices.get_mut(at).map(|(_, s)| s),
            None if self.choices.len() < MAX_CHOICES => {
                self.choices.push((index, InlineThink::default()));
                self.choices.last_mut().map(|(_, s)| s)
            }
            None => None,
        };
        let Some(state) = state else {
            return false;
        };
        let sent = delta.get("content").and_then(Value::as_str).map(str::to_string);
        let mut out = sent.as_deref().map(|text| state.delta(text)).unwrap_or_default();
        if finished {
            out.push_str(&state.finish());
        }
        if sent.as_deref().unwrap_or("") == out {
            return false;
        }
        delta.insert("content".to_string(), Value::String(out));
        true
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
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn strip_chunk(doc: &mut Value) -> Fate {
        ChatStream::default().chunk(doc)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn an_inline_think_block_is_removed_from_a_message() {
        let mut doc = json!({"choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "<think>17*3 = 51</think>\n\n51"}}]});
        assert!(strip_completion(&mut doc));
        assert_eq!(doc["choices"][0]["message"]["content"], "51");
        let mut plain = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "a <think> b"}}]});
        assert!(!strip_completion(&mut plain));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn inline_think_chunks_are_dropped_per_choice_and_the_answer_kept() {
        let mut s = ChatStream::default();
        let chunk = |i: u64, text: &str, finish: Option<&str>| {
            json!({"object": "chat.completion.chunk",
                   "choices": [{"index": i, "delta": {"content": text}, "finish_reason": finish}]})
        };
        let mut fates = Vec::new();
        let mut answer = [String::new(), String::new()];
        for (i, text, finish) in [
            (0, "<thi", None),
            (1, "<", None),
            (0, "nk>so", None),
            (1, "b>bold", None),
            (0, "me</th", None),
            (0, "ink>\n", None),
            (0, "42", Some("stop")),
            (1, "", Some("stop")),
        ] {
            let mut c = chunk(i, text, finish);
            let fate = s.chunk(&mut c);
            fates.push(fate);
            if fate != Fate::Drop {
                if let Some(t) = c["choices"][0]["delta"]["content"].as_str() {
                    answer[i as usize].push_str(t);
                }
            }
        }
        assert_eq!(answer, ["42".to_string(), "<b>bold".to_string()]);
        assert_eq!(fates[0], Fate::Drop);
        assert_eq!(fates[3], Fate::Rewrite);
    }

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
