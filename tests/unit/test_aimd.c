/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the utilization-step rate adjuster (lib/aimd.c): config
 * validation, exact single steps, the strict boundaries, the floor and
 * ceiling bounds over long and random runs, and ceiling changes.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aimd.h"
#include "tg_common.h"
#include "unit.h"

static struct aimd make(void)
{
	struct aimd_config cfg;
	struct aimd a;

	aimd_config_default(&cfg);
	CU_ASSERT_EQUAL_FATAL(aimd_init(&a, &cfg), 0);
	return a;
}

static void test_defaults(void)
{
	struct aimd_config cfg;

	aimd_config_default(&cfg);
	CU_ASSERT(cfg.hi_util == 0.90);
	CU_ASSERT(cfg.lo_util == 0.50);
	CU_ASSERT(cfg.dec_factor == 0.9);
	CU_ASSERT(cfg.inc_factor == 1.1);
	CU_ASSERT(cfg.floor > 0.0 && cfg.floor <= cfg.ceiling);
	CU_ASSERT(cfg.ceiling == 1.0);
	CU_ASSERT_EQUAL(aimd_config_validate(&cfg), 0);
}

/* Validates the defaults with one double field (at byte offset off)
 * replaced by v. */
static int validate_with(size_t off, double v)
{
	struct aimd_config c;

	aimd_config_default(&c);
	memcpy((char *)&c + off, &v, sizeof(v));
	return aimd_config_validate(&c);
}

static void test_validate(void)
{
	static const size_t fields[] = {
		offsetof(struct aimd_config, hi_util),
		offsetof(struct aimd_config, lo_util),
		offsetof(struct aimd_config, dec_factor),
		offsetof(struct aimd_config, inc_factor),
		offsetof(struct aimd_config, floor),
		offsetof(struct aimd_config, ceiling),
	};
	static const double bad[] = { NAN, INFINITY, -INFINITY };
	struct aimd_config c;
	size_t f, i;

	for (f = 0; f < TG_ARRAY_SIZE(fields); f++)
		for (i = 0; i < TG_ARRAY_SIZE(bad); i++)
			CU_ASSERT_EQUAL(validate_with(fields[f], bad[i]),
					-EINVAL);

	/* lo above hi, negative lo */
	CU_ASSERT_EQUAL(validate_with(fields[1], 0.95), -EINVAL);
	CU_ASSERT_EQUAL(validate_with(fields[1], -0.1), -EINVAL);
	/* dec_factor outside (0, 1] */
	CU_ASSERT_EQUAL(validate_with(fields[2], 0.0), -EINVAL);
	CU_ASSERT_EQUAL(validate_with(fields[2], -0.5), -EINVAL);
	CU_ASSERT_EQUAL(validate_with(fields[2], 1.01), -EINVAL);
	/* inc_factor below 1 */
	CU_ASSERT_EQUAL(validate_with(fields[3], 0.99), -EINVAL);
	/* floor not positive, floor above ceiling */
	CU_ASSERT_EQUAL(validate_with(fields[4], 0.0), -EINVAL);
	CU_ASSERT_EQUAL(validate_with(fields[4], -1.0), -EINVAL);
	CU_ASSERT_EQUAL(validate_with(fields[4], 2.0), -EINVAL);
	/* ceiling below floor */
	CU_ASSERT_EQUAL(validate_with(fields[5], 0.001), -EINVAL);

	/* The edges of the ranges are valid. */
	CU_ASSERT_EQUAL(validate_with(fields[2], 1.0), 0);
	CU_ASSERT_EQUAL(validate_with(fields[3], 1.0), 0);
	CU_ASSERT_EQUAL(validate_with(fields[1], 0.9), 0);	/* lo == hi */
	CU_ASSERT_EQUAL(validate_with(fields[1], 0.0), 0);
	CU_ASSERT_EQUAL(validate_with(fields[4], 1.0), 0); /* == ceiling */
	CU_ASSERT_EQUAL(validate_with(fields[0], 1.5), 0); /* hi over 1 */
	aimd_config_default(&c);
	c.lo_util = 0.0;
	c.hi_util = 0.0;
	CU_ASSERT_EQUAL(aimd_config_validate(&c), 0);
}

static void test_init(void)
{
	struct aimd_config cfg;
	struct aimd a = make();

	CU_ASSERT(aimd_rate(&a) == 1.0);
	aimd_config_default(&cfg);
	cfg.floor = 5.0;
	a.rate = 0.25;
	CU_ASSERT_EQUAL(aimd_init(&a, &cfg), -EINVAL);
	CU_ASSERT(a.rate == 0.25);	/* untouched */
	CU_ASSERT(a.cfg.floor == 0.01);
}

static void test_exact_steps(void)
{
	struct aimd a = make();
	double r;

	r = aimd_step(&a, 0.95);
	CU_ASSERT(r == 1.0 * 0.9);
	CU_ASSERT(aimd_rate(&a) == r);
	r = aimd_step(&a, 1.50);		/* over 100% is still a cut */
	CU_ASSERT(r == 1.0 * 0.9 * 0.9);
	r = aimd_step(&a, 0.70);		/* between: hold */
	CU_ASSERT(r == 1.0 * 0.9 * 0.9);
	r = aimd_step(&a, 0.10);
	CU_ASSERT(r == 1.0 * 0.9 * 0.9 * 1.1);
	r = aimd_step(&a, 0.0);
	CU_ASSERT(r == 1.0 * 0.9 * 0.9 * 1.1 * 1.1);
	/* 0.9801 * 1.1 is above the ceiling: clamped to it exactly. */
	r = aimd_step(&a, 0.0);
	CU_ASSERT(r == 1.0);
}

static void test_boundaries(void)
{
	struct aimd a = make();

	/* Strict comparisons: exactly 90% and exactly 50% hold. */
	a.rate = 0.5;
	CU_ASSERT(aimd_step(&a, 0.90) == 0.5);
	CU_ASSERT(aimd_step(&a, 0.50) == 0.5);
	CU_ASSERT(aimd_step(&a, nextafter(0.90, 1.0)) == 0.5 * 0.9);
	a.rate = 0.5;
	CU_ASSERT(aimd_step(&a, nextafter(0.50, 0.0)) == 0.5 * 1.1);
	/* Non-finite utilization is no measurement: hold. */
	a.rate = 0.5;
	CU_ASSERT(aimd_step(&a, NAN) == 0.5);
	CU_ASSERT(aimd_step(&a, INFINITY) == 0.5);
	CU_ASSERT(aimd_step(&a, -INFINITY) == 0.5);
	CU_ASSERT(aimd_rate(&a) == 0.5);
}

static void test_floor_ceiling(void)
{
	struct aimd a = make();
	double prev = aimd_rate(&a), r;
	int i, cuts = 0;

	for (i = 0; i < 1000; i++) {
		r = aimd_step(&a, 0.99);
		CU_ASSERT(r >= 0.01);
		CU_ASSERT(r <= prev);
		if (r < prev)
			cuts++;
		prev = r;
	}
	CU_ASSERT(aimd_rate(&a) == 0.01);
	/* 0.9^43 = 0.0108 > 0.01 > 0.9^44: 43 plain cuts, then one clamped
	 * to the floor, then nothing moves. */
	CU_ASSERT_EQUAL(cuts, 44);
	for (i = 0; i < 1000; i++) {
		r = aimd_step(&a, 0.0);
		CU_ASSERT(r <= 1.0);
		CU_ASSERT(r >= prev);
		prev = r;
	}
	CU_ASSERT(aimd_rate(&a) == 1.0);
}

/* Random utilizations: each step is exactly one of hold, one clamped cut or
 * one clamped raise, chosen by the thresholds; the rate stays in bounds. */
static void test_random_walk(void)
{
	struct aimd_config cfg;
	struct aimd a;
	uint64_t seed = 0x5eed;
	int i;

	aimd_config_default(&cfg);
	cfg.floor = 100.0;		/* an absolute rate, msg/s */
	cfg.ceiling = 250000.0;
	CU_ASSERT_EQUAL_FATAL(aimd_init(&a, &cfg), 0);
	for (i = 0; i < 20000; i++) {
		double u = (double)(unit_rand(&seed) % 1201) / 1000.0;
		double before = aimd_rate(&a), want, r;

		if (u > 0.9)
			want = fmax(before * 0.9, 100.0);
		else if (u < 0.5)
			want = fmin(before * 1.1, 250000.0);
		else
			want = before;
		r = aimd_step(&a, u);
		CU_ASSERT(r == want);
		CU_ASSERT(r >= 100.0 && r <= 250000.0);
	}
}

static void test_set_ceiling(void)
{
	struct aimd a = make();
	int i;

	a.rate = 0.8;
	CU_ASSERT_EQUAL(aimd_set_ceiling(&a, 0.5), 0);
	CU_ASSERT(aimd_rate(&a) == 0.5);		/* clamped down */
	CU_ASSERT(aimd_step(&a, 0.0) == 0.5);	/* and held there */
	CU_ASSERT_EQUAL(aimd_set_ceiling(&a, 2.0), 0);
	CU_ASSERT(aimd_rate(&a) == 0.5);		/* not raised */
	CU_ASSERT(aimd_step(&a, 0.0) == 0.5 * 1.1);
	for (i = 0; i < 100; i++)
		aimd_step(&a, 0.0);
	CU_ASSERT(aimd_rate(&a) == 2.0);

	CU_ASSERT_EQUAL(aimd_set_ceiling(&a, 0.001), -EINVAL); /* < floor */
	CU_ASSERT_EQUAL(aimd_set_ceiling(&a, NAN), -EINVAL);
	CU_ASSERT_EQUAL(aimd_set_ceiling(&a, INFINITY), -EINVAL);
	CU_ASSERT(a.cfg.ceiling == 2.0);
	CU_ASSERT(aimd_rate(&a) == 2.0);
	CU_ASSERT_EQUAL(aimd_set_ceiling(&a, 0.01), 0);	/* == floor */
	CU_ASSERT(aimd_rate(&a) == 0.01);
}

static void test_reset(void)
{
	struct aimd a = make();

	aimd_step(&a, 1.0);
	aimd_step(&a, 1.0);
	CU_ASSERT(aimd_rate(&a) < 1.0);
	aimd_reset(&a);
	CU_ASSERT(aimd_rate(&a) == 1.0);
}

/* A huge ceiling: the raise overflows to +inf and the clamp must catch it. */
static void test_huge_ceiling(void)
{
	struct aimd_config cfg;
	struct aimd a;

	aimd_config_default(&cfg);
	cfg.ceiling = 1.7e308;
	cfg.inc_factor = 10.0;
	CU_ASSERT_EQUAL_FATAL(aimd_init(&a, &cfg), 0);
	a.rate = 1e308;
	CU_ASSERT(aimd_step(&a, 0.0) == 1.7e308);
	CU_ASSERT(isfinite(aimd_rate(&a)));
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("aimd", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "defaults", test_defaults) ||
	    !CU_add_test(s, "validate", test_validate) ||
	    !CU_add_test(s, "init", test_init) ||
	    !CU_add_test(s, "exact steps", test_exact_steps) ||
	    !CU_add_test(s, "boundaries", test_boundaries) ||
	    !CU_add_test(s, "floor and ceiling", test_floor_ceiling) ||
	    !CU_add_test(s, "random walk", test_random_walk) ||
	    !CU_add_test(s, "set ceiling", test_set_ceiling) ||
	    !CU_add_test(s, "reset", test_reset) ||
	    !CU_add_test(s, "huge ceiling", test_huge_ceiling))
		return CU_get_error();
	return CUE_SUCCESS;
}
