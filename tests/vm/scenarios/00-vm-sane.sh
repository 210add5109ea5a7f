#!/bin/sh
# The VM itself is fit for actgate's scenarios: BPF LSM active, cgroup v2,
# kernel BTF, and TCP over loopback for IPv4 and IPv6.
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)
case ",$lsm," in
*,bpf,*) ok "bpf in active LSMs ($lsm)" ;;
*) fail "bpf is not in /sys/kernel/security/lsm ('$lsm'): is lsm=...,bpf on the kernel command line?" ;;
esac

# mountinfo field 5 is the mount point; the fstype follows the " - " separator.
cg=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' \
	/proc/self/mountinfo | head -n 1)
if [ -n "$cg" ] && [ -r "$cg/cgroup.controllers" ]; then
	ok "cgroup2 mounted at $cg"
else
	fail "no cgroup2 mount in /proc/self/mountinfo"
fi

if [ -s /sys/kernel/btf/vmlinux ]; then
	ok "/sys/kernel/btf/vmlinux present"
else
	fail "/sys/kernel/btf/vmlinux missing (kernel without CONFIG_DEBUG_INFO_BTF?)"
fi

# tcp_roundtrip ADDR PORT: a busybox nc listener receives what a client sends.
tcp_roundtrip() {
	addr=$1 port=$2 out=$T/nc-$port.out token="actgate-$port-$$"
	nc -l -p "$port" >"$out" 2>"$out.err" &
	listener=$!
	i=0
	until netstat -ltn 2>/dev/null | grep -q "[:.]$port "; do
		i=$((i + 1))
		if [ $i -gt 50 ]; then
			kill "$listener" 2>/dev/null
			fail "nc listener on port $port did not come up: $(cat "$out.err")"
			return
		fi
		sleep 0.1
	done
	if ! echo "$token" | nc -w 5 "$addr" "$port" 2>"$out.cerr"; then
		kill "$listener" 2>/dev/null
		fail "TCP connect to $addr port $port failed: $(cat "$out.cerr")"
		return
	fi
	i=0
	while kill -0 "$listener" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill "$listener" 2>/dev/null
	if grep -qx "$token" "$out"; then
		ok "TCP over $addr"
	else
		fail "TCP over $addr: listener received '$(cat "$out")', expected '$token'"
	fi
}
tcp_roundtrip 127.0.0.1 7001
tcp_roundtrip ::1 7002

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
