//! `distill-guard report`: one self-contained HTML page from a replay (the
//! trace, its decisions, and the simulator's labels when present): actions
//! over time, the score distribution, top reasons, the largest template
//! clusters and identities by volume and score, and per-group tables when
//! the trace is labelled. No external resource: inline CSS and SVG, no
//! script.
//!
//! Identities are the filter's keyed hashes (`k:…`, `anon:…`) as the
//! decisions carry them; template clusters are the detector's prefix
//! skeleton hash (`t:…`, `detect::template`) of the last user turn. No
//! prompt text and no credential reaches the page.

pub mod aggregate;
pub mod cli;
pub mod html;
pub mod svg;

pub use aggregate::{build, Report};
