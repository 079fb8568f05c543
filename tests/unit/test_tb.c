/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Token bucket: the exact counts users rely on (burst means capacity,
 * refill to the message), multi-tier atomicity, rate changes, queries,
 * clocks that stall, go back or wrap, and the accuracy sweep over rates
 * and clock frequencies.
 */
#include <errno.h>
#include <stdint.h>

#include "tb.h"
#include "tb_sweep.h"
#include "unit.h"

#define GHZ UINT64_C(1000000000)

static unsigned take_n(const struct tb_profile *p, struct tb_state *s,
		       uint64_t now, unsigned n, uint64_t cost)
{
	unsigned i, ok = 0;

	for (i = 0; i < n; i++)
		ok += tb_take(p, s, now, cost);
	return ok;
}

/* rate 10/s, burst 20: 20 of 25 at once, then 10 of 15 one second later */
static void test_fresh_bucket_admits_burst_then_rate(void)
{
	struct tb_profile p;
	struct tb_state s;
	uint64_t t0 = 123456789;

	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_PACKETS, 10, 20, GHZ),
			      0);
	tb_init(&p, &s, t0);
	CU_ASSERT_EQUAL(take_n(&p, &s, t0, 25, 1), 20);
	CU_ASSERT_EQUAL(take_n(&p, &s, t0 + GHZ, 15, 1), 10);
}

/* burst means capacity: a long idle bucket holds burst, not rate + burst */
static void test_idle_bucket_holds_only_burst(void)
{
	struct tb_profile p;
	struct tb_state s;

	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&p, TB_MODE_PACKETS, 1000, 50, 3 * GHZ), 0);
	tb_init(&p, &s, 0);
	CU_ASSERT_EQUAL(take_n(&p, &s, 3600 * 3 * GHZ, 2000, 1), 50);
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, 3600 * 3 * GHZ), 0);
}

/* the refill is exact to the token at the moment it is due */
static void test_refill_exact_at_due_time(void)
{
	struct tb_profile p;
	struct tb_state s;
	uint64_t t0 = 5;

	/* 3/s on a 1 GHz clock: one token every 333,333,333.33 ns */
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_PACKETS, 3, 1, GHZ),
			      0);
	tb_init(&p, &s, t0);
	CU_ASSERT_TRUE(tb_take(&p, &s, t0, 1));
	CU_ASSERT_FALSE(tb_take(&p, &s, t0 + 333333333, 1));
	CU_ASSERT_TRUE(tb_take(&p, &s, t0 + 333333334, 1));
	/* 1000 s later at 0.1/s: exactly 100 tokens, on the dot */
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&p, TB_MODE_PACKETS, 0.1, 1000, GHZ), 0);
	tb_init(&p, &s, t0);
	CU_ASSERT_EQUAL(take_n(&p, &s, t0, 1000, 1), 1000);
	/*
	 * 0.1 is not a binary fraction: the per-cycle increment is rounded
	 * up, by 2.4e-7 of the rate, so the 100th token comes due 240 us
	 * early, never late.
	 */
	CU_ASSERT_EQUAL(take_n(&p, &s, t0 + 1000 * GHZ - GHZ / 1000, 200, 1),
			99);
	CU_ASSERT_EQUAL(take_n(&p, &s, t0 + 1000 * GHZ, 200, 1), 1);
}

static void test_byte_mode_costs_bytes(void)
{
	struct tb_profile p;
	struct tb_state s;

	/* 1 Gbit/s = 125e6 B/s, burst 3000 B */
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&p, TB_MODE_BYTES, 125e6, 3000, 2 * GHZ), 0);
	tb_init(&p, &s, 0);
	CU_ASSERT_EQUAL(tb_cost(&p, 1500), 1500);
	CU_ASSERT_TRUE(tb_take(&p, &s, 0, tb_cost(&p, 1500)));
	CU_ASSERT_TRUE(tb_take(&p, &s, 0, tb_cost(&p, 1000)));
	CU_ASSERT_FALSE(tb_take(&p, &s, 0, tb_cost(&p, 501)));
	CU_ASSERT_TRUE(tb_take(&p, &s, 0, tb_cost(&p, 500)));
	/* 12 us at 125 B/us = 1500 B */
	CU_ASSERT_FALSE(tb_take(&p, &s, 2 * 12000 - 1, 1500));
	CU_ASSERT_TRUE(tb_take(&p, &s, 2 * 12000, 1500));
	CU_ASSERT_EQUAL(tb_cost(&p, 0), 0);
}

/* packet mode: every message costs one token whatever its size */
static void test_packet_mode_costs_one(void)
{
	struct tb_profile p;

	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_PACKETS, 1, 1, GHZ),
			      0);
	CU_ASSERT_EQUAL(tb_cost(&p, 9000), 1);
	CU_ASSERT_STRING_EQUAL(tb_mode_name(TB_MODE_PACKETS), "packets");
	CU_ASSERT_STRING_EQUAL(tb_mode_name(TB_MODE_BYTES), "bytes");
}

/* a rejection by one tier takes no token from any tier */
static void test_multi_tier_rejection_takes_nothing(void)
{
	struct tb_profile pg, pt, pc;
	struct tb_state sg, st, sc;
	const struct tb_profile *p[3] = { &pg, &pt, &pc };
	struct tb_state *s[3] = { &sg, &st, &sc };
	unsigned i, admitted = 0;

	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&pg, TB_MODE_PACKETS, 100, 100, GHZ), 0);
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&pt, TB_MODE_BYTES, 1000, 1000, GHZ), 0);
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&pc, TB_MODE_PACKETS, 1, 5, GHZ),
			      0);
	tb_init(&pg, &sg, 0);
	tb_init(&pt, &st, 0);
	tb_init(&pc, &sc, 0);
	/* the consumer tier (index 2) runs out after 5 */
	for (i = 0; i < 8; i++)
		admitted += tb_take_all(p, s, 3, 0, 100) == 3;
	CU_ASSERT_EQUAL(admitted, 5);
	CU_ASSERT_EQUAL(tb_take_all(p, s, 3, 0, 100), 2);
	CU_ASSERT_EQUAL(tb_tokens(&pg, &sg, 0), 95);
	CU_ASSERT_EQUAL(tb_tokens(&pt, &st, 0), 500);
	/* the topic tier (bytes) rejects a 600 B message: global keeps 95 */
	CU_ASSERT_EQUAL(tb_take_all(p, s, 2, 0, 600), 1);
	CU_ASSERT_EQUAL(tb_tokens(&pg, &sg, 0), 95);
	CU_ASSERT_EQUAL(tb_tokens(&pt, &st, 0), 500);
	/* the first tier rejects: nothing checked further is taken */
	CU_ASSERT_EQUAL(tb_take_all(p + 1, s + 1, 2, 0, 700), 0);
	CU_ASSERT_EQUAL(tb_tokens(&pt, &st, 0), 500);
	CU_ASSERT_EQUAL(tb_tokens(&pc, &sc, 0), 0);
}

/* a rate change keeps the tokens, clamped to the new capacity */
static void test_rate_change_keeps_tokens(void)
{
	struct tb_profile a, b, c, other_hz;
	struct tb_state s;

	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&a, TB_MODE_PACKETS, 10, 100, GHZ),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&b, TB_MODE_PACKETS, 1000, 1000, GHZ), 0);
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&c, TB_MODE_PACKETS, 10, 30, GHZ),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&other_hz, TB_MODE_PACKETS, 10, 30, 2 * GHZ), 0);
	tb_init(&a, &s, 0);
	CU_ASSERT_EQUAL(take_n(&a, &s, 0, 60, 1), 60);
	/* 1 s under a earns 10: 50 left; switching keeps 50, not 1000 */
	CU_ASSERT_EQUAL(tb_switch(&a, &b, &s, GHZ), 0);
	CU_ASSERT_EQUAL(tb_tokens(&b, &s, GHZ), 50);
	/* then it earns at the new rate: 1000/s for 10 ms = 10 */
	CU_ASSERT_EQUAL(tb_tokens(&b, &s, GHZ + GHZ / 100), 60);
	/* down to capacity 30: clamped */
	CU_ASSERT_EQUAL(tb_switch(&b, &c, &s, GHZ + GHZ / 100), 0);
	CU_ASSERT_EQUAL(tb_tokens(&c, &s, GHZ + GHZ / 100), 30);
	CU_ASSERT_EQUAL(tb_switch(&c, &other_hz, &s, 2 * GHZ), -EINVAL);
}

/*
 * The control thread moves a bucket's rate every 100 ms tick: no fraction
 * of a token may be lost on a switch, or a slow bucket would never earn.
 */
static void test_frequent_rate_changes_lose_nothing(void)
{
	struct tb_profile slow, fast, *cur, *next;
	struct tb_state s;
	const uint64_t hz = 3 * GHZ, tick = hz / 10;
	uint64_t now = 0, i;

	/* 0.1/s and 0.3/s alternating each tick: 0.2/s on average; the
	 * second is on another shift when the first needs the full 64 */
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&slow, TB_MODE_PACKETS, 0.1, 100, hz), 0);
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&fast, TB_MODE_BYTES, 3e9, 100,
					      hz),
			      0);
	CU_ASSERT_NOT_EQUAL(slow.shift, fast.shift);
	/* a 0.3/s profile on the byte profile's shift, made by hand */
	fast.inc = slow.inc * 3 >> (slow.shift - fast.shift);
	tb_init(&slow, &s, 0);
	s.tokens = 0;
	cur = &slow;
	next = &fast;
	/* 1000 s = 10,000 ticks */
	for (i = 0; i < 10000; i++) {
		struct tb_profile *t = cur;

		now += tick;
		CU_ASSERT_EQUAL(tb_switch(cur, next, &s, now), 0);
		cur = next;
		next = t;
	}
	/* 0.2/s * 1000 s = 200, clamped at the burst of 100 */
	CU_ASSERT_EQUAL(tb_tokens(cur, &s, now), 100);

	/* and the exact count below the clamp: 500 ticks = 50 s = 10 */
	tb_init(&slow, &s, 0);
	s.tokens = 0;
	now = 0;
	cur = &slow;
	next = &fast;
	for (i = 0; i < 500; i++) {
		struct tb_profile *t = cur;

		now += tick;
		CU_ASSERT_EQUAL(tb_switch(cur, next, &s, now), 0);
		cur = next;
		next = t;
	}
	CU_ASSERT_EQUAL(tb_tokens(cur, &s, now), 10);
	/* the same with a switch to the same rate every tick: 0.1 * 50 = 5 */
	tb_init(&slow, &s, 0);
	s.tokens = 0;
	for (i = 1; i <= 500; i++)
		CU_ASSERT_EQUAL(tb_switch(&slow, &slow, &s, i * tick), 0);
	CU_ASSERT_EQUAL(tb_tokens(&slow, &s, 500 * tick), 5);
}

/* profiles sharing a reference rate share a shift: a bucket can move
 * between them by pointer, and a smaller burst clamps at the next refill */
static void test_shared_shift_profiles(void)
{
	struct tb_profile full, cut, small;
	struct tb_state s;
	uint64_t t = 0;
	unsigned i;

	CU_ASSERT_EQUAL_FATAL(tb_profile_init_ref(&full, TB_MODE_PACKETS, 1e5,
						  1000, GHZ, 1e5),
			      0);
	CU_ASSERT_EQUAL_FATAL(tb_profile_init_ref(&cut, TB_MODE_PACKETS, 0.1,
						  1000, GHZ, 1e5),
			      0);
	CU_ASSERT_EQUAL_FATAL(tb_profile_init_ref(&small, TB_MODE_PACKETS, 1e5,
						  10, GHZ, 1e5),
			      0);
	CU_ASSERT_EQUAL(full.shift, cut.shift);
	CU_ASSERT_EQUAL(full.shift, small.shift);
	CU_ASSERT_EQUAL(tb_profile_init_ref(&cut, TB_MODE_PACKETS, 0.1, 1000,
					    GHZ, 1e5),
			0);
	/* 0.1/s under a 1e5 reference: 100 s earns exactly 10 */
	tb_init(&cut, &s, t);
	s.tokens = 0;
	for (i = 1; i <= 1000; i++)
		tb_advance(&cut, &s, t + i * (GHZ / 10));
	CU_ASSERT_EQUAL(s.tokens, 10);
	/* swap to the full rate by pointer: 1 ms earns 100 */
	tb_advance(&full, &s, t + 100 * GHZ + GHZ / 1000);
	CU_ASSERT_EQUAL(s.tokens, 110);
	/* swap to a burst of 10: clamped at the next refill */
	CU_ASSERT_TRUE(tb_take(&small, &s, t + 100 * GHZ + GHZ / 1000 + 1, 1));
	CU_ASSERT_EQUAL(s.tokens, 9);
	/* a reference below the rate is the rate itself */
	CU_ASSERT_EQUAL(tb_profile_init_ref(&cut, TB_MODE_PACKETS, 1e5, 1,
					    GHZ, 1),
			0);
	CU_ASSERT_EQUAL(cut.shift, full.shift);
}

static void test_reset_fills_bucket(void)
{
	struct tb_profile p;
	struct tb_state s;

	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_PACKETS, 1, 7, GHZ),
			      0);
	tb_init(&p, &s, 0);
	CU_ASSERT_EQUAL(take_n(&p, &s, 0, 7, 1), 7);
	tb_reset(&p, &s, 10);
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, 10), 7);
	CU_ASSERT_EQUAL(take_n(&p, &s, 10, 9, 1), 7);
}

static void test_queries(void)
{
	struct tb_profile p;
	struct tb_state s;

	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&p, TB_MODE_PACKETS, 2.5, 10, GHZ), 0);
	tb_init(&p, &s, 0);
	CU_ASSERT_EQUAL(tb_capacity(&p), 10);
	CU_ASSERT_DOUBLE_EQUAL(tb_rate(&p), 2.5, 0);
	CU_ASSERT_TRUE(tb_fits(&p, &s, 0, 10));
	CU_ASSERT_FALSE(tb_fits(&p, &s, 0, 11));
	CU_ASSERT_EQUAL(take_n(&p, &s, 0, 10, 1), 10);
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, 0), 0);
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, GHZ), 2);
	CU_ASSERT_TRUE(tb_fits(&p, &s, 2 * GHZ, 5));
	CU_ASSERT_FALSE(tb_fits(&p, &s, 2 * GHZ - 1, 5));
	/* queries change nothing */
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, 0), 0);
	CU_ASSERT_EQUAL(s.last, 0);
}

/* a clock behind the bucket's adds nothing and does not rewind it */
static void test_clock_going_back_is_harmless(void)
{
	struct tb_profile p;
	struct tb_state s;
	uint64_t t = 10 * GHZ;

	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_PACKETS, 1, 1, GHZ),
			      0);
	tb_init(&p, &s, t);
	CU_ASSERT_TRUE(tb_take(&p, &s, t, 1));
	CU_ASSERT_FALSE(tb_take(&p, &s, t - GHZ, 1));
	CU_ASSERT_FALSE(tb_take(&p, &s, 0, 1));
	CU_ASSERT_EQUAL(s.last, t);
	CU_ASSERT_FALSE(tb_take(&p, &s, t + GHZ - 1, 1));
	CU_ASSERT_TRUE(tb_take(&p, &s, t + GHZ, 1));
}

/* ten years at 4 GHz, and a counter that wraps through zero */
static void test_long_uptime_and_wrap(void)
{
	const uint64_t hz = 4 * GHZ;
	const uint64_t ten_years = hz * 3600 * 24 * 3653;
	struct tb_profile p;
	struct tb_state s;
	uint64_t t;

	/* the largest rate and burst in the range, idle ten years */
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_BYTES, 12.5e9,
					      UINT64_C(1) << 40, hz),
			      0);
	tb_init(&p, &s, 0);
	CU_ASSERT_TRUE(tb_take(&p, &s, 0, UINT64_C(1) << 40));
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, ten_years), UINT64_C(1) << 40);
	CU_ASSERT_TRUE(tb_take(&p, &s, ten_years, UINT64_C(1) << 40));
	CU_ASSERT_FALSE(tb_take(&p, &s, ten_years, 1));
	/* a second later it has earned 12.5e9 */
	CU_ASSERT_EQUAL(tb_tokens(&p, &s, ten_years + hz), 12500000000ULL);

	/* the slowest rate with a huge burst: no overflow either */
	CU_ASSERT_EQUAL_FATAL(
		tb_profile_init(&p, TB_MODE_PACKETS, 0.1, UINT64_C(1) << 50,
				hz),
		0);
	tb_init(&p, &s, 0);
	CU_ASSERT_TRUE(tb_take(&p, &s, 0, UINT64_C(1) << 50));
	/* 3653 days at 0.1/s = 31,561,920, plus the round-up (< 8) */
	CU_ASSERT(tb_tokens(&p, &s, ten_years) >= 31561920);
	CU_ASSERT(tb_tokens(&p, &s, ten_years) <= 31561920 + 8);

	/* the counter wraps through zero: time still moves forward */
	CU_ASSERT_EQUAL_FATAL(tb_profile_init(&p, TB_MODE_PACKETS, 10, 10, hz),
			      0);
	t = UINT64_MAX - hz / 2;
	tb_init(&p, &s, t);
	CU_ASSERT_EQUAL(take_n(&p, &s, t, 10, 1), 10);
	CU_ASSERT_EQUAL(take_n(&p, &s, t + hz, 20, 1), 10);
	CU_ASSERT_TRUE(t + hz < t);
}

static void test_profile_rejects_bad_parameters(void)
{
	struct tb_profile p;

	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 0, 1, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, -1, 1, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, NAN, 1, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, INFINITY, 1, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 2e12, 1, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 10, 0, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 10, 1, 0),
			-EINVAL);
	CU_ASSERT_EQUAL(
		tb_profile_init(&p, TB_MODE_PACKETS, 10, UINT64_C(1) << 62, GHZ),
		-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_MAX, 10, 1, GHZ), -EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 1e-4, 1, GHZ),
			-EINVAL);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 1, 1, 1000),
			-EINVAL);
	/* the edges of the stated range are accepted */
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 0.1, 1, 4 * GHZ),
			0);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, 1e8, 1, GHZ), 0);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_BYTES, 12.5e9, 1, GHZ), 0);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_BYTES, 1, 1, 4 * GHZ), 0);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_PACKETS, TB_RATE_MIN, 1,
					TB_HZ_MAX),
			0);
	CU_ASSERT_EQUAL(tb_profile_init(&p, TB_MODE_BYTES, TB_RATE_MAX,
					(UINT64_C(1) << 62) - 1, TB_HZ_MIN),
			0);
}

/*
 * Accuracy: admitted = rate * T + burst within 0.1% for every rate from
 * 0.1/s to 1e8/s (packets) and 1 B/s to 12.5 GB/s (bytes), clocks from
 * 1 to 4 GHz, intervals from 1 s (1000 s under 1/s).
 */
static void test_accuracy_sweep(void)
{
	unsigned cases, bad;
	double worst = tb_sweep_all(0.001, NULL, &cases, &bad);

	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(cases >= 400);
	CU_ASSERT(worst <= 0.001);
}

/* where rate * T is a whole number the count is exact, not just close */
static void test_accuracy_exact_when_whole(void)
{
	static const double rates[] = { 0.1, 0.5, 1, 10, 1e3, 1e6, 1e8 };
	size_t i, h;

	for (i = 0; i < TG_ARRAY_SIZE(rates); i++) {
		for (h = 0; h < TG_ARRAY_SIZE(tb_sweep_hz); h++) {
			struct tb_sweep_case c = {
				.mode = TB_MODE_PACKETS,
				.rate = rates[i],
				.burst = rates[i] < 10 ? 1 :
					(uint64_t)(rates[i] / 10),
				.hz = tb_sweep_hz[h] - tb_sweep_hz[h] % 50000,
				.secs = rates[i] < 1 ? 1000 : 2,
			};

			tb_sweep_run(&c, 77);
			CU_ASSERT_TRUE(c.ok);
			CU_ASSERT_EQUAL(c.admitted,
					(uint64_t)(c.rate * c.secs + 0.5) +
						c.burst);
		}
	}
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("token_bucket", NULL, NULL);

	if (!s)
		return CU_get_error();
	if (!CU_add_test(s, "fresh bucket admits burst then rate",
			 test_fresh_bucket_admits_burst_then_rate) ||
	    !CU_add_test(s, "idle bucket holds only burst",
			 test_idle_bucket_holds_only_burst) ||
	    !CU_add_test(s, "refill exact at due time",
			 test_refill_exact_at_due_time) ||
	    !CU_add_test(s, "byte mode costs bytes",
			 test_byte_mode_costs_bytes) ||
	    !CU_add_test(s, "packet mode costs one",
			 test_packet_mode_costs_one) ||
	    !CU_add_test(s, "multi-tier rejection takes nothing",
			 test_multi_tier_rejection_takes_nothing) ||
	    !CU_add_test(s, "rate change keeps tokens",
			 test_rate_change_keeps_tokens) ||
	    !CU_add_test(s, "frequent rate changes lose nothing",
			 test_frequent_rate_changes_lose_nothing) ||
	    !CU_add_test(s, "shared shift profiles",
			 test_shared_shift_profiles) ||
	    !CU_add_test(s, "reset fills bucket", test_reset_fills_bucket) ||
	    !CU_add_test(s, "queries", test_queries) ||
	    !CU_add_test(s, "clock going back is harmless",
			 test_clock_going_back_is_harmless) ||
	    !CU_add_test(s, "long uptime and wrap",
			 test_long_uptime_and_wrap) ||
	    !CU_add_test(s, "profile rejects bad parameters",
			 test_profile_rejects_bad_parameters) ||
	    !CU_add_test(s, "accuracy sweep 0.1/s..1e8/s, 1..12.5e9 B/s, 1..4 GHz",
			 test_accuracy_sweep) ||
	    !CU_add_test(s, "accuracy exact when rate*T is whole",
			 test_accuracy_exact_when_whole))
		return CU_get_error();
	return CUE_SUCCESS;
}
