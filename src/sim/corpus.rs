//! The real prompts the simulated population sends, read from the shared
//! data directory (`../shared/data`, see its SOURCES.md). Texts are kept as
//! loaded; the simulator only picks and combines them.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::csv;

/// Persona prompts longer than this are skipped: a few in the CSV are
/// 100 KB+ and nobody pastes those in a chat box.
const MAX_PERSONA_CHARS: usize = 4000;

#[derive(Debug, Default)]
pub struct Corpus {
    /// Chatbot Arena prompts (technical questions people really ask).
    pub arena: Vec<String>,
    /// GSM8K test questions.
    pub gsm8k: Vec<String>,
    /// HumanEval coding prompts.
    pub humaneval: Vec<String>,
    /// MT-Bench two-turn conversations.
    pub mt_bench: Vec<Vec<String>>,
    /// Self-instruct seed tasks (instruction, plus input when present).
    pub self_instruct: Vec<String>,
    /// awesome-chatgpt-prompts personas, in file order (roughly popularity).
    pub personas: Vec<String>,
    /// airoboros generator prompts, by file stem.
    pub airoboros: Vec<(String, String)>,
    /// The self-instruct (alpaca) dataset-generation prompt.
    pub alpaca: String,
}

#[derive(Debug)]
pub struct CorpusError(pub String);

impl std::fmt::Display for CorpusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn read(path: &Path) -> Result<String, CorpusError> {
    fs::read_to_string(path).map_err(|e| CorpusError(format!("{}: {e}", path.display())))
}

/// Reads one string field from every line of a JSON Lines file.
fn jsonl(path: &Path, f: impl Fn(&Value) -> Option<String>) -> Result<Vec<String>, CorpusError> {
    let text = read(path)?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value =
            serde_json::from_str(line).map_err(|e| CorpusError(format!("{}:{}: {e}", path.display(), n + 1)))?;
        if let Some(s) = f(&v).filter(|s| !s.is_empty()) {
            out.push(s);
        }
    }
    Ok(out)
}

fn field(name: &'static str) -> impl Fn(&Value) -> Option<String> {
    move |v| v.get(name).and_then(Value::as_str).map(str::to_owned)
}

impl Corpus {
    /// Loads every corpus from `dir` (the shared `data` directory).
    pub fn load(dir: &Path) -> Result<Corpus, CorpusError> {
        let b = |f: &str| -> PathBuf { dir.join("benign").join(f) };
        let arena = jsonl(&b("arena_hard_v0.1.jsonl"), field("prompt"))?;
        let gsm8k = jsonl(&b("gsm8k_test.jsonl"), field("question"))?;
        let humaneval = jsonl(&b("humaneval.jsonl"), field("prompt"))?;
        let mt_text = read(&b("mt_bench.jsonl"))?;
        let mt_bench = mt_text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| {
                let turns: Vec<String> = v
                    .get("turns")?
                    .as_array()?
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect();
                (!turns.is_empty()).then_some(turns)
            })
            .collect();
        let self_instruct = jsonl(&b("self_instruct_seed_tasks.jsonl"), |v| {
            let instruction = v.get("instruction")?.as_str()?;
            let input = v.pointer("/instances/0/input").and_then(Value::as_str).unwrap_or("");
            Some(if input.is_empty() {
                instruction.to_owned()
            } else {
                format!("{instruction}\n\n{input}")
            })
        })?;
        let csv_text = read(&b("awesome_chatgpt_prompts.csv"))?;
        let rows = csv::parse(&csv_text);
        let col = rows
            .first()
            .and_then(|h| h.iter().position(|c| c == "prompt"))
            .unwrap_or(1);
        let personas = rows
            .iter()
            .skip(1)
            .filter_map(|r| r.get(col))
            .filter(|p| !p.is_empty() && p.chars().count() <= MAX_PERSONA_CHARS)
            .cloned()
            .collect();
        let tdir = dir.join("templates");
        let mut airoboros = Vec::new();
        let mut entries: Vec<PathBuf> = fs::read_dir(tdir.join("airoboros"))
            .map_err(|e| CorpusError(format!("{}: {e}", tdir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        // Directory order is not stable across file systems; the trace must be.
        entries.sort();
        for p in entries {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            airoboros.push((stem, read(&p)?));
        }
        let alpaca = read(&tdir.join("alpaca_generation_prompt.txt"))?;
        let corpus = Corpus {
            arena,
            gsm8k,
            humaneval,
            mt_bench,
            self_instruct,
            personas,
            airoboros,
            alpaca,
        };
        corpus.check()?;
        Ok(corpus)
    }

    fn check(&self) -> Result<(), CorpusError> {
        let empty = [
            ("arena", self.arena.is_empty()),
            ("gsm8k", self.gsm8k.is_empty()),
            ("humaneval", self.humaneval.is_empty()),
            ("mt_bench", self.mt_bench.is_empty()),
            ("self_instruct", self.self_instruct.is_empty()),
            ("personas", self.personas.is_empty()),
            ("airoboros", self.airoboros.is_empty()),
        ];
        match empty.iter().find(|(_, e)| *e) {
            Some((name, _)) => Err(CorpusError(format!("corpus {name} is empty"))),
            None => Ok(()),
        }
    }

    /// An airoboros generator prompt by name, with its `{batch_size}`-style
    /// slots filled as a generator script would.
    pub fn airoboros(&self, name: &str) -> Option<&str> {
        self.airoboros.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_shared_data_when_present() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
        if !dir.exists() {
            return;
        }
        let c = Corpus::load(&dir).unwrap();
        assert_eq!(c.gsm8k.len(), 1319);
        assert_eq!(c.humaneval.len(), 164);
        assert!(c.personas.len() > 1000, "{}", c.personas.len());
        assert!(c.airoboros("cot").is_some());
        assert!(c.mt_bench.iter().all(|t| t.len() == 2));
    }
}
