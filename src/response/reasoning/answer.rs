//! Which way an answer is read, from its response headers: a JSON document
//! (collected whole, `body`) or an SSE stream (event by event, `stream`).
//! Anything else cannot be read for reasoning and goes on as it came.

use super::body::JsonAnswer;
use super::stream::StreamStripper;
use super::Format;

/// How to read one answer.
#[derive(Debug)]
pub enum Plan {
    Json(JsonAnswer),
    Stream(StreamStripper),
}

/// Why an answer goes on as it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// `content-encoding` other than `identity` (the glue asks the
    /// upstream for an unencoded answer; one that encodes it anyway cannot
    /// be read).
    Encoded,
    /// Neither JSON nor an event stream (`content-type`).
    NotJson,
}

/// The plan for an answer of `format` with these response headers.
/// `max` bounds a JSON answer, and one event of a stream.
pub fn plan(
    format: Format,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    max: usize,
) -> Result<Plan, Skip> {
    if content_encoding.is_some_and(|e| !e.trim().is_empty() && !e.trim().eq_ignore_ascii_case("identity")) {
        return Err(Skip::Encoded);
    }
    let media = content_type
        .and_then(|t| t.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if media == "text/event-stream" {
        Ok(Plan::Stream(StreamStripper::new(format, max)))
    } else if media == "application/json" || media.ends_with("+json") || media.is_empty() {
        Ok(Plan::Json(JsonAnswer::new(format, max)))
    } else {
        Err(Skip::NotJson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn content_type_picks_the_reader() {
        let p = |t: Option<&str>, e: Option<&str>| plan(Format::Chat, t, e, 1024);
        assert!(matches!(
            p(Some("text/event-stream; charset=utf-8"), None),
            Ok(Plan::Stream(_))
        ));
        assert!(matches!(
            p(Some("application/json"), Some("identity")),
            Ok(Plan::Json(_))
        ));
        assert!(matches!(
            p(Some("Application/JSON; charset=UTF-8"), None),
            Ok(Plan::Json(_))
        ));
        assert!(matches!(p(None, None), Ok(Plan::Json(_))));
        assert!(matches!(p(Some("text/html"), None), Err(Skip::NotJson)));
        assert!(matches!(p(Some("application/json"), Some("gzip")), Err(Skip::Encoded)));
    }
}
