/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sliding-window limiter: set-up and the rare roll of the sub-window ring.
 * The hot path (swin_take(), swin_count()) is inline in swin.h; this file
 * holds what runs at most once per sub-window.
 */
#include <errno.h>
#include <string.h>

#include "swin.h"

int swin_init(struct swin *s, uint64_t window_ns, unsigned int n_sub,
	      uint64_t limit)
{
	if (n_sub < 1 || n_sub > SWIN_SUB_MAX || window_ns == 0 ||
	    window_ns % n_sub != 0)
		return -EINVAL;
	s->limit = limit;
	s->sub_ns = window_ns / n_sub;
	s->n_sub = n_sub;
	swin_reset(s);
	return 0;
}

void swin_reset(struct swin *s)
{
	/* Time 0 is aligned, so the first roll lands on the sub-window that
	 * holds the first time seen, whatever it is. */
	s->cur_start_ns = 0;
	s->total = 0;
	s->head = 0;
	memset(s->sub, 0, sizeof(s->sub));
}

void swin_set_limit(struct swin *s, uint64_t limit)
{
	s->limit = limit;
}

/*
 * Runs when now_ns is not inside the current sub-window: once per
 * sub-window while traffic flows, or after a gap. A time before the current
 * sub-window is a clock that went backwards; the latest time seen lies in
 * the current sub-window, so treating it as that time changes nothing.
 */
void swin_roll_slow(struct swin *s, uint64_t now_ns)
{
	uint64_t elapsed, steps;
	uint32_t i;

	if (now_ns < s->cur_start_ns)
		return;
	elapsed = now_ns - s->cur_start_ns;
	/* The common roll is into the very next sub-window: no division.
	 * (Not "elapsed < 2 * sub_ns", which could wrap.) */
	steps = elapsed - s->sub_ns < s->sub_ns ? 1 : elapsed / s->sub_ns;
	/* cur_start_ns + steps * sub_ns <= now_ns: no overflow. */
	s->cur_start_ns += steps * s->sub_ns;

	if (steps >= s->n_sub) {
		memset(s->sub, 0, sizeof(s->sub[0]) * s->n_sub);
		s->total = 0;
		return;
	}
	for (i = 0; i < steps; i++) {
		s->head = s->head + 1 == s->n_sub ? 0 : s->head + 1;
		TG_ASSERT(s->total >= s->sub[s->head]);
		s->total -= s->sub[s->head];
		s->sub[s->head] = 0;
	}
}
