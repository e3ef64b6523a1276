//! Every population and campaign parameter of the simulator, in one place.
//! Counts are at `--scale 1`; `--scale` multiplies account counts (and the
//! batch job's volume). The campaign shapes follow the public reports in
//! issue 3: ~26 requests per account per day around the clock for the
//! low-and-slow hydra, fewer and busier accounts for the high-volume one.

/// The first simulated day starts here (2026-01-05 00:00 UTC, a Monday), so
/// a trace does not depend on when it was generated.
pub const START_TS: u64 = 1_767_571_200;

/// Benign individuals (label group `individual`).
pub struct Individuals {
    pub accounts: usize,
    /// Median sessions per active day; log-normal with `sigma` (heavy tail:
    /// most accounts send a few requests a day, a few send many).
    pub median_sessions: f64,
    pub sigma: f64,
    pub max_sessions: f64,
    /// Chance that an account is active on a given day.
    pub active_day: f64,
    /// Share of accounts that habitually ask for step-by-step explanations.
    pub step_by_step: f64,
    /// Mean follow-up turns in a session (geometric).
    pub mean_followups: f64,
}

pub const INDIVIDUALS: Individuals = Individuals {
    accounts: 3000,
    median_sessions: 1.5,
    sigma: 1.1,
    max_sessions: 60.0,
    active_day: 0.7,
    step_by_step: 0.15,
    mean_followups: 1.2,
};

/// A popular app: every end user brings their own key, the app sends one
/// long shared system prompt with each user's own question.
pub const POPULAR_APP_USERS: usize = 800;

/// Offices: many accounts behind one NAT address, working hours only.
pub const OFFICES: usize = 3;
pub const OFFICE_ACCOUNTS: usize = 40;

/// People who paste a popular persona prompt verbatim (Zipf over the top
/// personas, so many accounts send the identical text).
pub const PERSONA_ACCOUNTS: usize = 300;
pub const PERSONA_TOP: usize = 30;

/// Enterprise batch jobs: 1-3 keys each, a nightly window, machine cadence.
pub struct BatchJob {
    pub keys: usize,
    pub start_hour_utc: f64,
    pub hours: f64,
    pub interval_secs: f64,
    pub max_tokens: u32,
}

pub const BATCH_JOBS: [BatchJob; 2] = [
    BatchJob {
        keys: 1,
        start_hour_utc: 1.0,
        hours: 3.0,
        interval_secs: 2.0,
        max_tokens: 5,
    },
    BatchJob {
        keys: 3,
        start_hour_utc: 13.0,
        hours: 2.0,
        interval_secs: 1.5,
        max_tokens: 16,
    },
];

/// Benchmark harnesses: one key each, the same fixed GSM8K items with
/// "Let's think step by step", run several times a day.
pub const HARNESSES: usize = 2;
pub const HARNESS_ITEMS: usize = 400;
pub const HARNESS_RUNS_PER_DAY: usize = 2;
pub const HARNESS_INTERVAL_SECS: f64 = 0.8;

/// How a campaign schedules its requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cadence {
    /// Around the clock, all accounts firing in synchronised rounds from a
    /// central scheduler (with small jitter).
    Synchronised,
    /// Around the clock, each account independently (Poisson).
    AroundTheClock,
    /// A human-looking day in a timezone, in sessions.
    Human,
}

/// Prompt style of a campaign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// A few English templates with slots filled from seed sets.
    Templates,
    /// Generator prompts (airoboros / alpaca) and templates.
    Generator,
    /// Chinese-language templates.
    Chinese,
    /// Paraphrased per request, mixed with ordinary prompts.
    Paraphrase,
}

/// A distillation campaign.
pub struct Campaign {
    pub group: &'static str,
    pub accounts: usize,
    pub requests_per_day: f64,
    pub cadence: Cadence,
    pub style: Style,
    /// Accounts per /24 of the proxy network; 1 = a distinct residential
    /// address per account.
    pub accounts_per_subnet: usize,
    /// All accounts use one client stack (same user agent and JA4).
    pub same_client: bool,
    /// Accounts join over the first `ramp_days` (new identities).
    pub ramp_days: f64,
    pub max_tokens: u32,
    /// Chance of asking for several samples (n = 4).
    pub multi_sample: f64,
    /// Share of ordinary (non-campaign-looking) prompts mixed in.
    pub ordinary_share: f64,
}

pub const CAMPAIGNS: [Campaign; 4] = [
    Campaign {
        group: "hydra_lowslow",
        accounts: 400,
        requests_per_day: 26.0,
        cadence: Cadence::Synchronised,
        style: Style::Templates,
        accounts_per_subnet: 40,
        same_client: true,
        ramp_days: 1.0,
        max_tokens: 16_384,
        multi_sample: 0.2,
        ordinary_share: 0.0,
    },
    Campaign {
        group: "high_volume",
        accounts: 30,
        requests_per_day: 400.0,
        cadence: Cadence::AroundTheClock,
        style: Style::Generator,
        accounts_per_subnet: 10,
        same_client: true,
        ramp_days: 0.2,
        max_tokens: 8_192,
        multi_sample: 0.3,
        ordinary_share: 0.0,
    },
    Campaign {
        group: "chinese",
        accounts: 200,
        requests_per_day: 26.0,
        cadence: Cadence::AroundTheClock,
        style: Style::Chinese,
        accounts_per_subnet: 25,
        same_client: true,
        ramp_days: 1.0,
        max_tokens: 16_384,
        multi_sample: 0.1,
        ordinary_share: 0.0,
    },
    Campaign {
        group: "adaptive",
        accounts: 150,
        requests_per_day: 20.0,
        cadence: Cadence::Human,
        style: Style::Paraphrase,
        accounts_per_subnet: 1,
        same_client: false,
        ramp_days: 0.5,
        max_tokens: 4_096,
        multi_sample: 0.0,
        ordinary_share: 0.3,
    },
];

/// Scales a count, keeping at least one.
pub fn scaled(n: usize, scale: f64) -> usize {
    ((n as f64 * scale).round() as usize).max(1)
}
