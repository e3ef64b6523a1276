"""Tiny HTTP/1.1 client for the end-to-end tests (stdlib `http.client` only)."""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass
from typing import Iterable


# Plugin configuration fragment for tests of the pipes (parsing, actions,
# headers, counters): detection off, so only operator rules, static limits
# and the parse-error policy decide, and every expected outcome is exact.
# test_no_leaks.py keeps detection on, so it also runs inside Envoy.
PIPES_ONLY = {"detection": {"enabled": False}}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def upstream_saw(self, name: str) -> str | None:
        """What the stub upstream received in request header `name`
        (it echoes every `x-distill-guard-*` header as `x-upstream-saw-<name>`)."""
        return self.headers.get(f"x-upstream-saw-{name.lower()}")


def _collect(resp: http.client.HTTPResponse) -> Response:
    body = resp.read()
    headers: dict[str, str] = {}
    for k, v in resp.getheaders():
        k = k.lower()
        headers[k] = f"{headers[k]}, {v}" if k in headers else v
    return Response(resp.status, headers, body)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | dict | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    """One request on a fresh connection."""
    hdrs = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        hdrs.setdefault("content-type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        return _collect(conn.getresponse())
    finally:
        conn.close()


def post(port: int, path: str, body: bytes | dict, headers: dict[str, str] | None = None, **kw) -> Response:
    return request(port, "POST", path, body, headers, **kw)


def post_chunked(
    port: int, path: str, chunks: Iterable[bytes], headers: dict[str, str] | None = None, delay: float = 0.01
) -> Response:
    """POST with `Transfer-Encoding: chunked`, one HTTP chunk per item, each
    sent separately with a pause between, so Envoy hands the filter several
    body callbacks rather than one coalesced read."""
    hdrs = {"content-type": "application/json", "transfer-encoding": "chunked", **(headers or {})}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders()
        for chunk in chunks:
            if chunk:
                conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                time.sleep(delay)
        conn.send(b"0\r\n\r\n")
        return _collect(conn.getresponse())
    finally:
        conn.close()


def post_in_two_bursts(
    port: int, path: str, body: bytes, first: int, headers: dict[str, str] | None = None, pause: float = 0.3
) -> Response:
    """POST with Content-Length whose first `first` body bytes arrive alone
    and the rest in one burst after `pause`: how a client that writes its
    first buffer, then the remainder, looks to Envoy (the burst arrives as
    one large read)."""
    hdrs = {"host": "localhost", "content-type": "application/json", **(headers or {})}
    head = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    head += f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + body[:first])
        time.sleep(pause)
        try:
            sock.sendall(body[first:])
        except OSError:
            pass  # Envoy answered early and closed; read what it said
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        return _collect(resp)


def openai_chat(prompt: str, model: str = "gpt-4o-mini") -> dict:
    return {"model": model, "messages": [{"role": "user", "content": prompt}]}


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def away_from_minute_boundary(margin: float = 10.0) -> None:
    """Sleeps past the next wall-clock minute if it is less than `margin`
    seconds away. The static limit is a token bucket now (no minute resets
    it); kept for tests that also want a quiet clock minute."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.5)
