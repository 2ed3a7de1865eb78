/* buf.c - growable byte buffer with a hard cap */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t max)
{
	*b = (struct buf){ .max = max };
}

void
buf_clear(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

void
buf_drain(struct buf *b, size_t n)
{
	assert(n <= b->len);
	if (n == 0)
		return;
	if (n < b->len)
		memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

enum gt_err
buf_reserve(struct buf *b, size_t extra)
{
	size_t	need, ncap;

	if (extra > b->max || b->len > b->max - extra)
		return GT_ETOOBIG;
	need = b->len + extra + 1;	/* room for buf_take's NUL */
	if (need <= b->cap)
		return GT_OK;
	ncap = b->cap < 64 ? 64 : b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	b->data = xrealloc(b->data, ncap);
	b->cap = ncap;
	return GT_OK;
}

enum gt_err
buf_append(struct buf *b, const void *p, size_t n)
{
	enum gt_err	e;

	if ((e = buf_reserve(b, n)) != GT_OK)
		return e;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return GT_OK;
}

enum gt_err
buf_putc(struct buf *b, uint8_t c)
{
	return buf_append(b, &c, 1);
}

enum gt_err
buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum gt_err
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list		ap;
	int		n;
	enum gt_err	e;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return GT_EINVAL;
	if ((e = buf_reserve(b, (size_t)n)) != GT_OK)
		return e;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return GT_OK;
}

uint8_t *
buf_take(struct buf *b, size_t *len)
{
	uint8_t	*p;

	if (buf_reserve(b, 0) != GT_OK) {
		/* len == max: grow by the NUL alone, past the cap */
		b->data = xrealloc(b->data, b->len + 1);
		b->cap = b->len + 1;
	}
	b->data[b->len] = '\0';
	p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
