/* cmd-magnet.c - `gtorrent magnet`: a .torrent's magnet URI */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "magnet.h"
#include "metainfo.h"

static void
magnet_usage(FILE *f)
{
	fprintf(f,
	    "usage: gtorrent magnet [--json] FILE.torrent\n"
	    "\n"
	    "Prints the magnet URI of a torrent: its info-hash (btih), its\n"
	    "name (dn) and every tracker of every tier, in order, each once\n"
	    "(tr).  FILE may be '-' for standard input.\n"
	    "\n"
	    "  -j, --json   one JSON object: magnet, info_hash, name, trackers\n"
	    "  -h, --help   this help\n");
}

/* Every tier's URLs in order, each once; the strings stay m's. */
static char **
all_trackers(const struct metainfo *m, size_t *n)
{
	char	**v;
	size_t	  total = 0, i, j, k;

	for (i = 0; i < m->ntiers; i++)
		total += m->tiers[i].n;
	v = xcalloc(total + 1, sizeof(*v));
	*n = 0;
	for (i = 0; i < m->ntiers; i++) {
		for (j = 0; j < m->tiers[i].n; j++) {
			for (k = 0; k < *n; k++) {
				if (strcmp(v[k], m->tiers[i].urls[j]) == 0)
					break;
			}
			if (k == *n)
				v[(*n)++] = m->tiers[i].urls[j];
		}
	}
	return v;
}

/* Says so when a magnet we print is one we would refuse (a cap). */
static void
check_own_caps(const char *path, const char *uri)
{
	struct magnet	mg;
	char		err[GT_ERRLEN];

	if (magnet_parse(&mg, uri, err) != GT_OK) {
		cmd_warn("%s: gtorrent would refuse this magnet: %s", path,
		    err);
		return;
	}
	if (mg.nwarnings > 0)
		cmd_warn("%s: gtorrent -m would use only part of this magnet: "
		    "%s", path, mg.warnings[0]);
	magnet_clear(&mg);
}

static void
magnet_json(FILE *f, const char *uri, const struct metainfo *m,
    char *const *tr, size_t ntr)
{
	char	hex[2 * SHA1_LEN + 1];
	size_t	i;

	hex_encode(hex, m->info_hash, SHA1_LEN);
	fputs("{\"magnet\": ", f);
	cmd_json_str(f, uri);
	fprintf(f, ", \"info_hash\": \"%s\", \"name\": ", hex);
	cmd_json_str(f, m->name);
	fputs(", \"trackers\": [", f);
	for (i = 0; i < ntr; i++) {
		if (i > 0)
			fputs(", ", f);
		cmd_json_str(f, tr[i]);
	}
	fputs("]}\n", f);
}

int
cmd_magnet(int argc, char **argv)
{
	struct metainfo	  m;
	char		**tr, *uri;
	size_t		  ntr;
	bool		  json;
	int		  rc;

	if ((rc = cmd_one_torrent(argc, argv, "magnet", magnet_usage, &json,
	    &m)) >= 0)
		return rc;
	tr = all_trackers(&m, &ntr);
	uri = magnet_format(m.info_hash, m.name, tr, ntr);
	check_own_caps(argv[argc - 1], uri);
	if (json)
		magnet_json(stdout, uri, &m, tr, ntr);
	else
		printf("%s\n", uri);	/* percent-encoded: plain ASCII */
	free(uri);
	free(tr);
	metainfo_clear(&m);
	return cmd_flush_stdout("magnet");
}
