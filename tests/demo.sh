#!/bin/sh
# `make demo`: a swarm on loopback.  Makes a 64 MiB folder, creates its
# torrent for an opentracker on 127.0.0.1, seeds it with one gtorrent and
# downloads it with another through the tracker, checks the copy, then stops
# the seeder.  Everything runs in a temporary folder that is removed at the
# end, every process is stopped by PID, and nothing leaves 127.0.0.1 (the
# DHT, on by default, is turned off with --no-dht: its bootstrap nodes are
# public routers).
set -eu
cd "$(dirname "$0")/.."
root=$PWD
G=$root/gtorrent
PY=/usr/bin/python3
DL_TIMEOUT=${DEMO_TIMEOUT:-120}

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ -x "$G" ] || die "no ./gtorrent (run make first)"
if ! command -v opentracker >/dev/null 2>&1 || [ ! -x "$PY" ]; then
	say "opentracker or python3 is missing: running .ci/install-deps test"
	sh .ci/install-deps test || die "could not install the test packages"
	command -v opentracker >/dev/null 2>&1 || die "opentracker not found"
fi

d=$(mktemp -d "${TMPDIR:-/tmp}/gtorrent-demo.XXXXXX")
tracker_pid=
seed_pid=
cleanup() {
	for p in $seed_pid $tracker_pid; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$d"

step() {
	if [ -t 1 ]; then
		printf '\n\033[1m$ %s\033[0m\n' "$*"
	else
		printf '\n$ %s\n' "$*"
	fi
}
# Shows "$ gtorrent ARGS" (quoting arguments with spaces) and runs it.
gt() {
	shown=gtorrent
	for a in "$@"; do
		case $a in
		*" "*)	shown="$shown '$a'" ;;
		*)	shown="$shown $a" ;;
		esac
	done
	step "$shown"
	"$G" "$@"
}

# Sets variable $1 to a TCP and UDP port on 127.0.0.1 that no socket uses
# now and that this script has not handed out yet.
used=
freeport() {
	i=0
	while [ $i -lt 200 ]; do
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((20000 + r % 40000))
		hex=$(printf ':%04X ' "$p")
		case " $used " in *" $p "*) i=$((i + 1)); continue ;; esac
		if ! cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp \
		    /proc/net/udp6 2>/dev/null | awk '{ print $2 " " }' |
		    grep -q -- "$hex"; then
			used="$used $p"
			eval "$1=$p"
			return 0
		fi
		i=$((i + 1))
	done
	die "no free port found"
}
tport='' sport='' lport=''
freeport tport
freeport sport
freeport lport
announce=http://127.0.0.1:$tport/announce

step "make a 64 MiB folder: payload/ (4 files)"
mkdir -p payload/video payload/docs
head -c 41943040 /dev/urandom >payload/video/talk.bin
head -c 24000000 /dev/urandom >payload/archive.bin
printf 'gtorrent demo payload\n' >payload/docs/README.txt
seq 1 200000 >payload/docs/numbers.txt
du -sh payload

gt create -a "$announce" -c "gtorrent demo" -o payload.torrent payload
ih=$("$G" info --json payload.torrent |
    sed -n 's/.*"info_hash": "\([0-9a-f]*\)".*/\1/p')
[ -n "$ih" ] || die "no info-hash from gtorrent info --json"

gt info payload.torrent

# Debian's opentracker serves only the torrents of its whitelist; it chroots
# to its folder and, as root, drops to nobody, so the folder is world-readable.
step "opentracker -i 127.0.0.1 -p $tport -P $tport -d tracker" \
    "-w whitelist.txt &"
mkdir tracker
chmod 755 tracker
echo "$ih" >tracker/whitelist.txt
chmod 644 tracker/whitelist.txt
(cd tracker && exec opentracker -i 127.0.0.1 -p "$tport" -P "$tport" \
    -d "$d/tracker" -w whitelist.txt) >tracker.log 2>&1 </dev/null &
tracker_pid=$!

# Seeders and leechers on the tracker, from its scrape; waits up to $2 s for
# at least $1 seeders.
wait_seeders() {
	"$PY" - "$tport" "$ih" "$1" "$2" <<'EOF'
import sys, time, urllib.parse, urllib.request
port, ih, want, limit = sys.argv[1], bytes.fromhex(sys.argv[2]), \
    int(sys.argv[3]), float(sys.argv[4])
url = "http://127.0.0.1:%s/scrape?info_hash=%s" % (
    port, urllib.parse.quote_from_bytes(ih))
deadline = time.monotonic() + limit
while True:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            body = r.read()
        if want == 0:
            sys.exit(0)
        # d5:filesd20:<ih>d8:completei<N>e...
        k = body.find(b"8:completei")
        if k >= 0 and int(body[k + 11:body.index(b"e", k + 11)]) >= want:
            sys.exit(0)
    except (OSError, ValueError):
        pass
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.1)
EOF
}
wait_seeders 0 10 || die "opentracker did not start (see below)
$(cat tracker.log)"
echo "tracker up at $announce"

step "gtorrent seed --no-dht -o . -p $sport payload.torrent >seed.log 2>&1 &"
"$G" seed --no-dht -o . -p "$sport" payload.torrent >seed.log 2>&1 </dev/null &
seed_pid=$!
if ! wait_seeders 1 30; then
	cat seed.log
	die "the seeder did not reach the tracker"
fi
echo "seeder running (pid $seed_pid), announced to the tracker"

step "timeout $DL_TIMEOUT gtorrent download --no-dht -o downloads" \
    "-p $lport payload.torrent"
rc=0
timeout "$DL_TIMEOUT" "$G" download --no-dht -o downloads -p "$lport" \
    payload.torrent || rc=$?
[ "$rc" = 0 ] || die "the download failed (exit $rc)"

gt verify -o downloads payload.torrent

step diff -r payload downloads/payload
diff -r payload downloads/payload
echo "identical"

step "kill -INT $seed_pid   (the seeder)"
kill -INT "$seed_pid"
i=0
while kill -0 "$seed_pid" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
src=0
if kill -0 "$seed_pid" 2>/dev/null; then
	kill -KILL "$seed_pid" 2>/dev/null || true
	die "the seeder did not stop within 10 s"
fi
wait "$seed_pid" || src=$?
seed_pid=
grep 'stopped:' seed.log || { cat seed.log; die "no summary from the seeder"; }
echo "(exit status $src)"

step "flip one byte of downloads/payload/archive.bin, at offset 1000000"
printf 'X' | dd of=downloads/payload/archive.bin bs=1 seek=1000000 \
    conv=notrunc status=none
step gtorrent verify -q -o downloads payload.torrent
if "$G" verify -q -o downloads payload.torrent; then
	die "verify missed the flipped byte"
fi

printf '\ndemo: done\n'
