#!/bin/sh
# The README's two commands.
#   ./bootstrap.sh demo   install what is missing, build, run licd and sbcd
#                         on loopback (sbcd with docs/examples/sbcd.conf),
#                         establish trust, push a short SIPp call load
#                         through sbcd, show its usage tables and the
#                         acknowledged usage report
#   ./bootstrap.sh test   install what is missing, build (plain and
#                         ASan+UBSan) and run the whole test suite in both,
#                         then build the libFuzzer targets with clang and
#                         run each for 20 s
set -eu

top=$(cd "$(dirname "$0")" && pwd)
cd "$top"

# Debian 12 packages the project builds, tests and runs with.
PACKAGES="build-essential cmake pkg-config libsofia-sip-ua-dev libevent-dev
check libsubunit-dev libssl-dev libsqlite3-dev libjansson-dev sip-tester
python3 procps iproute2 openssl clang libclang-rt-14-dev libjemalloc-dev
rtpengine-daemon"

install_missing() {
	missing=""
	for p in $PACKAGES; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "install ok installed"; then
			missing="$missing $p"
		fi
	done
	[ -z "$missing" ] && return 0
	echo "== installing:$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "run as root (apt-get needs it), or install:$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Installing rtpengine-daemon would start Debian's
	# rtpengine-daemon.service, which binds fixed ports the tests do not
	# own; the tests start their own rtpengine on free loopback ports
	# (docs/media.md). A policy-rc.d exiting 101 tells the maintainer
	# scripts not to start services. One already there is the machine's
	# own and stays as it is; the one made here goes however the install
	# ends (the traps).
	policy=/usr/sbin/policy-rc.d
	made_policy=""
	if [ ! -e "$policy" ]; then
		trap 'rm -f "$policy"' EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		trap 'exit 129' HUP
		made_policy=1
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
	if [ -n "$made_policy" ]; then
		rm -f "$policy"
		trap - EXIT INT TERM HUP
	fi
	# The package also enables its service for the next boot; installed
	# here for the tests, it stays off there too. Only when this run
	# installed it: an rtpengine the machine already ran is its own.
	case " $missing " in
	*" rtpengine-daemon "*)
		if command -v systemctl >/dev/null 2>&1; then
			systemctl disable --quiet rtpengine-daemon.service \
				2>/dev/null || true
		fi
		;;
	esac
}

build() { # build DIR [cmake args...]
	dir=$1
	shift
	cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
	cmake --build "$dir" -j "$(nproc)"
}

case "${1:-}" in
demo)
	install_missing
	build build
	build/sbc/sbcd -n -f docs/examples/sbcd.conf
	# licd with an account and a token; the example config on free
	# loopback ports pointed at it, a SIPp callee behind sbcd; trust; 600
	# calls at 60 calls/s held 5 s (about 300 concurrent); then sbcd's
	# `show voice sip license stats`, one test-clock hour later the
	# acknowledged report (`show license status`) and licd's inventory,
	# and the runner's comparison of sbcd's per-second counts with SIPp's.
	exec python3 sipp-scenarios/run.py --sbcd build/sbc/sbcd \
		--config docs/examples/sbcd.conf --scenario basic \
		--calls 600 --rate 60 --hold-ms 5000 --track-counts --show-stats \
		--licd build/licd/licd --sbcctl build/sbc/sbcctl
	;;
test)
	install_missing
	build build
	build build-asan -DSBC_SANITIZE=ON
	rc=0
	echo "== test suite (plain build)"
	(cd build && ctest --output-on-failure -j "$(nproc)") || rc=1
	echo "== test suite (ASan + UBSan build)"
	(cd build-asan &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j "$(nproc)") || rc=1
	echo "== fuzz targets (clang, libFuzzer + ASan + UBSan, 20 s each)"
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_C_COMPILER=clang -DSBC_FUZZ=ON >/dev/null
	cmake --build build-fuzz --target fuzz -j "$(nproc)"
	(cd build-fuzz && ctest --output-on-failure -L fuzz -j "$(nproc)") ||
		rc=1
	exit $rc
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
