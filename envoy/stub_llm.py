#!/usr/bin/env python3
"""A stand-in LLM upstream for the demo and the end-to-end tests.

Standard library only. Answers, in each provider's response shape:
OpenAI Chat Completions, Responses and legacy Completions (also under Azure
`/openai/deployments/<name>/…`), Anthropic Messages, and Gemini
`generateContent` / `streamGenerateContent`. A request with `"stream": true`
(or Gemini's stream method) gets a short server-sent-event stream.

So that tests can see what really reached the upstream, every answer:
- echoes each received `x-distill-guard-*` request header as the response
  header `x-upstream-saw-<name>` (e.g. `x-upstream-saw-x-distill-guard-action`);
- carries, in JSON answers, `"upstream_saw": {name: value}` for the same
  headers and `"upstream_body_bytes"`: the length of the body it received
  (read in full, by Content-Length or chunked transfer coding).

`GET /healthz` answers 200. Any other path answers a small JSON document.

Every answer carries its API's usage (7 output tokens; streams too: OpenAI
chat streams add a usage chunk when `stream_options.include_usage` is set).
A reasoning model (a `model` containing `reason`, or the request header
`x-stub-reasoning: 1`) also answers with reasoning, in its API's fields:
OpenAI chat `reasoning_content` (and `completion_tokens_details`), Responses
`reasoning` items with a summary, Anthropic `thinking` blocks, Gemini
`thought` parts (and `thoughtsTokenCount`); 5 of the output tokens are
reasoning. Request headers for the response-side tests:
- `x-stub-stream-bytes: N`: a streamed answer of about N bytes, sent in
  chunks (chunked transfer coding), usage at the end (one output token per
  content event);
- `x-stub-truncate: N`: only the first N bytes of the answer are sent (a
  stream cut mid-event);
- `x-stub-malformed: 1`: a stream of malformed events;
- `x-stub-gzip: 1`: the answer gzip-compressed (`content-encoding: gzip`),
  as upstreams answer clients that accept it;
- `x-stub-negotiate: 1`: the answer's coding chosen from the request's
  `accept-encoding` as real upstreams do: `br` when offered (the `brotli`
  package), else `gzip`, else none; the value received is echoed in
  `x-stub-accept-encoding`.
- `x-stub-delay-ms: N`: the answer waits N ms (at most 5000) after the
  request body was read, so a test can act on a request still in flight.
Every answer carries `x-stub-body-sha256`, the SHA-256 of the body it sent.

    python3 envoy/stub_llm.py [--host 127.0.0.1] [--port 10080]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TAG_PREFIX = "x-distill-guard-"
ANSWER = "This is the stub upstream's answer."


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The whole request body, by Content-Length or chunked coding."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        out = bytearray()
        while True:
            line = handler.rfile.readline(65537)
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailers, up to the empty line.
                while handler.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            out += handler.rfile.read(size)
            handler.rfile.readline(3)  # CRLF after the chunk
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length > 0 else b""


def openai_chat(model: str) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17},
    }


def openai_responses(model: str) -> dict:
    return {
        "id": "resp_stub",
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": model,
        "output": [
            {
                "type": "message",
                "id": "msg_stub",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": ANSWER, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 10, "output_tokens": 7, "total_tokens": 17},
    }


def openai_completions(model: str) -> dict:
    return {
        "id": "cmpl-stub",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": ANSWER, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17},
    }


def anthropic_messages(model: str) -> dict:
    return {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": ANSWER}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 7},
    }


def gemini(model: str) -> dict:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": ANSWER}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 7, "totalTokenCount": 17},
        "modelVersion": model,
    }


REASONING = "Let me think about the stub's question step by step."
OUTPUT_TOKENS = 7
REASONING_TOKENS = 5


def with_reasoning(kind: str, doc: dict) -> dict:
    """`doc` as a reasoning model answers it (usage counts reasoning)."""
    doc = json.loads(json.dumps(doc))
    if kind in ("openai_chat", "openai_completions"):
        if kind == "openai_chat":
            doc["choices"][0]["message"]["reasoning_content"] = REASONING
        doc["usage"]["completion_tokens_details"] = {"reasoning_tokens": REASONING_TOKENS}
    elif kind == "openai_responses":
        doc["output"].insert(0, {"type": "reasoning", "id": "rs_stub",
                                 "summary": [{"type": "summary_text", "text": REASONING}]})
        doc["usage"]["output_tokens_details"] = {"reasoning_tokens": REASONING_TOKENS}
    elif kind == "anthropic_messages":
        doc["content"].insert(0, {"type": "thinking", "thinking": REASONING, "signature": "c2lnLXN0dWI="})
        doc["content"].insert(1, {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="})
    elif kind.startswith("gemini"):
        doc["candidates"][0]["content"]["parts"].insert(0, {"text": REASONING, "thought": True})
        doc["usageMetadata"]["candidatesTokenCount"] = OUTPUT_TOKENS - REASONING_TOKENS
        doc["usageMetadata"]["thoughtsTokenCount"] = REASONING_TOKENS
    return doc


def reasoning_stream(kind: str, doc: dict, include_usage: bool) -> bytes | None:
    """The SSE stream of a reasoning model's answer, or None to use the plain one."""
    if kind == "openai_chat":
        base = {"id": doc["id"], "object": "chat.completion.chunk", "model": doc["model"]}
        events = [(None, json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                                 "reasoning_content": REASONING}}]})),
                  (None, json.dumps({**base, "choices": [{"index": 0, "delta": {"content": ANSWER},
                                                          "finish_reason": "stop"}]}))]
        if include_usage:
            events.append((None, json.dumps({**base, "choices": [], "usage": doc["usage"]})))
        return sse(events + [(None, "[DONE]")])
    if kind == "anthropic_messages":
        start = {**doc, "content": [], "usage": {"input_tokens": 10, "output_tokens": 1}}
        events = [
            ("message_start", {"type": "message_start", "message": start}),
            ("content_block_start", {"type": "content_block_start", "index": 0,
                                     "content_block": {"type": "thinking", "thinking": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "thinking_delta", "thinking": REASONING}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                     "delta": {"type": "signature_delta", "signature": "c2lnLXN0dWI="}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("content_block_start", {"type": "content_block_start", "index": 1,
                                     "content_block": {"type": "text", "text": ""}}),
            ("content_block_delta", {"type": "content_block_delta", "index": 1,
                                     "delta": {"type": "text_delta", "text": ANSWER}}),
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                               "usage": {"output_tokens": OUTPUT_TOKENS}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        return sse([(e, json.dumps(d)) for e, d in events])
    if kind == "openai_responses":
        item = doc["output"][0]
        events = [
            ("response.created", {"type": "response.created", "response": {**doc, "output": [], "usage": None}}),
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0,
                                            "item": {**item, "summary": []}}),
            ("response.reasoning_summary_text.delta", {"type": "response.reasoning_summary_text.delta",
                                                       "item_id": item["id"], "output_index": 0,
                                                       "summary_index": 0, "delta": REASONING}),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
            ("response.output_text.delta", {"type": "response.output_text.delta", "output_index": 1,
                                            "content_index": 0, "delta": ANSWER}),
            ("response.completed", {"type": "response.completed", "response": doc}),
        ]
        return sse([(e, json.dumps(d)) for e, d in events])
    if kind == "gemini_stream":
        return sse([(None, json.dumps(doc))])
    return None


def big_stream(kind: str, size: int) -> list[bytes]:
    """A streamed answer of about `size` bytes, as a list of chunks to send
    (one output token per content event; usage at the end)."""
    piece = "lorem ipsum dolor sit amet " * 4
    if kind == "anthropic_messages":
        event = sse([("content_block_delta", json.dumps({"type": "content_block_delta", "index": 0,
                                                         "delta": {"type": "text_delta", "text": piece}}))])
    else:
        event = sse([(None, json.dumps({"object": "chat.completion.chunk",
                                        "choices": [{"index": 0, "delta": {"content": piece}}]}))])
    n = max(1, size // len(event))
    per_chunk = max(1, 16384 // len(event))
    chunks = [event * min(per_chunk, n - i) for i in range(0, n, per_chunk)]
    if kind == "anthropic_messages":
        tail = sse([("message_delta", json.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                                  "usage": {"output_tokens": n}})),
                    ("message_stop", json.dumps({"type": "message_stop"}))])
    else:
        tail = sse([(None, json.dumps({"object": "chat.completion.chunk", "choices": [],
                                       "usage": {"prompt_tokens": 1, "completion_tokens": n}})), (None, "[DONE]")])
    return chunks + [tail]


def sse(events: list[tuple[str | None, str]]) -> bytes:
    out = []
    for event, data in events:
        if event:
            out.append(f"event: {event}\n")
        out.append(f"data: {data}\n\n")
    return "".join(out).encode()


def route(path: str, body: dict) -> tuple[str, dict, bytes | None]:
    """(kind, JSON answer, SSE stream or None) for a request path."""
    bare = path.split("?", 1)[0].rstrip("/")
    model = str(body.get("model") or "stub-model")
    stream = body.get("stream") is True
    if bare.endswith("/chat/completions"):
        doc = openai_chat(model)
        chunk = {"id": doc["id"], "object": "chat.completion.chunk", "model": model,
                 "choices": [{"index": 0, "delta": {"content": ANSWER}, "finish_reason": "stop"}]}
        return "openai_chat", doc, sse([(None, json.dumps(chunk)), (None, "[DONE]")]) if stream else None
    if bare.endswith("/responses"):
        doc = openai_responses(model)
        events = [("response.output_text.delta", json.dumps({"type": "response.output_text.delta", "delta": ANSWER})),
                  ("response.completed", json.dumps({"type": "response.completed", "response": doc}))]
        return "openai_responses", doc, sse(events) if stream else None
    if bare.endswith("/completions"):
        doc = openai_completions(model)
        return "openai_completions", doc, sse([(None, json.dumps(doc)), (None, "[DONE]")]) if stream else None
    if bare.endswith("/messages"):
        doc = anthropic_messages(model)
        events = [
            ("message_start", json.dumps({"type": "message_start", "message": {**doc, "content": []}})),
            ("content_block_start", json.dumps({"type": "content_block_start", "index": 0,
                                                "content_block": {"type": "text", "text": ""}})),
            ("content_block_delta", json.dumps({"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": ANSWER}})),
            ("content_block_stop", json.dumps({"type": "content_block_stop", "index": 0})),
            ("message_delta", json.dumps({"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                          "stop_sequence": None}, "usage": {"output_tokens": 7}})),
            ("message_stop", json.dumps({"type": "message_stop"})),
        ]
        return "anthropic_messages", doc, sse(events) if stream else None
    if ":streamGenerateContent" in bare:
        doc = gemini(bare.rsplit("/", 1)[-1].split(":", 1)[0])
        # Gemini streams SSE with ?alt=sse, else a JSON array of chunks.
        if "alt=sse" in path:
            return "gemini_stream", doc, sse([(None, json.dumps(doc))])
        return "gemini_stream", doc, None
    if ":generateContent" in bare:
        return "gemini_generate", gemini(bare.rsplit("/", 1)[-1].split(":", 1)[0]), None
    return "other", {"ok": True, "path": bare}, None


# Bearer tokens with this prefix are refused with 401.
INVALID_KEY_PREFIX = "Bearer sk-invalid-"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stub-llm/1"

    def log_message(self, fmt: str, *args) -> None:  # noqa: D102 - quieter, to stderr
        sys.stderr.write("stub_llm: " + (fmt % args) + "\n")

    def seen_tags(self) -> dict[str, str]:
        seen: dict[str, str] = {}
        for name, value in self.headers.items():
            n = name.lower()
            if n.startswith(TAG_PREFIX):
                seen[n] = f"{seen[n]}, {value}" if n in seen else value
        return seen

    def answer(self) -> None:
        raw = read_body(self)
        self.body_bytes = len(raw)
        delay = self.headers.get("x-stub-delay-ms", "")
        if delay.isdigit():
            time.sleep(min(int(delay), 5000) / 1000)
        seen = self.seen_tags()
        if self.command == "GET" and self.path.split("?", 1)[0] == "/healthz":
            return self.send(200, "application/json", b'{"ok":true}', seen)
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                body = {}
        except (ValueError, UnicodeDecodeError, RecursionError):
            # Deeply nested or malformed bodies are the point of some tests.
            body = {}
        # A key the upstream does not know (tests of framing by random
        # tokens): 401 in the OpenAI error shape, as a real provider answers.
        if self.headers.get("authorization", "").startswith(INVALID_KEY_PREFIX):
            error = {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                               "code": "invalid_api_key"}}
            return self.send(401, "application/json", json.dumps(error).encode(), seen)
        kind, doc, stream = route(self.path, body)
        reasoning = "reason" in str(body.get("model") or "") or self.headers.get("x-stub-reasoning") == "1"
        include_usage = isinstance(body.get("stream_options"), dict) and body["stream_options"].get("include_usage")
        if reasoning:
            doc = with_reasoning(kind, doc)
            if stream is not None:
                stream = reasoning_stream(kind, doc, bool(include_usage)) or stream
        elif stream is not None and kind == "openai_chat" and include_usage:
            stream = stream.replace(b"data: [DONE]", sse([(None, json.dumps(
                {"id": doc["id"], "object": "chat.completion.chunk", "choices": [], "usage": doc["usage"]}))])
                + b"data: [DONE]")
        if self.headers.get("x-stub-malformed") == "1":
            stream = b"data: {\"choices\": [ {{{ not json\n\n\xff\xfe garbage\r\n\r\ndata: {\"usage\": nul\n\n"
        size = self.headers.get("x-stub-stream-bytes")
        if size and size.isdigit():
            return self.send_chunked(200, "text/event-stream", big_stream(kind, int(size)), seen)
        cut = self.headers.get("x-stub-truncate")
        if stream is not None:
            if cut and cut.isdigit():
                stream = stream[: int(cut)]
            return self.send(200, "text/event-stream", stream, seen)
        doc = dict(doc)
        doc["upstream_saw"] = seen
        doc["upstream_body_bytes"] = len(raw)
        doc["upstream_api"] = kind
        payload = [doc] if kind == "gemini_stream" else doc
        out = json.dumps(payload).encode()
        if cut and cut.isdigit():
            out = out[: int(cut)]
        self.send(200, "application/json", out, seen)

    def send_chunked(self, status: int, content_type: str, chunks: list[bytes], seen: dict[str, str]) -> None:
        """A body sent in pieces with chunked transfer coding (a long stream)."""
        digest = hashlib.sha256()
        for c in chunks:
            digest.update(c)
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.send_header("x-stub-body-sha256", digest.hexdigest())
        self.send_header("x-upstream-body-bytes", str(self.body_bytes))
        for name, value in seen.items():
            self.send_header(f"x-upstream-saw-{name}", value)
        self.end_headers()
        for c in chunks:
            self.wfile.write(b"%x\r\n" % len(c) + c + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def coding(self) -> str | None:
        """The content coding this answer is sent in (see the docstring)."""
        if self.headers.get("x-stub-gzip") == "1":
            return "gzip"
        if self.headers.get("x-stub-negotiate") != "1":
            return None
        offered = set()
        for entry in (self.headers.get("accept-encoding") or "").split(","):
            name, _, params = entry.strip().partition(";")
            if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
                offered.add(name.strip().lower())
        return next((c for c in ("br", "gzip") if c in offered), None)

    def send(self, status: int, content_type: str, payload: bytes, seen: dict[str, str]) -> None:
        coding = self.coding()
        if coding == "gzip":
            payload = gzip.compress(payload, mtime=0)
        elif coding == "br":
            import brotli  # only the negotiation tests need it

            payload = brotli.compress(payload)
        self.send_response(status)
        self.send_header("content-type", content_type)
        if coding:
            self.send_header("content-encoding", coding)
        if self.headers.get("x-stub-negotiate") == "1":
            self.send_header("x-stub-accept-encoding", self.headers.get("accept-encoding") or "")
        self.send_header("content-length", str(len(payload)))
        self.send_header("x-stub-body-sha256", hashlib.sha256(payload).hexdigest())
        self.send_header("x-upstream-body-bytes", str(self.body_bytes))
        for name, value in seen.items():
            self.send_header(f"x-upstream-saw-{name}", value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = answer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=10080)
    a = p.parse_args()
    server = ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    print(f"stub_llm: listening on http://{a.host}:{a.port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
