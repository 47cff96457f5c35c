#!/usr/bin/env python3
"""uncovered.py COVERAGE.json: list every branch of ext/ that the tests never
took, from gcovr's JSON report (make coverage).

One line per source line with untaken branches:
    ext/file.c:LINE: taken T of N branches | source text
then a summary per file, sorted by untaken branches."""
import json, sys

with open(sys.argv[1]) as f:
    data = json.load(f)
total = {}
for fi in sorted(data["files"], key=lambda x: x["file"]):
    name = fi["file"]
    try:
        src = open(name, encoding="utf-8", errors="replace").read().split("\n")
    except OSError:
        src = []
    miss = 0
    for ln in fi["lines"]:
        br = ln.get("branches", [])
        if not br or ln.get("gcovr/noncode"):
            continue
        taken = sum(1 for b in br if b.get("count", 0) > 0)
        if taken < len(br):
            n = ln["line_number"]
            text = src[n - 1].strip() if 0 < n <= len(src) else ""
            print("%s:%d: taken %d of %d branches | %s" % (name, n, taken, len(br), text))
            miss += len(br) - taken
    total[name] = miss
print()
for name, miss in sorted(total.items(), key=lambda x: -x[1]):
    print("%-24s %5d untaken branches" % (name, miss))
