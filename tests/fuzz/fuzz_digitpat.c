/*
 * Fuzz target: IOS digit patterns (sbc/digitpat.h).
 *
 * Input: "<pattern>\n<number>\n<number>..." (no numbers: a few fixed
 * ones). Every pattern sbc_digitpat_new accepts is matched against every
 * number, and the score must equal the one of a slow reference matcher
 * written here from the rules in docs/configuration.md ("Digit patterns"):
 * a recursion over (element, position) with memo, where the library runs
 * a bottom-up table. The reference also re-checks the grammar, so a
 * pattern the library accepts and the rules refuse is a failure too.
 */
#include "sbc/digitpat.h"

#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

#define MAXLEN SBC_DIGITPAT_MAXLEN
#define PLUS_BIT (UINT32_C(1) << 16)
#define ANY_DIGIT UINT32_C(0xffff) /* 0-9 * # A-D: the 16 keypad symbols */

enum quant { ONE, OPT, STAR, PLUS };

struct ref_pat {
	uint32_t set[MAXLEN];
	enum quant q[MAXLEN];
	size_t n;
	bool anchored;
};

struct ref_match {
	const struct ref_pat *pat;
	const uint32_t *num; /* one bit per character of the number */
	size_t len;
	int memo[MAXLEN + 1][MAXLEN + 2];
};

/* Bit of a keypad symbol: 0-9, then * # A B C D. 0 for anything else. */
static uint32_t sym_bit(char c)
{
	static const char syms[] = "0123456789*#ABCD";
	const char *s = c != '\0' ? strchr(syms, c) : NULL;

	return s != NULL ? UINT32_C(1) << (s - syms) : 0;
}

static bool same_range_class(char a, char b)
{
	return (a >= '0' && a <= '9' && b >= '0' && b <= '9') ||
	       (a >= 'A' && a <= 'D' && b >= 'A' && b <= 'D');
}

/* "[...]" at t[*i]; advances past the ']'. */
static bool ref_set(const char *t, size_t *i, uint32_t *out)
{
	uint32_t set = 0;
	bool neg = false, any = false;
	size_t k = *i + 1;

	if (t[k] == '^') {
		neg = true;
		k++;
	}
	for (; t[k] != ']'; any = true) {
		if (sym_bit(t[k]) == 0)
			return false; /* also '[', and the end of the text */
		if (t[k + 1] == '-' && t[k + 2] != '\0' && t[k + 2] != ']') {
			char c;

			if (!same_range_class(t[k], t[k + 2]) ||
			    t[k + 2] < t[k])
				return false;
			for (c = t[k]; c <= t[k + 2]; c++)
				set |= sym_bit(c);
			k += 3;
		} else {
			set |= sym_bit(t[k]);
			k++;
		}
	}
	if (neg)
		set = ANY_DIGIT & ~set;
	if (!any || set == 0)
		return false;
	*out = set;
	*i = k + 1;
	return true;
}

/* The rules of docs/configuration.md, "Digit patterns". */
static bool ref_compile(const char *t, struct ref_pat *p)
{
	size_t len = strlen(t), i = 0;
	bool can_quantify = false, tail = false;

	memset(p, 0, sizeof(*p));
	if (len == 0 || len > MAXLEN)
		return false;
	if (t[0] == '+') {
		p->set[p->n] = PLUS_BIT;
		p->q[p->n++] = ONE;
		can_quantify = true;
		i = 1;
	}
	while (i < len) {
		char c = t[i];

		if (tail || p->anchored)
			return false; /* T and $ only last */
		if (c == 'T' || c == '$') {
			tail = tail || c == 'T';
			p->anchored = p->anchored || c == '$';
			can_quantify = false;
			i++;
			continue;
		}
		if (c == '+' || c == '?' || c == '%') {
			if (!can_quantify)
				return false;
			p->q[p->n - 1] = c == '+'   ? PLUS
					 : c == '?' ? OPT
						    : STAR;
			can_quantify = false;
			i++;
			continue;
		}
		if (c == '[') {
			if (!ref_set(t, &i, &p->set[p->n]))
				return false;
		} else if (c == '.') {
			p->set[p->n] = ANY_DIGIT;
			i++;
		} else if (sym_bit(c) != 0) {
			p->set[p->n] = sym_bit(c);
			i++;
		} else {
			return false;
		}
		p->q[p->n++] = ONE;
		can_quantify = true;
	}
	return p->n > 0 || tail;
}

static int max2(int a, int b)
{
	return a > b ? a : b;
}

/* 1 + s for a match that scores, -1 for none. */
static int plus1(int s)
{
	return s >= 0 ? s + 1 : -1;
}

/* Best score of elements i.. on number[pos..]; -1: no match. */
static int ref_best(struct ref_match *m, size_t i, size_t pos)
{
	const struct ref_pat *p = m->pat;
	int best = -1;
	size_t k;

	if (m->memo[i][pos] != -2)
		return m->memo[i][pos];
	if (i == p->n) {
		/* Past the last element: T or nothing (a prefix) takes the
		 * rest; $ takes nothing. */
		best = !p->anchored || pos == m->len ? 0 : -1;
	} else {
		switch (p->q[i]) {
		case ONE:
		case OPT:
			if (pos < m->len && (p->set[i] & m->num[pos]))
				best = plus1(ref_best(m, i + 1, pos + 1));
			if (p->q[i] == OPT)
				best = max2(best, ref_best(m, i + 1, pos));
			break;
		case STAR:
		case PLUS:
			/* k repeats; under + the first one scores. */
			if (p->q[i] == STAR)
				best = ref_best(m, i + 1, pos);
			for (k = pos; k < m->len && (p->set[i] & m->num[k]);
			     k++) {
				int s = ref_best(m, i + 1, k + 1);

				best = max2(best,
					    p->q[i] == PLUS ? plus1(s) : s);
			}
			break;
		}
	}
	m->memo[i][pos] = best;
	return best;
}

static int ref_score(const struct ref_pat *p, const char *number)
{
	static struct ref_match m;
	uint32_t num[MAXLEN];
	size_t len = strlen(number), i, j;

	if (len > MAXLEN)
		return -1;
	for (i = 0; i < len; i++) {
		num[i] = i == 0 && number[0] == '+' ? PLUS_BIT
						    : sym_bit(number[i]);
		if (num[i] == 0)
			return -1;
	}
	m.pat = p;
	m.num = num;
	m.len = len;
	for (i = 0; i <= MAXLEN; i++)
		for (j = 0; j <= MAXLEN + 1; j++)
			m.memo[i][j] = -2;
	return ref_best(&m, 0, 0);
}

static void check_number(const struct sbc_digitpat *pat,
			 const struct ref_pat *ref, const char *pattern,
			 const char *number)
{
	int got = sbc_digitpat_match(pat, number);
	int want = ref_score(ref, number);

	FUZZ_CHECK(got == want, "pattern '%s' number '%s': score %d, the rules "
				"give %d",
		   pattern, number, got, want);
	FUZZ_CHECK(got <= (int)strlen(number), "score %d over the length",
		   got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fixed[] = {"", "1", "14085551234",
					    "+15551234567", "2000", "*#ABCD"};
	struct sbc_digitpat *pat;
	struct ref_pat ref;
	char err[128], *text = fuzz_text(data, size);
	char *nl = strchr(text, '\n'), *num, *next;
	bool ok;
	size_t i;

	if (nl != NULL)
		*nl = '\0';
	err[0] = 'x';
	pat = sbc_digitpat_new(text, err, sizeof(err));
	ok = ref_compile(text, &ref);
	if (pat == NULL) {
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)),
			   "refused '%s' without a reason", text);
		FUZZ_CHECK(!ok, "refused '%s' (%s), the rules accept it",
			   text, err);
		goto out;
	}
	FUZZ_CHECK(ok, "accepted '%s', the rules refuse it", text);
	FUZZ_CHECK(strcmp(sbc_digitpat_text(pat), text) == 0,
		   "text '%s' of pattern '%s'", sbc_digitpat_text(pat), text);
	if (nl == NULL) {
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
			check_number(pat, &ref, text, fixed[i]);
	} else {
		for (num = nl + 1; num != NULL; num = next) {
			next = strchr(num, '\n');
			if (next != NULL)
				*next++ = '\0';
			check_number(pat, &ref, text, num);
		}
	}
	sbc_digitpat_free(&pat);
out:
	free(text);
	return 0;
}
