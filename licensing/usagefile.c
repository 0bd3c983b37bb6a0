/*
 * lic usagefile: usage files out, ACK and policy files in (see
 * usagefile.h and docs/licensing-protocol.md section 5).
 */
#include "licensing/usagefile.h"

#include "common/err.h"
#include "common/fileio.h"
#include "licensing/envelope.h"
#include "licensing/store.h"
#include "licensing/trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD "{\"format\":\"sbc-usage\",\"v\":1,\"reports\":["
#define TAIL "]}\n"

struct lic_usagefile {
	struct lic_store_report reps[LIC_ACK_MAX_IDS];
	const char *ids[LIC_ACK_MAX_IDS]; /* into reps[] */
	size_t n;
	char *text;
	size_t len;
};

int lic_usagefile_mode_check(enum lic_save_mode mode, unsigned days,
			     char *err, size_t errlen)
{
	switch (mode) {
	case LIC_SAVE_UNREPORTED:
	case LIC_SAVE_ALL:
		return 0;
	case LIC_SAVE_DAYS:
		if (days >= 1 && days <= LIC_SAVE_DAYS_MAX)
			return 0;
		err_set(err, errlen, "days must be 1..%u", LIC_SAVE_DAYS_MAX);
		return -1;
	}
	err_set(err, errlen, "unknown save mode %d", (int)mode);
	return -1;
}

/* The reports `mode` selects into f->reps, f->n of them. */
static int select_reports(struct lic_store *st, enum lic_save_mode mode,
			  unsigned days, int64_t now, struct lic_usagefile *f,
			  char *err, size_t errlen)
{
	if (mode == LIC_SAVE_UNREPORTED) {
		if (lic_store_pending_reports(st, f->reps, LIC_ACK_MAX_IDS,
					      &f->n, err, errlen) != 0)
			return -1;
		if (f->n == 0) {
			err_set(err, errlen, "no usage to save: every report "
					     "is acknowledged");
			return -1;
		}
		return 0;
	}
	if (lic_store_reports_since(st,
				    mode == LIC_SAVE_DAYS
					    ? now - (int64_t)days * 86400
					    : -1,
				    f->reps, LIC_ACK_MAX_IDS, &f->n, err,
				    errlen) != 0)
		return -1;
	if (f->n == 0) {
		err_set(err, errlen, "no usage to save: no stored report%s",
			mode == LIC_SAVE_DAYS ? " in those days" : "");
		return -1;
	}
	return 0;
}

/* The text of the selected reports: their stored envelopes, in order. */
static int format(struct lic_store *st, struct lic_usagefile *f, char *err,
		  size_t errlen)
{
	size_t i, cap = 64, used = sizeof(HEAD) - 1;
	char *text = malloc(cap);

	if (text == NULL) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	memcpy(text, HEAD, used);
	for (i = 0; i < f->n; i++) {
		unsigned char *env = NULL;
		size_t len = 0;
		char *grown;

		if (lic_store_report_envelope(st, f->reps[i].report_id, &env,
					      &len, err, errlen) != 0)
			goto out_fail;
		if (used + len + 8 > LIC_USAGEFILE_MAX) {
			free(env);
			err_set(err, errlen, "usage file over %u bytes",
				LIC_USAGEFILE_MAX);
			goto out_fail;
		}
		while (used + len + 8 > cap)
			cap *= 2;
		grown = realloc(text, cap);
		if (grown == NULL) {
			free(env);
			err_set(err, errlen, "out of memory");
			goto out_fail;
		}
		text = grown;
		if (i > 0)
			text[used++] = ',';
		memcpy(text + used, env, len);
		used += len;
		free(env);
		f->ids[i] = f->reps[i].report_id;
	}
	/* With its NUL: the slack above leaves room for it. */
	memcpy(text + used, TAIL, sizeof(TAIL));
	f->text = text;
	f->len = used + sizeof(TAIL) - 1;
	return 0;

out_fail:
	free(text);
	return -1;
}

int lic_usagefile_build(struct lic_store *st, enum lic_save_mode mode,
			unsigned days, int64_t now, struct lic_usagefile **out,
			char *err, size_t errlen)
{
	struct lic_usagefile *f;

	if (out == NULL || st == NULL) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	*out = NULL;
	if (lic_usagefile_mode_check(mode, days, err, errlen) != 0)
		return -1;
	f = err_calloc(1, sizeof(*f), err, errlen);
	if (f == NULL)
		return -1;
	if (select_reports(st, mode, days, now, f, err, errlen) != 0 ||
	    format(st, f, err, errlen) != 0) {
		lic_usagefile_free(&f);
		return -1;
	}
	*out = f;
	return 0;
}

const char *const *lic_usagefile_ids(const struct lic_usagefile *f,
				     size_t *n)
{
	*n = f->n;
	return f->ids;
}

char *lic_usagefile_take_text(struct lic_usagefile *f, size_t *len)
{
	char *t = f->text;

	*len = t != NULL ? f->len : 0;
	f->text = NULL;
	f->len = 0;
	return t;
}

int lic_usagefile_write(const struct lic_usagefile *f, const char *path,
			char *err, size_t errlen)
{
	if (f == NULL || f->text == NULL || path == NULL) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	return fio_write_atomic(path, f->text, f->len, 0600, err, errlen);
}

void lic_usagefile_free(struct lic_usagefile **f)
{
	if (f == NULL || *f == NULL)
		return;
	free((*f)->text);
	free(*f);
	*f = NULL;
}

/* ---- import ------------------------------------------------------------ */

int lic_usagefile_read(const char *path, char **buf, size_t *len, char *err,
		       size_t errlen)
{
	return fio_read_file(path, LIC_ENVELOPE_MAX, buf, len, err, errlen);
}

int lic_usagefile_import(const struct lic_pubkey *server,
			 const struct lic_udi *udi, const char *name,
			 const char *buf, size_t len, struct lic_import *out,
			 char *err, size_t errlen)
{
	char ackerr[256], polerr[256];
	char *payload = NULL;

	if (out == NULL || name == NULL || buf == NULL) {
		err_set(err, errlen, "bad arguments");
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (server == NULL) {
		err_set(err, errlen, "no trust installed: cannot verify %s",
			name);
		return -1;
	}
	if (len > LIC_ENVELOPE_MAX) {
		err_set(err, errlen, "%s: %zu bytes, over %u", name, len,
			LIC_ENVELOPE_MAX);
		return -1;
	}
	if (lic_ack_parse(server, buf, len, udi, &out->ack, ackerr,
			  sizeof(ackerr)) == 0)
		return 0;
	if (lic_envelope_open(server, buf, len, LIC_TYPE_POLICY, &payload,
			      NULL, polerr, sizeof(polerr)) != 0) {
		err_set(err, errlen,
			"%s is neither a valid ACK (%s) nor a policy (%s)",
			name, ackerr, polerr);
		return -1;
	}
	free(payload);
	/* A policy file: its own checks, the UDI it names included. */
	return lic_policy_file_parse(server, buf, len, udi, &out->policy_json,
				     &out->issued_s, err, errlen);
}

void lic_usagefile_import_clear(struct lic_import *im)
{
	if (im == NULL)
		return;
	lic_ack_free(&im->ack);
	free(im->policy_json);
	memset(im, 0, sizeof(*im));
}
