/*
 * torrent-int.h - what torrent.c shares with torrent-serve.c, torrent-ext.c
 *
 * Internal to the torrent module: one torrent's state (struct torrent), its
 * side of each connection (struct tconn), the small helpers every part uses
 * and the functions one part calls in another.  torrent.c wires the torrent
 * (peer hooks, pieces, writing, hashing, the DHT, life cycle);
 * torrent-serve.c serves it (seeding limits, serving, choking,
 * super-seeding); torrent-ext.c speaks the extension protocol (BEP 10:
 * metadata, PEX).  Nothing outside torrent*.c includes this header.
 */
#ifndef GT_TORRENT_INT_H
#define GT_TORRENT_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bitfield.h"
#include "crypto.h"
#include "err.h"
#include "extmsg.h"
#include "metainfo.h"
#include "peer.h"
#include "reactor.h"
#include "seedlimit.h"
#include "spread.h"
#include "swarm.h"
#include "torrent.h"

#define TORRENT_HQ_MAX		64	/* complete pieces awaiting a verdict */
#define TORRENT_WQ_MAX		256	/* blocks waiting to be written */
#define TORRENT_RECENT_READS	8	/* pieces read to serve: suggested */
#define TORRENT_WRITEBACK	(16u << 20) /* bytes written between writebacks
					   (storage_writeback_every) */
#define TORRENT_RESUME_MS	3000	/* a checkpoint after a change, within */
#define TORRENT_RESUME_IDLE_MS	300000	/* ... when only upload totals moved */

/* The torrent's side of one connection; net owns the socket and peer. */
struct tconn {
	struct torrent		*t;
	struct conn		*c;		/* valid until closed */
	struct peer		*p;		/* c's */
	TAILQ_ENTRY(tconn)	 entry;		/* torrent's list */
	uint32_t		 cand;		/* swarm candidate, or
						   UINT32_MAX */
	uint64_t		 active_ms;	/* handshakes done at; 0: not */
	bool			 optimistic;	/* holds the optimistic slot */
	uint64_t		 turn_ms;	/* we last unchoked it (0:
						   never) */
	uint64_t		 turn_up;	/* peer_uploaded() then */
	uint32_t		 seq;		/* the metadata assembler's id */
	struct ext_handshake	 ext;		/* theirs (BEP 10) */
	bool			 got_ext;
	bool			 md_peer;	/* added to the assembler */
	bool			 md_gave;	/* sent us a metadata piece */
	bool			 pinged;	/* its PORT was pinged */
	struct pex		*pex;		/* BEP 11 with it, or NULL */
	bool			 ss;		/* super-seeded: sees only the
						   pieces revealed to it */
	struct spread_peer	 sp;		/* our suggestions to it, as a
						   seed (spread.h) */
	uint32_t		 sp_tail;	/* the piece of its last queued
						   request, claimed (+1; 0:
						   none) */
};
TAILQ_HEAD(tconn_list, tconn);

/*
 * A received block waiting to be written: data points into tc's receive
 * buffer, pinned (net_pin) until it is written.
 */
struct wq_block {
	uint64_t	 off;		/* torrent offset */
	const uint8_t	*data;
	uint32_t	 len;
	struct tconn	*tc;
};

struct torrent {
	struct torrent_host	  h;
	struct reactor		 *r;
	const struct metainfo	 *m;		/* NULL until the metadata */
	struct metainfo		  mi;		/* a magnet's, once verified */
	uint8_t			  info_hash[SHA1_LEN];
	char			 *name;		/* m->name, or a magnet's dn
						   or hex info-hash */
	struct metadata		 *md;		/* a magnet's, until verified */
	struct reactor_timer	 *md_timer;	/* its deadline; completion */
	struct reactor_timer	 *pex_timer;
	bool			  md_done;	/* verified: finish off */
	uint32_t		  next_seq;
	struct torrent_opts	  o;
	struct torrent_events	  ev;
	char			 *dir;
	struct storage		 *st;
	struct picker		 *pk;
	struct swarm		 *sw;
	struct announcer	 *an;		/* NULL: no trackers */
	struct bitfield		  have;		/* verified pieces */
	struct peer_config	  pcfg;
	struct prng		  rng;

	struct tconn_list	  conns;
	uint32_t		  nconns;
	uint32_t		  npeers;	/* handshakes done */

	struct prog		**ptab;		/* pieces in progress */
	uint32_t		  pmask;	/* ptab size - 1 */
	size_t			  pcount;
	uint32_t		  hq[TORRENT_HQ_MAX]; /* complete */
	size_t			  nhq;
	size_t			  hash_width;	/* sha1_lanes_width() */
	uint8_t			 *hbuf;		/* TORRENT_HASH_BUF bytes: the
						   session's */
	uint8_t			 *own_hbuf;	/* ... or this, or NULL */
	struct reactor_timer	 *hash_timer;
	struct prog		 *free_prog;
	uint8_t			 *scratch;	/* WIRE_MAX_REQUEST bytes: the
						   session's */
	uint8_t			 *own_scratch;	/* ... or this, or NULL */
	struct wq_block		  wq[TORRENT_WQ_MAX];	/* to write */
	size_t			  nwq;

	struct reactor_timer	 *tick_timer;	/* swarm_deadline */
	struct reactor_timer	 *refill_timer;
	struct net_limit	 *lim;		/* --max-*-rate, its conns' */

	uint64_t		  size;		/* payload bytes */
	uint64_t		  have_bytes;
	uint64_t		  want_total;	/* bytes of the wanted pieces */
	uint64_t		  want_have;	/* ... verified */
	uint64_t		  downloaded, uploaded;
	uint64_t		  wasted;	/* duplicate blocks' bytes */
	uint32_t		 *sent;		/* per piece: bytes served */
	uint64_t		  resent;	/* served past a piece's size */
	struct seedlimit	  sl;		/* when seeding ends */
	struct reactor_timer	 *seed_timer;	/* its deadline; draining */
	bool			  seed_over;	/* a limit reached: serve no
						   more */
	bool			  seed_told;	/* ev.seed_limit called */
	uint64_t		  seed_over_ms;
	bool			  complete, stopped, fatal, started;
	bool			  paused;	/* torrent_pause */
	uint64_t		  paused_ms;	/* ... since */
	bool			  dht_search;	/* running on h.dht */
	uint32_t		  dht_peers;	/* new addresses it gave */

	/* Super-seeding (BEP 16), from the first peer it applies to */
	struct superseed	 *ss;
	struct bitfield		  ss_none;	/* what its peers see first */
	struct reactor_timer	 *ss_timer;	/* superseed_deadline */
	bool			  ss_news;	/* a HAVE came: reveal */
	struct spread		 *spread;	/* seeding: what to suggest */
	struct bitfield		  sug_rare;	/* pick_fast's scratch */
	uint32_t		  recent[TORRENT_RECENT_READS]; /* ring */
	size_t			  nrecent, recent_pos;

	/* Fast resume (torrent-resume.c) */
	char			 *rs_path;	/* the record; NULL: none kept */
	struct statefile	 *rs_sf;	/* its writer */
	struct reactor_timer	 *rs_timer;	/* the next checkpoint */
	uint64_t		  rs_gen;	/* resume_gen() at the last one */
	uint64_t		  rs_up;	/* uploaded then */
	uint64_t		  rs_saved_ms;
	struct bitfield		  rs_partial;	/* pieces with blocks from the
						   record: their senders are
						   not all known */
	int			  rs_lock;	/* the data's lock, or -1 */
	bool			 *rs_present;	/* per file: seen on disk */
	uint64_t		  up_before;	/* totals of earlier runs */
	uint64_t		  down_before;

	/* File selection (torrent-files.c); NULL: every file, normal */
	uint8_t			 *fprio;	/* per file: 0 skip .. 7 */
	bool			 *skip;		/* per file: not wanted */
};

struct prog;	/* a piece in progress (torrent.c) */

/* ---- small things -------------------------------------------------------- */

static inline uint64_t
now_ms(const struct torrent *t)
{
	return reactor_now_ms(t->r);
}

static inline bool
tc_live(const struct tconn *tc)
{
	/* p is NULL once the connection closed (tc_closed) */
	return tc->active_ms != 0 && tc->p != NULL &&
	    peer_state(tc->p) == PEER_ACTIVE;
}

static inline bool
seeding(const struct torrent *t)
{
	return t->o.seed || t->o.upload_only;
}

/* torrent.c */
void		torrent_got_metadata(struct torrent *);
enum gt_err	torrent_wq_flush(struct torrent *);
uint32_t	torrent_prog_piece(const struct prog *);
/* A disk problem (what it was doing, or what happened): the torrent ends. */
void		torrent_fatal(struct torrent *, enum gt_err, const char *what);
/* torrent_add_peers, saying where they came from (explicit: GIVEN). */
size_t		torrent_add_peers_from(struct torrent *,
		    const struct netaddr *, size_t n, enum swarm_source);

/* torrent-files.c: which files are wanted, each piece's priority */
void		torrent_files_choose(struct torrent *);
void		torrent_files_apply(struct torrent *);
uint8_t		torrent_file_priority(const struct torrent *, size_t);
void		torrent_have_piece(struct torrent *, uint32_t piece);

/* torrent-resume.c: the resume record, its checkpoints, the data lock */
enum gt_err	torrent_resume_lock(struct torrent *, char *err);
void		torrent_resume_init(struct torrent *);
bool		torrent_resume_load(struct torrent *);
void		torrent_resume_touch(struct torrent *);
void		torrent_resume_save(struct torrent *, bool final);
void		torrent_resume_timer_cb(void *);
void		torrent_resume_free(struct torrent *);

/* torrent-serve.c: seeding limits, serving, choking, super-seeding */
void		torrent_seed_timer_cb(void *);
void		torrent_seed_begin(struct torrent *);
void		torrent_seed_on_upload(struct torrent *);
void		torrent_spread_top(struct torrent *, struct tconn *, uint64_t);
void		torrent_serve(struct torrent *, struct tconn *);
enum gt_err	torrent_payload(void *ctx, int fd, const struct block_req *,
		    uint32_t off, size_t len, size_t *sent);
void		torrent_rechoke(struct torrent *, bool);
void		torrent_unchoke_newcomer(struct torrent *, struct tconn *);
bool		torrent_ss_applies(const struct torrent *);
void		torrent_ss_rearm(struct torrent *);
void		torrent_ss_join(struct torrent *, struct tconn *);
void		torrent_ss_reveal(struct torrent *);
void		torrent_ss_timer_cb(void *);

/* torrent-ext.c: the extension protocol (BEP 10), metadata, PEX */
void		torrent_ext_send_handshake(struct torrent *, struct tconn *);
void		torrent_md_fill_all(struct torrent *);
void		torrent_md_timer_cb(void *);
void		torrent_pex_timer_cb(void *);
enum gt_err	torrent_hook_extended(void *, struct peer *, uint8_t,
		    const uint8_t *, size_t);

#endif /* GT_TORRENT_INT_H */
