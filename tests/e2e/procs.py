"""Start and stop the real Envoy and the stub LLM upstream for end-to-end tests.

Every process is started in its own session (process group), its PID is
remembered, and teardown signals only that group: the tests never touch an
Envoy they did not start (a developer's `make run` may be up beside them).
Readiness is proven, not assumed: `/ready` on the admin port within a time
bound, then a request through the listener that must reach the upstream.
"""

from __future__ import annotations

import atexit
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable
from pathlib import Path

from envoy_config import render_envoy_config

REPO = Path(__file__).resolve().parents[2]
ENVOY = Path(os.environ.get("DG_ENVOY", REPO / ".venv" / "bin" / "envoy"))
WASM = Path(os.environ.get("DG_WASM", REPO / "target" / "wasm32-wasip1" / "release" / "distill_guard.wasm"))
STUB = REPO / "envoy" / "stub_llm.py"

# Bounds: Envoy with a V8-compiled module starts in ~1-3 s on 2 cores; allow
# for a loaded CI machine without letting a hang eat the session.
READY_TIMEOUT_S = 30.0
STUB_TIMEOUT_S = 10.0


def free_port() -> int:
    """A loopback port that was free a moment ago (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# Every process group this run started, so an interrupted run (Ctrl-C, a
# SIGTERM from a CI timeout) still stops them at exit; only these PIDs.
_STARTED: list[subprocess.Popen] = []


def _spawn(argv: list[str], log_path: Path) -> subprocess.Popen:
    """Starts `argv` in a new session, output to `log_path`, and remembers it."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    _STARTED.append(proc)
    return proc


@atexit.register
def _stop_leftovers() -> None:
    for proc in _STARTED:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we created, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


@dataclass
class Stub:
    """The stub LLM upstream (envoy/stub_llm.py) on a free loopback port."""

    port: int
    proc: subprocess.Popen
    log_path: Path

    @classmethod
    def start(cls, workdir: Path) -> "Stub":
        port = free_port()
        log_path = workdir / "stub.log"
        proc = _spawn([sys.executable, str(STUB), "--host", "127.0.0.1", "--port", str(port)], log_path)
        stub = cls(port, proc, log_path)
        deadline = time.monotonic() + STUB_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"stub upstream exited {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                http_get(port, "/healthz", timeout=0.5)
                return stub
            except OSError:
                time.sleep(0.1)
        stub.stop()
        raise RuntimeError(f"stub upstream not answering on {port} after {STUB_TIMEOUT_S}s")

    def stop(self) -> None:
        _kill_group(self.proc)


@dataclass
class Envoy:
    """One Envoy instance with the filter, its ports, log and access log."""

    plugin_config: dict | str
    upstream_port: int
    workdir: Path
    concurrency: int = 2
    port: int = 0
    admin_port: int = 0
    # YAML cluster items appended to the bootstrap (e.g. the fleet service).
    extra_clusters: str = ""
    proc: subprocess.Popen | None = None
    log_path: Path = field(default=Path("/dev/null"))
    access_log_path: Path = field(default=Path("/dev/null"))
    json_access_log_path: Path = field(default=Path("/dev/null"))
    # Another module in the same template (tests/e2e/trap_module.py).
    wasm_path: Path = WASM
    # Rewrites the rendered bootstrap before Envoy reads it: (text, path of
    # the bootstrap file) -> text. test_reload.py moves the listener to LDS.
    transform: Callable[[str, Path], str] | None = None

    def start(self, wait_ready: bool = True) -> "Envoy":
        self.port, self.admin_port = free_port(), free_port()
        self.log_path = self.workdir / f"envoy-{self.port}.log"
        self.access_log_path = self.workdir / f"access-{self.port}.log"
        self.json_access_log_path = self.workdir / f"access-{self.port}.json"
        cfg = render_envoy_config(
            plugin_config=immediate_counters(self.plugin_config),
            wasm_path=self.wasm_path,
            listen_port=self.port,
            admin_port=self.admin_port,
            upstream_port=self.upstream_port,
            access_log_path=self.access_log_path,
            extra_clusters=self.extra_clusters,
            json_access_log_path=self.json_access_log_path,
        )
        cfg_path = self.workdir / f"envoy-{self.port}.yaml"
        if self.transform is not None:
            cfg = self.transform(cfg, cfg_path)
        cfg_path.write_text(cfg)
        # --use-dynamic-base-id: each instance gets its own shared-memory
        # base id, so several Envoys (and a developer's `make run`) coexist.
        # wasm:debug so the leak test also reads the plugin's debug logs.
        self.proc = _spawn(
            [
                str(ENVOY),
                "-c", str(cfg_path),
                "--concurrency", str(self.concurrency),
                "--use-dynamic-base-id",
                "-l", "info",
                "--component-log-level", "wasm:debug",
                "--drain-time-s", "1",
            ],
            self.log_path,
        )
        if wait_ready:
            self.wait_ready()
        return self

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def access_log(self) -> str:
        try:
            return self.access_log_path.read_text(errors="replace")
        except OSError:
            return ""

    def json_access_log(self) -> str:
        """The JSON access log (one object a line)."""
        try:
            return self.json_access_log_path.read_text(errors="replace")
        except OSError:
            return ""

    def access_log_lines(self, at_least: int, timeout: float = 20.0) -> list[str]:
        """The access log once it holds `at_least` lines: Envoy flushes the
        file on a timer (about every 10 s), not per request."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.access_log().splitlines()
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.25)

    def admin_ready(self) -> bool:
        try:
            status, _ = http_get(self.admin_port, "/ready", timeout=0.5)
            return status == 200
        except OSError:
            return False

    def wait_admin(self, timeout: float = READY_TIMEOUT_S) -> bool:
        """True once `/ready` answers 200 within `timeout`; False if Envoy
        exited or never became ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            if self.admin_ready():
                return True
            time.sleep(0.1)
        return False

    def wait_ready(self) -> None:
        if not self.wait_admin():
            rc = self.proc.poll() if self.proc is not None else None
            why = f"exited with status {rc}" if rc is not None else f"not ready within {READY_TIMEOUT_S}s"
            raise RuntimeError(f"Envoy {why}:\n{self.log()[-8000:]}")
        # Functional probe: a pass-through request must reach the stub
        # through the listener and the filter chain.
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            try:
                status, body = http_get(self.port, "/healthz", timeout=2.0)
                if status == 200:
                    return
                last = (status, body[:200])
            except OSError as e:
                last = e
            time.sleep(0.1)
        raise RuntimeError(f"Envoy ready but probe through listener failed ({last!r}):\n{self.log()[-8000:]}")

    def stats(self) -> dict[str, int]:
        """Every counter and gauge from the admin `/stats` (text format)."""
        _, body = http_get(self.admin_port, "/stats", timeout=5.0)
        out: dict[str, int] = {}
        for line in body.decode(errors="replace").splitlines():
            name, sep, value = line.rpartition(": ")
            if sep and value.strip().lstrip("-").isdigit():
                out[name.strip()] = int(value)
        return out

    def counter(self, name: str) -> int:
        """`wasmcustom.distill_guard.<name>`; 0 if the filter never defined it."""
        return self.stats().get(f"wasmcustom.distill_guard.{name}", 0)

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)


def immediate_counters(plugin_config: dict | str) -> dict | str:
    """The plugin configuration with `metrics.flush_interval_ms: 0` unless it
    sets `metrics` itself: by default the filter sends its counters about
    once a second (issue 8), and most tests read a counter right after a
    request while being about something else. test_metrics_flush.py tests
    the default (`"metrics": {}`)."""
    if isinstance(plugin_config, dict) and "metrics" not in plugin_config:
        return {**plugin_config, "metrics": {"flush_interval_ms": 0}}
    return plugin_config


def new_workdir(prefix: str) -> Path:
    """A fresh directory for configs and logs under target/e2e/ (ignored by
    git; kept when the run fails so the logs can be read)."""
    base = REPO / "target" / "e2e"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=base))


# Fleet mode: a Redis and the sync service (`distill-guard fleet-sync`).
REDIS_SERVER = os.environ.get("DG_REDIS_SERVER", "redis-server")
REDIS_CLI = os.environ.get("DG_REDIS_CLI", "redis-cli")
CLI = Path(os.environ.get("DG_CLI", REPO / "target" / "debug" / "distill-guard"))


def _wait_port(proc: subprocess.Popen, port: int, log_path: Path, what: str) -> None:
    deadline = time.monotonic() + STUB_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    _kill_group(proc)
    raise RuntimeError(f"{what} not listening on {port} after {STUB_TIMEOUT_S}s")


@dataclass
class Redis:
    """A throwaway redis-server on a loopback port: no persistence, so a
    restart starts empty (the worst case for the fleet)."""

    workdir: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    def start(self) -> "Redis":
        self.port = self.port or free_port()
        log_path = self.workdir / f"redis-{self.port}.log"
        argv = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.workdir)]
        self.proc = _spawn(argv, log_path)
        _wait_port(self.proc, self.port, log_path, "redis-server")
        return self

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)


def redis_cli(port: int, *args: str) -> str:
    """One `redis-cli` command against the node on `port`; its raw output."""
    out = subprocess.run([REDIS_CLI, "-p", str(port), *args], capture_output=True, timeout=10, check=True)
    return out.stdout.decode()


def redis_command_calls(port: int) -> dict[str, int]:
    """Calls per command on one node since its start or `CONFIG RESETSTAT`
    (`INFO commandstats`), e.g. {"evalsha": 12, "script|load": 1}."""
    calls = {}
    for line in redis_cli(port, "info", "commandstats").splitlines():
        if line.startswith("cmdstat_") and ":calls=" in line:
            name, rest = line[len("cmdstat_") :].split(":", 1)
            calls[name] = int(rest.split(",", 1)[0].split("=", 1)[1])
    return calls


@dataclass
class FleetSync:
    """`distill-guard fleet-sync` in front of `redis_url`."""

    workdir: Path
    redis_url: str
    secret: str
    port: int = 0
    proc: subprocess.Popen | None = None
    log_path: Path = field(default=Path("/dev/null"))

    def start(self) -> "FleetSync":
        self.port = free_port()
        self.log_path = self.workdir / f"fleet-sync-{self.port}.log"
        secret_file = self.workdir / f"fleet-secret-{self.port}"
        secret_file.write_text(self.secret)
        argv = [str(CLI), "fleet-sync", "--redis", self.redis_url, "--listen", f"127.0.0.1:{self.port}"]
        argv += ["--secret-file", str(secret_file), "--threads", "2"]
        self.proc = _spawn(argv, self.log_path)
        _wait_port(self.proc, self.port, self.log_path, "fleet-sync")
        return self

    def cluster_yaml(self, name: str = "distill_guard_fleet") -> str:
        """The Envoy cluster that reaches this service."""
        return f"""  - name: {name}
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: {name}
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {{ address: 127.0.0.1, port_value: {self.port} }}
"""

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None:
            _kill_group(self.proc)


@dataclass
class RedisCluster:
    """A throwaway three-node Redis Cluster on loopback (`redis-server
    --cluster-enabled yes` on three ports, joined by `redis-cli --cluster
    create`), no replicas, no persistence."""

    workdir: Path
    nodes: int = 3
    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> "RedisCluster":
        for i in range(self.nodes):
            port, bus = free_port(), free_port()
            node_dir = self.workdir / f"redis-cluster-{port}"
            node_dir.mkdir(parents=True, exist_ok=True)
            log_path = node_dir / "log"
            argv = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--cluster-port", str(bus)]
            argv += ["--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf")]
            argv += ["--save", "", "--appendonly", "no", "--dir", str(node_dir)]
            proc = _spawn(argv, log_path)
            _wait_port(proc, port, log_path, "redis-server (cluster node)")
            self.ports.append(port)
            self.procs.append(proc)
        addresses = [f"127.0.0.1:{p}" for p in self.ports]
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addresses, "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        # Every node agrees the cluster is up (gossip takes a moment).
        deadline = time.monotonic() + STUB_TIMEOUT_S
        while not all(self._state_ok(p) for p in self.ports):
            if time.monotonic() > deadline:
                raise RuntimeError("redis cluster never reached cluster_state:ok")
            time.sleep(0.1)
        return self

    def _state_ok(self, port: int) -> bool:
        out = subprocess.run([REDIS_CLI, "-p", str(port), "cluster", "info"], capture_output=True, timeout=5)
        return b"cluster_state:ok" in out.stdout

    def url(self) -> str:
        """Seed nodes, as `fleet-sync --redis` and `replay --redis` take them."""
        return ",".join(f"redis://127.0.0.1:{p}" for p in self.ports)

    def keys_per_node(self) -> list[int]:
        return [
            int(subprocess.run([REDIS_CLI, "-p", str(p), "dbsize"], capture_output=True, timeout=5).stdout or 0)
            for p in self.ports
        ]

    def stop(self) -> None:
        for proc in self.procs:
            _kill_group(proc)
