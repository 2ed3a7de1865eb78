#!/bin/sh
# What `make check` runs: every stage, then one closing line of counts.
#   the module layering check; unit tests; the same under ASan+UBSan; a
#   clang build of the binary and the unit tests; a short run of each fuzz
#   target; the pytest interop tests, also with gtorrent built with
#   ASan+UBSan.
cd "$(dirname "$0")/.." || exit 1
MAKE=${MAKE:-make}
# The builds run one compile per core (.ci/run says plain `make check`,
# and this script gets no jobserver from a caller's -j).
J=-j$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
log=build/check.log
mkdir -p build
: >"$log"
passed=0
failed=0
stages_failed=

# count LINE: adds "N passed, M failed" from the stage's closing line
count() {
	p=$(printf '%s\n' "$1" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
	f=$(printf '%s\n' "$1" | grep -oE '[0-9]+ (failed|error)' |
	    cut -d' ' -f1 | head -n 1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
}

stage() {
	name=$1
	shift
	echo "== $name"
	"$@" >"build/stage.out" 2>&1
	rc=$?
	cat build/stage.out >>"$log"
	grep -E '^(unit|fuzz|layers)[: ]|^clang:|^[0-9]+ (passed|failed)' \
	    build/stage.out
	grep -E '^(SKIPPED|XFAIL) ' build/stage.out
	last=$(grep -E \
	    '^(unit|fuzz|layers): [0-9]+ passed|^[0-9]+ (passed|failed)' \
	    build/stage.out | tail -n 1)
	count "$last"
	if [ $rc -ne 0 ]; then
		tail -n 60 build/stage.out
		[ -z "$last" ] && failed=$((failed + 1))
		stages_failed="$stages_failed $name"
	fi
}

$MAKE --no-print-directory $J gtorrent || exit 1
stage layers $MAKE --no-print-directory check-layers
stage unit $MAKE --no-print-directory $J check-unit
stage unit-asan $MAKE --no-print-directory $J check-unit \
    SAN=address,undefined
stage clang sh -c "$MAKE --no-print-directory $J check-clang >/dev/null &&
    echo 'clang: gtorrent and the unit tests build warning-free with clang'"
stage fuzz $MAKE --no-print-directory $J check-fuzz
stage interop $MAKE --no-print-directory check-interop
stage interop-asan $MAKE --no-print-directory $J check-interop \
    SAN=address,undefined

# why tests were skipped (pytest -rsx, Criterion's cr_skip_test), once each
skips=$(grep -E '^(SKIPPED|XFAIL) |^unit +skipped: ' "$log" | sort -u)
if [ -n "$skips" ]; then
	echo "skipped, and why:"
	printf '%s\n' "$skips" | sed 's/^/  /'
fi
[ -n "$stages_failed" ] && echo "failed stages:$stages_failed (full log: $log)"
echo "check: $passed passed, $failed failed"
[ -z "$stages_failed" ] && [ "$failed" -eq 0 ]
