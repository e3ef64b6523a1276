#!/usr/bin/env python3
"""Push the module as a Wasm OCI image that Istio's WasmPlugin and Envoy
Gateway's EnvoyExtensionPolicy pull (`make oci OCI_REF=registry/name:tag`).

The image is the *oci* variant of the Wasm image specification, the layout
Istio's and Envoy Gateway's image fetchers accept for custom media types:

    manifest  application/vnd.oci.image.manifest.v1+json
    config    application/vnd.module.wasm.config.v1+json     (config.json)
    layer 0   application/vnd.module.wasm.config.v1+json     (config.json)
    layer 1   application/vnd.module.wasm.content.layer.v1+wasm  (plugin.wasm, raw)

The fetchers want exactly two layers and take the raw module from the
`…content.layer.v1+wasm` one. `config.json` names the runtime, the
proxy-wasm ABI and the root id. Built and pushed with the `oras` Python SDK
(PyPI), never by hand. Prints the manifest digest and the `url:` line for a
WasmPlugin, pinned by digest.

    .venv/bin/python scripts/oci.py REF [--wasm PATH] [--insecure]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import oras.client

REPO = Path(__file__).resolve().parents[1]
WASM = REPO / "target" / "wasm32-wasip1" / "release" / "distill_guard.wasm"

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.module.wasm.config.v1+json"
WASM_MEDIA_TYPE = "application/vnd.module.wasm.content.layer.v1+wasm"
ROOT_ID = "distill_guard"


def runtime_config() -> dict:
    """The Wasm image's config: what runtime and ABI the module is for."""
    return {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": [ROOT_ID]}}


def version() -> str:
    for line in (REPO / "Cargo.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    return "0.0.0"


def push(ref: str, wasm: Path, insecure: bool) -> str:
    """Pushes the image to `ref`; returns the manifest digest."""
    if not wasm.is_file():
        raise SystemExit(f"oci: {wasm} not found: run `make build` first")
    if not wasm.read_bytes().startswith(b"\0asm"):
        raise SystemExit(f"oci: {wasm} is not a WebAssembly module")
    host = ref.split("/", 1)[0]
    client = oras.client.OrasClient(hostname=host, insecure=insecure)
    with tempfile.TemporaryDirectory(prefix="dg-oci-") as tmp:
        # oras names each layer after its file (org.opencontainers.image.title)
        # and wants paths under the working directory.
        shutil.copyfile(wasm, Path(tmp) / "plugin.wasm")
        (Path(tmp) / "config.json").write_text(json.dumps(runtime_config(), sort_keys=True))
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            resp = client.push(
                target=ref,
                files=[f"config.json:{CONFIG_MEDIA_TYPE}", f"plugin.wasm:{WASM_MEDIA_TYPE}"],
                manifest_config=f"config.json:{CONFIG_MEDIA_TYPE}",
                manifest_annotations={
                    "org.opencontainers.image.title": "distill-guard",
                    "org.opencontainers.image.version": version(),
                    "org.opencontainers.image.description": "distill-guard proxy-wasm filter for Envoy",
                },
                quiet=True,
            )
        finally:
            os.chdir(cwd)
    digest = resp.headers.get("Docker-Content-Digest", "")
    if not digest.startswith("sha256:"):
        raise SystemExit(f"oci: the registry returned no manifest digest (status {resp.status_code})")
    return digest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("ref", help="registry/repository:tag, e.g. registry.example.com/distill-guard:0.1.0")
    p.add_argument("--wasm", type=Path, default=WASM)
    p.add_argument("--insecure", action="store_true", help="plain HTTP (a local registry)")
    a = p.parse_args()
    digest = push(a.ref, a.wasm, a.insecure)
    name = a.ref.rsplit(":", 1)[0] if ":" in a.ref.split("/")[-1] else a.ref
    module = hashlib.sha256(a.wasm.read_bytes()).hexdigest()
    print(f"pushed {a.ref}")
    print(f"digest {digest}")
    print(f"module sha256:{module} ({a.wasm.stat().st_size} bytes)")
    print(f"WasmPlugin / EnvoyExtensionPolicy: url: oci://{name}@{digest}")


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as e:
        sys.exit(f"oci: {e}")
