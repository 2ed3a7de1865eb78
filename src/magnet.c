/* magnet.c - magnet URIs (BEP 9, BEP 53): parse and format */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "magnet.h"
#include "util.h"

#define QUOTE_MAX	64	/* bytes of a value quoted in a message */
#define PEER_MAX	64	/* bytes of one x.pe= value */

static const char	scheme[] = "magnet:?";

/* RFC 3986 unreserved: the bytes magnet_format leaves as they are. */
static int
is_unreserved(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/*
 * A value for a message: at most QUOTE_MAX bytes of s (then "..."),
 * escaped for a terminal.  malloc'd.
 */
static char *
quote(const char *s, size_t len)
{
	char	 tmp[QUOTE_MAX + 4];
	size_t	 n = MIN(len, (size_t)QUOTE_MAX);

	memcpy(tmp, s, n);
	if (n < len) {
		memcpy(tmp + n, "...", 3);
		n += 3;
	}
	tmp[n] = '\0';			/* a NUL inside s also ends it */
	return text_escape(tmp, TEXT_TERM);
}

/* GT_EINVAL and "<pre>'<s, quoted>'<post>" in err. */
static enum gt_err
fail_quoted(char *err, const char *pre, const char *s, size_t len,
    const char *post)
{
	char	*q = quote(s, len);

	gt_fail(err, GT_EINVAL, "%s'%s'%s", pre, q, post);
	free(q);
	return GT_EINVAL;
}

/* The same as a warning; past MAGNET_MAX_WARNINGS, dropped. */
static void
warn_quoted(struct magnet *m, const char *pre, const char *s, size_t len,
    const char *post)
{
	char	*q;

	if (m->nwarnings == MAGNET_MAX_WARNINGS)
		return;
	q = quote(s, len);
	m->warnings[m->nwarnings++] = xasprintf("%s'%s'%s", pre, q, post);
	free(q);
}

/*
 * Percent-decodes s[0..len) into a malloc'd, NUL-terminated string (which
 * may hold NUL bytes before its end: *outlen says where it ends).  With
 * plus, '+' is a space.  A '%' not followed by two hex digits fails.
 */
static enum gt_err
pct_decode(const char *s, size_t len, int plus, char **out, size_t *outlen,
    char *err)
{
	char	*d = xmalloc(len + 1);
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3 || (hi = hex_digit(s[i + 1])) < 0 ||
			    (lo = hex_digit(s[i + 2])) < 0) {
				free(d);
				return fail_quoted(err, "bad percent escape "
				    "at ", s + i, len - i, " (a '%' takes two "
				    "hex digits)");
			}
			d[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+')
			d[o++] = ' ';
		else
			d[o++] = s[i];
	}
	d[o] = '\0';
	*out = d;
	*outlen = o;
	return GT_OK;
}

/* key is name, or name + '.' + digits (xt.1, tr.2, the numbered forms). */
static int
key_is(const char *key, const char *name)
{
	size_t	n = strlen(name);

	if (strncmp(key, name, n) != 0)
		return 0;
	if (key[n] == '\0')
		return 1;
	if (key[n] != '.' || key[n + 1] == '\0')
		return 0;
	return strspn(key + n + 1, "0123456789") == strlen(key + n + 1);
}

/* RFC 4648 base32, any case: 32 digits, 160 bits, no padding. */
static int
base32_decode_sha1(uint8_t out[SHA1_LEN], const char *s)
{
	uint64_t	acc = 0;
	size_t		i, o = 0;
	int		bits = 0, v;
	char		c;

	for (i = 0; i < 32; i++) {
		c = s[i];
		if (c >= 'a' && c <= 'z')
			v = c - 'a';
		else if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else
			return -1;
		acc = acc << 5 | (uint64_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return 0;
}

struct parse_state {
	struct magnet	 m;
	size_t		 ntr_cap, npeer_cap, nws_cap, nsel_cap;
	int		 have_btih;
	bool		 over_tr, over_ws;	/* warned of the cap */
};

static enum gt_err
parse_xt(struct parse_state *ps, const char *v, size_t vl, char *err)
{
	uint8_t		 h[SHA256_LEN];
	const char	*colon, *d;
	size_t		 nl, dl;

	if (vl < 4 || strncasecmp(v, "urn:", 4) != 0 ||
	    (colon = memchr(v + 4, ':', vl - 4)) == NULL)
		return fail_quoted(err, "xt: ", v, vl, " is not a URN "
		    "(urn:btih:...)");
	nl = (size_t)(colon - (v + 4));
	d = colon + 1;
	dl = vl - (size_t)(d - v);
	if (nl == 4 && strncasecmp(v + 4, "btih", 4) == 0) {
		if (memchr(d, '\0', dl) != NULL ||
		    (dl == 2 * SHA1_LEN ? hex_decode(h, d, SHA1_LEN) :
		    dl == 32 ? base32_decode_sha1(h, d) : -1) != 0)
			return fail_quoted(err, "xt: bad btih ", d, dl,
			    " (it takes 40 hex or 32 base32 digits)");
		if (ps->have_btih && memcmp(h, ps->m.info_hash, SHA1_LEN) != 0)
			return gt_fail(err, GT_EINVAL, "xt: two different "
			    "btih (one magnet for several torrents is not "
			    "supported)");
		memcpy(ps->m.info_hash, h, SHA1_LEN);
		ps->have_btih = 1;
		return GT_OK;
	}
	if (nl == 4 && strncasecmp(v + 4, "btmh", 4) == 0) {
		/* a multihash: 0x12 SHA-256, 0x20 bytes long */
		if (memchr(d, '\0', dl) != NULL || dl != 4 + 2 * SHA256_LEN ||
		    strncmp(d, "1220", 4) != 0 ||
		    hex_decode(h, d + 4, SHA256_LEN) != 0)
			return fail_quoted(err, "xt: bad btmh ", d, dl,
			    " (it takes 1220 and 64 hex digits)");
		if (ps->m.has_v2 &&
		    memcmp(h, ps->m.info_hash_v2, SHA256_LEN) != 0)
			return gt_fail(err, GT_EINVAL, "xt: two different "
			    "btmh (one magnet for several torrents is not "
			    "supported)");
		memcpy(ps->m.info_hash_v2, h, SHA256_LEN);
		ps->m.has_v2 = true;
		return GT_OK;
	}
	return fail_quoted(err, "xt: unknown namespace ", v,
	    (size_t)(colon - v), " (only urn:btih: and urn:btmh:)");
}

static enum gt_err
parse_dn(struct parse_state *ps, const char *v, size_t vl, char *err)
{
	if (memchr(v, '\0', vl) != NULL)
		return gt_fail(err, GT_EINVAL, "dn: a NUL byte in the name");
	if (vl > MAGNET_MAX_DN)
		return gt_fail(err, GT_EINVAL, "dn: longer than %d bytes",
		    MAGNET_MAX_DN);
	if (ps->m.dn == NULL && vl > 0)
		ps->m.dn = xstrndup(v, vl);
	return GT_OK;
}

/* Where tr= and ws= go, and what they may be. */
struct url_kind {
	const char		*key;
	const char *const	*schemes;	/* NULL-terminated */
	const char		*only;		/* for the warning */
	size_t			 max;
};

static const char *const tracker_schemes[] = {
	"http://", "https://", "udp://", NULL
};
static const char *const web_seed_schemes[] = {
	"http://", "https://", NULL
};
static const struct url_kind	tr_kind = {
	"tr", tracker_schemes, "http, https and udp trackers",
	MAGNET_MAX_TRACKERS
};
static const struct url_kind	ws_kind = {
	"ws", web_seed_schemes, "http and https web seeds",
	MAGNET_MAX_WEB_SEEDS
};

/*
 * Why v (NUL-terminated) is no URL of the kind: NULL when it is one, with
 * a host and no control character or space.
 */
static const char *
url_check(const char *v, const struct url_kind *k)
{
	const char *const	*sc;
	size_t			 n, i;

	for (sc = k->schemes; *sc != NULL; sc++) {
		n = strlen(*sc);
		if (strncasecmp(v, *sc, n) != 0)
			continue;
		if (v[n] == '\0' || v[n] == '/')
			return "no host";
		for (i = n; v[i] != '\0'; i++) {
			if ((uint8_t)v[i] <= ' ' || v[i] == 0x7f)
				return "a space or control character";
		}
		return NULL;
	}
	return k->only;
}

/*
 * tr= and ws=: a URL added to list (n of them, room for cap) unless a
 * duplicate, or skipped with a warning; past k->max of them fails.
 */
static enum gt_err
parse_url(struct parse_state *ps, const struct url_kind *k, char ***list,
    size_t *n, size_t *cap, const char *v, size_t vl, char *err)
{
	const char	*why;
	char		 pre[8], post[128];
	size_t		 i;
	bool		*over;

	if (memchr(v, '\0', vl) != NULL)
		return gt_fail(err, GT_EINVAL, "%s: a NUL byte in a URL",
		    k->key);
	if (vl > MAGNET_MAX_URL)
		return gt_fail(err, GT_EINVAL, "%s: a URL longer than %d "
		    "bytes", k->key, MAGNET_MAX_URL);
	if ((why = url_check(v, k)) != NULL) {
		snprintf(pre, sizeof(pre), "%s: ", k->key);
		snprintf(post, sizeof(post), " ignored: %s%s",
		    why == k->only ? "only " : "", why);
		warn_quoted(&ps->m, pre, v, vl, post);
		return GT_OK;
	}
	for (i = 0; i < *n; i++) {
		if (strcmp((*list)[i], v) == 0)
			return GT_OK;
	}
	if (*n == k->max) {
		/* Lists of 100+ public trackers are common: keep the first. */
		over = k == &tr_kind ? &ps->over_tr : &ps->over_ws;
		if (!*over && ps->m.nwarnings < MAGNET_MAX_WARNINGS)
			ps->m.warnings[ps->m.nwarnings++] = xasprintf("%s: more "
			    "than %zu of them: the first %zu are used",
			    k->key, k->max, k->max);
		*over = true;
		return GT_OK;
	}
	if (*n == *cap) {
		*cap = *cap == 0 ? 4 : 2 * *cap;
		*list = xreallocarray(*list, *cap, sizeof(**list));
	}
	(*list)[(*n)++] = xstrndup(v, vl);
	return GT_OK;
}

static enum gt_err
parse_peer(struct parse_state *ps, const char *v, size_t vl, char *err)
{
	struct netaddr	a;
	size_t		i;

	if (memchr(v, '\0', vl) != NULL || vl > PEER_MAX ||
	    addr_parse(v, 0, &a) != GT_OK)
		return fail_quoted(err, "x.pe: ", v, vl, " is not a numeric "
		    "address:port");
	addr_unmap(&a);
	if (!addr_is_dialable(&a)) {
		warn_quoted(&ps->m, "x.pe: ", v, vl, " ignored: not an "
		    "address a peer can have");
		return GT_OK;
	}
	for (i = 0; i < ps->m.npeers; i++) {
		if (addr_eq(&ps->m.peers[i], &a))
			return GT_OK;
	}
	if (ps->m.npeers == MAGNET_MAX_PEERS)
		return gt_fail(err, GT_EINVAL, "x.pe: more than %d of them",
		    MAGNET_MAX_PEERS);
	if (ps->m.npeers == ps->npeer_cap) {
		ps->npeer_cap = ps->npeer_cap == 0 ? 4 : 2 * ps->npeer_cap;
		ps->m.peers = xreallocarray(ps->m.peers, ps->npeer_cap,
		    sizeof(*ps->m.peers));
	}
	ps->m.peers[ps->m.npeers++] = a;
	return GT_OK;
}

/* A decimal file index; *p moves past it. */
static int
parse_index(const char **p, const char *end, uint32_t *out)
{
	uint64_t	v = 0;
	const char	*s = *p;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	*p = s;
	return 0;
}

/* BEP 53 so=: "0,2,4-6". */
static enum gt_err
parse_so(struct parse_state *ps, const char *v, size_t vl, char *err)
{
	struct magnet_range	 r;
	const char		*p = v, *end = v + vl;

	for (;;) {
		if (parse_index(&p, end, &r.first) != 0)
			break;
		r.last = r.first;
		if (p < end && *p == '-') {
			p++;
			if (parse_index(&p, end, &r.last) != 0 ||
			    r.last < r.first)
				break;
		}
		if (ps->m.nselect == MAGNET_MAX_SELECT)
			return gt_fail(err, GT_EINVAL, "so: more than %d "
			    "ranges", MAGNET_MAX_SELECT);
		if (ps->m.nselect == ps->nsel_cap) {
			ps->nsel_cap = ps->nsel_cap == 0 ? 4 :
			    2 * ps->nsel_cap;
			ps->m.select = xreallocarray(ps->m.select,
			    ps->nsel_cap, sizeof(*ps->m.select));
		}
		ps->m.select[ps->m.nselect++] = r;
		if (p == end)
			return GT_OK;
		if (*p++ != ',')
			break;
	}
	return fail_quoted(err, "so: bad file selection ", v, vl,
	    " (e.g. 0,2,4-6)");
}

/* One key=value (raw, still escaped) of the query. */
static enum gt_err
parse_param(struct parse_state *ps, const char *s, size_t len, char *err)
{
	const char	*eq = memchr(s, '=', len), *vs;
	char		*key, *v;
	size_t		 kl, vl;
	enum gt_err	 e;

	if (eq == NULL)
		eq = s + len;		/* no '=': an empty value */
	if ((e = pct_decode(s, (size_t)(eq - s), 0, &key, &kl, err)) !=
	    GT_OK)
		return e;
	vs = eq < s + len ? eq + 1 : eq;
	if ((e = pct_decode(vs, (size_t)(s + len - vs), key_is(key, "dn"),
	    &v, &vl, err)) != GT_OK) {
		free(key);
		return e;
	}
	if (memchr(key, '\0', kl) != NULL)
		e = GT_OK;		/* no key of ours */
	else if (key_is(key, "xt"))
		e = parse_xt(ps, v, vl, err);
	else if (key_is(key, "dn"))
		e = parse_dn(ps, v, vl, err);
	else if (key_is(key, "tr"))
		e = parse_url(ps, &tr_kind, &ps->m.trackers, &ps->m.ntrackers,
		    &ps->ntr_cap, v, vl, err);
	else if (key_is(key, "ws"))
		e = parse_url(ps, &ws_kind, &ps->m.web_seeds,
		    &ps->m.nweb_seeds, &ps->nws_cap, v, vl, err);
	else if (key_is(key, "x.pe"))
		e = parse_peer(ps, v, vl, err);
	else if (key_is(key, "so"))
		e = parse_so(ps, v, vl, err);
	free(key);
	free(v);
	return e;
}

enum gt_err
magnet_parse(struct magnet *m, const char *uri, char *err)
{
	struct parse_state	 ps;
	const char		*p, *end, *amp;
	size_t			 len, i;
	enum gt_err		 e = GT_OK;

	len = strnlen(uri, MAGNET_MAX_URI + 1);
	if (len > MAGNET_MAX_URI)
		return gt_fail(err, GT_EINVAL, "magnet URI longer than %d "
		    "bytes", MAGNET_MAX_URI);
	if (strncasecmp(uri, scheme, sizeof(scheme) - 1) != 0)
		return gt_fail(err, GT_EINVAL, "not a magnet URI (it starts "
		    "with 'magnet:?')");
	for (i = 0; i < len; i++) {
		if ((uint8_t)uri[i] < ' ' || uri[i] == 0x7f)
			return gt_fail(err, GT_EINVAL, "magnet URI: a control "
			    "character at byte %zu", i);
	}
	memset(&ps, 0, sizeof(ps));
	p = uri + sizeof(scheme) - 1;
	/* RFC 3986: a fragment is not part of the query */
	if ((end = strchr(p, '#')) == NULL)
		end = uri + len;
	while (p < end && e == GT_OK) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp > p)
			e = parse_param(&ps, p, (size_t)(amp - p), err);
		p = amp + 1;
	}
	if (e == GT_OK && !ps.have_btih)
		e = ps.m.has_v2 ? gt_fail(err, GT_EUNSUP, "v2-only magnets "
		    "(urn:btmh) are not supported yet") : gt_fail(err,
		    GT_EINVAL, "no xt=urn:btih: (the torrent's info-hash)");
	if (e != GT_OK) {
		magnet_clear(&ps.m);
		return e;
	}
	*m = ps.m;
	return GT_OK;
}

static void
free_list(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
magnet_clear(struct magnet *m)
{
	size_t	i;

	if (m == NULL)
		return;
	free(m->dn);
	free_list(m->trackers, m->ntrackers);
	free(m->peers);
	free_list(m->web_seeds, m->nweb_seeds);
	free(m->select);
	for (i = 0; i < m->nwarnings; i++)
		free(m->warnings[i]);
	memset(m, 0, sizeof(*m));
}

/* Bytes s takes percent-encoded. */
static size_t
pct_len(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		n += is_unreserved((uint8_t)*s) ? 1 : 3;
	return n;
}

static char *
pct_put(char *o, const char *key, const char *s)
{
	static const char	hexd[] = "0123456789ABCDEF";
	uint8_t			c;

	memcpy(o, key, 4);		/* "&dn=", "&tr=" */
	o += 4;
	for (; *s != '\0'; s++) {
		c = (uint8_t)*s;
		if (is_unreserved(c))
			*o++ = (char)c;
		else {
			*o++ = '%';
			*o++ = hexd[c >> 4];
			*o++ = hexd[c & 15];
		}
	}
	return o;
}

char *
magnet_format(const uint8_t info_hash[SHA1_LEN], const char *name,
    char *const *trackers, size_t ntrackers)
{
	static const char	 xt[] = "magnet:?xt=urn:btih:";
	char			*out, *o;
	size_t			 len, i;

	if (name != NULL && name[0] == '\0')
		name = NULL;
	len = sizeof(xt) - 1 + 2 * SHA1_LEN + 1;
	if (name != NULL)
		len += 4 + pct_len(name);
	for (i = 0; i < ntrackers; i++)
		len += 4 + pct_len(trackers[i]);
	out = xmalloc(len);
	memcpy(out, xt, sizeof(xt) - 1);
	o = out + sizeof(xt) - 1;
	hex_encode(o, info_hash, SHA1_LEN);
	o += 2 * SHA1_LEN;
	if (name != NULL)
		o = pct_put(o, "&dn=", name);
	for (i = 0; i < ntrackers; i++)
		o = pct_put(o, "&tr=", trackers[i]);
	*o = '\0';
	return out;
}
