#include "sbc/counters.h"

#include <stdatomic.h>
#include <stdlib.h>

#define FIELD_BITS 21
#define FIELD_MASK ((UINT64_C(1) << FIELD_BITS) - 1)

struct sbc_counters {
	/* STANDARD, ENHANCED, REDUNDANT in bits 0-20, 21-41, 42-62. */
	_Atomic uint64_t packed;
	_Atomic uint32_t vgw;
	_Atomic uint32_t peak[SBC_CLASS_COUNT];
	_Atomic int32_t early;
	_Atomic int32_t confirmed;
};

static const char *const class_names[SBC_CLASS_COUNT] = {
	CLASSES_ALL(CLASSES_NAME)};
static const char *const class_tags[SBC_CLASS_COUNT] = {
	CLASSES_ALL(CLASSES_TAG)};

struct sbc_counters *sbc_counters_new(void)
{
	return calloc(1, sizeof(struct sbc_counters));
}

void sbc_counters_free(struct sbc_counters **c)
{
	if (c == NULL)
		return;
	free(*c);
	*c = NULL;
}

static uint64_t field_one(enum sbc_class cls)
{
	return UINT64_C(1) << (FIELD_BITS * (unsigned)cls);
}

static void unpack(uint64_t packed, uint32_t vgw, uint32_t out[SBC_CLASS_COUNT])
{
	out[SBC_CLASS_STANDARD] = (uint32_t)(packed & FIELD_MASK);
	out[SBC_CLASS_ENHANCED] = (uint32_t)((packed >> FIELD_BITS) & FIELD_MASK);
	out[SBC_CLASS_REDUNDANT] =
		(uint32_t)((packed >> (2 * FIELD_BITS)) & FIELD_MASK);
	out[SBC_CLASS_VGW] = vgw;
	out[SBC_CLASS_AGGREGATE] = out[SBC_CLASS_STANDARD] +
				   out[SBC_CLASS_ENHANCED] +
				   out[SBC_CLASS_REDUNDANT];
}

/* Raise each peak to the current count. */
static void raise_peaks(struct sbc_counters *c)
{
	uint32_t cur[SBC_CLASS_COUNT];
	int i;

	sbc_counters_current(c, cur);
	for (i = 0; i < SBC_CLASS_COUNT; i++) {
		uint32_t old = atomic_load(&c->peak[i]);

		/* CAS loop: the sampler may reset the peak concurrently. */
		while (cur[i] > old &&
		       !atomic_compare_exchange_weak(&c->peak[i], &old, cur[i]))
			;
	}
}

void sbc_counters_inc(struct sbc_counters *c, enum sbc_class cls)
{
	if (cls == SBC_CLASS_VGW)
		atomic_fetch_add(&c->vgw, 1);
	else if (cls < SBC_CLASS_VGW)
		atomic_fetch_add(&c->packed, field_one(cls));
	raise_peaks(c);
}

void sbc_counters_dec(struct sbc_counters *c, enum sbc_class cls)
{
	if (cls == SBC_CLASS_VGW)
		atomic_fetch_sub(&c->vgw, 1);
	else if (cls < SBC_CLASS_VGW)
		atomic_fetch_sub(&c->packed, field_one(cls));
}

void sbc_counters_move(struct sbc_counters *c, enum sbc_class from,
		       enum sbc_class to)
{
	if (from >= SBC_CLASS_VGW || to >= SBC_CLASS_VGW || from == to)
		return;
	/* Unsigned wrap-around makes this add-one, subtract-one in one step. */
	atomic_fetch_add(&c->packed, field_one(to) - field_one(from));
	raise_peaks(c);
}

void sbc_counters_early_delta(struct sbc_counters *c, int delta)
{
	atomic_fetch_add(&c->early, delta);
}

void sbc_counters_confirmed_delta(struct sbc_counters *c, int delta)
{
	atomic_fetch_add(&c->confirmed, delta);
}

void sbc_counters_current(const struct sbc_counters *c,
			  uint32_t out[SBC_CLASS_COUNT])
{
	unpack(atomic_load(&((struct sbc_counters *)c)->packed),
	       atomic_load(&((struct sbc_counters *)c)->vgw), out);
}

/*
 * Reset each peak first, then read the counts and raise the peaks to them:
 * whatever the writer does in between, a value the count held after the
 * reset is in the next sample's peak, and the one before it in this one.
 */
void sbc_counters_sample(struct sbc_counters *c, uint32_t out[SBC_CLASS_COUNT])
{
	uint32_t old[SBC_CLASS_COUNT];
	uint32_t cur[SBC_CLASS_COUNT];
	int i;

	for (i = 0; i < SBC_CLASS_COUNT; i++)
		old[i] = atomic_exchange(&c->peak[i], 0);
	raise_peaks(c);
	sbc_counters_current(c, cur);
	for (i = 0; i < SBC_CLASS_COUNT; i++)
		out[i] = old[i] > cur[i] ? old[i] : cur[i];
	/*
	 * The peaks are reset one after the other, so a change between two
	 * resets can land a class's peak in this second and the aggregate's
	 * in the next. The aggregate really held at least each class's peak
	 * within these few microseconds: keep the tables consistent.
	 */
	for (i = 0; i < SBC_CLASS_VGW; i++) {
		if (out[i] > out[SBC_CLASS_AGGREGATE])
			out[SBC_CLASS_AGGREGATE] = out[i];
	}
}

uint32_t sbc_counters_early(const struct sbc_counters *c)
{
	int32_t v = atomic_load(&((struct sbc_counters *)c)->early);

	return v > 0 ? (uint32_t)v : 0;
}

uint32_t sbc_counters_confirmed(const struct sbc_counters *c)
{
	int32_t v = atomic_load(&((struct sbc_counters *)c)->confirmed);

	return v > 0 ? (uint32_t)v : 0;
}

const char *sbc_class_name(enum sbc_class cls)
{
	return cls < SBC_CLASS_COUNT ? class_names[cls] : "?";
}

const char *sbc_class_tag(enum sbc_class cls)
{
	return cls < SBC_CLASS_COUNT ? class_tags[cls] : "?";
}
