/*
 * log: one line per event, IOS-style mnemonics.
 *
 * Lines go to stderr with a UTC timestamp (tests and foreground runs read
 * them) and, when enabled, to syslog(3). Safe from any thread: each line is
 * formatted into a local buffer and written with one write(2).
 */
#ifndef SBC_LOG_H
#define SBC_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* ident: program name for syslog; use_syslog: also send lines to syslog. */
void log_open(const char *ident, int use_syslog);
void log_close(void);
void log_set_level(enum log_level max);

/*
 * Log `fmt` under the mnemonic `facility`-`level`-`mnemonic`, e.g.
 * log_msg(LOG_LVL_NOTICE, "SBC", "START", "listening on %s", url) prints
 * "%SBC-5-START: listening on ...".
 */
void log_msg(enum log_level level, const char *facility, const char *mnemonic,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void log_vmsg(enum log_level level, const char *facility, const char *mnemonic,
	      const char *fmt, va_list ap);

#endif
