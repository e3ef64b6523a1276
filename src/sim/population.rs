//! Builds every simulated account from `params`: the benign population, the
//! look-alike groups and the campaigns, each with its credential, client
//! software and address.

use super::actor::{Actor, Kind};
use super::client::{self, Provider, Sdk};
use super::params::{self, scaled, BATCH_JOBS, CAMPAIGNS, INDIVIDUALS};
use super::rng::Rng;

const DAY: f64 = 86_400.0;

/// First octets of consumer ISP ranges, so benign addresses look residential.
const RESIDENTIAL: [u8; 14] = [24, 67, 73, 76, 81, 82, 86, 92, 98, 109, 151, 173, 188, 201];

/// Timezones people live in (hours east of UTC) with rough weights by
/// repetition: Americas, Europe, Asia.
const TIMEZONES: [f64; 10] = [-8.0, -5.0, -5.0, -6.0, 0.0, 1.0, 1.0, 2.0, 5.5, 8.0];

/// Client stacks the campaigns run (custom scripts on a common SDK): one
/// shared user agent and TLS fingerprint for all accounts of a campaign.
const CAMPAIGN_SDKS: [Sdk; 4] = [
    Sdk {
        provider: Provider::OpenAi,
        user_agent: "OpenAI/Python 1.35.3",
        ja4: "t13d1812h2_e8a523a41297_b0a2a1a9c2bd",
    },
    Sdk {
        provider: Provider::Anthropic,
        user_agent: "Anthropic/Python 0.34.2",
        ja4: "t13d1812h2_e8a523a41297_b0a2a1a9c2bd",
    },
    Sdk {
        provider: Provider::OpenAi,
        user_agent: "python-httpx/0.27.0",
        ja4: "t13d1911h2_9dc949149365_97f8aa674fd9",
    },
    Sdk {
        provider: Provider::OpenAi,
        user_agent: "OpenAI/Python 1.54.3",
        ja4: "t13d1715h2_5b57614c22b0_3d5424432f57",
    },
];

fn residential_ip(rng: &mut Rng) -> String {
    if rng.chance(0.1) {
        return format!(
            "2a02:{:x}:{:x}:{:x}::{:x}",
            rng.range(0x1000, 0xffff),
            rng.below(0xffff),
            rng.below(0xffff),
            rng.range(1, 0xffff)
        );
    }
    let a = rng.pick(&RESIDENTIAL).copied().unwrap_or(73);
    format!("{a}.{}.{}.{}", rng.below(256), rng.below(256), rng.range(1, 254))
}

fn person(rng: &mut Rng, class: &'static str, group: &'static str, kind: Kind, activity: f64) -> Actor {
    let sdk = client::pick_sdk(rng);
    Actor {
        class,
        group,
        account: format!("acct_{}", rng.hex(12)),
        credential: client::credential(sdk.provider, rng),
        sdk,
        ip: residential_ip(rng),
        tz_hours: rng.pick(&TIMEZONES).copied().unwrap_or(0.0),
        activity,
        start_offset: 0.0,
        kind,
    }
}

/// Heavy-tailed sessions per active day.
fn sessions(rng: &mut Rng) -> f64 {
    rng.lognormal(INDIVIDUALS.median_sessions, INDIVIDUALS.sigma)
        .min(INDIVIDUALS.max_sessions)
}

/// Every account of the simulation, in a fixed order.
pub fn build(seed: u64, scale: f64) -> Vec<Actor> {
    let mut rng = Rng::derive(seed, "population", 0);
    let mut actors = Vec::new();
    for _ in 0..scaled(INDIVIDUALS.accounts, scale) {
        let kind = Kind::Individual {
            step: rng.chance(INDIVIDUALS.step_by_step),
        };
        let act = sessions(&mut rng);
        actors.push(person(&mut rng, "benign", "individual", kind, act));
    }
    for _ in 0..scaled(params::POPULAR_APP_USERS, scale) {
        let act = sessions(&mut rng);
        let mut a = person(&mut rng, "benign", "popular_app", Kind::PopularApp, act);
        // The app ships its own client build.
        a.sdk = Sdk {
            provider: Provider::OpenAi,
            user_agent: "StudyPal/3.2.1 (iOS) OpenAI/Swift",
            ja4: "t13d2014h2_a09f3c656075_14788d8d241b",
        };
        a.credential = client::credential(Provider::OpenAi, &mut rng);
        actors.push(a);
    }
    for _ in 0..scaled(params::OFFICES, scale) {
        let nat = format!(
            "{}.{}.{}.{}",
            rng.range(100, 200),
            rng.below(256),
            rng.below(256),
            rng.range(1, 254)
        );
        let tz = rng.pick(&TIMEZONES).copied().unwrap_or(0.0);
        for _ in 0..params::OFFICE_ACCOUNTS {
            let kind = Kind::Office {
                step: rng.chance(INDIVIDUALS.step_by_step),
            };
            let act = sessions(&mut rng) * 1.5;
            let mut a = person(&mut rng, "benign", "office_nat", kind, act);
            a.ip = nat.clone();
            a.tz_hours = tz;
            actors.push(a);
        }
    }
    for _ in 0..scaled(params::PERSONA_ACCOUNTS, scale) {
        // Zipf-like popularity: persona k with weight 1/(k+1).
        let persona = ((params::PERSONA_TOP as f64).powf(rng.f64()) - 1.0) as usize;
        let act = sessions(&mut rng);
        actors.push(person(
            &mut rng,
            "benign",
            "persona_prompts",
            Kind::Persona { persona },
            act,
        ));
    }
    for (job, j) in BATCH_JOBS.iter().enumerate() {
        let ip = format!("34.{}.{}.{}", rng.below(256), rng.below(256), rng.range(1, 254));
        let sdk = Sdk {
            provider: Provider::OpenAi,
            user_agent: "OpenAI/Python 1.51.0",
            ja4: "t13d1715h2_5b57614c22b0_3d5424432f57",
        };
        for key in 0..j.keys {
            let mut a = person(
                &mut rng,
                "benign",
                "batch_job",
                Kind::Batch { job, key, keys: j.keys },
                0.0,
            );
            a.sdk = sdk;
            a.credential = client::credential(Provider::OpenAi, &mut rng);
            a.ip = ip.clone();
            actors.push(a);
        }
    }
    for _ in 0..params::HARNESSES {
        let mut a = person(&mut rng, "benign", "benchmark_harness", Kind::Harness, 0.0);
        a.ip = format!("35.{}.{}.{}", rng.below(256), rng.below(256), rng.range(1, 254));
        actors.push(a);
    }
    for (ci, c) in CAMPAIGNS.iter().enumerate() {
        let sdk = CAMPAIGN_SDKS.get(ci).copied().unwrap_or(CAMPAIGN_SDKS[0]);
        let mut subnet = String::new();
        for i in 0..scaled(c.accounts, scale) {
            let mut a = person(
                &mut rng,
                "campaign",
                c.group,
                Kind::Campaign { campaign: ci },
                c.requests_per_day,
            );
            if c.same_client {
                a.sdk = sdk;
                a.credential = client::credential(sdk.provider, &mut rng);
            }
            if c.accounts_per_subnet > 1 {
                if i % c.accounts_per_subnet == 0 {
                    // A proxy provider's exit /24 in hosting space.
                    subnet = format!("{}.{}.{}", rng.range(45, 195), rng.below(256), rng.below(256));
                }
                a.ip = format!("{subnet}.{}", rng.range(2, 254));
            }
            a.start_offset = rng.f64() * c.ramp_days * DAY;
            actors.push(a);
        }
    }
    actors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_group_with_distinct_accounts() {
        let actors = build(1, 0.1);
        for g in [
            "individual",
            "popular_app",
            "office_nat",
            "persona_prompts",
            "batch_job",
            "benchmark_harness",
            "hydra_lowslow",
            "high_volume",
            "chinese",
            "adaptive",
        ] {
            assert!(actors.iter().any(|a| a.group == g), "{g}");
        }
        let mut ids: Vec<&str> = actors.iter().map(|a| a.account.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), actors.len());
    }

    #[test]
    fn hydra_accounts_share_subnets() {
        let actors = build(1, 1.0);
        let hydra: Vec<&Actor> = actors.iter().filter(|a| a.group == "hydra_lowslow").collect();
        let mut nets: Vec<String> = hydra
            .iter()
            .map(|a| a.ip.rsplit_once('.').map(|(n, _)| n.to_owned()).unwrap_or_default())
            .collect();
        nets.sort();
        nets.dedup();
        assert!(
            nets.len() * 20 <= hydra.len(),
            "{} subnets for {} accounts",
            nets.len(),
            hydra.len()
        );
    }
}
