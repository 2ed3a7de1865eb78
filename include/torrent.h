/* torrent.h - one torrent at run time: storage, picker, peers, choker */
#ifndef GT_TORRENT_H
#define GT_TORRENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "err.h"
#include "wire.h"

#define TORRENT_MAX_CANDS	2000	/* peer addresses remembered */
#define TORRENT_MAX_HALF_OPEN	16	/* connects under way */
#define TORRENT_CONNECT_TICK_MS	1000	/* connection manager period */
#define TORRENT_RETRY_MIN_MS	2000	/* first redial after a failure */
#define TORRENT_RETRY_MAX_MS	(5u * 60 * 1000)
#define TORRENT_UNCHOKE_SLOTS	4
#define TORRENT_SERVE_HIGH	(1u << 20)	/* output queued: stop serving */
#define TORRENT_MAX_BANS	1024
#define TORRENT_BAN_STRIKES	3
#define TORRENT_CONTRIB_MAX	8	/* peers tracked per piece */

struct conn;
struct metainfo;
struct session;
struct torrent;

struct torrent_opts {
	const char	*dir;		/* download folder */
	bool		 seed;		/* keep seeding once complete */
	bool		 upload_only;	/* never download (`gtorrent seed`) */
	bool		 rarest_first;
	bool		 end_game;
	uint32_t	 max_peers;	/* connections for this torrent */
	bool		 use_trackers;
	char *const	*trackers;	/* --tracker URLs, added as a last tier */
	size_t		 ntrackers;
};

struct torrent_stats {
	uint64_t	size;		/* payload bytes (no padding) */
	uint64_t	have;		/* verified bytes (padding included) */
	uint64_t	total;		/* torrent bytes (padding included): the
				   size the summary line shows */
	uint64_t	downloaded;	/* payload received this run */
	uint64_t	uploaded;	/* payload sent this run */
	uint32_t	npieces, have_pieces;
	uint32_t	peers;		/* connections with handshakes done */
	uint32_t	conns;		/* all connections */
	uint32_t	known;		/* candidate addresses */
	uint32_t	peers_ever;	/* distinct peers we exchanged with */
	bool		complete;
};

/* What the command hears about. */
struct torrent_events {
	void		(*complete)(void *arg);	/* all pieces verified */
	void		(*fatal)(void *arg, enum gt_err);	/* disk error */
	void		*arg;
};

/*
 * A torrent downloading into opts->dir; m is borrowed and must outlive it.
 * Checks data already on disk (threaded) before it returns.  err
 * (GT_ERRLEN bytes) says why it failed: GT_EIO is a disk problem.
 */
enum gt_err	 torrent_new(struct torrent **, struct session *,
		    const struct metainfo *, const struct torrent_opts *,
		    const struct torrent_events *, char *err);
/* Starts announcing and connecting. */
void		 torrent_start(struct torrent *);
/* Closes every connection and stops connecting (before leaving). */
void		 torrent_stop(struct torrent *);
void		 torrent_free(struct torrent *);

const uint8_t	*torrent_info_hash(const struct torrent *);
const char	*torrent_name(const struct torrent *);
struct session_tracker *torrent_tracker(struct torrent *);
bool		 torrent_complete(const struct torrent *);
void		 torrent_stats(const struct torrent *, struct torrent_stats *);
/* Addresses to try (tracker, --peer); explicit ones are never given up. */
void		 torrent_add_peers(struct torrent *, const struct netaddr *,
		    size_t n, bool explicit);

/* From net.c. */
/* An inbound connection named this torrent: attach it or say why not. */
enum gt_err	 torrent_accept(struct torrent *, struct conn *,
		    const char **why);
/* The remote handshake arrived on c (attached to this torrent). */
enum gt_err	 torrent_handshake(struct torrent *, struct conn *,
		    const struct wire_handshake *, const char **why);
/* After a batch of input: unchoke newcomers, serve requests. */
void		 torrent_after_input(struct torrent *, struct conn *);
/* Output drained: serve more. */
void		 torrent_writable(struct torrent *, struct conn *);
/* The connection closed: forget it (its memory is net.c's). */
void		 torrent_detach(struct torrent *, struct conn *);

#endif /* GT_TORRENT_H */
