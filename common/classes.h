/*
 * classes: the license classes of trunk sessions, listed once. The
 * counters (enum sbc_class), the usage tables (enum stats_class), the
 * period tracker (enum lic_class) and the entitlement tags (enum lic_tag)
 * expand this list into their enums and name tables, so all of them agree
 * on the classes and their order by construction: a class is added here.
 *
 * The order is an interface: arrays of counts are indexed by it and passed
 * between the modules, and the stored rows (usage table columns, period
 * peaks, record tags) keep it. Append, never reorder.
 *
 * CLASSES_LICENSED(X) lists the classes with an entitlement tag, in
 * report order; CLASSES_ALL(X) adds AGGREGATE, always last: the sessions
 * of STANDARD, ENHANCED and REDUNDANT together, which has no tag of its
 * own (its tag field is its name). Each entry is
 *
 *   X(ID, ABBR, name, tag, license, desc, title)
 *
 *   ID       enumerator suffix: SBC_CLASS_ID, STATS_ID, LIC_CLASS_ID
 *   ABBR     enumerator suffix of the tag, LIC_TAG_ABBR; also the short
 *            word that selects the class (`show ... std`)
 *   name     the class in show output, metric labels and JSON keys
 *   tag      the entitlement tag on the wire and in every table
 *   license  the license name `show license usage` prints
 *   desc     its description
 *   title    the title of the class's usage tables and graphs
 *
 * License names and descriptions are a CUBE's. (CUBE's own documentation
 * once printed the Redundant tag under the Standard license name; the
 * Redundant name is used here.)
 */
#ifndef SBC_CLASSES_H
#define SBC_CLASSES_H

#include <stddef.h> /* NULL */

#define CLASSES_LICENSED(X)                                                  \
	X(STANDARD, STD, "STANDARD", "CUBE_T_STD",                           \
	  "CUBE_Trunk_Standard_Session",                                     \
	  "Cisco Unified Border Element (CUBE) Trunk Standard Session "      \
	  "License",                                                         \
	  "CUBE Standard Trunk License Usage")                               \
	X(ENHANCED, ENH, "ENHANCED", "CUBE_T_ENH",                           \
	  "CUBE_Trunk_Enhanced_Session",                                     \
	  "Cisco Unified Border Element (CUBE) Trunk Enhanced Session "      \
	  "License",                                                         \
	  "CUBE Enhanced Trunk License Usage")                               \
	X(REDUNDANT, RED, "REDUNDANT", "CUBE_T_RED",                         \
	  "CUBE_Trunk_Redundant_Session",                                    \
	  "Cisco Unified Border Element (CUBE) Trunk Redundant Session "     \
	  "License",                                                         \
	  "CUBE Redundant Trunk License Usage")                              \
	X(VGW, VGW, "VGW", "CUBE_T_VGW", "CUBE_v14_Voice_Gateway_Session",   \
	  "CUBE v14 Voice Gateway Session", "TDM-SIP Trunk Sessions")

#define CLASSES_ALL(X)                                                       \
	CLASSES_LICENSED(X)                                                  \
	X(AGGREGATE, AGG, "AGGREGATE", "AGGREGATE", NULL, NULL,              \
	  "CUBE Aggregate Trunk License Usage")

/* Expanders for the common tables: {"STANDARD", ...} and so on. */
#define CLASSES_NAME(id, abbr, name, ...) name,
#define CLASSES_TAG(id, abbr, name, tag, ...) tag,
#define CLASSES_ABBR(id, abbr, ...) #abbr,

#endif
