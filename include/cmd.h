/* cmd.h - subcommands and what they share (layer 4, CLI) */
#ifndef GT_CMD_H
#define GT_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "util.h"

#define GT_VERSION	"0.1.0"
#define CMD_FETCH_MS		30000	/* a .torrent by URL, at most */
#define CMD_FETCH_REDIRECTS	5	/* ... through this many redirects */

struct cmd_config;
struct metainfo;
struct netaddr;
struct option;

/* Exit codes, documented in README.md and gtorrent.1. */
enum {
	EXIT_OK = 0,		/* done: complete, verified, written */
	EXIT_FAIL = 1,		/* ran, but the result is negative (bad pieces) */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_BADINPUT = 3,	/* unreadable or invalid .torrent or input */
	EXIT_IO = 4,		/* a file could not be read or written */
	EXIT_INTERRUPTED = 130,	/* stopped by SIGINT/SIGTERM/SIGHUP */
};

/* Each takes argv[0] = the subcommand's name and returns an exit code. */
int	cmd_create(int argc, char **argv);
/* `gtorrent dht get-peers|ping ...` */
int	cmd_dht(int argc, char **argv);
/* Also `gtorrent [OPTIONS] FILE.torrent` (argv[0] is then "gtorrent"). */
int	cmd_download(int argc, char **argv);
int	cmd_info(int argc, char **argv);
int	cmd_magnet(int argc, char **argv);
int	cmd_scrape(int argc, char **argv);
int	cmd_seed(int argc, char **argv);
int	cmd_verify(int argc, char **argv);

/*
 * The command running, for its messages: main.c holds it (mutable
 * globals live in main.c and log.c only).  cmd_error puts name after
 * "gtorrent: "; cmd_usage_error names conf's FILE:LINE for a value of its
 * file that getopt is parsing.
 */
struct cmd_ctx {
	const char		*name;	/* "download", "create", ...: main
					   sets it before running the command */
	const struct cmd_config	*conf;	/* the config file applied (by
					   cmd_config, till cmd_config_clear),
					   or NULL */
};
extern struct cmd_ctx	cmd_ctx;

/* Sets cmd_ctx.name. */
void	cmd_set_name(const char *);
/*
 * "gtorrent: CMD: " + message + newline on stderr, CMD as cmd_set_name
 * gave it (left out when the message already starts with "CMD: " or
 * "CMD "); the message is escaped as text_escape(TEXT_TERM) does (so are
 * cmd_warn's and cmd_usage_error's).  One line, always.
 */
void	cmd_error(const char *, ...) GT_PRINTF(1, 2);
/* "gtorrent: warning: " + message. */
void	cmd_warn(const char *, ...) GT_PRINTF(1, 2);
/* Number of online CPUs, at least 1. */
unsigned cmd_ncpu(void);
/*
 * Reads and parses a .torrent ("-" = stdin); on failure prints
 * "gtorrent: PATH: reason" and returns EXIT_BADINPUT (or EXIT_IO).
 */
int	cmd_load_torrent(const char *path, struct metainfo *);
/* Is s an http:// or https:// URL? */
bool	cmd_is_url(const char *s);
/*
 * A .torrent from bytes (data is taken: freed, or owned by m), label
 * naming it in errors; an empty file or a web page is said for what it
 * is.  EXIT_OK or EXIT_BADINPUT, the error printed.
 */
int	cmd_load_torrent_bytes(const char *label, uint8_t *data, size_t len,
	    struct metainfo *);
/*
 * A .torrent fetched from an http:// or https:// URL on an event loop of
 * its own (at most CMD_FETCH_MS, CMD_FETCH_REDIRECTS redirects, and
 * MI_MAX_TORRENT bytes; from bind's address unless NULL or family 0).
 * Errors are one line: EXIT_FAIL for the network and HTTP errors,
 * EXIT_BADINPUT for what came, EXIT_INTERRUPTED on a signal.
 */
int	cmd_load_torrent_url(const char *url, const struct netaddr *bind,
	    struct metainfo *);
/* A URL (cmd_load_torrent_url), else a path (cmd_load_torrent). */
int	cmd_load_torrent_src(const char *src, const struct netaddr *bind,
	    struct metainfo *);
/*
 * Why bytes that failed to parse as a .torrent are not one at all, for
 * "PATH: not a .torrent file (HINT)": "it is empty", "it looks like HTML"
 * (a web page saved instead of the file it links to), XML, JSON, a magnet
 * link; NULL when they may be a damaged .torrent (say the parser's error).
 */
const char *cmd_torrent_kind(const uint8_t *, size_t);
/*
 * The command line of `info` and `magnet`: [-j|--json] [-h|--help]
 * FILE.torrent.  Returns -1 with *m loaded (and *json set) for the caller
 * to go on, else the exit code to return (help shown, bad option, bad
 * file: the message is printed).
 */
int	cmd_one_torrent(int argc, char **argv, const char *cmd,
	    void (*usage)(FILE *), bool *json, struct metainfo *m);
/* Flushes stdout; a failure is "gtorrent: CMD: writing output failed". */
int	cmd_flush_stdout(const char *cmd);
/* Parses "N", "Nk", "NM", "NG" (powers of 1024); -1 if bad. */
int	cmd_parse_size(const char *, uint64_t *);
/*
 * A decimal number (digits, an optional fraction: "1.5"), lo <= v <= hi,
 * in the C locale whatever the user's: 0 with *out set, else -1.
 */
int	cmd_parse_decimal(const char *, double lo, double hi, double *out);
/*
 * After getopt_long (optstring starting with ':') returned c = '?' or ':':
 * one line naming the bad option and pointing at 'gtorrent CMD --help';
 * returns EXIT_USAGE.
 */
int	cmd_bad_option(const char *cmd, int c, char **argv);
/* An option of the config file in the argv cmd_config made. */
struct cmd_config_arg {
	char		*arg;		/* "--name[=value]" (malloc'd) */
	unsigned	 line;		/* its line in the file */
};

/* The config file applied to a command line (cmd_config's; caller's). */
struct cmd_config {
	char			 *path;	/* the file read; NULL: none */
	char			**argv;	/* the argv made, NULL-terminated (its
					   strings: args' and the caller's) */
	struct cmd_config_arg	 *args;	/* the file's options in argv */
	size_t			  nargs;
};

/*
 * The config file, for `download` and `seed`: $XDG_CONFIG_HOME/gtorrent/config
 * (else ~/.config/gtorrent/config; --config FILE instead, --no-config for
 * none), decoded by config_parse (include/config.h: the syntax) for the
 * section cmd and checked against longopts.  *argv becomes argv[0], the
 * file's options as "--name[=value]", then the command line's without
 * --config/--no-config (it wins: it comes last), kept in *conf, which
 * becomes cmd_ctx.conf.  EXIT_OK, or the error said ("FILE:LINE: ...",
 * EXIT_USAGE) with *conf empty.  cmd_config_clear(conf) frees it either
 * way (and unsets cmd_ctx.conf).
 */
int	cmd_config(struct cmd_config *conf, const char *cmd,
	    const struct option *longopts, int *argc, char ***argv);
void	cmd_config_clear(struct cmd_config *);
/*
 * One line "gtorrent: CMD: message (see 'gtorrent CMD --help')"; while
 * getopt parses a value of the config file's: "gtorrent: CMD: FILE:LINE:
 * message ...".
 */
int	cmd_usage_error(const char *cmd, const char *, ...) GT_PRINTF(2, 3);
/* -v once: info, twice: debug, more: trace; 0 leaves the level alone. */
void	cmd_set_verbosity(int verbose);
/* Writes s as a JSON string, text_escape(TEXT_JSON); NULL: null. */
void	cmd_json_str(FILE *, const char *s);
/*
 * Writes s for a terminal, text_escape(TEXT_TERM): control, format and
 * bidi characters and invalid UTF-8 as '?'.
 */
void	cmd_print_safe(FILE *, const char *s);
/* The folder holding path ("." if none); malloc'd. */
char	*cmd_dirname(const char *path);
/* Decimal port 1 to 65535 (no sign, no suffix); -1 if bad. */
int	cmd_parse_port(const char *, uint16_t *);
/*
 * --bind ADDR: a numeric IPv4 or IPv6 address, else an interface's name
 * (its first IPv4 address, else its first IPv6 one, link-local last);
 * 0, or -1 when it is neither.
 */
int	cmd_parse_bind(const char *, struct netaddr *);
/*
 * Whether s is HOST:PORT as --dht-bootstrap and `dht ping` take it: a
 * numeric IPv4 address or a host name (letters, digits, '-' and '.'), or
 * a numeric IPv6 address in brackets, then ':' and a port 1 to 65535.
 */
bool	cmd_hostport_ok(const char *s);
/*
 * One --dht-bootstrap value, checked and appended to *v (borrowed; at most
 * DHT_BOOTSTRAP_MAX).  EXIT_OK, or the usage error printed.
 */
int	cmd_add_bootstrap(const char *cmd, char *arg, char ***v, size_t *n);
/*
 * The state folder, $XDG_STATE_HOME/gtorrent or else
 * ~/.local/state/gtorrent, created (mode 0700) if missing; malloc'd.
 * NULL, with a warning, when there is none or it cannot be made.
 */
char	*cmd_state_dir(void);
/*
 * Writes OUT.tmp-PID beside out, syncs it and renames it to out (without
 * force, never over an existing file), then syncs the folder.  Failures
 * print "gtorrent: CMD: PATH: reason" and return EXIT_IO.
 */
int	cmd_write_file(const char *cmd, const char *out, const uint8_t *p,
	    size_t len, bool force);

#endif /* GT_CMD_H */
