/* util.h - allocation that aborts on OOM, byte order, hex, small helpers */
#ifndef GT_UTIL_H
#define GT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#endif

#if defined(__GNUC__)
#define GT_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define GT_PRINTF(f, a)
#endif

void	*xmalloc(size_t);
/*
 * All n bytes of p to fd, EINTR retried: 0, or -1 with errno set (EIO
 * for a write of 0 bytes).  Async-signal-safe (write(2) only).
 */
int	 write_all(int fd, const void *p, size_t n);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) GT_PRINTF(1, 2);

static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
load_be64(const uint8_t *p)
{
	return (uint64_t)load_be32(p) << 32 | load_be32(p + 4);
}

static inline void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

/* Writes 2 * len hex digits and a NUL to out. */
void	 hex_encode(char *out, const uint8_t *in, size_t len);
/* Value of one hex digit, or -1. */
int	 hex_digit(char);
/* Decodes exactly 2 * len hex digits; -1 on a bad digit. */
int	 hex_decode(uint8_t *out, const char *in, size_t len);

/*
 * "1.50 GiB" style with decimals (0-3) digits after the point ("1023 B"
 * below 1 KiB); buf of at least 16 bytes.
 */
const char *human_size(char *buf, size_t bufsz, uint64_t n, int decimals);

/*
 * Length (1-4) of the valid UTF-8 sequence at s, which has n bytes left,
 * and its code point in *cp (when cp is not NULL); 0 when s does not start
 * one: a stray or truncated byte, an overlong form, a surrogate or a code
 * point past U+10FFFF.
 */
size_t	 utf8_seq(const uint8_t *s, size_t n, uint32_t *cp);
/*
 * True for a code point that is never shown as it is, because a terminal
 * would act on it or show nothing: the C0 and C1 controls and DEL, the
 * line and paragraph separators, and the format characters (Unicode
 * category Cf: bidi embeddings, overrides, isolates and marks, zero-width
 * space, word joiner, soft hyphen, BOM, tags...) except ZWNJ and ZWJ
 * (U+200C, U+200D), which scripts and emoji need.
 */
bool	 utf8_hidden(uint32_t cp);

/* True if s (NUL-terminated) is valid UTF-8 throughout. */
bool	 utf8_valid(const char *s);
/*
 * s as UTF-8 (malloc'd): valid UTF-8 sequences are kept and every other
 * byte is read as Windows-1252, as the WHATWG Encoding Standard (web
 * browsers) decodes it: 0xA0-0xFF as Latin-1, 0x80-0x9F as the printable
 * characters Windows-1252 puts there (0x80 euro sign, 0x92 right single
 * quotation mark...) and the five it leaves undefined (0x81, 0x8D, 0x8F,
 * 0x90, 0x9D) as the C1 controls of the same value.  Different inputs
 * give different outputs unless one mixes in UTF-8 that reads like the
 * other's conversion ("caf\xe9" and "caf\xc3\xa9" both give "café").
 */
char	*utf8_from_legacy(const char *s);

/* How text_escape shows what is hidden (above) or not valid UTF-8. */
enum text_style {
	TEXT_TERM,	/* each such character or byte as one '?' */
	TEXT_JSON,	/* a JSON string, quotes included: "\u202e",
			   "\n", "\ud83d\ude00"; invalid bytes as
			   "\ufffd" */
	TEXT_BYTES,	/* hidden characters and bad bytes as \xNN per byte,
			   '\' as "\\": names the exact bytes */
};
/* s (NUL-terminated, from anywhere) made safe to print; malloc'd. */
char	*text_escape(const char *s, enum text_style);

#endif /* GT_UTIL_H */
