/*
 * lsrv cli: licd's commands (see cli.h). Options may come before or after
 * the command words (`licd -S DIR account create A`, `licd serve -S DIR
 * --listen ADDR:PORT`); each command says which options it takes.
 */
#include "licd/cli.h"

#include "common/clk.h"
#include "common/err.h"
#include "common/fileio.h"
#include "licd/inventory.h"
#include "licensing/keys.h"
#include "common/log.h"
#include "licd/store.h"
#include "licensing/policy.h"
#include "licd/server.h"
#include "licd/service.h"
#include "licd/tls.h"
#include "licd/token.h"
#include "licensing/trust.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#define FAC "LICD"
#define ERR_MAX 512
#define PATH_MAX_LEN 4096
#define MAX_WORDS 8

#define KEY_FILE "server.key"
#define TOKEN_DAYS_DEFAULT 30
#define TOKEN_DAYS_MAX 3650
#define TOKEN_USES_DEFAULT 100
#define TOKEN_USES_MAX 1000000

enum opt {
	OPT_JSON = 1 << 0,
	OPT_DAYS = 1 << 1,
	OPT_USES = 1 << 2,
	OPT_LISTEN = 1 << 3,
	OPT_ACK_OUT = 1 << 4,
};

/* A parsed command line. */
struct cli {
	const char *state_dir;
	const char *listen;
	const char *ack_out;
	bool json;
	long long days, uses;
	unsigned seen; /* enum opt bits given */
	char *words[MAX_WORDS];
	int nwords;
	char err[ERR_MAX];
};

typedef int cmd_fn(struct cli *c, char **args);

static cmd_fn cmd_serve, cmd_account_create, cmd_va_create, cmd_token_create,
	cmd_purchase, cmd_inventory, cmd_devices, cmd_policy_set,
	cmd_policy_show, cmd_policy_export, cmd_import_usage;

static const struct cmd {
	const char *words[2]; /* command words; [1] may be NULL */
	int nargs;	      /* positional arguments after them */
	const char *synopsis; /* arguments and options, for help */
	unsigned opts;	      /* options it accepts */
	unsigned required;    /* options it needs */
	cmd_fn *fn;
	const char *help;
} cmds[] = {
	{{"serve", NULL}, 0, "--listen ADDR:PORT", OPT_LISTEN, OPT_LISTEN,
	 cmd_serve, "serve the API under https://ADDR:PORT/licensing/v1/"},
	{{"account", "create"}, 1, "<account>", 0, 0, cmd_account_create,
	 "create a smart account"},
	{{"va", "create"}, 2, "<account> <va>", 0, 0, cmd_va_create,
	 "create a virtual account"},
	{{"token", "create"}, 2, "<account> <va> [--days N] [--uses N]",
	 OPT_DAYS | OPT_USES, 0, cmd_token_create,
	 "print a new id token for the virtual account (default 30 days, "
	 "100 uses)"},
	{{"purchase", NULL}, 4, "<account> <va> <tag> <count>", 0, 0,
	 cmd_purchase, "set the purchased count of a tag"},
	{{"inventory", NULL}, 2, "<account> <va> [--json]", OPT_JSON, 0,
	 cmd_inventory, "Purchased, In Use, Balance per tag"},
	{{"devices", NULL}, 2, "<account> <va> [--json]", OPT_JSON, 0,
	 cmd_devices, "the product instances of the virtual account"},
	{{"policy", "set"}, 3, "<account> <va> <file>", 0, 0, cmd_policy_set,
	 "set the customer policy (policy JSON) of the virtual account"},
	{{"policy", "show"}, 2, "<account> <va>", 0, 0, cmd_policy_show,
	 "print the policy devices of the virtual account get"},
	{{"policy", "export"}, 3, "<account> <va> <file>", 0, 0,
	 cmd_policy_export,
	 "write that policy as a signed policy file for offline devices"},
	{{"import-usage", NULL}, 1, "<file> --ack-out <ackfile>", OPT_ACK_OUT,
	 OPT_ACK_OUT, cmd_import_usage,
	 "verify and store an offline usage file, write its ACK file"},
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: licd -S STATE_DIR COMMAND ...\n\ncommands:\n");
	for (i = 0; i < NCMDS; i++)
		fprintf(out, "  %s%s%s %s\n      %s\n", cmds[i].words[0],
			cmds[i].words[1] ? " " : "",
			cmds[i].words[1] ? cmds[i].words[1] : "",
			cmds[i].synopsis, cmds[i].help);
	fprintf(out, "\nexit status: 0 ok, 1 operational error, "
		     "2 usage error\n");
}

/* "licd: <message>" as one line on stderr. */
static void vsay(const char *fmt, va_list ap)
{
	fputs("licd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* Operational failure: one line on stderr. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	return LSRV_EXIT_FAIL;
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	fputs("(licd --help lists the commands)\n", stderr);
	return LSRV_EXIT_USAGE;
}

static int64_t now_s(void)
{
	return clk_wall_ms() / 1000;
}

/* A decimal integer in lo..hi, the whole string. */
static bool parse_num(const char *s, long long lo, long long hi,
		      long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || (*s < '0' || *s > '9'))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* ---- shared steps ------------------------------------------------------ */

/* STATE_DIR exists (created 0700 when missing) and is a directory. */
static int state_dir_ready(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		err_set(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		err_set(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	return 0;
}

static struct lsrv_store *store_open(struct cli *c)
{
	char path[PATH_MAX_LEN];

	if (state_dir_ready(c->state_dir, c->err, sizeof(c->err)) != 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", c->state_dir, LSRV_STORE_FILE);
	return lsrv_store_open(path, c->err, sizeof(c->err));
}

/* The signing key, created (0600) on first use. */
static struct lic_key *server_key(struct cli *c)
{
	char path[PATH_MAX_LEN];
	struct lic_key *k = NULL;
	int created = 0;

	snprintf(path, sizeof(path), "%s/%s", c->state_dir, KEY_FILE);
	if (lic_key_load_or_create(path, &k, &created, c->err,
				   sizeof(c->err)) != 0)
		return NULL;
	if (created)
		log_msg(LOG_LVL_NOTICE, FAC, "KEY_CREATED",
			"new signing key %s", path);
	return k;
}

/* Store open and account/va resolved; exit status on failure. */
static int open_va(struct cli *c, const char *account, const char *va,
		   struct lsrv_store **st, int64_t *va_id)
{
	*st = store_open(c);
	if (*st == NULL)
		return fail("%s", c->err);
	if (lsrv_store_va_find(*st, account, va, va_id, c->err,
			       sizeof(c->err)) != LSRV_ST_OK) {
		lsrv_store_free(st);
		return fail("%s", c->err);
	}
	return LSRV_EXIT_OK;
}

/* The store, the signing key and the service on them; NULL with the
 * reason in c->err (*st and *key, when set, are the caller's to free). */
static struct lsrv_service *service_open(struct cli *c,
					 struct lsrv_store **st,
					 struct lic_key **key)
{
	*st = store_open(c);
	if (*st == NULL)
		return NULL;
	*key = server_key(c);
	if (*key == NULL)
		return NULL;
	return lsrv_service_new(*st, *key, c->err, sizeof(c->err));
}

/* ---- serve ------------------------------------------------------------- */

/*
 * ADDR:PORT, [IPv6]:PORT or IPv6 literal without brackets is ambiguous and
 * refused. host gets ADDR without brackets.
 */
static int parse_listen(const char *s, char *host, size_t hostlen,
			int *port)
{
	const char *colon;
	long long p;
	size_t hl;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		hl = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen || !parse_num(colon + 1, 0, 65535, &p))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_msg(LOG_LVL_NOTICE, FAC, "STOP", "signal %d: shutting down",
		(int)sig);
	event_base_loopexit(arg, NULL);
}

static int cmd_serve(struct cli *c, char **args)
{
	char host[LSRV_HOST_MAX + 1], warn[ERR_MAX];
	struct lsrv_store *st = NULL;
	struct lic_key *key = NULL;
	struct lsrv_service *svc = NULL;
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	struct lsrv_server *srv = NULL;
	SSL_CTX *ctx = NULL;
	int port = 0, rc = LSRV_EXIT_FAIL;

	(void)args;
	if (parse_listen(c->listen, host, sizeof(host), &port) != 0)
		return usage_error("--listen wants ADDR:PORT or [IPV6]:PORT, "
				   "not \"%s\"",
				   c->listen);
	log_set_level(LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	svc = service_open(c, &st, &key);
	if (svc == NULL)
		goto out_err;
	ctx = lsrv_tls_context(c->state_dir, host, now_s(), warn, sizeof(warn),
			       c->err, sizeof(c->err));
	if (ctx == NULL)
		goto out_err;
	if (warn[0] != '\0')
		log_msg(LOG_LVL_WARNING, FAC, "CERT_NAME", "%s", warn);
	base = event_base_new();
	if (base == NULL) {
		err_set(c->err, sizeof(c->err), "cannot create event base");
		goto out_err;
	}
	srv = lsrv_server_new(base, svc, ctx, host, port, c->err,
			      sizeof(c->err));
	if (srv == NULL)
		goto out_err;
	sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	sigint = evsignal_new(base, SIGINT, stop_cb, base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ||
	    evsignal_add(sigint, NULL)) {
		err_set(c->err, sizeof(c->err), "cannot catch signals");
		goto out_err;
	}
	/* Tests read the port from this line: one line, flushed. */
	printf("licd: listening on %s%s%s:%d\n", strchr(host, ':') ? "[" : "",
	       host, strchr(host, ':') ? "]" : "", lsrv_server_port(srv));
	fflush(stdout);
	log_msg(LOG_LVL_NOTICE, FAC, "START",
		"serving https://%s%s%s:%d" LSRV_API_PREFIX " from %s",
		strchr(host, ':') ? "[" : "", host,
		strchr(host, ':') ? "]" : "", lsrv_server_port(srv),
		c->state_dir);
	if (event_base_dispatch(base) != 0) {
		err_set(c->err, sizeof(c->err), "event loop failed");
		goto out_err;
	}
	rc = LSRV_EXIT_OK;
	goto out;
out_err:
	fail("%s", c->err);
out:
	lsrv_server_free(&srv);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (base != NULL)
		event_base_free(base);
	SSL_CTX_free(ctx);
	lsrv_service_free(&svc);
	lic_key_free(&key);
	lsrv_store_free(&st);
	return rc;
}

/* ---- administration ---------------------------------------------------- */

/* The exit status of a create the store answered r to. */
static int create_status(struct cli *c, enum lsrv_st r)
{
	if (r == LSRV_ST_INVALID)
		return usage_error("%s", c->err);
	return r == LSRV_ST_OK ? LSRV_EXIT_OK : fail("%s", c->err);
}

static int cmd_account_create(struct cli *c, char **args)
{
	struct lsrv_store *st = store_open(c);
	enum lsrv_st r;

	if (st == NULL)
		return fail("%s", c->err);
	r = lsrv_store_account_create(st, args[0], now_s(), c->err,
				      sizeof(c->err));
	lsrv_store_free(&st);
	return create_status(c, r);
}

static int cmd_va_create(struct cli *c, char **args)
{
	struct lsrv_store *st = store_open(c);
	enum lsrv_st r;

	if (st == NULL)
		return fail("%s", c->err);
	r = lsrv_store_va_create(st, args[0], args[1], now_s(), c->err,
				 sizeof(c->err));
	lsrv_store_free(&st);
	return create_status(c, r);
}

static int cmd_token_create(struct cli *c, char **args)
{
	char tok[LSRV_TOKEN_LEN + 1], hash[LSRV_TOKEN_HASH_LEN + 1];
	struct lsrv_store *st = NULL;
	int64_t va_id = 0, now = now_s();
	int rc;

	rc = open_va(c, args[0], args[1], &st, &va_id);
	if (rc != LSRV_EXIT_OK)
		return rc;
	if (lsrv_token_new(tok, c->err, sizeof(c->err)) != 0 ||
	    lsrv_token_hash(tok, hash) != 0) {
		rc = fail("cannot make a token: %s", c->err);
		goto out;
	}
	if (lsrv_store_token_add(st, va_id, hash, now,
				 now + c->days * 86400LL, c->uses, c->err,
				 sizeof(c->err)) != LSRV_ST_OK) {
		rc = fail("%s", c->err);
		goto out;
	}
	printf("%s\n", tok);
	rc = fflush(stdout) == 0 ? LSRV_EXIT_OK : fail("cannot write stdout");
out:
	lsrv_store_free(&st);
	return rc;
}

static int cmd_purchase(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	int64_t va_id = 0;
	long long count;
	enum lsrv_st r;
	int tag, rc;

	tag = lic_tag_parse(args[2]);
	if (tag < 0)
		return usage_error("unknown tag %s (CUBE_T_STD, CUBE_T_ENH, "
				   "CUBE_T_RED)",
				   args[2]);
	if (tag == LIC_TAG_VGW)
		return usage_error("CUBE_T_VGW is not purchased: its "
				   "Purchased always equals In Use");
	if (args[3][0] == '-')
		return usage_error("count must be 0 or more (0..%lld)",
				   LIC_COUNT_MAX);
	if (!parse_num(args[3], 0, LIC_COUNT_MAX, &count))
		return usage_error("count must be 0..%lld", LIC_COUNT_MAX);
	rc = open_va(c, args[0], args[1], &st, &va_id);
	if (rc != LSRV_EXIT_OK)
		return rc;
	r = lsrv_store_purchase_set(st, va_id, (enum lic_tag)tag, count,
				    now_s(), c->err, sizeof(c->err));
	lsrv_store_free(&st);
	return r == LSRV_ST_OK ? LSRV_EXIT_OK : fail("%s", c->err);
}

/* Opens the virtual account args[0]/args[1] and reads its devices (*rows
 * to free(), *st to lsrv_store_free() whatever the result). */
static int open_devices(struct cli *c, char **args, struct lsrv_store **st,
			struct lsrv_device_row **rows, size_t *n,
			int64_t purchased[LIC_TAG_COUNT])
{
	int64_t va_id = 0;
	int rc = open_va(c, args[0], args[1], st, &va_id);

	if (rc != LSRV_EXIT_OK)
		return rc;
	if (lsrv_store_devices(*st, va_id, rows, n, purchased, c->err,
			       sizeof(c->err)) != LSRV_ST_OK)
		return fail("%s", c->err);
	return LSRV_EXIT_OK;
}

static int cmd_inventory(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	struct lsrv_device_row *rows = NULL;
	struct lsrv_inv_member *m = NULL;
	struct lsrv_inv_line lines[LIC_TAG_COUNT];
	struct lsrv_inv_note *notes = NULL;
	int64_t purchased[LIC_TAG_COUNT];
	size_t n = 0, i, nnotes = 0;
	int rc;

	rc = open_devices(c, args, &st, &rows, &n, purchased);
	if (rc != LSRV_EXIT_OK)
		goto out;
	m = calloc(n + 1, sizeof(*m));
	notes = calloc(n / 3 + 1, sizeof(*notes));
	if (m == NULL || notes == NULL) {
		rc = fail("out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		m[i].ha_group = rows[i].ha_group;
		memcpy(m[i].has, rows[i].has, sizeof(m[i].has));
		memcpy(m[i].count, rows[i].latest, sizeof(m[i].count));
	}
	lsrv_inventory(purchased, m, n, lines, notes, &nnotes);
	rc = lsrv_inventory_render(stdout, args[0], args[1], lines, notes,
				   nnotes, c->json) == 0
		     ? LSRV_EXIT_OK
		     : fail("cannot write stdout");
out:
	free(notes);
	free(m);
	free(rows);
	lsrv_store_free(&st);
	return rc;
}

static json_t *device_json(const struct lsrv_device_row *d)
{
	json_t *o, *latest = json_object();
	int t;

	for (t = 0; latest != NULL && t < LIC_TAG_COUNT; t++)
		json_object_set_new(latest, lic_tag_name((enum lic_tag)t),
				    d->has[t] ? json_integer(d->latest[t])
					      : json_null());
	o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:I, s:o, "
		      "s:o}",
		      "pid", d->pid, "sn", d->sn, "key_id", d->key_id,
		      "trusted", (json_int_t)d->trusted, "hostname",
		      d->hostname[0] ? json_string(d->hostname) : json_null(),
		      "release",
		      d->release[0] ? json_string(d->release) : json_null(),
		      "ha_group",
		      d->ha_group[0] ? json_string(d->ha_group) : json_null(),
		      "ha_role",
		      d->ha_role[0] ? json_string(d->ha_role) : json_null(),
		      "reports", (json_int_t)d->reports, "last_report",
		      d->last_report ? json_integer(d->last_report)
				     : json_null(),
		      "latest", latest != NULL ? latest : json_null());
	return o;
}

static int devices_json(const char *account, const char *va,
			const struct lsrv_device_row *rows, size_t n)
{
	json_t *root, *arr = json_array();
	char *text = NULL;
	size_t i;
	int rc = -1;

	root = json_pack("{s:s, s:s}", "account", account, "virtual_account",
			 va);
	if (root == NULL || arr == NULL ||
	    json_object_set(root, "devices", arr) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, device_json(&rows[i])) != 0)
			goto out;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text != NULL && printf("%s\n", text) >= 0)
		rc = 0;
out:
	free(text);
	json_decref(arr);
	json_decref(root);
	return rc;
}

static int devices_text(const char *account, const char *va,
			const struct lsrv_device_row *rows, size_t n)
{
	char t1[LIC_TIME_STR_LEN], t2[LIC_TIME_STR_LEN];
	size_t i;
	int t;

	printf("Smart Account: %s\nVirtual Account: %s\nDevices: %zu\n",
	       account, va, n);
	for (i = 0; i < n; i++) {
		const struct lsrv_device_row *d = &rows[i];

		lic_time_format(d->trusted, t1, sizeof(t1));
		lic_time_format(d->last_report, t2, sizeof(t2));
		printf("\nUDI: PID:%s,SN:%s\n", d->pid, d->sn);
		printf("  Device key ID: %s\n", d->key_id);
		printf("  Trusted: %s\n", t1);
		printf("  Hostname: %s\n", d->hostname[0] ? d->hostname : "-");
		printf("  Release: %s\n", d->release[0] ? d->release : "-");
		printf("  HA group: %s (%s)\n",
		       d->ha_group[0] ? d->ha_group : "none",
		       d->ha_role[0] ? d->ha_role : "-");
		printf("  Reports: %lld, last received %s\n",
		       (long long)d->reports, t2);
		printf("  Latest usage:");
		for (t = 0; t < LIC_TAG_COUNT; t++) {
			if (d->has[t])
				printf(" %s %lld",
				       lic_tag_name((enum lic_tag)t),
				       (long long)d->latest[t]);
			else
				printf(" %s -", lic_tag_name((enum lic_tag)t));
			printf("%s", t + 1 < LIC_TAG_COUNT ? "," : "\n");
		}
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

static int cmd_devices(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	struct lsrv_device_row *rows = NULL;
	int64_t purchased[LIC_TAG_COUNT];
	size_t n = 0;
	int rc;

	rc = open_devices(c, args, &st, &rows, &n, purchased);
	if (rc != LSRV_EXIT_OK)
		goto out;
	if ((c->json ? devices_json(args[0], args[1], rows, n)
		     : devices_text(args[0], args[1], rows, n)) != 0)
		rc = fail("cannot write stdout");
out:
	free(rows);
	lsrv_store_free(&st);
	return rc;
}

static int cmd_policy_set(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	int64_t va_id = 0;
	char *buf = NULL;
	size_t len = 0;
	enum lsrv_st r;
	int rc;

	if (fio_read_file(args[2], LIC_POLICY_JSON_MAX, &buf, &len, c->err,
			  sizeof(c->err)) != 0)
		return fail("%s", c->err);
	rc = open_va(c, args[0], args[1], &st, &va_id);
	if (rc == LSRV_EXIT_OK) {
		r = lsrv_store_policy_set(st, va_id, buf, now_s(), c->err,
					  sizeof(c->err));
		if (r != LSRV_ST_OK)
			rc = fail("%s: %s", args[2], c->err);
	}
	free(buf);
	lsrv_store_free(&st);
	return rc;
}

static int cmd_policy_show(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	int64_t va_id = 0, version = 0;
	char *json = NULL;
	int rc;

	rc = open_va(c, args[0], args[1], &st, &va_id);
	if (rc != LSRV_EXIT_OK)
		return rc;
	if (lsrv_store_policy_get(st, va_id, &json, &version, c->err,
				  sizeof(c->err)) != LSRV_ST_OK)
		rc = fail("%s", c->err);
	else if (printf("%s\n", json) < 0 || fflush(stdout) != 0)
		rc = fail("cannot write stdout");
	free(json);
	lsrv_store_free(&st);
	return rc;
}

static int cmd_policy_export(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	struct lic_key *key = NULL;
	int64_t va_id = 0;
	char *json = NULL, *env = NULL;
	size_t len = 0;
	int rc;

	rc = open_va(c, args[0], args[1], &st, &va_id);
	if (rc != LSRV_EXIT_OK)
		return rc;
	rc = LSRV_EXIT_FAIL;
	key = server_key(c);
	if (key == NULL ||
	    lsrv_store_policy_get(st, va_id, &json, NULL, c->err,
				  sizeof(c->err)) != LSRV_ST_OK ||
	    lic_policy_file_build(key, NULL, now_s(), json, &env, &len, c->err,
				  sizeof(c->err)) != 0 ||
	    fio_write_atomic(args[2], env, len, 0644, c->err,
			     sizeof(c->err)) != 0)
		fail("%s", c->err);
	else
		rc = LSRV_EXIT_OK;
	free(env);
	free(json);
	lic_key_free(&key);
	lsrv_store_free(&st);
	return rc;
}

static int cmd_import_usage(struct cli *c, char **args)
{
	struct lsrv_store *st = NULL;
	struct lic_key *key = NULL;
	struct lsrv_service *svc = NULL;
	char *buf = NULL, *ack = NULL;
	size_t len = 0, acklen = 0, n = 0;
	int rc = LSRV_EXIT_FAIL;

	if (fio_read_file(args[0], LSRV_USAGE_FILE_MAX, &buf, &len, c->err,
			  sizeof(c->err)) != 0)
		return fail("%s", c->err);
	svc = service_open(c, &st, &key);
	if (svc == NULL ||
	    lsrv_import_usage(svc, buf, len, now_s(), &ack, &acklen, &n,
			      c->err, sizeof(c->err)) != 0 ||
	    fio_write_atomic(c->ack_out, ack, acklen, 0644, c->err,
			     sizeof(c->err)) != 0)
		goto out_err;
	printf("%zu report(s) acknowledged in %s\n", n, c->ack_out);
	rc = fflush(stdout) == 0 ? LSRV_EXIT_OK : fail("cannot write stdout");
	goto out;
out_err:
	fail("%s: %s", args[0], c->err);
out:
	free(ack);
	free(buf);
	lsrv_service_free(&svc);
	lic_key_free(&key);
	lsrv_store_free(&st);
	return rc;
}

/* ---- parsing ----------------------------------------------------------- */

static const char *opt_name(unsigned bit)
{
	switch (bit) {
	case OPT_JSON:
		return "--json";
	case OPT_DAYS:
		return "--days";
	case OPT_USES:
		return "--uses";
	case OPT_LISTEN:
		return "--listen";
	default:
		return "--ack-out";
	}
}

/* Options anywhere, words in order. LSRV_EXIT_OK or an exit status. */
static int parse_args(struct cli *c, int argc, char **argv, bool *help)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help = true;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
			c->seen |= OPT_JSON;
		} else if (strcmp(a, "-S") == 0 || strcmp(a, "--listen") == 0 ||
			   strcmp(a, "--ack-out") == 0 ||
			   strcmp(a, "--days") == 0 ||
			   strcmp(a, "--uses") == 0) {
			if (v == NULL || v[0] == '\0')
				return usage_error("%s needs a value", a);
			i++;
			if (strcmp(a, "-S") == 0) {
				c->state_dir = v;
			} else if (strcmp(a, "--listen") == 0) {
				c->listen = v;
				c->seen |= OPT_LISTEN;
			} else if (strcmp(a, "--ack-out") == 0) {
				c->ack_out = v;
				c->seen |= OPT_ACK_OUT;
			} else if (strcmp(a, "--days") == 0) {
				if (!parse_num(v, 1, TOKEN_DAYS_MAX, &c->days))
					return usage_error(
						"--days must be 1..%d",
						TOKEN_DAYS_MAX);
				c->seen |= OPT_DAYS;
			} else {
				if (!parse_num(v, 1, TOKEN_USES_MAX, &c->uses))
					return usage_error(
						"--uses must be 1..%d",
						TOKEN_USES_MAX);
				c->seen |= OPT_USES;
			}
		} else if (a[0] == '-' && a[1] != '\0' &&
			   !(a[1] >= '0' && a[1] <= '9')) {
			/* "-5" is a (bad) number, left to the command. */
			return usage_error("unknown option %s", a);
		} else {
			if (c->nwords == MAX_WORDS)
				return usage_error("too many arguments");
			c->words[c->nwords++] = argv[i];
		}
	}
	return LSRV_EXIT_OK;
}

int lsrv_cli_main(int argc, char **argv)
{
	struct cli c;
	const struct cmd *cmd = NULL;
	bool help = false;
	size_t i;
	int nw, rc;
	unsigned bit;

	memset(&c, 0, sizeof(c));
	c.days = TOKEN_DAYS_DEFAULT;
	c.uses = TOKEN_USES_DEFAULT;
	log_open("licd", 0);
	/* Admin commands print results, not INFO lines; serve raises it. */
	log_set_level(LOG_LVL_NOTICE);
	rc = parse_args(&c, argc, argv, &help);
	if (rc != LSRV_EXIT_OK)
		goto out;
	if (help) {
		usage(stdout);
		rc = LSRV_EXIT_OK;
		goto out;
	}
	for (i = 0; i < NCMDS && cmd == NULL; i++) {
		nw = cmds[i].words[1] != NULL ? 2 : 1;
		if (c.nwords >= nw &&
		    strcmp(c.words[0], cmds[i].words[0]) == 0 &&
		    (nw == 1 || strcmp(c.words[1], cmds[i].words[1]) == 0))
			cmd = &cmds[i];
	}
	if (cmd == NULL) {
		if (c.nwords == 0) {
			usage(stderr);
			rc = LSRV_EXIT_USAGE;
		} else {
			rc = usage_error("unknown command \"%s%s%s\"",
					 c.words[0], c.nwords > 1 ? " " : "",
					 c.nwords > 1 ? c.words[1] : "");
		}
		goto out;
	}
	nw = cmd->words[1] != NULL ? 2 : 1;
	if (c.nwords - nw != cmd->nargs) {
		rc = usage_error("usage: licd -S STATE_DIR %s%s%s %s",
				 cmd->words[0], cmd->words[1] ? " " : "",
				 cmd->words[1] ? cmd->words[1] : "",
				 cmd->synopsis);
		goto out;
	}
	for (bit = 1; bit <= OPT_ACK_OUT; bit <<= 1) {
		if ((c.seen & bit) && !(cmd->opts & bit)) {
			rc = usage_error("%s does not apply to %s",
					 opt_name(bit), cmd->words[0]);
			goto out;
		}
		if ((cmd->required & bit) && !(c.seen & bit)) {
			rc = usage_error("%s needs %s", cmd->words[0],
					 opt_name(bit));
			goto out;
		}
	}
	if (c.state_dir == NULL) {
		rc = usage_error("-S STATE_DIR is required");
		goto out;
	}
	rc = cmd->fn(&c, c.words + nw);
out:
	log_close();
	return rc;
}
