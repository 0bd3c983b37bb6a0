#include "tag.h"

#include <stddef.h>
#include <string.h>

static const char *const tag_names[LIC_TAG_COUNT] = {
	[LIC_TAG_STD] = "CUBE_T_STD",
	[LIC_TAG_ENH] = "CUBE_T_ENH",
	[LIC_TAG_RED] = "CUBE_T_RED",
	[LIC_TAG_VGW] = "CUBE_T_VGW",
};

const char *lic_tag_name(enum lic_tag t)
{
	return (unsigned)t < LIC_TAG_COUNT ? tag_names[t] : NULL;
}

int lic_tag_parse(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < LIC_TAG_COUNT; i++)
		if (strcmp(name, tag_names[i]) == 0)
			return i;
	return -1;
}
