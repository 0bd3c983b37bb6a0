/*
 * lic report: signed envelopes, usage reports and ACKs (see report.h and
 * docs/licensing-protocol.md). JSON through jansson only.
 */
#include "licensing/report.h"
#include "licensing/wire.h"

#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#define ENV_VERSION 1
#define PAYLOAD_VERSION 1
#define ENV_ALG "ES256"

struct lic_report {
	struct lic_report_info info;
	struct lic_usage_record *recs;
	json_t *root; /* owns every string the info points at */
};

struct lic_ack {
	struct lic_ack_info info;
	const char **ids;
	char *policy; /* compact JSON, or NULL */
	json_t *root;
};


static const char *const role_names[] = {
	[LIC_HA_STANDALONE] = "standalone",
	[LIC_HA_ACTIVE] = "active",
	[LIC_HA_STANDBY] = "standby",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))


const char *lic_ha_role_name(enum lic_ha_role r)
{
	return (unsigned)r < NELEM(role_names) ? role_names[r] : NULL;
}

static int role_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NELEM(role_names); i++)
		if (strcmp(name, role_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- field validation ------------------------------------------------ */

static int report_id_ok(const char *s)
{
	return lic_wire_hex_ok(s, LIC_REPORT_ID_LEN);
}

static int record_check(const struct lic_usage_record *r, size_t i,
			char *err, size_t errlen)
{
	if (!lic_wire_id_ok(r->id)) {
		err_set(err, errlen,
		       "records[%zu].id missing or not 1..%d of [A-Za-z0-9._:-]",
		       i, LIC_ID_MAX);
		return -1;
	}
	if (lic_tag_name(r->tag) == NULL) {
		err_set(err, errlen, "records[%zu].tag unknown", i);
		return -1;
	}
	if (r->start_s < 0 || r->end_s < r->start_s) {
		err_set(err, errlen,
		       "records[%zu]: start/end must satisfy 0 <= start <= end",
		       i);
		return -1;
	}
	if (r->count < 0 || r->count > LIC_COUNT_MAX) {
		err_set(err, errlen, "records[%zu].count outside 0..%lld", i,
		       LIC_COUNT_MAX);
		return -1;
	}
	return 0;
}

static int report_check(const struct lic_report_info *r, char *err,
			size_t errlen)
{
	size_t i, j;

	if (!report_id_ok(r->report_id)) {
		err_set(err, errlen, "report_id must be %d lowercase hex digits",
		       LIC_REPORT_ID_LEN);
		return -1;
	}
	if (!lic_wire_text_ok(r->release, LIC_TEXT_MAX)) {
		err_set(err, errlen,
		       "release missing or not 1..%d printable ASCII",
		       LIC_TEXT_MAX);
		return -1;
	}
	if (r->hostname != NULL && !lic_wire_text_ok(r->hostname, LIC_TEXT_MAX)) {
		err_set(err, errlen, "hostname not 1..%d printable ASCII",
		       LIC_TEXT_MAX);
		return -1;
	}
	if (lic_wire_udi_check(&r->udi, err, errlen) != 0)
		return -1;
	if (r->ha_group != NULL && r->ha_group[0] != '\0' &&
	    !lic_wire_id_ok(r->ha_group)) {
		err_set(err, errlen, "ha.group not 1..%d of [A-Za-z0-9._:-]",
		       LIC_ID_MAX);
		return -1;
	}
	if (lic_ha_role_name(r->ha_role) == NULL) {
		err_set(err, errlen, "ha.role unknown");
		return -1;
	}
	if (r->created_s < 0) {
		err_set(err, errlen, "created is negative");
		return -1;
	}
	if (r->nrecords > LIC_REPORT_MAX_RECORDS ||
	    (r->nrecords > 0 && r->records == NULL)) {
		err_set(err, errlen, "%zu records: at most %d per report",
		       r->nrecords, LIC_REPORT_MAX_RECORDS);
		return -1;
	}
	for (i = 0; i < r->nrecords; i++) {
		if (record_check(&r->records[i], i, err, errlen) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (strcmp(r->records[i].id, r->records[j].id) == 0) {
				err_set(err, errlen,
				       "records[%zu].id repeats records[%zu].id",
				       i, j);
				return -1;
			}
	}
	return 0;
}

static int ack_check(const struct lic_ack_info *a, char *err, size_t errlen)
{
	size_t i, j;

	if (lic_wire_udi_check(&a->udi, err, errlen) != 0)
		return -1;
	if (a->nids == 0 || a->nids > LIC_ACK_MAX_IDS || a->report_ids == NULL) {
		err_set(err, errlen, "report_ids must hold 1..%d ids",
		       LIC_ACK_MAX_IDS);
		return -1;
	}
	for (i = 0; i < a->nids; i++) {
		if (!report_id_ok(a->report_ids[i])) {
			err_set(err, errlen,
			       "report_ids[%zu] is not %d lowercase hex digits",
			       i, LIC_REPORT_ID_LEN);
			return -1;
		}
		for (j = 0; j < i; j++)
			if (strcmp(a->report_ids[i], a->report_ids[j]) == 0) {
				err_set(err, errlen,
				       "report_ids[%zu] repeats report_ids[%zu]",
				       i, j);
				return -1;
			}
	}
	if (a->ack_time_s < 0) {
		err_set(err, errlen, "ack_time is negative");
		return -1;
	}
	return 0;
}

/* ---- JSON helpers ---------------------------------------------------- */

/* Compact text of `root`, at most `max` bytes. */
static int dump(json_t *root, size_t flags, size_t max, char **out,
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

static int get_udi(json_t *o, const char *where, struct lic_udi *u,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "udi");

	if (!json_is_object(v)) {
		err_set(err, errlen, "%s: \"udi\" missing or not an object",
		       where);
		return -1;
	}
	u->pid = lic_wire_get_str(v, "udi", "pid", err, errlen);
	if (u->pid == NULL)
		return -1;
	u->sn = lic_wire_get_str(v, "udi", "sn", err, errlen);
	if (u->sn == NULL)
		return -1;
	return 0;
}

/* ---- envelopes ------------------------------------------------------- */

int lic_envelope_seal(const struct lic_key *k, const char *payload,
		      size_t len, char **envelope, size_t *envlen, char *err,
		      size_t errlen)
{
	char kid[LIC_KEY_ID_LEN + 1];
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *p64 = NULL, *s64 = NULL;
	json_t *env = NULL;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (k == NULL || payload == NULL || envelope == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return -1;
	}
	if (len == 0 || len > LIC_PAYLOAD_MAX) {
		err_set(err, errlen, "payload of %zu bytes outside 1..%d", len,
		       LIC_PAYLOAD_MAX);
		return -1;
	}
	if (lic_sign(k, (const unsigned char *)payload, len, &sig, &siglen,
		     err, errlen) != 0)
		return -1;
	lic_key_id(k, kid);
	p64 = lic_b64_encode((const unsigned char *)payload, len, NULL);
	s64 = lic_b64_encode(sig, siglen, NULL);
	env = json_object();
	if (p64 == NULL || s64 == NULL || env == NULL ||
	    lic_wire_put(env, "v", json_integer(ENV_VERSION)) != 0 ||
	    lic_wire_put(env, "alg", json_string(ENV_ALG)) != 0 ||
	    lic_wire_put(env, "key_id", json_string(kid)) != 0 ||
	    lic_wire_put(env, "payload", json_string(p64)) != 0 ||
	    lic_wire_put(env, "signature", json_string(s64)) != 0) {
		err_set(err, errlen, "envelope: out of memory");
		goto out_free;
	}
	rc = dump(env, JSON_PRESERVE_ORDER, LIC_ENVELOPE_MAX, envelope, envlen,
		  err, errlen);
out_free:
	json_decref(env);
	free(p64);
	free(s64);
	free(sig);
	return rc;
}

/*
 * The whole check of an envelope (see lic_envelope_open). On success
 * *root is the parsed payload object (caller decrefs) and, when payload is
 * not NULL, *payload a NUL-terminated copy of the verified bytes.
 */
static int envelope_open(const struct lic_pubkey *pk, const char *envelope,
			 size_t len, const char *type, json_t **root,
			 char **payload, size_t *plen, char *err, size_t errlen)
{
	char want[LIC_KEY_ID_LEN + 1];
	json_error_t je;
	json_t *env = NULL, *pl = NULL, *v;
	const char *kid, *p64, *s64, *ptype;
	unsigned char *pbytes = NULL, *sig = NULL;
	size_t pbn = 0, sign = 0;
	int rc = -1, vr;

	*root = NULL;
	if (payload != NULL)
		*payload = NULL;
	if (pk == NULL || envelope == NULL || type == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return -1;
	}
	if (len == 0 || len > LIC_ENVELOPE_MAX) {
		err_set(err, errlen, "envelope of %zu bytes outside 1..%d", len,
		       LIC_ENVELOPE_MAX);
		return -1;
	}
	env = json_loadb(envelope, len, JSON_REJECT_DUPLICATES, &je);
	if (env == NULL) {
		err_set(err, errlen, "envelope is not valid JSON: %s (line %d)",
		       je.text, je.line);
		return -1;
	}
	if (!json_is_object(env)) {
		err_set(err, errlen, "envelope is not a JSON object");
		goto out_free;
	}
	v = json_object_get(env, "v");
	if (!json_is_integer(v) || json_integer_value(v) != ENV_VERSION) {
		err_set(err, errlen, "envelope: \"v\" missing or not %d",
		       ENV_VERSION);
		goto out_free;
	}
	v = json_object_get(env, "alg");
	if (!json_is_string(v) || strcmp(json_string_value(v), ENV_ALG) != 0) {
		err_set(err, errlen, "envelope: \"alg\" missing or not \"%s\"",
		       ENV_ALG);
		goto out_free;
	}
	kid = lic_wire_get_str(env, "envelope", "key_id", err, errlen);
	p64 = kid ? lic_wire_get_str(env, "envelope", "payload", err, errlen) : NULL;
	s64 = p64 ? lic_wire_get_str(env, "envelope", "signature", err, errlen) : NULL;
	if (s64 == NULL)
		goto out_free;
	lic_pubkey_id(pk, want);
	if (strcmp(kid, want) != 0) {
		err_set(err, errlen,
		       "signed by key %.16s..., not by the expected key %.16s...",
		       kid, want);
		goto out_free;
	}
	if (lic_b64_decode(p64, json_string_length(json_object_get(env,
								   "payload")),
			   &pbytes, &pbn, err, errlen) != 0 ||
	    lic_b64_decode(s64, json_string_length(json_object_get(env,
								   "signature")),
			   &sig, &sign, err, errlen) != 0)
		goto out_free;
	if (pbn == 0 || pbn > LIC_PAYLOAD_MAX) {
		err_set(err, errlen, "payload of %zu bytes outside 1..%d", pbn,
		       LIC_PAYLOAD_MAX);
		goto out_free;
	}
	vr = lic_verify(pk, pbytes, pbn, sig, sign);
	if (vr != 1) {
		err_set(err, errlen, vr == 0 ? "bad signature"
					    : "signature check failed");
		goto out_free;
	}
	/* Only verified bytes are parsed. */
	pl = json_loadb((const char *)pbytes, pbn, JSON_REJECT_DUPLICATES, &je);
	if (pl == NULL) {
		err_set(err, errlen, "payload is not valid JSON: %s", je.text);
		goto out_free;
	}
	if (!json_is_object(pl)) {
		err_set(err, errlen, "payload is not a JSON object");
		goto out_free;
	}
	ptype = lic_wire_get_str(pl, "payload", "type", err, errlen);
	if (ptype == NULL)
		goto out_free;
	if (strcmp(ptype, type) != 0) {
		err_set(err, errlen, "payload type \"%.40s\", expected \"%s\"",
		       ptype, type);
		goto out_free;
	}
	v = json_object_get(pl, "v");
	if (!json_is_integer(v) || json_integer_value(v) != PAYLOAD_VERSION) {
		err_set(err, errlen, "payload: \"v\" missing or not %d",
		       PAYLOAD_VERSION);
		goto out_free;
	}
	if (payload != NULL) {
		*payload = malloc(pbn + 1);
		if (*payload == NULL) {
			err_set(err, errlen, "out of memory");
			goto out_free;
		}
		memcpy(*payload, pbytes, pbn);
		(*payload)[pbn] = '\0';
		if (plen != NULL)
			*plen = pbn;
	}
	*root = pl;
	pl = NULL;
	rc = 0;
out_free:
	json_decref(pl);
	json_decref(env);
	free(pbytes);
	free(sig);
	return rc;
}

int lic_envelope_open(const struct lic_pubkey *pk, const char *envelope,
		      size_t len, const char *type, char **payload,
		      size_t *plen, char *err, size_t errlen)
{
	json_t *root = NULL;

	if (payload == NULL) {
		err_set(err, errlen, "envelope: missing argument");
		return -1;
	}
	if (envelope_open(pk, envelope, len, type, &root, payload, plen, err,
			  errlen) != 0)
		return -1;
	json_decref(root);
	return 0;
}

/* ---- reports --------------------------------------------------------- */

int lic_report_id_new(char out[LIC_REPORT_ID_LEN + 1], char *err,
		      size_t errlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[LIC_REPORT_ID_LEN / 2];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		ERR_clear_error();
		err_set(err, errlen, "cannot get random bytes for a report id");
		return -1;
	}
	for (i = 0; i < sizeof(rnd); i++) {
		out[2 * i] = hex[rnd[i] >> 4];
		out[2 * i + 1] = hex[rnd[i] & 15];
	}
	out[LIC_REPORT_ID_LEN] = '\0';
	return 0;
}

static json_t *record_json(const struct lic_usage_record *r)
{
	json_t *o = json_object();

	if (o == NULL || lic_wire_put(o, "id", json_string(r->id)) != 0 ||
	    lic_wire_put(o, "tag", json_string(lic_tag_name(r->tag))) != 0 ||
	    lic_wire_put(o, "start", json_integer(r->start_s)) != 0 ||
	    lic_wire_put(o, "end", json_integer(r->end_s)) != 0 ||
	    lic_wire_put(o, "count", json_integer(r->count)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int lic_report_payload(const struct lic_report_info *r, char **payload,
		       size_t *len, char *err, size_t errlen)
{
	json_t *root = NULL, *ha = NULL, *recs = NULL;
	size_t i;
	int rc = -1;

	if (payload != NULL)
		*payload = NULL;
	if (r == NULL || payload == NULL) {
		err_set(err, errlen, "report: missing argument");
		return -1;
	}
	if (report_check(r, err, errlen) != 0)
		return -1;
	root = json_object();
	ha = json_object();
	recs = json_array();
	if (root == NULL || ha == NULL || recs == NULL)
		goto out_nomem;
	if (r->ha_group != NULL && r->ha_group[0] != '\0' &&
	    lic_wire_put(ha, "group", json_string(r->ha_group)) != 0)
		goto out_nomem;
	if (lic_wire_put(ha, "role", json_string(lic_ha_role_name(r->ha_role))) != 0)
		goto out_nomem;
	for (i = 0; i < r->nrecords; i++)
		if (json_array_append_new(recs, record_json(&r->records[i])) !=
		    0)
			goto out_nomem;
	if (lic_wire_put(root, "type", json_string(LIC_TYPE_REPORT)) != 0 ||
	    lic_wire_put(root, "v", json_integer(PAYLOAD_VERSION)) != 0 ||
	    lic_wire_put(root, "report_id", json_string(r->report_id)) != 0 ||
	    lic_wire_put(root, "created", json_integer(r->created_s)) != 0 ||
	    lic_wire_put(root, "release", json_string(r->release)) != 0)
		goto out_nomem;
	if (r->hostname != NULL &&
	    lic_wire_put(root, "hostname", json_string(r->hostname)) != 0)
		goto out_nomem;
	if (lic_wire_put(root, "udi", lic_wire_udi_json(&r->udi)) != 0)
		goto out_nomem;
	if (json_object_set(root, "ha", ha) != 0 ||
	    json_object_set(root, "records", recs) != 0)
		goto out_nomem;
	rc = dump(root, JSON_PRESERVE_ORDER, LIC_PAYLOAD_MAX, payload, len, err,
		  errlen);
	goto out_free;
out_nomem:
	err_set(err, errlen, "report: out of memory");
out_free:
	json_decref(recs);
	json_decref(ha);
	json_decref(root);
	return rc;
}

int lic_report_build(const struct lic_key *device,
		     const struct lic_report_info *r, char **envelope,
		     size_t *len, char *err, size_t errlen)
{
	char *payload = NULL;
	size_t plen = 0;
	int rc;

	if (envelope != NULL)
		*envelope = NULL;
	if (lic_report_payload(r, &payload, &plen, err, errlen) != 0)
		return -1;
	rc = lic_envelope_seal(device, payload, plen, envelope, len, err,
			       errlen);
	free(payload);
	return rc;
}

void lic_report_free(struct lic_report **r)
{
	if (r == NULL || *r == NULL)
		return;
	free((*r)->recs);
	json_decref((*r)->root);
	free(*r);
	*r = NULL;
}

const struct lic_report_info *lic_report_get(const struct lic_report *r)
{
	return r != NULL ? &r->info : NULL;
}

static int record_parse(json_t *o, size_t i, struct lic_usage_record *rec,
			char *err, size_t errlen)
{
	char where[32];
	const char *tag;
	int t;

	snprintf(where, sizeof(where), "records[%zu]", i);
	if (!json_is_object(o)) {
		err_set(err, errlen, "%s is not an object", where);
		return -1;
	}
	rec->id = lic_wire_get_str(o, where, "id", err, errlen);
	if (rec->id == NULL)
		return -1;
	tag = lic_wire_get_str(o, where, "tag", err, errlen);
	if (tag == NULL)
		return -1;
	t = lic_tag_parse(tag);
	if (t < 0) {
		err_set(err, errlen, "%s: unknown tag \"%.40s\"", where, tag);
		return -1;
	}
	rec->tag = (enum lic_tag)t;
	if (lic_wire_get_int(o, where, "start", &rec->start_s, err, errlen) != 0 ||
	    lic_wire_get_int(o, where, "end", &rec->end_s, err, errlen) != 0 ||
	    lic_wire_get_int(o, where, "count", &rec->count, err, errlen) != 0)
		return -1;
	return 0;
}

int lic_report_parse(const struct lic_pubkey *device, const char *envelope,
		     size_t len, struct lic_report **out, char *err,
		     size_t errlen)
{
	struct lic_report *r = NULL;
	json_t *root = NULL, *v, *recs;
	size_t i;
	int role;

	if (out == NULL) {
		err_set(err, errlen, "report: missing argument");
		return -1;
	}
	*out = NULL;
	if (envelope_open(device, envelope, len, LIC_TYPE_REPORT, &root, NULL,
			  NULL, err, errlen) != 0)
		return -1;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		json_decref(root);
		err_set(err, errlen, "out of memory");
		return -1;
	}
	r->root = root;
	r->info.report_id = lic_wire_get_str(root, "report", "report_id", err, errlen);
	if (r->info.report_id == NULL)
		goto out_fail;
	r->info.release = lic_wire_get_str(root, "report", "release", err, errlen);
	if (r->info.release == NULL)
		goto out_fail;
	if (json_object_get(root, "hostname") != NULL) {
		r->info.hostname =
			lic_wire_get_str(root, "report", "hostname", err, errlen);
		if (r->info.hostname == NULL)
			goto out_fail;
	}
	if (lic_wire_get_int(root, "report", "created", &r->info.created_s, err,
		    errlen) != 0 ||
	    get_udi(root, "report", &r->info.udi, err, errlen) != 0)
		goto out_fail;
	v = json_object_get(root, "ha");
	if (!json_is_object(v)) {
		err_set(err, errlen, "report: \"ha\" missing or not an object");
		goto out_fail;
	}
	if (json_object_get(v, "group") != NULL) {
		r->info.ha_group = lic_wire_get_str(v, "ha", "group", err, errlen);
		if (r->info.ha_group == NULL)
			goto out_fail;
		/* On the wire a group is 1..64 characters or absent. */
		if (r->info.ha_group[0] == '\0') {
			err_set(err, errlen, "ha.group is empty");
			goto out_fail;
		}
	}
	{
		const char *rn = lic_wire_get_str(v, "ha", "role", err, errlen);

		if (rn == NULL)
			goto out_fail;
		role = role_parse(rn);
		if (role < 0) {
			err_set(err, errlen, "ha: unknown role \"%.40s\"", rn);
			goto out_fail;
		}
		r->info.ha_role = (enum lic_ha_role)role;
	}
	recs = json_object_get(root, "records");
	if (!json_is_array(recs)) {
		err_set(err, errlen,
		       "report: \"records\" missing or not an array");
		goto out_fail;
	}
	if (json_array_size(recs) > LIC_REPORT_MAX_RECORDS) {
		err_set(err, errlen, "report: %zu records, at most %d",
		       json_array_size(recs), LIC_REPORT_MAX_RECORDS);
		goto out_fail;
	}
	r->info.nrecords = json_array_size(recs);
	if (r->info.nrecords > 0) {
		r->recs = calloc(r->info.nrecords, sizeof(*r->recs));
		if (r->recs == NULL) {
			err_set(err, errlen, "out of memory");
			goto out_fail;
		}
	}
	for (i = 0; i < r->info.nrecords; i++)
		if (record_parse(json_array_get(recs, i), i, &r->recs[i], err,
				 errlen) != 0)
			goto out_fail;
	r->info.records = r->recs;
	/* The same rules as when building, so both sides agree. */
	if (report_check(&r->info, err, errlen) != 0)
		goto out_fail;
	*out = r;
	return 0;
out_fail:
	lic_report_free(&r);
	return -1;
}

/* ---- ACKs ------------------------------------------------------------ */

int lic_ack_build(const struct lic_key *server, const struct lic_ack_info *a,
		  char **envelope, size_t *len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = NULL, *ids = NULL, *policy = NULL;
	char *payload = NULL;
	size_t plen = 0, i;
	int rc = -1;

	if (envelope != NULL)
		*envelope = NULL;
	if (a == NULL || envelope == NULL) {
		err_set(err, errlen, "ack: missing argument");
		return -1;
	}
	if (ack_check(a, err, errlen) != 0)
		return -1;
	if (a->policy_json != NULL) {
		if (strlen(a->policy_json) > LIC_POLICY_MAX) {
			err_set(err, errlen, "policy longer than %d bytes",
			       LIC_POLICY_MAX);
			return -1;
		}
		policy = json_loads(a->policy_json, JSON_REJECT_DUPLICATES,
				    &je);
		if (!json_is_object(policy)) {
			err_set(err, errlen, "policy is not a JSON object%s%s",
			       policy == NULL ? ": " : "",
			       policy == NULL ? je.text : "");
			goto out_free;
		}
	}
	root = json_object();
	ids = json_array();
	if (root == NULL || ids == NULL)
		goto out_nomem;
	for (i = 0; i < a->nids; i++)
		if (json_array_append_new(ids, json_string(a->report_ids[i])) !=
		    0)
			goto out_nomem;
	if (lic_wire_put(root, "type", json_string(LIC_TYPE_ACK)) != 0 ||
	    lic_wire_put(root, "v", json_integer(PAYLOAD_VERSION)) != 0 ||
	    lic_wire_put(root, "udi", lic_wire_udi_json(&a->udi)) != 0 ||
	    json_object_set(root, "report_ids", ids) != 0 ||
	    lic_wire_put(root, "ack_time", json_integer(a->ack_time_s)) != 0)
		goto out_nomem;
	if (policy != NULL && json_object_set(root, "policy", policy) != 0)
		goto out_nomem;
	if (dump(root, JSON_PRESERVE_ORDER, LIC_PAYLOAD_MAX, &payload, &plen,
		 err, errlen) != 0)
		goto out_free;
	rc = lic_envelope_seal(server, payload, plen, envelope, len, err,
			       errlen);
	goto out_free;
out_nomem:
	err_set(err, errlen, "ack: out of memory");
out_free:
	free(payload);
	json_decref(policy);
	json_decref(ids);
	json_decref(root);
	return rc;
}

void lic_ack_free(struct lic_ack **a)
{
	if (a == NULL || *a == NULL)
		return;
	free((*a)->ids);
	free((*a)->policy);
	json_decref((*a)->root);
	free(*a);
	*a = NULL;
}

const struct lic_ack_info *lic_ack_get(const struct lic_ack *a)
{
	return a != NULL ? &a->info : NULL;
}

int lic_ack_parse(const struct lic_pubkey *server, const char *envelope,
		  size_t len, const struct lic_udi *expect,
		  struct lic_ack **out, char *err, size_t errlen)
{
	struct lic_ack *a = NULL;
	json_t *root = NULL, *ids, *policy;
	size_t i, n;

	if (out == NULL) {
		err_set(err, errlen, "ack: missing argument");
		return -1;
	}
	*out = NULL;
	if (envelope_open(server, envelope, len, LIC_TYPE_ACK, &root, NULL,
			  NULL, err, errlen) != 0)
		return -1;
	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		json_decref(root);
		err_set(err, errlen, "out of memory");
		return -1;
	}
	a->root = root;
	if (get_udi(root, "ack", &a->info.udi, err, errlen) != 0 ||
	    lic_wire_get_int(root, "ack", "ack_time", &a->info.ack_time_s, err,
		    errlen) != 0)
		goto out_fail;
	ids = json_object_get(root, "report_ids");
	if (!json_is_array(ids)) {
		err_set(err, errlen,
		       "ack: \"report_ids\" missing or not an array");
		goto out_fail;
	}
	n = json_array_size(ids);
	if (n == 0 || n > LIC_ACK_MAX_IDS) {
		err_set(err, errlen, "ack: %zu report ids, expected 1..%d", n,
		       LIC_ACK_MAX_IDS);
		goto out_fail;
	}
	a->ids = calloc(n, sizeof(*a->ids));
	if (a->ids == NULL) {
		err_set(err, errlen, "out of memory");
		goto out_fail;
	}
	for (i = 0; i < n; i++) {
		json_t *v = json_array_get(ids, i);

		if (!json_is_string(v)) {
			err_set(err, errlen, "ack: report_ids[%zu] not a string",
			       i);
			goto out_fail;
		}
		a->ids[i] = json_string_value(v);
	}
	a->info.report_ids = a->ids;
	a->info.nids = n;
	policy = json_object_get(root, "policy");
	if (policy != NULL && !json_is_null(policy)) {
		if (!json_is_object(policy)) {
			err_set(err, errlen, "ack: \"policy\" is not an object");
			goto out_fail;
		}
		if (dump(policy, JSON_SORT_KEYS, LIC_POLICY_MAX, &a->policy,
			 NULL, err, errlen) != 0)
			goto out_fail;
		a->info.policy_json = a->policy;
	}
	if (ack_check(&a->info, err, errlen) != 0)
		goto out_fail;
	if (expect != NULL && (expect->pid == NULL || expect->sn == NULL ||
			       strcmp(expect->pid, a->info.udi.pid) != 0 ||
			       strcmp(expect->sn, a->info.udi.sn) != 0)) {
		err_set(err, errlen,
		       "ack is for PID:%.64s,SN:%.64s, not for this device",
		       a->info.udi.pid, a->info.udi.sn);
		goto out_fail;
	}
	*out = a;
	return 0;
out_fail:
	lic_ack_free(&a);
	return -1;
}

static int in_set(const char *id, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; set != NULL && i < n; i++)
		if (set[i] != NULL && strcmp(set[i], id) == 0)
			return 1;
	return 0;
}

enum lic_ack_decision lic_ack_accept(const struct lic_ack *ack,
				     const char *const *pending,
				     size_t npending, const char *const *acked,
				     size_t nacked, char *err, size_t errlen)
{
	size_t i;

	if (ack == NULL || ack->info.nids == 0) {
		err_set(err, errlen, "no ACK, or an ACK without report ids");
		return LIC_ACK_REJECT_INVALID;
	}
	for (i = 0; i < ack->info.nids; i++) {
		const char *id = ack->info.report_ids[i];

		if (in_set(id, pending, npending))
			continue;
		if (in_set(id, acked, nacked)) {
			err_set(err, errlen,
			       "replayed ACK: report %s is already "
			       "acknowledged",
			       id);
			return LIC_ACK_REJECT_REPLAY;
		}
		err_set(err, errlen,
		       "ACK for report %s, which this device did not send or "
		       "is not awaiting an ACK for",
		       id);
		return LIC_ACK_REJECT_UNKNOWN;
	}
	return LIC_ACK_ACCEPT;
}
