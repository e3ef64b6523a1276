//! Reasoning withheld from tagged callers.
//!
//! A distiller wants the model's reasoning more than its answers; an
//! operator who sets `"response": {"reasoning": "strip"}` removes it from
//! the answers to requests the filter tags, and never touches any other
//! answer. What is removed, per wire format:
//!
//! - OpenAI Chat Completions (also Azure and OpenAI-compatible servers):
//!   `reasoning_content`, `reasoning` and `reasoning_details` of each
//!   choice's `message` (JSON) or `delta` (stream); a stream chunk that
//!   carried nothing else is dropped (`chat`). Servers without a reasoning
//!   parser (open-weight models) put it in `content` as an opening
//!   `<think>…</think>` block: removed too, in JSON and across stream
//!   chunks (`think`).
//! - OpenAI Responses: output items of type `reasoning` (summaries and
//!   encrypted content with them); in a stream every `response.reasoning*`
//!   event and every event of a removed item is dropped, the remaining
//!   `output_index` and `sequence_number` are renumbered so they stay
//!   contiguous (`responses`).
//! - Anthropic Messages: `thinking` and `redacted_thinking` content blocks;
//!   in a stream their `content_block_start/delta/stop` are dropped and the
//!   remaining blocks' `index` renumbered (`anthropic`).
//! - Gemini: parts with `"thought": true` (`gemini`).
//!
//! Usage figures (`reasoning_tokens`, `thoughtsTokenCount`, …) stay: they
//! are counts, not content, and clients use them for billing.
//!
//! Files: `renumber` (positions of the items left once some are removed),
//! `chat`, `responses`, `anthropic`, `gemini` (one wire format each: a JSON
//! document or one stream event in, changed in place), `event` (one SSE
//! event, copied with new data), `stream` (an SSE stream as chunks arrive,
//! framed by `response::sse`: one incomplete event held at most, bounded),
//! `body` (a whole JSON answer, bounded), `answer` (which of the two an
//! answer is, from its headers).

pub mod answer;
mod anthropic;
pub mod body;
mod chat;
pub mod event;
mod gemini;
pub mod renumber;
mod responses;
pub mod stream;
mod think;

use crate::json::Value;

use crate::api::{Api, Endpoint};
use crate::config::Mode;
use crate::verdict::{Action, Verdict};

pub use answer::{plan, whole, Counted, Plan, Skip};
pub use body::{JsonAnswer, JsonOutcome};
pub use stream::StreamStripper;

/// The reason code of an allowlisted caller (see `engine::decide`).
const ALLOWLISTED: &str = "allowlisted";

/// Whether the answer to a request with this verdict has its reasoning
/// removed: only when configured, only in enforce mode (shadow mode never
/// changes what a client receives: the request's tag and the counters say
/// what enforce mode would withhold), only for a request forwarded with the
/// action `tag`, never for an allowlisted caller (the allowlist wins over
/// everything).
pub fn applies(strip: bool, mode: Mode, verdict: &Verdict) -> bool {
    strip && mode == Mode::Enforce && verdict.action == Action::Tag && !verdict.reasons.contains(&ALLOWLISTED)
}

/// The wire format of an API's answers, as far as reasoning goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Chat,
    Responses,
    Messages,
    Gemini,
}

impl Format {
    /// `None`: answers of this API carry no reasoning (legacy completions).
    pub fn of(api: Api) -> Option<Format> {
        match api.endpoint {
            Endpoint::ChatCompletions => Some(Format::Chat),
            Endpoint::Responses => Some(Format::Responses),
            Endpoint::Messages => Some(Format::Messages),
            Endpoint::GenerateContent | Endpoint::StreamGenerateContent => Some(Format::Gemini),
            Endpoint::Completions => None,
        }
    }
}

/// What becomes of one JSON document or stream event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Unchanged: forward the original bytes.
    Keep,
    /// Reasoning was removed from it in place: forward the new value.
    Rewrite,
    /// It carried reasoning only: forward nothing.
    Drop,
}

/// Removes reasoning from a whole (non-streamed) answer in place; true if
/// anything was removed.
pub fn strip_document(format: Format, doc: &mut Value) -> bool {
    match format {
        Format::Chat => chat::strip_completion(doc),
        Format::Responses => responses::strip_response(doc),
        Format::Messages => anthropic::strip_message(doc),
        Format::Gemini => gemini::strip(doc),
    }
}

/// Per-stream state of the formats whose events refer to each other.
#[derive(Clone, Debug)]
enum StreamState {
    Chat(chat::ChatStream),
    Responses(responses::ResponsesStream),
    Messages(anthropic::MessagesStream),
    Gemini,
}

impl StreamState {
    fn new(format: Format) -> StreamState {
        match format {
            Format::Chat => StreamState::Chat(chat::ChatStream::default()),
            Format::Responses => StreamState::Responses(responses::ResponsesStream::default()),
            Format::Messages => StreamState::Messages(anthropic::MessagesStream::default()),
            Format::Gemini => StreamState::Gemini,
        }
    }

    /// One stream event's JSON data.
    fn event(&mut self, data: &mut Value) -> Fate {
        match self {
            StreamState::Chat(s) => s.chunk(data),
            StreamState::Responses(s) => s.event(data),
            StreamState::Messages(s) => s.event(data),
            StreamState::Gemini => changed(gemini::strip(data)),
        }
    }
}

fn changed(removed: bool) -> Fate {
    if removed {
        Fate::Rewrite
    } else {
        Fate::Keep
    }
}

/// An object's string field.
fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Removes the elements of `v[key]` (an array) that match; true if any.
fn retain_in(v: &mut Value, key: &str, remove: impl Fn(&Value) -> bool) -> bool {
    let Some(items) = v.get_mut(key).and_then(Value::as_array_mut) else {
        return false;
    };
    let before = items.len();
    items.retain(|item| !remove(item));
    items.len() != before
}

#[cfg(test)]
mod tests;
