/* lsrv inventory: per-tag arithmetic and rendering (see inventory.h). */
#include "inventory.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static bool grouped(const struct lsrv_inv_member *m)
{
	return m->ha_group != NULL && m->ha_group[0] != '\0';
}

/*
 * The contribution of the unit that member i belongs to, or 0 when i is
 * not the first member of its HA group (so the group is counted once).
 * A group counts the largest of its members' counts: both units of a
 * pair may report, and the standby's stale count must not add to the
 * active's.
 */
static int64_t unit_count(const struct lsrv_inv_member *m, size_t n,
			  size_t i, enum lic_tag t)
{
	int64_t best;
	size_t j;

	if (!grouped(&m[i]))
		return m[i].has[t] ? m[i].count[t] : 0;
	for (j = 0; j < i; j++)
		if (grouped(&m[j]) && strcmp(m[j].ha_group, m[i].ha_group) == 0)
			return 0;
	best = m[i].has[t] ? m[i].count[t] : 0;
	for (j = i + 1; j < n; j++)
		if (grouped(&m[j]) &&
		    strcmp(m[j].ha_group, m[i].ha_group) == 0 && m[j].has[t] &&
		    m[j].count[t] > best)
			best = m[j].count[t];
	return best;
}

void lsrv_inventory(const int64_t purchased[LIC_TAG_COUNT],
		    const struct lsrv_inv_member *m, size_t n,
		    struct lsrv_inv_line out[LIC_TAG_COUNT])
{
	int t;
	size_t i;

	for (t = 0; t < LIC_TAG_COUNT; t++) {
		struct lsrv_inv_line *l = &out[t];
		int64_t c;

		memset(l, 0, sizeof(*l));
		l->tag = (enum lic_tag)t;
		for (i = 0; m != NULL && i < n; i++) {
			c = unit_count(m, n, i, (enum lic_tag)t);
			if (c > 0)
				l->in_use = sat_add(l->in_use, c);
		}
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

static int render_json(FILE *out, const char *account, const char *va,
		       const struct lsrv_inv_line lines[LIC_TAG_COUNT])
{
	json_t *root = json_object(), *arr = json_array();
	char *text = NULL;
	int t, rc = -1;

	if (root == NULL || arr == NULL ||
	    json_object_set_new(root, "account", json_string(account)) != 0 ||
	    json_object_set_new(root, "virtual_account", json_string(va)) !=
		    0 ||
	    json_object_set(root, "tags", arr) != 0)
		goto out;
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
	json_decref(arr);
	json_decref(root);
	return rc;
}

int lsrv_inventory_render(FILE *out, const char *account, const char *va,
			  const struct lsrv_inv_line lines[LIC_TAG_COUNT],
			  bool json)
{
	int t;

	if (json)
		return render_json(out, account, va, lines);
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
	return fflush(out) == 0 ? 0 : -1;
}
