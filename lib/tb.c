/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token bucket: the cold half (profile conversion, rate switch, queries).
 * The hot half is static inline in tb.h.
 */
#include <errno.h>
#include <math.h>

#include "tb.h"

/* inc <= 2^63 keeps d * inc below 2^126 for any d < 2^63 */
#define TB_MAX_INC ((tg_u128)1 << 63)
/* the slowest rate on the fastest clock (1e-3/s at 2^40 Hz) still has an
 * increment above 2^14, exact to 6e-5; at 0.1/s on 4 GHz it is 4.6e8 */
#define TB_MIN_INC ((tg_u128)1 << 14)
#define TB_MAX_BURST ((UINT64_C(1) << 62) - 1)

/*
 * ceil(rate * 2^shift / hz), exactly: the double rate is m * 2^e with m a
 * 53-bit integer, so the quotient is one of two exact integer divisions.
 * Returns 0 when it would not fit 2^63 (or the operands do not fit).
 */
static tg_u128 tb_inc_exact(uint64_t m, int e, uint64_t hz, uint32_t shift)
{
	int k = e + (int)shift;
	tg_u128 num, den;

	if (k >= 0) {
		if (k > 127 - 53)
			return 0;
		num = (tg_u128)m << k;
		den = hz;
	} else {
		if (-k > 63)
			return 0;
		num = m;
		den = (tg_u128)hz << -k;
	}
	return num / den + (num % den != 0);
}

/* Split a double into m * 2^e with m a 53-bit integer. */
static void tb_split(double x, uint64_t *m, int *e)
{
	*m = (uint64_t)ldexp(frexp(x, e), 53);
	*e -= 53;
}

int tb_profile_init(struct tb_profile *p, enum tb_mode mode, double rate_per_s,
		    uint64_t burst, uint64_t hz)
{
	return tb_profile_init_ref(p, mode, rate_per_s, burst, hz, rate_per_s);
}

int tb_profile_init_ref(struct tb_profile *p, enum tb_mode mode,
			double rate_per_s, uint64_t burst, uint64_t hz,
			double ref_rate_per_s)
{
	tg_u128 inc = 0;
	uint32_t shift;
	uint64_t m;
	int e;

	if (mode >= TB_MODE_MAX || !(rate_per_s >= TB_RATE_MIN) ||
	    !(rate_per_s <= TB_RATE_MAX) || !(ref_rate_per_s <= TB_RATE_MAX))
		return -EINVAL;
	if (burst < 1 || burst > TB_MAX_BURST || hz < TB_HZ_MIN ||
	    hz > TB_HZ_MAX)
		return -EINVAL;
	if (ref_rate_per_s < rate_per_s)
		ref_rate_per_s = rate_per_s;
	/*
	 * The largest shift whose increment still fits for the reference
	 * rate (which is the rate itself unless the caller wants a shift that
	 * several rates can share): the increment is then above 2^62 (or the
	 * shift is 64), so rounding it up, once and exactly, makes the rate
	 * high by at most one part in 2^62 and never makes a token late.
	 */
	tb_split(ref_rate_per_s, &m, &e);
	for (shift = 64; shift >= 1; shift--) {
		inc = tb_inc_exact(m, e, hz, shift);
		if (inc != 0 && inc <= TB_MAX_INC)
			break;
	}
	if (shift < 1)
		return -EINVAL;
	if (ref_rate_per_s != rate_per_s) {
		tb_split(rate_per_s, &m, &e);
		inc = tb_inc_exact(m, e, hz, shift);
	}
	if (inc < TB_MIN_INC)
		return -EINVAL;
	p->inc = (uint64_t)inc;
	p->burst = burst;
	p->shift = shift;
	p->frac_mask = shift == 64 ? UINT64_MAX : (UINT64_C(1) << shift) - 1;
	p->mode = mode;
	p->hz = hz;
	p->rate = rate_per_s;
	return 0;
}

void tb_init(const struct tb_profile *p, struct tb_state *s, uint64_t now)
{
	tb_reset(p, s, now);
}

int tb_switch(const struct tb_profile *old, const struct tb_profile *new_p,
	      struct tb_state *s, uint64_t now)
{
	if (old->hz != new_p->hz)
		return -EINVAL;
	tb_advance(old, s, now);
	/* the fraction of the next token, in the new profile's units */
	if (new_p->shift >= old->shift)
		s->frac <<= new_p->shift - old->shift;
	else
		s->frac >>= old->shift - new_p->shift;
	if (s->tokens >= new_p->burst) {
		s->tokens = new_p->burst;
		s->frac = 0;
	}
	return 0;
}

uint64_t tb_tokens(const struct tb_profile *p, const struct tb_state *s,
		   uint64_t now)
{
	struct tb_state t = *s;

	tb_advance(p, &t, now);
	return t.tokens;
}

bool tb_fits(const struct tb_profile *p, const struct tb_state *s,
	     uint64_t now, uint64_t k)
{
	return tb_tokens(p, s, now) >= k;
}

const char *tb_mode_name(enum tb_mode m)
{
	switch (m) {
	case TB_MODE_PACKETS:
		return "packets";
	case TB_MODE_BYTES:
		return "bytes";
	default:
		return "unknown";
	}
}
