"""A flood in the real Envoy while a campaign runs (the replay does a million
of each: `make bench-flood`, src/sim/flood_bench.rs). The campaign and the
app users of test_detection.py are sent again, interleaved with a flood of
requests that each come from a fresh key, a fresh /24 (a forged
`x-forwarded-for` entry left of the real one, as well) and a fresh
template: enough to fill every detection table several times over, since
this Envoy's tables are small (1,024 identity, 512 template, 256 address
slots). The campaign must still be denied, no app user and no flood request
denied, and the shared data must hold no more keys than the tables' slots.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from client import bearer, post
from test_detection import PARALLEL, Job, benign_jobs, campaign_jobs, interleave, send

SLOTS = {"identity_slots": 1024, "template_slots": 512, "network_slots": 256}
PLUGIN_CONFIG = {"mode": "enforce", "identity": {"trusted_xff_hops": 1, "secret": "flood-e2e"}, "detection": SLOTS}
FLOOD = 8000

WORDS = "amber basalt cobalt dune ember fjord garnet harbor indigo jasper kelp lichen marble nectar onyx".split()


def flood_jobs() -> list[Job]:
    rng = random.Random(99)
    jobs = []
    for n in range(FLOOD):
        head = " ".join(rng.choice(WORDS) for _ in range(10))
        tail = " ".join(rng.choice(WORDS) for _ in range(10))
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"{head} {n} describe {tail}"}]}
        xff = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        jobs.append(Job(False, n, f"sk-flood-{n:05d}", xff, body))
    return jobs


@pytest.fixture(scope="module")
def run(envoy):
    campaign, benign, flood = campaign_jobs(), benign_jobs(), flood_jobs()
    tagged = [("campaign", j) for j in campaign] + [("benign", j) for j in benign] + [("flood", j) for j in flood]
    rng = random.Random(5)
    # The campaign keeps its own order; everything else is spread around it.
    others = [t for t in tagged if t[0] != "campaign"]
    rng.shuffle(others)
    order = interleave([t for t in tagged if t[0] == "campaign"], others)
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = list(pool.map(lambda t: send(envoy.port, t[1]), order))
    print(f"\nflood e2e: {len(order)} requests in {time.monotonic() - start:.1f}s")
    by: dict[str, list] = {"campaign": [], "benign": [], "flood": []}
    for (kind, _), o in zip(order, outcomes):
        by[kind].append(o)
    return by


def test_campaign_is_still_denied_under_the_flood(run):
    campaign = run["campaign"]
    first_deny = next((i for i, o in enumerate(campaign) if o.status in (403, 429)), None)
    assert first_deny is not None, [o.action for o in campaign[:200]]
    last = campaign[-100:]
    denied_last = sum(o.status in (403, 429) for o in last)
    assert denied_last >= 90, f"only {denied_last}/100 of the last campaign requests denied"


def test_no_app_user_and_no_flood_request_is_denied(run):
    for kind in ("benign", "flood"):
        statuses = sorted({o.status for o in run[kind]})
        assert statuses == [200], (kind, statuses)


def test_shared_data_stays_within_the_tables(run, envoy):
    # keys_created counts a key twice when two workers create it at the
    # same instant (both see it missing): a handful at most, against the
    # 10,000 fresh identities, templates and blocks sent.
    keys = envoy.counter("shared_data.keys_created")
    assert 0 < keys <= sum(SLOTS.values()) + 32, keys
