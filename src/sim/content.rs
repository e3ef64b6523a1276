//! What benign accounts and look-alikes say: real prompts from the corpora,
//! sessions with follow-ups, the popular app's shared system prompt, batch
//! templates and benchmark items.

use super::actor::{Actor, Event, Kind};
use super::client::Prompt;
use super::corpus::Corpus;
use super::params::{BATCH_JOBS, HARNESS_ITEMS};
use super::rng::Rng;

/// The popular app's system prompt: long, identical for every user.
pub const APP_SYSTEM: &str = "You are StudyPal, a friendly and patient study assistant used by students around the world. \
Always answer in the language of the question. Keep answers accurate and concise, use Markdown headings and bullet lists where they help, \
and format mathematics with LaTeX. When a question is ambiguous, state your assumption in one sentence before answering. \
Never complete graded assignments verbatim: explain the idea, give a worked example that differs from the student's problem, \
and invite the student to try the original themselves. Do not give medical, legal or financial advice; suggest a qualified professional instead. \
If the student seems distressed, respond with empathy and point to the help resources in the app's menu. \
Refuse requests for harmful content politely. Keep a warm, encouraging tone, never condescending. \
At the end of every answer, suggest one short follow-up question the student could ask to deepen their understanding.";

const FOLLOWUPS: [&str; 10] = [
    "Thanks! Can you give me a concrete example?",
    "Can you make that shorter?",
    "What would change if the input were much larger?",
    "I don't get the second part, can you rephrase it?",
    "ok and how do I do this in python",
    "Great. Can you turn this into a checklist?",
    "Is there a simpler way?",
    "What are the most common mistakes here?",
    "Could you compare it with the alternative approach?",
    "Please add a short summary at the end.",
];

const STEP_ASKS: [&str; 5] = [
    "Can you explain it step by step?",
    "Please walk me through it step by step, I'm trying to learn this.",
    "Explain your reasoning step by step please.",
    "Could you break the solution into steps?",
    "Show the steps, not just the answer.",
];

const ASSISTANT: [&str; 4] = [
    "Sure! Here's an overview of the main points, followed by an example you can adapt.",
    "Good question. There are a few ways to approach this; the simplest is described below.",
    "Here is a step-by-step explanation with the key ideas highlighted.",
    "Below is a concise answer; let me know if you want more detail on any part.",
];

const PRODUCTS: [&str; 8] = [
    "blender",
    "running shoes",
    "headphones",
    "coffee maker",
    "phone case",
    "backpack",
    "desk lamp",
    "air fryer",
];
const OPINIONS: [&str; 8] = [
    "works exactly as described and arrived early",
    "stopped working after two weeks",
    "is okay for the price but feels cheap",
    "is the best purchase I made this year",
    "was missing parts and support never answered",
    "does the job, nothing special",
    "is louder than I expected",
    "exceeded my expectations, would buy again",
];

/// A person's opening message.
fn opening(rng: &mut Rng, c: &Corpus) -> (String, Option<String>) {
    let x = rng.f64();
    let pick = |rng: &mut Rng, v: &[String]| rng.pick(v).cloned().unwrap_or_default();
    if x < 0.35 {
        (pick(rng, &c.arena), None)
    } else if x < 0.55 {
        let turns = rng.pick(&c.mt_bench).cloned().unwrap_or_default();
        (turns.first().cloned().unwrap_or_default(), turns.get(1).cloned())
    } else if x < 0.77 {
        (pick(rng, &c.self_instruct), None)
    } else if x < 0.87 {
        (
            format!("Can you help me finish this function?\n\n{}", pick(rng, &c.humaneval)),
            None,
        )
    } else if x < 0.97 {
        (
            format!("My homework question: {} I'm stuck.", pick(rng, &c.gsm8k)),
            None,
        )
    } else {
        (pick(rng, &c.personas), None)
    }
}

/// The conversation so far for turn `turn` of a session opening with
/// `first`: user and assistant turns alternating, ending with the user.
fn conversation(rng: &mut Rng, first: String, second: Option<String>, turn: u32, step: bool) -> Vec<String> {
    let mut turns = vec![first];
    for k in 1..=turn {
        turns.push(rng.pick(&ASSISTANT).copied().unwrap_or_default().to_owned());
        let next = match (k, &second) {
            (1, Some(s)) => s.clone(),
            _ => rng.pick(&FOLLOWUPS).copied().unwrap_or_default().to_owned(),
        };
        turns.push(next);
    }
    if step && rng.chance(0.6) {
        if let Some(last) = turns.last_mut() {
            last.push_str("\n\n");
            last.push_str(rng.pick(&STEP_ASKS).copied().unwrap_or_default());
        }
    }
    turns
}

fn person_max_tokens(rng: &mut Rng) -> u32 {
    [256, 512, 1024, 1024, 2048, 4096]
        .get(rng.below(6))
        .copied()
        .unwrap_or(1024)
}

/// The prompt of a benign or look-alike event. Campaign events are
/// rendered by `campaign::prompt`.
pub fn prompt(a: &Actor, e: &Event, c: &Corpus, seed: u64) -> Prompt {
    // Same seed for every turn of a session: the opening repeats, the
    // conversation grows.
    let mut rng = Rng::derive(seed, "content", e.seed);
    let mut p = Prompt {
        max_tokens: person_max_tokens(&mut rng),
        n: 1,
        ..Prompt::default()
    };
    match a.kind {
        Kind::Individual { step } | Kind::Office { step } => {
            let (first, second) = opening(&mut rng, c);
            p.turns = conversation(&mut rng, first, second, e.turn, step);
        }
        Kind::Persona { persona } => {
            let first = c.personas.get(persona).cloned().unwrap_or_default();
            p.turns = conversation(&mut rng, first, None, e.turn, false);
        }
        Kind::PopularApp => {
            p.system = Some(APP_SYSTEM.to_owned());
            let (first, second) = opening(&mut rng, c);
            p.turns = conversation(&mut rng, first, second, e.turn, false);
            p.temperature = Some(0.7);
            p.stream = true;
        }
        Kind::Batch { job, .. } => {
            let review = format!(
                "The {} {}.",
                rng.pick(&PRODUCTS).copied().unwrap_or_default(),
                rng.pick(&OPINIONS).copied().unwrap_or_default()
            );
            let text = if job == 0 {
                format!("Classify the sentiment of this review as positive, negative or neutral. Answer with one word.\n\nReview: {review} (order #{})", rng.range(100_000, 999_999))
            } else {
                format!("Classify this review: {review}\nCategories: quality, shipping, price, support, other. Reply with the category only.")
            };
            p.turns = vec![text];
            p.max_tokens = BATCH_JOBS.get(job).map(|j| j.max_tokens).unwrap_or(8);
            p.temperature = Some(0.0);
        }
        Kind::Harness => {
            let item = (e.seed as usize) % HARNESS_ITEMS.min(c.gsm8k.len().max(1));
            let q = c.gsm8k.get(item).cloned().unwrap_or_default();
            p.turns = vec![format!("Q: {q}\nA: Let's think step by step.")];
            p.max_tokens = 512;
            p.temperature = Some(0.0);
        }
        Kind::Campaign { .. } => {}
    }
    p
}
