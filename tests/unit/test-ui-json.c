/* test-ui-json.c - the --json writer: exact lines, hostile strings */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui-json.h"
#include "util.h"

/*
 * A JSON string decoder for the checks (the writer has none): the value
 * starting at *p (a '"'), decoded to UTF-8 in out; *p moves past it.
 * Surrogate pairs are joined.  Fails the test on anything malformed.
 */
static size_t
put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static uint32_t
hex4(const char *s)
{
	uint32_t	v = 0;
	int		i;

	for (i = 0; i < 4; i++) {
		cr_assert(strchr("0123456789abcdef", s[i]) != NULL && s[i],
		    "bad \\u escape in %s", s);
		v = v << 4 | (uint32_t)(s[i] <= '9' ? s[i] - '0' :
		    s[i] - 'a' + 10);
	}
	return v;
}

static void
decode_str(const char **p, char *out)
{
	const char	*s = *p;
	size_t		 o = 0;
	uint32_t	 cp, lo;

	cr_assert_eq(*s, '"');
	s++;
	while (*s != '"') {
		cr_assert((unsigned char)*s >= 0x20, "raw control byte");
		if (*s != '\\') {
			out[o++] = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case '"': case '\\': case '/':
			out[o++] = *s++;
			break;
		case 'n':
			out[o++] = '\n';
			s++;
			break;
		case 't':
			out[o++] = '\t';
			s++;
			break;
		case 'u':
			cp = hex4(s + 1);
			s += 5;
			if (cp >= 0xd800 && cp < 0xdc00) {
				cr_assert(s[0] == '\\' && s[1] == 'u');
				lo = hex4(s + 2);
				cr_assert(lo >= 0xdc00 && lo < 0xe000);
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			}
			o += put_utf8(out + o, cp);
			break;
		default:
			cr_assert_fail("bad escape \\%c", *s);
		}
	}
	out[o] = '\0';
	*p = s + 1;
}

/* The line as the writer makes it for one string field. */
static char *
one_str(const char *s)
{
	struct ui_json	 j;
	const char	*line;
	char		*copy;

	ui_json_init(&j);
	ui_json_begin(&j, "x", 0);
	ui_json_str(&j, "s", s);
	line = ui_json_end(&j, NULL);
	copy = xstrdup(line);
	ui_json_clear(&j);
	return copy;
}

Test(ui_json, exact_line)
{
	static const uint8_t	ih[4] = { 0x01, 0xab, 0xff, 0x00 };
	struct ui_json		j;
	const char		*line;
	size_t			 len;

	ui_json_init(&j);
	ui_json_begin(&j, "stats", 61234);
	ui_json_hex(&j, "torrent", ih, sizeof(ih));
	ui_json_uint(&j, "have", UINT64_MAX);
	ui_json_int(&j, "seeds", -1);
	ui_json_int(&j, "min", INT64_MIN);
	ui_json_bool(&j, "ok", true);
	ui_json_bool(&j, "no", false);
	ui_json_null(&j, "n");
	ui_json_str(&j, "s", NULL);
	ui_json_fraction(&j, "progress", 1, 3);
	ui_json_array_begin(&j, "a");
	ui_json_array_str(&j, "x");
	ui_json_array_uint(&j, 7);
	ui_json_array_end(&j);
	ui_json_array_begin(&j, "e");
	ui_json_array_end(&j);
	line = ui_json_end(&j, &len);
	cr_assert_str_eq(line, "{\"v\":1,\"event\":\"stats\",\"t\":61.234,"
	    "\"torrent\":\"01abff00\",\"have\":18446744073709551615,"
	    "\"seeds\":-1,\"min\":-9223372036854775808,\"ok\":true,"
	    "\"no\":false,\"n\":null,\"s\":null,\"progress\":0.3333,"
	    "\"a\":[\"x\",7],\"e\":[]}\n");
	cr_assert_eq(len, strlen(line));
	/* The same storage, a second object from scratch. */
	ui_json_begin(&j, "done", 5);
	line = ui_json_end(&j, NULL);
	cr_assert_str_eq(line, "{\"v\":1,\"event\":\"done\",\"t\":0.005}\n");
	ui_json_clear(&j);
	ui_json_clear(&j);		/* twice: harmless */
}

Test(ui_json, fractions)
{
	static const struct {
		uint64_t	 num, den;
		const char	*out;
	} cases[] = {
		{ 0, 0, "0.0000" }, { 0, 10, "0.0000" }, { 10, 10, "1.0000" },
		{ 11, 10, "1.0000" }, { 99999, 100000, "0.9999" },
		{ 999999999, 1000000000, "0.9999" }, { 1, 2, "0.5000" },
		{ UINT64_MAX - 1, UINT64_MAX, "0.9999" },
		{ UINT64_MAX / 2, UINT64_MAX, "0.4999" },
	};
	struct ui_json	 j;
	char		 want[64];
	size_t		 i;

	ui_json_init(&j);
	for (i = 0; i < nitems(cases); i++) {
		ui_json_begin(&j, "p", 0);
		ui_json_fraction(&j, "f", cases[i].num, cases[i].den);
		snprintf(want, sizeof(want), "{\"v\":1,\"event\":\"p\","
		    "\"t\":0.000,\"f\":%s}\n", cases[i].out);
		cr_assert_str_eq(ui_json_end(&j, NULL), want, "case %zu", i);
	}
	ui_json_clear(&j);
}

/* Names a hostile peer or .torrent could bring, as the writer shows them. */
Test(ui_json, hostile_strings_exact)
{
	static const struct {
		const char	*in, *out;
	} cases[] = {
		{ "plain", "\"plain\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "\x1b[2J\r\n\t\x7f", "\"\\u001b[2J\\u000d\\n\\t\\u007f\"" },
		/* RLO, LRI..PDI, LRM/RLM: as escapes, never raw */
		{ "evil\xe2\x80\xaetxt.exe", "\"evil\\u202etxt.exe\"" },
		{ "\xe2\x81\xa6x\xe2\x81\xa9", "\"\\u2066x\\u2069\"" },
		{ "\xe2\x80\x8e\xe2\x80\x8f", "\"\\u200e\\u200f\"" },
		/* invalid UTF-8: each bad byte one U+FFFD */
		{ "a\xff\xfe" "b", "\"a\\ufffd\\ufffdb\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },	/* overlong '/' */
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" }, /* surrogate */
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },	/* cut short */
		/* a tag character past the BMP: a surrogate pair */
		{ "\xf3\xa0\x80\x81", "\"\\udb40\\udc01\"" },
		/* printable non-ASCII stays as it is */
		{ "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
		    "\"caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80\"" },
		{ "", "\"\"" },
	};
	char	*line, want[256];
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		line = one_str(cases[i].in);
		snprintf(want, sizeof(want), "{\"v\":1,\"event\":\"x\","
		    "\"t\":0.000,\"s\":%s}\n", cases[i].out);
		cr_assert_str_eq(line, want, "case %zu", i);
		free(line);
	}
}

/*
 * Every byte string of a hostile set: the line is one line of printable
 * text (no control byte, no hidden character raw), and decodes back to
 * the input when the input was valid UTF-8 (hidden characters included,
 * as escapes), else to it with U+FFFD for each bad byte.
 */
Test(ui_json, hostile_round_trip)
{
	static const char *const names[] = {
		"normal name.iso",
		"../../etc/passwd",
		"\xe2\x80\xae" "gpj.exe",
		"a\xe2\x81\xa7" "b\xe2\x81\xa8" "c\xe2\x81\xa9",
		"zero\xe2\x80\x8bwidth\xef\xbb\xbf",
		"line\xe2\x80\xa8sep\xe2\x80\xa9",
		"\x01\x02\x03\x1f",
		"\xc2\x85\xc2\x9b" "c1",
		"\"}\n{\"v\":1,\"event\":\"done\"",
		"back\\slash\\",
		"emoji \xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf",
		"zwj \xe2\x80\x8d kept",
	};
	char		*line, out[1024];
	const char	*p, *s;
	uint32_t	 cp;
	size_t		 i, k, n;

	for (i = 0; i < nitems(names); i++) {
		line = one_str(names[i]);
		n = strlen(line);
		cr_assert_eq(line[n - 1], '\n');
		cr_assert(memchr(line, '\n', n - 1) == NULL, "one line");
		cr_assert(utf8_valid(line));
		for (s = line; *s != '\0'; s += k) {
			k = utf8_seq((const uint8_t *)s, strlen(s), &cp);
			cr_assert(k > 0);
			cr_assert(!utf8_hidden(cp) || cp == '\n',
			    "case %zu: U+%04X raw", i, cp);
		}
		p = strstr(line, "\"s\":");
		cr_assert_not_null(p);
		p += 4;
		decode_str(&p, out);
		cr_assert_str_eq(p, "}\n");
		cr_assert_str_eq(out, names[i], "case %zu", i);
		free(line);
	}
}

/* Long values grow the line; nothing is cut. */
Test(ui_json, long_values)
{
	struct ui_json	 j;
	char		*big, *dec;
	const char	*line, *p;
	size_t		 n = 100000, i;

	big = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	big[n / 2] = '\x1b';
	ui_json_init(&j);
	ui_json_begin(&j, "e", 1);
	ui_json_str(&j, "s", big);
	line = ui_json_end(&j, NULL);
	p = strstr(line, "\"s\":") + 4;
	dec = xmalloc(n + 1);
	decode_str(&p, dec);
	cr_assert_str_eq(dec, big);
	ui_json_clear(&j);
	free(big);
	free(dec);
}
