/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token bucket, exact to the clock cycle, in integer fixed point.
 *
 * A read-only profile (converted once from a rate per second, a burst and a
 * clock frequency) sits beside a small per-bucket state. The state holds
 * whole tokens as a plain integer plus the fraction of the next token in
 * units of 2^-shift token, so the check path is one integer compare and the
 * commit one subtraction: no multiply, no division, no floating point. A
 * refill (only when the clock moved) is one 64x64->128 multiply of the
 * elapsed cycles by the per-cycle increment, with the remainder carried
 * exactly to the next refill.
 *
 * The increment, rate / hz in units of 2^-shift token per cycle, is the one
 * rounded quantity: rounded up once, exactly, at profile time, with shift
 * chosen as large as fits (up to 64). A token is therefore never late, and
 * the rate is high by at most 1 / inc: one part in 2^62 for rates above
 * hz / 2^63, 2e-9 at 0.1/s on a 4 GHz clock, 6e-5 at the very bottom of
 * the range (1e-3/s on a 2^40 Hz clock).
 *
 * Range: rates from 1e-3/s to 2^40/s (1.1e12/s: 100M msg/s and 12.5 GB/s
 * with room to spare) on clocks from 1 MHz to 2^40 Hz, bursts from 1 to
 * 2^62 - 1 tokens. Nothing can overflow: the refill product is below 2^127
 * whatever the idle time, and it is compared against the room left before
 * it is added. The clock is a free-running 64-bit counter compared by
 * difference, so wrap-around and ten years of uptime at 4 GHz (2^60
 * cycles) are both fine.
 *
 * Threads: a state has one writer (a worker, or the control thread for the
 * buckets it owns). Profiles are read-only once built.
 */
#ifndef TG_TB_H
#define TG_TB_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_common.h"

/** Limits of tb_profile_init(), see above. */
#define TB_RATE_MIN 1e-3
#define TB_RATE_MAX 0x1p40
#define TB_HZ_MIN UINT64_C(1000000)
#define TB_HZ_MAX (UINT64_C(1) << 40)

/** What one message costs. */
enum tb_mode {
	TB_MODE_PACKETS, /**< 1 token per message */
	TB_MODE_BYTES,	 /**< 1 token per byte of the frame */
	TB_MODE_MAX
};

/** Read-only parameters of a bucket. Build with tb_profile_init(). */
struct tb_profile {
	uint64_t inc;	/**< 2^-shift tokens added per clock cycle */
	uint64_t burst; /**< capacity, tokens (messages or bytes) */
	uint64_t frac_mask; /**< 2^shift - 1 */
	uint32_t shift;	    /**< fraction bits of frac and inc, 1..64 */
	enum tb_mode mode;
	uint64_t hz; /**< clock frequency, cycles per second */
	double rate; /**< rate as configured, tokens per second */
};

/**
 * Per-bucket state. Invariants: tokens <= burst (or, after the profile was
 * swapped for one with a smaller burst, until the next refill); frac <
 * 2^shift; tokens == burst implies frac == 0.
 */
struct tb_state {
	uint64_t tokens; /**< whole tokens available at time `last` */
	uint64_t frac;	 /**< part of the next token, 2^-shift tokens */
	uint64_t last;	 /**< clock (cycles) of the last refill */
};

/**
 * Build a profile. rate_per_s: tokens (messages or bytes) per second, > 0,
 * fractions allowed; burst: capacity in tokens, >= 1; hz: clock frequency
 * in cycles per second (1e9 when the clock is in nanoseconds).
 * Returns 0, or -EINVAL for a rate, burst or hz out of the range above.
 * Caller: any thread, at configuration time (uses floating point).
 */
int tb_profile_init(struct tb_profile *p, enum tb_mode mode, double rate_per_s,
		    uint64_t burst, uint64_t hz);

/**
 * The same, with the fraction bits chosen for ref_rate_per_s (>= the rate)
 * instead of the rate itself. Profiles built with the same reference rate
 * share a shift, so a bucket may move between them without converting its
 * fraction (the data plane swaps consumer profiles under millions of
 * buckets this way). Precision stays within 1/inc as above: a rate 10^6
 * times below its reference still has an increment near 2^42.
 */
int tb_profile_init_ref(struct tb_profile *p, enum tb_mode mode,
			double rate_per_s, uint64_t burst, uint64_t hz,
			double ref_rate_per_s);

/** A fresh bucket at time now: full (it admits exactly `burst` at once). */
void tb_init(const struct tb_profile *p, struct tb_state *s, uint64_t now);

/** Reset to the initial state, a full bucket, at time now. */
static inline void tb_reset(const struct tb_profile *p, struct tb_state *s,
			    uint64_t now)
{
	s->tokens = p->burst;
	s->frac = 0;
	s->last = now;
}

/**
 * Add what d > 0 cycles earn. The product is below 2^127 (d < 2^63,
 * inc <= 2^63) and is compared with the room left before it is added, so
 * neither tokens nor the product can overflow. A bucket whose profile was
 * swapped for one with a smaller burst (tokens > burst) is clamped here.
 */
static inline void tb_refill(const struct tb_profile *p, struct tb_state *s,
			     uint64_t d)
{
	tg_u128 add = (tg_u128)d * p->inc + s->frac;
	tg_u128 whole = add >> p->shift;

	if (s->tokens >= p->burst || whole >= p->burst - s->tokens) {
		s->tokens = p->burst;
		s->frac = 0;
	} else {
		s->tokens += (uint64_t)whole;
		s->frac = (uint64_t)add & p->frac_mask;
	}
}

/** Cost of one message of len bytes under this profile's mode. */
static inline uint64_t tb_cost(const struct tb_profile *p, uint32_t len)
{
	return p->mode == TB_MODE_BYTES ? len : 1;
}

/**
 * Bring the bucket up to time now. A clock that did not move, or that is
 * behind the bucket's (another core's clock, a caller's stale read), adds
 * nothing and does not move the bucket's time back.
 */
static inline void tb_advance(const struct tb_profile *p, struct tb_state *s,
			      uint64_t now)
{
	uint64_t d = now - s->last;

	if ((int64_t)d <= 0)
		return;
	s->last = now;
	tb_refill(p, s, d);
}

/**
 * Check: would `cost` tokens fit at time now? Advances the bucket to now
 * (which adds tokens but takes none). Worker (or the bucket's owner) only.
 */
static inline bool tb_check(const struct tb_profile *p, struct tb_state *s,
			    uint64_t now, uint64_t cost)
{
	tb_advance(p, s, now);
	return s->tokens >= cost;
}

/**
 * Commit: take `cost` tokens. Only after tb_check() said yes for this cost,
 * with no other take in between.
 */
static inline void tb_commit(const struct tb_profile *p, struct tb_state *s,
			     uint64_t cost)
{
	(void)p;
	TG_ASSERT(s->tokens >= cost);
	s->tokens -= cost;
}

/** Check and commit in one call: true (taken) or false (nothing taken). */
static inline bool tb_take(const struct tb_profile *p, struct tb_state *s,
			   uint64_t now, uint64_t cost)
{
	tb_advance(p, s, now);
	if (s->tokens < cost)
		return false;
	s->tokens -= cost;
	return true;
}

/**
 * Multi-tier admission of one message of len bytes through n buckets
 * (global, topic, consumer...): checks every tier first and takes from all
 * of them only if all admit, so a rejection takes nothing from any tier.
 * Returns the index of the first tier that rejected, or n when admitted.
 */
static inline unsigned tb_take_all(const struct tb_profile *const *p,
				   struct tb_state *const *s, unsigned n,
				   uint64_t now, uint32_t len)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (!tb_check(p[i], s[i], now, tb_cost(p[i], len)))
			return i;
	for (i = 0; i < n; i++)
		tb_commit(p[i], s[i], tb_cost(p[i], len));
	return n;
}

/**
 * Switch a bucket to a new profile at time now (a rate change): the tokens
 * earned so far under the old profile are kept, the fraction of the next
 * token included, clamped to the new capacity. Both profiles must share hz.
 * Returns 0 or -EINVAL.
 */
int tb_switch(const struct tb_profile *old, const struct tb_profile *new_p,
	      struct tb_state *s, uint64_t now);

/** Whole tokens available at time now (does not change the state). */
uint64_t tb_tokens(const struct tb_profile *p, const struct tb_state *s,
		   uint64_t now);

/** Would a burst of k tokens fit at time now (does not change the state)? */
bool tb_fits(const struct tb_profile *p, const struct tb_state *s,
	     uint64_t now, uint64_t k);

/** Capacity in tokens. */
static inline uint64_t tb_capacity(const struct tb_profile *p)
{
	return p->burst;
}

/** Rate in tokens per second, as configured. */
static inline double tb_rate(const struct tb_profile *p)
{
	return p->rate;
}

/** Name of a mode: "packets" or "bytes". */
const char *tb_mode_name(enum tb_mode m);

#endif /* TG_TB_H */
