//! Shared by the integration tests that drive the whole engine against the
//! in-memory host with a manual clock, as the replay runs it.
#![allow(dead_code, clippy::unwrap_used)]

use distill_guard::clock::ManualClock;
use distill_guard::engine::{Decision, Engine, Host};
use distill_guard::metrics::MemoryMetrics;
use distill_guard::request::RequestMeta;
use distill_guard::store::MemoryStore;

/// One engine, its shared data, clock and metrics.
pub struct World {
    pub engine: Engine,
    pub store: MemoryStore,
    pub clock: ManualClock,
    pub metrics: MemoryMetrics,
}

impl World {
    /// An engine from the configuration document `config`, its clock at `t0`.
    pub fn new(config: &str, t0: f64) -> World {
        World {
            engine: Engine::from_config(config.as_bytes()).unwrap(),
            store: MemoryStore::new(),
            clock: ManualClock::new(t0),
            metrics: MemoryMetrics::default(),
        }
    }

    /// One request at `now`, decided (and answered 200 when forwarded).
    pub fn evaluate(&self, meta: RequestMeta, body: &[u8], now: f64) -> Decision {
        self.clock.set(now);
        let host = Host {
            store: &self.store,
            clock: &self.clock,
            metrics: &self.metrics,
        };
        self.engine.evaluate(meta, body, &host)
    }
}

/// A deterministic sentence of `n` words, different for every `seed`.
pub fn sentence(seed: u64, n: usize) -> String {
    const WORDS: &[&str] = &[
        "apple", "river", "engine", "market", "garden", "signal", "ladder", "copper", "winter", "planet", "harbor",
        "violet", "matrix", "canyon", "pencil", "rocket", "meadow", "silver", "tunnel", "candle", "forest", "butter",
        "dragon", "island", "jacket", "kitten", "lemon", "mirror", "needle", "orange", "pepper", "quartz", "saddle",
        "turtle", "velvet", "walnut",
    ];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            WORDS[(x % WORDS.len() as u64) as usize]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A cheap deterministic fraction in [0, 1) from `seed`.
pub fn frac(seed: u64) -> f64 {
    let mut x = seed.wrapping_mul(0xd134_2543_de82_ef95).wrapping_add(0x9e37);
    x ^= x >> 29;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 32;
    (x >> 11) as f64 / (1u64 << 53) as f64
}
