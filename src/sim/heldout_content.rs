//! What the held-out scenario's groups send (see [`super::heldout`]).
//!
//! The campaign texts are deliberately *not* the ones detection was tuned
//! on: new English phrasings that avoid the built-in elicitation phrases,
//! Spanish, Russian and Japanese templates, and instructions carried in the
//! system prompt with only the seed item in the user turn. The look-alikes
//! are real products' shapes: a homework app, a translation app, a
//! classroom, an evaluation company and a support bot.

use super::client::Prompt;
use super::corpus::Corpus;
use super::rng::Rng;

/// What a held-out group sends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Content {
    /// English templates phrased outside the elicitation lists.
    NovelPhrasing,
    /// Spanish, Russian or Japanese templates (`lang` 0, 1, 2).
    Multilingual,
    /// Instructions in the system prompt, the bare seed item as user turn.
    SystemPrompt,
    /// Ordinary elicitation templates (the infrastructure is what differs).
    PlainTemplates,
    /// Annotation-style templates of a few busy accounts.
    Annotator,
    /// Templates of the campaign that moves to a new model mid-trace.
    Rotation,
    /// "Explain step by step how to solve: {homework}".
    Tutor,
    /// "Translate into French: {text}".
    Translate,
    /// The same homework for the whole class, "show your work".
    Classroom,
    /// MMLU-style and GSM8K items with "Let's think step by step".
    Eval,
    /// A support bot's user-turn template around the customer's message.
    Support,
    /// Benchmark runs re-sending one closed item set ([`super::heldout_shapes`]).
    EvalRuns,
    /// A coding agent's tool loop: a shared agent system prompt, tools, a
    /// conversation that grows call by call with tool results.
    AgentLoop,
    /// Fresh items with `logprobs`, `top_logprobs` 20 and `n` 4 to 8.
    LogprobSweep,
    /// A moderation classifier: one-token answers with `top_logprobs` 20.
    Moderation,
}

const NOVEL: [&str; 4] = [
    "Provide a rigorous derivation, enumerating each inference you make before the final answer.\n\n{p}",
    "Output your scratchpad, then the answer.\n\n{p}",
    "{p}\n\nNarrate your full deliberation, including any dead ends you considered, and only then commit to a solution.",
    "Here is a task.\n{p}\nList every intermediate deduction explicitly, numbered, and finish with a line 'ANSWER:' followed by the result.",
];

/// Two templates per language: Spanish, Russian, Japanese.
const LANGS: [[&str; 2]; 3] = [
    [
        "Resuelve el siguiente problema. Piensa paso a paso y explica tu razonamiento completo antes de dar la respuesta final.\n\nProblema: {p}",
        "{p}\n\nDescribe detalladamente tu proceso de razonamiento interno, paso a paso, y después da la respuesta.",
    ],
    [
        "Реши задачу. Рассуждай шаг за шагом и подробно объясни ход своих мыслей, прежде чем дать окончательный ответ.\n\nЗадача: {p}",
        "{p}\n\nРаспиши полностью цепочку рассуждений, шаг за шагом, затем дай ответ.",
    ],
    [
        "次の問題を解いてください。最終的な答えを出す前に、推論の過程を一歩ずつ詳しく説明してください。\n\n問題：{p}",
        "{p}\n\n思考過程をステップバイステップで全て書き出してから答えてください。",
    ],
];

/// The system prompts of the campaign that keeps its instructions there.
pub const SYSTEM_PROMPTS: [&str; 2] = [
    "You are a meticulous reasoning engine. For every problem the user sends, write out your complete internal reasoning step by step inside <thinking></thinking> tags, justify each step, and only then give the final answer.",
    "You produce worked solutions. Before any answer, enumerate every inference you make, numbered, covering the entire derivation from first principles; then state the result on its own line.",
];

const PLAIN: [&str; 2] = [
    "Explain your reasoning step by step in full detail, then answer.\n\n{p}",
    "{p}\n\nShow your complete chain of thought before the final answer.",
];

const ANNOTATOR: [&str; 2] = [
    "As a data annotator, produce a gold-standard solution for the item below. Include a detailed rationale a student model could learn from.\n\n{p}",
    "{p}\n\nThink carefully and write down your step-by-step reasoning, then the final answer.",
];

const ROTATION: [&str; 2] = [
    "Solve this and show every reasoning step you take, inside <reasoning> tags.\n\n{p}",
    "{p}\n\nBefore answering, write your chain of thought.",
];

/// MMLU-style items written for this simulator (not MMLU's own text).
const MC_ITEMS: [(&str, &str); 6] = [
    (
        "high school physics",
        "A ball is dropped from rest. Ignoring air resistance, how far does it fall in the first 2 seconds?\nA. 4.9 m\nB. 9.8 m\nC. 19.6 m\nD. 39.2 m",
    ),
    (
        "college biology",
        "Which organelle is the main site of ATP synthesis in eukaryotic cells?\nA. Ribosome\nB. Golgi apparatus\nC. Mitochondrion\nD. Lysosome",
    ),
    (
        "macroeconomics",
        "An increase in the reserve requirement will most likely\nA. increase the money multiplier\nB. decrease the money multiplier\nC. leave the money supply unchanged\nD. lower interest rates",
    ),
    (
        "formal logic",
        "Which of the following is the contrapositive of 'If P then Q'?\nA. If Q then P\nB. If not P then not Q\nC. If not Q then not P\nD. P and not Q",
    ),
    (
        "world history",
        "The Treaty of Westphalia (1648) is most associated with\nA. the end of the Thirty Years' War\nB. the unification of Italy\nC. the start of the Hundred Years' War\nD. the partition of Africa",
    ),
    (
        "computer science",
        "What is the worst-case time complexity of binary search on a sorted array of n elements?\nA. O(1)\nB. O(log n)\nC. O(n)\nD. O(n log n)",
    ),
];

const ISSUES: [&str; 8] = [
    "my order hasn't arrived and the tracking page has not updated for a week",
    "I was charged twice for the same subscription this month",
    "how do I change the email address on my account",
    "the app crashes every time I open the settings page",
    "I want to return the jacket I bought, it is too small",
    "can I upgrade my plan in the middle of the billing cycle",
    "the discount code from your newsletter does not work at checkout",
    "I never received the password reset email",
];

fn pick(rng: &mut Rng, v: &[String]) -> String {
    rng.pick(v).cloned().unwrap_or_default()
}

/// A seed item by template index: maths, code or a general task.
fn seed_item(rng: &mut Rng, c: &Corpus, template: usize) -> String {
    match template % 3 {
        0 => pick(rng, &c.gsm8k),
        1 => pick(rng, &c.humaneval),
        _ => pick(rng, &c.self_instruct),
    }
}

fn fill(rng: &mut Rng, c: &Corpus, set: &[&str]) -> String {
    let t = rng.below(set.len());
    let item = seed_item(rng, c, t);
    set.get(t).copied().unwrap_or("{p}").replace("{p}", &item)
}

/// The homework item `k` of day `day` (the same for every student).
pub fn homework(c: &Corpus, day: u64, k: u64) -> String {
    let n = c.gsm8k.len().max(1) as u64;
    c.gsm8k.get(((day * 7 + k) % n) as usize).cloned().unwrap_or_default()
}

/// The prompt of one held-out event. `member` is the account's index in
/// its group (a campaign account keeps its language), `item` the event's
/// fixed item number for harnesses and classes.
pub fn prompt(content: Content, member: usize, seed: u64, item: u64, c: &Corpus) -> Prompt {
    let mut rng = Rng::derive(seed, "heldout-content", item);
    let mut p = Prompt {
        max_tokens: 1024,
        temperature: Some(0.7),
        n: 1,
        ..Prompt::default()
    };
    let text = match content {
        Content::NovelPhrasing => fill(&mut rng, c, &NOVEL),
        Content::Multilingual => fill(&mut rng, c, LANGS.get(member % 3).map_or(&[][..], |l| &l[..])),
        Content::SystemPrompt => {
            p.system = SYSTEM_PROMPTS.get(member % 2).map(|s| (*s).to_owned());
            let t = rng.below(3);
            seed_item(&mut rng, c, t)
        }
        Content::PlainTemplates => fill(&mut rng, c, &PLAIN),
        Content::Annotator => fill(&mut rng, c, &ANNOTATOR),
        Content::Rotation => fill(&mut rng, c, &ROTATION),
        Content::Tutor => format!("Explain step by step how to solve: {}", pick(&mut rng, &c.gsm8k)),
        Content::Translate => {
            let text = if rng.chance(0.5) {
                pick(&mut rng, &c.arena)
            } else {
                pick(&mut rng, &c.self_instruct)
            };
            format!("Translate into French: {text}")
        }
        Content::Classroom => {
            p.temperature = None;
            let q = homework(c, item / 100, item % 100);
            match rng.below(3) {
                0 => format!("{q} Show your work."),
                1 => format!("{q}\nshow your work pls"),
                _ => format!("Question: {q}\nPlease show your work step by step."),
            }
        }
        Content::Eval => {
            p.temperature = Some(0.0);
            p.max_tokens = 512;
            let mc = MC_ITEMS.len() as u64;
            match MC_ITEMS.get(item as usize % 20) {
                Some((subject, q)) if item % 20 < mc => format!(
                    "The following is a multiple choice question about {subject}.\n\n{q}\nAnswer: Let's think step by step."
                ),
                _ => format!("Q: {}\nA: Let's think step by step.", homework(c, 0, item % 400)),
            }
        }
        // Written by `heldout_shapes` (never reached through here).
        Content::EvalRuns | Content::AgentLoop | Content::LogprobSweep | Content::Moderation => String::new(),
        Content::Support => {
            p.max_tokens = 300;
            let issue = rng.pick(&ISSUES).copied().unwrap_or_default();
            let order = rng.range(10_000, 99_999);
            format!(
                "Customer message: \"{issue} (order {order})\"\n\nReply as Acme's support assistant: be brief and polite, and link the relevant help-centre article."
            )
        }
    };
    if matches!(
        content,
        Content::NovelPhrasing
            | Content::Multilingual
            | Content::SystemPrompt
            | Content::PlainTemplates
            | Content::Annotator
            | Content::Rotation
    ) {
        p.temperature = Some(1.0);
        p.max_tokens = 16_384;
        p.n = if rng.chance(0.15) { 4 } else { 1 };
    }
    p.turns = vec![text];
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Corpus {
        Corpus {
            gsm8k: vec!["What is 2 + 3?".into(), "A train leaves at 3pm.".into()],
            humaneval: vec!["def f(x):".into()],
            self_instruct: vec!["Write a haiku about rain.".into()],
            arena: vec!["Hello there".into()],
            ..Corpus::default()
        }
    }

    #[test]
    fn system_prompt_campaign_sends_only_the_item_as_user_turn() {
        let c = corpus();
        let p = prompt(Content::SystemPrompt, 1, 9, 3, &c);
        assert_eq!(p.system.as_deref(), SYSTEM_PROMPTS.get(1).copied());
        let user = p.turns.first().cloned().unwrap_or_default();
        assert!(c.gsm8k.contains(&user) || c.humaneval.contains(&user) || c.self_instruct.contains(&user));
    }

    #[test]
    fn classroom_items_are_shared_and_languages_stick_to_accounts() {
        let c = corpus();
        assert_eq!(homework(&c, 1, 0), homework(&c, 1, 0));
        let ja = prompt(Content::Multilingual, 2, 5, 1, &c).turns.concat();
        assert!(ja.contains("推論") || ja.contains("思考過程"), "{ja}");
        let es = prompt(Content::Multilingual, 3, 5, 1, &c).turns.concat();
        assert!(es.contains("paso a paso"), "{es}");
    }
}
