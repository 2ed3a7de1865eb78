/* metainfo.c - .torrent bytes -> struct metainfo, info-hash, safe paths */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bencode.h"
#include "crypto.h"
#include "metainfo.h"
#include "util.h"

#define MI_MAX_URLS	1024	/* trackers, web seeds, http seeds: kept each */
#define MI_MAX_URL_LEN	4096	/* longer URLs are dropped */
#define MI_MAX_NODES	1024	/* "nodes" entries kept */
#define MI_MAX_HOST_LEN	255
#define MI_MAX_EXT	16	/* extension kept when shortening, with '.' */
#define MI_PATH_BUFSZ	(MI_MAX_PATH + MI_MAX_COMPONENT + 32)
#define MI_MAX_DEPTH	(MI_MAX_PATH / 2 + 2)	/* components in a path */

/*
 * Paths seen so far, as a tree: a node is one component under a parent
 * node (0 is the torrent's folder), so a look-up hashes one component, not
 * the whole path.  The table is open addressing over node ids, keyed with
 * SipHash-1-3 under a random key so crafted names cannot pile into one
 * chain.  Component bytes are borrowed from the finished paths or, for
 * URLs, from the input.
 */
enum pset_kind {
	PSET_FILE = 1,
	PSET_DIR,
};

struct pset_node {
	const char	*s;		/* component bytes, borrowed */
	uint32_t	 len;
	uint32_t	 parent;	/* node id, 0 = the torrent's folder */
	uint32_t	 h;
	uint32_t	 next;		/* next ".N" suffix to try, 0 = 1 */
	uint32_t	 alias;		/* FILE: ".N" used for it as a folder */
	uint8_t		 kind;		/* enum pset_kind */
};

struct pset {
	uint32_t	*slot;		/* node id, 0 = empty */
	size_t		 cap;		/* power of two */
	struct pset_node *node;		/* node[0] unused */
	size_t		 n;		/* nodes in use, node[0] included */
	size_t		 ncap;
	uint64_t	 k0, k1;
};

struct mi_ctx {
	const struct bencode_doc *doc;
	struct metainfo	*m;
	char		*err;
	struct pset	 paths;
	char		 raw[MI_PATH_BUFSZ];	/* sanitised, before renaming */
	uint16_t	 cstart[MI_MAX_DEPTH];	/* components in raw */
	uint16_t	 cend[MI_MAX_DEPTH];
	char		 out[MI_PATH_BUFSZ];	/* after renaming */
	uint32_t	 added[MI_MAX_DEPTH + 1]; /* nodes pointing into out */
};

struct strv {
	char		**v;
	size_t		  n;
	size_t		  cap;
};

static const char *
type_problem(enum bencode_type t)
{
	switch (t) {
	case BENCODE_INT:
		return "not an integer";
	case BENCODE_STR:
		return "not a string";
	case BENCODE_LIST:
		return "not a list";
	case BENCODE_DICT:
		return "not a dictionary";
	}
	return "wrong type";
}

/* A required key: present, and of type t. */
static enum gt_err
need(struct mi_ctx *c, const struct bencode_node *dict, const char *key,
    enum bencode_type t, const char *field, const struct bencode_node **out)
{
	const struct bencode_node	*n;

	n = bencode_dict_get(c->doc, dict, key);
	if (n == NULL)
		return gt_fail(c->err, GT_EINVAL, "%s: missing", field);
	if (n->type != t)
		return gt_fail(c->err, GT_EINVAL, "%s: %s", field,
		    type_problem(t));
	*out = n;
	return GT_OK;
}

/* SipHash-1-3. */
#define SIP_ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND do {							\
	v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
	v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
} while (0)

static uint64_t
siphash13(uint64_t k0, uint64_t k1, const uint8_t *p, size_t len)
{
	uint64_t	v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t	v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t	v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t	v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t	b = (uint64_t)len << 56, w;
	size_t		i, j, end = len - len % 8;

	for (i = 0; i < end; i += 8) {
		w = 0;
		for (j = 0; j < 8; j++)
			w |= (uint64_t)p[i + j] << (8 * j);
		v3 ^= w;
		SIP_ROUND;
		v0 ^= w;
	}
	for (j = 0; j < len % 8; j++)
		b |= (uint64_t)p[end + j] << (8 * j);
	v3 ^= b;
	SIP_ROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIP_ROUND;
	SIP_ROUND;
	SIP_ROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static void
pset_init(struct pset *ps)
{
	uint64_t	key[2];

	rand_bytes(key, sizeof(key));
	*ps = (struct pset){ .cap = 64, .ncap = 32, .n = 1, .k0 = key[0],
	    .k1 = key[1] };
	ps->slot = xcalloc(ps->cap, sizeof(*ps->slot));
	ps->node = xcalloc(ps->ncap, sizeof(*ps->node));
}

static void
pset_clear(struct pset *ps)
{
	free(ps->slot);
	free(ps->node);
	*ps = (struct pset){ 0 };
}

static uint32_t
pset_hash(const struct pset *ps, uint32_t parent, const char *s, size_t len)
{
	return (uint32_t)siphash13(ps->k0,
	    ps->k1 ^ ((uint64_t)parent * 0x9e3779b97f4a7c15ULL),
	    (const uint8_t *)s, len);
}

/* The slot holding (parent, s), or the empty slot where it would go. */
static uint32_t *
pset_slot(const struct pset *ps, uint32_t parent, const char *s, size_t len,
    uint32_t h)
{
	const struct pset_node	*nd;
	size_t			 i = h & (ps->cap - 1);

	for (;;) {
		if (ps->slot[i] == 0)
			return &ps->slot[i];
		nd = &ps->node[ps->slot[i]];
		if (nd->h == h && nd->parent == parent && nd->len == len &&
		    memcmp(nd->s, s, len) == 0)
			return &ps->slot[i];
		i = (i + 1) & (ps->cap - 1);
	}
}

/* Node id of (parent, s), or 0. */
static uint32_t
pset_get(const struct pset *ps, uint32_t parent, const char *s, size_t len)
{
	return *pset_slot(ps, parent, s, len, pset_hash(ps, parent, s, len));
}

static void
pset_grow(struct pset *ps)
{
	size_t	i;

	free(ps->slot);
	ps->cap *= 2;
	ps->slot = xcalloc(ps->cap, sizeof(*ps->slot));
	for (i = 1; i < ps->n; i++)
		*pset_slot(ps, ps->node[i].parent, ps->node[i].s,
		    ps->node[i].len, ps->node[i].h) = (uint32_t)i;
}

/* Adds (parent, s) with s borrowed; returns its id, 0 if it was there. */
static uint32_t
pset_add(struct pset *ps, uint32_t parent, const char *s, size_t len,
    enum pset_kind kind)
{
	uint32_t	*slot, h;

	if (2 * ps->n > ps->cap)
		pset_grow(ps);
	h = pset_hash(ps, parent, s, len);
	slot = pset_slot(ps, parent, s, len, h);
	if (*slot != 0)
		return 0;
	if (ps->n == ps->ncap) {
		ps->ncap *= 2;
		ps->node = xreallocarray(ps->node, ps->ncap,
		    sizeof(*ps->node));
	}
	ps->node[ps->n] = (struct pset_node){ .s = s, .len = (uint32_t)len,
	    .parent = parent, .h = h, .kind = (uint8_t)kind };
	*slot = (uint32_t)ps->n;
	return (uint32_t)ps->n++;
}

static void
strv_push(struct strv *v, char *s)
{
	if (v->n == v->cap) {
		v->cap = v->cap == 0 ? 4 : 2 * v->cap;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = s;
}

static void
strv_free(char **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Largest k' <= k that does not split a character of valid UTF-8 s. */
static size_t
utf8_cut(const char *s, size_t k)
{
	while (k > 0 && ((uint8_t)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

char *
metainfo_safe_component(const uint8_t *s, size_t len)
{
	char	*out;
	size_t	 i = 0, o = 0, k, dot, ext, keep;

	out = xmalloc(len + 1);
	while (i < len) {
		if (s[i] < 0x20 || s[i] == 0x7f || s[i] == '/' ||
		    s[i] == '\\' || (k = utf8_seq(s + i, len - i, NULL)) == 0) {
			out[o++] = '_';
			i++;
			continue;
		}
		memcpy(out + o, s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	if (o == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0) {
		free(out);
		return NULL;
	}
	if (o <= MI_MAX_COMPONENT)
		return out;

	/* Too long: cut at a character boundary, keep a short extension. */
	ext = 0;
	for (dot = o; dot > o - MI_MAX_EXT && dot > 1; dot--) {
		if (out[dot - 1] == '.') {
			ext = o - (dot - 1);
			break;
		}
	}
	keep = utf8_cut(out, MI_MAX_COMPONENT - ext);
	memmove(out + keep, out + o - ext, ext);
	out[keep + ext] = '\0';
	return out;
}

/* A display string: invalid UTF-8 and NUL become '?'. */
static char *
text_dup(const struct bencode_node *n)
{
	char	*out;
	size_t	 i = 0, o = 0, k;

	out = xmalloc(n->slen + 1);
	while (i < n->slen) {
		if (n->s[i] == 0 ||
		    (k = utf8_seq(n->s + i, n->slen - i, NULL)) == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, n->s + i, k);
		o += k;
		i += k;
	}
	out[o] = '\0';
	return out;
}

/* Optional text: the first of the keys that is a string, or NULL. */
static char *
opt_text(const struct bencode_doc *d, const struct bencode_node *dict,
    const char *key_utf8, const char *key)
{
	const struct bencode_node	*n;

	n = bencode_dict_get_type(d, dict, key_utf8, BENCODE_STR);
	if (n == NULL)
		n = bencode_dict_get_type(d, dict, key, BENCODE_STR);
	return n != NULL ? text_dup(n) : NULL;
}

/* Printable, non-empty, no spaces or control characters. */
static bool
token_ok(const struct bencode_node *n, size_t maxlen)
{
	size_t	i;

	if (n == NULL || n->type != BENCODE_STR || n->slen == 0 ||
	    n->slen > maxlen)
		return false;
	for (i = 0; i < n->slen; i++) {
		if (n->s[i] <= 0x20 || n->s[i] == 0x7f)
			return false;
	}
	return true;
}

/* Appends a usable, new URL to v; false when it was dropped. */
static bool
url_add(struct strv *v, struct pset *seen, const struct bencode_node *n)
{
	if (v->n >= MI_MAX_URLS || !token_ok(n, MI_MAX_URL_LEN))
		return false;
	if (pset_add(seen, 0, (const char *)n->s, n->slen, PSET_FILE) == 0)
		return false;
	strv_push(v, xstrndup((const char *)n->s, n->slen));
	return true;
}

/* url-list, httpseeds: a string or a list of strings. */
static void
parse_url_list(const struct bencode_doc *d, const struct bencode_node *n,
    char ***out, size_t *nout)
{
	const struct bencode_node	*u;
	struct strv			 v = { 0 };
	struct pset			 seen;

	if (n == NULL || (n->type != BENCODE_STR && n->type != BENCODE_LIST))
		return;
	pset_init(&seen);
	if (n->type == BENCODE_STR)
		url_add(&v, &seen, n);
	else {
		for (u = bencode_first(d, n); u != NULL;
		    u = bencode_next(d, n, u))
			url_add(&v, &seen, u);
	}
	pset_clear(&seen);
	*out = v.v;
	*nout = v.n;
}

/* BEP 12: announce-list if it has a usable URL, else announce. */
static void
parse_tiers(struct metainfo *m, const struct bencode_doc *d,
    const struct bencode_node *root)
{
	const struct bencode_node	*al, *tier, *u;
	struct mi_tier			*tiers = NULL;
	struct strv			 v;
	struct pset			 seen;
	size_t				 n = 0, cap = 0, total = 0;

	pset_init(&seen);
	al = bencode_dict_get_type(d, root, "announce-list", BENCODE_LIST);
	for (tier = al != NULL ? bencode_first(d, al) : NULL; tier != NULL;
	    tier = bencode_next(d, al, tier)) {
		v = (struct strv){ 0 };
		if (tier->type == BENCODE_STR)
			url_add(&v, &seen, tier);	/* a bare URL */
		else if (tier->type == BENCODE_LIST) {
			for (u = bencode_first(d, tier); u != NULL;
			    u = bencode_next(d, tier, u)) {
				if (total + v.n >= MI_MAX_URLS)
					break;
				url_add(&v, &seen, u);
			}
		}
		if (v.n == 0) {
			free(v.v);
			continue;
		}
		if (n == cap) {
			cap = cap == 0 ? 4 : 2 * cap;
			tiers = xreallocarray(tiers, cap, sizeof(*tiers));
		}
		tiers[n++] = (struct mi_tier){ .urls = v.v, .n = v.n };
		total += v.n;
		if (total >= MI_MAX_URLS)
			break;
	}
	if (n == 0) {
		v = (struct strv){ 0 };
		if (url_add(&v, &seen, bencode_dict_get(d, root, "announce"))) {
			tiers = xmalloc(sizeof(*tiers));
			tiers[n++] = (struct mi_tier){ .urls = v.v, .n = v.n };
		}
	}
	pset_clear(&seen);
	m->tiers = tiers;
	m->ntiers = n;
}

/* BEP 5 "nodes": a list of [host, port]; bad entries are skipped. */
static void
parse_nodes(struct metainfo *m, const struct bencode_doc *d,
    const struct bencode_node *root)
{
	const struct bencode_node	*l, *e, *host, *port;
	size_t				 cap = 0;

	l = bencode_dict_get_type(d, root, "nodes", BENCODE_LIST);
	if (l == NULL)
		return;
	for (e = bencode_first(d, l); e != NULL && m->nnodes < MI_MAX_NODES;
	    e = bencode_next(d, l, e)) {
		if (e->type != BENCODE_LIST || e->count != 2)
			continue;
		host = bencode_first(d, e);
		port = bencode_next(d, e, host);
		if (!token_ok(host, MI_MAX_HOST_LEN) ||
		    port->type != BENCODE_INT || port->i < 1 ||
		    port->i > 65535)
			continue;
		if (m->nnodes == cap) {
			cap = cap == 0 ? 4 : 2 * cap;
			m->nodes = xreallocarray(m->nodes, cap,
			    sizeof(*m->nodes));
		}
		m->nodes[m->nnodes++] = (struct mi_node){
			.host = xstrndup((const char *)host->s, host->slen),
			.port = (uint16_t)port->i,
		};
	}
}

/* The keys outside the info dict; all optional, wrong types ignored. */
static void
parse_outer(struct metainfo *m, const struct bencode_doc *d,
    const struct bencode_node *root)
{
	const struct bencode_node	*n;

	parse_tiers(m, d, root);
	parse_url_list(d, bencode_dict_get(d, root, "url-list"),
	    &m->web_seeds, &m->nweb_seeds);
	parse_url_list(d, bencode_dict_get(d, root, "httpseeds"),
	    &m->http_seeds, &m->nhttp_seeds);
	parse_nodes(m, d, root);
	m->comment = opt_text(d, root, "comment.utf-8", "comment");
	m->created_by = opt_text(d, root, "created by.utf-8", "created by");
	n = bencode_dict_get_type(d, root, "creation date", BENCODE_INT);
	if (n != NULL) {
		m->has_creation_date = true;
		m->creation_date = n->i;
	}
}

static unsigned
parse_attr(const struct bencode_doc *d, const struct bencode_node *dict)
{
	const struct bencode_node	*n;
	unsigned			 a = 0;
	size_t				 i;

	n = bencode_dict_get_type(d, dict, "attr", BENCODE_STR);
	for (i = 0; n != NULL && i < n->slen; i++) {
		switch (n->s[i]) {
		case 'p':
			a |= MI_ATTR_PAD;
			break;
		case 'x':
			a |= MI_ATTR_EXEC;
			break;
		case 'h':
			a |= MI_ATTR_HIDDEN;
			break;
		case 'l':
			a |= MI_ATTR_SYMLINK;
			break;
		}
	}
	return a;
}

/* True if l is a list of strings. */
static bool
str_list(const struct bencode_doc *d, const struct bencode_node *l)
{
	const struct bencode_node	*e;

	if (l == NULL || l->type != BENCODE_LIST)
		return false;
	for (e = bencode_first(d, l); e != NULL; e = bencode_next(d, l, e)) {
		if (e->type != BENCODE_STR)
			return false;
	}
	return true;
}

/*
 * The path list l (strings) sanitised into c->raw as name/comp/comp, each
 * component's span in c->cstart/c->cend.  Returns the number of
 * components, or -1 if the path is over MI_MAX_PATH.
 */
static int
collect_path(struct mi_ctx *c, const struct bencode_node *l)
{
	const struct bencode_node	*e;
	char				*comp;
	size_t				 len, clen;
	int				 k = 0;

	len = strlen(c->m->name);
	memcpy(c->raw, c->m->name, len);
	for (e = bencode_first(c->doc, l); e != NULL;
	    e = bencode_next(c->doc, l, e)) {
		comp = metainfo_safe_component(e->s, e->slen);
		if (comp == NULL)
			continue;
		clen = strlen(comp);
		if (len + 1 + clen > MI_MAX_PATH) {
			free(comp);
			return -1;
		}
		c->raw[len++] = '/';
		c->cstart[k] = (uint16_t)len;
		memcpy(c->raw + len, comp, clen);
		len += clen;
		c->cend[k++] = (uint16_t)len;
		free(comp);
	}
	c->raw[len] = '\0';
	return k;
}

static enum gt_err
path_too_long(struct mi_ctx *c, size_t i)
{
	return gt_fail(c->err, GT_ETOOBIG, "info.files[%zu].path: path too "
	    "long (over %d bytes)", i, MI_MAX_PATH);
}

/*
 * Writes component j of c->raw at c->out + at with the suffix ".n" (none
 * if n == 0), shortened to stay within MI_MAX_COMPONENT; returns the end.
 */
static size_t
put_component(struct mi_ctx *c, size_t at, int j, uint32_t n)
{
	const char	*comp = c->raw + c->cstart[j];
	size_t		 clen = c->cend[j] - c->cstart[j];
	char		 suf[16];
	size_t		 slen = 0;

	if (n != 0)
		slen = (size_t)snprintf(suf, sizeof(suf), ".%" PRIu32, n);
	if (clen + slen > MI_MAX_COMPONENT)
		clen = utf8_cut(comp, MI_MAX_COMPONENT - slen);
	memcpy(c->out + at, comp, clen);
	memcpy(c->out + at + clen, suf, slen);
	c->out[at + clen + slen] = '\0';
	return at + clen + slen;
}

/*
 * Makes the k components in c->raw unique against the paths seen so far:
 * a folder that is already a file becomes "dir.N" (the same N for every
 * later file below it), a file that is already a file or a folder becomes
 * "file.N".  Records the new path's folders and itself in c->paths.
 */
static enum gt_err
place_path(struct mi_ctx *c, int k, size_t i, char **out)
{
	struct pset	*ps = &c->paths;
	struct pset_node *nd;
	size_t		 len, at, nadded = 0, a;
	uint32_t	 parent = 0, id, f, n;
	const char	*base = c->out;
	char		*path;
	int		 j;

	len = strlen(c->m->name);
	memcpy(c->out, c->m->name, len);
	for (j = 0; j < k; j++) {
		c->out[len] = '/';
		at = len + 1;
		len = put_component(c, at, j, 0);
		id = pset_get(ps, parent, c->out + at, len - at);
		if (j < k - 1 && id != 0 && ps->node[id].kind == PSET_FILE) {
			/* A folder where a file is: "dir.N" for all below. */
			nd = &ps->node[id];
			if (nd->alias == 0) {
				for (n = MAX(nd->next, 1);; n++) {
					len = put_component(c, at, j, n);
					f = pset_get(ps, parent, c->out + at,
					    len - at);
					if (f == 0 ||
					    ps->node[f].kind != PSET_FILE)
						break;
				}
				nd->alias = n;
				nd->next = n + 1;
			}
			len = put_component(c, at, j, nd->alias);
			id = pset_get(ps, parent, c->out + at, len - at);
		} else if (j == k - 1 && id != 0) {
			/* A file where a file or a folder is: "file.N". */
			for (n = MAX(ps->node[id].next, 1);; n++) {
				len = put_component(c, at, j, n);
				if (pset_get(ps, parent, c->out + at,
				    len - at) == 0)
					break;
			}
			ps->node[id].next = n + 1;
			id = 0;
		}
		if (len > MI_MAX_PATH)
			return path_too_long(c, i);
		if (id == 0) {
			id = pset_add(ps, parent, c->out + at, len - at,
			    j < k - 1 ? PSET_DIR : PSET_FILE);
			c->added[nadded++] = id;
		}
		parent = id;
	}
	/* The new nodes borrow their bytes from the finished path. */
	path = xstrndup(c->out, len);
	for (a = 0; a < nadded; a++) {
		nd = &ps->node[c->added[a]];
		nd->s = path + (nd->s - base);
	}
	*out = path;
	return GT_OK;
}

/* BEP 47 "symlink path" made relative to the download folder, or NULL. */
static char *
symlink_target(struct mi_ctx *c, const struct bencode_node *fd)
{
	const struct bencode_node	*l;
	int				 k;

	l = bencode_dict_get(c->doc, fd, "symlink path");
	if (!str_list(c->doc, l) || (k = collect_path(c, l)) <= 0)
		return NULL;
	return xstrdup(c->raw);
}

/* A required key of file entry i. */
static enum gt_err
need_file(struct mi_ctx *c, const struct bencode_node *fd, size_t i,
    const char *key, enum bencode_type t, const struct bencode_node **out)
{
	const struct bencode_node	*n;

	n = bencode_dict_get(c->doc, fd, key);
	if (n == NULL)
		return gt_fail(c->err, GT_EINVAL, "info.files[%zu].%s: missing",
		    i, key);
	if (n->type != t)
		return gt_fail(c->err, GT_EINVAL, "info.files[%zu].%s: %s", i,
		    key, type_problem(t));
	*out = n;
	return GT_OK;
}

static enum gt_err
parse_file(struct mi_ctx *c, const struct bencode_node *fd, size_t i,
    struct mi_file *f)
{
	const struct bencode_node	*n = NULL, *l, *pl = NULL;
	size_t				 idx;
	int				 k;
	enum gt_err			 e;

	if (fd->type != BENCODE_DICT)
		return gt_fail(c->err, GT_EINVAL,
		    "info.files[%zu]: not a dictionary", i);
	if ((e = need_file(c, fd, i, "length", BENCODE_INT, &n)) != GT_OK)
		return e;
	if (n->i < 0)
		return gt_fail(c->err, GT_EINVAL,
		    "info.files[%zu].length: must not be negative", i);
	f->length = (uint64_t)n->i;
	f->attr = parse_attr(c->doc, fd);

	pl = bencode_dict_get(c->doc, fd, "path.utf-8");
	if (!str_list(c->doc, pl)) {
		if ((e = need_file(c, fd, i, "path", BENCODE_LIST, &pl)) !=
		    GT_OK)
			return e;
		for (l = bencode_first(c->doc, pl), idx = 0; l != NULL;
		    l = bencode_next(c->doc, pl, l), idx++) {
			if (l->type != BENCODE_STR)
				return gt_fail(c->err, GT_EINVAL,
				    "info.files[%zu].path[%zu]: not a string",
				    i, idx);
		}
	}

	if (f->attr & MI_ATTR_PAD) {
		/* Never on disk, never renamed. */
		f->attr &= ~(unsigned)MI_ATTR_SYMLINK;
		f->path = xasprintf("%s/.pad/%" PRIu64, c->m->name, f->length);
		return GT_OK;
	}
	if ((f->attr & MI_ATTR_SYMLINK) && f->length == 0)
		f->symlink = symlink_target(c, fd);
	if (f->symlink == NULL)
		f->attr &= ~(unsigned)MI_ATTR_SYMLINK;

	if ((k = collect_path(c, pl)) < 0)
		return path_too_long(c, i);
	if (k == 0) {
		/* Nothing usable left: call it "_". */
		size_t	len = strlen(c->raw);

		c->raw[len++] = '/';
		c->cstart[0] = (uint16_t)len;
		c->raw[len++] = '_';
		c->cend[0] = (uint16_t)len;
		c->raw[len] = '\0';
		k = 1;
	}
	return place_path(c, k, i, &f->path);
}

static enum gt_err
parse_files(struct mi_ctx *c, const struct bencode_node *files)
{
	struct metainfo			*m = c->m;
	const struct bencode_node	*fd;
	struct mi_file			*f;
	size_t				 i;
	enum gt_err			 e;

	if (files->count == 0)
		return gt_fail(c->err, GT_EINVAL, "info.files: empty list");
	if (files->count > MI_MAX_FILES)
		return gt_fail(c->err, GT_ETOOBIG,
		    "info.files: %" PRIu32 " files is over the limit of %u",
		    files->count, MI_MAX_FILES);
	m->files = xcalloc(files->count, sizeof(*m->files));
	m->multi_file = true;
	pset_init(&c->paths);
	for (fd = bencode_first(c->doc, files), i = 0; fd != NULL;
	    fd = bencode_next(c->doc, files, fd), i++) {
		f = &m->files[i];
		m->nfiles = i + 1;
		if ((e = parse_file(c, fd, i, f)) != GT_OK)
			return e;
		if (f->length > UINT64_MAX - m->total_length)
			return gt_fail(c->err, GT_ETOOBIG,
			    "info.files[%zu].length: total size overflows", i);
		f->offset = m->total_length;
		m->total_length += f->length;
	}
	return GT_OK;
}

static enum gt_err
parse_single(struct mi_ctx *c, const struct bencode_node *info)
{
	struct metainfo			*m = c->m;
	const struct bencode_node	*n;
	enum gt_err			 e;

	n = bencode_dict_get(c->doc, info, "length");
	if (n == NULL)
		return gt_fail(c->err, GT_EINVAL,
		    "info: has neither length nor files");
	if ((e = need(c, info, "length", BENCODE_INT, "info.length", &n)) !=
	    GT_OK)
		return e;
	if (n->i < 0)
		return gt_fail(c->err, GT_EINVAL,
		    "info.length: must not be negative");
	m->files = xcalloc(1, sizeof(*m->files));
	m->nfiles = 1;
	m->files[0] = (struct mi_file){
		.path = xstrdup(m->name),
		.length = (uint64_t)n->i,
		.attr = parse_attr(c->doc, info) &
		    (MI_ATTR_EXEC | MI_ATTR_HIDDEN),
	};
	m->total_length = (uint64_t)n->i;
	return GT_OK;
}

/*
 * With borrow, m->info_raw points into the input (metainfo_parse_take
 * moves it into place afterwards) instead of a copy.
 */
static enum gt_err
parse_info(struct metainfo *m, const struct bencode_doc *d,
    const struct bencode_node *info, bool borrow, char *err)
{
	struct mi_ctx			*c;
	const struct bencode_node	*n, *pieces, *pl;
	const uint8_t			*raw;
	char				 hex[2 * SHA1_LEN + 1];
	uint64_t			 need_pieces;
	size_t				 rawlen;
	bool				 v2 = false;
	enum gt_err			 e;

	raw = bencode_raw(d, info, &rawlen);
	if (borrow)
		m->info_raw = (uint8_t *)(uintptr_t)raw;
	else {
		m->info_raw = xmalloc(rawlen);
		memcpy(m->info_raw, raw, rawlen);
	}
	m->info_len = rawlen;
	sha1(raw, rawlen, m->info_hash);

	n = bencode_dict_get_type(d, info, "meta version", BENCODE_INT);
	if (n != NULL && n->i > 2)
		return gt_fail(err, GT_EUNSUP, "info.meta version: version %"
		    PRId64 " is not supported", n->i);
	if (n != NULL && n->i == 2) {
		v2 = true;
		if (bencode_dict_get(d, info, "pieces") == NULL &&
		    bencode_dict_get(d, info, "length") == NULL &&
		    bencode_dict_get(d, info, "files") == NULL)
			return gt_fail(err, GT_EUNSUP,
			    "v2-only torrents are not supported yet");
	}
	if (v2 && bencode_dict_get_type(d, info, "file tree", BENCODE_DICT)) {
		m->has_v2 = true;
		sha256(raw, rawlen, m->info_hash_v2);
	}

	c = xcalloc(1, sizeof(*c));
	c->doc = d;
	c->m = m;
	c->err = err;

	if ((e = need(c, info, "piece length", BENCODE_INT,
	    "info.piece length", &pl)) != GT_OK)
		goto out;
	if (pl->i < 1 || pl->i > (int64_t)MI_MAX_PIECE_LENGTH) {
		e = gt_fail(err, GT_EINVAL, "info.piece length: must be "
		    "between 1 and %u", MI_MAX_PIECE_LENGTH);
		goto out;
	}
	m->piece_length = (uint64_t)pl->i;
	if ((e = need(c, info, "pieces", BENCODE_STR, "info.pieces",
	    &pieces)) != GT_OK)
		goto out;
	if (pieces->slen % SHA1_LEN != 0) {
		e = gt_fail(err, GT_EINVAL, "info.pieces: length %zu is not "
		    "a multiple of %d", pieces->slen, SHA1_LEN);
		goto out;
	}
	if (pieces->slen / SHA1_LEN > MI_MAX_PIECES) {
		e = gt_fail(err, GT_ETOOBIG, "info.pieces: %zu pieces is over "
		    "the limit of %u", pieces->slen / SHA1_LEN, MI_MAX_PIECES);
		goto out;
	}

	n = bencode_dict_get_type(d, info, "name.utf-8", BENCODE_STR);
	if (n == NULL &&
	    (e = need(c, info, "name", BENCODE_STR, "info.name", &n)) != GT_OK)
		goto out;
	if ((m->name = metainfo_safe_component(n->s, n->slen)) == NULL) {
		hex_encode(hex, m->info_hash, SHA1_LEN);
		m->name = xstrdup(hex);
	}

	n = bencode_dict_get(d, info, "files");
	if (n != NULL) {
		if (n->type != BENCODE_LIST) {
			e = gt_fail(err, GT_EINVAL, "info.files: not a list");
			goto out;
		}
		e = parse_files(c, n);
	} else
		e = parse_single(c, info);
	if (e != GT_OK)
		goto out;

	if (m->total_length == 0) {
		e = gt_fail(err, GT_EINVAL, "info: torrent holds no data");
		goto out;
	}
	need_pieces = m->total_length / m->piece_length +
	    (m->total_length % m->piece_length != 0);
	if (need_pieces > MI_MAX_PIECES) {
		e = gt_fail(err, GT_ETOOBIG, "info: %" PRIu64 " pieces is "
		    "over the limit of %u", need_pieces, MI_MAX_PIECES);
		goto out;
	}
	if (need_pieces * SHA1_LEN != pieces->slen) {
		e = gt_fail(err, GT_EINVAL, "info.pieces: length %zu does not "
		    "match %" PRIu64 " pieces of data (%" PRIu64 " bytes)",
		    pieces->slen, need_pieces, need_pieces * SHA1_LEN);
		goto out;
	}
	m->npieces = (uint32_t)need_pieces;
	m->pieces = m->info_raw + (pieces->s - raw);	/* no second copy */

	n = bencode_dict_get_type(d, info, "private", BENCODE_INT);
	m->private = n != NULL && n->i == 1;
	n = bencode_dict_get_type(d, info, "source", BENCODE_STR);
	if (n != NULL)
		m->source = text_dup(n);
	e = GT_OK;
out:
	pset_clear(&c->paths);
	free(c);
	return e;
}

static enum gt_err
mi_decode(struct bencode_doc *d, const uint8_t *p, size_t len, char *err)
{
	struct bencode_error	be = { 0 };
	enum gt_err		e;

	if (len > MI_MAX_TORRENT)
		return gt_fail(err, GT_ETOOBIG, "torrent: %zu bytes is over "
		    "the limit of %u", len, MI_MAX_TORRENT);
	e = bencode_decode(d, p, len, &bencode_default_limits, &be);
	if (e != GT_OK)
		return gt_fail(err, e, "bencode error at byte %zu: %s",
		    be.offset, be.reason != NULL ? be.reason :
		    gt_strerror(e));
	return GT_OK;
}

static enum gt_err
parse_torrent(struct metainfo *t, const uint8_t *p, size_t len, bool borrow,
    char *err)
{
	struct bencode_doc		 d;
	const struct bencode_node	*root, *info;
	enum gt_err			 e;

	if ((e = mi_decode(&d, p, len, err)) != GT_OK)
		return e;
	root = bencode_root(&d);
	info = bencode_dict_get(&d, root, "info");
	if (root->type != BENCODE_DICT)
		e = gt_fail(err, GT_EINVAL, "torrent: not a dictionary");
	else if (info == NULL)
		e = gt_fail(err, GT_EINVAL, "info: missing");
	else if (info->type != BENCODE_DICT)
		e = gt_fail(err, GT_EINVAL, "info: not a dictionary");
	else if ((e = parse_info(t, &d, info, borrow, err)) == GT_OK)
		parse_outer(t, &d, root);
	bencode_doc_clear(&d);
	return e;
}

enum gt_err
metainfo_parse(struct metainfo *m, const uint8_t *p, size_t len, char *err)
{
	struct metainfo	t = { 0 };
	enum gt_err	e;

	if ((e = parse_torrent(&t, p, len, false, err)) != GT_OK) {
		metainfo_clear(&t);
		return e;
	}
	*m = t;
	return GT_OK;
}

enum gt_err
metainfo_parse_take(struct metainfo *m, uint8_t *p, size_t len, char *err)
{
	struct metainfo	t = { 0 };
	size_t		pieces_off;
	enum gt_err	e;

	if ((e = parse_torrent(&t, p, len, true, err)) != GT_OK) {
		t.info_raw = NULL;	/* borrowed from p: not to be freed */
		metainfo_clear(&t);
		free(p);
		return e;
	}
	/* The info dictionary becomes the whole block, in place. */
	pieces_off = (size_t)(t.pieces - t.info_raw);
	memmove(p, t.info_raw, t.info_len);
	t.info_raw = xrealloc(p, t.info_len);
	t.pieces = t.info_raw + pieces_off;
	*m = t;
	return GT_OK;
}

enum gt_err
metainfo_parse_info(struct metainfo *m, const uint8_t *p, size_t len,
    char *err)
{
	struct bencode_doc		 d;
	const struct bencode_node	*root;
	struct metainfo			 t = { 0 };
	enum gt_err			 e;

	if ((e = mi_decode(&d, p, len, err)) != GT_OK)
		return e;
	root = bencode_root(&d);
	if (root->type != BENCODE_DICT)
		e = gt_fail(err, GT_EINVAL, "info: not a dictionary");
	else
		e = parse_info(&t, &d, root, false, err);
	bencode_doc_clear(&d);
	if (e != GT_OK) {
		metainfo_clear(&t);
		return e;
	}
	*m = t;
	return GT_OK;
}

void
metainfo_clear(struct metainfo *m)
{
	size_t	i;

	free(m->info_raw);
	free(m->name);
	for (i = 0; i < m->nfiles; i++) {
		free(m->files[i].path);
		free(m->files[i].symlink);
	}
	free(m->files);
	for (i = 0; i < m->ntiers; i++)
		strv_free(m->tiers[i].urls, m->tiers[i].n);
	free(m->tiers);
	strv_free(m->web_seeds, m->nweb_seeds);
	strv_free(m->http_seeds, m->nhttp_seeds);
	for (i = 0; i < m->nnodes; i++)
		free(m->nodes[i].host);
	free(m->nodes);
	free(m->comment);
	free(m->created_by);
	free(m->source);
	*m = (struct metainfo){ 0 };
}

const uint8_t *
metainfo_piece_hash(const struct metainfo *m, uint32_t i)
{
	assert(i < m->npieces);
	return m->pieces + (size_t)i * SHA1_LEN;
}

uint32_t
metainfo_piece_size(const struct metainfo *m, uint32_t i)
{
	assert(i < m->npieces);
	if (i + 1 < m->npieces)
		return (uint32_t)m->piece_length;
	return (uint32_t)(m->total_length - (uint64_t)i * m->piece_length);
}
