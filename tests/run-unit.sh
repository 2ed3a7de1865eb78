#!/bin/sh
# Runs Criterion test binaries; prints one line per binary and the totals.
# Usage: run-unit.sh BIN...
# UNIT_JOBS (default 2) binaries run at a time, each with --jobs 2: a
# binary's tests each start a process of their own (an ASan start-up in
# the sanitizer build) and some wait on timers, so one binary at a time
# leaves a core idle.  The lines come in the order given.
: "${UNIT_JOBS:=2}"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# lanes: binary i goes to lane i % UNIT_JOBS, each lane one after another
n=0
for t in "$@"; do
	n=$((n + 1))
	echo "$n $t" >>"$tmp/lane$((n % UNIT_JOBS))"
done
for lane in "$tmp"/lane*; do
	[ -f "$lane" ] || continue
	(
		while read -r i t; do
			# --verbose: Criterion names a skipped test only so
			"$t" --jobs 2 --verbose </dev/null >"$tmp/$i.out" 2>&1
			echo $? >"$tmp/$i.rc"
		done <"$lane"
	) &
done
wait

fail=0
passed=0
failed=0
skipped=0
i=0
for t in "$@"; do
	i=$((i + 1))
	out=$(cat "$tmp/$i.out" 2>/dev/null)
	rc=$(cat "$tmp/$i.rc" 2>/dev/null)
	rc=${rc:-1}
	skips=$(printf '%s\n' "$out" | sed -n 's/^\[SKIP\] //p')
	out=$(printf '%s\n' "$out" | grep -Ev '^\[(RUN |PASS|SKIP)\]|^\[====\] Running|^\[----\] Criterion v')
	syn=$(printf '%s\n' "$out" | grep 'Synthesis:' | tail -n 1)
	p=$(printf '%s\n' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s\n' "$syn" | sed -n 's/.*Failing: \([0-9]*\).*Crashing: \([0-9]*\).*/\1 \2/p')
	p=${p:-0}
	nf=0
	for x in $f; do nf=$((nf + x)); done
	if [ "$rc" -ne 0 ] || [ -z "$syn" ]; then
		printf '%s\n' "$out" | grep -v '^\[----\]' | tail -n 40
		[ $nf -eq 0 ] && nf=1
		fail=1
	fi
	passed=$((passed + p))
	failed=$((failed + nf))
	printf 'unit %-28s %s\n' "$(basename "$t")" "${syn:-no result (exit $rc)}"
	if [ -n "$skips" ]; then
		printf '%s\n' "$skips" | sed 's/^/unit     skipped: /'
		skipped=$((skipped + $(printf '%s\n' "$skips" | wc -l)))
	fi
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
exit $fail
