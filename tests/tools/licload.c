/*
 * licload: drives licd like a fleet of sbcds would, and writes the corpus
 * of bad requests its tests send. Not part of the product: a test and
 * benchmark tool linked with the same licensing library as sbcd, so every
 * message it sends is built by the project's own functions.
 *
 * usage:
 *   licload trust  --url URL --ca FILE --token T --devices N --keys-dir DIR
 *                  [--timeout S]
 *   licload load   --url URL --ca FILE --keys-dir DIR [--reports R]
 *                  [--records N] [--concurrency C] [--duration S]
 *                  [--acked-log FILE] [--timeout S] [--fail-delay-ms MS]
 *   licload corpus --keys-dir DIR --out DIR [--token T]
 *   licload --help
 *
 * URL is licd's base URL, https://ADDR:PORT/licensing/v1/ (the trailing
 * slash may be left out); FILE is licd's STATE_DIR/server.crt.
 *
 * trust   Creates (or loads) N device keys DIR/device-<i>.key (0600) with
 *         distinct UDIs (PID "LICLOAD", SN "LL" + the first 16 hex digits
 *         of the key id) and trusts each with licd, one after the other:
 *         a trust request (lic_trust_request_build) POSTed to URL/trust,
 *         its answer checked by lic_trust_answer_parse. The token must
 *         allow N uses. Writes DIR/trust-<i>.json (the request as sent,
 *         for replays), DIR/server.pem (the server's public key, the same
 *         in every answer) and DIR/devices.tsv (key file, PID, SN per line).
 *
 * load    Sends usage reports (lic_report_build) of N records (default 90;
 *         record ids "<run>.<n>": 12 random hex digits per licload run and
 *         a counter per device, so unique per device across runs, and
 *         increasing within a run as an sbcd's are)
 *         from the devices of DIR in turn, C requests in flight on one
 *         libevent loop (lic_http, one connection each). Each 200 answer
 *         must be an ACK that verifies with DIR/server.pem, names the UDI
 *         and exactly the report sent (lic_ack_parse). The id of every
 *         verified ACK is appended to --acked-log (one line, written and
 *         fsynced before it counts as acknowledged). A request that gets
 *         no answer (connection refused or cut, timeout) or a 5xx counts
 *         as failed and is not retried; its slot waits --fail-delay-ms
 *         (default 100) before the next report, so a server that is gone
 *         is not hammered. Stops starting reports after R reports (default
 *         100; 0 = no limit) or S seconds (--duration), whichever comes
 *         first, or on a signal: SIGINT lets the requests in flight end,
 *         SIGTERM cancels them (counted as failed). Prints one line:
 *           licload load: sent=N acked=N failed=N refused=N bad_ack=N
 *                         elapsed_s=X reports_per_s=Y
 *         reports_per_s is acked / elapsed (first send to last answer).
 *
 * corpus  Writes OUT/NNNN.body (OUT: --out), one request each, and
 *         OUT/manifest.tsv, one line per request:
 *           file  method  path  content-type  framing  expect  name
 *         path is relative to the base URL's path unless it starts with
 *         "/"; content-type "-" means no header; framing is "length"
 *         (Content-Length), "none" (no length at all), "chunked", or
 *         "bigheader" (Content-Length plus a 20 KiB header), or "raw"
 *         (the file is the whole HTTP request, sent as is); expect is a
 *         status or statuses joined by "|". Every request is bad: valid
 *         messages of the devices of DIR mutated in every way the
 *         protocol refuses (truncations, byte flips in payload and
 *         signature, wrong key_id/type/v, missing and ill-typed fields,
 *         non-JSON, duplicate members, bad and non-canonical base64,
 *         oversize bodies, wrong content types, reports and polls from
 *         untrusted keys or for other devices, trust replays with the
 *         token of `licload trust`, which must be used up: create it
 *         with `--uses N` for N devices). --token names a live token
 *         (one use left or more) for trust requests that must be refused
 *         after the token check without consuming it (409 udi_bound, bad
 *         fields). Needs at least 2 trusted devices in DIR.
 *
 * Exit status: 0 success; 1 failure (trust refused, an ACK that does not
 * verify, a 4xx answer to a load report, a write error); 2 usage error.
 */
#include "common/clk.h"
#include "common/fileio.h"
#include "licensing/http.h"
#include "licensing/keys.h"
#include "licensing/report.h"
#include "licensing/tag.h"
#include "licensing/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#define EXIT_FAIL  1
#define EXIT_USAGE 2

#define ERR_MAX		512
#define PATH_LEN	4096
#define URL_LEN		2048
#define PID		"LICLOAD"
#define MAX_DEVICES	10000
#define MAX_CONCURRENCY 4096
#define RUN_ID_LEN	12 /* hex digits of random: a run's record ids */
#define RECORD_ID_LEN	(RUN_ID_LEN + 12)
#define REFUSED_SHOWN	5 /* refused answers printed to stderr, at most */

/* ---- options: one table serves parsing, validation and --help ---------- */

enum mode { MODE_TRUST = 1, MODE_LOAD = 2, MODE_CORPUS = 4 };

struct opts {
	const char *url, *ca, *token, *keys_dir, *out, *acked_log;
	long devices, reports, records, concurrency, timeout, fail_delay_ms;
	long duration;
};

enum opt_type { OPT_STR, OPT_LONG };

static const struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	unsigned modes;	   /* where it is allowed */
	unsigned required; /* where it is required */
	long min, max;
	const char *meta; /* the value in --help */
	const char *help;
} opt_table[] = {
	{"--url", OPT_STR, offsetof(struct opts, url), MODE_TRUST | MODE_LOAD,
	 MODE_TRUST | MODE_LOAD, 0, 0, "URL",
	 "licd base URL, https://ADDR:PORT/licensing/v1/"},
	{"--ca", OPT_STR, offsetof(struct opts, ca), MODE_TRUST | MODE_LOAD,
	 MODE_TRUST | MODE_LOAD, 0, 0, "FILE", "licd's server.crt"},
	{"--token", OPT_STR, offsetof(struct opts, token),
	 MODE_TRUST | MODE_CORPUS, MODE_TRUST, 0, 0, "T",
	 "trust: the id token; corpus: a live token (optional)"},
	{"--devices", OPT_LONG, offsetof(struct opts, devices), MODE_TRUST,
	 MODE_TRUST, 1, MAX_DEVICES, "N", "number of devices to trust"},
	{"--keys-dir", OPT_STR, offsetof(struct opts, keys_dir),
	 MODE_TRUST | MODE_LOAD | MODE_CORPUS,
	 MODE_TRUST | MODE_LOAD | MODE_CORPUS, 0, 0, "DIR",
	 "device keys, UDIs, trust requests, server key"},
	{"--reports", OPT_LONG, offsetof(struct opts, reports), MODE_LOAD, 0, 0,
	 LONG_MAX, "R", "reports to send (default 100, 0: no limit)"},
	{"--records", OPT_LONG, offsetof(struct opts, records), MODE_LOAD, 0, 0,
	 LIC_REPORT_MAX_RECORDS, "N", "usage records per report (default 90)"},
	{"--concurrency", OPT_LONG, offsetof(struct opts, concurrency),
	 MODE_LOAD, 0, 1, MAX_CONCURRENCY, "C",
	 "requests in flight (default 4)"},
	{"--duration", OPT_LONG, offsetof(struct opts, duration), MODE_LOAD, 0,
	 1, 86400, "S", "stop starting reports after S seconds"},
	{"--acked-log", OPT_STR, offsetof(struct opts, acked_log), MODE_LOAD, 0,
	 0, 0, "FILE", "append the id of every verified ACK here"},
	{"--timeout", OPT_LONG, offsetof(struct opts, timeout),
	 MODE_TRUST | MODE_LOAD, 0, 1, LIC_HTTP_MAX_TIMEOUT, "S",
	 "seconds per request (default 30)"},
	{"--fail-delay-ms", OPT_LONG, offsetof(struct opts, fail_delay_ms),
	 MODE_LOAD, 0, 0, 60000, "MS",
	 "pause of a slot after a failure (default 100)"},
	{"--out", OPT_STR, offsetof(struct opts, out), MODE_CORPUS, MODE_CORPUS,
	 0, 0, "DIR", "directory for the corpus"},
};

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

static int run_trust(const struct opts *o);
static int run_load(const struct opts *o);
static int run_corpus(const struct opts *o);

static const struct mode_row {
	const char *name;
	enum mode mode;
	int (*run)(const struct opts *o);
	const char *help;
} mode_table[] = {
	{"trust", MODE_TRUST, run_trust, "create and trust device keys"},
	{"load", MODE_LOAD, run_load, "send usage reports, verify the ACKs"},
	{"corpus", MODE_CORPUS, run_corpus, "write the bad-request corpus"},
};

#define NMODES (sizeof(mode_table) / sizeof(mode_table[0]))

static void usage(FILE *f)
{
	size_t m, i;

	fprintf(f, "usage: licload MODE OPTIONS  (licload --help)\n");
	for (m = 0; m < NMODES; m++) {
		fprintf(f, "  licload %s", mode_table[m].name);
		for (i = 0; i < NOPTS; i++) {
			const struct opt *p = &opt_table[i];

			if (!(p->modes & mode_table[m].mode))
				continue;
			fprintf(f,
				p->required & mode_table[m].mode ? " %s %s"
								 : " [%s %s]",
				p->name, p->meta);
		}
		fprintf(f, "\n      %s\n", mode_table[m].help);
	}
	fprintf(f, "options:\n");
	for (i = 0; i < NOPTS; i++)
		fprintf(f, "  %-16s %-5s %s\n", opt_table[i].name,
			opt_table[i].meta, opt_table[i].help);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("licload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Parse argv[2..] for `mode` into *o. 0, or -1 after a message. */
static int parse_opts(int argc, char **argv, enum mode mode, struct opts *o)
{
	int i;
	size_t k;

	memset(o, 0, sizeof(*o));
	o->reports = 100;
	o->records = 90;
	o->concurrency = 4;
	o->timeout = 30;
	o->fail_delay_ms = 100;
	for (i = 2; i < argc; i += 2) {
		const struct opt *p = NULL;

		for (k = 0; k < NOPTS; k++)
			if (strcmp(argv[i], opt_table[k].name) == 0)
				p = &opt_table[k];
		if (p == NULL || !(p->modes & mode)) {
			fail("unknown option %s", argv[i]);
			return -1;
		}
		if (i + 1 >= argc) {
			fail("%s needs a value", argv[i]);
			return -1;
		}
		if (p->type == OPT_STR) {
			*(const char **)((char *)o + p->off) = argv[i + 1];
		} else {
			char *end;
			long v;

			errno = 0;
			v = strtol(argv[i + 1], &end, 10);
			if (errno != 0 || end == argv[i + 1] || *end != '\0' ||
			    v < p->min || v > p->max) {
				fail("%s: %s is not a number in %ld..%ld",
				     argv[i], argv[i + 1], p->min, p->max);
				return -1;
			}
			*(long *)((char *)o + p->off) = v;
		}
	}
	for (k = 0; k < NOPTS; k++) {
		const struct opt *p = &opt_table[k];

		if (!(p->required & mode))
			continue;
		if ((p->type == OPT_STR &&
		     *(const char **)((char *)o + p->off) == NULL) ||
		    (p->type == OPT_LONG &&
		     *(long *)((char *)o + p->off) == 0)) {
			fail("%s is required", p->name);
			return -1;
		}
	}
	return 0;
}

/* ---- files -------------------------------------------------------------- */

static void path_join(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

/* Whole file into a NUL-terminated buffer (1..max bytes). */
static char *read_file(const char *path, size_t max, size_t *len)
{
	char err[ERR_MAX], *buf = NULL;
	size_t n = 0;

	if (fio_read_file(path, max, &buf, &n, err, sizeof(err)) != 0) {
		fail("%s", err);
		return NULL;
	}
	if (len != NULL)
		*len = n;
	return buf;
}

static int write_file(const char *path, const void *buf, size_t len)
{
	char err[ERR_MAX];

	if (fio_write_atomic(path, buf, len, 0600, err, sizeof(err)) != 0) {
		fail("%s", err);
		return -1;
	}
	return 0;
}

/* ---- devices ------------------------------------------------------------ */

struct device {
	struct lic_key *key;
	char file[64];
	char pid[LIC_ID_MAX + 1];
	char sn[LIC_ID_MAX + 1];
	char key_id[LIC_KEY_ID_LEN + 1];
	uint64_t next_record; /* load: record ids sent so far */
};

static void devices_free(struct device *d, size_t n)
{
	size_t i;

	for (i = 0; d != NULL && i < n; i++)
		lic_key_free(&d[i].key);
	free(d);
}

/* The devices of DIR/devices.tsv with their keys. NULL after a message. */
static struct device *devices_load(const char *dir, size_t *n)
{
	char path[PATH_LEN], err[ERR_MAX];
	struct device *d = NULL;
	char *text, *line, *save = NULL;
	size_t cap = 0;

	*n = 0;
	path_join(path, sizeof(path), dir, "devices.tsv");
	text = read_file(path, 1 << 20, NULL);
	if (text == NULL)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct device *dv;
		char kpath[PATH_LEN];

		if (*n == cap) {
			struct device *nd;

			cap = cap ? cap * 2 : 16;
			nd = realloc(d, cap * sizeof(*d));
			if (nd == NULL)
				goto out_fail;
			d = nd;
		}
		dv = &d[*n];
		memset(dv, 0, sizeof(*dv));
		if (sscanf(line, "%63[^\t]\t%64[^\t]\t%64s", dv->file, dv->pid,
			   dv->sn) != 3) {
			fail("%s: bad line %s", path, line);
			goto out_fail;
		}
		path_join(kpath, sizeof(kpath), dir, dv->file);
		if (lic_key_load_or_create(kpath, &dv->key, NULL, err,
					   sizeof(err)) != 0) {
			fail("%s: %s", kpath, err);
			goto out_fail;
		}
		lic_key_id(dv->key, dv->key_id);
		(*n)++;
	}
	free(text);
	if (*n == 0)
		fail("%s: no devices", path);
	return d;
out_fail:
	free(text);
	devices_free(d, *n);
	*n = 0;
	return NULL;
}

static struct lic_pubkey *server_key_load(const char *dir)
{
	char path[PATH_LEN], err[ERR_MAX];
	struct lic_pubkey *pk = NULL;
	size_t len;
	char *pem;

	path_join(path, sizeof(path), dir, "server.pem");
	pem = read_file(path, LIC_KEY_FILE_MAX, &len);
	if (pem == NULL)
		return NULL;
	if (lic_pubkey_from_pem(pem, len, &pk, err, sizeof(err)) != 0)
		fail("%s: %s", path, err);
	free(pem);
	return pk;
}

/* base URL + resource, with exactly one '/' between. */
static int url_join(char *out, size_t len, const char *base, const char *res)
{
	size_t n = strlen(base);
	int w = snprintf(out, len, "%s%s%s", base,
			 n > 0 && base[n - 1] == '/' ? "" : "/", res);

	return w > 0 && (size_t)w < len ? 0 : -1;
}

/* ---- one synchronous POST (trust) ----------------------------------- */

struct sync_post {
	struct event_base *base;
	int status;
	char *body;
	size_t len;
	char error[ERR_MAX];
};

static void sync_done(void *arg, int status, const void *body, size_t len,
		      const char *error)
{
	struct sync_post *sp = arg;

	sp->status = status;
	sp->body = malloc(len + 1);
	if (sp->body != NULL) {
		if (len > 0)
			memcpy(sp->body, body, len);
		sp->body[len] = '\0';
		sp->len = len;
	}
	snprintf(sp->error, sizeof(sp->error), "%s", error ? error : "");
	event_base_loopexit(sp->base, NULL);
}

static int post_sync(struct lic_http *h, struct event_base *base,
		     const char *url, const char *body, size_t len,
		     unsigned timeout, struct sync_post *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->base = base;
	if (lic_http_post(h, url, "application/json", body, len, timeout,
			  sync_done, sp) != 0) {
		fail("POST %s: %s", url, lic_http_last_error(h));
		return -1;
	}
	event_base_dispatch(base);
	return 0;
}

/* ---- trust -------------------------------------------------------------- */

static int run_trust(const struct opts *o)
{
	struct event_base *base = NULL;
	struct lic_http *h = NULL;
	char url[URL_LEN], err[ERR_MAX], path[PATH_LEN];
	char *server_pem = NULL, *tsv = NULL;
	size_t tsv_len = 0, tsv_cap = 0;
	long i;
	int rc = EXIT_FAIL;

	if (mkdir(o->keys_dir, 0700) != 0 && errno != EEXIST) {
		fail("%s: %s", o->keys_dir, strerror(errno));
		return EXIT_FAIL;
	}
	if (url_join(url, sizeof(url), o->url, "trust") != 0) {
		fail("URL too long");
		return EXIT_USAGE;
	}
	base = event_base_new();
	h = base != NULL ? lic_http_new(base, o->ca, err, sizeof(err)) : NULL;
	if (h == NULL) {
		fail("HTTPS client: %s", base != NULL ? err : "no event base");
		goto out;
	}
	for (i = 0; i < o->devices; i++) {
		struct lic_trust_request_info ri;
		struct lic_trust_answer *ans = NULL;
		struct lic_key *k = NULL;
		struct sync_post sp;
		char kid[LIC_KEY_ID_LEN + 1], sn[LIC_ID_MAX + 1], file[64];
		char *env = NULL;
		size_t len = 0;
		int ok = 0;

		snprintf(file, sizeof(file), "device-%ld.key", i);
		path_join(path, sizeof(path), o->keys_dir, file);
		if (lic_key_load_or_create(path, &k, NULL, err, sizeof(err)) !=
		    0) {
			fail("%s: %s", path, err);
			goto out;
		}
		lic_key_id(k, kid);
		snprintf(sn, sizeof(sn), "LL%.16s", kid);
		memset(&ri, 0, sizeof(ri));
		ri.token = o->token;
		ri.udi.pid = PID;
		ri.udi.sn = sn;
		ri.created_s = clk_wall_ms() / 1000;
		memset(&sp, 0, sizeof(sp));
		if (lic_trust_request_build(k, &ri, &env, &len, err,
					    sizeof(err)) != 0) {
			fail("trust request: %s", err);
			goto next;
		}
		snprintf(file, sizeof(file), "trust-%ld.json", i);
		path_join(path, sizeof(path), o->keys_dir, file);
		if (write_file(path, env, len) != 0 ||
		    post_sync(h, base, url, env, len, (unsigned)o->timeout,
			      &sp) != 0)
			goto next;
		if (sp.status != 200) {
			fail("device %ld: trust answered %d %s%s", i, sp.status,
			     sp.error, sp.body ? sp.body : "");
			goto next;
		}
		if (lic_trust_answer_parse(sp.body, sp.len, &ri.udi, k, &ans,
					   err, sizeof(err)) != 0) {
			fail("device %ld: trust answer refused: %s", i, err);
			goto next;
		}
		if (server_pem == NULL) {
			server_pem = strdup(lic_trust_answer_server_pem(ans));
		} else if (strcmp(server_pem,
				  lic_trust_answer_server_pem(ans)) != 0) {
			fail("device %ld: another server key", i);
			goto next;
		}
		while (tsv_len + 256 > tsv_cap) {
			char *nt = realloc(tsv, tsv_cap + 4096);

			if (nt == NULL)
				goto next;
			tsv = nt;
			tsv_cap += 4096;
		}
		tsv_len += (size_t)snprintf(tsv + tsv_len, tsv_cap - tsv_len,
					    "device-%ld.key\t%s\t%s\n", i, PID,
					    sn);
		ok = 1;
	next:
		lic_trust_answer_free(&ans);
		free(sp.body);
		free(env);
		lic_key_free(&k);
		if (!ok)
			goto out;
	}
	path_join(path, sizeof(path), o->keys_dir, "server.pem");
	if (server_pem == NULL ||
	    write_file(path, server_pem, strlen(server_pem)) != 0)
		goto out;
	path_join(path, sizeof(path), o->keys_dir, "devices.tsv");
	if (write_file(path, tsv, tsv_len) != 0)
		goto out;
	printf("licload trust: %ld device(s) trusted\n", o->devices);
	rc = 0;
out:
	free(tsv);
	free(server_pem);
	lic_http_free(&h);
	if (base != NULL)
		event_base_free(base);
	return rc;
}

/* ---- load --------------------------------------------------------------- */

enum slot_state { SLOT_DONE, SLOT_SENDING, SLOT_WAITING };

struct load;

struct slot {
	struct load *ld;
	enum slot_state state;
	size_t dev;
	char report_id[LIC_REPORT_ID_LEN + 1];
	struct event *delay;
};

struct load {
	const struct opts *o;
	struct event_base *base;
	struct lic_http *h;
	struct lic_pubkey *server;
	struct device *dev;
	size_t ndev;
	char url[URL_LEN];
	int acked_fd;
	struct slot *slots;
	size_t nlive; /* slots SENDING or WAITING */
	bool stopping;
	int64_t t0_ms, deadline_ms;
	uint64_t sent, acked, failed, refused, bad_ack, log_errors;
	/* Scratch for building one report (building is synchronous). */
	struct lic_usage_record *recs;
	char (*rec_ids)[RECORD_ID_LEN];
	char run_id[LIC_REPORT_ID_LEN + 1]; /* its first RUN_ID_LEN digits
					     * prefix this run's record ids */
};

static void slot_start(struct slot *s);

static void slot_retire(struct slot *s)
{
	s->state = SLOT_DONE;
	if (--s->ld->nlive == 0)
		event_base_loopexit(s->ld->base, NULL);
}

/* The envelope of a fresh report from device `d`; NULL after a message. */
static char *report_new(struct load *ld, size_t d, char *report_id, size_t *len)
{
	struct lic_report_info ri;
	char err[ERR_MAX], *env = NULL;
	int64_t now = clk_wall_ms() / 1000;
	long j;

	if (lic_report_id_new(report_id, err, sizeof(err)) != 0) {
		fail("report id: %s", err);
		return NULL;
	}
	for (j = 0; j < ld->o->records; j++) {
		struct lic_usage_record *r = &ld->recs[j];

		snprintf(ld->rec_ids[j], RECORD_ID_LEN, "%.*s.%010" PRIu64,
			 RUN_ID_LEN, ld->run_id, ++ld->dev[d].next_record);
		r->id = ld->rec_ids[j];
		r->tag = (enum lic_tag)(j % LIC_TAG_COUNT);
		r->start_s = now - 86400 * (j / LIC_TAG_COUNT + 1);
		r->end_s = r->start_s + 86400;
		r->count = (j * 7) % 100;
	}
	memset(&ri, 0, sizeof(ri));
	ri.report_id = report_id;
	ri.release = "17.6.1a";
	ri.hostname = "licload";
	ri.udi.pid = ld->dev[d].pid;
	ri.udi.sn = ld->dev[d].sn;
	ri.ha_role = LIC_HA_STANDALONE;
	ri.created_s = now;
	ri.records = ld->recs;
	ri.nrecords = (size_t)ld->o->records;
	if (lic_report_build(ld->dev[d].key, &ri, &env, len, err,
			     sizeof(err)) != 0)
		fail("report: %s", err);
	return env;
}

/* One line per verified ACK, on disk before it counts. */
static int log_acked(struct load *ld, const char *id)
{
	char line[LIC_REPORT_ID_LEN + 2];
	int n;

	if (ld->acked_fd < 0)
		return 0;
	n = snprintf(line, sizeof(line), "%s\n", id);
	if (fio_write_all(ld->acked_fd, line, (size_t)n) != 0 ||
	    fsync(ld->acked_fd) != 0) {
		fail("acked log: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void ack_check(struct slot *s, const void *body, size_t len)
{
	struct load *ld = s->ld;
	struct lic_udi udi = {ld->dev[s->dev].pid, ld->dev[s->dev].sn};
	struct lic_ack *ack = NULL;
	const struct lic_ack_info *ai;
	char err[ERR_MAX];

	if (lic_ack_parse(ld->server, body, len, &udi, &ack, err,
			  sizeof(err)) != 0) {
		fail("report %s: ACK refused: %s", s->report_id, err);
		ld->bad_ack++;
		return;
	}
	ai = lic_ack_get(ack);
	if (ai->nids != 1 || strcmp(ai->report_ids[0], s->report_id) != 0) {
		fail("report %s: the ACK names other reports", s->report_id);
		ld->bad_ack++;
	} else if (log_acked(ld, s->report_id) != 0) {
		ld->log_errors++;
	} else {
		ld->acked++;
	}
	lic_ack_free(&ack);
}

static void slot_done(void *arg, int status, const void *body, size_t len,
		      const char *error)
{
	struct slot *s = arg;
	struct load *ld = s->ld;
	struct timeval tv;

	(void)error;
	if (status == 200) {
		ack_check(s, body, len);
	} else if (status == 0 || status >= 500) {
		ld->failed++;
		if (!ld->stopping && ld->o->fail_delay_ms > 0) {
			s->state = SLOT_WAITING;
			tv.tv_sec = ld->o->fail_delay_ms / 1000;
			tv.tv_usec = (ld->o->fail_delay_ms % 1000) * 1000;
			evtimer_add(s->delay, &tv);
			return;
		}
	} else {
		if (ld->refused++ < REFUSED_SHOWN)
			fail("report %s: answered %d: %.*s", s->report_id,
			     status, (int)(len < 300 ? len : 300),
			     (const char *)body);
	}
	slot_start(s);
}

static void slot_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	slot_start(arg);
}

/* Start the slot's next report, or retire it when the run is over. */
static void slot_start(struct slot *s)
{
	struct load *ld = s->ld;
	char *env;
	size_t len = 0;

	if (ld->stopping || ld->h == NULL ||
	    (ld->o->reports > 0 && ld->sent >= (uint64_t)ld->o->reports) ||
	    (ld->deadline_ms > 0 && clk_mono_ms() >= ld->deadline_ms)) {
		slot_retire(s);
		return;
	}
	s->dev = (size_t)(ld->sent % ld->ndev);
	env = report_new(ld, s->dev, s->report_id, &len);
	if (env == NULL) {
		ld->stopping = true; /* cannot build reports: a bug */
		ld->bad_ack++;
		slot_retire(s);
		return;
	}
	ld->sent++;
	s->state = SLOT_SENDING;
	if (lic_http_post(ld->h, ld->url, "application/json", env, len,
			  (unsigned)ld->o->timeout, slot_done, s) != 0) {
		struct timeval tv = {0, 100000};

		fail("POST: %s", lic_http_last_error(ld->h));
		ld->failed++;
		s->state = SLOT_WAITING;
		evtimer_add(s->delay, &tv);
	}
	free(env);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct load *ld = arg;
	size_t i;

	(void)what;
	if (ld->stopping)
		return;
	ld->stopping = true;
	if (sig == SIGTERM)
		lic_http_free(&ld->h); /* in-flight ones end as failed */
	for (i = 0; i < (size_t)ld->o->concurrency; i++)
		if (ld->slots[i].state == SLOT_WAITING) {
			evtimer_del(ld->slots[i].delay);
			slot_retire(&ld->slots[i]);
		}
}

static int run_load(const struct opts *o)
{
	struct load ld;
	struct event *sigs[2] = {NULL, NULL};
	char err[ERR_MAX];
	double elapsed;
	size_t i, n = (size_t)o->concurrency;
	int rc = EXIT_FAIL;

	memset(&ld, 0, sizeof(ld));
	ld.o = o;
	ld.acked_fd = -1;
	if (url_join(ld.url, sizeof(ld.url), o->url, "usage") != 0) {
		fail("URL too long");
		return EXIT_USAGE;
	}
	ld.dev = devices_load(o->keys_dir, &ld.ndev);
	ld.server = ld.dev != NULL ? server_key_load(o->keys_dir) : NULL;
	if (ld.server == NULL)
		goto out;
	if (o->acked_log != NULL) {
		ld.acked_fd =
			open(o->acked_log,
			     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (ld.acked_fd < 0) {
			fail("%s: %s", o->acked_log, strerror(errno));
			goto out;
		}
	}
	ld.recs = calloc((size_t)o->records + 1, sizeof(*ld.recs));
	ld.rec_ids = calloc((size_t)o->records + 1, sizeof(*ld.rec_ids));
	ld.slots = calloc(n, sizeof(*ld.slots));
	ld.base = event_base_new();
	if (ld.recs == NULL || ld.rec_ids == NULL || ld.slots == NULL ||
	    ld.base == NULL) {
		fail("out of memory");
		goto out;
	}
	ld.h = lic_http_new(ld.base, o->ca, err, sizeof(err));
	if (ld.h == NULL) {
		fail("HTTPS client: %s", err);
		goto out;
	}
	sigs[0] = evsignal_new(ld.base, SIGTERM, signal_cb, &ld);
	sigs[1] = evsignal_new(ld.base, SIGINT, signal_cb, &ld);
	if (sigs[0] == NULL || sigs[1] == NULL ||
	    evsignal_add(sigs[0], NULL) != 0 ||
	    evsignal_add(sigs[1], NULL) != 0) {
		fail("cannot catch signals");
		goto out;
	}
	for (i = 0; i < n; i++) {
		ld.slots[i].ld = &ld;
		ld.slots[i].delay =
			evtimer_new(ld.base, slot_delay_cb, &ld.slots[i]);
		if (ld.slots[i].delay == NULL) {
			fail("out of memory");
			goto out;
		}
	}
	if (lic_report_id_new(ld.run_id, err, sizeof(err)) != 0) {
		fail("run id: %s", err);
		goto out;
	}
	ld.t0_ms = clk_mono_ms();
	if (o->duration > 0)
		ld.deadline_ms = ld.t0_ms + o->duration * 1000;
	ld.nlive = n;
	for (i = 0; i < n; i++)
		slot_start(&ld.slots[i]);
	if (ld.nlive > 0)
		event_base_dispatch(ld.base);
	elapsed = (double)(clk_mono_ms() - ld.t0_ms) / 1000.0;
	printf("licload load: sent=%" PRIu64 " acked=%" PRIu64
	       " failed=%" PRIu64 " refused=%" PRIu64 " bad_ack=%" PRIu64
	       " elapsed_s=%.3f reports_per_s=%.1f\n",
	       ld.sent, ld.acked, ld.failed, ld.refused, ld.bad_ack, elapsed,
	       elapsed > 0 ? (double)ld.acked / elapsed : 0.0);
	fflush(stdout);
	rc = ld.refused == 0 && ld.bad_ack == 0 && ld.log_errors == 0
		     ? 0
		     : EXIT_FAIL;
out:
	lic_http_free(&ld.h);
	for (i = 0; ld.slots != NULL && i < n; i++)
		if (ld.slots[i].delay != NULL)
			event_free(ld.slots[i].delay);
	for (i = 0; i < 2; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (ld.base != NULL)
		event_base_free(ld.base);
	if (ld.acked_fd >= 0)
		close(ld.acked_fd);
	free(ld.slots);
	free(ld.recs);
	free(ld.rec_ids);
	lic_pubkey_free(&ld.server);
	devices_free(ld.dev, ld.ndev);
	return rc;
}

/* ---- corpus ------------------------------------------------------------- */

struct corpus {
	const char *dir;      /* where the corpus goes */
	const char *keys_dir; /* devices, trust requests */
	FILE *manifest;
	unsigned n;
	int errors;
	struct device *dev;
	size_t ndev;
};

/* A formatted string the caller frees (NULL when out of memory). */
static char *xprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* A string of n copies of ch. */
static char *repeat(char ch, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memset(s, ch, n);
		s[n] = '\0';
	}
	return s;
}

/*
 * One request of the corpus: its body file and its manifest line. `body`
 * is consumed when `own` (so callers can pass xprintf() results inline);
 * a NULL body counts as an error (out of memory upstream).
 */
static void emit_raw(struct corpus *c, const char *name, const char *method,
		     const char *path, const char *ctype, const char *framing,
		     const char *expect, const void *body, size_t len)
{
	char file[32], fpath[PATH_LEN];
	FILE *f;

	if (body == NULL && len > 0) {
		fail("corpus %s: no body", name);
		c->errors++;
		return;
	}
	snprintf(file, sizeof(file), "%04u.body", c->n++);
	path_join(fpath, sizeof(fpath), c->dir, file);
	f = fopen(fpath, "wb");
	if (f == NULL || (len > 0 && fwrite(body, 1, len, f) != len) ||
	    fclose(f) != 0) {
		fail("%s: %s", fpath, strerror(errno));
		c->errors++;
		return;
	}
	fprintf(c->manifest, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", file, method, path,
		ctype, framing, expect, name);
}

/* The usual case: POST JSON with a Content-Length. */
static void emit(struct corpus *c, const char *name, const char *path,
		 const char *expect, const char *body)
{
	emit_raw(c, name, "POST", path, "application/json", "length", expect,
		 body, body != NULL ? strlen(body) : 1);
}

static void emit_own(struct corpus *c, const char *name, const char *path,
		     const char *expect, char *body)
{
	emit(c, name, path, expect, body);
	free(body);
}

/* The three base64 members of an envelope, as text. */
struct parts {
	char *key_id, *payload, *sig;
};

static void parts_free(struct parts *p)
{
	free(p->key_id);
	free(p->payload);
	free(p->sig);
	memset(p, 0, sizeof(*p));
}

static int parts_of(const char *env, struct parts *p)
{
	json_t *o = json_loads(env, 0, NULL);
	const char *k, *pl, *s;

	memset(p, 0, sizeof(*p));
	k = json_string_value(json_object_get(o, "key_id"));
	pl = json_string_value(json_object_get(o, "payload"));
	s = json_string_value(json_object_get(o, "signature"));
	if (k != NULL && pl != NULL && s != NULL) {
		p->key_id = strdup(k);
		p->payload = strdup(pl);
		p->sig = strdup(s);
	}
	json_decref(o);
	if (p->key_id == NULL || p->payload == NULL || p->sig == NULL) {
		parts_free(p);
		fail("corpus: not an envelope");
		return -1;
	}
	return 0;
}

static char *env_text(const char *key_id, const char *payload, const char *sig)
{
	return xprintf("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		       "\"payload\":\"%s\",\"signature\":\"%s\"}",
		       key_id, payload, sig);
}

static char *b64(const unsigned char *p, size_t n)
{
	return lic_b64_encode(p, n, NULL);
}

/* Decoded bytes of a canonical base64 string (caller frees). */
static unsigned char *unb64(const char *s, size_t *n)
{
	unsigned char *out = NULL;

	if (lic_b64_decode(s, strlen(s), &out, n, NULL, 0) != 0)
		return NULL;
	return out;
}

/* payload text signed by k, as an envelope (no size cap: oversize cases). */
static char *seal_any(const struct lic_key *k, const char *payload)
{
	char kid[LIC_KEY_ID_LEN + 1], *pb = NULL, *sb = NULL, *env = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;

	lic_key_id(k, kid);
	if (lic_sign(k, (const unsigned char *)payload, strlen(payload), &sig,
		     &siglen, NULL, 0) != 0)
		return NULL;
	pb = b64((const unsigned char *)payload, strlen(payload));
	sb = b64(sig, siglen);
	if (pb != NULL && sb != NULL)
		env = env_text(kid, pb, sb);
	free(pb);
	free(sb);
	free(sig);
	return env;
}

/*
 * What licd must answer to a usage report or ACK poll envelope that does
 * not verify: 400 when its form is bad, else 403 when it names no trusted
 * device, else 401 (its signature or key cannot be right).
 */
static const char *oracle(struct corpus *c, const char *env, const char *type)
{
	struct lic_envelope_peek pe;
	size_t i;

	if (lic_envelope_peek(env, strlen(env), type, &pe, NULL, 0) !=
	    LIC_MSG_OK)
		return "400";
	for (i = 0; i < c->ndev; i++)
		if (strcmp(pe.pid, c->dev[i].pid) == 0 &&
		    strcmp(pe.sn, c->dev[i].sn) == 0)
			return "401";
	return "403";
}

/* The same for a trust request whose token is used up. */
static const char *oracle_trust(const char *env)
{
	struct lic_trust_request *r = NULL;
	enum lic_msg_status m;

	m = lic_trust_request_parse(env, strlen(env), &r, NULL, 0);
	lic_trust_request_free(&r);
	return m == LIC_MSG_MALFORMED	    ? "400"
	       : m == LIC_MSG_BAD_SIGNATURE ? "401"
	       : m == LIC_MSG_OK	    ? "403"
					    : "500";
}

/* Truncations of `env` at `count` offsets spread over it (400 each). */
static void truncations(struct corpus *c, const char *what, const char *path,
			const char *env, unsigned count)
{
	size_t len = strlen(env), off, last = SIZE_MAX;
	unsigned i;
	char name[96];

	for (i = 0; i <= count; i++) {
		off = i < count ? len * i / count : len - 1;
		if (off == last)
			continue;
		last = off;
		snprintf(name, sizeof(name), "%s truncated to %zu of %zu bytes",
			 what, off, len);
		emit_raw(c, name, "POST", path, "application/json", "length",
			 "400", env, off);
	}
}

/*
 * One-byte flips (XOR 0x01) in the decoded payload or signature of `env`,
 * re-encoded canonically, at `count` positions spread over it; expected
 * answers from the oracle of `type` (NULL: trust).
 */
static void flips(struct corpus *c, const char *what, const char *path,
		  const char *env, const char *type, bool in_sig,
		  unsigned count)
{
	struct parts p;
	unsigned char *raw;
	size_t n = 0, pos, last = SIZE_MAX;
	unsigned i;
	char name[128];

	if (parts_of(env, &p) != 0) {
		c->errors++;
		return;
	}
	raw = unb64(in_sig ? p.sig : p.payload, &n);
	for (i = 0; raw != NULL && i < count; i++) {
		char *enc, *mut;

		pos = count >= n ? i : n * i / count;
		if (pos >= n || pos == last)
			continue;
		last = pos;
		raw[pos] ^= 0x01;
		enc = b64(raw, n);
		raw[pos] ^= 0x01;
		mut = enc == NULL ? NULL
		      : in_sig	  ? env_text(p.key_id, p.payload, enc)
				  : env_text(p.key_id, enc, p.sig);
		snprintf(name, sizeof(name), "%s: %s byte %zu of %zu flipped",
			 what, in_sig ? "signature" : "payload", pos, n);
		if (mut != NULL)
			emit(c, name, path,
			     type != NULL ? oracle(c, mut, type)
					  : oracle_trust(mut),
			     mut);
		else
			c->errors++;
		free(mut);
		free(enc);
	}
	if (raw == NULL)
		c->errors++;
	free(raw);
	parts_free(&p);
}

/* ---- payload mutations: one table row each ----------------------------- */

/*
 * A change to a payload object: the member at `path` (dot-separated,
 * numbers index arrays) is set to the JSON text `value`, or deleted when
 * value is NULL. Values starting with '@' are made here:
 *   @S<n>        a string of n 'a'
 *   @DUP0        the value of records.0.id (a repeated record id)
 *   @AFTER_END   records.0.end + 1
 *   @RECORDS1001 1001 records with distinct ids
 *   @IDS_DUP     report_ids with one id twice
 *   @IDS257      257 distinct report ids
 *   @SN1         the SN of device 1
 *   @PK1         the public key of device 1 (base64 DER)
 */
struct pmut {
	const char *path;
	const char *value;
	const char *expect;
};

static const struct pmut report_muts[] = {
	{"type", "\"usage_ack\"", "400"},
	{"type", "\"trust_request\"", "400"},
	{"type", "5", "400"},
	{"type", NULL, "400"},
	{"v", "2", "400"},
	{"v", "\"1\"", "400"},
	{"v", "1.0", "400"},
	{"v", "0", "400"},
	{"v", "true", "400"},
	{"v", NULL, "400"},
	{"report_id", NULL, "400"},
	{"report_id", "\"\"", "400"},
	{"report_id", "\"ABCDEF0123456789ABCDEF0123456789\"", "400"},
	{"report_id", "\"0123456789abcdef0123456789abcde\"", "400"},
	{"report_id", "\"0123456789abcdef0123456789abcdef0\"", "400"},
	{"report_id", "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"", "400"},
	{"report_id", "12", "400"},
	{"created", NULL, "400"},
	{"created", "\"now\"", "400"},
	{"created", "1.5", "400"},
	{"created", "null", "400"},
	{"release", NULL, "400"},
	{"release", "\"\"", "400"},
	{"release", "@S256", "400"},
	{"release", "\"a\\u0001b\"", "400"},
	{"release", "\"caf\\u00e9\"", "400"},
	{"release", "17", "400"},
	{"hostname", "\"\"", "400"},
	{"hostname", "@S256", "400"},
	{"hostname", "\"h\\tx\"", "400"},
	{"hostname", "5", "400"},
	{"udi", NULL, "400"},
	{"udi", "\"x\"", "400"},
	{"udi", "[]", "400"},
	{"udi.pid", NULL, "400"},
	{"udi.pid", "\"\"", "400"},
	{"udi.pid", "@S65", "400"},
	{"udi.pid", "7", "400"},
	{"udi.sn", NULL, "400"},
	{"udi.sn", "\"\"", "400"},
	{"udi.sn", "@S65", "400"},
	{"udi.sn", "\"NO-SUCH-DEVICE\"", "403"},
	{"udi.sn", "@SN1", "401"},
	{"ha", NULL, "400"},
	{"ha", "\"x\"", "400"},
	{"ha.role", NULL, "400"},
	{"ha.role", "\"primary\"", "400"},
	{"ha.role", "1", "400"},
	{"ha.group", "\"bad group\"", "400"},
	{"ha.group", "\"\"", "400"},
	{"ha.group", "@S65", "400"},
	{"ha.group", "5", "400"},
	{"records", NULL, "400"},
	{"records", "\"x\"", "400"},
	{"records", "{}", "400"},
	{"records", "[1]", "400"},
	{"records", "[null]", "400"},
	{"records", "@RECORDS1001", "400"},
	{"records.0", "\"x\"", "400"},
	{"records.0.id", NULL, "400"},
	{"records.0.id", "\"\"", "400"},
	{"records.0.id", "\"a/b\"", "400"},
	{"records.0.id", "@S65", "400"},
	{"records.0.id", "5", "400"},
	{"records.1.id", "@DUP0", "400"},
	{"records.0.tag", NULL, "400"},
	{"records.0.tag", "\"CUBE_T_XXX\"", "400"},
	{"records.0.tag", "\"cube_t_std\"", "400"},
	{"records.0.tag", "0", "400"},
	{"records.0.start", NULL, "400"},
	{"records.0.start", "-1", "400"},
	{"records.0.start", "\"0\"", "400"},
	{"records.0.start", "1.5", "400"},
	{"records.0.start", "@AFTER_END", "400"},
	{"records.0.end", NULL, "400"},
	{"records.0.end", "\"1\"", "400"},
	{"records.0.count", NULL, "400"},
	{"records.0.count", "-1", "400"},
	{"records.0.count", "100000001", "400"},
	{"records.0.count", "\"3\"", "400"},
	{"records.0.count", "1e3", "400"},
	{"records.0.count", "true", "400"},
};

static const struct pmut poll_muts[] = {
	{"type", "\"usage_report\"", "400"},
	{"v", "2", "400"},
	{"udi", NULL, "400"},
	{"udi.sn", "\"NO-SUCH-DEVICE\"", "403"},
	{"udi.sn", "@SN1", "401"}, /* a poll for another device */
	{"report_ids", NULL, "400"},
	{"report_ids", "[]", "400"},
	{"report_ids", "\"x\"", "400"},
	{"report_ids", "[1]", "400"},
	{"report_ids", "[\"XYZ\"]", "400"},
	{"report_ids", "@IDS_DUP", "400"},
	{"report_ids", "@IDS257", "400"},
	{"created", NULL, "400"},
	{"created", "\"x\"", "400"},
};

static const struct pmut trust_muts[] = {
	{"type", "\"usage_report\"", "400"},
	{"v", "2", "400"},
	{"token", NULL, "400"},
	{"token", "\"\"", "400"},
	{"token", "@S256", "400"},
	{"token", "5", "400"},
	{"token", "\"a\\nb\"", "400"},
	{"force", NULL, "400"},
	{"force", "\"yes\"", "400"},
	{"force", "1", "400"},
	{"public_key", NULL, "400"},
	{"public_key", "\"AAAA\"", "400"},
	{"public_key", "\"!!\"", "400"},
	{"public_key", "5", "400"},
	{"public_key", "@PK1", "401"}, /* signed by another key */
	{"udi", NULL, "400"},
	{"udi.pid", "@S65", "400"},
	{"created", NULL, "400"},
	{"created", "\"x\"", "400"},
	{"created", "-1", "400"},
};

/* The member `key` of container `parent` (object or array). */
static json_t *child(json_t *parent, const char *key)
{
	if (json_is_array(parent))
		return json_array_get(parent, strtoul(key, NULL, 10));
	return json_object_get(parent, key);
}

static int set_child(json_t *parent, const char *key, json_t *v)
{
	if (json_is_array(parent)) {
		if (v == NULL)
			return json_array_remove(parent,
						 strtoul(key, NULL, 10));
		return json_array_set_new(parent, strtoul(key, NULL, 10), v);
	}
	if (v == NULL)
		return json_object_del(parent, key);
	return json_object_set_new(parent, key, v);
}

/* The value a table row names (see struct pmut); NULL when out of memory. */
static json_t *mut_value(struct corpus *c, json_t *root, const char *value)
{
	json_t *v, *recs, *r0;
	size_t i;

	if (value[0] != '@')
		return json_loads(value, JSON_DECODE_ANY, NULL);
	if (strncmp(value, "@S", 2) == 0 && value[2] >= '0' &&
	    value[2] <= '9') {
		char *s = repeat('a', strtoul(value + 2, NULL, 10));

		v = s != NULL ? json_string(s) : NULL;
		free(s);
		return v;
	}
	if (strcmp(value, "@DUP0") == 0)
		return json_deep_copy(json_object_get(
			json_array_get(json_object_get(root, "records"), 0),
			"id"));
	if (strcmp(value, "@AFTER_END") == 0)
		return json_integer(
			json_integer_value(json_object_get(
				json_array_get(json_object_get(root, "records"),
					       0),
				"end")) +
			1);
	if (strcmp(value, "@RECORDS1001") == 0) {
		r0 = json_array_get(json_object_get(root, "records"), 0);
		recs = json_array();
		for (i = 0; recs != NULL && r0 != NULL && i < 1001; i++) {
			char id[32];
			json_t *r = json_deep_copy(r0);

			snprintf(id, sizeof(id), "many.%zu", i);
			json_object_set_new(r, "id", json_string(id));
			json_array_append_new(recs, r);
		}
		return recs;
	}
	if (strcmp(value, "@IDS_DUP") == 0 || strcmp(value, "@IDS257") == 0) {
		bool dup = value[4] == 'D';

		recs = json_array();
		for (i = 0; recs != NULL && i < (dup ? 2u : 257u); i++) {
			char id[LIC_REPORT_ID_LEN + 1];

			snprintf(id, sizeof(id), "%032zx", dup ? (size_t)7 : i);
			json_array_append_new(recs, json_string(id));
		}
		return recs;
	}
	if (strcmp(value, "@SN1") == 0)
		return json_string(c->dev[1].sn);
	if (strcmp(value, "@PK1") == 0) {
		char *pub = NULL;

		if (lic_key_public_der_b64(c->dev[1].key, &pub, NULL, NULL,
					   0) != 0)
			return NULL;
		v = json_string(pub);
		free(pub);
		return v;
	}
	return NULL;
}

/* Apply `m` to a copy of `base` (payload JSON text); the new text. */
static char *mutate(struct corpus *c, const char *base, const struct pmut *m)
{
	char path[128], *dot, *key, *text = NULL;
	json_t *root = json_loads(base, 0, NULL), *parent, *v = NULL;

	snprintf(path, sizeof(path), "%s", m->path);
	parent = root;
	key = path;
	while (parent != NULL && (dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		parent = child(parent, key);
		key = dot + 1;
	}
	if (parent == NULL)
		goto out;
	if (m->value != NULL && (v = mut_value(c, root, m->value)) == NULL)
		goto out;
	if (set_child(parent, key, v) != 0)
		goto out;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(root);
	return text;
}

static void payload_muts(struct corpus *c, const char *what, const char *path,
			 const struct lic_key *k, const char *payload,
			 const struct pmut *muts, size_t n)
{
	char name[160];
	size_t i;

	for (i = 0; i < n; i++) {
		char *p = mutate(c, payload, &muts[i]);

		snprintf(name, sizeof(name), "%s: %s %s%.40s (signed)", what,
			 muts[i].path, muts[i].value ? "= " : "deleted",
			 muts[i].value ? muts[i].value : "");
		if (p == NULL) {
			fail("corpus: cannot apply %s", name);
			c->errors++;
			continue;
		}
		emit_own(c, name, path, muts[i].expect, seal_any(k, p));
		free(p);
	}
}

/* ---- the corpus --------------------------------------------------------- */

/* The payload text of an envelope (caller frees). */
static char *payload_of(const char *env)
{
	struct parts p;
	unsigned char *raw;
	size_t n = 0;
	char *s = NULL;

	if (parts_of(env, &p) != 0)
		return NULL;
	raw = unb64(p.payload, &n);
	if (raw != NULL && (s = malloc(n + 1)) != NULL) {
		memcpy(s, raw, n);
		s[n] = '\0';
	}
	free(raw);
	parts_free(&p);
	return s;
}

/*
 * A valid report payload of device `d` (never sent as is), whose length
 * is not a multiple of 3 so that its base64 has padding.
 */
static char *base_report(struct corpus *c, size_t d)
{
	struct lic_usage_record recs[3];
	struct lic_report_info ri;
	char rid[LIC_REPORT_ID_LEN + 1], ids[3][48], host[16];
	int64_t now = clk_wall_ms() / 1000;
	char *payload = NULL;
	size_t len = 0, i, h;

	if (lic_report_id_new(rid, NULL, 0) != 0)
		return NULL;
	for (i = 0; i < 3; i++) {
		snprintf(ids[i], sizeof(ids[i]), "corpus.%s.%zu", rid, i);
		recs[i].id = ids[i];
		recs[i].tag = (enum lic_tag)i;
		recs[i].start_s = now - 86400;
		recs[i].end_s = now;
		recs[i].count = (int64_t)i + 1;
	}
	for (h = 1; h <= 3; h++) {
		memset(&ri, 0, sizeof(ri));
		snprintf(host, sizeof(host), "%.*s", (int)h, "abc");
		ri.report_id = rid;
		ri.release = "17.6.1a";
		ri.hostname = host;
		ri.udi.pid = c->dev[d].pid;
		ri.udi.sn = c->dev[d].sn;
		ri.ha_group = "grp1";
		ri.ha_role = LIC_HA_ACTIVE;
		ri.created_s = now;
		ri.records = recs;
		ri.nrecords = 3;
		free(payload);
		payload = NULL;
		if (lic_report_payload(&ri, &payload, &len, NULL, 0) != 0)
			return NULL;
		if (len % 3 != 0)
			break;
	}
	return payload;
}

/* Seal, re-signing until the DER signature's base64 has padding. */
static char *seal_padded(const struct lic_key *k, const char *payload)
{
	int i;

	for (i = 0; i < 64; i++) {
		char *env = seal_any(k, payload);
		struct parts p;
		bool padded;

		if (env == NULL || parts_of(env, &p) != 0) {
			free(env);
			return NULL;
		}
		padded = strchr(p.sig, '=') != NULL;
		parts_free(&p);
		if (padded)
			return env;
		free(env);
	}
	return NULL;
}

/* base64 text with its last data character's unused bits set. */
static char *non_canonical(const char *s)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
				    "ghijklmnopqrstuvwxyz0123456789+/";
	char *t = strdup(s);
	size_t n = t != NULL ? strlen(t) : 0;
	const char *at;

	while (n > 0 && t[n - 1] == '=')
		n--;
	if (t == NULL || n == 0 || n == strlen(t)) {
		free(t);
		return NULL; /* no padding: every bit is used */
	}
	at = strchr(alpha, t[n - 1]);
	t[n - 1] = alpha[(at - alpha) + 1];
	return t;
}

/* Insert `ins` into s at offset off (caller frees). */
static char *insert_at(const char *s, size_t off, const char *ins)
{
	return xprintf("%.*s%s%s", (int)off, s, ins, s + off);
}

/* An envelope of parts `p` with the payload base64 `b64` (consumed). */
static void pay_b64(struct corpus *c, const struct parts *p, const char *name,
		    char *b64)
{
	emit_own(c, name, "usage", "400",
		 b64 != NULL ? env_text(p->key_id, b64, p->sig) : NULL);
	free(b64);
}

/* The same with the signature base64 `b64` (consumed). */
static void sig_b64(struct corpus *c, const struct parts *p, const char *name,
		    char *b64)
{
	emit_own(c, name, "usage", "400",
		 b64 != NULL ? env_text(p->key_id, p->payload, b64) : NULL);
	free(b64);
}

/* `payload` (consumed) signed by k. */
static void signed_by(struct corpus *c, const char *name, const char *path,
		      const char *expect, const struct lic_key *k,
		      char *payload)
{
	emit_own(c, name, path, expect,
		 payload != NULL ? seal_any(k, payload) : NULL);
	free(payload);
}

/* A copy of s with s[off] replaced by ch. */
static char *replace_at(const char *s, size_t off, char ch)
{
	char *t = strdup(s);

	if (t != NULL && off < strlen(t))
		t[off] = ch;
	return t;
}

static void envelope_cases(struct corpus *c, const char *E,
			   const struct lic_key *fresh)
{
	struct parts p;
	char fresh_id[LIC_KEY_ID_LEN + 1], *s, *payload;
	size_t half, i;

	if (parts_of(E, &p) != 0) {
		c->errors++;
		return;
	}
	lic_key_id(fresh, fresh_id);
	half = strlen(p.payload) / 2;
#define ENV(fmt, ...) xprintf(fmt, __VA_ARGS__)
	/* v and alg */
	emit_own(c, "envelope v 2", "usage", "400",
		 ENV("{\"v\":2,\"alg\":\"ES256\",\"key_id\":\"%s\",\"payload\":"
		     "\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope v \"1\"", "usage", "400",
		 ENV("{\"v\":\"1\",\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope v 1.0", "usage", "400",
		 ENV("{\"v\":1.0,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope v true", "usage", "400",
		 ENV("{\"v\":true,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope without v", "usage", "400",
		 ENV("{\"alg\":\"ES256\",\"key_id\":\"%s\",\"payload\":\"%s\","
		     "\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope alg ES384", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES384\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope alg none", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"none\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope alg es256", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"es256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "envelope without alg", "usage", "400",
		 ENV("{\"v\":1,\"key_id\":\"%s\",\"payload\":\"%s\","
		     "\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	/* key_id */
	emit_own(c, "key_id of device 1", "usage", "401",
		 env_text(c->dev[1].key_id, p.payload, p.sig));
	emit_own(c, "key_id of an untrusted key", "usage", "401",
		 env_text(fresh_id, p.payload, p.sig));
	s = repeat('0', LIC_KEY_ID_LEN);
	emit_own(c, "key_id all zeros", "usage", "401",
		 s ? env_text(s, p.payload, p.sig) : NULL);
	free(s);
	s = strdup(p.key_id);
	for (i = 0; s != NULL && s[i] != '\0'; i++)
		if (s[i] >= 'a' && s[i] <= 'f')
			s[i] = (char)(s[i] - 'a' + 'A');
	emit_own(c, "key_id in upper case", "usage", "400",
		 s ? env_text(s, p.payload, p.sig) : NULL);
	free(s);
	emit_own(c, "key_id of 63 digits", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%.63s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "key_id of 65 digits", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s0\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	emit_own(c, "key_id a number", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":7,"
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.payload, p.sig));
	emit_own(c, "without key_id", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"payload\":\"%s\","
		     "\"signature\":\"%s\"}",
		     p.payload, p.sig));
	/* payload and signature members */
	emit_own(c, "without payload", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"signature\":\"%s\"}",
		     p.key_id, p.sig));
	emit_own(c, "payload a number", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":5,\"signature\":\"%s\"}",
		     p.key_id, p.sig));
	emit_own(c, "payload null", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":null,\"signature\":\"%s\"}",
		     p.key_id, p.sig));
	emit_own(c, "payload empty", "usage", "400",
		 env_text(p.key_id, "", p.sig));
	emit_own(c, "payload an object", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":{},\"signature\":\"%s\"}",
		     p.key_id, p.sig));
	emit_own(c, "without signature", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\"}",
		     p.key_id, p.payload));
	emit_own(c, "signature a number", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":5}",
		     p.key_id, p.payload));
	emit_own(c, "signature empty", "usage", "401",
		 env_text(p.key_id, p.payload, ""));
	emit_own(c, "signature of 80 zero bytes", "usage", "401",
		 env_text(p.key_id, p.payload,
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			  "AAAAAAAA"));
	emit_own(c, "signature of another payload", "usage", "401",
		 env_text(p.key_id, p.payload,
			  p.sig[0] == 'M' ? "MEQCIA==" : "MEUCIQ=="));
	/* duplicate members */
	emit_own(c, "payload member twice", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"payload\":\"%s\",\"signature\":\"%"
		     "s\"}",
		     p.key_id, p.payload, p.payload, p.sig));
	emit_own(c, "signature member twice", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\",\"signature\":\"%"
		     "s\"}",
		     p.key_id, p.payload, p.sig, p.sig));
	emit_own(c, "key_id member twice", "usage", "400",
		 ENV("{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\",\"key_id\":"
		     "\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}",
		     c->dev[1].key_id, p.key_id, p.payload, p.sig));
	emit_own(c, "v member twice", "usage", "400",
		 ENV("{\"v\":1,\"v\":1,\"alg\":\"ES256\",\"key_id\":\"%s\","
		     "\"payload\":\"%s\",\"signature\":\"%s\"}",
		     p.key_id, p.payload, p.sig));
	/* not an object */
	emit_own(c, "envelope in an array", "usage", "400", ENV("[%s]", E));
	emit_own(c, "envelope as a JSON string", "usage", "400",
		 ENV("\"%s\"", p.payload));
	emit_own(c, "two envelopes", "usage", "400", ENV("%s%s", E, E));
	emit_own(c, "envelope then garbage", "usage", "400", ENV("%sx", E));
	/* bad base64 */
	pay_b64(c, &p, "payload base64 with a space",
		insert_at(p.payload, half, " "));
	pay_b64(c, &p, "payload base64 with a line break",
		insert_at(p.payload, 76, "\\n"));
	pay_b64(c, &p, "payload base64 with CRLF",
		insert_at(p.payload, 64, "\\r\\n"));
	pay_b64(c, &p, "payload base64 with '*'",
		replace_at(p.payload, half, '*'));
	pay_b64(c, &p, "payload base64url '-'",
		replace_at(p.payload, half, '-'));
	pay_b64(c, &p, "payload base64url '_'",
		replace_at(p.payload, half, '_'));
	pay_b64(c, &p, "payload base64 padding inside",
		replace_at(p.payload, half, '='));
	pay_b64(c, &p, "payload base64 without its padding",
		xprintf("%.*s", (int)strcspn(p.payload, "="), p.payload));
	pay_b64(c, &p, "payload base64 with extra padding",
		xprintf("%s====", p.payload));
	pay_b64(c, &p, "payload base64 one character short",
		xprintf("%.*s", (int)strlen(p.payload) - 1, p.payload));
	pay_b64(c, &p, "payload base64 non-canonical",
		non_canonical(p.payload));
	sig_b64(c, &p, "signature base64 non-canonical", non_canonical(p.sig));
	sig_b64(c, &p, "signature base64 with '.'", replace_at(p.sig, 3, '.'));
	sig_b64(c, &p, "signature base64 with a space",
		insert_at(p.sig, 8, " "));
	/* payload bytes that are no report (signed properly) */
	payload = payload_of(E);
	if (payload == NULL) {
		c->errors++;
		goto out;
	}
	signed_by(c, "payload member twice inside the payload", "usage", "400",
		  c->dev[0].key,
		  insert_at(payload, 1,
			    "\"report_id\":\"0123456789abcdef0123456789"
			    "abcdef\","));
	signed_by(c, "payload an array", "usage", "400", c->dev[0].key,
		  strdup("[]"));
	signed_by(c, "payload not JSON", "usage", "400", c->dev[0].key,
		  strdup("hello"));
	signed_by(c, "payload with trailing garbage", "usage", "400",
		  c->dev[0].key, xprintf("%s}", payload));
	signed_by(c, "payload with a UTF-8 BOM", "usage", "400", c->dev[0].key,
		  xprintf("\xef\xbb\xbf%s", payload));
	/* a payload over LIC_PAYLOAD_MAX in an envelope under the cap */
	s = repeat('x', LIC_PAYLOAD_MAX);
	signed_by(c, "payload over 256 KiB", "usage", "400", c->dev[0].key,
		  s != NULL ? xprintf("{\"pad\":\"%s\",%s", s, payload + 1)
			    : NULL);
	free(s);
	free(payload);
out:
#undef ENV
	parts_free(&p);
}

/* Bodies that are no envelope at all, to each resource. */
static void junk_cases(struct corpus *c)
{
	static const char *const junk[] = {
		"hello",       "[]",
		"null",	       "1",
		"\"s\"",       "{",
		"}",	       "{}",
		"{\"v\":1}",   "{\"v\":1,\"alg\":\"ES256\"}",
		"true",	       "{\"a\":1,\"a\":2}",
		"\"\\u0000\"", "{\"payload\":\"\\ud800\"}",
	};
	static const char *const res[] = {"usage", "trust", "acks"};
	unsigned char bin[256];
	char name[96], *s;
	size_t i, r;

	for (r = 0; r < 3; r++)
		for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
			snprintf(name, sizeof(name),
				 "not an envelope to %s: %s", res[r], junk[i]);
			emit(c, name, res[r], "400", junk[i]);
		}
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 37 + 11);
	emit_raw(c, "binary bytes", "POST", "usage", "application/json",
		 "length", "400", bin, sizeof(bin));
	emit_raw(c, "NUL bytes", "POST", "usage", "application/json", "length",
		 "400", "{\"v\":1\0\0}", 9);
	emit_raw(c, "UTF-16 text", "POST", "usage", "application/json",
		 "length", "400", "\xff\xfe{\0}\0", 6);
	s = repeat('[', 100000);
	emit(c, "arrays nested 100000 deep", "usage", "400", s);
	free(s);
	for (r = 0; r < 3; r++) {
		snprintf(name, sizeof(name), "empty body to %s", res[r]);
		emit_raw(c, name, "POST", res[r], "application/json", "length",
			 "400", "", 0);
	}
}

/* HTTP-level refusals, with a valid-looking report body. */
static void http_cases(struct corpus *c, const char *E)
{
	static const char *const methods[] = {"GET",   "PUT",	  "DELETE",
					      "PATCH", "OPTIONS", "HEAD"};
	static const char *const paths[] = {
		"nope",
		"/licensing/v1/",
		"/licensing/v2/usage",
		"/usage",
		"usage/",
		"USAGE",
		"usage/../trust",
		"usagex",
		"/licensing/v1//usage",
		"/",
	};
	static const char *const queries[] = {
		"usage?ack=later",
		"usage?ack=",
		"usage?ack=deferred&ack=now",
		"usage?ack=DEFERRED",
	};
	static const char *const ctypes[] = {
		"text/plain",
		"application/xml",
		"-",
		"application/jsonx",
		"application/json-patch+json",
		"multipart/form-data; boundary=x",
		"json",
		"application/javascript",
		"text/json",
	};
	char name[128], *big;
	size_t i;

	for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(name, sizeof(name), "%s usage", methods[i]);
		emit_raw(c, name, methods[i], "usage", "application/json",
			 "length", "405", "", 0);
	}
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		snprintf(name, sizeof(name), "POST to %s", paths[i]);
		emit(c, name, paths[i], "404", E);
	}
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		snprintf(name, sizeof(name), "POST to %s", queries[i]);
		emit(c, name, queries[i], "400", E);
	}
	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		snprintf(name, sizeof(name), "Content-Type %s", ctypes[i]);
		emit_raw(c, name, "POST", "usage", ctypes[i], "length", "415",
			 E, strlen(E));
	}
	emit_raw(c, "no Content-Length", "POST", "usage", "application/json",
		 "none", "411", E, strlen(E));
	/* Oversize: just over the cap, and over libevent's own limit. */
	big = malloc(LIC_ENVELOPE_MAX * 3);
	if (big == NULL) {
		c->errors++;
		return;
	}
	memset(big, ' ', LIC_ENVELOPE_MAX * 3);
	memcpy(big, E, strlen(E));
	emit_raw(c, "report padded to the cap + 1", "POST", "usage",
		 "application/json", "length", "413", big,
		 LIC_ENVELOPE_MAX + 1);
	emit_raw(c, "report padded to the cap + 64 KiB", "POST", "trust",
		 "application/json", "length", "413", big,
		 LIC_ENVELOPE_MAX + 65536);
	emit_raw(c, "report padded to the cap + 1, chunked", "POST", "usage",
		 "application/json", "chunked", "413", big,
		 LIC_ENVELOPE_MAX + 1);
	emit_raw(c, "body over twice the cap", "POST", "usage",
		 "application/json", "length", "413", big,
		 LIC_ENVELOPE_MAX * 2 + 1);
	emit_raw(c, "body over twice the cap, chunked", "POST", "acks",
		 "application/json", "chunked", "413", big,
		 LIC_ENVELOPE_MAX * 2 + 4096);
	memset(big, 'a', LIC_ENVELOPE_MAX * 3);
	memcpy(big, "{\"pad\":\"", 8);
	memcpy(big + LIC_ENVELOPE_MAX - 1, "\"}", 2);
	emit_raw(c, "JSON object of the cap + 1", "POST", "usage",
		 "application/json", "length", "413", big,
		 LIC_ENVELOPE_MAX + 1);
	free(big);
	emit_raw(c, "20 KiB header", "POST", "usage", "application/json",
		 "bigheader", "400|413|431", E, strlen(E));
}

/* A request with a NUL byte in a header: its length is not strlen's. */
#define RAW_NUL_CT                                                             \
	"POST /licensing/v1/usage HTTP/1.1\r\nHost: x\r\n"                       \
	"Content-Type: text/plain\0application/json\r\n"                        \
	"Connection: close\r\nContent-Length: 2\r\n\r\n{}"

/*
 * Requests that are bad as HTTP, sent verbatim after the TLS handshake
 * (framing "raw"): libevent or lsrv_handle refuse them.
 */
static void raw_cases(struct corpus *c)
{
	static const struct {
		const char *name, *expect, *text;
		size_t len; /* 0: strlen(text) */
	} raw[] = {
		{"garbage request line", "400", "\x01\x02 garbage\r\n\r\n", 0},
		{"HTTP/0.9 request", "400", "GET /\r\n\r\n", 0},
		{"no HTTP version", "400",
		 "POST /licensing/v1/usage\r\nConnection: close\r\n\r\n", 0},
		{"negative Content-Length", "400",
		 "POST /licensing/v1/usage HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nConnection: close\r\n"
		 "Content-Length: -5\r\n\r\n",
		 0},
		{"Content-Length beyond 64 bits", "413",
		 "POST /licensing/v1/usage HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nConnection: close\r\n"
		 "Content-Length: 99999999999999999999999\r\n\r\n",
		 0},
		{"chunk of 2^64-1 bytes", "413",
		 "POST /licensing/v1/usage HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nConnection: close\r\n"
		 "Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc",
		 0},
		{"chunk with an extension", "400|413",
		 "POST /licensing/v1/usage HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nConnection: close\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\n"
		 "\r\n",
		 0},
		{"two Content-Lengths", "400",
		 "POST /licensing/v1/usage HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nConnection: close\r\n"
		 "Content-Length: 5\r\nContent-Length: 7\r\n\r\n{}{}{}{",
		 0},
		{"absolute URI of another host", "404",
		 "POST https://example.com/x HTTP/1.1\r\nHost: x\r\n"
		 "Content-Type: application/json\r\nConnection: close\r\n"
		 "Content-Length: 2\r\n\r\n{}",
		 0},
		{"header without a colon", "400",
		 "POST /licensing/v1/usage HTTP/1.1\r\nHost x\r\n"
		 "Connection: close\r\nContent-Length: 2\r\n\r\n{}",
		 0},
		{"NUL in Content-Type", "400|415", RAW_NUL_CT,
		 sizeof(RAW_NUL_CT) - 1},
	};
	size_t i;

	for (i = 0; i < sizeof(raw) / sizeof(raw[0]); i++)
		emit_raw(c, raw[i].name, "-", "-", "-", "raw", raw[i].expect,
			 raw[i].text,
			 raw[i].len ? raw[i].len : strlen(raw[i].text));
}

/* A trust request of `k` for (PID, sn) with `token`; NULL on failure. */
static char *trust_request(const struct lic_key *k, const char *sn,
			   const char *token, bool force)
{
	struct lic_trust_request_info ri;
	char *env = NULL;

	memset(&ri, 0, sizeof(ri));
	ri.token = token;
	ri.udi.pid = PID;
	ri.udi.sn = sn;
	ri.force = force;
	ri.created_s = clk_wall_ms() / 1000;
	if (lic_trust_request_build(k, &ri, &env, NULL, NULL, 0) != 0)
		return NULL;
	return env;
}

/*
 * Trust replays and refusals. `live` (may be NULL) is a token with uses
 * left: the requests using it must be refused after the token check
 * (409) or before it, and use nothing up.
 */
static void trust_cases(struct corpus *c, const char *live,
			const struct lic_key *fresh, const char *fresh_sn)
{
	char path[PATH_LEN], file[64], name[128];
	char *trust0 = NULL, *used = NULL, *p = NULL;
	json_t *pl;
	size_t i;

	for (i = 0; i < c->ndev; i++) {
		char *req;

		snprintf(file, sizeof(file), "trust-%zu.json", i);
		path_join(path, sizeof(path), c->keys_dir, file);
		req = read_file(path, LIC_ENVELOPE_MAX, NULL);
		snprintf(name, sizeof(name),
			 "replay of device %zu's trust request (token used "
			 "up)",
			 i);
		emit(c, name, "trust", "403", req);
		if (i == 0)
			trust0 = req;
		else
			free(req);
	}
	if (trust0 == NULL) {
		c->errors++;
		return;
	}
	p = payload_of(trust0);
	pl = p != NULL ? json_loads(p, 0, NULL) : NULL;
	if (json_string_value(json_object_get(pl, "token")) != NULL)
		used = strdup(json_string_value(json_object_get(pl, "token")));
	json_decref(pl);
	free(p);
	if (used == NULL) {
		c->errors++;
		free(trust0);
		return;
	}
	emit(c, "trust request replayed to usage", "usage", "400", trust0);
	emit(c, "trust request replayed to acks", "acks", "400", trust0);
	emit(c, "trust request replayed to trust?force=1", "trust?force=1",
	     "403", trust0);
	truncations(c, "trust request", "trust", trust0, 20);
	flips(c, "trust request", "trust", trust0, NULL, false, 15);
	flips(c, "trust request", "trust", trust0, NULL, true, 10);
	emit_own(c, "device 0 again with force, token used up", "trust", "403",
		 trust_request(c->dev[0].key, c->dev[0].sn, used, true));
	emit_own(c, "new device, token used up", "trust", "403",
		 trust_request(fresh, fresh_sn, used, false));
	emit_own(c, "new device, unknown token", "trust", "403",
		 trust_request(fresh, fresh_sn, "no-such-token", false));
	emit_own(c, "new key for device 0's UDI, token used up", "trust", "403",
		 trust_request(fresh, c->dev[0].sn, used, false));
	if (live != NULL) {
		emit_own(c,
			 "new key for device 0's UDI without force (live "
			 "token)",
			 "trust", "409",
			 trust_request(fresh, c->dev[0].sn, live, false));
		emit_own(c,
			 "new key for device 1's UDI without force (live "
			 "token)",
			 "trust", "409",
			 trust_request(fresh, c->dev[1].sn, live, false));
	}
	p = trust_request(fresh, fresh_sn, live != NULL ? live : used, false);
	if (p != NULL) {
		char *payload = payload_of(p);

		if (payload != NULL)
			payload_muts(c, "trust request", "trust", fresh,
				     payload, trust_muts,
				     sizeof(trust_muts) /
					     sizeof(trust_muts[0]));
		/* Signed by device 1's key: not the key it carries. */
		emit_own(c, "trust request signed by another key", "trust",
			 "401",
			 payload ? seal_any(c->dev[1].key, payload) : NULL);
		free(payload);
	} else {
		c->errors++;
	}
	free(p);
	free(used);
	free(trust0);
}

/* A payload mutation built at run time (one value). */
static void one_mut(struct corpus *c, const char *what, const char *path,
		    const struct lic_key *k, const char *payload,
		    const char *mpath, const char *value, const char *expect)
{
	struct pmut m = {mpath, value, expect};

	payload_muts(c, what, path, k, payload, &m, 1);
}

static int run_corpus(const struct opts *o)
{
	struct corpus c;
	struct lic_ack_poll_info pi;
	struct lic_key *fresh = NULL;
	char path[PATH_LEN], fresh_id[LIC_KEY_ID_LEN + 1], fresh_sn[32];
	char rid[LIC_REPORT_ID_LEN + 1], sn_json[64];
	const char *ids[1];
	char *R = NULL, *E = NULL, *P = NULL, *PP = NULL;
	int rc = EXIT_FAIL;

	memset(&c, 0, sizeof(c));
	c.dir = o->out;
	c.keys_dir = o->keys_dir;
	if (mkdir(o->out, 0700) != 0 && errno != EEXIST) {
		fail("%s: %s", o->out, strerror(errno));
		return EXIT_FAIL;
	}
	c.dev = devices_load(o->keys_dir, &c.ndev);
	if (c.dev == NULL)
		return EXIT_FAIL;
	if (c.ndev < 2) {
		fail("corpus: needs at least 2 trusted devices");
		goto out;
	}
	path_join(path, sizeof(path), o->out, "manifest.tsv");
	c.manifest = fopen(path, "w");
	if (c.manifest == NULL) {
		fail("%s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(c.manifest, "# file\tmethod\tpath\tcontent-type\tframing\t"
			    "expect\tname\n");
	if (lic_key_generate(&fresh, NULL, 0) != 0 ||
	    lic_report_id_new(rid, NULL, 0) != 0)
		goto out;
	lic_key_id(fresh, fresh_id);
	snprintf(fresh_sn, sizeof(fresh_sn), "UNTRUSTED%.16s", fresh_id);
	snprintf(sn_json, sizeof(sn_json), "\"%s\"", fresh_sn);

	/* Usage reports of device 0. */
	R = base_report(&c, 0);
	E = R != NULL ? seal_padded(c.dev[0].key, R) : NULL;
	if (E == NULL) {
		fail("corpus: cannot build the base report");
		goto out;
	}
	envelope_cases(&c, E, fresh);
	payload_muts(&c, "report", "usage", c.dev[0].key, R, report_muts,
		     sizeof(report_muts) / sizeof(report_muts[0]));
	truncations(&c, "report", "usage", E, 60);
	flips(&c, "report", "usage", E, LIC_TYPE_REPORT, false, 40);
	flips(&c, "report", "usage", E, LIC_TYPE_REPORT, true, 80);
	one_mut(&c, "report of an untrusted device", "usage", fresh, R,
		"udi.sn", sn_json, "403");
	emit_own(&c, "device 0's report signed by an untrusted key", "usage",
		 "401", seal_any(fresh, R));
	emit_own(&c, "device 0's report signed by device 1", "usage", "401",
		 seal_any(c.dev[1].key, R));
	emit(&c, "report to acks", "acks", "400", E);
	emit(&c, "report to trust", "trust", "400", E);
	flips(&c, "deferred report", "usage?ack=deferred", E, LIC_TYPE_REPORT,
	      true, 5);
	flips(&c, "deferred report", "usage?ack=deferred", E, LIC_TYPE_REPORT,
	      false, 5);

	/* ACK polls of device 0. */
	ids[0] = rid;
	memset(&pi, 0, sizeof(pi));
	pi.udi.pid = c.dev[0].pid;
	pi.udi.sn = c.dev[0].sn;
	pi.report_ids = ids;
	pi.nids = 1;
	pi.created_s = clk_wall_ms() / 1000;
	if (lic_ack_poll_build(c.dev[0].key, &pi, &P, NULL, NULL, 0) != 0 ||
	    (PP = payload_of(P)) == NULL) {
		fail("corpus: cannot build the base ACK poll");
		goto out;
	}
	payload_muts(&c, "ack poll", "acks", c.dev[0].key, PP, poll_muts,
		     sizeof(poll_muts) / sizeof(poll_muts[0]));
	truncations(&c, "ack poll", "acks", P, 20);
	flips(&c, "ack poll", "acks", P, LIC_TYPE_ACK_POLL, false, 15);
	flips(&c, "ack poll", "acks", P, LIC_TYPE_ACK_POLL, true, 10);
	one_mut(&c, "ack poll of an untrusted device", "acks", fresh, PP,
		"udi.sn", sn_json, "403");
	emit_own(&c, "device 0's ack poll signed by an untrusted key", "acks",
		 "401", seal_any(fresh, PP));
	emit(&c, "ack poll to usage", "usage", "400", P);
	emit(&c, "ack poll to trust", "trust", "400", P);

	trust_cases(&c, o->token, fresh, fresh_sn);
	junk_cases(&c);
	http_cases(&c, E);
	raw_cases(&c);
	if (fclose(c.manifest) != 0)
		c.errors++;
	c.manifest = NULL;
	printf("licload corpus: %u request(s) in %s\n", c.n, o->out);
	rc = c.errors == 0 ? 0 : EXIT_FAIL;
	if (c.errors)
		fail("corpus: %d error(s)", c.errors);
out:
	if (c.manifest != NULL)
		fclose(c.manifest);
	free(R);
	free(E);
	free(P);
	free(PP);
	lic_key_free(&fresh);
	devices_free(c.dev, c.ndev);
	return rc;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct opts o;
	size_t m;

	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	for (m = 0; argc >= 2 && m < NMODES; m++)
		if (strcmp(argv[1], mode_table[m].name) == 0) {
			if (parse_opts(argc, argv, mode_table[m].mode, &o) !=
			    0) {
				usage(stderr);
				return EXIT_USAGE;
			}
			return mode_table[m].run(&o);
		}
	usage(stderr);
	return EXIT_USAGE;
}
