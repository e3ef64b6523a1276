//! Reasoning-elicitation and dataset-generation language, English and
//! Chinese, with weights; extended by `detection.extra_phrases`.
//!
//! Weights say how specific a phrase is to harvesting: "let's think step by
//! step" is what benchmarks and students type (low), "articulate the internal
//! reasoning" or "generate 20 diverse" is what a data generator types (high).
//! A phrase alone never denies anything: the score needs it combined with
//! cross-account template sharing.

use super::normalize::lower_collapsed_bytes;

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
    strength(texts, extra, true)
}

/// [`elicitation`]; `one_pass` false searches the text once per built-in
/// phrase (the definition the index is tested against).
fn strength(texts: &[&str], extra: &[(String, f64)], one_pass: bool) -> f64 {
    let mut budget = MAX_SEARCH_BYTES;
    let mut miss = 1.0f64;
    for text in texts {
        if budget == 0 {
            break;
        }
        let hay = lower_collapsed_bytes(text, budget);
        budget = budget.saturating_sub(text.len());
        // Built-in phrases: one pass over the text (no built-in phrase has a
        // hyphen, so reading hyphens as spaces finds exactly what searching
        // both the text and its hyphen-free copy found).
        let builtin = one_pass.then(|| BUILTIN_INDEX.find_all(&hay));
        // Operator phrases (at most a few hundred, usually none) keep the
        // plain search: they may contain hyphens or be one byte long. On
        // UTF-8 text and phrases, a byte search finds what a str search does.
        let search = !(one_pass && extra.is_empty());
        let spaced = (search && hay.contains(&b'-')).then(|| {
            let mut s = hay.clone();
            s.iter_mut().filter(|b| **b == b'-').for_each(|b| *b = b' ');
            s
        });
        let found = |p: &str| contains(&hay, p) || spaced.as_deref().is_some_and(|s| contains(s, p));
        // Same order as the lists, so the product below is bit-for-bit the
        // one a phrase-by-phrase search computed. Bounded by the lists.
        // The index's set is read by its bits (ascending, so in list
        // order): most texts contain no phrase, and then nothing is walked.
        let mut hits: Vec<(&str, f64)> = match &builtin {
            Some(set) => set.iter().filter_map(builtin_phrase).collect(),
            None => builtin_phrases().filter(|(p, _)| found(p)).collect(),
        };
        hits.extend(
            extra
                .iter()
                .map(|(p, w)| (p.as_str(), *w))
                .filter(|(p, _)| !p.is_empty() && found(p)),
        );
        for (p, w) in &hits {
            let inside_longer = hits.iter().any(|(q, _)| q.len() > p.len() && contains(q.as_bytes(), p));
            if !inside_longer {
                miss *= 1.0 - w;
            }
        }
    }
    (1.0 - miss).clamp(0.0, 1.0)
}

/// `hay` contains `phrase`, as `str::contains`.
fn contains(hay: &[u8], phrase: &str) -> bool {
    phrase.is_empty() || hay.windows(phrase.len()).any(|w| w == phrase.as_bytes())
}

/// The built-in phrases in list order: [`PHRASES`] then [`MULTILINGUAL`].
fn builtin_phrases() -> impl Iterator<Item = (&'static str, f64)> {
    PHRASES.iter().chain(MULTILINGUAL).copied()
}

/// Built-in phrase `i` of [`builtin_phrases`].
fn builtin_phrase(i: usize) -> Option<(&'static str, f64)> {
    match i.checked_sub(PHRASES.len()) {
        None => PHRASES.get(i).copied(),
        Some(j) => MULTILINGUAL.get(j).copied(),
    }
}

/// Number of built-in phrases; [`PhraseSet`] holds one bit per phrase.
const BUILTIN: usize = PHRASES.len() + MULTILINGUAL.len();
const SET_WORDS: usize = BUILTIN.div_ceil(64);

/// Which built-in phrases a text contains.
struct PhraseSet([u64; SET_WORDS]);

impl PhraseSet {
    fn insert(&mut self, i: usize) {
        if let Some(w) = self.0.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    #[cfg(test)]
    fn contains(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// The phrases in the set, in ascending order.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(k, w)| {
            let mut rest = *w;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    k * 64 + bit
                })
            })
        })
    }
}

/// Bytes of a gram: the index is keyed by four bytes of a phrase, read as
/// one little-endian `u32`.
const GRAM: usize = 4;
/// The shortest built-in phrase (checked when the index is built).
const MIN_PHRASE: usize = 6;
/// Positions between two grams the scan reads. An occurrence of a phrase
/// (at least [`MIN_PHRASE`] bytes) starting at `s` holds a whole gram of
/// the phrase at each of `s`, ..., `s + STRIDE - 1`, and the scan reads
/// exactly one of them: so the index keeps each phrase's grams at offsets
/// `0..STRIDE`, and a text is read a third as often as byte by byte, with
/// no jump that depends on the text.
const STRIDE: usize = MIN_PHRASE - GRAM + 1;
/// Index entries: a (phrase, offset) each.
const ENTRIES: usize = BUILTIN * STRIDE;
/// Buckets of the index (a power of two): most grams of ordinary text
/// fall into an empty one.
const BUCKET_BITS: u32 = 12;

/// Bucket of a gram: Fibonacci hashing, the product's top bits.
const fn bucket(gram: u32) -> usize {
    (gram.wrapping_mul(0x9e37_79b1) >> (32 - BUCKET_BITS)) as usize
}

/// `gram` with its hyphens read as spaces (the scan reads them so).
#[cfg(test)]
fn unhyphen_gram(gram: u32) -> u32 {
    unhyphen_word(u64::from(gram)) as u32
}

/// Eight bytes with their hyphens read as spaces: the two grams of one
/// load at once.
#[inline(always)]
fn unhyphen_word(word: u64) -> u64 {
    // Exactly the hyphens: every one is rewritten, not only the first.
    let hyphens = crate::api::bytescan::zero_bytes_exact(word ^ (0x0101_0101_0101_0101 * u64::from(b'-')));
    word ^ ((hyphens >> 7) * u64::from(b'-' ^ b' '))
}

/// Built-in phrases indexed by their grams at offsets `0..STRIDE`, each
/// bucket a chain (`head` then `next`, entry + 1, 0 ends it). Computed by
/// the compiler: no work at start-up or per request, and a text is read
/// once instead of once per phrase.
struct PhraseIndex {
    head: [u16; 1 << BUCKET_BITS],
    next: [u16; ENTRIES],
    /// Each entry's gram, its phrase and the gram's offset in the phrase.
    gram: [u32; ENTRIES],
    phrase: [u8; ENTRIES],
    offset: [u8; ENTRIES],
}

static BUILTIN_INDEX: PhraseIndex = PhraseIndex::build();
// Entries + 1 fit a u16, phrases a byte.
const _: () = assert!(ENTRIES < u16::MAX as usize && BUILTIN < 256);

/// Phrase `i` of [`builtin_phrases`] as bytes, usable at compile time.
#[allow(clippy::indexing_slicing)] // compile time only: a bad index fails the build
const fn builtin_bytes(i: usize) -> &'static [u8] {
    if i < PHRASES.len() {
        PHRASES[i].0.as_bytes()
    } else {
        MULTILINGUAL[i - PHRASES.len()].0.as_bytes()
    }
}

impl PhraseIndex {
    #[allow(clippy::indexing_slicing)] // compile time only: a bad index fails the build
    const fn build() -> PhraseIndex {
        let mut index = PhraseIndex {
            head: [0; 1 << BUCKET_BITS],
            next: [0; ENTRIES],
            gram: [0; ENTRIES],
            phrase: [0; ENTRIES],
            offset: [0; ENTRIES],
        };
        let mut i = 0;
        while i < BUILTIN {
            let p = builtin_bytes(i);
            // The scan reads hyphens as spaces and steps by STRIDE.
            assert!(p.len() >= MIN_PHRASE);
            let mut j = 0;
            while j < p.len() {
                assert!(p[j] != b'-');
                j += 1;
            }
            let mut o = 0;
            while o < STRIDE {
                let e = i * STRIDE + o;
                let g = u32::from_le_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]);
                let b = bucket(g);
                index.gram[e] = g;
                index.phrase[e] = i as u8;
                index.offset[e] = o as u8;
                index.next[e] = index.head[b];
                index.head[b] = (e + 1) as u16;
                o += 1;
            }
            i += 1;
        }
        index
    }

    /// The built-in phrases `hay` contains, hyphens read as spaces.
    fn find_all(&self, hay: &[u8]) -> PhraseSet {
        let mut set = PhraseSet([0; SET_WORDS]);
        let mut at = 0;
        // Two grams from one eight-byte load: bytes 0-3 and 3-6 of the
        // word are the grams at `at` and `at + STRIDE` (issue 8: a load,
        // a bounds check and the hyphen pass per gram were half the scan).
        while let Some(w) = hay
            .get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
        {
            let w = unhyphen_word(w);
            self.probe(hay, w as u32, at, &mut set);
            self.probe(hay, (w >> (8 * STRIDE)) as u32, at + STRIDE, &mut set);
            at += 2 * STRIDE;
        }
        // The grams of the last few bytes, one load each.
        while let Some(g) = hay
            .get(at..at + GRAM)
            .and_then(|w| <[u8; GRAM]>::try_from(w).ok())
            .map(u32::from_le_bytes)
        {
            self.probe(hay, unhyphen_word(u64::from(g)) as u32, at, &mut set);
            at += STRIDE;
        }
        set
    }

    /// Adds to `set` the phrases whose indexed gram `g` (hyphens already
    /// read as spaces) is, read at `at` of `hay`, the start of a whole
    /// occurrence.
    #[inline(always)]
    fn probe(&self, hay: &[u8], g: u32, at: usize, set: &mut PhraseSet) {
        let mut link = self.head.get(bucket(g)).copied().unwrap_or(0);
        while let Some(e) = usize::from(link).checked_sub(1) {
            if self.gram.get(e) == Some(&g) {
                let i = usize::from(self.phrase.get(e).copied().unwrap_or(0));
                let start = at.checked_sub(usize::from(self.offset.get(e).copied().unwrap_or(0)));
                let rest = start.and_then(|s| hay.get(s..)).unwrap_or_default();
                if starts_with_unhyphened(rest, builtin_bytes(i)) {
                    set.insert(i);
                }
            }
            link = self.next.get(e).copied().unwrap_or(0);
        }
    }
}

fn unhyphen(b: u8) -> u8 {
    if b == b'-' {
        b' '
    } else {
        b
    }
}

/// `hay` starts with `phrase` when its hyphens are read as spaces.
fn starts_with_unhyphened(hay: &[u8], phrase: &[u8]) -> bool {
    hay.len() >= phrase.len() && hay.iter().zip(phrase).all(|(h, p)| unhyphen(*h) == *p)
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

    #[wasm_bindgen_test(unsupported = test)]
    fn one_pass_equals_phrase_by_phrase_search() {
        let mut texts: Vec<String> = vec![
            "Think Step-By-Step; chain-of-thought, <THINKING>tags</thinking> and\tinternal\n\nreasoning".into(),
            "step-by-step-by-step by step stepby step".into(),
            "Janet has 3 apples. Let's think step by step.".into(),
        ];
        // Every phrase alone, hyphenated, upper-cased, and all of them together.
        let all: Vec<&str> = PHRASES.iter().chain(MULTILINGUAL).map(|(p, _)| *p).collect();
        for p in &all {
            texts.push(format!("x {p} y"));
            texts.push(p.replace(' ', "-"));
            texts.push(p.to_uppercase());
            texts.push(p.get(1..).unwrap_or_default().to_owned());
        }
        texts.push(all.join(" "));
        texts.push(all.concat());
        let extras = [
            vec![],
            vec![("step-by-step".to_owned(), 0.4), ("x".to_owned(), 0.1)],
            vec![
                ("step by step".to_owned(), 0.3),
                ("think step by step now".to_owned(), 0.9),
            ],
        ];
        for extra in &extras {
            for t in &texts {
                let (a, b) = (elicitation(&[t], extra), strength(&[t], extra, false));
                assert_eq!(a.to_bits(), b.to_bits(), "{t:?}");
            }
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            assert_eq!(
                elicitation(&refs, extra).to_bits(),
                strength(&refs, extra, false).to_bits()
            );
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn one_pass_equals_phrase_by_phrase_search_on_random_text() {
        let mut rng = crate::hash::TestDraws(5);
        let all: Vec<&str> = builtin_phrases().map(|(p, _)| p).collect();
        for round in 0..150 {
            let mut t = String::new();
            for _ in 0..1 + round % 12 {
                let r = rng.next_u64();
                let p = all.get(r as usize % all.len()).copied().unwrap_or("");
                // A phrase, a piece of one, or glue between them.
                let cut: Vec<usize> = (0..=p.len()).filter(|i| p.is_char_boundary(*i)).collect();
                let a = cut.get((r >> 16) as usize % cut.len()).copied().unwrap_or(0);
                let piece = match r >> 8 & 3 {
                    0 => p.get(a..).unwrap_or(p),
                    1 => p.get(..a).unwrap_or(p),
                    _ => p,
                };
                t.push_str(piece);
                t.push_str(
                    ["", " ", "-", "  ", "\n", "x", "A"]
                        .get((r >> 32) as usize % 7)
                        .copied()
                        .unwrap_or(""),
                );
            }
            if rng.next_u64() % 2 == 0 {
                t = t.to_uppercase();
            }
            for end in (0..=t.len()).filter(|e| t.is_char_boundary(*e)) {
                let p = t.get(..end).unwrap_or_default();
                let (a, b) = (elicitation(&[p], &[]), strength(&[p], &[], false));
                assert_eq!(a.to_bits(), b.to_bits(), "{p:?}");
            }
        }
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn byte_search_equals_str_search() {
        let hay = "étape par étape, 逐步 step-by-step ステップ x";
        for a in (0..=hay.len()).filter(|i| hay.is_char_boundary(*i)) {
            for b in (a..=hay.len()).filter(|i| hay.is_char_boundary(*i)) {
                let p = hay.get(a..b).unwrap_or_default();
                for h in [hay, "", "x", "étape", "step by step"] {
                    assert_eq!(contains(h.as_bytes(), p), h.contains(p), "{h:?} {p:?}");
                }
            }
        }
    }

    /// The strided scan against its definition (a phrase found wherever it
    /// starts): every phrase, hyphenated or not, after every lead-in of up
    /// to three strides, cut at every end.
    #[wasm_bindgen_test(unsupported = test)]
    fn the_strided_scan_finds_what_every_position_finds() {
        let every_position = |hay: &[u8]| {
            let mut set = PhraseSet([0; SET_WORDS]);
            for i in 0..BUILTIN {
                if (0..hay.len()).any(|s| starts_with_unhyphened(hay.get(s..).unwrap_or_default(), builtin_bytes(i))) {
                    set.insert(i);
                }
            }
            set.0
        };
        let mut rng = crate::hash::TestDraws(17);
        let lead_bytes = b"ab- xthinkstep";
        for (p, _) in builtin_phrases() {
            for hyphens in [false, true] {
                let p = if hyphens { p.replace(' ', "-") } else { p.to_owned() };
                for lead in 0..=3 * STRIDE {
                    let mut hay: Vec<u8> = (0..lead)
                        .map(|_| {
                            lead_bytes
                                .get(rng.next_u64() as usize % lead_bytes.len())
                                .copied()
                                .unwrap_or(b'a')
                        })
                        .collect();
                    hay.extend_from_slice(p.as_bytes());
                    hay.extend_from_slice(b" x");
                    for end in 0..=hay.len() {
                        let h = hay.get(..end).unwrap_or_default();
                        assert_eq!(BUILTIN_INDEX.find_all(h).0, every_position(h), "{h:?}");
                    }
                }
            }
        }
        // Hyphens read as spaces in a gram, and only hyphens (a byte
        // beside one is left as it is).
        for g in [*b"-,-.", *b",--,", *b"a-b-", [0xff, b'-', 0x2c, b'-']] {
            let want: Vec<u8> = g.iter().map(|b| unhyphen(*b)).collect();
            assert_eq!(
                unhyphen_gram(u32::from_le_bytes(g)).to_le_bytes().to_vec(),
                want,
                "{g:?}"
            );
        }
        for b in 0..=255u8 {
            for k in 0..4 {
                let mut g = [b'-'; 4];
                if let Some(x) = g.get_mut(k) {
                    *x = b;
                }
                let want: Vec<u8> = g.iter().map(|b| unhyphen(*b)).collect();
                assert_eq!(
                    unhyphen_gram(u32::from_le_bytes(g)).to_le_bytes().to_vec(),
                    want,
                    "{g:?}"
                );
            }
        }
    }

    /// The two-grams-a-load scan against the one-gram-a-load scan it
    /// replaces, on long random texts of phrase pieces, hyphens and glue
    /// cut at every end (every parity of the last word's grams).
    #[wasm_bindgen_test(unsupported = test)]
    fn two_grams_a_load_find_what_one_a_load_found() {
        let one_a_load = |hay: &[u8]| {
            let mut set = PhraseSet([0; SET_WORDS]);
            let mut at = 0;
            while let Some(g) = hay
                .get(at..at + GRAM)
                .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            {
                BUILTIN_INDEX.probe(hay, unhyphen_gram(g), at, &mut set);
                at += STRIDE;
            }
            set.0
        };
        let mut rng = crate::hash::TestDraws(41);
        let all: Vec<&str> = builtin_phrases().map(|(p, _)| p).collect();
        let mut found = 0;
        for _ in 0..60 {
            let mut t = String::new();
            while t.len() < 600 {
                let r = rng.next_u64();
                let p = all.get(r as usize % all.len()).copied().unwrap_or("");
                let p = if r >> 40 & 1 == 0 {
                    p.to_owned()
                } else {
                    p.replace(' ', "-")
                };
                t.push_str(&p);
                t.push_str(
                    ["", " ", "-", "x", "ab "]
                        .get((r >> 32) as usize % 5)
                        .copied()
                        .unwrap_or(""),
                );
            }
            for end in 0..=t.len() {
                let h = &t.as_bytes()[..end];
                let new = BUILTIN_INDEX.find_all(h).0;
                assert_eq!(new, one_a_load(h), "{h:?}");
                found += new.iter().map(|w| w.count_ones()).sum::<u32>();
            }
        }
        assert!(found > 10_000, "{found}");
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn every_phrase_is_indexed() {
        for (i, (p, _)) in builtin_phrases().enumerate() {
            assert!(BUILTIN_INDEX.find_all(p.as_bytes()).contains(i), "{p}");
            assert_eq!(
                builtin_phrase(i),
                Some((p, builtin_phrases().nth(i).map_or(0.0, |(_, w)| w)))
            );
        }
        assert_eq!(builtin_phrase(BUILTIN), None);
    }

    #[wasm_bindgen_test(unsupported = test)]
    fn a_set_lists_its_phrases_in_order() {
        let mut rng = crate::hash::TestDraws(3);
        for _ in 0..200 {
            let mut set = PhraseSet([0; SET_WORDS]);
            let want: Vec<usize> = (0..BUILTIN).filter(|_| rng.next_u64() % 5 == 0).collect();
            want.iter().for_each(|i| set.insert(*i));
            assert_eq!(set.iter().collect::<Vec<_>>(), want);
            assert!((0..BUILTIN).all(|i| set.contains(i) == want.contains(&i)));
        }
    }
}
