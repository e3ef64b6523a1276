#!/usr/bin/env python3
"""A streaming model server for scripts/bench-proxy-stream.sh: answers every
request on 127.0.0.1:PORT with an OpenAI chat-completion stream (SSE,
chunked): the first event at once, then EVENTS more every GAP_MS, then the
usage event and `data: [DONE]`. Reads the whole request body first, as a
model server does, and keeps connections alive.

    sse-upstream.py PORT [EVENTS] [GAP_MS]
"""
import asyncio
import json
import sys

PORT = int(sys.argv[1])
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 4
GAP = (float(sys.argv[3]) if len(sys.argv) > 3 else 2.0) / 1000


def event(obj) -> bytes:
    data = b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


def delta(text: str):
    return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1767225600,
            "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


USAGE = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1767225600, "model": "gpt-4o",
         "choices": [], "usage": {"prompt_tokens": 310, "completion_tokens": 38, "total_tokens": 348}}
HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
        b"transfer-encoding: chunked\r\n\r\n")
DONE = b"data: [DONE]\n\n"
TAIL = b"%x\r\n%s\r\n0\r\n\r\n" % (len(DONE), DONE)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            writer.write(HEAD + event(delta("Use the paginator: ")))
            await writer.drain()
            for i in range(EVENTS):
                await asyncio.sleep(GAP)
                writer.write(event(delta(f"part {i} of the answer. ")))
                await writer.drain()
            writer.write(event(USAGE) + TAIL)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
