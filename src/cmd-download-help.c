/* cmd-download-help.c - the help of `gtorrent download` and `gtorrent seed` */
#include <stdbool.h>
#include <stdio.h>

#include "cmd-download-int.h"
#include "session.h"

void
dl_usage(FILE *f, bool seed)
{
	if (seed)
		fprintf(f,
		    "usage: gtorrent seed [OPTIONS] FILE.torrent... -o DIR\n"
		    "\n"
		    "Verifies the data of each FILE.torrent under DIR and\n"
		    "seeds the complete pieces until Ctrl-C (or a seeding\n"
		    "limit), all in one session.  Data downloaded with\n"
		    "--select-file or --exclude is seeded whole with the\n"
		    "same options (what it shares with the files left out\n"
		    "is in the part file).  The options below are those\n"
		    "that apply to seeding (download's others are refused\n"
		    "or do nothing).\n");
	else
		fprintf(f,
		    "usage: gtorrent [download] [OPTIONS] SOURCE...\n"
		    "       gtorrent [download] [OPTIONS] -m 'magnet:?xt=...'\n"
		    "       gtorrent [download] [OPTIONS] -i FILE\n"
		    "\n"
		    "Downloads each SOURCE, a FILE.torrent, an http(s):// URL\n"
		    "of one (fetched first: 30 s, 5 redirects, 64 MiB at most)\n"
		    "or a magnet link (whose metadata comes from peers first),\n"
		    "into DIR from its trackers, the DHT and the peers given,\n"
		    "all in one session; checks every piece, and exits when\n"
		    "all are done (or keeps seeding with --seed).  Data\n"
		    "already in DIR is verified (or taken from the resume\n"
		    "record) and kept.\n");
	/* seed: only what applies to seeding (download-only: if (!seed)) */
	fprintf(f,
	    "\n"
	    "  -o, --output DIR      data folder (default: .; created); each\n"
	    "                        torrent's NAME goes inside it\n");
	if (!seed)
		fprintf(f,
	    "  -m, --magnet URI      download a magnet link (BEP 9): its\n"
	    "                        xt=urn:btih, tr= trackers (http, https,\n"
	    "                        udp) and x.pe= peers are used; dn is\n"
	    "                        only shown, the folder name comes from\n"
	    "                        the verified metadata (repeatable)\n");
	fprintf(f,
	    "  -i, --input-file FILE the sources, one a line (- : stdin);\n"
	    "                        blank lines and lines starting with #\n"
	    "                        are skipped\n");
	if (!seed)
		fprintf(f,
	    "      --metadata-only   with magnets: fetch only the metadata\n"
	    "                        and write DIR/NAME.torrent (its path\n"
	    "                        on stdout)\n");
	fprintf(f,
	    "      --recheck         ignore the resume record and verify the\n"
	    "                        data on disk\n");
	if (!seed)
		fprintf(f,
	    "      --preallocate     reserve each file's whole size at the\n"
	    "                        start (a shortfall fails before any peer\n"
	    "                        is contacted; sparse files otherwise)\n");
	fprintf(f,
	    "      --no-pex          no peer exchange (BEP 11; never for\n"
	    "                        private torrents)\n"
	    "  -d, --dht             find peers and announce on the DHT\n"
	    "                        (BEP 5; default, never for private\n"
	    "                        torrents)\n"
	    "      --no-dht          do not use the DHT\n"
	    "      --dht-port N      the DHT's UDP port (default: the\n"
	    "                        listen port)\n"
	    "      --dht-bootstrap HOST:PORT\n"
	    "                        join the DHT through this node (a name,\n"
	    "                        IPv4 or [IPv6]; repeatable; default:\n"
	    "                        the saved table, else the well-known\n"
	    "                        public routers)\n"
	    "  -p, --port N          listen port: N or an error when it is\n"
	    "                        taken; 0: any free one, said on stderr\n"
	    "                        (default: %u, else the next free one,\n"
	    "                        said on stderr)\n"
	    "      --bind ADDR       listen, dial peers and talk to trackers\n"
	    "                        and the DHT from ADDR only (a numeric\n"
	    "                        IPv4 or IPv6 address, or an interface\n"
	    "                        name such as eth0: its first address);\n"
	    "                        peers of the other family are skipped\n"
	    "                        (also --interface)\n"
	    "      --peer HOST:PORT  connect to this peer (numeric IPv4 or\n"
	    "                        [IPv6]; repeatable; for every torrent)\n"
	    "      --tracker URL     also announce to URL (http, https or\n"
	    "                        udp://HOST:PORT; repeatable; a last "
	    "tier)\n"
	    "      --no-tracker      do not contact trackers\n"
	    "      --max-peers N     connections at most (default: %u), all\n"
	    "                        torrents together, shared fairly\n",
	    SESSION_DEFAULT_PORT, SESSION_DEFAULT_PEERS);
	if (!seed)
		fprintf(f,
	    "      --seed            keep seeding when complete, until "
	    "Ctrl-C\n"
	    "                        or a limit below\n");
	if (seed)
		fprintf(f,
	    "      --seed-ratio R    seed until uploaded = R x the torrent's\n"
	    "                        size\n"
	    "      --seed-time MIN   seed for MIN minutes (e.g. 30, 0.5)\n"
	    "      --seed-idle MIN   stop seeding after MIN minutes without\n"
	    "                        uploading; the first limit reached\n"
	    "                        ends, with exit 0; each torrent stops\n"
	    "                        at its own\n");
	else
		fprintf(f,
	    "      --seed-ratio R    seed until uploaded = R x the torrent's\n"
	    "                        size (implies --seed)\n"
	    "      --seed-time MIN   seed for MIN minutes (e.g. 30, 0.5;\n"
	    "                        implies --seed)\n"
	    "      --seed-idle MIN   stop seeding after MIN minutes without\n"
	    "                        uploading (implies --seed); the first\n"
	    "                        limit reached ends, with exit 0; each\n"
	    "                        torrent stops at its own\n");
	fprintf(f,
	    "      --max-download-rate RATE\n"
	    "      --max-upload-rate RATE\n"
	    "                        bytes/s at most, protocol included,\n"
	    "                        all torrents together (e.g. 500k, 2M;\n"
	    "                        k = 1024; 0: none)\n"
	    "\n");
	fprintf(f,
	    "File selection (for every torrent given; LIST: file numbers as\n"
	    "--show-files lists them, from 1, and ranges: 1,3-5):\n"
	    "  -S, --show-files      list each .torrent's files (number, size,\n"
	    "                        path) and exit; downloads nothing\n"
	    "      --select-file LIST\n"
	    "                        only these files (repeatable; default:\n"
	    "                        all, or a magnet's so=); a number past\n"
	    "                        the torrent's files is an error (exit 3),\n"
	    "                        with several torrents a warning\n"
	    "      --exclude GLOB    skip the files whose path in the torrent\n"
	    "                        or name matches GLOB (e.g. '*.nfo';\n"
	    "                        repeatable)\n");
	if (!seed)
		fprintf(f,
	    "      --priority-high LIST\n"
	    "      --priority-low LIST\n"
	    "                        fetch these files' pieces first / last\n"
	    "      --sequential      fetch pieces in order (for players)\n"
	    "Files not selected are never created: what pieces shared with\n"
	    "selected files bring of them is kept in DIR/.HASH.parts until a\n"
	    "later run selects them.  A selection changed on a restart keeps\n"
	    "what was downloaded.\n");
	fprintf(f,
	    "\n"
	    "Peer strategies (on by default unless said):\n"
	    "  -c, --choking         tit-for-tat: the upload slots go to the\n"
	    "                        peers that send to us fastest; seeding,\n"
	    "                        to those we send to fastest, in turns\n"
	    "      --no-choking      unchoke every interested peer\n"
	    "      --upload-slots N  regular unchoke slots (default: from\n"
	    "                        --max-upload-rate, else 4)\n"
	    "  -O, --optimistic-unchoke\n"
	    "                        one more slot, to a random peer every\n"
	    "                        30 s (newcomers 3x as likely)\n"
	    "      --no-optimistic-unchoke\n");
	if (!seed)
		fprintf(f,
	    "  -a, --anti-snubbing   a peer that unchoked us but sent nothing\n"
	    "                        for 60 s gets only the optimistic slot\n"
	    "                        and fewer requests\n"
	    "      --no-anti-snubbing\n"
	    "  -r, --rarest-first    rarest pieces first (also\n"
	    "                        --rarest-piece-first)\n"
	    "      --no-rarest-first pieces in order from a random start\n"
	    "  -e, --end-game        request the last blocks from every peer\n"
	    "                        (also --end-game-mode)\n"
	    "      --no-end-game     do not\n"
	    "  -b, --bbs-plus        request the rarest blocks from two peers\n"
	    "                        at once all along (off; trades upload\n"
	    "                        bandwidth of others for latency)\n");
	fprintf(f,
	    "      --super-seed      seeding: reveal one piece at a time to\n"
	    "                        each peer (BEP 16; off)\n"
	    "\n"
	    "      --tui             the full-screen view (ncurses): torrents,\n"
	    "                        peers, piece map, trackers, log; keys:\n"
	    "                        arrows and Tab move, p pauses/resumes,\n"
	    "                        ? helps, q quits; the default when stdout\n"
	    "                        and stderr are terminals and several\n"
	    "                        torrents run (stdout must be a terminal)\n"
	    "      --no-tui          the status line instead\n"
	    "");
	if (!seed)
		fprintf(f,
	    "      --on-done CMD     when a torrent completes in this run:\n"
	    "                        /bin/sh -c CMD gtorrent PATH NAME HASH,\n"
	    "                        with GTORRENT_NAME, GTORRENT_PATH (the\n"
	    "                        data: DIR/NAME), GTORRENT_INFO_HASH and\n"
	    "                        GTORRENT_DIR set; not waited for (at\n"
	    "                        exit, 10 s at most); its output on\n"
	    "                        stderr; a failure is a warning\n");
	fprintf(f,
	    "      --config FILE     read options from FILE (default:\n"
	    "                        $XDG_CONFIG_HOME/gtorrent/config, else\n"
	    "                        ~/.config/gtorrent/config; see below)\n"
	    "      --no-config       read no config file\n"
	    "  -q, --quiet           no status line, errors and the summary\n"
	    "      --json            events as JSON, one object a line on\n"
	    "                        stdout, instead of the status line and\n"
	    "                        the summary (see README: NDJSON)\n"
	    "  -v, --verbose         protocol events (-vv: debugging)\n"
	    "  -h, --help            this help\n"
	    "\n"
	    "\n"
	    "The DHT's routing table (dht.dat) and the resume records are\n"
	    "kept in the state folder: $XDG_STATE_HOME/gtorrent, else\n"
	    "~/.local/state/gtorrent.\n"
	    "\n"
	    "The config file holds long options one a line, before the\n"
	    "command line's (which win; repeatable ones add up):\n"
	    "  max-upload-rate = 1M   (or: max-upload-rate 1M,\n"
	    "  no-dht                  --max-upload-rate=1M)\n"
	    "'#' starts a comment line; a [download] or [seed] section\n"
	    "holds options for that command only; download-only options\n"
	    "outside [download] are skipped by seed.  A bad line is an\n"
	    "error naming FILE:LINE (exit 2).\n"
	    "\n");
	if (seed)
		fprintf(f,
	    "Exit status: 0 a seeding limit reached; 1 no data to seed;\n"
	    "2 bad command line; 3 bad .torrent; 4 disk error; 130 "
	    "interrupted.\n");
	else
		fprintf(f,
	    "Exit status: 0 complete and verified; 1 could not complete;\n"
	    "2 bad command line; 3 bad .torrent or magnet; 4 disk error; 130 "
	    "interrupted.\n"
	    "With several torrents, one summary line each, and the worst\n"
	    "status of theirs: 4, then 3, 130, 1; 0 only when all "
	    "completed.\n");
}
