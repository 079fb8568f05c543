/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leaky-bucket shaper: constant drain, earliest departure times, the
 * bounded backlog, idle periods and odd clocks.
 */
#include <errno.h>
#include <stdint.h>

#include "shaper.h"
#include "unit.h"

#define GHZ UINT64_C(1000000000)

/* 1000/s: back-to-back messages leave 1 ms apart, the first at once */
static void test_constant_drain(void)
{
	struct shaper_profile p;
	struct shaper_state s;
	uint64_t dep, i, t0 = 5 * GHZ;

	CU_ASSERT_EQUAL_FATAL(shaper_profile_init(&p, 1000, 100, GHZ), 0);
	shaper_init(&s);
	for (i = 0; i < 10; i++) {
		CU_ASSERT_TRUE(shaper_schedule(&p, &s, t0, 1, &dep));
		CU_ASSERT_EQUAL(dep, t0 + i * 1000000);
	}
	CU_ASSERT_EQUAL(shaper_backlog(&p, &s, t0), 10);
	CU_ASSERT_EQUAL(shaper_backlog(&p, &s, t0 + 4500000), 6);
	CU_ASSERT_EQUAL(shaper_backlog(&p, &s, t0 + 10000000), 0);
}

/* a message arriving after the queue drained leaves at once */
static void test_idle_leaves_at_once(void)
{
	struct shaper_profile p;
	struct shaper_state s;
	uint64_t dep;

	CU_ASSERT_EQUAL_FATAL(shaper_profile_init(&p, 10, 5, GHZ), 0);
	shaper_init(&s);
	CU_ASSERT_TRUE(shaper_schedule(&p, &s, GHZ, 1, &dep));
	CU_ASSERT_EQUAL(dep, GHZ);
	CU_ASSERT_TRUE(shaper_schedule(&p, &s, GHZ + 50000000, 1, &dep));
	CU_ASSERT_EQUAL(dep, GHZ + 100000000);
	CU_ASSERT_TRUE(shaper_schedule(&p, &s, 10 * GHZ, 1, &dep));
	CU_ASSERT_EQUAL(dep, 10 * GHZ);
}

/* the backlog never exceeds the limit; a refused message changes nothing */
static void test_bounded_backlog(void)
{
	struct shaper_profile p;
	struct shaper_state s;
	uint64_t dep, ok = 0, i;

	/* bytes: 1e6 B/s, at most 10,000 B queued */
	CU_ASSERT_EQUAL_FATAL(shaper_profile_init(&p, 1e6, 10000, GHZ), 0);
	shaper_init(&s);
	for (i = 0; i < 20; i++)
		ok += shaper_schedule(&p, &s, 0, 1500, &dep);
	CU_ASSERT_EQUAL(ok, 6);
	CU_ASSERT_EQUAL(shaper_backlog(&p, &s, 0), 9000);
	/* 1000 B fits exactly, then nothing */
	CU_ASSERT_TRUE(shaper_schedule(&p, &s, 0, 1000, &dep));
	CU_ASSERT_EQUAL(dep, 9000000);
	CU_ASSERT_FALSE(shaper_schedule(&p, &s, 0, 1, &dep));
	CU_ASSERT_EQUAL(shaper_backlog(&p, &s, 0), 10000);
	/* 1.5 ms later 1500 B drained: one more fits */
	CU_ASSERT_TRUE(shaper_schedule(&p, &s, 1500000, 1500, &dep));
	CU_ASSERT_EQUAL(dep, 10000000);
	/* a message bigger than the whole queue never fits */
	shaper_init(&s);
	CU_ASSERT_FALSE(shaper_schedule(&p, &s, 0, 10001, &dep));
	CU_ASSERT_EQUAL(shaper_backlog(&p, &s, 0), 0);
}

/* the drain rate is exact over a long run at an awkward rate and clock */
static void test_drain_rate_exact(void)
{
	struct shaper_profile p;
	struct shaper_state s;
	const uint64_t hz = 2600000000;
	uint64_t dep = 0, i, n = 0;

	/* 3 messages per second for 1000 s, offered 10x faster than that */
	CU_ASSERT_EQUAL_FATAL(shaper_profile_init(&p, 3, 2, hz), 0);
	shaper_init(&s);
	for (i = 0; i < 30000; i++) {
		uint64_t now = i * (hz / 30);

		if (shaper_schedule(&p, &s, now, 1, &dep))
			n++;
	}
	/* the last admitted one leaves no earlier than its slot */
	CU_ASSERT(dep >= (n - 1) * hz / 3);
	CU_ASSERT(dep <= (n - 1) * hz / 3 + 1);
	/* everything admitted leaves within the 1000 s plus the queue */
	CU_ASSERT(n >= 3000 && n <= 3002);
}

/*
 * Shaping on a token bucket: deferred messages leave when the bucket would
 * have earned their tokens, in order, and deferred plus admitted traffic
 * together never exceed rate * T + burst.
 */
static void test_defer_on_bucket(void)
{
	struct tb_profile tp;
	struct shaper_profile sp;
	struct tb_state s;
	uint64_t dep = 0, i, now, sent = 0, deferred = 0, refused = 0;
	uint64_t last_dep = 0;

	/* 100/s, burst 10, up to 50 messages (0.5 s) of backlog */
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&tp, TB_MODE_PACKETS, 100, 10,
					      GHZ),
			      0);
	CU_ASSERT_EQUAL_FATAL(shaper_profile_init(&sp, 100, 50, GHZ), 0);
	tb_init(&tp, &s, 0);
	/* 10 fit at once; the 11th waits 10 ms, the 12th 20 ms */
	for (i = 0; i < 10; i++)
		CU_ASSERT_TRUE(tb_take(&tp, &s, 0, 1));
	CU_ASSERT_FALSE(tb_check(&tp, &s, 0, 1));
	CU_ASSERT_TRUE(shaper_defer(&sp, &tp, &s, 0, 1, &dep));
	CU_ASSERT_EQUAL(dep, 10000000);
	CU_ASSERT_FALSE(tb_check(&tp, &s, 5000000, 1));
	CU_ASSERT_TRUE(shaper_defer(&sp, &tp, &s, 5000000, 1, &dep));
	CU_ASSERT_EQUAL(dep, 20000000);
	/* the part of a token already earned counts: drained at 20 ms,
	 * half a token by 25 ms, so the next leaves at 30 ms, not 35 */
	CU_ASSERT_FALSE(tb_check(&tp, &s, 25000000, 1));
	CU_ASSERT_TRUE(shaper_defer(&sp, &tp, &s, 25000000, 1, &dep));
	CU_ASSERT(dep >= 30000000 && dep <= 30000001);
	tb_init(&tp, &s, 0);
	for (i = 0; i < 10; i++)
		CU_ASSERT_TRUE(tb_take(&tp, &s, 0, 1));
	CU_ASSERT_TRUE(shaper_defer(&sp, &tp, &s, 0, 1, &dep));
	CU_ASSERT_TRUE(shaper_defer(&sp, &tp, &s, 5000000, 1, &dep));
	/* nothing is earned before the last departure */
	CU_ASSERT_FALSE(tb_check(&tp, &s, 19999999, 1));
	CU_ASSERT_EQUAL(tb_tokens(&tp, &s, 20000000), 0);
	CU_ASSERT_EQUAL(tb_tokens(&tp, &s, 30000000), 1);

	/* 1000/s offered for 10 s: sent (admitted + deferred) stays within
	 * 100 * 10 + 10, departures in order, the rest refused */
	tb_init(&tp, &s, 0);
	for (i = 0; i < 10000; i++) {
		now = i * (GHZ / 1000);
		if (tb_take(&tp, &s, now, 1)) {
			sent++;
		} else if (shaper_defer(&sp, &tp, &s, now, 1, &dep)) {
			CU_ASSERT(dep > now);
			CU_ASSERT(dep >= last_dep);
			CU_ASSERT(dep - now <= GHZ / 2);
			last_dep = dep;
			deferred++;
		} else {
			refused++;
		}
	}
	/* what left by 10 s: the admitted plus the deferred due by then */
	CU_ASSERT(sent + deferred <= 100 * 10 + 10 + 50);
	CU_ASSERT(sent + deferred >= 100 * 10 + 10);
	CU_ASSERT_EQUAL(sent + deferred + refused, 10000);
	CU_ASSERT(last_dep <= 10 * GHZ + GHZ / 2);
	/* a backlog over the limit is refused and changes nothing */
	s.tokens = 0;
	s.last = 0;
	CU_ASSERT_FALSE(shaper_defer(&sp, &tp, &s, 0, 51, &dep));
	CU_ASSERT_EQUAL(s.last, 0);
}

static void test_profile_rejects_bad_parameters(void)
{
	struct shaper_profile p;

	CU_ASSERT_EQUAL(shaper_profile_init(&p, 0, 1, GHZ), -EINVAL);
	CU_ASSERT_EQUAL(shaper_profile_init(&p, -5, 1, GHZ), -EINVAL);
	CU_ASSERT_EQUAL(shaper_profile_init(&p, 5, 0, GHZ), -EINVAL);
	CU_ASSERT_EQUAL(shaper_profile_init(&p, 5, 1, 0), -EINVAL);
	CU_ASSERT_EQUAL(shaper_profile_init(&p, 1e30, 1, GHZ), -EINVAL);
	CU_ASSERT_EQUAL(shaper_profile_init(&p, 0.1, 1000, 4 * GHZ), 0);
	CU_ASSERT_EQUAL(shaper_profile_init(&p, 12.5e9, 1 << 30, GHZ), 0);
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("shaper", NULL, NULL);

	if (!s)
		return CU_get_error();
	if (!CU_add_test(s, "constant drain", test_constant_drain) ||
	    !CU_add_test(s, "idle leaves at once", test_idle_leaves_at_once) ||
	    !CU_add_test(s, "bounded backlog", test_bounded_backlog) ||
	    !CU_add_test(s, "drain rate exact", test_drain_rate_exact) ||
	    !CU_add_test(s, "defer on a token bucket", test_defer_on_bucket) ||
	    !CU_add_test(s, "profile rejects bad parameters",
			 test_profile_rejects_bad_parameters))
		return CU_get_error();
	return CUE_SUCCESS;
}
