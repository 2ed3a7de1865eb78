#!/bin/sh
# bench-many.sh - issue 12's scale goal: one gtorrent process downloading
# 100 torrents at once (mixed sizes from 16 KiB to 8 MiB, some multi-file,
# piece sizes 16 KiB to 1 MiB, about 190 MiB in all) on loopback from two
# `gtorrent seed` processes and a libtorrent session (1 to 3 seeders a
# torrent), while a libtorrent leecher fetches 10 of them from it; then
# idle, first with the seeders still up, then alone.  Prints the wall time
# to the last completion, the leecher's peak anonymous RSS during the
# download and while idle, its idle CPU (percent of a core over
# BENCH_IDLE s), wakeups and connections, the seeders' figures for
# information, and the goal beside each figure.  The work is done by
# bench_many.py (see its docstring for how each figure is measured).
#
# Environment: GTORRENT (default ./gtorrent), BENCH_DIR (default /tmp),
# BENCH_MANY_N (torrents, default 100), BENCH_MANY_MAX_PEERS (the
# processes' --max-peers, default 400), BENCH_IDLE (seconds of each idle
# window, default 30), BENCH_TIMEOUT (seconds the download may take,
# default 300), BENCH_SAMPLE (seconds between /proc samples, default
# 0.15), BENCH_STRACE=1 (strace -c the idle leecher for 10 s after the
# windows), BENCH_STRICT=1 to exit 1 when a goal is missed.
set -eu

GTORRENT=${GTORRENT:-$PWD/gtorrent}
export GTORRENT
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)

die() { printf 'bench-many: %s\n' "$*" >&2; exit 1; }

[ -x "$GTORRENT" ] || die "no gtorrent binary at $GTORRENT (run make)"
[ -x "$PY" ] || die "python3 is not installed (sh .ci/install-deps test)"
"$PY" -c 'import libtorrent' 2>/dev/null ||
    die "python3-libtorrent is not installed (sh .ci/install-deps test)"

# python runs unbuffered so the progress lines show as they come
exec "$PY" -u "$here/bench_many.py"
