//! Extraction-shaped generation parameters: what a harvester asks for to get
//! more of the model per request (token probabilities, many samples, the
//! longest output, the deepest reasoning).
//!
//! Each alone is ordinary (evaluation harnesses use log-probabilities,
//! writers ask for long outputs), so the result only feeds the score's
//! content term, never a decision by itself.

use crate::api::GenParams;

/// Extraction strength of the parameters in [0, 1] (noisy-OR of the parts).
pub fn extraction(p: &GenParams, long_output_tokens: u64) -> f64 {
    let mut miss = 1.0f64;
    let mut add = |w: f64| miss *= 1.0 - w;
    if p.logprobs {
        add(0.3);
    }
    if let Some(top) = p.top_logprobs.filter(|t| *t > 0) {
        add(if top >= 5 { 0.45 } else { 0.3 });
    }
    if let Some(n) = p.samples.filter(|n| *n > 1) {
        add(if n >= 4 { 0.5 } else { 0.3 });
    }
    if let Some(max) = p.max_output_tokens {
        if max >= long_output_tokens.saturating_mul(4) {
            add(0.4);
        } else if max >= long_output_tokens {
            add(0.25);
        }
    }
    if matches!(p.reasoning_effort.as_deref(), Some("high" | "xhigh" | "max")) {
        add(0.25);
    }
    if let Some(b) = p.thinking_budget {
        if b >= 16_384 {
            add(0.35);
        } else if b >= 4_096 {
            add(0.15);
        }
    }
    (1.0 - miss).clamp(0.0, 1.0)
}

/// The shape of a request that asks for token probabilities, as a
/// cluster key: whether it asks for them, how many alternatives (bucketed),
/// how many samples and how long an output (bucketed). `None` when it asks
/// for no probabilities. Accounts that send one distinctive probability
/// shape over varying items share it as they would share a template: a
/// log-probability sweep needs no instructions in its prompts, only these
/// parameters, so its bare items join no template of their own.
pub fn probability_shape(p: &GenParams) -> Option<u64> {
    let top = p.top_logprobs.unwrap_or(0);
    if !p.logprobs && top == 0 {
        return None;
    }
    let bucket = |x: u64| 64 - x.leading_zeros() as u64; // 0, 1, 2-3, 4-7, …
    let shape = [
        u64::from(p.logprobs),
        bucket(top),
        bucket(p.samples.unwrap_or(1)),
        bucket(p.max_output_tokens.unwrap_or(0)),
    ];
    Some(
        shape
            .iter()
            .fold(0x6c70_7368_6170_6500, |acc, x| acc.rotate_left(8) ^ x),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn probability_shapes_group_alike_requests_only() {
        let sweep = |n: u64| GenParams {
            logprobs: true,
            top_logprobs: Some(20),
            samples: Some(n),
            max_output_tokens: Some(512),
            ..GenParams::default()
        };
        assert!(probability_shape(&sweep(4)).is_some());
        assert_eq!(probability_shape(&sweep(4)), probability_shape(&sweep(7)));
        let one_token = GenParams {
            samples: Some(1),
            max_output_tokens: Some(1),
            ..sweep(1)
        };
        assert_ne!(probability_shape(&one_token), probability_shape(&sweep(4)));
        assert_eq!(probability_shape(&GenParams::default()), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn ordinary_parameters_score_zero() {
        let p = GenParams {
            max_output_tokens: Some(1024),
            temperature: Some(0.7),
            samples: Some(1),
            ..GenParams::default()
        };
        assert_eq!(extraction(&p, 8192), 0.0);
        assert_eq!(extraction(&GenParams::default(), 8192), 0.0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn harvest_parameters_add_up() {
        let one = GenParams {
            logprobs: true,
            ..GenParams::default()
        };
        let all = GenParams {
            logprobs: true,
            top_logprobs: Some(20),
            samples: Some(8),
            max_output_tokens: Some(64_000),
            reasoning_effort: Some("high".into()),
            thinking_budget: Some(32_000),
            ..GenParams::default()
        };
        let (a, b) = (extraction(&one, 8192), extraction(&all, 8192));
        assert!(a > 0.0 && a < 0.5, "{a}");
        assert!(b > 0.9 && b <= 1.0, "{b}");
        let long = GenParams {
            max_output_tokens: Some(8192),
            ..GenParams::default()
        };
        assert!(extraction(&long, 8192) > 0.0);
        assert_eq!(extraction(&long, 16_384), 0.0);
    }
}
