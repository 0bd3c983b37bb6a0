/*
 * tag: the license entitlement tags of usage records, shared by the period
 * tracker, the reports and the store.
 */
#ifndef SBC_LIC_TAG_H
#define SBC_LIC_TAG_H

#include "common/classes.h"

/*
 * The tags of usage records, in report order: LIC_TAG_STD (CUBE_T_STD),
 * LIC_TAG_ENH, LIC_TAG_RED, LIC_TAG_VGW, one per licensed class of
 * common/classes.h and numbered as their enum lic_class.
 */
#define LIC_TAG_ENUM(id, abbr, ...) LIC_TAG_##abbr,
enum lic_tag { CLASSES_LICENSED(LIC_TAG_ENUM) LIC_TAG_COUNT };
#undef LIC_TAG_ENUM

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
