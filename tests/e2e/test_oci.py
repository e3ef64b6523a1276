"""`make oci`: the module as a Wasm OCI image (the *oci* variant Istio's
WasmPlugin and Envoy Gateway fetch), pushed with the `oras` Python SDK to a
real registry (the Debian `docker-registry` package, on loopback) and pulled
back intact by digest.

What a mesh's image fetcher checks is checked here on the registry's own
bytes: the manifest's digest, its media types, exactly two layers, and the
raw module in the `application/vnd.module.wasm.content.layer.v1+wasm` one.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
import urllib.request

import oras.client
import pytest

from procs import REPO, WASM, _kill_group, _spawn, free_port

REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
OCI = REPO / "scripts" / "oci.py"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.module.wasm.config.v1+json"
LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"


@pytest.fixture(scope="module")
def registry(workdir):
    port = free_port()
    cfg = workdir / "registry.yml"
    cfg.write_text(
        "version: 0.1\n"
        "log: {level: warn}\n"
        f"storage: {{filesystem: {{rootdirectory: {json.dumps(str(workdir / 'registry'))}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}'}}\n"
    )
    proc = _spawn([REGISTRY, "serve", str(cfg)], workdir / "registry.log")
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill_group(proc)
            raise RuntimeError("docker-registry did not start: " + (workdir / "registry.log").read_text()[-2000:])
        time.sleep(0.1)
    yield f"127.0.0.1:{port}"
    _kill_group(proc)


def get(url: str, accept: str | None = None) -> tuple[bytes, dict]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read(), dict(r.headers)


@pytest.fixture(scope="module")
def pushed(registry):
    """`make oci` as it runs: scripts/oci.py REF --insecure; its printed digest."""
    ref = f"{registry}/distill-guard:e2e"
    out = subprocess.run(
        [sys.executable, str(OCI), ref, "--insecure"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines() if " " in line)
    digest = lines["digest"]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert f"url: oci://{registry}/distill-guard@{digest}" in out.stdout
    return registry, digest


def test_manifest_has_the_wasm_oci_media_types(pushed):
    registry, digest = pushed
    raw, headers = get(f"http://{registry}/v2/distill-guard/manifests/{digest}", accept=MANIFEST)
    # Pinning by digest works because the registry serves exactly these bytes.
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest
    m = json.loads(raw)
    assert m["schemaVersion"] == 2 and m["mediaType"] == MANIFEST
    assert m["config"]["mediaType"] == CONFIG
    # Istio's and Envoy Gateway's *oci* variant: exactly two layers, the
    # module raw (not a tarball) in the wasm-content one.
    assert [layer["mediaType"] for layer in m["layers"]] == [CONFIG, LAYER]
    wasm_layer = m["layers"][1]
    module = WASM.read_bytes()
    assert wasm_layer["size"] == len(module)
    assert wasm_layer["digest"] == "sha256:" + hashlib.sha256(module).hexdigest()
    config, _ = get(f"http://{registry}/v2/distill-guard/blobs/{m['config']['digest']}")
    doc = json.loads(config)
    assert doc["type"] == "envoy_proxy" and doc["config"]["rootIds"] == ["distill_guard"]
    # The tag points at the same manifest.
    _, tagged = get(f"http://{registry}/v2/distill-guard/manifests/e2e", accept=MANIFEST)
    assert tagged.get("Docker-Content-Digest") == digest


def test_pull_by_digest_gives_the_module_back_intact(pushed, workdir):
    registry, digest = pushed
    client = oras.client.OrasClient(hostname=registry, insecure=True)
    out = workdir / "pulled"
    files = client.pull(target=f"{registry}/distill-guard@{digest}", outdir=str(out))
    names = sorted(p.rsplit("/", 1)[-1] for p in files)
    assert names == ["config.json", "plugin.wasm"]
    pulled = (out / "plugin.wasm").read_bytes()
    assert pulled == WASM.read_bytes()
    assert pulled.startswith(b"\0asm")


def test_push_refuses_a_file_that_is_not_wasm(registry, workdir):
    bogus = workdir / "not.wasm"
    bogus.write_bytes(b"hello")
    out = subprocess.run(
        [sys.executable, str(OCI), f"{registry}/distill-guard:bad", "--insecure", "--wasm", str(bogus)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode != 0 and "not a WebAssembly module" in out.stderr
