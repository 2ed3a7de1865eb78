/*
 * clockshim.c - an LD_PRELOAD library for the interop tests: the wall
 * clock (CLOCK_REALTIME and its kin, gettimeofday, time) is moved by the
 * number of seconds written in the file $CLOCKSHIM_FILE, read again at each
 * call, so that a test can make the clock jump back or forward while the
 * process runs.  The monotonic clocks are left alone.  The real clocks are
 * read with the system call itself (no dlsym, no vDSO).
 *
 * Build: cc -shared -fPIC -O2 -o clockshim.so clockshim.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long
shim_offset(void)
{
	const char	*path = getenv("CLOCKSHIM_FILE");
	char		 buf[64];
	ssize_t		 n;
	int		 fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

static int
shim_wall(clockid_t id)
{
	return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE ||
#ifdef CLOCK_REALTIME_ALARM
	    id == CLOCK_REALTIME_ALARM ||
#endif
#ifdef CLOCK_TAI
	    id == CLOCK_TAI ||
#endif
	    0;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	long	r;

	r = syscall(SYS_clock_gettime, id, ts);
	if (r == 0 && shim_wall(id))
		ts->tv_sec += shim_offset();
	return (int)r;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec	ts;

	if (tz != NULL) {
		struct timezone *z = tz;

		z->tz_minuteswest = 0;
		z->tz_dsttime = 0;
	}
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *t)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
