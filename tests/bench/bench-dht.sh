#!/bin/sh
# bench-dht.sh - the DHT simulator (tests/sim/dht-sim.c) at internet-like
# scale: 10,000 real dht nodes, 25 % behind NATs, 1 % loss, 20 %/hour churn,
# a King-like spread of round trips; prints get_peers lookup latency (to the
# first announced peer and to done), queries per lookup, the share of
# lookups that find the peer and the routing tables' health, each beside
# the goal (median < 150 ms, p99 < 1 s, <= 60 queries, >= 99 %).
#
# Environment: DHT_SIM (default build/dht-sim), BENCH_DHT_NODES (default
# 10000: ~530 MB and 2-4 minutes; 100000: 8.7 GB and 40 minutes),
# BENCH_DHT_LOOKUPS (default 1000), BENCH_DHT_CHURN (% an hour, default
# 20), BENCH_DHT_SEED (default 1), BENCH_DHT_ARGS (more dht-sim options,
# e.g. "--json"), BENCH_STRICT=1 to exit 1 when a goal is missed.
set -eu

SIM=${DHT_SIM:-$PWD/build/dht-sim}
NODES=${BENCH_DHT_NODES:-10000}
LOOKUPS=${BENCH_DHT_LOOKUPS:-1000}
CHURN=${BENCH_DHT_CHURN:-20}
SEED=${BENCH_DHT_SEED:-1}
STRICT=${BENCH_STRICT:-0}

die() { printf 'bench-dht: %s\n' "$*" >&2; exit 1; }

[ -x "$SIM" ] || die "no simulator at $SIM (run make build/dht-sim)"
strict=
[ "$STRICT" = 1 ] && strict=--strict
printf 'bench-dht: %s nodes, %s lookups, churn %s %%/h, seed %s\n' \
    "$NODES" "$LOOKUPS" "$CHURN" "$SEED"
# shellcheck disable=SC2086
exec "$SIM" --nodes "$NODES" --lookups "$LOOKUPS" --churn "$CHURN" \
    --seed "$SEED" $strict ${BENCH_DHT_ARGS:-}
