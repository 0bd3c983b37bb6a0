/*
 * lic_release: IOS XE release versions and the enforcement table of
 * docs/internals/licensing-periods.md, "Releases" (`license release <version>`). The rules as
 * implemented are in docs/internals/licensing-periods.md.
 *
 * A release is MAJOR.MINOR.REBUILD with an optional lowercase letter:
 * "17.3.4a", "17.10.1", "16.12.1". Releases compare as versions, field by
 * field (17.10.1 > 17.9.4), then by the letter (no letter < 'a' < 'b').
 * A zero-initialised struct lic_release is the unset release, which stands
 * for the newest behaviour.
 *
 * Pure functions: no allocation, no clock, no output.
 */
#ifndef SBC_LIC_RELEASE_H
#define SBC_LIC_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

/* The longest release text accepted by lic_release_parse ("999.999.999z"). */
#define LIC_RELEASE_MAX_LEN 12
/* The accepted syntax, for error messages. */
#define LIC_RELEASE_SYNTAX "MAJOR.MINOR.REBUILD[a-z], e.g. 17.3.4a"

struct lic_release {
	bool set;	  /* false: unset, the newest behaviour */
	unsigned major;	  /* 0..999 */
	unsigned minor;	  /* 0..999 */
	unsigned rebuild; /* 0..999 */
	char letter;	  /* 'a'..'z', or 0 for none */
};

/* The licensing model a release follows (docs/internals/licensing-periods.md, "Releases"). */
enum lic_model {
	LIC_MODEL_UNSUPPORTED,	 /* before 16.10.1 */
	LIC_MODEL_SLR_LEGACY,	 /* 16.10.1 .. 17.3.1a: Smart Licensing */
	LIC_MODEL_SLP_SHUTDOWN,	 /* SLP; SIP service Down past the deadline */
	LIC_MODEL_SLP_WARN,	 /* SLP; syslog warnings only */
	LIC_MODEL_COUNT
};

/*
 * Parse a release: three dot-separated decimal fields of 1 to 3 digits
 * each (leading zeros allowed, so "17.03.04a" as `show version` prints it
 * is 17.3.4a), then at most one lowercase letter, and nothing else: no
 * spaces, signs, uppercase letters, missing or extra fields. A train alone
 * ("17.9") is refused: it does not name one release, and within 17.3 the
 * model depends on the rebuild. Returns 0 and fills *out (set = true), or
 * -1 for NULL, empty or anything else, leaving *out unchanged.
 */
int lic_release_parse(const char *text, struct lic_release *out);

/*
 * Compare two releases: <0, 0, >0 as a is older than, the same as or newer
 * than b. Numeric field by field, then the letter (none < 'a' < ... < 'z').
 * The unset release (or NULL) is newer than every set release and equal to
 * itself.
 */
int lic_release_cmp(const struct lic_release *a, const struct lic_release *b);

/*
 * Write the canonical text ("17.3.4a", no leading zeros) into buf, always
 * NUL-terminated when buflen > 0; "" for the unset release. Returns the
 * length the text has (as snprintf), or -1 when buf is NULL.
 */
int lic_release_format(const struct lic_release *r, char *buf, size_t buflen);

/*
 * The model of a release (docs/internals/licensing-periods.md, "Releases"), first matching row:
 *   unset (or NULL)                               LIC_MODEL_SLP_WARN
 *   exactly 17.3.2, 17.3.3, 17.3.4a, 17.6.1a;
 *   any 17.4.x and 17.5.x (any rebuild, letter)   LIC_MODEL_SLP_SHUTDOWN
 *   older than 16.10.1                            LIC_MODEL_UNSUPPORTED
 *   16.10.1 up to, not including, 17.3.2          LIC_MODEL_SLR_LEGACY
 *   everything else (17.3.2 and newer)            LIC_MODEL_SLP_WARN
 * "Exactly" means with that letter and no other: 17.3.4 and 17.3.4b warn,
 * 17.6.1 and 17.6.2 warn, 17.3.2a warns.
 */
enum lic_model lic_release_model(const struct lic_release *r);

/* lic_release_model(r) == LIC_MODEL_SLP_SHUTDOWN. */
bool lic_release_shuts_down(const struct lic_release *r);

/*
 * A short name of a model for logs and `show` output ("unsupported",
 * "smart-licensing", "slp-shutdown", "slp-warn"); "?" when unknown.
 * Static string.
 */
const char *lic_model_name(enum lic_model m);

#endif
