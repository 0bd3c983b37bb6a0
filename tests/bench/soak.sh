#!/bin/sh
# Soak: SIPp places calls through sbcd at a steady rate for a long time.
#
#   tests/bench/soak.sh [MINUTES [RATE [HOLD_MS]]]
#
# Defaults: 60 minutes at 3,500 calls/s (70% of the 5,000 calls/s capacity
# tests/bench/compare.py measured on this 2-core machine on 2026-11-24;
# pass your own rate elsewhere), calls held 5 s, sbcd on CPU 0 and the SIPps on CPU 1
# (--pin). The CI version, soak_3min, runs at SBC_SOAK_RATE.
# Passes when no call failed, sbcd's RSS stayed within 5% after the
# warm-up, its per-second counts followed SIPp's, its peak matched SIPp's,
# the seconds and minutes tables matched SIPp's statistics and the counts
# drained to 0 (sipp-scenarios/run.py --rss-check --track-counts
# --check-tables). The work dir is kept (sbcd.log, SIPp statistics).
# The 3-minute version is the ctest soak_3min.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${1:-60}
rate=${2:-3500}
hold=${3:-5000}
sbcd=${SBCD:-$top/build/sbc/sbcd}
[ -x "$sbcd" ] || { echo "no $sbcd: build first (cmake --build build)" >&2; exit 2; }
calls=$((rate * minutes * 60))
echo "soak: $minutes min at $rate calls/s, hold $hold ms ($calls calls)"
exec python3 "$top/sipp-scenarios/run.py" --sbcd "$sbcd" --scenario basic \
	--calls "$calls" --rate "$rate" --hold-ms "$hold" --keep --pin \
	--rss-check --track-counts --check-tables --expect-clean-log
