/*
 * licd (licd/, docs/licd.md): tokens, trust, signed intake, idempotency,
 * policy delivery, ACK polls, the offline import, the inventory
 * arithmetic and the HTTP error statuses, through lsrv_handle() (no
 * sockets) with a frozen clock; one test runs the real HTTPS server in
 * process and talks to it with sbcd's own client (lic_http), so the
 * certificate licd makes is the one sbcd verifies.
 */
#include "common/clk.h"
#include "licensing/http.h"
#include "licd/inventory.h"
#include "licensing/keys.h"
#include "common/log.h"
#include "licd/store.h"
#include "licensing/policy.h"
#include "licensing/report.h"
#include "licd/server.h"
#include "licd/service.h"
#include "licd/tls.h"
#include "licd/token.h"
#include "licensing/trust.h"

#include "testkey.h"
#include "unit.h"

#include <check.h>
#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define DAY INT64_C(86400)

static char dir[128];

static struct {
	struct lsrv_store *st;
	struct lic_key *srv;
	struct lic_pubkey *srvpk;
	struct lsrv_service *svc;
	int64_t va_id;
} fx;

static const struct lic_udi UDI_A = {"CSR1000V", "SN-A"};
static const struct lic_udi UDI_B = {"CSR1000V", "SN-B"};
static const struct lic_udi UDI_C = {"CSR1000V", "SN-C"};

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static void setup(void)
{
	char p[256], err[256];

	clk_freeze(T0 * 1000, 0);
	log_set_level(LOG_LVL_ERR);
	snprintf(dir, sizeof(dir), "/tmp/test_licd.%ld", (long)getpid());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	path_in(p, sizeof(p), LSRV_STORE_FILE);
	fx.st = lsrv_store_open(p, err, sizeof(err));
	ck_assert_msg(fx.st != NULL, "%s", err);
	ck_assert_int_eq(lic_key_generate(&fx.srv, err, sizeof(err)), 0);
	ck_assert_int_eq(lic_key_public(fx.srv, &fx.srvpk, err, sizeof(err)),
			 0);
	fx.svc = lsrv_service_new(fx.st, fx.srv, err, sizeof(err));
	ck_assert_ptr_nonnull(fx.svc);
	ck_assert_int_eq(lsrv_store_account_create(fx.st, "SA-1", T0, err,
						   sizeof(err)),
			 LSRV_ST_OK);
	ck_assert_int_eq(lsrv_store_va_create(fx.st, "SA-1", "VA-1", T0, err,
					      sizeof(err)),
			 LSRV_ST_OK);
	ck_assert_int_eq(lsrv_store_va_find(fx.st, "SA-1", "VA-1", &fx.va_id,
					    err, sizeof(err)),
			 LSRV_ST_OK);
}

static void teardown(void)
{
	static const char *const names[] = {
		LSRV_STORE_FILE, LSRV_STORE_FILE "-wal", LSRV_STORE_FILE "-shm",
		LSRV_TLS_CERT_FILE, LSRV_TLS_KEY_FILE};
	char p[256];
	size_t i;

	lsrv_service_free(&fx.svc);
	lsrv_store_free(&fx.st);
	lic_pubkey_free(&fx.srvpk);
	lic_key_free(&fx.srv);
	for (i = 0; i < NELEM(names); i++) {
		path_in(p, sizeof(p), names[i]);
		unlink(p);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

static int64_t now_s(void)
{
	return clk_wall_ms() / 1000;
}

/* A POST of `body` to `target` through lsrv_handle. */
static struct lsrv_response post(const char *target, const char *body)
{
	struct lsrv_request rq;
	struct lsrv_response out;

	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.target = target;
	rq.content_type = "application/json";
	rq.length_known = true;
	rq.body = body;
	rq.len = body != NULL ? strlen(body) : 0;
	lsrv_handle(fx.svc, &rq, now_s(), &out);
	return out;
}

/* The "error" code of an error answer. */
static void assert_error(const struct lsrv_response *r, int status,
			 const char *code)
{
	json_t *o;

	ck_assert_msg(r->status == status, "status %d, want %d: %.*s",
		      r->status, status, (int)r->len,
		      r->body ? r->body : "");
	o = json_loadb(r->body, r->len, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(o, "error")), code);
	ck_assert(json_is_string(json_object_get(o, "message")));
	ck_assert(strchr(json_string_value(json_object_get(o, "message")),
			 '\n') == NULL);
	json_decref(o);
}

static char *token_for(int64_t days, int64_t uses)
{
	char tok[LSRV_TOKEN_LEN + 1], hash[LSRV_TOKEN_HASH_LEN + 1], err[256];

	ck_assert_int_eq(lsrv_token_new(tok, err, sizeof(err)), 0);
	ck_assert_int_eq(lsrv_token_hash(tok, hash), 0);
	ck_assert_int_eq(lsrv_store_token_add(fx.st, fx.va_id, hash, now_s(),
					      now_s() + days * DAY, uses, err,
					      sizeof(err)),
			 LSRV_ST_OK);
	return strdup(tok);
}

/* POST trust for (dev, udi); returns the status, checks a 200 answer. */
static int trust(const struct lic_key *dev, const struct lic_udi *udi,
		 const char *token, bool force)
{
	struct lic_trust_request_info ri;
	struct lic_trust_answer *a = NULL;
	struct lsrv_response r;
	char *env = NULL, err[256];
	int status;

	memset(&ri, 0, sizeof(ri));
	ri.token = token;
	ri.udi = *udi;
	ri.force = force;
	ri.created_s = now_s();
	ck_assert_int_eq(lic_trust_request_build(dev, &ri, &env, NULL, err,
						 sizeof(err)),
			 0);
	r = post("/licensing/v1/trust", env);
	status = r.status;
	if (status == 200) {
		ck_assert_msg(lic_trust_answer_parse(r.body, r.len, udi, dev,
						     &a, err,
						     sizeof(err)) == 0,
			      "%s", err);
		ck_assert_str_eq(lic_trust_answer_get(a)->virtual_account,
				 "VA-1");
		ck_assert_ptr_nonnull(lic_trust_answer_get(a)->policy_json);
		lic_trust_answer_free(&a);
	}
	lsrv_response_clear(&r);
	free(env);
	return status;
}

struct rec {
	const char *id;
	enum lic_tag tag;
	int64_t end;
	int64_t count;
};

/* A report envelope of `dev` for udi with up to 4 records. */
static char *report(const struct lic_key *dev, const struct lic_udi *udi,
		    const char *report_id, const char *ha_group,
		    const struct rec *recs, size_t n)
{
	struct lic_usage_record r[4];
	struct lic_report_info ri;
	char *env = NULL, err[256];
	size_t i;

	ck_assert_uint_le(n, 4);
	for (i = 0; i < n; i++) {
		r[i].id = recs[i].id;
		r[i].tag = recs[i].tag;
		r[i].start_s = recs[i].end - DAY;
		r[i].end_s = recs[i].end;
		r[i].count = recs[i].count;
	}
	memset(&ri, 0, sizeof(ri));
	ri.report_id = report_id;
	ri.release = "17.6.1a";
	ri.hostname = "cube1";
	ri.udi = *udi;
	ri.ha_group = ha_group;
	ri.ha_role = ha_group != NULL ? LIC_HA_ACTIVE : LIC_HA_STANDALONE;
	ri.created_s = now_s();
	ri.records = r;
	ri.nrecords = n;
	ck_assert_msg(lic_report_build(dev, &ri, &env, NULL, err,
				       sizeof(err)) == 0,
		      "%s", err);
	return env;
}

/* Parse a 200 ACK; returns it (caller frees). */
static struct lic_ack *ack_of(const struct lsrv_response *r,
			      const struct lic_udi *udi)
{
	struct lic_ack *a = NULL;
	char err[256];

	ck_assert_msg(r->status == 200, "status %d: %.*s", r->status,
		      (int)r->len, r->body ? r->body : "");
	ck_assert_msg(lic_ack_parse(fx.srvpk, r->body, r->len, udi, &a, err,
				    sizeof(err)) == 0,
		      "%s", err);
	return a;
}

/* The devices of VA-1 (caller frees). */
static struct lsrv_device_row *devices(size_t *n, int64_t p[LIC_TAG_COUNT])
{
	struct lsrv_device_row *rows = NULL;
	int64_t dummy[LIC_TAG_COUNT];
	char err[256];

	ck_assert_int_eq(lsrv_store_devices(fx.st, fx.va_id, &rows, n,
					    p != NULL ? p : dummy, err,
					    sizeof(err)),
			 LSRV_ST_OK);
	return rows;
}

static const char RID1[] = "9f0c3b5e2a7d4c18b6e1f0a2d3c4b5a6";
static const char RID2[] = "00112233445566778899aabbccddeeff";
static const char RID3[] = "ffeeddccbbaa99887766554433221100";

/* ---- tokens ------------------------------------------------------------ */

UNIT_TCASE("trust", .setup = setup, .teardown = teardown);

UNIT_TEST(token_format)
{
	char a[LSRV_TOKEN_LEN + 1], b[LSRV_TOKEN_LEN + 1];
	char ha[LSRV_TOKEN_HASH_LEN + 1], hb[LSRV_TOKEN_HASH_LEN + 1];
	size_t i;

	ck_assert_int_eq(lsrv_token_new(a, NULL, 0), 0);
	ck_assert_int_eq(lsrv_token_new(b, NULL, 0), 0);
	ck_assert_uint_eq(strlen(a), LSRV_TOKEN_LEN);
	ck_assert_str_ne(a, b);
	for (i = 0; i < LSRV_TOKEN_LEN; i++)
		ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
				 "tuvwxyz0123456789-_",
				 a[i]) != NULL);
	ck_assert_int_eq(lsrv_token_hash(a, ha), 0);
	ck_assert_int_eq(lsrv_token_hash(b, hb), 0);
	ck_assert_uint_eq(strlen(ha), LSRV_TOKEN_HASH_LEN);
	ck_assert_str_ne(ha, hb);
}
END_TEST

UNIT_TEST(token_use_limit)
{
	struct lic_key *a = testkey_new(), *b = testkey_new(), *c = testkey_new();
	char *tok = token_for(30, 2);

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	ck_assert_int_eq(trust(b, &UDI_B, tok, false), 200);
	ck_assert_int_eq(trust(c, &UDI_C, tok, false), 403);
	ck_assert_int_eq(trust(c, &UDI_C, "no-such-token", false), 403);
	free(tok);
	lic_key_free(&a);
	lic_key_free(&b);
	lic_key_free(&c);
}
END_TEST

UNIT_TEST(token_expiry)
{
	struct lic_key *a = testkey_new();
	char *tok = token_for(1, 10);
	struct lsrv_device dev;

	/* One second before expiry it works, at expiry it does not. */
	ck_assert_int_eq(clk_advance_ms((DAY - 1) * 1000), 0);
	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	ck_assert_int_eq(clk_advance_ms(1000), 0);
	ck_assert_int_eq(trust(a, &UDI_B, tok, false), 403);
	ck_assert_int_eq(lsrv_store_device_find(fx.st, &UDI_B, &dev, NULL, 0),
			 LSRV_ST_NOT_FOUND);
	free(tok);
	lic_key_free(&a);
}
END_TEST

/* A refused rebind (409) consumes no token use and changes nothing. */
UNIT_TEST(trust_binding)
{
	struct lic_key *a = testkey_new(), *a2 = testkey_new();
	char *tok = token_for(30, 1), *tok2 = token_for(30, 1);
	char kid[LIC_KEY_ID_LEN + 1];
	struct lsrv_device dev;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	ck_assert_int_eq(trust(a2, &UDI_A, tok2, false), 409);
	ck_assert_int_eq(lsrv_store_device_find(fx.st, &UDI_A, &dev, NULL, 0),
			 LSRV_ST_OK);
	lic_key_id(a, kid);
	ck_assert_str_eq(dev.key_id, kid);
	/* tok2 still has its use: force rebinds. */
	ck_assert_int_eq(trust(a2, &UDI_A, tok2, true), 200);
	ck_assert_int_eq(lsrv_store_device_find(fx.st, &UDI_A, &dev, NULL, 0),
			 LSRV_ST_OK);
	lic_key_id(a2, kid);
	ck_assert_str_eq(dev.key_id, kid);
	ck_assert_int_eq(trust(a2, &UDI_A, tok2, true), 403);
	free(tok);
	free(tok2);
	lic_key_free(&a);
	lic_key_free(&a2);
}
END_TEST

/*
 * Every row of every table of the store, as one string (caller frees):
 * "nothing changed" is this string being the same before and after.
 */
static char *store_dump(void)
{
	static const char *const tables[] = {"account", "va", "token",
					     "purchase", "device", "report",
					     "record"};
	char p[256], sql[128];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	sqlite3_str *out;
	size_t i;
	int c;

	path_in(p, sizeof(p), LSRV_STORE_FILE);
	ck_assert_int_eq(sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	out = sqlite3_str_new(db);
	for (i = 0; i < NELEM(tables); i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s ORDER BY 1, 2",
			 tables[i]);
		ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL),
				 SQLITE_OK);
		sqlite3_str_appendf(out, "%s:\n", tables[i]);
		while (sqlite3_step(q) == SQLITE_ROW) {
			for (c = 0; c < sqlite3_column_count(q); c++)
				sqlite3_str_appendf(
					out, "%s|",
					(const char *)sqlite3_column_text(q, c));
			sqlite3_str_appendall(out, "\n");
		}
		sqlite3_finalize(q);
	}
	{
		char *text = sqlite3_str_finish(out);
		char *copy = strdup(text);

		sqlite3_free(text);
		sqlite3_close(db);
		return copy;
	}
}

/* Run SQL on the store file behind the service's back. */
static void store_exec(const char *sql)
{
	char p[256];
	sqlite3 *db = NULL;

	path_in(p, sizeof(p), LSRV_STORE_FILE);
	ck_assert_int_eq(sqlite3_open(p, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A trust request of dev for udi answered at `now` (not the clock). */
static struct lsrv_response trust_at(const struct lic_key *dev,
				     const struct lic_udi *udi,
				     const char *token, bool force,
				     int64_t now)
{
	struct lic_trust_request_info ri;
	struct lsrv_request rq;
	struct lsrv_response out;
	char *env = NULL;

	memset(&ri, 0, sizeof(ri));
	ri.token = token;
	ri.udi = *udi;
	ri.force = force;
	ri.created_s = now_s();
	ck_assert_int_eq(lic_trust_request_build(dev, &ri, &env, NULL, NULL, 0),
			 0);
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.target = "/licensing/v1/trust";
	rq.content_type = "application/json";
	rq.length_known = true;
	rq.body = env;
	rq.len = strlen(env);
	lsrv_handle(fx.svc, &rq, now, &out);
	free(env);
	return out;
}

/*
 * Trust is all or nothing: when the signed answer cannot be made, the
 * token use, the binding (new or forced rebind) and the policy mark are
 * not stored either. Two ways to make lic_trust_answer_build refuse,
 * without a test hook: a time before 1970 ("issued" would be negative),
 * and a customer policy in the store that no longer validates.
 */
static const struct seal_case {
	const char *name;
	bool rebind;	      /* a forced rebind of UDI_A, else a new UDI_B */
	bool bad_policy;      /* else: now < 0 */
} seal_cases[] = {
	{"new device, time before 1970", false, false},
	{"forced rebind, time before 1970", true, false},
	{"new device, unreadable stored policy", false, true},
	{"forced rebind, unreadable stored policy", true, true},
};

UNIT_LOOP_TEST(trust_all_or_nothing, 0, NELEM(seal_cases))
{
	const struct seal_case *c = &seal_cases[_i];
	struct lic_key *a = testkey_new(), *a2 = testkey_new();
	const struct lic_udi *udi = c->rebind ? &UDI_A : &UDI_B;
	char *tok = token_for(30, 1), *tok2 = token_for(30, 1), *before,
	     *after;
	char kid[LIC_KEY_ID_LEN + 1];
	struct lsrv_device dev;
	struct lsrv_response r;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	if (c->bad_policy)
		store_exec("UPDATE va SET policy_json = '{\"nonsense\":1}'");
	before = store_dump();
	r = trust_at(a2, udi, tok2, c->rebind, c->bad_policy ? now_s() : -1);
	assert_error(&r, 500, "internal");
	lsrv_response_clear(&r);
	after = store_dump();
	ck_assert_msg(strcmp(before, after) == 0, "%s: the store changed",
		      c->name);
	ck_assert_int_eq(lsrv_store_device_find(fx.st, &UDI_A, &dev, NULL, 0),
			 LSRV_ST_OK);
	lic_key_id(a, kid);
	ck_assert_str_eq(dev.key_id, kid);
	ck_assert_int_eq(lsrv_store_device_find(fx.st, &UDI_B, &dev, NULL, 0),
			 LSRV_ST_NOT_FOUND);
	/* Once the cause is gone, tok2 still has its one use. */
	if (c->bad_policy)
		store_exec("UPDATE va SET policy_json = NULL");
	ck_assert_int_eq(trust(a2, udi, tok2, c->rebind), 200);
	ck_assert_int_eq(trust(a2, &UDI_C, tok2, false), 403);
	free(before);
	free(after);
	free(tok);
	free(tok2);
	lic_key_free(&a);
	lic_key_free(&a2);
}
END_TEST

/* A public key too long for the store is the client's fault. */
UNIT_TEST(trust_oversized_key)
{
	char *tok = token_for(30, 1), hash[LSRV_TOKEN_HASH_LEN + 1],
	     big[LSRV_PUBKEY_B64_MAX + 2], err[256];
	struct lsrv_trust_in in;
	struct lsrv_trust_out out;
	struct lsrv_device dev;

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(lsrv_token_hash(tok, hash), 0);
	memset(&in, 0, sizeof(in));
	in.token_hash = hash;
	in.udi = UDI_A;
	in.public_key_b64 = big;
	in.key_id = "00";
	in.trust_code = "c0de";
	in.now = now_s();
	ck_assert_int_eq(lsrv_store_trust(fx.st, &in, &out, err, sizeof(err)),
			 LSRV_ST_INVALID);
	ck_assert(strstr(err, "public_key") != NULL);
	ck_assert_int_eq(lsrv_store_device_find(fx.st, &UDI_A, &dev, NULL, 0),
			 LSRV_ST_NOT_FOUND);
	free(tok);
}
END_TEST

/* ---- intake ------------------------------------------------------------ */

UNIT_TCASE("intake", .setup = setup, .teardown = teardown);

/*
 * 0 good; 1 signed by another key; 2 one payload byte altered; 3 UDI
 * never trusted. Only the good one is stored.
 */
UNIT_LOOP_TEST(intake_signature, 0, 4)
{
	struct lic_key *a = testkey_new(), *other = testkey_new();
	char *tok = token_for(30, 5), *env = NULL;
	struct rec r = {"r1", LIC_TAG_STD, T0, 7};
	struct lsrv_response resp;
	struct lsrv_device_row *rows;
	struct lic_ack *ack;
	size_t n = 0;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	switch (_i) {
	case 0:
		env = report(a, &UDI_A, RID1, NULL, &r, 1);
		break;
	case 1:
		env = report(other, &UDI_A, RID1, NULL, &r, 1);
		break;
	case 2: {
		json_t *o;
		char *good = report(a, &UDI_A, RID1, NULL, &r, 1), *p64;
		unsigned char *p = NULL;
		size_t plen = 0;

		o = json_loads(good, 0, NULL);
		p64 = (char *)json_string_value(json_object_get(o, "payload"));
		ck_assert_int_eq(lic_b64_decode(p64, strlen(p64), &p, &plen,
						NULL, 0),
				 0);
		/* "count":7 -> "count":8 */
		{
			char *at = strstr((char *)p, "\"count\":7");

			ck_assert_ptr_nonnull(at);
			at[8] = '8';
		}
		p64 = lic_b64_encode(p, plen, NULL);
		json_object_set_new(o, "payload", json_string(p64));
		env = json_dumps(o, JSON_COMPACT);
		free(p64);
		free(p);
		free(good);
		json_decref(o);
		break;
	}
	case 3:
		env = report(a, &UDI_C, RID1, NULL, &r, 1);
		break;
	}
	resp = post("/licensing/v1/usage", env);
	if (_i == 0) {
		ack = ack_of(&resp, &UDI_A);
		ck_assert_uint_eq(lic_ack_get(ack)->nids, 1);
		ck_assert_str_eq(lic_ack_get(ack)->report_ids[0], RID1);
		ck_assert_int_eq(lic_ack_get(ack)->ack_time_s, T0);
		lic_ack_free(&ack);
	} else {
		assert_error(&resp, _i == 3 ? 403 : 401,
			     _i == 3 ? "unknown_device" : "bad_signature");
	}
	lsrv_response_clear(&resp);
	rows = devices(&n, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].reports, _i == 0 ? 1 : 0);
	ck_assert(rows[0].has[LIC_TAG_STD] == (_i == 0));
	free(rows);
	free(env);
	free(tok);
	lic_key_free(&a);
	lic_key_free(&other);
}
END_TEST

UNIT_TEST(intake_idempotent)
{
	struct lic_key *a = testkey_new();
	char *tok = token_for(30, 5);
	struct rec r[2] = {{"r1", LIC_TAG_STD, T0, 7},
			   {"r2", LIC_TAG_ENH, T0, 2}};
	char *env = NULL;
	struct lsrv_response resp;
	struct lsrv_device_row *rows;
	struct lic_ack *ack;
	size_t n = 0;
	int i;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	env = report(a, &UDI_A, RID1, NULL, r, 2);
	for (i = 0; i < 2; i++) {
		clk_advance_ms(60000);
		resp = post("/licensing/v1/usage", env);
		ack = ack_of(&resp, &UDI_A);
		ck_assert_str_eq(lic_ack_get(ack)->report_ids[0], RID1);
		ck_assert_int_eq(lic_ack_get(ack)->ack_time_s, now_s());
		lic_ack_free(&ack);
		lsrv_response_clear(&resp);
	}
	rows = devices(&n, NULL);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].reports, 1);
	ck_assert_int_eq(rows[0].latest[LIC_TAG_STD], 7);
	ck_assert_int_eq(rows[0].latest[LIC_TAG_ENH], 2);
	ck_assert_str_eq(rows[0].hostname, "cube1");
	free(rows);
	free(env);
	/* A new report repeating record r1 with other content keeps the
	 * first copy; its new record r3 is stored. */
	r[0].count = 99;
	r[1].id = "r3";
	r[1].end = T0 + DAY;
	r[1].count = 4;
	env = report(a, &UDI_A, RID2, NULL, r, 2);
	resp = post("/licensing/v1/usage", env);
	ck_assert_int_eq(resp.status, 200);
	lsrv_response_clear(&resp);
	rows = devices(&n, NULL);
	ck_assert_int_eq(rows[0].reports, 2);
	ck_assert_int_eq(rows[0].latest[LIC_TAG_STD], 7);
	ck_assert_int_eq(rows[0].latest[LIC_TAG_ENH], 4);
	free(rows);
	free(env);
	free(tok);
	lic_key_free(&a);
}
END_TEST

/* cslu: 202 now, the ACK on a poll; unknown ids get 204. */
UNIT_TEST(deferred_and_poll)
{
	struct lic_key *a = testkey_new(), *other = testkey_new();
	char *tok = token_for(30, 5), *env, *poll = NULL;
	struct rec r = {"r1", LIC_TAG_STD, T0, 3};
	struct lsrv_response resp;
	struct lic_ack_poll_info pi;
	struct lic_ack *ack;
	const char *ids[] = {RID3, RID1};
	json_t *o;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	env = report(a, &UDI_A, RID1, NULL, &r, 1);
	resp = post("/licensing/v1/usage?ack=deferred", env);
	ck_assert_int_eq(resp.status, 202);
	o = json_loadb(resp.body, resp.len, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(o, "status")),
			 "accepted");
	ck_assert_str_eq(json_string_value(json_object_get(o, "report_id")),
			 RID1);
	json_decref(o);
	lsrv_response_clear(&resp);

	memset(&pi, 0, sizeof(pi));
	pi.udi = UDI_A;
	pi.report_ids = ids;
	pi.nids = 2;
	pi.created_s = now_s();
	ck_assert_int_eq(lic_ack_poll_build(a, &pi, &poll, NULL, NULL, 0), 0);
	resp = post("/licensing/v1/acks", poll);
	ack = ack_of(&resp, &UDI_A);
	ck_assert_uint_eq(lic_ack_get(ack)->nids, 1);
	ck_assert_str_eq(lic_ack_get(ack)->report_ids[0], RID1);
	lic_ack_free(&ack);
	lsrv_response_clear(&resp);
	free(poll);

	pi.report_ids = ids;
	pi.nids = 1;
	ck_assert_int_eq(lic_ack_poll_build(a, &pi, &poll, NULL, NULL, 0), 0);
	resp = post("/licensing/v1/acks", poll);
	ck_assert_int_eq(resp.status, 204);
	ck_assert_ptr_null(resp.body);
	lsrv_response_clear(&resp);
	free(poll);

	/* A poll signed by another key for this UDI. */
	ck_assert_int_eq(lic_ack_poll_build(other, &pi, &poll, NULL, NULL, 0),
			 0);
	resp = post("/licensing/v1/acks", poll);
	assert_error(&resp, 401, "bad_signature");
	lsrv_response_clear(&resp);
	free(poll);

	resp = post("/licensing/v1/usage?ack=later", env);
	assert_error(&resp, 400, "malformed");
	lsrv_response_clear(&resp);
	free(env);
	free(tok);
	lic_key_free(&a);
	lic_key_free(&other);
}
END_TEST

/*
 * A policy set after trust rides on the next ACK, not on the one after;
 * the same report sent again (its ACK may have been lost) gets it again.
 */
UNIT_TEST(policy_delivery)
{
	struct lic_key *a = testkey_new();
	char *tok = token_for(30, 5), *e1, *e2, *e3;
	struct rec r = {"r1", LIC_TAG_STD, T0, 3};
	struct lsrv_response resp;
	struct lic_ack *ack;
	struct lic_policy p;
	const char *pj;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	e1 = report(a, &UDI_A, RID1, NULL, &r, 1);
	r.id = "r2";
	e2 = report(a, &UDI_A, RID2, NULL, &r, 1);
	r.id = "r3";
	e3 = report(a, &UDI_A, RID3, NULL, &r, 1);

	resp = post("/licensing/v1/usage", e1);
	ack = ack_of(&resp, &UDI_A);
	ck_assert_ptr_null(lic_ack_get(ack)->policy_json);
	lic_ack_free(&ack);
	lsrv_response_clear(&resp);

	ck_assert_int_eq(lsrv_store_policy_set(
				 fx.st, fx.va_id,
				 "{\"name\":\"Custom Policy\",\"groups\":"
				 "{\"perpetual\":{\"reporting_frequency_days\":"
				 "30}}}",
				 now_s(), NULL, 0),
			 LSRV_ST_OK);
	resp = post("/licensing/v1/usage", e2);
	ack = ack_of(&resp, &UDI_A);
	pj = lic_ack_get(ack)->policy_json;
	ck_assert_ptr_nonnull(pj);
	ck_assert_int_eq(lic_policy_parse(pj, strlen(pj), &p, NULL, 0), 0);
	ck_assert_str_eq(p.name, "Custom Policy");
	ck_assert_int_eq(lic_policy_days(&p, LIC_GROUP_PERPETUAL,
					 LIC_ATTR_FREQUENCY),
			 30);
	ck_assert_int_eq(p.attr[LIC_GROUP_PERPETUAL][LIC_ATTR_FREQUENCY].source,
			 LIC_SOURCE_CUSTOMER);
	lic_ack_free(&ack);
	lsrv_response_clear(&resp);

	resp = post("/licensing/v1/usage", e3);
	ack = ack_of(&resp, &UDI_A);
	ck_assert_ptr_null(lic_ack_get(ack)->policy_json);
	lic_ack_free(&ack);
	lsrv_response_clear(&resp);

	resp = post("/licensing/v1/usage", e2);
	ack = ack_of(&resp, &UDI_A);
	ck_assert_ptr_nonnull(lic_ack_get(ack)->policy_json);
	lic_ack_free(&ack);
	lsrv_response_clear(&resp);

	/* An invalid policy is refused and changes nothing. */
	ck_assert_int_eq(lsrv_store_policy_set(fx.st, fx.va_id,
					       "{\"name\":\"x\",\"bad\":1}",
					       now_s(), NULL, 0),
			 LSRV_ST_INVALID);
	free(e1);
	free(e2);
	free(e3);
	free(tok);
	lic_key_free(&a);
}
END_TEST

/* Offline: a usage file of 2 reports (one repeated) -> one ACK. */
UNIT_TEST(import_usage)
{
	struct lic_key *a = testkey_new(), *b = testkey_new();
	char *tok = token_for(30, 5), *e1, *e2, *eb, *file, *ack_env = NULL;
	struct rec r = {"r1", LIC_TAG_STD, T0, 3};
	struct lic_ack *ack = NULL;
	struct lsrv_device_row *rows;
	size_t n = 0, len = 0, i;
	char err[512];

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	ck_assert_int_eq(trust(b, &UDI_B, tok, false), 200);
	e1 = report(a, &UDI_A, RID1, NULL, &r, 1);
	r.id = "r2";
	r.end = T0 + DAY;
	r.count = 5;
	e2 = report(a, &UDI_A, RID2, NULL, &r, 1);
	eb = report(b, &UDI_B, RID3, NULL, &r, 1);
	len = strlen(e1) * 3 + strlen(eb) + 256;
	file = malloc(len);
	snprintf(file, len,
		 "{\"format\":\"sbc-usage\",\"v\":1,\"reports\":[\n  %s,\n  "
		 "%s,\n  %s]}\n",
		 e1, e2, e1);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(lsrv_import_usage(fx.svc, file, strlen(file),
						now_s(), &ack_env, &len, &n,
						err, sizeof(err)) == 0,
			      "%s", err);
		ck_assert_uint_eq(n, 3);
		ck_assert_int_eq(lic_ack_parse(fx.srvpk, ack_env, len, &UDI_A,
					       &ack, err, sizeof(err)),
				 0);
		ck_assert_uint_eq(lic_ack_get(ack)->nids, 2);
		lic_ack_free(&ack);
		free(ack_env);
		ack_env = NULL;
	}
	rows = devices(&n, NULL);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(rows[0].sn, "SN-A");
	ck_assert_int_eq(rows[0].reports, 2);
	ck_assert_int_eq(rows[0].latest[LIC_TAG_STD], 5);
	free(rows);
	/* Two devices in one file, or a junk file: refused, nothing kept. */
	snprintf(file, len,
		 "{\"format\":\"sbc-usage\",\"v\":1,\"reports\":[%s,%s]}", e1,
		 eb);
	ck_assert_int_eq(lsrv_import_usage(fx.svc, file, strlen(file), now_s(),
					   &ack_env, &len, NULL, err,
					   sizeof(err)),
			 -1);
	ck_assert_int_eq(lsrv_import_usage(fx.svc, "{\"format\":\"x\"}", 14,
					   now_s(), &ack_env, &len, NULL, err,
					   sizeof(err)),
			 -1);
	ck_assert_ptr_null(ack_env);
	rows = devices(&n, NULL);
	ck_assert_int_eq(rows[1].reports, 0);
	free(rows);
	free(file);
	free(e1);
	free(e2);
	free(eb);
	free(tok);
	lic_key_free(&a);
	lic_key_free(&b);
}
END_TEST

/* ---- HTTP-level errors ------------------------------------------------- */

static const struct bad_request {
	const char *method;
	const char *target;
	const char *ctype;
	bool length_known;
	const char *body;
	int status;
	const char *code;
} bad_requests[] = {
	{"POST", "/licensing/v1/usage", "application/json", true, "not json",
	 400, "malformed"},
	{"POST", "/licensing/v1/usage", "application/json", true, "[1]", 400,
	 "malformed"},
	{"POST", "/licensing/v1/usage", "application/json", true, "", 400,
	 "malformed"},
	{"POST", "/licensing/v1/trust", "application/json", true,
	 "{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"ab\",\"payload\":\"e30=\","
	 "\"signature\":\"AA==\"}",
	 400, "malformed"},
	{"POST", "/licensing/v1/acks", "application/json; charset=utf-8", true,
	 "{\"v\":1,\"alg\":\"ES256\",\"key_id\":\"0000000000000000000000000000"
	 "000000000000000000000000000000000000\",\"payload\":\"!!!!\","
	 "\"signature\":\"AA==\"}",
	 400, "malformed"},
	{"POST", "/licensing/v1/usage", "text/plain", true, "{}", 415,
	 "media_type"},
	{"POST", "/licensing/v1/usage", NULL, true, "{}", 415, "media_type"},
	{"POST", "/licensing/v1/usage", "application/jsonx", true, "{}", 415,
	 "media_type"},
	{"POST", "/licensing/v1/usage", "application/json", false, "", 411,
	 "too_large"},
	{"GET", "/licensing/v1/usage", NULL, false, NULL, 405, "method"},
	{"PUT", "/licensing/v1/trust", "application/json", true, "{}", 405,
	 "method"},
	{"POST", "/licensing/v1/", "application/json", true, "{}", 404,
	 "not_found"},
	{"POST", "/licensing/v2/usage", "application/json", true, "{}", 404,
	 "not_found"},
	{"POST", "/licensing/v1/usage/", "application/json", true, "{}", 404,
	 "not_found"},
	{"GET", "/", NULL, false, NULL, 404, "not_found"},
};

UNIT_TCASE("http", .setup = setup, .teardown = teardown);

UNIT_LOOP_TEST(http_errors, 0, NELEM(bad_requests))
{
	const struct bad_request *b = &bad_requests[_i];
	struct lsrv_request rq;
	struct lsrv_response out;

	memset(&rq, 0, sizeof(rq));
	rq.method = b->method;
	rq.target = b->target;
	rq.content_type = b->ctype;
	rq.length_known = b->length_known;
	rq.body = b->body;
	rq.len = b->body != NULL ? strlen(b->body) : 0;
	lsrv_handle(fx.svc, &rq, now_s(), &out);
	assert_error(&out, b->status, b->code);
	if (b->status == 405)
		ck_assert_str_eq(out.allow, "POST");
	lsrv_response_clear(&out);
}
END_TEST

UNIT_TEST(http_too_large)
{
	size_t n = LIC_ENVELOPE_MAX + 1;
	char *big = malloc(n + 1);
	struct lsrv_response out;

	memset(big, ' ', n);
	big[n] = '\0';
	out = post("/licensing/v1/usage", big);
	assert_error(&out, 413, "too_large");
	lsrv_response_clear(&out);
	free(big);
}
END_TEST

/* ---- inventory arithmetic ---------------------------------------------- */

#define NONE {false, false, false, false}

static const struct inv_case {
	const char *name;
	int64_t purchased[LIC_TAG_COUNT];
	size_t n;
	struct lsrv_inv_member m[6];
	int64_t in_use[LIC_TAG_COUNT];
	int64_t balance[LIC_TAG_COUNT];
	size_t nnotes;		     /* groups counted separately */
	struct lsrv_inv_note notes[2]; /* expected, in order */
} inv_cases[] = {
	{"empty", {10, 0, 0, 0}, 0, {{0}}, {0, 0, 0, 0}, {10, 0, 0, 0}, 0, {{NULL, 0}}},
	{"two standalone devices add up",
	 {10, 5, 0, 0},
	 2,
	 {{NULL, {true, true, false, false}, {4, 1, 0, 0}},
	  {"", {true, false, false, false}, {3, 0, 0, 0}}},
	 {7, 1, 0, 0},
	 {3, 4, 0, 0},
	 0,
	 {{NULL, 0}}},
	{"short: negative balance",
	 {5, 0, 0, 0},
	 2,
	 {{NULL, {true, true, false, false}, {4, 2, 0, 0}},
	  {NULL, {true, false, false, false}, {3, 0, 0, 0}}},
	 {7, 2, 0, 0},
	 {-2, -2, 0, 0},
	 0,
	 {{NULL, 0}}},
	{"HA pair counted once (max of members)",
	 {10, 0, 10, 0},
	 3,
	 {{"grp1", {true, false, true, false}, {6, 0, 6, 0}},
	  {"grp1", {true, false, true, false}, {4, 0, 8, 0}},
	  {NULL, {true, false, false, false}, {1, 0, 0, 0}}},
	 {7, 0, 8, 0},
	 {3, 0, 2, 0},
	 0,
	 {{NULL, 0}}},
	{"two HA groups are two units",
	 {0, 0, 0, 0},
	 4,
	 {{"g1", {true, false, false, false}, {2, 0, 0, 0}},
	  {"g2", {true, false, false, false}, {3, 0, 0, 0}},
	  {"g1", {true, false, false, false}, {2, 0, 0, 0}},
	  {"g2", NONE, {0, 0, 0, 0}}},
	 {5, 0, 0, 0},
	 {-5, 0, 0, 0},
	 0,
	 {{NULL, 0}}},
	{"VGW purchased equals in use",
	 {0, 0, 0, 99},
	 2,
	 {{NULL, {false, false, false, true}, {0, 0, 0, 12}},
	  {NULL, {false, false, false, true}, {0, 0, 0, 5}}},
	 {0, 0, 0, 17},
	 {0, 0, 0, 0},
	 0,
	 {{NULL, 0}}},
	{"no record of a tag counts 0",
	 {1, 1, 1, 1},
	 1,
	 {{NULL, NONE, {50, 50, 50, 50}}},
	 {0, 0, 0, 0},
	 {1, 1, 1, 0},
	 0,
	 {{NULL, 0}}},
	{"a group of one is a unit",
	 {0, 0, 0, 0},
	 2,
	 {{"solo", {true, false, false, false}, {4, 0, 0, 0}},
	  {NULL, {true, false, false, false}, {1, 0, 0, 0}}},
	 {5, 0, 0, 0},
	 {-5, 0, 0, 0},
	 0,
	 {{NULL, 0}}},
	{"two pairs sharing a name: four units, noted",
	 {10, 0, 0, 0},
	 5,
	 {{"grp1", {true, false, false, false}, {3, 0, 0, 0}},
	  {"grp1", {true, false, false, false}, {3, 0, 0, 0}},
	  {"grp1", {true, false, false, false}, {2, 0, 0, 0}},
	  {NULL, {true, false, false, false}, {1, 0, 0, 0}},
	  {"grp1", {true, false, false, false}, {2, 0, 0, 0}}},
	 {11, 0, 0, 0},
	 {-1, 0, 0, 0},
	 1,
	 {{"grp1", 4}}},
	{"three members are not a pair; a real pair still counts once",
	 {0, 0, 0, 0},
	 6,
	 {{"big", {true, false, true, false}, {1, 0, 5, 0}},
	  {"pair", {true, false, false, false}, {7, 0, 0, 0}},
	  {"big", {true, false, false, false}, {1, 0, 0, 0}},
	  {"pair", {true, false, false, false}, {6, 0, 0, 0}},
	  {"big", NONE, {9, 0, 9, 0}},
	  {"many", {true, false, false, false}, {0, 0, 0, 0}}},
	 {9, 0, 5, 0},
	 {-9, 0, -5, 0},
	 1,
	 {{"big", 3}}},
	{"two crowded groups, noted in order",
	 {0, 0, 0, 0},
	 6,
	 {{"b", {true, false, false, false}, {1, 0, 0, 0}},
	  {"a", {true, false, false, false}, {2, 0, 0, 0}},
	  {"a", {true, false, false, false}, {2, 0, 0, 0}},
	  {"b", {true, false, false, false}, {1, 0, 0, 0}},
	  {"a", {true, false, false, false}, {2, 0, 0, 0}},
	  {"b", {true, false, false, false}, {1, 0, 0, 0}}},
	 {9, 0, 0, 0},
	 {-9, 0, 0, 0},
	 2,
	 {{"b", 3}, {"a", 3}}},
};

UNIT_TCASE("inventory", .setup = setup, .teardown = teardown);

UNIT_LOOP_TEST(inventory_table, 0, NELEM(inv_cases))
{
	const struct inv_case *c = &inv_cases[_i];
	struct lsrv_inv_line out[LIC_TAG_COUNT];
	struct lsrv_inv_note notes[NELEM(c->m) / 3 + 1];
	size_t nnotes = 99, i;
	int t;

	lsrv_inventory(c->purchased, c->m, c->n, out, notes, &nnotes);
	ck_assert_msg(nnotes == c->nnotes, "%s: %zu notes, want %zu", c->name,
		      nnotes, c->nnotes);
	for (i = 0; i < nnotes; i++) {
		ck_assert_str_eq(notes[i].ha_group, c->notes[i].ha_group);
		ck_assert_uint_eq(notes[i].members, c->notes[i].members);
	}
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		ck_assert_msg(out[t].in_use == c->in_use[t],
			      "%s: %s in use %lld, want %lld", c->name,
			      lic_tag_name((enum lic_tag)t),
			      (long long)out[t].in_use,
			      (long long)c->in_use[t]);
		ck_assert_msg(out[t].balance == c->balance[t],
			      "%s: %s balance %lld, want %lld", c->name,
			      lic_tag_name((enum lic_tag)t),
			      (long long)out[t].balance,
			      (long long)c->balance[t]);
		ck_assert_int_eq(out[t].purchased,
				 t == LIC_TAG_VGW ? c->in_use[t]
						  : c->purchased[t]);
		ck_assert(out[t].insufficient == (c->balance[t] < 0));
		ck_assert_int_eq(out[t].tag, t);
	}
}
END_TEST

/* Notes appear as lines after the table and as JSON "warnings". */
UNIT_TEST(inventory_render_notes)
{
	static const struct lsrv_inv_note notes[] = {{"grp1", 4}, {"x", 3}};
	struct lsrv_inv_line lines[LIC_TAG_COUNT];
	char *text = NULL;
	size_t len = 0;
	json_t *o, *w;
	FILE *f;

	lsrv_inventory(NULL, NULL, 0, lines, NULL, NULL);
	f = open_memstream(&text, &len);
	ck_assert_int_eq(lsrv_inventory_render(f, "SA-1", "VA-1", lines, notes,
					       NELEM(notes), false),
			 0);
	fclose(f);
	ck_assert_msg(strstr(text, " 0\n\n"
				   "Note: HA group grp1 has 4 members: counted "
				   "separately\n"
				   "Note: HA group x has 3 members: counted "
				   "separately\n") != NULL,
		      "%s", text);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	ck_assert_int_eq(lsrv_inventory_render(f, "SA-1", "VA-1", lines, notes,
					       NELEM(notes), true),
			 0);
	fclose(f);
	o = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(o);
	w = json_object_get(o, "warnings");
	ck_assert_uint_eq(json_array_size(w), 2);
	ck_assert_str_eq(json_string_value(json_array_get(w, 0)),
			 "HA group grp1 has 4 members: counted separately");
	json_decref(o);
	free(text);
	text = NULL;
	/* None: no note line, an empty array. */
	f = open_memstream(&text, &len);
	ck_assert_int_eq(lsrv_inventory_render(f, "SA-1", "VA-1", lines, NULL,
					       0, true),
			 0);
	fclose(f);
	o = json_loads(text, 0, NULL);
	ck_assert(json_is_array(json_object_get(o, "warnings")));
	ck_assert_uint_eq(json_array_size(json_object_get(o, "warnings")), 0);
	json_decref(o);
	free(text);
}
END_TEST

/* The store feeds the arithmetic: latest record by end, HA from reports. */
UNIT_TEST(inventory_from_store)
{
	struct lic_key *a = testkey_new(), *b = testkey_new();
	char *tok = token_for(30, 5), *env;
	struct rec ra[2] = {{"a1", LIC_TAG_STD, T0 + DAY, 9},
			    {"a0", LIC_TAG_STD, T0, 20}};
	struct rec rb = {"b1", LIC_TAG_STD, T0 + DAY, 6};
	struct lsrv_device_row *rows;
	struct lsrv_inv_member m[2];
	struct lsrv_inv_line out[LIC_TAG_COUNT];
	int64_t purchased[LIC_TAG_COUNT];
	struct lsrv_response resp;
	size_t n = 0, i;

	ck_assert_int_eq(trust(a, &UDI_A, tok, false), 200);
	ck_assert_int_eq(trust(b, &UDI_B, tok, false), 200);
	ck_assert_int_eq(lsrv_store_purchase_set(fx.st, fx.va_id, LIC_TAG_STD,
						 8, now_s(), NULL, 0),
			 LSRV_ST_OK);
	ck_assert_int_eq(lsrv_store_purchase_set(fx.st, fx.va_id, LIC_TAG_VGW,
						 8, now_s(), NULL, 0),
			 LSRV_ST_INVALID);
	env = report(a, &UDI_A, RID1, "pair", ra, 2);
	resp = post("/licensing/v1/usage", env);
	ck_assert_int_eq(resp.status, 200);
	lsrv_response_clear(&resp);
	free(env);
	env = report(b, &UDI_B, RID2, "pair", &rb, 1);
	resp = post("/licensing/v1/usage", env);
	ck_assert_int_eq(resp.status, 200);
	lsrv_response_clear(&resp);
	free(env);
	rows = devices(&n, purchased);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(purchased[LIC_TAG_STD], 8);
	/* Latest by end time: a1 (9), not the larger older a0 (20). */
	ck_assert_int_eq(rows[0].latest[LIC_TAG_STD], 9);
	ck_assert_str_eq(rows[0].ha_group, "pair");
	ck_assert_str_eq(rows[0].ha_role, "active");
	for (i = 0; i < n; i++) {
		m[i].ha_group = rows[i].ha_group;
		memcpy(m[i].has, rows[i].has, sizeof(m[i].has));
		memcpy(m[i].count, rows[i].latest, sizeof(m[i].count));
	}
	lsrv_inventory(purchased, m, n, out, NULL, NULL);
	ck_assert_int_eq(out[LIC_TAG_STD].in_use, 9);
	ck_assert_int_eq(out[LIC_TAG_STD].balance, -1);
	ck_assert(out[LIC_TAG_STD].insufficient);
	free(rows);
	free(tok);
	lic_key_free(&a);
	lic_key_free(&b);
}
END_TEST

UNIT_TCASE("trust", .setup = setup, .teardown = teardown);

UNIT_TEST(admin_names)
{
	char err[256];

	ck_assert_int_eq(lsrv_store_account_create(fx.st, "SA-1", T0, err,
						   sizeof(err)),
			 LSRV_ST_EXISTS);
	ck_assert_int_eq(lsrv_store_account_create(fx.st, "bad name", T0, err,
						   sizeof(err)),
			 LSRV_ST_INVALID);
	ck_assert_int_eq(lsrv_store_va_create(fx.st, "SA-1", "VA-1", T0, err,
					      sizeof(err)),
			 LSRV_ST_EXISTS);
	ck_assert_int_eq(lsrv_store_va_create(fx.st, "SA-9", "VA-1", T0, err,
					      sizeof(err)),
			 LSRV_ST_NOT_FOUND);
	ck_assert(lsrv_name_ok("A.b_c:d-9"));
	ck_assert(!lsrv_name_ok(""));
	ck_assert(!lsrv_name_ok("a/b"));
}
END_TEST

/* ---- the real HTTPS server and sbcd's client ---------------------------- */

struct http_result {
	struct event_base *base;
	int status;
	char *body;
	size_t len;
	char error[256];
};

static void http_done(void *arg, int status, const void *body, size_t len,
		      const char *error)
{
	struct http_result *r = arg;

	r->status = status;
	r->len = len;
	r->body = malloc(len + 1);
	memcpy(r->body, body != NULL ? body : "", len);
	r->body[len] = '\0';
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
	event_base_loopexit(r->base, NULL);
}

static void https_post(struct lic_http *h, struct event_base *base,
		       const char *url, const char *body,
		       struct http_result *res)
{
	memset(res, 0, sizeof(*res));
	res->base = base;
	ck_assert_int_eq(lic_http_post(h, url, "application/json", body,
				       strlen(body), 10, http_done, res),
			 0);
	event_base_dispatch(base);
}

UNIT_TCASE("http", .setup = setup, .teardown = teardown);

UNIT_TEST(https_end_to_end)
{
	struct lic_key *a = testkey_new();
	char *tok = token_for(30, 5), *env = NULL, url[256], ca[256],
	     err[256], warn[256];
	struct lic_trust_request_info ri;
	struct lic_trust_answer *ans = NULL;
	struct event_base *base = event_base_new();
	struct lsrv_server *srv;
	struct lic_http *h;
	struct http_result res;
	SSL_CTX *ctx;

	ctx = lsrv_tls_context(dir, "127.0.0.1", now_s(), warn, sizeof(warn),
			       err, sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	ck_assert_str_eq(warn, "");
	srv = lsrv_server_new(base, fx.svc, ctx, "127.0.0.1", 0, err,
			      sizeof(err));
	ck_assert_msg(srv != NULL, "%s", err);
	SSL_CTX_free(ctx);
	ck_assert_int_gt(lsrv_server_port(srv), 0);
	path_in(ca, sizeof(ca), LSRV_TLS_CERT_FILE);
	h = lic_http_new(base, ca, err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);

	memset(&ri, 0, sizeof(ri));
	ri.token = tok;
	ri.udi = UDI_A;
	ri.created_s = now_s();
	ck_assert_int_eq(lic_trust_request_build(a, &ri, &env, NULL, NULL, 0),
			 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/licensing/v1/trust",
		 lsrv_server_port(srv));
	https_post(h, base, url, env, &res);
	ck_assert_msg(res.status == 200, "status %d %s %s", res.status,
		      res.error, res.body);
	ck_assert_msg(lic_trust_answer_parse(res.body, res.len, &UDI_A, a,
					     &ans, err, sizeof(err)) == 0,
		      "%s", err);
	lic_trust_answer_free(&ans);
	free(res.body);

	/* An error answer is JSON with the table's status. */
	https_post(h, base, url, "{\"junk\":true}", &res);
	ck_assert_int_eq(res.status, 400);
	ck_assert(strstr(res.body, "\"error\":\"malformed\"") != NULL);
	free(res.body);

	/* "localhost" is in the certificate too. */
	snprintf(url, sizeof(url), "https://localhost:%d/licensing/v1/nope",
		 lsrv_server_port(srv));
	https_post(h, base, url, "{}", &res);
	ck_assert_msg(res.status == 404, "status %d %s", res.status,
		      res.error);
	free(res.body);

	lic_http_free(&h);
	lsrv_server_free(&srv);
	ck_assert_ptr_null(srv);
	event_base_free(base);
	free(env);
	free(tok);
	lic_key_free(&a);
}
END_TEST

/* A second start reuses the key and certificate. */
UNIT_TEST(tls_identity_kept)
{
	char err[256], crt[256];
	struct stat s1, s2;
	SSL_CTX *ctx;

	path_in(crt, sizeof(crt), LSRV_TLS_CERT_FILE);
	ctx = lsrv_tls_context(dir, "127.0.0.1", now_s(), NULL, 0, err,
			       sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	SSL_CTX_free(ctx);
	ck_assert_int_eq(stat(crt, &s1), 0);
	ctx = lsrv_tls_context(dir, "127.0.0.1", now_s(), NULL, 0, err,
			       sizeof(err));
	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_free(ctx);
	ck_assert_int_eq(stat(crt, &s2), 0);
	ck_assert_int_eq(s1.st_ino, s2.st_ino);
	path_in(crt, sizeof(crt), LSRV_TLS_KEY_FILE);
	ck_assert_int_eq(stat(crt, &s1), 0);
	ck_assert_int_eq(s1.st_mode & 0777, 0600);
}
END_TEST

UNIT_MAIN("licd")
