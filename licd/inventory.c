/* lsrv inventory: per-tag arithmetic and rendering (see inventory.h). */
#include "licd/inventory.h"

#include "licensing/report.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A note line: the group name (at most LIC_ID_MAX) and the wording. */
#define NOTE_MAX (LIC_ID_MAX + 96)

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static bool grouped(const struct lsrv_inv_member *m)
{
	return m->ha_group != NULL && m->ha_group[0] != '\0';
}

/*
 * How many devices share member i's HA group name, and whether i is the
 * first of them (the one that counts for the unit).
 */
static size_t group_size(const struct lsrv_inv_member *m, size_t n, size_t i,
			 bool *first)
{
	size_t j, k = 0;

	*first = true;
	for (j = 0; j < n; j++)
		if (grouped(&m[j]) &&
		    strcmp(m[j].ha_group, m[i].ha_group) == 0) {
			if (j < i)
				*first = false;
			k++;
		}
	return k;
}

/*
 * Add the unit whose first member is i: the largest count of each tag
 * over the members of its group (one device, or a pair: both units of a
 * pair may report, and the standby's stale count must not add to the
 * active's).
 */
static void add_unit(const struct lsrv_inv_member *m, size_t n, size_t i,
		     bool pair, struct lsrv_inv_line out[LIC_TAG_COUNT])
{
	int64_t best;
	size_t j;
	int t;

	for (t = 0; t < LIC_TAG_COUNT; t++) {
		best = m[i].has[t] ? m[i].count[t] : 0;
		for (j = i + 1; pair && j < n; j++)
			if (grouped(&m[j]) &&
			    strcmp(m[j].ha_group, m[i].ha_group) == 0 &&
			    m[j].has[t] && m[j].count[t] > best)
				best = m[j].count[t];
		if (best > 0)
			out[t].in_use = sat_add(out[t].in_use, best);
	}
}

void lsrv_inventory(const int64_t purchased[LIC_TAG_COUNT],
		    const struct lsrv_inv_member *m, size_t n,
		    struct lsrv_inv_line out[LIC_TAG_COUNT],
		    struct lsrv_inv_note *notes, size_t *nnotes)
{
	size_t i, members, nn = 0;
	bool first;
	int t;

	for (t = 0; t < LIC_TAG_COUNT; t++) {
		memset(&out[t], 0, sizeof(out[t]));
		out[t].tag = (enum lic_tag)t;
	}
	for (i = 0; m != NULL && i < n; i++) {
		members = 1;
		first = true;
		if (grouped(&m[i]))
			members = group_size(m, n, i, &first);
		if (members > LSRV_HA_UNIT_MAX) {
			/* Not a pair: every member is a unit. */
			if (first && notes != NULL) {
				notes[nn].ha_group = m[i].ha_group;
				notes[nn].members = members;
			}
			if (first)
				nn++;
			add_unit(m, n, i, false, out);
		} else if (first) {
			add_unit(m, n, i, members > 1, out);
		}
	}
	if (nnotes != NULL)
		*nnotes = nn;
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		struct lsrv_inv_line *l = &out[t];

		if (t == LIC_TAG_VGW)
			l->purchased = l->in_use;
		else
			l->purchased = purchased != NULL && purchased[t] > 0
					       ? purchased[t]
					       : 0;
		/* Both are >= 0: the difference cannot overflow. */
		l->balance = l->purchased - l->in_use;
		l->insufficient = l->balance < 0;
	}
}

/* The text of a note, as both renderings show it. */
static void note_text(char *buf, size_t len, const struct lsrv_inv_note *n)
{
	snprintf(buf, len, "HA group %s has %zu members: counted separately",
		 n->ha_group, n->members);
}

static int render_json(FILE *out, const char *account, const char *va,
		       const struct lsrv_inv_line lines[LIC_TAG_COUNT],
		       const struct lsrv_inv_note *notes, size_t nnotes)
{
	json_t *root = json_object(), *arr = json_array(),
	       *warn = json_array();
	char *text = NULL, line[NOTE_MAX];
	size_t i;
	int t, rc = -1;

	if (root == NULL || arr == NULL || warn == NULL ||
	    json_object_set_new(root, "account", json_string(account)) != 0 ||
	    json_object_set_new(root, "virtual_account", json_string(va)) !=
		    0 ||
	    json_object_set(root, "tags", arr) != 0 ||
	    json_object_set(root, "warnings", warn) != 0)
		goto out;
	for (i = 0; i < nnotes; i++) {
		note_text(line, sizeof(line), &notes[i]);
		if (json_array_append_new(warn, json_string(line)) != 0)
			goto out;
	}
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		const struct lsrv_inv_line *l = &lines[t];
		json_t *alert = l->insufficient
					? json_string(LSRV_ALERT_INSUFFICIENT)
					: json_null();
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:o}", "tag",
				      lic_tag_name(l->tag), "purchased",
				      (json_int_t)l->purchased, "in_use",
				      (json_int_t)l->in_use, "balance",
				      (json_int_t)l->balance, "alert", alert);

		if (json_array_append_new(arr, o) != 0)
			goto out;
	}
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text != NULL && fprintf(out, "%s\n", text) >= 0)
		rc = 0;
out:
	free(text);
	json_decref(warn);
	json_decref(arr);
	json_decref(root);
	return rc;
}

int lsrv_inventory_render(FILE *out, const char *account, const char *va,
			  const struct lsrv_inv_line lines[LIC_TAG_COUNT],
			  const struct lsrv_inv_note *notes, size_t nnotes,
			  bool json)
{
	char line[NOTE_MAX];
	size_t i;
	int t;

	if (json)
		return render_json(out, account, va, lines, notes, nnotes);
	if (fprintf(out, "Smart Account: %s\nVirtual Account: %s\n\n",
		    account, va) < 0 ||
	    fprintf(out, "%-12s %12s %12s %12s  %s\n", "License", "Purchased",
		    "In Use", "Balance", "Alert") < 0)
		return -1;
	for (t = 0; t < LIC_TAG_COUNT; t++) {
		const struct lsrv_inv_line *l = &lines[t];

		if (fprintf(out, "%-12s %12lld %12lld %12lld%s%s\n",
			    lic_tag_name(l->tag), (long long)l->purchased,
			    (long long)l->in_use, (long long)l->balance,
			    l->insufficient ? "  " : "",
			    l->insufficient ? LSRV_ALERT_INSUFFICIENT : "") < 0)
			return -1;
	}
	for (i = 0; i < nnotes; i++) {
		note_text(line, sizeof(line), &notes[i]);
		if (fprintf(out, "%sNote: %s\n", i == 0 ? "\n" : "", line) < 0)
			return -1;
	}
	return fflush(out) == 0 ? 0 : -1;
}
