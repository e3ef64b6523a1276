//! OpenAI Responses. Reasoning is an output item of type `reasoning` (its
//! `summary` parts, and `encrypted_content` when the caller asked for it).
//! A stream announces every item with `response.output_item.added` and an
//! `output_index`, streams its parts (`response.reasoning_summary_*`,
//! `response.reasoning_text.*` for a reasoning item), closes it with
//! `response.output_item.done`, and numbers every event with
//! `sequence_number`; `response.created`, `.in_progress`, `.completed`
//! (and `.incomplete`, `.failed`) carry the whole response object so far.

use crate::json::Value;

use super::renumber::Renumber;
use super::{retain_in, str_field, Fate};

fn is_reasoning_item(item: &Value) -> bool {
    str_field(item, "type") == Some("reasoning")
}

/// A response object (the whole non-streamed answer, or the `response` of
/// a stream event): reasoning items removed from `output`.
pub fn strip_response(doc: &mut Value) -> bool {
    retain_in(doc, "output", is_reasoning_item)
}

/// One Responses stream.
#[derive(Clone, Debug, Default)]
pub struct ResponsesStream {
    /// Output items removed, by their upstream `output_index`.
    items: Renumber,
    /// Events dropped so far: later `sequence_number`s move down by this.
    dropped: u64,
}

impl ResponsesStream {
    pub fn event(&mut self, ev: &mut Value) -> Fate {
        let fate = self.judge(ev);
        if fate == Fate::Drop {
            self.dropped = self.dropped.saturating_add(1);
        }
        fate
    }

    fn judge(&mut self, ev: &mut Value) -> Fate {
        let ty = str_field(ev, "type").unwrap_or("");
        let index = ev.get("output_index").and_then(Value::as_u64);
        let item_event = matches!(ty, "response.output_item.added" | "response.output_item.done");
        if ty.starts_with("response.reasoning") || (item_event && ev.get("item").is_some_and(is_reasoning_item)) {
            if let Some(index) = index {
                self.items.remove(index);
            }
            return Fate::Drop;
        }
        if index.is_some_and(|i| self.items.is_removed(i)) {
            return Fate::Drop;
        }
        let mut changed = ev.get_mut("response").is_some_and(strip_response);
        if let Some(index) = index {
            let position = self.items.position(index);
            if position != index {
                ev.set("output_index", Value::from(position));
                changed = true;
            }
        }
        if self.dropped > 0 {
            if let Some(seq) = ev.get("sequence_number").and_then(Value::as_u64) {
                ev.set("sequence_number", Value::from(seq.saturating_sub(self.dropped)));
                changed = true;
            }
        }
        super::changed(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn reasoning_item() -> Value {
        json!({"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "thinking"}],
               "encrypted_content": "gAAAA"})
    }

    fn message_item() -> Value {
        json!({"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
               "content": [{"type": "output_text", "text": "4", "annotations": []}]})
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn reasoning_items_leave_the_output() {
        let mut doc = json!({"object": "response", "status": "completed",
            "output": [reasoning_item(), message_item()],
            "usage": {"output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 28}}});
        assert!(strip_response(&mut doc));
        assert_eq!(doc["output"], json!([message_item()]));
        assert_eq!(doc["usage"]["output_tokens_details"]["reasoning_tokens"], 28);
        assert!(!strip_response(&mut doc));
    }

    /// The event sequence of a reasoning model with a summary, as the API
    /// streams it.
    fn stream() -> Vec<Value> {
        let mut events = vec![
            json!({"type": "response.created", "sequence_number": 0, "response": {"output": []}}),
            json!({"type": "response.in_progress", "sequence_number": 1, "response": {"output": []}}),
            json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
                   "item": {"type": "reasoning", "id": "rs_1", "summary": []}}),
            json!({"type": "response.reasoning_summary_part.added", "sequence_number": 3, "output_index": 0,
                   "item_id": "rs_1", "summary_index": 0, "part": {"type": "summary_text", "text": ""}}),
            json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 4, "output_index": 0,
                   "item_id": "rs_1", "summary_index": 0, "delta": "thinking"}),
            json!({"type": "response.reasoning_summary_text.done", "sequence_number": 5, "output_index": 0,
                   "item_id": "rs_1", "summary_index": 0, "text": "thinking"}),
            json!({"type": "response.reasoning_summary_part.done", "sequence_number": 6, "output_index": 0,
                   "item_id": "rs_1", "summary_index": 0, "part": {"type": "summary_text", "text": "thinking"}}),
            json!({"type": "response.output_item.done", "sequence_number": 7, "output_index": 0,
                   "item": reasoning_item()}),
            json!({"type": "response.output_item.added", "sequence_number": 8, "output_index": 1,
                   "item": {"type": "message", "id": "msg_1", "content": []}}),
            json!({"type": "response.content_part.added", "sequence_number": 9, "output_index": 1,
                   "item_id": "msg_1", "content_index": 0, "part": {"type": "output_text", "text": ""}}),
            json!({"type": "response.output_text.delta", "sequence_number": 10, "output_index": 1,
                   "item_id": "msg_1", "content_index": 0, "delta": "4"}),
            json!({"type": "response.output_item.done", "sequence_number": 11, "output_index": 1,
                   "item": message_item()}),
        ];
        events.push(json!({"type": "response.completed", "sequence_number": 12,
            "response": {"output": [reasoning_item(), message_item()]}}));
        events
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_stream_loses_its_reasoning_and_stays_contiguous() {
        let mut state = ResponsesStream::default();
        let mut kept = Vec::new();
        for mut ev in stream() {
            match state.event(&mut ev) {
                Fate::Drop => {}
                Fate::Keep | Fate::Rewrite => kept.push(ev),
            }
        }
        let types: Vec<&str> = kept.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_item.done",
                "response.completed"
            ]
        );
        let seqs: Vec<u64> = kept.iter().map(|e| e["sequence_number"].as_u64().unwrap()).collect();
        assert_eq!(seqs, [0, 1, 2, 3, 4, 5, 6]);
        for e in &kept[2..6] {
            assert_eq!(e["output_index"], 0, "{e}");
        }
        assert_eq!(kept[6]["response"]["output"], json!([message_item()]));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_stream_without_reasoning_is_kept_as_sent() {
        let mut state = ResponsesStream::default();
        for mut ev in stream().into_iter().skip(8) {
            if ev["type"] == "response.completed" {
                ev["response"]["output"] = json!([message_item()]);
            }
            let before = ev.clone();
            assert_eq!(state.event(&mut ev), Fate::Keep);
            assert_eq!(ev, before);
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn reasoning_text_events_of_open_weight_models_are_dropped() {
        let mut state = ResponsesStream::default();
        let mut ev = json!({"type": "response.reasoning_text.delta", "sequence_number": 3, "output_index": 0,
            "item_id": "rs", "content_index": 0, "delta": "x"});
        assert_eq!(state.event(&mut ev), Fate::Drop);
    }
}
