#!/bin/sh
# run.sh - what `make bench` runs: every benchmark in turn, from the repo root.
# Usage: sh tests/bench/run.sh [NAME...]   (default: all; NAME = create,
# download, swarm, dht, many)
# Environment: GTORRENT (default ./gtorrent), BENCH_DIR (default /tmp),
# BENCH_THREADS (default nproc), BENCH_RUNS (default 3), BENCH_STRICT=1 to
# fail when a speed goal is missed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
GTORRENT=${GTORRENT:-$PWD/gtorrent}
export GTORRENT

benches=${*:-create download swarm dht many}
rc=0
for b in $benches; do
	if [ ! -f "$here/bench-$b.sh" ]; then
		echo "bench: no such benchmark: $b" >&2
		rc=1
		continue
	fi
	sh "$here/bench-$b.sh" || rc=1
done
exit $rc
