//! The held-out scenario (`distill-guard simulate --scenario heldout`):
//! traffic that detection was *not* tuned on, to measure how it generalises.
//!
//! The default scenario's benign population is kept as background (so rates
//! are measured against ordinary traffic), its campaigns are replaced by
//! new shapes, and new hard look-alikes are added:
//!
//! | group | class | shape |
//! |---|---|---|
//! | `novel_phrasing` | campaign | English templates phrased outside the elicitation lists, proxy /24s |
//! | `multilingual` | campaign | Spanish, Russian, Japanese templates |
//! | `system_prompt` | campaign | instructions in the system prompt, bare seed item as user turn |
//! | `cloud_spread` | campaign | one account per cloud /24, synchronised machine cadence |
//! | `few_busy` | campaign | 20 accounts at ~500 requests a day |
//! | `model_rotation` | campaign | moves to a newly released model half way |
//! | `byok_tutor` | benign | homework app: "Explain step by step how to solve: …", own keys, homes |
//! | `translation_app` | benign | "Translate into French: …" across many user keys |
//! | `classroom` | benign | 30 students behind one NAT, the same GSM8K homework, "show your work" |
//! | `eval_company` | benign | 20 keys in one cloud /24, MMLU/GSM8K with "Let's think step by step", around the clock |
//! | `support_bot` | benign | end-user accounts through a backend, one shared user-turn template |
//!
//! Seeded and byte-reproducible like the default scenario; the default
//! scenario's output is untouched by this module.

use std::io::{self, Write};

use super::actor::Event;
use super::client::{self, Provider, Sdk};
use super::corpus::Corpus;
use super::heldout_content::{self as hc, Content};
use super::rng::Rng;
use super::writer::{Label, Line};
use super::{params, population, schedule, writer, Options, Stats};

const DAY: f64 = 86_400.0;

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

pub const GROUPS: [Group; 11] = [
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
];

/// One held-out account.
#[derive(Clone, Debug)]
struct Member {
    group: usize,
    /// Index within the group (a campaign account keeps its language).
    index: usize,
    account: String,
    credential: String,
    sdk: Sdk,
    ip: String,
    tz_hours: f64,
    start_offset: f64,
}

const TIMEZONES: [f64; 8] = [-8.0, -5.0, -3.0, 0.0, 1.0, 3.0, 5.5, 9.0];
const CLOUD: [u8; 8] = [3, 13, 18, 34, 35, 44, 52, 54];

fn residential(rng: &mut Rng) -> String {
    format!(
        "{}.{}.{}.{}",
        rng.range(60, 110),
        rng.below(256),
        rng.below(256),
        rng.range(1, 254)
    )
}

/// Every held-out account, in a fixed order.
fn members(seed: u64, scale: f64) -> Vec<Member> {
    let mut rng = Rng::derive(seed, "heldout-population", 0);
    let mut out = Vec::new();
    for (gi, g) in GROUPS.iter().enumerate() {
        // A campaign's or a company's fixed addresses.
        let nat = residential(&mut rng);
        let backend = format!(
            "{}.{}.{}",
            rng.pick(&CLOUD).copied().unwrap_or(34),
            rng.below(256),
            rng.below(256)
        );
        let tz = rng.pick(&TIMEZONES).copied().unwrap_or(0.0);
        let mut subnet = String::new();
        for i in 0..params::scaled(g.accounts, scale) {
            let sdk = match g.client {
                Client::Script => SCRIPT,
                Client::App(ua, ja4) => Sdk {
                    provider: Provider::OpenAi,
                    user_agent: ua,
                    ja4,
                },
            };
            let ip = match g.addr {
                Addr::Proxy(per) => {
                    if i % per.max(1) == 0 {
                        subnet = format!("{}.{}.{}", rng.range(45, 195), rng.below(256), rng.below(256));
                    }
                    format!("{subnet}.{}", rng.range(2, 254))
                }
                Addr::CloudSpread => format!(
                    "{}.{}.{}.{}",
                    rng.pick(&CLOUD).copied().unwrap_or(34),
                    rng.below(256),
                    rng.below(256),
                    rng.range(2, 254)
                ),
                Addr::Residential => residential(&mut rng),
                Addr::OneNat => nat.clone(),
                Addr::Backend => format!("{backend}.{}", 10 + rng.below(3)),
            };
            out.push(Member {
                group: gi,
                index: i,
                account: format!("acct_{}", rng.hex(12)),
                credential: client::credential(sdk.provider, &mut rng),
                sdk,
                ip,
                tz_hours: if g.class == "benign" && g.addr == Addr::Residential {
                    rng.pick(&TIMEZONES).copied().unwrap_or(0.0)
                } else {
                    tz
                },
                start_offset: rng.f64() * g.ramp_days * DAY,
            });
        }
    }
    out
}

fn event(t: f64, actor: u32, seed: u64) -> Event {
    Event {
        ts_ms: (t * 1000.0) as u64,
        actor,
        turn: 0,
        seed,
    }
}

/// Poisson count (normal approximation above 50).
fn poisson(rng: &mut Rng, mean: f64) -> usize {
    if mean > 50.0 {
        return (mean + mean.sqrt() * rng.normal()).round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let (mut p, mut k) = (rng.f64(), 0);
    while p > limit && k < 1000 {
        p *= rng.f64();
        k += 1;
    }
    k
}

/// The events of member `m` (trace actor `actor`) on day `day`. For lessons
/// and harnesses the event seed is the fixed item number.
fn day_events(m: &Member, actor: u32, day: u32, seed: u64) -> Vec<Event> {
    let Some(g) = GROUPS.get(m.group) else {
        return Vec::new();
    };
    let mut rng = Rng::derive(seed, g.name, (m.index as u64) << 16 | u64::from(day));
    let day_start = params::START_TS as f64 + f64::from(day) * DAY;
    let mut out = Vec::new();
    match g.when {
        When::Rounds => {
            let interval = DAY / g.per_day;
            let mut t = day_start + (m.group as f64 * 389.0) % interval;
            while t < day_start + DAY {
                if rng.chance(0.95) {
                    out.push(event(t + rng.f64() * 40.0, actor, rng.next_u64()));
                }
                t += interval;
            }
        }
        When::Poisson => {
            let mut t = day_start + rng.exp(DAY / g.per_day);
            while t < day_start + DAY {
                out.push(event(t, actor, rng.next_u64()));
                t += rng.exp(DAY / g.per_day);
            }
        }
        When::Human => {
            if rng.chance(0.65) {
                for _ in 0..poisson(&mut rng, g.per_day) {
                    let mut tries = 0;
                    let t0 = loop {
                        let t = rng.f64() * DAY;
                        tries += 1;
                        if tries > 200 || rng.f64() < schedule::diurnal(t / 3600.0 + m.tz_hours) {
                            break t;
                        }
                    };
                    let mut t = day_start + t0;
                    // A few fresh prompts a few minutes apart.
                    for _ in 0..1 + rng.below(3) {
                        out.push(event(t, actor, rng.next_u64()));
                        t += 60.0 + rng.exp(240.0);
                    }
                }
            }
        }
        When::Lesson => {
            if day % 7 < 5 {
                let local = 10.0 - m.tz_hours;
                let mut t = day_start + local.rem_euclid(24.0) * 3600.0 + rng.f64() * 300.0;
                for k in 0..g.per_day as u64 {
                    out.push(event(t, actor, u64::from(day) * 100 + k));
                    t += 120.0 + rng.exp(180.0);
                }
            }
        }
        When::Clockwork => {
            let interval = DAY / g.per_day;
            let mut t = day_start + rng.f64() * interval;
            let mut item = (m.index as u64 + u64::from(day) * 7) * 37;
            while t < day_start + DAY {
                out.push(event(t, actor, item));
                item += 1;
                t += interval * (0.9 + 0.2 * rng.f64());
            }
        }
    }
    let start_ms = ((params::START_TS as f64 + m.start_offset) * 1000.0) as u64;
    out.retain(|e| e.ts_ms >= start_ms);
    out
}

fn write_member(
    out: &mut dyn Write,
    m: &Member,
    e: &Event,
    corpus: &Corpus,
    seed: u64,
    half_ms: u64,
) -> io::Result<()> {
    let Some(g) = GROUPS.get(m.group) else {
        return Ok(());
    };
    let prompt = hc::prompt(g.content, m.index, seed ^ e.seed, e.seed, corpus);
    let mut wire = client::encode(&m.sdk, &m.credential, &prompt);
    if g.content == Content::Rotation && e.ts_ms >= half_ms {
        let mut body: serde_json::Value = serde_json::from_str(&wire.body).map_err(io::Error::other)?;
        if let Some(o) = body.as_object_mut() {
            o.insert("model".to_owned(), serde_json::Value::from(NEW_MODEL));
        }
        wire.body = body.to_string();
    }
    let line = Line {
        ts: e.ts_ms as f64 / 1000.0,
        method: "POST",
        path: &wire.path,
        authority: wire.authority,
        headers: wire.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
        source_ip: &m.ip,
        body: &wire.body,
        label: Label {
            class: g.class,
            group: g.name,
            account: &m.account,
        },
    };
    serde_json::to_writer(&mut *out, &line).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Writes the held-out trace: the default benign population as background
/// plus the groups above, day by day in arrival order.
pub fn generate(opts: &Options, corpus: &Corpus, out: &mut dyn Write) -> io::Result<Stats> {
    let background: Vec<_> = population::build(opts.seed, opts.scale)
        .into_iter()
        .filter(|a| a.class == "benign")
        .collect();
    let members = members(opts.seed, opts.scale);
    let nb = background.len();
    let mut stats = Stats {
        accounts: nb + members.len(),
        requests: 0,
    };
    let half_ms = (params::START_TS as f64 + f64::from(opts.days) * DAY / 2.0) as u64 * 1000;
    let mut carry: Vec<Event> = Vec::new();
    for day in 0..opts.days {
        let mut events = std::mem::take(&mut carry);
        for (i, a) in background.iter().enumerate() {
            events.extend(schedule::day_events(a, i as u32, day, opts.seed));
        }
        for (j, m) in members.iter().enumerate() {
            events.extend(day_events(m, (nb + j) as u32, day, opts.seed));
        }
        events.sort_unstable();
        let day_end_ms = (params::START_TS + u64::from(day + 1) * 86_400) * 1000;
        let last_day = day + 1 == opts.days;
        for e in &events {
            if e.ts_ms >= day_end_ms && !last_day {
                carry.push(*e);
                continue;
            }
            match (e.actor as usize).checked_sub(nb) {
                None => writer::write_event(out, &background, e, corpus, opts.seed)?,
                Some(j) => match members.get(j) {
                    Some(m) => write_member(out, m, e, corpus, opts.seed, half_ms)?,
                    None => continue,
                },
            }
            stats.requests += 1;
        }
    }
    out.flush()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_have_the_promised_shapes() {
        let ms = members(1, 1.0);
        let of = |name: &str| -> Vec<&Member> {
            ms.iter()
                .filter(|m| GROUPS.get(m.group).is_some_and(|g| g.name == name))
                .collect()
        };
        let block = |ip: &str| ip.rsplit_once('.').map(|(b, _)| b.to_owned()).unwrap_or_default();
        let mut cloud: Vec<String> = of("cloud_spread").iter().map(|m| block(&m.ip)).collect();
        cloud.sort();
        cloud.dedup();
        assert!(
            cloud.len() * 10 >= of("cloud_spread").len() * 9,
            "cloud accounts share /24s"
        );
        let class: Vec<&str> = of("classroom").iter().map(|m| m.ip.as_str()).collect();
        assert_eq!(class.len(), 30);
        assert!(class.iter().all(|ip| *ip == class[0]), "one NAT");
        let mut eval: Vec<String> = of("eval_company").iter().map(|m| block(&m.ip)).collect();
        eval.dedup();
        assert_eq!(eval.len(), 1, "one cloud /24");
        assert_eq!(of("few_busy").len(), 20);
    }

    #[test]
    fn classmates_get_the_same_items_and_harnesses_run_all_day() {
        let ms = members(1, 1.0);
        let class: Vec<(usize, &Member)> = ms
            .iter()
            .enumerate()
            .filter(|(_, m)| GROUPS.get(m.group).is_some_and(|g| g.name == "classroom"))
            .collect();
        let items =
            |(i, m): (usize, &Member)| -> Vec<u64> { day_events(m, i as u32, 0, 1).iter().map(|e| e.seed).collect() };
        let a = items(class[0]);
        assert_eq!(a.len(), 8);
        assert_eq!(a, items(class[1]));
        assert!(items(class[0]).iter().all(|s| *s < 100));
        let (i, eval) = ms
            .iter()
            .enumerate()
            .find(|(_, m)| GROUPS.get(m.group).is_some_and(|g| g.name == "eval_company"))
            .unwrap();
        let ev = day_events(eval, i as u32, 1, 1);
        assert!(ev.len() > 900, "{}", ev.len());
        let first = ev.iter().map(|e| e.ts_ms).min().unwrap();
        let last = ev.iter().map(|e| e.ts_ms).max().unwrap();
        assert!(last - first > 23 * 3_600_000, "around the clock");
    }
}
