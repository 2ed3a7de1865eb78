#!/bin/sh
# bench-download.sh - gtorrent downloading a 1 GiB torrent (256 KiB pieces) on
# loopback, against aria2c, ctorrent and a libtorrent leecher, from one and
# from four libtorrent seeders; then gtorrent -> gtorrent against
# libtorrent -> libtorrent; then gtorrent, libtorrent and aria2c from a
# magnet against the same download from the .torrent; then gtorrent as
# the seeder (a libtorrent leecher fetching from gtorrent, libtorrent,
# aria2c or rTorrent seeding); gtorrent from 20 seeders at once; a
# gtorrent seed with 1,000 connected peers (peer_flood.py); `gtorrent
# verify` against the machine's SHA-1 (sha1speed.c, openssl speed).
# Prints wall time, MiB/s, time to first data, CPU seconds per GiB, peak
# anonymous RSS, gtorrent's ratios to the best of the others, and issue
# 14's goals with PASS/MISS beside each figure and together at the end.
# The work is done by bench_download.py (its docstring says how each
# figure is measured).
#
# Environment: GTORRENT (default ./gtorrent), BENCH_DIR (default /tmp),
# BENCH_RUNS (default 3), BENCH_SWARM_MIB (payload size, default 1024),
# BENCH_MAGNET_MIB (the magnet case's payload, default 256), BENCH_CASES
# (e.g. "1,2" or "seed,recheck"; default all: 1 one seeder, 2 four, 3
# same client, 4 magnet, 5 seed, 6 many seeders, 7 1000 peers, 8
# recheck), BENCH_HEAVY_RUNS (case 6's runs, default 2), BENCH_MANY_LT
# and BENCH_MANY_GT (case 6's libtorrent and gtorrent seeders, default 10
# each), BENCH_FLOOD_PEERS (default 1000), BENCH_FLOOD_SECS (case 7's
# traffic, default 10), BENCH_CLIENTS (e.g. "gtorrent,aria2c"),
# BENCH_TIMEOUT (seconds a download may take, default 120), BENCH_STRICT=1
# to exit 1 when a goal is missed.
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

# case 7 holds 1,000 connections in gtorrent and as many in peer_flood.py
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] ||
    ulimit -n 4096 2>/dev/null ||
    printf 'bench-download: warning: cannot raise the open files limit\n' >&2

# python runs unbuffered so the progress lines show as they come
exec "$PY" -u "$here/bench_download.py"
