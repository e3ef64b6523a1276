//! Writes events as trace lines (trace-format.md) with a `label` field, in
//! arrival order.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::actor::{Actor, Event, Kind};
use super::client::{encode, Wire};
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
#[derive(Serialize)]
struct Line<'a> {
    ts: f64,
    method: &'static str,
    path: &'a str,
    authority: &'static str,
    headers: BTreeMap<&'a str, &'a str>,
    source_ip: &'a str,
    body: &'a str,
    /// What the upstream answers if the request is served.
    response: super::answer::Answer,
    label: Label<'a>,
}

/// Writes one request as a trace line. Both scenarios write through here
/// (the held-out one from `heldout.rs`) so their lines cannot drift apart.
pub(super) fn write_line(
    out: &mut dyn Write,
    ts_ms: u64,
    wire: &Wire,
    source_ip: &str,
    label: Label<'_>,
) -> io::Result<()> {
    let line = Line {
        ts: ts_ms as f64 / 1000.0,
        method: "POST",
        path: &wire.path,
        authority: wire.authority,
        headers: wire.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        source_ip,
        body: &wire.body,
        response: super::answer::answer(wire, super::answer::noise(ts_ms, &wire.body)),
        label,
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
    out.write_all(b"\n")
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
    let label = Label {
        class: a.class,
        group: a.group,
        account: &a.account,
    };
    write_line(out, e.ts_ms, &wire, &a.ip, label)
}
