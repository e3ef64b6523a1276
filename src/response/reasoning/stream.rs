//! An SSE stream with reasoning removed, chunk by chunk, as it arrives.
//!
//! Every complete event in a chunk is judged and forwarded at once (kept
//! as sent, rewritten, or dropped); only the incomplete event at the end
//! of a chunk is held until its end arrives, so nothing waits on anything
//! but its own bytes. Memory per stream: that one event, at most
//! `max_event` bytes, plus the removed positions of `renumber` (bounded).
//!
//! Rules where a stream is not what it should be (each one withholds
//! rather than leaks):
//! - An event longer than `max_event` is dropped whole, whatever it holds
//!   (counted in [`StreamStripper::oversize`]): it cannot be judged without
//!   holding it, and holding more is unbounded.
//! - Data that is not JSON (`[DONE]`, a keep-alive) and events without data
//!   (comments, `retry`) pass as sent.
//! - At the end of the stream, an unterminated last event is judged like
//!   any other if its data reads as JSON (or is `[DONE]`); otherwise it is
//!   dropped, since it may be a reasoning event cut short.

use serde_json::Value;

use super::{event, Fate, Format, StreamState};

#[derive(Clone, Debug)]
pub struct StreamStripper {
    state: StreamState,
    max_event: usize,
    /// The incomplete event so far.
    pending: Vec<u8>,
    /// Discarding the rest of an over-long event.
    skipping: bool,
    /// Framing across chunks: the last byte ended a line, or was a `\r`
    /// (whose `\n` may come in the next chunk).
    at_line_start: bool,
    after_cr: bool,
    /// An event ended on a `\r` at the end of the last chunk: whether it
    /// was forwarded as sent (then the `\n` that may follow is forwarded
    /// with it; otherwise it goes with the event).
    cut_crlf: Option<bool>,
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
            max_event,
            pending: Vec::new(),
            skipping: false,
            at_line_start: true,
            after_cr: false,
            cut_crlf: None,
            withheld: 0,
            oversize: 0,
        }
    }

    /// Bytes held back now (the incomplete event).
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    /// One chunk as it arrived; what to forward now is appended to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut start = 0;
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            i += 1;
            if self.after_cr && b == b'\n' {
                // The second half of a `\r\n` already counted.
                self.after_cr = false;
                if let Some(forwarded) = self.cut_crlf.take() {
                    // It ends the event of the last chunk, not this one.
                    if forwarded {
                        out.push(b'\n');
                    }
                    start = i;
                }
                continue;
            }
            self.cut_crlf = None;
            self.after_cr = b == b'\r';
            if b != b'\n' && b != b'\r' {
                self.at_line_start = false;
                continue;
            }
            if !self.at_line_start {
                self.at_line_start = true;
                continue;
            }
            // A blank line: the event ends here (with the `\n` of a `\r\n`
            // if it is in this chunk).
            if b == b'\r' && chunk.get(i) == Some(&b'\n') {
                i += 1;
                self.after_cr = false;
            }
            let part = chunk.get(start..i).unwrap_or(&[]);
            start = i;
            let forwarded = self.complete(part, out);
            if self.after_cr {
                self.cut_crlf = Some(forwarded);
            }
        }
        let rest = chunk.get(start..).unwrap_or(&[]);
        if self.skipping || rest.is_empty() {
            return;
        }
        if self.pending.len().saturating_add(rest.len()) > self.max_event {
            self.pending = Vec::new();
            self.skipping = true;
            self.oversize += 1;
        } else {
            self.pending.extend_from_slice(rest);
        }
    }

    /// The stream ended: what is left to forward is appended to `out`.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let raw = std::mem::take(&mut self.pending);
        if self.skipping || raw.is_empty() {
            return;
        }
        match self.judge(&raw, true) {
            Judged::Keep => out.extend_from_slice(&raw),
            Judged::Drop => {}
            Judged::Replace(bytes) => out.extend_from_slice(&bytes),
        }
    }

    /// The last bytes of an event (its end included) arrived; true if it
    /// was forwarded as sent.
    fn complete(&mut self, part: &[u8], out: &mut Vec<u8>) -> bool {
        if self.skipping {
            self.skipping = false;
            return false;
        }
        let whole;
        let raw = if self.pending.is_empty() {
            part
        } else {
            if self.pending.len().saturating_add(part.len()) > self.max_event {
                self.pending = Vec::new();
                self.oversize += 1;
                return false;
            }
            self.pending.extend_from_slice(part);
            whole = std::mem::take(&mut self.pending);
            &whole
        };
        if raw.len() > self.max_event {
            self.oversize += 1;
            return false;
        }
        match self.judge(raw, false) {
            Judged::Keep => {
                out.extend_from_slice(raw);
                true
            }
            Judged::Drop => false,
            Judged::Replace(bytes) => {
                out.extend_from_slice(&bytes);
                false
            }
        }
    }

    fn judge(&mut self, raw: &[u8], last: bool) -> Judged {
        let Some(data) = event::data(raw) else {
            return if last && !raw.iter().all(u8::is_ascii_whitespace) {
                Judged::Drop
            } else {
                Judged::Keep
            };
        };
        let Ok(mut value) = serde_json::from_str::<Value>(&data) else {
            return if last && data.trim() != "[DONE]" {
                Judged::Drop
            } else {
                Judged::Keep
            };
        };
        match self.state.event(&mut value) {
            Fate::Keep => Judged::Keep,
            Fate::Drop => {
                self.withheld += 1;
                Judged::Drop
            }
            Fate::Rewrite => {
                self.withheld += 1;
                Judged::Replace(event::with_data(raw, &value.to_string()))
            }
        }
    }
}

enum Judged {
    Keep,
    Drop,
    Replace(Vec<u8>),
}
