//! A simulated account: who it is on the wire (credential, client, address)
//! and how it behaves (its [`Kind`]). Events are compact; their text is
//! rendered only when written, so a day of traffic costs a few bytes a
//! request in memory.

use super::client::Sdk;

/// The behaviour of an account.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// A person chatting; `step` asks for step-by-step explanations.
    Individual { step: bool },
    /// A person in an office behind a shared NAT address, working hours.
    Office { step: bool },
    /// A person who pastes persona prompt number `persona` verbatim.
    Persona { persona: usize },
    /// An end user of the popular app (shared long system prompt).
    PopularApp,
    /// One key of batch job `job`.
    Batch { job: usize, key: usize, keys: usize },
    /// A benchmark harness.
    Harness,
    /// An account of campaign `campaign` (index into `params::CAMPAIGNS`).
    Campaign { campaign: usize },
}

#[derive(Clone, Debug)]
pub struct Actor {
    /// `benign` or `campaign`.
    pub class: &'static str,
    pub group: &'static str,
    /// Opaque account id for the label.
    pub account: String,
    pub credential: String,
    pub sdk: Sdk,
    pub ip: String,
    /// Hours east of UTC, for human schedules.
    pub tz_hours: f64,
    /// Sessions per active day for people; requests per day for campaigns.
    pub activity: f64,
    /// Seconds after the trace start when the account first acts.
    pub start_offset: f64,
    pub kind: Kind,
}

/// One request to render: the actor, a seed for its content (shared by the
/// turns of a session) and the turn within the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Event {
    /// Milliseconds since the Unix epoch (traces carry millisecond times).
    pub ts_ms: u64,
    pub actor: u32,
    pub turn: u32,
    pub seed: u64,
}
