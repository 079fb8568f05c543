/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sliding-window limiter: at most `limit` cost units in any window of
 * `window_ns`, approximated by N equal sub-windows (1 <= N <= 64). The count
 * of the window is the sum of the current, partial sub-window and the N - 1
 * before it; a request is admitted if that count plus its cost stays within
 * the limit, and its cost then goes to the current sub-window. When time
 * moves into the next sub-window the oldest one rolls off. With N = 1 this
 * is a fixed window; a larger N smooths the edge (the window really covers
 * between (N - 1) / N and 1 times window_ns of history).
 *
 * Sub-windows are aligned to multiples of window_ns / N since time 0, so two
 * limiters with the same geometry roll at the same instants. Time is a
 * parameter in nanoseconds; it may jump forward by any amount (many windows
 * at once roll everything off in O(1) after the first N), stand still, or go
 * backwards, which is treated as the latest time seen: state is never
 * corrupted and nothing rolls back.
 *
 * Memory: the struct holds a fixed array of 64 counters (about 560 bytes),
 * so it embeds by value with no allocation and no caller storage; it fits
 * per-bucket use, not million-entry tables.
 *
 * Cost: swin_take() is inline and, within a sub-window, a compare and two
 * additions. Crossing into a new sub-window goes through swin_roll_slow()
 * (at most once per sub-window of traffic), which divides only when more
 * than one sub-window went by.
 *
 * One owner: all calls on one limiter come from the same thread (a worker
 * for its own limiter, or the control thread); there are no atomics.
 */
#ifndef TG_SWIN_H
#define TG_SWIN_H

#include <stdbool.h>
#include <stdint.h>

#include "tg_common.h"

/** Most sub-windows a limiter can have. */
#define SWIN_SUB_MAX 64

/** One limiter. Treat as opaque; embed by value; set up with swin_init(). */
struct swin {
	uint64_t limit;        /**< cost units admitted per window */
	uint64_t sub_ns;       /**< sub-window length, ns (window_ns / n_sub) */
	uint64_t cur_start_ns; /**< start of the current sub-window, ns; a
				    multiple of sub_ns */
	uint64_t total;        /**< sum of sub[]: the window's count */
	uint32_t n_sub;        /**< number of sub-windows, 1..SWIN_SUB_MAX */
	uint32_t head;         /**< index in sub[] of the current sub-window */
	uint64_t sub[SWIN_SUB_MAX]; /**< cost units per sub-window (ring) */
};

/**
 * Sets up an empty limiter.
 * @param window_ns window length, ns; > 0 and a multiple of @p n_sub (so
 *        that every sub-window has the same whole length).
 * @param n_sub number of sub-windows, 1..SWIN_SUB_MAX.
 * @param limit cost units per window; 0 admits only zero-cost requests.
 * @return 0, or -EINVAL (limiter untouched).
 * Owner thread.
 */
int swin_init(struct swin *s, uint64_t window_ns, unsigned int n_sub,
	      uint64_t limit);

/** Forgets all counts (the geometry and limit stay). Owner thread. */
void swin_reset(struct swin *s);

/**
 * Changes the limit in place (config reload); counts are kept. A limit
 * lowered below the current count admits nothing until enough rolls off.
 * Owner thread.
 */
void swin_set_limit(struct swin *s, uint64_t limit);

/** Out-of-line part of the roll: called when @p now_ns is outside the
 *  current sub-window (later, or earlier than it: a backwards clock).
 *  Not for direct use. */
void swin_roll_slow(struct swin *s, uint64_t now_ns);

/* Brings the sub-window ring up to @p now_ns. The unsigned difference also
 * sends a time before cur_start_ns (a backwards clock) to the slow path. */
static inline void swin_roll(struct swin *s, uint64_t now_ns)
{
	if (tg_unlikely(now_ns - s->cur_start_ns >= s->sub_ns))
		swin_roll_slow(s, now_ns);
}

/**
 * Admits a request of @p cost units at @p now_ns if the window's count plus
 * @p cost is at most the limit, and then counts it.
 * @return true if admitted (and counted); false if not (nothing counted).
 * Owner thread (typically a worker).
 */
static inline bool swin_take(struct swin *s, uint64_t now_ns, uint64_t cost)
{
	swin_roll(s, now_ns);
	/* Written so that nothing wraps, even with a lowered limit. */
	if (cost > s->limit || s->total > s->limit - cost)
		return false;
	s->sub[s->head] += cost;
	s->total += cost;
	return true;
}

/**
 * @return the window's count at @p now_ns, cost units. Rolls the window
 *         forward to @p now_ns as swin_take() would. Owner thread.
 */
static inline uint64_t swin_count(struct swin *s, uint64_t now_ns)
{
	swin_roll(s, now_ns);
	return s->total;
}

#endif /* TG_SWIN_H */
