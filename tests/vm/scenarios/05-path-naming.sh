# The path-naming step of the BPF programs (bpf/lib/record.h,
# record_dentry_path), tested on its own at the BPF level: `actprobe name-fd`
# runs it with BPF_PROG_RUN on files this process opened
# (tests/vm/pathname.bpf.c), and its name must be the kernel's own
# (/proc/self/fd) across mounts, bind mounts of a directory and of a file,
# relative opens and names of 255 bytes; a path longer than the record holds
# is refused (ENAMETOOLONG), never cut. The LSM programs themselves cannot be
# test-run: the kernel says ENOTSUPP.
. /actgate/lib.sh

expect_probe ENOTSUPP actprobe lsm-test-run

mkdir -p "$T/a/b/c" "$T/bind"
echo x >"$T/a/b/c/file"
: >"$T/fbind"
mount --bind "$T/a" "$T/bind" || fail "bind mount of a directory"
mount --bind "$T/a/b/c/file" "$T/fbind" || fail "bind mount of a file"
trap 'umount "$T/fbind" "$T/bind" 2>/dev/null; cleanup' EXIT
long=$(printf '%0255d' 0 | tr 0 n)
: >"$T/$long"

# expect_named PATH EXPECTED [ERROR]: name-fd names PATH as EXPECTED (with
# path_error ERROR, 0 by default), and as /proc/self/fd does when it is 0.
expect_named() {
	out=$(actprobe name-fd "$1" 2>"$T/probe.err") ||
		fail "name-fd $1: $(cat "$T/probe.err")"
	name=$(printf '%s\n' "$out" | cut -f1)
	err=$(printf '%s\n' "$out" | cut -f2)
	kernel=$(printf '%s\n' "$out" | cut -f3)
	expect_eq "$err" "${3:-0}" "path_error of $1"
	expect_eq "$name" "$2" "the name of $1"
	[ "${3:-0}" != 0 ] || expect_eq "$name" "$kernel" "the name of $1 against /proc/self/fd"
	note "$1 -> ${name:-(none)} ($err)"
}

expect_named / /
expect_named /sys/fs/bpf /sys/fs/bpf
expect_named "$T/a" "$T/a"
expect_named "$T/a/b/c/file" "$T/a/b/c/file"
expect_named "$T/bind/b/c/file" "$T/bind/b/c/file"
expect_named "$T/fbind" "$T/fbind"
expect_named "$T/$long" "$T/$long"
(cd "$T/a/b" && expect_named c/file "$T/a/b/c/file") || exit 1

# Directories of 250-byte names: 15 of them fit in a record's 4 KiB with
# the rest of the path, 17 do not.
part=$(printf '%0250d' 0 | tr 0 d)
mkdir "$T/deep"
cd "$T/deep" || fail "cd $T/deep"
i=0
while [ $i -lt 17 ]; do
	# -P: busybox's logical cd would pass the whole path, too long at the end.
	mkdir "$part" && cd -P "$part" || fail "mkdir level $i"
	: >file
	i=$((i + 1))
	[ $i -ne 15 ] || near=$(pwd)
done
cd "$T" || fail "cd $T"
expect_named "$near/file" "$near/file"
# Relative: the whole path is longer than a path the kernel takes.
(cd "$near" && cd -P "$part/$part" && expect_named file "" -36) || exit 1
# What the harness's rm -rf of $T would reach only by a path too long.
(cd "$near" && rm -rf "$part") || fail "cannot remove the deepest directories"
