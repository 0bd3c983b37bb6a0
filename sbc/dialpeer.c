#include "sbc/dialpeer.h"

#include "common/err.h"
#include "sbc/digitpat.h"

#include <stdlib.h>

struct dp_entry {
	struct sbc_dialpeer_cfg cfg;
	struct sbc_digitpat *incoming;	  /* NULL when not configured */
	struct sbc_digitpat *destination; /* NULL when not configured */
};

struct sbc_dptable {
	struct dp_entry *e;
	size_t n;
};

static struct sbc_digitpat *compile(const char *text, unsigned tag,
				    char *err, size_t errlen, int *rc)
{
	struct sbc_digitpat *pat;
	char why[128];

	if (text[0] == '\0')
		return NULL;
	pat = sbc_digitpat_new(text, why, sizeof(why));
	if (pat == NULL) {
		err_set(err, errlen,
			"dial-peer %u: invalid digit pattern (%s): '%s'", tag,
			why, text);
		*rc = -1;
	}
	return pat;
}

/*
 * The config has validated every pattern already; compiling can still fail
 * on memory, and a table built from some other source must not trust it.
 */
struct sbc_dptable *sbc_dptable_new(const struct sbc_config *cfg, char *err,
				    size_t errlen)
{
	struct sbc_dptable *t;
	size_t i, n = sbc_config_dialpeer_count(cfg);
	int rc = 0;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		goto out_nomem;
	if (n > 0) {
		t->e = calloc(n, sizeof(*t->e));
		if (t->e == NULL)
			goto out_free_table;
	}
	for (i = 0; i < n && rc == 0; i++) {
		struct dp_entry *e = &t->e[t->n++];

		e->cfg = *sbc_config_dialpeer(cfg, i);
		e->incoming = compile(e->cfg.incoming_called, e->cfg.tag, err,
				      errlen, &rc);
		if (rc == 0)
			e->destination = compile(e->cfg.destination,
						 e->cfg.tag, err, errlen, &rc);
	}
	if (rc == 0)
		return t;
	sbc_dptable_free(&t);
	return NULL;

out_free_table:
	free(t);
out_nomem:
	err_set(err, errlen, "dial-peer table: out of memory");
	return NULL;
}

void sbc_dptable_free(struct sbc_dptable **t)
{
	size_t i;

	if (t == NULL || *t == NULL)
		return;
	for (i = 0; i < (*t)->n; i++) {
		sbc_digitpat_free(&(*t)->e[i].incoming);
		sbc_digitpat_free(&(*t)->e[i].destination);
	}
	free((*t)->e);
	free(*t);
	*t = NULL;
}

/* Most specific match first, then lowest preference, then lowest tag. */
static bool better(int score, const struct sbc_dialpeer_cfg *c,
		   int best_score, const struct sbc_dialpeer_cfg *best)
{
	if (best == NULL || score != best_score)
		return best == NULL || score > best_score;
	if (c->preference != best->preference)
		return c->preference < best->preference;
	return c->tag < best->tag;
}

static const struct sbc_dialpeer_cfg *
select_peer(const struct sbc_dptable *t, const char *called, bool inbound,
	    bool (*busy)(unsigned tag, void *arg), void *arg, bool *skipped)
{
	const struct sbc_dialpeer_cfg *best = NULL;
	int best_score = -1, score;
	size_t i;

	if (t == NULL || called == NULL)
		return NULL;
	for (i = 0; i < t->n; i++) {
		const struct dp_entry *e = &t->e[i];
		const struct sbc_digitpat *pat =
			inbound ? e->incoming : e->destination;

		if (pat == NULL)
			continue;
		score = sbc_digitpat_match(pat, called);
		if (score >= 0 && busy != NULL && busy(e->cfg.tag, arg)) {
			if (skipped != NULL)
				*skipped = true;
			continue;
		}
		if (score >= 0 && better(score, &e->cfg, best_score, best)) {
			best = &e->cfg;
			best_score = score;
		}
	}
	return best;
}

const struct sbc_dialpeer_cfg *sbc_dptable_inbound(const struct sbc_dptable *t,
						   const char *called)
{
	return select_peer(t, called, true, NULL, NULL, NULL);
}

const struct sbc_dialpeer_cfg *sbc_dptable_outbound(const struct sbc_dptable *t,
						    const char *called)
{
	return select_peer(t, called, false, NULL, NULL, NULL);
}

const struct sbc_dialpeer_cfg *
sbc_dptable_outbound_avail(const struct sbc_dptable *t, const char *called,
			   bool (*busy)(unsigned tag, void *arg), void *arg,
			   bool *skipped)
{
	if (skipped != NULL)
		*skipped = false;
	return select_peer(t, called, false, busy, arg, skipped);
}

size_t sbc_dptable_count(const struct sbc_dptable *t)
{
	return t == NULL ? 0 : t->n;
}
