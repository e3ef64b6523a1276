#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test helpers: a panic is a failed test
//! `replay --hosts`: one host through the fleet path decides byte for byte
//! as the single-Envoy replay; and a campaign whose keys are spread over
//! three hosts (about ten keys each, too few on any one host) is denied as
//! on one host only when the hosts sync.

use std::io::Cursor;

use distill_guard::engine::Engine;
use distill_guard::fleet::hub::MemoryBackend;
use distill_guard::replay::{self, fleet};

const NAMES: [&str; 6] = ["Natalia", "Weng", "Betty", "Julie", "James", "Ken"];

/// 30 keys behind one /24 sending a templated reasoning harvest, one
/// request every 2 s, keys in turn; app users with their own questions
/// between them.
fn trace() -> String {
    let mut out = String::new();
    let mut ts = 1_700_000_000.0;
    for i in 0..600u64 {
        let a = i % 30;
        let (name, n) = (NAMES[(i % 6) as usize], 17 + (i * 7919) % 400);
        let text = format!(
            "Imagine and articulate the internal reasoning behind a completed response to the following problem and write it out step by step: {name} collected {n} apples in April and {} times as many in May. How many apples does {name} have?",
            2 + i % 7
        );
        let body = serde_json::json!({"model": "gpt-4o", "max_tokens": 16000, "messages": [{"role": "user", "content": text}]});
        let line = serde_json::json!({
            "ts": ts, "method": "POST", "path": "/v1/chat/completions",
            "headers": {"authorization": format!("Bearer sk-harvest-{a:02}")},
            "source_ip": format!("198.51.100.{}", a + 1), "body": body.to_string(),
        });
        out.push_str(&line.to_string());
        out.push('\n');
        ts += 1.0;
        let q = format!(
            "What should I cook tonight with {} eggs and some spinach, for {} people?",
            i % 9,
            i % 5 + 1
        );
        let body = serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": q}]});
        let line = serde_json::json!({
            "ts": ts, "method": "POST", "path": "/v1/chat/completions",
            "headers": {"authorization": format!("Bearer sk-user-{i:04}")},
            "source_ip": format!("100.{}.{}.7", 64 + i % 50, i % 250), "body": body.to_string(),
        });
        out.push_str(&line.to_string());
        out.push('\n');
        ts += 1.0;
    }
    out
}

fn engine() -> Engine {
    Engine::from_config(
        br#"{"mode": "enforce", "identity": {"secret": "fleet-test"}, "fleet": {"secret": "0123456789abcdef0123"}}"#,
    )
    .unwrap()
}

fn single(t: &str) -> Vec<u8> {
    let mut out = Vec::new();
    replay::run(&engine(), &mut Cursor::new(t.as_bytes()), &mut out).unwrap();
    out
}

fn fleet_run(t: &str, hosts: usize, sync_secs: u64) -> (Vec<u8>, fleet::SyncStats) {
    let mut out = Vec::new();
    let opts = fleet::Options {
        hosts,
        spread: fleet::Spread::Account,
        sync_secs,
    };
    let (_, stats) = fleet::run(
        &engine(),
        &mut Cursor::new(t.as_bytes()),
        &mut out,
        opts,
        &mut MemoryBackend::default(),
    )
    .unwrap();
    (out, stats)
}

/// (campaign requests denied, app requests denied).
fn denied(decisions: &[u8]) -> (usize, usize) {
    let mut out = (0, 0);
    for (i, line) in String::from_utf8_lossy(decisions).lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if matches!(v["action"].as_str(), Some("throttle" | "block")) {
            if i % 2 == 0 {
                out.0 += 1;
            } else {
                out.1 += 1;
            }
        }
    }
    out
}

#[test]
fn one_host_through_the_fleet_path_is_byte_identical() {
    let t = trace();
    assert_eq!(fleet_run(&t, 1, 5).0, single(&t));
}

#[test]
fn keys_spread_over_hosts_are_denied_as_on_one_host_when_the_hosts_sync() {
    let t = trace();
    let (one, _) = denied(&single(&t));
    let (apart, _) = fleet_run(&t, 3, 0);
    let (synced, stats) = fleet_run(&t, 3, 5);
    let (apart, synced) = (denied(&apart), denied(&synced));
    eprintln!("one host {one}, apart {apart:?}, synced {synced:?}");
    assert!(one > 400, "one host denies the campaign: {one}");
    // Apart, each host holds about ten of the keys: late and little
    // (measured 49 of 600); synced, about as much as one host with all.
    assert!(apart.0 * 5 < one, "hosts apart deny {apart:?}, one host {one}");
    assert!(synced.0 + 20 >= one, "synced hosts deny {synced:?}, one host {one}");
    assert_eq!(synced.1, 0, "app users are never denied");
    assert!(stats.syncs > 0 && stats.records_received > 0, "{stats:?}");
}
