//! The deflate decoder against miniz_oxide, the inflater it replaced (and
//! still the tests' compressor): random bodies compressed at every level
//! and strategy (stored, fixed and dynamic blocks, flushes between them)
//! decode to the same bytes in any chunking down to single bytes; a cut
//! stream gives what miniz gives of it; a corrupted one never panics, gives
//! the same bytes in any chunking, and at most what miniz gives before it
//! stops; `max_out` cuts exactly. Then hand-made streams for each way a
//! stream can be invalid, and for codes of every length, shorter and longer
//! than the decoder's lookup table.

use super::*;
use crate::json::tests::Rng;
use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush, TDEFLStatus,
};
use wasm_bindgen_test::wasm_bindgen_test;

const WORDS: &[&str] = &[
    "{\"messages\":[",
    "{\"role\":\"user\",\"content\":\"",
    "hello there",
    "\"}",
    "explain step by step",
    ", ",
    "]}",
    "the ",
    "\\n",
    "0123456789",
];

/// A body of `len` bytes of one of several kinds: JSON-like text (dynamic
/// blocks, matches), random bytes (stored or literal-only blocks), long
/// runs (the longest matches, distance 1), text with noise.
fn body(rng: &mut Rng, len: usize) -> Vec<u8> {
    let kind = rng.below(4);
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        match kind {
            0 => out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes()),
            1 => out.push(rng.next() as u8),
            2 => {
                let b = rng.next() as u8;
                out.extend(std::iter::repeat_n(b, 1 + rng.below(600) as usize));
            }
            _ => {
                if rng.below(8) == 0 {
                    out.push(rng.next() as u8);
                } else {
                    out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
                }
            }
        }
    }
    out.truncate(len);
    out
}

/// Raw deflate (or zlib) of `data` by miniz at `level` (0-10) with
/// `strategy` (0 default, 1 filtered, 2 Huffman only, 3 RLE, 4 fixed
/// blocks), flushed every `flush_every` bytes if given (a sync flush ends
/// with an empty stored block, a full flush also drops the history).
fn deflate(data: &[u8], level: u8, strategy: i32, zlib: bool, flush_every: Option<(usize, bool)>) -> Vec<u8> {
    let flags = create_comp_flags_from_zip_params(level.into(), if zlib { 1 } else { -15 }, strategy);
    let mut c = CompressorOxide::new(flags);
    let mut out = Vec::new();
    let step = flush_every.map_or(data.len().max(1), |(n, _)| n.max(1));
    let mut pieces: Vec<&[u8]> = data.chunks(step).collect();
    if pieces.is_empty() {
        pieces.push(&[]);
    }
    let last = pieces.len() - 1;
    for (i, piece) in pieces.into_iter().enumerate() {
        let flush = match flush_every {
            _ if i == last => TDEFLFlush::Finish,
            Some((_, true)) => TDEFLFlush::Full,
            _ => TDEFLFlush::Sync,
        };
        let (status, used) = compress_to_output(&mut c, piece, flush, |b| {
            out.extend_from_slice(b);
            true
        });
        assert_eq!(used, piece.len());
        assert!(matches!(status, TDEFLStatus::Okay | TDEFLStatus::Done), "{status:?}");
    }
    out
}

fn gzip_member(raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend_from_slice(raw);
    out.extend([0; 8]);
    out
}

/// What miniz decodes of a raw deflate stream fed as a stream (as the
/// inflater used it: more input may follow, so a cut stream is not padded):
/// the output up to where it ended, stopped for input, or failed, and
/// whether it ended. miniz keeps the output its last call could not hand
/// out when it fails, so it is given room for as much as the tests let the
/// inflater produce.
fn miniz(raw: &[u8]) -> (Vec<u8>, bool) {
    use miniz_oxide::inflate::stream::{inflate, InflateState};
    use miniz_oxide::{DataFormat, MZFlush, MZStatus};
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut out = Vec::new();
    let mut buf = vec![0; 1 << 20];
    let mut at = 0;
    loop {
        let r = inflate(&mut state, &raw[at..], &mut buf, MZFlush::None);
        at += r.bytes_consumed;
        out.extend_from_slice(&buf[..r.bytes_written]);
        match r.status {
            Ok(MZStatus::StreamEnd) => return (out, true),
            Ok(_) if r.bytes_consumed > 0 || r.bytes_written > 0 => continue,
            _ => return (out, false),
        }
    }
}

/// Chunk sizes: all at once, single bytes, or random sizes.
fn chunk_sizes(rng: &mut Rng, kind: u64) -> impl FnMut() -> usize + '_ {
    move || match kind {
        0 => usize::MAX,
        1 => 1,
        _ => {
            let most = if rng.below(2) == 0 { 16 } else { 5000 };
            1 + rng.below(most) as usize
        }
    }
}

/// Feeds `input` in the chunking `sizes` gives until the inflater stops;
/// the output and the input bytes consumed.
fn feed(inf: &mut Inflater, input: &[u8], mut sizes: impl FnMut() -> usize) -> (Vec<u8>, usize) {
    let mut got = Vec::new();
    let mut used = 0;
    let mut rest = input;
    while !rest.is_empty() {
        let (piece, after) = rest.split_at(sizes().min(rest.len()));
        rest = after;
        let fed = inf.feed(piece, &mut |p| {
            got.extend_from_slice(p);
            true
        });
        assert!(fed.consumed <= piece.len());
        used += fed.consumed;
        if fed.stopped {
            break;
        }
    }
    (got, used)
}

#[wasm_bindgen_test(unsupported = test)]
fn every_level_and_strategy_decodes_in_any_chunking() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..60 {
        let len = match round % 4 {
            0 => rng.below(40) as usize,
            1 => rng.below(2000) as usize,
            _ => rng.below(100_000) as usize,
        };
        let data = body(&mut rng, len);
        let level = (round % 11) as u8;
        let strategy = (rng.below(5)) as i32;
        let flush = match rng.below(3) {
            0 => None,
            n => Some((1 + rng.below(20_000) as usize, n == 2)),
        };
        let raw = deflate(&data, level, strategy, false, flush);
        assert_eq!(miniz(&raw), (data.clone(), true), "the oracle itself");
        for kind in 0..3 {
            let gz = gzip_member(&raw);
            let mut inf = Inflater::new(true, usize::MAX);
            let (got, used) = feed(&mut inf, &gz, chunk_sizes(&mut rng, kind));
            assert!(
                got == data,
                "round {round} level {level} strategy {strategy} {flush:?} chunks {kind}"
            );
            assert_eq!(used, gz.len());
            assert!(inf.at_end() || data.is_empty(), "round {round}");
            assert!(!inf.failed());

            let z = deflate(&data, level, strategy, true, flush);
            let mut inf = Inflater::new(false, usize::MAX);
            let (got, used) = feed(&mut inf, &z, chunk_sizes(&mut rng, kind));
            assert!(got == data, "zlib round {round} chunks {kind}");
            assert!(used == z.len() && inf.at_end() && !inf.failed(), "zlib round {round}");
        }
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn members_and_trailers_are_consumed_exactly() {
    // Several gzip members in one body (each a new stream: no history
    // across), zlib with bytes after its trailer, in random chunkings.
    let mut rng = Rng(7);
    for round in 0..40 {
        let parts: Vec<Vec<u8>> = (0..1 + rng.below(4))
            .map(|_| {
                let len = 1 + rng.below(40_000) as usize;
                body(&mut rng, len)
            })
            .collect();
        let mut gz = Vec::new();
        for p in &parts {
            gz.extend(gzip_member(&deflate(p, 1 + (round % 9) as u8, 0, false, None)));
        }
        let want = parts.concat();
        let mut inf = Inflater::new(true, usize::MAX);
        let (got, used) = feed(&mut inf, &gz, chunk_sizes(&mut rng, 1 + round % 2));
        assert!(got == want && used == gz.len() && inf.at_end(), "round {round}");

        let mut z = deflate(&want, 6, 0, true, None);
        let end = z.len();
        z.extend_from_slice(b"trailing junk");
        let mut inf = Inflater::new(false, usize::MAX);
        let mut got = Vec::new();
        let fed = inf.feed(z.get(..end - 1).unwrap(), &mut |p| {
            got.extend_from_slice(p);
            true
        });
        assert!(!inf.at_end(), "the Adler-32's last byte is still to come");
        assert_eq!(fed.consumed, end - 1);
        inf.feed(z.get(end - 1..).unwrap(), &mut |_| true);
        assert!(got == want && inf.at_end() && !inf.failed(), "round {round}");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_cut_stream_gives_what_miniz_gives() {
    let mut rng = Rng(11);
    for round in 0..40 {
        let data = {
            let len = rng.below(50_000) as usize;
            body(&mut rng, len)
        };
        let flush = (rng.below(2) == 0).then(|| (1 + rng.below(5000) as usize, false));
        let raw = deflate(&data, (round % 11) as u8, rng.below(5) as i32, false, flush);
        let cuts: Vec<usize> = if raw.len() < 200 {
            (0..raw.len()).collect()
        } else {
            (0..30).map(|_| rng.below(raw.len() as u64) as usize).collect()
        };
        for cut in cuts {
            let part = raw.get(..cut).unwrap();
            let (want, _) = miniz(part);
            let gz = gzip_member(part);
            let gz = gz.get(..gz.len() - 8).unwrap();
            for kind in [0, 1 + rng.below(2)] {
                let mut inf = Inflater::new(true, usize::MAX);
                let (got, used) = feed(&mut inf, gz, chunk_sizes(&mut rng, kind));
                assert!(
                    got == want,
                    "round {round} cut {cut} chunks {kind}: {} vs {}",
                    got.len(),
                    want.len()
                );
                assert!(used == gz.len() && !inf.at_end() && !inf.failed());
            }
        }
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_corrupted_stream_fails_cleanly_or_gives_at_most_what_miniz_gives() {
    let mut rng = Rng(13);
    let mut failed = 0;
    for round in 0..400 {
        let data = {
            let len = rng.below(20_000) as usize;
            body(&mut rng, len)
        };
        let mut raw = deflate(&data, (round % 11) as u8, rng.below(5) as i32, false, None);
        if raw.is_empty() {
            continue;
        }
        match rng.below(3) {
            // A few flipped bits (most often in the block headers, which
            // come first).
            0 => {
                for _ in 0..1 + rng.below(3) {
                    let span = if rng.below(2) == 0 {
                        raw.len().min(64)
                    } else {
                        raw.len()
                    };
                    let at = rng.below(span as u64) as usize;
                    raw[at] ^= 1 << rng.below(8);
                }
            }
            // A run of random bytes.
            1 => {
                let at = rng.below(raw.len() as u64) as usize;
                for b in raw.iter_mut().skip(at).take(1 + rng.below(16) as usize) {
                    *b = rng.next() as u8;
                }
            }
            // Random bytes throughout.
            _ => raw.iter_mut().for_each(|b| *b = rng.next() as u8),
        }
        let (limit, ended) = miniz(&raw);
        // Without the trailer, which the decoder would read on into.
        let mut gz = gzip_member(&raw);
        gz.truncate(gz.len() - 8);
        let mut first: Option<(Vec<u8>, bool)> = None;
        for kind in [0, 1, 2] {
            let mut inf = Inflater::new(true, 1 << 20);
            let (got, _) = feed(&mut inf, &gz, chunk_sizes(&mut rng, kind));
            assert!(
                limit.starts_with(&got),
                "round {round} chunks {kind}: not what miniz gave: {} of {}, first difference at {:?}, ended {ended} failed {}",
                got.len(),
                limit.len(),
                got.iter().zip(&limit).position(|(a, b)| a != b),
                inf.failed()
            );
            if ended && inf.at_end() {
                assert!(got == limit, "round {round}: both ended, different bytes");
            }
            // The same bytes and end however the input was cut.
            let this = (got, inf.failed());
            match &first {
                None => first = Some(this),
                Some(f) => assert!(*f == this, "round {round} chunks {kind}: chunking changed it"),
            }
        }
        failed += usize::from(first.is_some_and(|f| f.1));
    }
    assert!(failed > 100, "corruption was detected {failed} times of 400");
}

#[wasm_bindgen_test(unsupported = test)]
fn max_out_cuts_exactly() {
    let mut rng = Rng(17);
    for round in 0..60 {
        let data = {
            let len = 1 + rng.below(80_000) as usize;
            body(&mut rng, len)
        };
        let gz = gzip_member(&deflate(&data, (round % 11) as u8, rng.below(5) as i32, false, None));
        let max = rng.below(data.len() as u64) as usize;
        let mut inf = Inflater::new(true, max);
        let (got, _) = feed(&mut inf, &gz, chunk_sizes(&mut rng, round % 3));
        assert!(got == data[..max], "round {round} max {max}");
        assert_eq!(inf.produced(), max);
        assert!(!inf.at_end() && !inf.failed());
    }
}

/// Bits in deflate's order: values first bit least significant, Huffman
/// codes (`code`) most significant bit first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    n: usize,
}

impl BitWriter {
    fn bits(&mut self, value: u32, count: usize) -> &mut Self {
        for i in 0..count {
            if self.n % 8 == 0 {
                self.bytes.push(0);
            }
            *self.bytes.last_mut().unwrap() |= (((value >> i) & 1) as u8) << (self.n % 8);
            self.n += 1;
        }
        self
    }

    fn code(&mut self, code: u32, len: usize) -> &mut Self {
        for i in (0..len).rev() {
            self.bits(code >> i & 1, 1);
        }
        self
    }

    /// A fixed block's literal/length symbol (RFC 1951 §3.2.6).
    fn fixed(&mut self, sym: u32) -> &mut Self {
        match sym {
            0..=143 => self.code(0x30 + sym, 8),
            144..=255 => self.code(0x190 + sym - 144, 9),
            256..=279 => self.code(sym - 256, 7),
            _ => self.code(0xc0 + sym - 280, 8),
        }
    }

    /// A dynamic block's header with the literal/length lengths `lit` and
    /// distance lengths `dist`, each sent as itself with a code-length code
    /// of sixteen 4-bit codes (symbols 0-15; code = symbol).
    fn dynamic(&mut self, last: bool, lit: &[u8], dist: &[u8]) -> &mut Self {
        self.bits(u32::from(last), 1).bits(2, 2);
        self.bits(lit.len() as u32 - 257, 5)
            .bits(dist.len() as u32 - 1, 5)
            .bits(15, 4);
        for sym in [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15] {
            self.bits(if sym < 16 { 4 } else { 0 }, 3);
        }
        for &len in lit.iter().chain(dist) {
            self.code(u32::from(len), 4);
        }
        self
    }
}

/// Decodes a hand-made raw stream whole and byte by byte (the same either
/// way): the output, failed, ended.
fn decode(raw: &[u8]) -> (Vec<u8>, bool, bool) {
    let gz = gzip_member(raw);
    let mut results = [1, usize::MAX].map(|size| {
        let mut inf = Inflater::new(true, 1 << 20);
        let (got, _) = feed(&mut inf, &gz, || size);
        (got, inf.failed(), inf.at_end())
    });
    assert_eq!(results[0], results[1]);
    std::mem::take(&mut results[0])
}

#[wasm_bindgen_test(unsupported = test)]
fn hand_made_streams_valid_and_invalid() {
    let ok = |w: &BitWriter, want: &[u8]| assert_eq!(decode(&w.bytes), (want.to_vec(), false, true));
    let bad = |w: &BitWriter, want: &[u8]| assert_eq!(decode(&w.bytes), (want.to_vec(), true, false));

    // Fixed block: "ab", then a match of 5 at distance 2, end.
    let mut w = BitWriter::default();
    w.bits(1, 1)
        .bits(1, 2)
        .fixed(b'a'.into())
        .fixed(b'b'.into())
        .fixed(259)
        .code(1, 5)
        .fixed(256);
    ok(&w, b"abababa");
    // The longest length code with all extra bits set is 258, as is 285.
    let mut w = BitWriter::default();
    w.bits(1, 1)
        .bits(1, 2)
        .fixed(b'z'.into())
        .fixed(284)
        .bits(31, 5)
        .code(0, 5)
        .fixed(285)
        .code(0, 5);
    ok(w.fixed(256), &[b'z'; 1 + 258 + 258]);
    // A distance past the output so far.
    let mut w = BitWriter::default();
    w.bits(1, 1)
        .bits(1, 2)
        .fixed(b'a'.into())
        .fixed(257)
        .code(1, 5)
        .fixed(256);
    bad(&w, b"a");
    // Symbols 286, 287 and distances 30, 31 have fixed codes, but no use.
    for sym in [286, 287] {
        let mut w = BitWriter::default();
        w.bits(1, 1).bits(1, 2).fixed(b'a'.into()).fixed(sym);
        bad(&w, b"a");
    }
    for dist in [30, 31] {
        let mut w = BitWriter::default();
        w.bits(1, 1).bits(1, 2).fixed(b'a'.into()).fixed(257).code(dist, 5);
        bad(&w, b"a");
    }
    // Block type 3 is reserved.
    let mut w = BitWriter::default();
    w.bits(1, 1).bits(3, 2);
    bad(&w, b"");
    // Stored blocks: a non-final empty one, then "hi"; then a wrong NLEN.
    let mut w = BitWriter::default();
    w.bits(0, 3).bits(0, 5).bits(0, 16).bits(0xffff, 16);
    w.bits(1, 3)
        .bits(0, 5)
        .bits(2, 16)
        .bits(!2 & 0xffff, 16)
        .bits(u32::from(b'h'), 8)
        .bits(u32::from(b'i'), 8);
    ok(&w, b"hi");
    let mut w = BitWriter::default();
    w.bits(1, 3).bits(0, 5).bits(2, 16).bits(!3 & 0xffff, 16).bits(0, 16);
    bad(&w, b"");

    // Dynamic blocks. Literal 'x' and end-of-block with 1-bit codes, no
    // distance code at all: valid.
    let mut lit = [0u8; 257];
    lit[usize::from(b'x')] = 1;
    lit[256] = 1;
    let mut w = BitWriter::default();
    w.dynamic(true, &lit, &[0]).code(0, 1).code(0, 1).code(1, 1);
    ok(&w, b"xx");
    // One distance code of 1 bit (incomplete, as zlib allows).
    let mut w = BitWriter::default();
    w.dynamic(true, &lit, &[1]).code(0, 1).code(1, 1);
    ok(&w, b"x");
    // Incomplete literal/length code with a 2-bit code.
    lit[256] = 2;
    let mut w = BitWriter::default();
    w.dynamic(true, &lit, &[1]).code(0, 1);
    bad(&w, b"");
    // Over-subscribed: three 1-bit codes.
    lit[256] = 1;
    lit[0] = 1;
    let mut w = BitWriter::default();
    w.dynamic(true, &lit, &[1]).code(0, 1);
    bad(&w, b"");
    // More length or distance codes than the alphabets have.
    for (nlit, ndist) in [(287, 1), (257, 31)] {
        let mut lens = vec![0u8; nlit];
        lens[usize::from(b'x')] = 1;
        lens[256] = 1;
        let mut w = BitWriter::default();
        w.dynamic(true, &lens, &vec![0; ndist]).code(0, 1).code(1, 1);
        bad(&w, b"");
    }
    // The code-length code: incomplete (one 1-bit code) or over-subscribed
    // (three), and a repeat (16) of no previous length.
    let code_len_lens = |ones: &[usize]| {
        let mut lens = [0u32; 19];
        for &i in ones {
            lens[i] = 1;
        }
        lens
    };
    for lens in [code_len_lens(&[0]), [1; 19], code_len_lens(&[0, 1])] {
        let mut w = BitWriter::default();
        w.bits(1, 1).bits(2, 2).bits(0, 5).bits(0, 5).bits(15, 4);
        for len in lens {
            w.bits(len, 3);
        }
        // The lengths (16, 17 had codes 0, 1): repeat first.
        w.code(0, 1).bits(0, 2).code(1, 1).bits(7, 3);
        bad(&w, b"");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn bad_zlib_headers_fail() {
    // CINFO 8 (a 64 KiB window) and FDICT, with FCHECK made right.
    for [cmf, flg] in [[0x88u8, 0], [0x78, 0x20]] {
        let flg = flg + (31 - ((u16::from(cmf) << 8 | u16::from(flg)) % 31) as u8) % 31;
        let mut inf = Inflater::new(false, 1 << 20);
        inf.feed(&[cmf, flg, 3, 0], &mut |_| true);
        assert!(inf.failed(), "{cmf:#x} {flg:#x}");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn the_decoder_is_about_36_kb() {
    assert!(std::mem::size_of::<decoder::Decoder>() + window::WINDOW < 37 * 1000);
}

/// A complete prefix code of `n` lengths (2 to 2^15): lengths 1, 2, ...,
/// 15, 15 when `chain`, else made by splitting random leaves, the deepest
/// one half the time so that long codes come up.
fn complete_lengths(rng: &mut Rng, n: usize, chain: bool) -> Vec<u8> {
    if chain {
        let mut lens: Vec<u8> = (1..=15).collect();
        lens.push(15);
        return lens;
    }
    let mut lens = vec![1u8, 1];
    while lens.len() < n {
        let splittable: Vec<usize> = (0..lens.len()).filter(|&i| lens[i] < 15).collect();
        let i = if rng.below(2) == 0 {
            *splittable.iter().max_by_key(|&&i| lens[i]).unwrap()
        } else {
            splittable[rng.below(splittable.len() as u64) as usize]
        };
        lens[i] += 1;
        lens.push(lens[i]);
    }
    lens
}

/// The canonical codes of `lens` (RFC 1951 §3.2.2), written out here
/// independently of `huffman.rs`.
fn canonical(lens: &[u8]) -> Vec<u32> {
    let mut count = [0u32; 16];
    for &l in lens {
        count[usize::from(l)] += 1;
    }
    count[0] = 0;
    let mut next = [0u32; 16];
    for len in 1..16 {
        next[len] = (next[len - 1] + count[len - 1]) << 1;
    }
    lens.iter()
        .map(|&l| {
            let c = next[usize::from(l)];
            next[usize::from(l)] += 1;
            c
        })
        .collect()
}

/// Dynamic blocks whose literal/length and distance codes have lengths
/// from 1 to 15 on random symbols, with literals and matches over all of
/// them: a wrong lookup-table entry, or a wrong hand-over to the
/// bit-at-a-time walk for codes longer than the table, decodes to other
/// bytes than miniz's (the whole stream and byte by byte).
#[wasm_bindgen_test(unsupported = test)]
fn codes_of_every_length_decode() {
    let mut rng = Rng(0x1f2e_3d4c);
    let mut seen = [false; 16];
    for round in 0..200 {
        let chain = round % 4 == 0;
        // Literal/length symbols 0..286 (256 always among them), distances
        // 0..30: which get the code lengths is random.
        let n_lit = if chain { 16 } else { 2 + rng.below(285) as usize };
        let n_dist = if chain { 16 } else { 1 + rng.below(30) as usize };
        let pick = |rng: &mut Rng, of: usize, n: usize, must: Option<usize>| {
            let mut syms: Vec<usize> = (0..of).collect();
            for i in (1..of).rev() {
                syms.swap(i, rng.below(i as u64 + 1) as usize);
            }
            if let Some(m) = must {
                let at = syms.iter().position(|&s| s == m).unwrap();
                syms.swap(0, at);
            }
            syms.truncate(n);
            syms
        };
        let lit_syms = pick(&mut rng, 286, n_lit, Some(256));
        let dist_syms = pick(&mut rng, 30, n_dist, None);
        let mut lit = vec![0u8; 286];
        for (&s, l) in lit_syms.iter().zip(complete_lengths(&mut rng, n_lit, chain)) {
            lit[s] = l;
            seen[usize::from(l)] = true;
        }
        let mut dist = vec![0u8; 30];
        if n_dist == 1 {
            dist[dist_syms[0]] = 1;
        } else {
            for (&s, l) in dist_syms.iter().zip(complete_lengths(&mut rng, n_dist, chain)) {
                dist[s] = l;
            }
        }
        let (lit_code, dist_code) = (canonical(&lit), canonical(&dist));
        let mut w = BitWriter::default();
        w.dynamic(true, &lit, &dist);
        let mut out = 0u32;
        for _ in 0..300 {
            let s = lit_syms[rng.below(n_lit as u64) as usize];
            if s == 256 {
                continue;
            }
            let d = dist_syms[rng.below(n_dist as u64) as usize];
            // Distance code `d` with no extra bits set reaches its base.
            let (dist_base, dist_extra) = decoder_span(d as u32, 2, 1);
            if s > 256 && dist_base > out {
                continue;
            }
            w.code(lit_code[s], usize::from(lit[s]));
            if s < 256 {
                out += 1;
                continue;
            }
            let (len_base, len_extra) = if s == 285 {
                (258, 0)
            } else {
                decoder_span(s as u32 - 257, 4, 3)
            };
            let extra = rng.below(1 << len_extra) as u32;
            w.bits(extra, len_extra as usize)
                .code(dist_code[d], usize::from(dist[d]))
                .bits(0, dist_extra as usize);
            out += len_base + extra;
        }
        w.code(lit_code[256], usize::from(lit[256]));
        let (want, ended) = miniz(&w.bytes);
        assert!(ended, "round {round}: the oracle itself");
        assert_eq!(want.len(), out as usize, "round {round}: the stream itself");
        assert_eq!(decode(&w.bytes), (want, false, true), "round {round}");
    }
    assert_eq!(
        seen,
        [false, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true]
    );
}

/// Base and extra bits of a length or distance code, as RFC 1951's
/// tables give them (the decoder's `span`, restated).
fn decoder_span(code: u32, group: u32, first: u32) -> (u32, u32) {
    if code < group {
        (first + code, 0)
    } else {
        let extra = code / group - 1;
        (((group + code % group) << extra) + first, extra)
    }
}
