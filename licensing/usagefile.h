/*
 * lic usagefile: the files of the offline exchange
 * (docs/licensing-protocol.md section 5).
 *
 * `license smart save usage` writes a usage file: the stored report
 * envelopes, byte for byte, in
 *
 *   {"format":"sbc-usage","v":1,"reports":[<envelope>,...]}
 *
 * and `license smart import` reads what came back, an ACK file or a
 * policy file, opened with the pinned server key.
 *
 * This module selects, formats, writes, reads and opens; the agent
 * (agent.h) builds the reports first, marks the saved ones and installs
 * what an import opened. It runs where the store does (sbcd's main
 * thread), never reads a clock (`now` comes from the caller), and reports
 * failures as -1 with a reason in err (errlen bytes; err may be NULL).
 */
#ifndef SBC_LIC_USAGEFILE_H
#define SBC_LIC_USAGEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "licensing/keys.h"
#include "licensing/report.h"

struct lic_store;

/* Largest usage file written, bytes. */
#define LIC_USAGEFILE_MAX (256u * 384u * 1024u)

/* `license smart save usage {unreported | all | days <N>} file <path>`. */
enum lic_save_mode {
	LIC_SAVE_UNREPORTED, /* every unacknowledged report */
	LIC_SAVE_ALL,	     /* every report still stored, acked or not */
	LIC_SAVE_DAYS	     /* reports with a record that ended in N days */
};
#define LIC_SAVE_DAYS_MAX 3650u

/* 0 when `mode` is one of the above (for days with days in
 * 1..LIC_SAVE_DAYS_MAX), else -1 with a reason. */
int lic_usagefile_mode_check(enum lic_save_mode mode, unsigned days,
			     char *err, size_t errlen);

struct lic_usagefile;

/*
 * The usage file of the stored reports `mode` selects at `now`
 * (days: those carrying a record whose period ended in the last `days`
 * days), at most LIC_ACK_MAX_IDS of them (one ACK acknowledges the file)
 * and LIC_USAGEFILE_MAX bytes. 0 with *out the caller's, or -1 with a
 * reason, "no usage to save: ..." when nothing is selected.
 */
int lic_usagefile_build(struct lic_store *st, enum lic_save_mode mode,
			unsigned days, int64_t now, struct lic_usagefile **out,
			char *err, size_t errlen);

/* The ids of the reports in the file, *n of them (owned by f). */
const char *const *lic_usagefile_ids(const struct lic_usagefile *f,
				     size_t *n);

/* The file's text (NUL-terminated, not counted in *len), handed over:
 * the caller frees it. Once only; NULL after. */
char *lic_usagefile_take_text(struct lic_usagefile *f, size_t *len);

/* Writes the text to `path`, atomically (common/fileio.h), mode 0600. */
int lic_usagefile_write(const struct lic_usagefile *f, const char *path,
			char *err, size_t errlen);

void lic_usagefile_free(struct lic_usagefile **f);

/* ---- import ------------------------------------------------------------ */

/* An import file's bytes: a regular file of 1..LIC_ENVELOPE_MAX bytes
 * (*buf NUL-terminated, the caller frees it). */
int lic_usagefile_read(const char *path, char **buf, size_t *len, char *err,
		       size_t errlen);

/* What an imported file holds; exactly one of ack and policy_json. */
struct lic_import {
	struct lic_ack *ack; /* an ACK, verified, not yet accepted */
	char *policy_json;   /* a policy file's policy (lic_policy_file_parse) */
	int64_t issued_s;    /* and when it was issued */
};

/*
 * Opens imported bytes (`name` for messages) with the pinned server key
 * (NULL: no trust installed, refused) for the device `udi`: an ACK file,
 * else a policy file. 0 with *out filled, or -1 with a reason and *out
 * empty.
 */
int lic_usagefile_import(const struct lic_pubkey *server,
			 const struct lic_udi *udi, const char *name,
			 const char *buf, size_t len, struct lic_import *out,
			 char *err, size_t errlen);

/* Frees what *im holds and empties it. */
void lic_usagefile_import_clear(struct lic_import *im);

#endif
