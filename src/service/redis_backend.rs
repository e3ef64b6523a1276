//! The fleet's state in Redis.
//!
//! ```text
//! <prefix>:r:<table>:<slot>   hash, one per slot:
//!                               v = version (decimal), bumped by every write
//!                               m = hosts contributed, version since its key holds it
//!                                   (8 bytes LE each) + merged record words (LE)
//!                               <host id, 8 bytes LE> = version written at (8 bytes LE)
//!                                   + that host's last contribution (words, LE)
//! {<prefix>}:seq              the change sequence (INCRBY)
//! {<prefix>}:log              sorted set: member = table id + slot (5 bytes),
//!                             score = sequence number of its last change
//! ```
//!
//! A write reads `v`, `m` and its host's field (`HMGET`), merges in Rust
//! (`fleet::hub::replace`, the one merge code) and stores `m` and its field
//! with a compare-and-set script on `v` (one key, so it runs atomically on
//! Redis Cluster too); a replica that lost the race reads again. A read is
//! the same `HMGET`: two records a slot, however many hosts hold it. The
//! sequence and the log share a hash tag, so the script that numbers a
//! batch and logs it is atomic on a cluster, while the record keys spread
//! over the cluster's slots. Record keys expire `ttl` after their last
//! write; the log holds one member per slot, so both are bounded by the
//! slot tables.
//!
//! Both scripts run by their SHA-1 (`EVALSHA`), so a sync does not send
//! their text: a node that does not hold one (a fresh or restarted Redis, a
//! `SCRIPT FLUSH`, a cluster node that never saw it) answers `NOSCRIPT`,
//! and the batch is sent again once `SCRIPT LOAD` has put it on every
//! primary. On a cluster the first try may have stored some writes (on the
//! nodes that held the script): their second try finds the version moved
//! and reports a lost race, and `hub` reads them again as for any race.

use redis::cluster::{cluster_pipe, ClusterClient, ClusterConnection};
use redis::{Client, Connection, ErrorKind, RedisResult, Script};

use crate::fleet::hub::{Backend, Slot, Write, TRIES};
use crate::fleet::tables::Table;

/// Numbers `#ARGV` changes and logs them: KEYS = seq, log.
const LOG_SCRIPT: &str = r"
local n = #ARGV
local last = redis.call('INCRBY', KEYS[1], n)
for i = 1, n do
  redis.call('ZADD', KEYS[2], last - n + i, ARGV[i])
end
return last
";

/// Stores a slot's merged record and one host's contribution if its
/// version is still the one read: KEYS = the slot's hash; ARGV = expected
/// version, new version, merged value, host field, host value, ttl ms.
const CAS_SCRIPT: &str = r"
local v = redis.call('HGET', KEYS[1], 'v') or '0'
if v ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'm', ARGV[3], ARGV[4], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
";

enum Conn {
    Single(Connection),
    Cluster(ClusterConnection),
}

pub struct RedisBackend {
    conn: Conn,
    prefix: String,
    ttl_ms: u64,
    /// The compare-and-set script, sent by its hash.
    cas: Script,
    /// The change-logging script (`Script::invoke`: by its hash, loaded
    /// on `NOSCRIPT`).
    log: Script,
}

fn err(e: redis::RedisError) -> String {
    format!("redis: {e}")
}

impl RedisBackend {
    /// `url`: `redis://host:port[/db]`; several comma-separated URLs, or
    /// `redis+cluster://…`, connect to a Redis Cluster.
    pub fn connect(url: &str, prefix: &str) -> Result<RedisBackend, String> {
        let cluster = url.starts_with("redis+cluster://") || url.contains(',');
        let conn = if cluster {
            let nodes: Vec<String> = url
                .split(',')
                .map(|u| u.trim().replacen("redis+cluster://", "redis://", 1))
                .collect();
            let client = ClusterClient::new(nodes).map_err(err)?;
            Conn::Cluster(client.get_connection().map_err(err)?)
        } else {
            let client = Client::open(url).map_err(err)?;
            let c = client
                .get_connection_with_timeout(std::time::Duration::from_secs(2))
                .map_err(err)?;
            Conn::Single(c)
        };
        let mut b = RedisBackend {
            conn,
            prefix: prefix.to_owned(),
            ttl_ms: 2 * 86_400 * 1_000,
            cas: Script::new(CAS_SCRIPT),
            log: Script::new(LOG_SCRIPT),
        };
        b.set_timeouts(std::time::Duration::from_secs(2)).map_err(err)?;
        Ok(b)
    }

    pub fn with_ttl_ms(mut self, ttl_ms: u64) -> RedisBackend {
        self.ttl_ms = ttl_ms.max(1_000);
        self
    }

    fn set_timeouts(&mut self, d: std::time::Duration) -> RedisResult<()> {
        match &mut self.conn {
            Conn::Single(c) => {
                c.set_read_timeout(Some(d))?;
                c.set_write_timeout(Some(d))
            }
            Conn::Cluster(c) => {
                c.set_read_timeout(Some(d))?;
                c.set_write_timeout(Some(d))
            }
        }
    }

    fn record_key(&self, table: Table, slot: u32) -> String {
        format!("{}:r:{}:{}", self.prefix, table.id(), slot)
    }

    fn seq_key(&self) -> String {
        format!("{{{}}}:seq", self.prefix)
    }

    fn log_key(&self) -> String {
        format!("{{{}}}:log", self.prefix)
    }

    fn conn(&mut self) -> &mut dyn redis::ConnectionLike {
        match &mut self.conn {
            Conn::Single(c) => c,
            Conn::Cluster(c) => c,
        }
    }

    /// Runs commands as one pipeline (per node on a cluster).
    fn pipeline<T: redis::FromRedisValue>(&mut self, cmds: Vec<redis::Cmd>) -> RedisResult<Vec<T>> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        match &mut self.conn {
            Conn::Single(c) => {
                let mut p = redis::pipe();
                for cmd in cmds {
                    p.add_command(cmd);
                }
                p.query(c)
            }
            Conn::Cluster(c) => {
                let mut p = cluster_pipe();
                for cmd in cmds {
                    p.add_command(cmd);
                }
                p.query(c)
            }
        }
    }

    /// One `EVALSHA` of the compare-and-set script per write.
    fn cas_commands(&self, host: u64, writes: &[Write]) -> Vec<redis::Cmd> {
        writes
            .iter()
            .map(|w| {
                let version = w.expect.wrapping_add(1);
                let mut merged = w.hosts.to_le_bytes().to_vec();
                merged.extend(w.since.to_le_bytes());
                merged.extend(w.merged.iter().flat_map(|x| x.to_le_bytes()));
                let mut own = version.to_le_bytes().to_vec();
                own.extend(w.own.iter().flat_map(|x| x.to_le_bytes()));
                let mut c = redis::cmd("EVALSHA");
                c.arg(self.cas.get_hash())
                    .arg(1)
                    .arg(self.record_key(w.table, w.slot))
                    .arg(w.expect.to_string())
                    .arg(version.to_string())
                    .arg(merged)
                    .arg(&host.to_le_bytes()[..])
                    .arg(own)
                    .arg(self.ttl_ms);
                c
            })
            .collect()
    }

    /// `SCRIPT LOAD` of the compare-and-set script (on every primary of a
    /// cluster).
    fn load_cas(&mut self) -> RedisResult<()> {
        let mut c = redis::cmd("SCRIPT");
        c.arg("LOAD").arg(CAS_SCRIPT);
        c.query::<String>(self.conn()).map(|_| ())
    }

    /// Liveness: `PING`.
    pub fn ping(&mut self) -> Result<(), String> {
        redis::cmd("PING").query::<String>(self.conn()).map(|_| ()).map_err(err)
    }

    /// Deletes every key of this prefix (a fresh replay). On a Redis
    /// Cluster `KEYS` asks every primary and `DEL` goes to each key's node.
    pub fn clear(&mut self) -> Result<(), String> {
        let (pattern, tagged) = (format!("{}:*", self.prefix), vec![self.seq_key(), self.log_key()]);
        let c = self.conn();
        let keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query(c).map_err(err)?;
        for chunk in keys.chunks(512).chain(std::iter::once(&tagged[..])) {
            if !chunk.is_empty() {
                redis::cmd("DEL").arg(chunk).query::<()>(c).map_err(err)?;
            }
        }
        Ok(())
    }

    /// `INFO memory` used_memory, in bytes.
    pub fn used_memory(&mut self) -> Result<u64, String> {
        self.info_field("used_memory")
    }

    /// One numeric field of `INFO` (e.g. `total_commands_processed`).
    pub fn info_field(&mut self, field: &str) -> Result<u64, String> {
        let info: String = redis::cmd("INFO").query(self.conn()).map_err(err)?;
        let prefix = format!("{field}:");
        info.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("no {field} in INFO"))
    }
}

fn member(table: Table, slot: u32) -> Vec<u8> {
    let mut m = vec![table.id()];
    m.extend_from_slice(&slot.to_le_bytes());
    m
}

/// Record words stored little-endian; `None` when not whole words.
fn words(b: &[u8]) -> Option<Vec<u64>> {
    (b.len() % 8 == 0).then(|| b.chunks_exact(8).filter_map(le_u64).collect())
}

fn le_u64(b: &[u8]) -> Option<u64> {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(..8)?);
    Some(u64::from_le_bytes(a))
}

impl Backend for RedisBackend {
    type Error = String;

    fn load(&mut self, host: u64, slots: &[(Table, u32)]) -> Result<Vec<Slot>, String> {
        let cmds = slots
            .iter()
            .map(|(t, s)| {
                let mut c = redis::cmd("HMGET");
                c.arg(self.record_key(*t, *s))
                    .arg("v")
                    .arg("m")
                    .arg(&host.to_le_bytes()[..]);
                c
            })
            .collect();
        type Fields = (Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);
        let rows: Vec<Fields> = self.pipeline(cmds).map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|(v, m, own)| {
                // Anything malformed in Redis reads as absent, never merged.
                let (hosts, since, merged) = m
                    .as_deref()
                    .and_then(|m| Some((le_u64(m)?, le_u64(m.get(8..)?)?, words(m.get(16..)?)?)))
                    .unwrap_or_default();
                Slot {
                    version: v.and_then(|v| v.parse().ok()).unwrap_or(0),
                    hosts,
                    since,
                    merged,
                    own: own.as_deref().and_then(|o| Some((le_u64(o)?, words(o.get(8..)?)?))),
                }
            })
            .collect())
    }

    fn store(&mut self, host: u64, writes: &[Write]) -> Result<Vec<bool>, String> {
        let done: Vec<i64> = match self.pipeline(self.cas_commands(host, writes)) {
            Err(e) if e.kind() == ErrorKind::NoScriptError => {
                self.load_cas().map_err(err)?;
                self.pipeline(self.cas_commands(host, writes)).map_err(err)?
            }
            other => other.map_err(err)?,
        };
        Ok(done.into_iter().map(|d| d == 1).collect())
    }

    fn log(&mut self, slots: &[(Table, u32)]) -> Result<(), String> {
        if slots.is_empty() {
            return Ok(());
        }
        let (seq, log) = (self.seq_key(), self.log_key());
        let mut inv = self.log.key(seq);
        inv.key(log);
        for (table, slot) in slots {
            inv.arg(member(*table, *slot));
        }
        let conn = match &mut self.conn {
            Conn::Single(c) => c as &mut dyn redis::ConnectionLike,
            Conn::Cluster(c) => c,
        };
        inv.invoke::<u64>(conn).map_err(err)?;
        Ok(())
    }

    fn contended(&self, slots: usize) -> String {
        format!("redis: {slots} slots written by another replica {TRIES} times in a row")
    }

    fn changed(&mut self, since: u64, limit: usize) -> Result<Vec<(Table, u32, u64)>, String> {
        let rows: Vec<(Vec<u8>, f64)> = redis::cmd("ZRANGEBYSCORE")
            .arg(self.log_key())
            .arg(since)
            .arg("+inf")
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query(self.conn())
            .map_err(err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(m, score)| {
                let (id, slot) = m.split_first()?;
                let table = Table::from_id(*id)?;
                let mut b = [0u8; 4];
                b.copy_from_slice(slot.get(..4)?);
                Some((table, u32::from_le_bytes(b), score as u64))
            })
            .collect())
    }
}

/// Keys expire on Redis's own clock, whatever the trace's time.
impl crate::replay::fleet::TraceClocked for RedisBackend {}
