//! `content-encoding: gzip` and `deflate` request bodies, decompressed as a
//! stream into the inspected prefix: an upstream that accepts compressed
//! bodies reads the prompt, so the filter must read it too, or compression
//! would make detection optional. The upstream always gets the original
//! bytes; this only feeds the inspection.
//!
//! Bounded: the caller stops feeding at its raw bound, and the inflater
//! stops producing at [`Inflater::new`]'s `max_out` (a zip bomb expands a
//! megabyte into a gigabyte; here it ends as a cut-off body). Memory: one
//! boxed decoder of about 34 KB (its 32 KiB window is also the output
//! buffer), only for compressed bodies.
//!
//! gzip: RFC 1952 members, one after another (a reader decodes them all, so
//! the filter does too); the header's optional fields are skipped, the CRC
//! is not checked (a body the upstream refuses gains an attacker nothing).
//! `deflate`: a zlib stream (RFC 1950), or raw deflate, which some clients
//! send under that name; the zlib Adler-32 is not checked either, for the
//! same reason.
//!
//! The deflate decoder is this module's own (issue 8: module size; it
//! replaced miniz_oxide, which stays the oracle of its tests): `bits` (the
//! bit stream, read in steps that complete or are retried), `huffman`
//! (canonical codes), `window` (output and history), `decoder` (the block
//! structure).

mod bits;
mod decoder;
mod huffman;
#[cfg(test)]
mod oracle_tests;
mod window;

use decoder::{Decoder, Status};

/// What `content-encoding` says about the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Deflate,
    /// Another coding (br, zstd, a list of several): not inspectable.
    Unsupported,
}

impl Coding {
    pub fn from_header(value: Option<&str>) -> Coding {
        let v = value.map(str::trim).unwrap_or("");
        if v.is_empty() || v.eq_ignore_ascii_case("identity") {
            Coding::Identity
        } else if v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip") {
            Coding::Gzip
        } else if v.eq_ignore_ascii_case("deflate") {
            Coding::Deflate
        } else {
            Coding::Unsupported
        }
    }
}

/// Longest gzip member header read (the optional name and comment fields
/// have no length limit in the format).
const MAX_GZIP_HEADER: usize = 1024;
/// gzip member trailer: CRC-32 and size.
const GZIP_TRAILER: usize = 8;
/// zlib stream trailer: Adler-32.
const ZLIB_TRAILER: usize = 4;

#[derive(Debug)]
enum Stage {
    /// gzip: collecting a member's header.
    Header(Vec<u8>),
    /// `deflate`: the first bytes decide between zlib and raw.
    Sniff(Vec<u8>),
    Body,
    /// Skipping a gzip member's or zlib stream's trailer (bytes left).
    Trailer(usize),
    /// `deflate` stream ended: anything after it is ignored.
    Ended,
    Failed,
}

pub struct Inflater {
    gzip: bool,
    /// `deflate` sniffed as zlib (it has a trailer).
    zlib: bool,
    stage: Stage,
    decoder: Box<Decoder>,
    produced: usize,
    max_out: usize,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("gzip", &self.gzip)
            .field("stage", &self.stage)
            .field("produced", &self.produced)
            .finish()
    }
}

impl Clone for Inflater {
    /// A fresh inflater of the same kind (state is not copied: cloning a
    /// prefix mid-stream is not supported and never done).
    fn clone(&self) -> Inflater {
        Inflater::new(self.gzip, self.max_out)
    }
}

/// What one `feed` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fed {
    /// Input bytes used.
    pub consumed: usize,
    /// The sink refused more, or `max_out` was reached: stop feeding.
    pub stopped: bool,
}

impl Inflater {
    /// `gzip` or `deflate`; at most `max_out` decompressed bytes.
    pub fn new(gzip: bool, max_out: usize) -> Inflater {
        Inflater {
            gzip,
            zlib: false,
            stage: if gzip {
                Stage::Header(Vec::new())
            } else {
                Stage::Sniff(Vec::new())
            },
            decoder: Box::new(Decoder::new()),
            produced: 0,
            max_out,
        }
    }

    /// The data was corrupt or not what `content-encoding` said.
    pub fn failed(&self) -> bool {
        matches!(self.stage, Stage::Failed)
    }

    /// The stream ended cleanly here: between gzip members, or after the
    /// end of a deflate stream.
    pub fn at_end(&self) -> bool {
        match &self.stage {
            Stage::Header(h) => h.is_empty() && self.produced > 0,
            Stage::Ended => true,
            _ => false,
        }
    }

    /// Decompressed bytes so far.
    pub fn produced(&self) -> usize {
        self.produced
    }

    /// Decompresses `input`, handing each piece of output to `sink`, which
    /// returns false when it wants no more.
    pub fn feed(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) -> Fed {
        let mut used = 0;
        while used < input.len() {
            let rest = input.get(used..).unwrap_or_default();
            let step = match &mut self.stage {
                Stage::Failed => {
                    return Fed {
                        consumed: used,
                        stopped: true,
                    }
                }
                Stage::Ended => rest.len(),
                Stage::Trailer(left) => {
                    let n = (*left).min(rest.len());
                    *left -= n;
                    if *left == 0 {
                        self.stage = if self.gzip {
                            Stage::Header(Vec::new())
                        } else {
                            Stage::Ended
                        };
                    }
                    n
                }
                Stage::Header(buf) => {
                    let take = rest.len().min(MAX_GZIP_HEADER.saturating_sub(buf.len()));
                    let before = buf.len();
                    buf.extend_from_slice(rest.get(..take).unwrap_or_default());
                    match gzip_header_len(buf) {
                        Header::Complete(len) => {
                            self.decoder.reset();
                            self.stage = Stage::Body;
                            len.saturating_sub(before)
                        }
                        Header::Incomplete if buf.len() < MAX_GZIP_HEADER => take,
                        _ => {
                            self.stage = Stage::Failed;
                            return Fed {
                                consumed: used,
                                stopped: true,
                            };
                        }
                    }
                }
                Stage::Sniff(buf) => {
                    let take = rest.len().min(2 - buf.len());
                    buf.extend_from_slice(rest.get(..take).unwrap_or_default());
                    if buf.len() == 2 {
                        let zlib = matches!(buf.as_slice(), [a, b] if a & 0x0f == 8 && (u16::from(*a) << 8 | u16::from(*b)) % 31 == 0);
                        let sniffed = std::mem::take(buf);
                        self.stage = Stage::Body;
                        self.zlib = zlib;
                        let stop = if zlib {
                            // RFC 1950: windows are at most 32 KiB (CINFO <=
                            // 7), and a stream that needs a preset
                            // dictionary (FDICT) cannot be read: no body
                            // comes with one (miniz refused both too).
                            let bad = matches!(sniffed.as_slice(), [cmf, flg] if cmf >> 4 > 7 || flg & 0x20 != 0);
                            if bad {
                                self.stage = Stage::Failed;
                            }
                            bad
                        } else {
                            // Raw deflate: replay the two sniffed bytes into
                            // the decoder.
                            let fed = self.inflate_some(&sniffed, sink);
                            // Two bytes always fit; a stop here ends the feed.
                            fed.stopped || fed.consumed < sniffed.len()
                        };
                        if stop {
                            return Fed {
                                consumed: used + take,
                                stopped: true,
                            };
                        }
                    }
                    take
                }
                Stage::Body => {
                    let fed = self.inflate_some(rest, sink);
                    if fed.stopped {
                        return Fed {
                            consumed: used + fed.consumed,
                            stopped: true,
                        };
                    }
                    fed.consumed
                }
            };
            used += step;
            if step == 0 {
                // The inflater wants more input than this: never loop.
                break;
            }
        }
        Fed {
            consumed: used,
            stopped: false,
        }
    }

    /// Runs the decoder over `input` until it is used up, the stream ends,
    /// the sink refuses, or `max_out` is reached.
    fn inflate_some(&mut self, input: &[u8], sink: &mut dyn FnMut(&[u8]) -> bool) -> Fed {
        let mut used = 0;
        loop {
            let room = self.max_out.saturating_sub(self.produced);
            if room == 0 {
                return Fed {
                    consumed: used,
                    stopped: true,
                };
            }
            let (n, status) = self.decoder.run(input.get(used..).unwrap_or_default(), room);
            used += n;
            let piece = self.decoder.written();
            self.produced += piece.len();
            if !piece.is_empty() && !sink(piece) {
                return Fed {
                    consumed: used,
                    stopped: true,
                };
            }
            match status {
                Status::Full => continue,
                Status::More => {
                    return Fed {
                        consumed: used,
                        stopped: false,
                    }
                }
                Status::End => {
                    self.stage = if self.gzip {
                        Stage::Trailer(GZIP_TRAILER)
                    } else if self.zlib {
                        Stage::Trailer(ZLIB_TRAILER)
                    } else {
                        Stage::Ended
                    };
                    return Fed {
                        consumed: used,
                        stopped: false,
                    };
                }
                Status::Bad => {
                    self.stage = Stage::Failed;
                    return Fed {
                        consumed: used,
                        stopped: true,
                    };
                }
            }
        }
    }
}

enum Header {
    Complete(usize),
    Incomplete,
    Invalid,
}

/// The length of the gzip member header at the start of `buf`.
fn gzip_header_len(buf: &[u8]) -> Header {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let (Some(&id1), Some(&id2), Some(&method), Some(&flags)) = (buf.first(), buf.get(1), buf.get(2), buf.get(3))
    else {
        return if buf.iter().zip([0x1f, 0x8b, 8]).all(|(a, b)| *a == b) {
            Header::Incomplete
        } else {
            Header::Invalid
        };
    };
    if id1 != 0x1f || id2 != 0x8b || method != 8 || flags & 0xe0 != 0 {
        return Header::Invalid;
    }
    let mut at = 10;
    if flags & FEXTRA != 0 {
        let (Some(&lo), Some(&hi)) = (buf.get(10), buf.get(11)) else {
            return Header::Incomplete;
        };
        at = 12 + usize::from(u16::from_le_bytes([lo, hi]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            match buf.get(at..).and_then(|rest| rest.iter().position(|&b| b == 0)) {
                Some(nul) => at += nul + 1,
                None => return Header::Incomplete,
            }
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if buf.len() >= at {
        Header::Complete(at)
    } else {
        Header::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miniz_oxide::deflate::{compress_to_vec, compress_to_vec_zlib};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        out.extend(compress_to_vec(data, 6));
        out.extend([0; 8]); // CRC and size: not checked
        out
    }

    fn run(inf: &mut Inflater, input: &[u8], chunk: usize) -> (Vec<u8>, usize) {
        let mut got = Vec::new();
        let mut used = 0;
        for piece in input.chunks(chunk) {
            let fed = inf.feed(piece, &mut |p| {
                got.extend_from_slice(p);
                true
            });
            used += fed.consumed;
            if fed.stopped {
                break;
            }
        }
        (got, used)
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn codings() {
        assert_eq!(Coding::from_header(None), Coding::Identity);
        assert_eq!(Coding::from_header(Some(" Identity ")), Coding::Identity);
        assert_eq!(Coding::from_header(Some("GZIP")), Coding::Gzip);
        assert_eq!(Coding::from_header(Some("x-gzip")), Coding::Gzip);
        assert_eq!(Coding::from_header(Some("deflate")), Coding::Deflate);
        assert_eq!(Coding::from_header(Some("br")), Coding::Unsupported);
        assert_eq!(Coding::from_header(Some("gzip, br")), Coding::Unsupported);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn gzip_members_zlib_and_raw_deflate_in_any_chunking() {
        let text = b"{\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]}".repeat(50);
        let mut two = gzip(&text[..1000]);
        two.extend(gzip(&text[1000..]));
        let mut named = vec![0x1f, 0x8b, 8, 0x08 | 0x04, 0, 0, 0, 0, 0, 0xff, 3, 0, b'a', b'b', b'c'];
        named.extend(b"file.json\0");
        named.extend(compress_to_vec(&text, 6));
        named.extend([0; 8]);
        for (gz, input) in [
            (true, gzip(&text)),
            (true, two),
            (true, named),
            (false, compress_to_vec_zlib(&text, 6)),
            (false, compress_to_vec(&text, 6)),
        ] {
            for chunk in [1, 3, 100, 1 << 20] {
                let mut inf = Inflater::new(gz, 1 << 20);
                let (got, used) = run(&mut inf, &input, chunk);
                assert_eq!(got, text, "gzip {gz} chunk {chunk}");
                assert_eq!(used, input.len());
                assert!(inf.at_end() && !inf.failed());
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_bomb_stops_at_max_out() {
        let bomb = gzip(&vec![b' '; 20 << 20]);
        assert!(bomb.len() < 64 * 1024);
        let mut inf = Inflater::new(true, 1 << 20);
        let (got, _) = run(&mut inf, &bomb, 4096);
        assert_eq!(got.len(), 1 << 20);
        assert!(!inf.at_end());
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn garbage_fails() {
        for input in [
            b"{\"not\": \"gzip\"}".to_vec(),
            vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff],
        ] {
            let mut inf = Inflater::new(true, 1 << 20);
            run(&mut inf, &input, 5);
            assert!(inf.failed(), "{input:?}");
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn the_sink_can_stop_it() {
        let text = vec![b'x'; 100_000];
        let mut inf = Inflater::new(true, 1 << 20);
        let input = gzip(&text);
        let mut got = 0;
        let fed = inf.feed(&input, &mut |p| {
            got += p.len();
            got < 20_000
        });
        assert!(fed.stopped && fed.consumed <= input.len());
        assert!((20_000..100_000).contains(&got));
    }
}
