//! A request body decided at its `content-length`, and the bytes that must
//! not follow.
//!
//! The filter decides a body as soon as the bytes `content-length`
//! announced are in, rather than on the empty end-of-stream callback Envoy
//! sends after them (issue 8): the decision then saw the whole body. That
//! holds only if nothing follows. Envoy's codecs refuse a body longer than
//! its `content-length` (HTTP/1 reads the surplus as the next request;
//! HTTP/2 resets the stream with PROTOCOL_ERROR), but a filter before this
//! one may rewrite the header after the codec checked it, and a future codec
//! may check less. So the filter does not rely on them: a body byte after a
//! decision taken at `content-length` was never inspected, and the request
//! is refused (`refuse_overrun`) instead of forwarded.
//!
//! The refusal says nothing about the decision: a plain 400, the same for
//! every request, so a client cannot learn how its body was judged.

/// Status of the refusal: the request is malformed (its body is longer
/// than it announced), whatever the decision was.
pub const OVERRUN_STATUS: u16 = 400;

/// Body of the refusal: the same text for every refused request.
pub const OVERRUN_BODY: &str = "bad request: body longer than content-length\n";

/// One request's `content-length` and whether its decision was taken there.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ContentLength {
    announced: Option<usize>,
    decided_at_length: bool,
}

impl ContentLength {
    /// From the header's value; one that is not a plain decimal count
    /// announces nothing (the body is then decided at the end of the stream
    /// or at the cap, as before).
    pub fn from_header(value: Option<&str>) -> ContentLength {
        ContentLength {
            announced: value.and_then(|v| v.trim().parse().ok()),
            decided_at_length: false,
        }
    }

    /// Whether `raw_seen` body bytes are every byte announced.
    pub fn reached(&self, raw_seen: usize) -> bool {
        self.announced == Some(raw_seen)
    }

    /// Notes that the body was decided at its announced length, before
    /// the stream ended.
    pub fn decided_here(&mut self) {
        self.decided_at_length = true;
    }

    /// Whether a body callback bringing `body_size` new bytes must be
    /// refused: any byte after a decision taken at `content-length` was
    /// never inspected. The empty end-of-stream callback (0 bytes) passes.
    pub fn refuse_overrun(&self, body_size: usize) -> bool {
        self.decided_at_length && body_size > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_after_a_decision_at_length_is_refused() {
        let mut cl = ContentLength::from_header(Some("10"));
        assert!(!cl.reached(9));
        assert!(cl.reached(10));
        cl.decided_here();
        assert!(cl.refuse_overrun(1));
        assert!(cl.refuse_overrun(64 * 1024));
    }

    #[test]
    fn the_empty_end_of_stream_callback_passes() {
        let mut cl = ContentLength::from_header(Some("10"));
        cl.decided_here();
        assert!(!cl.refuse_overrun(0));
    }

    #[test]
    fn nothing_is_refused_before_a_decision_at_length() {
        // Decided at the end of the stream or at the cap: never armed.
        let cl = ContentLength::from_header(Some("10"));
        assert!(!cl.refuse_overrun(1));
        let none = ContentLength::from_header(None);
        assert!(!none.refuse_overrun(1));
    }

    #[test]
    fn a_value_that_is_no_count_announces_nothing() {
        for v in ["", "ten", "-1", "1e3", "10, 10"] {
            let cl = ContentLength::from_header(Some(v));
            assert!(!cl.reached(0) && !cl.reached(10), "{v:?}");
        }
        assert!(ContentLength::from_header(Some(" 10 ")).reached(10));
    }

    #[test]
    fn the_refusal_tells_nothing_of_the_decision() {
        for word in ["score", "deny", "tag", "distill", "allow"] {
            assert!(!OVERRUN_BODY.contains(word), "{word}");
        }
        assert_eq!(OVERRUN_STATUS, 400);
    }
}
