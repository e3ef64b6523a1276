"""The bench-fleet table: one labelled trace, several replays of it
(hosts:spread:decisions), the first being one host.

Campaign rows: served% (allow or tag) and requests to the first denial
(throttle or block), per run. Benign and look-alike rows: accounts denied,
and in brackets those denied on the fleet that one host did not deny."""
import gzip
import json
import sys
from collections import defaultdict

trace, runs = sys.argv[1], [r.split(":", 2) for r in sys.argv[2:]]
labels = []
with gzip.open(trace, "rt") if trace.endswith(".gz") else open(trace) as f:
    for line in f:
        lab = json.loads(line).get("label") or {}
        labels.append((lab.get("class", "benign"), lab.get("group", "?"), lab.get("account", "?")))

results = []
for hosts, spread, path in runs:
    served, total, first, denied = defaultdict(int), defaultdict(int), {}, defaultdict(set)
    with open(path) as f:
        for (cls, group, account), line in zip(labels, f):
            deny = json.loads(line)["action"] in ("throttle", "block")
            total[group] += 1
            if deny:
                denied[group].add(account)
                first.setdefault(group, total[group] - 1)
            else:
                served[group] += 1
    results.append((hosts, spread, served, total, first, denied))

classes = {}
for cls, group, _ in labels:
    classes.setdefault(group, cls)
heads = ["1 host"] + [f"{h}×{s}" for h, s, _ in runs[1:]]
print(f"{'campaign':<16}" + "".join(f"{h:>22}" for h in heads))
print(f"{'':<16}" + "".join(f"{'served%  1st deny':>22}" for _ in heads))
for group in sorted(g for g, c in classes.items() if c == "campaign"):
    cells = []
    for _, _, served, total, first, _ in results:
        pct = 100.0 * served[group] / max(total[group], 1)
        cells.append(f"{pct:7.1f}%  {str(first.get(group, 'never')):>9}")
    print(f"{group:<16}" + "".join(f"{c:>22}" for c in cells))
print()
print(f"{'benign/look-alike':<18}" + "".join(f"{h:>16}" for h in heads))
print(f"{'':<18}" + "".join(f"{'denied (new)':>16}" for _ in heads))
base = results[0][5]
for group in sorted(g for g, c in classes.items() if c != "campaign"):
    cells = []
    for _, _, _, _, _, denied in results:
        new = len(denied[group] - base[group])
        cells.append(f"{len(denied[group])} ({new})")
    print(f"{group:<18}" + "".join(f"{c:>16}" for c in cells))
