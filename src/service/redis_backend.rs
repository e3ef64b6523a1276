//! The fleet's state in Redis.
//!
//! ```text
//! <prefix>:r:<table>:<slot>   hash: field = host id (8 bytes LE),
//!                             value = arrival ms (8 bytes LE) + record words (LE)
//! {<prefix>}:seq              the change sequence (INCRBY)
//! {<prefix>}:log              sorted set: member = table id + slot (5 bytes),
//!                             score = sequence number of its last change
//! ```
//!
//! Every write is one host's own field (`HSET`, atomic), so concurrent
//! replicas never race on a read-merge-write; readers merge the fields
//! (`fleet::hub`). The sequence and the log share a hash tag, so the script
//! that numbers a batch and logs it runs atomically on Redis Cluster too,
//! while the record keys spread over the cluster's slots. Record keys
//! expire `ttl` after their last write; the log holds one member per slot,
//! so both are bounded by the slot tables.

use redis::cluster::{cluster_pipe, ClusterClient, ClusterConnection};
use redis::{Client, Connection, RedisResult, Script};

use crate::fleet::hub::{Backend, Stored};
use crate::fleet::tables::Table;
use crate::fleet::wire::Record;

/// Numbers `#ARGV` changes and logs them: KEYS = seq, log.
const LOG_SCRIPT: &str = r"
local n = #ARGV
local last = redis.call('INCRBY', KEYS[1], n)
for i = 1, n do
  redis.call('ZADD', KEYS[2], last - n + i, ARGV[i])
end
return last
";

enum Conn {
    Single(Connection),
    Cluster(ClusterConnection),
}

pub struct RedisBackend {
    conn: Conn,
    prefix: String,
    ttl_ms: u64,
    /// A fixed clock (the replay's trace time); `None`: Redis `TIME`.
    pub clock_ms: Option<u64>,
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
            clock_ms: None,
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

fn le_u64(b: &[u8]) -> Option<u64> {
    let mut a = [0u8; 8];
    a.copy_from_slice(b.get(..8)?);
    Some(u64::from_le_bytes(a))
}

impl Backend for RedisBackend {
    type Error = String;

    fn now_ms(&mut self) -> Result<u64, String> {
        if let Some(ms) = self.clock_ms {
            return Ok(ms);
        }
        let (secs, micros): (u64, u64) = redis::cmd("TIME").query(self.conn()).map_err(err)?;
        Ok(secs * 1_000 + micros / 1_000)
    }

    fn put(&mut self, host: u64, at_ms: u64, records: &[Record]) -> Result<(), String> {
        let mut cmds = Vec::with_capacity(records.len() * 2);
        for r in records {
            let key = self.record_key(r.table, r.slot);
            let mut value = at_ms.to_le_bytes().to_vec();
            value.extend(r.words.iter().flat_map(|w| w.to_le_bytes()));
            let mut hset = redis::cmd("HSET");
            hset.arg(&key).arg(&host.to_le_bytes()[..]).arg(value);
            let mut expire = redis::cmd("PEXPIRE");
            expire.arg(&key).arg(self.ttl_ms);
            cmds.push(hset);
            cmds.push(expire);
        }
        self.pipeline::<redis::Value>(cmds).map_err(err)?;
        // Logged after the records are written: whoever reads the log
        // finds them.
        let script = Script::new(LOG_SCRIPT);
        let mut inv = script.key(self.seq_key());
        inv.key(self.log_key());
        for r in records {
            inv.arg(member(r.table, r.slot));
        }
        inv.invoke::<u64>(self.conn()).map_err(err)?;
        Ok(())
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

    fn fields(&mut self, slots: &[(Table, u32)]) -> Result<Vec<Vec<Stored>>, String> {
        let cmds = slots
            .iter()
            .map(|(t, s)| {
                let mut c = redis::cmd("HGETALL");
                c.arg(self.record_key(*t, *s));
                c
            })
            .collect();
        let maps: Vec<Vec<(Vec<u8>, Vec<u8>)>> = self.pipeline(cmds).map_err(err)?;
        Ok(maps
            .into_iter()
            .map(|fields| {
                let mut stored: Vec<Stored> = fields
                    .into_iter()
                    .filter_map(|(host, value)| {
                        // Anything malformed in Redis is left out, never merged.
                        if host.len() != 8 || value.len() < 8 || (value.len() - 8) % 8 != 0 {
                            return None;
                        }
                        Some(Stored {
                            host: le_u64(&host)?,
                            at_ms: le_u64(&value)?,
                            words: value.get(8..)?.chunks_exact(8).filter_map(le_u64).collect(),
                        })
                    })
                    .collect();
                stored.sort_by_key(|f| f.host);
                stored
            })
            .collect())
    }
}

impl crate::replay::fleet::TraceClocked for RedisBackend {
    fn set_trace_ms(&mut self, ms: u64) {
        self.clock_ms = Some(ms);
    }
}
