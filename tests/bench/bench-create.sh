#!/bin/sh
# bench-create.sh - `gtorrent create` against mktorrent on a >= 2 GiB payload
# in the page cache, same threads and piece length (1 MiB), best of N runs;
# then both against the SHA-1 limit (openssl speed x threads).  Checks that
# both torrents have the same info-hash.
#
# Environment: GTORRENT (default ./gtorrent), BENCH_DIR (default /tmp),
# BENCH_THREADS (default nproc), BENCH_RUNS (default 3), BENCH_MIB (payload
# size, default 2048), BENCH_STRICT=1 to exit 1 when a goal is missed.
set -eu

GTORRENT=${GTORRENT:-$PWD/gtorrent}
T=${BENCH_THREADS:-$(nproc)}
RUNS=${BENCH_RUNS:-3}
MIB=${BENCH_MIB:-2048}
STRICT=${BENCH_STRICT:-0}
PY=/usr/bin/python3

say() { printf 'bench-create: %s\n' "$*"; }
die() { printf 'bench-create: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

[ -x "$GTORRENT" ] || die "no gtorrent binary at $GTORRENT (run make)"
command -v mktorrent >/dev/null 2>&1 || die "mktorrent is not installed"

work=$(mktemp -d "${BENCH_DIR:-/tmp}/gtorrent-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
payload=$work/payload
mkdir -p "$payload/sub"

# Random bytes quickly: AES-CTR of zeros, else the kernel's generator.
fill() {
	if command -v openssl >/dev/null 2>&1; then
		openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass pass:gtorrent \
		    -in /dev/zero 2>/dev/null | head -c "$2" > "$1"
	else
		head -c "$2" /dev/urandom > "$1"
	fi
}

# Two big files and a few small ones, sizes off piece boundaries so pieces
# span files.
half=$((MIB * 1048576 / 2))
say "making a $MIB MiB payload in $work"
fill "$payload/big-1.bin" $((half + 4321))
fill "$payload/sub/big-2.bin" $((half - 4321 + 777))
fill "$payload/sub/small.bin" 1000003
fill "$payload/README" 4567
: > "$payload/sub/empty"
total=$(find "$payload" -type f -exec stat -c %s {} + | awk '{ s += $1 }
    END { printf "%.0f\n", s }')
nfiles=$(find "$payload" -type f | wc -l)
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
[ "$avail" -gt $((total / 1048576 + 512)) ] ||
    say "warning: ${avail} MiB of free memory; the payload may not stay cached"
sync
cat "$payload/big-1.bin" "$payload/sub/big-2.bin" "$payload/sub/small.bin" \
    "$payload/README" > /dev/null

run_gt() {
	"$GTORRENT" create -t "$T" -l 20 -f -o "$work/g.torrent" "$payload" \
	    > /dev/null 2> "$work/g.err" ||
	    { cat "$work/g.err" >&2; die "gtorrent create failed"; }
}
run_mk() {
	rm -f "$work/m.torrent"
	mktorrent -t "$T" -l 20 -o "$work/m.torrent" "$payload" \
	    > /dev/null 2> "$work/m.err" ||
	    { cat "$work/m.err" >&2; die "mktorrent failed"; }
}
# Children's user + system seconds from the `times` saved in file $1.
cpusecs() {
	awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m");
	    sub(/s$/, "", a[2]); t += a[1] * 60 + a[2] } printf "%.3f\n", t }' "$1"
}
# Prints "WALL CPU": the seconds one run of $1 took, and its CPU seconds.
timed() {
	times > "$work/times0"
	t0=$(now)
	"$1"
	t1=$(now)
	times > "$work/times1"
	c0=$(cpusecs "$work/times0")
	c1=$(cpusecs "$work/times1")
	calc '%.4f %.3f' "$t1 - $t0, $c1 - $c0"
}
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

load=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || echo 0)
busy=$(awk -v l="$load" 'BEGIN { print (l > 0.5) ? 1 : 0 }')
[ "$busy" = 0 ] || say "warning: load average $load: other work shares" \
    "the CPUs, so wall-clock speeds are low and noisy; see the CPU figures"

gt_best=
mk_best=
gt_cpu=
mk_cpu=
i=0
while [ $i -lt "$RUNS" ]; do
	r=$(timed run_gt)
	# shellcheck disable=SC2086
	set -- $r
	gt_best=$(best "$gt_best" "$1")
	gt_cpu=$(best "$gt_cpu" "$2")
	r=$(timed run_mk)
	# shellcheck disable=SC2086
	set -- $r
	mk_best=$(best "$mk_best" "$1")
	mk_cpu=$(best "$mk_cpu" "$2")
	say "run $((i + 1)): best so far gtorrent ${gt_best}s," \
	    "mktorrent ${mk_best}s"
	i=$((i + 1))
done

# Same info-hash?  libtorrent reads both if it is there, else gtorrent info.
infohash() {
	if "$PY" -c 'import libtorrent' 2>/dev/null; then
		"$PY" -c 'import sys, libtorrent as lt
print(str(lt.torrent_info(sys.argv[1]).info_hash()))' "$1"
	else
		"$GTORRENT" info --json "$1" |
		    sed -n 's/.*"info_hash": "\([0-9a-f]*\)".*/\1/p'
	fi
}
ih_gt=$(infohash "$work/g.torrent")
ih_mk=$(infohash "$work/m.torrent")

# SHA-1 speed of one core: the 16384-byte column, in 1000s of bytes/s.
sha_k=$(openssl speed -seconds 3 -evp sha1 2>/dev/null |
    awk '$1 == "sha1" { v = $NF; sub(/k$/, "", v); print v }')
[ -n "$sha_k" ] || die "openssl speed gave no SHA-1 figure"

size_mib=$(calc '%.1f' "$total / 1048576")
gt_rate=$(calc '%.1f' "$total / 1048576 / $gt_best")
mk_rate=$(calc '%.1f' "$total / 1048576 / $mk_best")
ratio=$(calc '%.2f' "$gt_rate / $mk_rate")
sha_mib=$(calc '%.1f' "$sha_k * 1000 / 1048576")
limit=$(calc '%.1f' "$sha_mib * $T")
pct=$(calc '%.1f' "100 * $gt_rate / $limit")
# CPU efficiency: the share of CPU time that SHA-1 at openssl speed needs;
# with perfect parallelism this is the best "of the limit" figure possible.
gt_eff=$(calc '%.1f' "100 * $total / 1048576 / $sha_mib / $gt_cpu")
mk_eff=$(calc '%.1f' "100 * $total / 1048576 / $sha_mib / $mk_cpu")
goal_ratio=$(awk -v r="$ratio" 'BEGIN { print (r >= 1.2) ? "met" : "MISSED" }')
goal_pct=$(awk -v p="$pct" 'BEGIN { print (p >= 85) ? "met" : "MISSED" }')

echo
say "payload $size_mib MiB in $nfiles files, $T threads, 1 MiB pieces," \
    "best of $RUNS"
printf '  %-28s %8s MiB/s  (%ss; CPU %ss, %s %% of it SHA-1)\n' \
    "gtorrent create" "$gt_rate" "$gt_best" "$gt_cpu" "$gt_eff"
printf '  %-28s %8s MiB/s  (%ss; CPU %ss, %s %% of it SHA-1)\n' \
    "mktorrent" "$mk_rate" "$mk_best" "$mk_cpu" "$mk_eff"
printf '  %-28s %8s        (goal >= 1.20: %s)\n' "ratio gtorrent/mktorrent" \
    "$ratio" "$goal_ratio"
printf '  %-28s %8s MiB/s  (openssl sha1 %s MiB/s x %s)\n' "SHA-1 limit" \
    "$limit" "$sha_mib" "$T"
printf '  %-28s %8s %%      (goal >= 85 %%: %s)\n' "gtorrent of the limit" \
    "$pct" "$goal_pct"
if [ -z "$ih_gt" ] || [ "$ih_gt" != "$ih_mk" ]; then
	printf '  info-hash DIFFERS: gtorrent %s, mktorrent %s\n' "$ih_gt" \
	    "$ih_mk"
	exit 1
fi
printf '  %-28s %s\n' "info-hash (both)" "$ih_gt"
if [ "$STRICT" = 1 ] &&
    { [ "$goal_ratio" != met ] || [ "$goal_pct" != met ]; }; then
	exit 1
fi
exit 0
