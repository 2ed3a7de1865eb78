#!/bin/sh
# `make demo`: make a sample folder, create its torrent, show it, verify the
# data, then flip one byte and watch verify find it.  Offline; cleans up.
set -eu
cd "$(dirname "$0")/.."
G=./gtorrent
d=$(mktemp -d "${TMPDIR:-/tmp}/gtorrent-demo.XXXXXX")
trap 'rm -rf "$d"' EXIT INT TERM

mkdir -p "$d/sample/docs" "$d/sample/data/empty-dir-sibling"
printf 'gtorrent demo payload\n' >"$d/sample/README.txt"
head -c 3000000 /dev/urandom >"$d/sample/data/random.bin"
head -c 262144 /dev/urandom >"$d/sample/data/one-piece.bin"
: >"$d/sample/data/empty-dir-sibling/empty.txt"
seq 1 20000 >"$d/sample/docs/numbers.txt"

step() {
	if [ -t 1 ]; then
		printf '\n\033[1m$ %s\033[0m\n' "$*"
	else
		printf '\n$ %s\n' "$*"
	fi
}

step gtorrent create -a http://127.0.0.1:6969/announce -c "gtorrent demo" \
    -l 18 -o sample.torrent sample
$G create -a http://127.0.0.1:6969/announce -c "gtorrent demo" -l 18 \
    -o "$d/sample.torrent" "$d/sample"

step gtorrent info sample.torrent
$G info "$d/sample.torrent"

step gtorrent verify -o . sample.torrent
$G verify -o "$d" "$d/sample.torrent"

step "flip one byte at offset 1000000 of sample/data/random.bin"
printf 'X' | dd of="$d/sample/data/random.bin" bs=1 seek=1000000 \
    conv=notrunc status=none

step gtorrent verify -o . sample.torrent
if $G verify -o "$d" "$d/sample.torrent"; then
	echo "demo: verify missed the flipped byte" >&2
	exit 1
fi
printf '\ndemo: done (verify found the bad piece and exited 1, as it should)\n'
