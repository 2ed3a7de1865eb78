/*
 * sha1speed.c - the machine's in-memory SHA-1 throughput with gtorrent's
 * best kernel: sha1_multi() (src/crypto.c), its kernels timed first as
 * gtorrent times them (sha1_kernel_tune), on N threads, each hashing 16
 * buffers of 256 KiB (a piece each) again and again for SECONDS.  Prints
 * "sha1_multi threads N MiB/s X" (all threads together).  Those 4 MiB a
 * thread stay in the CPU's caches; with MIB, the threads instead share
 * out one buffer of MIB MiB (written first, so in memory), 16 pieces at a
 * time as a recheck reads them, and the best of three passes is printed
 * as "sha1_multi threads N stream MIB MiB/s X": what a recheck of data
 * already in memory would reach with no I/O and no process start.  Built
 * by bench_download.py into its work folder (case 8, the recheck):
 *   cc -O2 -pthread -Iinclude tests/bench/sha1speed.c src/crypto.c
 *       src/util.c -lcrypto
 * Usage: sha1speed [THREADS [SECONDS [MIB]]]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

#define PIECE	(256 * 1024)
#define NBUF	16

static atomic_bool	 stop;

struct job {
	pthread_t	 th;
	uint64_t	 bytes;
};

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *
run(void *arg)
{
	struct job	*j = arg;
	uint8_t		*mem, (*out)[SHA1_LEN];
	const uint8_t	*msgs[NBUF];
	size_t		 i;

	mem = malloc((size_t)NBUF * PIECE);
	out = malloc(NBUF * sizeof(*out));
	if (mem == NULL || out == NULL)
		abort();
	for (i = 0; i < (size_t)NBUF * PIECE; i++)
		mem[i] = (uint8_t)(i * 2654435761u >> 13);
	for (i = 0; i < NBUF; i++)
		msgs[i] = mem + i * PIECE;
	while (!atomic_load(&stop)) {
		sha1_multi(msgs, PIECE, NBUF, out);
		j->bytes += (uint64_t)NBUF * PIECE;
	}
	free(out);
	free(mem);
	return NULL;
}

/* The stream mode: one buffer, its batches of 16 pieces shared out. */
struct stream {
	const uint8_t	*mem;
	size_t		 nbatches;
	atomic_size_t	 next;
};

static void *
stream_run(void *arg)
{
	struct stream	*st = arg;
	uint8_t		(*out)[SHA1_LEN];
	const uint8_t	*msgs[NBUF];
	size_t		 b, i;

	if ((out = malloc(NBUF * sizeof(*out))) == NULL)
		abort();
	while ((b = atomic_fetch_add(&st->next, 1)) < st->nbatches) {
		for (i = 0; i < NBUF; i++)
			msgs[i] = st->mem + (b * NBUF + i) * PIECE;
		sha1_multi(msgs, PIECE, NBUF, out);
	}
	free(out);
	return NULL;
}

static int
stream_main(int n, size_t mib)
{
	struct stream	 st = { 0 };
	pthread_t	*th;
	uint8_t		*mem;
	size_t		 len, i;
	double		 best = 0, t0, t;
	int		 pass, k;

	st.nbatches = mib * 1024 * 1024 / ((size_t)NBUF * PIECE);
	len = st.nbatches * NBUF * PIECE;
	if (st.nbatches == 0 || (mem = malloc(len)) == NULL ||
	    (th = calloc((size_t)n, sizeof(*th))) == NULL)
		return 1;
	for (i = 0; i < len; i++)
		mem[i] = (uint8_t)(i * 2654435761u >> 13);
	st.mem = mem;
	for (pass = 0; pass < 3; pass++) {
		atomic_store(&st.next, 0);
		t0 = now_s();
		for (k = 0; k < n; k++)
			if (pthread_create(&th[k], NULL, stream_run, &st) != 0)
				return 1;
		for (k = 0; k < n; k++)
			pthread_join(th[k], NULL);
		t = (double)len / (1024.0 * 1024.0) / (now_s() - t0);
		if (t > best)
			best = t;
	}
	printf("sha1_multi threads %d stream %zu MiB/s %.1f\n", n, mib, best);
	free(th);
	free(mem);
	return 0;
}

int
main(int argc, char **argv)
{
	struct job	*jobs;
	struct timespec	 ts;
	double		 secs = 3.0, t0, t1;
	uint64_t	 total = 0;
	int		 n = 2, i, mib = 0;

	if (argc > 1)
		n = atoi(argv[1]);
	if (argc > 2)
		secs = atof(argv[2]);
	if (argc > 3)
		mib = atoi(argv[3]);
	if (n < 1 || n > 1024 || secs <= 0 || mib < 0 || mib > 65536) {
		fprintf(stderr, "usage: sha1speed [THREADS [SECONDS [MIB]]]\n");
		return 2;
	}
	sha1_kernel_tune(now_ns);
	if (mib > 0)
		return stream_main(n, (size_t)mib);
	jobs = calloc((size_t)n, sizeof(*jobs));
	if (jobs == NULL)
		return 1;
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (pthread_create(&jobs[i].th, NULL, run, &jobs[i]) != 0)
			return 1;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	atomic_store(&stop, true);
	for (i = 0; i < n; i++) {
		pthread_join(jobs[i].th, NULL);
		total += jobs[i].bytes;
	}
	t1 = now_s();
	printf("sha1_multi threads %d MiB/s %.1f\n", n,
	    (double)total / (1024.0 * 1024.0) / (t1 - t0));
	free(jobs);
	return 0;
}
