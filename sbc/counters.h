/*
 * counters: per-class concurrent trunk-session counts (docs/architecture.md, "Counting").
 *
 * One writer (the SIP thread) changes counts; any thread may read them, and
 * one reader (the 1 Hz sampler) takes the peak-since-last-sample. STANDARD,
 * ENHANCED and REDUNDANT live packed in one 64-bit atomic word so that a
 * class change (Standard to Enhanced) is a single atomic operation: the
 * sampler never sees the call in both classes or in neither, and the
 * aggregate never moves. No locks.
 */
#ifndef SBC_COUNTERS_H
#define SBC_COUNTERS_H

#include "common/classes.h"

#include <stdint.h>

/* SBC_CLASS_STANDARD, ... SBC_CLASS_AGGREGATE (common/classes.h). */
#define SBC_CLASS_ENUM(id, ...) SBC_CLASS_##id,
enum sbc_class { CLASSES_ALL(SBC_CLASS_ENUM) SBC_CLASS_COUNT };
#undef SBC_CLASS_ENUM

/* Largest count one class can hold (21 bits per packed field). */
#define SBC_COUNTERS_CLASS_MAX ((1u << 21) - 1)

struct sbc_counters;

struct sbc_counters *sbc_counters_new(void);
void sbc_counters_free(struct sbc_counters **c);

/* Writer side (one thread). cls is never SBC_CLASS_AGGREGATE. */
void sbc_counters_inc(struct sbc_counters *c, enum sbc_class cls);
void sbc_counters_dec(struct sbc_counters *c, enum sbc_class cls);
/* Move one call from `from` to `to` (e.g. STANDARD to ENHANCED) at once. */
void sbc_counters_move(struct sbc_counters *c, enum sbc_class from,
		       enum sbc_class to);
/* Early (unanswered) vs confirmed calls, for diagnostics only. */
void sbc_counters_early_delta(struct sbc_counters *c, int delta);
void sbc_counters_confirmed_delta(struct sbc_counters *c, int delta);

/* Reader side: current counts of all classes (indexed by enum sbc_class). */
void sbc_counters_current(const struct sbc_counters *c,
			  uint32_t out[SBC_CLASS_COUNT]);
/*
 * The sampler: the highest count of each class since the previous call, and
 * restart each peak from its current count.
 */
void sbc_counters_sample(struct sbc_counters *c, uint32_t out[SBC_CLASS_COUNT]);
uint32_t sbc_counters_early(const struct sbc_counters *c);
uint32_t sbc_counters_confirmed(const struct sbc_counters *c);

const char *sbc_class_name(enum sbc_class cls); /* "STANDARD", ... */
const char *sbc_class_tag(enum sbc_class cls);	/* "CUBE_T_STD", ... */

#endif
