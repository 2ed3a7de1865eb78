/* pex.c - peer exchange policy (BEP 11): when to tell a peer, and what */
#include <stdlib.h>
#include <string.h>

#include "pex.h"
#include "util.h"

struct pex {
	uint64_t	 next;		/* our next message is due */
	uint64_t	 last_in;	/* its last message taken */
	bool		 got_in;
	struct netaddr	*told;		/* what our messages named */
	size_t		 ntold;
};

struct pex *
pex_new(uint64_t now)
{
	struct pex	*x = xcalloc(1, sizeof(*x));

	x->next = now + PEX_FIRST_MS;
	return x;
}

void
pex_free(struct pex *x)
{
	if (x == NULL)
		return;
	free(x->told);
	free(x);
}

uint64_t
pex_deadline(const struct pex *x)
{
	return x->next;
}

static bool
in_cur(const struct ext_pex_peer *cur, size_t n, const struct netaddr *a)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (addr_eq(&cur[i].a, a))
			return true;
	return false;
}

static bool
told(const struct pex *x, const struct netaddr *a)
{
	size_t	i;

	for (i = 0; i < x->ntold; i++)
		if (addr_eq(&x->told[i], a))
			return true;
	return false;
}

/* O(n * PEX_MAX_TOLD) once a minute per peer: small next to the traffic. */
bool
pex_message(struct pex *x, const struct ext_pex_peer *cur, size_t n,
    uint64_t now, struct ext_pex_peer *added, size_t *nadded,
    struct netaddr *dropped, size_t *ndropped)
{
	size_t	na = 0, nd = 0, i;

	*nadded = *ndropped = 0;
	if (now < x->next)
		return false;
	x->next = now + PEX_EVERY_MS;
	for (i = 0; i < x->ntold && nd < PEX_MAX_ADDED; ) {
		if (in_cur(cur, n, &x->told[i])) {
			i++;
			continue;
		}
		dropped[nd++] = x->told[i];
		x->told[i] = x->told[--x->ntold];
	}
	for (i = 0; i < n && na < PEX_MAX_ADDED &&
	    x->ntold + na < PEX_MAX_TOLD; i++) {
		if (!addr_is_dialable(&cur[i].a) || told(x, &cur[i].a) ||
		    in_cur(added, na, &cur[i].a))
			continue;
		added[na++] = cur[i];
	}
	if (na > 0 && x->told == NULL)
		x->told = xcalloc(PEX_MAX_TOLD, sizeof(*x->told));
	for (i = 0; i < na; i++)
		x->told[x->ntold++] = added[i].a;
	*nadded = na;
	*ndropped = nd;
	return na > 0 || nd > 0;
}

bool
pex_accept(struct pex *x, uint64_t now)
{
	if (x->got_in && now - x->last_in < PEX_IN_MS)
		return false;
	x->got_in = true;
	x->last_in = now;
	return true;
}

size_t
pex_usable(const struct ext_pex_peer *added, size_t n, struct netaddr *out)
{
	size_t	i, k = 0;

	for (i = 0; i < n; i++) {
		out[k] = added[i].a;
		addr_unmap(&out[k]);	/* ::ffff:a.b.c.d in added6 */
		if (addr_is_dialable(&out[k]))
			k++;
	}
	return k;
}
