"""Fixtures for the end-to-end tests against the real Envoy.

A test module sets `PLUGIN_CONFIG` (the filter's JSON configuration) and
uses the `envoy` fixture: one Envoy per module, started with
`--concurrency 2` on free loopback ports in front of one shared stub
upstream, torn down (its own process group only) when the module ends.
When a test fails, the log of every Envoy it used is attached to the report.
"""

from __future__ import annotations

import shutil
import signal

import pytest

from procs import ENVOY, STUB, WASM, Envoy, Stub, new_workdir

LOG_TAIL = 12000


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    # A SIGTERM (e.g. a CI timeout) becomes an interrupt, so pytest runs the
    # fixtures' teardown and stops the Envoys it started.
    signal.signal(signal.SIGTERM, _interrupt)


def pytest_sessionstart(session):
    missing = [str(p) for p in (ENVOY, WASM, STUB) if not p.exists()]
    if missing:
        # A missing module or Envoy is a broken build, never a reason to skip.
        raise pytest.UsageError(
            "end-to-end prerequisites missing (run scripts/setup.sh and scripts/build.sh): " + ", ".join(missing)
        )


@pytest.fixture(scope="session")
def workdir(request):
    path = new_workdir("run")
    yield path
    if request.session.testsfailed == 0:
        shutil.rmtree(path, ignore_errors=True)
    else:
        print(f"\nend-to-end logs kept in {path}")


@pytest.fixture(scope="session")
def stub(workdir):
    s = Stub.start(workdir)
    yield s
    s.stop()


class EnvoyFactory:
    """Starts Envoys with a given plugin configuration and remembers them."""

    def __init__(self, stub: Stub, workdir):
        self.stub, self.workdir = stub, workdir
        self.started: list[Envoy] = []

    def __call__(self, plugin_config, wait_ready: bool = True, concurrency: int = 2, **kw) -> Envoy:
        """`kw`: more `Envoy` fields (`wasm_path`, `transform`)."""
        e = Envoy(plugin_config, self.stub.port, self.workdir, concurrency=concurrency, **kw)
        self.started.append(e)
        return e.start(wait_ready=wait_ready)

    def stop_all(self) -> None:
        for e in self.started:
            e.stop()


@pytest.fixture(scope="module")
def envoy_factory(stub, workdir):
    """Envoys for this module; all stopped when the module ends."""
    factory = EnvoyFactory(stub, workdir)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def envoy(request, envoy_factory) -> Envoy:
    """The module's Envoy, configured with the module's `PLUGIN_CONFIG`."""
    config = getattr(request.module, "PLUGIN_CONFIG", {})
    return envoy_factory(config)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    args = getattr(item, "funcargs", {})
    envoys = [v for v in args.values() if isinstance(v, Envoy)]
    factory = args.get("envoy_factory")
    if isinstance(factory, EnvoyFactory):
        envoys.extend(e for e in factory.started if e not in envoys)
    for e in envoys:
        report.sections.append((f"envoy log (port {e.port})", e.log()[-LOG_TAIL:]))
        report.sections.append((f"envoy access log (port {e.port})", e.access_log()[-LOG_TAIL:]))
