#!/bin/sh
# Runs each libFuzzer target for SECONDS, all at once (one process each).
# Usage: run.sh SECONDS TARGET...   (binaries are build-fuzz/fuzz-TARGET)
# A crash, leak, timeout or sanitizer report fails the run; the input that
# caused it is left in build-fuzz/ as crash-* / leak-* / timeout-*.
secs=$1
shift
cd "$(dirname "$0")/../.." || exit 1
pids=
for t in "$@"; do
	corpus=build-fuzz/corpus-$t
	mkdir -p "$corpus"
	dict=
	[ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
	seeds=
	[ -d "tests/fuzz/seeds-$t" ] && seeds="tests/fuzz/seeds-$t"
	# shellcheck disable=SC2086
	"build-fuzz/fuzz-$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
	    -artifact_prefix="build-fuzz/$t-" $dict "$corpus" $seeds \
	    >"build-fuzz/fuzz-$t.log" 2>&1 &
	pids="$pids $!:$t"
done
passed=0
failed=0
for pt in $pids; do
	pid=${pt%%:*}
	t=${pt#*:}
	if wait "$pid"; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "build-fuzz/fuzz-$t.log")
		echo "fuzz $t: ${runs:-?} runs in ${secs}s, no finding"
		passed=$((passed + 1))
	else
		echo "fuzz $t: FINDING (log: build-fuzz/fuzz-$t.log)"
		grep -E 'ERROR|SUMMARY|Test unit written' \
		    "build-fuzz/fuzz-$t.log" | head -n 10
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
