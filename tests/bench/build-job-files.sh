#!/bin/sh
# build-job-files.sh REPO: the host files the VM needs to run
# tests/bench/build-job.mk on REPO's sources, one absolute path a line, for
# tests/vm/run.sh's VMTEST_HOST_FILES: GNU make, the gcc driver and its cc1,
# as, ar, and every system header the job's sources include (as the
# compiler itself lists them, gcc -M, with the job's own flags). run.sh adds
# each ELF file's shared libraries. The job only compiles and archives, so
# no linker, C runtime objects or libc for linking are needed.
set -eu
repo=${1:?usage: build-job-files.sh REPO}
here=$(cd "$(dirname "$0")" && pwd)
# From the repository, so that its own headers come out relative (they
# reach the VM as the job's sources, not as host files).
cd "$repo"
cc=${CC_JOB:-gcc}
for tool in make "$cc" ar; do
	command -v "$tool" >/dev/null || { echo "build-job-files.sh: $tool is not installed" >&2; exit 1; }
done
command -v make
command -v "$cc"
command -v ar
# The assembler gcc runs and the compiler proper, as the driver finds them.
as=$("$cc" -print-prog-name=as)
case $as in /*) echo "$as" ;; *) command -v "$as" ;; esac
"$cc" -print-prog-name=cc1
# The sources build-job.mk compiles and its flags (-O2 includes headers
# -O0 does not), asked of make.
ask() { make -s --no-print-directory -f "$here/build-job.mk" SRC=. -E "ask: ; @echo \$($1)" ask; }
srcs=$(ask JOB_SRCS)
flags=$(ask CFLAGS)
[ -n "$srcs" ] || { echo "build-job-files.sh: no sources under $repo/src" >&2; exit 1; }
# shellcheck disable=SC2086 # one source or flag a word
"$cc" $flags -M $srcs |
	tr ' \\' '\n\n' | grep '^/' | sort -u
