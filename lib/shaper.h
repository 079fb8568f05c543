/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leaky-bucket shaper: the "wait for a token" behaviour of a blocking
 * acquire, without blocking. Given a message's cost and the time now, it
 * answers with the earliest time the message may leave so that the output
 * drains at a constant rate, or refuses when the backlog (the work already
 * scheduled but not yet drained, plus this message) would exceed the limit.
 * The caller holds the message until then (the data plane's shape queue).
 *
 * Time is virtual, in fixed point (2^SHAPER_FRAC_BITS per clock cycle), so
 * the drain rate is exact to one part in 2^24 of a cycle per token and no
 * division happens on the schedule path.
 *
 * Threads: one writer per state (the worker that owns the shape queue).
 */
#ifndef TG_SHAPER_H
#define TG_SHAPER_H

#include <stdbool.h>
#include <stdint.h>

#include "tb.h"
#include "tg_common.h"

#define SHAPER_FRAC_BITS 24

/** Read-only parameters. Build with shaper_profile_init(). */
struct shaper_profile {
	tg_u128 per_token_fp;  /**< drain time of one token, cycles << 24 */
	tg_u128 limit_fp;      /**< largest backlog, cycles << 24 */
	uint64_t limit_tokens; /**< largest backlog, tokens */
	uint64_t hz;	       /**< clock frequency, cycles per second */
	double rate;	       /**< drain rate, tokens per second */
};

/** Per-shaper state: when the output is next free. */
struct shaper_state {
	tg_u128 next_fp; /**< virtual time the last scheduled one drains */
};

/**
 * Build a profile: drain rate_per_s tokens per second (> 0), hold at most
 * limit_tokens of backlog (>= 1), clock of hz cycles per second.
 * Returns 0 or -EINVAL.
 */
int shaper_profile_init(struct shaper_profile *p, double rate_per_s,
			uint64_t limit_tokens, uint64_t hz);

/** An idle shaper: the first message may leave at once. */
void shaper_init(struct shaper_state *s);

/**
 * Schedule a message of `cost` tokens at time now. On success returns true
 * and sets *depart to the earliest clock (cycles, >= now) it may leave; the
 * backlog grows by cost. Returns false, changing nothing, when the backlog
 * would exceed the limit (the caller drops the message).
 */
static inline bool shaper_schedule(const struct shaper_profile *p,
				   struct shaper_state *s, uint64_t now,
				   uint64_t cost, uint64_t *depart)
{
	tg_u128 now_fp = (tg_u128)now << SHAPER_FRAC_BITS;
	tg_u128 start = s->next_fp > now_fp ? s->next_fp : now_fp;
	tg_u128 end;

	/* cost <= limit keeps cost * per_token_fp below 2^120 */
	if (cost > p->limit_tokens)
		return false;
	end = start + cost * p->per_token_fp;
	if (end - now_fp > p->limit_fp)
		return false;
	s->next_fp = end;
	/* round up: never let a message leave before its slot */
	*depart = (uint64_t)((start + ((1u << SHAPER_FRAC_BITS) - 1)) >>
			     SHAPER_FRAC_BITS);
	return true;
}

/**
 * Shape on a token bucket: the departure time of a message of `cost` tokens
 * that bucket s (profile: `sp` drains at the bucket's rate) may not cover
 * now, charging it the bucket's future tokens. Call after tb_check() said
 * no at now (the bucket is refilled to now). The message leaves when the
 * bucket would have earned what it lacks, after every message deferred
 * before it; the bucket then holds no tokens and earns none until that
 * time (its `last` moves there), so later messages queue behind it in
 * order, and the bucket's rate holds for deferred and admitted traffic
 * together. The fraction of a token the bucket had earned counts toward the
 * first message of a deferral episode. tp is the bucket's profile.
 *
 * Returns false, changing nothing, when the wait would exceed the shaper's
 * backlog limit (the caller drops the message); otherwise true and *depart
 * (cycles, > now).
 */
static inline bool shaper_defer(const struct shaper_profile *sp,
				const struct tb_profile *tp, struct tb_state *s,
				uint64_t now, uint64_t cost, uint64_t *depart)
{
	uint64_t start = (int64_t)(s->last - now) > 0 ? s->last : now;
	uint64_t need = cost > s->tokens ? cost - s->tokens : 0;
	tg_u128 now_fp = (tg_u128)now << SHAPER_FRAC_BITS;
	tg_u128 dep_fp;

	if (need == 0) { /* it fits after all: an ordinary take */
		s->tokens -= cost;
		*depart = start;
		return true;
	}
	if (need > sp->limit_tokens)
		return false;
	dep_fp = ((tg_u128)start << SHAPER_FRAC_BITS) + need * sp->per_token_fp;
	/* the part of a token already earned shortens the wait (its top 40
	 * bits: the product stays far below 2^128 over the whole range) */
	if (start == now && s->frac) {
		unsigned sh = tp->shift > 40 ? tp->shift - 40 : 0;
		tg_u128 have = ((tg_u128)(s->frac >> sh) * sp->per_token_fp) >>
			       (tp->shift - sh);

		dep_fp = dep_fp - (have < dep_fp - now_fp ? have : 0);
	}
	if (dep_fp - now_fp > sp->limit_fp)
		return false;
	*depart = (uint64_t)((dep_fp + ((1u << SHAPER_FRAC_BITS) - 1)) >>
			     SHAPER_FRAC_BITS);
	s->tokens = 0;
	s->frac = 0;
	s->last = *depart;
	return true;
}

/** Tokens of backlog not yet drained at time now (rounded up). */
uint64_t shaper_backlog(const struct shaper_profile *p,
			const struct shaper_state *s, uint64_t now);

#endif /* TG_SHAPER_H */
