#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers: a panic is a failed test
//! The built `distill-guard` binary against small fixture traces: decisions
//! in order with valid fields, gzip and stdin input, and every malformed-line
//! case failing with the line number.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_distill-guard");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/traces")
        .join(name)
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dg-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn config(doc: &str) -> PathBuf {
    let p = tmp(&format!(
        "config-{:x}.json",
        distill_guard::hash::fingerprint(doc.as_bytes())
    ));
    // Tests run in parallel and may write the same config: write a private
    // file and rename it into place, so no test ever reads a half-written one.
    let part = p.with_extension(format!("part-{:?}", std::thread::current().id()));
    std::fs::write(&part, doc).unwrap();
    std::fs::rename(&part, &p).unwrap();
    p
}

fn replay(trace: &str, stdin: Option<&[u8]>) -> Output {
    let cfg = config(r#"{"mode": "enforce", "identity": {"secret": "replay-secret"}}"#);
    let mut child = Command::new(BIN)
        .args(["replay", "--config", cfg.to_str().unwrap(), "--trace", trace])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn decisions(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn assert_valid(ds: &[Value], n: usize) {
    assert_eq!(ds.len(), n);
    for (i, d) in ds.iter().enumerate() {
        assert_eq!(d["i"].as_u64(), Some(i as u64));
        let action = d["action"].as_str().unwrap();
        assert!(["allow", "tag", "throttle", "block"].contains(&action));
        assert_eq!(d.get("status").is_some(), action == "throttle" || action == "block");
        let score = d["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score));
        assert!(d["reasons"].as_array().unwrap().iter().all(Value::is_string));
        let id = d["identity"].as_str().unwrap();
        assert!(id.starts_with("k:") || id.starts_with("anon:"), "{id}");
        assert!(!id.contains("sk-"), "raw credential in identity");
    }
}

#[test]
fn good_trace_gives_one_decision_per_line_in_order() {
    let out = replay(fixture("good.jsonl").to_str().unwrap(), None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ds = decisions(&out);
    assert_valid(&ds, 5);
    // Same credential, same identity; different credentials differ.
    assert_eq!(ds[0]["identity"], ds[4]["identity"]);
    assert_ne!(ds[0]["identity"], ds[1]["identity"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("requests: 5") && err.contains("identities seen: 4") && err.contains("requests/s"),
        "{err}"
    );
}

#[test]
fn gzip_and_stdin_give_the_same_decisions() {
    let text = std::fs::read(fixture("good.jsonl")).unwrap();
    let gz = tmp("good.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(&text).unwrap();
    enc.finish().unwrap();
    let plain = replay(fixture("good.jsonl").to_str().unwrap(), None);
    let zipped = replay(gz.to_str().unwrap(), None);
    let piped = replay("-", Some(&text));
    assert!(zipped.status.success() && piped.status.success());
    assert_eq!(decisions(&plain), decisions(&zipped));
    assert_eq!(decisions(&plain), decisions(&piped));
}

#[test]
fn out_file_receives_the_decisions() {
    let cfg = config("{}");
    let dest = tmp("decisions.jsonl");
    let out = Command::new(BIN)
        .args([
            "replay",
            "--config",
            cfg.to_str().unwrap(),
            "--trace",
            fixture("good.jsonl").to_str().unwrap(),
            "--out",
            dest.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(dest).unwrap().lines().count(), 5);
}

#[test]
fn malformed_lines_fail_naming_the_file_and_line() {
    for (file, line, what) in [
        ("bad_json.jsonl", 3, "invalid JSON"),
        ("missing_ts.jsonl", 2, "`ts`"),
        ("decreasing_ts.jsonl", 3, "never decrease"),
        ("both_bodies.jsonl", 2, "both `body` and `body_base64`"),
        ("bad_base64.jsonl", 3, "base64"),
    ] {
        let out = replay(fixture(file).to_str().unwrap(), None);
        assert!(!out.status.success(), "{file} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{file}: trace line {line}:")) && err.contains(what),
            "{file}: {err}"
        );
    }
}

#[test]
fn identity_and_check_config() {
    let cfg = config(r#"{"mode": "enforce", "identity": {"secret": "replay-secret"}}"#);
    let out = Command::new(BIN)
        .args([
            "identity",
            "--config",
            cfg.to_str().unwrap(),
            "--credential",
            "sk-test-alice",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap();
    let replayed = decisions(&replay(fixture("good.jsonl").to_str().unwrap(), None));
    assert_eq!(key.trim(), replayed[0]["identity"].as_str().unwrap());

    let ok = Command::new(BIN)
        .args(["check-config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(ok.status.success() && String::from_utf8_lossy(&ok.stdout).trim() == "OK");
    let bad = config(r#"{"mode": "sometimes"}"#);
    let out = Command::new(BIN)
        .args(["check-config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mode"));
}

/// The framing trace of tests/e2e/test_framing.py, as lines: 40 tokens in
/// one /24 sending an app's template with long outputs, the app's key in
/// between; with `refused`, the framers' lines record the upstream's 401.
fn framing_trace(refused: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ts = 1_767_225_600.0;
    let mut k = 0u64;
    let mut line = |key: &str, ip: &str, max_tokens: Option<u64>, status: Option<u16>, ts: f64, k: u64| {
        let mut body = serde_json::json!({"model": "gpt-4o", "messages": [{"role": "user", "content":
            format!("Summarize the following customer review for the support dashboard in three short bullet points: review number {k} {}", k * 7_919 % 1_000)}]});
        if let Some(m) = max_tokens {
            body["max_tokens"] = m.into();
        }
        let mut doc = serde_json::json!({"ts": ts, "path": "/v1/chat/completions",
            "headers": {"authorization": format!("Bearer {key}")}, "source_ip": ip, "body": body.to_string()});
        if let Some(s) = status {
            doc["response"] = serde_json::json!({"status": s});
        }
        out.extend_from_slice(doc.to_string().as_bytes());
        out.push(b'\n');
    };
    for _ in 0..8 {
        for i in 0..40u64 {
            k += 1;
            ts += 0.2;
            let status = refused.then_some(401);
            line(
                &format!("sk-random-{i}"),
                &format!("203.0.113.{}", i + 1),
                Some(16_000),
                status,
                ts,
                k,
            );
        }
        for _ in 0..5 {
            k += 1;
            ts += 0.2;
            line("sk-app-production", "192.0.2.50", None, refused.then_some(200), ts, k);
        }
    }
    out
}

/// `replay` reads `response.status` as the filter reads the upstream's
/// `:status`: once a token's 401 is recorded it counts in no cluster (its
/// later requests see no sharing); without the 401s every forwarded line
/// counts as answered 200 and the tokens form a shared template. The app's
/// key is allowed either way (crowding and harvest are charged by its own
/// part: its own address, its own ordinary outputs).
#[test]
fn replay_reads_the_upstream_status() {
    let run = |refused: bool| -> Vec<Value> {
        let out = replay("-", Some(&framing_trace(refused)));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ds = decisions(&out);
        assert_eq!(ds.len(), 8 * 45);
        ds
    };
    let shared = |ds: &[Value], framers: bool| {
        ds.iter()
            .enumerate()
            .filter(|(i, _)| *i >= 45 && (i % 45 < 40) == framers)
            .filter(|(_, d)| {
                d["reasons"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "template_shared_across_accounts")
            })
            .count()
    };
    let app_allowed = |ds: &[Value]| {
        ds.iter()
            .enumerate()
            .filter(|(i, _)| i % 45 >= 40)
            .all(|(_, d)| d["action"] == "allow")
    };
    let (refused, accepted) = (run(true), run(false));
    assert_eq!(shared(&refused, true), 0, "refused tokens still counted as sharing");
    assert!(shared(&accepted, true) > 200, "{}", shared(&accepted, true));
    assert!(app_allowed(&refused) && app_allowed(&accepted));
}
