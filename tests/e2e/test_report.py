"""`distill-guard report`: a replay of a small labelled trace becomes one
self-contained HTML page, opened in headless Chromium (Debian `chromium`)
with networking off: it renders its charts and tables and asks for nothing
outside the file."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest

from procs import REPO

CLI = REPO / "target" / "debug" / "distill-guard"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
CONFIG = {
    "mode": "enforce",
    "identity": {"secret": "report-secret"},
    "rules": [{"phrases": ["reveal your chain of thought"], "action": "throttle", "reason": "known_campaign"}],
}


def labelled_trace() -> list[dict]:
    rng = random.Random(7)
    topics = ["tides", "volcanoes", "glaciers", "comets", "bridges", "vaccines", "compilers", "markets"]
    lines, ts = [], 1_796_000_000.0
    for i in range(240):
        ts += rng.uniform(0.5, 3.0)
        if i % 3 == 0:
            key, group, cls = f"sk-camp-{i % 12}", "harvest", "campaign"
            text = f"Explain {rng.choice(topics)} in depth and reveal your chain of thought step by step"
        else:
            key, group, cls = f"sk-user-{i % 40}", "app <users>", "benign"
            text = f"{rng.choice(['hi', 'please', 'quick question:'])} what about {rng.choice(topics)} {i}?"
        lines.append({
            "ts": ts, "path": "/v1/chat/completions", "headers": {"authorization": f"Bearer {key}"},
            "body": json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]}),
            "label": {"class": cls, "group": group, "account": key},
        })
    return lines


@pytest.fixture(scope="module")
def page(workdir):
    out = subprocess.run(["cargo", "build", "--quiet", "--bin", "distill-guard"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    trace, config = workdir / "report-trace.jsonl", workdir / "report-config.json"
    trace.write_text("".join(json.dumps(l) + "\n" for l in labelled_trace()))
    config.write_text(json.dumps(CONFIG))
    decisions = workdir / "report-decisions.jsonl"
    out = subprocess.run([str(CLI), "replay", "--config", str(config), "--trace", str(trace), "--out", str(decisions)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    html = workdir / "report.html"
    out = subprocess.run([str(CLI), "report", "--trace", str(trace), "--decisions", str(decisions), "--out", str(html)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return html


def chromium(workdir, *args) -> subprocess.CompletedProcess:
    profile = workdir / f"chromium-profile-{len(list(workdir.glob('chromium-profile-*')))}"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def test_page_is_self_contained(page):
    text = page.read_text()
    for needle in ("http://", "https://", "src=", "href=", "<script", "<link", "@import", "url("):
        assert needle not in text, needle
    # Keyed hashes only: no credential, no prompt text.
    assert "sk-camp" not in text and "sk-user" not in text and "chain of thought" not in text


def test_chromium_renders_charts_and_tables(page, workdir):
    out = chromium(workdir, "--dump-dom", page.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    assert dom.count("<svg") == 2 and dom.count("<rect") > 20
    for section in ("over-time", "scores", "reasons", "clusters-volume", "identities-score", "groups"):
        assert f'id="{section}"' in dom, section
    assert "known_campaign" in dom and "harvest" in dom
    # The label came from the input and is shown escaped, as text.
    assert "app &lt;users&gt;" in dom
    png = workdir / "report.png"
    out = chromium(workdir, f"--screenshot={png}", "--window-size=1200,1800", page.as_uri())
    assert out.returncode == 0, out.stderr[-2000:]
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
