/* cmd-create.c - `gtorrent create`: a .torrent from a file or folder */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bencode.h"
#include "buf.h"
#include "cmd.h"
#include "crypto.h"
#include "filemap.h"
#include "makemeta.h"
#include "metainfo.h"
#include "reactor.h"
#include "storage.h"
#include "tracker-client.h"
#include "walk.h"

#ifndef GT_VERSION
#define GT_VERSION	"0.1.0"
#endif

#define CREATE_MIN_PIECE	(1ULL << 14)
#define CREATE_MAX_PIECE	(1ULL << 28)
#define CREATE_MAX_THREADS	256

/* Announce tiers and web seeds from repeated, comma-separated options. */
struct create_urls {
	char		**copies;	/* one owned copy per option, split */
	size_t		  ncopies;
	const char	***tiers;	/* each NULL-ended, into copies */
	size_t		  ntiers;
	const char	**seeds;	/* into copies */
	size_t		  nseeds;
};

struct create_progress {
	bool		tty;		/* stderr is a terminal */
	bool		drawn;		/* a line is on screen */
	double		start;		/* seconds, monotonic */
	double		last;		/* when the line was last drawn */
};

static void
create_usage(FILE *f)
{
	fprintf(f,
	    "usage: gtorrent create [OPTIONS] PATH\n"
	    "\n"
	    "Makes a .torrent of the file or folder PATH (options as in"
	    " mktorrent).\n"
	    "\n"
	    "  -a, --announce URL[,URL]  tracker; each -a is a tier, commas"
	    " add\n"
	    "                            trackers to the same tier (http://,"
	    "\n"
	    "                            https:// or udp://HOST:PORT)\n"
	    "      --any-url             take -a URLs of other schemes too"
	    " (wss://)\n"
	    "  -c, --comment TEXT        comment\n"
	    "  -d, --no-date             leave out the creation date\n"
	    "  -f, --force               overwrite an existing output file\n"
	    "  -l, --piece-length N      2^N bytes (N = 14..28), or a size"
	    " like\n"
	    "                            256K or 1M; chosen from the size by"
	    " default\n"
	    "  -n, --name NAME           torrent name (default: PATH's last"
	    " part)\n"
	    "  -o, --output FILE         default NAME.torrent; '-' writes to"
	    " stdout\n"
	    "  -p, --private             private torrent (BEP 27)\n"
	    "  -s, --source TEXT         source tag, part of the info-hash\n"
	    "  -t, --threads N           hashing threads (default: all"
	    " cores)\n"
	    "  -q, --quiet               no progress and no summary: only"
	    " warnings\n"
	    "                            and errors\n"
	    "  -v, --verbose             piece size, counts and speed on"
	    " stderr\n"
	    "  -w, --web-seed URL[,URL]  web seed (BEP 19), may repeat\n"
	    "      --skip-special        skip FIFOs, sockets and devices"
	    " instead of\n"
	    "                            refusing\n"
	    "      --convert-names       read file names that are not UTF-8"
	    " as\n"
	    "                            Windows-1252 (default: refuse"
	    " them)\n"
	    "  -h, --help                this help\n"
	    "\n"
	    "Files are hashed in bytewise path order, so the info-hash"
	    " matches\n"
	    "mktorrent's for the same files, name and piece length.\n");
}

/* Seconds on the reactor's monotonic clock. */
static double
create_now(void)
{
	return (double)reactor_clock_ms() / 1000.0;
}

static void
create_progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct create_progress	*cp = arg;
	char			 a[32], b[32];
	double			 now, secs;

	if (!cp->tty)
		return;
	now = create_now();
	if (now - cp->last < 0.1 && done != total)
		return;
	cp->last = now;
	secs = now - cp->start;
	fprintf(stderr, "\rhashing: %.1f%% (%s of %s, %.0f MiB/s)\033[K",
	    total > 0 ? 100.0 * (double)done / (double)total : 100.0,
	    human_size(a, sizeof(a), done, 2),
	    human_size(b, sizeof(b), total, 2),
	    secs > 0 ? (double)done / 1048576.0 / secs : 0.0);
	cp->drawn = true;
}

/* Splits one option's value at commas; false if a URL is empty. */
static bool
create_split(struct create_urls *u, const char *arg, const char ***out,
    size_t *n)
{
	char	*copy, *p, *comma;

	copy = xstrdup(arg);
	u->copies = xreallocarray(u->copies, u->ncopies + 1,
	    sizeof(*u->copies));
	u->copies[u->ncopies++] = copy;
	*out = NULL;
	*n = 0;
	for (p = copy;; p = comma + 1) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		if (*p == '\0') {
			free(*out);
			*out = NULL;
			return false;
		}
		*out = xreallocarray(*out, *n + 2, sizeof(**out));
		(*out)[(*n)++] = p;
		(*out)[*n] = NULL;
		if (comma == NULL)
			return true;
	}
}

static bool
create_add_tier(struct create_urls *u, const char *arg)
{
	const char	**tier;
	size_t		  n;

	if (!create_split(u, arg, &tier, &n))
		return false;
	u->tiers = xreallocarray(u->tiers, u->ntiers + 1, sizeof(*u->tiers));
	u->tiers[u->ntiers++] = tier;
	return true;
}

static bool
create_add_seeds(struct create_urls *u, const char *arg)
{
	const char	**list;
	size_t		  n, i;

	if (!create_split(u, arg, &list, &n))
		return false;
	u->seeds = xreallocarray(u->seeds, u->nseeds + n, sizeof(*u->seeds));
	for (i = 0; i < n; i++)
		u->seeds[u->nseeds++] = list[i];
	free(list);
	return true;
}

static void
create_urls_clear(struct create_urls *u)
{
	size_t	i;

	for (i = 0; i < u->ntiers; i++)
		free(u->tiers[i]);
	free(u->tiers);
	free(u->seeds);
	for (i = 0; i < u->ncopies; i++)
		free(u->copies[i]);
	free(u->copies);
	*u = (struct create_urls){ 0 };
}

/* "N" (an exponent, like mktorrent) or a size "256K"; 0 if bad. */
static uint64_t
create_parse_piece(const char *s)
{
	uint64_t	v;

	if (s[0] >= '0' && s[0] <= '9' && (s[1] == '\0' ||
	    (s[1] >= '0' && s[1] <= '9' && s[2] == '\0'))) {
		v = (uint64_t)atoi(s);
		return v >= 14 && v <= 28 ? 1ULL << v : 0;
	}
	if (cmd_parse_size(s, &v) != 0 || v < CREATE_MIN_PIECE ||
	    v > CREATE_MAX_PIECE || (v & (v - 1)) != 0)
		return 0;
	return v;
}

static bool
create_name_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

/* The last component of path, or of its real path for "." and the like. */
static char *
create_default_name(const char *path)
{
	char	*copy, *real, *slash, *name = NULL;
	size_t	 len;

	copy = xstrdup(path);
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	slash = strrchr(copy, '/');
	if (create_name_ok(slash != NULL ? slash + 1 : copy))
		name = xstrdup(slash != NULL ? slash + 1 : copy);
	else if ((real = realpath(path, NULL)) != NULL) {
		slash = strrchr(real, '/');
		if (slash != NULL && create_name_ok(slash + 1))
			name = xstrdup(slash + 1);
		free(real);
	}
	free(copy);
	return name;
}

/* The last component of path, as is; malloc'd. */
static char *
create_basename(const char *path)
{
	const char	*slash = strrchr(path, '/');

	return xstrdup(slash != NULL ? slash + 1 : path);
}

/* Before hashing: would writing out fail for a reason we can see now? */
static int
create_check_output(const char *out, bool force)
{
	struct stat	 sb;
	char		*dir;
	int		 rc = EXIT_OK;

	if (lstat(out, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			cmd_error("%s: is a directory", out);
			return EXIT_IO;
		}
		if (!force) {
			cmd_error("%s: already exists (use -f to "
			    "overwrite)", out);
			return EXIT_IO;
		}
	}
	dir = cmd_dirname(out);
	if (access(dir, W_OK | X_OK) != 0) {
		cmd_error("%s: %s", dir, strerror(errno));
		rc = EXIT_IO;
	}
	free(dir);
	return rc;
}

/*
 * An existing output file inside the folder (overwritten with -f) is not
 * part of the torrent: drop it from the walk.
 */
static void
create_skip_output(const char *path, const char *output,
    struct walk_entry *ents, size_t *n)
{
	char	*dir, *real_dir, *real_top, *base;
	size_t	 tl, i;

	dir = cmd_dirname(output);
	real_dir = realpath(dir, NULL);
	real_top = realpath(path, NULL);
	base = create_basename(output);
	free(dir);
	if (real_dir == NULL || real_top == NULL)
		goto out;
	tl = strlen(real_top);
	if (strncmp(real_dir, real_top, tl) != 0 ||
	    (real_dir[tl] != '/' && real_dir[tl] != '\0'))
		goto out;
	dir = real_dir[tl] == '\0' ? xstrdup(base) :
	    xasprintf("%s/%s", real_dir + tl + 1, base);
	for (i = 0; i < *n; i++) {
		if (strcmp(ents[i].path, dir) != 0)
			continue;
		cmd_warn("%s: skipping the output file itself", output);
		free(ents[i].path);
		memmove(&ents[i], &ents[i + 1], (*n - i - 1) *
		    sizeof(*ents));
		(*n)--;
		break;
	}
	free(dir);
out:
	free(base);
	free(real_top);
	free(real_dir);
}

/* SHA-1 of the info dictionary of the torrent in p. */
static bool
create_info_hash(const uint8_t *p, size_t len, uint8_t out[SHA1_LEN])
{
	struct bencode_doc		 doc;
	const struct bencode_node	*info;
	const uint8_t			*raw;
	size_t				 rlen;
	bool				 ok = false;

	if (bencode_decode(&doc, p, len, &bencode_default_limits,
	    NULL) != GT_OK)
		return false;
	info = bencode_dict_get_type(&doc, bencode_root(&doc), "info",
	    BENCODE_DICT);
	if (info != NULL) {
		raw = bencode_raw(&doc, info, &rlen);
		sha1(raw, rlen, out);
		ok = true;
	}
	bencode_doc_clear(&doc);
	return ok;
}

struct create_args {
	struct create_urls	 urls;
	const char		*comment;
	const char		*name;
	const char		*output;
	const char		*source;
	uint64_t		 piece_length;	/* 0: automatic */
	unsigned		 nthreads;
	bool			 no_date;
	bool			 private;
	bool			 verbose;
	bool			 quiet;		/* -q: warnings, errors only */
	bool			 any_url;	/* --any-url */
	bool			 force;
	bool			 skip_special;
	bool			 convert_names;
};

enum {
	OPT_SKIP_SPECIAL = 256,
	OPT_CONVERT_NAMES,
	OPT_ANY_URL,
};

static int
create_parse(int argc, char **argv, struct create_args *a)
{
	static const struct option	 longopts[] = {
		{ "announce", required_argument, NULL, 'a' },
		{ "comment", required_argument, NULL, 'c' },
		{ "no-date", no_argument, NULL, 'd' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "piece-length", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "private", no_argument, NULL, 'p' },
		{ "source", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "any-url", no_argument, NULL, OPT_ANY_URL },
		{ "web-seed", required_argument, NULL, 'w' },
		{ "skip-special", no_argument, NULL, OPT_SKIP_SPECIAL },
		{ "convert-names", no_argument, NULL, OPT_CONVERT_NAMES },
		{ NULL, 0, NULL, 0 },
	};
	const char			*url;
	char				*end;
	unsigned long			 t;
	size_t				 i, k;
	int				 c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":a:c:dfhl:n:o:pqs:t:vw:",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (!create_add_tier(&a->urls, optarg))
				return cmd_usage_error("create",
				    "empty tracker URL in '%s'", optarg);
			break;
		case 'c':
			a->comment = optarg;
			break;
		case 'd':
			a->no_date = true;
			break;
		case 'f':
			a->force = true;
			break;
		case 'h':
			create_usage(stdout);
			return -1;
		case 'l':
			if ((a->piece_length = create_parse_piece(optarg)) == 0)
				return cmd_usage_error("create",
				    "piece length must be 14..28 (2^N bytes) "
				    "or a power of two from 16K to 256M, "
				    "not '%s'", optarg);
			break;
		case 'n':
			if (!create_name_ok(optarg))
				return cmd_usage_error("create",
				    "bad name '%s' (one file name, no '/')",
				    optarg);
			a->name = optarg;
			break;
		case 'o':
			if (optarg[0] == '\0')
				return cmd_usage_error("create",
				    "empty output file name");
			a->output = optarg;
			break;
		case 'p':
			a->private = true;
			break;
		case 's':
			a->source = optarg;
			break;
		case 't':
			errno = 0;
			t = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' ||
			    *end != '\0' || errno != 0 || t < 1 ||
			    t > CREATE_MAX_THREADS)
				return cmd_usage_error("create",
				    "threads must be 1 to %d, not '%s'",
				    CREATE_MAX_THREADS, optarg);
			a->nthreads = (unsigned)t;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'q':
			a->quiet = true;
			break;
		case OPT_ANY_URL:
			a->any_url = true;
			break;
		case 'w':
			if (!create_add_seeds(&a->urls, optarg))
				return cmd_usage_error("create",
				    "empty web seed URL in '%s'", optarg);
			break;
		case OPT_SKIP_SPECIAL:
			a->skip_special = true;
			break;
		case OPT_CONVERT_NAMES:
			a->convert_names = true;
			break;
		default:
			return cmd_bad_option("create", c, argv);
		}
	}
	/* A tracker gtorrent (and most clients) cannot announce to. */
	for (i = 0; i < a->urls.ntiers && !a->any_url; i++)
		for (k = 0; (url = a->urls.tiers[i][k]) != NULL; k++)
			if (!tracker_client_url_ok(url))
				return cmd_usage_error("create", "-a needs an "
				    "http://, https:// or udp://HOST:PORT URL, "
				    "not '%s' (--any-url takes it)", url);
	if (optind == argc)
		return cmd_usage_error("create", "missing PATH");
	if (optind != argc - 1)
		return cmd_usage_error("create", "one PATH at a time");
	return EXIT_OK;
}

/* "caf\xe9.txt": one line naming a file name's exact bytes. */
static void
create_not_utf8(const char *what)
{
	char	*shown = text_escape(what, TEXT_BYTES);

	cmd_error("%s: file name is not valid UTF-8 (rename it, or "
	    "use --convert-names to read it as Windows-1252)", shown);
	free(shown);
}

static int
create_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The paths of a folder's files in the torrent, UTF-8: paths[i] is
 * ents[i].path, or its conversion (with convert) when it is not UTF-8.
 * A path that is not UTF-8 without convert, or two paths that become the
 * same file or a file and a folder, end it with one line.
 */
static int
create_utf8_paths(const char *path, bool is_dir, bool convert,
    const struct walk_entry *ents, size_t n, char ***out)
{
	char		**paths, **sorted, *key, *shown;
	size_t		  i, len, lo, hi, mid;
	bool		  changed = false;
	int		  rc = EXIT_OK;

	paths = xcalloc(n, sizeof(*paths));
	for (i = 0; i < n; i++) {
		/* One file: the torrent's name is its name, checked apart. */
		if (!is_dir || utf8_valid(ents[i].path)) {
			paths[i] = xstrdup(ents[i].path);
			continue;
		}
		if (!convert) {
			shown = xasprintf("%s/%s", path, ents[i].path);
			create_not_utf8(shown);
			free(shown);
			rc = EXIT_BADINPUT;
			goto out;
		}
		paths[i] = utf8_from_legacy(ents[i].path);
		changed = true;
	}
	if (!changed)
		goto out;
	/* Same path twice, or a file where another path has a folder. */
	sorted = xcalloc(n, sizeof(*sorted));
	memcpy(sorted, paths, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), create_strcmp);
	for (i = 0; i < n && rc == EXIT_OK; i++) {
		key = xasprintf("%s/", sorted[i]);
		len = strlen(key);
		lo = i + 1;
		hi = n;
		while (lo < hi) {	/* the first path >= key */
			mid = lo + (hi - lo) / 2;
			if (strcmp(sorted[mid], key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if ((i + 1 < n && strcmp(sorted[i], sorted[i + 1]) == 0) ||
		    (lo < n && strncmp(sorted[lo], key, len) == 0)) {
			shown = text_escape(sorted[i], TEXT_BYTES);
			cmd_error("%s/%s: two files would have this "
			    "name after --convert-names; rename one", path,
			    shown);
			free(shown);
			rc = EXIT_BADINPUT;
		}
		free(key);
	}
	free(sorted);
out:
	if (rc != EXIT_OK) {
		for (i = 0; i < n; i++)
			free(paths[i]);
		free(paths);
		return rc;
	}
	*out = paths;
	return EXIT_OK;
}

/* Names the first file of a piece that could not be read. */
static void
create_bad_piece(struct storage *st, const char *path, bool is_dir,
    const struct walk_entry *ents, uint32_t piece)
{
	const struct filemap	*fm = storage_filemap(st);
	struct filemap_span	 span;

	if (filemap_spans(fm, (uint64_t)piece * filemap_piece_length(fm),
	    filemap_piece_size(fm, piece), &span, 1) == 0 || !is_dir)
		cmd_error("%s: could not be read completely (it "
		    "shrank while being hashed, or is unreadable)", path);
	else
		cmd_error("%s/%s: could not be read completely (it "
		    "shrank while being hashed, or is unreadable)", path,
		    ents[span.file].path);
}

static void
create_summary(FILE *f, const char *output, size_t nfiles, uint64_t total,
    uint32_t npieces, uint64_t piece_length, const uint8_t *ih)
{
	char	sz[32], psz[32], hex[2 * SHA1_LEN + 1];

	hex_encode(hex, ih, SHA1_LEN);
	if (output == NULL)
		fputs("created torrent on standard output", f);
	else {
		fputs("created ", f);
		cmd_print_safe(f, output);
	}
	fprintf(f, " (%zu file%s, %s, %" PRIu32 " piece%s of %s), "
	    "info-hash %s\n", nfiles, nfiles == 1 ? "" : "s",
	    human_size(sz, sizeof(sz), total, 2), npieces,
	    npieces == 1 ? "" : "s",
	    human_size(psz, sizeof(psz), piece_length, 2), hex);
}

int
cmd_create(int argc, char **argv)
{
	struct create_args		 a = { .nthreads = 0 };
	struct create_progress		 cp = { .tty = isatty(STDERR_FILENO) };
	struct storage_hash_opts	 ho = {
		.check_changes = true,
		.progress = create_progress_cb,
		.arg = &cp,
	};
	struct makemeta_opts		 mo = { 0 };
	struct walk_entry	*ents = NULL;
	struct storage_file		*sfiles = NULL;
	struct makemeta_file		*mfiles = NULL;
	struct storage			*st = NULL;
	struct buf			 out;
	const char			*path, *output = NULL;
	char				 err[GT_ERRLEN];
	char				*name = NULL, *root = NULL;
	char				*outname = NULL, *base = NULL;
	char				**tpaths = NULL, *tname = NULL;
	char				 sz[32], psz[32];
	uint8_t				*hashes = NULL, *torrent = NULL;
	uint8_t				 ih[SHA1_LEN];
	bool				*ok = NULL, is_dir = false, to_stdout;
	size_t				 n = 0, i, tlen = 0;
	uint64_t			 total = 0, pl, np;
	uint32_t			 npieces, p;
	double				 t0, secs;
	enum gt_err			 e;
	int				 rc;

	buf_init(&out, MI_MAX_TORRENT);
	if ((rc = create_parse(argc, argv, &a)) != EXIT_OK) {
		rc = rc == -1 ? EXIT_OK : rc;	/* -1: --help */
		goto done;
	}
	path = argv[optind];
	if (a.quiet) {
		cp.tty = false;		/* no progress line */
		a.verbose = false;
	}
	if (a.nthreads == 0)
		a.nthreads = cmd_ncpu();

	if (a.name != NULL)
		name = xstrdup(a.name);
	else if ((name = create_default_name(path)) == NULL) {
		rc = cmd_usage_error("create", "%s: cannot name the torrent "
		    "after it; give a name with -n", path);
		goto done;
	}
	if (utf8_valid(name))
		tname = xstrdup(name);
	else if (a.convert_names)
		tname = utf8_from_legacy(name);
	else {
		create_not_utf8(name);
		rc = EXIT_BADINPUT;
		goto done;
	}
	to_stdout = a.output != NULL && strcmp(a.output, "-") == 0;
	if (!to_stdout) {
		output = a.output;
		if (output == NULL)
			output = outname = xasprintf("%s.torrent", name);
		if ((rc = create_check_output(output, a.force)) != EXIT_OK)
			goto done;
	}

	e = walk_tree(path, a.skip_special, &ents, &n, &is_dir, err);
	if (e != GT_OK) {
		ents = NULL;
		n = 0;
		cmd_error("%s", err);
		rc = e == GT_EIO ? EXIT_IO : EXIT_BADINPUT;
		goto done;
	}
	if (is_dir && output != NULL)
		create_skip_output(path, output, ents, &n);
	for (i = 0; i < n; i++)
		total += ents[i].length;
	if (n == 0 || total == 0) {
		cmd_error("%s: nothing to put in a torrent (%s)", path,
		    n == 0 ? "no files" : "all files are empty");
		rc = EXIT_BADINPUT;
		goto done;
	}
	if (n > MI_MAX_FILES) {
		cmd_error("%s: %zu files, more than a torrent may "
		    "hold (%u)", path, n, MI_MAX_FILES);
		rc = EXIT_BADINPUT;
		goto done;
	}
	if ((rc = create_utf8_paths(path, is_dir, a.convert_names, ents, n,
	    &tpaths)) != EXIT_OK)
		goto done;

	pl = a.piece_length;
	if (pl == 0) {
		pl = makemeta_auto_piece_length(total);
		while (pl < CREATE_MAX_PIECE && total / pl >= MI_MAX_PIECES)
			pl <<= 1;
	}
	np = total / pl + (total % pl != 0);
	if (np > MI_MAX_PIECES) {
		cmd_error("%s: %" PRIu64 " pieces of %s is too many "
		    "(at most %u); use a larger --piece-length", path, np,
		    human_size(sz, sizeof(sz), pl, 2), MI_MAX_PIECES);
		rc = a.piece_length != 0 ? EXIT_USAGE : EXIT_BADINPUT;
		goto done;
	}
	npieces = (uint32_t)np;

	sfiles = xcalloc(n, sizeof(*sfiles));
	mfiles = xcalloc(n, sizeof(*mfiles));
	if (is_dir)
		root = xstrdup(path);
	else {
		/* One file: read it from its folder, by its own name. */
		root = cmd_dirname(path);
		base = create_basename(path);
	}
	for (i = 0; i < n; i++) {
		sfiles[i] = (struct storage_file){
			.path = is_dir ? ents[i].path : base,
			.length = ents[i].length,
		};
		mfiles[i] = (struct makemeta_file){
			.path = tpaths[i],
			.length = ents[i].length,
		};
	}
	if (!is_dir && n != 1) {
		cmd_error("%s: not a single file", path);
		rc = EXIT_BADINPUT;
		goto done;
	}
	if ((e = storage_open(&st, root, sfiles, n, pl, 0, NULL, err)) != GT_OK) {
		st = NULL;
		cmd_error("%s", err);
		rc = e == GT_ENOENT ? EXIT_BADINPUT : EXIT_IO;
		goto done;
	}

	if (a.verbose)
		fprintf(stderr, "hashing %zu file%s, %s: %" PRIu32 " piece%s "
		    "of %s on %u thread%s\n", n, n == 1 ? "" : "s",
		    human_size(sz, sizeof(sz), total, 2), npieces,
		    npieces == 1 ? "" : "s",
		    human_size(psz, sizeof(psz), pl, 2),
		    a.nthreads, a.nthreads == 1 ? "" : "s");
	hashes = xcalloc(npieces, SHA1_LEN);
	ok = xcalloc(npieces, sizeof(*ok));
	ho.nthreads = a.nthreads;
	cp.start = cp.last = t0 = create_now();
	cp.last -= 1;			/* draw the first call */
	e = storage_hash_all(st, &ho, hashes, ok, err);
	secs = create_now() - t0;
	if (cp.drawn)
		fputs("\r\033[K", stderr);
	if (e != GT_OK) {
		cmd_error("%s", err);
		rc = EXIT_IO;
		goto done;
	}
	for (p = 0; p < npieces; p++) {
		if (!ok[p]) {
			create_bad_piece(st, path, is_dir, ents, p);
			rc = EXIT_IO;
			goto done;
		}
	}
	if (a.verbose)
		fprintf(stderr, "hashed in %.2f s, %.0f MiB/s\n", secs,
		    secs > 0 ? (double)total / 1048576.0 / secs : 0.0);

	mo = (struct makemeta_opts){
		.name = tname,
		.single_file = !is_dir,
		.piece_length = pl,
		.private = a.private,
		.source = a.source,
		.comment = a.comment,
		.created_by = "gtorrent/" GT_VERSION,
		.has_date = !a.no_date,
		.creation_date = a.no_date ? 0 : reactor_wall_s(),
		.tiers = (const char *const *const *)a.urls.tiers,
		.ntiers = a.urls.ntiers,
		.web_seeds = a.urls.seeds,
		.nweb_seeds = a.urls.nseeds,
	};
	e = makemeta_build(&mo, mfiles, n, hashes, npieces, &out);
	if (e != GT_OK) {
		if (e == GT_ETOOBIG)
			cmd_error("%s: the torrent would be larger "
			    "than %u MiB", path, MI_MAX_TORRENT >> 20);
		else
			cmd_error("%s: %s", path, gt_strerror(e));
		rc = EXIT_BADINPUT;
		goto done;
	}
	torrent = buf_take(&out, &tlen);
	if (!create_info_hash(torrent, tlen, ih)) {
		cmd_error("%s: the torrent built does not decode",
		    path);
		rc = EXIT_BADINPUT;
		goto done;
	}

	if (to_stdout) {
		if (write_all(STDOUT_FILENO, torrent, tlen) != 0) {
			cmd_error("standard output: %s",
			    strerror(errno));
			rc = EXIT_IO;
			goto done;
		}
		if (!a.quiet)
			create_summary(stderr, NULL, n, total, npieces, pl,
			    ih);
	} else {
		if ((rc = cmd_write_file("create", output, torrent, tlen,
		    a.force)) != EXIT_OK)
			goto done;
		if (!a.quiet)
			create_summary(stdout, output, n, total, npieces, pl,
			    ih);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			cmd_error("writing output failed");
			rc = EXIT_IO;
			goto done;
		}
	}
	rc = EXIT_OK;

done:
	free(torrent);
	buf_clear(&out);
	free(ok);
	free(hashes);
	storage_free(st);
	free(sfiles);
	free(mfiles);
	if (ents != NULL)
		walk_free(ents, n);
	free(base);
	free(root);
	free(outname);
	free(name);
	free(tname);
	if (tpaths != NULL)
		for (i = 0; i < n; i++)
			free(tpaths[i]);
	free(tpaths);
	create_urls_clear(&a.urls);
	return rc;
}
