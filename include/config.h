/* config.h - the config file's syntax: long options one a line, sections */
#ifndef GT_CONFIG_H
#define GT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * The file (README's "The config file", gtorrent.1's CONFIG FILE), line by
 * line ('\n' ends a line; the last one may lack it):
 *	blank, or '#' after blanks		skipped
 *	[download], [seed]			a section (no blanks inside)
 *	[--]NAME				an option without a value
 *	[--]NAME VALUE, [--]NAME = VALUE, [--]NAME=VALUE
 * Blanks are space, tab, '\r', '\v', '\f': dropped around the name and the
 * value, so a CRLF file reads as LF.  NAME is [a-z0-9-]+ not starting with
 * '-'.  A VALUE in "..." or '...' loses its quotes and keeps its blanks (no
 * escapes); "NAME =" gives the value "".  Options before any section are
 * for both commands, but "seed" skips the download-only ones
 * (magnet, metadata-only, preallocate, priority-high, priority-low,
 * sequential, on-done); a section's are for that command only.
 */
#define CONFIG_MAX_BYTES	65536	/* the file, at most */
#define CONFIG_MAX_LINE		4096	/* a line, '\r' included, at most */
#define CONFIG_MAX_OPTS		256	/* options kept, at most */

/* One option of the file. */
struct config_opt {
	const char	*name;		/* without "--": [a-z0-9-]+ */
	const char	*value;		/* unquoted; NULL: none given */
	unsigned	 line;		/* its line, from 1 */
};

/* The options of a file for one command, in the file's order. */
struct config {
	struct config_opt *v;		/* at most CONFIG_MAX_OPTS */
	size_t		 n;
	char		*text;		/* the copy v's strings point into */
};

/*
 * Checks an option (value NULL when none) against what the command takes:
 * GT_OK, else an error with err (GT_ERRLEN bytes) saying why in one line
 * ("unknown option 'x'").  Called for every option of the file, in order,
 * whatever its section: a bad name is an error wherever it is.
 */
typedef enum gt_err	config_check_fn(void *arg, const char *name,
			    const char *value, char *err);

void		 config_init(struct config *);	/* empty */
/* Frees; leaves it as after config_init. */
void		 config_clear(struct config *);
/*
 * Decodes len bytes of a config file (no NUL needed) for the command
 * section ("download" or "seed"), each option checked by check(arg, ...)
 * unless check is NULL.  On success fills *out (config_clear it).  On
 * failure leaves out untouched and returns GT_EINVAL, err (GT_ERRLEN
 * bytes, or NULL) one line "LINE: why" for the first bad line ("3: a NUL
 * byte", "2: longer than 4096 bytes", "1: a section is [download] or
 * [seed]", "1: an option's long name (e.g. max-upload-rate = 1M), then
 * its value if it takes one", "5: more than 256 options", or check's
 * err), or GT_ETOOBIG, err "larger than 65536 bytes", for len over
 * CONFIG_MAX_BYTES.
 */
enum gt_err	 config_parse(const uint8_t *p, size_t len,
		    const char *section, config_check_fn *check, void *arg,
		    struct config *out, char *err);

#endif /* GT_CONFIG_H */
