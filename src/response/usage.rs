//! Token counts from a provider's usage object, whichever API wrote it.
//!
//! | API | output tokens | reasoning tokens |
//! |---|---|---|
//! | OpenAI chat, Azure, legacy completions | `completion_tokens` | `completion_tokens_details.reasoning_tokens` |
//! | OpenAI Responses, Anthropic | `output_tokens` | `output_tokens_details.reasoning_tokens` (Anthropic: none) |
//! | Gemini `usageMetadata` | `candidatesTokenCount` + `thoughtsTokenCount` | `thoughtsTokenCount` |
//!
//! Output tokens include reasoning tokens (as OpenAI and Anthropic count
//! them; Gemini counts thoughts apart, so they are added).

use crate::json::Value;

/// What one usage object says; `None` where it says nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub output: Option<u64>,
    pub reasoning: Option<u64>,
}

impl Usage {
    /// The counts of a usage object's JSON text (a non-object, `null` or
    /// malformed text says nothing).
    pub fn parse(text: &[u8]) -> Usage {
        match Value::parse(text) {
            Some(Value::Object(map)) => from_object(&map),
            _ => Usage::default(),
        }
    }

    /// A later usage object of the same answer: what it says wins (stream
    /// usage is cumulative: Anthropic's `message_delta`, Gemini chunks).
    pub fn then(self, later: Usage) -> Usage {
        Usage {
            output: later.output.or(self.output),
            reasoning: later.reasoning.or(self.reasoning),
        }
    }
}

fn count(map: &crate::json::Map, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

fn nested(map: &crate::json::Map, outer: &str, key: &str) -> Option<u64> {
    map.get(outer).and_then(Value::as_object).and_then(|m| count(m, key))
}

fn from_object(map: &crate::json::Map) -> Usage {
    let thoughts = count(map, "thoughtsTokenCount");
    let gemini = count(map, "candidatesTokenCount").map(|c| c.saturating_add(thoughts.unwrap_or(0)));
    Usage {
        output: count(map, "completion_tokens")
            .or_else(|| count(map, "output_tokens"))
            .or(gemini)
            .or(thoughts),
        reasoning: nested(map, "completion_tokens_details", "reasoning_tokens")
            .or_else(|| nested(map, "output_tokens_details", "reasoning_tokens"))
            .or(thoughts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(text: &str) -> (Option<u64>, Option<u64>) {
        let u = Usage::parse(text.as_bytes());
        (u.output, u.reasoning)
    }

    #[test]
    fn each_provider() {
        assert_eq!(
            u(
                r#"{"prompt_tokens":9,"completion_tokens":120,"total_tokens":129,"completion_tokens_details":{"reasoning_tokens":64}}"#
            ),
            (Some(120), Some(64))
        );
        assert_eq!(u(r#"{"prompt_tokens":5,"completion_tokens":7}"#), (Some(7), None));
        assert_eq!(
            u(r#"{"input_tokens":3,"output_tokens":50,"output_tokens_details":{"reasoning_tokens":20}}"#),
            (Some(50), Some(20))
        );
        assert_eq!(u(r#"{"input_tokens":3,"output_tokens":42}"#), (Some(42), None));
        assert_eq!(
            u(r#"{"promptTokenCount":4,"candidatesTokenCount":30,"thoughtsTokenCount":12,"totalTokenCount":46}"#),
            (Some(42), Some(12))
        );
        assert_eq!(
            u(r#"{"promptTokenCount":4,"candidatesTokenCount":30}"#),
            (Some(30), None)
        );
    }

    #[test]
    fn nothing_from_null_malformed_or_negative() {
        assert_eq!(u("null"), (None, None));
        assert_eq!(u("{\"completion_tokens\":"), (None, None));
        assert_eq!(u(r#"{"completion_tokens":-3}"#), (None, None));
        assert_eq!(u(r#"[1,2]"#), (None, None));
    }

    #[test]
    fn later_usage_wins_where_it_speaks() {
        let start = Usage::parse(br#"{"input_tokens":10,"output_tokens":1}"#);
        let delta = Usage::parse(br#"{"output_tokens":87}"#);
        assert_eq!(start.then(delta).output, Some(87));
        assert_eq!(delta.then(Usage::default()).output, Some(87));
    }
}
