//! The native command-line tool: `replay` a trace through the engine,
//! `simulate` labelled traffic, `evaluate` decisions against labels,
//! `identity` for allowlists, `check-config`. Run without arguments for
//! usage.

use std::path::PathBuf;
use std::process::ExitCode;

use distill_guard::config;
use distill_guard::engine::Engine;
use distill_guard::fleet;
use distill_guard::identity::key_for_credential;
use distill_guard::replay::{self, evaluate, input};
use distill_guard::sim::{self, corpus::Corpus};

const USAGE: &str = "usage:
  distill-guard replay --config CONFIG --trace TRACE [--out DECISIONS]
                       [--hosts N] [--spread request|account] [--sync-secs S] [--redis URL]
  distill-guard simulate --seed N --days D --out TRACE [--scale S] [--data DIR] [--scenario default|heldout]
  distill-guard evaluate --trace TRACE --decisions DECISIONS [--json]
  distill-guard identity --config CONFIG --credential X
  distill-guard check-config CONFIG
  distill-guard import [--out TRACE] FILE|DIR...   (HAR, Envoy tap JSON; --help)
  distill-guard report --trace TRACE --decisions DECISIONS [--out report.html]   (--help)
  distill-guard flood --config CONFIG --trace TRACE --kind none|identities|templates|forged_xff|framing|framing_refused|eviction [--count N] [--seed N] [--json] [--decisions FILE]
  distill-guard fleet-sync --redis URL --listen ADDR:PORT [--secret-file FILE] [--path /v1/sync]
                           [--prefix dgfleet] [--threads 4] [--max-records 4096] [--ttl-secs 172800]
                           [--limit-window-secs 600] [--memory-half-life-secs 1209600] [--window-secs 86400]
    (the last three: the filters' detection.* values, how their decayed counts fade in merges)
    (the secret: --secret-file, or DISTILL_GUARD_FLEET_SECRET; URL: redis://host:port,
     or several comma-separated node URLs / redis+cluster://host:port for Redis Cluster)
TRACE `-` is standard input; names ending in .gz are gzip.";

/// `--name value` options and bare flags after the subcommand.
struct Args {
    pairs: Vec<(String, Option<String>)>,
    positional: Vec<String>,
}

impl Args {
    fn parse(raw: &[String], flags: &[&str]) -> Result<Args, String> {
        let mut pairs = Vec::new();
        let mut positional = Vec::new();
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                if flags.contains(&name) {
                    pairs.push((name.to_owned(), None));
                } else {
                    let v = it.next().ok_or(format!("--{name} needs a value"))?;
                    pairs.push((name.to_owned(), Some(v.clone())));
                }
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Args { pairs, positional })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    fn need(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or(format!("missing --{name}"))
    }

    fn flag(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: Option<T>) -> Result<T, String> {
        match self.get(name) {
            Some(v) => v.parse().map_err(|_| format!("--{name}: not a number: {v}")),
            None => default.ok_or(format!("missing --{name}")),
        }
    }
}

fn load_engine(path: &str) -> Result<Engine, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Engine::from_config(&bytes).map_err(|e| format!("{path}: {e}"))
}

fn cmd_replay(a: &Args) -> Result<(), String> {
    let engine = load_engine(a.need("config")?)?;
    let trace_path = a.need("trace")?;
    let mut trace = input::open_read_progress(trace_path, "replay").map_err(|e| e.to_string())?;
    let mut out = input::open_write(a.get("out")).map_err(|e| e.to_string())?;
    let hosts: usize = a.number("hosts", Some(1))?;
    if hosts == 0 || hosts > 1024 {
        return Err("--hosts must be between 1 and 1024".to_owned());
    }
    let opts = replay::fleet::Options {
        hosts,
        spread: a.get("spread").unwrap_or("request").parse()?,
        sync_secs: a.number("sync-secs", Some(0))?,
    };
    if hosts == 1 {
        // One host: exactly the single-Envoy replay.
        // Errors name the file as well as the line: a backtest reads many.
        let summary = replay::run(&engine, &mut trace, &mut out).map_err(|e| format!("{trace_path}: {e}"))?;
        drop(out);
        eprint!("{}", summary.render());
        return Ok(());
    }
    let (summary, stats) = match a.get("redis") {
        None => replay::fleet::run(
            &engine,
            &mut trace,
            &mut out,
            opts,
            &mut fleet::hub::MemoryBackend::default(),
        ),
        Some(url) => {
            let mut backend = distill_guard::service::redis_backend::RedisBackend::connect(url, "dgreplay")?;
            backend.clear()?;
            replay::fleet::run(&engine, &mut trace, &mut out, opts, &mut backend)
        }
    }
    .map_err(|e| format!("{trace_path}: {e}"))?;
    drop(out);
    eprint!("{}", summary.render());
    eprint!("{}", stats.render(hosts));
    Ok(())
}

fn cmd_simulate(a: &Args) -> Result<(), String> {
    let opts = sim::Options {
        seed: a.number("seed", None)?,
        days: a.number("days", Some(3))?,
        scale: a.number("scale", Some(1.0))?,
    };
    if !(opts.scale > 0.0 && opts.scale <= 100.0) || opts.days == 0 {
        return Err("--scale must be in (0, 100] and --days at least 1".to_owned());
    }
    let scenario = a.get("scenario").unwrap_or("default");
    if !matches!(scenario, "default" | "heldout") {
        return Err(format!("--scenario: unknown scenario {scenario} (default, heldout)"));
    }
    let data = PathBuf::from(a.get("data").unwrap_or("../shared/data"));
    let corpus =
        Corpus::load(&data).map_err(|e| format!("loading corpora from {}: {e} (set --data)", data.display()))?;
    let mut out = input::open_write(Some(a.need("out")?)).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let stats = if scenario == "heldout" {
        sim::heldout::generate(&opts, &corpus, &mut out)
    } else {
        sim::generate(&opts, &corpus, &mut out)
    }
    .map_err(|e| e.to_string())?;
    drop(out);
    eprintln!(
        "simulated {} requests from {} accounts over {} days in {:.2} s",
        stats.requests,
        stats.accounts,
        opts.days,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cmd_evaluate(a: &Args) -> Result<(), String> {
    let (trace_path, decisions_path) = (a.need("trace")?, a.need("decisions")?);
    let mut trace = input::open_read(trace_path).map_err(|e| e.to_string())?;
    let mut decisions = input::open_read(decisions_path).map_err(|e| e.to_string())?;
    let report = evaluate::evaluate(&mut trace, &mut decisions)
        .map_err(|e| format!("{e} (trace {trace_path}, decisions {decisions_path})"))?;
    if a.flag("json") {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print!("{}", evaluate::render(&report));
    }
    Ok(())
}

fn cmd_identity(a: &Args) -> Result<(), String> {
    let path = a.need("config")?;
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let settings = config::load(&bytes).map_err(|e| format!("{path}: {e}"))?;
    println!("{}", key_for_credential(&settings, a.need("credential")?));
    Ok(())
}

fn cmd_check_config(a: &Args) -> Result<(), String> {
    let path = a
        .positional
        .first()
        .map(String::as_str)
        .or(a.get("config"))
        .ok_or("missing CONFIG")?;
    load_engine(path)?;
    println!("OK");
    Ok(())
}

fn cmd_fleet_sync(a: &Args) -> Result<(), String> {
    let secret = match a.get("secret-file") {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?,
        None => std::env::var("DISTILL_GUARD_FLEET_SECRET")
            .map_err(|_| "no secret: give --secret-file or set DISTILL_GUARD_FLEET_SECRET".to_owned())?,
    };
    let secret = secret.trim_end_matches(['\n', '\r']);
    if secret.len() < 16 {
        return Err("the fleet secret must be at least 16 bytes (the same as fleet.secret)".to_owned());
    }
    let max_records: usize = a.number("max-records", Some(4_096))?;
    if max_records == 0 || max_records as u64 > fleet::settings::MAX_RECORDS {
        return Err(format!(
            "--max-records must be between 1 and {}",
            fleet::settings::MAX_RECORDS
        ));
    }
    let ttl_secs: u64 = a.number("ttl-secs", Some(2 * 86_400))?;
    distill_guard::service::server::serve(distill_guard::service::server::Options {
        redis: a.need("redis")?.to_owned(),
        listen: a.need("listen")?.to_owned(),
        path: a.get("path").unwrap_or("/v1/sync").to_owned(),
        prefix: a.get("prefix").unwrap_or("dgfleet").to_owned(),
        key: fleet::wire::MacKey::from_secret(secret.as_bytes()),
        threads: a.number("threads", Some(4))?,
        max_records,
        ttl_ms: ttl_secs.max(1) * 1_000,
        fades: fleet::merge::Fades {
            limit_window_secs: a.number(
                "limit-window-secs",
                Some(fleet::merge::Fades::DEFAULT.limit_window_secs),
            )?,
            memory_half_life_secs: a.number(
                "memory-half-life-secs",
                Some(fleet::merge::Fades::DEFAULT.memory_half_life_secs),
            )?,
            window_secs: a.number("window-secs", Some(fleet::merge::Fades::DEFAULT.window_secs))?,
        },
    })
}

/// A labelled trace replayed under a flood (src/sim/flood_bench.rs).
fn cmd_flood(a: &Args) -> Result<(), String> {
    use distill_guard::sim::{flood::FloodKind, flood_bench};
    let engine = load_engine(a.need("config")?)?;
    let kind = match a.need("kind")? {
        "none" => None,
        k => Some(FloodKind::parse(k).ok_or(format!("--kind: unknown flood {k}"))?),
    };
    let opts = flood_bench::FloodOptions {
        kind,
        count: a.number("count", Some(1_000_000))?,
        seed: a.number("seed", Some(1))?,
    };
    let trace = a.need("trace")?.to_owned();
    let started = std::time::Instant::now();
    let (report, decisions) = flood_bench::run_keeping(&engine, &|| input::open_read(&trace), &opts)?;
    if let Some(path) = a.get("decisions") {
        std::fs::write(path, &decisions).map_err(|e| format!("--decisions {path}: {e}"))?;
    }
    if a.flag("json") {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print!("{}", flood_bench::render(&report));
    }
    eprintln!("flood {}: {:.1} s", report.kind, started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = Args::parse(rest, &["json", "help"]).and_then(|a| match cmd.as_str() {
        // `--help` on a subcommand without its own help: the usage.
        c if a.flag("help") && !matches!(c, "import" | "report") => {
            println!("{USAGE}");
            Ok(())
        }
        "replay" => cmd_replay(&a),
        "simulate" => cmd_simulate(&a),
        "evaluate" => cmd_evaluate(&a),
        "identity" => cmd_identity(&a),
        "check-config" => cmd_check_config(&a),
        "import" => distill_guard::import::cli::run(&a.positional, a.get("out"), a.flag("help")),
        "report" => distill_guard::report::cli::run(
            a.get("trace"),
            a.get("decisions"),
            a.get("out"),
            a.get("skeleton-tokens"),
            a.flag("help"),
        ),
        "flood" => cmd_flood(&a),
        "fleet-sync" => cmd_fleet_sync(&a),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n{USAGE}")),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("distill-guard: {e}");
            ExitCode::FAILURE
        }
    }
}
