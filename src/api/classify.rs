//! Which LLM API a request calls, from its method and path alone.
//!
//! Runs in the headers phase, before any body byte, so the glue can skip
//! bodies it would not understand. Matching is by path *suffix*: gateways
//! mount the same APIs under their own prefixes (`/openai/v1/…`,
//! `/api/v1/…`, `/v1beta/openai/…`), and a prefix changes nothing about the
//! body's shape. The rules, checked in this order:
//!
//! | path ends with                                   | API                 | model from path |
//! |--------------------------------------------------|---------------------|-----------------|
//! | `openai/deployments/{d}/chat/completions`        | Azure chat          | `{d}`           |
//! | `openai/deployments/{d}/completions`             | Azure completions   | `{d}`           |
//! | `openai/responses`                               | Azure Responses     |                 |
//! | `chat/completions` (any prefix, or none)          | OpenAI chat         |                 |
//! | `v1/responses`, or the whole path is `/responses` | OpenAI Responses    |                 |
//! | `v1/completions`, or the whole path is `/completions` | OpenAI completions |             |
//! | `v1/messages`                                    | Anthropic Messages  |                 |
//! | `models/{m}:generateContent` (or `tunedModels/`) | Gemini              | `{m}`           |
//! | `models/{m}:streamGenerateContent`               | Gemini streaming    | `{m}`           |
//!
//! `responses`, `completions` and `messages` are common words, so they need
//! the `v1` segment before them; `chat/completions` is distinctive enough on
//! its own. Sub-resources (`/v1/messages/count_tokens`, `/v1/messages/batches`,
//! `/v1/responses/{id}/cancel`) do not match because the suffix differs.
//!
//! Before matching, the query and fragment are dropped, empty and `.`
//! segments removed, `..` resolved, and percent-escapes of printable ASCII
//! other than `/` decoded — so `//v1/./chat/completions` or
//! `gemini-pro%3AgenerateContent` cannot slip past as "not an LLM call".
//! Only `POST` is an LLM call; everything else passes untouched.

use std::borrow::Cow;

use super::{Api, Endpoint, Provider};

/// Longest model or deployment name taken from a path (bytes); longer ones
/// are cut so a view never holds an unbounded path fragment.
pub const MAX_PATH_MODEL: usize = 128;

/// What the path says: the API and, for Azure and Gemini, the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub api: Api,
    pub model: Option<String>,
}

/// The API a `POST` to `path` (with query) calls, or `None` to pass it
/// untouched.
pub fn classify(method: &str, path: &str) -> Option<Api> {
    route(method, path).map(|r| r.api)
}

/// The model named by the path (Azure deployment, Gemini model), if any.
pub fn model_from_path(path: &str) -> Option<String> {
    route("POST", path).and_then(|r| r.model)
}

/// API and path model together.
pub fn route(method: &str, path: &str) -> Option<Route> {
    if method != "POST" {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = percent_decode_ascii(path);
    let segs = segments(&path);
    let api = |provider, endpoint| Api { provider, endpoint };
    let (api, model) = match segs.as_slice() {
        [.., "openai", "deployments", d, "chat", "completions"] => {
            (api(Provider::AzureOpenAi, Endpoint::ChatCompletions), Some(*d))
        }
        [.., "openai", "deployments", d, "completions"] => {
            (api(Provider::AzureOpenAi, Endpoint::Completions), Some(*d))
        }
        [.., "openai", "responses"] => (api(Provider::AzureOpenAi, Endpoint::Responses), None),
        [.., "chat", "completions"] => (api(Provider::OpenAi, Endpoint::ChatCompletions), None),
        ["responses"] | [.., "v1", "responses"] => (api(Provider::OpenAi, Endpoint::Responses), None),
        ["completions"] | [.., "v1", "completions"] => (api(Provider::OpenAi, Endpoint::Completions), None),
        [.., "v1", "messages"] => (api(Provider::Anthropic, Endpoint::Messages), None),
        [.., "models" | "tunedModels", last] => {
            let (model, method) = last.rsplit_once(':')?;
            let endpoint = match method {
                "generateContent" => Endpoint::GenerateContent,
                "streamGenerateContent" => Endpoint::StreamGenerateContent,
                _ => return None,
            };
            (api(Provider::Gemini, endpoint), Some(model))
        }
        _ => return None,
    };
    Some(Route {
        api,
        model: model.filter(|m| !m.is_empty()).map(cap_model),
    })
}

/// Path segments with empty and `.` segments dropped and `..` resolved.
fn segments(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for s in path.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out
}

/// Decodes `%XX` escapes of printable ASCII except `/` (an escaped slash is
/// not a separator to upstreams either); leaves everything else escaped.
fn percent_decode_ascii(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if v.is_ascii_graphic() && v != b'/' {
                    out.push(char::from(v));
                    i += 3;
                    continue;
                }
            }
        }
        // Copy one whole character (paths may hold raw UTF-8).
        let ch = path.get(i..).and_then(|rest| rest.chars().next()).unwrap_or('\u{fffd}');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    Cow::Owned(out)
}

fn cap_model(m: &str) -> String {
    let mut end = m.len().min(MAX_PATH_MODEL);
    while !m.is_char_boundary(end) {
        end -= 1;
    }
    m.get(..end).unwrap_or("").to_string()
}

impl Api {
    /// A low-cardinality metric label for this API.
    pub fn label(&self) -> &'static str {
        match (self.provider, self.endpoint) {
            (Provider::OpenAi, Endpoint::ChatCompletions) => "openai_chat",
            (Provider::OpenAi, Endpoint::Responses) => "openai_responses",
            (Provider::OpenAi, Endpoint::Completions) => "openai_completions",
            (Provider::AzureOpenAi, Endpoint::ChatCompletions) => "azure_chat",
            (Provider::AzureOpenAi, Endpoint::Completions) => "azure_completions",
            (Provider::AzureOpenAi, Endpoint::Responses) => "azure_responses",
            (Provider::Anthropic, Endpoint::Messages) => "anthropic_messages",
            (Provider::Gemini, Endpoint::GenerateContent) => "gemini_generate",
            (Provider::Gemini, Endpoint::StreamGenerateContent) => "gemini_stream",
            // The fields are public, so nonsense pairs can be built; they
            // still get a bounded label.
            _ => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn label(path: &str) -> Option<&'static str> {
        classify("POST", path).map(|a| a.label())
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn openai_paths_with_and_without_prefixes() {
        assert_eq!(label("/v1/chat/completions"), Some("openai_chat"));
        assert_eq!(label("/chat/completions"), Some("openai_chat"));
        assert_eq!(label("/openai/v1/chat/completions"), Some("openai_chat"));
        assert_eq!(label("/v1beta/openai/chat/completions"), Some("openai_chat"));
        assert_eq!(label("/v1/responses"), Some("openai_responses"));
        assert_eq!(label("/responses"), Some("openai_responses"));
        assert_eq!(label("/proxy/v1/responses?x=1"), Some("openai_responses"));
        assert_eq!(label("/v1/completions"), Some("openai_completions"));
        assert_eq!(label("/completions"), Some("openai_completions"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn common_words_need_v1() {
        assert_eq!(label("/blog/responses"), None);
        assert_eq!(label("/app/completions"), None);
        assert_eq!(label("/inbox/messages"), None);
        assert_eq!(label("/v1/responses/resp_123/cancel"), None);
        assert_eq!(label("/v1/chat/completions/chatcmpl-1"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn azure_deployments_name_the_model() {
        let p = "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21";
        assert_eq!(label(p), Some("azure_chat"));
        assert_eq!(model_from_path(p).as_deref(), Some("gpt4o-prod"));
        let p = "/openai/deployments/davinci/completions?api-version=2024-10-21";
        assert_eq!(label(p), Some("azure_completions"));
        assert_eq!(model_from_path(p).as_deref(), Some("davinci"));
        assert_eq!(
            label("/openai/responses?api-version=2025-03-01-preview"),
            Some("azure_responses")
        );
        assert_eq!(label("/openai/deployments/d/embeddings?api-version=1"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn anthropic_messages_but_not_its_sub_resources() {
        assert_eq!(label("/v1/messages"), Some("anthropic_messages"));
        assert_eq!(label("/anthropic/v1/messages"), Some("anthropic_messages"));
        assert_eq!(label("/v1/messages/count_tokens"), None);
        assert_eq!(label("/v1/messages/batches"), None);
        assert_eq!(label("/v1/messages/batches/b1/cancel"), None);
        assert_eq!(model_from_path("/v1/messages"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn gemini_model_comes_from_the_path() {
        let p = "/v1beta/models/gemini-2.0-flash:generateContent?key=abc";
        assert_eq!(label(p), Some("gemini_generate"));
        assert_eq!(model_from_path(p).as_deref(), Some("gemini-2.0-flash"));
        let p = "/v1/models/gemini-1.5-pro:streamGenerateContent?alt=sse";
        assert_eq!(label(p), Some("gemini_stream"));
        let p = "/v1/projects/p1/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent";
        assert_eq!(label(p), Some("gemini_generate"));
        assert_eq!(model_from_path(p).as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(
            label("/v1beta/tunedModels/my-tune:generateContent"),
            Some("gemini_generate")
        );
        assert_eq!(label("/v1beta/models/gemini-pro:countTokens"), None);
        assert_eq!(label("/v1beta/models/gemini-pro:embedContent"), None);
        assert_eq!(label("/v1beta/models/:generateContent"), Some("gemini_generate"));
        assert_eq!(model_from_path("/v1beta/models/:generateContent"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn only_post_is_classified() {
        assert_eq!(classify("GET", "/v1/chat/completions"), None);
        assert_eq!(classify("OPTIONS", "/v1/messages"), None);
        assert_eq!(classify("post", "/v1/messages"), None);
        assert_eq!(label("/"), None);
        assert_eq!(label(""), None);
        assert_eq!(label("/v1/models"), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn path_tricks_are_normalised() {
        assert_eq!(label("//v1//chat/./completions"), Some("openai_chat"));
        assert_eq!(label("/v1/x/../messages"), Some("anthropic_messages"));
        assert_eq!(label("/v1/chat/%63ompletions"), Some("openai_chat"));
        let p = "/v1beta/models/gemini-pro%3AgenerateContent";
        assert_eq!(label(p), Some("gemini_generate"));
        assert_eq!(model_from_path(p).as_deref(), Some("gemini-pro"));
        // An escaped slash is not a separator.
        assert_eq!(label("/v1/chat%2Fcompletions"), None);
        // Broken escapes and raw UTF-8 do not panic.
        assert_eq!(label("/v1/%/%zz/%e2%82/caf\u{e9}/%"), None);
        assert_eq!(label("/../../v1/messages#frag"), Some("anthropic_messages"));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn long_path_models_are_capped() {
        let long = "m".repeat(500);
        let p = format!("/v1beta/models/{long}:generateContent");
        assert_eq!(model_from_path(&p).map(|m| m.len()), Some(MAX_PATH_MODEL));
        let multi = "\u{e9}".repeat(200);
        let p = format!("/openai/deployments/{multi}/completions");
        let m = model_from_path(&p).unwrap();
        assert!(m.len() <= MAX_PATH_MODEL && m.chars().all(|c| c == '\u{e9}'));
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn labels_are_distinct() {
        let providers = [
            Provider::OpenAi,
            Provider::AzureOpenAi,
            Provider::Anthropic,
            Provider::Gemini,
        ];
        let endpoints = [
            Endpoint::ChatCompletions,
            Endpoint::Responses,
            Endpoint::Completions,
            Endpoint::Messages,
            Endpoint::GenerateContent,
            Endpoint::StreamGenerateContent,
        ];
        let mut seen = std::collections::HashSet::new();
        for p in providers {
            for e in endpoints {
                let l = Api {
                    provider: p,
                    endpoint: e,
                }
                .label();
                assert!(l == "other" || seen.insert(l), "duplicate label {l}");
            }
        }
        assert_eq!(seen.len(), 9);
    }
}
