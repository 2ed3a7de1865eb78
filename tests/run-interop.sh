#!/bin/sh
# Runs the interop tests (tests/interop, pytest under /usr/bin/python3)
# against the gtorrent binary named by $GTORRENT (an absolute path).
# Usage: GTORRENT=/abs/path/to/gtorrent sh tests/run-interop.sh [PYTEST-ARGS]
# Each test is bounded by an alarm in conftest.py (INTEROP_TIMEOUT seconds,
# default 90) and by pytest's faulthandler, which dumps the stacks of a
# test that runs over; the whole run by INTEROP_SUITE_TIMEOUT (default 900).
# The tests mostly wait on timers and peers (a third of 2 cores busy at 3
# workers, ASan build included), so they run INTEROP_JOBS (default 5) at
# a time with pytest-xdist, each worker with ports of its
# own (tests/interop/ports.py), the tests of one xdist_group (a shared
# DHT) on one worker; those marked serial (they measure CPU or
# rates) run alone afterwards, and one closing line counts both passes.
# INTEROP_JOBS=1, or no pytest-xdist: one pass, one test at a time.
# Exit: pytest's code, except that "no tests collected" (5) is a failure.

cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-/usr/bin/python3}
: "${INTEROP_TIMEOUT:=90}"
: "${INTEROP_SUITE_TIMEOUT:=900}"
: "${INTEROP_JOBS:=5}"
export INTEROP_TIMEOUT PYTHONDONTWRITEBYTECODE=1

if [ -z "$GTORRENT" ]; then
	GTORRENT=$(pwd)/gtorrent
fi
case $GTORRENT in
/*) ;;
*) GTORRENT=$(pwd)/$GTORRENT ;;
esac
export GTORRENT
if [ ! -x "$GTORRENT" ]; then
	echo "run-interop.sh: no executable gtorrent at $GTORRENT" >&2
	exit 1
fi
if ! "$PYTHON" -c 'import pytest' 2>/dev/null; then
	echo "run-interop.sh: pytest is not installed for $PYTHON" >&2
	exit 1
fi

# run_pytest SECS ARGS...: pytest, bounded by SECS when timeout(1) exists
run_pytest() {
	secs=$1
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 10 "$secs" "$PYTHON" -m pytest "$@"
	else
		"$PYTHON" -m pytest "$@"
	fi
}

# pass N SECS ARGS...: run_pytest, output shown and kept in $tmp/N, exit
# code in $tmp/N.rc
pass() {
	n=$1
	shift
	{ run_pytest "$@"; echo $? >"$tmp/$n.rc"; } 2>&1 | tee "$tmp/$n"
}

# the closing line of a pass ("1 failed, 80 passed, 1 skipped in 20.5s")
closing() {
	grep -E '^[0-9]+ [a-z]+.* in [0-9.]+s' "$tmp/$1" | tail -n 1
}

# -rsx: every skipped or xfailed test with its reason, in the closing
# summary of each pass (run-check.sh lists them again at the end)
set -- -q -rsx -p no:cacheprovider \
    -o faulthandler_timeout=$((INTEROP_TIMEOUT + 5)) tests/interop "$@"
if [ "$INTEROP_JOBS" -le 1 ] || ! "$PYTHON" -c 'import xdist' 2>/dev/null
then
	[ "$INTEROP_JOBS" -le 1 ] ||
	    echo "run-interop.sh: no pytest-xdist: one test at a time" >&2
	run_pytest "$INTEROP_SUITE_TIMEOUT" "$@"
	rc=$?
else
	t0=$(date +%s)
	tmp=$(mktemp -d) || exit 1
	pass 1 "$INTEROP_SUITE_TIMEOUT" -n "$INTEROP_JOBS" --dist loadgroup \
	    -m 'not serial' "$@"
	left=$((INTEROP_SUITE_TIMEOUT - ($(date +%s) - t0)))
	[ "$left" -lt 60 ] && left=60
	pass 2 "$left" -m serial "$@"
	rc1=$(cat "$tmp/1.rc")
	rc2=$(cat "$tmp/2.rc")
	secs=$(($(date +%s) - t0))
	{ closing 1; closing 2; } | awk -v secs="$secs" '
	    {	sub(/ in [0-9.]+s.*/, "")
		n = split($0, part, ", ")
		for (i = 1; i <= n; i++) {
			split(part[i], w, " ")
			k = w[2]
			if (k == "errors") k = "error"
			if (k == "warnings") k = "warning"
			c[k] += w[1]
		}
	    }
	    END {
		m = split("failed passed skipped xfailed xpassed warning error",
		    order, " ")
		out = ""
		for (i = 1; i <= m; i++) {
			k = order[i]
			if (!(k in c))
				continue
			name = k
			if ((k == "warning" || k == "error") && c[k] != 1)
				name = k "s"
			out = out (out == "" ? "" : ", ") c[k] " " name
		}
		if (out != "")
			printf "%s in %ds (interop: both passes)\n", out, secs
	    }'
	rm -rf "$tmp"
	rc=0
	for r in $rc1 $rc2; do
		case $r in
		0|5) ;;
		*) [ "$rc" -eq 0 ] && rc=$r ;;
		esac
	done
	[ "$rc1" = 5 ] && [ "$rc2" = 5 ] && rc=5
fi
case $rc in
5)	echo "run-interop.sh: no tests were collected" >&2
	rc=1 ;;
124|137)
	echo "run-interop.sh: interop tests ran over" \
	    "${INTEROP_SUITE_TIMEOUT}s" >&2 ;;
esac
exit $rc
