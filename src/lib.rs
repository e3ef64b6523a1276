//! distill-guard: detects and stops adversarial distillation of LLM APIs,
//! as a proxy-wasm filter for Envoy and Istio.
//!
//! Everything except `filter` is the pure engine: it never touches the
//! proxy-wasm ABI, compiles natively, drives the offline replay and is tested
//! both natively and in a wasm runtime. See docs/ARCHITECTURE.md.

pub mod api;
pub mod clock;
pub mod config;
pub mod content_length;
pub mod decimal;
pub mod detect;
pub mod engine;
pub mod fastmap;
#[cfg(target_os = "wasi")]
pub mod filter;
pub mod fleet;
pub mod float_parse;
pub mod hash;
pub mod header_map;
pub mod host;
pub mod identity;
#[cfg(not(target_family = "wasm"))]
pub mod import;
pub mod json;
pub mod mathfn;
pub mod metrics;
pub mod netaddr;
#[cfg(not(target_family = "wasm"))]
pub mod progress;
#[cfg(not(target_family = "wasm"))]
pub mod replay;
#[cfg(not(target_family = "wasm"))]
pub mod report;
pub mod request;
pub mod response;
#[cfg(not(target_family = "wasm"))]
pub mod service;
#[cfg(not(target_family = "wasm"))]
pub mod sim;
pub mod small_sort;
pub mod stall;
pub mod store;
pub mod unicase;
pub mod verdict;
