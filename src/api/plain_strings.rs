//! Where the long plain strings of a compacted prefix are, recorded by the
//! compactor ([`super::compact`]) as it writes them, so that the JSON
//! reader can take such a string whole (one copy) instead of scanning its
//! bytes again for the quote, backslash or control byte that ends it
//! (issue 8: string scanning was most of the parse of a long body under
//! V8).
//!
//! A string is plain when its text, as written to the prefix, holds no
//! backslash and no control byte (below 0x20): its value is then exactly
//! its bytes, up to the closing quote, and the reader's own scan would stop
//! at that quote and nowhere before. Only strings of at least
//! [`MIN_PLAIN_LEN`] bytes are recorded (shorter ones cost little to scan),
//! and at most [`MAX_PLAIN_STRINGS`]: past that the reader scans, as it
//! does for every string it has no record of. Memory stays bounded
//! whatever the body: 8 bytes a record, 4 KiB at most.
//!
//! A prefix cut at the cap inside a string that is plain so far (the long
//! prompt of a body past the cap, most often) has one more record, the
//! [`PlainStrings::open_plain`] string: its text runs to the end of the
//! prefix, where the repair of the cut body closes it.

/// Shortest string text recorded, in bytes.
pub const MIN_PLAIN_LEN: usize = 128;

/// Most strings recorded per prefix.
pub const MAX_PLAIN_STRINGS: usize = 512;

/// The text of one plain string: bytes `start..end` of the prefix, the
/// byte before `start` its opening quote and the byte at `end` its closing
/// quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// The plain strings recorded so far, in order, and the string being
/// written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlainStrings {
    spans: Vec<Span>,
    /// Where the open string's text starts in the prefix.
    open_at: usize,
    /// The open string's text so far holds no backslash or control byte.
    plain: bool,
}

impl PlainStrings {
    /// A string's text starts at `at` (just after its opening quote).
    pub fn open(&mut self, at: usize) {
        self.open_at = at;
        self.plain = true;
    }

    /// The open string holds a backslash or a control byte.
    pub fn spoil(&mut self) {
        self.plain = false;
    }

    /// The open string is still plain (the compactor tests for control
    /// bytes only while it is).
    pub fn open_is_plain(&self) -> bool {
        self.plain
    }

    /// The open string's closing quote is at `end`.
    pub fn close(&mut self, end: usize) {
        let long = end.saturating_sub(self.open_at) >= MIN_PLAIN_LEN;
        if self.plain && long && self.spans.len() < MAX_PLAIN_STRINGS {
            if let (Ok(start), Ok(end)) = (u32::try_from(self.open_at), u32::try_from(end)) {
                self.spans.push(Span { start, end });
            }
        }
        self.plain = false;
    }

    /// Where the text of the string still open starts, if it is plain so
    /// far (a prefix cut inside it).
    pub fn open_plain(&self) -> Option<usize> {
        self.plain.then_some(self.open_at)
    }

    /// The recorded strings that end before `limit` (all of them for a
    /// whole prefix; a prefix cut and repaired is only the same bytes up to
    /// where it was cut).
    pub fn before(&self, limit: usize) -> &[Span] {
        let n = self.spans.partition_point(|s| (s.end as usize) < limit);
        self.spans.get(..n).unwrap_or_default()
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }
}

/// The records a reader or a scan of one text goes through, in order: the
/// closed strings, then possibly one more that the text cuts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Records<'a> {
    closed: &'a [Span],
    cut: Option<Span>,
}

impl<'a> Records<'a> {
    /// `cut`: a string whose text runs from its `start` to `end`, where
    /// the text ends or a quote was added to close it.
    pub fn new(closed: &'a [Span], cut: Option<Span>) -> Records<'a> {
        Records { closed, cut }
    }

    /// The record of the string whose text starts at `start`, if any.
    /// Records before `start` are dropped (there are none when the text is
    /// read in order, every string reached).
    pub fn take_at(&mut self, start: usize) -> Option<Span> {
        while let Some((&span, rest)) = self.closed.split_first() {
            if span.start as usize > start {
                return None;
            }
            self.closed = rest;
            if span.start as usize == start {
                return Some(span);
            }
        }
        let cut = self.cut?;
        if cut.start as usize > start {
            return None;
        }
        self.cut = None;
        (cut.start as usize == start).then_some(cut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn only_long_plain_strings_are_recorded_and_at_most_the_bound() {
        let mut p = PlainStrings::default();
        p.open(1);
        p.close(1 + MIN_PLAIN_LEN - 1);
        p.open(200);
        p.spoil();
        p.close(1000);
        assert!(p.spans().is_empty());
        for k in 0..MAX_PLAIN_STRINGS + 10 {
            p.open(1000 + 200 * k);
            p.close(1000 + 200 * k + MIN_PLAIN_LEN);
        }
        assert_eq!(p.spans().len(), MAX_PLAIN_STRINGS);
        assert_eq!(p.spans()[0], Span { start: 1000, end: 1128 });
        assert!(p.before(1128).is_empty());
        assert_eq!(p.before(1129).len(), 1);
        assert_eq!(p.before(usize::MAX).len(), MAX_PLAIN_STRINGS);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn records_are_taken_in_order_and_passed_ones_dropped() {
        let span = |start, end| Span { start, end };
        let closed = [span(5, 200), span(300, 500), span(600, 800)];
        let mut r = Records::new(&closed, Some(span(900, 1000)));
        assert_eq!(r.take_at(4), None);
        assert_eq!(r.take_at(5), Some(span(5, 200)));
        assert_eq!(r.take_at(5), None);
        // 300 was passed: dropped on the way to 600.
        assert_eq!(r.take_at(600), Some(span(600, 800)));
        assert_eq!(r.take_at(899), None);
        assert_eq!(r.take_at(900), Some(span(900, 1000)));
        assert_eq!(r.take_at(900), None);
        let mut r = Records::new(&closed, Some(span(900, 1000)));
        assert_eq!(r.take_at(901), None);
        assert_eq!(r.take_at(900), None);
    }
}
