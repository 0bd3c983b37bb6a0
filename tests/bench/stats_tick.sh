#!/bin/sh
# Measures the cost of one sampler tick (counters sample + table roll-ups,
# with and without the SQLite store) for 0, 1,000 and 100,000 calls up,
# prints the table and writes it into docs/benchmarks.md.
# usage: tests/bench/stats_tick.sh [BUILD_DIR]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
cmake --build "$build" --target bench_stats >/dev/null
table=$("$build/tests/bench/bench_stats" 200000 "$(mktemp -u /tmp/bench_stats.XXXXXX.db)")
echo "$table"
out=$top/docs/benchmarks.md
PYTHONPATH="$top/tests/bench" python3 - "$out" "$table" <<'PY'
import sys
import benchdoc
path, table = sys.argv[1], sys.argv[2]
section = ("## Sampler tick cost\n\n"
           "`tests/bench/stats_tick.sh` on %s (UTC).\n"
           "One tick = reading the per-class peaks from the counters, the table\n"
           "roll-ups, and (last column) the SQLite transaction that saves the\n"
           "closed buckets. The cost does not depend on the number of calls:\n"
           "the sampler reads five atomics whatever the load.\n\n%s\n"
           % (benchdoc.machine(), table))
benchdoc.write_section(path, section)
PY
