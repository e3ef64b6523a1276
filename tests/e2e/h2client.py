"""A minimal cleartext HTTP/2 (prior knowledge) client on the `h2` library,
for requests whose body is followed by trailers."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events


@dataclass
class H2Response:
    status: int
    headers: dict[str, str]
    body: bytes
    reset: bool
    # The RST_STREAM error code when `reset` (e.g. 1, PROTOCOL_ERROR).
    reset_code: int | None = None

    def json(self):
        return json.loads(self.body)

    def upstream_saw(self, name: str) -> str | None:
        return self.headers.get(f"x-upstream-saw-{name.lower()}")


def post_with_trailers(
    port: int,
    path: str,
    headers: dict[str, str],
    body_pieces: list[bytes],
    trailers: dict[str, str],
    timeout: float = 15.0,
    pause: float = 0.0,
) -> H2Response:
    """HEADERS, one DATA frame per piece (none with END_STREAM), then a
    trailing HEADERS frame that ends the stream: the body callbacks never
    see end of stream, only the trailers callback does. `pause`: seconds
    between pieces, so Envoy hands each to the filter alone."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    try:
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        req = [(":method", "POST"), (":path", path), (":scheme", "http"), (":authority", "localhost")]
        conn.send_headers(sid, req + list(headers.items()))
        sock.sendall(conn.data_to_send())
        state = {"status": 0, "headers": {}, "body": bytearray(), "reset": False, "code": None, "done": False}

        def receive() -> bool:
            """Reads once and handles what arrived; False when the peer closed."""
            data = sock.recv(65536)
            if not data:
                return False
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    for k, v in ev.headers:
                        if k == ":status":
                            state["status"] = int(v)
                        else:
                            state["headers"][k] = v
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    state["body"].extend(ev.data)
                    conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    state["done"] = True
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                    state["reset"] = state["done"] = True
                    state["code"] = int(ev.error_code)
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)
            return True

        # Pieces larger than the flow-control window wait for Envoy's
        # WINDOW_UPDATEs; an early answer (a denial) stops the sending.
        for i, piece in enumerate(body_pieces):
            if i and pause:
                time.sleep(pause)
            while not state["done"] and conn.local_flow_control_window(sid) < len(piece):
                if not receive():
                    state["done"] = True
            if state["done"] or state["status"]:
                break
            conn.send_data(sid, piece)
            sock.sendall(conn.data_to_send())
        if not state["done"] and not state["status"]:
            conn.send_headers(sid, list(trailers.items()), end_stream=True)
            sock.sendall(conn.data_to_send())

        while not state["done"]:
            if not receive():
                break
        status, resp_headers, body, reset = state["status"], state["headers"], state["body"], state["reset"]
        return H2Response(status, resp_headers, bytes(body), reset, state["code"])
    finally:
        try:
            conn.close_connection()
            sock.sendall(conn.data_to_send())
        except OSError:
            pass
        sock.close()
