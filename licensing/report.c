/*
 * lic report: usage reports and ACKs (see report.h and
 * docs/licensing-protocol.md). JSON through jansson only; envelopes
 * through envelope.c.
 */
#include "licensing/report.h"
#include "licensing/envelope.h"
#include "licensing/wire.h"

#include "common/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/rand.h>

struct lic_report {
	struct lic_report_info info;
	struct lic_usage_record *recs;
	json_t *root; /* owns every string the info points at */
};

struct lic_ack {
	struct lic_ack_info info;
	const char *ids[LIC_ACK_MAX_IDS];
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
	if (lic_wire_text_check(r->release, LIC_TEXT_MAX, "release", err,
				errlen) != 0)
		return -1;
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
	if (lic_wire_udi_check(&a->udi, err, errlen) != 0 ||
	    lic_wire_ids_check(a->report_ids, a->nids, err, errlen) != 0)
		return -1;
	if (a->ack_time_s < 0) {
		err_set(err, errlen, "ack_time is negative");
		return -1;
	}
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
	root = lic_wire_payload_new(LIC_TYPE_REPORT);
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
	if (lic_wire_put(root, "report_id", json_string(r->report_id)) != 0 ||
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
	rc = lic_wire_dump(root, JSON_PRESERVE_ORDER, LIC_PAYLOAD_MAX, payload,
			   len, err, errlen);
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
	r = err_calloc(1, sizeof(*r), err, errlen);
	if (r == NULL)
		return -1;
	if (lic_envelope_open_json(device, envelope, len, LIC_TYPE_REPORT,
				   &r->root, err, errlen) != LIC_MSG_OK)
		goto out_fail;
	root = r->root;
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
	    lic_wire_get_udi(root, "report", &r->info.udi, err, errlen) != 0)
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
		r->recs = err_calloc(r->info.nrecords, sizeof(*r->recs), err,
				     errlen);
		if (r->recs == NULL)
			goto out_fail;
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
	json_t *root = NULL, *policy = NULL;
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
	root = lic_wire_payload_new(LIC_TYPE_ACK);
	if (root == NULL ||
	    lic_wire_put(root, "udi", lic_wire_udi_json(&a->udi)) != 0 ||
	    lic_wire_put(root, "report_ids",
			 lic_wire_ids_json(a->report_ids, a->nids)) != 0 ||
	    lic_wire_put(root, "ack_time", json_integer(a->ack_time_s)) != 0 ||
	    (policy != NULL && json_object_set(root, "policy", policy) != 0)) {
		err_set(err, errlen, "ack: out of memory");
		goto out_free;
	}
	rc = lic_envelope_seal_json(server, root, envelope, len, err, errlen);
out_free:
	json_decref(policy);
	json_decref(root);
	return rc;
}

void lic_ack_free(struct lic_ack **a)
{
	if (a == NULL || *a == NULL)
		return;
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
	json_t *root, *policy;

	if (out == NULL) {
		err_set(err, errlen, "ack: missing argument");
		return -1;
	}
	*out = NULL;
	a = err_calloc(1, sizeof(*a), err, errlen);
	if (a == NULL)
		return -1;
	if (lic_envelope_open_json(server, envelope, len, LIC_TYPE_ACK,
				   &a->root, err, errlen) != LIC_MSG_OK)
		goto out_fail;
	root = a->root;
	if (lic_wire_get_udi(root, "ack", &a->info.udi, err, errlen) != 0 ||
	    lic_wire_get_int(root, "ack", "ack_time", &a->info.ack_time_s, err,
			     errlen) != 0 ||
	    lic_wire_get_ids(root, "ack", a->ids, &a->info.nids, err,
			     errlen) != 0)
		goto out_fail;
	a->info.report_ids = a->ids;
	policy = json_object_get(root, "policy");
	if (policy != NULL && !json_is_null(policy)) {
		if (!json_is_object(policy)) {
			err_set(err, errlen, "ack: \"policy\" is not an object");
			goto out_fail;
		}
		if (lic_wire_dump(policy, JSON_SORT_KEYS, LIC_POLICY_MAX,
				  &a->policy, NULL, err, errlen) != 0)
			goto out_fail;
		a->info.policy_json = a->policy;
	}
	if (ack_check(&a->info, err, errlen) != 0)
		goto out_fail;
	if (expect != NULL && !lic_wire_udi_equal(expect, &a->info.udi)) {
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
