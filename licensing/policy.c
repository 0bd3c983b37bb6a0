/*
 * lic policy: defaults, JSON, validation, installation and the `Policy:`
 * block (docs/internals/licensing-policy.md).
 */
#include "licensing/policy.h"

#include "common/err.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

/*
 * One row per group: the JSON key, the title printed in `show license
 * status`, and the default policy's days and sources in lic_attr order (the
 * values a CUBE without an installed policy shows: Perpetual reported at
 * least every 90 days, so an acknowledged box still has a deadline).
 * Parsing, serializing, defaults and rendering all walk this table.
 */
#define CISCO LIC_SOURCE_CISCO_DEFAULT
#define PRODUCT LIC_SOURCE_PRODUCT_DEFAULT
#define CUSTOMER LIC_SOURCE_CUSTOMER
static const struct {
	const char *key;
	const char *title;
	struct lic_policy_days dflt[LIC_ATTR_COUNT];
} group_rows[LIC_GROUP_COUNT] = {
    [LIC_GROUP_PERPETUAL] = {"perpetual",
			     "Unenforced/Non-Export Perpetual Attributes",
			     {{365, CISCO}, {90, CISCO}, {90, PRODUCT}}},
    [LIC_GROUP_SUBSCRIPTION] = {"subscription",
				"Unenforced/Non-Export Subscription "
				"Attributes",
				{{90, CISCO}, {90, CISCO}, {80, PRODUCT}}},
    [LIC_GROUP_ENFORCED] = {"enforced",
			    "Enforced (Perpetual/Subscription) License "
			    "Attributes",
			    {{90, CUSTOMER}, {90, CUSTOMER}, {80, CUSTOMER}}},
    [LIC_GROUP_EXPORT] = {"export",
			  "Export (Perpetual/Subscription) License "
			  "Attributes",
			  {{90, CUSTOMER}, {90, CUSTOMER}, {90, CUSTOMER}}},
};
#undef CISCO
#undef PRODUCT
#undef CUSTOMER

/* One row per attribute: the JSON key and the label printed. */
static const struct {
	const char *key;
	const char *label;
} attr_rows[LIC_ATTR_COUNT] = {
    [LIC_ATTR_FIRST_REPORT] = {"first_report_days",
			       "First report requirement (days)"},
    [LIC_ATTR_FREQUENCY] = {"reporting_frequency_days",
			    "Reporting frequency (days)"},
    [LIC_ATTR_ON_CHANGE] = {"report_on_change_days", "Report on change (days)"},
};

static const char *const source_names[LIC_SOURCE_COUNT] = {
    [LIC_SOURCE_CISCO_DEFAULT] = "CISCO default",
    [LIC_SOURCE_PRODUCT_DEFAULT] = "Product default",
    [LIC_SOURCE_CUSTOMER] = "Customer Policy",
};

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr",
					    "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec"};

const char *lic_source_name(enum lic_source s)
{
	if ((unsigned)s >= LIC_SOURCE_COUNT)
		return NULL;
	return source_names[s];
}

/* The source a label names, or -1. Exact, case-sensitive match. */
static int source_parse(const char *s)
{
	int i;

	for (i = 0; i < LIC_SOURCE_COUNT; i++)
		if (strcmp(s, source_names[i]) == 0)
			return i;
	return -1;
}

void lic_policy_default(struct lic_policy *p)
{
	int g, a;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", "Cisco default");
	p->installed_on = 0;
	p->ack_required = true;
	p->ack_required_source = LIC_SOURCE_CISCO_DEFAULT;
	for (g = 0; g < LIC_GROUP_COUNT; g++)
		for (a = 0; a < LIC_ATTR_COUNT; a++) {
			p->attr[g][a] = group_rows[g].dflt[a];
		}
}

int32_t lic_policy_days(const struct lic_policy *p, enum lic_group g,
			enum lic_attr a)
{
	if (p == NULL || (unsigned)g >= LIC_GROUP_COUNT ||
	    (unsigned)a >= LIC_ATTR_COUNT)
		return -1;
	return p->attr[g][a].days;
}

int lic_policy_validate(const struct lic_policy *p, char *err, size_t errlen)
{
	size_t n;
	size_t i;
	int g, a;

	if (p == NULL) {
		err_set(err, errlen, "policy: no policy");
		return -1;
	}
	n = strnlen(p->name, sizeof(p->name));
	if (n == 0 || n == sizeof(p->name)) {
		err_set(err, errlen, "policy: name must be 1..%d bytes",
			LIC_POLICY_NAME_MAX);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (p->name[i] < 0x20 || p->name[i] > 0x7e) {
			err_set(err, errlen,
				"policy: name must be printable ASCII");
			return -1;
		}
	if (p->installed_on < 0 || p->installed_on > LIC_TIME_MAX) {
		err_set(err, errlen, "policy: installed_on out of range");
		return -1;
	}
	if ((unsigned)p->ack_required_source >= LIC_SOURCE_COUNT) {
		err_set(err, errlen,
			"policy: reporting_ack_required: unknown source");
		return -1;
	}
	for (g = 0; g < LIC_GROUP_COUNT; g++)
		for (a = 0; a < LIC_ATTR_COUNT; a++) {
			const struct lic_policy_days *d = &p->attr[g][a];

			if (d->days < LIC_POLICY_DAYS_MIN ||
			    d->days > LIC_POLICY_DAYS_MAX) {
				err_set(err, errlen,
					"policy: groups.%s.%s: %d is out of "
					"range %d..%d",
					group_rows[g].key, attr_rows[a].key,
					(int)d->days, LIC_POLICY_DAYS_MIN,
					LIC_POLICY_DAYS_MAX);
				return -1;
			}
			if ((unsigned)d->source >= LIC_SOURCE_COUNT) {
				err_set(err, errlen,
					"policy: groups.%s.%s: unknown source",
					group_rows[g].key, attr_rows[a].key);
				return -1;
			}
		}
	return 0;
}

/*
 * Read an optional "source" member of object `obj` into *src (left as is
 * when absent). `where` names the object in error messages.
 */
static int parse_source_member(json_t *obj, const char *where,
			       enum lic_source *src, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, "source");
	int s;

	if (v == NULL)
		return 0;
	if (!json_is_string(v)) {
		err_set(err, errlen, "policy: %ssource must be a string",
			where);
		return -1;
	}
	s = source_parse(json_string_value(v));
	if (s < 0) {
		err_set(err, errlen,
			"policy: %ssource: unknown \"%.40s\" (CISCO default, "
			"Product default or Customer Policy)",
			where, json_string_value(v));
		return -1;
	}
	*src = (enum lic_source)s;
	return 0;
}

/* Refuse any member of `obj` not in the NULL-terminated list `keys`. */
static int check_keys(json_t *obj, const char *const *keys, const char *where,
		      char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(obj, k, v)
	{
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (keys[i] == NULL) {
			err_set(err, errlen, "policy: %sunknown key \"%.40s\"",
				where, k);
			return -1;
		}
	}
	return 0;
}

/*
 * One day count: either an integer (source = `inherited`) or
 * {"days": N, "source": "..."}. The bounds are checked here so that the
 * message names the field.
 */
static int parse_days(json_t *v, int g, int a, enum lic_source inherited,
		      struct lic_policy_days *out, char *err, size_t errlen)
{
	static const char *const keys[] = {"days", "source", NULL};
	enum lic_source src = inherited;
	char where[96];
	json_int_t n;
	json_t *d = v;

	snprintf(where, sizeof(where), "groups.%s.%s.", group_rows[g].key,
		 attr_rows[a].key);
	if (json_is_object(v)) {
		if (check_keys(v, keys, where, err, errlen) < 0 ||
		    parse_source_member(v, where, &src, err, errlen) < 0)
			return -1;
		d = json_object_get(v, "days");
		if (d == NULL) {
			err_set(err, errlen, "policy: %sdays is missing",
				where);
			return -1;
		}
	}
	if (!json_is_integer(d)) {
		err_set(err, errlen,
			"policy: groups.%s.%s must be an integer number of "
			"days",
			group_rows[g].key, attr_rows[a].key);
		return -1;
	}
	n = json_integer_value(d);
	if (n < LIC_POLICY_DAYS_MIN || n > LIC_POLICY_DAYS_MAX) {
		err_set(err, errlen,
			"policy: groups.%s.%s: %lld is out of range %d..%d",
			group_rows[g].key, attr_rows[a].key, (long long)n,
			LIC_POLICY_DAYS_MIN, LIC_POLICY_DAYS_MAX);
		return -1;
	}
	out->days = (int32_t)n;
	out->source = src;
	return 0;
}

static int parse_group(json_t *obj, int g, enum lic_source doc_src,
		       struct lic_policy *p, char *err, size_t errlen)
{
	static const char *const keys[] = {
	    "first_report_days", "reporting_frequency_days",
	    "report_on_change_days", "source", NULL};
	enum lic_source src = doc_src;
	char where[64];
	int a;

	snprintf(where, sizeof(where), "groups.%s.", group_rows[g].key);
	if (!json_is_object(obj)) {
		err_set(err, errlen, "policy: groups.%s must be an object",
			group_rows[g].key);
		return -1;
	}
	if (check_keys(obj, keys, where, err, errlen) < 0 ||
	    parse_source_member(obj, where, &src, err, errlen) < 0)
		return -1;
	for (a = 0; a < LIC_ATTR_COUNT; a++) {
		json_t *v = json_object_get(obj, attr_rows[a].key);

		if (v != NULL &&
		    parse_days(v, g, a, src, &p->attr[g][a], err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int parse_ack_required(json_t *v, enum lic_source doc_src,
			      struct lic_policy *p, char *err, size_t errlen)
{
	static const char *const keys[] = {"value", "source", NULL};
	enum lic_source src = doc_src;
	json_t *b = v;

	if (json_is_object(v)) {
		if (check_keys(v, keys, "reporting_ack_required.", err,
			       errlen) < 0 ||
		    parse_source_member(v, "reporting_ack_required.", &src, err,
					errlen) < 0)
			return -1;
		b = json_object_get(v, "value");
	}
	if (!json_is_boolean(b)) {
		err_set(err, errlen,
			"policy: reporting_ack_required must be true or false");
		return -1;
	}
	p->ack_required = json_is_true(b);
	p->ack_required_source = src;
	return 0;
}

/* Everything but the JSON text handling of lic_policy_parse. */
static int parse_root(json_t *root, struct lic_policy *p, char *err,
		      size_t errlen)
{
	static const char *const keys[] = {"name",   "installed_on",
					   "source", "reporting_ack_required",
					   "groups", NULL};
	static const char *const group_keys[] = {"perpetual", "subscription",
						 "enforced", "export", NULL};
	enum lic_source doc_src = LIC_SOURCE_CUSTOMER;
	json_t *v, *groups;
	size_t n;
	int g;

	if (!json_is_object(root)) {
		err_set(err, errlen, "policy: not a JSON object");
		return -1;
	}
	if (check_keys(root, keys, "", err, errlen) < 0 ||
	    parse_source_member(root, "", &doc_src, err, errlen) < 0)
		return -1;

	v = json_object_get(root, "name");
	if (!json_is_string(v)) {
		err_set(err, errlen, "policy: name (a string) is required");
		return -1;
	}
	n = json_string_length(v);
	if (n == 0 || n > LIC_POLICY_NAME_MAX) {
		err_set(err, errlen, "policy: name must be 1..%d bytes",
			LIC_POLICY_NAME_MAX);
		return -1;
	}
	memcpy(p->name, json_string_value(v), n);
	p->name[n] = '\0';

	v = json_object_get(root, "installed_on");
	if (v != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > LIC_TIME_MAX) {
			err_set(err, errlen,
				"policy: installed_on must be Unix seconds "
				"0..%lld",
				(long long)LIC_TIME_MAX);
			return -1;
		}
		p->installed_on = (int64_t)json_integer_value(v);
	}

	v = json_object_get(root, "reporting_ack_required");
	if (v != NULL && parse_ack_required(v, doc_src, p, err, errlen) < 0)
		return -1;

	groups = json_object_get(root, "groups");
	if (groups != NULL) {
		if (!json_is_object(groups)) {
			err_set(err, errlen,
				"policy: groups must be an object");
			return -1;
		}
		if (check_keys(groups, group_keys, "groups.", err, errlen) < 0)
			return -1;
		for (g = 0; g < LIC_GROUP_COUNT; g++) {
			v = json_object_get(groups, group_rows[g].key);
			if (v != NULL &&
			    parse_group(v, g, doc_src, p, err, errlen) < 0)
				return -1;
		}
	}
	/* Catches what the per-field checks cannot (non-printable names). */
	return lic_policy_validate(p, err, errlen);
}

int lic_policy_parse(const char *buf, size_t len, struct lic_policy *out,
		     char *err, size_t errlen)
{
	struct lic_policy p;
	json_error_t jerr;
	json_t *root;
	int rc = -1;

	if (buf == NULL || out == NULL) {
		err_set(err, errlen, "policy: no input");
		goto out;
	}
	if (len > LIC_POLICY_JSON_MAX) {
		err_set(err, errlen, "policy: document larger than %d bytes",
			LIC_POLICY_JSON_MAX);
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		err_set(err, errlen, "policy: bad JSON at line %d: %.80s",
			jerr.line, jerr.text);
		goto out;
	}
	lic_policy_default(&p);
	if (parse_root(root, &p, err, errlen) < 0)
		goto out_free_root;
	*out = p;
	rc = 0;
out_free_root:
	json_decref(root);
out:
	return rc;
}

/* {"days": N, "source": "..."}; NULL when memory ran out. */
static json_t *days_to_json(const struct lic_policy_days *d)
{
	return json_pack("{s:i, s:s}", "days", (int)d->days, "source",
			 source_names[d->source]);
}

char *lic_policy_to_json(const struct lic_policy *p)
{
	json_t *root = NULL, *groups, *grp, *v;
	char *text = NULL;
	int g, a;

	if (lic_policy_validate(p, NULL, 0) < 0)
		goto out;
	root = json_object();
	groups = json_object();
	if (root == NULL || groups == NULL ||
	    json_object_set_new(root, "name", json_string(p->name)) < 0 ||
	    json_object_set_new(root, "installed_on",
				json_integer(p->installed_on)) < 0 ||
	    json_object_set_new(
		root, "reporting_ack_required",
		json_pack("{s:b, s:s}", "value", p->ack_required, "source",
			  source_names[p->ack_required_source])) < 0) {
		json_decref(groups);
		goto out_free_root;
	}
	/* Steals the reference to groups, on failure too. */
	if (json_object_set_new(root, "groups", groups) < 0)
		goto out_free_root;
	for (g = 0; g < LIC_GROUP_COUNT; g++) {
		grp = json_object();
		if (grp == NULL ||
		    json_object_set_new(groups, group_rows[g].key, grp) < 0)
			goto out_free_root;
		for (a = 0; a < LIC_ATTR_COUNT; a++) {
			v = days_to_json(&p->attr[g][a]);
			if (v == NULL ||
			    json_object_set_new(grp, attr_rows[a].key, v) < 0)
				goto out_free_root;
		}
	}
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
out_free_root:
	json_decref(root);
out:
	return text;
}

int lic_policy_install(struct lic_policy *in_use,
		       const struct lic_policy *arrived, int64_t now, char *err,
		       size_t errlen)
{
	if (in_use == NULL) {
		err_set(err, errlen, "policy: nothing to install into");
		return -1;
	}
	if (now <= 0 || now > LIC_TIME_MAX) {
		err_set(err, errlen, "policy: install time out of range");
		return -1;
	}
	if (lic_policy_validate(arrived, err, errlen) < 0)
		return -1;
	*in_use = *arrived;
	in_use->installed_on = now;
	return 0;
}

int lic_time_format(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt;

	if (buf == NULL || len < LIC_TIME_STR_LEN)
		return -1;
	buf[0] = '\0';
	if (t > LIC_TIME_MAX)
		return -1;
	if (t <= 0) {
		snprintf(buf, len, "<none>");
		return 0;
	}
	tt = (time_t)t;
	if (gmtime_r(&tt, &tm) == NULL)
		return -1;
	snprintf(buf, len, "%s %02d %02d:%02d:%02d %04d UTC",
		 month_names[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, tm.tm_year + 1900);
	return 0;
}

int lic_policy_render(const struct lic_policy *p, FILE *out)
{
	char when[LIC_TIME_STR_LEN];
	int g, a;

	if (out == NULL || lic_policy_validate(p, NULL, 0) < 0)
		return -1;
	fputs("Policy:\n", out);
	if (p->installed_on > 0) {
		lic_time_format(p->installed_on, when, sizeof(when));
		fprintf(out, "  Policy in use: Installed On %s\n", when);
		fprintf(out, "  Policy name: %s\n", p->name);
	} else {
		fputs("  Policy in use: Merged from multiple sources.\n", out);
	}
	fprintf(out, "  Reporting ACK required: %s (%s)\n",
		p->ack_required ? "yes" : "no",
		source_names[p->ack_required_source]);
	for (g = 0; g < LIC_GROUP_COUNT; g++) {
		fprintf(out, "  %s:\n", group_rows[g].title);
		for (a = 0; a < LIC_ATTR_COUNT; a++)
			fprintf(out, "    %s: %d (%s)\n", attr_rows[a].label,
				(int)p->attr[g][a].days,
				source_names[p->attr[g][a].source]);
	}
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
