//! Flood traffic: what an attacker sends to wash a campaign out of the
//! shared tables or to poison other people's records, one request at a time
//! (`distill-guard flood`, [`super::flood_bench`]).
//!
//! - [`FloodKind::Identities`]: every request from a fresh bearer token and
//!   a fresh address anywhere in 100.64.0.0/10 (a residential-proxy pool), a
//!   short everyday question: fills the identity and address-block tables.
//! - [`FloodKind::Templates`]: every request a distinct template (fresh
//!   words at both ends of the user turn, which is what a skeleton is made
//!   of), from 1,000 rotating tokens: fills the template table.
//! - [`FloodKind::ForgedXff`]: fresh tokens whose `x-forwarded-for` names a
//!   real benign user's address (taken from the trace) to the left of the
//!   sender's own, to crowd that user's address block and frame it.
//! - [`FloodKind::Framing`]: the review's framing attack on a popular app:
//!   40 made-up bearer tokens behind one /24 send the app's own requests
//!   (its system prompt, taken from the trace) with fresh questions and
//!   16,000 output tokens, so that the app's template looks harvested and
//!   crowded and its real users get limited.
//! - [`FloodKind::FramingRefused`]: the same framing from random tokens the
//!   upstream refuses: a fresh token for every request, each answered 401
//!   (what replay's `response.status` records), so each request is its
//!   token's first and the 401 arrives only after it.
//! - [`FloodKind::Eviction`]: an attempt to displace a running campaign's
//!   records at the scale of the tables ([`Tables`]): 1.5 templates per
//!   template slot, each sent again and again by many accounts (so each
//!   looks like a live cluster that holds its slot and presses its
//!   neighbours), 2 identities per identity slot, all active, and one
//!   address block per address-block slot, every token accepted (200). The
//!   slots are keyed with the deployment's secret, so the attacker cannot
//!   aim at the campaign's slots; it can only try to fill every table.

use std::net::{IpAddr, Ipv4Addr};

use crate::request::RequestMeta;

use super::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloodKind {
    Identities,
    Templates,
    ForgedXff,
    Framing,
    FramingRefused,
    Eviction,
}

/// What a flood request may borrow from the trace's benign traffic.
#[derive(Clone, Copy, Debug, Default)]
pub struct Victim<'a> {
    /// A benign client address ([`FloodKind::ForgedXff`]).
    pub addr: Option<IpAddr>,
    /// A popular app's request body, OpenAI chat ([`FloodKind::Framing`]).
    pub app_body: Option<&'a [u8]>,
    /// The tables' sizes ([`FloodKind::Eviction`] aims at them).
    pub tables: Tables,
}

/// Slots of the detection tables a flood aims at.
#[derive(Clone, Copy, Debug)]
pub struct Tables {
    pub identity: u64,
    pub template: u64,
    pub network: u64,
}

impl Default for Tables {
    fn default() -> Tables {
        Tables {
            identity: 16_384,
            template: 8_192,
            network: 4_096,
        }
    }
}

impl FloodKind {
    pub const ALL: [FloodKind; 6] = [
        FloodKind::Identities,
        FloodKind::Templates,
        FloodKind::ForgedXff,
        FloodKind::Framing,
        FloodKind::FramingRefused,
        FloodKind::Eviction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FloodKind::Identities => "identities",
            FloodKind::Templates => "templates",
            FloodKind::ForgedXff => "forged_xff",
            FloodKind::Framing => "framing",
            FloodKind::FramingRefused => "framing_refused",
            FloodKind::Eviction => "eviction",
        }
    }

    /// The upstream's answer to a flood request that is forwarded.
    pub fn upstream_status(self) -> u16 {
        match self {
            FloodKind::FramingRefused => 401,
            _ => 200,
        }
    }

    pub fn parse(s: &str) -> Option<FloodKind> {
        FloodKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

const QUESTIONS: &[&str] = &[
    "What is a good name for a golden retriever puppy?",
    "How long should I boil an egg for a soft yolk?",
    "Translate 'good morning' into Portuguese.",
    "Which is bigger, a liter or a quart?",
    "Suggest a title for my blog post about hiking in autumn.",
    "What does the idiom 'break a leg' mean?",
];

const WORDS: &[&str] = &[
    "amber", "basalt", "cobalt", "dune", "ember", "fjord", "garnet", "harbor", "indigo", "jasper", "kelp", "lichen",
    "marble", "nectar", "onyx", "pylon", "quartz", "rivet", "saffron", "tundra", "umber", "vellum", "willow", "xenon",
    "yarrow", "zephyr",
];

/// The flood request number `n`, borrowing from `victim` what its kind needs.
pub fn request(kind: FloodKind, n: u64, rng: &mut Rng, victim: Victim<'_>) -> (RequestMeta, Vec<u8>) {
    match kind {
        FloodKind::Framing => return framing(n, rng, victim.app_body, None),
        FloodKind::FramingRefused => return framing(n, rng, victim.app_body, Some(format!("sk-random-{n:08x}"))),
        FloodKind::Eviction => return eviction(n, rng, victim.tables),
        _ => {}
    }
    let pool_addr = |rng: &mut Rng| -> IpAddr {
        // 100.64.0.0/10: 4 M addresses, 16 k /24 blocks.
        let host = (rng.next_u64() & 0x003f_ffff) as u32;
        IpAddr::V4(Ipv4Addr::from(0x6440_0000 | host))
    };
    let (token, source_ip, xff, text) = match kind {
        FloodKind::Identities => {
            let q = rng.pick(QUESTIONS).copied().unwrap_or("hello");
            (format!("sk-flood-{n}"), pool_addr(rng), None, q.to_owned())
        }
        FloodKind::Templates => {
            let mut words = |k: usize| -> String {
                (0..k)
                    .map(|_| rng.pick(WORDS).copied().unwrap_or("x"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let (head, tail) = (words(10), words(10));
            let text = format!("{head} {n} please describe the following in one paragraph {tail}");
            (format!("sk-flood-tpl-{}", n % 1000), pool_addr(rng), None, text)
        }
        FloodKind::ForgedXff | FloodKind::Framing | FloodKind::FramingRefused | FloodKind::Eviction => {
            let own = pool_addr(rng);
            let forged = victim.addr.unwrap_or(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
            let q = rng.pick(QUESTIONS).copied().unwrap_or("hello");
            (
                format!("sk-flood-xff-{n}"),
                own,
                Some(format!("{forged}, {own}")),
                q.to_owned(),
            )
        }
    };
    let mut headers = vec![
        ("authorization".to_owned(), format!("Bearer {token}")),
        ("content-type".to_owned(), "application/json".to_owned()),
    ];
    if let Some(x) = xff {
        headers.push(("x-forwarded-for".to_owned(), x));
    }
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": text}],
    });
    let meta = RequestMeta {
        method: "POST".to_owned(),
        path: "/v1/chat/completions".to_owned(),
        authority: None,
        headers,
        source_ip: Some(source_ip),
    };
    (meta, body.to_string().into_bytes())
}

/// The app's request with a fresh question in its last message and a long
/// output asked for, from one of 40 tokens behind 198.18.9.0/24 (or from
/// `token`, with the address of the 40 it stands in for).
fn framing(n: u64, rng: &mut Rng, app_body: Option<&[u8]>, token: Option<String>) -> (RequestMeta, Vec<u8>) {
    let question = format!(
        "Question {n}: explain in full detail, with every step, how {} {} relates to {} {}.",
        rng.pick(WORDS).copied().unwrap_or("x"),
        rng.pick(WORDS).copied().unwrap_or("y"),
        rng.pick(WORDS).copied().unwrap_or("z"),
        rng.pick(WORDS).copied().unwrap_or("w"),
    );
    let mut body: serde_json::Value = app_body
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_else(|| serde_json::json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": ""}]}));
    if let Some(last) = body
        .get_mut("messages")
        .and_then(serde_json::Value::as_array_mut)
        .and_then(|m| m.last_mut())
        .and_then(serde_json::Value::as_object_mut)
    {
        last.insert("content".to_owned(), serde_json::Value::String(question));
    }
    if let Some(root) = body.as_object_mut() {
        root.insert("max_tokens".to_owned(), serde_json::json!(16_000));
    }
    let k = n % 40;
    let meta = RequestMeta {
        method: "POST".to_owned(),
        path: "/v1/chat/completions".to_owned(),
        authority: None,
        headers: vec![
            (
                "authorization".to_owned(),
                format!("Bearer {}", token.unwrap_or_else(|| format!("sk-frame-{k:02}"))),
            ),
            ("content-type".to_owned(), "application/json".to_owned()),
        ],
        source_ip: Some(IpAddr::V4(Ipv4Addr::new(198, 18, 9, 1 + k as u8))),
    };
    (meta, body.to_string().into_bytes())
}

/// Request `n` of the eviction flood: template `n mod 1.5 × template
/// slots` (fixed words at both ends of the user turn, a fresh filler in
/// between), from one of `2 × identity slots` tokens, each token always in
/// the same one of `network slots` /24 blocks of 100.64.0.0/10.
fn eviction(n: u64, rng: &mut Rng, t: Tables) -> (RequestMeta, Vec<u8>) {
    let templates = (t.template.max(1) * 3 / 2).max(1);
    let tokens = (t.identity.max(1) * 2).max(1);
    let blocks = t.network.clamp(1, 16_384);
    let template = n % templates;
    // Spread each template over many tokens: a stride coprime to `tokens`.
    let token = (n.wrapping_mul(7_919)) % tokens;
    let block = token % blocks;
    let word = |i: u64| WORDS.get((i % WORDS.len() as u64) as usize).copied().unwrap_or("x");
    let ends = |salt: u64| -> String {
        (0..6)
            .map(|i| {
                word(
                    template
                        .wrapping_mul(31)
                        .wrapping_add(salt * 7 + i * (template % 5 + 1)),
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let filler = format!(
        "{} {} {}",
        rng.pick(WORDS).copied().unwrap_or("x"),
        rng.pick(WORDS).copied().unwrap_or("y"),
        rng.pick(WORDS).copied().unwrap_or("z")
    );
    let text = format!(
        "{template} {} about {filler} in one paragraph {} {template}",
        ends(1),
        ends(2)
    );
    let host = ((block as u32) << 8) | (1 + (token / blocks % 250) as u32);
    let meta = RequestMeta {
        method: "POST".to_owned(),
        path: "/v1/chat/completions".to_owned(),
        authority: None,
        headers: vec![
            ("authorization".to_owned(), format!("Bearer sk-evict-{token}")),
            ("content-type".to_owned(), "application/json".to_owned()),
        ],
        source_ip: Some(IpAddr::V4(Ipv4Addr::from(0x6440_0000 | (host & 0x003f_ffff)))),
    };
    let body = serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": text}],
    });
    (meta, body.to_string().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_varies_what_it_floods() {
        let mut rng = Rng::new(1);
        let none = Victim::default();
        let (a, _) = request(FloodKind::Identities, 1, &mut rng, none);
        let (b, _) = request(FloodKind::Identities, 2, &mut rng, none);
        assert_ne!(a.header("authorization"), b.header("authorization"));
        let (_, x) = request(FloodKind::Templates, 1, &mut rng, none);
        let (_, y) = request(FloodKind::Templates, 2, &mut rng, none);
        assert_ne!(x, y);
        let victim: IpAddr = "198.51.100.7".parse().unwrap();
        let (f, _) = request(
            FloodKind::ForgedXff,
            1,
            &mut rng,
            Victim {
                addr: Some(victim),
                ..Victim::default()
            },
        );
        let xff = f.header("x-forwarded-for").unwrap();
        assert!(xff.starts_with("198.51.100.7, 100."), "{xff}");
        let app = br#"{"model":"m","messages":[{"role":"system","content":"You are StudyPal."},{"role":"user","content":"mine"}]}"#;
        let with_app = Victim {
            addr: None,
            app_body: Some(app),
            ..Victim::default()
        };
        let (m, body) = request(FloodKind::Framing, 41, &mut rng, with_app);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["messages"][0]["content"], "You are StudyPal.");
        assert!(v["messages"][1]["content"]
            .as_str()
            .unwrap()
            .starts_with("Question 41:"));
        assert_eq!(v["max_tokens"], 16_000);
        assert_eq!(m.header("authorization"), Some("Bearer sk-frame-01"));
        assert_eq!(FloodKind::parse("forged_xff"), Some(FloodKind::ForgedXff));
        let (r, _) = request(FloodKind::FramingRefused, 7, &mut rng, with_app);
        let (q, _) = request(FloodKind::FramingRefused, 8, &mut rng, with_app);
        assert_ne!(r.header("authorization"), q.header("authorization"));
        assert_eq!(FloodKind::FramingRefused.upstream_status(), 401);
        // Eviction: a template comes back every 1.5 × template slots
        // requests, from other tokens; a token stays in its block.
        let t = Tables::default();
        let (a, x) = request(FloodKind::Eviction, 5, &mut rng, none);
        let (b, y) = request(FloodKind::Eviction, 5 + 12_288, &mut rng, none);
        let text = |body: &[u8]| {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap();
            v["messages"][0]["content"].as_str().unwrap().to_owned()
        };
        let (tx, ty) = (text(&x), text(&y));
        assert_eq!(tx.split(" about ").next(), ty.split(" about ").next());
        assert_eq!(tx.split(" paragraph ").nth(1), ty.split(" paragraph ").nth(1));
        assert_ne!(a.header("authorization"), b.header("authorization"));
        let (c, _) = request(FloodKind::Eviction, 5 + 2 * t.identity, &mut rng, none);
        assert_eq!(a.header("authorization"), c.header("authorization"));
        assert_eq!(a.source_ip, c.source_ip);
    }
}
