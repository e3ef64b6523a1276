#!/usr/bin/env python3
"""Time to first byte of a streamed answer, for scripts/bench-proxy-stream.sh:
sends N streaming OpenAI chat requests (~2 KB bodies, keys and client
addresses varied as benches/proxy/openai_chat.lua does) one after another on
one keep-alive connection to 127.0.0.1:PORT, and for each measures the time
from the request's last byte sent to the first byte of the answer's body
(the first event), then reads the stream to its end. Prints one line:
`n=… p50_us=… p99_us=… mean_us=… non200=…`.

    first-byte.py PORT N [WARMUP] [SEED]
"""
import json
import socket
import statistics
import sys
import time

PORT, N = int(sys.argv[1]), int(sys.argv[2])
WARMUP = int(sys.argv[3]) if len(sys.argv) > 3 else 20
SEED = int(sys.argv[4]) if len(sys.argv) > 4 else 0
TOPICS = ["pagination in the storage API", "retry budgets for a queue consumer", "a migration plan for a schema",
          "timeouts in an HTTP client", "idempotent payment handlers", "log sampling under load"]


def request(i: int) -> bytes:
    topic = TOPICS[i % len(TOPICS)]
    context = (f"Here is the code we run for {topic}; please review it. " * 30)[:1800]
    body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [
        {"role": "system", "content": "You are a careful senior engineer."},
        {"role": "user", "content": f"{context}\nWhat would you change first about {topic} (case {i})?"}]}).encode()
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
            f"authorization: Bearer sk-bench-{(i * 7919 + SEED) % 4096:04d}\r\n"
            f"x-forwarded-for: 10.{(i // 4) % 4}.{i % 256}.{1 + i % 200}\r\n"
            f"content-length: {len(body)}\r\n\r\n").encode()
    return head + body


class Conn:
    def __init__(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", PORT))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        self.buf += data

    def line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self.more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def one(self, payload: bytes):
        """(status, seconds to the first body byte) of one request."""
        self.sock.sendall(payload)
        t0 = time.perf_counter()
        status = int(self.line().split()[1])
        headers = {}
        while (line := self.line()):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip().lower()
        first = None
        if headers.get(b"transfer-encoding") == b"chunked":
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    self.line()
                    break
                if first is None:
                    while not self.buf:
                        self.more()
                    first = time.perf_counter() - t0
                self.take(size + 2)
        else:
            length = int(headers.get(b"content-length", b"0"))
            if length:
                while not self.buf:
                    self.more()
                first = time.perf_counter() - t0
            self.take(length)
        return status, first if first is not None else time.perf_counter() - t0


conn = Conn()
for i in range(WARMUP):
    conn.one(request(SEED * 100_000 + i))
times, non200 = [], 0
for i in range(N):
    status, first = conn.one(request(SEED * 100_000 + WARMUP + i))
    non200 += status != 200
    times.append(first * 1e6)
times.sort()
p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
print(f"n={N} p50_us={statistics.median(times):.0f} p99_us={p99:.0f} "
      f"mean_us={statistics.fmean(times):.0f} non200={non200}")
