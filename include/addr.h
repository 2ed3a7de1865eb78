/* addr.h - peer addresses without socket headers; compact peer formats */
#ifndef GT_ADDR_H
#define GT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ADDR_STRLEN	48	/* "[ffff:...:ffff]:65535" and a NUL */

enum addr_family {
	ADDR_V4 = 4,
	ADDR_V6 = 6,
};

struct netaddr {
	uint8_t		family;		/* enum addr_family */
	uint8_t		ip[16];		/* network order; v4 in ip[0..3] */
	uint16_t	port;		/* host order */
};

/*
 * Compact peer lists (BEP 23 "peers", BEP 7 "peers6", PEX): 6 or 18 bytes
 * an entry.  Entries with port 0 are skipped.  Writes at most max and
 * returns how many it wrote; a length that is not a whole number of
 * entries is GT_EPROTO.
 */
enum gt_err	addr_parse_compact(enum addr_family, const uint8_t *,
		    size_t len, struct netaddr *out, size_t max, size_t *n);
/* Writes 6 or 18 bytes; returns how many. */
size_t		addr_put_compact(const struct netaddr *, uint8_t *out);

/*
 * Numeric "1.2.3.4:6881" or "[::1]:6881" (port 1-65535).  With
 * default_port > 0, a bare address takes that port.  No name look-ups.
 */
enum gt_err	addr_parse(const char *, uint16_t default_port,
		    struct netaddr *);
/* Numeric address alone ("1.2.3.4", "::1"), port left 0. */
enum gt_err	addr_parse_ip(const char *, struct netaddr *);
/* "1.2.3.4:6881" or "[2001:db8::1]:6881" (RFC 5952 form). */
const char	*addr_str(const struct netaddr *, char out[ADDR_STRLEN]);
/* The address alone, without port or brackets. */
const char	*addr_ip_str(const struct netaddr *, char out[ADDR_STRLEN]);

bool		addr_eq(const struct netaddr *, const struct netaddr *);
bool		addr_ip_eq(const struct netaddr *, const struct netaddr *);
bool		addr_is_loopback(const struct netaddr *);
/*
 * Whether a peer can be at a: false for port 0, the unspecified address
 * (0.0.0.0/8, ::), broadcast and reserved 240.0.0.0/4, multicast
 * (224.0.0.0/4, ff00::/8), the same in v4-mapped form, an unknown family.
 * Loopback is dialable.
 */
bool		addr_is_dialable(const struct netaddr *);
/* A v4-mapped v6 address (::ffff:a.b.c.d) becomes plain v4. */
void		addr_unmap(struct netaddr *);

#endif /* GT_ADDR_H */
