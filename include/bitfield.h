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

#endif /* GT_BITFIELD_H */
