/*
 * digitpat: IOS dial-peer digit patterns (destination-pattern,
 * incoming called-number) compiled once and matched against the user part
 * of a Request-URI.
 *
 * Supported elements (docs/configuration.md has the full description):
 *   0-9 * # A-D   literal digit
 *   .             any one digit
 *   [1-5] [135] [^0-2]  one digit from a set / range (^ negates)
 *   T             zero or more further digits (up to SBC_DIGITPAT_MAXLEN)
 *   +             leading: the literal E.164 '+'; after an element: that
 *                 element one or more times
 *   ?             the preceding element zero or one time
 *   %             the preceding element zero or more times
 *   $             end of number (no more digits may follow)
 * Without T or $, a pattern matches a number it is a prefix of (IOS
 * behaviour: extra digits are passed on).
 */
#ifndef SBC_DIGITPAT_H
#define SBC_DIGITPAT_H

#include <stddef.h>

#define SBC_DIGITPAT_MAXLEN 64 /* pattern text and number length cap */

struct sbc_digitpat;

/*
 * Compile `text`. Returns NULL and writes a one-line reason into err
 * (errlen bytes) on a malformed pattern.
 */
struct sbc_digitpat *sbc_digitpat_new(const char *text, char *err,
				      size_t errlen);
void sbc_digitpat_free(struct sbc_digitpat **pat);

/*
 * Match `number` (NUL-terminated). Returns -1 on no match, otherwise the
 * match's specificity: the count of number characters matched by elements
 * other than T, %, and the repeats of + (so "123T" scores 3 on "1234" and
 * ".T" scores 1). Longer wins when choosing between dial-peers.
 */
int sbc_digitpat_match(const struct sbc_digitpat *pat, const char *number);

/* The text the pattern was compiled from. */
const char *sbc_digitpat_text(const struct sbc_digitpat *pat);

#endif
