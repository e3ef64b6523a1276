"""An upstream that answers like a reasoning model, in each provider's JSON
and SSE shapes, for tests/e2e/test_reasoning.py.

Every answer is fixed (no clock, no counter), so the same request always
gets the same bytes: a test can compare what came through Envoy with what
the upstream sent, byte for byte. Reasoning text always contains `SECRET`,
answer text never does.

- `stream: true` in the body (or Gemini's `:streamGenerateContent?alt=sse`)
  gets an SSE stream, written in small pieces (one write per event, the
  first event split in two) so Envoy sees events cut across chunks.
- A request with `accept-encoding: gzip` gets a gzip-encoded JSON answer:
  the filter asks for an unencoded answer when it will read it.
- `x-stub-answer-bytes: N` pads the JSON answer's reasoning to about N
  bytes (tests of the size bound).
- `x-stub-reasoning-events: N` streams N more reasoning chunks (chat) before
  the answer, in writes of about 64 KiB (long streams).
- A chat `model` containing `inline` answers like an open-weight reasoning
  model served without a reasoning parser: the reasoning opens `content`
  as a `<think>…</think>` block (in a stream, its tags split over deltas).

Runs in the test process, on a thread, on a free loopback port.
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from client import Response

SECRET = "SECRET chain of thought: 6 times 7, carry the 4"
ANSWER = "The answer is 42."
ID = "stub-reasoning"


def chat_json(pad: str) -> dict:
    return {
        "id": "chatcmpl-" + ID,
        "object": "chat.completion",
        "created": 1700000000,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER, "reasoning_content": SECRET + pad},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 30,
            "total_tokens": 40,
            "completion_tokens_details": {"reasoning_tokens": 24},
        },
    }


def chat_sse() -> list[tuple[str | None, dict | str]]:
    def chunk(delta: dict, finish=None, usage=None) -> dict:
        c = {
            "id": "chatcmpl-" + ID,
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "deepseek-reasoner",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage:
            c["usage"] = usage
        return c

    return [
        (None, chunk({"role": "assistant", "content": None, "reasoning_content": ""})),
        (None, chunk({"content": None, "reasoning_content": SECRET[:20]})),
        (None, chunk({"content": None, "reasoning_content": SECRET[20:]})),
        (None, chunk({"content": "The answer ", "reasoning_content": None})),
        (None, chunk({"content": "is 42.", "reasoning_content": None})),
        (None, chunk({}, finish="stop", usage={"prompt_tokens": 10, "completion_tokens": 30, "total_tokens": 40})),
        (None, "[DONE]"),
    ]


def chat_inline_json() -> dict:
    doc = chat_json("")
    doc["model"] = "deepseek-r1-inline"
    doc["choices"][0]["message"] = {"role": "assistant", "content": f"<think>{SECRET}</think>\n\n{ANSWER}"}
    return doc


def chat_inline_sse() -> list[tuple[str | None, dict | str]]:
    texts = ["<th", "ink>" + SECRET[:20], SECRET[20:] + "</thi", "nk>\n\n", "The answer ", "is 42."]
    events = []
    for _, c in chat_sse():
        if isinstance(c, dict) and c["choices"][0]["delta"].get("reasoning_content") is not None:
            continue
        events.append((None, c))
    first, *rest = events
    chunks = [dict(first[1], choices=[{**first[1]["choices"][0],
                                       "delta": {"role": "assistant", "content": ""}}])]
    for t in texts:
        chunks.append(dict(first[1], choices=[{**first[1]["choices"][0], "delta": {"content": t}}]))
    tail = [c for _, c in rest if isinstance(c, str) or c["choices"][0]["finish_reason"]]
    return [(None, c) for c in chunks + tail]


def reasoning_item(done: bool) -> dict:
    return {
        "id": "rs_" + ID,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": SECRET}] if done else [],
        "encrypted_content": "gAAAAB" + "x" * 40 if done else None,
    }


def message_item(done: bool) -> dict:
    return {
        "id": "msg_" + ID,
        "type": "message",
        "status": "completed" if done else "in_progress",
        "role": "assistant",
        "content": [{"type": "output_text", "text": ANSWER, "annotations": []}] if done else [],
    }


def response_obj(status: str, output: list) -> dict:
    return {
        "id": "resp_" + ID,
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "model": "o4-mini",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 30,
            "output_tokens_details": {"reasoning_tokens": 24},
            "total_tokens": 40,
        }
        if status == "completed"
        else None,
    }


def responses_json(pad: str) -> dict:
    item = reasoning_item(True)
    item["summary"][0]["text"] += pad
    return response_obj("completed", [item, message_item(True)])


def responses_sse() -> list[tuple[str | None, dict | str]]:
    rid, mid = "rs_" + ID, "msg_" + ID
    summary_part = {"type": "summary_text", "text": ""}
    events = [
        {"type": "response.created", "response": response_obj("in_progress", [])},
        {"type": "response.in_progress", "response": response_obj("in_progress", [])},
        {"type": "response.output_item.added", "output_index": 0, "item": reasoning_item(False)},
        {"type": "response.reasoning_summary_part.added", "item_id": rid, "output_index": 0, "summary_index": 0,
         "part": summary_part},
        {"type": "response.reasoning_summary_text.delta", "item_id": rid, "output_index": 0, "summary_index": 0,
         "delta": SECRET},
        {"type": "response.reasoning_summary_text.done", "item_id": rid, "output_index": 0, "summary_index": 0,
         "text": SECRET},
        {"type": "response.reasoning_summary_part.done", "item_id": rid, "output_index": 0, "summary_index": 0,
         "part": {"type": "summary_text", "text": SECRET}},
        {"type": "response.output_item.done", "output_index": 0, "item": reasoning_item(True)},
        {"type": "response.output_item.added", "output_index": 1, "item": message_item(False)},
        {"type": "response.content_part.added", "item_id": mid, "output_index": 1, "content_index": 0,
         "part": {"type": "output_text", "text": "", "annotations": []}},
        {"type": "response.output_text.delta", "item_id": mid, "output_index": 1, "content_index": 0,
         "delta": "The answer ", "logprobs": []},
        {"type": "response.output_text.delta", "item_id": mid, "output_index": 1, "content_index": 0,
         "delta": "is 42.", "logprobs": []},
        {"type": "response.output_text.done", "item_id": mid, "output_index": 1, "content_index": 0,
         "text": ANSWER, "logprobs": []},
        {"type": "response.content_part.done", "item_id": mid, "output_index": 1, "content_index": 0,
         "part": {"type": "output_text", "text": ANSWER, "annotations": []}},
        {"type": "response.output_item.done", "output_index": 1, "item": message_item(True)},
        {"type": "response.completed",
         "response": response_obj("completed", [reasoning_item(True), message_item(True)])},
    ]
    for n, e in enumerate(events):
        e["sequence_number"] = n
    return [(e["type"], e) for e in events]


def anthropic_message(content: list) -> dict:
    return {
        "id": "msg_" + ID,
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-1",
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 30},
    }


def anthropic_json(pad: str) -> dict:
    return anthropic_message([
        {"type": "thinking", "thinking": SECRET + pad, "signature": "EqQBCkgIARABGAIiQL" + "s" * 20},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"},
        {"type": "text", "text": ANSWER},
    ])


def anthropic_sse() -> list[tuple[str | None, dict | str]]:
    start = anthropic_message([])
    start["stop_reason"] = None
    start["usage"] = {"input_tokens": 10, "output_tokens": 1}
    events = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": "",
                                                                     "signature": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": SECRET}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta",
                                                             "signature": "EqQBCkgIARABGAIiQL"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "redacted_thinking",
                                                                     "data": "EmwKAhgBEgy3va3pzix"}},
        {"type": "content_block_stop", "index": 1},
        {"type": "ping"},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "The answer "}},
        {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "is 42."}},
        {"type": "content_block_stop", "index": 2},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"output_tokens": 30}},
        {"type": "message_stop"},
    ]
    return [(e["type"], e) for e in events]


def gemini_doc(parts: list, finish: str | None = "STOP") -> dict:
    cand = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    return {
        "candidates": [cand],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 6, "thoughtsTokenCount": 24,
                          "totalTokenCount": 40},
        "modelVersion": "gemini-2.5-flash",
        "responseId": ID,
    }


def gemini_json(pad: str) -> dict:
    return gemini_doc([{"text": SECRET + pad, "thought": True}, {"text": ANSWER}])


def gemini_sse() -> list[tuple[str | None, dict | str]]:
    return [
        (None, gemini_doc([{"text": SECRET, "thought": True}], finish=None)),
        (None, gemini_doc([{"text": "The answer "}], finish=None)),
        (None, gemini_doc([{"text": "is 42."}])),
    ]


def sse_bytes(events: list[tuple[str | None, dict | str]]) -> list[bytes]:
    """One piece per event (the first cut in two), as the stub writes them."""
    pieces = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {name}\n" if name else ""
        pieces.append(f"{head}data: {text}\n\n".encode())
    if pieces:
        first = pieces.pop(0)
        pieces[:0] = [first[:7], first[7:]]
    return pieces


def long_reasoning(events: int) -> list[bytes]:
    """`events` reasoning-only chat chunks, about 64 KiB a piece."""
    one = sse_bytes([(None, chat_sse()[1][1])] * 2)[2]
    per = max(1, 65536 // len(one))
    return [one * min(per, events - i) for i in range(0, events, per)]


def answer_for(path: str, body: dict, pad: str) -> tuple[dict | None, list[bytes] | None]:
    """(JSON answer, SSE pieces) for a request; one of them is None."""
    bare = path.split("?", 1)[0]
    stream = body.get("stream") is True
    if bare.endswith("/chat/completions") and "inline" in str(body.get("model")):
        return (None, sse_bytes(chat_inline_sse())) if stream else (chat_inline_json(), None)
    if bare.endswith("/chat/completions"):
        return (None, sse_bytes(chat_sse())) if stream else (chat_json(pad), None)
    if bare.endswith("/responses"):
        return (None, sse_bytes(responses_sse())) if stream else (responses_json(pad), None)
    if bare.endswith("/messages"):
        return (None, sse_bytes(anthropic_sse())) if stream else (anthropic_json(pad), None)
    if ":streamGenerateContent" in bare:
        if "alt=sse" in path:
            return None, sse_bytes(gemini_sse())
        return [e for _, e in gemini_sse()], None
    if ":generateContent" in bare:
        return gemini_json(pad), None
    return {"ok": True}, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.reply(200, "application/json", b'{"ok":true}')

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        pad = "p" * int(self.headers.get("x-stub-answer-bytes") or 0)
        doc, pieces = answer_for(self.path, body if isinstance(body, dict) else {}, pad)
        extra = int(self.headers.get("x-stub-reasoning-events") or 0)
        if pieces is not None and extra:
            pieces = pieces[:3] + long_reasoning(extra) + pieces[3:]
        if pieces is not None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream; charset=utf-8")
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for piece in pieces:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            return
        payload = json.dumps(doc).encode()
        if "gzip" in self.headers.get("accept-encoding", ""):
            return self.reply(200, "application/json", gzip.compress(payload, mtime=0), encoding="gzip")
        self.reply(200, "application/json", payload)

    def reply(self, status: int, content_type: str, payload: bytes, encoding: str | None = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        if encoding:
            self.send_header("content-encoding", encoding)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class ReasoningStub:
    """The server on a free loopback port, on a daemon thread."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def direct(port: int, path: str, body: dict, headers: dict | None = None) -> Response:
    """The same request straight to the stub, to compare bytes with."""
    from client import request

    return request(port, "POST", path, body, headers)
