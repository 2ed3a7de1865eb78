/* main.c - gtorrent's entry point: global options and the subcommand table */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "err.h"
#include "metainfo.h"

static const struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*summary;
} commands[] = {
	{ "download", cmd_download, "download a torrent (or: gtorrent "
	    "FILE.torrent)" },
	{ "seed", cmd_seed, "seed data already on disk until Ctrl-C" },
	{ "create", cmd_create, "make a .torrent from a file or folder" },
	{ "info", cmd_info, "show what a .torrent holds" },
	{ "verify", cmd_verify, "check data on disk against a .torrent" },
	{ "scrape", cmd_scrape, "ask trackers how many seeders and leechers" },
};

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "usage: gtorrent COMMAND [OPTIONS] ARGS...\n"
	    "       gtorrent [OPTIONS] FILE.torrent  (same as 'download')\n"
	    "       gtorrent --help | --version\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f,
	    "\n"
	    "Run 'gtorrent COMMAND --help' for the options of a command.\n"
	    "\n"
	    "Exit status: 0 success; 1 checked but incomplete or bad data;\n"
	    "2 bad command line; 3 invalid or unreadable input (.torrent,\n"
	    "path); 4 a file could not be read or written; 130 interrupted.\n");
}

/* A .torrent file named without a subcommand. */
static int
is_torrent_arg(const char *arg)
{
	struct stat	st;
	size_t		len = strlen(arg);

	if (len > 8 && strcmp(arg + len - 8, ".torrent") == 0)
		return 1;
	return stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

int
main(int argc, char **argv)
{
	const char	*arg;
	size_t		 i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	arg = argv[1];
	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 ||
	    strcmp(arg, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
		printf("gtorrent %s\n", GT_VERSION);
		return EXIT_OK;
	}
	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(arg, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	/* gtorrent [OPTIONS] FILE.torrent: a download. */
	if (arg[0] == '-' || is_torrent_arg(arg))
		return cmd_download(argc, argv);
	cmd_error("unknown command '%s' (see 'gtorrent --help')", arg);
	return EXIT_USAGE;
}

void
cmd_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("gtorrent: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cmd_warn(const char *fmt, ...)
{
	va_list	ap;

	fputs("gtorrent: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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

int
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "gtorrent: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'gtorrent %s --help')\n", cmd);
	return EXIT_USAGE;
}

unsigned
cmd_ncpu(void)
{
	long	n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : (unsigned)MIN(n, 256);
}

static int
read_all(int fd, const char *path, uint8_t **out, size_t *outlen)
{
	uint8_t	*p = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (len == cap) {
			if (cap > MI_MAX_TORRENT) {
				free(p);
				cmd_error("%s: larger than %u MiB, refusing",
				    path, MI_MAX_TORRENT >> 20);
				return EXIT_BADINPUT;
			}
			cap = cap == 0 ? 65536 : cap * 2;
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

int
cmd_load_torrent(const char *path, struct metainfo *m)
{
	char		 err[GT_ERRLEN];
	uint8_t		*data;
	size_t		 len;
	struct stat	 st;
	enum gt_err	 e;
	int		 fd, rc;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cmd_error("%s: %s", path, strerror(errno));
		return errno == ENOENT || errno == EACCES ? EXIT_BADINPUT :
		    EXIT_IO;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		cmd_error("%s: is a directory, not a .torrent file", path);
		rc = EXIT_BADINPUT;
	} else
		rc = read_all(fd, path, &data, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc != EXIT_OK)
		return rc;
	e = metainfo_parse(m, data, len, err);
	free(data);
	if (e != GT_OK) {
		cmd_error("%s: %s", path, err);
		return EXIT_BADINPUT;
	}
	return EXIT_OK;
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

/*
 * Length of the valid UTF-8 sequence at s (1-4), or 0 if it is invalid:
 * no overlong forms, no surrogates, nothing past U+10FFFF.
 */
static size_t
utf8_seq(const unsigned char *s)
{
	unsigned char	c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;
		if (c == 0xed && s[1] >= 0xa0)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

void
cmd_json_str(FILE *f, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*s != '\0') {
		if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if (*s == '\t') {
			fputs("\\t", f);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
		} else if ((n = utf8_seq(s)) == 0) {
			fputs("\\ufffd", f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}

void
cmd_print_safe(FILE *f, const char *str)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 n;

	while (*s != '\0') {
		if (*s < 0x20 || *s == 0x7f || (n = utf8_seq(s)) == 0) {
			fputc('?', f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
}
