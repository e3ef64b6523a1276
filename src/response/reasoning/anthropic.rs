//! Anthropic Messages. Reasoning is a content block of type `thinking`
//! (with its `signature`) or `redacted_thinking` (encrypted). A stream
//! opens each block with `content_block_start` and an `index`, streams it
//! with `content_block_delta` (`thinking_delta`, `signature_delta` for a
//! thinking block) and closes it with `content_block_stop`; the SDKs
//! append each started block to a list and address deltas by `index`, so
//! the blocks left are renumbered to stay contiguous.

use crate::json::Value;

use super::renumber::Renumber;
use super::{retain_in, str_field, Fate};

const THINKING_BLOCKS: [&str; 2] = ["thinking", "redacted_thinking"];
const THINKING_DELTAS: [&str; 2] = ["thinking_delta", "signature_delta"];

fn of_type(v: &Value, types: &[&str]) -> bool {
    str_field(v, "type").is_some_and(|t| types.contains(&t))
}

/// A message (the whole non-streamed answer, or `message_start`'s):
/// thinking blocks removed from `content`.
pub fn strip_message(doc: &mut Value) -> bool {
    retain_in(doc, "content", |block| of_type(block, &THINKING_BLOCKS))
}

/// One Messages stream.
#[derive(Clone, Debug, Default)]
pub struct MessagesStream {
    /// Content blocks removed, by their upstream `index`.
    blocks: Renumber,
}

impl MessagesStream {
    pub fn event(&mut self, ev: &mut Value) -> Fate {
        let index = ev.get("index").and_then(Value::as_u64);
        match str_field(ev, "type").unwrap_or("") {
            "message_start" => super::changed(ev.get_mut("message").is_some_and(strip_message)),
            "content_block_start" if ev.get("content_block").is_some_and(|b| of_type(b, &THINKING_BLOCKS)) => {
                if let Some(index) = index {
                    self.blocks.remove(index);
                }
                Fate::Drop
            }
            // Recognised by its own type too, should its start have gone
            // unremembered.
            "content_block_delta" if ev.get("delta").is_some_and(|d| of_type(d, &THINKING_DELTAS)) => Fate::Drop,
            _ => match index {
                Some(i) if self.blocks.is_removed(i) => Fate::Drop,
                Some(i) => {
                    let position = self.blocks.position(i);
                    if position == i {
                        return Fate::Keep;
                    }
                    ev.set("index", Value::from(position));
                    Fate::Rewrite
                }
                None => Fate::Keep,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn thinking_and_redacted_blocks_leave_the_message() {
        let mut doc = json!({"id": "msg_1", "type": "message", "role": "assistant", "content": [
            {"type": "thinking", "thinking": "Let me work it out", "signature": "EqQB"},
            {"type": "redacted_thinking", "data": "EmwKAhgB"},
            {"type": "text", "text": "4"},
            {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {}}
        ], "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 40}});
        assert!(strip_message(&mut doc));
        assert_eq!(
            doc["content"],
            json!([{"type": "text", "text": "4"}, {"type": "tool_use", "id": "toolu_1", "name": "calc", "input": {}}])
        );
        assert!(!strip_message(&mut doc));
    }

    fn stream() -> Vec<Value> {
        vec![
            json!({"type": "message_start", "message": {"id": "msg_1", "content": [], "usage": {"output_tokens": 1}}}),
            json!({"type": "content_block_start", "index": 0,
                   "content_block": {"type": "thinking", "thinking": "", "signature": ""}}),
            json!({"type": "content_block_delta", "index": 0,
                   "delta": {"type": "thinking_delta", "thinking": "Let me"}}),
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "Eq"}}),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "ping"}),
            json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "4"}}),
            json!({"type": "content_block_stop", "index": 1}),
            json!({"type": "content_block_start", "index": 2, "content_block": {"type": "redacted_thinking", "data": "x"}}),
            json!({"type": "content_block_stop", "index": 2}),
            json!({"type": "content_block_start", "index": 3,
                   "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}}),
            json!({"type": "content_block_delta", "index": 3,
                   "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
            json!({"type": "content_block_stop", "index": 3}),
            json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 50}}),
            json!({"type": "message_stop"}),
        ]
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_stream_loses_its_thinking_blocks_and_renumbers_the_rest() {
        let mut state = MessagesStream::default();
        let kept: Vec<Value> = stream()
            .into_iter()
            .filter_map(|mut ev| (state.event(&mut ev) != Fate::Drop).then_some(ev))
            .collect();
        let shape: Vec<(String, Option<u64>)> = kept
            .iter()
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e["index"].as_u64()))
            .collect();
        let expect = [
            ("message_start", None),
            ("ping", None),
            ("content_block_start", Some(0)),
            ("content_block_delta", Some(0)),
            ("content_block_stop", Some(0)),
            ("content_block_start", Some(1)),
            ("content_block_delta", Some(1)),
            ("content_block_stop", Some(1)),
            ("message_delta", None),
            ("message_stop", None),
        ];
        let expect: Vec<(String, Option<u64>)> = expect.iter().map(|(t, i)| ((*t).to_owned(), *i)).collect();
        assert_eq!(shape, expect);
        assert_eq!(kept[2]["content_block"]["type"], "text");
        assert_eq!(kept[5]["content_block"]["type"], "tool_use");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_stream_without_thinking_is_kept_as_sent() {
        let mut state = MessagesStream::default();
        for mut ev in stream().into_iter().skip(6).take(3) {
            ev["index"] = json!(0);
            assert_eq!(state.event(&mut ev), Fate::Keep);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_thinking_delta_is_dropped_even_without_its_start() {
        let mut state = MessagesStream::default();
        let mut ev =
            json!({"type": "content_block_delta", "index": 9, "delta": {"type": "thinking_delta", "thinking": "x"}});
        assert_eq!(state.event(&mut ev), Fate::Drop);
    }
}
