/* util.c - allocation that aborts on OOM, hex, sizes, safe text */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static void
oom(size_t n)
{
	fprintf(stderr, "gtorrent: out of memory (%zu bytes)\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p;

	p = malloc(n == 0 ? 1 : n);
	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *ptr, size_t n)
{
	void	*p;

	p = realloc(ptr, n == 0 ? 1 : n);
	if (p == NULL)
		oom(n);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void
hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(uint8_t *out, const char *in, size_t len)
{
	size_t	i;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		hi = hex_digit(in[2 * i]);
		if (hi < 0)
			return -1;
		lo = hex_digit(in[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *
human_size(char *buf, size_t bufsz, uint64_t n, int decimals)
{
	static const char *const	units[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	double				v = (double)n;
	size_t				u = 0;

	while (v >= 1024 && u + 1 < nitems(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, bufsz, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, bufsz, "%.*f %s", decimals, v, units[u]);
	return buf;
}

size_t
utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
	uint8_t		c = s[0];
	uint32_t	v;
	size_t		k, i;

#define CONT(x)	(((x) & 0xc0) == 0x80)
	if (n == 0)
		return 0;
	if (c < 0x80) {
		v = c;
		k = 1;
	} else if (c < 0xc2 || c > 0xf4)
		return 0;	/* stray, overlong lead, past U+10FFFF */
	else {
		k = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (n < k)
			return 0;
		v = c & (0x7f >> k);
		for (i = 1; i < k; i++) {
			if (!CONT(s[i]))
				return 0;
			v = v << 6 | (s[i] & 0x3f);
		}
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xf0 && s[1] < 0x90))
			return 0;	/* overlong */
		if ((c == 0xed && s[1] >= 0xa0) || (c == 0xf4 && s[1] >= 0x90))
			return 0;	/* surrogate, past U+10FFFF */
	}
#undef CONT
	if (cp != NULL)
		*cp = v;
	return k;
}

bool
utf8_hidden(uint32_t cp)
{
	/* Cc, Zl, Zp, and Cf as of Unicode 15.1 less U+200C and U+200D. */
	static const struct {
		uint32_t	lo, hi;
	} ranges[] = {
		{ 0x0000, 0x001f }, { 0x007f, 0x009f }, { 0x00ad, 0x00ad },
		{ 0x0600, 0x0605 }, { 0x061c, 0x061c }, { 0x06dd, 0x06dd },
		{ 0x070f, 0x070f }, { 0x0890, 0x0891 }, { 0x08e2, 0x08e2 },
		{ 0x180e, 0x180e }, { 0x200b, 0x200b }, { 0x200e, 0x200f },
		{ 0x2028, 0x202e }, { 0x2060, 0x2064 }, { 0x2066, 0x206f },
		{ 0xfeff, 0xfeff }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
		{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f },
		{ 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a },
		{ 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
	};
	size_t	lo = 0, hi = nitems(ranges), mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp < ranges[mid].lo)
			hi = mid;
		else if (cp > ranges[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool
utf8_valid(const char *str)
{
	const uint8_t	*s = (const uint8_t *)str;
	size_t		 len = strlen(str), i = 0, k;

	while (i < len) {
		if ((k = utf8_seq(s + i, len - i, NULL)) == 0)
			return false;
		i += k;
	}
	return true;
}

char *
utf8_from_legacy(const char *str)
{
	/* Windows-1252 0x80-0x9F (WHATWG): C1 where it defines nothing. */
	static const uint16_t	cp1252[32] = {
		0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
		0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
	};
	const uint8_t	*s = (const uint8_t *)str;
	size_t		 len = strlen(str), i = 0, o = 0, k;
	uint32_t	 cp;
	char		*out;

	out = xmalloc(3 * len + 1);	/* one byte: at most 3 */
	while (i < len) {
		if ((k = utf8_seq(s + i, len - i, NULL)) != 0) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		cp = s[i] >= 0x80 && s[i] < 0xa0 ? cp1252[s[i] - 0x80] : s[i];
		if (cp < 0x800) {
			out[o++] = (char)(0xc0 | cp >> 6);
			out[o++] = (char)(0x80 | (cp & 0x3f));
		} else {
			out[o++] = (char)(0xe0 | cp >> 12);
			out[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (cp & 0x3f));
		}
		i++;
	}
	out[o] = '\0';
	return out;
}

/* One \uXXXX, or a surrogate pair past the BMP. */
static size_t
json_u(char *o, uint32_t cp)
{
	if (cp < 0x10000)
		return (size_t)sprintf(o, "\\u%04x", (unsigned)cp);
	cp -= 0x10000;
	return (size_t)sprintf(o, "\\u%04x\\u%04x",
	    (unsigned)(0xd800 | cp >> 10), (unsigned)(0xdc00 | (cp & 0x3ff)));
}

char *
text_escape(const char *str, enum text_style style)
{
	const uint8_t	*s = (const uint8_t *)str;
	size_t		 len = strlen(str), i = 0, o = 0, k, j;
	uint32_t	 cp;
	char		*out;

	/* Worst cases: JSON 6 bytes for one invalid one, BYTES 4. */
	out = xmalloc(6 * len + 3);
	if (style == TEXT_JSON)
		out[o++] = '"';
	while (i < len) {
		k = utf8_seq(s + i, len - i, &cp);
		if (k != 0 && !utf8_hidden(cp)) {
			if (style == TEXT_JSON && (cp == '"' || cp == '\\'))
				out[o++] = '\\';
			else if (style == TEXT_BYTES && cp == '\\')
				out[o++] = '\\';
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		switch (style) {
		case TEXT_TERM:
			out[o++] = '?';
			break;
		case TEXT_JSON:
			if (k == 0)
				o += json_u(out + o, 0xfffd);
			else if (cp == '\n')
				o += (size_t)sprintf(out + o, "\\n");
			else if (cp == '\t')
				o += (size_t)sprintf(out + o, "\\t");
			else
				o += json_u(out + o, cp);
			break;
		case TEXT_BYTES:
			for (j = 0; j < (k == 0 ? 1 : k); j++)
				o += (size_t)sprintf(out + o, "\\x%02x",
				    s[i + j]);
			break;
		}
		i += k == 0 ? 1 : k;
	}
	if (style == TEXT_JSON)
		out[o++] = '"';
	out[o] = '\0';
	return out;
}

int
write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}
