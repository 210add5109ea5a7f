#!/bin/sh
# cli-cost.sh BUILD_DIR: instructions a run of the actgate command costs
# before it reaches the daemon, counted natively by valgrind's callgrind
# (no VM: the CLI's cost is the same on the host). `actgate revoke` against
# a socket that is not there does everything a revocation does before it
# sends its request (start, libraries, argument parsing), then stops.
# Prints "BENCH|key|instructions|0" lines (no baseline: figures of their
# own) that make bench writes to build/bench/cli-native.log for report.sh,
# which holds the goals; a figure, never a pass/fail. Without valgrind it says so and prints nothing else.
set -eu
build=$1
command -v valgrind >/dev/null 2>&1 || { echo "cli-cost.sh: no valgrind: CLI rows not measured" >&2; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# count KEY CMD...: the instructions CMD runs (its exit status is not the point).
count() {
	key=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >"$tmp/out" 2>&1 || true
	n=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$tmp/out")
	[ -n "$n" ] || { echo "cli-cost.sh: $key: no count from callgrind" >&2; cat "$tmp/out" >&2; exit 1; }
	echo "BENCH|$key|$n|0"
}

count cli_revoke "$build/actgate" revoke w --socket "$tmp/no-daemon.sock"
count cli_version "$build/actgate" --version
