//! The inspected prefix of a request body, built chunk by chunk as the
//! body arrives: the glue feeds each chunk Envoy hands it, the replay feeds
//! the whole body at once, and both get the same prefix (the compactor's
//! output does not depend on where chunks split, and the raw bound is
//! applied per byte).
//!
//! Two bounds:
//! - `cap` (`body.max_inspect_bytes`) counts *compacted* bytes
//!   ([`super::compact`]): padding a body with whitespace or a base64 blob
//!   does not use up the cap;
//! - `raw_limit` (`body.max_buffer_bytes`) counts *raw* bytes read. Envoy
//!   holds every raw byte while the filter pauses the body (watermark flow
//!   control), and stops reading from the client once it holds more than
//!   its per-connection buffer limit; a filter still waiting then would
//!   wait forever. So the prefix is done when either bound is reached.
//!
//! A `gzip` or `deflate` body is decompressed on the way in
//! ([`super::inflate`]), at most [`MAX_INFLATE_FACTOR`] × the raw bound; any
//! other `content-encoding` cannot be read, and the prefix is done at once.

use super::compact::Compactor;
use super::inflate::{Coding, Inflater};
use super::plain_strings::PlainStrings;

/// Decompressed bytes read at most, as a multiple of the raw bound: a zip
/// bomb of whitespace ends here as a cut-off body.
pub const MAX_INFLATE_FACTOR: usize = 4;

#[derive(Clone, Debug)]
pub struct BodyPrefix {
    cap: usize,
    raw_limit: usize,
    compactor: Compactor,
    kept: Vec<u8>,
    /// Raw bytes that arrived, read or not.
    raw_seen: usize,
    /// Raw bytes read (handed to `push`).
    raw_read: usize,
    /// Raw bytes the compactor consumed.
    raw_consumed: usize,
    /// The compactor had a byte to keep and no room left (or the
    /// inflater stopped: bound, corrupt data).
    full: bool,
    inflater: Option<Inflater>,
    /// A `content-encoding` this filter cannot decode.
    unsupported: bool,
}

impl BodyPrefix {
    /// `coding`: the request's `content-encoding`.
    pub fn new(cap: usize, raw_limit: usize, coding: Coding) -> BodyPrefix {
        let max_out = raw_limit.saturating_mul(MAX_INFLATE_FACTOR);
        let inflater = match coding {
            Coding::Gzip => Some(Inflater::new(true, max_out)),
            Coding::Deflate => Some(Inflater::new(false, max_out)),
            Coding::Identity | Coding::Unsupported => None,
        };
        BodyPrefix {
            inflater,
            unsupported: coding == Coding::Unsupported,
            cap,
            raw_limit,
            compactor: Compactor::new(),
            kept: Vec::new(),
            raw_seen: 0,
            raw_read: 0,
            raw_consumed: 0,
            full: false,
        }
    }

    /// A prefix of the whole `body` (the replay, and tests).
    pub fn of(body: &[u8], cap: usize, raw_limit: usize, coding: Coding) -> BodyPrefix {
        let mut p = BodyPrefix::new(cap, raw_limit, coding);
        let n = p.wants(body.len());
        p.push(body.len(), body.get(..n).unwrap_or(body));
        p
    }

    /// How many bytes of a chunk of `len` newly arrived bytes to read.
    pub fn wants(&self, len: usize) -> usize {
        if self.done() {
            0
        } else {
            len.min(self.raw_limit.saturating_sub(self.raw_read))
        }
    }

    /// A chunk of `arrived` bytes came in, of which `bytes` (its start, at
    /// most `wants(arrived)`) were read.
    pub fn push(&mut self, arrived: usize, bytes: &[u8]) {
        self.arrived(arrived);
        self.feed(bytes);
    }

    /// `n` more raw bytes arrived (read or not).
    pub fn arrived(&mut self, n: usize) {
        self.raw_seen = self.raw_seen.saturating_add(n);
    }

    /// The next bytes of what arrived, in order; a chunk may be fed in
    /// several pieces (the glue reads it a slice at a time and stops once
    /// `done()`, so a large read is not copied past what is inspected).
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.done() {
            return;
        }
        let room = self.raw_limit.saturating_sub(self.raw_read);
        let bytes = bytes.get(..room).unwrap_or(bytes);
        self.raw_read = self.raw_read.saturating_add(bytes.len());
        let (consumed, stopped) = match &mut self.inflater {
            None => {
                let consumed = self.compactor.feed(bytes, &mut self.kept, self.cap);
                (consumed, consumed < bytes.len())
            }
            Some(inflater) => {
                let (compactor, kept, cap) = (&mut self.compactor, &mut self.kept, self.cap);
                let fed = inflater.feed(bytes, &mut |piece| compactor.feed(piece, kept, cap) == piece.len());
                (fed.consumed, fed.stopped)
            }
        };
        self.raw_consumed = self.raw_consumed.saturating_add(consumed);
        self.full |= stopped;
    }

    /// Stop holding the body: the cap or the raw bound is reached, or the
    /// body cannot be decoded anyway.
    pub fn done(&self) -> bool {
        self.full || self.raw_read >= self.raw_limit || self.unsupported
    }

    /// The body's `content-encoding` could not be decoded: unsupported, the
    /// compressed data was corrupt, or the whole body arrived and its
    /// compressed stream did not end (cut short).
    pub fn undecodable(&self, end_of_stream: bool) -> bool {
        let all_read = end_of_stream && !self.full && self.raw_consumed == self.raw_seen;
        self.unsupported
            || self
                .inflater
                .as_ref()
                .is_some_and(|i| i.failed() || (all_read && !i.at_end()))
    }

    /// Raw bytes that arrived so far, read or not.
    pub fn raw_seen(&self) -> usize {
        self.raw_seen
    }

    /// The compacted prefix.
    pub fn bytes(&self) -> &[u8] {
        &self.kept
    }

    /// Where the prefix's long plain strings are (for the JSON reader).
    pub fn plain_strings(&self) -> &PlainStrings {
        self.compactor.plain_strings()
    }

    /// The prefix is the whole body: the stream ended and every byte that
    /// arrived went through the compactor.
    pub fn complete(&self, end_of_stream: bool) -> bool {
        end_of_stream
            && !self.full
            && !self.unsupported
            && self.raw_consumed == self.raw_seen
            && self.inflater.as_ref().is_none_or(Inflater::at_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn chunked(body: &[u8], sizes: usize, cap: usize, raw_limit: usize) -> BodyPrefix {
        let mut p = BodyPrefix::new(cap, raw_limit, Coding::Identity);
        for chunk in body.chunks(sizes) {
            let n = p.wants(chunk.len());
            p.push(chunk.len(), &chunk[..n]);
        }
        p
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn chunking_does_not_change_the_prefix() {
        let mut body = b"{".to_vec();
        body.extend(std::iter::repeat_n(b' ', 5000));
        body.extend_from_slice(b"\"messages\": [ {\"content\": \"hello there\"} ] }");
        for (cap, raw) in [(1024, 1 << 20), (20, 1 << 20), (1024, 3000), (1024, body.len())] {
            let whole = BodyPrefix::of(&body, cap, raw, Coding::Identity);
            for size in [1, 7, 100, 4096, body.len()] {
                let p = chunked(&body, size, cap, raw);
                assert_eq!(p.bytes(), whole.bytes(), "cap {cap} raw {raw} chunks {size}");
                assert_eq!(p.complete(true), whole.complete(true));
                assert_eq!(p.done(), whole.done());
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_gzip_body_gives_the_same_prefix_in_any_chunking() {
        use miniz_oxide::deflate::compress_to_vec;
        let mut text = b"{".to_vec();
        text.extend(std::iter::repeat_n(b' ', 50_000));
        text.extend_from_slice(b"\"messages\": [ {\"content\": \"hello there\"} ] }");
        let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        gz.extend(compress_to_vec(&text, 6));
        gz.extend([0; 8]);
        let plain = BodyPrefix::of(&text, 1024, 1 << 20, Coding::Identity);
        for size in [1, 5, 999, gz.len()] {
            let mut p = BodyPrefix::new(1024, 1 << 20, Coding::Gzip);
            for chunk in gz.chunks(size) {
                let n = p.wants(chunk.len());
                p.push(chunk.len(), &chunk[..n]);
            }
            assert_eq!(p.bytes(), plain.bytes(), "chunks of {size}");
            assert!(p.complete(true) && !p.undecodable(true));
        }
        // Cut short: not complete, and undecodable once the stream ended.
        let cut = BodyPrefix::of(&gz[..gz.len() / 2], 1024, 1 << 20, Coding::Gzip);
        assert!(!cut.complete(true) && cut.undecodable(true));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn padding_does_not_use_the_cap() {
        let mut body = b"{".to_vec();
        body.extend(std::iter::repeat_n(b'\n', 10_000));
        body.extend_from_slice(b"\"a\":1}");
        let p = BodyPrefix::of(&body, 1024, 1 << 20, Coding::Identity);
        assert_eq!(p.bytes(), b"{\"a\":1}");
        assert!(p.complete(true) && !p.done());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_raw_bound_ends_holding_even_on_pure_padding() {
        let body = vec![b' '; 10_000];
        let p = chunked(&body, 1000, 1024, 4096);
        assert!(p.done());
        assert!(!p.complete(true));
        assert_eq!(p.raw_seen, 10_000);
        assert!(p.bytes().is_empty());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_body_past_the_cap_is_not_complete() {
        let body = format!("{{\"a\":\"{}\"}}", "x y ".repeat(1000));
        let p = BodyPrefix::of(body.as_bytes(), 1024, 1 << 20, Coding::Identity);
        assert_eq!(p.bytes().len(), 1024);
        assert!(p.done() && !p.complete(true));
        let p = BodyPrefix::of(body.as_bytes(), 8192, 1 << 20, Coding::Identity);
        assert!(p.complete(true) && !p.complete(false));
    }
}
