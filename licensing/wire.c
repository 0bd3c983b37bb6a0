/*
 * lic wire: shared field checks and JSON helpers (licensing/wire.h).
 */
#include "licensing/wire.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* The "<where>: " prefix of a reason, as two %s arguments ("" when none). */
#define WHERE(w) (w) != NULL ? (w) : "", (w) != NULL ? ": " : ""

bool lic_wire_text_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e ||
		    n >= max)
			return false;
	return n > 0;
}

bool lic_wire_id_ok(const char *s)
{
	return lic_wire_name_ok(s, LIC_ID_MAX);
}

bool lic_wire_name_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= max ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == ':' || c == '-'))
			return false;
	}
	return n > 0;
}

bool lic_wire_hex_ok(const char *s, size_t len)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++)
		if (n >= len || !((s[n] >= '0' && s[n] <= '9') ||
				  (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == len;
}

int lic_wire_text_check(const char *s, size_t max, const char *what,
			char *err, size_t errlen)
{
	if (lic_wire_text_ok(s, max))
		return 0;
	err_set(err, errlen, "%s missing or not 1..%zu printable ASCII", what,
		max);
	return -1;
}

json_t *lic_wire_load_object(const char *text, size_t len, size_t max,
			     const char *what, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;

	if (len == 0 || len > max) {
		err_set(err, errlen, "%s of %zu bytes outside 1..%zu", what, len,
			max);
		return NULL;
	}
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(o)) {
		err_set(err, errlen, "%s is not a JSON object%s%s", what,
			o == NULL ? ": " : "", o == NULL ? je.text : "");
		json_decref(o);
		return NULL;
	}
	return o;
}

int lic_wire_udi_check(const struct lic_udi *u, char *err, size_t errlen)
{
	if (lic_wire_text_check(u != NULL ? u->pid : NULL, LIC_ID_MAX,
				"udi.pid", err, errlen) != 0)
		return -1;
	return lic_wire_text_check(u->sn, LIC_ID_MAX, "udi.sn", err, errlen);
}

int lic_wire_put(json_t *o, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, key, v);
}

json_t *lic_wire_udi_json(const struct lic_udi *u)
{
	json_t *o = json_object();

	if (o == NULL || lic_wire_put(o, "pid", json_string(u->pid)) != 0 ||
	    lic_wire_put(o, "sn", json_string(u->sn)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *lic_wire_get_str(json_t *o, const char *where, const char *key,
			     char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		err_set(err, errlen, "%s%smissing \"%s\"", WHERE(where), key);
		return NULL;
	}
	if (!json_is_string(v)) {
		err_set(err, errlen, "%s%s\"%s\" is not a string",
			WHERE(where), key);
		return NULL;
	}
	return json_string_value(v);
}

int lic_wire_get_int(json_t *o, const char *where, const char *key,
		     int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		err_set(err, errlen, "%s%smissing \"%s\"", WHERE(where), key);
		return -1;
	}
	if (!json_is_integer(v)) {
		err_set(err, errlen, "%s%s\"%s\" is not an integer",
			WHERE(where), key);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int lic_wire_ids_check(const char *const *ids, size_t n, char *err,
		       size_t errlen)
{
	size_t i, j;

	if (n == 0 || n > LIC_ACK_MAX_IDS || ids == NULL) {
		err_set(err, errlen, "report_ids must hold 1..%d ids",
			LIC_ACK_MAX_IDS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!lic_wire_hex_ok(ids[i], LIC_REPORT_ID_LEN)) {
			err_set(err, errlen,
				"report_ids[%zu] is not %d lowercase hex "
				"digits",
				i, LIC_REPORT_ID_LEN);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(ids[i], ids[j]) == 0) {
				err_set(err, errlen,
					"report_ids[%zu] repeats "
					"report_ids[%zu]",
					i, j);
				return -1;
			}
	}
	return 0;
}

bool lic_wire_udi_equal(const struct lic_udi *a, const struct lic_udi *b)
{
	return a->pid != NULL && a->sn != NULL && b->pid != NULL &&
	       b->sn != NULL && strcmp(a->pid, b->pid) == 0 &&
	       strcmp(a->sn, b->sn) == 0;
}

json_t *lic_wire_payload_new(const char *type)
{
	json_t *o = json_object();

	if (o == NULL || lic_wire_put(o, "type", json_string(type)) != 0 ||
	    lic_wire_put(o, "v", json_integer(LIC_PAYLOAD_VERSION)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int lic_wire_dump(json_t *root, size_t flags, size_t max, char **out,
		  size_t *len, char *err, size_t errlen)
{
	char *s = json_dumps(root, JSON_COMPACT | flags);
	size_t n;

	if (s == NULL) {
		err_set(err, errlen, "cannot serialize JSON (out of memory)");
		return -1;
	}
	n = strlen(s);
	if (n > max) {
		free(s);
		err_set(err, errlen, "JSON text of %zu bytes exceeds %zu", n,
			max);
		return -1;
	}
	*out = s;
	if (len != NULL)
		*len = n;
	return 0;
}

int lic_wire_get_udi(json_t *o, const char *where, struct lic_udi *u,
		     char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "udi");

	if (!json_is_object(v)) {
		err_set(err, errlen, "%s%s\"udi\" missing or not an object",
			WHERE(where));
		return -1;
	}
	u->pid = json_string_value(json_object_get(v, "pid"));
	u->sn = json_string_value(json_object_get(v, "sn"));
	return lic_wire_udi_check(u, err, errlen);
}

int lic_wire_get_ids(json_t *o, const char *where,
		     const char *ids[LIC_ACK_MAX_IDS], size_t *n, char *err,
		     size_t errlen)
{
	json_t *arr = json_object_get(o, "report_ids");
	size_t i, k;

	if (!json_is_array(arr)) {
		err_set(err, errlen,
			"%s%s\"report_ids\" missing or not an array",
			WHERE(where));
		return -1;
	}
	k = json_array_size(arr);
	if (k == 0 || k > LIC_ACK_MAX_IDS) {
		err_set(err, errlen, "%s%s%zu report ids, expected 1..%d",
			WHERE(where), k, LIC_ACK_MAX_IDS);
		return -1;
	}
	for (i = 0; i < k; i++) {
		ids[i] = json_string_value(json_array_get(arr, i));
		if (ids[i] == NULL) {
			err_set(err, errlen, "%s%sreport_ids[%zu] not a string",
				WHERE(where), i);
			return -1;
		}
	}
	*n = k;
	return 0;
}

json_t *lic_wire_ids_json(const char *const *ids, size_t n)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, json_string(ids[i])) != 0) {
			json_decref(arr);
			return NULL;
		}
	return arr;
}
