/* log.c - levelled logging to one sink */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

enum log_level	 log_level_max = LOG_WARN;
static FILE	*log_file;

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
	setvbuf(f, NULL, _IOLBF, 0);
	log_file = f;
	return 0;
}

void
log_close(void)
{
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
}

/* Names and tracker messages come from afar: text_escape shows them. */
void
log_write(enum log_level lvl, const char *fmt, ...)
{
	FILE	*f = log_file != NULL ? log_file : stderr;
	va_list	 ap;
	char	*msg, *safe;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n == -1)
		return;
	safe = text_escape(msg, TEXT_TERM);
	fprintf(f, "gtorrent: %s: %s\n", log_level_names[lvl], safe);
	free(safe);
	free(msg);
}
