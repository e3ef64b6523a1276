"""Self time per function and per area from a V8 .cpuprofile (node
--cpu-prof), for scripts/engine-v8.sh --profile.

    python3 scripts/lib/cpuprofile.py PROFILE [TOP] [--wasm-only]

--wasm-only: the areas and functions as shares of the Wasm module's own
samples (scripts/glue-v8.sh, where a JavaScript host shares the profile).
Either way, the first lines split the samples by whose code ran: the
module's (Wasm), JavaScript's, the garbage collector's, the rest.

Wasm functions are named from the module's name section (Rust symbols,
demangled enough to read); the areas group them by what they do.
"""
import collections
import json
import re
import sys

# First matching pattern wins; checked against the demangled name.
AREAS = [
    ("body compaction (api::compact)", r"api::compact"),
    ("body scan and repair (api::truncated)", r"api::truncated"),
    ("JSON parse into a tree (serde_json)", r"serde_json|serde_core|serde::"),
    ("extraction from the tree (api::*)", r"distill_guard::api::"),
    ("normalisation and phrase scan", r"detect::normalize|detect::elicitation|to_lowercase|unicode"),
    ("SipHash", r"hash::siphash|hash::fingerprint|SipState"),
    ("template / SimHash", r"detect::template"),
    ("HLL", r"detect::hll"),
    ("shared-data store (memory stand-in) and counters", r"MemoryStore|CountingStore|store::|Mutex|decode_words|encode_words"),
    ("allocation and copies", r"dlmalloc|dlfree|malloc|realloc|free|memcpy|memmove|memset|RawVec|alloc::|drop_in_place"),
    ("formatting", r"fmt::|format|Display|Debug|to_string|write_str"),
    ("rest of detection (detect::*)", r"distill_guard::detect::"),
    ("engine, identity, verdict", r"distill_guard::"),
]


def demangle(name):
    # Legacy Rust mangling: _ZN<len><part>...17h<hash>E -> a::b::c
    if name.startswith("_ZN"):
        parts, s = [], name[3:]
        while s and s[0].isdigit():
            n = int(re.match(r"\d+", s).group())
            k = len(str(n))
            parts.append(s[k:k + n])
            s = s[k + n:]
        if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
            parts.pop()
        name = "::".join(parts)
        for a, b in (("$LT$", "<"), ("$GT$", ">"), ("$u20$", " "), ("$RF$", "&"), ("..", "::"),
                     ("$u7b$", "{"), ("$u7d$", "}"), ("$C$", ","), ("$BP$", "*")):
            name = name.replace(a, b)
    return name


def main():
    argv = [a for a in sys.argv[1:] if a != "--wasm-only"]
    wasm_only = "--wasm-only" in sys.argv
    prof = json.load(open(argv[0]))
    top = int(argv[1]) if len(argv) > 1 else 30
    samples = collections.Counter(prof["samples"])
    by_fn = collections.Counter()
    whose = collections.Counter()
    for node in prof["nodes"]:
        frame = node["callFrame"]
        n = samples.get(node["id"], 0)
        url = frame.get("url", "")
        kind = ("module (Wasm)" if url.startswith("wasm://") else
                "garbage collector" if frame["functionName"] == "(garbage collector)" else
                "JavaScript" if url else "idle, program and the rest")
        whose[kind] += n
        if wasm_only and kind != "module (Wasm)":
            continue
        name = demangle(frame["functionName"] or "(anonymous)")
        by_fn[name] += n
    print("samples by whose code ran: " + ", ".join(
        f"{k} {100 * n / max(1, sum(whose.values())):.1f}%" for k, n in whose.most_common()))
    total = max(1, sum(by_fn.values()))
    areas = collections.Counter()
    for name, n in by_fn.items():
        area = next((a for a, pat in AREAS if re.search(pat, name)), "other (" + name[:40] + ")"
                    if n * 100 > total else "other")
        areas[area] += n
    print(f"{total} samples")
    print("\nself time by area")
    for a, n in areas.most_common():
        print(f"{100 * n / total:6.1f}%  {a}")
    print(f"\nself time by function (top {top})")
    for name, n in by_fn.most_common(top):
        print(f"{100 * n / total:6.1f}%  {name[:140]}")


main()
