//! The held-out scenario's groups (see [`super::heldout`]): who each group
//! is, how many accounts it has, when they send, where they connect from,
//! which client they run and what they send. Six campaigns of shapes
//! detection was not tuned on come first, then five hard look-alikes.
//!
//! The order of [`GROUPS`] is part of the output: a group's index phases its
//! synchronised rounds and its position fixes which random numbers its
//! accounts draw, so reordering changes every trace.

use super::client::{Provider, Sdk};
use super::heldout_content::Content;

/// When a group's accounts send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum When {
    /// Synchronised rounds from a central scheduler, around the clock.
    Rounds,
    /// Independent Poisson arrivals around the clock.
    Poisson,
    /// A human day (diurnal curve, sessions of fresh prompts).
    Human,
    /// One school lesson on weekdays: each student works through the
    /// day's homework items a few minutes apart.
    Lesson,
    /// A harness: one request every `per_day`-th of a day, steady, all day.
    Clockwork,
    /// Benchmark runs: `per_day` requests a day in runs over one closed
    /// item set, each run a burst of the whole set (event seed: the item).
    Runs,
    /// Agent tasks: a human day of sessions, each a burst of tool-loop calls
    /// a few seconds apart (event turn: the call; seed: the task).
    Tasks,
}

/// Where a group's accounts connect from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Addr {
    /// Proxy exits in hosting space, this many accounts per /24.
    Proxy(usize),
    /// Cloud-provider ranges, one account per /24.
    CloudSpread,
    /// Consumer ISP addresses, one per account.
    Residential,
    /// Every account behind one address (a school NAT).
    OneNat,
    /// A company backend: a few addresses in one cloud /24.
    Backend,
}

/// Which client software a group runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Client {
    /// One script stack for the whole campaign.
    Script,
    /// An app's own build (user agent, TLS fingerprint).
    App(&'static str, &'static str),
}

impl Client {
    /// The SDK this client presents: every campaign account the same
    /// script, every app account its app's build.
    pub fn sdk(self) -> Sdk {
        match self {
            Client::Script => SCRIPT,
            Client::App(user_agent, ja4) => Sdk {
                provider: Provider::OpenAi,
                user_agent,
                ja4,
            },
        }
    }
}

/// One held-out group.
pub struct Group {
    pub name: &'static str,
    pub class: &'static str,
    pub accounts: usize,
    /// Requests a day for machines; sessions a day for people.
    pub per_day: f64,
    pub when: When,
    pub addr: Addr,
    pub client: Client,
    pub content: Content,
    /// Accounts join over this many days (new identities).
    pub ramp_days: f64,
}

const SCRIPT: Sdk = Sdk {
    provider: Provider::OpenAi,
    user_agent: "python-requests/2.32.3",
    ja4: "t13d1516h2_8daaf6152771_e5627efa2ab1",
};

/// The newly released model the rotating campaign moves to.
pub const NEW_MODEL: &str = "gpt-5-2026-01-07";

/// Every held-out group: the campaigns, then the look-alikes.
pub const GROUPS: [Group; 15] = [
    Group {
        name: "novel_phrasing",
        class: "campaign",
        accounts: 300,
        per_day: 26.0,
        when: When::Rounds,
        addr: Addr::Proxy(30),
        client: Client::Script,
        content: Content::NovelPhrasing,
        ramp_days: 1.0,
    },
    Group {
        name: "multilingual",
        class: "campaign",
        accounts: 240,
        per_day: 26.0,
        when: When::Poisson,
        addr: Addr::Proxy(20),
        client: Client::Script,
        content: Content::Multilingual,
        ramp_days: 1.0,
    },
    Group {
        name: "system_prompt",
        class: "campaign",
        accounts: 300,
        per_day: 26.0,
        when: When::Poisson,
        addr: Addr::Proxy(30),
        client: Client::Script,
        content: Content::SystemPrompt,
        ramp_days: 1.0,
    },
    Group {
        name: "cloud_spread",
        class: "campaign",
        accounts: 250,
        per_day: 26.0,
        when: When::Rounds,
        addr: Addr::CloudSpread,
        client: Client::Script,
        content: Content::PlainTemplates,
        ramp_days: 1.0,
    },
    Group {
        name: "few_busy",
        class: "campaign",
        accounts: 20,
        per_day: 500.0,
        when: When::Poisson,
        addr: Addr::Proxy(5),
        client: Client::Script,
        content: Content::Annotator,
        ramp_days: 0.2,
    },
    Group {
        name: "model_rotation",
        class: "campaign",
        accounts: 200,
        per_day: 26.0,
        when: When::Poisson,
        addr: Addr::Proxy(25),
        client: Client::Script,
        content: Content::Rotation,
        ramp_days: 0.5,
    },
    // The look-alikes: real products whose traffic shares one trait or more
    // with a campaign (templates, step-by-step, one address, machine cadence).
    Group {
        name: "byok_tutor",
        class: "benign",
        accounts: 1500,
        per_day: 1.2,
        when: When::Human,
        addr: Addr::Residential,
        client: Client::App(
            "HomeworkHero/5.4.0 (Android 14) okhttp/4.12.0",
            "t13d1517h2_8daaf6152771_b1ff8ab2d16f",
        ),
        content: Content::Tutor,
        ramp_days: 0.0,
    },
    Group {
        name: "translation_app",
        class: "benign",
        accounts: 800,
        per_day: 1.5,
        when: When::Human,
        addr: Addr::Residential,
        client: Client::App(
            "LinguaPop/2.0.3 CFNetwork/1498.700.2",
            "t13d2014h2_a09f3c656075_e42f34c56612",
        ),
        content: Content::Translate,
        ramp_days: 0.0,
    },
    Group {
        name: "classroom",
        class: "benign",
        accounts: 30,
        per_day: 8.0,
        when: When::Lesson,
        addr: Addr::OneNat,
        client: Client::App(
            "ClassMate/1.9 (ChromeOS) axios/1.7.2",
            "t13d1516h2_8daaf6152771_02713d6af862",
        ),
        content: Content::Classroom,
        ramp_days: 0.0,
    },
    Group {
        name: "eval_company",
        class: "benign",
        accounts: 20,
        per_day: 960.0,
        when: When::Clockwork,
        addr: Addr::Backend,
        client: Client::App(
            "lm-eval/0.4.5 python-httpx/0.27.2",
            "t13d1911h2_9dc949149365_97f8aa674fd9",
        ),
        content: Content::Eval,
        ramp_days: 0.0,
    },
    Group {
        name: "support_bot",
        class: "benign",
        accounts: 600,
        per_day: 1.0,
        when: When::Human,
        addr: Addr::Backend,
        client: Client::App(
            "AcmeSupportBot/3.1 node-fetch/3.3.2",
            "t13d1516h2_8daaf6152771_9c37a8f1c1e2",
        ),
        content: Content::Support,
        ramp_days: 0.0,
    },
    // Issue 7's real customers (benign) and the log-probability sweep
    // (campaign), then a look-alike of the sweep: appended, so every group
    // above draws the same numbers as before.
    Group {
        name: "eval_runs",
        class: "benign",
        accounts: 5,
        per_day: 2000.0,
        when: When::Runs,
        addr: Addr::Backend,
        client: Client::App(
            "lighteval/0.8.0 OpenAI/Python 1.54.3",
            "t13d1715h2_5b57614c22b0_3d5424432f57",
        ),
        content: Content::EvalRuns,
        ramp_days: 0.0,
    },
    Group {
        name: "agent_product",
        class: "benign",
        accounts: 300,
        per_day: 5.0,
        when: When::Tasks,
        addr: Addr::Residential,
        client: Client::App("Forge/1.8.2 OpenAI/JS 4.71.1", "t13d1516h2_8daaf6152771_02713d6af862"),
        content: Content::AgentLoop,
        ramp_days: 0.0,
    },
    Group {
        name: "logprob_sweep",
        class: "campaign",
        accounts: 40,
        per_day: 300.0,
        when: When::Poisson,
        addr: Addr::Proxy(5),
        client: Client::Script,
        content: Content::LogprobSweep,
        ramp_days: 0.3,
    },
    Group {
        name: "moderation_logprobs",
        class: "benign",
        accounts: 4,
        per_day: 1500.0,
        when: When::Clockwork,
        addr: Addr::Backend,
        client: Client::App(
            "TrustLayer-classifier/2.3 python-httpx/0.27.2",
            "t13d1911h2_9dc949149365_97f8aa674fd9",
        ),
        content: Content::Moderation,
        ramp_days: 0.0,
    },
];
