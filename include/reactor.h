/* reactor.h - the one event loop: timers, signals, deferred frees, clock */
#ifndef GT_REACTOR_H
#define GT_REACTOR_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct reactor;
struct reactor_fd;
struct reactor_timer;

struct reactor	*reactor_new(void);
void		 reactor_free(struct reactor *);
struct event_base *reactor_base(struct reactor *);

/* Runs until reactor_stop; returns 0, or -1 if libevent failed. */
int		 reactor_run(struct reactor *);
void		 reactor_stop(struct reactor *);
/*
 * Runs the callbacks ready now (a signal that came, a key, a timer due)
 * without waiting, between steps that hold the loop (the data checks);
 * 0, or -1 if libevent failed.
 */
int		 reactor_poll(struct reactor *);

/* Monotonic milliseconds (CLOCK_MONOTONIC, read on each call). */
uint64_t	 reactor_now_ms(struct reactor *);
/*
 * The same clock without a reactor, for commands that run none (create,
 * verify): no module but this one reads the clock.
 */
uint64_t	 reactor_clock_ms(void);
/* ... in nanoseconds, to time short runs (sha1_kernel_tune). */
uint64_t	 reactor_clock_ns(void);
/* Wall-clock seconds since the epoch (a .torrent's creation date). */
int64_t		 reactor_wall_s(void);

/* fn(arg) runs from the loop after the current callback returns. */
void		 reactor_defer_free(struct reactor *, void (*fn)(void *),
		    void *arg);

/* One-shot timers that can be re-armed. */
struct reactor_timer *reactor_timer_new(struct reactor *,
		    void (*cb)(void *), void *arg);
void		 reactor_timer_free(struct reactor_timer *);
void		 reactor_timer_at(struct reactor_timer *, uint64_t when_ms);
void		 reactor_timer_in(struct reactor_timer *, uint64_t ms);
void		 reactor_timer_cancel(struct reactor_timer *);
bool		 reactor_timer_pending(const struct reactor_timer *);

/* cb(arg, signo) from the loop for SIGINT/SIGTERM/... */
int		 reactor_on_signal(struct reactor *, int signo,
		    void (*cb)(void *, int), void *arg);

/*
 * cb(arg) from the loop each time fd is readable, until freed (the fd is
 * the caller's: never closed here).  NULL if libevent refused the fd.
 */
struct reactor_fd *reactor_fd_new(struct reactor *, int fd,
		    void (*cb)(void *), void *arg);
void		 reactor_fd_free(struct reactor_fd *);

#endif /* GT_REACTOR_H */
