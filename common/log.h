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
#include <stdbool.h>
#include <stddef.h>

/* Lines `show logging` can show, and the longest line. */
#define LOG_RING_LINES 256
#define LOG_LINE_MAX 1024

/* Debugs an operator turns on (`debug license feature cube all`). */
enum log_debug {
	LOG_DEBUG_CUBE_SL, /* licensing: "//CUBE-SL/Info/<where>: ..." */
	LOG_DEBUG_COUNT
};

enum log_level {
	LOG_LVL_ERR = 3,
	LOG_LVL_WARNING = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/*
 * How lines are stamped (`service timestamps log datetime ...`): 0 is
 * ISO 8601 UTC ("2026-12-07T15:10:01.123Z "), left out of syslog lines;
 * LOG_STAMP_IOS is IOS's datetime form ("Dec  7 15:10:01: "), on syslog
 * lines too, with milliseconds, " UTC" and the year as the other bits say.
 */
#define LOG_STAMP_IOS 1u
#define LOG_STAMP_MSEC 2u  /* msec */
#define LOG_STAMP_TZ 4u	   /* show-timezone */
#define LOG_STAMP_YEAR 8u  /* year */
void log_set_stamp(unsigned flags);

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

/*
 * The newest lines (at most LOG_RING_LINES, oldest first, '\n' after
 * each) into buf, whole lines only, NUL-terminated; returns the bytes
 * written. Lines of every level that was logged, debug lines included.
 */
size_t log_recent(char *buf, size_t size);
size_t log_recent_count(void);
bool log_syslog_on(void);

/* Turn a debug on or off; log_debug() lines appear only while it is on. */
void log_debug_set(enum log_debug d, bool on);
bool log_debug_on(enum log_debug d);
void log_debug(enum log_debug d, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
