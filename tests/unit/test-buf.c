/* test-buf.c - growable buffer with a cap */
#include <criterion/criterion.h>
#include <string.h>

#include "buf.h"

Test(buf, append_and_take)
{
	struct buf	 b;
	uint8_t		*p;
	size_t		 len;
	int		 i;

	buf_init(&b, 1 << 20);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(buf_putc(&b, (uint8_t)('a' + i % 26)), GT_OK);
	cr_assert_eq(buf_printf(&b, "%d", 12345), GT_OK);
	p = buf_take(&b, &len);
	cr_assert_eq(len, 1005);
	cr_assert_eq(p[len], '\0');
	cr_assert_eq(memcmp(p + 1000, "12345", 5), 0);
	cr_assert_eq(b.len, 0);
	cr_assert_null(b.data);
	free(p);
	buf_clear(&b);
}

Test(buf, cap_is_hard)
{
	struct buf	 b;
	uint8_t		*p;
	size_t		 len;

	buf_init(&b, 10);
	cr_assert_eq(buf_append(&b, "0123456789", 10), GT_OK);
	cr_assert_eq(buf_putc(&b, 'x'), GT_ETOOBIG);
	cr_assert_eq(buf_append(&b, "x", SIZE_MAX), GT_ETOOBIG);
	cr_assert_eq(buf_printf(&b, "y"), GT_ETOOBIG);
	cr_assert_eq(b.len, 10);
	p = buf_take(&b, &len);		/* full to the cap: still NUL-ended */
	cr_assert_eq(len, 10);
	cr_assert_eq(p[10], '\0');
	free(p);
}

Test(buf, reset_keeps_memory)
{
	struct buf	b;

	buf_init(&b, 100);
	cr_assert_eq(buf_puts(&b, "hello"), GT_OK);
	buf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_not_null(b.data);
	cr_assert_eq(buf_puts(&b, "hi"), GT_OK);
	cr_assert_eq(memcmp(b.data, "hi", 2), 0);
	buf_clear(&b);
}

Test(buf, drain_front)
{
	struct buf	b;
	uint8_t		*old;

	buf_init(&b, 100);
	cr_assert_eq(buf_puts(&b, "hello world"), GT_OK);
	old = b.data;
	buf_drain(&b, 0);
	cr_assert_eq(b.len, 11);
	buf_drain(&b, 6);
	cr_assert_eq(b.len, 5);
	cr_assert_eq(memcmp(b.data, "world", 5), 0);
	cr_assert_eq(b.data, old, "in place");
	/* Room freed at the front is usable up to the cap again. */
	cr_assert_eq(buf_append(&b, "0123456789", 10), GT_OK);
	cr_assert_eq(memcmp(b.data, "world0123456789", 15), 0);
	buf_drain(&b, 15);
	cr_assert_eq(b.len, 0);
	cr_assert_not_null(b.data);
	buf_clear(&b);

	buf_init(&b, 10);
	cr_assert_eq(buf_puts(&b, "0123456789"), GT_OK);
	cr_assert_eq(buf_putc(&b, 'x'), GT_ETOOBIG);
	buf_drain(&b, 1);
	cr_assert_eq(buf_putc(&b, 'x'), GT_OK);
	cr_assert_eq(memcmp(b.data, "123456789x", 10), 0);
	buf_clear(&b);
}
