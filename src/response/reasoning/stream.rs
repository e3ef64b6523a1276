//! An SSE stream with reasoning removed, chunk by chunk, as it arrives.
//!
//! Framing is `response::sse::SseSplitter`'s: every complete event in a
//! chunk is judged and forwarded at once (kept as sent, rewritten, or
//! dropped); only the incomplete event at the end of a chunk is held until
//! its end arrives, so nothing waits on anything but its own bytes. Memory
//! per stream: that one event, at most `max_event` bytes, plus the removed
//! positions of `renumber` (bounded).
//!
//! Rules where a stream is not what it should be (each one withholds
//! rather than leaks):
//! - An event of `max_event` bytes or more is dropped whole, whatever it
//!   holds (counted in [`StreamStripper::oversize`]): it cannot be judged
//!   without holding it, and holding more is unbounded.
//! - Data that is not JSON (`[DONE]`, a keep-alive) and events without data
//!   (comments, `retry`) pass as sent.
//! - At the end of the stream, an unterminated last event is judged like
//!   any other if its data reads as JSON (or is `[DONE]`); otherwise it is
//!   dropped, since it may be a reasoning event cut short.

use crate::json::Value;

use super::{event, Fate, Format, StreamState};
use crate::response::sse::{self, Event, Piece, SseSplitter};

#[derive(Debug)]
pub struct StreamStripper {
    state: StreamState,
    splitter: SseSplitter,
    /// Events dropped or rewritten (reasoning removed, or renumbered after
    /// a removal): non-zero once anything was withheld.
    pub withheld: u64,
    /// Events dropped for their length.
    pub oversize: u64,
}

impl StreamStripper {
    pub fn new(format: Format, max_event: usize) -> StreamStripper {
        StreamStripper {
            state: StreamState::new(format),
            splitter: SseSplitter::new(max_event),
            withheld: 0,
            oversize: 0,
        }
    }

    /// Bytes held back now (the incomplete event).
    pub fn held(&self) -> usize {
        self.splitter.held()
    }

    /// One chunk as it arrived; what to forward now is appended to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let StreamStripper {
            state,
            splitter,
            withheld,
            ..
        } = self;
        splitter.feed(chunk, &mut |piece| match piece {
            Piece::Event(ev) => forward(state, ev, false, withheld, out),
            // Never held, never forwarded.
            Piece::Overlong(_) => {}
        });
        self.oversize = self.splitter.overlong();
    }

    /// The stream ended: what is left to forward is appended to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let tail = self.splitter.finish();
        if !tail.is_empty() {
            forward(&mut self.state, &sse::parse(tail), true, &mut self.withheld, out);
        }
    }
}

/// One event, judged; what of it goes on is appended to `out`.
fn forward(state: &mut StreamState, ev: &Event, last: bool, withheld: &mut u64, out: &mut Vec<u8>) {
    // A cut last event that cannot be read might be reasoning: withheld.
    let unread = || last && !ev.raw.iter().all(u8::is_ascii_whitespace) && ev.data.trim() != "[DONE]";
    if !ev.has_data() {
        if !unread() {
            out.extend_from_slice(&ev.raw);
        }
        return;
    }
    let Some(mut value) = Value::parse(ev.data.as_bytes()) else {
        if !unread() {
            out.extend_from_slice(&ev.raw);
        }
        return;
    };
    match state.event(&mut value) {
        Fate::Keep => out.extend_from_slice(&ev.raw),
        Fate::Drop => *withheld += 1,
        Fate::Rewrite => {
            *withheld += 1;
            out.extend_from_slice(&event::with_data(&ev.raw, &value.to_json()));
        }
    }
}
