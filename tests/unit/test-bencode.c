/* test-bencode.c - bencode decoder and encoder */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bencode.h"
#include "buf.h"
#include "util.h"

#define S(lit)	(const uint8_t *)(lit), sizeof(lit) - 1

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Decodes a NUL-free C string with default limits. */
static enum gt_err
dec(struct bencode_doc *doc, const char *s, struct bencode_error *err)
{
	return bencode_decode(doc, (const uint8_t *)s, strlen(s), NULL, err);
}

/* Builds a bval tree from a decoded node (keys must be NUL-free). */
static struct bval *
to_bval(const struct bencode_doc *doc, const struct bencode_node *n)
{
	const struct bencode_node	*c, *v;
	struct bval			*b;
	char				*key;

	switch (n->type) {
	case BENCODE_INT:
		return bval_int(n->i);
	case BENCODE_STR:
		return bval_str(n->s, n->slen);
	case BENCODE_LIST:
		b = bval_list();
		for (c = bencode_first(doc, n); c != NULL;
		    c = bencode_next(doc, n, c))
			bval_list_add(b, to_bval(doc, c));
		return b;
	case BENCODE_DICT:
		b = bval_dict();
		for (c = bencode_first(doc, n); c != NULL;
		    c = bencode_next(doc, n, v)) {
			v = bencode_next(doc, n, c);
			key = xstrndup((const char *)c->s, c->slen);
			bval_dict_set(b, key, to_bval(doc, v));
			free(key);
		}
		return b;
	}
	return NULL;
}

/* Encodes v, frees it, returns the NUL-terminated bytes. */
static char *
enc_free(struct bval *v, size_t *len)
{
	struct buf	b;
	enum gt_err	e;

	buf_init(&b, SIZE_MAX);
	e = bencode_encode(v, &b);
	cr_assert_eq(e, GT_OK);
	bval_free(v);
	return (char *)buf_take(&b, len);
}

/* Integers. */

static const struct {
	const char	*in;
	int64_t		 v;
} int_ok[] = {
	{ "i0e", 0 },
	{ "i1e", 1 },
	{ "i-1e", -1 },
	{ "i42e", 42 },
	{ "i-42e", -42 },
	{ "i10e", 10 },
	{ "i1000000e", 1000000 },
	{ "i9223372036854775807e", INT64_MAX },
	{ "i-9223372036854775807e", -INT64_MAX },
	{ "i-9223372036854775808e", INT64_MIN },
};

static const struct {
	const char	*in;
	size_t		 off;
	const char	*reason;
} int_bad[] = {
	{ "ie", 1, "missing digits in integer" },
	{ "i-e", 2, "missing digits in integer" },
	{ "i+1e", 1, "missing digits in integer" },
	{ "i e", 1, "missing digits in integer" },
	{ "i03e", 1, "leading zero in integer" },
	{ "i00e", 1, "leading zero in integer" },
	{ "i-03e", 2, "leading zero in integer" },
	{ "i0123456789012345678901234567e", 1, "leading zero in integer" },
	{ "i-0e", 0, "negative zero" },
	{ "i9223372036854775808e", 0, "integer out of range" },
	{ "i-9223372036854775809e", 0, "integer out of range" },
	{ "i99999999999999999999999999999e", 0, "integer out of range" },
	{ "i18446744073709551616e", 0, "integer out of range" },
	{ "i1.5e", 2, "invalid character in integer" },
	{ "i1-e", 2, "invalid character in integer" },
	{ "i--1e", 2, "missing digits in integer" },
	{ "i1", 2, "unexpected end of input" },
	{ "i", 1, "unexpected end of input" },
	{ "i-", 2, "unexpected end of input" },
	{ "i12", 3, "unexpected end of input" },
};

Test(bencode, int_valid)
{
	struct bencode_doc	doc;
	size_t			i;

	for (i = 0; i < nitems(int_ok); i++) {
		cr_assert_eq(dec(&doc, int_ok[i].in, NULL), GT_OK, "%s",
		    int_ok[i].in);
		cr_assert_eq(doc.n, 1);
		cr_assert_eq(doc.nodes[0].type, BENCODE_INT);
		cr_assert_eq(doc.nodes[0].i, int_ok[i].v, "%s", int_ok[i].in);
		cr_assert_eq(doc.nodes[0].off, 0);
		cr_assert_eq(doc.nodes[0].len, strlen(int_ok[i].in));
		cr_assert_eq(doc.nodes[0].next, 1);
		bencode_doc_clear(&doc);
	}
}

Test(bencode, int_invalid)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	size_t			i;

	for (i = 0; i < nitems(int_bad); i++) {
		memset(&err, 0, sizeof err);
		cr_assert_eq(dec(&doc, int_bad[i].in, &err), GT_EINVAL, "%s",
		    int_bad[i].in);
		cr_assert_eq(doc.n, 0);
		cr_assert_null(doc.nodes);
		cr_assert_str_eq(err.reason, int_bad[i].reason, "%s",
		    int_bad[i].in);
		cr_assert_eq(err.offset, int_bad[i].off, "%s: %zu",
		    int_bad[i].in, err.offset);
	}
}

/* Strings. */

static const struct {
	const char	*in;
	size_t		 inlen;
	const char	*s;
	size_t		 slen;
} str_ok[] = {
	{ "0:", 2, "", 0 },
	{ "1:a", 3, "a", 1 },
	{ "3:a\0b", 5, "a\0b", 3 },
	{ "4:spam", 6, "spam", 4 },
	{ "10:0123456789", 13, "0123456789", 10 },
	{ "5:i1e:e", 7, "i1e:e", 5 },
};

static const struct {
	const char	*in;
	size_t		 off;
	const char	*reason;
} str_bad[] = {
	{ "01:a", 0, "leading zero in string length" },
	{ "00:", 0, "leading zero in string length" },
	{ "1:", 0, "string length past end of input" },
	{ "5:abc", 0, "string length past end of input" },
	{ "99999999999999999999999999:x", 0,
	    "string length past end of input" },
	{ "18446744073709551616:", 0, "string length past end of input" },
	{ "18446744073709551615:", 0, "string length past end of input" },
	{ "-1:a", 0, "invalid value type" },
	{ "1a:x", 1, "invalid character in string length" },
	{ "1 :x", 1, "invalid character in string length" },
	{ "3", 0, "string length past end of input" },
	{ "0", 1, "unexpected end of input" },
	{ "12", 0, "string length past end of input" },
	{ "1:a1", 3, "trailing data" },
	{ "2:abc", 4, "trailing data" },
};

Test(bencode, str_valid)
{
	struct bencode_doc	doc;
	size_t			i;

	for (i = 0; i < nitems(str_ok); i++) {
		cr_assert_eq(bencode_decode(&doc, (const uint8_t *)str_ok[i].in,
		    str_ok[i].inlen, NULL, NULL), GT_OK, "%zu", i);
		cr_assert_eq(doc.n, 1);
		cr_assert_eq(doc.nodes[0].type, BENCODE_STR);
		cr_assert_eq(doc.nodes[0].slen, str_ok[i].slen);
		cr_assert_eq(memcmp(doc.nodes[0].s, str_ok[i].s,
		    str_ok[i].slen), 0);
		/* Borrowed, not copied. */
		cr_assert_eq(doc.nodes[0].s, (const uint8_t *)str_ok[i].in +
		    str_ok[i].inlen - str_ok[i].slen);
		cr_assert_eq(doc.nodes[0].len, str_ok[i].inlen);
		bencode_doc_clear(&doc);
	}
}

Test(bencode, str_invalid)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	size_t			i;

	for (i = 0; i < nitems(str_bad); i++) {
		memset(&err, 0, sizeof err);
		cr_assert_eq(dec(&doc, str_bad[i].in, &err), GT_EINVAL, "%s",
		    str_bad[i].in);
		cr_assert_eq(doc.n, 0);
		cr_assert_null(doc.nodes);
		cr_assert_str_eq(err.reason, str_bad[i].reason, "%s",
		    str_bad[i].in);
		cr_assert_eq(err.offset, str_bad[i].off, "%s: %zu",
		    str_bad[i].in, err.offset);
	}
}

Test(bencode, str_eq)
{
	struct bencode_doc		 doc;
	const struct bencode_node	*r;

	cr_assert_eq(bencode_decode(&doc, S("3:a\0b"), NULL, NULL), GT_OK);
	r = bencode_root(&doc);
	cr_assert(!bencode_str_eq(r, "a"));
	cr_assert(!bencode_str_eq(r, "a\0b"));	/* C string is "a" */
	bencode_doc_clear(&doc);
	cr_assert_eq(dec(&doc, "4:spam", NULL), GT_OK);
	r = bencode_root(&doc);
	cr_assert(bencode_str_eq(r, "spam"));
	cr_assert(!bencode_str_eq(r, "spa"));
	cr_assert(!bencode_str_eq(r, "spams"));
	cr_assert(!bencode_str_eq(NULL, "spam"));
	bencode_doc_clear(&doc);
	cr_assert_eq(dec(&doc, "i4e", NULL), GT_OK);
	cr_assert(!bencode_str_eq(bencode_root(&doc), "i4e"));
	bencode_doc_clear(&doc);
}

/* Structure. */

Test(bencode, nested)
{
	struct bencode_doc		 doc;
	const struct bencode_node	*r, *a, *b, *c;
	const char			*in = "d1:ali1eli2ei3ee4:spame1:bdee";

	cr_assert_eq(dec(&doc, in, NULL), GT_OK);
	/* d, 1:a, l, i1e, l, i2e, i3e, 4:spam, 1:b, d */
	cr_assert_eq(doc.n, 10);
	r = bencode_root(&doc);
	cr_assert_eq(r, &doc.nodes[0]);
	cr_assert_eq(r->type, BENCODE_DICT);
	cr_assert_eq(r->count, 2);
	cr_assert_eq(r->next, 10);
	cr_assert_eq(r->len, strlen(in));

	a = bencode_dict_get(&doc, r, "a");
	cr_assert_eq(a, &doc.nodes[2]);
	cr_assert_eq(a->type, BENCODE_LIST);
	cr_assert_eq(a->count, 3);
	cr_assert_eq(a->next, 8);
	c = bencode_first(&doc, a);
	cr_assert_eq(c->i, 1);
	c = bencode_next(&doc, a, c);
	cr_assert_eq(c->type, BENCODE_LIST);
	cr_assert_eq(c->count, 2);
	cr_assert_eq(bencode_first(&doc, c)->i, 2);
	cr_assert_eq(bencode_next(&doc, c, bencode_first(&doc, c))->i, 3);
	cr_assert_null(bencode_next(&doc, c,
	    bencode_next(&doc, c, bencode_first(&doc, c))));
	c = bencode_next(&doc, a, c);	/* skips the inner list's items */
	cr_assert(bencode_str_eq(c, "spam"));
	cr_assert_null(bencode_next(&doc, a, c));

	b = bencode_dict_get_type(&doc, r, "b", BENCODE_DICT);
	cr_assert_not_null(b);
	cr_assert_eq(b->count, 0);
	cr_assert_null(bencode_first(&doc, b));
	cr_assert_null(bencode_dict_get_type(&doc, r, "b", BENCODE_LIST));
	cr_assert_null(bencode_dict_get(&doc, r, "c"));
	cr_assert_null(bencode_dict_get(&doc, r, ""));
	cr_assert_null(bencode_dict_get(&doc, a, "a"));	/* not a dict */
	cr_assert_null(bencode_dict_get(&doc, NULL, "a"));
	cr_assert_null(bencode_first(&doc, bencode_first(&doc, a)));

	/* Iterating a dict alternates key, value. */
	c = bencode_first(&doc, r);
	cr_assert(bencode_str_eq(c, "a"));
	c = bencode_next(&doc, r, c);
	cr_assert_eq(c, a);
	c = bencode_next(&doc, r, c);
	cr_assert(bencode_str_eq(c, "b"));
	c = bencode_next(&doc, r, c);
	cr_assert_eq(c, b);
	cr_assert_null(bencode_next(&doc, r, c));
	bencode_doc_clear(&doc);
	cr_assert_eq(doc.n, 0);
	cr_assert_null(doc.nodes);
	bencode_doc_clear(&doc);	/* twice is fine */
	bencode_doc_clear(NULL);
}

Test(bencode, empty_containers)
{
	struct bencode_doc	doc;

	cr_assert_eq(dec(&doc, "le", NULL), GT_OK);
	cr_assert_eq(doc.n, 1);
	cr_assert_eq(doc.nodes[0].count, 0);
	cr_assert_eq(doc.nodes[0].len, 2);
	cr_assert_null(bencode_first(&doc, bencode_root(&doc)));
	bencode_doc_clear(&doc);
	cr_assert_eq(dec(&doc, "lllleeee", NULL), GT_OK);
	cr_assert_eq(doc.n, 4);
	cr_assert_eq(doc.nodes[1].off, 1);
	cr_assert_eq(doc.nodes[1].len, 6);
	cr_assert_eq(doc.nodes[3].len, 2);
	bencode_doc_clear(&doc);
}

static const struct {
	const char	*in;
	size_t		 off;
	const char	*reason;
} doc_bad[] = {
	{ "", 0, "unexpected end of input" },
	{ "e", 0, "invalid value type" },
	{ "x", 0, "invalid value type" },
	{ "l", 1, "unexpected end of input" },
	{ "li1e", 4, "unexpected end of input" },
	{ "lxe", 1, "invalid value type" },
	{ "d", 1, "unexpected end of input" },
	{ "di1ei2ee", 1, "dictionary key is not a string" },
	{ "dlei1ee", 1, "dictionary key is not a string" },
	{ "d1:a", 4, "unexpected end of input" },
	{ "d1:ae", 4, "dictionary key without value" },
	{ "d1:ai1e1:be", 10, "dictionary key without value" },
	{ "d1:ai1e1:ai2ee", 7, "duplicate key" },
	{ "d1:ai1e1:bi1e1:bi2ee", 13, "duplicate key" },
	{ "d1:bi1e1:ai2e1:bi3ee", 13, "duplicate key" },
	{ "d0:i1e0:i2ee", 6, "duplicate key" },
	{ "i1ei2e", 3, "trailing data" },
	{ "lee", 2, "trailing data" },
	{ "0:0:", 2, "trailing data" },
	{ "le ", 2, "trailing data" },
	{ " le", 0, "invalid value type" },
};

Test(bencode, doc_invalid)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	size_t			i;

	for (i = 0; i < nitems(doc_bad); i++) {
		memset(&err, 0, sizeof err);
		cr_assert_eq(dec(&doc, doc_bad[i].in, &err), GT_EINVAL, "%s",
		    doc_bad[i].in);
		cr_assert_eq(doc.n, 0);
		cr_assert_null(doc.nodes);
		cr_assert_null(doc.base);
		cr_assert_str_eq(err.reason, doc_bad[i].reason, "%s",
		    doc_bad[i].in);
		cr_assert_eq(err.offset, doc_bad[i].off, "%s: %zu",
		    doc_bad[i].in, err.offset);
	}
	/* err may be NULL. */
	cr_assert_eq(dec(&doc, "i03e", NULL), GT_EINVAL);
}

/* Keys. */

Test(bencode, unsorted_keys_accepted)
{
	struct bencode_doc	doc;

	cr_assert_eq(dec(&doc, "d1:ci3e1:ai1e1:bi2e2:aai4ee", NULL), GT_OK);
	cr_assert_eq(bencode_root(&doc)->count, 4);
	cr_assert_eq(bencode_dict_get(&doc, bencode_root(&doc), "a")->i, 1);
	cr_assert_eq(bencode_dict_get(&doc, bencode_root(&doc), "b")->i, 2);
	cr_assert_eq(bencode_dict_get(&doc, bencode_root(&doc), "c")->i, 3);
	cr_assert_eq(bencode_dict_get(&doc, bencode_root(&doc), "aa")->i, 4);
	bencode_doc_clear(&doc);
	/* A prefix sorts before the longer key. */
	cr_assert_eq(dec(&doc, "d2:abi1e1:ai2ee", NULL), GT_OK);
	bencode_doc_clear(&doc);
}

Test(bencode, keys_with_nul)
{
	struct bencode_doc		 doc;
	const struct bencode_node	*r;

	cr_assert_eq(bencode_decode(&doc, S("d1:ai2e3:a\0bi1ee"), NULL, NULL),
	    GT_OK);
	r = bencode_root(&doc);
	cr_assert_eq(bencode_dict_get(&doc, r, "a")->i, 2);
	bencode_doc_clear(&doc);
	cr_assert_eq(bencode_decode(&doc, S("d3:a\0bi1e1:ai2ee"), NULL, NULL),
	    GT_OK);
	r = bencode_root(&doc);
	cr_assert_eq(bencode_dict_get(&doc, r, "a")->i, 2);
	bencode_doc_clear(&doc);
	cr_assert_eq(bencode_decode(&doc, S("d2:a\0i1e2:a\0i2ee"), NULL, NULL),
	    GT_EINVAL);
}

/* A dict of n keys "k<j>" with j in the order given by key_at(). */
static uint8_t *
make_dict(size_t n, size_t (*key_at)(size_t, size_t), size_t *len)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, SIZE_MAX);
	buf_putc(&b, 'd');
	for (i = 0; i < n; i++) {
		char	key[32];

		snprintf(key, sizeof key, "k%07zu", key_at(i, n));
		buf_printf(&b, "%zu:%si%zue", strlen(key), key, i);
	}
	buf_putc(&b, 'e');
	return buf_take(&b, len);
}

static size_t
key_desc(size_t i, size_t n)
{
	return n - i;
}

static size_t
key_shuffled(size_t i, size_t n)
{
	/* 7919 is prime, so this permutes [0, n) for n not a multiple. */
	return (i * 7919) % n;
}

static size_t
key_dup_late(size_t i, size_t n)
{
	return i == n - 1 ? n / 3 : n - i;
}

Test(bencode, unsorted_large_dict)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	uint8_t			*p;
	size_t			 len, n = 5000;
	char			 key[32];

	p = make_dict(n, key_desc, &len);
	cr_assert_eq(bencode_decode(&doc, p, len, NULL, NULL), GT_OK);
	cr_assert_eq(bencode_root(&doc)->count, n);
	snprintf(key, sizeof key, "k%07zu", n);
	cr_assert_eq(bencode_dict_get(&doc, bencode_root(&doc), key)->i, 0);
	bencode_doc_clear(&doc);
	free(p);

	/* The last key repeats an earlier one: found by the deferred sort. */
	p = make_dict(n, key_dup_late, &len);
	cr_assert_eq(bencode_decode(&doc, p, len, NULL, &err), GT_EINVAL);
	cr_assert_str_eq(err.reason, "duplicate key");
	snprintf(key, sizeof key, "8:k%07zui%zue", n / 3, n - 1);
	cr_assert_eq(err.offset, len - 1 - strlen(key), "%zu", err.offset);
	cr_assert_eq(doc.n, 0);
	free(p);

	/* Small unsorted dicts with a repeat, found by the scan. */
	p = make_dict(40, key_dup_late, &len);
	cr_assert_eq(bencode_decode(&doc, p, len, NULL, &err), GT_EINVAL);
	cr_assert_str_eq(err.reason, "duplicate key");
	cr_assert_eq(err.offset, len - 1 - strlen("8:k0000013i39e"));
	free(p);
}

Test(bencode, unsorted_hostile_dict_fast)
{
	struct bencode_doc	doc;
	uint8_t			*p;
	size_t			 len, n = 1000003;
	double			 t;

	p = make_dict(n, key_shuffled, &len);
	t = now_s();
	cr_assert_eq(bencode_decode(&doc, p, len, NULL, NULL), GT_OK);
	t = now_s() - t;
	cr_assert_lt(t, 5.0, "%.2f s", t);
	cr_assert_eq(bencode_root(&doc)->count, n);
	bencode_doc_clear(&doc);
	free(p);
}

/* Raw spans. */

Test(bencode, raw_span_info)
{
	static const char		 info[] =
	    "d6:lengthi12345e4:name5:a.txt12:piece lengthi16384e"
	    "6:pieces20:AAAAAAAAAAAAAAAAAAAAe";
	struct bencode_doc		 doc;
	const struct bencode_node	*r, *v;
	const uint8_t			*raw;
	char				*in;
	size_t				 len, infooff;

	in = xasprintf("d8:announce21:http://127.0.0.1:80/a7:comment3:hey"
	    "4:info%s3:zzzli1ei2eee", info);
	infooff = strstr(in, "4:info") - in + 6;
	cr_assert_eq(dec(&doc, in, NULL), GT_OK);
	r = bencode_root(&doc);
	v = bencode_dict_get_type(&doc, r, "info", BENCODE_DICT);
	cr_assert_not_null(v);
	raw = bencode_raw(&doc, v, &len);
	cr_assert_eq(len, strlen(info));
	cr_assert_eq(raw, (const uint8_t *)in + infooff);
	cr_assert_eq(memcmp(raw, info, len), 0);
	cr_assert_eq(v->off, infooff);

	raw = bencode_raw(&doc, r, &len);
	cr_assert_eq(len, strlen(in));
	v = bencode_dict_get(&doc, r, "announce");
	raw = bencode_raw(&doc, v, &len);
	cr_assert_eq(len, 24);
	cr_assert_eq(memcmp(raw, "21:http://127.0.0.1:80/a", len), 0);
	v = bencode_dict_get(&doc, r, "zzz");
	raw = bencode_raw(&doc, v, &len);
	cr_assert_eq(memcmp(raw, "li1ei2ee", len), 0);
	v = bencode_dict_get(&doc, bencode_dict_get(&doc, r, "info"),
	    "length");
	raw = bencode_raw(&doc, v, &len);
	cr_assert_eq(len, 7);
	cr_assert_eq(memcmp(raw, "i12345e", 7), 0);

	/* Re-encode with the info dict passed through raw. */
	{
		struct bval	*b;
		char		*out;
		size_t		 olen;

		b = bval_dict();
		bval_dict_set(b, "zzz", to_bval(&doc, bencode_dict_get(&doc,
		    r, "zzz")));
		v = bencode_dict_get(&doc, r, "info");
		raw = bencode_raw(&doc, v, &len);
		bval_dict_set(b, "info", bval_raw(raw, len));
		bval_dict_set(b, "comment", bval_cstr("hey"));
		bval_dict_set(b, "announce",
		    bval_cstr("http://127.0.0.1:80/a"));
		out = enc_free(b, &olen);
		cr_assert_str_eq(out, in);
		free(out);
	}
	bencode_doc_clear(&doc);
	free(in);
}

/* Round trips. */

static const char *const canonical[] = {
	"i0e",
	"i-9223372036854775808e",
	"0:",
	"4:spam",
	"le",
	"de",
	"li1ei2ei3ee",
	"l4:spam4:eggse",
	"d3:cow3:moo4:spam4:eggse",
	"d4:spaml1:a1:bee",
	"d9:publisher3:bob17:publisher-webpage15:www.example.com"
	    "18:publisher.location4:homee",
	"d1:ad1:bd1:cd1:dleeeee",
	"lllllllllleeeeeeeeee",
	"d0:i0e1:ai1e2:aai2e1:bi3ee",
	"d8:announce3:url4:infod5:filesld6:lengthi1e4:pathl1:a1:beee"
	    "4:name3:dir12:piece lengthi16384e6:pieces0:ee",
};

Test(bencode, roundtrip)
{
	struct bencode_doc	doc;
	char			*out;
	size_t			 i, len;

	for (i = 0; i < nitems(canonical); i++) {
		cr_assert_eq(dec(&doc, canonical[i], NULL), GT_OK, "%s",
		    canonical[i]);
		out = enc_free(to_bval(&doc, bencode_root(&doc)), &len);
		cr_assert_eq(len, strlen(canonical[i]));
		cr_assert_str_eq(out, canonical[i]);
		free(out);
		bencode_doc_clear(&doc);
	}
}

Test(bencode, roundtrip_sorts_unsorted)
{
	struct bencode_doc	doc;
	char			*out;
	size_t			 len;

	cr_assert_eq(dec(&doc, "d1:bli2ei1ee1:ad1:yi0e1:xi1eee", NULL), GT_OK);
	out = enc_free(to_bval(&doc, bencode_root(&doc)), &len);
	cr_assert_str_eq(out, "d1:ad1:xi1e1:yi0ee1:bli2ei1eee");
	free(out);
	bencode_doc_clear(&doc);
}

/* Encoder. */

Test(bencode, encode_sorted)
{
	static const char	want[] = "d1:Bi7e1:ai0e2:abi-5e5:alpha3:x\0y"
	    "4:betai2e4:listli-9223372036854775808ei9223372036854775807e"
	    "4:tookd1:xi1eedele0:e4:zetai1e1:\xffi8ee";
	struct bval	*d, *l;
	char		*out;
	size_t		 len;

	d = bval_dict();
	bval_dict_set(d, "zeta", bval_int(1));
	bval_dict_set(d, "beta", bval_int(2));
	bval_dict_set(d, "alpha", bval_str("x\0y", 3));
	bval_dict_set(d, "ab", bval_int(-5));
	bval_dict_set(d, "a", bval_int(0));
	bval_dict_set(d, "B", bval_int(7));	/* 'B' < 'a' as bytes */
	bval_dict_set(d, "\xff", bval_int(8));	/* high bytes sort last */
	l = bval_list();
	bval_list_add(l, bval_int(INT64_MIN));
	bval_list_add(l, bval_int(INT64_MAX));
	bval_list_add(l, bval_str_take(xstrdup("took"), 4));
	bval_list_add(l, bval_raw("d1:xi1ee", 8));
	bval_list_add(l, bval_dict());
	bval_list_add(l, bval_list());
	bval_list_add(l, bval_str(NULL, 0));
	bval_dict_set(d, "list", l);
	out = enc_free(d, &len);
	cr_assert_eq(len, sizeof(want) - 1);
	cr_assert_eq(memcmp(out, want, len), 0, "%s", out);
	free(out);
}

Test(bencode, encode_replace)
{
	struct bval	*d;
	char		*out;
	size_t		 len;

	d = bval_dict();
	bval_dict_set(d, "b", bval_int(1));
	bval_dict_set(d, "a", bval_cstr("old"));
	bval_dict_set(d, "a", bval_cstr("new"));
	bval_dict_set(d, "b", bval_list());
	bval_dict_set(d, "", bval_int(0));
	out = enc_free(d, &len);
	cr_assert_str_eq(out, "d0:i0e1:a3:new1:blee");
	free(out);
	bval_free(NULL);
}

Test(bencode, encode_many_keys)
{
	struct bval	*d;
	char		 key[16], *out;
	size_t		 i, len;
	struct bencode_doc doc;
	const struct bencode_node *k, *prev = NULL;

	d = bval_dict();
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "%zu", (i * 613) % 1000);
		bval_dict_set(d, key, bval_int((int64_t)i));
	}
	out = enc_free(d, &len);
	cr_assert_eq(bencode_decode(&doc, (uint8_t *)out, len, NULL, NULL),
	    GT_OK);
	cr_assert_eq(bencode_root(&doc)->count, 1000);
	for (k = bencode_first(&doc, bencode_root(&doc)); k != NULL;
	    k = bencode_next(&doc, bencode_root(&doc),
	    bencode_next(&doc, bencode_root(&doc), k))) {
		if (prev != NULL) {
			size_t m = MIN(prev->slen, k->slen);
			int c = memcmp(prev->s, k->s, m);
			cr_assert(c < 0 || (c == 0 && prev->slen < k->slen));
		}
		prev = k;
	}
	bencode_doc_clear(&doc);
	free(out);
}

Test(bencode, encode_cap)
{
	struct buf	b;
	struct bval	*v;

	v = bval_str("0123456789", 10);
	buf_init(&b, 5);
	cr_assert_eq(bencode_encode(v, &b), GT_ETOOBIG);
	buf_clear(&b);
	buf_init(&b, 13);
	cr_assert_eq(bencode_encode(v, &b), GT_OK);
	cr_assert_eq(b.len, 13);
	buf_clear(&b);
	bval_free(v);

	v = bval_list();
	bval_list_add(v, bval_int(12345));
	buf_init(&b, 8);
	cr_assert_eq(bencode_encode(v, &b), GT_ETOOBIG);
	buf_clear(&b);
	buf_init(&b, 9);
	cr_assert_eq(bencode_encode(v, &b), GT_OK);
	buf_clear(&b);
	bval_free(v);
}

/* Caps. */

Test(bencode, default_limits)
{
	cr_assert_eq(bencode_default_limits.max_input, 64u << 20);
	cr_assert_eq(bencode_default_limits.max_depth, 64);
	cr_assert_eq(bencode_default_limits.max_nodes, 4194304);
}

Test(bencode, depth_cap)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	uint8_t			*p;
	size_t			 n = 1000000;
	double			 t;

	p = xmalloc(n);
	memset(p, 'l', n);
	t = now_s();
	cr_assert_eq(bencode_decode(&doc, p, n, NULL, &err), GT_EDEPTH);
	t = now_s() - t;
	cr_assert_lt(t, 0.5, "%.3f s", t);
	cr_assert_eq(err.offset, 64);
	cr_assert_str_eq(err.reason, "nesting too deep");
	cr_assert_eq(doc.n, 0);
	cr_assert_null(doc.nodes);
	free(p);

	/* Exactly max_depth levels are fine; one more is not. */
	p = xmalloc(130);
	memset(p, 'l', 64);
	memset(p + 64, 'e', 64);
	cr_assert_eq(bencode_decode(&doc, p, 128, NULL, NULL), GT_OK);
	cr_assert_eq(doc.n, 64);
	bencode_doc_clear(&doc);
	memset(p, 'l', 65);
	memset(p + 65, 'e', 65);
	cr_assert_eq(bencode_decode(&doc, p, 130, NULL, &err), GT_EDEPTH);
	cr_assert_eq(err.offset, 64);
	free(p);

	/* Dicts count too; scalars do not. */
	{
		struct bencode_limits	lim = bencode_default_limits;

		lim.max_depth = 2;
		cr_assert_eq(bencode_decode(&doc, S("d1:ali1eee"), &lim,
		    NULL), GT_OK);
		bencode_doc_clear(&doc);
		cr_assert_eq(bencode_decode(&doc, S("d1:ad1:blee"), &lim,
		    &err), GT_EDEPTH);
		cr_assert_eq(err.offset, 8);
		lim.max_depth = 0;
		cr_assert_eq(bencode_decode(&doc, S("i1e"), &lim, NULL),
		    GT_OK);
		bencode_doc_clear(&doc);
		cr_assert_eq(bencode_decode(&doc, S("le"), &lim, NULL),
		    GT_EDEPTH);
	}
}

Test(bencode, node_cap)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	struct bencode_limits	lim = bencode_default_limits;

	lim.max_nodes = 3;
	cr_assert_eq(bencode_decode(&doc, S("li1ei2ee"), &lim, NULL), GT_OK);
	cr_assert_eq(doc.n, 3);
	bencode_doc_clear(&doc);
	cr_assert_eq(bencode_decode(&doc, S("li1ei2ei3ee"), &lim, &err),
	    GT_ETOOBIG);
	cr_assert_eq(err.offset, 7);
	cr_assert_str_eq(err.reason, "too many values");
	cr_assert_eq(doc.n, 0);
	cr_assert_null(doc.nodes);
	lim.max_nodes = 0;
	cr_assert_eq(bencode_decode(&doc, S("0:"), &lim, NULL), GT_ETOOBIG);
}

Test(bencode, node_cap_growth)
{
	struct bencode_doc	doc;
	struct bencode_limits	lim = bencode_default_limits;
	uint8_t			*p;
	size_t			 n = 100000, len, i;

	/* A list of n - 1 empty strings is exactly n values. */
	lim.max_nodes = n;
	len = 2 + 2 * (n - 1);
	p = xmalloc(len + 2);
	p[0] = 'l';
	for (i = 0; i < n - 1; i++)
		memcpy(p + 1 + 2 * i, "0:", 2);
	p[len - 1] = 'e';
	cr_assert_eq(bencode_decode(&doc, p, len, &lim, NULL), GT_OK);
	cr_assert_eq(doc.n, n);
	cr_assert_eq(bencode_root(&doc)->count, n - 1);
	cr_assert_eq(bencode_root(&doc)->next, n);
	cr_assert(bencode_str_eq(&doc.nodes[n - 1], ""));
	bencode_doc_clear(&doc);
	memcpy(p + len - 1, "0:e", 3);
	cr_assert_eq(bencode_decode(&doc, p, len + 2, &lim, NULL),
	    GT_ETOOBIG);
	free(p);
}

Test(bencode, size_cap)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	struct bencode_limits	lim = bencode_default_limits;

	lim.max_input = 6;
	cr_assert_eq(bencode_decode(&doc, S("i1234e"), &lim, NULL), GT_OK);
	bencode_doc_clear(&doc);
	cr_assert_eq(bencode_decode(&doc, S("i12345e"), &lim, &err),
	    GT_ETOOBIG);
	cr_assert_eq(err.offset, 0);
	cr_assert_str_eq(err.reason, "input too large");
	cr_assert_eq(doc.n, 0);
}

Test(bencode, big_string_constant_time)
{
	struct bencode_doc	doc;
	uint8_t			*p;
	size_t			 body = 40u << 20, hlen, len;
	char			 hdr[64];
	double			 t;
	int			 i;

	hlen = (size_t)snprintf(hdr, sizeof hdr, "d6:pieces%zu:", body);
	len = hlen + body + 1;
	p = xmalloc(len);
	memcpy(p, hdr, hlen);
	memset(p + hlen, 'x', body);
	p[len - 1] = 'e';
	t = now_s();
	for (i = 0; i < 100; i++) {
		cr_assert_eq(bencode_decode(&doc, p, len, NULL, NULL), GT_OK);
		bencode_doc_clear(&doc);
	}
	t = now_s() - t;
	/* 100 decodes of 40 MiB each would take seconds if per-byte. */
	cr_assert_lt(t, 0.1, "%.3f s", t);
	free(p);
}

/* Truncation. */

static const char	trunc_doc[] = "d8:announce21:http://127.0.0.1:80/a"
    "4:infod5:filesld6:lengthi1e4:pathl1:a1:beed6:lengthi-2e"
    "4:pathl1:ceee4:name3:dir12:piece lengthi16384e6:pieces20:"
    "AAAAAAAAAAAAAAAAAAAAe4:listl0:li0eedeee";

Test(bencode, truncated_every_prefix)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	size_t			 i, n = strlen(trunc_doc), used;
	uint8_t			*p;

	cr_assert_eq(dec(&doc, trunc_doc, NULL), GT_OK);
	bencode_doc_clear(&doc);
	for (i = 0; i < n; i++) {
		/* An exact-size heap copy so ASan sees any overread. */
		p = xmalloc(i);
		memcpy(p, trunc_doc, i);
		err.reason = NULL;
		cr_assert_neq(bencode_decode(&doc, p, i, NULL, &err), GT_OK,
		    "%zu", i);
		cr_assert_not_null(err.reason);
		cr_assert_leq(err.offset, i);
		cr_assert_eq(doc.n, 0);
		cr_assert_null(doc.nodes);
		cr_assert_neq(bencode_decode_prefix(&doc, p, i, NULL, &err,
		    &used), GT_OK, "%zu", i);
		cr_assert_eq(doc.n, 0);
		free(p);
	}
}

/* Prefix decoding. */

Test(bencode, prefix_trailing)
{
	struct bencode_doc	doc;
	struct bencode_error	err;
	struct bencode_limits	lim = bencode_default_limits;
	static const char	msg[] = "d8:msg_typei1e5:piecei0e10:total_sizei"
	    "3ee\x01\x02\x03";
	size_t			used = 999;

	cr_assert_eq(bencode_decode_prefix(&doc, S(msg), NULL, &err, &used),
	    GT_OK);
	cr_assert_eq(used, sizeof(msg) - 1 - 3);
	cr_assert_eq(doc.len, used);
	cr_assert_eq(bencode_dict_get(&doc, bencode_root(&doc),
	    "total_size")->i, 3);
	bencode_doc_clear(&doc);

	cr_assert_eq(bencode_decode(&doc, S(msg), NULL, &err), GT_EINVAL);
	cr_assert_str_eq(err.reason, "trailing data");
	cr_assert_eq(err.offset, sizeof(msg) - 1 - 3);

	/* No trailing bytes at all is fine too. */
	cr_assert_eq(bencode_decode_prefix(&doc, S("i5e"), NULL, NULL, &used),
	    GT_OK);
	cr_assert_eq(used, 3);
	bencode_doc_clear(&doc);

	/* max_input bounds the value, not the trailing bytes. */
	lim.max_input = used = 5;
	cr_assert_eq(bencode_decode_prefix(&doc, S("i123ei456e"), &lim, &err,
	    &used), GT_OK);
	cr_assert_eq(used, 5);
	bencode_doc_clear(&doc);
	lim.max_input = 4;
	cr_assert_eq(bencode_decode_prefix(&doc, S("i123ei456e"), &lim, &err,
	    &used), GT_ETOOBIG);
	cr_assert_eq(doc.n, 0);
	cr_assert_eq(bencode_decode_prefix(&doc, S("9:abcdefghi"), &lim, &err,
	    &used), GT_ETOOBIG);
	cr_assert_eq(bencode_decode_prefix(&doc, S("i12"), &lim, &err, &used),
	    GT_EINVAL);
}
