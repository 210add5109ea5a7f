#!/usr/bin/env bash
# Run the cmocka unit-test binaries given as arguments; print each one's
# result and a closing "unit: N passed, N failed"; exit non-zero on any failure.
# UNIT_WRAPPER, when set, runs before each binary (e.g. valgrind and its options).
set -uo pipefail

read -r -a wrapper <<<"${UNIT_WRAPPER:-}"

passed=0
failed=0
broken=0
for bin in "$@"; do
	out=$("${wrapper[@]}" "$bin" 2>&1)
	status=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		# Crashed or exited before cmocka's summary: count the binary as one failure.
		f=1
		broken=$((broken + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		printf '%s\n' "$out"
		printf 'FAIL  %s (%s passed, %s failed, exit %s)\n' "${bin##*/}" "$p" "$f" "$status"
	else
		printf 'PASS  %s (%s tests)\n' "${bin##*/}" "$p"
	fi
done
[ $# -gt 0 ] || { echo "unit: no test binaries given" >&2; exit 1; }
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
