//! Which way an answer is read, from its response headers: a JSON document
//! (collected whole, `body`) or an SSE stream (event by event, `stream`).
//! Anything else cannot be read for reasoning and goes on as it came.

use super::body::{JsonAnswer, JsonOutcome};
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

/// What became of one answer, as the counters `reasoning.<kind>.<api>`
/// say it (a stream can be both `withheld` and `oversize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counted {
    pub withheld: bool,
    pub oversize: bool,
    pub unreadable: bool,
}

impl Counted {
    pub fn of_stream(stripper: &StreamStripper) -> Counted {
        Counted {
            withheld: stripper.withheld > 0,
            oversize: stripper.oversize > 0,
            unreadable: false,
        }
    }

    pub fn of_json(outcome: &JsonOutcome) -> Counted {
        Counted {
            withheld: matches!(outcome, JsonOutcome::Withheld(_)),
            oversize: matches!(outcome, JsonOutcome::Oversize),
            // An empty body (a 204) had nothing to read.
            unreadable: matches!(outcome, JsonOutcome::Unreadable(b) if !b.is_empty()),
        }
    }

    /// The counter kinds to add one to.
    pub fn kinds(self) -> impl Iterator<Item = &'static str> {
        [
            (self.withheld, "withheld"),
            (self.oversize, "oversize"),
            (self.unreadable, "unreadable"),
        ]
        .into_iter()
        .filter_map(|(on, kind)| on.then_some(kind))
    }
}

/// A whole recorded answer (a trace's `response`: its headers and bytes)
/// through the plan the glue follows chunk by chunk: the replay's view of
/// what the filter does to it. `None` for the bytes: withheld whole (the
/// glue answers a 502 instead).
pub fn whole(
    format: Format,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    max: usize,
) -> (Option<Vec<u8>>, Counted) {
    match plan(format, content_type, content_encoding, max) {
        Err(_) => (
            Some(body.to_vec()),
            Counted {
                unreadable: !body.is_empty(),
                ..Counted::default()
            },
        ),
        Ok(Plan::Stream(mut stripper)) => {
            let mut out = Vec::with_capacity(body.len());
            stripper.push(body, &mut out);
            stripper.finish(&mut out);
            (Some(out), Counted::of_stream(&stripper))
        }
        Ok(Plan::Json(mut answer)) => {
            answer.push(body);
            let outcome = answer.finish();
            let counted = Counted::of_json(&outcome);
            let bytes = match outcome {
                JsonOutcome::Unchanged(b) | JsonOutcome::Withheld(b) | JsonOutcome::Unreadable(b) => Some(b),
                JsonOutcome::Oversize => None,
            };
            (bytes, counted)
        }
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

    #[wasm_bindgen_test(unsupported = test)]
    fn a_whole_answer_is_judged_as_the_glue_does() {
        let sse = b"data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"r\"}}]}\n\ndata: [DONE]\n\n";
        let (out, counted) = whole(Format::Chat, Some("text/event-stream"), None, sse, 1024);
        assert_eq!(out.as_deref(), Some(&b"data: [DONE]\n\n"[..]));
        assert_eq!(counted.kinds().collect::<Vec<_>>(), ["withheld"]);

        let json = br#"{"content":[{"type":"thinking","thinking":"r"},{"type":"text","text":"4"}]}"#;
        let (out, counted) = whole(Format::Messages, Some("application/json"), None, json, 1024);
        assert_eq!(
            out.as_deref(),
            Some(&br#"{"content":[{"text":"4","type":"text"}]}"#[..])
        );
        assert_eq!(counted.kinds().collect::<Vec<_>>(), ["withheld"]);

        let (out, counted) = whole(Format::Messages, Some("application/json"), None, json, 16);
        assert_eq!((out, counted.kinds().collect::<Vec<_>>()), (None, vec!["oversize"]));

        let (out, counted) = whole(
            Format::Gemini,
            Some("application/json"),
            Some("gzip"),
            b"\x1f\x8b",
            1024,
        );
        assert_eq!(
            (out.as_deref(), counted.kinds().collect::<Vec<_>>()),
            (Some(&b"\x1f\x8b"[..]), vec!["unreadable"])
        );
        assert_eq!(whole(Format::Gemini, None, None, b"", 1024).1.kinds().count(), 0);
    }
}
