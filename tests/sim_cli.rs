#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test helpers: a panic is a failed test
//! simulate → replay → evaluate through the built binary, as the benchmark
//! script runs them.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_distill-guard");

#[test]
fn simulate_replay_evaluate_end_to_end() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if !data.exists() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("dg-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (trace, decisions, config) = (dir.join("t.jsonl.gz"), dir.join("d.jsonl"), dir.join("c.json"));
    std::fs::write(&config, r#"{"mode": "enforce", "identity": {"secret": "sim-secret"}}"#).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&[
        "simulate",
        "--seed",
        "4",
        "--days",
        "1",
        "--scale",
        "0.05",
        "--data",
        &s(&data),
        "--out",
        &s(&trace),
    ]);
    run(&[
        "replay",
        "--config",
        &s(&config),
        "--trace",
        &s(&trace),
        "--out",
        &s(&decisions),
    ]);
    let out = run(&[
        "evaluate",
        "--trace",
        &s(&trace),
        "--decisions",
        &s(&decisions),
        "--json",
    ]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let groups = report["groups"].as_array().unwrap();
    assert!(groups.iter().any(|g| g["class"] == "campaign"));
    let total: u64 = groups.iter().map(|g| g["requests"].as_u64().unwrap()).sum();
    assert_eq!(
        total,
        std::fs::read_to_string(&decisions).unwrap().lines().count() as u64
    );
    assert!(report["benign"]["accounts"].as_u64().unwrap() > 50);
}

#[test]
fn simulate_rejects_bad_options() {
    let out = Command::new(BIN)
        .args(["simulate", "--days", "1", "--out", "/dev/null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seed"));
}
