/* seedlimit.h - when seeding ends: share ratio, seeding time, idle time */
#ifndef GT_SEEDLIMIT_H
#define GT_SEEDLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEEDLIMIT_WHYLEN	128	/* seedlimit_describe's text, at most */

enum seedlimit_reason {
	SEEDLIMIT_NONE = 0,
	SEEDLIMIT_RATIO,		/* uploaded >= ratio x size */
	SEEDLIMIT_TIME,			/* seeding for time_s */
	SEEDLIMIT_IDLE,			/* seeding, nothing up for idle_s */
};

/* The limits; 0 is "no such limit". */
struct seedlimit_opts {
	double		ratio;		/* uploaded this run / torrent size */
	uint32_t	time_s;		/* seconds since seeding began */
	uint32_t	idle_s;		/* seconds seeding without uploading */
};

/*
 * Caller storage (embedded in the torrent).  Fed the payload bytes
 * uploaded this run and the clock; says when seeding is to end and why.
 * The ratio counts every byte uploaded this run (while downloading too,
 * as aria2 does); time and idle count from seedlimit_start (the download
 * completed, or `gtorrent seed` began).
 */
struct seedlimit {
	struct seedlimit_opts	o;
	uint64_t		size;		/* torrent payload bytes */
	uint64_t		target;		/* bytes up for the ratio, or
						   UINT64_MAX: none */
	uint64_t		uploaded;	/* the last figure fed */
	bool			seeding;	/* seedlimit_start was called */
	uint64_t		start_ms;	/* ... at */
	uint64_t		last_up_ms;	/* uploaded last grew at (0:
						   never) */
	uint64_t		end_ms;		/* reached at */
	enum seedlimit_reason	reached;	/* latched: the first one */
};

void		 seedlimit_init(struct seedlimit *,
		    const struct seedlimit_opts *, uint64_t size);
/* Is any limit set? */
bool		 seedlimit_active(const struct seedlimit *);
/* Seeding begins (no-op if it has already). */
void		 seedlimit_start(struct seedlimit *, uint64_t uploaded,
		    uint64_t now);
/*
 * Payload went out (uploaded is the run's total): O(1).  Returns the
 * reason seeding ends, SEEDLIMIT_NONE while it goes on (and always before
 * seedlimit_start).
 */
enum seedlimit_reason seedlimit_on_upload(struct seedlimit *,
		    uint64_t uploaded, uint64_t now);
/*
 * The torrent was paused for ms, from a time after seedlimit_start:
 * neither seeding time nor idle time counts it.  No-op before the start
 * or once a limit is reached.
 */
void		 seedlimit_skip(struct seedlimit *, uint64_t ms);
/* The same at a clock reading: time and idle are checked too. */
enum seedlimit_reason seedlimit_check(struct seedlimit *, uint64_t uploaded,
		    uint64_t now);
/*
 * When seedlimit_check is next due for time or idle (UINT64_MAX: never,
 * or already reached).  Uploads move the idle deadline later: a check
 * that comes early finds nothing and gives the new deadline.
 */
uint64_t	 seedlimit_deadline(const struct seedlimit *);
enum seedlimit_reason seedlimit_reached(const struct seedlimit *);
/* "ratio", "time", "idle" ("none"). */
const char	*seedlimit_reason_name(enum seedlimit_reason);
/*
 * The reached limit in words, for the user, e.g. "ratio 1.00 reached
 * (64.0 MiB up)", "seed time 0.5 min reached (30 s seeding, 1.2 MiB up)",
 * "seed idle 1 min reached (nothing up for 60 s, 0 B up)".  Writes at
 * most len bytes (SEEDLIMIT_WHYLEN is enough), NUL-terminated.
 */
void		 seedlimit_describe(const struct seedlimit *, char *buf,
		    size_t len);

#endif /* GT_SEEDLIMIT_H */
