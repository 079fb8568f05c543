/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the sliding-window limiter (lib/swin.c): set-up checks,
 * exactly `limit` per window, sub-windows rolling off one by one, time
 * jumps of any size (up to the end of the 64-bit clock), time that stands
 * still or goes backwards, cost edge cases, limit changes, and a long
 * random run against a per-request model of the window. Time is a plain
 * number driven by the test.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "swin.h"
#include "tg_common.h"
#include "unit.h"

static void test_init(void)
{
	struct swin s;

	CU_ASSERT_EQUAL(swin_init(&s, 1000, 0, 10), -EINVAL);
	CU_ASSERT_EQUAL(swin_init(&s, 6500, 65, 10), -EINVAL);
	CU_ASSERT_EQUAL(swin_init(&s, 0, 1, 10), -EINVAL);
	CU_ASSERT_EQUAL(swin_init(&s, 1000, 3, 10), -EINVAL);
	CU_ASSERT_EQUAL(swin_init(&s, 10, 64, 10), -EINVAL);
	CU_ASSERT_EQUAL(swin_init(&s, 1000, 1, 10), 0);
	CU_ASSERT_EQUAL(swin_init(&s, 6400, 64, 10), 0);
	CU_ASSERT_EQUAL(s.sub_ns, 100);
	CU_ASSERT_EQUAL(swin_init(&s, 1000000000, 10, 0), 0);
	CU_ASSERT_EQUAL(swin_init(&s, UINT64_MAX, 1, 10), 0);
	CU_ASSERT_EQUAL(swin_count(&s, 12345), 0);
}

/* N = 1: a fixed window admits exactly the limit, then nothing until the
 * next window starts. */
static void test_fixed_window(void)
{
	struct swin s;
	uint64_t w, t;
	int i;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 1000, 1, 10), 0);
	for (w = 0; w < 5; w++) {
		t = 1000 * w;
		for (i = 0; i < 10; i++)
			CU_ASSERT(swin_take(&s, t + (uint64_t)i * 50, 1));
		CU_ASSERT(!swin_take(&s, t + 500, 1));
		CU_ASSERT(!swin_take(&s, t + 999, 1));
		CU_ASSERT_EQUAL(swin_count(&s, t + 999), 10);
	}
}

/* N = 4: a burst of the whole limit stays in the window until its own
 * sub-window rolls off, N sub-windows later. */
static void test_exact_limit(void)
{
	struct swin s;
	int i;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 400, 4, 100), 0);
	for (i = 0; i < 100; i++)
		CU_ASSERT(swin_take(&s, 50, 1));
	CU_ASSERT(!swin_take(&s, 50, 1));
	CU_ASSERT(!swin_take(&s, 150, 1));
	CU_ASSERT(!swin_take(&s, 399, 1));
	CU_ASSERT_EQUAL(swin_count(&s, 399), 100);
	/* Sub-window [0, 100) rolls off at 400. */
	CU_ASSERT_EQUAL(swin_count(&s, 400), 0);
	CU_ASSERT(swin_take(&s, 400, 100));
	CU_ASSERT(!swin_take(&s, 401, 1));
	/* Exactly the remaining room fits, one more does not. */
	CU_ASSERT(swin_take(&s, 800, 60));
	CU_ASSERT(!swin_take(&s, 850, 41));
	CU_ASSERT(swin_take(&s, 850, 40));
	CU_ASSERT(!swin_take(&s, 850, 1));
}

static void test_rolling(void)
{
	struct swin s;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 400, 4, 1000), 0);
	CU_ASSERT(swin_take(&s, 0, 10));
	CU_ASSERT(swin_take(&s, 100, 20));
	CU_ASSERT(swin_take(&s, 250, 30));
	CU_ASSERT(swin_take(&s, 399, 40));
	CU_ASSERT_EQUAL(swin_count(&s, 399), 100);
	CU_ASSERT_EQUAL(swin_count(&s, 400), 90);
	CU_ASSERT_EQUAL(swin_count(&s, 499), 90);
	CU_ASSERT_EQUAL(swin_count(&s, 500), 70);
	CU_ASSERT_EQUAL(swin_count(&s, 600), 40);
	CU_ASSERT_EQUAL(swin_count(&s, 699), 40);
	CU_ASSERT_EQUAL(swin_count(&s, 700), 0);
	/* Steady traffic: one unit per 10 ns, 40 per window, at limit 40. */
	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 400, 4, 40), 0);
	{
		uint64_t t;
		int admitted = 0;

		for (t = 0; t < 4000; t += 10)
			admitted += swin_take(&s, t, 1);
		CU_ASSERT_EQUAL(admitted, 400);
		CU_ASSERT_EQUAL(swin_count(&s, 3999), 40);
	}
}

static void test_jumps(void)
{
	struct swin s;
	uint64_t t;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 400, 4, 1000), 0);
	CU_ASSERT(swin_take(&s, 0, 1));
	CU_ASSERT(swin_take(&s, 100, 2));
	CU_ASSERT(swin_take(&s, 200, 4));
	CU_ASSERT(swin_take(&s, 300, 8));
	/* Two sub-windows at once: 1 and 2 roll off. */
	CU_ASSERT_EQUAL(swin_count(&s, 500), 12);
	/* N - 1 at once. */
	CU_ASSERT(swin_take(&s, 500, 16));
	CU_ASSERT_EQUAL(swin_count(&s, 800), 16);
	/* Exactly N: everything. */
	CU_ASSERT_EQUAL(swin_count(&s, 1200), 0);
	/* Many windows. */
	CU_ASSERT(swin_take(&s, 1200, 1000));
	t = 1200 + 400 * 1000000ULL;
	CU_ASSERT_EQUAL(swin_count(&s, t), 0);
	CU_ASSERT(swin_take(&s, t, 1000));
	CU_ASSERT(!swin_take(&s, t + 399, 1));
	/* To the end of the 64-bit clock: UINT64_MAX is 3 sub-windows after
	 * t, still in the window. */
	t = UINT64_MAX - 250;
	CU_ASSERT_EQUAL(swin_count(&s, t), 0);
	CU_ASSERT(swin_take(&s, t, 1000));
	CU_ASSERT(!swin_take(&s, UINT64_MAX, 1));
	CU_ASSERT_EQUAL(swin_count(&s, UINT64_MAX), 1000);

	/* A single window as long as the clock. */
	CU_ASSERT_EQUAL_FATAL(swin_init(&s, UINT64_MAX, 1, 5), 0);
	CU_ASSERT(swin_take(&s, 0, 5));
	CU_ASSERT(!swin_take(&s, UINT64_MAX - 1, 1));
	CU_ASSERT(swin_take(&s, UINT64_MAX, 5));	/* the next window */
	CU_ASSERT(!swin_take(&s, UINT64_MAX, 1));
	/* First use at a large time, after init at 0. */
	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 64000, 64, 7), 0);
	t = 1000ULL << 52; /* a sub-window boundary */
	CU_ASSERT(swin_take(&s, t, 7));
	CU_ASSERT(!swin_take(&s, t + 63999, 1));
	CU_ASSERT_EQUAL(swin_count(&s, t + 64000), 0);
	/* Not on a boundary: sub-windows stay aligned to multiples of
	 * sub_ns, so the first one is partly in the past. */
	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 64000, 64, 7), 0);
	CU_ASSERT(swin_take(&s, t + 999, 7));
	CU_ASSERT(!swin_take(&s, t + 63999, 1));
	CU_ASSERT_EQUAL(swin_count(&s, t + 64000), 0);
}

static void test_same_and_backwards(void)
{
	struct swin s, before;
	int i;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 400, 4, 100), 0);
	/* Time standing still. */
	for (i = 0; i < 100; i++)
		CU_ASSERT(swin_take(&s, 1000, 1));
	CU_ASSERT(!swin_take(&s, 1000, 1));
	/* Backwards: counted as the latest time seen (1000). */
	CU_ASSERT_EQUAL(swin_count(&s, 500), 100);
	CU_ASSERT_EQUAL(swin_count(&s, 0), 100);
	CU_ASSERT(!swin_take(&s, 0, 1));
	before = s;
	CU_ASSERT(!swin_take(&s, 3, 1));
	CU_ASSERT(memcmp(&s, &before, sizeof(s)) == 0);
	/* Forward again: the window rolls from 1000 as if nothing
	 * happened. */
	CU_ASSERT_EQUAL(swin_count(&s, 1399), 100);
	CU_ASSERT_EQUAL(swin_count(&s, 1400), 0);
	/* A request with a late-arriving earlier time goes into the current
	 * sub-window, not into a past one. */
	CU_ASSERT(swin_take(&s, 1450, 10));
	CU_ASSERT(swin_take(&s, 1200, 10));
	CU_ASSERT_EQUAL(swin_count(&s, 1799), 20);
	CU_ASSERT_EQUAL(swin_count(&s, 1800), 0);
}

static void test_costs(void)
{
	struct swin s;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 1000, 10, 100), 0);
	CU_ASSERT(!swin_take(&s, 0, 101));
	CU_ASSERT(!swin_take(&s, 0, UINT64_MAX));
	CU_ASSERT(swin_take(&s, 0, 0));
	CU_ASSERT(swin_take(&s, 0, 100));
	CU_ASSERT(swin_take(&s, 0, 0));		/* free, even when full */
	CU_ASSERT(!swin_take(&s, 0, 1));

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 1000, 10, 0), 0);
	CU_ASSERT(swin_take(&s, 0, 0));
	CU_ASSERT(!swin_take(&s, 0, 1));

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 1000, 10, UINT64_MAX), 0);
	CU_ASSERT(swin_take(&s, 0, UINT64_MAX - 1));
	CU_ASSERT(!swin_take(&s, 100, 2));
	CU_ASSERT(swin_take(&s, 100, 1));
	CU_ASSERT(!swin_take(&s, 200, 1));
	CU_ASSERT_EQUAL(swin_count(&s, 900), UINT64_MAX);
	CU_ASSERT_EQUAL(swin_count(&s, 1000), 1);
}

static void test_limit_and_reset(void)
{
	struct swin s;

	CU_ASSERT_EQUAL_FATAL(swin_init(&s, 400, 4, 100), 0);
	CU_ASSERT(swin_take(&s, 0, 80));
	/* Lowered below the count: nothing fits, nothing wraps. */
	swin_set_limit(&s, 50);
	CU_ASSERT(!swin_take(&s, 10, 1));
	CU_ASSERT(!swin_take(&s, 10, 0));	/* 80 + 0 > 50 */
	CU_ASSERT_EQUAL(swin_count(&s, 10), 80);
	CU_ASSERT(swin_take(&s, 400, 50));
	/* Raised: room at once. */
	swin_set_limit(&s, 200);
	CU_ASSERT(swin_take(&s, 401, 150));
	CU_ASSERT(!swin_take(&s, 401, 1));
	swin_reset(&s);
	CU_ASSERT_EQUAL(swin_count(&s, 401), 0);
	CU_ASSERT(swin_take(&s, 401, 200));
	CU_ASSERT_EQUAL(s.limit, 200);
	CU_ASSERT_EQUAL(s.sub_ns, 100);
}

/* --- random run against a per-request model ------------------------------ */

#define MODEL_MAX 8192

struct model {
	uint64_t epoch[MODEL_MAX]; /* sub-window number of each request */
	uint64_t cost[MODEL_MAX];
	size_t head, tail;
	uint64_t sum, last_ns;
};

/* Drops the requests outside the window that ends in now's sub-window. */
static uint64_t model_count(struct model *m, uint64_t now_ns,
			    uint64_t sub_ns, unsigned int n_sub)
{
	uint64_t cur;

	if (now_ns < m->last_ns)
		now_ns = m->last_ns;
	m->last_ns = now_ns;
	cur = now_ns / sub_ns;
	while (m->head < m->tail && m->epoch[m->head] + n_sub <= cur) {
		m->sum -= m->cost[m->head];
		m->head++;
	}
	return m->sum;
}

static void test_random_model(void)
{
	static struct model m;
	uint64_t seed = 0x51d1;
	int run;

	for (run = 0; run < 40; run++) {
		unsigned int n_sub = 1 + (unsigned int)(unit_rand(&seed) % 64);
		uint64_t sub_ns = 1 + unit_rand(&seed) % 1000;
		uint64_t limit = unit_rand(&seed) % 500;
		uint64_t now = unit_rand(&seed) >> 2; /* < 2^62 */
		uint64_t win_sum[64] = { 0 }, win_epoch[64];
		struct swin s;
		int i;

		for (i = 0; i < 64; i++)
			win_epoch[i] = UINT64_MAX;
		memset(&m, 0, sizeof(m));
		CU_ASSERT_EQUAL_FATAL(swin_init(&s, sub_ns * n_sub, n_sub,
						limit), 0);
		for (i = 0; i < 4000; i++) {
			uint64_t r = unit_rand(&seed), cost, want, ep, back;
			bool fits, got;
			unsigned int k;

			switch (r % 16) {
			case 0: /* backwards */
				back = (r >> 8) % (2 * sub_ns + 1);
				now = now > back ? now - back : 0;
				break;
			case 1: /* a jump */
				now += (r >> 8) % (sub_ns * n_sub * 3);
				break;
			case 2: /* a long gap */
				now += sub_ns * n_sub * ((r >> 8) % 1000);
				break;
			default:
				now += (r >> 8) % (sub_ns / 2 + 1);
				break;
			}
			cost = (r >> 20) % 8 == 0 ? limit / 3 : (r >> 24) % 4;
			want = model_count(&m, now, sub_ns, n_sub);
			fits = want + cost <= limit;
			got = swin_take(&s, now, cost);
			CU_ASSERT_EQUAL(got, fits);
			if (got && cost) {
				CU_ASSERT_FATAL(m.tail < MODEL_MAX);
				m.epoch[m.tail] = m.last_ns / sub_ns;
				m.cost[m.tail++] = cost;
				m.sum += cost;
			}
			CU_ASSERT_EQUAL(swin_count(&s, now), m.sum);
			CU_ASSERT(s.total <= limit);

			/* No N consecutive sub-windows ever admit more
			 * than the limit. */
			ep = m.last_ns / sub_ns;
			if (win_epoch[ep % 64] != ep) {
				win_epoch[ep % 64] = ep;
				win_sum[ep % 64] = 0;
			}
			if (got)
				win_sum[ep % 64] += cost;
			{
				uint64_t span = 0;

				for (k = 0; k < n_sub && k <= ep; k++)
					if (win_epoch[(ep - k) % 64] == ep - k)
						span += win_sum[(ep - k) % 64];
				CU_ASSERT(span <= limit);
			}
		}
	}
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("swin", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "init", test_init) ||
	    !CU_add_test(s, "fixed window", test_fixed_window) ||
	    !CU_add_test(s, "exact limit", test_exact_limit) ||
	    !CU_add_test(s, "rolling", test_rolling) ||
	    !CU_add_test(s, "time jumps", test_jumps) ||
	    !CU_add_test(s, "same and backwards time",
			 test_same_and_backwards) ||
	    !CU_add_test(s, "costs", test_costs) ||
	    !CU_add_test(s, "limit and reset", test_limit_and_reset) ||
	    !CU_add_test(s, "random against a model", test_random_model))
		return CU_get_error();
	return CUE_SUCCESS;
}
