//! What the distillation campaigns send: a few templates whose slots are
//! filled from seed sets (GSM8K, HumanEval, self-instruct), reasoning
//! elicitation, generator prompts (airoboros, alpaca), Chinese templates, and
//! an adaptive campaign that paraphrases every request.

use super::actor::Event;
use super::client::Prompt;
use super::corpus::Corpus;
use super::params::{Campaign, Style};
use super::rng::Rng;

/// The low-and-slow hydra's templates; `{p}` is the seed item.
const TEMPLATES: [&str; 4] = [
    "{p}\n\nImagine and articulate the internal reasoning behind a completed response to the task above, and write it out step by step before giving the final answer.",
    "Solve the following problem. Think step by step and justify your steps. Put your full reasoning inside <thinking></thinking> tags, then give the final answer.\n\nProblem: {p}",
    "You are an expert programmer. Complete the following function. First explain your reasoning step by step in detail, then give the full implementation.\n\n{p}",
    "Task: {p}\n\nWrite a high-quality response. Before answering, lay out your complete chain of thought step by step.",
];

const CHINESE: [&str; 4] = [
    "请一步一步地详细解释你的推理过程，并把完整的思考过程写在<thinking>标签中，然后给出最终答案。\n\n题目：{p}",
    "你是一名资深数学老师。请想象并完整地写出得出正确答案的内部推理过程，逐步说明每一步的理由。\n\n问题：{p}",
    "请完成下面的函数，先逐步分析思路，再给出完整代码：\n\n{p}",
    "任务：{p}\n请先详细写出你的思考过程（逐步推理），再给出高质量的回答。",
];

/// Pieces the adaptive campaign recombines so no two requests share a
/// template verbatim.
const OPENERS: [&str; 6] = [
    "Could you",
    "Please",
    "I'd love it if you could",
    "Would you mind if you",
    "Hey, can you",
    "Can you please",
];
const VERBS: [&str; 6] = [
    "walk me through",
    "talk through",
    "explain",
    "lay out",
    "break down",
    "spell out",
];
const OBJECTS: [&str; 5] = [
    "how you'd reason about this",
    "the thinking behind the answer",
    "your approach",
    "how to work this out",
    "each step you take",
];
const CLOSERS: [&str; 5] = [
    "before the answer",
    "and show the intermediate steps",
    "one piece at a time",
    "in detail",
    "",
];

const TOPICS: [&str; 8] = [
    "history",
    "biology",
    "economics",
    "astronomy",
    "cooking",
    "law",
    "music theory",
    "chemistry",
];

/// A seed item for template slots, by the template's kind (maths, code or
/// general task).
fn seed_item(rng: &mut Rng, c: &Corpus, template: usize) -> String {
    let pick = |rng: &mut Rng, v: &[String]| rng.pick(v).cloned().unwrap_or_default();
    match template {
        0 | 1 => pick(rng, &c.gsm8k),
        2 => pick(rng, &c.humaneval),
        _ => pick(rng, &c.self_instruct),
    }
}

/// Fills airoboros `{slot}`s the way its generator script does.
fn fill_generator(rng: &mut Rng, text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        let Some(close) = tail.find('}').filter(|&i| i < 40) else {
            out.push('{');
            rest = tail.get(1..).unwrap_or("");
            continue;
        };
        let name = tail.get(1..close).unwrap_or("");
        let value = match name {
            "batch_size" | "question_count" => rng.range(5, 20).to_string(),
            "language" => "English".to_owned(),
            "flesch" => {
                "The output should be written in such a way as to have a Flesch-Kincaid readability score of roughly 60"
                    .to_owned()
            }
            "topics" => rng.pick(&TOPICS).copied().unwrap_or_default().to_owned(),
            _ => String::new(),
        };
        out.push_str(&value);
        rest = tail.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn paraphrase(rng: &mut Rng, c: &Corpus) -> String {
    let kind = rng.below(4);
    let item = seed_item(rng, c, kind);
    let ask = format!(
        "{} {} {} {}",
        rng.pick(&OPENERS).copied().unwrap_or_default(),
        rng.pick(&VERBS).copied().unwrap_or_default(),
        rng.pick(&OBJECTS).copied().unwrap_or_default(),
        rng.pick(&CLOSERS).copied().unwrap_or_default()
    );
    let ask = format!("{}?", ask.trim_end());
    let ask = if rng.chance(0.3) { ask.to_lowercase() } else { ask };
    if rng.chance(0.5) {
        format!("{ask}\n\n{item}")
    } else {
        format!("{item}\n\n{ask}")
    }
}

/// The prompt of a campaign event.
pub fn prompt(camp: &Campaign, e: &Event, c: &Corpus, seed: u64) -> Prompt {
    let mut rng = Rng::derive(seed, camp.group, e.seed);
    let n = if rng.chance(camp.multi_sample) { 4 } else { 1 };
    let mut p = Prompt {
        max_tokens: camp.max_tokens,
        temperature: Some(1.0),
        n,
        ..Prompt::default()
    };
    let fill = |rng: &mut Rng, set: &[&str]| {
        let t = rng.below(set.len());
        let item = seed_item(rng, c, t);
        set.get(t).copied().unwrap_or("{p}").replace("{p}", &item)
    };
    let text = match camp.style {
        Style::Templates => fill(&mut rng, &TEMPLATES),
        Style::Chinese => fill(&mut rng, &CHINESE),
        Style::Generator => {
            let x = rng.f64();
            if x < 0.15 {
                c.alpaca.clone()
            } else if x < 0.6 {
                let name = ["cot", "orca", "coding", "general", "plan", "agent"]
                    .get(rng.below(6))
                    .copied()
                    .unwrap_or("cot");
                fill_generator(&mut rng, c.airoboros(name).unwrap_or_default())
            } else {
                fill(&mut rng, &TEMPLATES)
            }
        }
        Style::Paraphrase => {
            if rng.chance(camp.ordinary_share) {
                p.max_tokens = 1024;
                p.temperature = Some(0.7);
                let pick = |rng: &mut Rng, v: &[String]| rng.pick(v).cloned().unwrap_or_default();
                if rng.chance(0.5) {
                    pick(&mut rng, &c.arena)
                } else {
                    pick(&mut rng, &c.self_instruct)
                }
            } else {
                p.max_tokens = [2048, 3000, 4096].get(rng.below(3)).copied().unwrap_or(4096);
                paraphrase(&mut rng, c)
            }
        }
    };
    p.turns = vec![text];
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_slots_are_filled() {
        let mut rng = Rng::new(1);
        let s = fill_generator(
            &mut rng,
            "Give {batch_size} items in {language}. Keep {braces like this that are long and not slots at all, ok}.",
        );
        assert!(!s.contains("{batch_size}") && !s.contains("{language}") && s.contains("English"));
        assert!(s.contains("{braces"));
    }
}
