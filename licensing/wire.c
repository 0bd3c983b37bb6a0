/*
 * lic wire: shared field checks and JSON helpers (licensing/wire.h).
 */
#include "licensing/wire.h"

#include "common/err.h"

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
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= LIC_ID_MAX ||
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

int lic_wire_udi_check(const struct lic_udi *u, char *err, size_t errlen)
{
	if (u == NULL || !lic_wire_text_ok(u->pid, LIC_ID_MAX)) {
		err_set(err, errlen,
			"udi.pid missing or not 1..%d printable ASCII",
			LIC_ID_MAX);
		return -1;
	}
	if (!lic_wire_text_ok(u->sn, LIC_ID_MAX)) {
		err_set(err, errlen,
			"udi.sn missing or not 1..%d printable ASCII",
			LIC_ID_MAX);
		return -1;
	}
	return 0;
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
		err_set(err, errlen, "%s%smissing \"%s\"", where ? where : "",
			where ? ": " : "", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		err_set(err, errlen, "%s%s\"%s\" is not a string",
			where ? where : "", where ? ": " : "", key);
		return NULL;
	}
	return json_string_value(v);
}

int lic_wire_get_int(json_t *o, const char *where, const char *key,
		     int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		err_set(err, errlen, "%s%smissing \"%s\"", where ? where : "",
			where ? ": " : "", key);
		return -1;
	}
	if (!json_is_integer(v)) {
		err_set(err, errlen, "%s%s\"%s\" is not an integer",
			where ? where : "", where ? ": " : "", key);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}
