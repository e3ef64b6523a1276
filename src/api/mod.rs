//! The LLM APIs the filter understands, and a provider-neutral view of a
//! request to any of them.
//!
//! `classify` looks at the method and path only (headers phase) and decides
//! whether the body is worth reading; `parse` turns the inspected body into a
//! [`RequestView`]. Nothing here logs or keeps more text than the body cap.
//!
//! Files: `classify` (method + path → [`Api`]), `parse` (body → view, with
//! the failure checks), `truncated` (JSON structure scan: depth limit and
//! repair of a body cut at the inspection cap), `openai`, `responses`,
//! `anthropic`, `gemini` (one parser per wire format), `extract` (helpers
//! they share, text budget), `error_body` (provider-shaped error answers),
//! `compact` (streaming removal of bytes that carry no prompt: whitespace
//! outside strings, long base64 runs) and `prefix` (the inspected prefix,
//! built chunk by chunk under the compacted cap and the raw bound),
//! `plain_strings` (where the prefix's long strings without escapes are,
//! recorded by the compactor for the JSON reader), `inflate`
//! (gzip and deflate bodies decompressed as a stream, within a bound).

mod anthropic;
pub(crate) mod bytescan;
mod classify;
pub mod compact;
mod error_body;
mod extract;
mod gemini;
pub mod inflate;
mod openai;
mod parse;
#[cfg(test)]
mod parse_tests;
pub mod plain_strings;
#[cfg(test)]
mod plain_strings_tests;
mod prefix;
mod responses;
mod truncated;

pub use classify::{classify, model_from_path, route, Route, MAX_PATH_MODEL};
pub use error_body::error_body;
pub use extract::{MAX_TURNS, MAX_VIEW_TEXT};
pub use parse::{parse, parse_prefix, MAX_DEPTH};
pub use prefix::BodyPrefix;

/// Who defined the wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    OpenAi,
    AzureOpenAi,
    Anthropic,
    Gemini,
}

/// Which endpoint was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// OpenAI `/v1/chat/completions` (also Azure deployments).
    ChatCompletions,
    /// OpenAI `/v1/responses`.
    Responses,
    /// OpenAI legacy `/v1/completions` (also Azure deployments).
    Completions,
    /// Anthropic `/v1/messages`.
    Messages,
    /// Gemini `…:generateContent`.
    GenerateContent,
    /// Gemini `…:streamGenerateContent`.
    StreamGenerateContent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Api {
    pub provider: Provider,
    pub endpoint: Endpoint,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
    Other,
}

/// One turn of the conversation.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Turn {
    pub role: Option<Role>,
    /// The text of every text part, joined by `"\n"`.
    pub text: String,
    pub image_parts: u32,
    pub tool_parts: u32,
}

/// Generation parameters that matter for extraction, each under whatever
/// name the API uses.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GenParams {
    /// `max_tokens`, `max_completion_tokens`, `max_output_tokens`,
    /// `maxOutputTokens`.
    pub max_output_tokens: Option<u64>,
    pub temperature: Option<f64>,
    /// `n` or `candidateCount`.
    pub samples: Option<u64>,
    /// `logprobs: true` (chat), `logprobs: N` (legacy), `responseLogprobs`.
    pub logprobs: bool,
    /// `top_logprobs`, legacy `logprobs: N`, Gemini `logprobs`.
    pub top_logprobs: Option<u64>,
    pub seed: Option<i64>,
    pub stream: bool,
    /// Number of tool / function declarations offered.
    pub tools: u32,
    /// `reasoning_effort`, `reasoning.effort` (lower case).
    pub reasoning_effort: Option<String>,
    /// Anthropic `thinking.budget_tokens`, Gemini `thinkingConfig.thinkingBudget`.
    pub thinking_budget: Option<u64>,
}

/// A provider-neutral view of one request.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestView {
    pub api: Api,
    /// From the body, or from the path (Gemini, Azure deployment).
    pub model: Option<String>,
    /// System / developer instructions, joined by `"\n"`.
    pub system: String,
    /// The conversation in order, system turns excluded.
    pub turns: Vec<Turn>,
    pub params: GenParams,
    /// The view is partial: the body was longer than the inspection cap and
    /// this view was read from its prefix (the last string may be cut), or
    /// the view's own caps ([`MAX_VIEW_TEXT`], [`MAX_TURNS`]) dropped text
    /// or the oldest turns.
    pub truncated: bool,
}

impl RequestView {
    /// The last user turn's text (what most fingerprints look at).
    pub fn last_user_text(&self) -> &str {
        self.turns
            .iter()
            .rev()
            .find(|t| t.role == Some(Role::User))
            .map(|t| t.text.as_str())
            .unwrap_or("")
    }
}

/// Why a body could not be read. `code()` names the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseFailure {
    Empty,
    NotUtf8,
    /// `content-encoding` other than identity, or gzip/zstd magic bytes.
    Compressed,
    Malformed,
    TooDeep,
    /// Valid JSON of the wrong shape (e.g. no messages).
    WrongShape,
    /// The body went on past the inspection cap (or the raw buffer bound)
    /// and the prefix read holds no prompt text: e.g. a long `tools` list
    /// or non-base64 filler ahead of the messages.
    NoPromptInPrefix,
}

impl ParseFailure {
    pub const fn code(self) -> &'static str {
        match self {
            ParseFailure::Empty => "empty",
            ParseFailure::NotUtf8 => "not_utf8",
            ParseFailure::Compressed => "compressed",
            ParseFailure::Malformed => "malformed",
            ParseFailure::TooDeep => "too_deep",
            ParseFailure::WrongShape => "wrong_shape",
            ParseFailure::NoPromptInPrefix => "no_prompt_in_prefix",
        }
    }
}
