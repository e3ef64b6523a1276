//! An incremental Server-Sent Events splitter: feed the stream's chunks as
//! they arrive, get each complete event once its blank line is in, whatever
//! the chunk boundaries (an event split anywhere, even inside a `\r\n`).
//!
//! Memory is bounded per stream whatever its length: the splitter holds at
//! most one event's bytes, up to `max_event` bytes. An event longer than that
//! is not buffered: its bytes are handed on as [`Piece::Overlong`] as they
//! arrive (in order, unparsed) and it is counted in
//! [`SseSplitter::overlong`].
//!
//! ```
//! use distill_guard::response::sse::{Piece, SseSplitter};
//! let mut sse = SseSplitter::new(64 * 1024);
//! let mut datas = Vec::new();
//! for chunk in [&b"data: {\"a\""[..], b":1}\n", b"\ndata: [DONE]\n\n"] {
//!     sse.feed(chunk, &mut |piece| {
//!         if let Piece::Event(ev) = piece {
//!             datas.push(ev.data.clone());
//!         }
//!     });
//! }
//! assert_eq!(datas, ["{\"a\":1}", "[DONE]"]);
//! assert!(sse.finish().is_empty());
//! ```
//!
//! Line endings follow the SSE specification: `\n`, `\r\n` or `\r`. Every
//! byte fed comes out exactly once, in order, in the `raw` of an event, in
//! an `Overlong` piece or in what [`SseSplitter::finish`] returns, so a
//! rewriter that passes pieces on unchanged reproduces the stream byte for
//! byte.

/// One complete event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// The event's exact bytes, its terminating blank line included (for a
    /// `\r\n` stream the last `\n` may come with the next event instead).
    pub raw: Vec<u8>,
    /// The `event:` field, if any (the last one wins, as in browsers).
    pub name: Option<String>,
    /// The `data:` lines joined with `\n` (one optional space after the
    /// colon removed), lossily decoded as UTF-8.
    pub data: String,
}

impl Event {
    /// Whether the event carries any `data:` line at all.
    pub fn has_data(&self) -> bool {
        !self.data.is_empty()
    }
}

/// What the splitter hands on.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A complete event.
    Event(&'a Event),
    /// Bytes of an event longer than the bound, passed on unparsed.
    Overlong(&'a [u8]),
}

/// The splitter for one stream.
#[derive(Debug)]
pub struct SseSplitter {
    max_event: usize,
    /// The current event's bytes (empty while skipping an overlong one).
    buf: Vec<u8>,
    /// Bytes in the current line before its terminator.
    line_len: usize,
    /// The last byte was a `\r` (a `\n` right after it ends nothing).
    after_cr: bool,
    /// Inside an event that went past `max_event`: pass bytes on until its
    /// blank line.
    skipping: bool,
    events: u64,
    overlong: u64,
    bytes: u64,
}

impl SseSplitter {
    /// A splitter holding at most `max_event` bytes of one event (at least 1).
    pub fn new(max_event: usize) -> SseSplitter {
        SseSplitter {
            max_event: max_event.max(1),
            buf: Vec::new(),
            line_len: 0,
            after_cr: false,
            skipping: false,
            events: 0,
            overlong: 0,
            bytes: 0,
        }
    }

    /// Complete events seen so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Events that went past the bound (passed on unparsed, never held).
    pub fn overlong(&self) -> u64 {
        self.overlong
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Bytes held now (the incomplete event), at most `max_event`.
    pub fn held(&self) -> usize {
        self.buf.len()
    }

    /// Feeds one chunk; `out` gets every piece it completes, in order.
    pub fn feed(&mut self, chunk: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        self.bytes = self.bytes.saturating_add(chunk.len() as u64);
        // Bytes of `chunk` from `start` not yet handed on while skipping.
        let mut start = 0;
        for (i, &b) in chunk.iter().enumerate() {
            let ends_event = self.step(b);
            if self.skipping {
                if ends_event {
                    out(Piece::Overlong(chunk.get(start..=i).unwrap_or_default()));
                    start = i + 1;
                    self.skipping = false;
                }
                continue;
            }
            self.buf.push(b);
            if ends_event {
                let event = parse(std::mem::take(&mut self.buf));
                self.events += 1;
                out(Piece::Event(&event));
            } else if self.buf.len() >= self.max_event {
                // Too long to hold: hand on what is held, skip the rest.
                self.overlong += 1;
                self.skipping = true;
                out(Piece::Overlong(&self.buf));
                self.buf = Vec::new();
            }
            start = i + 1;
        }
        if self.skipping && start < chunk.len() {
            out(Piece::Overlong(chunk.get(start..).unwrap_or_default()));
        }
    }

    /// The stream ended: the bytes of an unfinished event (a truncated
    /// stream), if any, to pass on as they came.
    pub fn finish(&mut self) -> Vec<u8> {
        self.skipping = false;
        self.line_len = 0;
        self.after_cr = false;
        std::mem::take(&mut self.buf)
    }

    /// Line bookkeeping for one byte; true when it ends an event (the
    /// terminator of an empty line).
    fn step(&mut self, b: u8) -> bool {
        let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
        match b {
            b'\n' if after_cr => false,
            b'\n' | b'\r' => {
                let blank = self.line_len == 0;
                self.line_len = 0;
                blank
            }
            _ => {
                self.line_len += 1;
                false
            }
        }
    }
}

/// The fields of one event's bytes (also of a stream's unfinished tail,
/// which a rewriter must judge too).
pub fn parse(raw: Vec<u8>) -> Event {
    let mut name = None;
    let mut data = String::new();
    let mut has_data = false;
    let text = String::from_utf8_lossy(&raw);
    for line in text.split(['\n', '\r']) {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => {
                if has_data {
                    data.push('\n');
                }
                data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    Event { raw, name, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fields = Vec<(Option<String>, String)>;

    /// Every event (name, data) and every byte handed on, in order.
    fn run(chunks: &[&[u8]], max: usize) -> (Fields, Vec<u8>, SseSplitter) {
        let mut sse = SseSplitter::new(max);
        let mut events = Vec::new();
        let mut bytes = Vec::new();
        for c in chunks {
            sse.feed(c, &mut |p| match p {
                Piece::Event(e) => {
                    bytes.extend_from_slice(&e.raw);
                    events.push((e.name.clone(), e.data.clone()));
                }
                Piece::Overlong(b) => bytes.extend_from_slice(b),
            });
        }
        bytes.extend(sse.finish());
        (events, bytes, sse)
    }

    const STREAM: &[u8] = b"event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: x\ndata: y\n\nevent: e\r\ndata:no-space\r\n\r\ndata: [DONE]\n\n";

    fn expected() -> Fields {
        vec![
            (Some("message_start".into()), "{\"a\":1}".into()),
            (None, "".into()),
            (None, "x\ny".into()),
            (Some("e".into()), "no-space".into()),
            (None, "[DONE]".into()),
        ]
    }

    #[test]
    fn whole_stream_in_one_chunk() {
        // The CRLF event's final `\n` comes with the next event's bytes.
        let (events, bytes, sse) = run(&[STREAM], 1024);
        assert_eq!(events, expected());
        assert_eq!(bytes, STREAM);
        assert_eq!(sse.events(), 5);
        assert_eq!(sse.overlong(), 0);
    }

    #[test]
    fn every_split_point_and_byte_by_byte_give_the_same_events() {
        let (whole, _, _) = run(&[STREAM], 1024);
        for cut in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(cut);
            let (events, bytes, _) = run(&[a, b], 1024);
            assert_eq!(events, whole, "cut at {cut}");
            assert_eq!(bytes, STREAM);
        }
        let singles: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(run(&singles, 1024).0, whole);
    }

    #[test]
    fn bare_cr_line_endings() {
        let (events, _, _) = run(&[b"data: a\r\rdata: b\r", b"\r"], 64);
        assert_eq!(events, vec![(None, "a".into()), (None, "b".into())]);
    }

    #[test]
    fn overlong_event_is_passed_on_not_held_and_counted() {
        let big = vec![b'x'; 10_000];
        let mut stream = b"data: ".to_vec();
        stream.extend_from_slice(&big);
        stream.extend_from_slice(b"\n\ndata: after\n\n");
        let chunks: Vec<&[u8]> = stream.chunks(333).collect();
        let (events, bytes, sse) = run(&chunks, 100);
        assert_eq!(events, vec![(None, "after".into())]);
        assert_eq!(bytes, stream);
        assert_eq!(sse.overlong(), 1);
        assert!(sse.buf.capacity() <= 1024, "held {}", sse.buf.capacity());
    }

    #[test]
    fn truncated_stream_returns_its_tail() {
        let (events, bytes, _) = run(&[b"data: a\n\ndata: {\"cut"], 64);
        assert_eq!(events, vec![(None, "a".into())]);
        assert_eq!(bytes, b"data: a\n\ndata: {\"cut");
    }

    #[test]
    fn long_stream_holds_one_event_at_most() {
        let mut sse = SseSplitter::new(4096);
        let event = b"data: {\"choices\":[{\"delta\":{\"content\":\"hello\"}}]}\n\n";
        let mut n = 0;
        for _ in 0..20_000 {
            sse.feed(event, &mut |_| n += 1);
        }
        assert_eq!(n, 20_000);
        assert!(sse.buf.capacity() <= 4096);
    }
}
