//! What the engine decides about one request.

/// What happens to the request. Ordered by severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Forwarded untouched (apart from stripping spoofed tag headers).
    Allow,
    /// Forwarded with `x-distill-guard-*` headers and filter state.
    Tag,
    /// Answered 429 with `Retry-After`; never reaches the model.
    Throttle,
    /// Answered 403; never reaches the model.
    Block,
}

impl Action {
    pub const ALL: [Action; 4] = [Action::Allow, Action::Tag, Action::Throttle, Action::Block];

    /// The stable name used in headers, decisions and metric names.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Tag => "tag",
            Action::Throttle => "throttle",
            Action::Block => "block",
        }
    }

    /// `throttle` and `block` keep the request from the upstream.
    pub fn denies(self) -> bool {
        matches!(self, Action::Throttle | Action::Block)
    }
}

/// A stable, machine-readable reason code (`snake_case`), e.g.
/// `"elicitation_phrase"`. Codes are part of the public interface: they
/// appear in headers, decisions and logs; see docs/reasons.md.
pub type ReasonCode = &'static str;

/// The engine's answer for one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// What the filter does (in shadow mode never a denying action).
    pub action: Action,
    /// What enforce mode would have done; equals `action` in enforce mode.
    pub intended: Action,
    /// Suspicion in [0, 1].
    pub score: f64,
    /// Most important first, no duplicates.
    pub reasons: Vec<ReasonCode>,
    /// Seconds for `Retry-After` when `action` is `Throttle`.
    pub retry_after_secs: u64,
}

impl Verdict {
    pub fn allow() -> Verdict {
        Verdict {
            action: Action::Allow,
            intended: Action::Allow,
            score: 0.0,
            reasons: Vec::new(),
            retry_after_secs: 0,
        }
    }

    /// The reasons joined by commas, for the `x-distill-guard-reasons` header.
    pub fn reasons_header(&self) -> String {
        self.reasons.join(",")
    }

    /// The score as the header carries it: three decimals (`{:.3}`'s
    /// text, without core's float printing: issue 8).
    pub fn score_header(&self) -> String {
        crate::decimal::fixed(self.score, 3)
    }
}
