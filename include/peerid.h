/* peerid.h - a peer id (20 bytes) to the client and version that sent it */
#ifndef GT_PEERID_H
#define GT_PEERID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PEERID_LEN		20
#define PEERID_CLIENT_LEN	40	/* room for any peerid_client text */

/*
 * The client a peer id names, with its version: "qBittorrent 4.5.2",
 * "Transmission 2.94", "Mainline 7.4.0", ... from the Azureus style
 * ("-qB4520-"), the Shadow style ("T03I--"), the Mainline style
 * ("M7-4-0--") and a few others (aria2's "A2-1-37-0-").  An id it does
 * not know gives its printable start ("-ZZ1234-", at most 8 bytes), or
 * "" when it starts with a byte that is not printable.  out (len bytes,
 * at most PEERID_CLIENT_LEN useful) is always terminated and holds only
 * printable ASCII (0x20-0x7e).  Returns whether a client was recognised.
 */
bool		 peerid_client(const uint8_t id[PEERID_LEN], char *out,
		    size_t len);

#endif /* GT_PEERID_H */
