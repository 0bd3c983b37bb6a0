/*
 * `show call active voice brief` (sbc/callview.c,
 * docs/internals/callview.md).
 *
 * Views are built by hand (the B2BUA fills them in the real daemon) at a
 * frozen "now"; whole outputs are compared with golden files in
 * tests/unit/golden/ (SBC_GOLDEN_DIR; SBC_UPDATE_GOLDEN=1 rewrites them,
 * then read the diff), and the fields that carry arithmetic (durations,
 * connect delay, hex id) are also checked line by line against values
 * worked out in the comments.
 */
#include "sbc/callview.h"

#include "golden.h"
#include "memtext.h"
#include "unit.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* 2024-01-01T00:00:00Z, a Monday */
#define T0 INT64_C(1704067200000)
#define NOW (T0 + INT64_C(3723500)) /* 01:02:03.500 */


static char *render(const struct sbc_call_view *v, size_t n, int64_t now)
{
	struct memtext m;

	ck_assert_int_eq(sbc_callview_render_brief(v, n, now, memtext_open(&m)),
			 0);
	return memtext_take(&m);
}

static char *render_json(const struct sbc_call_view *v, size_t n,
			 int64_t now)
{
	return golden_json_text(sbc_callview_json(v, n, now));
}

static void set(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

#define SET(field, text) set(field, sizeof(field), text)

/*
 * Three calls at NOW:
 *  - 0x1F: answered, Standard, inbound peer 100, outbound 200, started at
 *    00:00:00.000, answered 1.5 s later: dur = 3723.5 - 1.5 = 3722 s
 *    = 01:02:02, connect +1500.
 *  - 0x20: ringing to a voice gateway (VGW), no inbound dial-peer, over
 *    TCP to the callee, IPv6 caller, started 00:59:03.500: not answered,
 *    so dur counts from the start = 180 s = 00:03:00, connect -1.
 *  - 0x10000: being cleared, no longer counted, anonymous caller;
 *    started 01:00:00.000, answered 250 ms later: dur = 3723.5 - 3600.25
 *    = 123 s = 00:02:03.
 */
static void three_calls(struct sbc_call_view v[3])
{
	memset(v, 0, 3 * sizeof(*v));

	v[0].id = 0x1F;
	v[0].state = SBC_CALLVIEW_ACTIVE;
	v[0].counted = true;
	v[0].cls = SBC_CLASS_STANDARD;
	v[0].in_peer = 100;
	v[0].out_peer = 200;
	SET(v[0].calling, "4085550100");
	SET(v[0].called, "14155550123");
	v[0].start_wall_ms = T0;
	v[0].connect_wall_ms = T0 + 1500;
	v[0].leg[0].transport = SBC_TP_UDP;
	SET(v[0].leg[0].remote, "192.0.2.10:5060");
	SET(v[0].leg[0].call_id, "a84b4c76e66710@pc33.example.com");
	v[0].leg[1].transport = SBC_TP_UDP;
	SET(v[0].leg[1].remote, "198.51.100.7:5090");
	SET(v[0].leg[1].call_id, "00000000deadbeef-000000000000001f@sbc");

	v[1].id = 0x20;
	v[1].state = SBC_CALLVIEW_ALERTING;
	v[1].counted = true;
	v[1].cls = SBC_CLASS_VGW;
	v[1].in_peer = 0;
	v[1].out_peer = 300;
	SET(v[1].calling, "2001");
	SET(v[1].called, "912125550199");
	v[1].start_wall_ms = NOW - 180000;
	v[1].leg[0].transport = SBC_TP_UDP;
	SET(v[1].leg[0].remote, "[2001:db8::5]:5062");
	SET(v[1].leg[0].call_id, "1-2345@2001:db8::5");
	v[1].leg[1].transport = SBC_TP_TCP;
	SET(v[1].leg[1].remote, "203.0.113.9:5060");
	SET(v[1].leg[1].call_id, "00000000deadbeef-0000000000000020@sbc");

	v[2].id = 0x10000;
	v[2].state = SBC_CALLVIEW_DISCONNECTING;
	v[2].counted = false;
	v[2].cls = SBC_CLASS_STANDARD;
	v[2].in_peer = 100;
	v[2].out_peer = 200;
	SET(v[2].called, "15551234");
	v[2].start_wall_ms = T0 + 3600000; /* 01:00:00.000 */
	v[2].connect_wall_ms = T0 + 3600250;
	v[2].leg[0].transport = SBC_TP_UDP;
	SET(v[2].leg[0].remote, "192.0.2.10:5060");
	SET(v[2].leg[0].call_id, "x@y");
	v[2].leg[1].transport = SBC_TP_UDP;
	SET(v[2].leg[1].remote, "198.51.100.7:5090");
	SET(v[2].leg[1].call_id, "00000000deadbeef-0000000000010000@sbc");
}

UNIT_TEST(test_time_format)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
		{T0, "00:00:00.000 UTC Mon Jan 1 2024"},
		{T0 + 3723500, "01:02:03.500 UTC Mon Jan 1 2024"},
		{INT64_C(1474537116445), "09:38:36.445 UTC Thu Sep 22 2016"},
		{INT64_C(951782400999), "00:00:00.999 UTC Tue Feb 29 2000"},
		{0, "00:00:00.000 UTC Thu Jan 1 1970"},
		{-1, "-"},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < NELEM(cases); i++)
		ck_assert_str_eq(sbc_callview_time(cases[i].ms, buf,
						   sizeof(buf)),
				 cases[i].want);
}
END_TEST

UNIT_TEST(test_state_names)
{
	ck_assert_str_eq(sbc_callview_state_name(SBC_CALLVIEW_CONNECTING),
			 "connecting");
	ck_assert_str_eq(sbc_callview_state_name(SBC_CALLVIEW_ALERTING),
			 "alerting");
	ck_assert_str_eq(sbc_callview_state_name(SBC_CALLVIEW_ACTIVE),
			 "active");
	ck_assert_str_eq(sbc_callview_state_name(SBC_CALLVIEW_DISCONNECTING),
			 "disconnecting");
	ck_assert_str_eq(sbc_callview_state_name((enum sbc_callview_state)9),
			 "unknown");
}
END_TEST

UNIT_TEST(test_empty)
{
	char *text = render(NULL, 0, NOW), *json = render_json(NULL, 0, NOW);

	check_golden_text("callview_empty.txt", text);
	check_golden_text("callview_empty.json", json);
	ck_assert_ptr_nonnull(strstr(text, "\nSIP call-legs: 0\n"
					   "Total call-legs: 0\n"));
	free(text);
	free(json);
}
END_TEST

UNIT_TEST(test_brief)
{
	struct sbc_call_view v[3];
	char *text, *json;

	three_calls(v);
	text = render(v, 3, NOW);
	json = render_json(v, 3, NOW);
	check_golden_text("callview_brief.txt", text);
	check_golden_text("callview_brief.json", json);
	ck_assert_ptr_nonnull(strstr(text, "\nSIP call-legs: 6\n"
					   "Total call-legs: 6\n"));
	/* call 0x1F, both legs, numbers by direction */
	ck_assert_ptr_nonnull(strstr(
		text, "\n1F   : A 00:00:00.000 UTC Mon Jan 1 2024 +1500 pid:100 "
		      "Answer 4085550100 active\n"
		      " dur 01:02:02 class:STANDARD udp 192.0.2.10:5060\n"
		      " Call-ID:a84b4c76e66710@pc33.example.com\n"));
	ck_assert_ptr_nonnull(strstr(
		text, "\n1F   : B 00:00:00.000 UTC Mon Jan 1 2024 +1500 pid:200 "
		      "Originate 14155550123 active\n"
		      " dur 01:02:02 class:STANDARD udp 198.51.100.7:5090\n"));
	/* call 0x20: unanswered, VGW, default inbound dial-peer 0 */
	ck_assert_ptr_nonnull(strstr(
		text, "\n20   : A 00:59:03.500 UTC Mon Jan 1 2024 -1 pid:0 "
		      "Answer 2001 alerting\n"
		      " dur 00:03:00 class:VGW udp [2001:db8::5]:5062\n"));
	ck_assert_ptr_nonnull(strstr(text, " dur 00:03:00 class:VGW tcp "
					   "203.0.113.9:5060\n"));
	/* call 0x10000: not counted, anonymous caller */
	ck_assert_ptr_nonnull(strstr(
		text, "\n10000 : A 01:00:00.000 UTC Mon Jan 1 2024 +250 pid:100 "
		      "Answer - disconnecting\n"
		      " dur 00:02:03 class:none udp 192.0.2.10:5060\n"));
	free(text);
	free(json);
}
END_TEST

/* JSON: numbers as numbers, null where IOS shows nothing. */
UNIT_TEST(test_json_fields)
{
	struct sbc_call_view v[3];
	json_t *j, *calls, *c, *legs;

	three_calls(v);
	j = sbc_callview_json(v, 3, NOW);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(j, "call_legs"), "total")),
			 6);
	calls = json_object_get(j, "calls");
	ck_assert_uint_eq(json_array_size(calls), 3);
	c = json_array_get(calls, 0);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "id")), 31);
	ck_assert_str_eq(json_string_value(json_object_get(c, "id_hex")),
			 "1F");
	ck_assert_str_eq(json_string_value(json_object_get(c, "class")),
			 "STANDARD");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "duration")),
			 3722);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "start")),
			 T0 / 1000);
	legs = json_object_get(c, "legs");
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(legs, 1), "direction")),
			 "originate");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(legs, 1), "dial_peer")),
			 200);
	c = json_array_get(calls, 1);
	ck_assert(json_is_null(json_object_get(c, "connect")));
	c = json_array_get(calls, 2);
	ck_assert(json_is_null(json_object_get(c, "class")));
	ck_assert(json_is_false(json_object_get(c, "counted")));
	json_decref(j);
}
END_TEST

/* A wall clock stepped back below the start never gives a negative dur. */
UNIT_TEST(test_clock_back)
{
	struct sbc_call_view v[3];
	char *text;
	json_t *j;

	three_calls(v);
	text = render(v, 1, T0 - 5000);
	ck_assert_ptr_nonnull(strstr(text, " dur 00:00:00 class:STANDARD"));
	free(text);
	j = sbc_callview_json(v, 1, T0 - 5000);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "calls"), 0),
				 "duration")),
			 0);
	json_decref(j);
}
END_TEST

/* Strings filled to their capacity are printed whole, never overrun. */
UNIT_TEST(test_full_strings)
{
	struct sbc_call_view v;
	char want[SBC_CALLVIEW_CALLID_MAX + 16];
	char *text;

	memset(&v, 0, sizeof(v));
	v.id = UINT64_MAX;
	memset(v.calling, '7', sizeof(v.calling) - 1);
	memset(v.called, '8', sizeof(v.called) - 1);
	memset(v.leg[0].remote, 'r', sizeof(v.leg[0].remote) - 1);
	memset(v.leg[0].call_id, 'c', sizeof(v.leg[0].call_id) - 1);
	v.start_wall_ms = T0;
	text = render(&v, 1, NOW);
	ck_assert_ptr_nonnull(strstr(text, "\nFFFFFFFFFFFFFFFF : A "));
	snprintf(want, sizeof(want), "\n Call-ID:%s\n", v.leg[0].call_id);
	ck_assert_ptr_nonnull(strstr(text, want));
	ck_assert_ptr_nonnull(strstr(text, v.calling));
	ck_assert_ptr_nonnull(strstr(text, v.leg[0].remote));
	free(text);
}
END_TEST

UNIT_MAIN("callview")
