//! Operator rules: configured phrases that map straight to an action, for
//! campaigns an operator has already identified (and for proving every
//! action end to end).

use crate::api::bytescan::find_bytes;
use crate::api::RequestView;
use crate::config::compile::Rule;
use crate::verdict::{Action, ReasonCode};

/// The most severe rule whose phrase appears (case-insensitively) in the
/// system text or any user turn.
pub fn strongest_match(rules: &[Rule], view: &RequestView) -> Option<(Action, ReasonCode)> {
    if rules.is_empty() {
        return None;
    }
    let mut haystack = crate::unicase::lower_str(&view.system);
    for turn in &view.turns {
        haystack.push('\n');
        haystack.push_str(&crate::unicase::lower_str(&turn.text));
    }
    rules
        .iter()
        .filter(|r| {
            r.phrases
                .iter()
                .any(|p| find_bytes(haystack.as_bytes(), p.as_bytes()).is_some())
        })
        .map(|r| (r.action, r.reason))
        .max_by_key(|(action, _)| *action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Api, Endpoint, GenParams, Provider, Role, Turn};
    use crate::config;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn view(text: &str) -> RequestView {
        RequestView {
            api: Api {
                provider: Provider::OpenAi,
                endpoint: Endpoint::ChatCompletions,
            },
            model: None,
            system: String::new(),
            turns: vec![Turn {
                role: Some(Role::User),
                text: text.into(),
                ..Turn::default()
            }],
            params: GenParams::default(),
            truncated: false,
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn most_severe_match_wins() {
        let s = config::load(
            br#"{"rules": [
                {"phrases": ["Step By Step"], "action": "tag"},
                {"phrases": ["internal reasoning"], "action": "block", "reason": "known_campaign"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(
            strongest_match(&s.rules, &view("think step by step")),
            Some((Action::Tag, "operator_rule"))
        );
        assert_eq!(
            strongest_match(&s.rules, &view("Articulate the INTERNAL REASONING step by step")),
            Some((Action::Block, "known_campaign"))
        );
        assert_eq!(strongest_match(&s.rules, &view("hello")), None);
    }
}
