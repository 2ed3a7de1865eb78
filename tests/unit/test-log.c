/* test-log.c - levelled logging to one sink */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#include "tmpdir.h"

TestSuite(log, .init = tmp_setup, .fini = tmp_teardown);

enum { THREADS = 6, LINES = 300, BODY = 3000 };

static void *
logger_main(void *arg)
{
	char	body[BODY + 1];
	int	t = (int)(intptr_t)arg, i;

	memset(body, 'a' + t, BODY);
	body[BODY] = '\0';
	for (i = 0; i < LINES; i++)
		log_info("t%d l%d %s end", t, i, body);
	return NULL;
}

/* Lines from several threads come out whole, one after another. */
static void
check_lines(FILE *f)
{
	char	*line = NULL, want[BODY + 64], prefix[64];
	size_t	 cap = 0, k;
	ssize_t	 n;
	int	 t, l, next[THREADS] = { 0 }, count = 0;

	while ((n = getline(&line, &cap, f)) != -1) {
		cr_assert_eq(sscanf(line, "gtorrent: info: t%d l%d ", &t, &l),
		    2, "line %d: %.60s", count, line);
		cr_assert(t >= 0 && t < THREADS);
		cr_assert_eq(l, next[t], "thread %d: line %d after %d", t, l,
		    next[t] - 1);
		snprintf(prefix, sizeof(prefix), "gtorrent: info: t%d l%d ",
		    t, l);
		k = strlen(prefix);
		memcpy(want, prefix, k);
		memset(want + k, 'a' + t, BODY);
		memcpy(want + k + BODY, " end\n", 6);
		cr_assert_eq((size_t)n, strlen(want), "line %d: length %zd",
		    count, n);
		cr_assert(memcmp(line, want, (size_t)n) == 0,
		    "line %d is mixed", count);
		next[t]++;
		count++;
	}
	free(line);
	cr_assert_eq(count, THREADS * LINES);
}

static void
run_loggers(void)
{
	pthread_t	tid[THREADS];
	int		i;

	log_set_level(LOG_INFO);
	for (i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&tid[i], NULL, logger_main,
		    (void *)(intptr_t)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
}

Test(log, threads_never_interleave_in_a_file)
{
	char	*p = tpath("log");
	FILE	*f;

	cr_assert_eq(log_open(p), 0);
	run_loggers();
	log_close();
	f = fopen(p, "r");
	cr_assert_not_null(f);
	check_lines(f);
	fclose(f);
	free(p);
}

Test(log, threads_never_interleave_on_stderr)
{
	char	*p = tpath("stderr");
	FILE	*f;
	int	 fd, saved;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_neq(fd, -1);
	fflush(stderr);
	saved = dup(2);
	cr_assert_eq(dup2(fd, 2), 2);
	close(fd);
	run_loggers();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	check_lines(f);
	fclose(f);
	free(p);
}

Test(log, long_lines_whole_and_levels_filtered)
{
	char	*p = tpath("log"), *big, *line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	FILE	*f;

	big = xmalloc(100000);
	memset(big, 'x', 99999);
	big[99999] = '\0';
	cr_assert_eq(log_open(p), 0);
	log_set_level(LOG_WARN);
	log_info("dropped");
	log_warn("%s", big);
	log_error("short %d", 42);
	log_close();
	f = fopen(p, "r");
	cr_assert_not_null(f);
	n = getline(&line, &cap, f);
	cr_assert_eq(n, (ssize_t)strlen("gtorrent: warning: ") + 99999 + 1);
	cr_assert(strncmp(line, "gtorrent: warning: xxx", 22) == 0);
	n = getline(&line, &cap, f);
	cr_assert_str_eq(line, "gtorrent: error: short 42\n");
	cr_assert_eq(getline(&line, &cap, f), -1);
	fclose(f);
	free(line);
	free(big);
	free(p);
}

struct sink_seen {
	char	text[256];
	size_t	lines;
};

static void
sink_keep(void *arg, const char *line, size_t len)
{
	struct sink_seen	*s = arg;
	size_t			 have = strlen(s->text);

	if (have + len < sizeof(s->text))
		memcpy(s->text + have, line, len + 1);
	s->lines++;
}

static void
sink_locked(void *arg)
{
	*(int *)arg = 1;
}

/* A sink takes every line whole, log_print's as given; NULL: stderr again. */
Test(log, sink_takes_whole_lines)
{
	struct sink_seen	 s = { .text = "" };
	int			 ran = 0;

	log_set_level(LOG_WARN);
	log_set_sink(sink_keep, &s);
	log_warn("a %s", "b\033c");
	log_print("raw line\n");
	log_info("dropped");
	log_locked(sink_locked, &ran);
	log_set_sink(NULL, NULL);
	cr_assert_eq(s.lines, 2);
	cr_assert_str_eq(s.text, "gtorrent: warning: a b?c\nraw line\n");
	cr_assert_eq(ran, 1);
}
