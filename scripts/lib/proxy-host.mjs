// A minimal proxy-wasm (ABI 0.2.1) host in JavaScript, for running the
// Envoy module itself under Node's V8 without Envoy: the glue and the
// engine exactly as shipped, the host's side reduced to plain JavaScript
// (shared data in a Map with CAS, headers and bodies handed over as Envoy
// hands them). What a request costs here is the module's own work under
// V8; what Envoy adds on its side of each host call is what
// `make bench-proxy` measures beyond it (scripts/glue-v8.sh).
//
// Only what distill_guard.wasm imports is implemented; a call it does not
// know answers Unimplemented (12), never a made-up value. One VM, one
// worker: no tick is driven, so counters batched for the tick stay in the
// module (as between two ticks in Envoy).

import { readFileSync } from "node:fs";

const OK = 0, NOT_FOUND = 1, CAS_MISMATCH = 8, UNIMPLEMENTED = 12;
// proxy_wasm::types::BufferType and MapType values.
export const BUFFER = { requestBody: 0, responseBody: 1, vmConfiguration: 6, pluginConfiguration: 7 };
export const MAP = { requestHeaders: 0, requestTrailers: 1, responseHeaders: 2, responseTrailers: 3 };
// proxy_wasm::types::Action: Continue, Pause (StopIteration), and the
// vendored SDK's StopIterationAndWatermark (vendor/proxy-wasm/PATCHED.md).
export const ACTION = { continue: 0, pause: 1, watermark: 2 };

const enc = new TextEncoder();
const dec = new TextDecoder();

/// Header pairs as proxy-wasm serialises them: a u32 count, a (name length,
/// value length) u32 pair per header, then each name and value NUL-ended.
export function encodePairs(pairs) {
  const parts = pairs.map(([k, v]) => [enc.encode(k), enc.encode(v)]);
  let size = 4 + 8 * parts.length;
  for (const [k, v] of parts) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, parts.length, true);
  let at = 4;
  for (const [k, v] of parts) {
    dv.setUint32(at, k.length, true);
    dv.setUint32(at + 4, v.length, true);
    at += 8;
  }
  for (const [k, v] of parts) {
    out.set(k, at);
    at += k.length + 1;
    out.set(v, at);
    at += v.length + 1;
  }
  return out;
}

export function decodePairs(bytes) {
  if (bytes.length < 4) return [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(0, true);
  let at = 4 + 8 * n;
  const out = [];
  for (let i = 0; i < n; i++) {
    const kl = dv.getUint32(4 + 8 * i, true);
    const vl = dv.getUint32(8 + 8 * i, true);
    const k = dec.decode(bytes.subarray(at, at + kl));
    at += kl + 1;
    const v = dec.decode(bytes.subarray(at, at + vl));
    at += vl + 1;
    out.push([k, v]);
  }
  return out;
}

export class ProxyHost {
  constructor(wasmPath) {
    this.module = new WebAssembly.Module(readFileSync(wasmPath));
    this.shared = new Map(); // key -> { value: Uint8Array, cas: number }
    this.nextCas = 1;
    this.buffers = new Map(); // buffer type -> Uint8Array
    this.maps = new Map(); // map type -> [[name, value]]
    this.properties = new Map(); // "a\0b" -> Uint8Array
    this.metrics = [];
    this.calls = new Map(); // import name -> count
    this.localReplies = [];
    this.logs = [];
    this.logLevel = 2; // info: the module's debug lines are not made
    // Milliseconds in the module's callbacks, and in host calls made from
    // them: their difference is the module's own time.
    this.callbackMs = 0;
    this.hostMs = 0;
    this.byCallback = new Map(); // export name -> ms of the module's own time
    // A module built with the `alloc-count` feature (scripts/glue-v8.sh
    // --allocs) counts its heap allocations: per callback here, and how
    // many of them were memory the host asked for to hand data over.
    this.allocs = new Map(); // export name -> [allocations, reallocations]
    this.given = 0;
    // Envoy's clock is the wall clock; cadence detection reads it.
    this.now = () => BigInt(Date.now()) * 1000000n;
    this.instance = new WebAssembly.Instance(this.module, this.imports());
    this.ex = this.instance.exports;
    if (this.ex._initialize) this.ex._initialize();
  }

  mem() {
    return new Uint8Array(this.ex.memory.buffer);
  }
  dv() {
    return new DataView(this.ex.memory.buffer);
  }
  read(ptr, len) {
    return this.mem().slice(ptr, ptr + len);
  }
  text(ptr, len) {
    return dec.decode(this.mem().subarray(ptr, ptr + len));
  }
  /// Copies `bytes` into memory the module allocated (it frees it) and
  /// writes the pointer and length where the call asked for them.
  give(bytes, ptrOut, lenOut) {
    if (bytes.length) this.given++;
    const p = bytes.length ? this.ex.proxy_on_memory_allocate(bytes.length) : 0;
    if (bytes.length) this.mem().set(bytes, p);
    const dv = this.dv();
    dv.setUint32(ptrOut, p, true);
    dv.setUint32(lenOut, bytes.length, true);
  }
  count(name) {
    this.calls.set(name, (this.calls.get(name) || 0) + 1);
  }

  imports() {
    const h = this;
    // Each host call counted and timed: the module's own time is the time
    // in its callbacks less the time in these (see `call`).
    const counted = (name, f) => (...args) => {
      h.count(name);
      const t0 = performance.now();
      try {
        return f(...args);
      } finally {
        h.hostMs += performance.now() - t0;
      }
    };
    const env = {
      proxy_log: (level, p, n) => {
        h.logs.push([level, h.text(p, n)]);
        return OK;
      },
      proxy_get_log_level: (out) => {
        h.dv().setUint32(out, h.logLevel, true);
        return OK;
      },
      proxy_get_current_time_nanoseconds: (out) => {
        h.dv().setBigUint64(out, h.now(), true);
        return OK;
      },
      proxy_set_tick_period_milliseconds: () => OK,
      proxy_set_effective_context: () => OK,
      proxy_continue_stream: () => OK,
      proxy_close_stream: () => OK,
      proxy_http_call: () => UNIMPLEMENTED,
      proxy_get_property: (p, n, dataOut, sizeOut) => {
        const v = h.properties.get(h.text(p, n));
        if (!v) return NOT_FOUND;
        h.give(v, dataOut, sizeOut);
        return OK;
      },
      proxy_set_property: (p, n, v, vn) => {
        h.properties.set(h.text(p, n), h.read(v, vn));
        return OK;
      },
      proxy_get_buffer_bytes: (type, start, max, dataOut, sizeOut) => {
        const b = h.buffers.get(type);
        if (!b) return NOT_FOUND;
        // Wasm's i32 arrives signed: usize::MAX ("all of it") is -1.
        h.give(b.subarray(start >>> 0, (start >>> 0) + (max >>> 0)), dataOut, sizeOut);
        return OK;
      },
      proxy_set_buffer_bytes: (type, start, size, data, dataSize) => {
        const b = h.buffers.get(type) || new Uint8Array(0);
        const add = h.read(data, dataSize);
        const out = new Uint8Array(b.length - Math.min(size, b.length - start) + add.length);
        out.set(b.subarray(0, start), 0);
        out.set(add, start);
        out.set(b.subarray(start + size), start + add.length);
        h.buffers.set(type, out);
        return OK;
      },
      proxy_get_header_map_pairs: (type, dataOut, sizeOut) => {
        h.give(encodePairs(h.maps.get(type) || []), dataOut, sizeOut);
        return OK;
      },
      proxy_replace_header_map_value: (type, kp, kn, vp, vn) => {
        const k = h.text(kp, kn);
        const m = (h.maps.get(type) || []).filter(([name]) => name !== k);
        m.push([k, h.text(vp, vn)]);
        h.maps.set(type, m);
        return OK;
      },
      proxy_remove_header_map_value: (type, kp, kn) => {
        const k = h.text(kp, kn);
        h.maps.set(type, (h.maps.get(type) || []).filter(([name]) => name !== k));
        return OK;
      },
      proxy_send_local_response: (status, dp, dn, bp, bn, hp, hn) => {
        h.localReplies.push({ status, body: h.text(bp, bn), headers: decodePairs(h.read(hp, hn)) });
        return OK;
      },
      proxy_get_shared_data: (kp, kn, dataOut, sizeOut, casOut) => {
        const e = h.shared.get(h.text(kp, kn));
        if (!e) return NOT_FOUND;
        h.give(e.value, dataOut, sizeOut);
        h.dv().setUint32(casOut, e.cas, true);
        return OK;
      },
      proxy_set_shared_data: (kp, kn, vp, vn, cas) => {
        const k = h.text(kp, kn);
        const e = h.shared.get(k);
        if (cas !== 0 && (!e || e.cas !== cas)) return CAS_MISMATCH;
        h.shared.set(k, { value: h.read(vp, vn), cas: h.nextCas++ });
        return OK;
      },
      proxy_define_metric: (type, p, n, idOut) => {
        h.metrics.push({ type, name: h.text(p, n), value: 0n });
        h.dv().setUint32(idOut, h.metrics.length - 1, true);
        return OK;
      },
      proxy_increment_metric: (id, by) => {
        const m = h.metrics[id];
        if (!m) return NOT_FOUND;
        m.value += BigInt(by);
        return OK;
      },
      proxy_record_metric: (id) => (h.metrics[id] ? OK : NOT_FOUND),
    };
    // Whatever else the module imports answers Unimplemented, counted.
    for (const i of WebAssembly.Module.imports(this.module)) {
      if (i.module === "env" && i.kind === "function" && !env[i.name]) env[i.name] = () => UNIMPLEMENTED;
    }
    for (const name of Object.keys(env)) env[name] = counted(name, env[name]);
    const wasi = {
      environ_get: () => 0,
      environ_sizes_get: (countOut, sizeOut) => {
        const dv = h.dv();
        dv.setUint32(countOut, 0, true);
        dv.setUint32(sizeOut, 0, true);
        return 0;
      },
      fd_write: (fd, iovs, n, written) => {
        const dv = h.dv();
        let total = 0;
        for (let i = 0; i < n; i++) total += dv.getUint32(iovs + 8 * i + 4, true);
        dv.setUint32(written, total, true);
        return 0;
      },
      proc_exit: (code) => {
        throw new Error(`module called proc_exit(${code})`);
      },
    };
    return { env, wasi_snapshot_preview1: wasi };
  }

  /// The module's exports, each call timed into `callbackMs`.
  callbacks() {
    if (!this.timedExports) {
      this.timedExports = {};
      for (const [name, f] of Object.entries(this.ex)) {
        this.timedExports[name] = typeof f !== "function" ? f : (...a) => {
          const t0 = performance.now();
          const host0 = this.hostMs;
          try {
            return f(...a);
          } finally {
            const ms = performance.now() - t0;
            this.callbackMs += ms;
            // The module's own time by callback, for glue-bench --compare.
            this.byCallback.set(name, (this.byCallback.get(name) || 0) + ms - (this.hostMs - host0));
          }
        };
        if (this.countsAllocs() && typeof f === "function") {
          const timed = this.timedExports[name];
          this.timedExports[name] = (...a) => {
            const n0 = this.ex.distill_guard_alloc_count();
            const r0 = this.ex.distill_guard_realloc_count();
            try {
              return timed(...a);
            } finally {
              const c = this.allocs.get(name) || [0, 0];
              c[0] += Number(this.ex.distill_guard_alloc_count() - n0);
              c[1] += Number(this.ex.distill_guard_realloc_count() - r0);
              this.allocs.set(name, c);
            }
          };
        }
      }
    }
    return this.timedExports;
  }

  /// Whether the module counts its allocations (feature `alloc-count`).
  countsAllocs() {
    return typeof this.ex.distill_guard_alloc_count === "function";
  }

  /// Microseconds of the module's own work so far (callbacks less host
  /// calls), for a per-request figure over a span of requests.
  moduleUs() {
    return (this.callbackMs - this.hostMs) * 1000;
  }

  /// The root context (id 1) started and configured with `config` (JSON
  /// text); throws if the module refuses it.
  start(config) {
    this.ex.proxy_on_context_create(1, 0);
    this.buffers.set(BUFFER.vmConfiguration, new Uint8Array(0));
    if (!this.ex.proxy_on_vm_start(1, 0)) throw new Error("proxy_on_vm_start refused");
    const c = enc.encode(config);
    this.buffers.set(BUFFER.pluginConfiguration, c);
    if (!this.ex.proxy_on_configure(1, c.length)) {
      throw new Error(`proxy_on_configure refused: ${JSON.stringify(this.logs.slice(-3))}`);
    }
  }

  /// One request through the callbacks Envoy makes for a forwarded HTTP/1
  /// request: headers, the body in `chunk`-byte pieces (each callback sees
  /// only the new piece after a watermark hold, the whole buffer after a
  /// plain one), then, unless the module answered locally, the upstream's
  /// `answer` (headers and one body chunk), done and delete. Returns the
  /// local reply's status or the answer's.
  request(id, headers, body, answer, chunk = 16384) {
    const ex = this.callbacks();
    ex.proxy_on_context_create(id, 1);
    this.maps.set(MAP.requestHeaders, headers.slice());
    const replies = this.localReplies.length;
    const replied = () => this.localReplies.length > replies;
    let action = ex.proxy_on_request_headers(id, headers.length, body.length === 0 ? 1 : 0);
    let held = new Uint8Array(0);
    for (let at = 0; at < body.length && !replied(); at += chunk) {
      const piece = body.subarray(at, Math.min(at + chunk, body.length));
      // Envoy keeps what a plain StopIteration(AndBuffer) held and hands
      // the whole buffer; after a watermark hold or a Continue, the piece.
      if (action === ACTION.pause) {
        const all = new Uint8Array(held.length + piece.length);
        all.set(held, 0);
        all.set(piece, held.length);
        held = all;
      } else {
        held = piece;
      }
      this.buffers.set(BUFFER.requestBody, held);
      const end = at + chunk >= body.length ? 1 : 0;
      action = ex.proxy_on_request_body(id, held.length, end);
    }
    let status;
    if (replied()) {
      status = this.localReplies[this.localReplies.length - 1].status;
    } else {
      this.maps.set(MAP.responseHeaders, answer.headers.slice());
      ex.proxy_on_response_headers(id, answer.headers.length, 0);
      this.buffers.set(BUFFER.responseBody, answer.body);
      ex.proxy_on_response_body(id, answer.body.length, 1);
      status = Number(answer.headers.find(([k]) => k === ":status")[1]);
    }
    ex.proxy_on_done(id);
    ex.proxy_on_delete(id);
    return status;
  }
}
