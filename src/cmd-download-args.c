/* cmd-download-args.c - sources, file lists and the folder of download, seed */
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd-download-int.h"
#include "metainfo.h"
#include "session.h"
#include "util.h"

#define DL_MAX_SOURCES		SESSION_MAX_TORRENTS	/* torrents, at most */
#define DL_MAX_LINE		65536	/* -i: a line, at most (bytes) */
#define DL_MAX_RANGES		1024	/* file ranges of one list option */

/*
 * Whether the data folder can take data, before any peer is contacted:
 * dir, or else the nearest folder above it that exists (where dir will be
 * made), must be a folder this process may write, on a file system not
 * mounted read-only and not full.  EXIT_OK, or the error said (exit 4).
 */
int
dl_check_dir(const char *dir)
{
	struct statvfs	 vfs;
	struct stat	 st;
	char		*p = xstrdup(dir), *q;
	int		 rc = EXIT_OK, err = 0;

	while (stat(p, &st) != 0) {
		if (errno != ENOENT) {
			err = errno;
			goto out;
		}
		q = cmd_dirname(p);
		if (strcmp(q, p) == 0) {	/* "/" or "." missing */
			free(q);
			err = ENOENT;
			goto out;
		}
		free(p);
		p = q;
	}
	if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	else if (access(p, W_OK | X_OK) != 0)
		err = errno;		/* EACCES, EROFS */
	else if (statvfs(p, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		err = EROFS;
	else if (statvfs(p, &vfs) == 0 && (geteuid() == 0 ? vfs.f_bfree :
	    vfs.f_bavail) == 0)
		err = ENOSPC;
out:
	if (err != 0) {
		if (strcmp(p, dir) == 0)
			cmd_error("%s: %s", dir, strerror(err));
		else
			cmd_error("%s: cannot be made in %s: %s", dir, p,
			    strerror(err));
		rc = EXIT_IO;
	}
	free(p);
	return rc;
}

/* One file number of a LIST at *p (digits only); -1 if there is none. */
static int
dl_parse_index(const char **p, unsigned long *out)
{
	const char	*s = *p;
	unsigned long	 v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (unsigned long)(*s - '0')) > MI_MAX_FILES)
			v = MI_MAX_FILES + 1ul;	/* and no overflow */
	*p = s;
	*out = v;
	return 0;
}

/*
 * A LIST of --select-file, --priority-high or --priority-low: file numbers
 * as --show-files shows them (1-based, aria2c's spelling), N or N-M (N <=
 * M) split by ',', e.g. "1,3-5"; appended to *r, 0-based.  EXIT_OK, or
 * the usage error said.
 */
int
dl_parse_files(const char *cmd, const char *opt, const char *arg,
    struct dl_ranges *r)
{
	const char	*p = arg;
	unsigned long	 a, b;

	for (;;) {
		if (dl_parse_index(&p, &a) != 0)
			goto bad;
		b = a;
		if (*p == '-') {
			p++;
			if (dl_parse_index(&p, &b) != 0)
				goto bad;
		}
		if (*p != '\0' && *p != ',')
			goto bad;
		if (a == 0 || b == 0)
			return cmd_usage_error(cmd, "%s %s: file numbers start "
			    "at 1, as --show-files lists them", opt, arg);
		if (a > b)
			return cmd_usage_error(cmd, "%s %s: the range %lu-%lu "
			    "goes down", opt, arg, a, b);
		if (b > MI_MAX_FILES)
			return cmd_usage_error(cmd, "%s %s: no torrent has more "
			    "than %u files", opt, arg, MI_MAX_FILES);
		if (r->n == DL_MAX_RANGES)
			return cmd_usage_error(cmd, "more than %u file ranges "
			    "for %s", DL_MAX_RANGES, opt);
		r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
		r->v[r->n++] = (struct torrent_range){
			.first = (uint32_t)(a - 1), .last = (uint32_t)(b - 1),
		};
		if (*p == '\0')
			return EXIT_OK;
		p++;			/* ',' */
	}
bad:
	return cmd_usage_error(cmd, "%s needs file numbers N or ranges N-M "
	    "split by ',' (e.g. 1,3-5), not '%s'", opt, arg);
}

/* The highest file index (0-based) of r, or -1 when r is empty. */
int64_t
dl_ranges_max(const struct dl_ranges *r)
{
	int64_t	max = -1;
	size_t	i;

	for (i = 0; i < r->n; i++)
		if ((int64_t)r->v[i].last > max)
			max = r->v[i].last;
	return max;
}

/* Exit codes, worst last: 0, 1, 130, 3, 4. */
int
dl_rank(int rc)
{
	switch (rc) {
	case EXIT_OK:
		return 0;
	case EXIT_FAIL:
		return 1;
	case EXIT_INTERRUPTED:
		return 2;
	case EXIT_BADINPUT:
		return 3;
	default:
		return 4;
	}
}

/* Decimal digits of n. */
static int
dl_digits(uint64_t n)
{
	int	k = 1;

	while (n >= 10) {
		n /= 10;
		k++;
	}
	return k;
}

/*
 * --show-files: for each .torrent its files, one a line: number (1-based,
 * as --select-file takes it), size (human, then exact) and path under the
 * output folder, escaped for a terminal.  The exit code.
 */
int
dl_show_files(const char *cmd, const struct dl_src *srcs, size_t n)
{
	const struct mi_file	*f;
	struct metainfo		 m;
	char			 sz[32];
	size_t			 i, k;
	uint64_t		 big;
	int			 rc = EXIT_OK, r, wn, ws;
	bool			 shown = false;

	for (i = 0; i < n; i++) {
		memset(&m, 0, sizeof(m));
		if ((r = cmd_load_torrent_src(srcs[i].arg, NULL, &m)) !=
		    EXIT_OK) {
			if (dl_rank(r) > dl_rank(rc))
				rc = r;
			continue;
		}
		if (shown)
			putchar('\n');
		shown = true;
		cmd_print_safe(stdout, srcs[i].arg);
		printf(": %zu file%s, %s (%llu bytes)\n", m.nfiles,
		    m.nfiles == 1 ? "" : "s",
		    human_size(sz, sizeof(sz), m.total_length, 2),
		    (unsigned long long)m.total_length);
		for (k = 0, big = 0; k < m.nfiles; k++)
			big = MAX(big, m.files[k].length);
		wn = dl_digits(m.nfiles);
		ws = dl_digits(big);
		for (k = 0; k < m.nfiles; k++) {
			f = &m.files[k];
			printf("%*zu  %10s  %*llu  ", wn, k + 1,
			    human_size(sz, sizeof(sz), f->length, 2), ws,
			    (unsigned long long)f->length);
			cmd_print_safe(stdout, f->path);
			if (f->attr & MI_ATTR_PAD)
				fputs(" [padding]", stdout);
			if (f->symlink != NULL) {
				fputs(" -> ", stdout);
				cmd_print_safe(stdout, f->symlink);
			}
			putchar('\n');
		}
		metainfo_clear(&m);
	}
	r = cmd_flush_stdout(cmd);
	return rc != EXIT_OK ? rc : r;
}

/* -i FILE: one source a line (as aria2c's --input-file). */
int
dl_read_input(const char *cmd, const char *path, struct dl_src **v,
    size_t *n)
{
	FILE		*f;
	char		*line = NULL, *p, *e;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 len;
	int		 rc = EXIT_OK;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		cmd_error("%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? EXIT_BADINPUT :
		    EXIT_IO;
	}
	while (rc == EXIT_OK && (len = getline(&line, &cap, f)) != -1) {
		lineno++;
		if ((size_t)len > DL_MAX_LINE) {
			cmd_error("%s: line %zu: longer than %u bytes", path,
			    lineno, DL_MAX_LINE);
			rc = EXIT_BADINPUT;
			break;
		}
		if (memchr(line, '\0', (size_t)len) != NULL) {
			cmd_error("%s: line %zu: a NUL byte", path, lineno);
			rc = EXIT_BADINPUT;
			break;
		}
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n' || *p == '\v' || *p == '\f'; p++)
			;
		for (e = p + strlen(p); e > p && (e[-1] == ' ' ||
		    e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n' ||
		    e[-1] == '\v' || e[-1] == '\f'); e--)
			;
		*e = '\0';
		if (*p == '\0' || *p == '#')
			continue;
		if (*n == DL_MAX_SOURCES) {
			rc = cmd_usage_error(cmd, "more than %u torrents",
			    DL_MAX_SOURCES);
			break;
		}
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[*n] = (struct dl_src){
			.arg = xstrdup(p),
			.magnet = strncasecmp(p, "magnet:", 7) == 0,
		};
		(*n)++;
	}
	if (rc == EXIT_OK && ferror(f)) {
		cmd_error("%s: %s", path, strerror(errno));
		rc = EXIT_IO;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

int
dl_add_src(const char *cmd, const char *arg, bool magnet, struct dl_src **v,
    size_t *n)
{
	if (*n == DL_MAX_SOURCES)
		return cmd_usage_error(cmd, "more than %u torrents",
		    DL_MAX_SOURCES);
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n] = (struct dl_src){ .arg = xstrdup(arg), .magnet = magnet };
	(*n)++;
	return EXIT_OK;
}
