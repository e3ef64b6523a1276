//! Reasoning-elicitation and dataset-generation language, English and
//! Chinese, with weights; extended by `detection.extra_phrases`.
//!
//! Weights say how specific a phrase is to harvesting: "let's think step by
//! step" is what benchmarks and students type (low), "articulate the internal
//! reasoning" or "generate 20 diverse" is what a data generator types (high).
//! A phrase alone never denies anything: the score needs it combined with
//! cross-account template sharing.

use super::normalize::lower_collapsed;

/// Bytes of text searched per request: elicitation sits in the instruction,
/// not at the end of a pasted document.
pub const MAX_SEARCH_BYTES: usize = 16 * 1024;

/// Built-in phrases (lower case, single spaces) and weights in (0, 1].
pub const PHRASES: &[(&str, f64)] = &[
    // Ordinary step-by-step requests: weak.
    ("let's think step by step", 0.15),
    ("think step by step", 0.25),
    ("step by step", 0.15),
    ("show your work", 0.2),
    ("explain your reasoning", 0.25),
    // Reasoning harvest: strong.
    // Hyphens read as spaces, so this also finds "chain-of-thought".
    ("chain of thought", 0.45),
    ("internal reasoning", 0.7),
    ("reasoning process", 0.45),
    ("reasoning trace", 0.6),
    ("thought process", 0.35),
    ("justify each step", 0.55),
    ("justify your steps", 0.55),
    ("justify every step", 0.55),
    ("articulate the", 0.35),
    ("<thinking>", 0.6),
    ("</thinking>", 0.3),
    ("<think>", 0.5),
    ("inside thinking tags", 0.6),
    ("in thinking tags", 0.6),
    ("write out your reasoning", 0.5),
    ("detailed reasoning", 0.4),
    ("before giving the final answer", 0.3),
    // Paraphrased requests for the reasoning itself (adaptive harvesters
    // avoid the fixed phrases; people use these too, so weights stay low).
    ("walk me through", 0.15),
    ("talk through", 0.2),
    ("how you'd reason", 0.3),
    ("how you would reason", 0.3),
    ("reason about this", 0.2),
    ("spell out your", 0.2),
    ("lay out your", 0.2),
    ("thinking behind", 0.3),
    // Dataset generation.
    ("generate diverse", 0.6),
    (" diverse task", 0.6),
    ("diverse examples", 0.5),
    ("diverse questions", 0.5),
    ("training data", 0.2),
    ("synthetic data", 0.5),
    ("as a json list", 0.3),
    ("come up with a set of", 0.5),
    ("help me generate", 0.35),
    ("help me create", 0.3),
    ("new similar examples", 0.5),
    ("prompt/response pair", 0.5),
    ("question answer pairs", 0.45),
    ("instruction and response pair", 0.5),
    ("diverse tasks", 0.5),
    ("maximize diversity", 0.5),
    ("here are a few examples", 0.25),
    ("generate exactly", 0.35),
    ("include the work/intermediate steps", 0.45),
    ("intermediate steps", 0.3),
    // Chinese.
    ("逐步", 0.3),
    ("一步一步", 0.3),
    ("一步步", 0.3),
    ("推理过程", 0.55),
    ("思考过程", 0.55),
    ("思维链", 0.6),
    ("详细解释", 0.25),
    ("详细推理", 0.5),
    ("内部推理", 0.7),
    ("展示你的推理", 0.5),
    ("解释每一步", 0.5),
    ("生成多样", 0.6),
    ("训练数据", 0.2),
];

/// The same ideas in other languages campaigns use (issue 3: many are not in
/// English): the ordinary "step by step" weak, "reasoning process", "chain
/// of thought" and "internal reasoning" strong, as in English. Standard
/// renderings, not a list fitted to one campaign; operators add more with
/// `detection.extra_phrases`.
pub const MULTILINGUAL: &[(&str, f64)] = &[
    // Spanish.
    ("paso a paso", 0.15),
    ("piensa paso a paso", 0.25),
    ("explica tu razonamiento", 0.25),
    ("razonamiento completo", 0.4),
    ("proceso de razonamiento", 0.45),
    ("cadena de pensamiento", 0.45),
    ("razonamiento interno", 0.7),
    // Portuguese.
    ("passo a passo", 0.15),
    ("processo de raciocínio", 0.45),
    ("cadeia de pensamento", 0.45),
    ("raciocínio interno", 0.7),
    // French.
    ("étape par étape", 0.15),
    ("explique ton raisonnement", 0.25),
    ("processus de raisonnement", 0.45),
    ("chaîne de pensée", 0.45),
    ("raisonnement interne", 0.7),
    // German.
    ("schritt für schritt", 0.15),
    ("gedankengang", 0.35),
    ("denkprozess", 0.35),
    ("argumentationskette", 0.45),
    // Russian.
    ("шаг за шагом", 0.15),
    ("пошагово", 0.15),
    ("ход мыслей", 0.35),
    ("ход своих мыслей", 0.35),
    ("ход рассуждений", 0.45),
    ("цепочка рассуждений", 0.45),
    ("цепочку рассуждений", 0.45),
    ("процесс рассуждения", 0.45),
    ("внутренние рассуждения", 0.7),
    // Japanese.
    ("ステップバイステップ", 0.15),
    ("一歩ずつ", 0.15),
    ("段階的に", 0.15),
    ("推論の過程", 0.45),
    ("推論過程", 0.45),
    ("思考過程", 0.45),
    ("思考の過程", 0.45),
    ("思考の連鎖", 0.45),
    ("内部の推論", 0.7),
    // Korean.
    ("단계별로", 0.15),
    ("추론 과정", 0.45),
    ("사고 과정", 0.45),
];

/// Elicitation strength in [0, 1] of a request's instruction texts
/// (noisy-OR of the weights of the phrases that appear). A phrase found
/// inside a longer phrase that also appears counts once, as the longer one:
/// "let's think step by step" is one weak request, not three
/// ("think step by step", "step by step") compounding into a strong one.
/// Hyphens read as spaces ("step-by-step").
pub fn elicitation(texts: &[&str], extra: &[(String, f64)]) -> f64 {
    let mut budget = MAX_SEARCH_BYTES;
    let mut miss = 1.0f64;
    for text in texts {
        if budget == 0 {
            break;
        }
        let hay = lower_collapsed(text, budget);
        budget = budget.saturating_sub(text.len());
        let spaced = hay.contains('-').then(|| hay.replace('-', " "));
        let found = |p: &str| hay.contains(p) || spaced.as_deref().is_some_and(|s| s.contains(p));
        // Bounded by the phrase lists, not by the text.
        let hits: Vec<(&str, f64)> = PHRASES
            .iter()
            .chain(MULTILINGUAL)
            .copied()
            .chain(extra.iter().map(|(p, w)| (p.as_str(), *w)))
            .filter(|(p, _)| !p.is_empty() && found(p))
            .collect();
        for (p, w) in &hits {
            let inside_longer = hits.iter().any(|(q, _)| q.len() > p.len() && q.contains(p));
            if !inside_longer {
                miss *= 1.0 - w;
            }
        }
    }
    (1.0 - miss).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test(unsupported = test)]
    fn ordinary_step_by_step_is_weak() {
        let s = elicitation(&["Janet has 3 apples... Let's think step by step."], &[]);
        assert!(s > 0.0 && s < 0.5, "{s}");
        assert_eq!(elicitation(&["What is the capital of France?"], &[]), 0.0);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn harvest_language_is_strong_in_english_and_chinese() {
        let en = elicitation(
            &["Imagine and articulate the internal reasoning behind a completed response and write it out step by step"],
            &[],
        );
        assert!(en > 0.8, "{en}");
        let zh = elicitation(&["请一步一步详细推理，并写出完整的推理过程。"], &[]);
        assert!(zh > 0.7, "{zh}");
        let gen = elicitation(
            &["You are asked to come up with a set of 20 diverse task instructions."],
            &[],
        );
        assert!(gen > 0.6, "{gen}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn system_text_and_extra_phrases_count() {
        let extra = vec![("walk me through your hidden thoughts".to_owned(), 0.9)];
        assert!(elicitation(&["", "Walk me  through your HIDDEN thoughts"], &extra) >= 0.9);
        assert!(elicitation(&["Answer in <thinking> tags", "2+2"], &[]) > 0.5);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn nested_phrases_count_once_and_hyphens_read_as_spaces() {
        let lets = elicitation(&["Q: Janet has 3 apples.\nA: Let's think step by step."], &[]);
        assert!((lets - 0.15).abs() < 1e-9, "{lets}");
        let hyphen = elicitation(&["Write your step-by-step reasoning."], &[]);
        assert!((hyphen - 0.15).abs() < 1e-9, "{hyphen}");
        let cot = elicitation(&["Use chain-of-thought."], &[]);
        assert!((cot - 0.45).abs() < 1e-9, "{cot}");
        // Unrelated phrases still combine.
        assert!(elicitation(&["Think step by step and justify your steps."], &[]) > 0.6);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn other_languages_are_read() {
        for (text, min) in [
            ("Describe tu proceso de razonamiento interno, paso a paso.", 0.8),
            ("Распиши полностью цепочку рассуждений, шаг за шагом.", 0.5),
            ("推論の過程を一歩ずつ詳しく説明してください。", 0.5),
            ("Explique ton raisonnement étape par étape.", 0.25),
        ] {
            let s = elicitation(&[text], &[]);
            assert!(s >= min, "{text}: {s}");
        }
        // Ordinary step by step in another language stays weak.
        assert!(elicitation(&["¿Me lo explicas paso a paso?"], &[]) < 0.2);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn search_is_bounded() {
        let tail = format!("{} internal reasoning", "x".repeat(MAX_SEARCH_BYTES * 2));
        assert_eq!(elicitation(&[&tail], &[]), 0.0);
    }
}
