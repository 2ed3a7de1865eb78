#!/bin/sh
# bench-swarm.sh - the swarm laboratory: one rate-limited seed and N
# rate-limited leechers on loopback, gtorrent swarms beside libtorrent
# swarms, against the fluid model's minimum time T_min (Kumar & Ross 2006),
# in five cases: homogeneous, a free-rider, super-seeding, a snubbing peer,
# -b.  Prints a table with the goal beside each figure and writes one PNG
# per case into $BENCH_DIR/gtorrent-bench-swarm.  The work is done by
# swarm_lab.py (see its docstring for how each figure is measured).
#
# Environment: GTORRENT (default ./gtorrent), BENCH_DIR (default /tmp),
# BENCH_SWARM_N (default "8,16"), BENCH_SWARM_MIB (F, default 64),
# BENCH_SWARM_CASES (e.g. "1,3"; default 1,2,3,4,5), BENCH_SWARM_CLIENTS
# (default "gt,lt"), BENCH_SWARM_US / BENCH_SWARM_U / BENCH_SWARM_D (KiB/s;
# default 1024, 1024, 4096), BENCH_STRICT=1 to exit 1 when a goal is missed.
set -eu

GTORRENT=${GTORRENT:-$PWD/gtorrent}
export GTORRENT
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)

die() { printf 'bench-swarm: %s\n' "$*" >&2; exit 1; }

[ -x "$GTORRENT" ] || die "no gtorrent binary at $GTORRENT (run make)"
[ -x "$PY" ] || die "python3 is not installed (sh .ci/install-deps test)"
"$PY" -c 'import libtorrent' 2>/dev/null ||
    die "python3-libtorrent is not installed (sh .ci/install-deps test)"
command -v opentracker >/dev/null 2>&1 ||
    die "opentracker is not installed (sh .ci/install-deps test)"
command -v gnuplot >/dev/null 2>&1 ||
    printf 'bench-swarm: no gnuplot: no PNGs (sh .ci/install-deps test)\n' >&2

# python runs unbuffered so the progress lines show as they come
exec "$PY" -u "$here/swarm_lab.py"
