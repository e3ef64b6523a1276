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
use super::{anthropic, gemini, model_from_path, openai, responses, truncated};
use super::{Api, Endpoint, ParseFailure, Provider, RequestView};

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
    let view = parse_view(api, path, content_encoding, body, truncated);
    if !truncated {
        return view;
    }
    // Cut off before any prompt: its own outcome, so that padding ahead of
    // the messages cannot pass as an ordinary parse failure.
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
    path: &str,
    content_encoding: Option<&str>,
    body: &[u8],
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
    let bytes = if truncated { trim_partial_char(body) } else { body };
    let text = std::str::from_utf8(bytes).map_err(|_| ParseFailure::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = if truncated {
        let repaired = truncated::repair(text, MAX_DEPTH).map_err(|_| ParseFailure::TooDeep)?;
        Value::parse_str(repaired.as_deref().ok_or(ParseFailure::Malformed)?).ok_or(ParseFailure::Malformed)?
    } else {
        truncated::parse_checked(text, MAX_DEPTH)?
    };
    let root = root.as_object().ok_or(ParseFailure::WrongShape)?;
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
    if let Some(m) = model_from_path(path) {
        view.model = Some(m);
    }
    view.truncated = truncated || budget.exhausted;
    Ok(view)
}

/// gzip, zstd and zlib streams. (Brotli has no magic number; a brotli body
/// without a `content-encoding` header fails as not UTF-8 or malformed.)
fn has_compression_magic(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b])
        || body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || matches!(body, [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..])
}

/// Drops an incomplete UTF-8 sequence at the very end, where a cut at the
/// inspection cap may have split a character. Invalid bytes elsewhere stay,
/// so they still fail the UTF-8 check.
fn trim_partial_char(body: &[u8]) -> &[u8] {
    match std::str::from_utf8(body) {
        Err(e) if e.error_len().is_none() => body.get(..e.valid_up_to()).unwrap_or(body),
        _ => body,
    }
}
