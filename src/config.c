/* config.c - the config file's syntax: long options one a line, sections */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define CONFIG_MAX_LINE_S	"4096"	/* CONFIG_MAX_LINE, for messages */

static const char config_bad_section[] = "a section is [download] or [seed]";
static const char config_bad_name[] = "an option's long name (e.g. "
    "max-upload-rate = 1M), then its value if it takes one";

/* Download-only options: before any section, "seed" skips them. */
static const char *const config_download_only[] = {
	"magnet", "metadata-only", "preallocate", "priority-high",
	"priority-low", "sequential", "on-done",
};

static bool
config_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool
config_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool
config_is_download_only(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(config_download_only); i++)
		if (strcmp(config_download_only[i], name) == 0)
			return true;
	return false;
}

/*
 * One line (NUL-terminated, no '\n'), trimmed in place: a [section], an
 * option (name and value, NULL if none), or nothing.  NULL, or why it is
 * bad.
 */
static const char *
config_line(char *s, char **section, char **name, char **value)
{
	char	*e, *p, *q;
	size_t	 len;

	*section = *name = *value = NULL;
	while (config_space(*s))
		s++;
	for (e = s + strlen(s); e > s && config_space(e[-1]); e--)
		;
	*e = '\0';
	if (*s == '\0' || *s == '#')
		return NULL;
	if (*s == '[') {
		if (e[-1] != ']')
			return config_bad_section;
		e[-1] = '\0';
		*section = s + 1;
		return NULL;
	}
	if (s[0] == '-' && s[1] == '-')
		s += 2;
	for (p = s; config_name_char(*p); p++)
		;
	if (p == s || s[0] == '-')
		return config_bad_name;
	if (*p != '\0' && *p != '=' && !config_space(*p))
		return config_bad_name;
	*name = s;
	if (*p == '\0')
		return NULL;
	for (q = p; config_space(*q); q++)
		;
	if (*q == '=')
		for (q++; config_space(*q); q++)
			;
	*p = '\0';			/* the name ends */
	p = q;
	len = strlen(p);
	if (len >= 2 && (p[0] == '"' || p[0] == '\'') && p[len - 1] == p[0]) {
		p[len - 1] = '\0';	/* "quoted": blanks kept */
		p++;
	}
	*value = p;
	return NULL;
}

void
config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
}

void
config_clear(struct config *c)
{
	free(c->v);
	free(c->text);
	config_init(c);
}

enum gt_err
config_parse(const uint8_t *p, size_t len, const char *section,
    config_check_fn *check, void *arg, struct config *out, char *err)
{
	struct config	 c;
	const uint8_t	*nul;
	const char	*why, *sect = NULL;
	char		*line, *next, *sname, *name, *value;
	char		 cerr[GT_ERRLEN];
	unsigned	 lineno = 0;
	size_t		 i;
	enum gt_err	 e;

	if (len > CONFIG_MAX_BYTES)
		return gt_fail(err, GT_ETOOBIG, "larger than %u bytes",
		    CONFIG_MAX_BYTES);
	if ((nul = memchr(p, '\0', len)) != NULL) {
		for (i = 0, lineno = 1; p + i < nul; i++)
			lineno += p[i] == '\n';
		return gt_fail(err, GT_EINVAL, "%u: a NUL byte", lineno);
	}
	config_init(&c);
	c.text = xmalloc(len + 1);
	memcpy(c.text, p, len);
	c.text[len] = '\0';
	for (line = c.text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strlen(line) > CONFIG_MAX_LINE)
			why = "longer than " CONFIG_MAX_LINE_S " bytes";
		else
			why = config_line(line, &sname, &name, &value);
		if (why == NULL && sname != NULL) {
			if (strcmp(sname, "download") == 0 ||
			    strcmp(sname, "seed") == 0) {
				sect = sname;
				continue;
			}
			why = config_bad_section;
		}
		if (why != NULL) {
			e = gt_fail(err, GT_EINVAL, "%u: %s", lineno, why);
			goto fail;
		}
		if (name == NULL)
			continue;
		cerr[0] = '\0';
		if (check != NULL && (e = check(arg, name, value, cerr)) !=
		    GT_OK) {
			e = gt_fail(err, GT_EINVAL, "%u: %s", lineno,
			    cerr[0] != '\0' ? cerr : gt_strerror(e));
			goto fail;
		}
		/* Another command's section; download-only for seed. */
		if ((sect != NULL && strcmp(sect, section) != 0) ||
		    (sect == NULL && strcmp(section, "seed") == 0 &&
		    config_is_download_only(name)))
			continue;
		if (c.n == CONFIG_MAX_OPTS) {
			e = gt_fail(err, GT_EINVAL, "%u: more than %u options",
			    lineno, CONFIG_MAX_OPTS);
			goto fail;
		}
		c.v = xreallocarray(c.v, c.n + 1, sizeof(*c.v));
		c.v[c.n++] = (struct config_opt){
			.name = name, .value = value, .line = lineno,
		};
	}
	*out = c;
	return GT_OK;

fail:
	config_clear(&c);
	return e;
}
