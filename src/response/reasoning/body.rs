//! A whole JSON answer with reasoning removed. Removing a field from JSON
//! needs the document, so the answer is collected (up to `max` bytes) and
//! judged at its end.
//!
//! Rules: an answer that is not JSON (an HTML error page, a body cut off)
//! goes on exactly as it came; one with no reasoning goes on exactly as it
//! came (the original bytes, not a re-serialisation); one with reasoning
//! is re-serialised without it (`crate::json`'s writer: object keys sorted,
//! which no JSON reader minds, floats as they came); one longer
//! than `max` is [`JsonOutcome::Oversize`]: the caller withholds it whole
//! (the glue answers an error in the API's format instead), since it could
//! not be read and forwarding it would hand the reasoning over.

use crate::json::Value;

use super::{strip_document, Format};

#[derive(Clone, Debug)]
pub struct JsonAnswer {
    format: Format,
    max: usize,
    buf: Vec<u8>,
    over: bool,
}

/// What a collected answer becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JsonOutcome {
    /// Forward these bytes: the answer as it came.
    Unchanged(Vec<u8>),
    /// Forward these bytes: the answer without its reasoning.
    Withheld(Vec<u8>),
    /// Not JSON: forward these bytes, the answer as it came.
    Unreadable(Vec<u8>),
    /// Longer than the bound: nothing of it may be forwarded.
    Oversize,
}

impl JsonAnswer {
    pub fn new(format: Format, max: usize) -> JsonAnswer {
        JsonAnswer {
            format,
            max,
            buf: Vec::new(),
            over: false,
        }
    }

    /// One chunk of the answer. Past `max` nothing more is kept.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.over {
            return;
        }
        if self.buf.len().saturating_add(chunk.len()) > self.max {
            self.over = true;
            self.buf = Vec::new();
        } else {
            self.buf.extend_from_slice(chunk);
        }
    }

    pub fn oversize(&self) -> bool {
        self.over
    }

    /// The answer ended.
    pub fn finish(&mut self) -> JsonOutcome {
        if self.over {
            return JsonOutcome::Oversize;
        }
        let raw = std::mem::take(&mut self.buf);
        let Some(mut doc) = Value::parse(&raw) else {
            return JsonOutcome::Unreadable(raw);
        };
        if !strip_document(self.format, &mut doc) {
            return JsonOutcome::Unchanged(raw);
        }
        // The writer the error bodies also use: the module carries one.
        JsonOutcome::Withheld(doc.to_json().into_bytes())
    }
}
