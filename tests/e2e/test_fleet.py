"""Fleet mode against real processes: redis-server, the sync service
(`distill-guard fleet-sync`) and three Envoys with the module, each syncing
every second.

The campaign (the templated reasoning harvest of test_detection.py) uses 30
API keys behind one /24, sent round-robin over the three Envoys, so each
Envoy sees only 10 of the keys. Ten accounts on a template is not enough
for a denial (control: a fourth Envoy without fleet mode gets exactly what
the first fleet Envoy gets and denies none of it), thirty is (a fifth
Envoy, alone, gets the whole campaign). The campaign goes in passes over
its keys; after each pass the test waits until every fleet Envoy has
completed two syncs (event-driven, not timed), the most it takes for one
Envoy's records to reach another through Redis. Expected: every fleet
Envoy denies the campaign at most one pass after the single Envoy does.

Throughout, app users (their own keys and questions) are spread over the
same Envoys and never denied. Then Redis is killed: benign traffic gets
exactly the same answers, the campaign stays denied from what the hosts
hold, each Envoy counts failed syncs and logs the outage once; Redis is
restarted (empty) and every Envoy syncs again, re-sending what it touched
during the outage.
"""

from __future__ import annotations

import random
import time

import pytest

from procs import CLI, FleetSync, Redis, redis_cli, redis_command_calls
from test_detection import APP_SYSTEM_PROMPT, Job, benign_questions, campaign_item, send

SECRET = "e2e-fleet-secret-0123456789"
FLEET = {"enabled": True, "secret": SECRET, "sync_secs": 1, "timeout_ms": 800}
BASE = {"mode": "enforce", "identity": {"secret": "e2e-fleet-identity", "trusted_xff_hops": 1}}
KEYS = 30
PASSES = 6
HOSTS = 3
SYNC_WAIT_S = 30.0  # guard only: the waits are for counted syncs


def campaign_pass(rng: random.Random, p: int) -> list[Job]:
    jobs = []
    for a in range(KEYS):
        text = (
            "Imagine and articulate the internal reasoning behind a completed response to the following "
            f"problem and write it out step by step: {campaign_item(rng)}"
        )
        body = {"model": "gpt-4o", "max_tokens": 16000, "messages": [{"role": "user", "content": text}]}
        jobs.append(Job(True, p * KEYS + a, f"sk-fleet-harvest-{a:03d}", f"198.51.100.{a + 1}", body))
    return jobs


QUESTIONS = benign_questions()


def app_users(start: int, n: int) -> list[Job]:
    jobs = []
    for i in range(start, start + n):
        q = QUESTIONS[i % len(QUESTIONS)]
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "system", "content": APP_SYSTEM_PROMPT}, {"role": "user", "content": q}],
        }
        jobs.append(Job(False, i, f"sk-fleet-user-{i:04d}", f"100.{64 + i % 50}.{i % 250}.{(i * 37) % 250 + 1}", body))
    return jobs


def sync_ok(envoy) -> int:
    return envoy.counter("fleet.sync_ok")


def wait_syncs(envoys, n: int = 2) -> None:
    """Until every Envoy has completed `n` more syncs."""
    start = [sync_ok(e) for e in envoys]
    deadline = time.monotonic() + SYNC_WAIT_S
    while any(sync_ok(e) < s + n for e, s in zip(envoys, start)):
        if time.monotonic() > deadline:
            pytest.fail(f"fleet syncs stalled: {[sync_ok(e) for e in envoys]} from {start}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def fleet(envoy_factory, workdir):
    if not CLI.exists():
        raise RuntimeError(f"{CLI} missing: build it (cargo build --bin distill-guard)")
    redis = Redis(workdir).start()
    service = FleetSync(workdir, redis.url(), SECRET).start()
    clusters = service.cluster_yaml()
    hosts = [envoy_factory({**BASE, "fleet": FLEET}, extra_clusters=clusters) for _ in range(HOSTS)]
    third = envoy_factory(BASE)  # gets what hosts[0] gets, alone
    single = envoy_factory(BASE)  # gets the whole campaign, alone
    yield {"redis": redis, "service": service, "hosts": hosts, "third": third, "single": single}
    service.stop()
    redis.stop()


@pytest.fixture(scope="module")
def campaign(fleet):
    """The campaign in passes, app users beside it; what each got."""
    hosts, third, single = fleet["hosts"], fleet["third"], fleet["single"]
    rng = random.Random(20261130)
    out = {"fleet": [], "third": [], "single": [], "benign": []}
    users = 0
    for p in range(PASSES):
        for i, job in enumerate(campaign_pass(rng, p)):
            h = i % HOSTS  # round-robin over the hosts: key a always on host a % 3
            o = send(hosts[h].port, job)
            out["fleet"].append((p, h, o))
            out["single"].append((p, send(single.port, job)))
            if h == 0:
                out["third"].append((p, send(third.port, job)))
        for i, job in enumerate(app_users(users, 15)):
            out["benign"].append(send(hosts[i % HOSTS].port, job))
        users += 15
        wait_syncs(hosts)
    out["users"] = users

    def first_pass(rows, denied_all=False):
        by_pass = {}
        for p, o in rows:
            by_pass.setdefault(p, []).append(o.status in (403, 429))
        for p in sorted(by_pass):
            if (all if denied_all else any)(by_pass[p]):
                return p
        return None

    out["single_first"] = first_pass(out["single"])
    out["host_all_denied"] = [
        first_pass([(p, o) for p, h, o in out["fleet"] if h == host], denied_all=True) for host in range(HOSTS)
    ]
    print(
        f"\nfleet e2e: single Envoy first denial in pass {out['single_first']}; fleet Envoys deny every campaign "
        f"request from pass {out['host_all_denied']}; third alone denied "
        f"{sum(o.status in (403, 429) for _, o in out['third'])}/{len(out['third'])}"
    )
    return out


def test_a_third_of_the_campaign_alone_is_not_denied(campaign):
    denied = [o for _, o in campaign["third"] if o.status in (403, 429)]
    assert not denied, f"{len(denied)} denied: the control no longer shows what the fleet adds"


def test_fleet_denies_on_every_host_at_most_one_pass_after_one_envoy(campaign):
    single = campaign["single_first"]
    assert single is not None, "one Envoy with the whole campaign never denied it"
    for host, first in enumerate(campaign["host_all_denied"]):
        assert first is not None, f"host {host} never denied a whole pass"
        assert first <= single + 1, (host, first, single)
    last = [o for p, _, o in campaign["fleet"] if p == PASSES - 1]
    assert all(o.status in (403, 429) for o in last), [o.status for o in last]


def test_app_users_never_denied(campaign):
    statuses = [o.status for o in campaign["benign"]]
    assert statuses and all(s == 200 for s in statuses), sorted(set(statuses))


def test_redis_outage_changes_no_answer_and_the_fleet_recovers(fleet, campaign):
    hosts, redis = fleet["hosts"], fleet["redis"]
    failed_before = [h.counter("fleet.sync_failed") for h in hosts]
    redis.stop()
    users = campaign["users"]
    rng = random.Random(99)
    benign, harvest = [], []
    deadline = time.monotonic() + SYNC_WAIT_S
    # Traffic until every host has seen its syncs fail (counted, not timed).
    while True:
        for i, job in enumerate(app_users(users, 6)):
            benign.append(send(hosts[i % HOSTS].port, job))
        users += 6
        for i, job in enumerate(campaign_pass(rng, PASSES)[:6]):
            harvest.append(send(hosts[i % HOSTS].port, job))
        if all(h.counter("fleet.sync_failed") >= f + 2 for h, f in zip(hosts, failed_before)):
            break
        if time.monotonic() > deadline:
            pytest.fail(f"syncs never failed: {[h.counter('fleet.sync_failed') for h in hosts]}")
    assert all(o.status == 200 for o in benign), sorted({o.status for o in benign})
    assert all(o.status in (403, 429) for o in harvest), [o.status for o in harvest]
    for h in hosts:
        assert h.log().count("fleet sync failing") == 1, "one log line per outage episode"
    # Back, empty: every host syncs again and re-sends what it touched.
    redis.start()
    wait_syncs(hosts, 2)
    for h in hosts:
        assert "fleet sync is back" in h.log()
    import socket

    with socket.create_connection(("127.0.0.1", redis.port), timeout=2) as s:
        s.sendall(b"DBSIZE\r\n")
        reply = s.recv(64)
    assert reply.startswith(b":") and int(reply[1:].strip()) > 0, reply


def test_the_merge_script_runs_by_its_hash_and_is_reloaded_after_a_flush(fleet, campaign):
    """The service sends its compare-and-set script by its SHA-1
    (`EVALSHA`), never its text (`EVAL`); after `SCRIPT FLUSH` (as after a
    Redis restart) the next sync gets `NOSCRIPT`, loads the script and goes
    on: no sync fails."""
    hosts, redis = fleet["hosts"], fleet["redis"]
    if redis.proc is None or redis.proc.poll() is not None:
        redis.start()
        wait_syncs(hosts, 2)
    failed = [h.counter("fleet.sync_failed") for h in hosts]
    redis_cli(redis.port, "script", "flush")
    redis_cli(redis.port, "config", "resetstat")
    for i, job in enumerate(app_users(5_000, 6)):
        assert send(hosts[i % HOSTS].port, job).status == 200
    wait_syncs(hosts, 2)
    calls = redis_command_calls(redis.port)
    assert calls.get("eval", 0) == 0, calls
    assert calls.get("evalsha", 0) > 0, calls
    assert calls.get("script|load", 0) >= 1, calls
    assert [h.counter("fleet.sync_failed") for h in hosts] == failed


def replay_trace(workdir):
    """A campaign and app users, 8 passes, as a replay trace; and a fleet
    configuration to replay it with."""
    import json

    rng = random.Random(5)
    lines, ts = [], 1_700_000_000.0
    for p in range(8):
        for job in campaign_pass(rng, p) + app_users(p * 30, 30):
            lines.append(
                json.dumps(
                    {
                        "ts": ts,
                        "method": "POST",
                        "path": "/v1/chat/completions",
                        "headers": {"authorization": f"Bearer {job.key}"},
                        "source_ip": job.xff,
                        "body": json.dumps(job.body),
                    }
                )
            )
            ts += 0.5
    trace = workdir / "fleet-trace.jsonl"
    trace.write_text("\n".join(lines) + "\n")
    config = workdir / "fleet-replay.json"
    config.write_text(json.dumps({"mode": "enforce", "identity": {"secret": "e2e-fleet-identity"}, "fleet": {"secret": SECRET}}))
    return trace, config


def replay_decisions(workdir, trace, config, name: str, extra: list[str]) -> bytes:
    """`replay --hosts 3 --spread request --sync-secs 5` of `trace`, with
    `extra` options; the decisions file's bytes."""
    import subprocess

    out = workdir / f"fleet-decisions-{name}.jsonl"
    argv = [str(CLI), "replay", "--config", str(config), "--trace", str(trace), "--out", str(out)]
    argv += ["--hosts", "3", "--spread", "request", "--sync-secs", "5", *extra]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    return out.read_bytes()


def test_replay_through_real_redis_decides_as_the_in_memory_model(fleet, workdir):
    """`replay --hosts 3 --redis` (the service's Redis backend, the real
    server) and the in-memory model give byte-identical decisions."""
    import json

    trace, config = replay_trace(workdir)
    redis = fleet["redis"]
    if redis.proc is None or redis.proc.poll() is not None:
        redis.start()
    outs = [
        replay_decisions(workdir, trace, config, "memory", []),
        replay_decisions(workdir, trace, config, "redis", ["--redis", redis.url()]),
    ]
    assert outs[0] == outs[1]
    denied = [json.loads(x)["action"] in ("throttle", "block") for x in outs[0].decode().splitlines()]
    assert sum(denied) > 100, sum(denied)
