/* main.c - gtorrent's entry point: global options and the subcommand table */
#include <sys/resource.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "crypto.h"
#include "reactor.h"

/* The command running (cmd.h): cmd_error's name, the config file applied. */
struct cmd_ctx	cmd_ctx;

static const struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*summary;
} commands[] = {
	{ "download", cmd_download, "download torrents (or: gtorrent "
	    "FILE.torrent...)" },
	{ "seed", cmd_seed, "seed data already on disk until Ctrl-C" },
	{ "create", cmd_create, "make a .torrent from a file or folder" },
	{ "info", cmd_info, "show what a .torrent holds" },
	{ "magnet", cmd_magnet, "print a .torrent's magnet URI" },
	{ "verify", cmd_verify, "check data on disk against a .torrent" },
	{ "scrape", cmd_scrape, "ask trackers how many seeders and leechers" },
	{ "dht", cmd_dht, "find a torrent's peers on the DHT, ping a node" },
};

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "usage: gtorrent COMMAND [OPTIONS] ARGS...\n"
	    "       gtorrent [OPTIONS] FILE.torrent...  (same as 'download')\n"
	    "       gtorrent [OPTIONS] -m 'magnet:?xt=urn:btih:...'\n"
	    "       gtorrent --help | --version\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f,
	    "\n"
	    "Run 'gtorrent COMMAND --help' for the options of a command.\n"
	    "download and seed also read options from the config file,\n"
	    "$XDG_CONFIG_HOME/gtorrent/config or ~/.config/gtorrent/config.\n"
	    "\n"
	    "Exit status: 0 success; 1 checked but incomplete or bad data;\n"
	    "2 bad command line; 3 invalid or unreadable input (.torrent,\n"
	    "magnet, path); 4 a file could not be read or written; 130\n"
	    "interrupted.\n");
}

/*
 * One descriptor per peer connection: the soft limit (often 1024) goes up
 * to the hard one, so --max-peers in the thousands is not refused for
 * want of descriptors (net pauses accepting when they run out anyway).
 */
static void
raise_fd_limit(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
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
		/* an error is one line: the usage is for --help */
		cmd_error("missing COMMAND or FILE.torrent (see 'gtorrent "
		    "--help')");
		return EXIT_USAGE;
	}
	raise_fd_limit();
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
	sha1_kernel_tune(reactor_clock_ns);
	for (i = 0; i < nitems(commands); i++) {
		if (strcmp(arg, commands[i].name) == 0) {
			cmd_set_name(commands[i].name);
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	/* gtorrent [OPTIONS] FILE.torrent or magnet link: a download. */
	if (arg[0] == '-' || strncasecmp(arg, "magnet:", 7) == 0 ||
	    is_torrent_arg(arg)) {
		cmd_set_name("download");
		return cmd_download(argc, argv);
	}
	cmd_error("unknown command '%s' (see 'gtorrent --help')", arg);
	return EXIT_USAGE;
}
