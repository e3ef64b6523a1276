"""Fleet mode on a Redis Cluster: three `redis-server --cluster-enabled yes`
nodes on loopback joined with `redis-cli --cluster create`.

The service's Redis backend spreads record keys over the cluster's hash
slots and keeps the keys one script touches (the change sequence and log)
under one hash tag. Proven here against the real cluster:

- `replay --hosts 3 --redis <cluster>` decides byte for byte as the
  in-memory model, twice in a row (the second run starts from a cleared
  cluster, so `clear` reaches every node), with records on every node,
  each run after `SCRIPT FLUSH` on every node, its scripts run by their
  hash (`EVALSHA`, loaded on `NOSCRIPT`) and never by their text;
- the sync service in front of the cluster serves three Envoys: a campaign
  spread round-robin over them is denied on every one, no sync fails.
"""

from __future__ import annotations

import random

import pytest

from procs import CLI, FleetSync, RedisCluster, redis_cli, redis_command_calls
from test_detection import send
from test_fleet import BASE, FLEET, HOSTS, PASSES, SECRET, campaign_pass, replay_decisions, replay_trace, wait_syncs


@pytest.fixture(scope="module")
def cluster(workdir):
    if not CLI.exists():
        raise RuntimeError(f"{CLI} missing: build it (cargo build --bin distill-guard)")
    c = RedisCluster(workdir).start()
    yield c
    c.stop()


def test_replay_through_a_redis_cluster_decides_as_the_in_memory_model(cluster, workdir):
    trace, config = replay_trace(workdir)
    memory = replay_decisions(workdir, trace, config, "cluster-memory", [])
    for run in range(2):
        # Every node forgets the scripts (as a restarted node does): the
        # backend's `NOSCRIPT` fallback loads them on every primary.
        for port in cluster.ports:
            redis_cli(port, "script", "flush")
            redis_cli(port, "config", "resetstat")
        on_cluster = replay_decisions(workdir, trace, config, f"cluster-{run}", ["--redis", cluster.url()])
        assert on_cluster == memory, f"run {run} differs from the in-memory model"
    keys = cluster.keys_per_node()
    assert all(k > 0 for k in keys), keys
    # The scripts ran by their hash on every node, never by their text.
    calls = [redis_command_calls(port) for port in cluster.ports]
    assert all(c.get("eval", 0) == 0 and c.get("evalsha", 0) > 0 for c in calls), calls


def test_envoys_sync_through_the_service_on_a_cluster(cluster, envoy_factory, workdir):
    service = FleetSync(workdir, cluster.url(), SECRET).start()
    try:
        hosts = [
            envoy_factory({**BASE, "fleet": FLEET}, extra_clusters=service.cluster_yaml()) for _ in range(HOSTS)
        ]
        rng = random.Random(20261201)
        denied_pass = [None] * HOSTS
        for p in range(PASSES):
            rows = [(i % HOSTS, send(hosts[i % HOSTS].port, job)) for i, job in enumerate(campaign_pass(rng, p))]
            for h in range(HOSTS):
                if denied_pass[h] is None and all(o.status in (403, 429) for host, o in rows if host == h):
                    denied_pass[h] = p
            wait_syncs(hosts)
        assert all(d is not None for d in denied_pass), denied_pass
        assert all(h.counter("fleet.sync_failed") == 0 for h in hosts), [h.counter("fleet.sync_failed") for h in hosts]
        assert "redis unavailable" not in service.log(), service.log()
    finally:
        service.stop()
