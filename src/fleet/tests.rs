//! Fleet mode through detection: the merged view raises what a request
//! sees across accounts, and costs no extra shared-data call.

use std::cell::{Cell, RefCell};

use super::exchange;
use super::hub::{self, Limits, MemoryBackend};
use super::touched::{Touched, Touching};
use super::wire::Request;
use crate::api::{Api, Endpoint, GenParams, Provider, RequestView, Role, Turn};
use crate::clock::ManualClock;
use crate::detect::{config::DetectionSettings, Assessment, Detector, Observation};
use crate::hash::fingerprint;
use crate::host::Host;
use crate::identity::{Identity, IdentityKind};
use crate::metrics::MemoryMetrics;
use crate::request::RequestMeta;
use crate::store::{MemoryStore, SharedStore, StoreError, Versioned};
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
        kind: IdentityKind::Credential,
        client_ip: Some(std::net::IpAddr::from([198, 51, 100, (n % 200) as u8])),
        tls_fingerprint: None,
        user_agent: None,
        organization: None,
    }
}

fn view(i: u64) -> RequestView {
    RequestView {
        api: Api {
            provider: Provider::OpenAi,
            endpoint: Endpoint::ChatCompletions,
        },
        model: None,
        system: String::new(),
        turns: vec![Turn {
            role: Some(Role::User),
            text: format!(
                "Imagine and articulate the internal reasoning behind a completed response to the following problem and write it out step by step: a train leaves at {i} and travels {} miles. When does it arrive?",
                i * 7 + 3
            ),
            ..Turn::default()
        }],
        params: GenParams::default(),
        truncated: false,
    }
}

fn assess(d: &Detector, store: &dyn SharedStore, id: u64, now: f64) -> Assessment {
    let clock = ManualClock::new(now);
    let metrics = MemoryMetrics::default();
    let host = Host {
        store,
        clock: &clock,
        metrics: &metrics,
    };
    let (ident, v, meta) = (identity(id), view(id), RequestMeta::default());
    d.assess(
        &Observation {
            identity: &ident,
            view: Some(&v),
            meta: &meta,
            now,
        },
        &host,
    )
}

/// Sends `store`'s touched records as `host` and writes the answer back.
fn sync(store: &dyn SharedStore, touched: &RefCell<Touched>, host: u64, cursor: u64, b: &mut MemoryBackend) -> u64 {
    let slots = touched.borrow_mut().take();
    let records = exchange::collect(store, "t", &slots, 4_096);
    let limits = Limits {
        max_records: 4_096,
        ttl_ms: u64::MAX,
        fades: super::merge::Fades::DEFAULT,
    };
    let (cursor, answer) = hub::sync(b, limits, &Request { host, cursor, records }).unwrap_or_default();
    for r in &answer {
        exchange::apply(store, "t", r).ok();
    }
    cursor
}

#[wasm_bindgen_test(unsupported = test)]
fn two_hosts_halves_are_judged_together_within_eight_calls() {
    let d = Detector::with_namespace(DetectionSettings::default(), "t");
    let (a, b) = (Counting::default(), Counting::default());
    let (ta, tb) = (RefCell::new(Touched::new(4_096)), RefCell::new(Touched::new(4_096)));
    let alone = MemoryStore::new();
    let mut backend = MemoryBackend::default();
    let t0 = 1.0e9;
    // Twelve accounts on each host, the same template.
    for i in 0..12u64 {
        let now = t0 + i as f64;
        assess(
            &d,
            &Touching {
                inner: &a,
                namespace: "t",
                touched: &ta,
            },
            i,
            now,
        );
        assess(&d, &alone, i, now);
        assess(
            &d,
            &Touching {
                inner: &b,
                namespace: "t",
                touched: &tb,
            },
            100 + i,
            now,
        );
    }
    let ca = sync(&a, &ta, 1, 0, &mut backend);
    sync(&b, &tb, 2, 0, &mut backend);
    sync(&a, &ta, 1, ca, &mut backend);
    // The next account on host A: the fleet shows 25 accounts, alone 13.
    let before = a.calls.get();
    let fleet = assess(&d, &a, 50, t0 + 20.0);
    assert!(a.calls.get() - before <= 8, "{} calls", a.calls.get() - before);
    let local = assess(&d, &alone, 50, t0 + 20.0);
    assert!(fleet.score > local.score + 0.1, "fleet {fleet:?} alone {local:?}");
}
