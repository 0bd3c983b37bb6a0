/*
 * sbcd's process state, shared by main.c (wiring, signals, the sampler's
 * timer), sbcd_cmds.c and sbcd_exec.c (the control-socket commands) and
 * metrics.c. Internal to the sbcd executable. Every field is read and
 * written on the main thread only (libevent runs the signals, the timers,
 * the control socket and the metrics endpoint there), so none needs a
 * lock. The SIP thread never sees this struct: it shares only the objects
 * behind `counters` (atomics) and `b2bua` (whose functions message it),
 * each safe to call from the main thread as its header says.
 */
#ifndef SBC_SBCD_H
#define SBC_SBCD_H

#include "licensing/agent.h"
#include "sbc/config.h"
#include "sbc/b2bua.h"
#include "sbc/counters.h"
#include "stats/stats.h"
#include "stats/store.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct evbuffer;
struct sbc_sampler;

#define SBCD_VERSION "0.1.0"
/* `Smart Agent for Licensing:` in show license all. */
#define SBCD_AGENT_VERSION "sbcd " SBCD_VERSION

struct sbcd {
	const char *config_path;
	/* The configuration in use (a copy of the SIP thread's), for the
	 * show commands; NULL if the copy failed. */
	struct sbc_config *running;
	const char *state_dir;
	char hostname[64];
	struct event_base *base;
	struct sbc_counters *counters;
	struct sbc_b2bua *b2bua;
	sqlite3 *db;
	struct stats *stats;
	struct stats_store *store;
	struct lic_key *device_key;
	struct lic_agent *agent;
	struct sbc_sampler *sampler; /* ticked by ev_sample */
	struct event *ev_sample;
	struct event *ev_drain;
	struct sbc_ctl *ctl;
	bool test_clock;
	int lock_fd; /* flock on STATE_DIR/sbcd.lock; 0 = none */
	int64_t test_offset_ms; /* saved in STATE_DIR/test-clock */
	unsigned shutdown_grace_s;
	int64_t drain_deadline_ms;
	bool draining;
	struct sbc_metrics *metrics;	       /* NULL: not configured */
	/* `license smart trust`: the reply waiting for the outcome. */
	struct sbc_ctl_pending *trust_wait;
	int64_t trust_wait_until_ms;	       /* clk_mono_ms() bound */
	int64_t started_mono_ms;	       /* clk_mono_ms at start */
};

/* How long `license smart trust` waits for the server's answer. */
#define SBCD_TRUST_WAIT_MS 10000

/* Answer a waiting `license smart trust` once the agent has the outcome
 * (or the wait is over, or sbcd stops). Called after each agent tick. */
void sbcd_trust_check(struct sbcd *d, bool stopping);

/* Re-read the configuration file (SIGHUP, `reload`); 0 or -1 (logged,
 * the old configuration stays). */
int sbcd_reload(struct sbcd *d);

/* One sampler tick now: the usage tables and the licensing agent catch
 * up with the clock (the 1 Hz timer, and right after a test-clock jump). */
void sbcd_sample(struct sbcd *d);

/* Move the test clock forward by ms (saved first); 0 or -1. */
int sbcd_advance_test_clock(struct sbcd *d, int64_t ms);

struct sbc_cmd_req;
/* The exec commands of sbcd_exec.c (show version, show clock, show
 * license udi/eventlog/tech support, show call-home smart-licensing,
 * license smart save usage, clear call voice [causecode]): a status. */
int sbcd_exec_command(struct sbcd *d, const struct sbc_cmd_req *r,
		      struct evbuffer *out);

/* A control-socket request (sbc_ctl_fn). */
int sbcd_command(void *arg, const char *line, const void *data, size_t len,
		 struct evbuffer *out);

#endif
