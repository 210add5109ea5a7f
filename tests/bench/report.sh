#!/bin/sh
# report.sh OUTDIR KERNEL...: build/bench/results.md and results.json from the
# "BENCH|key|value|baseline" lines that tests/bench/vm-lookup.sh,
# bench_signals and tests/bench/vm-names.sh printed into
# OUTDIR/lookup-KERNEL.log, OUTDIR/signals-KERNEL.log and
# OUTDIR/names-KERNEL.log (make bench). Values are guest instructions
# (qemu -icount shift=0); a ratio is the value over the baseline measured in
# the same boot. The goals are issue 11's; a row is reported against its
# goal, never asserted.
set -eu
out=$1
shift
[ $# -gt 0 ] || { echo "usage: report.sh OUTDIR KERNEL..." >&2; exit 2; }

for k in "$@"; do
	[ -f "$out/lookup-$k.log" ] || { echo "report.sh: $out/lookup-$k.log is missing" >&2; exit 1; }
	# A kernel whose revocation run is missing shows "–" in those rows.
	[ -f "$out/signals-$k.log" ] || echo "report.sh: $out/signals-$k.log is missing" >&2
	# The VM prefixes a demo's lines ("[demo] ").
	cat "$out/lookup-$k.log" "$out/signals-$k.log" "$out/names-$k.log" "$out/daemon-$k.log" 2>/dev/null | tr -d '\r' |
		sed -n "s/^.*BENCH|/$k|/p"
done >"$out/bench-lines.txt"
# The native rows (tests/bench/cli-cost.sh), the same on every kernel: "native|key|value|goal".
[ -f "$out/native.log" ] && sed -n 's/^NATIVE|/native|/p' "$out/native.log" >>"$out/bench-lines.txt"

# The journal query benchmark (bench_jquery, natively): "BENCHJ|key|value" lines.
jq=""
if [ -f "$out/jquery.log" ]; then
	jq=$(sed -n 's/^BENCHJ|\([a-z_]*\)|\([0-9.]*\)$/\1=\2/p' "$out/jquery.log" | tr '\n' ' ')
fi

awk -F'|' -v md="$out/results.md" -v js="$out/results.json" -v kernels="$*" -v jq="$jq" '
{ v[$1, $2] = $3; b[$1, $2] = $4; seen[$1, $2] = 1 }
function has(k, key) { return ((k, key) in seen) }
function ratio(k, key) { return b[k, key] > 0 ? v[k, key] / b[k, key] : 0 }
# cell KERNEL KEY GOAL: "1.07 ✓" / "1.88 ✗ (goal 1.10)"
function cell(k, key, goal,   r) {
	if (!has(k, key)) return "–"
	r = ratio(k, key)
	return sprintf("%.2f %s", r, (goal == "" || r <= goal + 0.005) ? "✓" : "✗ (goal " goal ")")
}
function icell(k, key, goal) {
	if (!has(k, key)) return "–"
	return sprintf("%d%s", v[k, key], goal == "" ? "" : (v[k, key] <= goal ? " ✓" : " ✗ (goal " goal ")"))
}
END {
	n = split(kernels, K, " ")
	print "# actgate benchmark results\n" > md
	print "Guest instructions (qemu `-icount shift=0,sleep=off`), each figure a ratio to a" > md
	print "baseline with no agent measured in the same boot; ✓ meets the goal of issue 11," > md
	print "✗ does not. Regenerate with `make bench` (both kernels).\n" > md
	if (has("native", "cli_revoke")) {
		print "## Native (callgrind, the same on every kernel)\n" > md
		print "| | instructions |\n|---|---|" > md
		printf "| `actgate revoke`, start to its request | %s |\n",
			icell("native", "cli_revoke", b["native", "cli_revoke"]) > md
		printf "| `actgate --version` (the start alone) | %s |\n\n", icell("native", "cli_version") > md
	}
	for (i = 1; i <= n; i++) {
		k = K[i]
		print "## Linux " k "\n" > md
		print "| | open+close, depth 4 | open+close, depth 14 | fork+exec+wait | UDP connect | TCP connect |" > md
		print "|---|---|---|---|---|---|" > md
		printf "| caller **not** governed | %s | | %s | %s | %s |\n", cell(k, "free_open4", 1.03),
			cell(k, "free_exec", 1.01), cell(k, "free_udp", 1.02), cell(k, "free_tcp", 1.02) > md
		printf "| governed, 1k rules, `record: deny` | %s | %s | %s | %s | %s |\n", cell(k, "deny1k_open4", 1.10),
			cell(k, "deny1k_open14", 1.15), cell(k, "deny1k_exec", 1.03), cell(k, "deny1k_udp", 1.05),
			cell(k, "deny1k_tcp", 1.05) > md
		printf "| governed, 100k rules, `record: deny` | %s | %s | %s | %s | %s |\n", cell(k, "deny100k_open4", 1.10),
			cell(k, "deny100k_open14", 1.15), cell(k, "deny100k_exec", 1.03), cell(k, "deny100k_udp", 1.05),
			cell(k, "deny100k_tcp", 1.05) > md
		printf "| governed, 1k rules, `record: all` | %s | | %s | %s | %s |\n", cell(k, "all1k_open4", 1.5),
			cell(k, "all1k_exec", 1.10), cell(k, "all1k_udp", 1.3), cell(k, "all1k_tcp", 1.3) > md
		print "\n`check_open` alone, instructions per call (the kernel'"'"'s program statistics):\n" > md
		print "| | depth 4 | depth 14 |\n|---|---|---|" > md
		printf "| caller not governed | %s | |\n", icell(k, "free_hook4") > md
		printf "| governed, 1k rules, `record: deny` | %s | %s |\n", icell(k, "deny1k_hook4"), icell(k, "deny1k_hook14") > md
		printf "| governed, 100k rules, `record: deny` | %s | %s |\n", icell(k, "deny100k_hook4"), icell(k, "deny100k_hook14") > md
		printf "| governed, 1k rules, `record: all` | %s | |\n", icell(k, "all1k_hook4") > md
		print "\nRevocation and signal change, request on the control socket to the workload'"'"'s" > md
		print "first denied open (instructions):\n" > md
		print "| | p50 | p99 |\n|---|---|---|" > md
		printf "| `actgate revoke` | %s | %s |\n", icell(k, "revoke_p50"), icell(k, "revoke_p99", 200000) > md
		printf "| signal change (`when:` overlay) | %s | %s |\n", icell(k, "signal_p50"), icell(k, "signal_p99", 200000) > md
		print "\nEgress by name (tests/bench/vm-names.sh): a TCP connect to a listener at an" > md
		print "address learned from an allowed lookup, 1,000 rules by name, against no agent;" > md
		print "a lookup through the resolver against the upstream asked directly:\n" > md
		print "| | ratio | instructions | baseline |\n|---|---|---|---|" > md
		printf "| TCP connect, 1k rules by name | %s | %s | %s |\n", cell(k, "names1k_tcp", 1.10),
			icell(k, "names1k_tcp"), icell(k, "names_base_tcp") > md
		printf "| lookup through the resolver | %s | %s | %s |\n", cell(k, "names1k_lookup", ""),
			icell(k, "names1k_lookup"), icell(k, "names_base_lookup") > md
		print "\nThe daemon (tests/bench/vm-daemon.sh): instructions to start (its CPU time, to" > md
		print "a 10 ms tick; system time is mostly the kernel verifying the BPF programs)," > md
		print "and resident size with its workloads bound, KiB (\"own\": less the ring" > md
		print "buffer'"'"'s mapping, kernel memory mapped twice):\n" > md
		print "| | start | of it, system | RSS | RSS, own | peak RSS |\n|---|---|---|---|---|---|" > md
		printf "| 1,000 rules | %s | %s | %s | %s | %s |\n", icell(k, "daemon_start_1k"),
			icell(k, "daemon_start_sys_1k"), icell(k, "daemon_rss_1k", 24576),
			icell(k, "daemon_rss_own_1k"), icell(k, "daemon_hwm_1k") > md
		printf "| 100,000 rules | %s | %s | %s | %s | %s |\n", icell(k, "daemon_start_100k", 2000000000),
			icell(k, "daemon_start_sys_100k"), icell(k, "daemon_rss_100k", 65536),
			icell(k, "daemon_rss_own_100k"), icell(k, "daemon_hwm_100k") > md
		printf "| 100,000 rules, a restart (adopts the pins: no program load) | %s | %s | | | |\n",
			icell(k, "daemon_start_restart_100k", 2000000000), icell(k, "daemon_start_sys_restart_100k") > md
		print "\nBaselines (no agent), instructions per operation, at the start, middle and end" > md
		print "of the boot, and the largest difference from the start'"'"'s:\n" > md
		print "| | start | middle | end | spread |\n|---|---|---|---|---|" > md
		split("open4 open14 exec udp tcp", O, " ")
		split("open+close, depth 4|open+close, depth 14|fork+exec+wait|UDP connect|TCP connect", L, "|")
		for (j = 1; j <= 5; j++) {
			s = v[k, "base_start_" O[j]]; m = v[k, "base_mid_" O[j]]; e = v[k, "base_end_" O[j]]
			d = 0
			if (s > 0) { d = (m > s ? m - s : s - m) / s; x = (e > s ? e - s : s - e) / s; if (x > d) d = x }
			printf "| %s | %s | %s | %s | %.1f%% |\n", L[j], s, m, e, d * 100 > md
		}
		print "" > md
	}
	printf "{" > js
	for (i = 1; i <= n; i++) {
		k = K[i]
		printf "%s\n  \"%s\": {", (i > 1 ? "," : ""), k > js
		first = 1
		for (key in seen) {
			split(key, p, SUBSEP)
			if (p[1] != k) continue
			printf "%s\n    \"%s\": {\"instructions\": %d, \"baseline\": %d, \"ratio\": %s}", (first ? "" : ","),
				p[2], v[k, p[2]], b[k, p[2]], (b[k, p[2]] > 0 ? sprintf("%.4f", ratio(k, p[2])) : "null") > js
			first = 0
		}
		printf "\n  }" > js
	}
	nj = split(jq, J, " ")
	if (nj) {
		for (i = 1; i <= nj; i++) { split(J[i], kv, "="); jv[kv[1]] = kv[2] }
		print "## Journal queries (natively, CPU time of the reading thread)\n" > md
		printf "%d decisions of a day of 100 workloads (`tests/bench/bench_jquery.c`).\n\n", jv["records"] > md
		print "| | figure | goal |\n|---|---|---|" > md
		printf "| full scan, every decision decoded | %d records/s | |\n", jv["full_scan_rps"] > md
		printf "| full filtered scan (`--workload`, every segment read) | %d records/s %s | 3,000,000 on 2 cores |\n",
			jv["filtered_scan_rps"], (jv["filtered_scan_rps"] >= 3000000 ? "✓" : "✗") > md
		printf "| full filtered scan (`--target`, every decision decoded) | %d records/s %s | 3,000,000 on 2 cores |\n",
			jv["decoded_filtered_scan_rps"], (jv["decoded_filtered_scan_rps"] >= 3000000 ? "✓" : "✗") > md
		printf "| one workload of 100, with summaries | %.1f× the full scan %s (%.1f× reading every segment) | 20× |\n",
			jv["workload_vs_full"], (jv["workload_vs_full"] >= 20 ? "✓" : "✗"), jv["workload_vs_all"] > md
		printf "| one hour of the day, with summaries | %.1f× the full scan %s (%.1f× reading every segment) | 20× |\n",
			jv["hour_vs_full"], (jv["hour_vs_full"] >= 20 ? "✓" : "✗"), jv["hour_vs_all"] > md
		printf ",\n  \"journal_queries\": {" > js
		first = 1
		for (key in jv) { printf "%s\n    \"%s\": %s", (first ? "" : ","), key, jv[key] > js; first = 0 }
		printf "\n  }" > js
	}
	print "\n}" > js
}' "$out/bench-lines.txt"
echo "report.sh: wrote $out/results.md and $out/results.json"
