/*
 * lsrv inventory: the license arithmetic of one virtual account
 * (docs/licd.md "Inventory"), and its rendering.
 *
 * lsrv_inventory() is pure: inputs in, lines out, no store, no clock.
 *
 *   In Use    per tag, the sum over the devices of the virtual account of
 *             the count of each device's latest record of that tag
 *             (latest = greatest period end). Two devices whose latest
 *             reports name the same HA group are a pair, one unit: it
 *             counts the larger of their counts, once. A group name
 *             shared by more than two devices is not a pair (names are
 *             chosen per site and may repeat across a virtual account):
 *             its members count separately and the inventory says so.
 *   Purchased what the operator set; for CUBE_T_VGW always equal to
 *             In Use (VGW is reported for information, never sold short).
 *   Balance   Purchased - In Use; `Insufficient Licenses` when < 0.
 */
#ifndef SBC_LICD_INVENTORY_H
#define SBC_LICD_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "licensing/tag.h"

#define LSRV_ALERT_INSUFFICIENT "Insufficient Licenses"

/* What the arithmetic needs to know about one device. */
struct lsrv_inv_member {
	const char *ha_group; /* of its latest report; NULL or "": none */
	bool has[LIC_TAG_COUNT];   /* it reported a record of this tag */
	int64_t count[LIC_TAG_COUNT]; /* count of its latest record per tag */
};

/* Most devices an HA group name may join into one unit. */
#define LSRV_HA_UNIT_MAX 2

/* An HA group name shared by more than LSRV_HA_UNIT_MAX devices. */
struct lsrv_inv_note {
	const char *ha_group; /* borrowed from the members */
	size_t members;
};

/* One line of the inventory. */
struct lsrv_inv_line {
	enum lic_tag tag;
	int64_t purchased;
	int64_t in_use;
	int64_t balance;
	bool insufficient; /* balance < 0 */
};

/*
 * Compute the inventory: out[t] for every tag t in lic_tag order.
 * purchased[t] < 0 counts as 0. Counts are at most LIC_COUNT_MAX each, so
 * sums over any realistic device count fit in int64_t; they saturate at
 * INT64_MAX rather than overflow.
 *
 * notes (may be NULL; room for n / 3 entries is enough) gets one entry
 * per group name counted separately, in the order of their first
 * members; *nnotes (may be NULL) their number. Time O(n * grouped
 * devices): no allocation.
 */
void lsrv_inventory(const int64_t purchased[LIC_TAG_COUNT],
		    const struct lsrv_inv_member *m, size_t n,
		    struct lsrv_inv_line out[LIC_TAG_COUNT],
		    struct lsrv_inv_note *notes, size_t *nnotes);

/*
 * Print the inventory of account/va: a table followed by one note line
 * per entry of notes (text), or one JSON object with stable keys and the
 * notes as "warnings" (docs/licd.md). 0, or -1 when writing failed.
 */
int lsrv_inventory_render(FILE *out, const char *account, const char *va,
			  const struct lsrv_inv_line lines[LIC_TAG_COUNT],
			  const struct lsrv_inv_note *notes, size_t nnotes,
			  bool json);

#endif
