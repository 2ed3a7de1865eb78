/* krpc.h - KRPC messages of the DHT (BEP 5, 32, 33, 42, 43, 51) */
#ifndef GT_KRPC_H
#define GT_KRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

/*
 * A pure codec: one datagram in, one struct krpc_msg out, and back.  No
 * clock, no sockets, no policy: which replies to send, whom to trust and
 * what to store is the node's job.  Every decoder input is hostile.
 *
 * Caps (a field over its cap is handled as the comment says).
 */
#define KRPC_MAX_PACKET	4096	/* bytes of a datagram krpc_decode
				   accepts; a longer one is GT_EPROTO before
				   any parsing (real messages fit one MTU;
				   jech/dht and Transmission read 4096) */
#define KRPC_MAX_OUT	1452	/* bytes we aim to send: a 1500-byte MTU
				   less IPv6 and UDP headers.  The encoders
				   obey the struct buf's own max, so init
				   the output buf with this and trim a reply
				   (values, samples) on GT_ETOOBIG */
#define KRPC_MAX_TID	32	/* bytes of "t"; longer: GT_EPROTO (the
				   node drops the message, never echoes it) */
#define KRPC_MAX_TOKEN	32	/* bytes of "token"; a longer token is
				   absent in a response, bad in announce_peer */
#define KRPC_MAX_NODES	16	/* entries taken from "nodes", and as many
				   from "nodes6"; the rest is ignored */
#define KRPC_MAX_VALUES	100	/* peers taken from "values" */
#define KRPC_MAX_SAMPLES 200	/* info-hashes taken from "samples" */
#define KRPC_MAX_ERRMSG	128	/* bytes kept of an error's message */
#define KRPC_MAX_VERSION 4	/* bytes kept of "v" */
#define KRPC_BLOOM_LEN	256	/* BEP 33 BFsd/BFpe: exactly this long */
#define KRPC_MAX_INTERVAL 21600	/* BEP 51 "interval" clamped to 6 hours */

#define KRPC_ID_LEN	20	/* node ids, info-hashes, targets, samples */
#define KRPC_NODE4_LEN	26	/* compact node info: id, ip, port */
#define KRPC_NODE6_LEN	38

/* Our "v": "GQ" and the version as two bytes, major then minor (0.1). */
#define KRPC_VERSION		"GQ\x00\x01"
#define KRPC_VERSION_LEN	4

/* Error codes (BEP 5). */
#define KRPC_ERR_GENERIC	201
#define KRPC_ERR_SERVER		202
#define KRPC_ERR_PROTOCOL	203	/* malformed packet, bad arguments */
#define KRPC_ERR_METHOD		204	/* method unknown */

/* Compact node info: 26 bytes (v4) or 38 (v6) on the wire. */
struct krpc_node {
	uint8_t		id[KRPC_ID_LEN];
	struct netaddr	a;		/* ADDR_V4 or ADDR_V6, port > 0 */
};

enum krpc_kind {
	KRPC_QUERY,		/* "y": "q" */
	KRPC_RESPONSE,		/* "y": "r" */
	KRPC_ERROR,		/* "y": "e" */
};

enum krpc_method {
	KRPC_PING,
	KRPC_FIND_NODE,
	KRPC_GET_PEERS,
	KRPC_ANNOUNCE_PEER,
	KRPC_SAMPLE_INFOHASHES,	/* BEP 51 */
	KRPC_UNKNOWN_METHOD,	/* a query we do not know: answer 204 */
};

/*
 * One message, decoded or to encode.  The pointers borrow from the
 * decoded datagram, which must outlive the struct; when encoding they
 * point wherever the caller likes.  Which fields mean something depends
 * on kind (and for a response, on the query it answers: the caller finds
 * it by tid).  Zero is "absent" unless a has_ flag says otherwise.
 */
struct krpc_msg {
	enum krpc_kind		 kind;
	enum krpc_method	 method;	/* queries (responses and
						   errors: UNKNOWN) */
	uint8_t			 tid[KRPC_MAX_TID];	/* "t", raw */
	size_t			 tidlen;	/* 0..KRPC_MAX_TID */
	uint8_t			 version[KRPC_MAX_VERSION]; /* "v", raw:
						   escape before display */
	size_t			 versionlen;	/* 0: absent (not sent) */

	/* queries and responses */
	uint8_t			 id[KRPC_ID_LEN];	/* the sender's id */

	/* queries (arguments "a", and "ro" beside it) */
	bool			 ro;		/* BEP 43 read-only sender */
	bool			 has_target;
	uint8_t			 target[KRPC_ID_LEN];	/* find_node and
						   sample_infohashes "target",
						   get_peers and announce_peer
						   "info_hash"; unknown
						   methods: either */
	bool			 want_n4;	/* BEP 32 "want": */
	bool			 want_n6;	/* ["n4", "n6"] */
	uint16_t		 port;		/* announce_peer "port":
						   1-65535, or 0 with
						   implied_port */
	bool			 implied_port;	/* use the datagram's port */
	bool			 seed;		/* BEP 33: announce_peer */
	bool			 scrape;	/* BEP 33: get_peers */
	bool			 noseed;	/* BEP 33: get_peers */
	const char		*bad;		/* see krpc_decode */

	/* announce_peer query and get_peers response */
	uint8_t			 token[KRPC_MAX_TOKEN];
	size_t			 tokenlen;	/* 0: absent */

	/* responses ("r", and "ip" beside it) */
	struct krpc_node	 nodes[2 * KRPC_MAX_NODES]; /* "nodes" (v4)
						   then "nodes6" (v6) */
	size_t			 nnodes;
	struct netaddr		 values[KRPC_MAX_VALUES]; /* get_peers
						   peers, 6 or 18 bytes each */
	size_t			 nvalues;
	bool			 has_ip;	/* BEP 42: our address as the
						   sender saw it ("ip", also
						   in errors) */
	struct netaddr		 ip;
	const uint8_t		*bf_seeds;	/* BEP 33 "BFsd" and "BFpe": */
	const uint8_t		*bf_peers;	/* KRPC_BLOOM_LEN bytes, or
						   NULL */
	bool			 sampled;	/* BEP 51 fields present: */
	uint32_t		 interval;	/* seconds (clamped) */
	uint32_t		 num;		/* info-hashes it holds */
	const uint8_t		*samples;	/* nsamples * KRPC_ID_LEN
						   bytes */
	size_t			 nsamples;	/* <= KRPC_MAX_SAMPLES */

	/* errors ("e": [code, message]) */
	int			 errcode;	/* clamped into int */
	uint8_t			 errmsg[KRPC_MAX_ERRMSG];	/* raw:
						   escape before display */
	size_t			 errmsglen;
};

/*
 * Decodes one datagram into *out.  GT_EPROTO: anything not a KRPC
 * message, which the node drops without a word: over KRPC_MAX_PACKET,
 * not exactly one bencoded dict (over the depth and value caps too), "t"
 * missing or over KRPC_MAX_TID bytes, "y" not "q", "r" or "e", a query
 * without a "q" string or an "a" dict, a query or response without a
 * 20-byte "id".
 *
 * GT_EINVAL: a query of a known method whose arguments are unusable
 * (find_node without a 20-byte target, announce_peer without a token or
 * a port, ...).  Unlike other errors, *out is filled then: out->bad names
 * the problem (a static string), for an error 203 to the sender.
 *
 * Optional fields that are malformed count as absent.  "nodes" and
 * "nodes6" give their whole entries (a trailing partial entry is ignored,
 * as libtorrent does), values of a length other than 6 or 18 are
 * skipped, and so are nodes and values with port 0; nothing else is
 * filtered here (addr_is_dialable is the node's call).  A response
 * decodes every known field present; errors need no "e" (code 0, empty
 * message then).
 */
enum gt_err	krpc_decode(const uint8_t *pkt, size_t len,
		    struct krpc_msg *out);

/*
 * Encoders append one whole message to b or, on failure, leave b as it
 * was (GT_ETOOBIG past b's max).  "v" is written when versionlen > 0.
 *
 * krpc_put_query: t, y, q, "ro" when set, and a: id and what the method
 * takes (target or info_hash; want when a want flag is set; port,
 * implied_port, token and seed for announce_peer; scrape and noseed for
 * get_peers).  GT_EINVAL: KRPC_UNKNOWN_METHOD, a tid over KRPC_MAX_TID or
 * a token over KRPC_MAX_TOKEN.
 *
 * krpc_put_response: t, y, "ip" when has_ip, and r: id and the fields
 * set: nodes and nodes6 split by family, values, token, BFsd, BFpe, and
 * interval, num and samples when sampled.  GT_EINVAL: an address of
 * neither family, or over a cap.
 */
enum gt_err	krpc_put_query(struct buf *b, const struct krpc_msg *);
enum gt_err	krpc_put_response(struct buf *b, const struct krpc_msg *);
/* An error; msg is a C string (cut at KRPC_MAX_ERRMSG bytes). */
enum gt_err	krpc_put_error(struct buf *b, const uint8_t *tid,
		    size_t tidlen, int code, const char *msg);

/* "ping", "find_node", ... ("unknown" for KRPC_UNKNOWN_METHOD). */
const char	*krpc_method_name(enum krpc_method);

#endif /* GT_KRPC_H */
