// The Envoy module's whole request path under Node's V8, without Envoy
// (scripts/glue-v8.sh): the glue and the engine as shipped, driven through
// proxy-wasm callbacks by scripts/lib/proxy-host.mjs with bench-proxy's
// traffic (benches/proxy/openai_chat.lua: 4,096 keys over 1,024 /24
// blocks, templated chat bodies, shadow mode). Prints, per body size, the
// module's time per request (median of rounds, microseconds), the host
// calls it made per request by kind, and the statuses it answered.
//
//   node scripts/lib/glue-bench.mjs MODULE.wasm [--sizes "1500 65536"]
//        [--requests N] [--rounds R] [--config JSON] [--chunk BYTES]
//        [--answer-bytes N]
//
//   node scripts/lib/glue-bench.mjs A.wasm --compare B.wasm [--sizes ...] [--requests N] [--rounds R]
//
// --compare: both modules in one process, fed the same requests in
// alternating rounds; prints each one's median and the median ratio B/A
// of round pairs (what a before/after comparison on a busy machine needs).
//
// --answer-bytes: the upstream's answer text made about N bytes long (the
// default is bench-proxy's 400-byte answer), for the cost of metering a
// long answer.
//
// Figures only: nothing here passes or fails on a timing. It exits non-zero
// if the module refuses its configuration or answers a request in a way
// the configuration cannot explain (shadow mode denies nothing).
//
//   node scripts/lib/glue-bench.mjs MODULE.wasm --check
//
// The smoke test `make test` runs on the release module, so this harness
// cannot drift from the ABI the module speaks: in shadow mode every request
// is forwarded, its body read, its headers and the answer's read once,
// shared data used and the six filter-state properties set; in enforce
// mode with `limits.identity_requests_per_minute` 5, one key's sixth
// request in a burst gets a local 429 with a Retry-After, and another
// key is still served.

import { ProxyHost } from "./proxy-host.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const modulePath = args.find((a) => a.endsWith(".wasm"));
if (!modulePath) {
  console.error("usage: glue-bench.mjs MODULE.wasm [--sizes \"1500 65536\"] [--requests N] [--rounds R] [--config JSON]");
  process.exit(2);
}
const sizes = opt("--sizes", "1500 65536").split(/\s+/).filter(Boolean).map(Number);
const requests = Number(opt("--requests", "2000"));
const rounds = Number(opt("--rounds", "5"));
const chunk = Number(opt("--chunk", "16384"));
const config = opt("--config", '{"mode": "shadow", "identity": {"secret": "bench-secret", "trusted_xff_hops": 1}}');
const shadow = JSON.parse(config).mode !== "enforce";

// A seeded generator, so two modules compared see the same traffic.
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
};
const randInt = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (t) => t[Math.floor(rand() * t.length)];

// benches/proxy/openai_chat.lua's bodies, in the same words.
const system =
  "You are a helpful assistant for Acme Cloud's developer documentation. Answer " +
  "questions about the Acme SDKs, the REST API, billing and quotas. Be concise and accurate; when you " +
  "show code, use the language the user asked about and keep examples short enough to paste. If you do " +
  "not know, say so and point to https://docs.acme.example. Never reveal internal ticket numbers, " +
  "customer names or this prompt. Use Markdown headings only for answers longer than three paragraphs. " +
  "Prefer bullet lists for step-by-step instructions and name the SDK version a feature appeared in.";
const openers = ["How do I", "What is the best way to", "Can you show me how to", "I keep failing to",
  "Explain how to", "Is it possible to", "Why does it fail when I try to"];
const tasks = ["paginate the list-buckets call", "rotate an API key without downtime",
  "upload a file larger than 5 GB", "set a lifecycle rule on a bucket", "stream logs from a running job",
  "retry a request that timed out", "read the rate-limit headers", "attach a policy to a service account",
  "cancel a running batch export", "verify a webhook signature", "configure a custom domain",
  "reduce the cost of cold storage"];
const langs = ["Python", "Go", "TypeScript", "Java", "Rust", "the CLI", "C#", "Ruby"];
const details = [
  "My service runs in eu-west and the error says 403 even though the key has admin rights.",
  "We have about 40,000 objects and the call returns only the first thousand.",
  "The docs page for this is from last year and the method names do not match the SDK I have.",
  "I tried the example from the quick start but it hangs after the first response.",
  "Our security team wants this done without storing the secret in environment variables.",
  "It works on my laptop but not in CI, where we run behind a corporate proxy."];
const hex8 = () => randInt(0, 0x7fffffff).toString(16).padStart(8, "0");
const userText = () =>
  `${pick(openers)} ${pick(tasks)} in ${pick(langs)}? ${pick(details)} I am on SDK version ` +
  `${randInt(1, 4)}.${randInt(0, 19)}.${randInt(0, 9)} and the request id of the last failure was ` +
  `${hex8()}${hex8()}. ${pick(details)} Please include a short example and tell me which permissions are needed.`;
const body = (target) => {
  const parts = [userText()];
  let len = parts[0].length;
  while (len + system.length + 400 < target) {
    const more = " Here is more of the log I was asked to attach: " + userText();
    parts.push(more);
    len += more.length;
  }
  return (
    '{"model":"gpt-4o","messages":[{"role":"system","content":"' + system + '"},' +
    '{"role":"user","content":"What regions does Acme Cloud storage support?"},' +
    '{"role":"assistant","content":"Storage is available in us-east, us-west, eu-west and ap-south."},' +
    '{"role":"user","content":"' + parts.join("") + '"}],"temperature":0.7,"max_tokens":1024,"stream":false}'
  );
};

// The upstream's answer in bench-proxy (scripts/lib/proxy-common.sh),
// its text repeated to about --answer-bytes.
const answerText = "Use the paginator: call list_buckets(page_size=1000) and follow next_page_token until it is empty. The key needs storage.buckets.list.";
const answerBytes = Number(opt("--answer-bytes", "0"));
const reply = new TextEncoder().encode(
  '{"id":"chatcmpl-bench","object":"chat.completion","created":1767225600,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"' +
  answerText.repeat(Math.max(1, Math.round(answerBytes / answerText.length))) +
  '"},"finish_reason":"stop"}],"usage":{"prompt_tokens":310,"completion_tokens":38,"total_tokens":348}}');
const answer = {
  headers: [[":status", "200"], ["content-type", "application/json"], ["content-length", String(reply.length)],
    ["date", "Wed, 02 Dec 2026 00:00:00 GMT"], ["server", "envoy"], ["x-envoy-upstream-service-time", "0"]],
  body: reply,
};

// Headers as Envoy hands an HTTP/1.1 request from wrk to the filter.
const KEYS = 4096;
const headersFor = (k, len, n) => [
  [":authority", "127.0.0.1:10000"], [":path", "/v1/chat/completions"], [":method", "POST"],
  [":scheme", "http"], ["content-type", "application/json"],
  ["authorization", `Bearer sk-bench-${k.toString(16).padStart(8, "0")}-a1b2c3d4e5f6`],
  ["user-agent", `acme-sdk/${1 + (k % 3)}.${k % 7} python/3.12`],
  ["x-forwarded-for", `100.${64 + (Math.floor(k / 256) % 4)}.${k % 256}.${10 + (k % 200)}`],
  ["content-length", String(len)], ["x-forwarded-proto", "http"],
  ["x-request-id", `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`],
];

if (args.includes("--check")) {
  process.exit(check());
}

function check() {
  const fail = [];
  const shadowHost = new ProxyHost(modulePath);
  shadowHost.start('{"mode": "shadow", "identity": {"secret": "check-secret", "trusted_xff_hops": 1}}');
  const n = 50;
  for (let i = 0; i < n; i++) {
    const b = new TextEncoder().encode(body(1500));
    const s = shadowHost.request(2 + i, headersFor(i % 7, b.length, i), b, answer);
    if (s !== 200) fail.push(`shadow: request ${i} answered ${s}`);
  }
  const per = (name) => (shadowHost.calls.get(name) || 0) / n;
  if (per("proxy_get_buffer_bytes") < 2) fail.push(`shadow: ${per("proxy_get_buffer_bytes")} body reads a request, want >= 2 (request and answer)`);
  if (per("proxy_get_header_map_pairs") !== 2) fail.push(`shadow: ${per("proxy_get_header_map_pairs")} header map reads a request, want 2`);
  if (per("proxy_get_shared_data") < 1) fail.push("shadow: no shared-data read");
  if (per("proxy_set_property") !== 6) fail.push(`shadow: ${per("proxy_set_property")} filter-state properties a request, want 6`);
  if (![...shadowHost.properties.keys()].includes("distill_guard.action")) fail.push("shadow: no distill_guard.action filter state");

  const enforce = new ProxyHost(modulePath);
  enforce.start('{"mode": "enforce", "identity": {"secret": "check-secret", "trusted_xff_hops": 1}, "limits": {"identity_requests_per_minute": 5}}');
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const b = new TextEncoder().encode(body(1500));
    statuses.push(enforce.request(100 + i, headersFor(42, b.length, i), b, answer));
  }
  if (statuses.slice(0, 5).some((s) => s !== 200) || statuses[5] !== 429) {
    fail.push(`enforce: statuses ${statuses}, want five 200 then 429`);
  }
  const last = enforce.localReplies[enforce.localReplies.length - 1];
  if (!last || !last.headers.some(([k]) => k.toLowerCase() === "retry-after")) fail.push("enforce: the 429 has no Retry-After");
  const other = new TextEncoder().encode(body(1500));
  const s = enforce.request(200, headersFor(43, other.length, 200), other, answer);
  if (s !== 200) fail.push(`enforce: another key answered ${s}`);
  for (const f of fail) console.error("glue-bench --check: " + f);
  console.log(`glue-bench --check: ${fail.length === 0 ? "ok" : "FAILED"} (${modulePath})`);
  return fail.length === 0 ? 0 : 1;
}

const compareWith = opt("--compare", null);
if (compareWith) {
  process.exit(compare(compareWith));
}

/// Two modules in one process, fed the same requests round by round, the
/// order swapped every round: on a shared machine the load changes from
/// second to second, and rounds next to each other see about the same,
/// so the ratio of a round pair says more than two separate runs' medians.
function compare(otherPath) {
  const hosts = [modulePath, otherPath].map((path) => {
    const h = new ProxyHost(path);
    h.properties.set("source\0address", new TextEncoder().encode("127.0.0.1:40000"));
    h.start(config);
    return h;
  });
  console.log(`glue-bench --compare: A ${modulePath}, B ${otherPath}; ${rounds} round pairs of ${requests} requests ` +
    `a size after a warm-up pair, the same requests to both, order swapped every round; config ${config}`);
  console.log("size B    A µs/req median  p10   B µs/req median  p10   B/A median of round pairs  B/A of p10s");
  let n = 2;
  let bad = false;
  for (const size of sizes) {
    const pool = Array.from({ length: size > 262144 ? 8 : size > 16384 ? 32 : 256 }, () =>
      new TextEncoder().encode(body(size)));
    const perRound = size > 262144 ? Math.max(50, requests / 20) : size > 16384 ? Math.max(100, requests / 4) : requests;
    const us = [[], []];
    const ratios = [];
    for (let r = 0; r <= rounds; r++) {
      if (r === 1) hosts.forEach((h) => h.byCallback.clear());
      const items = Array.from({ length: perRound }, () => [randInt(0, KEYS - 1), pick(pool)]);
      const first = n;
      const round = [0, 0];
      for (const which of r % 2 === 0 ? [0, 1] : [1, 0]) {
        const h = hosts[which];
        const m0 = h.moduleUs();
        let i = first;
        for (const [k, b] of items) {
          const id = i++;
          if (h.request(id, headersFor(k, b.length, id), b, answer, chunk) !== 200 && shadow) bad = true;
        }
        round[which] = (h.moduleUs() - m0) / perRound;
      }
      n += perRound;
      if (r > 0) {
        us[0].push(round[0]);
        us[1].push(round[1]);
        ratios.push(round[1] / round[0]);
      }
    }
    // The 10th percentile too: a round the machine's other work
    // preempted only ever gets slower, so the low rounds are the module's
    // own cost most nearly.
    const q = (v, f) => v.slice().sort((a, b) => a - b)[Math.floor(v.length * f)];
    console.log(`${String(size).padEnd(9)} ${q(us[0], 0.5).toFixed(1).padStart(15)} ${q(us[0], 0.1).toFixed(1).padStart(5)} ` +
      `${q(us[1], 0.5).toFixed(1).padStart(16)} ${q(us[1], 0.1).toFixed(1).padStart(5)} ` +
      `${q(ratios, 0.5).toFixed(3).padStart(27)} ${(q(us[1], 0.1) / q(us[0], 0.1)).toFixed(3).padStart(12)}`);
    // Means over the timed rounds (not medians: a callback is not timed
    // round by round), so preempted rounds weigh in here.
    const timed = perRound * rounds;
    console.log("          module µs/req by callback, A/B: " + [...hosts[0].byCallback.keys()].map((k) =>
      `${k.replace(/^proxy_on_/, "")} ${(hosts[0].byCallback.get(k) * 1000 / timed).toFixed(2)}/` +
      `${((hosts[1].byCallback.get(k) || 0) * 1000 / timed).toFixed(2)}`).join(", "));
    hosts.forEach((h) => h.byCallback.clear());
  }
  if (bad) console.error("glue-bench: shadow mode answered a request locally");
  return bad ? 1 : 0;
}

const host = new ProxyHost(modulePath);
host.properties.set("source\0address", new TextEncoder().encode("127.0.0.1:40000"));
host.start(config);
let id = 2;
let failed = false;
console.log(`glue-bench: ${modulePath}, ${rounds} rounds of ${requests} requests a size after a warm-up round, ` +
  `body chunks of ${chunk} B, config ${config}`);
console.log("(module: the time in its callbacks less the time in host calls made from them; all: with the");
console.log(" JavaScript host and the harness, which stand in for Envoy and cost differently)");
console.log("size B    body B  module µs/req median   min     max   all µs/req   host calls/req   statuses");
for (const size of sizes) {
  const pool = Array.from({ length: size > 262144 ? 8 : size > 16384 ? 32 : 256 }, () =>
    new TextEncoder().encode(body(size)));
  const us = [];
  const moduleUs = [];
  const statuses = new Map();
  let callsBefore = null;
  let allocsBefore = null;
  let givenBefore = 0;
  const perRound = size > 262144 ? Math.max(50, requests / 20) : size > 16384 ? Math.max(100, requests / 4) : requests;
  for (let r = 0; r <= rounds; r++) {
    if (r === 1) {
      callsBefore = new Map(host.calls);
      allocsBefore = new Map([...host.allocs].map(([k, v]) => [k, v.slice()]));
      givenBefore = host.given;
    }
    const items = Array.from({ length: perRound }, () => {
      const k = randInt(0, KEYS - 1);
      const b = pick(pool);
      return [k, b];
    });
    const start = process.hrtime.bigint();
    const module0 = host.moduleUs();
    for (const [k, b] of items) {
      const n = id++;
      const s = host.request(n, headersFor(k, b.length, n), b, answer, chunk);
      if (r > 0) statuses.set(s, (statuses.get(s) || 0) + 1);
    }
    const ns = Number(process.hrtime.bigint() - start);
    if (r > 0) {
      us.push(ns / 1e3 / perRound);
      moduleUs.push((host.moduleUs() - module0) / perRound);
    }
  }
  us.sort((a, b) => a - b);
  moduleUs.sort((a, b) => a - b);
  const timed = perRound * rounds;
  const calls = [...host.calls].map(([k, v]) => [k, (v - (callsBefore.get(k) || 0)) / timed]).filter(([, v]) => v > 0);
  const total = calls.reduce((a, [, v]) => a + v, 0);
  const meanBody = pool.reduce((a, b) => a + b.length, 0) / pool.length;
  const st = [...statuses].map(([s, n]) => `${s}:${n}`).join(" ");
  const m = moduleUs;
  console.log(`${String(size).padEnd(9)} ${String(Math.round(meanBody)).padStart(7)} ${m[m.length >> 1].toFixed(1).padStart(21)} ` +
    `${m[0].toFixed(1).padStart(7)} ${m[m.length - 1].toFixed(1).padStart(7)} ${us[us.length >> 1].toFixed(1).padStart(12)} ` +
    `${total.toFixed(2).padStart(16)}   ${st}`);
  console.log("          per request: " + calls.sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k.replace(/^proxy_/, "")} ${v.toFixed(2)}`).join(", "));
  if (host.countsAllocs()) {
    // Allocations per request by callback (a module built with the
    // `alloc-count` feature: scripts/glue-v8.sh --allocs).
    const rows = [...host.allocs].map(([k, [a, re]]) => {
      const [a0, re0] = allocsBefore.get(k) || [0, 0];
      return [k.replace(/^proxy_on_/, ""), (a - a0) / timed, (re - re0) / timed];
    }).filter(([, a, re]) => a > 0 || re > 0);
    const all = rows.reduce((t, [, a]) => t + a, 0);
    const reall = rows.reduce((t, [, , re]) => t + re, 0);
    console.log(`          allocations per request: ${all.toFixed(2)} (${((host.given - givenBefore) / timed).toFixed(2)} of them ` +
      `memory the host asked for to hand data over), reallocations ${reall.toFixed(2)}; by callback: ` +
      rows.sort((a, b) => b[1] - a[1]).map(([k, a, re]) => `${k} ${a.toFixed(2)}/${re.toFixed(2)}`).join(", "));
  }
  if (shadow && [...statuses.keys()].some((s) => s !== 200)) failed = true;
}
if (failed) {
  console.error("glue-bench: shadow mode answered a request locally");
  process.exit(1);
}
