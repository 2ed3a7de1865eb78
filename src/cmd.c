/* cmd.c - what the subcommands share: messages, options, loading, output */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"
#include "cmd.h"
#include "config.h"
#include "dht.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include "metainfo.h"
#include "reactor.h"
#include "session.h"
#include "sockaddr.h"

static void	cmd_vmessage(const char *, const char *, va_list,
		    const char *) GT_PRINTF(2, 0);

void
cmd_set_name(const char *name)
{
	cmd_ctx.name = name;
}

/*
 * Whether msg already starts with the subcommand's name and ": " (callers
 * written before cmd_error added it say "create: ...", "download: ...").
 */
static bool
cmd_named(const char *msg)
{
	size_t	len;

	if (cmd_ctx.name == NULL)
		return true;
	len = strlen(cmd_ctx.name);
	return strncmp(msg, cmd_ctx.name, len) == 0 && (msg[len] == ':' ||
	    msg[len] == ' ');
}

/*
 * One line on stderr: prefix, the message made safe for a terminal, tail.
 * An error (prefix "gtorrent: ") names the subcommand: "gtorrent: CMD: ".
 */
static void
cmd_vmessage(const char *prefix, const char *fmt, va_list ap,
    const char *tail)
{
	char	*msg, *safe, *line;
	bool	 named;

	if (vasprintf(&msg, fmt, ap) == -1) {
		fprintf(stderr, "%s(out of memory)%s\n", prefix, tail);
		return;
	}
	safe = text_escape(msg, TEXT_TERM);
	named = strcmp(prefix, "gtorrent: ") != 0 || cmd_named(safe);
	line = xasprintf("%s%s%s%s%s\n", prefix, named ? "" : cmd_ctx.name,
	    named ? "" : ": ", safe, tail);
	log_print(line);		/* around the status line */
	free(line);
	free(safe);
	free(msg);
}

void
cmd_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cmd_vmessage("gtorrent: ", fmt, ap, "");
	va_end(ap);
}

void
cmd_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	cmd_vmessage("gtorrent: warning: ", fmt, ap, "");
	va_end(ap);
}

int
cmd_bad_option(const char *cmd, int c, char **argv)
{
	const char	*arg = optind > 0 ? argv[optind - 1] : "?";
	char		 shortopt[3] = { '-', (char)optopt, '\0' };

	if (optopt != 0)
		arg = shortopt;
	if (c == ':')
		return cmd_usage_error(cmd, "option '%s' needs a value", arg);
	return cmd_usage_error(cmd, "unknown option '%s'", arg);
}

void
cmd_set_verbosity(int verbose)
{
	if (verbose == 1)
		log_set_level(LOG_INFO);
	else if (verbose == 2)
		log_set_level(LOG_DEBUG);
	else if (verbose > 2)
		log_set_level(LOG_TRACE);
}

/* "FILE:LINE: " when optarg is a value from cmd_ctx.conf's file, else "". */
static char *
cmd_conf_where(void)
{
	const struct cmd_config	*c = cmd_ctx.conf;
	size_t			 i;

	for (i = 0; c != NULL && optarg != NULL && i < c->nargs; i++)
		if (optarg >= c->args[i].arg && optarg <= c->args[i].arg +
		    strlen(c->args[i].arg))
			return xasprintf("%s:%u: ", c->path, c->args[i].line);
	return xstrdup("");
}

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list	 ap;
	char	*prefix, *tail, *where;

	/* getopt sets optarg to NULL once done: a value being parsed */
	where = cmd_conf_where();
	prefix = xasprintf("gtorrent: %s: %s", cmd, where);
	free(where);
	tail = xasprintf(" (see 'gtorrent %s --help')", cmd);
	va_start(ap, fmt);
	cmd_vmessage(prefix, fmt, ap, tail);
	va_end(ap);
	free(tail);
	free(prefix);
	return EXIT_USAGE;
}

unsigned
cmd_ncpu(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (unsigned)MIN(n, 256);
}

/*
 * Reads all of fd, at most MI_MAX_TORRENT bytes: one byte more means too
 * big, and nothing past that byte is read, whatever fd is (file, FIFO,
 * pipe, terminal).  size_hint is a regular file's size, else 0.
 */
static int
read_all(int fd, const char *path, size_t size_hint, uint8_t **out,
    size_t *outlen)
{
	uint8_t	*p = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (len == cap) {
			if (len > MI_MAX_TORRENT) {
				free(p);
				cmd_error("%s: larger than %u MiB, refusing",
				    path, MI_MAX_TORRENT >> 20);
				return EXIT_BADINPUT;
			}
			/* The file's size and one byte to see the end. */
			if (cap == 0 && size_hint > 0)
				cap = size_hint + 1;
			else
				cap = cap == 0 ? 65536 : cap * 2;
			cap = MIN(cap, (size_t)MI_MAX_TORRENT + 1);
			p = xrealloc(p, cap);
		}
		n = read(fd, p + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cmd_error("%s: %s", path, strerror(errno));
			free(p);
			return EXIT_IO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = p;
	*outlen = len;
	return EXIT_OK;
}

bool
cmd_is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0;
}

int
cmd_load_torrent_bytes(const char *label, uint8_t *data, size_t len,
    struct metainfo *m)
{
	char		 err[GT_ERRLEN];
	const char	*kind = cmd_torrent_kind(data, len);

	/* data is taken even on failure; kind points into no part of it */
	if (metainfo_parse_take(m, data, len, err) != GT_OK) {
		if (kind != NULL)
			cmd_error("%s: not a .torrent file (%s)", label, kind);
		else
			cmd_error("%s: %s", label, err);
		return EXIT_BADINPUT;
	}
	return EXIT_OK;
}

/* A .torrent being fetched (cmd_load_torrent_url). */
struct cmd_fetch {
	struct reactor	*r;
	bool		 done;
	bool		 interrupted;
	enum gt_err	 e;
	long		 status;
	uint8_t		*data;
	size_t		 len;
	char		 why[GT_ERRLEN];
};

static void
cmd_fetch_done(void *arg, enum gt_err e, long status, const uint8_t *body,
    size_t len, const char *reason)
{
	struct cmd_fetch	*f = arg;

	f->done = true;
	f->e = e;
	f->status = status;
	snprintf(f->why, sizeof(f->why), "%s", reason != NULL ? reason : "");
	if (e == GT_OK) {
		f->data = xmalloc(len > 0 ? len : 1);
		if (len > 0)
			memcpy(f->data, body, len);
		f->len = len;
	}
	reactor_stop(f->r);
}

static void
cmd_fetch_signal(void *arg, int signo)
{
	struct cmd_fetch	*f = arg;

	(void)signo;
	f->interrupted = true;
	reactor_stop(f->r);
}

int
cmd_load_torrent_url(const char *url, const struct netaddr *bind,
    struct metainfo *m)
{
	struct cmd_fetch	 f;
	struct http_opts	 o = {
		.timeout_ms = CMD_FETCH_MS, .max_body = MI_MAX_TORRENT,
		.max_redirects = CMD_FETCH_REDIRECTS,
		.user_agent = SESSION_USER_AGENT,
	};
	struct http		*h = NULL;
	struct http_req		*q;
	char			 ip[ADDR_STRLEN];
	int			 rc;

	memset(&f, 0, sizeof(f));
	if (bind != NULL && bind->family != 0)
		o.bind_ip = addr_ip_str(bind, ip);
	if ((f.r = reactor_new()) == NULL || (h = http_new(f.r)) == NULL) {
		cmd_error("%s: cannot start the event loop", url);
		reactor_free(f.r);
		return EXIT_FAIL;
	}
	reactor_on_signal(f.r, SIGINT, cmd_fetch_signal, &f);
	reactor_on_signal(f.r, SIGTERM, cmd_fetch_signal, &f);
	reactor_on_signal(f.r, SIGHUP, cmd_fetch_signal, &f);
	q = http_get(h, url, &o, cmd_fetch_done, &f);
	while (!f.done && !f.interrupted)
		if (reactor_run(f.r) != 0)
			break;
	if (!f.done)
		http_cancel(q);
	http_free(h);
	reactor_free(f.r);
	if (f.interrupted && !f.done) {
		cmd_error("%s: interrupted while fetching", url);
		return EXIT_INTERRUPTED;
	}
	if (!f.done) {
		cmd_error("%s: the event loop failed", url);
		return EXIT_FAIL;
	}
	if (f.e == GT_ETOOBIG) {
		cmd_error("%s: larger than %u MiB, refusing", url,
		    MI_MAX_TORRENT >> 20);
		return EXIT_BADINPUT;
	}
	if (f.e != GT_OK) {
		cmd_error("%s: %s", url, f.why[0] != '\0' ? f.why :
		    gt_strerror(f.e));
		return EXIT_FAIL;
	}
	if (f.status < 200 || f.status > 299) {
		free(f.data);
		cmd_error("%s: HTTP %ld, not a .torrent file", url, f.status);
		return EXIT_FAIL;
	}
	rc = cmd_load_torrent_bytes(url, f.data, f.len, m);
	return rc;
}

int
cmd_load_torrent_src(const char *src, const struct netaddr *bind,
    struct metainfo *m)
{
	if (cmd_is_url(src))
		return cmd_load_torrent_url(src, bind, m);
	return cmd_load_torrent(src, m);
}

int
cmd_load_torrent(const char *path, struct metainfo *m)
{
	uint8_t		*data;
	size_t		 len;
	struct stat	 st;
	int		 fd, rc;

	if (cmd_is_url(path)) {
		cmd_error("%s: a URL: this command reads a local .torrent file "
		    "(gtorrent download fetches URLs)", path);
		return EXIT_USAGE;
	}
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cmd_error("%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? EXIT_BADINPUT :
		    EXIT_IO;
	}
	if (fstat(fd, &st) == -1) {
		cmd_error("%s: %s", path, strerror(errno));
		rc = EXIT_IO;
	} else if (S_ISDIR(st.st_mode)) {
		cmd_error("%s: is a directory, not a .torrent file", path);
		rc = EXIT_BADINPUT;
	} else if (S_ISREG(st.st_mode) && st.st_size > MI_MAX_TORRENT) {
		cmd_error("%s: larger than %u MiB, refusing", path,
		    MI_MAX_TORRENT >> 20);
		rc = EXIT_BADINPUT;
	} else
		rc = read_all(fd, path, S_ISREG(st.st_mode) ?
		    (size_t)st.st_size : 0, &data, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != EXIT_OK)
		return rc;
	return cmd_load_torrent_bytes(path, data, len, m);
}

/* Whether p starts with s, ASCII case ignored. */
static bool
cmd_starts_nocase(const uint8_t *p, size_t len, const char *s)
{
	size_t	n = strlen(s);

	return len >= n && strncasecmp((const char *)p, s, n) == 0;
}

const char *
cmd_torrent_kind(const uint8_t *p, size_t len)
{
	const uint8_t	*q = p, *end = p + len;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		q += 3;			/* a UTF-8 byte order mark */
	while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' ||
	    *q == '\n' || *q == '\f' || *q == '\v'))
		q++;
	if (q == end)
		return len == 0 ? "it is empty" : "it is only blank space";
	len = (size_t)(end - q);
	if (cmd_starts_nocase(q, len, "<!doctype html") ||
	    cmd_starts_nocase(q, len, "<html") ||
	    cmd_starts_nocase(q, len, "<head") ||
	    cmd_starts_nocase(q, len, "<body") ||
	    ((cmd_starts_nocase(q, len, "<!--") ||
	    cmd_starts_nocase(q, len, "<?xml")) &&
	    memmem(q, MIN(len, 4096), "<html", 5) != NULL))
		return "it looks like HTML";
	if (cmd_starts_nocase(q, len, "<?xml") || cmd_starts_nocase(q, len,
	    "<rss"))
		return "it looks like XML";
	if (cmd_starts_nocase(q, len, "magnet:"))
		return "it holds a magnet link: give that to -m";
	if (*q == '{')
		return "it looks like JSON";
	return NULL;
}

int
cmd_parse_size(const char *s, uint64_t *out)
{
	char			*end;
	unsigned long long	 v;
	unsigned		 shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	default:
		return -1;
	}
	if (*end != '\0') {
		end++;
		if (*end == 'i')	/* KiB, MiB */
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end != '\0')
			return -1;
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int
cmd_parse_decimal(const char *s, double lo, double hi, double *out)
{
	double		 v = 0, scale = 1;
	const char	*p = s;
	bool		 digits = false;

	/* By hand: strtod follows LC_NUMERIC and takes "inf", "0x1p3". */
	for (; *p >= '0' && *p <= '9'; p++, digits = true)
		v = v * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
	}
	if (!digits || *p != '\0' || p - s > 32 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

void
cmd_json_str(FILE *f, const char *s)
{
	char	*json;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	json = text_escape(s, TEXT_JSON);
	fputs(json, f);
	free(json);
}

void
cmd_print_safe(FILE *f, const char *s)
{
	char	*safe = text_escape(s, TEXT_TERM);

	fputs(safe, f);
	free(safe);
}

int
cmd_parse_port(const char *s, uint16_t *out)
{
	unsigned long	v = 0;
	const char	*p;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
cmd_parse_bind(const char *s, struct netaddr *out)
{
	struct ifaddrs	*ifs, *i;
	struct netaddr	 a, best;
	int		 rank, best_rank = 0;

	if (addr_parse_ip(s, out) == GT_OK)
		return 0;
	if (*s == '\0' || getifaddrs(&ifs) != 0)
		return -1;
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || strcmp(i->ifa_name, s) != 0 ||
		    !sockaddr_to_netaddr(i->ifa_addr, &a))
			continue;
		/* IPv4 first, then IPv6 but link-local (no scope here) */
		if (a.family == ADDR_V4)
			rank = 3;
		else if (a.ip[0] == 0xfe && (a.ip[1] & 0xc0) == 0x80)
			rank = 1;
		else
			rank = 2;
		if (rank > best_rank) {
			best = a;
			best_rank = rank;
		}
	}
	freeifaddrs(ifs);
	if (best_rank == 0)
		return -1;
	best.port = 0;
	*out = best;
	return 0;
}

/* A host name (RFC 1123 letters, digits, '-' in dot-separated labels). */
static bool
host_name_ok(const char *s, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
		if (++label > 63 || (label == 1 && s[i] == '-'))
			return false;
	}
	return true;
}

bool
cmd_hostport_ok(const char *s)
{
	struct netaddr	 a;
	const char	*colon;
	uint16_t	 port;

	if (s[0] == '[')
		return addr_parse(s, 0, &a) == GT_OK && a.family == ADDR_V6;
	if ((colon = strrchr(s, ':')) == NULL ||
	    cmd_parse_port(colon + 1, &port) != 0)
		return false;
	return host_name_ok(s, (size_t)(colon - s));
}

int
cmd_add_bootstrap(const char *cmd, char *arg, char ***v, size_t *n)
{
	if (!cmd_hostport_ok(arg))
		return cmd_usage_error(cmd, "--dht-bootstrap needs HOST:PORT "
		    "(a name, a numeric IPv4 or [IPv6] address, a port 1 to "
		    "65535), not '%s'", arg);
	if (*n == DHT_BOOTSTRAP_MAX)
		return cmd_usage_error(cmd, "more than %u --dht-bootstrap "
		    "options", DHT_BOOTSTRAP_MAX);
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = arg;
	return EXIT_OK;
}

/* mkdir -p, the folders it makes with mode; -1 with errno. */
static int
mkdirs(const char *path, mode_t mode)
{
	struct stat	 st;
	char		*p = xstrdup(path);
	size_t		 i, len = strlen(p);
	int		 rc = 0;

	for (i = 1; i <= len && rc == 0; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (stat(p, &st) != 0) {
			if (mkdir(p, mode) != 0 && errno != EEXIST)
				rc = -1;
		} else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			rc = -1;
		}
		if (i < len)
			p[i] = '/';
	}
	free(p);
	return rc;
}

char *
cmd_state_dir(void)
{
	const char	*xdg = getenv("XDG_STATE_HOME");
	const char	*home = getenv("HOME");
	char		*dir;

	/* XDG: a relative $XDG_STATE_HOME is invalid and ignored. */
	if (xdg != NULL && xdg[0] == '/')
		dir = xasprintf("%s/gtorrent", xdg);
	else if (home != NULL && home[0] == '/')
		dir = xasprintf("%s/.local/state/gtorrent", home);
	else {
		cmd_warn("no state folder ($XDG_STATE_HOME and $HOME unset): "
		    "the DHT routing table and resume records are not kept");
		return NULL;
	}
	if (mkdirs(dir, 0700) != 0) {
		cmd_warn("%s: %s: the DHT routing table and resume records "
		    "are not kept", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* The folder holding path ("." if none); malloc'd. */
char *
cmd_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Moves tmp to out; without force, never over an existing file. */
static int
cmd_rename(const char *tmp, const char *out, bool force)
{
	struct stat	sb;

	if (force)
		return rename(tmp, out);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* The file system cannot do it: link (atomic), else check first. */
	if (link(tmp, out) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno == EEXIST)
		return -1;
	if (lstat(out, &sb) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(tmp, out);
}

/* Writes OUT.tmp-PID in OUT's folder, syncs it and renames it to OUT. */
int
cmd_write_file(const char *cmd, const char *out, const uint8_t *p, size_t len,
    bool force)
{
	char	*tmp, *dir;
	int	 fd, saved, dfd;

	tmp = xasprintf("%s.tmp-%ld", out, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd == -1) {
		cmd_error("%s: %s: %s", cmd, tmp, strerror(errno));
		free(tmp);
		return EXIT_IO;
	}
	if (write_all(fd, p, len) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) != 0) {
		saved = errno;
		goto fail;
	}
	if (cmd_rename(tmp, out, force) != 0) {
		saved = errno;
		unlink(tmp);
		free(tmp);
		if (saved == EEXIST)
			cmd_error("%s: %s: already exists (use -f to "
			    "overwrite)", cmd, out);
		else
			cmd_error("%s: %s: %s", cmd, out, strerror(saved));
		return EXIT_IO;
	}
	free(tmp);
	dir = cmd_dirname(out);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);		/* the rename itself; best effort */
		close(dfd);
	}
	free(dir);
	return EXIT_OK;

fail:
	unlink(tmp);
	cmd_error("%s: %s: %s", cmd, tmp, strerror(saved));
	free(tmp);
	return EXIT_IO;
}

int
cmd_one_torrent(int argc, char **argv, const char *cmd,
    void (*usage)(FILE *), bool *json, struct metainfo *m)
{
	static const struct option	 longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int				 c;

	*json = false;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cmd_bad_option(cmd, c, argv);
		}
	}
	if (optind != argc - 1)
		return cmd_usage_error(cmd, "%s", optind == argc ?
		    "missing FILE.torrent" : "one FILE.torrent at a time");
	c = cmd_load_torrent(argv[optind], m);
	return c == EXIT_OK ? -1 : c;
}

int
cmd_flush_stdout(const char *cmd)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("%s: writing output failed", cmd);
		return EXIT_IO;
	}
	return EXIT_OK;
}

/* Options the config file may not hold (they are about the file). */
static const char *const cmd_conf_refused[] = {
	"help", "config", "no-config",
};

/* config_check_fn: the file's option name against the command's longopts. */
static enum gt_err
cmd_conf_check(void *arg, const char *name, const char *value, char *err)
{
	const struct option	*o;
	size_t			 i;

	for (i = 0; i < nitems(cmd_conf_refused); i++)
		if (strcmp(cmd_conf_refused[i], name) == 0)
			return gt_fail(err, GT_EINVAL, "option '%s' is not "
			    "for a config file", name);
	for (o = arg; o->name != NULL && strcmp(o->name, name) != 0; o++)
		;
	if (o->name == NULL)
		return gt_fail(err, GT_EINVAL, "unknown option '%s'", name);
	if (o->has_arg == required_argument && value == NULL)
		return gt_fail(err, GT_EINVAL, "option '%s' needs a value",
		    name);
	if (o->has_arg == no_argument && value != NULL)
		return gt_fail(err, GT_EINVAL, "option '%s' takes no value",
		    name);
	return GT_OK;
}

/*
 * The config file's path: $XDG_CONFIG_HOME/gtorrent/config, else
 * ~/.config/gtorrent/config; NULL when there is none to look at.
 */
static char *
cmd_conf_path(void)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME");
	const char	*home = getenv("HOME");

	/* XDG: a relative $XDG_CONFIG_HOME is invalid and ignored. */
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/gtorrent/config", xdg);
	if (home != NULL && home[0] == '/')
		return xasprintf("%s/.config/gtorrent/config", home);
	return NULL;
}

/*
 * Reads the config file (a regular file of at most CONFIG_MAX_BYTES, not
 * waited on if it is a FIFO); *text NULL (and EXIT_OK) when an implicit
 * one is missing.  EXIT_OK, else the error said (EXIT_USAGE).
 */
static int
cmd_conf_read(const char *cmd, const char *path, bool given, uint8_t **text,
    size_t *len)
{
	struct stat	 st;
	uint8_t		*p;
	ssize_t		 n = 0;
	size_t		 got = 0;
	int		 fd, saved;

	*text = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT && !given)
			return EXIT_OK;
		return cmd_usage_error(cmd, "config file %s: %s", path,
		    strerror(errno));
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return cmd_usage_error(cmd, "config file %s: %s", path,
		    strerror(saved));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_BYTES) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return cmd_usage_error(cmd, "config file %s: not a "
			    "regular file", path);
		return cmd_usage_error(cmd, "config file %s: larger than %u "
		    "bytes", path, CONFIG_MAX_BYTES);
	}
	/* One byte more than the cap: a file that grew is seen. */
	p = xmalloc(CONFIG_MAX_BYTES + 1);
	while (got <= CONFIG_MAX_BYTES) {
		n = read(fd, p + got, CONFIG_MAX_BYTES + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	saved = errno;
	close(fd);
	if (n < 0 || got > CONFIG_MAX_BYTES) {
		free(p);
		if (n < 0)
			return cmd_usage_error(cmd, "config file %s: %s", path,
			    strerror(saved));
		return cmd_usage_error(cmd, "config file %s: larger than %u "
		    "bytes", path, CONFIG_MAX_BYTES);
	}
	*text = p;
	*len = got;
	return EXIT_OK;
}

static bool
cmd_help_asked(int argc, char **argv)
{
	int	j;

	for (j = 1; j < argc && strcmp(argv[j], "--") != 0; j++)
		if (strcmp(argv[j], "--help") == 0 ||
		    strcmp(argv[j], "-h") == 0)
			return true;
	return false;
}

/*
 * --config FILE, --config=FILE, --no-config (and --help: no file,
 * whatever it holds) before "--": *path the file to read (malloc'd), NULL
 * for none, *given whether --config named it.  EXIT_OK, else the usage
 * error said.
 */
static int
cmd_conf_which(const char *cmd, int argc, char **v, char **path, bool *given)
{
	bool	none = false;
	int	j;

	*path = NULL;
	*given = false;
	for (j = 1; j < argc && strcmp(v[j], "--") != 0; j++) {
		if (strcmp(v[j], "--no-config") == 0 ||
		    strcmp(v[j], "--help") == 0 || strcmp(v[j], "-h") == 0)
			none = true;
		else if (strncmp(v[j], "--config=", 9) == 0) {
			free(*path);
			*path = xstrdup(v[j] + 9);
			*given = true;
		} else if (strcmp(v[j], "--config") == 0) {
			free(*path);
			*path = NULL;
			if (j + 1 == argc)
				return cmd_usage_error(cmd, "option "
				    "'--config' needs a value");
			*path = xstrdup(v[++j]);
			*given = true;
		}
	}
	if (*given && none && !cmd_help_asked(argc, v)) {
		free(*path);
		*path = NULL;
		return cmd_usage_error(cmd, "--config and --no-config do not "
		    "go together");
	}
	if (*given && (*path)[0] == '\0') {
		free(*path);
		*path = NULL;
		return cmd_usage_error(cmd, "--config needs a file name");
	}
	if (none) {
		free(*path);
		*path = NULL;
	} else if (!*given)
		*path = cmd_conf_path();
	return EXIT_OK;
}

int
cmd_config(struct cmd_config *conf, const char *cmd,
    const struct option *longopts, int *argc, char ***argv)
{
	struct config	  cf;
	char		**v = *argv, **nv, *path, err[GT_ERRLEN];
	uint8_t		 *text = NULL;
	size_t		  len = 0, k, i;
	bool		  given;
	int		  j, rc;
	enum gt_err	  e;

	memset(conf, 0, sizeof(*conf));
	config_init(&cf);
	if ((rc = cmd_conf_which(cmd, *argc, v, &path, &given)) != EXIT_OK)
		return rc;
	if (path != NULL && (rc = cmd_conf_read(cmd, path, given, &text,
	    &len)) != EXIT_OK) {
		free(path);
		return rc;
	}
	if (text != NULL && (e = config_parse(text, len, cmd, cmd_conf_check,
	    (void *)longopts, &cf, err)) != GT_OK) {
		rc = e == GT_ETOOBIG ? cmd_usage_error(cmd, "config file %s: "
		    "%s", path, err) : cmd_usage_error(cmd, "%s:%s", path, err);
		free(text);
		free(path);
		return rc;
	}
	free(text);
	/* The file's options, then the command line's: the last one wins. */
	nv = xreallocarray(NULL, (size_t)*argc + cf.n + 1, sizeof(*nv));
	nv[0] = v[0];
	k = 1;
	if (cf.n > 0)
		conf->args = xreallocarray(NULL, cf.n, sizeof(*conf->args));
	for (i = 0; i < cf.n; i++) {
		nv[k] = cf.v[i].value != NULL ? xasprintf("--%s=%s",
		    cf.v[i].name, cf.v[i].value) : xasprintf("--%s",
		    cf.v[i].name);
		conf->args[i] = (struct cmd_config_arg){
			.arg = nv[k], .line = cf.v[i].line,
		};
		k++;
	}
	conf->nargs = cf.n;
	config_clear(&cf);
	/* The command line, without --config and --no-config. */
	for (j = 1; j < *argc; j++) {
		if (strcmp(v[j], "--") == 0) {
			for (; j < *argc; j++)
				nv[k++] = v[j];
			break;
		}
		if (strcmp(v[j], "--no-config") == 0 ||
		    strncmp(v[j], "--config=", 9) == 0)
			continue;
		if (strcmp(v[j], "--config") == 0) {
			j++;
			continue;
		}
		nv[k++] = v[j];
	}
	nv[k] = NULL;
	conf->path = path;
	conf->argv = nv;
	cmd_ctx.conf = conf;
	*argc = (int)k;
	*argv = nv;
	return EXIT_OK;
}

void
cmd_config_clear(struct cmd_config *conf)
{
	size_t	i;

	if (cmd_ctx.conf == conf)
		cmd_ctx.conf = NULL;
	for (i = 0; i < conf->nargs; i++)
		free(conf->args[i].arg);
	free(conf->args);
	free(conf->path);
	free(conf->argv);
	memset(conf, 0, sizeof(*conf));
}
