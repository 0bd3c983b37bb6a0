#include "licensing/tag.h"

#include <stddef.h>
#include <string.h>

/*
 * One row per entitlement: the tag on the wire and in every table, the
 * license name and description `show license usage` prints, as a CUBE
 * names them. (CUBE's own documentation once printed the Redundant tag
 * under the Standard license name; the Redundant name is used here.)
 */
static const struct {
	const char *tag;
	const char *license;
	const char *desc;
} tag_rows[LIC_TAG_COUNT] = {
    [LIC_TAG_STD] = {"CUBE_T_STD", "CUBE_Trunk_Standard_Session",
		     "Cisco Unified Border Element (CUBE) Trunk Standard "
		     "Session License"},
    [LIC_TAG_ENH] = {"CUBE_T_ENH", "CUBE_Trunk_Enhanced_Session",
		     "Cisco Unified Border Element (CUBE) Trunk Enhanced "
		     "Session License"},
    [LIC_TAG_RED] = {"CUBE_T_RED", "CUBE_Trunk_Redundant_Session",
		     "Cisco Unified Border Element (CUBE) Trunk Redundant "
		     "Session License"},
    [LIC_TAG_VGW] = {"CUBE_T_VGW", "CUBE_v14_Voice_Gateway_Session",
		     "CUBE v14 Voice Gateway Session"},
};

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
