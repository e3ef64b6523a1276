//! Tests of [`Detector::assess`] as a whole: the shared-data call budget,
//! store failures, disabled detection.

use super::slots::IDENTITY_TABLE;
use super::*;
use crate::api::{Api, Endpoint, GenParams, Provider, RequestView, Role, Turn};
use crate::clock::ManualClock;
use crate::hash::fingerprint;
use crate::metrics::{Counter, MemoryMetrics};
use crate::store::counters::slot_key;
use crate::store::{MemoryStore, SharedStore, StoreError, Versioned};
use std::cell::Cell;
use wasm_bindgen_test::wasm_bindgen_test;

/// Counts host calls.
#[derive(Default)]
struct Counting {
    inner: MemoryStore,
    calls: Cell<usize>,
}
impl SharedStore for Counting {
    fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.calls.set(self.calls.get() + 1);
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &[u8], cas: u32) -> Result<(), StoreError> {
        self.calls.set(self.calls.get() + 1);
        self.inner.set(key, value, cas)
    }
}

fn identity(n: u64) -> Identity {
    Identity {
        key: format!("k:{n:016x}"),
        hash: fingerprint(&n.to_le_bytes()),
        kind: crate::identity::IdentityKind::Credential,
        client_ip: Some(std::net::IpAddr::from([198, 51, 100, (n % 200) as u8])),
        tls_fingerprint: None,
        user_agent: None,
    }
}

fn view(text: &str) -> RequestView {
    RequestView {
        api: Api {
            provider: Provider::OpenAi,
            endpoint: Endpoint::ChatCompletions,
        },
        model: None,
        system: "You are a helpful assistant.".into(),
        turns: vec![Turn {
            role: Some(Role::User),
            text: text.into(),
            ..Turn::default()
        }],
        params: GenParams::default(),
        truncated: false,
    }
}

/// One request of `id` at `now`, against `store`, counting into `metrics`.
fn assess(
    d: &Detector,
    store: &dyn SharedStore,
    metrics: &MemoryMetrics,
    id: &Identity,
    view: Option<&RequestView>,
    now: f64,
) -> Assessment {
    let clock = ManualClock::new(now);
    let host = Host {
        store,
        clock: &clock,
        metrics,
    };
    let meta = RequestMeta::default();
    let obs = Observation {
        identity: id,
        view,
        meta: &meta,
        now,
    };
    d.assess(&obs, &host)
}

#[wasm_bindgen_test(unsupported = test)]
fn at_most_eight_shared_data_calls_per_request() {
    let (store, metrics) = (Counting::default(), MemoryMetrics::default());
    let d = Detector::with_namespace(config::DetectionSettings::default(), "t");
    for i in 0..50u64 {
        let before = store.calls.get();
        let v = view(&format!(
            "Please solve problem {i} about trains and think step by step, justify each step."
        ));
        assess(&d, &store, &metrics, &identity(i), Some(&v), 1.0e9 + i as f64);
        assert!(store.calls.get() - before <= 8, "{} calls", store.calls.get() - before);
    }
    // Unparsed body, unknown address: the identity slot only.
    let before = store.calls.get();
    let id = Identity {
        client_ip: None,
        ..identity(1)
    };
    assess(&d, &store, &metrics, &id, None, 1.0e9);
    assert_eq!(store.calls.get() - before, 2);
    assert_eq!(metrics.snapshot(), vec![]);
}

#[wasm_bindgen_test(unsupported = test)]
fn store_errors_are_counted_and_scoring_goes_on() {
    struct Broken;
    impl SharedStore for Broken {
        fn get(&self, _: &str) -> Result<Option<Versioned>, StoreError> {
            Err(StoreError::Host)
        }
        fn set(&self, _: &str, _: &[u8], _: u32) -> Result<(), StoreError> {
            Err(StoreError::Host)
        }
    }
    let metrics = MemoryMetrics::default();
    let d = Detector::new(config::DetectionSettings::default());
    let id = identity(3);
    let v = view("Articulate the internal reasoning in <thinking> tags, step by step, for this task.");
    let a = assess(&d, &Broken, &metrics, &id, Some(&v), 1.0e9);
    assert!(a.score > 0.0 && a.score < 0.4, "{a:?}");
    assert_eq!(metrics.get(Counter::StoreError), 4);
    // A value of the wrong layout is an error too, not a silent zero.
    let store = MemoryStore::new();
    store
        .set(&slot_key("dg", IDENTITY_TABLE, id.hash % 16_384), b"junk", 0)
        .unwrap();
    assess(&d, &store, &metrics, &id, None, 1.0e9);
    assert_eq!(metrics.get(Counter::StoreError), 5);
}

#[wasm_bindgen_test(unsupported = test)]
fn disabled_detection_scores_nothing() {
    let settings = config::DetectionSettings {
        enabled: false,
        ..config::DetectionSettings::default()
    };
    let (store, metrics) = (Counting::default(), MemoryMetrics::default());
    let v = view("internal reasoning step by step in <thinking> tags");
    let a = assess(&Detector::new(settings), &store, &metrics, &identity(1), Some(&v), 1.0);
    assert_eq!(a, Assessment::default());
    assert_eq!(store.calls.get(), 0);
}
