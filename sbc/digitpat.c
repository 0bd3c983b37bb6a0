#include "sbc/digitpat.h"

#include "common/err.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Every character a pattern element can match is one bit: 0-9 are bits 0-9,
 * then * # A B C D, then the E.164 '+'. An element is then just a set, so
 * literals, '.', and [...] all match the same way.
 */
#define SYM_STAR 10
#define SYM_HASH 11
#define SYM_A 12
#define SYM_PLUS 16
#define SYM_DIGITS 0xffffu /* what '.' and [^...] range over; not '+' */

enum dp_quant { Q_ONE, Q_OPT, Q_PLUS, Q_STAR };

struct dp_elem {
	uint32_t set;
	enum dp_quant quant;
};

struct sbc_digitpat {
	char text[SBC_DIGITPAT_MAXLEN + 1];
	struct dp_elem el[SBC_DIGITPAT_MAXLEN];
	size_t n;
	bool tail_any; /* ends in T */
	bool anchored; /* ends in $ */
};

/* Bit index of a dial digit, or -1 (also for '+', handled by callers). */
static int sym_index(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'D')
		return SYM_A + (c - 'A');
	if (c == '*')
		return SYM_STAR;
	if (c == '#')
		return SYM_HASH;
	return -1;
}

/* Control and non-ASCII bytes in hex, so the message stays one line. */
static void say_bad_char(char *err, size_t errlen, char c)
{
	unsigned char u = (unsigned char)c;

	if (u > 0x20 && u < 0x7f)
		err_set(err, errlen, "unknown character '%c'", c);
	else
		err_set(err, errlen, "unknown character 0x%02x", u);
}

/*
 * Parse the set starting at text[*pos] == '['. Ranges are allowed within
 * 0-9 and within A-D only, since a range across classes ("9-A") has no
 * meaning on a keypad. Advances *pos past the ']'.
 */
static int parse_set(const char *text, size_t len, size_t *pos, uint32_t *out,
		     char *err, size_t errlen)
{
	size_t i = *pos + 1;
	size_t first;
	uint32_t set = 0;
	bool neg = false;
	int lo, hi, s;

	if (i < len && text[i] == '^') {
		neg = true;
		i++;
	}
	first = i;
	while (i < len && text[i] != ']') {
		if (text[i] == '[') {
			err_set(err, errlen, "unbalanced brackets");
			return -1;
		}
		lo = sym_index(text[i]);
		if (lo < 0) {
			say_bad_char(err, errlen, text[i]);
			return -1;
		}
		if (i + 2 < len && text[i + 1] == '-' && text[i + 2] != ']') {
			hi = sym_index(text[i + 2]);
			if (hi < lo || hi < 0 || (lo < SYM_A) != (hi < SYM_A) ||
			    lo == SYM_STAR || lo == SYM_HASH ||
			    hi == SYM_STAR || hi == SYM_HASH) {
				err_set(err, errlen, "bad range '%c-%c'",
					text[i], text[i + 2]);
				return -1;
			}
			for (s = lo; s <= hi; s++)
				set |= UINT32_C(1) << s;
			i += 3;
			continue;
		}
		set |= UINT32_C(1) << lo;
		i++;
	}
	if (i >= len) {
		err_set(err, errlen, "unbalanced brackets");
		return -1;
	}
	if (neg)
		set = SYM_DIGITS & ~set;
	if (i == first || set == 0) {
		err_set(err, errlen, "empty set");
		return -1;
	}
	*out = set;
	*pos = i + 1;
	return 0;
}

struct sbc_digitpat *sbc_digitpat_new(const char *text, char *err,
				      size_t errlen)
{
	struct sbc_digitpat *pat = NULL;
	const char *why = NULL;
	size_t len, i = 0;
	bool can_quantify = false;
	uint32_t set;
	int sym;

	err_set(err, errlen, "%s", "");
	if (text == NULL || text[0] == '\0') {
		why = "empty pattern";
		goto out_error;
	}
	len = strnlen(text, SBC_DIGITPAT_MAXLEN + 1);
	if (len > SBC_DIGITPAT_MAXLEN) {
		why = "pattern too long (max 64)";
		goto out_error;
	}
	pat = calloc(1, sizeof(*pat));
	if (pat == NULL) {
		why = "out of memory";
		goto out_error;
	}
	memcpy(pat->text, text, len);

	/* Only a leading '+' is the literal; everywhere else it repeats. */
	if (text[0] == '+') {
		pat->el[pat->n].set = UINT32_C(1) << SYM_PLUS;
		pat->el[pat->n++].quant = Q_ONE;
		can_quantify = true;
		i = 1;
	}
	while (i < len) {
		char c = text[i];

		if (pat->tail_any) {
			why = "T must be last";
			goto out_free_pat;
		}
		if (pat->anchored) {
			why = "$ must be last";
			goto out_free_pat;
		}
		switch (c) {
		case 'T':
			pat->tail_any = true;
			can_quantify = false;
			i++;
			continue;
		case '$':
			pat->anchored = true;
			can_quantify = false;
			i++;
			continue;
		case '+':
		case '?':
		case '%':
			if (!can_quantify) {
				err_set(err, errlen,
					"quantifier '%c' must follow a digit, "
					"'.' or a set",
					c);
				goto out_free_pat;
			}
			pat->el[pat->n - 1].quant = c == '+' ? Q_PLUS
						    : c == '?' ? Q_OPT
							       : Q_STAR;
			can_quantify = false;
			i++;
			continue;
		case ']':
			why = "unbalanced brackets";
			goto out_free_pat;
		case '[':
			if (parse_set(text, len, &i, &set, err, errlen) < 0)
				goto out_free_pat;
			break;
		case '.':
			set = SYM_DIGITS;
			i++;
			break;
		default:
			sym = sym_index(c);
			if (sym < 0) {
				say_bad_char(err, errlen, c);
				goto out_free_pat;
			}
			set = UINT32_C(1) << sym;
			i++;
			break;
		}
		pat->el[pat->n].set = set;
		pat->el[pat->n++].quant = Q_ONE;
		can_quantify = true;
	}
	if (pat->n == 0 && !pat->tail_any) {
		why = "empty pattern";
		goto out_free_pat;
	}
	return pat;

out_free_pat:
	free(pat);
	pat = NULL;
out_error:
	if (why != NULL)
		err_set(err, errlen, "%s", why);
	return NULL;
}

void sbc_digitpat_free(struct sbc_digitpat **pat)
{
	if (pat == NULL)
		return;
	free(*pat);
	*pat = NULL;
}

/*
 * Dynamic programming over (element, position) instead of backtracking, so
 * that patterns like ".%.%.%.%" cost O(elements * digits) on any number.
 * Row i holds, for each position p, the best score with which elements
 * i..n-1 (plus the T/$/prefix tail) can match number[p..]; -1 when they
 * cannot. Only two rows are kept.
 */
int sbc_digitpat_match(const struct sbc_digitpat *pat, const char *number)
{
	int rows[2][SBC_DIGITPAT_MAXLEN + 2];
	int rep[SBC_DIGITPAT_MAXLEN + 2];
	int sym[SBC_DIGITPAT_MAXLEN];
	int *next = rows[0], *cur = rows[1], *tmp;
	size_t len, p, i;

	if (pat == NULL || number == NULL)
		return -1;
	len = strnlen(number, SBC_DIGITPAT_MAXLEN + 1);
	if (len > SBC_DIGITPAT_MAXLEN)
		return -1;
	for (p = 0; p < len; p++) {
		if (p == 0 && number[0] == '+')
			sym[p] = SYM_PLUS;
		else if ((sym[p] = sym_index(number[p])) < 0)
			return -1;
	}

	for (p = 0; p <= len; p++)
		next[p] = (pat->anchored && p != len) ? -1 : 0;
	next[len + 1] = -1;

	for (i = pat->n; i-- > 0;) {
		const struct dp_elem *e = &pat->el[i];

		cur[len + 1] = -1;
		rep[len + 1] = -1;
		for (p = len + 1; p-- > 0;) {
			bool hit = p < len && (e->set >> sym[p]) & 1;
			int one = -1;

			if (hit && next[p + 1] >= 0)
				one = 1 + next[p + 1];
			/* rep[p]: zero or more of e from p, repeats unscored */
			rep[p] = next[p];
			if (hit && rep[p + 1] > rep[p])
				rep[p] = rep[p + 1];
			switch (e->quant) {
			case Q_ONE:
				cur[p] = one;
				break;
			case Q_OPT:
				cur[p] = one > next[p] ? one : next[p];
				break;
			case Q_STAR:
				cur[p] = rep[p];
				break;
			case Q_PLUS:
				cur[p] = hit && rep[p + 1] >= 0 ? 1 + rep[p + 1]
								 : -1;
				break;
			}
		}
		tmp = next;
		next = cur;
		cur = tmp;
	}
	return next[0];
}

const char *sbc_digitpat_text(const struct sbc_digitpat *pat)
{
	return pat == NULL ? "" : pat->text;
}
