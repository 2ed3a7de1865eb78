/* pex.h - peer exchange policy (BEP 11): when to tell a peer, and what */
#ifndef GT_PEX_H
#define GT_PEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "extmsg.h"

#define PEX_FIRST_MS	2000	/* our first message after its handshake */
#define PEX_EVERY_MS	60000	/* then at most one a minute (BEP 11) */
#define PEX_IN_MS	45000	/* its messages: one taken per this */
#define PEX_MAX_ADDED	50	/* added (and dropped) per message */
#define PEX_MAX_TOLD	200	/* addresses one peer is told of */

/*
 * The PEX state of one connection, pure (now in ms is an argument): what
 * our messages told the peer so far, when the next is due, and when we
 * last took one of its own.
 */
struct pex;

struct pex	*pex_new(uint64_t now);	/* first message at now + FIRST */
void		 pex_free(struct pex *);
/* When our next message is due. */
uint64_t	 pex_deadline(const struct pex *);

/*
 * Our message to the peer at now, given the peers we would tell it of
 * (cur[n], each dialable, the peer itself left out): added are those not
 * told yet (at most PEX_MAX_ADDED, and PEX_MAX_TOLD told in all), dropped
 * those told before and gone from cur (at most PEX_MAX_ADDED).  Returns
 * false when nothing is due or nothing changed; the next one is due
 * PEX_EVERY_MS later either way once due.
 */
bool		 pex_message(struct pex *, const struct ext_pex_peer *cur,
		    size_t n, uint64_t now, struct ext_pex_peer *added,
		    size_t *nadded, struct netaddr *dropped, size_t *ndropped);

/*
 * One of its messages arrived at now: true to take it, false when it
 * comes too soon after the last one taken (ignored, BEP 11).
 */
bool		 pex_accept(struct pex *, uint64_t now);
/*
 * What to dial of the peers a message named: the dialable addresses
 * (addr_is_dialable; v4-mapped ones as v4), written to out (room for n);
 * returns how many.
 */
size_t		 pex_usable(const struct ext_pex_peer *added, size_t n,
		    struct netaddr *out);

#endif /* GT_PEX_H */
