//! How a simulated caller talks to the API: which provider's wire format,
//! which SDK (user agent and TLS fingerprint), which credential header. A
//! [`Prompt`] becomes a path, headers and a JSON body exactly as the real
//! SDKs send them.

use serde_json::{json, Value};

use super::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
    Gemini,
}

/// A client stack: the user agent it sends and the JA4 TLS fingerprint the
/// gateway computes for it. Values mimic the real SDKs' formats.
#[derive(Clone, Copy, Debug)]
pub struct Sdk {
    pub provider: Provider,
    pub user_agent: &'static str,
    pub ja4: &'static str,
}

/// SDKs that real customers use, by provider. Many unrelated customers share
/// one entry: a TLS fingerprint names software, not a person.
pub const SDKS: [Sdk; 7] = [
    Sdk {
        provider: Provider::OpenAi,
        user_agent: "OpenAI/Python 1.54.3",
        ja4: "t13d1715h2_5b57614c22b0_3d5424432f57",
    },
    Sdk {
        provider: Provider::OpenAi,
        user_agent: "OpenAI/JS 4.71.1",
        ja4: "t13d1516h2_8daaf6152771_02713d6af862",
    },
    Sdk {
        provider: Provider::OpenAi,
        user_agent: "OpenAI/Python 1.40.6",
        ja4: "t13d1715h2_5b57614c22b0_3d5424432f57",
    },
    Sdk {
        provider: Provider::Anthropic,
        user_agent: "Anthropic/Python 0.39.0",
        ja4: "t13d1715h2_5b57614c22b0_3d5424432f57",
    },
    Sdk {
        provider: Provider::Anthropic,
        user_agent: "Anthropic/JS 0.32.1",
        ja4: "t13d1516h2_8daaf6152771_02713d6af862",
    },
    Sdk {
        provider: Provider::Gemini,
        user_agent: "google-genai-sdk/0.3.0 gl-python/3.11.9",
        ja4: "t13d1715h2_5b57614c22b0_3d5424432f57",
    },
    Sdk {
        provider: Provider::Gemini,
        user_agent: "google-api-nodejs-client/9.15.0",
        ja4: "t13d1516h2_8daaf6152771_02713d6af862",
    },
];

/// Picks an SDK with a realistic provider mix (OpenAI most, then Anthropic,
/// then Gemini).
pub fn pick_sdk(rng: &mut Rng) -> Sdk {
    let x = rng.f64();
    let candidates: Vec<&Sdk> = SDKS
        .iter()
        .filter(|s| match s.provider {
            Provider::OpenAi => x < 0.55,
            Provider::Anthropic => (0.55..0.85).contains(&x),
            Provider::Gemini => x >= 0.85,
        })
        .collect();
    rng.pick(&candidates).map(|s| **s).unwrap_or(SDKS[0])
}

/// A credential in the provider's own shape (random, never a real key).
pub fn credential(provider: Provider, rng: &mut Rng) -> String {
    match provider {
        Provider::OpenAi => format!("sk-proj-{}", rng.hex(48)),
        Provider::Anthropic => format!("sk-ant-api03-{}", rng.hex(64)),
        Provider::Gemini => format!("AIza{}", rng.hex(35)),
    }
}

pub fn model(provider: Provider) -> &'static str {
    match provider {
        Provider::OpenAi => "gpt-4o",
        Provider::Anthropic => "claude-3-5-sonnet-20241022",
        Provider::Gemini => "gemini-1.5-pro",
    }
}

/// What a caller asks for, independent of wire format.
#[derive(Clone, Debug, Default)]
pub struct Prompt {
    pub system: Option<String>,
    /// User and assistant turns alternating, starting with the user.
    pub turns: Vec<String>,
    pub max_tokens: u32,
    pub temperature: Option<f64>,
    /// Samples per prompt (OpenAI `n`, Gemini `candidateCount`); 1 omits it.
    pub n: u32,
    pub stream: bool,
}

/// A request ready for the trace: path, headers and body.
pub struct Wire {
    pub path: String,
    pub authority: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn role(i: usize, assistant: &'static str) -> &'static str {
    if i % 2 == 0 {
        "user"
    } else {
        assistant
    }
}

/// Sets a field of a JSON object (no-op on anything else).
pub(super) fn set(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
}

/// Encodes a prompt as `sdk` would send it with `credential`.
pub fn encode(sdk: &Sdk, credential: &str, p: &Prompt) -> Wire {
    let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
    let (path, authority, body) = match sdk.provider {
        Provider::OpenAi => {
            headers.push(("authorization".to_owned(), format!("Bearer {credential}")));
            let mut messages: Vec<Value> = Vec::new();
            if let Some(s) = &p.system {
                messages.push(json!({"role": "system", "content": s}));
            }
            messages.extend(
                p.turns
                    .iter()
                    .enumerate()
                    .map(|(i, t)| json!({"role": role(i, "assistant"), "content": t})),
            );
            let mut body = json!({"model": model(sdk.provider), "messages": messages, "max_tokens": p.max_tokens});
            if let Some(t) = p.temperature {
                set(&mut body, "temperature", json!(t));
            }
            if p.n > 1 {
                set(&mut body, "n", json!(p.n));
            }
            if p.stream {
                set(&mut body, "stream", json!(true));
            }
            ("/v1/chat/completions".to_owned(), "api.openai.com", body)
        }
        Provider::Anthropic => {
            headers.push(("x-api-key".to_owned(), credential.to_owned()));
            headers.push(("anthropic-version".to_owned(), "2023-06-01".to_owned()));
            let messages: Vec<Value> = p
                .turns
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"role": role(i, "assistant"), "content": t}))
                .collect();
            let mut body = json!({"model": model(sdk.provider), "messages": messages, "max_tokens": p.max_tokens});
            if let Some(s) = &p.system {
                set(&mut body, "system", json!(s));
            }
            if let Some(t) = p.temperature {
                set(&mut body, "temperature", json!(t));
            }
            if p.stream {
                set(&mut body, "stream", json!(true));
            }
            ("/v1/messages".to_owned(), "api.anthropic.com", body)
        }
        Provider::Gemini => {
            headers.push(("x-goog-api-key".to_owned(), credential.to_owned()));
            let contents: Vec<Value> = p
                .turns
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"role": role(i, "model"), "parts": [{"text": t}]}))
                .collect();
            let mut config = json!({"maxOutputTokens": p.max_tokens});
            if let Some(t) = p.temperature {
                set(&mut config, "temperature", json!(t));
            }
            if p.n > 1 {
                set(&mut config, "candidateCount", json!(p.n));
            }
            let mut body = json!({"contents": contents, "generationConfig": config});
            if let Some(s) = &p.system {
                set(&mut body, "systemInstruction", json!({"parts": [{"text": s}]}));
            }
            let verb = if p.stream {
                "streamGenerateContent?alt=sse"
            } else {
                "generateContent"
            };
            (
                format!("/v1beta/models/{}:{verb}", model(sdk.provider)),
                "generativelanguage.googleapis.com",
                body,
            )
        }
    };
    headers.push(("user-agent".to_owned(), sdk.user_agent.to_owned()));
    headers.push(("x-ja4".to_owned(), sdk.ja4.to_owned()));
    Wire {
        path,
        authority,
        headers,
        body: body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_has_its_own_shape() {
        let p = Prompt {
            system: Some("sys".into()),
            turns: vec!["hi".into()],
            max_tokens: 100,
            n: 3,
            ..Prompt::default()
        };
        let o = encode(&SDKS[0], "sk-x", &p);
        assert_eq!(o.path, "/v1/chat/completions");
        assert!(o.body.contains("\"n\":3") && o.body.contains("\"role\":\"system\""));
        assert!(o
            .headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == "Bearer sk-x"));
        let a = encode(&SDKS[3], "k", &p);
        assert!(a.body.contains("\"system\":\"sys\"") && a.headers.iter().any(|(n, _)| n == "x-api-key"));
        let g = encode(&SDKS[5], "k", &p);
        assert!(g.path.ends_with(":generateContent") && g.body.contains("candidateCount"));
    }
}
