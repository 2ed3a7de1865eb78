/* extmsg.h - BEP 10 extended handshake, ut_metadata (BEP 9), ut_pex (BEP 11) */
#ifndef GT_EXTMSG_H
#define GT_EXTMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "buf.h"
#include "err.h"

/*
 * Payloads only: the caller frames them (peer_send_extended adds the
 * length, id 20 and the extended id).  Every decoder takes hostile bytes:
 * bencode caps, fields of the wrong type ignored, absurd values clamped or
 * dropped, borrowed pointers into the input.  Encoders append to the buf,
 * or on failure leave it as it was.
 */


#define EXT_METADATA_MAX	(16u << 20)	/* metadata_size accepted */
#define EXT_METADATA_PIECE	16384		/* ut_metadata piece size */
#define EXT_CLIENT_MAX		64	/* bytes of "v" kept (raw: escape!) */
#define EXT_REQQ_MIN		1
#define EXT_REQQ_MAX		4096	/* "reqq" clamped into this range */
#define EXT_PEX_MAX_ADDED	200	/* entries taken per family & msg */
#define EXT_PEX_MAX_DROPPED	200

/* The ids we ask peers to use for our extensions (our "m"). */
enum ext_local_id {
	EXT_ID_HANDSHAKE = 0,
	EXT_ID_METADATA = 1,		/* ut_metadata */
	EXT_ID_PEX = 2,			/* ut_pex */
};

/* An extended handshake, ours (encoded) or theirs (decoded). */
struct ext_handshake {
	uint8_t		 ut_metadata;	/* m.ut_metadata: their id; 0 none */
	uint8_t		 ut_pex;	/* m.ut_pex; 0 none */
	uint16_t	 port;		/* p: their listen port; 0 absent */
	char		 client[EXT_CLIENT_MAX + 1]; /* v, raw, cut at its
					   first NUL and at EXT_CLIENT_MAX
					   bytes; "" absent */
	uint32_t	 reqq;		/* clamped (reqq 0 gives 1); 0 absent */
	bool		 has_yourip;
	struct netaddr	 yourip;	/* our address as they see it, port 0;
					   only 4 or 16 bytes are taken */
	uint32_t	 metadata_size;	/* 1..EXT_METADATA_MAX; 0 absent */
	bool		 bad_metadata_size; /* present but 0, negative, or
					   over EXT_METADATA_MAX */
	bool		 upload_only;	/* BEP 21 */
};

/*
 * Their handshake.  GT_EPROTO unless the payload starts with one bencoded
 * dict (bytes after it are ignored, as libtorrent does); ids outside
 * 1..255 count as absent.
 */
enum gt_err	extmsg_parse_handshake(const uint8_t *, size_t,
		    struct ext_handshake *);
/*
 * Ours: m with the non-zero ids of ut_metadata and ut_pex, p when port,
 * v when client[0], reqq when non-zero, yourip when has_yourip,
 * metadata_size when non-zero, upload_only when set.  GT_EINVAL: a
 * yourip of neither family.
 */
enum gt_err	extmsg_put_handshake(struct buf *,
		    const struct ext_handshake *);

/* ut_metadata */
enum ext_md_type {
	EXT_MD_REQUEST = 0,
	EXT_MD_DATA = 1,
	EXT_MD_REJECT = 2,
};

struct ext_md {
	enum ext_md_type	 type;
	uint32_t		 piece;
	uint32_t		 total_size;	/* DATA: as sent (unchecked) */
	const uint8_t		*data;		/* DATA: bytes after the dict */
	size_t			 len;
};

/*
 * GT_EPROTO: not a dict followed (DATA only) by bytes, a missing or
 * non-integer msg_type, a missing or negative piece, a DATA without
 * total_size (or one negative or over UINT32_MAX), data after a REQUEST
 * or REJECT, a piece index over UINT32_MAX.  GT_EUNSUP: an unknown
 * msg_type (BEP 9: ignore it).  Sizes against the torrent are the
 * caller's check.
 */
enum gt_err	extmsg_parse_metadata(const uint8_t *, size_t,
		    struct ext_md *);
/*
 * A REQUEST or REJECT (data NULL) or a DATA with total_size and data.
 * GT_EINVAL: another type, or a DATA without bytes.
 */
enum gt_err	extmsg_put_metadata(struct buf *, enum ext_md_type,
		    uint32_t piece, uint32_t total_size, const uint8_t *data,
		    size_t len);

/* ut_pex */
#define EXT_PEX_ENCRYPT		0x01	/* added.f flags (BEP 11) */
#define EXT_PEX_SEED		0x02
#define EXT_PEX_UTP		0x04
#define EXT_PEX_HOLEPUNCH	0x08
#define EXT_PEX_REACHABLE	0x10

struct ext_pex_peer {
	struct netaddr	a;
	uint8_t		flags;		/* EXT_PEX_*, 0 when no .f entry */
};

/*
 * Takes added/added.f, added6/added6.f, dropped, dropped6, v4 entries
 * first: at most EXT_PEX_MAX_ADDED (EXT_PEX_MAX_DROPPED) of each family
 * and max_added (max_dropped) in all; the rest is ignored.  Entries of
 * port 0 are skipped (their flags with them); the others are not
 * filtered here (the caller drops undialable ones: addr_is_dialable).
 * GT_EPROTO: not a dict, or a list whose length is not a whole number of
 * entries.  A missing or short .f leaves flags 0.  Bytes after the dict
 * are ignored.
 */
enum gt_err	extmsg_parse_pex(const uint8_t *, size_t,
		    struct ext_pex_peer *added, size_t max_added,
		    size_t *nadded, struct netaddr *dropped,
		    size_t max_dropped, size_t *ndropped);
/*
 * Splits by family into added/added.f/added6/added6.f/dropped/dropped6,
 * every key present even when empty (as libtorrent sends them).
 * GT_EINVAL: an entry of neither family.
 */
enum gt_err	extmsg_put_pex(struct buf *, const struct ext_pex_peer *added,
		    size_t nadded, const struct netaddr *dropped,
		    size_t ndropped);

#endif /* GT_EXTMSG_H */
