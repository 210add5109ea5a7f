# The reference row of `make bench`: Landlock on the same open+close that
# tests/bench/vm-lookup.sh measures (the same files, 4 and 14 levels deep),
# in a process Landlock confines to reading and executing beneath the
# directory that holds them (actprobe landlock-openloop), as a ratio to the
# same open with no confinement in this boot. Guest instructions (qemu
# -icount shift=0); baselines at the start, middle and end; the ratios use
# the start's. Lines "BENCH|key|instructions|baseline" go to results.md and
# .json (tests/bench/report.sh).
set -u

W=/tmp/bench
ITER=${BENCH_ITERATIONS:-4000}
mkdir -p "$W/target/a/b/c/d/e/f/g/h/i/j/k"
echo x >"$W/target/a/b/c/file"
echo x >"$W/target/a/b/c/d/e/f/g/h/i/j/k/file"
FILE=$W/target/a/b/c/file
FILE14=$W/target/a/b/c/d/e/f/g/h/i/j/k/file

row() { # KEY LABEL INSTRUCTIONS BASELINE
	awk -v l="$2" -v v="$3" -v b="$4" 'BEGIN { printf "  %-52s %8.0f  %5.2f\n", l, v, v / b }'
	echo "BENCH|$1|$3|$4"
}
measure() { # FILE [landlock]: instructions per open+close, or exit
	if [ -n "${2:-}" ]; then
		actprobe landlock-openloop "$W/target" "$1" "$ITER"
	else
		actprobe openloop "$1" "$ITER"
	fi
}
num() { # VALUE WHAT: VALUE if it is a number, else the script fails
	case $1 in
	'' | *[!0-9]*) echo "vm-landlock: $2 answered '$1'" >&2; exit 1 ;;
	esac
}

# The baseline pitfalls (DESIGN.md, "Measuring kernel-side cost").
head -c 1 /dev/random >/dev/null
n=0
while ps -o comm 2>/dev/null | grep -q '^cryptomgr' && [ $n -lt 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
measure "$FILE" >/dev/null # warm the caches
measure "$FILE14" >/dev/null
echo "instructions per open+close ($ITER iterations each)"
B4=$(measure "$FILE"); num "$B4" "openloop"
B14=$(measure "$FILE14"); num "$B14" "openloop"
row base_start_ll_open4 "no confinement, depth 4 (baseline, start)" "$B4" "$B4"
row base_start_ll_open14 "no confinement, depth 14 (baseline, start)" "$B14" "$B14"
v=$(measure "$FILE" landlock); num "$v" "landlock-openloop"
row landlock_open4 "Landlock, depth 4" "$v" "$B4"
v=$(measure "$FILE"); num "$v" "openloop"
row base_mid_ll_open4 "no confinement, depth 4 (baseline, middle)" "$v" "$B4"
v=$(measure "$FILE14"); num "$v" "openloop"
row base_mid_ll_open14 "no confinement, depth 14 (baseline, middle)" "$v" "$B14"
v=$(measure "$FILE14" landlock); num "$v" "landlock-openloop"
row landlock_open14 "Landlock, depth 14" "$v" "$B14"
v=$(measure "$FILE"); num "$v" "openloop"
row base_end_ll_open4 "no confinement, depth 4 (baseline, end)" "$v" "$B4"
v=$(measure "$FILE14"); num "$v" "openloop"
row base_end_ll_open14 "no confinement, depth 14 (baseline, end)" "$v" "$B14"
