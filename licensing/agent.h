/*
 * lic agent: the Smart Licensing Using Policy agent inside sbcd
 * (docs/internals/licensing-agent.md). It turns the hourly values
 * of the usage tables into usage records, reports them signed, installs
 * acknowledgements and policies, watches the ACK deadline and drives the
 * SIP-service flag for the releases whose policy shuts service down.
 *
 * Driven by sbcd's main thread (the thread that runs the event_base, the
 * one that owns the SQLite connection):
 *
 *   lic_agent_hour(a, hour_start, values, now)   each closed usage hour
 *   lic_agent_tick(a, now)                       every second
 *
 * plus the exec commands (save usage, import, trust, HA role). Every
 * decision takes `now` (Unix seconds, UTC) from the caller; nothing here
 * reads a clock. The transport is a table of function pointers, so tests
 * inject a fake one; sbcd uses the lic_http-based one (transport.h).
 *
 * All state that must survive a restart (period tracker, usage times,
 * records, reports, ACKs, policy, trust) is in the lic_store; the agent's
 * memory holds only caches of it and what is in flight.
 */
#ifndef SBC_LIC_AGENT_H
#define SBC_LIC_AGENT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "licensing/deadline.h"
#include "licensing/keys.h"
#include "licensing/period.h"
#include "licensing/policy.h"
#include "licensing/release.h"
#include "licensing/report.h"
#include "licensing/transport.h"
#include "licensing/usagefile.h"

struct event_base;
struct lic_agent;
struct lic_store_summary;
struct lic_store_record;

/* Defaults of the UDI when the configuration gives none. */
#define LIC_AGENT_DEFAULT_PID "SBC-SW"
/* Serial number: "SBC" + the first 8 hex digits of the device key id,
 * uppercased (11 characters, like a Cisco serial). */
#define LIC_AGENT_SN_PREFIX "SBC"
/* Release text reported when `license release` is not configured. */
#define LIC_AGENT_NEWEST_RELEASE "newest"
/* Reporting push interval sbcd uses without `license smart usage
 * interval` (the agent itself takes 0 as "push as periods close"). */
#define LIC_AGENT_DEFAULT_PUSH_DAYS 30

/* Push retries: lic_backoff_delay(attempt, BASE, CAP, random). */
#define LIC_AGENT_RETRY_BASE_S 60u
#define LIC_AGENT_RETRY_CAP_S (6u * 3600u)
/* A 4xx answer is not retried as is: the report waits this long. */
#define LIC_AGENT_REJECTED_RETRY_S 86400
/* cslu: a report accepted with 202 is pushed again after this long
 * unless its ACK was installed meanwhile. */
#define LIC_AGENT_DEFERRED_RETRY_S 86400
/* Acknowledged records are pruned from the store after this long. */
#define LIC_AGENT_RETENTION_S (30 * 86400)
/* Timeout of one push, seconds. */
#define LIC_AGENT_PUSH_TIMEOUT_S 60u
/* Longest `license smart url` kept. */
#define LIC_AGENT_URL_MAX 2048u

struct lic_agent_config {
	const char *release;	    /* `license release`; NULL/"" = newest */
	unsigned periodicity_hours; /* 0 = 7 days; 1..7 raised to 8 (the
				       caller logs LIC_PERIOD_MIN_MSG);
				       8..23, or a multiple of 24 up to 720 */
	enum lic_transport_kind transport;
	const char *url;	      /* `license smart url` (smart, cslu) */
	const char *ca_file;	      /* `license smart ca-file` */
	const char *proxy_host;	      /* `license smart proxy address`;
					 NULL/"" = direct */
	unsigned proxy_port;	      /* `license smart proxy port` */
	unsigned usage_interval_days; /* days between pushes; 0 = push each
					 record as its period closes */
	const char *hostname;	      /* NULL/"" = not reported */
	bool privacy_hostname;	      /* `license smart privacy hostname` */
	const char *pid;	      /* UDI; NULL = LIC_AGENT_DEFAULT_PID */
	const char *sn;		      /* NULL = derived from the device key */
	const char *ha_group;	      /* NULL/"" = not in an HA group */
	enum lic_ha_role role;

	/* Called with false when new non-VGW calls must be refused (503),
	 * with true when they may be accepted again. May be NULL. */
	void (*set_service)(void *arg, bool up);
	void *service_arg;

	/*
	 * The transport. NULL: for smart and cslu the agent builds the
	 * lic_http one from base, url and ca_file. Not NULL (tests): the
	 * agent owns ops_ctx from then on: it calls ops->free(ops_ctx)
	 * (when not NULL) from lic_agent_free, or at once for transport
	 * off; not when lic_agent_new fails.
	 */
	const struct lic_transport_ops *ops;
	void *ops_ctx;

	/* The event log's clock, Unix milliseconds (sbcd: clk_wall_ms);
	 * NULL = the `now` of each call, to the second. */
	int64_t (*clock_ms)(void);
};

/*
 * A new agent on the lic_ tables of `db` (borrowed: it must outlive the
 * agent, like device_key and base). Loads the period state, usage times,
 * policy and trust from the store. base may be NULL when the transport is
 * off or ops are given. Returns NULL with a reason in err on a bad
 * configuration (release, periodicity, UDI), a store that does not open,
 * or a transport that cannot be built (unreadable CA file, bad URL).
 * The period tracker of a first start begins at the first hour/tick call.
 */
struct lic_agent *lic_agent_new(const struct lic_agent_config *cfg,
				sqlite3 *db, const struct lic_key *device_key,
				struct event_base *base, char *err,
				size_t errlen);

/* Cancels a push in flight (the report stays pending in the store), frees
 * the transport and the agent; NULL-safe, NULLs *ap. */
void lic_agent_free(struct lic_agent **ap);

/*
 * The usage tables closed the hour [hour_start, hour_start + 3600) with
 * value[] in enum lic_class order (STANDARD, ENHANCED, REDUNDANT, VGW,
 * AGGREGATE). Feeds the period tracker, closes periods that are due at
 * the hour's end and applies the 25% report-on-change rule there; closed
 * periods go to the store as records atomically with the next period
 * state. The first hour with a nonzero value sets first use. Feeding an
 * hour twice is harmless (the period keeps maxima). Returns 0; -1 for bad
 * arguments; LIC_AGENT_RETRY when the store failed (logged; the tracker
 * is reloaded from the store; no store work for a hold of 60 s doubling
 * to an hour) or while such a hold lasts (not logged again): feed the
 * same hour again later, before any later hour.
 */
#define LIC_AGENT_RETRY (-2)
int lic_agent_hour(struct lic_agent *a, int64_t hour_start,
		   const uint32_t value[LIC_CLASS_COUNT], int64_t now);

/*
 * Once a second. Cheap (integer compares) unless something is due:
 * a push reply to handle, a period end, a push, a retry, the ACK
 * deadline, a daily warning, pruning.
 */
void lic_agent_tick(struct lic_agent *a, int64_t now);

/*
 * `license smart save usage {unreported | all | days <N>}`: put the
 * unreported records in reports (signed), then make the usage file
 * (usagefile.h, docs/licensing-protocol.md section 5) of the stored
 * reports `mode` selects (days: 1..LIC_AGENT_SAVE_DAYS_MAX, else
 * ignored; at most LIC_ACK_MAX_IDS reports) and mark those reports
 * saved. Works without trust and in any role. Each returns the number of
 * reports, or -1 with a reason (nothing to save included).
 *
 * lic_agent_save_usage_sel: the text in *text (malloc'd, *len bytes) for
 * a caller that writes it where the operator said (sbcd hands it to
 * sbcctl, which writes with the operator's rights); the reports are
 * marked before it is written. lic_agent_save_usage_buf: the same for
 * `unreported`. lic_agent_save_usage: `unreported`, written to `path`
 * (atomically) and marked once written.
 */
#define LIC_AGENT_SAVE_DAYS_MAX LIC_SAVE_DAYS_MAX
int lic_agent_save_usage_sel(struct lic_agent *a, enum lic_save_mode mode,
			     unsigned days, int64_t now, char **text,
			     size_t *len, char *err, size_t errlen);
int lic_agent_save_usage_buf(struct lic_agent *a, int64_t now, char **text,
			     size_t *len, char *err, size_t errlen);
int lic_agent_save_usage(struct lic_agent *a, const char *path, int64_t now,
			 char *err, size_t errlen);

/* `license smart import` of bytes the caller read (name for messages). */
int lic_agent_import_buf(struct lic_agent *a, const char *name,
			 const char *buf, size_t len, int64_t now, char *err,
			 size_t errlen);

/*
 * `license smart import <path>`: an ACK file or a policy file, opened with
 * the pinned server key (lic_usagefile_import) and installed as an ACK in
 * a push reply would be; a policy file issued before the one installed is
 * refused. Returns 0, or -1 with a reason (logged too) and nothing
 * changed.
 */
int lic_agent_import(struct lic_agent *a, const char *path, int64_t now,
		     char *err, size_t errlen);

/*
 * Install trust: pin the server public key (PEM) with its trust code,
 * bound to this agent's UDI, replacing any trust installed before (the
 * `force` decision is the caller's). Returns 0 or -1 with a reason.
 */
int lic_agent_set_trust(struct lic_agent *a, const char *server_pubkey_pem,
			const char *trust_code, int64_t now, char *err,
			size_t errlen);

/*
 * `license smart trust idtoken <token> local [force]`: send a trust
 * request (docs/licensing-protocol.md 3.4) over the transport; the answer
 * is installed at a later tick: the server key is pinned, the trust code
 * and the policy that came with it are stored, or the failure is logged
 * (%SMART_LIC-3-TRUST_CODE_INSTALL_FAILED). Without `force` an installed trust
 * is not replaced. Returns 0 when the request went out, -1 with a reason
 * (no transport that carries trust, one already in flight, ...).
 */
int lic_agent_trust(struct lic_agent *a, const char *token, bool force,
		    int64_t now, char *err, size_t errlen);
bool lic_agent_trust_in_flight(const struct lic_agent *a);
/*
 * A reload changed `license smart url`, `ca-file` or the proxy: a new
 * HTTPS transport to them replaces the old one. Whatever was in flight is
 * cancelled and handled at the next tick like a failed exchange (retried
 * per the backoff; a waiting trust request fails). Only for an agent on
 * its own HTTPS transport (smart or cslu, no ops given). 0, or -1 with a
 * reason and the old transport kept.
 */
int lic_agent_set_endpoint(struct lic_agent *a, struct event_base *base,
			   const char *url, const char *ca_file,
			   const char *proxy_host, unsigned proxy_port,
			   char *err, size_t errlen);

/* Why the last trust request failed (what TRUST_CODE_INSTALL_FAILED logged);
 * "" while one is in flight, after a success or before any. */
const char *lic_agent_trust_error(const struct lic_agent *a);

/*
 * The HA role changed. Becoming active (from standby or standalone)
 * starts a new period at now; a standby unit never reports. Returns 0, or
 * -1 when the new period state could not be stored.
 */
int lic_agent_set_role(struct lic_agent *a, enum lic_ha_role role,
		       int64_t now);

/*
 * `license smart sync all`: at the next tick, put unreported records in a
 * report and push every pending report once, one after the other,
 * whatever the schedule and the retry backoff say (cslu: the ACK poll
 * runs at once and after each accepted push). -1 with a reason when this
 * agent cannot push (transport off, no trust, standby).
 */
int lic_agent_sync(struct lic_agent *a, char *err, size_t errlen);

/* Read-only views for `show license status` (valid until the next call
 * into the agent). */
const struct lic_usage_times *lic_agent_times(const struct lic_agent *a);
const struct lic_policy *lic_agent_policy(const struct lic_agent *a);
const struct lic_udi *lic_agent_udi(const struct lic_agent *a);
const struct lic_release *lic_agent_release(const struct lic_agent *a);
enum lic_ha_role lic_agent_role(const struct lic_agent *a);
bool lic_agent_service_up(const struct lic_agent *a);
bool lic_agent_trusted(const struct lic_agent *a);
bool lic_agent_push_in_flight(const struct lic_agent *a);
enum lic_transport_kind lic_agent_transport(const struct lic_agent *a);
const char *lic_agent_url(const struct lic_agent *a); /* "" when none */
bool lic_agent_privacy_hostname(const struct lic_agent *a);
/* The HTTP proxy reports go through ("" = direct) and its port. */
const char *lic_agent_proxy(const struct lic_agent *a, unsigned *port);
/* The configured hostname ("" when none). */
const char *lic_agent_hostname(const struct lic_agent *a);
/* The accounts of the trust answer; "" before trust. */
const char *lic_agent_smart_account(const struct lic_agent *a);
const char *lic_agent_virtual_account(const struct lic_agent *a);
/* When the trust in use was installed; 0 = no trust. */
int64_t lic_agent_trust_installed(const struct lic_agent *a);
/* Next ACK deadline / next report push (LIC_TIME_NONE = none). */
int64_t lic_agent_next_deadline(const struct lic_agent *a);
int64_t lic_agent_next_push(const struct lic_agent *a, int64_t now);
/* The open period's [start, end); 0 before the first hour/tick call. */
int64_t lic_agent_period_start(const struct lic_agent *a);
int64_t lic_agent_period_end(const struct lic_agent *a);
/* What each tag would be recorded with if the open period closed now
 * (all 0 before the first hour): the hours added, and the hour still open
 * as last given to lic_agent_open_hour. */
void lic_agent_usage(const struct lic_agent *a, int64_t now,
		     uint32_t count[LIC_TAG_COUNT]);
/*
 * The hour still open, as far as it goes (stats_open_hour: its start and
 * value per class so far); hour_start -1 = none. Called by the sampler
 * every second so that `show license usage` counts the calls up now, not
 * only the hours closed. Changes no record and nothing stored.
 */
void lic_agent_open_hour(struct lic_agent *a, int64_t hour_start,
			 const uint32_t value[LIC_CLASS_COUNT]);
/* The stored records, counted (licensing/store.h). 0 or -1 with a reason. */
int lic_agent_record_summary(const struct lic_agent *a,
			     struct lic_store_summary *out, char *err,
			     size_t errlen);
/* The newest stored records of a tag, newest first (licensing/store.h). */
int lic_agent_recent_records(const struct lic_agent *a, enum lic_tag tag,
			     struct lic_store_record *out, size_t max,
			     size_t *n, char *err, size_t errlen);
/* The configured measurement period. */
struct lic_periodicity lic_agent_periodicity(const struct lic_agent *a);
/* The `Usage Reporting:` block (lic_usage_render with the agent's data). */
int lic_agent_render_usage(const struct lic_agent *a, int64_t now, FILE *out);

/* ---- event log, counters ----------------------------------------------- */

struct lic_store_event;

/*
 * Record one licensing event for `show license eventlog`, persistently
 * (the lic_event table, bounded as licensing/store.h says). name: an IOS-style
 * event name, SAEVT_ then [A-Z0-9_] (at most 48 characters); fmt/...:
 * its attributes as printed, printf-style, IOS habit `key="value"`
 * separated by one space (NULL or "" for none; cut at 512 bytes,
 * control characters become spaces). The time is cfg->clock_ms() when
 * that falls in the second `now` (Unix seconds), else now. Main thread.
 * Returns 0, or -1 when the event could not be stored (logged once;
 * the agent carries on).
 */
int lic_agent_event(struct lic_agent *a, int64_t now, const char *name,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The newest max events at or after since_ms, oldest first (licensing/store.h). */
int lic_agent_events(const struct lic_agent *a, int64_t since_ms,
		     struct lic_store_event *out, size_t max, size_t *n,
		     char *err, size_t errlen);

/* What the agent did since it started (`show license tech support`). */
struct lic_agent_counters {
	uint64_t reports_sent;	 /* pushes the server answered 2xx */
	uint64_t retries_sent;	 /* of those, pushes of a report tried before */
	uint64_t push_failures;	 /* pushes that failed (each is retried) */
	uint64_t acks_installed; /* ACKs installed (push, poll, import) */
	char last_error[256];	 /* "" when none */
	int64_t last_error_at;	 /* Unix seconds; 0 when none */
};
const struct lic_agent_counters *
lic_agent_counters(const struct lic_agent *a);

#endif
