/*
 * Usage files and imports (licensing/usagefile.h,
 * docs/licensing-protocol.md section 5) on a real lic_store: which
 * reports each save mode selects, the file's exact text, writing and
 * reading, and what an import opens or refuses. No clock: every time is
 * a constant.
 */
#include "licensing/usagefile.h"

#include "common/db.h"
#include "licensing/keys.h"
#include "licensing/policy.h"
#include "licensing/store.h"
#include "licensing/trust.h"

#include "testkey.h"
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1700000000LL
#define DAY 86400LL

#define ID1 "9f0c3b5e2a7d4c18b6e1f0a2d3c4b5a6"
#define ID2 "00112233445566778899aabbccddeeff"
#define ENV1 "{\"one\":1}"
#define ENV2 "{\"two\":2}"

static const struct lic_udi UDI = {"CSR1000V", "9ABCDEFGHIJ"};

static char db_path[64], file_path[64];
static sqlite3 *db;
static struct lic_store *st;

static void setup(void)
{
	char err[256];

	snprintf(db_path, sizeof(db_path), "/tmp/test_usagefile_%ld.db",
		 (long)getpid());
	snprintf(file_path, sizeof(file_path), "/tmp/test_usagefile_%ld.json",
		 (long)getpid());
	unlink(db_path);
	unlink(file_path);
	db = db_open(db_path, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	st = lic_store_new(db, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
}

static void teardown(void)
{
	char p[80];

	lic_store_free(&st);
	db_close(&db);
	unlink(db_path);
	unlink(file_path);
	snprintf(p, sizeof(p), "%s-wal", db_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db_path);
	unlink(p);
}

/* One record of period [s, e), in a report of its own with envelope env. */
static void add_report(const char *id, const char *env, int64_t s, int64_t e)
{
	struct lic_record r = {LIC_TAG_STD, s, e, 3};
	struct lic_store_record u[4];
	char err[256];
	size_t n = 0;

	ck_assert_msg(lic_store_add_records(st, &r, 1, e, err, sizeof(err)) ==
			      0,
		      "%s", err);
	ck_assert_int_eq(lic_store_unreported(st, u, 4, &n, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_msg(lic_store_add_report(st, id, env, strlen(env), &u[0].id,
					   1, e, err, sizeof(err)) == 0,
		      "%s", err);
}

/* The text of the file `mode` selects (NULL when refused, reason in err). */
static char *build(enum lic_save_mode mode, unsigned days, int64_t now,
		   size_t *nids, char *err, size_t errlen)
{
	struct lic_usagefile *f = NULL;
	char *text;
	size_t len;

	if (lic_usagefile_build(st, mode, days, now, &f, err, errlen) != 0) {
		ck_assert_ptr_null(f);
		return NULL;
	}
	lic_usagefile_ids(f, nids);
	text = lic_usagefile_take_text(f, &len);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_ptr_null(lic_usagefile_take_text(f, &len));
	ck_assert_uint_eq(len, 0);
	lic_usagefile_free(&f);
	ck_assert_ptr_null(f);
	return text;
}

UNIT_TCASE("core", .setup = setup, .teardown = teardown);

UNIT_TEST(modes_checked)
{
	char err[256];

	ck_assert_int_eq(lic_usagefile_mode_check(LIC_SAVE_UNREPORTED, 0, err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(lic_usagefile_mode_check(LIC_SAVE_ALL, 0, err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(lic_usagefile_mode_check(LIC_SAVE_DAYS, 1, err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(lic_usagefile_mode_check(LIC_SAVE_DAYS,
						  LIC_SAVE_DAYS_MAX, err,
						  sizeof(err)),
			 0);
	ck_assert_int_eq(lic_usagefile_mode_check(LIC_SAVE_DAYS, 0, err,
						  sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "days must be 1..3650"));
	ck_assert_int_eq(lic_usagefile_mode_check(LIC_SAVE_DAYS,
						  LIC_SAVE_DAYS_MAX + 1, err,
						  sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_usagefile_mode_check((enum lic_save_mode)7, 0,
						  err, sizeof(err)),
			 -1);
}
END_TEST

UNIT_TEST(nothing_to_save)
{
	char err[256];
	size_t n;

	ck_assert_ptr_null(build(LIC_SAVE_UNREPORTED, 0, T0, &n, err,
				 sizeof(err)));
	ck_assert_str_eq(err, "no usage to save: every report is acknowledged");
	ck_assert_ptr_null(build(LIC_SAVE_ALL, 0, T0, &n, err, sizeof(err)));
	ck_assert_str_eq(err, "no usage to save: no stored report");
	ck_assert_ptr_null(build(LIC_SAVE_DAYS, 3, T0, &n, err, sizeof(err)));
	ck_assert_str_eq(err, "no usage to save: no stored report in those days");
	ck_assert_ptr_null(build(LIC_SAVE_DAYS, 0, T0, &n, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "days must be"));
}
END_TEST

/* The envelopes byte for byte, in the store's order, in one object. */
UNIT_TEST(file_text_and_selection)
{
	const char *ack[] = {ID1};
	struct lic_usagefile *f = NULL;
	const char *const *ids;
	char err[256], *text;
	size_t n = 0;

	add_report(ID1, ENV1, T0, T0 + 3600);
	add_report(ID2, ENV2, T0 + 2 * DAY, T0 + 2 * DAY + 3600);
	ck_assert_int_eq(lic_usagefile_build(st, LIC_SAVE_UNREPORTED, 0,
					     T0 + 3 * DAY, &f, err,
					     sizeof(err)),
			 0);
	ids = lic_usagefile_ids(f, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ids[0], ID1);
	ck_assert_str_eq(ids[1], ID2);
	text = lic_usagefile_take_text(f, &n);
	ck_assert_str_eq(text, "{\"format\":\"sbc-usage\",\"v\":1,\"reports\":["
			       ENV1 "," ENV2 "]}\n");
	free(text);
	lic_usagefile_free(&f);
	lic_usagefile_free(&f);
	lic_usagefile_free(NULL);

	/* The first acknowledged: unreported leaves it out, all does not. */
	ck_assert_int_eq(lic_store_ack(st, ack, 1, T0 + 3 * DAY, NULL,
				       T0 + 3 * DAY, err, sizeof(err)),
			 1);
	text = build(LIC_SAVE_UNREPORTED, 0, T0 + 3 * DAY, &n, err,
		     sizeof(err));
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(text, ENV2));
	ck_assert_ptr_null(strstr(text, ENV1));
	free(text);
	text = build(LIC_SAVE_ALL, 0, T0 + 3 * DAY, &n, err, sizeof(err));
	ck_assert_uint_eq(n, 2);
	free(text);
	/* Days: by the end of the records' periods. */
	text = build(LIC_SAVE_DAYS, 2, T0 + 3 * DAY, &n, err, sizeof(err));
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(text, ENV2));
	free(text);
	text = build(LIC_SAVE_DAYS, 3, T0 + 3 * DAY, &n, err, sizeof(err));
	ck_assert_uint_eq(n, 2);
	free(text);
}
END_TEST

UNIT_TEST(write_and_read)
{
	struct lic_usagefile *f = NULL;
	struct stat sb;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *fp;

	add_report(ID1, ENV1, T0, T0 + 3600);
	ck_assert_int_eq(lic_usagefile_build(st, LIC_SAVE_ALL, 0, T0 + DAY, &f,
					     err, sizeof(err)),
			 0);
	ck_assert_msg(lic_usagefile_write(f, file_path, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(stat(file_path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(lic_usagefile_read(file_path, &buf, &len, err,
					    sizeof(err)),
			 0);
	ck_assert_str_eq(buf, "{\"format\":\"sbc-usage\",\"v\":1,\"reports\":["
			      ENV1 "]}\n");
	ck_assert_uint_eq(len, strlen(buf));
	free(buf);
	/* Written once taken: nothing left to write. */
	free(lic_usagefile_take_text(f, &len));
	ck_assert_int_eq(lic_usagefile_write(f, file_path, err, sizeof(err)),
			 -1);
	lic_usagefile_free(&f);

	ck_assert_int_eq(lic_usagefile_write(NULL, file_path, err,
					     sizeof(err)),
			 -1);
	ck_assert_int_eq(lic_usagefile_read("/nonexistent/x", &buf, &len, err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x"));
	fp = fopen(file_path, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	ck_assert_int_eq(lic_usagefile_read(file_path, &buf, &len, err,
					    sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "size 0"));
}
END_TEST

static char *ack_of(const struct lic_key *srv, const struct lic_udi *u)
{
	const char *ids[] = {ID1};
	struct lic_ack_info ai;
	char err[256], *env = NULL;

	memset(&ai, 0, sizeof(ai));
	ai.udi = *u;
	ai.report_ids = ids;
	ai.nids = 1;
	ai.ack_time_s = T0;
	ck_assert_msg(lic_ack_build(srv, &ai, &env, NULL, err, sizeof(err)) ==
			      0,
		      "%s", err);
	return env;
}

static char *policy_file_of(const struct lic_key *srv,
			    const struct lic_udi *u, int64_t issued)
{
	struct lic_policy p;
	char err[256], *json, *env = NULL;

	lic_policy_default(&p);
	snprintf(p.name, sizeof(p.name), "%s", "Imported");
	json = lic_policy_to_json(&p);
	ck_assert_ptr_nonnull(json);
	ck_assert_msg(lic_policy_file_build(srv, u, issued, json, &env, NULL,
					    err, sizeof(err)) == 0,
		      "%s", err);
	free(json);
	return env;
}

UNIT_TEST(import_opens)
{
	static const struct lic_udi other_udi = {"CSR1000V", "OTHER"};
	struct lic_key *srv = testkey_new(), *rogue = testkey_new();
	struct lic_pubkey *pin = testkey_public(srv);
	struct lic_import im;
	char err[512], *ack = ack_of(srv, &UDI), *pol;

	/* An ACK file. */
	ck_assert_msg(lic_usagefile_import(pin, &UDI, "a.json", ack,
					   strlen(ack), &im, err,
					   sizeof(err)) == 0,
		      "%s", err);
	ck_assert_ptr_nonnull(im.ack);
	ck_assert_ptr_null(im.policy_json);
	ck_assert_str_eq(lic_ack_get(im.ack)->report_ids[0], ID1);
	lic_usagefile_import_clear(&im);
	ck_assert_ptr_null(im.ack);
	/* Without trust nothing can be verified. */
	ck_assert_int_eq(lic_usagefile_import(NULL, &UDI, "a.json", ack,
					      strlen(ack), &im, err,
					      sizeof(err)),
			 -1);
	ck_assert_str_eq(err, "no trust installed: cannot verify a.json");
	ck_assert_int_eq(lic_usagefile_import(pin, &UDI, "a.json", ack,
					      LIC_ENVELOPE_MAX + 1, &im, err,
					      sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "a.json: 393217 bytes, over"));
	free(ack);

	/* A policy file, with when it was issued. */
	pol = policy_file_of(srv, &UDI, T0 + 5);
	ck_assert_msg(lic_usagefile_import(pin, &UDI, "p.json", pol,
					   strlen(pol), &im, err,
					   sizeof(err)) == 0,
		      "%s", err);
	ck_assert_ptr_null(im.ack);
	ck_assert_ptr_nonnull(strstr(im.policy_json, "\"Imported\""));
	ck_assert_int_eq(im.issued_s, T0 + 5);
	lic_usagefile_import_clear(&im);
	/* A genuine policy file for another device: the policy's reason. */
	ck_assert_int_eq(lic_usagefile_import(pin, &other_udi, "p.json", pol,
					      strlen(pol), &im, err,
					      sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "not for this device"));
	ck_assert_ptr_null(im.policy_json);
	free(pol);

	/* Signed by another key, or no envelope at all: neither. */
	ack = ack_of(rogue, &UDI);
	ck_assert_int_eq(lic_usagefile_import(pin, &UDI, "r.json", ack,
					      strlen(ack), &im, err,
					      sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(
		strstr(err, "r.json is neither a valid ACK (signed by key"));
	ck_assert_ptr_null(im.ack);
	free(ack);
	ck_assert_int_eq(lic_usagefile_import(pin, &UDI, "x", "{}", 2, &im,
					      err, sizeof(err)),
			 -1);
	ck_assert_ptr_nonnull(strstr(err, "x is neither a valid ACK"));
	lic_usagefile_import_clear(&im);
	lic_usagefile_import_clear(NULL);
	lic_pubkey_free(&pin);
	lic_key_free(&srv);
	lic_key_free(&rogue);
}
END_TEST

UNIT_MAIN("usagefile")
