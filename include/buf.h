/* buf.h - growable byte buffer with a hard cap */
#ifndef GT_BUF_H
#define GT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

struct buf {
	uint8_t	*data;		/* owned; NULL until the first append */
	size_t	 len;		/* bytes in use */
	size_t	 cap;		/* bytes allocated */
	size_t	 max;		/* appends past this fail with GT_ETOOBIG */
};

void		 buf_init(struct buf *, size_t max);
void		 buf_clear(struct buf *);
void		 buf_reset(struct buf *);
/* Drops the first n bytes (n <= len); the rest moves to the front. */
void		 buf_drain(struct buf *, size_t n);
enum gt_err	 buf_reserve(struct buf *, size_t extra);
enum gt_err	 buf_append(struct buf *, const void *, size_t);
enum gt_err	 buf_putc(struct buf *, uint8_t);
enum gt_err	 buf_puts(struct buf *, const char *);
enum gt_err	 buf_printf(struct buf *, const char *, ...) GT_PRINTF(2, 3);
/* Hands out the bytes (NUL-terminated, not counted in *len); buf is empty. */
uint8_t		*buf_take(struct buf *, size_t *len);

#endif /* GT_BUF_H */
