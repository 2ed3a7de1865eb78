/* ui-json.c - NDJSON objects for --json: one event a line on stdout */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui-json.h"
#include "util.h"

void
ui_json_init(struct ui_json *j)
{
	memset(j, 0, sizeof(*j));
}

void
ui_json_clear(struct ui_json *j)
{
	free(j->p);
	memset(j, 0, sizeof(*j));
}

static void
json_put(struct ui_json *j, const char *s, size_t n)
{
	if (j->cap - j->len < n + 1) {
		j->cap = MAX(j->cap * 2, j->len + n + 64);
		j->p = xrealloc(j->p, j->cap);
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

static void GT_PRINTF(2, 3)
json_printf(struct ui_json *j, const char *fmt, ...)
{
	char	tmp[64];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		json_put(j, tmp, MIN((size_t)n, sizeof(tmp) - 1));
}

/* A string value, escaped; NULL: null. */
static void
json_value(struct ui_json *j, const char *s)
{
	char	*e;

	if (s == NULL) {
		json_put(j, "null", 4);
		return;
	}
	e = text_escape(s, TEXT_JSON);
	json_put(j, e, strlen(e));
	free(e);
}

/* ,"key": (keys are the caller's literals: escaped all the same) */
static void
json_key(struct ui_json *j, const char *key)
{
	json_put(j, ",", 1);
	json_value(j, key);
	json_put(j, ":", 1);
}

void
ui_json_begin(struct ui_json *j, const char *event, uint64_t ms)
{
	j->len = 0;
	j->in_array = false;
	json_printf(j, "{\"v\":%d", UI_JSON_VERSION);
	ui_json_str(j, "event", event);
	json_printf(j, ",\"t\":%" PRIu64 ".%03u", ms / 1000,
	    (unsigned)(ms % 1000));
}

void
ui_json_str(struct ui_json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_value(j, s);
}

void
ui_json_int(struct ui_json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_printf(j, "%" PRId64, v);
}

void
ui_json_uint(struct ui_json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_printf(j, "%" PRIu64, v);
}

void
ui_json_bool(struct ui_json *j, const char *key, bool v)
{
	json_key(j, key);
	json_put(j, v ? "true" : "false", v ? 4 : 5);
}

void
ui_json_null(struct ui_json *j, const char *key)
{
	json_key(j, key);
	json_put(j, "null", 4);
}

void
ui_json_fraction(struct ui_json *j, const char *key, uint64_t num,
    uint64_t den)
{
	uint64_t	x;

	/* Rounded down, so that 1.0000 means all of it. */
	if (den == 0 || num >= den)
		x = den == 0 ? 0 : 10000;
	else
		x = (uint64_t)((unsigned __int128)num * 10000 / den);
	json_key(j, key);
	json_printf(j, "%u.%04u", (unsigned)(x / 10000),
	    (unsigned)(x % 10000));
}

void
ui_json_hex(struct ui_json *j, const char *key, const uint8_t *b, size_t n)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;
	char			two[2];

	json_key(j, key);
	json_put(j, "\"", 1);
	for (i = 0; i < n; i++) {
		two[0] = digits[b[i] >> 4];
		two[1] = digits[b[i] & 15];
		json_put(j, two, 2);
	}
	json_put(j, "\"", 1);
}

void
ui_json_array_begin(struct ui_json *j, const char *key)
{
	json_key(j, key);
	json_put(j, "[", 1);
	j->in_array = true;
	j->first = true;
}

static void
json_elem(struct ui_json *j)
{
	if (!j->first)
		json_put(j, ",", 1);
	j->first = false;
}

void
ui_json_array_str(struct ui_json *j, const char *s)
{
	json_elem(j);
	json_value(j, s);
}

void
ui_json_array_uint(struct ui_json *j, uint64_t v)
{
	json_elem(j);
	json_printf(j, "%" PRIu64, v);
}

void
ui_json_array_end(struct ui_json *j)
{
	json_put(j, "]", 1);
	j->in_array = false;
}

const char *
ui_json_end(struct ui_json *j, size_t *len)
{
	assert(!j->in_array);
	json_put(j, "}\n", 2);
	if (len != NULL)
		*len = j->len;
	return j->p;
}
