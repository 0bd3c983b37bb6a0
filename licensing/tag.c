#include "licensing/tag.h"

#include <stddef.h>
#include <string.h>

/*
 * One row per entitlement: the tag on the wire and in every table, the
 * license name and description `show license usage` prints.
 */
#define TAG_ROW(id, abbr, name, tag, license, desc, title)                   \
	{tag, license, desc},
static const struct {
	const char *tag;
	const char *license;
	const char *desc;
} tag_rows[LIC_TAG_COUNT] = {CLASSES_LICENSED(TAG_ROW)};

const char *lic_tag_name(enum lic_tag t)
{
	return (unsigned)t < LIC_TAG_COUNT ? tag_rows[t].tag : NULL;
}

const char *lic_tag_license(enum lic_tag t)
{
	return (unsigned)t < LIC_TAG_COUNT ? tag_rows[t].license : NULL;
}

const char *lic_tag_description(enum lic_tag t)
{
	return (unsigned)t < LIC_TAG_COUNT ? tag_rows[t].desc : NULL;
}

int lic_tag_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < LIC_TAG_COUNT; i++)
		if (strcmp(name, tag_rows[i].tag) == 0)
			return i;
	return -1;
}
