//! The sync endpoint: `POST <path>` with a `fleet::wire` request, answered
//! with a `fleet::wire` response (200), or an empty error status: 401 (bad
//! tag), 400 (malformed), 413 (over the size bound, read no further), 503
//! (Redis unavailable: the hosts keep deciding locally and retry at their
//! next sync). `GET /healthz` is 200 when Redis answers `PING`.
//!
//! Stateless: each worker thread has its own Redis connection, reopened
//! after a failure; several replicas can serve one fleet.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tiny_http::{Method, Response, Server};

use super::redis_backend::RedisBackend;
use crate::fleet::hub::{self, Limits};
use crate::fleet::tables::ALL;
use crate::fleet::wire::{self, MacKey};

#[derive(Clone)]
pub struct Options {
    pub redis: String,
    pub listen: String,
    pub path: String,
    pub prefix: String,
    pub key: MacKey,
    pub threads: usize,
    pub max_records: usize,
    pub ttl_ms: u64,
    /// How the filters' detection counts fade: the fleet's
    /// `detection.limit_window_secs`, `memory_half_life_secs` and
    /// `window_secs`.
    pub fades: crate::fleet::merge::Fades,
}

/// Counters the service prints on `GET /stats` (and in its log).
#[derive(Default)]
pub struct Stats {
    pub syncs: AtomicU64,
    pub refused: AtomicU64,
    pub redis_errors: AtomicU64,
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// True while Redis is failing (one log line per episode).
    redis_down: AtomicBool,
}

/// Largest request body accepted for `max_records` records.
pub fn max_body(max_records: usize) -> usize {
    let widest = ALL.iter().map(|t| wire::record_bytes(*t)).max().unwrap_or(0);
    64 + max_records * widest
}

/// Serves until the process ends.
pub fn serve(opts: Options) -> Result<(), String> {
    let server = Arc::new(Server::http(&opts.listen).map_err(|e| format!("listen {}: {e}", opts.listen))?);
    let stats = Arc::new(Stats::default());
    eprintln!(
        "distill-guard fleet-sync: listening on {} ({} threads), redis {}, prefix {}",
        opts.listen,
        opts.threads,
        redact(&opts.redis),
        opts.prefix
    );
    let workers: Vec<_> = (0..opts.threads.max(1))
        .map(|_| {
            let (server, stats, opts) = (Arc::clone(&server), Arc::clone(&stats), opts.clone());
            std::thread::spawn(move || worker(&server, &stats, &opts))
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

/// The URL without a password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", url.get(..s).unwrap_or(""), url.get(at..).unwrap_or("")),
        _ => url.to_owned(),
    }
}

fn worker(server: &Server, stats: &Stats, opts: &Options) {
    let mut backend: Option<RedisBackend> = None;
    loop {
        let Ok(mut req) = server.recv() else {
            continue;
        };
        let (status, body) = handle(&mut req, &mut backend, stats, opts);
        let mut response = Response::from_data(body).with_status_code(status);
        if let Ok(h) = tiny_http::Header::from_bytes(&b"content-type"[..], &b"application/octet-stream"[..]) {
            response = response.with_header(h);
        }
        let _ = req.respond(response);
    }
}

fn redis_failed(stats: &Stats, e: &str) {
    stats.redis_errors.fetch_add(1, Ordering::Relaxed);
    if !stats.redis_down.swap(true, Ordering::Relaxed) {
        eprintln!("distill-guard fleet-sync: redis unavailable: {e} (answering 503 until it is back)");
    }
}

fn redis_ok(stats: &Stats) {
    if stats.redis_down.swap(false, Ordering::Relaxed) {
        eprintln!("distill-guard fleet-sync: redis is back");
    }
}

fn handle(
    req: &mut tiny_http::Request,
    backend: &mut Option<RedisBackend>,
    stats: &Stats,
    opts: &Options,
) -> (u16, Vec<u8>) {
    let url = req.url().to_owned();
    match (req.method(), url.as_str()) {
        (Method::Get, "/healthz") => {
            return match connected(backend, opts).and_then(|b| b.ping()) {
                Ok(()) => (200, b"ok\n".to_vec()),
                Err(_) => {
                    *backend = None;
                    (503, b"redis unavailable\n".to_vec())
                }
            };
        }
        (Method::Get, "/stats") => {
            let s = format!(
                "syncs {}\nrefused {}\nredis_errors {}\nbytes_in {}\nbytes_out {}\n",
                stats.syncs.load(Ordering::Relaxed),
                stats.refused.load(Ordering::Relaxed),
                stats.redis_errors.load(Ordering::Relaxed),
                stats.bytes_in.load(Ordering::Relaxed),
                stats.bytes_out.load(Ordering::Relaxed),
            );
            return (200, s.into_bytes());
        }
        (Method::Post, p) if p == opts.path => {}
        _ => return (404, Vec::new()),
    }
    let cap = max_body(opts.max_records);
    if req.body_length().is_some_and(|n| n > cap) {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return (413, Vec::new());
    }
    let mut body = Vec::new();
    if req.as_reader().take(cap as u64 + 1).read_to_end(&mut body).is_err() {
        return (400, Vec::new());
    }
    if body.len() > cap {
        stats.refused.fetch_add(1, Ordering::Relaxed);
        return (413, Vec::new());
    }
    stats.bytes_in.fetch_add(body.len() as u64, Ordering::Relaxed);
    let request = match wire::decode_request(&opts.key, &body, opts.max_records) {
        Ok(r) => r,
        Err(wire::WireError::Tag) => {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            return (401, Vec::new());
        }
        Err(_) => {
            stats.refused.fetch_add(1, Ordering::Relaxed);
            return (400, Vec::new());
        }
    };
    let limits = Limits {
        max_records: opts.max_records,
        fades: opts.fades,
    };
    let result = connected(backend, opts).and_then(|b| hub::sync(b, limits, &request));
    match result {
        Ok((cursor, records)) => {
            redis_ok(stats);
            stats.syncs.fetch_add(1, Ordering::Relaxed);
            let out = wire::encode_response(
                &opts.key,
                &wire::Response {
                    echo: wire::echo_of(&body),
                    cursor,
                    records,
                },
            );
            stats.bytes_out.fetch_add(out.len() as u64, Ordering::Relaxed);
            (200, out)
        }
        Err(e) => {
            *backend = None;
            redis_failed(stats, &e);
            (503, Vec::new())
        }
    }
}

fn connected<'a>(backend: &'a mut Option<RedisBackend>, opts: &Options) -> Result<&'a mut RedisBackend, String> {
    if backend.is_none() {
        *backend = Some(RedisBackend::connect(&opts.redis, &opts.prefix)?.with_ttl_ms(opts.ttl_ms));
    }
    backend.as_mut().ok_or_else(|| "no connection".to_owned())
}
