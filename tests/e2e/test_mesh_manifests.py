"""The Istio and Envoy Gateway manifests (envoy/istio-wasmplugin.yaml,
envoy/istio-envoyfilter.yaml, envoy/envoy-gateway.yaml).

- The Istio objects validate against Istio's CRD schemas as published in
  the npm package @kubernetes-models/istio (installed by scripts/setup.sh).
- The Wasm filter configuration the Istio EnvoyFilter ships (with its code
  swapped for the local module: the only thing istio-agent changes) runs in
  the real Envoy 1.40 and carries what the plain config does: no watchdog
  fallback, tag headers reach the upstream, a denial opens no upstream
  request.
- Every manifest's plugin configuration is one the filter accepts (Envoy
  refuses the filter otherwise), and each manifest carries the same
  stats_config as envoy/envoy.yaml.

Not covered (no cluster here): Istio's ECDS delivery and istio-agent's OCI
fetch, Envoy Gateway's translation and its EnvoyPatchPolicy jsonPath.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

import envoy_config
from client import PIPES_ONLY, bearer, post
from procs import REPO

ENVOY_DIR = REPO / "envoy"
NODE = shutil.which("node") or "/usr/bin/node"
NODE_MODULES_ROOT = REPO / ".tools" / "node"
VALIDATOR = REPO / "tests" / "e2e" / "validate_istio.mjs"
UPSTREAM_REQUESTS = "cluster.stub_llm.upstream_rq_total"
WATCHDOG_LOG = "Envoy does not call the body callbacks after a pause at headers"


def docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((ENVOY_DIR / name).read_text()) if d]


def one(name: str, kind: str) -> dict:
    (d,) = [d for d in docs(name) if d["kind"] == kind]
    return d


def test_istio_manifests_match_the_published_crd_schemas():
    objects = [d for f in ("istio-wasmplugin.yaml", "istio-envoyfilter.yaml") for d in docs(f)]
    istio = [d for d in objects if d["apiVersion"].split("/")[0].endswith("istio.io")]
    assert {d["kind"] for d in istio} == {"WasmPlugin", "EnvoyFilter"}
    lines = "".join(json.dumps(d) + "\n" for d in istio)
    out = subprocess.run(
        [NODE, str(VALIDATOR), str(NODE_MODULES_ROOT)], input=lines, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok ") == len(istio)
    # The validator does reject what the schema forbids.
    bad = json.loads(json.dumps(one("istio-wasmplugin.yaml", "WasmPlugin")))
    bad["spec"]["phase"] = "SOMETIME"
    out = subprocess.run(
        [NODE, str(VALIDATOR), str(NODE_MODULES_ROOT)], input=json.dumps(bad) + "\n",
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1 and "phase" in out.stdout


def envoyfilter_wasm() -> dict:
    ef = one("istio-envoyfilter.yaml", "EnvoyFilter")
    patches = ef["spec"]["configPatches"]
    (ext,) = [p for p in patches if p["applyTo"] == "EXTENSION_CONFIG"]
    (http,) = [p for p in patches if p["applyTo"] == "HTTP_FILTER"]
    # The HTTP filter takes its configuration from the extension config.
    assert http["patch"]["value"]["name"] == ext["patch"]["value"]["name"]
    assert http["patch"]["value"]["config_discovery"]["type_urls"] == [ext["patch"]["value"]["typed_config"]["@type"]]
    return ext["patch"]["value"]["typed_config"]


def test_envoyfilter_carries_what_the_plain_config_does():
    wasm = envoyfilter_wasm()["config"]
    assert wasm["allow_on_headers_stop_iteration"] is True
    assert wasm["root_id"] == "distill_guard"
    assert wasm["vm_config"]["code"]["remote"]["http_uri"]["uri"].startswith("oci://")


def mesh_template(typed_config: dict) -> str:
    """envoy/envoy.template.yaml with its Wasm filter replaced by the
    EnvoyFilter's, code swapped for the local module and the plugin
    configuration left to the test."""
    cfg = json.loads(json.dumps(typed_config))
    cfg["config"]["vm_config"]["code"] = {"local": {"filename": "@WASM_PATH@"}}
    cfg["config"]["configuration"]["value"] = "@PLUGIN_CONFIG@"
    block = json.dumps({"name": "envoy.filters.http.wasm", "typed_config": cfg})
    block = block.replace('"@PLUGIN_CONFIG@"', "@PLUGIN_CONFIG_JSON@")
    text = envoy_config.TEMPLATE.read_text()
    start = text.index("          - name: envoy.filters.http.wasm\n")
    end = text.index("          - name: envoy.filters.http.router\n")
    return text[:start] + "          - " + block + "\n" + text[end:]


BLOCK, TAG = "block-me-mesh", "tag-me-mesh"
MESH_CONFIG = {
    **PIPES_ONLY,
    "identity": {"secret": "mesh-e2e-secret"},
    "rules": [{"phrases": [BLOCK], "action": "block"}, {"phrases": [TAG], "action": "tag"}],
}


@pytest.fixture(scope="module")
def mesh_envoy(envoy_factory, workdir):
    template = workdir / "mesh.template.yaml"
    template.write_text(mesh_template(envoyfilter_wasm()))
    saved = envoy_config.TEMPLATE
    envoy_config.TEMPLATE = template
    try:
        return envoy_factory({**MESH_CONFIG, "mode": "enforce", "identity": {"secret": "mesh-secret"}})
    finally:
        envoy_config.TEMPLATE = saved


def chat(text):
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}


def test_envoyfilter_wasm_config_in_envoy_tags_and_denies_without_leaks(mesh_envoy):
    e = mesh_envoy
    for i in range(4):
        r = post(e.port, "/v1/chat/completions", chat(f"{TAG} {i}"), bearer(f"sk-mesh-{i}"))
        assert r.status == 200
        # The tag header reached the upstream: headers were held.
        assert r.upstream_saw("x-distill-guard-action") == "tag"
    for i in range(6):
        before = e.stats().get(UPSTREAM_REQUESTS, 0)
        r = post(e.port, "/v1/chat/completions", chat(f"{BLOCK} {i}"), bearer(f"sk-mesh-b{i}"))
        assert r.status == 403
        assert e.stats().get(UPSTREAM_REQUESTS, 0) == before, "a denied request opened an upstream request"
    assert WATCHDOG_LOG not in e.log()


def plugin_configs() -> list[tuple[str, object]]:
    wasmplugin = one("istio-wasmplugin.yaml", "WasmPlugin")["spec"]["pluginConfig"]
    envoyfilter = json.loads(envoyfilter_wasm()["config"]["configuration"]["value"])
    gateway = one("envoy-gateway.yaml", "EnvoyExtensionPolicy")["spec"]["wasm"][0]["config"]
    return [("istio-wasmplugin", wasmplugin), ("istio-envoyfilter", envoyfilter), ("envoy-gateway", gateway)]


@pytest.mark.parametrize("label,config", plugin_configs(), ids=[c[0] for c in plugin_configs()])
def test_manifest_plugin_config_is_accepted_by_the_filter(envoy_factory, label, config):
    # Envoy does not start the filter on a configuration it refuses; the
    # probe through the listener then fails and this raises.
    e = envoy_factory(config)
    r = post(e.port, "/v1/chat/completions", chat("hello"), bearer("sk-manifest"))
    assert r.status == 200, (label, r.body[:300])


def test_envoy_gateway_objects():
    kinds = {d["kind"]: d for d in docs("envoy-gateway.yaml")}
    assert set(kinds) == {"EnvoyExtensionPolicy", "EnvoyPatchPolicy", "EnvoyProxy"}
    assert all(d["apiVersion"] == "gateway.envoyproxy.io/v1alpha1" for d in kinds.values())
    wasm = kinds["EnvoyExtensionPolicy"]["spec"]["wasm"][0]
    assert wasm["rootID"] == "distill_guard" and wasm["code"]["type"] == "Image"
    (patch,) = kinds["EnvoyPatchPolicy"]["spec"]["jsonPatches"]
    assert patch["operation"]["path"] == "/allow_on_headers_stop_iteration" and patch["operation"]["value"] is True


def plain_stats_config() -> dict:
    text = (ENVOY_DIR / "envoy.yaml").read_text()
    return yaml.safe_load(re.search(r"^stats_config:\n(?:[ #].*\n|\n)*", text, re.M).group(0))["stats_config"]


def test_mesh_manifests_carry_the_stats_config():
    want = plain_stats_config()
    cm = one("istio-envoyfilter.yaml", "ConfigMap")
    assert json.loads(cm["data"]["custom_bootstrap.json"])["stats_config"] == want
    proxy = one("envoy-gateway.yaml", "EnvoyProxy")
    (op,) = proxy["spec"]["bootstrap"]["jsonPatches"]
    assert op["path"] == "/stats_config" and op["value"] == want
