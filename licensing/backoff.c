/*
 * lic_backoff: exponential backoff with equal jitter (see backoff.h).
 */
#include "licensing/backoff.h"

unsigned lic_backoff_delay(unsigned attempt, unsigned base_s, unsigned cap_s,
			   uint32_t random)
{
	unsigned ceiling = base_s == 0 ? 1 : base_s;
	unsigned cap = cap_s == 0 ? 1 : cap_s;
	unsigned half;

	/* Double `attempt` times, stopping once the cap is reached. */
	for (unsigned i = 0; i < attempt && ceiling < cap; i++)
		ceiling = ceiling > cap / 2 ? cap : ceiling * 2;
	if (ceiling > cap)
		ceiling = cap;
	half = ceiling / 2;
	/* Uniform in [ceiling - half, ceiling]; ceiling >= 1, so never 0. */
	return ceiling - half + (unsigned)(random % ((uint64_t)half + 1));
}
