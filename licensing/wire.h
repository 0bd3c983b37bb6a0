/*
 * lic wire: the small checks and JSON helpers every signed message of the
 * licensing protocol uses (envelope.c: the envelope; report.c: reports
 * and ACKs; trust.c: trust, ACK poll, policy file), so a field is judged
 * the same way everywhere (docs/licensing-protocol.md, sections 2, 3
 * and 6).
 */
#ifndef SBC_LIC_WIRE_H
#define SBC_LIC_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "licensing/report.h"

/* The "v" of every payload. */
#define LIC_PAYLOAD_VERSION 1

/* Printable ASCII, 1..max bytes. */
bool lic_wire_text_ok(const char *s, size_t max);
/* 1..max of [A-Za-z0-9._:-] (NULL: false). */
bool lic_wire_name_ok(const char *s, size_t max);
/* lic_wire_name_ok() to LIC_ID_MAX (record ids, HA group). */
bool lic_wire_id_ok(const char *s);
/* Exactly `len` lowercase hex digits. */
bool lic_wire_hex_ok(const char *s, size_t len);
/* The JSON object text[0..len), len 1..max, duplicate keys refused; NULL
 * with "<what> of N bytes outside 1..max" or "<what> is not a JSON
 * object[: reason]". */
json_t *lic_wire_load_object(const char *text, size_t len, size_t max,
			     const char *what, char *err, size_t errlen);
/* lic_wire_text_ok(s, max), else -1 with "<what> missing or not 1..max
 * printable ASCII". */
int lic_wire_text_check(const char *s, size_t max, const char *what,
			char *err, size_t errlen);
/* pid and sn 1..LIC_ID_MAX printable ASCII; -1 with a reason. */
int lic_wire_udi_check(const struct lic_udi *u, char *err, size_t errlen);

/* 1..LIC_ACK_MAX_IDS report ids, each 32 lowercase hex, no repeats. */
int lic_wire_ids_check(const char *const *ids, size_t n, char *err,
		       size_t errlen);
/* Both UDIs complete and equal. */
bool lic_wire_udi_equal(const struct lic_udi *a, const struct lic_udi *b);

/* Add `v` (a new reference; NULL after an allocation failure) to o. */
int lic_wire_put(json_t *o, const char *key, json_t *v);
/* {"pid":..,"sn":..}, or NULL (out of memory). */
json_t *lic_wire_udi_json(const struct lic_udi *u);
/* The JSON array of ids[0..n), or NULL (out of memory). */
json_t *lic_wire_ids_json(const char *const *ids, size_t n);
/* A payload object with "type" and "v" set, or NULL (out of memory). */
json_t *lic_wire_payload_new(const char *type);
/* Compact text of `root` (plus flags), at most `max` bytes: *out is the
 * caller's, *len (may be NULL) its length. */
int lic_wire_dump(json_t *root, size_t flags, size_t max, char **out,
		  size_t *len, char *err, size_t errlen);
/*
 * Member `key` of `o` as a string / an integer; NULL or -1 with a reason
 * ("<where>: missing \"key\"", "<where>: \"key\" is not a string";
 * no prefix when where is NULL).
 */
const char *lic_wire_get_str(json_t *o, const char *where, const char *key,
			     char *err, size_t errlen);
int lic_wire_get_int(json_t *o, const char *where, const char *key,
		     int64_t *out, char *err, size_t errlen);
/* The "udi" member of `o`, checked; the strings are owned by o. */
int lic_wire_get_udi(json_t *o, const char *where, struct lic_udi *u,
		     char *err, size_t errlen);
/*
 * The "report_ids" member of `o`: 1..LIC_ACK_MAX_IDS strings, pointed at
 * in ids[] (owned by o), *n of them. Their form is lic_wire_ids_check's.
 */
int lic_wire_get_ids(json_t *o, const char *where,
		     const char *ids[LIC_ACK_MAX_IDS], size_t *n, char *err,
		     size_t errlen);

#endif
