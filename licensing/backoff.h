/*
 * lic_backoff: how long to wait before retrying a failed report push, trust
 * request or ACK fetch (docs/licensing-protocol.md, "Failures retry with
 * exponential backoff and jitter").
 *
 * A pure function: no clock reads, no allocation, no global state. The
 * caller supplies the random value (RAND_bytes or any uniform source), so
 * tests can pass fixed values.
 */
#ifndef SBC_LIC_BACKOFF_H
#define SBC_LIC_BACKOFF_H

#include <stdint.h>

/*
 * Delay in seconds before retry number `attempt` (0 = the first retry after
 * the first failure).
 *
 * Equal jitter: the ceiling is min(cap_s, base_s * 2^attempt) and the delay
 * is drawn uniformly from [ceiling - ceiling/2, ceiling] using `random`.
 * Equal rather than full jitter so that the lower bound keeps growing with
 * the attempt number: a down license server is never hammered at 1-second
 * intervals just because the dice rolled low, while devices that failed
 * together still spread over half the window.
 *
 * Guarantees: 1 <= result <= max(cap_s, 1). base_s 0 is treated as 1;
 * cap_s 0 is treated as 1; cap_s below base_s caps the first delay too.
 * No overflow for any attempt (the doubling saturates at the cap).
 */
unsigned lic_backoff_delay(unsigned attempt, unsigned base_s, unsigned cap_s,
			   uint32_t random);

#endif
