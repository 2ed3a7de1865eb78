/* ui-json.h - NDJSON objects for --json: one event a line on stdout */
#ifndef GT_UI_JSON_H
#define GT_UI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UI_JSON_VERSION	1	/* the "v" of every object */

/*
 * One object being written, in caller storage: ui_json_begin, then its
 * fields in the order they are added (the documented order), then
 * ui_json_end for the line.  Keys are ASCII literals of the caller's;
 * string values come from anywhere and are escaped as text_escape
 * (TEXT_JSON) does: '"', '\' and the controls escaped, invalid UTF-8 as
 * U+FFFD, and the characters a terminal would act on or hide (bidi
 * overrides and isolates, marks, zero-width ones: util.h's utf8_hidden)
 * as \uXXXX, so the stream is plain printable text.
 */
struct ui_json {
	char	*p;		/* the line so far (malloc'd) */
	size_t	 len, cap;
	bool	 in_array;	/* between _array_begin and _array_end */
	bool	 first;		/* no element in it yet */
};

void		 ui_json_init(struct ui_json *);
void		 ui_json_clear(struct ui_json *);
/*
 * Starts an object: {"v":1,"event":EVENT,"t":SECS with "t" the
 * milliseconds ms as seconds with 3 decimals (exact).
 */
void		 ui_json_begin(struct ui_json *, const char *event,
		    uint64_t ms);
void		 ui_json_str(struct ui_json *, const char *key,
		    const char *s);		/* NULL: null */
void		 ui_json_int(struct ui_json *, const char *key, int64_t);
void		 ui_json_uint(struct ui_json *, const char *key, uint64_t);
void		 ui_json_bool(struct ui_json *, const char *key, bool);
void		 ui_json_null(struct ui_json *, const char *key);
/* A fraction 0..1 with 4 decimals (progress). */
void		 ui_json_fraction(struct ui_json *, const char *key,
		    uint64_t num, uint64_t den);
/* Bytes as lower-case hex (an info-hash, a peer id). */
void		 ui_json_hex(struct ui_json *, const char *key,
		    const uint8_t *, size_t);
/* An array of strings: _array_begin, _array_str each, _array_end. */
void		 ui_json_array_begin(struct ui_json *, const char *key);
void		 ui_json_array_str(struct ui_json *, const char *s);
void		 ui_json_array_uint(struct ui_json *, uint64_t);
void		 ui_json_array_end(struct ui_json *);
/*
 * Ends the object: the line, "}\n" included, NUL-terminated, valid until
 * the next call on j (*len: its length without the NUL).
 */
const char	*ui_json_end(struct ui_json *, size_t *len);

#endif /* GT_UI_JSON_H */
