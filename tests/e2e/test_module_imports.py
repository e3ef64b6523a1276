"""What the shipped module imports from its host.

The module's heap is talc (src/filter/allocator.rs). wasi-libc's dlmalloc
(~7.5 KB) comes back silently if any libc function the module links
allocates: its `getenv` (which copies the environment with malloc) did
until src/filter/no_environ.rs replaced it. That path also imports
`environ_get`, `environ_sizes_get` and `proc_exit`, so the WASI imports are
the tell: a new one here means new libc code in the module, and whether it
brought libc's heap with it (twiggy on a names build, docs/benchmarks.md
"Session 11: the allocator").

Static: reads the release module's import section, no Envoy.
"""

from __future__ import annotations

from procs import WASM

# fd_write: std's panic message to stderr, which Envoy logs.
WASI_IMPORTS = {"fd_write"}
WASI_MODULE = "wasi_snapshot_preview1"


def _leb(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, at


def _name(data: bytes, at: int) -> tuple[str, int]:
    n, at = _leb(data, at)
    return data[at : at + n].decode(), at + n


def imports(module: bytes) -> list[tuple[str, str]]:
    """(module, name) of every import, from the binary's import section (id 2)."""
    assert module[:4] == b"\0asm", "not a Wasm binary"
    at, out = 8, []
    while at < len(module):
        section, at = module[at], at + 1
        size, at = _leb(module, at)
        end = at + size
        if section == 2:
            count, p = _leb(module, at)
            for _ in range(count):
                mod, p = _name(module, p)
                name, p = _name(module, p)
                kind, p = module[p], p + 1
                if kind == 0:  # function: a type index
                    _, p = _leb(module, p)
                elif kind == 1:  # table: reftype, limits
                    p += 1
                    flags, p = _leb(module, p)
                    _, p = _leb(module, p)
                    if flags & 1:
                        _, p = _leb(module, p)
                elif kind == 2:  # memory: limits
                    flags, p = _leb(module, p)
                    _, p = _leb(module, p)
                    if flags & 1:
                        _, p = _leb(module, p)
                elif kind == 3:  # global: valtype, mutability
                    p += 2
                else:
                    raise AssertionError(f"import kind {kind} not understood")
                out.append((mod, name))
        at = end
    return out


def test_the_module_imports_no_libc_code_that_brings_libcs_heap():
    found = imports(WASM.read_bytes())
    wasi = {name for mod, name in found if mod == WASI_MODULE}
    assert wasi == WASI_IMPORTS, (
        f"the module's WASI imports changed: {sorted(wasi)}; new libc code is linked "
        "(did dlmalloc come back? see this file's docstring)"
    )
    # The host ABI is there too: the parse reads real sections.
    assert any(name == "proxy_log" for mod, name in found), found
