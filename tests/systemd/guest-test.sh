#!/bin/sh
# guest-test.sh: the systemd test, inside the VM (run by
# actgate-systemdtest.service once multi-user.target is reached, as root, its
# output on the serial console). It spans two boots; the phase is kept in
# $STATE/phase. Each check prints one line
#   ACTGATE-SD PASS|FAIL|SKIP NAME [detail]
# and the last boot ends with ACTGATE-SD-SUMMARY "N passed, N failed, N skipped"
# and powers the VM off. tests/systemd/run.sh reads the console.
set -u

PKG_DIR=/var/cache/actgate-test
STATE=/var/lib/actgate-test
RESULTS=$STATE/results
SECRETS=/etc/actgate-test
POLICY=/etc/actgate/policies/systemdtest.yaml
mkdir -p "$STATE"

say() { echo "ACTGATE-SD-NOTE $*"; }
result() { # STATUS NAME [DETAIL...]
	st=$1 name=$2
	shift 2
	echo "ACTGATE-SD $st $name${*:+ $*}"
	echo "$st $name" >>"$RESULTS"
}
pass() { result PASS "$@"; }
fail() { result FAIL "$@"; }
skip() { result SKIP "$@"; }
check() { # NAME CMD...: PASS when CMD succeeds
	name=$1
	shift
	if "$@" >"$STATE/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name" "($* -> $(tr '\n' ' ' <"$STATE/check.out" | cut -c1-400))"
	fi
}
show_log() {
	echo "---- journalctl -u actgated (last 25 lines) ----"
	journalctl -u actgated -n 25 --no-pager -o short-monotonic 2>&1 | sed 's/^/    /'
}

# wait_for TENTHS CMD...: until CMD succeeds, at most TENTHS/10 s.
wait_for() {
	n=$1
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt "$n" ] || return 1
		sleep 0.1
	done
}

# denied_open FILE WORKLOAD: a governed `cat FILE` in a new workload must fail
# with EPERM (not for want of a daemon: actgate run needs one).
denied_open() {
	out=$(actgate run --quiet --workload "$2" -- cat "$1" 2>&1)
	rc=$?
	case $out in
	*"Operation not permitted"*) [ "$rc" -ne 0 ] ;;
	*) echo "rc $rc: $out"; return 1 ;;
	esac
}
allowed_open() {
	actgate run --quiet --workload "$2" -- cat "$1" >/dev/null
}

# The features of the branches this test anticipates, found by what the
# installed binaries offer.
has_ops_daemon() { actgate reload --help >/dev/null 2>&1; }

write_policy() { # EXTRA-DENIED-PATH...
	{
		cat <<'EOF'
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: systemdtest}
spec:
  selector: {workloads: ["test:*"]}
  open:
    default: allow
    deny:
    - /etc/actgate-test/secret
    - /etc/actgate-test/secret-outage
    - /tmp/actgate-test-secret
    - /home/tester/secret
EOF
		for p in "$@"; do
			echo "    - $p"
		done
	} >"$POLICY"
}

# A governed workload that tries to read the secret every 0.1 s and logs
# every success (there must be none) to $STATE/loop.leaks; when
# $STATE/outage.go appears it reads secret-outage once and writes the
# time (seconds since boot) to $STATE/outage.done.
start_loop() {
	rm -f "$STATE/loop.leaks" "$STATE/outage.go" "$STATE/outage.done" "$STATE/loop.tries"
	actgate run --quiet --workload test:loop -- sh -c '
		S=/var/lib/actgate-test
		while :; do
			if cat /etc/actgate-test/secret >/dev/null 2>&1; then date >>$S/loop.leaks; fi
			echo x >>$S/loop.tries
			if [ -e $S/outage.go ] && [ ! -e $S/outage.done ]; then
				cat /etc/actgate-test/secret-outage >/dev/null 2>&1 && date >>$S/loop.leaks
				cut -d" " -f1 /proc/uptime >$S/outage.done
			fi
			sleep 0.1
		done' >/dev/null 2>&1 &
	LOOP_PID=$!
	wait_for 300 test -s "$STATE/loop.tries"
}
stop_loop() {
	pkill -f 'S=/var/lib/actgate-test' 2>/dev/null
	kill "$LOOP_PID" 2>/dev/null
	wait "$LOOP_PID" 2>/dev/null
}
# still_denied N: the loop went on past N tries, none of them succeeding.
still_denied() { [ "$(wc -l <"$STATE/loop.tries")" -gt "$1" ] && no_leaks; }
no_leaks() { [ ! -s "$STATE/loop.leaks" ] || { cat "$STATE/loop.leaks"; return 1; }; }

secrets() {
	mkdir -p "$SECRETS" /home/tester
	echo secret >"$SECRETS/secret"
	echo secret >"$SECRETS/secret-outage"
	echo secret >"$SECRETS/secret-reload"
	echo secret >/tmp/actgate-test-secret
	echo secret >/home/tester/secret
	# tester's own 0700 home: resolving the rule needs CAP_DAC_OVERRIDE (or _READ_SEARCH).
	chown -R 1000:1000 /home/tester
	chmod 0700 /home/tester
}

phase_install() {
	say "boot 1: kernel $(uname -r), systemd $(systemctl --version | head -n 1)"
	secrets

	# The package, as an operator installs it: postinst enables and starts.
	old=$(ls "$PKG_DIR"/old/actgate_*.deb)
	if dpkg -i "$old" >"$STATE/dpkg-old.out" 2>&1; then
		pass install-package
	else
		fail install-package "$(tail -n 5 "$STATE/dpkg-old.out")"
	fi
	check unit-enabled-by-postinst systemctl is-enabled actgated
	if has_ops_daemon; then
		# An empty policy directory: the daemon governs nothing and says so.
		check fresh-install-starts systemctl is-active actgated
	else
		skip fresh-install-starts "(an empty policy directory refuses the start until wip-ops-daemon)"
	fi
	check unit-verifies systemd-analyze verify --man=no /usr/lib/systemd/system/actgated.service
	score=$(systemd-analyze security actgated.service 2>/dev/null | tail -n 1)
	echo "ACTGATE-SD-INFO exposure: $score"
	# The whole table, into the console log (build/systemd/KERNEL/console.log).
	systemd-analyze security --no-pager actgated.service 2>&1 | sed 's/^/    security: /' 

	if ! has_ops_daemon; then
		# The unit's WatchdogSec= expects pings from the main loop and its
		# ExecReload= runs `actgate reload`, both from wip-ops-daemon. Before
		# it: no watchdog, and the older verb (which also waits and fails).
		mkdir -p /etc/systemd/system/actgated.service.d
		printf '[Service]\nWatchdogSec=0\nExecReload=\nExecReload=/usr/bin/actgate policy reload\n' \
			>/etc/systemd/system/actgated.service.d/before-ops-daemon.conf
		systemctl daemon-reload
		skip watchdog-pings "(no WATCHDOG=1 before wip-ops-daemon: WatchdogSec=0 for this run)"
		skip actgate-reload "(ExecReload=actgate policy reload for this run: actgate reload is wip-ops-daemon's)"
	fi

	write_policy
	# A failed first start (empty policy directory) may have hit the start limit.
	systemctl reset-failed actgated 2>/dev/null
	systemctl enable --now actgated >"$STATE/start.out" 2>&1 || systemctl restart actgated >>"$STATE/start.out" 2>&1
	# A daemon the fresh install started (governing nothing) takes the
	# policy at a reload.
	systemctl reload actgated >>"$STATE/start.out" 2>&1
	# Type=notify: active only once READY=1 came, which actgated sends when
	# the policy is live in the kernel.
	if [ "$(systemctl is-active actgated)" = active ]; then
		pass enable-now-ready
	else
		fail enable-now-ready "$(cat "$STATE/start.out")"
		show_log
	fi
	check denied-under-systemd denied_open "$SECRETS/secret" test:first
	if has_ops_daemon; then
		first=$(systemctl show -p WatchdogTimestampMonotonic --value actgated)
		sleep 20
		later=$(systemctl show -p WatchdogTimestampMonotonic --value actgated)
		if [ "${first:-0}" -gt 0 ] && [ "${later:-0}" -gt "$first" ]; then
			pass watchdog-pings
		else
			fail watchdog-pings "(WatchdogTimestampMonotonic $first then $later)"
		fi
	fi
	check allowed-under-systemd allowed_open /etc/hostname test:first
	# The unit's sandbox must not change what a path names (PrivateTmp,
	# ProtectHome=yes would): rules on /tmp and on a user's home hold.
	check denied-tmp-path denied_open /tmp/actgate-test-secret test:tmp
	check denied-home-path denied_open /home/tester/secret test:home

	# Reload: a good policy is applied; a bad one fails the reload and the
	# running policy stays.
	write_policy "$SECRETS/secret-reload"
	if systemctl reload actgated >"$STATE/reload.out" 2>&1; then
		pass reload-good
	else
		fail reload-good "$(cat "$STATE/reload.out")"
		show_log
	fi
	check reload-good-applied denied_open "$SECRETS/secret-reload" test:reload
	echo 'spec: [' >"$POLICY.bad.yaml"
	mv "$POLICY.bad.yaml" /etc/actgate/policies/broken.yaml
	if systemctl reload actgated >"$STATE/reload-bad.out" 2>&1; then
		fail reload-bad-fails "(systemctl reload reported success for a broken policy)"
	else
		pass reload-bad-fails
	fi
	check reload-bad-keeps-running systemctl is-active actgated
	check reload-bad-keeps-policy denied_open "$SECRETS/secret-reload" test:reload
	rm -f /etc/actgate/policies/broken.yaml
	write_policy
	systemctl reload actgated >/dev/null 2>&1

	# SIGKILL: the pins enforce with no daemon; Restart= brings it back; what
	# was decided meanwhile is journaled by the next daemon.
	start_loop
	pid=$(systemctl show -p MainPID --value actgated)
	restarts=$(systemctl show -p NRestarts --value actgated)
	systemctl kill -s KILL actgated
	if wait_for 100 sh -c "! kill -0 $pid"; then
		touch "$STATE/outage.go"
		wait_for 100 test -s "$STATE/outage.done"
	fi
	if wait_for 600 sh -c "[ \$(systemctl show -p NRestarts --value actgated) -gt $restarts ] && systemctl is-active -q actgated"; then
		pass kill-restarted
	else
		fail kill-restarted "$(systemctl status actgated 2>&1 | head -n 5)"
		show_log
	fi
	# Was the outage action really taken with no daemon? Its time against the
	# new daemon's start (both since boot).
	done_at=$(cat "$STATE/outage.done" 2>/dev/null || echo)
	started_us=$(systemctl show -p ExecMainStartTimestampMonotonic --value actgated)
	if [ -n "$done_at" ] && awk -v a="$done_at" -v b="$started_us" 'BEGIN { exit !(a * 1000000 < b) }'; then
		pass outage-action-without-daemon
	else
		fail outage-action-without-daemon "(action at ${done_at:-never} s, daemon back at $started_us us)"
	fi
	check kill-no-leak no_leaks
	# The restarted daemon drains the pinned ring buffer into the journal.
	check outage-journaled wait_for 300 sh -c "actgate replay --json --workload test:loop --verdict deny | grep -q secret-outage"
	check denied-after-restart denied_open "$SECRETS/secret" test:after-kill
	stop_loop

	# For the next boot: a unit ordered after actgated must find policy
	# enforced from its first action.
	systemctl enable actgate-early-probe.service >/dev/null 2>&1
	echo reboot >"$STATE/phase"
	sync
	say "rebooting"
	systemctl --no-block reboot
}

phase_after_reboot() {
	say "boot 2: kernel $(uname -r)"
	check active-after-reboot systemctl is-active actgated
	# actgate-early-probe.service (After=actgated.service) ran
	# `actgate run --workload test:early -- cat secret` at boot.
	probe=$(cat "$STATE/probe.out" 2>/dev/null)
	case $probe in
	*"Operation not permitted"*) pass early-unit-governed ;;
	*) fail early-unit-governed "(probe said: ${probe:-nothing})" ;;
	esac
	check early-unit-journaled wait_for 300 sh -c "actgate replay --json --workload test:early --verdict deny | grep -q '/etc/actgate-test/secret'"

	# Upgrade to a build whose BPF object differs, while a workload acts.
	secrets
	start_loop
	new=$(ls "$PKG_DIR"/new/actgate_*.deb)
	if dpkg -i "$new" >"$STATE/dpkg-new.out" 2>&1; then
		pass upgrade-package
	else
		fail upgrade-package "$(tail -n 5 "$STATE/dpkg-new.out")"
	fi
	sleep 2
	# The workload that ran through the upgrade was denied throughout.
	check upgrade-no-leak no_leaks
	if systemctl is-active -q actgated; then
		pass upgrade-daemon-active
		check upgrade-new-workload-denied denied_open "$SECRETS/secret" test:after-upgrade
	elif journalctl -u actgated --no-pager | grep -q 'another BPF build'; then
		skip upgrade-daemon-active "(the new daemon refuses the old build's pins until make-before-break, wip-upgrade; enforcement stayed)"
	else
		fail upgrade-daemon-active "$(systemctl status actgated 2>&1 | head -n 5)"
		show_log
	fi

	# Removal stops the daemon and leaves enforcement in place: the same
	# workload (none can start without a daemon) keeps acting, denied.
	tries_before=$(wc -l <"$STATE/loop.tries")
	if dpkg -r actgate >"$STATE/dpkg-r.out" 2>&1; then pass remove-package; else fail remove-package "$(tail -n 5 "$STATE/dpkg-r.out")"; fi
	check remove-stops-daemon sh -c '! pgrep -x actgated'
	check remove-keeps-pins test -d /sys/fs/bpf/actgate
	sleep 2
	check remove-keeps-enforcing still_denied "$tries_before"
	stop_loop
	if dpkg -P actgate >"$STATE/dpkg-p.out" 2>&1 && grep -q 'still attached' "$STATE/dpkg-p.out"; then
		pass purge-says-how-to-detach
	else
		fail purge-says-how-to-detach "$(cat "$STATE/dpkg-p.out")"
	fi
	check purge-keeps-journal test -d /var/log/actgate

	echo done >"$STATE/phase"
	summarize
	sync
	systemctl --no-block poweroff
}

summarize() {
	p=$(grep -c '^PASS ' "$RESULTS")
	f=$(grep -c '^FAIL ' "$RESULTS")
	s=$(grep -c '^SKIP ' "$RESULTS")
	echo "ACTGATE-SD-SUMMARY $p passed, $f failed, $s skipped"
}

case $(cat "$STATE/phase" 2>/dev/null) in
'') phase_install ;;
reboot) phase_after_reboot ;;
*) say "phase $(cat "$STATE/phase"): nothing to do"; summarize; systemctl --no-block poweroff ;;
esac
