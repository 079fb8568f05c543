/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leaky-bucket shaper: profile conversion and the backlog query. The
 * schedule path is static inline in shaper.h.
 */
#include <errno.h>
#include <math.h>

#include "shaper.h"

int shaper_profile_init(struct shaper_profile *p, double rate_per_s,
			uint64_t limit_tokens, uint64_t hz)
{
	long double per;

	if (!isfinite(rate_per_s) || rate_per_s <= 0 || limit_tokens < 1 ||
	    limit_tokens >= (UINT64_C(1) << 62) || hz < 1 ||
	    hz > (UINT64_C(1) << 40))
		return -EINVAL;
	/* cycles per token in fixed point, rounded down: drains never slower
	 * than configured (a message is never held longer than its slot). */
	per = floorl(ldexpl((long double)hz / rate_per_s, SHAPER_FRAC_BITS));
	/* keep the largest backlog, in virtual time, below 2^120 */
	if (per < 1 || per * (long double)limit_tokens > ldexpl(1, 120))
		return -EINVAL;
	p->per_token_fp = (tg_u128)per;
	p->limit_fp = p->per_token_fp * limit_tokens;
	p->limit_tokens = limit_tokens;
	p->hz = hz;
	p->rate = rate_per_s;
	return 0;
}

void shaper_init(struct shaper_state *s)
{
	s->next_fp = 0;
}

uint64_t shaper_backlog(const struct shaper_profile *p,
			const struct shaper_state *s, uint64_t now)
{
	tg_u128 now_fp = (tg_u128)now << SHAPER_FRAC_BITS;
	tg_u128 left;

	if (s->next_fp <= now_fp)
		return 0;
	left = s->next_fp - now_fp;
	return (uint64_t)((left + p->per_token_fp - 1) / p->per_token_fp);
}
