/*
 * lsrv inventory: the license arithmetic of one virtual account
 * (DESIGN.md section 6, docs/licd.md "Inventory"), and its rendering.
 *
 * lsrv_inventory() is pure: inputs in, lines out, no store, no clock.
 *
 *   In Use    per tag, the sum over the devices of the virtual account of
 *             the count of each device's latest record of that tag
 *             (latest = greatest period end). Devices whose latest report
 *             names the same HA group are one unit: the group counts the
 *             largest of its members' counts, once.
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

#include "tag.h"

#define LSRV_ALERT_INSUFFICIENT "Insufficient Licenses"

/* What the arithmetic needs to know about one device. */
struct lsrv_inv_member {
	const char *ha_group; /* of its latest report; NULL or "": none */
	bool has[LIC_TAG_COUNT];   /* it reported a record of this tag */
	int64_t count[LIC_TAG_COUNT]; /* count of its latest record per tag */
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
 */
void lsrv_inventory(const int64_t purchased[LIC_TAG_COUNT],
		    const struct lsrv_inv_member *m, size_t n,
		    struct lsrv_inv_line out[LIC_TAG_COUNT]);

/*
 * Print the inventory of account/va: a table (text) or one JSON object
 * with stable keys (docs/licd.md). 0, or -1 when writing failed.
 */
int lsrv_inventory_render(FILE *out, const char *account, const char *va,
			  const struct lsrv_inv_line lines[LIC_TAG_COUNT],
			  bool json);

#endif
