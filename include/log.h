/* log.h - levelled logging to one sink */
#ifndef GT_LOG_H
#define GT_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
	LOG_TRACE,
};

extern enum log_level	log_level_max;	/* messages above this are dropped */

void	log_set_level(enum log_level);
/* Sends messages to path (appending) instead of stderr; -1 on failure. */
int	log_open(const char *path);
void	log_close(void);
/*
 * Every line for stderr (log_write's, log_print's) goes to fn instead, whole
 * (prefix and newline included), from any thread, under the log's lock:
 * the status line clears itself around it, the full-screen view keeps it.
 * NULL: stderr again.  A file from log_open still takes precedence.
 */
void	log_set_sink(void (*fn)(void *arg, const char *line, size_t len),
	    void *arg);
/* A whole line, newline included, to the sink (or stderr) as it is. */
void	log_print(const char *line);
/* Runs fn(arg) under the log's lock: no line is written meanwhile. */
void	log_locked(void (*fn)(void *), void *arg);
void	log_write(enum log_level, const char *, ...) GT_PRINTF(2, 3);
/* One line about an object: "[obj] message" (a peer, a connection). */
void	log_obj(enum log_level, const char *obj, const char *, ...)
	    GT_PRINTF(3, 4);

#define log_at(lvl, ...) do {						\
	if ((lvl) <= log_level_max)					\
		log_write((lvl), __VA_ARGS__);				\
} while (0)
#define log_obj_at(lvl, obj, ...) do {					\
	if ((lvl) <= log_level_max)					\
		log_obj((lvl), (obj), __VA_ARGS__);			\
} while (0)
#define log_error(...)	log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_at(LOG_DEBUG, __VA_ARGS__)
#define log_trace(...)	log_at(LOG_TRACE, __VA_ARGS__)

#endif /* GT_LOG_H */
