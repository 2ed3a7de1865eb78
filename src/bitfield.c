/* bitfield.c - value-type bitset with a count, in peer-wire byte order */
#include <stdlib.h>
#include <string.h>

#include "bitfield.h"
#include "util.h"

static size_t
nbytes_of(uint32_t n)
{
	return (size_t)n / 8 + (n % 8 != 0);
}

/* Mask of the bits in the last byte that are past n (0 if none). */
static uint8_t
spare_mask(uint32_t n)
{
	if (n % 8 == 0)
		return 0;
	return (uint8_t)(0xffu >> (n % 8));
}

static uint32_t
popcount_bytes(const uint8_t *p, size_t len)
{
	uint64_t	w;
	uint32_t	c = 0;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		c += (uint32_t)__builtin_popcountll(w);
	}
	for (; len > 0; p++, len--)
		c += (uint32_t)__builtin_popcount(*p);
	return c;
}

void
bitfield_init(struct bitfield *b, uint32_t n)
{
	*b = (struct bitfield){
		.bits = xcalloc(nbytes_of(n), 1),	/* 1 byte for n = 0 */
		.n = n,
	};
}

void
bitfield_clear(struct bitfield *b)
{
	free(b->bits);
	*b = (struct bitfield){ .bits = NULL };
}

/* dst is a bitfield (initialized, cleared or zeroed); it becomes a copy. */
void
bitfield_copy(struct bitfield *dst, const struct bitfield *src)
{
	size_t	len = nbytes_of(src->n);

	if (dst == src)
		return;
	if (dst->bits == NULL || nbytes_of(dst->n) != len) {
		free(dst->bits);
		dst->bits = xcalloc(len, 1);
	}
	if (len > 0)
		memcpy(dst->bits, src->bits, len);
	dst->n = src->n;
	dst->count = src->count;
}

size_t
bitfield_nbytes(const struct bitfield *b)
{
	return nbytes_of(b->n);
}

bool
bitfield_get(const struct bitfield *b, uint32_t i)
{
	return i < b->n && bitfield_bit_get(b->bits, i);
}

bool
bitfield_set(struct bitfield *b, uint32_t i)
{
	if (i >= b->n || bitfield_bit_get(b->bits, i))
		return false;
	bitfield_bit_set(b->bits, i);
	b->count++;
	return true;
}

bool
bitfield_unset(struct bitfield *b, uint32_t i)
{
	if (i >= b->n || !bitfield_bit_get(b->bits, i))
		return false;
	bitfield_bit_unset(b->bits, i);
	b->count--;
	return true;
}

void
bitfield_set_all(struct bitfield *b)
{
	size_t	len = nbytes_of(b->n);

	if (len == 0)
		return;
	memset(b->bits, 0xff, len);
	b->bits[len - 1] &= (uint8_t)~spare_mask(b->n);
	b->count = b->n;
}

void
bitfield_unset_all(struct bitfield *b)
{
	size_t	len = nbytes_of(b->n);

	if (len > 0)
		memset(b->bits, 0, len);
	b->count = 0;
}

bool
bitfield_full(const struct bitfield *b)
{
	return b->count == b->n;
}

enum gt_err
bitfield_load(struct bitfield *b, const uint8_t *p, size_t len)
{
	size_t	want = nbytes_of(b->n);

	if (len != want)
		return GT_EPROTO;
	if (len == 0)
		return GT_OK;
	if ((p[len - 1] & spare_mask(b->n)) != 0)
		return GT_EPROTO;
	memcpy(b->bits, p, len);
	b->count = popcount_bytes(p, len);
	return GT_OK;
}

uint32_t
bitfield_next_set(const struct bitfield *b, uint32_t i)
{
	const uint8_t	*p = b->bits;
	size_t		 k, len = nbytes_of(b->n);
	uint64_t	 w;
	uint8_t		 x;

	if (i >= b->n)
		return b->n;
	k = i / 8;
	x = p[k] & (uint8_t)(0xffu >> (i % 8));	/* bits at or after i */
	if (x == 0) {
		k++;
		/* Skip zero words, then zero bytes. */
		while (len - k >= 8) {
			memcpy(&w, p + k, 8);
			if (w != 0)
				break;
			k += 8;
		}
		while (k < len && p[k] == 0)
			k++;
		if (k == len)
			return b->n;
		x = p[k];
	}
	/* x != 0: its highest set bit is the first in wire order. */
	i = (uint32_t)(k * 8) + (uint32_t)(__builtin_clz((unsigned)x) - 24);
	return MIN(i, b->n);
}
