/* cmd-verify.c - `gtorrent verify`: check data on disk against a .torrent */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "filemap.h"
#include "metainfo.h"
#include "reactor.h"
#include "storage.h"

#define VERIFY_MAX_LISTED	100	/* bad pieces named in text output */

struct verify_progress {
	bool		tty;
	uint64_t	last_ms;
};

static void
verify_usage(FILE *f)
{
	fprintf(f,
	    "usage: gtorrent verify [OPTIONS] FILE.torrent\n"
	    "\n"
	    "Hashes the data of FILE.torrent found under DIR on all cores and\n"
	    "reports per-file completeness and every bad piece.  Exit status\n"
	    "is 0 only when every piece is present and good, 1 otherwise.\n"
	    "\n"
	    "  -o, --output DIR    folder holding the data (default: .)\n"
	    "  -t, --threads N     hashing threads (default: all cores)\n"
	    "  -j, --json          one JSON object, for scripts\n"
	    "  -q, --quiet         print only the summary line\n"
	    "  -h, --help          this help\n");
}

static void
verify_progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct verify_progress	*vp = arg;
	uint64_t		 now = reactor_clock_ms();

	if (!vp->tty || (now - vp->last_ms < 100 && done < total))
		return;
	vp->last_ms = now;
	fprintf(stderr, "\rverifying: %5.1f%%", total == 0 ? 100.0 :
	    100.0 * (double)done / (double)total);
	fflush(stderr);
}

/* The files (not padding) that piece p touches, as "a, b". */
static void
print_piece_files(FILE *f, const struct metainfo *m,
    const struct filemap *fm, uint32_t p)
{
	struct filemap_span	*spans;
	uint64_t		 off = (uint64_t)p * m->piece_length;
	uint32_t		 len = metainfo_piece_size(m, p);
	size_t			 n, i;
	bool			 first = true;

	n = filemap_spans(fm, off, len, NULL, 0);
	spans = xcalloc(n, sizeof(*spans));
	filemap_spans(fm, off, len, spans, n);
	for (i = 0; i < n; i++) {
		if (m->files[spans[i].file].attr & MI_ATTR_PAD)
			continue;
		fputs(first ? "" : ", ", f);
		cmd_print_safe(f, m->files[spans[i].file].path);
		first = false;
	}
	free(spans);
}

static void
file_counts(const struct filemap *fm, const bool *good, size_t file,
    uint32_t *pieces, uint32_t *ngood)
{
	uint32_t	first, count, i;

	filemap_file_pieces(fm, file, &first, &count);
	*pieces = count;
	*ngood = 0;
	for (i = 0; i < count; i++)
		*ngood += good[first + i];
}

static void
verify_json(FILE *f, const struct metainfo *m, const struct filemap *fm,
    const bool *good, uint32_t ngood)
{
	uint32_t	p, pieces, fgood;
	size_t		i;
	bool		first = true;

	fprintf(f, "{\"name\": ");
	cmd_json_str(f, m->name);
	fprintf(f, ", \"complete\": %s, \"pieces\": %" PRIu32
	    ", \"good_pieces\": %" PRIu32 ", \"bad_pieces\": [",
	    ngood == m->npieces ? "true" : "false", m->npieces, ngood);
	for (p = 0; p < m->npieces; p++) {
		if (good[p])
			continue;
		fprintf(f, first ? "%" PRIu32 : ", %" PRIu32, p);
		first = false;
	}
	fputs("], \"files\": [", f);
	first = true;
	for (i = 0; i < m->nfiles; i++) {
		if (m->files[i].attr & MI_ATTR_PAD)
			continue;
		file_counts(fm, good, i, &pieces, &fgood);
		fputs(first ? "{\"path\": " : ", {\"path\": ", f);
		first = false;
		cmd_json_str(f, m->files[i].path);
		fprintf(f, ", \"length\": %" PRIu64 ", \"complete\": %s, "
		    "\"pieces\": %" PRIu32 ", \"good_pieces\": %" PRIu32 "}",
		    m->files[i].length, fgood == pieces ? "true" : "false",
		    pieces, fgood);
	}
	fputs("]}\n", f);
}

static void
verify_text(FILE *f, const struct metainfo *m, const struct filemap *fm,
    const bool *good, uint32_t ngood, bool quiet)
{
	uint32_t	p, nbad = m->npieces - ngood, listed = 0;
	uint32_t	pieces, fgood;
	size_t		i;

	for (p = 0; !quiet && p < m->npieces; p++) {
		if (good[p])
			continue;
		if (listed++ == VERIFY_MAX_LISTED) {
			fprintf(f, "... and %" PRIu32 " more bad pieces\n",
			    nbad - VERIFY_MAX_LISTED);
			break;
		}
		fprintf(f, "bad piece %" PRIu32 ": ", p);
		print_piece_files(f, m, fm, p);
		fputc('\n', f);
	}
	for (i = 0; !quiet && i < m->nfiles; i++) {
		if (m->files[i].attr & MI_ATTR_PAD)
			continue;
		file_counts(fm, good, i, &pieces, &fgood);
		fprintf(f, "%6.1f%%  ", pieces == 0 ? 100.0 :
		    100.0 * fgood / pieces);
		cmd_print_safe(f, m->files[i].path);
		fputc('\n', f);
	}
	cmd_print_safe(f, m->name);
	fprintf(f, ": %" PRIu32 " of %" PRIu32 " pieces good (%.1f%%), %s\n",
	    ngood, m->npieces, 100.0 * ngood / m->npieces,
	    nbad == 0 ? "complete" : "INCOMPLETE");
}

int
cmd_verify(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_progress		 vp = { .tty = isatty(2) };
	struct storage_hash_opts	 ho = {
		.progress = verify_progress_cb, .arg = &vp,
	};
	struct metainfo			 m;
	struct storage			*st;
	const char			*dir = ".";
	char				 err[GT_ERRLEN];
	bool				*good, json = false, quiet = false;
	uint64_t			 threads;
	uint32_t			 p, ngood = 0;
	enum gt_err			 e;
	int				 c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:t:jqh", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case 't':
			if (cmd_parse_size(optarg, &threads) != 0 ||
			    threads < 1 || threads > 256)
				return cmd_usage_error("verify",
				    "threads must be 1 to 256, not '%s'",
				    optarg);
			ho.nthreads = (unsigned)threads;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			verify_usage(stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option("verify", c, argv);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error("verify", "%s", optind == argc ?
		    "missing FILE.torrent" : "one FILE.torrent at a time");
	if (json)
		vp.tty = false;
	if ((rc = cmd_load_torrent(argv[optind], &m)) != EXIT_OK)
		return rc;
	if ((e = storage_open_metainfo(&st, dir, &m, NULL, 0, err)) != GT_OK) {
		cmd_error("%s", err);
		metainfo_clear(&m);
		return e == GT_ENOENT ? EXIT_BADINPUT : EXIT_IO;
	}
	good = xcalloc(m.npieces, sizeof(*good));
	ho.expected = m.pieces;
	e = storage_hash_all(st, &ho, NULL, good, err);
	if (vp.tty)
		fputc('\n', stderr);
	if (e != GT_OK) {
		cmd_error("%s", err);
		rc = EXIT_IO;
		goto out;
	}
	for (p = 0; p < m.npieces; p++)
		ngood += good[p];
	if (json)
		verify_json(stdout, &m, storage_filemap(st), good, ngood);
	else
		verify_text(stdout, &m, storage_filemap(st), good, ngood,
		    quiet);
	rc = ngood == m.npieces ? EXIT_OK : EXIT_FAIL;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("writing output failed");
		rc = EXIT_IO;
	}
out:
	free(good);
	storage_free(st);
	metainfo_clear(&m);
	return rc;
}
