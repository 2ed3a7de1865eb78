/* bitfield.h - value-type bitset with a count, in peer-wire byte order */
#ifndef GT_BITFIELD_H
#define GT_BITFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bitfield {
	uint8_t		*bits;	/* owned; bit i is bits[i / 8] & 0x80 >> i % 8;
				   spare bits of the last byte are zero */
	uint32_t	 n;	/* number of bits */
	uint32_t	 count;	/* bits set */
};

void		bitfield_init(struct bitfield *, uint32_t n);	/* all clear */
void		bitfield_clear(struct bitfield *);		/* frees */
void		bitfield_copy(struct bitfield *dst, const struct bitfield *);
size_t		bitfield_nbytes(const struct bitfield *);
bool		bitfield_get(const struct bitfield *, uint32_t i);
/* Return true if the bit changed. */
bool		bitfield_set(struct bitfield *, uint32_t i);
bool		bitfield_unset(struct bitfield *, uint32_t i);
void		bitfield_set_all(struct bitfield *);
void		bitfield_unset_all(struct bitfield *);
bool		bitfield_full(const struct bitfield *);
/*
 * Loads a peer's BITFIELD payload: exactly bitfield_nbytes() bytes with the
 * spare bits zero, else GT_EPROTO and *b is unchanged.
 */
enum gt_err	bitfield_load(struct bitfield *, const uint8_t *, size_t);
/* First set bit at or after i, or n. */
uint32_t	bitfield_next_set(const struct bitfield *, uint32_t i);

/*
 * Bit i of a raw bit array in the same order (bit 0 is the high bit of
 * byte 0), unchecked and without a count: for hot loops over a struct
 * bitfield's bits and for bitmaps that are not one.
 */
static inline bool
bitfield_bit_get(const uint8_t *bits, uint32_t i)
{
	return (bits[i / 8] & (0x80u >> (i % 8))) != 0;
}

static inline void
bitfield_bit_set(uint8_t *bits, uint32_t i)
{
	bits[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

static inline void
bitfield_bit_unset(uint8_t *bits, uint32_t i)
{
	bits[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

#endif /* GT_BITFIELD_H */
