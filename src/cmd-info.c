/* cmd-info.c - `gtorrent info`: what a .torrent holds, as text or JSON */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "metainfo.h"

static void
info_usage(FILE *f)
{
	fprintf(f,
	    "usage: gtorrent info [--json] FILE.torrent\n"
	    "\n"
	    "Shows a torrent's name, info-hashes, size, pieces, trackers by\n"
	    "tier, web seeds and files.  FILE may be '-' for standard input.\n"
	    "\n"
	    "  -j, --json   one JSON object with the same facts, for scripts\n"
	    "  -h, --help   this help\n");
}

static const char *
attr_str(char *buf, unsigned attr)
{
	char	*p = buf;

	if (attr & MI_ATTR_PAD)
		*p++ = 'p';
	if (attr & MI_ATTR_EXEC)
		*p++ = 'x';
	if (attr & MI_ATTR_HIDDEN)
		*p++ = 'h';
	if (attr & MI_ATTR_SYMLINK)
		*p++ = 'l';
	*p = '\0';
	return buf;
}

static void
json_str_list(FILE *f, char *const *v, size_t n)
{
	size_t	i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", f);
		cmd_json_str(f, v[i]);
	}
	fputc(']', f);
}

static void
info_json(FILE *f, const struct metainfo *m)
{
	char	hex[2 * SHA256_LEN + 1], attr[8];
	size_t	i;

	hex_encode(hex, m->info_hash, SHA1_LEN);
	fputs("{\"name\": ", f);
	cmd_json_str(f, m->name);
	fprintf(f, ", \"info_hash\": \"%s\", \"info_hash_v2\": ", hex);
	if (m->has_v2) {
		hex_encode(hex, m->info_hash_v2, SHA256_LEN);
		fprintf(f, "\"%s\"", hex);
	} else
		fputs("null", f);
	fprintf(f, ", \"total_size\": %" PRIu64 ", \"piece_length\": %" PRIu64
	    ", \"piece_count\": %" PRIu32 ", \"private\": %s",
	    m->total_length, m->piece_length, m->npieces,
	    m->private ? "true" : "false");
	fputs(", \"multi_file\": ", f);
	fputs(m->multi_file ? "true" : "false", f);
	fputs(", \"source\": ", f);
	cmd_json_str(f, m->source);
	fputs(", \"comment\": ", f);
	cmd_json_str(f, m->comment);
	fputs(", \"created_by\": ", f);
	cmd_json_str(f, m->created_by);
	fputs(", \"creation_date\": ", f);
	if (m->has_creation_date)
		fprintf(f, "%" PRId64, m->creation_date);
	else
		fputs("null", f);
	fputs(", \"trackers\": [", f);
	for (i = 0; i < m->ntiers; i++) {
		if (i > 0)
			fputs(", ", f);
		json_str_list(f, m->tiers[i].urls, m->tiers[i].n);
	}
	fputs("], \"web_seeds\": ", f);
	json_str_list(f, m->web_seeds, m->nweb_seeds);
	fputs(", \"http_seeds\": ", f);
	json_str_list(f, m->http_seeds, m->nhttp_seeds);
	fputs(", \"nodes\": [", f);
	for (i = 0; i < m->nnodes; i++) {
		fputs(i > 0 ? ", [" : "[", f);
		cmd_json_str(f, m->nodes[i].host);
		fprintf(f, ", %u]", m->nodes[i].port);
	}
	fputs("], \"files\": [", f);
	for (i = 0; i < m->nfiles; i++) {
		const struct mi_file	*fl = &m->files[i];

		fputs(i > 0 ? ", {\"path\": " : "{\"path\": ", f);
		cmd_json_str(f, fl->path);
		fprintf(f, ", \"length\": %" PRIu64 ", \"offset\": %" PRIu64
		    ", \"attr\": \"%s\"", fl->length, fl->offset,
		    attr_str(attr, fl->attr));
		if (fl->symlink != NULL) {
			fputs(", \"symlink\": ", f);
			cmd_json_str(f, fl->symlink);
		}
		fputc('}', f);
	}
	fputs("]}\n", f);
}

static void
info_line(FILE *f, const char *label, const char *value)
{
	if (value == NULL)
		return;
	fprintf(f, "  %-14s ", label);
	cmd_print_safe(f, value);
	fputc('\n', f);
}

static void
info_text(FILE *f, const struct metainfo *m)
{
	char		hex[2 * SHA256_LEN + 1], sz[32], psz[32], date[64];
	char		attr[8];
	struct tm	tm;
	time_t		t;
	size_t		i, j;

	fputs("GENERAL\n\n", f);
	info_line(f, "Name:", m->name);
	hex_encode(hex, m->info_hash, SHA1_LEN);
	info_line(f, "Info-hash:", hex);
	if (m->has_v2) {
		hex_encode(hex, m->info_hash_v2, SHA256_LEN);
		info_line(f, "Info-hash v2:", hex);
	}
	info_line(f, "Created by:", m->created_by);
	if (m->has_creation_date) {
		t = (time_t)m->creation_date;
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) > 0)
			info_line(f, "Created on:", date);
	}
	info_line(f, "Comment:", m->comment);
	info_line(f, "Source:", m->source);
	info_line(f, "Private:", m->private ? "yes" : "no");
	human_size(sz, sizeof(sz), m->total_length, 2);
	fprintf(f, "  %-14s %s (%" PRIu64 " bytes)\n", "Total size:", sz,
	    m->total_length);
	human_size(psz, sizeof(psz), m->piece_length, 2);
	fprintf(f, "  %-14s %" PRIu32 " x %s\n", "Pieces:", m->npieces, psz);

	fputs("\nTRACKERS\n", f);
	for (i = 0; i < m->ntiers; i++) {
		fprintf(f, "\n  Tier #%zu\n", i + 1);
		for (j = 0; j < m->tiers[i].n; j++) {
			fputs("  ", f);
			cmd_print_safe(f, m->tiers[i].urls[j]);
			fputc('\n', f);
		}
	}
	if (m->nweb_seeds > 0 || m->nhttp_seeds > 0) {
		fputs("\nWEBSEEDS\n\n", f);
		for (i = 0; i < m->nweb_seeds; i++) {
			fputs("  ", f);
			cmd_print_safe(f, m->web_seeds[i]);
			fputc('\n', f);
		}
		for (i = 0; i < m->nhttp_seeds; i++) {
			fputs("  ", f);
			cmd_print_safe(f, m->http_seeds[i]);
			fputs(" (BEP 17)\n", f);
		}
	}
	if (m->nnodes > 0) {
		fputs("\nDHT NODES\n\n", f);
		for (i = 0; i < m->nnodes; i++) {
			fputs("  ", f);
			cmd_print_safe(f, m->nodes[i].host);
			fprintf(f, ":%u\n", m->nodes[i].port);
		}
	}
	fprintf(f, "\nFILES (%zu)\n\n", m->nfiles);
	for (i = 0; i < m->nfiles; i++) {
		const struct mi_file	*fl = &m->files[i];

		fputs("  ", f);
		cmd_print_safe(f, fl->path);
		fprintf(f, " (%s)",
		    human_size(sz, sizeof(sz), fl->length, 2));
		if (fl->attr != 0)
			fprintf(f, " [%s]", attr_str(attr, fl->attr));
		if (fl->symlink != NULL) {
			fputs(" -> ", f);
			cmd_print_safe(f, fl->symlink);
		}
		fputc('\n', f);
	}
}

int
cmd_info(int argc, char **argv)
{
	struct metainfo	m;
	bool		json;
	int		rc;

	if ((rc = cmd_one_torrent(argc, argv, "info", info_usage, &json,
	    &m)) >= 0)
		return rc;
	if (json)
		info_json(stdout, &m);
	else
		info_text(stdout, &m);
	metainfo_clear(&m);
	return cmd_flush_stdout("info");
}
