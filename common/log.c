#include "log.h"

#include "clk.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 1024

static _Atomic int log_max_level = LOG_LVL_INFO;
static _Atomic int log_syslog;

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
	char stamp[32];
	struct tm tm;
	int64_t now_ms;
	time_t secs;
	size_t len;
	int n;

	if ((int)level > atomic_load(&log_max_level))
		return;
	now_ms = clk_wall_ms();
	secs = (time_t)(now_ms / 1000);
	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03dZ %%%s-%d-%s: ", stamp,
		     (int)(now_ms % 1000), facility, (int)level, mnemonic);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof(line) - len ? (size_t)n
						      : sizeof(line) - len - 1;
	if (atomic_load(&log_syslog)) {
		/* syslog gets the line without our timestamp. */
		const char *body = strchr(line, '%');

		syslog((int)level, "%s", body ? body : line);
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void log_msg(enum log_level level, const char *facility, const char *mnemonic,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, facility, mnemonic, fmt, ap);
	va_end(ap);
}
