/*
 * tag: the license entitlement tags of usage records, shared by the period
 * tracker, the reports and the store.
 */
#ifndef SBC_LIC_TAG_H
#define SBC_LIC_TAG_H

/* The tags of usage records, in report order. */
enum lic_tag {
	LIC_TAG_STD, /* CUBE_T_STD */
	LIC_TAG_ENH, /* CUBE_T_ENH */
	LIC_TAG_RED, /* CUBE_T_RED */
	LIC_TAG_VGW, /* CUBE_T_VGW */
	LIC_TAG_COUNT
};

/* Wire names: "CUBE_T_STD" ...; NULL for an unknown value. */
const char *lic_tag_name(enum lic_tag t);
/* The license name `show license usage` prints
 * ("CUBE_Trunk_Standard_Session" ...); NULL for an unknown value. */
const char *lic_tag_license(enum lic_tag t);
/* Its description ("Cisco Unified Border Element (CUBE) Trunk Standard
 * Session License" ...); NULL for an unknown value. */
const char *lic_tag_description(enum lic_tag t);
/* The tag of a wire name; -1 for an unknown name. */
int lic_tag_parse(const char *name);

#endif
