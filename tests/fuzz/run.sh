#!/bin/sh
# tests/fuzz/run.sh [SECONDS]
#
# The on-demand fuzz run (docs/fuzzing.md): configures and builds
# build-fuzz with clang (SBC_FUZZ=ON), then runs every target for SECONDS
# (default 600) one after the other, each on a fresh copy of its seed
# corpus, and prints one line per target: result, execs, corpus size.
# Exits non-zero when any target failed; its log and the crashing input
# are under build-fuzz/tests/fuzz/work/<target>/.
#
# FUZZ_TARGETS="config ctl" narrows the run; FUZZ_BUILD_DIR moves the
# build directory.
set -u

secs=${1:-600}
case $secs in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
targets=${FUZZ_TARGETS:-config ctl licmsg digitpat}

mkdir -p "$build" || exit 2
cmake -S "$top" -B "$build" -DSBC_FUZZ=ON -DCMAKE_C_COMPILER=clang \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" 2>&1 || {
	cat "$build/configure.log" >&2
	exit 2
}
cmake --build "$build" --target fuzz -j2 >/dev/null || {
	cmake --build "$build" --target fuzz -j1 >&2
	exit 2
}

fail=0
for t in $targets; do
	sh "$top/tests/fuzz/fuzz_one.sh" "$build/tests/fuzz/fuzz_$t" "$secs" \
		"$top/tests/fuzz/corpus/$t" "$build/tests/fuzz/work/$t" \
		"$top/tests/fuzz/$t.dict" || fail=1
done
exit $fail
