//! Writes events as trace lines (trace-format.md) with a `label` field, in
//! arrival order.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::actor::{Actor, Event, Kind};
use super::client::encode;
use super::corpus::Corpus;
use super::params::CAMPAIGNS;
use super::{campaign, content};

/// The ground truth the evaluator scores against; the replay ignores it.
#[derive(Serialize)]
pub(super) struct Label<'a> {
    pub class: &'a str,
    pub group: &'a str,
    pub account: &'a str,
}

/// One trace line. Field order is fixed by this struct and header maps are
/// sorted, so the same events give byte-identical output.
/// Shared with the held-out scenario (`heldout.rs`) so both write the same
/// line shape.
#[derive(Serialize)]
pub(super) struct Line<'a> {
    pub ts: f64,
    pub method: &'static str,
    pub path: &'a str,
    pub authority: &'static str,
    pub headers: BTreeMap<&'a str, &'a str>,
    pub source_ip: &'a str,
    pub body: &'a str,
    pub label: Label<'a>,
}

/// Renders and writes one event.
pub fn write_event(out: &mut dyn Write, actors: &[Actor], e: &Event, corpus: &Corpus, seed: u64) -> io::Result<()> {
    let Some(a) = actors.get(e.actor as usize) else {
        return Ok(());
    };
    let prompt = match a.kind {
        Kind::Campaign { campaign } => match CAMPAIGNS.get(campaign) {
            Some(c) => campaign::prompt(c, e, corpus, seed),
            None => return Ok(()),
        },
        _ => content::prompt(a, e, corpus, seed),
    };
    let wire = encode(&a.sdk, &a.credential, &prompt);
    let line = Line {
        ts: e.ts_ms as f64 / 1000.0,
        method: "POST",
        path: &wire.path,
        authority: wire.authority,
        headers: wire.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        source_ip: &a.ip,
        body: &wire.body,
        label: Label {
            class: a.class,
            group: a.group,
            account: &a.account,
        },
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}
