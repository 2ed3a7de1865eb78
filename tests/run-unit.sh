#!/bin/sh
# Runs Criterion test binaries; prints one line per binary and the totals.
# Usage: run-unit.sh BIN...
fail=0
passed=0
failed=0
for t in "$@"; do
	out=$("$t" --jobs 2 2>&1)
	rc=$?
	syn=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	p=$(printf '%s\n' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s\n' "$syn" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
	p=${p:-0}
	nf=0
	for x in $f; do nf=$((nf + x)); done
	if [ $rc -ne 0 ] || [ -z "$syn" ]; then
		printf '%s\n' "$out" | grep -v '^\[----\]' | tail -n 40
		[ $nf -eq 0 ] && nf=1
		fail=1
	fi
	passed=$((passed + p))
	failed=$((failed + nf))
	printf 'unit %-28s %s\n' "$(basename "$t")" "${syn:-no result (exit $rc)}"
done
echo "unit: $passed passed, $failed failed"
exit $fail
