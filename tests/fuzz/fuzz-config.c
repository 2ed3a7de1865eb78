/* fuzz-config.c - libFuzzer target: the input is a config file */
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "util.h"

#include "fuzz.h"

/* A check refusing names that start with 'z' (the caller's kind of error). */
static enum gt_err
check(void *arg, const char *name, const char *value, char *err)
{
	unsigned	*calls = arg;

	(*calls)++;
	CHECK(value == NULL || strchr(value, '\n') == NULL);
	if (name[0] == 'z')
		return gt_fail(err, GT_EINVAL, "unknown option '%s'", name);
	return GT_OK;
}

static bool
name_ok(const char *s)
{
	return s[0] != '\0' && s[0] != '-' && strspn(s,
	    "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

/*
 * The options written back under a [section] line, each on a line of its
 * own with the value in double quotes ("name" alone without one): NULL if
 * that would pass a cap.
 */
static char *
config_write(const struct config *c, const char *section, size_t *len)
{
	char	*out = xmalloc(CONFIG_MAX_BYTES + 1);
	size_t	 i, n, l;

	n = (size_t)sprintf(out, "[%s]\n", section);
	for (i = 0; i < c->n; i++) {
		l = strlen(c->v[i].name) + (c->v[i].value != NULL ?
		    strlen(c->v[i].value) + 3 : 0);
		if (l > CONFIG_MAX_LINE || n + l + 1 > CONFIG_MAX_BYTES) {
			free(out);
			return NULL;
		}
		if (c->v[i].value != NULL)
			n += (size_t)sprintf(out + n, "%s=\"%s\"\n",
			    c->v[i].name, c->v[i].value);
		else
			n += (size_t)sprintf(out + n, "%s\n", c->v[i].name);
	}
	*len = n;
	return out;
}

static void
one(const uint8_t *in, size_t size, const char *section)
{
	struct config	 c, c2;
	char		 err[GT_ERRLEN], *text;
	unsigned	 calls = 0, last = 0;
	size_t		 i, len;
	enum gt_err	 e;

	config_init(&c);
	memset(err, 0x55, sizeof(err));
	e = config_parse(in, size, section, check, &calls, &c, err);
	if (e != GT_OK) {
		CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		CHECK(strchr(err, '\n') == NULL);
		CHECK(c.v == NULL && c.n == 0 && c.text == NULL);
		if (e == GT_ETOOBIG)
			CHECK(size > CONFIG_MAX_BYTES);
		else
			CHECK(e == GT_EINVAL && err[0] >= '1' &&
			    err[0] <= '9');
		return;
	}
	CHECK(size <= CONFIG_MAX_BYTES && memchr(in, '\0', size) == NULL);
	CHECK(c.n <= CONFIG_MAX_OPTS && c.n <= calls);
	for (i = 0; i < c.n; i++) {
		CHECK(c.v[i].line > last);
		last = c.v[i].line;
		CHECK(name_ok(c.v[i].name) && c.v[i].name[0] != 'z');
		CHECK(c.v[i].value == NULL || strchr(c.v[i].value, '\n') ==
		    NULL);
	}
	/* Written back and read again: the same options. */
	if ((text = config_write(&c, section, &len)) != NULL) {
		config_init(&c2);
		CHECK(config_parse((const uint8_t *)text, len, section, NULL,
		    NULL, &c2, err) == GT_OK);
		CHECK(c2.n == c.n);
		for (i = 0; i < c.n; i++) {
			CHECK(strcmp(c2.v[i].name, c.v[i].name) == 0);
			CHECK(c2.v[i].line == i + 2);
			CHECK((c2.v[i].value == NULL) == (c.v[i].value ==
			    NULL));
			CHECK(c.v[i].value == NULL || strcmp(c2.v[i].value,
			    c.v[i].value) == 0);
		}
		config_clear(&c2);
		free(text);
	}
	config_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	one(in, size, "download");
	one(in, size, "seed");
	return 0;
}
