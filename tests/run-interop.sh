#!/bin/sh
# Runs the interop tests (tests/interop, pytest under /usr/bin/python3)
# against the gtorrent binary named by $GTORRENT (an absolute path).
# Usage: GTORRENT=/abs/path/to/gtorrent sh tests/run-interop.sh [PYTEST-ARGS]
# Each test is bounded by an alarm in conftest.py (INTEROP_TIMEOUT seconds,
# default 90) and by pytest's faulthandler, which dumps the stacks of a
# test that runs over; the whole run by INTEROP_SUITE_TIMEOUT (default 900).
# Exit: pytest's code, except that "no tests collected" (5) is a failure.

cd "$(dirname "$0")/.." || exit 1
PYTHON=${PYTHON:-/usr/bin/python3}
: "${INTEROP_TIMEOUT:=90}"
: "${INTEROP_SUITE_TIMEOUT:=900}"
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

set -- -q -p no:cacheprovider \
    -o faulthandler_timeout=$((INTEROP_TIMEOUT + 5)) tests/interop "$@"
if command -v timeout >/dev/null 2>&1; then
	timeout -k 10 "$INTEROP_SUITE_TIMEOUT" "$PYTHON" -m pytest "$@"
else
	"$PYTHON" -m pytest "$@"
fi
rc=$?
case $rc in
5)	echo "run-interop.sh: no tests were collected" >&2
	rc=1 ;;
124|137)
	echo "run-interop.sh: interop tests ran over" \
	    "${INTEROP_SUITE_TIMEOUT}s" >&2 ;;
esac
exit $rc
