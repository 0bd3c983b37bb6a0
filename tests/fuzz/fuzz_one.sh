#!/bin/sh
# fuzz_one.sh BINARY SECONDS SEEDS WORKDIR [DICT]
#
# Runs one libFuzzer target for SECONDS on a fresh copy of its seed corpus
# (SEEDS is never written), in WORKDIR (emptied first): WORKDIR/corpus grows
# with the new inputs, WORKDIR/log is libFuzzer's output, a crashing input
# lands in WORKDIR/artifacts. Prints one line:
#
#   fuzz_config: ok, 123456 execs in 20 s (6172/s), corpus 12 -> 340 files, cov 1234
#
# and exits non-zero on a crash, leak, timeout (10 s on one input), a
# memory blow-up (2 GiB) or a failed check. Used by ctest (label fuzz) and
# tests/fuzz/run.sh.
set -u

if [ $# -lt 4 ]; then
	echo "usage: $0 BINARY SECONDS SEEDS WORKDIR [DICT]" >&2
	exit 2
fi
bin=$1 secs=$2 seeds=$3 work=$4 dict=${5:-}
name=$(basename "$bin")

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts" || exit 2
cp "$seeds"/* "$work/corpus/" 2>/dev/null
nseeds=$(ls "$work/corpus" | wc -l)

set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/"
if [ -n "$dict" ] && [ -f "$dict" ]; then
	set -- "$@" -dict="$dict"
fi

# Undefined behaviour stops the run (the code is built with
# -fno-sanitize-recover too); leaks are checked after every input.
start=$(date +%s)
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
	"$bin" "$@" "$work/corpus" >"$work/log" 2>&1
rc=$?
took=$(($(date +%s) - start))

final_stat() {
	sed -n "s/^stat::$1: *//p" "$work/log" | tail -n 1
}
execs=$(final_stat number_of_executed_units)
rate=$(final_stat average_exec_per_sec)
cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$work/log" | tail -n 1)
ncorpus=$(ls "$work/corpus" | wc -l)
if [ $rc -eq 0 ]; then
	result=ok
else
	result="FAILED (exit $rc)"
fi
echo "$name: $result, ${execs:-0} execs in $took s (${rate:-0}/s)," \
	"corpus $nseeds -> $ncorpus files, cov ${cov:-?}"
if [ $rc -ne 0 ]; then
	# From the first report line: the check or sanitizer message and
	# its stack.
	first=$(grep -n -m 1 -E 'check failed|ERROR:|runtime error|WARNING: libFuzzer' \
		"$work/log" | cut -d: -f1)
	echo "--- $work/log, from line ${first:-1}:" >&2
	tail -n "+${first:-1}" "$work/log" | head -n 40 >&2
	echo "--- crashing input:" >&2
	ls "$work/artifacts"/* >&2
fi
exit $rc
