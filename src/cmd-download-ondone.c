/* cmd-download-ondone.c - --on-done CMD: a command when a torrent completes */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "cmd-download-int.h"
#include "log.h"
#include "reactor.h"
#include "torrent.h"
#include "ui.h"
#include "util.h"

#define DL_ON_DONE_WAIT_MS	10000	/* --on-done commands, waited for */

/* One line about how an --on-done command ended, if not with status 0. */
static void
dl_child_status(const struct dl_child *k, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_info("%s: --on-done: exit status 0", k->name);
	else if (WIFEXITED(status))
		cmd_warn("%s: --on-done: the command failed with exit status "
		    "%d", k->name, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		cmd_warn("%s: --on-done: the command was killed by signal %d",
		    k->name, WTERMSIG(status));
}

/* Reaps the --on-done commands that ended; how many still run. */
static size_t
dl_reap(struct dl *d)
{
	size_t	i = 0;
	pid_t	pid;
	int	status;

	while (i < d->nkids) {
		pid = waitpid(d->kids[i].pid, &status, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == EINTR)) {
			i++;
			continue;
		}
		if (pid == d->kids[i].pid)
			dl_child_status(&d->kids[i], status);
		free(d->kids[i].name);
		d->kids[i] = d->kids[--d->nkids];
	}
	return d->nkids;
}

static void
dl_on_sigchld(void *arg, int signo)
{
	(void)signo;
	dl_reap(arg);
}

/*
 * --on-done: /bin/sh -c CMD gtorrent PATH NAME INFO_HASH, with
 * GTORRENT_NAME, GTORRENT_PATH, GTORRENT_INFO_HASH and GTORRENT_DIR in its
 * environment, stdin from /dev/null, its output on stderr; not waited
 * for (reaped on SIGCHLD).
 */
void
dl_on_done_run(struct dl_item *it)
{
	extern char		**environ;
	struct dl		 *d = it->d;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t	  sa;
	sigset_t		  dfl, none;
	const char		 *name = torrent_name(it->t);
	char			  hex[2 * SHA1_LEN + 1], *path, **envp;
	char			 *argv[8];
	size_t			  n, i, k;
	pid_t			  pid;
	int			  e;

	if (!d->sigchld) {
		if (reactor_on_signal(d->r, SIGCHLD, dl_on_sigchld, d) != 0) {
			cmd_warn("%s: --on-done: cannot watch child processes",
			    name);
			return;
		}
		d->sigchld = true;
	}
	hex_encode(hex, item_info_hash(it), SHA1_LEN);
	path = xasprintf("%s/%s", d->dir, name);
	for (n = 0; environ[n] != NULL; n++)
		;
	envp = xreallocarray(NULL, n + 5, sizeof(*envp));
	for (i = k = 0; i < n; i++)
		if (strncmp(environ[i], "GTORRENT_", 9) != 0)
			envp[k++] = environ[i];
	envp[k++] = xasprintf("GTORRENT_NAME=%s", name);
	envp[k++] = xasprintf("GTORRENT_PATH=%s", path);
	envp[k++] = xasprintf("GTORRENT_INFO_HASH=%s", hex);
	envp[k++] = xasprintf("GTORRENT_DIR=%s", d->dir);
	envp[k] = NULL;
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)d->on_done;
	argv[3] = (char *)"gtorrent";
	argv[4] = path;
	argv[5] = (char *)name;
	argv[6] = hex;
	argv[7] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);	/* ignored here, not in the command */
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	ui_clear(d->ui);
	if ((e = posix_spawn(&pid, "/bin/sh", &fa, &sa, argv, envp)) != 0)
		cmd_warn("%s: --on-done: /bin/sh: %s", name, strerror(e));
	else {
		log_info("%s: --on-done: started (pid %ld)", name, (long)pid);
		d->kids = xreallocarray(d->kids, d->nkids + 1,
		    sizeof(*d->kids));
		d->kids[d->nkids++] = (struct dl_child){
			.pid = pid, .name = xstrdup(name),
		};
	}
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	for (i = k - 4; i < k; i++)
		free(envp[i]);
	free(envp);
	free(path);
}

/* At the end: the --on-done commands still running, waited for a while. */
void
dl_on_done_wait(struct dl *d)
{
	struct timespec	ts = { .tv_sec = 0, .tv_nsec = 20 * 1000000 };
	uint64_t	end = reactor_clock_ms() + DL_ON_DONE_WAIT_MS;
	size_t		i;

	while (dl_reap(d) > 0 && reactor_clock_ms() < end)
		nanosleep(&ts, NULL);
	for (i = 0; i < d->nkids; i++) {
		cmd_warn("%s: --on-done: the command still runs after %u s "
		    "(pid %ld): not waited for", d->kids[i].name,
		    DL_ON_DONE_WAIT_MS / 1000, (long)d->kids[i].pid);
		free(d->kids[i].name);
	}
	free(d->kids);
	d->kids = NULL;
	d->nkids = 0;
}
