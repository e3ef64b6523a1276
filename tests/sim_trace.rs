#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // test helpers: a panic is a failed test
//! The simulator's trace: reproducible from its seed, every line in the
//! trace format, every population labelled.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;

use distill_guard::sim::{self, corpus::Corpus};
use serde_json::Value;

fn corpus() -> Option<Corpus> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    dir.exists().then(|| Corpus::load(&dir).unwrap())
}

fn trace(c: &Corpus, seed: u64, days: u32, scale: f64) -> Vec<u8> {
    let mut out = Vec::new();
    sim::generate(&sim::Options { seed, days, scale }, c, &mut out).unwrap();
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let Some(c) = corpus() else { return };
    let a = trace(&c, 7, 1, 0.05);
    let b = trace(&c, 7, 1, 0.05);
    assert!(a.len() > 10_000);
    assert!(a == b, "same seed gave different traces");
    assert!(a != trace(&c, 8, 1, 0.05));
}

#[test]
fn every_line_is_a_valid_labelled_trace_line() {
    let Some(c) = corpus() else { return };
    let bytes = trace(&c, 3, 2, 0.1);
    let text = String::from_utf8(bytes).unwrap();
    let mut last = f64::MIN;
    let mut groups = BTreeSet::new();
    let mut lines = 0;
    for (n, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let ts = v["ts"].as_f64().unwrap();
        assert!(ts >= last, "line {}: ts decreases", n + 1);
        last = ts;
        assert_eq!(v["method"], "POST");
        let path = v["path"].as_str().unwrap();
        assert!(path.starts_with("/v1"), "{path}");
        let headers = v["headers"].as_object().unwrap();
        assert!(headers.keys().all(|k| *k == k.to_ascii_lowercase()));
        assert!(headers.contains_key("user-agent") && headers.contains_key("x-ja4"));
        assert!(["authorization", "x-api-key", "x-goog-api-key"]
            .iter()
            .any(|h| headers.contains_key(*h)));
        v["source_ip"].as_str().unwrap().parse::<IpAddr>().unwrap();
        let body: Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        assert!(body.get("messages").or(body.get("contents")).is_some());
        assert!(v.get("body_base64").is_none());
        let label = &v["label"];
        let class = label["class"].as_str().unwrap();
        assert!(class == "benign" || class == "campaign");
        assert!(!label["account"].as_str().unwrap().is_empty());
        groups.insert(label["group"].as_str().unwrap().to_owned());
        lines += 1;
    }
    assert!(lines > 1000);
    let expected = [
        "adaptive",
        "batch_job",
        "benchmark_harness",
        "chinese",
        "high_volume",
        "hydra_lowslow",
        "individual",
        "office_nat",
        "persona_prompts",
        "popular_app",
    ];
    assert_eq!(groups, expected.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>());
}

#[test]
fn campaigns_are_shaped_like_the_reports() {
    let Some(c) = corpus() else { return };
    let text = String::from_utf8(trace(&c, 5, 2, 0.2)).unwrap();
    let (mut chinese, mut chinese_cjk, mut hydra_elicit, mut hydra) = (0, 0, 0, 0);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let body = v["body"].as_str().unwrap();
        match v["label"]["group"].as_str().unwrap() {
            "chinese" => {
                chinese += 1;
                chinese_cjk += usize::from(body.contains('步'));
            }
            "hydra_lowslow" => {
                hydra += 1;
                let ok = body.to_lowercase().contains("step by step");
                hydra_elicit += usize::from(ok);
            }
            _ => {}
        }
    }
    assert!(
        chinese > 100 && chinese_cjk * 10 >= chinese * 9,
        "{chinese_cjk}/{chinese}"
    );
    assert!(hydra > 100 && hydra_elicit * 10 >= hydra * 9, "{hydra_elicit}/{hydra}");
}
