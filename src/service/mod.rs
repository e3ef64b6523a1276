//! The fleet sync service (`distill-guard fleet-sync`, native only): a
//! small, stateless HTTP endpoint between the Envoys' timers and Redis, in
//! the role of Envoy's global rate-limit service. Several replicas may run
//! behind one Envoy cluster; all state is in Redis (standalone or Cluster).
//!
//! - `redis_backend`: `fleet::hub::Backend` over Redis;
//! - `server`: the HTTP endpoint: authenticates (keyed MAC), bounds what it
//!   reads, answers through `fleet::hub::sync`.

pub mod redis_backend;
pub mod server;
