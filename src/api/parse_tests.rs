//! Tests of [`super::parse`] on realistic fixtures and hostile bodies.

use crate::api::extract::MAX_VIEW_TEXT;
use crate::api::{classify, parse, parse_prefix, ParseFailure, RequestView, Role};
use wasm_bindgen_test::wasm_bindgen_test;

/// (path, body) of each fixture in `tests/fixtures/requests/`.
const FIXTURES: [(&str, &str); 5] = [
    (
        "/v1/chat/completions",
        include_str!("../../tests/fixtures/requests/openai_chat.json"),
    ),
    (
        "/v1/responses",
        include_str!("../../tests/fixtures/requests/openai_responses.json"),
    ),
    (
        "/v1/completions",
        include_str!("../../tests/fixtures/requests/openai_completions.json"),
    ),
    (
        "/v1/messages",
        include_str!("../../tests/fixtures/requests/anthropic_messages.json"),
    ),
    (
        "/v1beta/models/gemini-2.5-flash:generateContent",
        include_str!("../../tests/fixtures/requests/gemini_generate.json"),
    ),
];

fn parse_at(path: &str, body: &[u8], truncated: bool) -> Result<RequestView, ParseFailure> {
    let api = classify("POST", path).expect("fixture paths classify");
    parse(api, path, None, body, truncated)
}

#[wasm_bindgen_test(unsupported = test)]
fn every_fixture_parses_completely() {
    for (path, body) in FIXTURES {
        let v = parse_at(path, body.as_bytes(), false).unwrap();
        assert!(!v.truncated, "{path}");
        assert!(!v.last_user_text().is_empty(), "{path}");
        assert!(v.model.is_some(), "{path}");
        assert!(v.params.max_output_tokens.is_some(), "{path}");
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn fixture_contents_are_read() {
    let chat = parse_at(FIXTURES[0].0, FIXTURES[0].1.as_bytes(), false).unwrap();
    assert!(chat.system.contains("<thinking>"));
    assert!(chat.last_user_text().starts_with("Janet\u{2019}s ducks"));
    assert!(chat.last_user_text().ends_with("\u{601d}\u{8003}\u{3002}"));
    assert_eq!((chat.params.samples, chat.params.top_logprobs), (Some(4), Some(5)));
    let resp = parse_at(FIXTURES[1].0, FIXTURES[1].1.as_bytes(), false).unwrap();
    assert_eq!((resp.turns[0].image_parts, resp.params.tools), (1, 1));
    let legacy = parse_at(FIXTURES[2].0, FIXTURES[2].1.as_bytes(), false).unwrap();
    assert!(legacy.last_user_text().contains("def has_close_elements"));
    assert_eq!(legacy.params.top_logprobs, Some(2));
    let claude = parse_at(FIXTURES[3].0, FIXTURES[3].1.as_bytes(), false).unwrap();
    assert_eq!(claude.turns.len(), 3);
    assert_eq!(claude.params.thinking_budget, Some(4096));
    assert!(claude.params.stream);
    let gem = parse_at(FIXTURES[4].0, FIXTURES[4].1.as_bytes(), false).unwrap();
    assert_eq!(gem.model.as_deref(), Some("gemini-2.5-flash"));
    assert_eq!(gem.params.samples, Some(2));
    assert!(gem.params.logprobs);
}

/// Cut every fixture at every byte: never a panic; every view read from a
/// prefix says so and holds a prefix of each text of the full view.
#[wasm_bindgen_test(unsupported = test)]
fn every_byte_offset_of_every_fixture() {
    for (path, body) in FIXTURES {
        let full = parse_at(path, body.as_bytes(), false).unwrap();
        let mut ok = 0;
        let mut prompt_seen = false;
        for end in 0..body.len() {
            let prefix = &body.as_bytes()[..end];
            // Without the truncated flag a prefix is simply malformed.
            if let (true, Ok(v)) = (end < body.trim_end().len(), parse_at(path, prefix, false)) {
                panic!("{path} cut at {end} parsed as complete: {v:?}");
            }
            let parsed = parse_at(path, prefix, true);
            if parsed == Err(ParseFailure::NoPromptInPrefix) {
                // Cut before any prompt text: counted with the views, and
                // never once some prompt text was in view.
                assert!(!prompt_seen, "{path}@{end}: prompt text seen, then none");
                ok += 1;
                continue;
            }
            let Ok(v) = parsed else {
                continue;
            };
            prompt_seen = true;
            ok += 1;
            assert!(v.truncated);
            assert!(full.system.starts_with(&v.system), "{path}@{end}: {:?}", v.system);
            assert!(v.turns.len() <= full.turns.len(), "{path}@{end}");
            for (cut, whole) in v.turns.iter().zip(&full.turns) {
                assert!(whole.text.starts_with(&cut.text), "{path}@{end}: {:?}", cut.text);
            }
            if let (Some(m), Some(fm)) = (&v.model, &full.model) {
                assert!(fm.starts_with(m.as_str()), "{path}@{end}");
            }
        }
        // Once the conversation's key is complete, every cut yields a view.
        let keys = ["\"messages\"", "\"contents\"", "\"input\"", "\"prompt\""];
        let begins = keys.iter().filter_map(|k| body.find(k)).min().unwrap();
        assert!(
            ok >= body.len() - begins - 20,
            "{path}: only {ok} of {} cuts parsed",
            body.len()
        );
    }
}

#[wasm_bindgen_test(unsupported = test)]
fn a_cut_inside_the_prompt_keeps_its_prefix() {
    let (path, body) = FIXTURES[0];
    let end = body.find("Janet").unwrap() + "Janet\\u2019s du".len();
    let v = parse_at(path, &body.as_bytes()[..end], true).unwrap();
    assert_eq!(v.last_user_text(), "Janet\u{2019}s du");
    assert_eq!(v.params.max_output_tokens, None);
    // A cut in the middle of a multi-byte character is trimmed, not NotUtf8.
    let raw = "{\"messages\":[{\"role\":\"user\",\"content\":\"\u{4e00}\u{6b65}";
    let v = parse_at(path, &raw.as_bytes()[..raw.len() - 1], true).unwrap();
    assert_eq!(v.last_user_text(), "\u{4e00}");
    assert_eq!(
        parse_at(path, &raw.as_bytes()[..raw.len() - 1], false),
        Err(ParseFailure::NotUtf8)
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn failures_are_classified() {
    let p = "/v1/chat/completions";
    assert_eq!(parse_at(p, b"", false), Err(ParseFailure::Empty));
    assert_eq!(parse_at(p, b" \r\n", false), Err(ParseFailure::Empty));
    // Cut off before any prompt text: its own outcome.
    assert_eq!(parse_at(p, b" \r\n", true), Err(ParseFailure::NoPromptInPrefix));
    assert_eq!(
        parse_at(p, b"{\"tools\": [{\"a\": 1}", true),
        Err(ParseFailure::NoPromptInPrefix)
    );
    assert_eq!(
        parse_at(p, b"{\"messages\": [{\"role\": \"user\", \"content\": \"", true),
        Err(ParseFailure::NoPromptInPrefix)
    );
    assert_eq!(parse_at(p, b"{\"messages\": [", false), Err(ParseFailure::Malformed));
    assert_eq!(
        parse_at(p, b"{\"messages\": []} x", false),
        Err(ParseFailure::Malformed)
    );
    assert_eq!(parse_at(p, b"not json", true), Err(ParseFailure::Malformed));
    assert_eq!(parse_at(p, b"[1,2]", false), Err(ParseFailure::WrongShape));
    assert_eq!(
        parse_at(p, b"{\"prompt\": \"hi\"}", false),
        Err(ParseFailure::WrongShape)
    );
    assert_eq!(
        parse_at(p, b"{\"messages\": [{\"content\": \"\xff\"}]}", false),
        Err(ParseFailure::NotUtf8)
    );
    // Invalid bytes before the end are not excused by truncation.
    assert_eq!(
        parse_at(p, b"{\"messages\": [{\"content\": \"\xff abc", true),
        Err(ParseFailure::NotUtf8)
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn compressed_bodies_are_refused_before_decoding() {
    let api = classify("POST", "/v1/messages").unwrap();
    let gzip = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03];
    assert_eq!(
        parse(api, "/v1/messages", None, &gzip, false),
        Err(ParseFailure::Compressed)
    );
    let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0x00];
    assert_eq!(
        parse(api, "/v1/messages", None, &zstd, true),
        Err(ParseFailure::Compressed)
    );
    let json = br#"{"messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(
        parse(api, "/v1/messages", Some("br"), json, false),
        Err(ParseFailure::Compressed)
    );
    assert_eq!(
        parse(api, "/v1/messages", Some("gzip"), json, false),
        Err(ParseFailure::Compressed)
    );
    assert!(parse(api, "/v1/messages", Some(" Identity "), json, false).is_ok());
    assert!(parse(api, "/v1/messages", Some(""), json, false).is_ok());
}

#[wasm_bindgen_test(unsupported = test)]
fn deep_nesting_is_refused_before_serde() {
    let p = "/v1/chat/completions";
    let deep = "[".repeat(10_000);
    assert_eq!(parse_at(p, deep.as_bytes(), false), Err(ParseFailure::TooDeep));
    assert_eq!(parse_at(p, deep.as_bytes(), true), Err(ParseFailure::TooDeep));
    let closed = format!("{{\"messages\":{}{}}}", "[".repeat(100), "]".repeat(100));
    assert_eq!(parse_at(p, closed.as_bytes(), false), Err(ParseFailure::TooDeep));
    // Brackets inside strings do not count.
    let text = "[".repeat(10_000);
    let body = format!("{{\"messages\":[{{\"role\":\"user\",\"content\":\"{text}\"}}]}}");
    assert_eq!(parse_at(p, body.as_bytes(), false).unwrap().last_user_text(), text);
}

#[wasm_bindgen_test(unsupported = test)]
fn huge_strings_are_capped() {
    let p = "/v1/chat/completions";
    let big = "a".repeat(MAX_VIEW_TEXT + 4096);
    let body = format!(
        "{{\"messages\":[{{\"role\":\"system\",\"content\":\"{big}\"}},{{\"role\":\"user\",\"content\":\"{big}\"}}]}}"
    );
    let v = parse_at(p, body.as_bytes(), false).unwrap();
    assert!(v.truncated);
    let kept = v.system.len() + v.turns.iter().map(|t| t.text.len()).sum::<usize>();
    assert!(kept <= MAX_VIEW_TEXT, "kept {kept}");
    assert_eq!(v.turns[0].role, Some(Role::User));
}

#[wasm_bindgen_test(unsupported = test)]
fn path_models_win_and_bom_is_skipped() {
    let p = "/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21";
    let body = "\u{feff}{\"model\":\"ignored\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    let v = parse_at(p, body.as_bytes(), false).unwrap();
    assert_eq!(v.model.as_deref(), Some("prod-4o"));
    assert_eq!(v.api.label(), "azure_chat");
}

/// The engine takes the path's model from the headers phase's route
/// (`Exchange`), not from the path again: every view, whole or cut, is
/// the one reading the path gave, models from Azure and Gemini paths,
/// escaped, over-long or empty included.
#[wasm_bindgen_test(unsupported = test)]
fn the_routes_model_gives_the_view_the_path_gave() {
    use crate::api::inflate::Coding;
    use crate::api::{route, BodyPrefix, MAX_PATH_MODEL};
    let (chat, legacy, gemini) = (FIXTURES[0].1, FIXTURES[2].1, FIXTURES[4].1);
    let long_deployment = format!(
        "/openai/deployments/{}/chat/completions",
        "d".repeat(MAX_PATH_MODEL + 5)
    );
    let mut cases: Vec<(String, &str)> = FIXTURES.iter().map(|(p, b)| ((*p).to_owned(), *b)).collect();
    for (path, body) in [
        (
            "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-06-01",
            chat,
        ),
        ("/openai/deployments/davinci/completions", legacy),
        ("/openai/deployments//chat/completions", chat),
        ("/v1beta/tunedModels/my%2Dmodel:streamGenerateContent?alt=sse", gemini),
        ("/v1beta/models/:generateContent", gemini),
        ("/v1beta/models/gemini-pro:generateContent", chat),
        (long_deployment.as_str(), chat),
    ] {
        cases.push((path.to_owned(), body));
    }
    let mut models = 0;
    for (path, body) in &cases {
        let r = route("POST", path).expect("LLM paths");
        models += usize::from(r.model.is_some());
        for cap in [body.len(), body.len() / 2, 40] {
            let prefix = BodyPrefix::of(body.as_bytes(), cap, 1 << 20, Coding::Identity);
            let truncated = !prefix.complete(true);
            assert_eq!(
                parse_prefix(r.api, r.model.as_deref(), None, &prefix, truncated),
                parse(r.api, path, None, prefix.bytes(), truncated),
                "{path} {cap}"
            );
        }
    }
    assert!(models >= 6, "{models}");
}
