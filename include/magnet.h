/* magnet.h - magnet URIs (BEP 9, BEP 53): parse and format */
#ifndef GT_MAGNET_H
#define GT_MAGNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "crypto.h"
#include "err.h"

#define MAGNET_MAX_URI		16384	/* bytes of a whole URI */
#define MAGNET_MAX_TRACKERS	64	/* tr= kept; more: a warning */
#define MAGNET_MAX_PEERS	64	/* x.pe= kept; more is an error */
#define MAGNET_MAX_WEB_SEEDS	16	/* ws= kept; more: a warning */
#define MAGNET_MAX_DN		1024	/* bytes of dn once decoded */
#define MAGNET_MAX_URL		2048	/* bytes of one tr= or ws= URL,
					   decoded */
#define MAGNET_MAX_SELECT	256	/* so= ranges */
#define MAGNET_MAX_WARNINGS	8	/* warnings kept (one line each) */

/* BEP 53 so=: file indices first..last (a single index: first == last). */
struct magnet_range {
	uint32_t	first, last;
};

struct magnet {
	uint8_t		 info_hash[SHA1_LEN];	/* xt=urn:btih: (hex or base32) */
	bool		 has_v2;		/* xt=urn:btmh:1220... seen too */
	uint8_t		 info_hash_v2[SHA256_LEN];
	char		*dn;		/* display name, decoded, NUL-free; NULL
					   when absent.  Never a path: escape
					   it before it reaches a terminal */
	char		**trackers;	/* tr=: http, https, udp, in order,
					   duplicates dropped */
	size_t		  ntrackers;
	struct netaddr	 *peers;	/* x.pe=: numeric host:port */
	size_t		  npeers;
	char		**web_seeds;	/* ws=: kept for web seeds later */
	size_t		  nweb_seeds;
	struct magnet_range *select;	/* so=, or NULL */
	size_t		  nselect;
	char		 *warnings[MAGNET_MAX_WARNINGS];	/* e.g. "tr: 'wss://...'
					   ignored: only http, https and udp
					   trackers", already escaped */
	size_t		  nwarnings;
};

/*
 * Parses "magnet:?..." (the scheme case-insensitive).  Fails (GT_EINVAL, or
 * GT_EUNSUP for a v2-only magnet) with one line in err (GT_ERRLEN bytes,
 * quoted values escaped for a terminal) on: no btih, a bad hash length or
 * digit, two different btih (or btmh), an unknown xt namespace, a bad
 * percent escape anywhere ('%' and two hex digits, any case), a control
 * byte (0x00-0x1f, 0x7f) in the URI, a NUL byte once decoded in dn, tr,
 * ws or x.pe, a value over its cap, more than a cap's worth of
 * x.pe/so, an x.pe that is not a numeric address:port, a so= that
 * is not "N" or "N-M" (N <= M) items split by ',', a URI over
 * MAGNET_MAX_URI.  On failure *m is untouched.
 *
 * Keys are case-sensitive (BEP 9) and may carry a number: "xt.1", "tr.2".
 * Unknown keys are ignored (their escapes are still checked), so is a
 * fragment ("#...", RFC 3986).  In dn alone '+' is a space, as libtorrent
 * and the web forms magnets are made with read it (a literal '+' is
 * "%2B", which magnet_format writes); everywhere else '+' is itself.
 * The first non-empty dn is kept.  xt takes "urn:" and the namespace in
 * any case.  Duplicate tr, ws and x.pe are dropped (caps count the ones
 * kept).  Skipped with a warning: a tr that is not http, https or udp, a
 * ws that is not http or https, either one without a host or with a
 * space or control character; an x.pe no peer can have (0.0.0.0,
 * broadcast, multicast: addr_is_dialable; port 0 fails); the tr and ws
 * past their caps (the first ones are kept: lists of 100+ public trackers
 * are common).  Past MAGNET_MAX_WARNINGS, warnings are dropped.
 */
enum gt_err	 magnet_parse(struct magnet *m, const char *uri, char *err);
void		 magnet_clear(struct magnet *);

/*
 * "magnet:?xt=urn:btih:<40 lowercase hex>&dn=...&tr=...&tr=..." with
 * every value percent-encoded (RFC 3986 unreserved bytes kept, the
 * escapes' hex digits uppercase); name may be NULL or "" (no dn).
 * Returns a malloc'd string, which can be longer than MAGNET_MAX_URI.
 */
char		*magnet_format(const uint8_t info_hash[SHA1_LEN],
		    const char *name, char *const *trackers, size_t ntrackers);

#endif /* GT_MAGNET_H */
