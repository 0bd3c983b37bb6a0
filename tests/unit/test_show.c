/*
 * `show license status | usage | summary | all` (licensing/show.h) from an
 * agent in a known state: frozen times, a fixed UDI, hours fed by hand,
 * trust installed, usage saved to a file. Whole outputs are compared with
 * golden files (tests/unit/golden/show_*.txt); the values that matter are
 * also checked against numbers worked out here, and the JSON of each
 * command against its text.
 */
#include "licensing/agent.h"
#include "common/db.h"
#include "licensing/keys.h"
#include "licensing/store.h"
#include "licensing/show.h"

#include "golden.h"
#include "tmpfile.h"
#include "unit.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2024-01-01T00:00:00Z. */
#define T0 INT64_C(1704067200)
#define HOUR INT64_C(3600)

static struct {
	char db_path[64], file[64], log_path[64];
	sqlite3 *db;
	struct lic_key *dev, *server;
	char *server_pem;
	struct lic_agent *a;
} fx;

static void setup(void)
{
	struct lic_agent_config cfg = {
		.periodicity_hours = 8,
		.transport = LIC_TRANSPORT_OFF,
		.hostname = "cube1",
		.sn = "SBC0000TEST",
		.release = "17.6.1a",
		.role = LIC_HA_STANDALONE,
	};
	char err[256];

	memset(&fx, 0, sizeof(fx));
	tmp_path(fx.db_path, sizeof(fx.db_path), "test_show", ".db");
	tmp_path(fx.file, sizeof(fx.file), "test_show", ".usage");
	tmp_path(fx.log_path, sizeof(fx.log_path), "test_show", ".log");
	unlink(fx.db_path);
	/* The agent logs. */
	tmp_stderr_to(fx.log_path);
	fx.db = db_open(fx.db_path, err, sizeof(err));
	ck_assert_msg(fx.db != NULL, "%s", err);
	ck_assert(lic_key_generate(&fx.dev, err, sizeof(err)) == 0);
	ck_assert(lic_key_generate(&fx.server, err, sizeof(err)) == 0);
	ck_assert(lic_key_public_pem(fx.server, &fx.server_pem, NULL, err,
				     sizeof(err)) == 0);
	fx.a = lic_agent_new(&cfg, fx.db, fx.dev, NULL, err, sizeof(err));
	ck_assert_msg(fx.a != NULL, "%s", err);
}

static void teardown(void)
{
	lic_agent_free(&fx.a);
	db_close(&fx.db);
	lic_key_free(&fx.dev);
	lic_key_free(&fx.server);
	free(fx.server_pem);
	tmp_db_remove(fx.db_path);
	unlink(fx.file);
	unlink(fx.log_path);
}

/*
 * The known state at T0 + 11 h: trust at T0; hours 0..10 with 4 calls, 1
 * of them Enhanced (STANDARD 3, ENHANCED 1, AGGREGATE 4). The tracker
 * starts at the first call, T0 + 1 h (hour 0 ended before it: ignored).
 * Hour 1 is a change from nothing: that period closes early at T0 + 2 h;
 * the next one, [T0 + 2 h, T0 + 10 h), closes on schedule; the open one
 * began at T0 + 10 h and holds hour 10. Usage saved to a file at
 * T0 + 11 h.
 */
static int64_t known_state(void)
{
	static const uint32_t v[LIC_CLASS_COUNT] = {3, 1, 0, 0, 4};
	int64_t now = T0 + 11 * HOUR;
	char err[256];
	int h;

	ck_assert(lic_agent_set_trust(fx.a, fx.server_pem, "code", T0, err,
				      sizeof(err)) == 0);
	for (h = 0; h < 11; h++) {
		ck_assert_int_eq(lic_agent_hour(fx.a, T0 + h * HOUR, v,
						T0 + (h + 1) * HOUR),
				 0);
		lic_agent_tick(fx.a, T0 + (h + 1) * HOUR);
	}
	ck_assert_int_eq(lic_agent_save_usage(fx.a, fx.file, now, err,
					      sizeof(err)),
			 1);
	return now;
}

typedef int show_fn(const struct lic_agent *a, int64_t now, FILE *out);

static int show_all(const struct lic_agent *a, int64_t now, FILE *out)
{
	return lic_show_all(a, now, "sbcd 0.1.0", out);
}

static char *render(show_fn *fn, int64_t now, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fn(fx.a, now, f), 0);
	fclose(f);
	return buf;
}

static void golden(const char *name, show_fn *fn, int64_t now)
{
	size_t len;
	char *text = render(fn, now, &len);

	check_golden(name, text, len);
	free(text);
}

/* Each of the NULL-ended parts somewhere in what fn prints at now. */
static void expect_in(show_fn *fn, int64_t now, const char *const *parts)
{
	size_t len;
	char *text = render(fn, now, &len);

	for (; *parts != NULL; parts++)
		ck_assert_msg(strstr(text, *parts) != NULL,
			      "lacks '%s' in:\n%s", *parts, text);
	free(text);
}

UNIT_TCASE("core", .setup = setup, .teardown = teardown);

UNIT_TEST(test_fresh)
{
	/* A first start: nothing measured, no trust, defaults. */
	lic_agent_tick(fx.a, T0);
	golden("show_status_fresh.txt", lic_show_status, T0);
	golden("show_summary_fresh.txt", lic_show_summary, T0);
}
END_TEST

UNIT_TEST(test_known_state)
{
	int64_t now = known_state();
	size_t len;
	char *text;

	golden("show_status.txt", lic_show_status, now);
	golden("show_usage.txt", lic_show_usage, now);
	golden("show_summary.txt", lic_show_summary, now);
	golden("show_all.txt", show_all, now);
	golden("show_sip_status.txt", lic_show_sip_status, now);

	/* The values, worked out by hand (see known_state). */
	text = render(lic_show_summary, now, &len);
	ck_assert_ptr_nonnull(strstr(
		text, "CUBE_T_STD              (CUBE_T_STD)       "
		      "               3 IN USE\n"));
	ck_assert_ptr_nonnull(strstr(
		text, "CUBE_T_ENH              (CUBE_T_ENH)       "
		      "               1 IN USE\n"));
	ck_assert_ptr_null(strstr(text, "CUBE_T_VGW"));
	free(text);
	/* Two closed periods x 4 tags, all saved to the file, none ACKed. */
	expect_in(show_all, now,
		  (const char *const[]){"Total: 8,  Purged: 0\n"
					"Total Acknowledged Received: 0,"
					"  Waiting for Ack: 8\n"
					"Available to Report: 0  "
					"Collecting Data: 3\n",
					"UDI: PID:SBC-SW,SN:SBC0000TEST\n",
					NULL});
	/* Newest first: the scheduled period, then the change-closed one;
	 * both saved to a file, so REPORTED. */
	expect_in(lic_show_sip_status, now,
		  (const char *const[]){
			  "Recent record(s) for CUBE_T_STD\n",
			  "Jan 01 2024 10:00:00 UTC      3 Reported\n"
			  "Jan 01 2024 02:00:00 UTC      3 Reported\n",
			  "\nSIP service: Up\n", NULL});
	expect_in(lic_show_status, now,
		  (const char *const[]){
			  "  Last report file write: "
			  "Jan 01 11:00:00 2024 UTC\n",
			  "Trust Code Installed:\n"
			  "  Active: PID:SBC-SW,SN:SBC0000TEST\n"
			  "    INSTALLED on Jan 01 00:00:00 2024 UTC\n",
			  NULL});
}
END_TEST

/*
 * The field labels of each output, in the order CUBE prints them in its
 * own samples of these commands: each must start a line (after the
 * indentation), one after the other. Fields CUBE has and we print too,
 * so a reordering or a renamed label fails here first.
 */
static const struct {
	const char *what;
	show_fn *fn;
	const char *labels[24];
} cube_order[] = {
    {"show voice sip license status",
     lic_show_sip_status,
     {"Host Name: ", "Current Time: ", "SIP service: ", NULL}},
    {"show license status",
     lic_show_status,
     {"Utility:", "Status: DISABLED", "Data Privacy:", "Sending Hostname: ",
      "Callhome hostname privacy: ", "Smart Licensing hostname privacy: ",
      "Version privacy: ", "Transport:", "Type: ", "Policy:",
      "Policy in use: ", "Reporting ACK required: ",
      "First report requirement (days): ", "Reporting frequency (days): ",
      "Report on change (days): ", "Usage Reporting:",
      "Last ACK received: ", "Next ACK deadline: ",
      "Reporting push interval: ", "Next ACK push check: ",
      "Next report push: ", "Last report push: ", "Last report file write: ",
      "Trust Code Installed:"}},
    {"show license usage",
     lic_show_usage,
     {"License Authorization:", "CUBE_Trunk_Standard_Session (CUBE_T_STD):",
      "Description: Cisco Unified Border Element (CUBE) Trunk Standard "
      "Session License",
      "Count: ", "Version: 1.0", "Status: IN USE",
      "Export status: NOT RESTRICTED", NULL}},
    {"show license summary",
     lic_show_summary,
     {"License Usage:", "License ", "-------", "CUBE_T_STD ", NULL}},
};

UNIT_LOOP_TEST(test_cube_field_order, 0, NELEM(cube_order))
{
	int64_t now = known_state();
	size_t len, i;
	char *text = render(cube_order[_i].fn, now, &len);
	const char *p = text, *hit;

	for (i = 0; i < 24 && cube_order[_i].labels[i] != NULL; i++) {
		const char *l = cube_order[_i].labels[i];

		/* The next line, from p on, that starts with the label. */
		for (hit = p; (hit = strstr(hit, l)) != NULL; hit++) {
			const char *b = hit;

			while (b > text && b[-1] == ' ')
				b--;
			if (b == text || b[-1] == '\n')
				break;
		}
		ck_assert_msg(hit != NULL, "%s: \"%s\" missing or out of "
					   "order:\n%s",
			      cube_order[_i].what, l, text);
		p = hit + strlen(l);
	}
	free(text);
}
END_TEST

/* JSON says what the text says. */
UNIT_TEST(test_json_matches_text)
{
	int64_t now = known_state();
	json_t *u = lic_show_usage_json(fx.a, now);
	json_t *all = lic_show_all_json(fx.a, now, "sbcd 0.1.0");
	json_t *st = lic_show_status_json(fx.a, now), *rows, *sum, *ur;
	size_t i, len;
	char *text = render(lic_show_usage, now, &len), line[160];

	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_nonnull(all);
	ck_assert_ptr_nonnull(st);
	rows = json_object_get(u, "licenses");
	ck_assert_uint_eq(json_array_size(rows), 3);
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);

		snprintf(line, sizeof(line),
			 "%s (%s):\n  Description: %s\n  Count: %d\n"
			 "  Version: 1.0\n  Status: %s\n",
			 json_string_value(json_object_get(r, "license")),
			 json_string_value(json_object_get(r, "tag")),
			 json_string_value(json_object_get(r, "description")),
			 (int)json_integer_value(json_object_get(r, "count")),
			 json_string_value(json_object_get(r, "status")));
		ck_assert_msg(strstr(text, line) != NULL, "%s", line);
	}
	free(text);
	sum = json_object_get(all, "usage_report_summary");
	ck_assert_int_eq(json_integer_value(json_object_get(sum, "total")), 8);
	ck_assert_int_eq(
		json_integer_value(json_object_get(sum, "waiting_for_ack")), 8);
	ck_assert_int_eq(
		json_integer_value(json_object_get(sum, "collecting_data")), 3);
	ur = json_object_get(st, "usage_reporting");
	ck_assert_int_eq(
		json_integer_value(json_object_get(ur, "last_report_file_write")),
		T0 + 11 * HOUR);
	ck_assert(json_is_null(json_object_get(ur, "last_ack_received")));
	ck_assert_str_eq(json_string_value(json_object_get(st, "sip_service")),
			 "Up");
	json_decref(u);
	json_decref(all);
	json_decref(st);
}
END_TEST

/* The exec views: udi, eventlog (all, by days, empty), tech support. */
static int show_udi(const struct lic_agent *a, int64_t now, FILE *out)
{
	(void)now;
	return lic_show_udi(a, out);
}

static int show_events(const struct lic_agent *a, int64_t now, FILE *out)
{
	return lic_show_eventlog(a, now * 1000, 0, out);
}

static int show_events_day(const struct lic_agent *a, int64_t now, FILE *out)
{
	return lic_show_eventlog(a, now * 1000, 1, out);
}

static int show_tech(const struct lic_agent *a, int64_t now, FILE *out)
{
	return lic_show_tech(a, now * 1000, "sbcd 0.1.0", out);
}

UNIT_TEST(test_exec_views)
{
	char when[LIC_EVENT_TIME_LEN], *text, *line, *save = NULL;
	int64_t now;
	size_t len;
	int lines = 0;

	ck_assert_int_eq(lic_event_time_format(INT64_C(1796656201123), when,
					       sizeof(when)),
			 0);
	ck_assert_str_eq(when, "2026-12-07 15:10:01.123 UTC");
	ck_assert_int_eq(lic_event_time_format(-1, when, sizeof(when)), -1);
	ck_assert_int_eq(lic_event_time_format(0, when, 8), -1);

	text = render(show_events, T0, &len);
	ck_assert_str_eq(text, " **** Event Log ****\nNo EventLog Found.\n");
	free(text);

	now = known_state();
	text = render(show_udi, now, &len);
	ck_assert_str_eq(text, "UDI: PID:SBC-SW,SN:SBC0000TEST\n");
	free(text);

	text = render(show_events, now, &len);
	ck_assert_ptr_nonnull(strstr(text, "2024-01-01 00:00:00.000 UTC "
					   "SAEVT_TRUST_INSTALLED "
					   "udi=\"PID:SBC-SW,SN:SBC0000TEST\"\n"));
	ck_assert_ptr_nonnull(strstr(text, "2024-01-01 02:00:00.000 UTC "
					   "SAEVT_ENDPOINT_USAGE count=\"3\" "
					   "entitlementTag=\"CUBE_T_STD\"\n"));
	ck_assert_ptr_nonnull(strstr(text, "2024-01-01 11:00:00.000 UTC "
					   "SAEVT_USAGE_SAVED reports=\"1\"\n"));
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), lines++) {
		if (lines == 0) {
			ck_assert_str_eq(line, " **** Event Log ****");
			continue;
		}
		/* "YYYY-MM-DD hh:mm:ss.mmm UTC SAEVT_..." */
		ck_assert_msg(strlen(line) > 34 && line[4] == '-' &&
				      line[10] == ' ' && line[19] == '.' &&
				      strncmp(line + 23, " UTC SAEVT_", 11) == 0,
			      "%s", line);
	}
	ck_assert_int_gt(lines, 10);
	free(text);
	/* Three days later, the last day holds nothing. */
	text = render(show_events_day, now + 3 * 86400, &len);
	ck_assert_str_eq(text, " **** Event Log ****\nNo EventLog Found.\n");
	free(text);
	text = render(show_events_day, now, &len);
	ck_assert_ptr_nonnull(strstr(text, "SAEVT_USAGE_SAVED"));
	free(text);

	text = render(show_tech, now, &len);
	ck_assert_ptr_nonnull(strstr(text, "Smart Licensing Tech Support info\n"
					   "\nSmart Licensing Status\n"
					   "======================\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nLicense Usage\n=============\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nProduct Information\n"
					   "===================\n"
					   "UDI: PID:SBC-SW,SN:SBC0000TEST\n"));
	ck_assert_ptr_nonnull(strstr(text, "Smart Agent for Licensing: "
					   "sbcd 0.1.0\n"));
	ck_assert_ptr_nonnull(strstr(text, "  Attempts: Total=0, Success=0, "
					   "Fail=0\n"));
	ck_assert_ptr_nonnull(strstr(text, "Last Failure: <none>\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nLicense Event Log\n"
					   "=================\n"
					   " **** Event Log ****\n"));
	ck_assert_ptr_nonnull(strstr(text, "SAEVT_USAGE_SAVED"));
	free(text);
}
END_TEST

UNIT_MAIN("show")
