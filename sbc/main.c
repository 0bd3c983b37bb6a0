/*
 * sbcd: wires the modules together. The main thread runs libevent: signals,
 * the 1 Hz timer of the sampler (sampler.h), the control socket, metrics
 * and shutdown; the SIP thread lives in b2bua.c.
 */
#include "sbc/b2bua.h"
#include "common/clk.h"
#include "sbc/config.h"
#include "sbc/counters.h"
#include "common/db.h"
#include "common/err.h"
#include "common/fileio.h"
#include "sbc/dialpeer.h"
#include "licensing/agent.h"
#include "licensing/keys.h"
#include "common/log.h"
#include "licensing/release.h"
#include "stats/render.h"
#include "stats/stats.h"
#include "stats/store.h"
#include "sbc/ctl.h"
#include "sbc/metrics.h"
#include "sbc/sampler.h"
#include "sbc/sbcd.h"

#include <event2/event.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define STOP_LINGER_MS 2000 /* time our shutdown BYEs get to complete */
#define DRAIN_POLL_MS 100
#define SAMPLE_MARGIN_MS 15  /* sampler ticks this long after each second */

#ifdef SBC_JEMALLOC
/*
 * Read by jemalloc at start-up (MALLOC_CONF still overrides it). One arena:
 * nearly every allocation is made by the SIP thread, and the other threads'
 * few would otherwise hold pages of their own.
 */
const char *malloc_conf = "narenas:1";
#endif


static void usage(FILE *out)
{
	fprintf(out,
		"usage: sbcd -f FILE [-S STATE_DIR] [-n] [--test-clock] [-d]\n"
		"  -f FILE        configuration file (IOS style)\n"
		"  -S STATE_DIR   state directory (default: current directory)\n"
		"  -n             check the configuration file and exit\n"
		"  --test-clock   clock runs at real speed plus a settable offset\n"
		"  -d             debug logging\n"
		"  --version      print the version and exit\n");
}

/* Each config error: a plain line for `sbcd -n` (compiler style), a log
 * line otherwise. */
static void on_config_error(void *arg, const char *msg)
{
	if (*(const bool *)arg)
		fprintf(stderr, "%s\n", msg);
	else
		log_msg(LOG_LVL_ERR, "SBC", "CONFIG", "%s", msg);
}

/*
 * Load and route-check a config file; NULL with every error reported
 * (plain: to stderr as they are, else logged).
 */
static struct sbc_config *load_config(const char *path,
				      struct sbc_dptable **dp, bool plain)
{
	char err[512];
	struct sbc_config *cfg =
		sbc_config_load_each(path, on_config_error, &plain);

	if (cfg == NULL)
		return NULL;
	*dp = sbc_dptable_new(cfg, err, sizeof(err));
	if (*dp == NULL) {
		on_config_error(&plain, err);
		sbc_config_free(&cfg);
	}
	return cfg;
}

/*
 * The main thread's own copy of a config handed to the SIP thread, for
 * the show commands: its canonical text parsed again, so it is exactly
 * what runs (the file may have changed since). NULL when that fails.
 */
static struct sbc_config *config_copy(const struct sbc_config *cfg)
{
	struct sbc_config *copy = NULL;
	char *text = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	if (sbc_config_write(cfg, f) == 0 && fclose(f) == 0) {
		copy = sbc_config_parse("running-config", text, err,
					sizeof(err));
		if (copy == NULL)
			log_msg(LOG_LVL_ERR, "SBC", "CONFIG",
				"running copy: %s", err);
	} else {
		fclose(f);
	}
	free(text);
	return copy;
}

static void log_counts(struct sbcd *d)
{
	uint32_t cur[SBC_CLASS_COUNT];

	sbc_counters_current(d->counters, cur);
	log_msg(LOG_LVL_INFO, "SBC", "COUNTS",
		"wall_ms=%" PRId64 " calls=%u STANDARD=%u ENHANCED=%u "
		"REDUNDANT=%u VGW=%u AGGREGATE=%u early=%u confirmed=%u "
		"last_second_peak=%u max_second_peak=%u",
		clk_wall_ms(), sbc_b2bua_calls(d->b2bua),
		cur[SBC_CLASS_STANDARD], cur[SBC_CLASS_ENHANCED],
		cur[SBC_CLASS_REDUNDANT], cur[SBC_CLASS_VGW],
		cur[SBC_CLASS_AGGREGATE], sbc_counters_early(d->counters),
		sbc_counters_confirmed(d->counters),
		sbc_sampler_last_second(d->sampler, SBC_CLASS_AGGREGATE),
		sbc_sampler_max_second(d->sampler, SBC_CLASS_AGGREGATE));
}

/*
 * Until just after the next wall-clock second boundary. libevent times
 * on a coarse monotonic clock, so a timer may fire a few milliseconds
 * early: aimed at the boundary itself, a tick could land at x.999, close
 * nothing new, and schedule the next one a whole second later, leaving a
 * second empty (measured: one in about 100). SAMPLE_MARGIN_MS after the
 * boundary is safe from that and still samples the second just ended.
 */
static struct timeval until_next_second(void)
{
	int64_t now = clk_wall_ms();
	int64_t ms = (now / 1000 + 1) * 1000 + SAMPLE_MARGIN_MS - now;
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
			     .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	return tv;
}

/* The licensing agent takes the closed hours (sampler.h). */
static bool take_hour(void *arg, int64_t start,
		      const uint32_t value[STATS_CLASS_COUNT], int64_t now_s)
{
	return lic_agent_hour(arg, start, value, now_s) != LIC_AGENT_RETRY;
}

/* The hour still open, so that `show license usage` counts calls up now. */
static void open_hour(void *arg, int64_t start,
		      const uint32_t value[STATS_CLASS_COUNT])
{
	lic_agent_open_hour(arg, start, value);
}

void sbcd_sample(struct sbcd *d)
{
	int64_t now_ms = clk_wall_ms();

	sbc_sampler_tick(d->sampler, now_ms);
	lic_agent_tick(d->agent, now_ms / 1000);
	sbcd_trust_check(d, false);
}

static void on_sample(evutil_socket_t fd, short what, void *arg)
{
	struct sbcd *d = arg;
	struct timeval tv;

	(void)fd;
	(void)what;
	sbcd_sample(d);
	tv = until_next_second();
	evtimer_add(d->ev_sample, &tv);
}

static void on_drain_poll(evutil_socket_t fd, short what, void *arg)
{
	struct sbcd *d = arg;
	struct timeval tv = {.tv_sec = 0, .tv_usec = DRAIN_POLL_MS * 1000};

	(void)fd;
	(void)what;
	if (sbc_b2bua_calls(d->b2bua) == 0 ||
	    clk_mono_ms() >= d->drain_deadline_ms) {
		event_base_loopbreak(d->base);
		return;
	}
	evtimer_add(d->ev_drain, &tv);
}

/*
 * Write `fill`'s output to STATE_DIR/name so that a reader never sees half
 * a file (fio_write_atomic). 0, or -1 (logged).
 */
static int write_state_file(struct sbcd *d, const char *name,
			    void (*fill)(struct sbcd *, FILE *))
{
	char path[4096], err[4200];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, name);
	if (f == NULL) {
		err_set(err, sizeof(err), "%s: out of memory", path);
	} else {
		fill(d, f);
		if (fclose(f) != 0)
			err_set(err, sizeof(err), "%s: out of memory", path);
		else
			/* 0666 as fopen(3) creates: the umask decides. */
			rc = fio_write_atomic(path, text, len, 0666, err,
					      sizeof(err));
	}
	free(text);
	if (rc != 0)
		log_msg(LOG_LVL_ERR, "SBC", "STATE", "cannot write %s", err);
	return rc;
}

/* Every row of every table, as of now: table,class,row,start,value,valid. */
static void fill_tables_csv(struct sbcd *d, FILE *f)
{
	static const char *const tables[STATS_TABLE_COUNT] = {
		"seconds", "minutes", "hours", "days"};
	int64_t now_ms = clk_wall_ms();
	uint32_t v[STATS_MAX_ROWS];
	bool valid[STATS_MAX_ROWS];
	int t, c;
	size_t i, n;

	fprintf(f, "# now_ms=%" PRId64 "\ntable,class,row,start,value,valid\n",
		now_ms);
	for (t = 0; t < STATS_TABLE_COUNT; t++) {
		int64_t len = stats_table_seconds((enum stats_table)t);
		int64_t cur = (now_ms / 1000) / len * len;

		for (c = 0; c < STATS_CLASS_COUNT; c++) {
			n = stats_read(d->stats, (enum stats_class)c,
				       (enum stats_table)t, now_ms, v, valid,
				       STATS_MAX_ROWS);
			for (i = 0; i < n; i++)
				fprintf(f, "%s,%s,%zu,%" PRId64 ",%u,%d\n",
					tables[t],
					stats_class_name((enum stats_class)c),
					i + 1, cur - (int64_t)(i + 1) * len,
					v[i], valid[i] ? 1 : 0);
		}
	}
}

/* The two views of `show voice sip license stats [table]`, all classes. */
static void fill_views(struct sbcd *d, FILE *f)
{
	int64_t now_ms = clk_wall_ms();

	fprintf(f, "%s#show voice sip license stats table\n", d->hostname);
	stats_render_table(d->stats, STATS_RENDER_ALL, now_ms, d->hostname, f);
	fprintf(f, "%s#show voice sip license stats\n", d->hostname);
	stats_render_graph(d->stats, STATS_RENDER_ALL, now_ms, d->hostname, f);
}

/*
 * SIGUSR2: the usage tables into the state dir, as the operator views
 * (stats-views.txt) and as raw rows (stats-tables.csv), for tests and
 * tools that read files rather than the control socket.
 */
static void dump_stats(struct sbcd *d)
{
	if (write_state_file(d, "stats-tables.csv", fill_tables_csv) == 0 &&
	    write_state_file(d, "stats-views.txt", fill_views) == 0)
		log_msg(LOG_LVL_INFO, "SBC", "STATS",
			"usage tables written to %s/stats-views.txt and "
			"stats-tables.csv",
			d->state_dir);
}

/*
 * A reload's licensing settings. The endpoint (url, ca-file, proxy) is
 * switched in the running agent; the others (transport, release,
 * periodicity, usage interval, privacy) are set when the agent starts, so
 * they wait for a restart: `copy` (the running config) keeps the values
 * in force and lists the file's as `! pending restart:` lines.
 */
static void reload_licensing(struct sbcd *d, struct sbc_config *copy)
{
	const struct sbc_settings *s = sbc_config_settings(copy);
	bool applied = false;
	char err[512];
	size_t n;

	if (d->running == NULL)
		return;
	if (sbc_config_endpoint_differs(copy, d->running)) {
		if (d->agent != NULL &&
		    lic_agent_set_endpoint(
			    d->agent, d->base, s->license_url,
			    s->license_ca_file, s->license_proxy_host,
			    s->license_proxy_port != 0
				    ? s->license_proxy_port
				    : SBC_CFG_DEFAULT_PROXY_PORT,
			    err, sizeof(err)) == 0) {
			applied = true;
			log_msg(LOG_LVL_NOTICE, "SMART_LIC", "CONFIG",
				"license server endpoint now %s%s%s",
				s->license_url,
				s->license_proxy_host[0] ? " through proxy "
							 : "",
				s->license_proxy_host);
		} else {
			log_msg(LOG_LVL_WARNING, "SMART_LIC", "CONFIG",
				"license smart url/ca-file/proxy not applied "
				"(%s): they take effect when sbcd is "
				"restarted",
				d->agent != NULL ? err
						 : "no licensing agent");
		}
	}
	n = sbc_config_keep_licensing(copy, d->running, applied);
	if (n > 0)
		log_msg(LOG_LVL_WARNING, "SMART_LIC", "CONFIG",
			"%zu licensing setting(s) changed: they take effect "
			"when sbcd is restarted (show running-config lists "
			"them as pending)",
			n);
}

/* Listen addresses stay as bound at start: a reloaded copy's entries that
 * are the same as running ones get their bound ports. */
static void keep_bound_ports(struct sbcd *d, struct sbc_config *copy)
{
	const struct sbc_settings *n = sbc_config_settings(copy), *o;
	size_t i, j;

	if (d->running == NULL)
		return;
	o = sbc_config_settings(d->running);
	for (i = 0; i < n->n_listen; i++)
		for (j = 0; j < o->n_listen; j++)
			if (n->listen[i].transport == o->listen[j].transport &&
			    n->listen[i].port == o->listen[j].port &&
			    strcmp(n->listen[i].addr, o->listen[j].addr) == 0)
				sbc_config_set_bound_port(
					copy, i, o->listen[j].bound_port);
}

int sbcd_reload(struct sbcd *d)
{
	struct sbc_dptable *dp = NULL;
	struct sbc_config *cfg = load_config(d->config_path, &dp, false), *copy;
	char host[sizeof(d->hostname)];
	unsigned grace;
	size_t n;

	if (cfg == NULL) {
		log_msg(LOG_LVL_ERR, "SBC", "RELOAD",
			"configuration not reloaded; the old one stays");
		return -1;
	}
	copy = config_copy(cfg);
	grace = sbc_config_settings(cfg)->shutdown_grace_s;
	snprintf(host, sizeof(host), "%s", sbc_config_settings(cfg)->hostname);
	n = sbc_dptable_count(dp);
	if (sbc_b2bua_reload(d->b2bua, cfg, dp) != 0) {
		log_msg(LOG_LVL_ERR, "SBC", "RELOAD",
			"cannot hand the new configuration over; the old one "
			"stays");
		sbc_config_free(&copy);
		return -1;
	}
	/* All or nothing: the main thread's settings change only with the
	 * SIP thread's. */
	if (copy != NULL) {
		reload_licensing(d, copy);
		keep_bound_ports(d, copy);
		log_set_stamp(sbc_config_settings(copy)->log_stamp &
			      ~SBC_STAMP_LOCALTIME);
	}
	d->shutdown_grace_s = grace;
	snprintf(d->hostname, sizeof(d->hostname), "%s", host);
	log_msg(LOG_LVL_NOTICE, "SBC", "RELOAD",
		"configuration reloaded: %zu dial-peers", n);
	sbc_config_free(&d->running);
	d->running = copy;
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct sbcd *d = arg;

	(void)what;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		if (d->draining) {
			event_base_loopbreak(d->base);
			break;
		}
		d->draining = true;
		sbc_b2bua_drain(d->b2bua);
		d->drain_deadline_ms =
			clk_mono_ms() + (int64_t)d->shutdown_grace_s * 1000;
		log_msg(LOG_LVL_NOTICE, "SBC", "SHUTDOWN",
			"refusing new calls; %u calls may finish within %u s",
			sbc_b2bua_calls(d->b2bua), d->shutdown_grace_s);
		on_drain_poll(-1, 0, d);
		break;
	case SIGHUP:
		sbcd_reload(d);
		break;
	case SIGUSR1:
		log_counts(d);
		break;
	case SIGUSR2:
		dump_stats(d);
		break;
	default:
		break;
	}
}

/*
 * The device's ECDSA P-256 key (STATE_DIR/device.key, 0600), created on the
 * first start: it signs the usage reports (docs/licensing-protocol.md).
 */
static int open_device_key(struct sbcd *d, char *err, size_t errlen)
{
	char path[4096], id[LIC_KEY_ID_LEN + 1];
	int created = 0;

	snprintf(path, sizeof(path), "%s/device.key", d->state_dir);
	if (lic_key_load_or_create(path, &d->device_key, &created, err,
				   errlen) < 0)
		return -1;
	lic_key_id(d->device_key, id);
	log_msg(LOG_LVL_NOTICE, "SMART_LIC", "KEY", "device key %s %.16s",
		created ? "created" : "loaded", id);
	return 0;
}

/*
 * The state store and the usage tables in it: rows still inside each
 * table's window come back, the time sbcd was down reads as 0.
 */
static int open_state(struct sbcd *d)
{
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/sbcd.db", d->state_dir);
	d->db = db_open(path, err, sizeof(err));
	if (d->db == NULL)
		goto out_err;
	d->stats = stats_new();
	if (d->stats == NULL) {
		err_set(err, sizeof(err), "out of memory");
		goto out_err;
	}
	d->store = stats_store_new(d->db, err, sizeof(err));
	if (d->store == NULL ||
	    stats_store_load(d->store, d->stats, err, sizeof(err)) < 0)
		goto out_err;
	if (open_device_key(d, err, sizeof(err)) < 0)
		goto out_err;
	return 0;

out_err:
	log_msg(LOG_LVL_ERR, "SBC", "STATE", "%s", err);
	return -1;
}

/* Which licensing behaviour the configured release gives (docs/internals/licensing-periods.md, "Releases"). */
static void log_release(const char *text)
{
	struct lic_release r = {0};

	if (text[0])
		lic_release_parse(text, &r); /* validated by the config */
	log_msg(LOG_LVL_NOTICE, "SBC", "LICENSE",
		"license release %s: %s%s", text[0] ? text : "(newest)",
		lic_model_name(lic_release_model(&r)),
		lic_release_shuts_down(&r)
			? "; SIP service goes Down when the ACK deadline passes"
			: "");
}

/* libevent's own warnings go through our log, not straight to stderr. */
static void on_libevent_log(int severity, const char *msg)
{
	log_msg(severity >= EVENT_LOG_ERR ? LOG_LVL_ERR : LOG_LVL_WARNING,
		"SBC", "EVENT", "%s", msg);
}

/* The licensing agent lowers and raises the B2BUA's "SIP service up". */
static void on_service(void *arg, bool up)
{
	struct sbcd *d = arg;

	if (d->b2bua)
		sbc_b2bua_set_service(d->b2bua, up);
}

static enum lic_transport_kind agent_transport(enum sbc_lic_transport tp)
{
	switch (tp) {
	case SBC_LIC_TP_CSLU:
		return LIC_TRANSPORT_CSLU;
	case SBC_LIC_TP_OFF:
		return LIC_TRANSPORT_OFF;
	case SBC_LIC_TP_SMART:
		break;
	}
	return LIC_TRANSPORT_SMART;
}

/*
 * The licensing agent on the state store. A transport that cannot be set
 * up (no URL or CA file yet) must not keep calls from flowing: the agent
 * then runs offline, keeping every record for a later push or file.
 * Hours closed since the period began are fed again after a restart. If
 * the agent cannot start at all (a damaged store), sbcd carries calls
 * without it.
 */
static void open_agent(struct sbcd *d, const struct sbc_settings *s)
{
	struct lic_agent_config ac = {
		.release = s->license_release,
		.periodicity_hours = s->periodicity_hours,
		.transport = agent_transport(s->license_transport),
		.url = s->license_url,
		.ca_file = s->license_ca_file,
		.proxy_host = s->license_proxy_host,
		.proxy_port = s->license_proxy_port != 0
				      ? s->license_proxy_port
				      : SBC_CFG_DEFAULT_PROXY_PORT,
		.usage_interval_days = s->license_usage_interval_days,
		.hostname = s->hostname,
		.privacy_hostname = s->license_privacy_hostname,
		.role = LIC_HA_STANDALONE,
		.set_service = on_service,
		.service_arg = d,
		.clock_ms = clk_wall_ms,
	};
	struct sbc_sampler_hours hours = {.take = take_hour,
					  .open = open_hour};
	int64_t now_ms = clk_wall_ms();
	char err[512];

	d->agent = lic_agent_new(&ac, d->db, d->device_key, d->base, err,
				 sizeof(err));
	if (d->agent == NULL && ac.transport != LIC_TRANSPORT_OFF) {
		char why[512];

		err_set(why, sizeof(why), "%s", err);
		ac.transport = LIC_TRANSPORT_OFF;
		d->agent = lic_agent_new(&ac, d->db, d->device_key, d->base,
					 err, sizeof(err));
		if (d->agent != NULL)
			log_msg(LOG_LVL_WARNING, "SMART_LIC", "TRANSPORT",
				"license smart transport %s not usable (%s); "
				"usage is recorded and kept until it is",
				lic_transport_name(agent_transport(
					s->license_transport)),
				why);
	}
	if (d->agent == NULL) {
		/* Licensing trouble never stops calls. */
		log_msg(LOG_LVL_ERR, "SMART_LIC", "AGENT",
			"licensing agent not started: %s; calls are carried, "
			"usage is not recorded",
			err);
		return;
	}
	if (lic_release_shuts_down(lic_agent_release(d->agent)) &&
	    !lic_agent_trusted(d->agent))
		log_msg(LOG_LVL_WARNING, "SMART_LIC", "NO_TRUST",
			"release %s stops new calls when the usage ACK "
			"deadline passes, and no trust is installed yet",
			s->license_release);
	lic_agent_event(d->agent, now_ms / 1000, "SAEVT_READY",
			"version=\"%s\"", SBCD_AGENT_VERSION);
	hours.arg = d->agent;
	sbc_sampler_set_hours(d->sampler, &hours,
			      lic_agent_period_start(d->agent), now_ms);
}

/*
 * One sbcd per state directory: a second one would share the store and
 * take over the control socket. The lock (STATE_DIR/sbcd.lock) goes with
 * the process, however it ends.
 */
static int lock_state(struct sbcd *d)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/sbcd.lock", d->state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_msg(LOG_LVL_ERR, "SBC", "STATE", "cannot open %s: %s", path,
			strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_msg(LOG_LVL_ERR, "SBC", "STATE",
			"%s is in use by another sbcd (%s)", d->state_dir,
			strerror(errno));
		close(fd);
		return -1;
	}
	d->lock_fd = fd; /* held until exit */
	return 0;
}

/*
 * The test clock's offset lives in STATE_DIR/test-clock so that a
 * restarted (or killed) `sbcd --test-clock` goes on from the time it had
 * reached: the clock never runs back over periods already closed.
 */
static int load_test_clock(struct sbcd *d)
{
	char path[4096];
	long long ms = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/test-clock", d->state_dir);
	f = fopen(path, "r");
	if (f == NULL && errno == ENOENT)
		return 0;
	if (f == NULL) {
		log_msg(LOG_LVL_ERR, "SBC", "STATE", "%s: %s", path,
			strerror(errno));
		return -1;
	}
	if (!d->test_clock) {
		/* Its tables and periods are ahead of the real clock: run
		 * on it at real time and nothing would be recorded. */
		fclose(f);
		log_msg(LOG_LVL_ERR, "SBC", "STATE",
			"%s belongs to a --test-clock run; start with "
			"--test-clock or use another state directory",
			path);
		return -1;
	}
	if (fscanf(f, "%lld", &ms) != 1 || ms < 0) {
		fclose(f);
		log_msg(LOG_LVL_ERR, "SBC", "STATE", "%s: not an offset", path);
		return -1;
	}
	fclose(f);
	d->test_offset_ms = ms;
	clk_advance_ms(ms);
	log_msg(LOG_LVL_NOTICE, "SBC", "TEST_CLOCK",
		"test clock resumes %lld s ahead", ms / 1000);
	return 0;
}

static void fill_test_clock(struct sbcd *d, FILE *f)
{
	fprintf(f, "%lld\n", (long long)d->test_offset_ms);
}

int sbcd_advance_test_clock(struct sbcd *d, int64_t ms)
{
	int64_t old = d->test_offset_ms;

	/* Saved first: a kill right after leaves the clock ahead, never
	 * behind what the tables and the agent may already have seen. */
	d->test_offset_ms += ms;
	if (write_state_file(d, "test-clock", fill_test_clock) != 0) {
		d->test_offset_ms = old;
		return -1;
	}
	if (clk_advance_ms(ms) != 0)
		return -1;
	sbc_sampler_clock_jumped(d->sampler);
	return 0;
}

/* The control socket, STATE_DIR/sbcd.sock (docs/cli.md). */
static int open_ctl(struct sbcd *d)
{
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/sbcd.sock", d->state_dir);
	d->ctl = sbc_ctl_new(d->base, path, sbcd_command, d, err,
			     sizeof(err));
	if (d->ctl == NULL) {
		log_msg(LOG_LVL_ERR, "SBC", "START", "%s", err);
		return -1;
	}
	return 0;
}

/* `metrics listen ADDR PORT`: the Prometheus endpoint (metrics.h). */
static int open_metrics(struct sbcd *d)
{
	const struct sbc_settings *s;
	char err[256];

	if (d->running == NULL)
		return 0;
	s = sbc_config_settings(d->running);
	if (!s->has_metrics)
		return 0;
	d->metrics = sbc_metrics_start(d, s->metrics_addr, s->metrics_port, err,
				       sizeof(err));
	if (d->metrics == NULL) {
		log_msg(LOG_LVL_ERR, "SBC", "START", "%s", err);
		return -1;
	}
	log_msg(LOG_LVL_NOTICE, "SBC", "METRICS",
		"Prometheus metrics on http://%s:%u/metrics", s->metrics_addr,
		sbc_metrics_port(d->metrics));
	return 0;
}

static int parse_args(int argc, char **argv, struct sbcd *d, bool *check_only)
{
	static const struct option longopts[] = {
		{"test-clock", no_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:S:ndh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			d->config_path = optarg;
			break;
		case 'S':
			d->state_dir = optarg;
			break;
		case 'n':
			*check_only = true;
			break;
		case 'd':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 'T':
			clk_set_mode(CLK_OFFSET);
			d->test_clock = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("sbcd %s\n", SBCD_VERSION);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (d->config_path == NULL || optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				     SIGUSR2};
	struct event *ev_sig[sizeof(signals) / sizeof(signals[0])] = {0};
	struct sbcd d = {.state_dir = "."};
	struct sbc_config *cfg;
	struct sbc_dptable *dp = NULL;
	const struct sbc_settings *s;
	struct timeval tv;
	bool check_only = false;
	char err[512];
	int rc = 1;
	size_t i;

	if (parse_args(argc, argv, &d, &check_only) < 0)
		return 2;
	cfg = load_config(d.config_path, &dp, check_only);
	if (cfg == NULL) {
		if (check_only)
			fprintf(stderr, "%s: configuration not valid\n",
				d.config_path);
		return 1;
	}
	s = sbc_config_settings(cfg);
	if (check_only) {
		printf("%s: configuration OK (%zu dial-peers)\n", d.config_path,
		       sbc_dptable_count(dp));
		sbc_dptable_free(&dp);
		sbc_config_free(&cfg);
		return 0;
	}
	if (mkdir(d.state_dir, 0750) != 0 && errno != EEXIST) {
		log_msg(LOG_LVL_ERR, "SBC", "STATE", "cannot create %s: %s",
			d.state_dir, strerror(errno));
		goto out_config;
	}
	if (lock_state(&d) < 0)
		goto out_config;
	if (load_test_clock(&d) < 0)
		goto out_config;
	d.started_mono_ms = clk_mono_ms(); /* `show version` uptime */
	if (s->n_listen == 0) {
		log_msg(LOG_LVL_ERR, "SBC", "CONFIG",
			"%s: no `listen` address under voice service voip / sip",
			d.config_path);
		goto out_config;
	}
	if (s->logging_syslog)
		log_open("sbcd", 1);
	log_set_stamp(s->log_stamp & ~SBC_STAMP_LOCALTIME);
	log_release(s->license_release);
	if (s->periodicity_raised)
		log_msg(LOG_LVL_NOTICE, "SIP", "LICENSING",
			"CUBE license reporting period has been set to the "
			"minimum value of 8 hours.");
	if (open_state(&d) < 0)
		goto out_config;
	signal(SIGPIPE, SIG_IGN);
	d.shutdown_grace_s = s->shutdown_grace_s;
	snprintf(d.hostname, sizeof(d.hostname), "%s", s->hostname);
	event_set_log_callback(on_libevent_log);
	d.counters = sbc_counters_new();
	d.base = event_base_new();
	if (d.counters != NULL)
		d.sampler = sbc_sampler_new(d.stats, d.store, d.counters);
	if (d.sampler == NULL || d.base == NULL) {
		log_msg(LOG_LVL_ERR, "SBC", "START", "out of memory");
		goto out_config;
	}
	open_agent(&d, s);
	/* libevent turns signals into events on this thread, whichever
	 * thread the kernel delivers them to. */
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		ev_sig[i] = evsignal_new(d.base, signals[i], on_signal, &d);
		if (ev_sig[i] == NULL || evsignal_add(ev_sig[i], NULL) < 0) {
			log_msg(LOG_LVL_ERR, "SBC", "START",
				"cannot watch signal %d", signals[i]);
			goto out_events;
		}
	}
	d.running = config_copy(cfg);
	d.b2bua = sbc_b2bua_start_in(d.state_dir, cfg, dp, d.counters, err,
				     sizeof(err));
	cfg = NULL; /* owned by the b2bua now */
	dp = NULL;
	if (d.b2bua == NULL) {
		log_msg(LOG_LVL_ERR, "SBC", "START", "%s", err);
		goto out_events;
	}
	sbc_sampler_set_sipstats(d.sampler, sbc_b2bua_sipstats(d.b2bua));
	for (i = 0; d.running != NULL &&
		    i < sbc_config_settings(d.running)->n_listen;
	     i++)
		sbc_config_set_bound_port(d.running, i,
					  sbc_b2bua_listen_port(d.b2bua, i));
	d.ev_sample = evtimer_new(d.base, on_sample, &d);
	d.ev_drain = evtimer_new(d.base, on_drain_poll, &d);
	if (d.ev_sample == NULL || d.ev_drain == NULL)
		goto out_stop;
	tv = until_next_second();
	evtimer_add(d.ev_sample, &tv);
	if (open_ctl(&d) < 0 || open_metrics(&d) < 0)
		goto out_stop;
	log_msg(LOG_LVL_NOTICE, "SBC", "READY", "sbcd %s running (pid %ld)",
		SBCD_VERSION, (long)getpid());
	event_base_dispatch(d.base);
	rc = 0;

out_stop:
	sbc_metrics_stop(&d.metrics);
	sbcd_trust_check(&d, true);
	sbc_ctl_free(&d.ctl);
	sbc_b2bua_stop(&d.b2bua, STOP_LINGER_MS);
	log_msg(LOG_LVL_NOTICE, "SBC", "STOPPED", "sbcd stopped");
	if (d.ev_sample)
		event_free(d.ev_sample);
	if (d.ev_drain)
		event_free(d.ev_drain);
out_events:
	for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (ev_sig[i])
			event_free(ev_sig[i]);
	}
	lic_agent_free(&d.agent);
	if (d.base)
		event_base_free(d.base);
	sbc_counters_free(&d.counters);
out_config:
	lic_key_free(&d.device_key);
	sbc_config_free(&d.running);
	sbc_sampler_free(&d.sampler);
	stats_store_free(&d.store);
	stats_free(&d.stats);
	db_close(&d.db);
	sbc_dptable_free(&dp);
	sbc_config_free(&cfg);
	if (d.lock_fd > 0)
		close(d.lock_fd);
	log_close();
	return rc;
}
