"""A stand-in Wasm module that traps on demand, written byte by byte (no
toolchain): it shows what Envoy does to traffic when a plugin VM fails, with
the shipped configuration's failure policy. The shipped module has no switch
that makes it trap, and must not have one; this module is never shipped.

It speaks the proxy-wasm ABI 0.2.1 as little as Envoy needs: it accepts any
VM and plugin configuration, and its `proxy_on_request_headers` executes
`unreachable` (a trap, what a Rust panic becomes under `panic = "abort"`)
when a request has at least TRAP_HEADERS headers, else lets it continue.
"""

from __future__ import annotations

from pathlib import Path

TRAP_HEADERS = 40

I32 = 0x7F


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _sleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def _vec(items: list[bytes]) -> bytes:
    return _leb(len(items)) + b"".join(items)


def _section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + _leb(len(body)) + body


def _name(s: str) -> bytes:
    return _leb(len(s)) + s.encode()


def _functype(params: list[int], results: list[int]) -> bytes:
    return b"\x60" + _vec([bytes([p]) for p in params]) + _vec([bytes([r]) for r in results])


def module_bytes() -> bytes:
    types = [
        _functype([], []),  # 0
        _functype([I32], [I32]),  # 1
        _functype([I32, I32], [I32]),  # 2
        _functype([I32, I32], []),  # 3
        _functype([I32, I32, I32], [I32]),  # 4
    ]
    I32_CONST, LOCAL_GET, GE_S, IF, END, UNREACHABLE = 0x41, 0x20, 0x4E, 0x04, 0x0B, 0x00
    funcs = [
        # (export name, type, body code without locals)
        ("proxy_abi_version_0_2_1", 0, bytes([END])),
        ("malloc", 1, bytes([I32_CONST]) + _sleb(65536) + bytes([END])),
        ("proxy_on_vm_start", 2, bytes([I32_CONST, 1, END])),
        ("proxy_on_configure", 2, bytes([I32_CONST, 1, END])),
        ("proxy_on_context_create", 3, bytes([END])),
        # if num_headers >= TRAP_HEADERS { unreachable } ; return 0 (Continue)
        (
            "proxy_on_request_headers",
            4,
            bytes([LOCAL_GET, 1, I32_CONST]) + _sleb(TRAP_HEADERS)
            + bytes([GE_S, IF, 0x40, UNREACHABLE, END, I32_CONST, 0, END]),
        ),
    ]
    type_sec = _section(1, _vec(types))
    func_sec = _section(3, _vec([_leb(t) for _, t, _ in funcs]))
    mem_sec = _section(5, _vec([b"\x00" + _leb(4)]))  # 4 pages, no maximum
    exports = [_name(n) + b"\x00" + _leb(i) for i, (n, _, _) in enumerate(funcs)]
    exports.append(_name("memory") + b"\x02" + _leb(0))
    exp_sec = _section(7, _vec(exports))
    bodies = []
    for _, _, code in funcs:
        body = _vec([]) + code  # no locals
        bodies.append(_leb(len(body)) + body)
    code_sec = _section(10, _vec(bodies))
    return b"\x00asm\x01\x00\x00\x00" + type_sec + func_sec + mem_sec + exp_sec + code_sec


def write(path: Path) -> Path:
    path.write_bytes(module_bytes())
    return path


if __name__ == "__main__":
    import sys

    write(Path(sys.argv[1]))
