/*
 * lic wire: the small checks and JSON helpers every signed message of the
 * licensing protocol uses (report.c: reports and ACKs; trust.c: trust,
 * ACK poll, policy file), so a field is judged the same way everywhere
 * (docs/licensing-protocol.md, sections 3 and 6).
 */
#ifndef SBC_LIC_WIRE_H
#define SBC_LIC_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "licensing/report.h"

/* Printable ASCII, 1..max bytes. */
bool lic_wire_text_ok(const char *s, size_t max);
/* 1..LIC_ID_MAX of [A-Za-z0-9._:-] (record ids, HA group). */
bool lic_wire_id_ok(const char *s);
/* Exactly `len` lowercase hex digits. */
bool lic_wire_hex_ok(const char *s, size_t len);
/* pid and sn 1..LIC_ID_MAX printable ASCII; -1 with a reason. */
int lic_wire_udi_check(const struct lic_udi *u, char *err, size_t errlen);

/* Add `v` (a new reference; NULL after an allocation failure) to o. */
int lic_wire_put(json_t *o, const char *key, json_t *v);
/* {"pid":..,"sn":..}, or NULL (out of memory). */
json_t *lic_wire_udi_json(const struct lic_udi *u);
/*
 * Member `key` of `o` as a string / an integer; NULL or -1 with a reason
 * ("<where>: missing \"key\"", "<where>: \"key\" is not a string";
 * no prefix when where is NULL).
 */
const char *lic_wire_get_str(json_t *o, const char *where, const char *key,
			     char *err, size_t errlen);
int lic_wire_get_int(json_t *o, const char *where, const char *key,
		     int64_t *out, char *err, size_t errlen);

#endif
