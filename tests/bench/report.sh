#!/bin/sh
# report.sh OUTDIR KERNEL...: build/bench/results.md and results.json from the
# "BENCH|key|value|baseline" lines that the benchmarks printed into
# OUTDIR/NAME-KERNEL.log (make bench: lookup-, names-, signals-, build-,
# landlock-, daemon-) and OUTDIR/NAME-native.log (cli-native.log:
# tests/bench/cli-cost.sh, callgrind), and from the "BENCHJ|key|value" lines
# of OUTDIR/jquery.log (bench_jquery: rates and speed-ups, not instructions).
# Values are guest instructions (qemu -icount shift=0) unless a key says
# otherwise; a ratio is the value over the baseline measured in the same
# boot (a baseline of 0: a figure of its own, no ratio). The goals are issue
# 11's; a row is reported against its goal, never asserted.
#
# How a benchmark's rows plug in: print BENCH lines into a log named
# OUTDIR/NAME-KERNEL.log (OUTDIR/NAME-native.log for one that runs on the
# host, not in the VM: the section "Natively") and every key reaches
# results.json as it is; in results.md a key shows in the tables below when
# one names it, and under "Other figures" until one does. A key
# base_start_X, with base_mid_X and base_end_X, is a baseline: it shows in
# the baselines table with its spread. A row no benchmark measured says why,
# never a figure; issue 11's goals are listed at the end with the keys that
# measure them and how many figures came.
set -eu
out=$1
shift
[ $# -gt 0 ] || { echo "usage: report.sh OUTDIR KERNEL..." >&2; exit 2; }

for k in "$@"; do
	# A benchmark that did not run on a kernel shows "–" in its rows.
	for name in lookup names signals build landlock daemon; do
		[ -f "$out/$name-$k.log" ] && continue
		echo "report.sh: $out/$name-$k.log is missing" >&2
		missing="${missing:-} $k:$name"
	done
	# The VM prefixes a demo's lines ("[demo] "); the glob does not take
	# 6.12's logs for 6.1's.
	for f in "$out"/*-"$k".log; do
		[ -f "$f" ] || continue
		tr -d '\r' <"$f" | sed -n "s/^.*BENCH|/$k|/p"
	done
done >"$out/bench-lines.txt"
# Benchmarks that run natively (no kernel of their own) print into
# OUTDIR/NAME-native.log: a section "native" after the kernels'.
kernels=$*
for name in cli; do
	[ -f "$out/$name-native.log" ] && continue
	echo "report.sh: $out/$name-native.log is missing" >&2
	missing="${missing:-} native:$name"
done
for f in "$out"/*-native.log; do
	[ -f "$f" ] || continue
	tr -d '\r' <"$f" | sed -n "s/^.*BENCH|/native|/p" >>"$out/bench-lines.txt"
done
# The journal query benchmark (bench_jquery, natively): "BENCHJ|key|value"
# lines, rates and ratios with decimals, so a table of their own.
jq=""
if [ -f "$out/jquery.log" ]; then
	jq=$(sed -n 's/^BENCHJ|\([a-z_]*\)|\([0-9.]*\)$/\1=\2/p' "$out/jquery.log" | tr '\n' ' ')
else
	echo "report.sh: $out/jquery.log is missing" >&2
	missing="${missing:-} native:jquery"
fi
case " $kernels " in *" native "*) ;; *) kernels="$kernels native" ;; esac
[ -s "$out/bench-lines.txt" ] || [ -n "$jq" ] ||
	{ echo "report.sh: no BENCH lines in $out/*-KERNEL.log for $*" >&2; exit 1; }

# Why a row has no figure, where no benchmark measures it.
WHY_landlock='not measured in this run (tests/bench/vm-landlock.sh did not run or failed)'

awk -F'|' -v md="$out/results.md" -v js="$out/results.json" -v kernels="$kernels" -v WHY_landlock="$WHY_landlock" \
	-v missing="${missing:-} " -v jq="$jq" '
{ v[$1, $2] = $3; b[$1, $2] = $4; seen[$1, $2] = 1 }
function has(k, key) { return ((k, key) in seen) }
function ratio(k, key) { return b[k, key] > 0 ? v[k, key] / b[k, key] : 0 }
# cell KERNEL KEY GOAL: "1.07 ✓" / "1.88 ✗ (goal 1.10)"
function cell(k, key, goal) { return fcell(k, key, goal, "%.2f") }
# fcell KERNEL KEY GOAL FORMAT: cell with the ratio in FORMAT; no goal, no mark
function fcell(k, key, goal, fmt,   r) {
	shown[k, key] = 1
	if (!has(k, key)) return "–"
	r = ratio(k, key)
	if (goal == "") return sprintf(fmt, r)
	return sprintf(fmt " %s", r, (r <= goal + 0.005) ? "✓" : "✗ (goal " goal ")")
}
# why KERNEL NAME WHAT: under a table, why its "–" cells are empty when
# the benchmark NAME (tests/bench/vm-NAME.sh) left no log for KERNEL
function why(k, name, what) {
	if (index(missing, " " k ":" name " "))
		printf "\n– : %s: not measured in this run; tests/bench/vm-%s.sh left no %s-%s.log " \
			"(not run, or its VM failed).\n", what, name, name, k > md
}
function icell(k, key, goal) {
	shown[k, key] = 1
	if (!has(k, key)) return "–"
	return sprintf("%.0f%s", v[k, key], goal == "" ? "" : (v[k, key] <= goal ? " ✓" : " ✗ (goal " goal ")"))
}
# sorted KERNEL PREFIX: the keys of KERNEL that start with PREFIX, in
# order, into S[1..]; returns how many.
function sorted(k, prefix,   key, p, m, i, j, t) {
	m = 0
	for (key in seen) {
		split(key, p, SUBSEP)
		if (p[1] != k || index(p[2], prefix) != 1) continue
		S[++m] = p[2]
	}
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && S[j - 1] > S[j]; j--) { t = S[j]; S[j] = S[j - 1]; S[j - 1] = t }
	return m
}
# baseline_row KERNEL SUFFIX LABEL: start, middle and end of base_*_SUFFIX
function baseline_row(k, x, label,   s, m, e, d, y) {
	s = v[k, "base_start_" x]; m = v[k, "base_mid_" x]; e = v[k, "base_end_" x]
	shown[k, "base_start_" x] = shown[k, "base_mid_" x] = shown[k, "base_end_" x] = 1
	d = 0
	if (s > 0) {
		if (m > 0) d = (m > s ? m - s : s - m) / s
		if (e > 0) { y = (e > s ? e - s : s - e) / s; if (y > d) d = y }
	}
	printf "| %s | %s | %s | %s | %.2f%% |\n", label, (s == "" ? "–" : s), (m == "" ? "–" : m),
		(e == "" ? "–" : e), d * 100 > md
}
END {
	n = split(kernels, K, " ")
	print "# actgate benchmark results\n" > md
	print "Guest instructions (qemu `-icount shift=0,sleep=off`), each figure a ratio to a" > md
	print "baseline with no agent measured in the same boot; ✓ meets the goal of issue 11," > md
	print "✗ does not. Regenerate with `make bench` (both kernels).\n" > md
	# The journal query figures (bench_jquery), by key.
	nj = split(jq, J, " ")
	for (i = 1; i <= nj; i++) { split(J[i], kv, "="); jv[kv[1]] = kv[2] }
	for (i = 1; i <= n; i++) {
		k = K[i]
		if (k == "native") {
			print "## Natively (benchmarks that need no VM)\n" > md
			print "The `actgate` command before it reaches the daemon (`tests/bench/cli-cost.sh`," > md
			print "callgrind; the same on every kernel), instructions:\n" > md
			print "| | instructions |\n|---|---|" > md
			printf "| `actgate revoke`, start to its request | %s |\n", icell(k, "cli_revoke", 2000000) > md
			printf "| `actgate --version` (the start alone) | %s |\n", icell(k, "cli_version") > md
			if (index(missing, " native:cli "))
				print "\n– : not measured in this run; tests/bench/cli-cost.sh left no cli-native.log." > md
			print "\nJournal queries (`tests/bench/bench_jquery.c`), CPU time of the reading thread:\n" > md
			if (nj) {
				printf "%d decisions of a day of 100 workloads.\n\n", jv["records"] > md
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
			} else {
				print "– : not measured in this run; bench_jquery left no jquery.log (not run, or it failed)." > md
			}
		} else {
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
			if (has(k, "landlock_open4"))
				printf "| Landlock, same open (reference) | %s | %s | | | |\n", cell(k, "landlock_open4"),
					cell(k, "landlock_open14") > md
			else
				print "| Landlock, same open (reference) | " WHY_landlock " | | | | |" > md
			why(k, "lookup", "the rows but Landlock")
			print "\nA real job, not a loop: a C build (`tests/bench/build-job.mk`: make, gcc -O2 -g," > md
			print "ar, with the Debian toolchain in the VM) as a workload of `policies/ci-runner.yaml`," > md
			print "the daemon on the same CPU; instructions of the whole build, as a ratio to the" > md
			print "same build with no agent:\n" > md
			print "| | no agent (instructions) | `record: deny` | `record: all` |\n|---|---|---|---|" > md
			printf "| C build | %s | %s | %s |\n", icell(k, "base_start_job"), fcell(k, "job_deny", 1.03, "%.3f"),
				fcell(k, "job_all", 1.10, "%.3f") > md
			printf "| of which actgated after the build ended | | %s | %s |\n", icell(k, "job_deny_after"),
				icell(k, "job_all_after") > md
			printf "| decisions journaled | | | %s |\n", icell(k, "job_all_records") > md
			printf "| records dropped (ring buffer full) | | | %s |\n", icell(k, "job_all_dropped", 0) > md
			why(k, "build", "the real job")
			print "\n`check_open` alone, instructions per call (the kernel'"'"'s program statistics):\n" > md
			print "| | depth 4 | depth 14 |\n|---|---|---|" > md
			printf "| caller not governed | %s | |\n", icell(k, "free_hook4") > md
			printf "| governed, 1k rules, `record: deny` | %s | %s |\n", icell(k, "deny1k_hook4"), icell(k, "deny1k_hook14") > md
			printf "| governed, 100k rules, `record: deny` | %s | %s |\n", icell(k, "deny100k_hook4"), icell(k, "deny100k_hook14") > md
			printf "| governed, 1k rules, `record: all` | %s | |\n", icell(k, "all1k_hook4") > md
			why(k, "lookup", "check_open per call")
			print "\nRecording under `record: all`: decisions journaled per guest second (10^9" > md
			print "instructions) while a governed workload opens as fast as it can, the daemon on" > md
			print "the same CPU, from the loop'"'"'s start to its last record in the journal:\n" > md
			print "| | decisions/s | dropped meanwhile |\n|---|---|---|" > md
			shown[k, "record_rate_open"] = 1
			printf "| open loop | %s | %s |\n", (has(k, "record_rate_open") ? sprintf("%.0f %s", v[k, "record_rate_open"],
				(v[k, "record_rate_open"] >= 200000 ? "✓" : "✗ (goal 200000)")) : "–"),
				icell(k, "record_rate_dropped", 0) > md
			why(k, "lookup", "the recording rate")
			print "\nRevocation and signal change, request on the control socket to the workload'"'"'s" > md
			print "first denied open (instructions):\n" > md
			print "| | p50 | p99 |\n|---|---|---|" > md
			printf "| `actgate revoke` | %s | %s |\n", icell(k, "revoke_p50"), icell(k, "revoke_p99", 200000) > md
			printf "| signal change (`when:` overlay) | %s | %s |\n", icell(k, "signal_p50"), icell(k, "signal_p99", 200000) > md
			why(k, "signals", "revocation and signal change")
			print "\nEgress by name (tests/bench/vm-names.sh): a TCP connect to a listener at an" > md
			print "address learned from an allowed lookup, 1,000 rules by name, against no agent;" > md
			print "a lookup through the resolver against the upstream asked directly:\n" > md
			print "| | ratio | instructions | baseline |\n|---|---|---|---|" > md
			printf "| TCP connect, 1k rules by name | %s | %s | %s |\n", cell(k, "names1k_tcp", 1.10),
				icell(k, "names1k_tcp"), icell(k, "names_base_tcp") > md
			printf "| lookup through the resolver | %s | %s | %s |\n", cell(k, "names1k_lookup", ""),
				icell(k, "names1k_lookup"), icell(k, "names_base_lookup") > md
			why(k, "names", "egress by name")
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
			why(k, "daemon", "the daemon")
			print "\nBaselines (no agent), instructions per operation, at the start, middle and end" > md
			print "of the boot, and the largest difference from the start'"'"'s:\n" > md
			print "| | start | middle | end | spread |\n|---|---|---|---|---|" > md
			split("open4 open14 exec udp tcp ll_open4 ll_open14 job", O, " ")
			split("open+close, depth 4|open+close, depth 14|fork+exec+wait|UDP connect|TCP connect|" \
			      "open+close, depth 4 (the Landlock boot)|open+close, depth 14 (the Landlock boot)|" \
			      "C build (whole job)", L, "|")
			for (j = 1; j <= 8; j++) {
				named["base_start_" O[j]] = 1
				if (has(k, "base_start_" O[j])) baseline_row(k, O[j], L[j])
			}
			# Baselines of rows added since: by their key.
			m = sorted(k, "base_start_")
			for (j = 1; j <= m; j++)
				if (!(S[j] in named)) baseline_row(k, substr(S[j], 12), substr(S[j], 12))
		}
		# Figures no table names yet (from a new benchmark): each as it came.
		m = sorted(k, "")
		other = 0
		for (j = 1; j <= m; j++) {
			if ((k, S[j]) in shown || S[j] ~ /^base_(start|mid|end)_/) continue
			if (!other++) print "\nOther figures (no table names them yet):\n\n| key | value | baseline | ratio |\n|---|---|---|---|" > md
			printf "| %s | %.0f | %s | %s |\n", S[j], v[k, S[j]], (b[k, S[j]] > 0 ? sprintf("%.0f", b[k, S[j]]) : ""),
				(b[k, S[j]] > 0 ? sprintf("%.3f", ratio(k, S[j])) : "") > md
		}
		print "" > md
	}
	# The goals of issue 11, each with the keys whose figures measure it (in the
	# tables above) and how many came in this run, by section.
	print "## Issue 11'"'"'s goals and the figures that measure them\n" > md
	print "| goal | keys | figures in this run |\n|---|---|---|" > md
	ng = split("record: all: >= 200,000 decisions/s per CPU, zero drops|record_rate|" \
		"`actgate revoke` <= 2M instructions in all|cli_revoke|" \
		"daemon RSS <= 24 MiB with 1k rules, <= 64 MiB with 100k|daemon_rss_|" \
		"daemon start with 100k rules <= 2 G instructions|daemon_start_|" \
		"rule capacity >= 1M per kind, or a precise refusal at load|capacity_|" \
		"journal: selective query >= 20x a full scan; full scan >= 3 M records/s|jquery.log", G, "|")
	for (j = 1; j < ng; j += 2) {
		got = ""
		if (G[j + 1] == "jquery.log") {
			if (nj) got = "native: " nj
		} else {
			for (i = 1; i <= n; i++)
				if ((m = sorted(K[i], G[j + 1]))) got = got (got == "" ? "" : ", ") K[i] ": " m
		}
		printf "| %s | `%s%s` | %s |\n", G[j], G[j + 1], (G[j + 1] ~ /_$/ ? "*" : ""),
			got == "" ? "none: no benchmark of this run printed one" : got > md
	}
	printf "{" > js
	for (i = 1; i <= n; i++) {
		k = K[i]
		printf "%s\n  \"%s\": {", (i > 1 ? "," : ""), k > js
		first = 1
		for (key in seen) {
			split(key, p, SUBSEP)
			if (p[1] != k) continue
			printf "%s\n    \"%s\": {\"instructions\": %.0f, \"baseline\": %.0f, \"ratio\": %s}", (first ? "" : ","),
				p[2], v[k, p[2]], b[k, p[2]], (b[k, p[2]] > 0 ? sprintf("%.4f", ratio(k, p[2])) : "null") > js
			first = 0
		}
		printf "\n  }" > js
	}
	if (nj) {
		printf ",\n  \"journal_queries\": {" > js
		first = 1
		for (key in jv) { printf "%s\n    \"%s\": %s", (first ? "" : ","), key, jv[key] > js; first = 0 }
		printf "\n  }" > js
	}
	print "\n}" > js
}' "$out/bench-lines.txt"
echo "report.sh: wrote $out/results.md and $out/results.json"
