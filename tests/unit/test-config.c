/* test-config.c - the config file's syntax: forms, sections, caps, hostile */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "util.h"

/*
 * Parses s (len bytes) for section with no name check: the options as
 * "line:name=value" (or "line:name" without a value) joined by '|', else
 * "ERR " and the error text.
 */
static char *
parse_n(const char *s, size_t len, const char *section,
    config_check_fn *check, void *arg)
{
	struct config	 c;
	char		 err[GT_ERRLEN], *out, *t;
	size_t		 i;
	enum gt_err	 e;

	config_init(&c);
	e = config_parse((const uint8_t *)s, len, section, check, arg, &c, err);
	if (e != GT_OK) {
		cr_assert_null(c.v);
		cr_assert_null(c.text);
		cr_assert_eq(c.n, 0);
		return xasprintf("ERR %s", err);
	}
	out = xstrdup("");
	for (i = 0; i < c.n; i++) {
		if (c.v[i].value != NULL)
			t = xasprintf("%s%s%u:%s=%s", out, i > 0 ? "|" : "",
			    c.v[i].line, c.v[i].name, c.v[i].value);
		else
			t = xasprintf("%s%s%u:%s", out, i > 0 ? "|" : "",
			    c.v[i].line, c.v[i].name);
		free(out);
		out = t;
	}
	config_clear(&c);
	cr_assert_null(c.v);
	cr_assert_eq(c.n, 0);
	return out;
}

static char *
parse(const char *s, const char *section)
{
	return parse_n(s, strlen(s), section, NULL, NULL);
}

static void
expect(const char *s, const char *section, const char *want)
{
	char	*got = parse(s, section);

	cr_expect_str_eq(got, want, "parse(\"%s\", %s)", s, section);
	free(got);
}

struct form_case {
	const char	*in;
	const char	*want;	/* for "download" */
};

/* Every way to write an option, blanks, quotes, comments. */
static const struct form_case form_cases[] = {
	{ "", "" },
	{ "\n\n\n", "" },
	{ "no-pex\n", "1:no-pex" },
	{ "--no-pex\n", "1:no-pex" },
	{ "  \t--no-pex \t \n", "1:no-pex" },
	{ "max-peers 5\n", "1:max-peers=5" },
	{ "max-peers = 5\n", "1:max-peers=5" },
	{ "max-peers=5\n", "1:max-peers=5" },
	{ "--max-peers=5\n", "1:max-peers=5" },
	{ "--max-peers = 5\n", "1:max-peers=5" },
	{ "max-peers\t=\t5\t\n", "1:max-peers=5" },
	{ "max-peers  =5\n", "1:max-peers=5" },
	{ "max-peers=  5\n", "1:max-peers=5" },
	{ "\v\fmax-peers\f5\v\n", "1:max-peers=5" },
	/* a value: blanks inside kept, around dropped */
	{ "on-done = echo a  b \n", "1:on-done=echo a  b" },
	{ "output = = x\n", "1:output== x" },
	{ "output x=y\n", "1:output=x=y" },
	{ "output ==\n", "1:output==" },
	{ "output =\n", "1:output=" },
	{ "output=\n", "1:output=" },
	{ "output \t= \t\n", "1:output=" },
	/* quotes: one pair, same kind, at both ends; no escapes */
	{ "output = \"  a b  \"\n", "1:output=  a b  " },
	{ "output = '  a b  '\n", "1:output=  a b  " },
	{ "output = \"\"\n", "1:output=" },
	{ "output = ''\n", "1:output=" },
	{ "output = \"\n", "1:output=\"" },
	{ "output = \"a'\n", "1:output=\"a'" },
	{ "output = \"a\" b\n", "1:output=\"a\" b" },
	{ "output = \"\"a\"\"\n", "1:output=\"a\"" },
	{ "output = \"a\\\"\n", "1:output=a\\" },
	{ "output='#x'\n", "1:output=#x" },
	{ "output = a\"b\"\n", "1:output=a\"b\"" },
	/* comments: a line starting with '#', blanks first allowed */
	{ "# no-pex\n", "" },
	{ "   \t# no-pex\n", "" },
	{ "#no-pex\n", "" },
	{ "#\n", "" },
	{ "output = a # b\n", "1:output=a # b" },
	/* names: digits, dashes inside */
	{ "x-1-2\n", "1:x-1-2" },
	{ "9\n", "1:9" },
	{ "a-\n", "1:a-" },
	/* line numbers count every line, blank and comment */
	{ "\n# c\n\nno-pex\n\n[download]\nno-dht\n", "4:no-pex|7:no-dht" },
	/* CRLF reads as LF */
	{ "no-pex\r\nmax-peers = 5\r\n\r\n", "1:no-pex|2:max-peers=5" },
	{ "output = \"a \"\r\n", "1:output=a " },
	{ "\r\n\r\n", "" },
	/* a missing final newline */
	{ "no-pex\nmax-peers = 5", "1:no-pex|2:max-peers=5" },
	{ "no-pex", "1:no-pex" },
	{ "[download]", "" },
	/* repeated options all come, in order */
	{ "peer a\npeer b\npeer a\n", "1:peer=a|2:peer=b|3:peer=a" },
};

Test(config, forms)
{
	size_t	i;

	for (i = 0; i < nitems(form_cases); i++)
		expect(form_cases[i].in, "download", form_cases[i].want);
}

/* Lines that are no option nor section: the error names the line. */
static const struct form_case bad_cases[] = {
	{ "-o /tmp\n", "1: an option's long name" },
	{ "-\n", "1: an option's long name" },
	{ "--\n", "1: an option's long name" },
	{ "--=\n", "1: an option's long name" },
	{ "---x\n", "1: an option's long name" },
	{ "-- x\n", "1: an option's long name" },
	{ "= x\n", "1: an option's long name" },
	{ "max-upload-rate: 1M\n", "1: an option's long name" },
	{ "Max-peers 5\n", "1: an option's long name" },
	{ "max_peers 5\n", "1: an option's long name" },
	{ "max-peers\"5\"\n", "1: an option's long name" },
	{ "no-pex\n\xff\xfe\n", "2: an option's long name" },
	{ "no-p\xc3\xa9x\n", "1: an option's long name" },
	{ "no-pex\x01\n", "1: an option's long name" },
	{ "\"no-pex\"\n", "1: an option's long name" },
	{ "[torrents]\n", "1: a section is [download] or [seed]" },
	{ "[Download]\n", "1: a section is [download] or [seed]" },
	{ "[ download ]\n", "1: a section is [download] or [seed]" },
	{ "[download\n", "1: a section is [download] or [seed]" },
	{ "[download] x\n", "1: a section is [download] or [seed]" },
	{ "[]\n", "1: a section is [download] or [seed]" },
	{ "[\n", "1: a section is [download] or [seed]" },
	{ "[[download]]\n", "1: a section is [download] or [seed]" },
	{ "\n\n  [seed \n", "3: a section is [download] or [seed]" },
	/* the first bad line is the one named */
	{ "no-pex\n-x\n[y]\n", "2: an option's long name" },
};

Test(config, bad_lines_name_their_line)
{
	char	*got;
	size_t	 i;

	for (i = 0; i < nitems(bad_cases); i++) {
		got = parse(bad_cases[i].in, "download");
		cr_expect(strncmp(got, "ERR ", 4) == 0 &&
		    strncmp(got + 4, bad_cases[i].want,
		    strlen(bad_cases[i].want)) == 0, "parse(\"%s\"): %s",
		    bad_cases[i].in, got);
		free(got);
	}
	expect("-o x\n", "download", "ERR 1: an option's long name (e.g. "
	    "max-upload-rate = 1M), then its value if it takes one");
}

Test(config, sections)
{
	const char	*s = "output = both\n"
	    "sequential\n"
	    "on-done = x\n"
	    "magnet m\nmetadata-only\npreallocate\npriority-high 1\n"
	    "priority-low 2\n"
	    "[seed]\n"
	    "max-upload-rate 2M\n"
	    "sequential\n"
	    "[download]\n"
	    "seed-ratio 1.5\n"
	    "[seed]\n"
	    "no-dht\n";

	expect(s, "download", "1:output=both|2:sequential|3:on-done=x|"
	    "4:magnet=m|5:metadata-only|6:preallocate|7:priority-high=1|"
	    "8:priority-low=2|13:seed-ratio=1.5");
	/* seed: the download-only ones before any section are skipped, not
	   in its own section */
	expect(s, "seed", "1:output=both|10:max-upload-rate=2M|11:sequential|"
	    "15:no-dht");
	/* another command: only the options before any section */
	expect(s, "create", "1:output=both|2:sequential|3:on-done=x|"
	    "4:magnet=m|5:metadata-only|6:preallocate|7:priority-high=1|"
	    "8:priority-low=2");
	/* a section may be empty, repeated, last */
	expect("[seed]\n[seed]\n[download]\n", "download", "");
	expect("[download]\n\tno-pex\n", "download", "2:no-pex");
	expect("  [download]  \r\nno-pex\n", "download", "2:no-pex");
	expect("[download]\nno-pex\n", "seed", "");
}

/* A check that refuses names starting with 'x', and counts its calls. */
struct check_arg {
	unsigned	calls;
	char		seen[512];
};

static enum gt_err
check_x(void *arg, const char *name, const char *value, char *err)
{
	struct check_arg	*a = arg;
	size_t			 len = strlen(a->seen);

	a->calls++;
	snprintf(a->seen + len, sizeof(a->seen) - len, "%s%s%s;", name,
	    value != NULL ? "=" : "", value != NULL ? value : "");
	if (name[0] == 'x')
		return gt_fail(err, GT_EINVAL, "unknown option '%s'", name);
	return GT_OK;
}

/* A check that fails without saying why. */
static enum gt_err
check_mute(void *arg, const char *name, const char *value, char *err)
{
	(void)arg;
	(void)value;
	(void)err;
	return name[0] == 'm' ? GT_ERANGE : GT_OK;
}

Test(config, check_sees_every_option_in_order)
{
	struct check_arg	 a = { 0 };
	const char		*s = "no-pex\n[seed]\nmagnet = m\n"
	    "[download]\nmax-peers = \"\"\n";
	char			*got;

	got = parse_n(s, strlen(s), "download", check_x, &a);
	cr_assert_str_eq(got, "1:no-pex|5:max-peers=");
	free(got);
	/* the other section's option is checked too */
	cr_assert_eq(a.calls, 3);
	cr_assert_str_eq(a.seen, "no-pex;magnet=m;max-peers=;");

	/* a bad name in another section is an error */
	memset(&a, 0, sizeof(a));
	s = "no-pex\n[seed]\n\nxyz = 1\n[bad]\n";
	got = parse_n(s, strlen(s), "download", check_x, &a);
	cr_assert_str_eq(got, "ERR 4: unknown option 'xyz'");
	free(got);
	/* and so is one seed skips as download-only */
	got = parse_n("x\n", 2, "seed", check_x, &a);
	cr_assert_str_eq(got, "ERR 1: unknown option 'x'");
	free(got);
	/* the first bad line wins: check's (2) before the syntax's (3) */
	s = "a\nxa\n-b\n";
	got = parse_n(s, strlen(s), "download", check_x, &a);
	cr_assert_str_eq(got, "ERR 2: unknown option 'xa'");
	free(got);
	s = "a\n-b\nxa\n";
	got = parse_n(s, strlen(s), "download", check_x, &a);
	cr_assert(strncmp(got, "ERR 2: an option's", 18) == 0, "%s", got);
	free(got);
	/* a check without a reason: the error's name */
	got = parse_n("a\nm\n", 4, "download", check_mute, NULL);
	cr_assert_str_eq(got, "ERR 2: value out of range", "%s", got);
	free(got);
}

Test(config, line_cap)
{
	char	*s = xmalloc(CONFIG_MAX_LINE + 16), *got;

	/* 4096 bytes: good; 4097: not; '\r' counts */
	memset(s, 'a', CONFIG_MAX_LINE);
	memcpy(s + CONFIG_MAX_LINE, "\n", 2);
	got = parse(s, "download");
	cr_assert_eq(strlen(got), 2 + CONFIG_MAX_LINE, "%.40s", got);
	free(got);
	memcpy(s + CONFIG_MAX_LINE, "a\n", 3);
	expect(s, "download", "ERR 1: longer than 4096 bytes");
	memcpy(s + CONFIG_MAX_LINE - 1, "\r\n", 3);
	got = parse(s, "download");
	cr_assert_eq(strlen(got), 2 + CONFIG_MAX_LINE - 1, "%.40s", got);
	free(got);
	memcpy(s + CONFIG_MAX_LINE, "\r\n", 3);
	expect(s, "download", "ERR 1: longer than 4096 bytes");
	/* even blanks or a comment */
	memset(s, ' ', CONFIG_MAX_LINE + 1);
	memcpy(s + CONFIG_MAX_LINE + 1, "\n", 2);
	expect(s, "download", "ERR 1: longer than 4096 bytes");
	s[0] = '#';
	expect(s, "download", "ERR 1: longer than 4096 bytes");
	/* without a final newline, on line 2 */
	memcpy(s, "\n#", 2);
	s[CONFIG_MAX_LINE + 1] = ' ';
	s[CONFIG_MAX_LINE + 2] = '\0';
	expect(s, "download", "ERR 2: longer than 4096 bytes");
	free(s);
}

Test(config, size_cap)
{
	char	*s = xmalloc(CONFIG_MAX_BYTES + 2), *got;

	memset(s, '\n', CONFIG_MAX_BYTES + 1);
	s[CONFIG_MAX_BYTES + 1] = '\0';
	got = parse_n(s, CONFIG_MAX_BYTES, "download", NULL, NULL);
	cr_assert_str_eq(got, "");
	free(got);
	got = parse_n(s, CONFIG_MAX_BYTES + 1, "download", NULL, NULL);
	cr_assert_str_eq(got, "ERR larger than 65536 bytes");
	free(got);
	free(s);
	cr_assert_eq(config_parse((const uint8_t *)"", SIZE_MAX, "download",
	    NULL, NULL, NULL, NULL), GT_ETOOBIG);
}

Test(config, count_cap)
{
	char	*s = xmalloc(CONFIG_MAX_OPTS * 8 + 64), *p, *got;
	size_t	 i;

	p = s;
	for (i = 0; i < CONFIG_MAX_OPTS; i++)
		p += sprintf(p, "o%zu\n", i);
	got = parse(s, "download");
	cr_assert(strncmp(got, "1:o0|2:o1|", 10) == 0);
	cr_assert(strstr(got, "|256:o255") != NULL);
	free(got);
	/* the 257th: named by its line, after blank ones */
	sprintf(p, "\n\nlast\n");
	expect(s, "download", "ERR 259: more than 256 options");
	/* options skipped do not count */
	sprintf(p, "[seed]\nx\ny\n[download]\n");
	got = parse(s, "download");
	cr_assert(strstr(got, "|256:o255") != NULL);
	free(got);
	sprintf(p, "sequential\n");
	got = parse(s, "seed");
	cr_assert(strstr(got, "|256:o255") != NULL &&
	    strstr(got, "sequential") == NULL);
	free(got);
	got = parse(s, "download");
	cr_assert_str_eq(got, "ERR 257: more than 256 options");
	free(got);
	free(s);
}

Test(config, nul_bytes)
{
	char	*got;

	got = parse_n("\0", 1, "download", NULL, NULL);
	cr_assert_str_eq(got, "ERR 1: a NUL byte");
	free(got);
	got = parse_n("no-pex\nno-dht\0\n", 15, "download", NULL, NULL);
	cr_assert_str_eq(got, "ERR 2: a NUL byte");
	free(got);
	got = parse_n("no-pex\n\n\n\0", 10, "download", NULL, NULL);
	cr_assert_str_eq(got, "ERR 4: a NUL byte");
	free(got);
	/* before any other error, in the whole file */
	got = parse_n("[bad]\n-x\n\n# \0", 13, "download", NULL, NULL);
	cr_assert_str_eq(got, "ERR 4: a NUL byte");
	free(got);
	/* a comment or a value holding one: still */
	got = parse_n("output = a\0b\n", 13, "download", NULL, NULL);
	cr_assert_str_eq(got, "ERR 1: a NUL byte");
	free(got);
}

Test(config, bytes_need_no_terminator)
{
	char	*got;

	/* len stops the parse: "no-pex" is cut to "no" */
	got = parse_n("no-pex", 2, "download", NULL, NULL);
	cr_assert_str_eq(got, "1:no");
	free(got);
	got = parse_n("x", 0, "download", NULL, NULL);
	cr_assert_str_eq(got, "");
	free(got);
}

Test(config, err_may_be_null_and_out_untouched)
{
	struct config	c = { .n = 7 };

	cr_assert_eq(config_parse((const uint8_t *)"-x\n", 3, "download",
	    NULL, NULL, &c, NULL), GT_EINVAL);
	cr_assert_eq(c.n, 7);
	cr_assert_null(c.v);
	cr_assert_null(c.text);
	config_init(&c);
	config_clear(&c);
	config_clear(&c);
}

/* Junk of every kind: no crash, a result whose strings are sane. */
Test(config, hostile)
{
	static const char *const junk[] = {
		"[[[[[[[[[[[[[[[[[[[[[[", "================", "\"\"\"\"\"",
		"''''", "--\n--\n--", "]\n]\n", "#\r#\r#\r", "\r\r\r\r",
		"\xff\xfe\xfd", "a\xc0\x80", "[download]\xff",
		"a = \x1b[31mred", "a \"\n\"", "\t\t\t\t=\t\t",
	};
	struct config	 c;
	char		 err[GT_ERRLEN], *buf;
	uint32_t	 x = 13;
	size_t		 i, j, k, len;

	for (i = 0; i < nitems(junk); i++) {
		buf = parse(junk[i], "download");
		free(buf);
		buf = parse(junk[i], "seed");
		free(buf);
	}
	buf = xmalloc(4000);
	for (i = 0; i < 3000; i++) {
		len = i % 4000;
		for (j = 0; j < len; j++) {
			x = x * 1103515245 + 12345;
			/* the bytes that mean something; a NUL rarely */
			buf[j] = "ab-=#[] \t\r\n\"'\xff"[(x >> 16) % 14];
			if ((x >> 8) % 1000 == 0)
				buf[j] = '\0';
		}
		config_init(&c);
		if (config_parse((const uint8_t *)buf, len, i % 2 ? "seed" :
		    "download", NULL, NULL, &c, err) != GT_OK) {
			cr_assert(err[0] >= '0' && err[0] <= '9', "%s", err);
			continue;
		}
		for (k = 0; k < c.n; k++) {
			cr_assert(c.v[k].line >= 1 && (k == 0 ||
			    c.v[k].line > c.v[k - 1].line));
			cr_assert(strlen(c.v[k].name) > 0 &&
			    c.v[k].name[0] != '-');
			cr_assert(strspn(c.v[k].name, "abcdefghijklmnopqrstuv"
			    "wxyz0123456789-") == strlen(c.v[k].name));
			cr_assert(c.v[k].value == NULL ||
			    strchr(c.v[k].value, '\n') == NULL);
		}
		config_clear(&c);
	}
	free(buf);
}
