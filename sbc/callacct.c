#include "sbc/callacct.h"

void sbc_callacct_init(struct sbc_callacct *a, enum sbc_class cls)
{
	a->state = SBC_ACCT_NEW;
	a->cls = cls;
}

void sbc_callacct_start(struct sbc_callacct *a, struct sbc_counters *c)
{
	if (a->state != SBC_ACCT_NEW)
		return;
	a->state = SBC_ACCT_EARLY;
	sbc_counters_inc(c, a->cls);
	sbc_counters_early_delta(c, 1);
}

void sbc_callacct_answer(struct sbc_callacct *a, struct sbc_counters *c)
{
	if (a->state != SBC_ACCT_EARLY)
		return;
	a->state = SBC_ACCT_CONFIRMED;
	sbc_counters_early_delta(c, -1);
	sbc_counters_confirmed_delta(c, 1);
}

bool sbc_callacct_upgrade(struct sbc_callacct *a, struct sbc_counters *c)
{
	if (a->cls != SBC_CLASS_STANDARD)
		return false;
	if (a->state != SBC_ACCT_EARLY && a->state != SBC_ACCT_CONFIRMED)
		return false;
	sbc_counters_move(c, SBC_CLASS_STANDARD, SBC_CLASS_ENHANCED);
	a->cls = SBC_CLASS_ENHANCED;
	return true;
}

bool sbc_callacct_end(struct sbc_callacct *a, struct sbc_counters *c)
{
	enum sbc_callacct_state was = a->state;

	if (was == SBC_ACCT_ENDED)
		return false;
	a->state = SBC_ACCT_ENDED;
	if (was == SBC_ACCT_NEW)
		return true;
	sbc_counters_dec(c, a->cls);
	if (was == SBC_ACCT_EARLY)
		sbc_counters_early_delta(c, -1);
	else
		sbc_counters_confirmed_delta(c, -1);
	return true;
}
