/* log.c - levelled logging to one sink */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"


enum log_level		 log_level_max = LOG_WARN;
static FILE		*log_file;	/* guarded by log_lock */
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;
static void		(*log_sink)(void *, const char *, size_t);
static void		*log_sink_arg;	/* both guarded by log_lock */

static const char *const log_level_names[] = {
	[LOG_ERROR] = "error", [LOG_WARN] = "warning", [LOG_INFO] = "info",
	[LOG_DEBUG] = "debug", [LOG_TRACE] = "trace",
};

void
log_set_level(enum log_level lvl)
{
	log_level_max = lvl;
}

int
log_open(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "a")) == NULL)
		return -1;
	log_close();
	pthread_mutex_lock(&log_lock);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void
log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void
log_set_sink(void (*fn)(void *arg, const char *line, size_t len), void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_sink_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void
log_locked(void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&log_lock);
	fn(arg);
	pthread_mutex_unlock(&log_lock);
}

void
log_print(const char *line)
{
	size_t	n = strlen(line);
	int	saved = errno;

	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		(void)write_all(fileno(log_file), line, n);
	else if (log_sink != NULL)
		log_sink(log_sink_arg, line, n);
	else
		(void)write_all(STDERR_FILENO, line, n);
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

/*
 * Names and tracker messages come from afar: text_escape shows them.  The
 * whole line, prefix and newline included, is formatted first and goes out
 * in one write(2) under a lock, so lines from several threads (hashing,
 * libevent, curl) never mix, and a log file opened for appending gets
 * whole lines even from other processes.
 */
void
log_write(enum log_level lvl, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *safe, *line;
	int	 n, saved = errno;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n == -1) {
		errno = saved;
		return;
	}
	safe = text_escape(msg, TEXT_TERM);
	line = xasprintf("gtorrent: %s: %s\n", log_level_names[lvl], safe);
	log_print(line);
	free(line);
	free(safe);
	free(msg);
	errno = saved;
}

void
log_obj(enum log_level lvl, const char *obj, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 n, saved = errno;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n != -1) {
		log_write(lvl, "[%s] %s", obj, msg);
		free(msg);
	}
	errno = saved;
}
