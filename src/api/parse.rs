//! Inspected body bytes → [`RequestView`], or the reason they cannot be read.
//!
//! Checks run cheapest first, and each refuses before anything that could
//! cost more: empty, compressed (by header or magic bytes), not UTF-8, too
//! deep (the reader refuses nesting past [`MAX_DEPTH`] as it reads; the
//! structure scan decides between too deep and malformed only for a body
//! the reader refuses: [`super::truncated::parse_checked`]), malformed,
//! wrong shape. A body cut at the inspection cap (`truncated`) is repaired
//! by [`super::truncated::repair`] so what was complete is still read.

use crate::json::Value;

use super::extract::{Budget, MAX_VIEW_TEXT};
use super::plain_strings::{PlainStrings, Records, Span};
use super::{anthropic, gemini, model_from_path, openai, responses, truncated};
use super::{Api, BodyPrefix, Endpoint, ParseFailure, Provider, RequestView};

/// Deepest bracket nesting read. Real requests stay under ~10 (tool JSON
/// schemas are the deepest part); the reader's own limit is 128.
pub const MAX_DEPTH: usize = 64;

/// Parses a request body for `api`. `path` supplies the model for Azure
/// deployments and Gemini; `truncated` says `body` is a prefix of a longer
/// body, and then a prefix with no prompt text in it (no system text, no
/// turn text) is [`ParseFailure::NoPromptInPrefix`]. The view's `truncated` is also set when the text or turn caps
/// ([`MAX_VIEW_TEXT`], [`super::extract::MAX_TURNS`]) dropped something.
pub fn parse(
    api: Api,
    path: &str,
    content_encoding: Option<&str>,
    body: &[u8],
    truncated: bool,
) -> Result<RequestView, ParseFailure> {
    let path_model = model_from_path(path);
    let view = parse_view(
        api,
        path_model.as_deref(),
        content_encoding,
        body,
        &PlainStrings::default(),
        truncated,
    );
    prompt_in_prefix(view, truncated)
}

/// [`parse`] of an inspected prefix: the same view, its long plain strings
/// taken whole where the compactor recorded them. `path_model` is the
/// path's model as [`super::route`] gave it in the headers phase (the
/// path is not read again).
pub fn parse_prefix(
    api: Api,
    path_model: Option<&str>,
    content_encoding: Option<&str>,
    prefix: &BodyPrefix,
    truncated: bool,
) -> Result<RequestView, ParseFailure> {
    let (body, plain) = (prefix.bytes(), prefix.plain_strings());
    prompt_in_prefix(
        parse_view(api, path_model, content_encoding, body, plain, truncated),
        truncated,
    )
}

/// A body cut off before any prompt (`truncated`) is its own outcome, so
/// that padding ahead of the messages cannot pass as an ordinary parse
/// failure.
fn prompt_in_prefix(view: Result<RequestView, ParseFailure>, truncated: bool) -> Result<RequestView, ParseFailure> {
    if !truncated {
        return view;
    }
    match view {
        Err(ParseFailure::Empty | ParseFailure::WrongShape) => Err(ParseFailure::NoPromptInPrefix),
        Ok(v) if v.system.is_empty() && v.turns.iter().all(|t| t.text.is_empty()) => {
            Err(ParseFailure::NoPromptInPrefix)
        }
        other => other,
    }
}

fn parse_view(
    api: Api,
    path_model: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
    plain: &PlainStrings,
    truncated: bool,
) -> Result<RequestView, ParseFailure> {
    // The encoding first: a body in a coding that cannot be read is not
    // inspected at all, so its prefix is empty.
    let encoded = content_encoding
        .map(str::trim)
        .is_some_and(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"));
    if encoded {
        return Err(ParseFailure::Compressed);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseFailure::Empty);
    }
    if has_compression_magic(body) {
        return Err(ParseFailure::Compressed);
    }
    let text = body_text(body, truncated).ok_or(ParseFailure::NotUtf8)?;
    let mut root = root(text, plain, truncated)?;
    let root = root.as_object_mut().ok_or(ParseFailure::WrongShape)?;
    let mut budget = Budget::new(MAX_VIEW_TEXT);
    let mut view = match (api.provider, api.endpoint) {
        (Provider::OpenAi | Provider::AzureOpenAi, Endpoint::ChatCompletions) => openai::chat(api, root, &mut budget),
        (Provider::OpenAi | Provider::AzureOpenAi, Endpoint::Completions) => {
            openai::completions(api, root, &mut budget)
        }
        (Provider::OpenAi | Provider::AzureOpenAi, Endpoint::Responses) => responses::responses(api, root, &mut budget),
        (Provider::Anthropic, Endpoint::Messages) => anthropic::messages(api, root, &mut budget),
        (Provider::Gemini, Endpoint::GenerateContent | Endpoint::StreamGenerateContent) => {
            gemini::generate(api, root, &mut budget)
        }
        _ => Err(ParseFailure::WrongShape),
    }?;
    // The path names what actually serves the request (an Azure deployment
    // ignores the body's `model`).
    if let Some(m) = path_model {
        view.model = Some(m.to_owned());
    }
    view.truncated = truncated || budget.exhausted;
    Ok(view)
}

/// The tree of the body's `text` (cut at the cap when `truncated`), the
/// strings at `plain` taken whole.
pub(super) fn root(text: &str, plain: &PlainStrings, truncated: bool) -> Result<Value, ParseFailure> {
    // The records are positions in the body: a body read from after its
    // byte-order mark (a rare body) is read without them.
    let (text, recorded) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, false),
        None => (text, true),
    };
    let records = |closed, cut| {
        if recorded {
            Records::new(closed, cut)
        } else {
            Records::default()
        }
    };
    if !truncated {
        return truncated::parse_checked(text, MAX_DEPTH, records(plain.spans(), None));
    }
    // The string the cap cut, if plain so far, runs to the end of the text
    // (a partial character dropped from the end is part of it).
    let open = plain.open_plain();
    let cut_at = |end: usize| {
        let start = open.filter(|&start| start <= end)?;
        Some(Span {
            start: u32::try_from(start).ok()?,
            end: u32::try_from(end).ok()?,
        })
    };
    let repaired = truncated::repair(text, MAX_DEPTH, records(plain.spans(), cut_at(text.len())))
        .map_err(|_| ParseFailure::TooDeep)?
        .ok_or(ParseFailure::Malformed)?;
    // What the repair kept is the text unchanged: the strings closed in it,
    // and the cut string, which the repair closed with a quote at `kept`
    // (the reader checks the quote is there).
    let records = records(plain.before(repaired.kept), cut_at(repaired.kept));
    // The reader's own nesting limit: the repair refused deeper text.
    Value::parse_str_plain(&repaired.text, usize::MAX, records).ok_or(ParseFailure::Malformed)
}

/// gzip, zstd and zlib streams. (Brotli has no magic number; a brotli body
/// without a `content-encoding` header fails as not UTF-8 or malformed.)
fn has_compression_magic(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b])
        || body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || matches!(body, [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..])
}

/// The body as text, its UTF-8 checked once. A body cut at the inspection
/// cap (`truncated`) may end inside a character: that incomplete sequence
/// is dropped, and only what is before it is checked (issue 8: the check
/// of the whole prefix ran twice, once to find the cut and once on what
/// was kept). Invalid bytes elsewhere still fail, as does an invalid tail.
pub(super) fn body_text(body: &[u8], truncated: bool) -> Option<&str> {
    let keep = if truncated {
        body.len() - partial_char_len(body)
    } else {
        body.len()
    };
    std::str::from_utf8(body.get(..keep)?).ok()
}

/// Bytes of the incomplete UTF-8 sequence `body` ends with (0 to 3): the
/// last lead byte and its continuation bytes when they are a proper prefix
/// of some character, which is exactly where `str::from_utf8` reports
/// "incomplete" (`error_len() == None`). Decided by std on at most three
/// bytes, so its rules for overlong and surrogate prefixes hold.
fn partial_char_len(body: &[u8]) -> usize {
    let tail_start = body.len().saturating_sub(3);
    let Some(lead) = (tail_start..body.len())
        .rev()
        .find(|&k| body.get(k).is_some_and(|b| b & 0xC0 != 0x80))
    else {
        return 0;
    };
    let tail = body.get(lead..).unwrap_or_default();
    match std::str::from_utf8(tail) {
        Err(e) if e.valid_up_to() == 0 && e.error_len().is_none() => tail.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// What [`body_text`] replaces: the whole body checked to find an
    /// incomplete last character, then what was kept checked again.
    fn body_text_twice(body: &[u8], truncated: bool) -> Option<&str> {
        let bytes = if truncated {
            match std::str::from_utf8(body) {
                Err(e) if e.error_len().is_none() => body.get(..e.valid_up_to()).unwrap_or(body),
                _ => body,
            }
        } else {
            body
        };
        std::str::from_utf8(bytes).ok()
    }

    /// Every cut of text with one- to four-byte characters, with invalid
    /// bytes (overlong, surrogate, out of range, lone continuation) put in
    /// the middle or at the end: the one check gives what the two gave.
    #[wasm_bindgen_test(unsupported = test)]
    fn one_utf8_check_equals_the_two() {
        let text = "a\u{e9}\u{4e2d}\u{1f600}b\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}\u{d7ff}\u{e000}";
        let bad: [&[u8]; 12] = [
            b"\xc0\x80",
            b"\xc1",
            b"\xe0\x80",
            b"\xe0\x9f",
            b"\xed\xa0",
            b"\xf0\x80",
            b"\xf4\x90",
            b"\xf5",
            b"\xff",
            b"\x80",
            b"\xe4\xb8",
            b"\xf0\x9f\x98",
        ];
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        for end in 0..=text.len() {
            let cut = &text.as_bytes()[..end];
            bodies.push(cut.to_vec());
            for b in bad {
                bodies.push([cut, b].concat());
                bodies.push([b, cut].concat());
                bodies.push([cut, b, b"x"].concat());
            }
        }
        let (mut trimmed, mut refused) = (0, 0);
        for body in &bodies {
            for truncated in [false, true] {
                let (new, old) = (body_text(body, truncated), body_text_twice(body, truncated));
                assert_eq!(new, old, "{body:x?} {truncated}");
                trimmed += usize::from(new.is_some_and(|t| t.len() < body.len()));
                refused += usize::from(new.is_none());
            }
        }
        assert!(trimmed > 20 && refused > 100, "{trimmed} {refused}");
    }
}
