/* test-util.c - byte order, hex, sizes, UTF-8 and safe text */
#include <criterion/criterion.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

Test(util, be_round_trip)
{
	uint8_t	b[8];

	store_be16(b, 0x1234);
	cr_assert_eq(b[0], 0x12);
	cr_assert_eq(load_be16(b), 0x1234);
	store_be32(b, 0xdeadbeef);
	cr_assert_eq(b[0], 0xde);
	cr_assert_eq(b[3], 0xef);
	cr_assert_eq(load_be32(b), 0xdeadbeef);
	store_be64(b, 0x0102030405060708ULL);
	cr_assert_eq(b[0], 1);
	cr_assert_eq(b[7], 8);
	cr_assert_eq(load_be64(b), 0x0102030405060708ULL);
}

Test(util, hex)
{
	static const uint8_t	in[] = { 0x00, 0xab, 0xff, 0x10 };
	char			out[9];
	uint8_t			back[4];

	hex_encode(out, in, sizeof(in));
	cr_assert_str_eq(out, "00abff10");
	cr_assert_eq(hex_decode(back, "00ABff10", 4), 0);
	cr_assert_eq(memcmp(back, in, 4), 0);
	cr_assert_eq(hex_decode(back, "0g", 1), -1);
	cr_assert_eq(hex_decode(back, "0", 1), -1);	/* NUL is no digit */
}

Test(util, human_size)
{
	static const struct {
		uint64_t	 n;
		const char	*want;
	} cases[] = {
		{ 0, "0 B" }, { 1023, "1023 B" }, { 1024, "1.00 KiB" },
		{ 1536, "1.50 KiB" }, { 1ULL << 30, "1.00 GiB" },
		{ UINT64_MAX, "16.00 EiB" },
	};
	char	buf[32];
	size_t	i;

	for (i = 0; i < nitems(cases); i++)
		cr_assert_str_eq(human_size(buf, sizeof(buf), cases[i].n, 2),
		    cases[i].want);
	/* The status line's one decimal (once ui.c's own copy). */
	cr_assert_str_eq(human_size(buf, sizeof(buf), 440401920, 1),
	    "420.0 MiB");
	cr_assert_str_eq(human_size(buf, sizeof(buf), 1023, 1), "1023 B");
	cr_assert_str_eq(human_size(buf, sizeof(buf), 1ULL << 50, 0),
	    "1 PiB");
}

Test(util, strings)
{
	char	*s;

	s = xstrndup("abcdef", 3);
	cr_assert_str_eq(s, "abc");
	free(s);
	s = xasprintf("%d-%s", 42, "x");
	cr_assert_str_eq(s, "42-x");
	free(s);
}

Test(util, utf8_seq)
{
	static const struct {
		const char	*s;
		size_t		 len;
		uint32_t	 cp;	/* when len > 0 */
	} cases[] = {
		{ "A", 1, 'A' }, { "\x7f", 1, 0x7f },
		{ "\xc2\x80", 2, 0x80 }, { "\xc3\xa9", 2, 0xe9 },
		{ "\xe2\x80\xae", 3, 0x202e }, { "\xef\xbf\xbd", 3, 0xfffd },
		{ "\xf0\x9f\x8e\x89", 4, 0x1f389 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10ffff },
		{ "\x80", 0, 0 },		/* stray continuation */
		{ "\xc0\xaf", 0, 0 },		/* overlong '/' */
		{ "\xc1\xbf", 0, 0 },
		{ "\xe0\x9f\xbf", 0, 0 },	/* overlong */
		{ "\xed\xa0\x80", 0, 0 },	/* surrogate */
		{ "\xf0\x8f\xbf\xbf", 0, 0 },	/* overlong */
		{ "\xf4\x90\x80\x80", 0, 0 },	/* past U+10FFFF */
		{ "\xf5\x80\x80\x80", 0, 0 },
		{ "\xff", 0, 0 },
		{ "\xe2\x80", 0, 0 },		/* truncated */
		{ "\xe2\x28\xae", 0, 0 },	/* bad continuation */
	};
	uint32_t	cp;
	size_t		i;

	for (i = 0; i < nitems(cases); i++) {
		cp = 0xdeadbeef;
		cr_assert_eq(utf8_seq((const uint8_t *)cases[i].s,
		    strlen(cases[i].s), &cp), cases[i].len, "case %zu", i);
		if (cases[i].len > 0)
			cr_assert_eq(cp, cases[i].cp, "case %zu", i);
	}
	/* n bounds the look-ahead even when more bytes follow. */
	cr_assert_eq(utf8_seq((const uint8_t *)"\xc3\xa9", 1, NULL), 0);
	cr_assert_eq(utf8_seq((const uint8_t *)"", 0, NULL), 0);
}

Test(util, utf8_hidden)
{
	static const uint32_t	hidden[] = {
		0x00, 0x1b, 0x7f, 0x85, 0x9b, 0xad, 0x061c, 0x180e, 0x200b,
		0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c,
		0x202d, 0x202e, 0x2060, 0x2064, 0x2066, 0x2067, 0x2068,
		0x2069, 0x206f, 0xfeff, 0xfff9, 0xfffb, 0xe0001, 0xe0041,
		0xe007f,
	};
	static const uint32_t	shown[] = {
		' ', 'a', '~', 0xa0, 0xe9, 0x05d0, 0x0627, 0x200c, 0x200d,
		0x2010, 0x2027, 0x202f, 0x2065, 0x2070, 0xfffc, 0xfffd,
		0x1f389, 0xe0000, 0xe0080, 0x10ffff,
	};
	size_t			i;

	for (i = 0; i < nitems(hidden); i++)
		cr_assert(utf8_hidden(hidden[i]), "U+%04X", hidden[i]);
	for (i = 0; i < nitems(shown); i++)
		cr_assert(!utf8_hidden(shown[i]), "U+%04X", shown[i]);
}

Test(util, text_escape)
{
	static const struct {
		const char	*in;
		const char	*term, *json, *bytes;
	} cases[] = {
		{ "", "", "\"\"", "" },
		{ "plain.txt", "plain.txt", "\"plain.txt\"", "plain.txt" },
		{ "caf\xc3\xa9 \xf0\x9f\x8e\x89",
		    "caf\xc3\xa9 \xf0\x9f\x8e\x89",
		    "\"caf\xc3\xa9 \xf0\x9f\x8e\x89\"",
		    "caf\xc3\xa9 \xf0\x9f\x8e\x89" },
		/* Trojan Source: RLO reverses "exe.txt" on screen. */
		{ "a\xe2\x80\xaetxt.exe", "a?txt.exe",
		    "\"a\\u202etxt.exe\"", "a\\xe2\\x80\\xaetxt.exe" },
		{ "\xe2\x81\xa6x\xe2\x81\xa9", "?x?", "\"\\u2066x\\u2069\"",
		    "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9" },
		{ "z\xe2\x80\x8bw\xef\xbb\xbf", "z?w?",
		    "\"z\\u200bw\\ufeff\"",
		    "z\\xe2\\x80\\x8bw\\xef\\xbb\\xbf" },
		{ "\xe2\x80\xa8\xe2\x80\xa9", "??", "\"\\u2028\\u2029\"",
		    "\\xe2\\x80\\xa8\\xe2\\x80\\xa9" },
		{ "soft\xc2\xadhy", "soft?hy", "\"soft\\u00adhy\"",
		    "soft\\xc2\\xadhy" },
		{ "c1\xc2\x9b", "c1?", "\"c1\\u009b\"", "c1\\xc2\\x9b" },
		/* A tag character: a surrogate pair in JSON. */
		{ "t\xf3\xa0\x80\x81", "t?", "\"t\\udb40\\udc01\"",
		    "t\\xf3\\xa0\\x80\\x81" },
		/* ZWJ in an emoji sequence stays. */
		{ "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb",
		    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb",
		    "\"\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb\"",
		    "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb" },
		{ "tab\tnl\nesc\x1b[2Jdel\x7f", "tab?nl?esc?[2Jdel?",
		    "\"tab\\tnl\\nesc\\u001b[2Jdel\\u007f\"",
		    "tab\\x09nl\\x0aesc\\x1b[2Jdel\\x7f" },
		{ "q\"b\\s", "q\"b\\s", "\"q\\\"b\\\\s\"", "q\"b\\\\s" },
		/* Invalid UTF-8: one mark per byte. */
		{ "bad\xff\xfe\xc3", "bad???",
		    "\"bad\\ufffd\\ufffd\\ufffd\"", "bad\\xff\\xfe\\xc3" },
		{ "\xed\xa0\x80", "???", "\"\\ufffd\\ufffd\\ufffd\"",
		    "\\xed\\xa0\\x80" },
	};
	char	*s;
	size_t	 i;

	for (i = 0; i < nitems(cases); i++) {
		s = text_escape(cases[i].in, TEXT_TERM);
		cr_assert_str_eq(s, cases[i].term, "case %zu", i);
		free(s);
		s = text_escape(cases[i].in, TEXT_JSON);
		cr_assert_str_eq(s, cases[i].json, "case %zu", i);
		free(s);
		s = text_escape(cases[i].in, TEXT_BYTES);
		cr_assert_str_eq(s, cases[i].bytes, "case %zu", i);
		free(s);
	}
}

/* No code point the escaper lets through is hidden, in any style. */
Test(util, text_escape_every_code_point)
{
	uint8_t		in[5];
	char		*s;
	uint32_t	cp, back;
	size_t		k, n;

	for (cp = 1; cp <= 0x10ffff; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x80) {
			in[0] = (uint8_t)cp;
			k = 1;
		} else if (cp < 0x800) {
			in[0] = (uint8_t)(0xc0 | cp >> 6);
			in[1] = (uint8_t)(0x80 | (cp & 0x3f));
			k = 2;
		} else if (cp < 0x10000) {
			in[0] = (uint8_t)(0xe0 | cp >> 12);
			in[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			in[2] = (uint8_t)(0x80 | (cp & 0x3f));
			k = 3;
		} else {
			in[0] = (uint8_t)(0xf0 | cp >> 18);
			in[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
			in[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
			in[3] = (uint8_t)(0x80 | (cp & 0x3f));
			k = 4;
		}
		in[k] = 0;
		cr_assert_eq(utf8_seq(in, k, &back), k);
		cr_assert_eq(back, cp);
		if (!utf8_hidden(cp))
			continue;
		s = text_escape((const char *)in, TEXT_TERM);
		cr_assert_str_eq(s, "?", "U+%04X", cp);
		free(s);
		s = text_escape((const char *)in, TEXT_JSON);
		n = strlen(s);
		cr_assert(n == 8 || n == 14 || (n == 4 && cp < 0x20), "U+%04X",
		    cp);
		cr_assert_eq(s[1], '\\', "U+%04X", cp);
		free(s);
	}
}

Test(util, utf8_valid)
{
	cr_assert(utf8_valid(""));
	cr_assert(utf8_valid("plain"));
	cr_assert(utf8_valid("caf\xc3\xa9 \xf0\x9f\x8e\x89"));
	cr_assert(utf8_valid("\xe2\x80\xae"));	/* valid, if hidden */
	cr_assert(!utf8_valid("caf\xe9"));
	cr_assert(!utf8_valid("\xc3"));
	cr_assert(!utf8_valid("\xc0\xaf"));
	cr_assert(!utf8_valid("\xed\xa0\x80"));
	cr_assert(!utf8_valid("ok\xff"));
}

Test(util, utf8_from_legacy)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "", "" },
		{ "plain.txt", "plain.txt" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },		/* UTF-8 kept */
		{ "caf\xe9", "caf\xc3\xa9" },			/* Latin-1 */
		{ "\xff\xa0", "\xc3\xbf\xc2\xa0" },
		{ "\x80 \x92s \x9f", "\xe2\x82\xac \xe2\x80\x99s \xc5\xb8" },
		{ "\x81\x8d\x8f\x90\x9d",		/* undefined: C1 */
		    "\xc2\x81\xc2\x8d\xc2\x8f\xc2\x90\xc2\x9d" },
		{ "mix \xc3\xa9\xe9\xc3", "mix \xc3\xa9\xc3\xa9\xc3\x83" },
		{ "\xe2\x80", "\xc3\xa2\xe2\x82\xac" },	/* truncated */
	};
	char	*s;
	size_t	 i;
	int	 b;

	for (i = 0; i < nitems(cases); i++) {
		s = utf8_from_legacy(cases[i].in);
		cr_assert_str_eq(s, cases[i].want, "case %zu", i);
		cr_assert(utf8_valid(s), "case %zu", i);
		free(s);
	}
	/* Every byte alone: valid UTF-8, and one to one. */
	for (b = 0x80; b < 0x100; b++) {
		char	in[2] = { (char)b, 0 }, in2[2];
		char	*t;
		int	 b2;

		s = utf8_from_legacy(in);
		cr_assert(utf8_valid(s));
		for (b2 = b + 1; b2 < 0x100; b2++) {
			in2[0] = (char)b2;
			in2[1] = 0;
			t = utf8_from_legacy(in2);
			cr_assert_str_neq(s, t, "0x%x 0x%x", b, b2);
			free(t);
		}
		free(s);
	}
}

/* write_all: every byte through a pipe; a closed reader is an error. */
Test(util, write_all_pipe)
{
	static char	big[200000], back[200000];
	int		fds[2];
	size_t		got = 0;
	ssize_t		n;
	pid_t		pid;

	memset(big, 'q', sizeof(big));
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		_exit(write_all(fds[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while ((n = read(fds[0], back + got, sizeof(back) - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	cr_assert_eq(got, sizeof(big));
	cr_assert_eq(memcmp(big, back, sizeof(big)), 0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(fds), 0);
	close(fds[0]);
	cr_assert_eq(write_all(fds[1], "x", 1), -1);
	cr_assert_eq(errno, EPIPE);
	close(fds[1]);
}
