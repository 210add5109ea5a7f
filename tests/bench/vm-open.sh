# The open rows of vm-lookup.sh alone (BENCH_ROWS=open there): the quick
# measurement while working on the open path. Needs vm-lookup.sh beside it:
#   VMTEST_DEMO_FILES=tests/bench/vm-lookup.sh VMTEST_QEMU_ARGS="-icount shift=0,sleep=off" \
#       ./tests/vm/run.sh --kernel 6.1 --build build --demo tests/bench/vm-open.sh
BENCH_ROWS=open
. ./vm-lookup.sh
