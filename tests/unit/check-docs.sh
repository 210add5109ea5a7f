#!/usr/bin/env bash
# Every ```yaml block of docs/policy.md must be a policy that `actgate policy
# check` accepts without error, and every shipped policy under policies/ too,
# all together (so names stay unique). Prints "docs: N passed, N failed".
set -uo pipefail

actgate=${1:?usage: check-docs.sh PATH/TO/actgate}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

awk -v dir="$work" '
	/^```yaml[ \t]*$/ { n++; file = sprintf("%s/policy-md-%02d.yaml", dir, n); inside = 1; next }
	/^```/ && inside { inside = 0; close(file); next }
	inside { print > file }
' "$root/docs/policy.md"
count=$(find "$work" -name '*.yaml' | wc -l)
passed=0
failed=0
if [ "$count" -eq 0 ]; then
	echo "docs: no yaml examples found in docs/policy.md" >&2
	failed=1
fi
for f in "$work"/*.yaml "$root"/policies/*.yaml; do
	[ -e "$f" ] || continue
	case $f in *.test.yaml) continue ;; esac
	if "$actgate" policy check "$f" >/dev/null 2>"$work/err"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL  $f:" >&2
		cat "$work/err" >&2
	fi
done
if ! "$actgate" policy check "$work" "$root/policies" >/dev/null 2>"$work/err"; then
	failed=$((failed + 1))
	echo "FAIL  docs examples and shipped policies together:" >&2
	cat "$work/err" >&2
else
	passed=$((passed + 1))
fi
# The shipped policies' own tests (docs/policy-tests.md).
if ! "$actgate" policy test "$root/policies" >"$work/out" 2>&1; then
	failed=$((failed + 1))
	echo "FAIL  policy tests of the shipped policies:" >&2
	cat "$work/out" >&2
else
	passed=$((passed + 1))
fi
echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
