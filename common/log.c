#include "common/log.h"

#include "common/clk.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>



static _Atomic int log_max_level = LOG_LVL_INFO;
static _Atomic int log_syslog;
static _Atomic unsigned log_debugs; /* bit per enum log_debug */
static _Atomic unsigned log_stamp;  /* LOG_STAMP_* bits; 0 = ISO 8601 */

/* The newest lines, for `show logging`: a ring under a mutex (lines come
 * from every thread). */
static struct {
	pthread_mutex_t lock;
	char line[LOG_RING_LINES][LOG_LINE_MAX];
	size_t next, count;
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void ring_add(const char *line, size_t len)
{
	if (len >= LOG_LINE_MAX)
		len = LOG_LINE_MAX - 1;
	pthread_mutex_lock(&ring.lock);
	memcpy(ring.line[ring.next], line, len);
	ring.line[ring.next][len] = '\0';
	ring.next = (ring.next + 1) % LOG_RING_LINES;
	if (ring.count < LOG_RING_LINES)
		ring.count++;
	pthread_mutex_unlock(&ring.lock);
}

size_t log_recent(char *buf, size_t size)
{
	size_t i, off = 0, first;

	if (buf == NULL || size == 0)
		return 0;
	buf[0] = '\0';
	pthread_mutex_lock(&ring.lock);
	first = (ring.next + LOG_RING_LINES - ring.count) % LOG_RING_LINES;
	for (i = 0; i < ring.count; i++) {
		const char *l = ring.line[(first + i) % LOG_RING_LINES];
		size_t n = strlen(l);

		if (off + n + 1 >= size)
			break; /* whole lines only */
		memcpy(buf + off, l, n);
		off += n;
		buf[off++] = '\n';
	}
	pthread_mutex_unlock(&ring.lock);
	buf[off < size ? off : size - 1] = '\0';
	return off;
}

size_t log_recent_count(void)
{
	size_t n;

	pthread_mutex_lock(&ring.lock);
	n = ring.count;
	pthread_mutex_unlock(&ring.lock);
	return n;
}

void log_debug_set(enum log_debug d, bool on)
{
	if (on)
		atomic_fetch_or(&log_debugs, 1u << d);
	else
		atomic_fetch_and(&log_debugs, ~(1u << d));
}

bool log_debug_on(enum log_debug d)
{
	return (atomic_load(&log_debugs) >> d) & 1u;
}

bool log_syslog_on(void)
{
	return atomic_load(&log_syslog) != 0;
}

static int format_stamp(char *line, size_t size, size_t *syslog_skip);
static void emit(char *line, size_t len, size_t skip, int level,
		 const char *fmt, va_list ap);

void log_open(const char *ident, int use_syslog)
{
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_syslog, use_syslog ? 1 : 0);
}

void log_close(void)
{
	if (atomic_exchange(&log_syslog, 0))
		closelog();
}

void log_set_level(enum log_level max)
{
	atomic_store(&log_max_level, (int)max);
}

void log_vmsg(enum log_level level, const char *facility, const char *mnemonic,
	      const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len, skip;
	int n;

	if ((int)level > atomic_load(&log_max_level))
		return;
	n = format_stamp(line, sizeof(line), &skip);
	if (n < 0)
		return;
	len = (size_t)n;
	n = snprintf(line + len, sizeof(line) - len, "%%%s-%d-%s: ", facility,
		     (int)level, mnemonic);
	if (n < 0)
		return;
	len += (size_t)n < sizeof(line) - len ? (size_t)n
					      : sizeof(line) - len - 1;
	emit(line, len, skip, (int)level, fmt, ap);
}

void log_set_stamp(unsigned flags)
{
	atomic_store(&log_stamp, flags);
}

/*
 * The timestamp that starts every line. By default ISO 8601 in UTC and a
 * space ("2026-12-07T15:10:01.123Z "), which syslog does not get (it
 * stamps lines itself). With LOG_STAMP_IOS, IOS's `service timestamps log
 * datetime` form and ": " ("Dec  7 15:10:01.123 UTC: "), on syslog lines
 * too, as an IOS box sends them. Returns the prefix length and, in
 * *syslog_skip, how much of it syslog leaves out.
 */
static int format_stamp(char *line, size_t size, size_t *syslog_skip)
{
	unsigned f = atomic_load(&log_stamp);
	char stamp[48], ms[8] = "";
	struct tm tm;
	int64_t now_ms;
	time_t secs;
	int n;

	now_ms = clk_wall_ms();
	secs = (time_t)(now_ms / 1000);
	gmtime_r(&secs, &tm);
	if (!(f & LOG_STAMP_IOS)) {
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(line, size, "%s.%03dZ ", stamp,
			     (int)(now_ms % 1000));
		*syslog_skip = n > 0 ? (size_t)n : 0;
		return n;
	}
	strftime(stamp, sizeof(stamp),
		 f & LOG_STAMP_YEAR ? "%b %e %Y %H:%M:%S" : "%b %e %H:%M:%S",
		 &tm);
	if (f & LOG_STAMP_MSEC)
		snprintf(ms, sizeof(ms), ".%03d", (int)(now_ms % 1000));
	*syslog_skip = 0;
	return snprintf(line, size, "%s%s%s: ", stamp, ms,
			f & LOG_STAMP_TZ ? " UTC" : "");
}

/* Finish a line (prefix of len bytes in line) with fmt and write it to
 * stderr, the ring and, when on, syslog. */
static void emit(char *line, size_t len, size_t skip, int level,
		 const char *fmt, va_list ap)
{
	int n = vsnprintf(line + len, LOG_LINE_MAX - len, fmt, ap);

	if (n > 0)
		len += (size_t)n < LOG_LINE_MAX - len ? (size_t)n
						      : LOG_LINE_MAX - len - 1;
	if (atomic_load(&log_syslog))
		syslog(level, "%s", line + (skip < len ? skip : 0));
	ring_add(line, len);
	if (len >= LOG_LINE_MAX - 1)
		len = LOG_LINE_MAX - 2;
	line[len++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void log_debug(enum log_debug d, const char *where, const char *fmt, ...)
{
	static const char *const prefix[] = {[LOG_DEBUG_CUBE_SL] = "CUBE-SL"};
	char line[LOG_LINE_MAX];
	va_list ap;
	size_t len, skip;
	int n;

	if (!log_debug_on(d))
		return;
	n = format_stamp(line, sizeof(line), &skip);
	if (n < 0)
		return;
	len = (size_t)n;
	n = snprintf(line + len, sizeof(line) - len, "//%s/Info/%s: ",
		     prefix[d], where);
	if (n < 0)
		return;
	len += (size_t)n < sizeof(line) - len ? (size_t)n
					      : sizeof(line) - len - 1;
	va_start(ap, fmt);
	emit(line, len, skip, LOG_LVL_DEBUG, fmt, ap);
	va_end(ap);
}

void log_msg(enum log_level level, const char *facility, const char *mnemonic,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, facility, mnemonic, fmt, ap);
	va_end(ap);
}
