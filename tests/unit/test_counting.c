/*
 * Counting trunk sessions (docs/architecture.md, "Counting"): counters and the per-call
 * counting record under every order of events, duplicates included.
 */
#include "sbc/callacct.h"
#include "sbc/counters.h"

#include "unit.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum ev { EV_START, EV_ANSWER, EV_UPGRADE, EV_END, EV_COUNT };

static void apply(struct sbc_callacct *a, struct sbc_counters *c, enum ev e)
{
	/* What the calls return (a change or not) is the model's to check. */
	if (e == EV_START)
		sbc_callacct_start(a, c);
	else if (e == EV_ANSWER)
		sbc_callacct_answer(a, c);
	else if (e == EV_UPGRADE)
		(void)sbc_callacct_upgrade(a, c);
	else if (e == EV_END)
		(void)sbc_callacct_end(a, c);
}

/* The model: what the counters must show after a sequence of events. */
struct model {
	bool started, ended, answered, enhanced;
};

static void model_apply(struct model *m, enum ev e)
{
	switch (e) {
	case EV_START:
		if (!m->started && !m->ended)
			m->started = true;
		break;
	case EV_ANSWER:
		if (m->started && !m->ended)
			m->answered = true;
		break;
	case EV_UPGRADE:
		if (m->started && !m->ended)
			m->enhanced = true;
		break;
	case EV_END:
		m->ended = true;
		break;
	case EV_COUNT:
		break;
	}
}

static void check_against(const struct model *m, struct sbc_counters *c,
			  enum sbc_class base)
{
	uint32_t cur[SBC_CLASS_COUNT];
	bool live = m->started && !m->ended;
	enum sbc_class cls = m->enhanced ? SBC_CLASS_ENHANCED : base;
	int i;

	sbc_counters_current(c, cur);
	for (i = 0; i < SBC_CLASS_AGGREGATE; i++)
		ck_assert_uint_eq(cur[i], live && (enum sbc_class)i == cls);
	ck_assert_uint_eq(cur[SBC_CLASS_AGGREGATE],
			  live && base != SBC_CLASS_VGW);
	ck_assert_uint_eq(sbc_counters_early(c), live && !m->answered);
	ck_assert_uint_eq(sbc_counters_confirmed(c), live && m->answered);
}

/*
 * Every sequence of 6 events drawn from {start, answer, upgrade, end}, with
 * repeats (4^6 = 4096 orders), for a Standard and a VGW call: after each
 * event the counters equal the model, and a final end leaves all at zero.
 */
static void run_all_orders(enum sbc_class base)
{
	enum { LEN = 6 };
	unsigned n, total = 1;
	int i;

	for (i = 0; i < LEN; i++)
		total *= EV_COUNT;
	for (n = 0; n < total; n++) {
		struct sbc_counters *c = sbc_counters_new();
		struct sbc_callacct a;
		struct model m = {0};
		uint32_t cur[SBC_CLASS_COUNT];
		unsigned code = n;

		/* A VGW call is never upgraded: model it that way. */
		sbc_callacct_init(&a, base);
		for (i = 0; i < LEN; i++) {
			enum ev e = (enum ev)(code % EV_COUNT);

			code /= EV_COUNT;
			apply(&a, c, e);
			if (!(e == EV_UPGRADE && base != SBC_CLASS_STANDARD))
				model_apply(&m, e);
			check_against(&m, c, base);
		}
		ck_assert(!sbc_callacct_end(&a, c) || !m.ended);
		sbc_counters_current(c, cur);
		for (i = 0; i < SBC_CLASS_COUNT; i++)
			ck_assert_uint_eq(cur[i], 0);
		ck_assert_uint_eq(sbc_counters_early(c), 0);
		ck_assert_uint_eq(sbc_counters_confirmed(c), 0);
		sbc_counters_free(&c);
		ck_assert_ptr_null(c);
	}
}

UNIT_TCASE("core", .timeout = 60);

UNIT_TEST(every_order_standard)
{
	run_all_orders(SBC_CLASS_STANDARD);
}
END_TEST

UNIT_TEST(every_order_vgw)
{
	run_all_orders(SBC_CLASS_VGW);
}
END_TEST

UNIT_TEST(end_returns_true_once)
{
	struct sbc_counters *c = sbc_counters_new();
	struct sbc_callacct a;

	sbc_callacct_init(&a, SBC_CLASS_STANDARD);
	sbc_callacct_start(&a, c);
	ck_assert(sbc_callacct_end(&a, c));	/* BYE */
	ck_assert(!sbc_callacct_end(&a, c)); /* the other side's BYE */
	ck_assert(!sbc_callacct_end(&a, c)); /* the reaper */
	sbc_callacct_start(&a, c);		/* a late start never counts */
	ck_assert_uint_eq(sbc_counters_early(c), 0);
	sbc_counters_free(&c);
}
END_TEST

UNIT_TEST(upgrade_keeps_aggregate)
{
	struct sbc_counters *c = sbc_counters_new();
	struct sbc_callacct a[3];
	uint32_t cur[SBC_CLASS_COUNT], peak[SBC_CLASS_COUNT];
	int i;

	for (i = 0; i < 3; i++) {
		sbc_callacct_init(&a[i], SBC_CLASS_STANDARD);
		sbc_callacct_start(&a[i], c);
	}
	sbc_counters_sample(c, peak); /* start a new second */
	ck_assert(sbc_callacct_upgrade(&a[0], c));
	ck_assert(!sbc_callacct_upgrade(&a[0], c)); /* forking again */
	sbc_counters_current(c, cur);
	ck_assert_uint_eq(cur[SBC_CLASS_STANDARD], 2);
	ck_assert_uint_eq(cur[SBC_CLASS_ENHANCED], 1);
	ck_assert_uint_eq(cur[SBC_CLASS_AGGREGATE], 3);
	sbc_counters_sample(c, peak);
	/* Standard held 3 during the second, Enhanced reached 1. */
	ck_assert_uint_eq(peak[SBC_CLASS_STANDARD], 3);
	ck_assert_uint_eq(peak[SBC_CLASS_ENHANCED], 1);
	ck_assert_uint_eq(peak[SBC_CLASS_AGGREGATE], 3);
	ck_assert(sbc_callacct_end(&a[0], c));
	sbc_counters_current(c, cur);
	ck_assert_uint_eq(cur[SBC_CLASS_ENHANCED], 0);
	ck_assert_uint_eq(cur[SBC_CLASS_STANDARD], 2);
	for (i = 1; i < 3; i++)
		sbc_callacct_end(&a[i], c);
	sbc_counters_free(&c);
}
END_TEST

/* Peak within the second, not a snapshot at the tick. */
UNIT_TEST(sample_is_peak_not_snapshot)
{
	static const struct {
		int deltas[8]; /* +1 start, -1 end, 0 stop */
		uint32_t peak;
		uint32_t after;
	} rows[] = {
		{{+1, +1, +1, -1, -1, -1, 0}, 3, 0},
		{{+1, -1, +1, -1, 0}, 1, 0},
		{{+1, +1, -1, 0}, 2, 1},
		{{0}, 0, 0},
	};
	size_t r;

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct sbc_counters *c = sbc_counters_new();
		uint32_t out[SBC_CLASS_COUNT];
		int i;

		for (i = 0; rows[r].deltas[i]; i++) {
			if (rows[r].deltas[i] > 0)
				sbc_counters_inc(c, SBC_CLASS_STANDARD);
			else
				sbc_counters_dec(c, SBC_CLASS_STANDARD);
		}
		sbc_counters_sample(c, out);
		ck_assert_uint_eq(out[SBC_CLASS_STANDARD], rows[r].peak);
		ck_assert_uint_eq(out[SBC_CLASS_AGGREGATE], rows[r].peak);
		/* The next second starts from what is still up. */
		sbc_counters_sample(c, out);
		ck_assert_uint_eq(out[SBC_CLASS_STANDARD], rows[r].after);
		sbc_counters_free(&c);
	}
}
END_TEST

UNIT_TEST(vgw_not_in_aggregate)
{
	struct sbc_counters *c = sbc_counters_new();
	uint32_t out[SBC_CLASS_COUNT];

	sbc_counters_inc(c, SBC_CLASS_VGW);
	sbc_counters_inc(c, SBC_CLASS_VGW);
	sbc_counters_inc(c, SBC_CLASS_REDUNDANT);
	sbc_counters_sample(c, out);
	ck_assert_uint_eq(out[SBC_CLASS_VGW], 2);
	ck_assert_uint_eq(out[SBC_CLASS_REDUNDANT], 1);
	ck_assert_uint_eq(out[SBC_CLASS_AGGREGATE], 1);
	ck_assert_str_eq(sbc_class_tag(SBC_CLASS_VGW), "CUBE_T_VGW");
	ck_assert_str_eq(sbc_class_name(SBC_CLASS_ENHANCED), "ENHANCED");
	sbc_counters_free(&c);
}
END_TEST

/*
 * One writer thread churns calls and upgrades while this thread samples:
 * every sample's peak is at least the count the writer guaranteed stands
 * at that moment (a floor it publishes), and the counts drain to 0.
 */
struct churn {
	struct sbc_counters *c;
	_Atomic bool done;
};

static void *churn_writer(void *arg)
{
	struct churn *ch = arg;
	struct sbc_callacct a[64];
	int round, i;

	for (round = 0; round < 2000; round++) {
		for (i = 0; i < 64; i++) {
			sbc_callacct_init(&a[i], SBC_CLASS_STANDARD);
			sbc_callacct_start(&a[i], ch->c);
			if (i % 3 == 0)
				sbc_callacct_upgrade(&a[i], ch->c);
		}
		for (i = 0; i < 64; i++)
			sbc_callacct_end(&a[i], ch->c);
	}
	atomic_store(&ch->done, true);
	return NULL;
}

UNIT_TEST(concurrent_sampling)
{
	struct churn ch = {.c = sbc_counters_new()};
	uint32_t out[SBC_CLASS_COUNT], cur[SBC_CLASS_COUNT];
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, churn_writer, &ch), 0);
	while (!atomic_load(&ch.done)) {
		sbc_counters_sample(ch.c, out);
		ck_assert_uint_le(out[SBC_CLASS_AGGREGATE], 64);
		ck_assert_uint_le(out[SBC_CLASS_STANDARD],
				  out[SBC_CLASS_AGGREGATE]);
		ck_assert_uint_le(out[SBC_CLASS_ENHANCED], 22);
	}
	pthread_join(t, NULL);
	sbc_counters_current(ch.c, cur);
	ck_assert_uint_eq(cur[SBC_CLASS_AGGREGATE], 0);
	ck_assert_uint_eq(cur[SBC_CLASS_STANDARD], 0);
	ck_assert_uint_eq(cur[SBC_CLASS_ENHANCED], 0);
	sbc_counters_sample(ch.c, out);
	sbc_counters_sample(ch.c, out);
	ck_assert_uint_eq(out[SBC_CLASS_AGGREGATE], 0);
	sbc_counters_free(&ch.c);
}
END_TEST

UNIT_MAIN("counting")
