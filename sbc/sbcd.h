/*
 * sbcd's process state, shared by main.c (wiring, signals, sampler) and
 * sbcd_cmds.c (the control-socket commands). Internal to the sbcd
 * executable; every field is owned by the main thread.
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

#define SBCD_VERSION "0.1.0"
/* `Smart Agent for Licensing:` in show license all. */
#define SBCD_AGENT_VERSION "sbcd " SBCD_VERSION

/* Hours waiting for the agent: as many as the hours table holds, which is
 * also what a restart feeds again. */
#define SBCD_HOURS_QUEUED 72

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
	/* Hours the tables closed in this tick, for the licensing agent. */
	/*
	 * Closed hours not yet taken by the licensing agent, oldest first:
	 * normally one per hour, fed at once; when the agent's store fails
	 * they wait here (in order) and are fed again at the next tick.
	 */
	int64_t hour_start[SBCD_HOURS_QUEUED];
	uint32_t hour_value[SBCD_HOURS_QUEUED][STATS_CLASS_COUNT];
	size_t n_hours;
	bool hours_dropped_logged;
	int64_t store_error_logged_s;
	struct event *ev_sample;
	struct event *ev_drain;
	struct sbc_ctl *ctl;
	bool test_clock;
	int lock_fd; /* flock on STATE_DIR/sbcd.lock; 0 = none */
	int64_t test_offset_ms; /* saved in STATE_DIR/test-clock */
	unsigned shutdown_grace_s;
	int64_t drain_deadline_ms;
	bool draining;
	uint32_t last_second[SBC_CLASS_COUNT];
	uint32_t max_second_aggregate;
	uint32_t max_second[SBC_CLASS_COUNT]; /* highest last_second so far */
	uint64_t invites_seen;		       /* INVITEs in, at the last tick */
	int64_t last_tick_ms;		       /* wall clock of the last tick */
	bool clock_jumped;		       /* test clock moved since */
	uint32_t calls_last_second;	       /* INVITEs in during it */
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
 * license smart save usage, clear call voice causecode): a status. */
int sbcd_exec_command(struct sbcd *d, const struct sbc_cmd_req *r,
		      struct evbuffer *out);

/* A control-socket request (sbc_ctl_fn). */
int sbcd_command(void *arg, const char *line, const void *data, size_t len,
		 struct evbuffer *out);

#endif
