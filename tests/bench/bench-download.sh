#!/bin/sh
# bench-download.sh - gtorrent downloading a 1 GiB torrent (256 KiB pieces) on
# loopback, against aria2c, ctorrent and a libtorrent leecher, from one and
# from four libtorrent seeders; then gtorrent -> gtorrent against
# libtorrent -> libtorrent; then gtorrent, libtorrent and aria2c from a
# magnet against the same download from the .torrent.  Prints wall time,
# MiB/s, time to first data, CPU seconds per GiB, peak anonymous RSS, and
# gtorrent's ratios to the best of the others; for the magnet case, first
# data and wall of both and the magnet's extra.  The work is done by
# bench_download.py.
#
# Environment: GTORRENT (default ./gtorrent), BENCH_DIR (default /tmp),
# BENCH_RUNS (default 3), BENCH_SWARM_MIB (payload size, default 1024),
# BENCH_MAGNET_MIB (the magnet case's payload, default 256), BENCH_CASES
# (e.g. "1,2" or "4"; default all: 1 one seeder, 2 four, 3 same client,
# 4 magnet), BENCH_CLIENTS (e.g. "gtorrent,aria2c"), BENCH_TIMEOUT
# (seconds a download may take, default 120), BENCH_STRICT=1 to exit 1
# when a goal is missed.
set -eu

GTORRENT=${GTORRENT:-$PWD/gtorrent}
export GTORRENT
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)

die() { printf 'bench-download: %s\n' "$*" >&2; exit 1; }

[ -x "$GTORRENT" ] || die "no gtorrent binary at $GTORRENT (run make)"
[ -x "$PY" ] || die "python3 is not installed (sh .ci/install-deps test)"
"$PY" -c 'import libtorrent' 2>/dev/null ||
    die "python3-libtorrent is not installed (sh .ci/install-deps test)"

# python runs unbuffered so the progress lines show as they come
exec "$PY" -u "$here/bench_download.py"
