/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the max-min fair allocator (lib/alloc.c): hand-computed
 * cases, values near UINT64_MAX, a brute-force reference (one unit at a
 * time to the poorest party) on small random inputs, the invariants of
 * alloc.h on many random inputs of every magnitude, independence from the
 * order of the parties, and the double-rate wrapper's exact sums.
 *
 * The invariants checked on every random input (n >= 1, total T, floor sum
 * F, hi[i] = max(d[i], f[i])):
 *  I1 sum(out) == T, exactly;
 *  I2 out[i] >= min(f[i], T / n);
 *  I3 if F <= T: out[i] >= f[i];
 *     if F > T:  out[i] <= f[i], and out[i] < f[i] implies
 *                out[j] <= out[i] + 1 for every j;
 *  I4 if F <= T and some i has out[i] < d[i]: for every j,
 *     out[j] <= hi[j] and out[j] <= max(out[i] + 1, f[j]);
 *  I5 if F <= T and every demand is met: out[j] - hi[j] is q or q + 1
 *     with q = (T - sum hi) / n, the q + 1 going to the first
 *     (T - sum hi) % n parties;
 *  I6 permuting the parties changes any party's share by at most 1.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "tg_common.h"
#include "unit.h"

#define MAXN 48
#define U64MAX UINT64_MAX

/* --- hand-computed cases ------------------------------------------------ */

static void check(uint64_t total, const uint64_t *d, const uint64_t *f,
		  size_t n, const uint64_t *want)
{
	uint64_t out[MAXN];
	size_t i;

	memset(out, 0xa5, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(alloc_maxmin(total, d, f, n, out), 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(out[i], want[i]);
}

static void test_basic(void)
{
	/* The textbook case: 10 is met, the others share the rest. */
	check(100, (uint64_t[]){ 10, 50, 80 }, NULL, 3,
	      (uint64_t[]){ 10, 45, 45 });
	/* Demand below the fair share, exactly at it, above it. */
	check(90, (uint64_t[]){ 20, 30, 60 }, NULL, 3,
	      (uint64_t[]){ 20, 30, 40 });
	check(90, (uint64_t[]){ 20, 40, 60 }, NULL, 3,
	      (uint64_t[]){ 20, 35, 35 });
	check(90, (uint64_t[]){ 30, 30, 30 }, NULL, 3,
	      (uint64_t[]){ 30, 30, 30 });
	/* Remainders: one unit each to the first parties below demand. */
	check(10, (uint64_t[]){ 5, 5, 5 }, NULL, 3,
	      (uint64_t[]){ 4, 3, 3 });
	check(11, (uint64_t[]){ 1, 5, 5, 5 }, NULL, 4,
	      (uint64_t[]){ 1, 4, 3, 3 });
	check(11, (uint64_t[]){ 9, 1, 9, 9 }, NULL, 4,
	      (uint64_t[]){ 4, 1, 3, 3 });
	/* total 0. */
	check(0, (uint64_t[]){ 5, 0, 7 }, NULL, 3, (uint64_t[]){ 0, 0, 0 });
}

static void test_leftover(void)
{
	/* All demands met: 40 left, 13 each and the extra unit first. */
	check(100, (uint64_t[]){ 10, 20, 30 }, NULL, 3,
	      (uint64_t[]){ 24, 33, 43 });
	/* Nobody wants anything: an even split. */
	check(100, (uint64_t[]){ 0, 0, 0 }, NULL, 3,
	      (uint64_t[]){ 34, 33, 33 });
	/* Exactly met: nothing to spread. */
	check(60, (uint64_t[]){ 10, 20, 30 }, NULL, 3,
	      (uint64_t[]){ 10, 20, 30 });
	/* One party gets everything, whatever its demand. */
	check(100, (uint64_t[]){ 5 }, NULL, 1, (uint64_t[]){ 100 });
	check(100, (uint64_t[]){ 500 }, NULL, 1, (uint64_t[]){ 100 });
	check(100, (uint64_t[]){ 5 }, (uint64_t[]){ 300 }, 1,
	      (uint64_t[]){ 100 });
}

static void test_floors(void)
{
	/* Floors below the level change nothing. */
	check(100, (uint64_t[]){ 10, 50, 80 }, (uint64_t[]){ 1, 1, 1 }, 3,
	      (uint64_t[]){ 10, 45, 45 });
	/* A floor above the level: that party sits at its floor and the
	 * level drops for the others. */
	check(100, (uint64_t[]){ 10, 50, 80 }, (uint64_t[]){ 20, 0, 0 }, 3,
	      (uint64_t[]){ 20, 40, 40 });
	/* An idle party (demand 0) still gets its floor. */
	check(100, (uint64_t[]){ 0, 200 }, (uint64_t[]){ 5, 5 }, 2,
	      (uint64_t[]){ 5, 95 });
	/* A floor above the demand counts as the demand when spreading. */
	check(100, (uint64_t[]){ 0, 10 }, (uint64_t[]){ 30, 0 }, 2,
	      (uint64_t[]){ 60, 40 });
	/* Floors that exactly fit. */
	check(30, (uint64_t[]){ 99, 99, 99 }, (uint64_t[]){ 10, 10, 10 }, 3,
	      (uint64_t[]){ 10, 10, 10 });
}

static void test_floors_exceed(void)
{
	/* Floors sum to 18 > 10: water-filled over the floors. */
	check(10, (uint64_t[]){ 100, 100, 100 }, (uint64_t[]){ 6, 6, 6 }, 3,
	      (uint64_t[]){ 4, 3, 3 });
	check(10, (uint64_t[]){ 0, 0, 0 }, (uint64_t[]){ 2, 8, 8 }, 3,
	      (uint64_t[]){ 2, 4, 4 });
	/* Demand plays no part then. */
	check(10, (uint64_t[]){ 0, 1000, 0 }, (uint64_t[]){ 2, 8, 8 }, 3,
	      (uint64_t[]){ 2, 4, 4 });
	check(0, (uint64_t[]){ 1, 2, 3 }, (uint64_t[]){ 1, 1, 1 }, 3,
	      (uint64_t[]){ 0, 0, 0 });
	check(2, (uint64_t[]){ 1, 2, 3 }, (uint64_t[]){ 1, 1, 1 }, 3,
	      (uint64_t[]){ 1, 1, 0 });
}

static void test_edge_args(void)
{
	uint64_t d[2] = { 1, 2 }, out[2] = { 7, 7 };

	/* n == 0: nothing to do, nothing written, NULLs allowed. */
	CU_ASSERT_EQUAL(alloc_maxmin(100, NULL, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(alloc_maxmin(100, d, NULL, 0, out), 0);
	CU_ASSERT_EQUAL(out[0], 7);
	CU_ASSERT_EQUAL(alloc_maxmin(100, NULL, NULL, 2, out), -EINVAL);
	CU_ASSERT_EQUAL(alloc_maxmin(100, d, NULL, 2, NULL), -EINVAL);
	CU_ASSERT_EQUAL(out[0], 7);
}

static void test_u64_max(void)
{
	const uint64_t h = U64MAX / 2; /* 2^63 - 1 */
	const uint64_t t = U64MAX / 3; /* 0x5555...5, 3t == U64MAX */

	check(U64MAX, (uint64_t[]){ U64MAX, U64MAX }, NULL, 2,
	      (uint64_t[]){ h + 1, h });
	check(U64MAX, (uint64_t[]){ U64MAX, U64MAX, U64MAX },
	      (uint64_t[]){ U64MAX, U64MAX, U64MAX }, 3,
	      (uint64_t[]){ t, t, t });
	/* The demands sum past 2^64. */
	check(U64MAX, (uint64_t[]){ 1, U64MAX - 1, 5 }, NULL, 3,
	      (uint64_t[]){ 1, U64MAX - 6, 5 });
	/* Leftover spread near the top: demand + share must not wrap. */
	check(U64MAX, (uint64_t[]){ 1, 2 }, NULL, 2,
	      (uint64_t[]){ 1 + (U64MAX - 3) / 2, 2 + (U64MAX - 3) / 2 });
	check(U64MAX, (uint64_t[]){ 1, 3 }, NULL, 2,
	      (uint64_t[]){ 1 + (U64MAX - 4) / 2 + 1, 3 + (U64MAX - 4) / 2 });
	/* A floor of everything. */
	check(U64MAX, (uint64_t[]){ U64MAX, 0 }, (uint64_t[]){ 0, U64MAX }, 2,
	      (uint64_t[]){ 0, U64MAX });
	/* Floors summing past 2^64 with a small total. */
	check(7, (uint64_t[]){ 0, 0 }, (uint64_t[]){ U64MAX, U64MAX }, 2,
	      (uint64_t[]){ 4, 3 });
	check(U64MAX - 1, (uint64_t[]){ U64MAX, U64MAX, 3 }, NULL, 3,
	      (uint64_t[]){ (U64MAX - 4) / 2 + 1, (U64MAX - 4) / 2, 3 });
}

/* --- brute-force reference ---------------------------------------------- */

/* One unit at a time to the party with the least among those below the top
 * of their band, lowest index first; then the even spread. Slow (O(T n)),
 * obviously right, and, by construction, the order alloc.h promises. */
static void ref_alloc(uint64_t total, const uint64_t *d, const uint64_t *f,
		      size_t n, uint64_t *out)
{
	uint64_t lo[MAXN], hi[MAXN], fsum = 0, left;
	size_t i, best;

	for (i = 0; i < n; i++)
		fsum += f ? f[i] : 0;
	for (i = 0; i < n; i++) {
		uint64_t fi = f ? f[i] : 0;

		lo[i] = fsum > total ? 0 : fi;
		hi[i] = fsum > total ? fi : (d[i] > fi ? d[i] : fi);
		out[i] = lo[i];
	}
	left = fsum > total ? total : total - fsum;
	while (left > 0) {
		best = n;
		for (i = 0; i < n; i++)
			if (out[i] < hi[i] && (best == n || out[i] < out[best]))
				best = i;
		if (best == n)
			break;
		out[best]++;
		left--;
	}
	for (i = 0; i < n; i++)
		out[i] += left / n + (i < left % n ? 1 : 0);
}

static uint64_t small(uint64_t *seed, uint64_t max)
{
	return unit_rand(seed) % (max + 1);
}

static void test_reference(void)
{
	uint64_t seed = 0xa110c, d[MAXN], f[MAXN], out[MAXN], ref[MAXN];
	int iter;

	for (iter = 0; iter < 5000; iter++) {
		size_t n = 1 + small(&seed, 11), i;
		uint64_t total = small(&seed, 300);
		uint64_t dmax = small(&seed, 3) == 0 ? 5 : 120;
		bool floors = small(&seed, 2) != 0;

		for (i = 0; i < n; i++) {
			d[i] = small(&seed, dmax);
			f[i] = small(&seed, 3) == 0 ? small(&seed, 60) :
						       small(&seed, 4);
		}
		CU_ASSERT_EQUAL_FATAL(alloc_maxmin(total, d,
						   floors ? f : NULL, n, out),
				      0);
		ref_alloc(total, d, floors ? f : NULL, n, ref);
		CU_ASSERT(memcmp(out, ref, n * sizeof(out[0])) == 0);
	}
}

/* --- invariants on random inputs of every size --------------------------- */

/* A value of a randomly chosen magnitude class. */
static uint64_t any_value(uint64_t *seed)
{
	uint64_t v;

	switch (unit_rand(seed) % 7) {
	case 0:
		return 0;
	case 1:
		return small(seed, 20);
	case 2:
		return small(seed, 1000000);
	case 3:
		return U64MAX - small(seed, 20);
	case 4:
		/* Two draws in one expression would be unsequenced. */
		v = unit_rand(seed);
		return v >> small(seed, 63);
	case 5:
		return U64MAX / (1 + small(seed, 50));
	default:
		return unit_rand(seed);
	}
}

static void check_invariants(uint64_t total, const uint64_t *d,
			     const uint64_t *f, size_t n, const uint64_t *out)
{
	tg_u128 sum = 0, fsum = 0, hsum = 0;
	uint64_t hi[MAXN], fi[MAXN], left, q, r;
	bool all_met = true;
	size_t i, j;

	for (i = 0; i < n; i++) {
		fi[i] = f ? f[i] : 0;
		hi[i] = d[i] > fi[i] ? d[i] : fi[i];
		sum += out[i];
		fsum += fi[i];
		hsum += hi[i];
		if (out[i] < d[i])
			all_met = false;
	}
	/* I1 */
	CU_ASSERT(sum == total);
	/* I2 */
	for (i = 0; i < n; i++) {
		uint64_t even = total / n;

		CU_ASSERT(out[i] >= (fi[i] < even ? fi[i] : even));
	}
	/* I3 */
	if (fsum > total) {
		for (i = 0; i < n; i++) {
			CU_ASSERT(out[i] <= fi[i]);
			if (out[i] >= fi[i])
				continue;
			for (j = 0; j < n; j++)
				CU_ASSERT(out[j] - 1 <= out[i] ||
					  out[j] == 0);
		}
		return;
	}
	for (i = 0; i < n; i++)
		CU_ASSERT(out[i] >= fi[i]);
	/* I4 */
	if (!all_met) {
		for (i = 0; i < n; i++) {
			if (out[i] >= d[i])
				continue;
			for (j = 0; j < n; j++) {
				CU_ASSERT(out[j] <= hi[j]);
				CU_ASSERT(out[j] <= fi[j] ||
					  out[j] - 1 <= out[i]);
			}
		}
		return;
	}
	/* I5: everyone met, so sum hi <= sum out == total. */
	CU_ASSERT_FATAL(hsum <= total);
	left = (uint64_t)(total - hsum);
	q = left / n;
	r = left % n;
	for (i = 0; i < n; i++)
		CU_ASSERT(out[i] - hi[i] == q + (i < r ? 1 : 0));
}

static void test_random_invariants(void)
{
	uint64_t seed = 0xfa1e, d[MAXN], f[MAXN], out[MAXN];
	uint64_t pd[MAXN], pf[MAXN], pout[MAXN];
	size_t perm[MAXN];
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		size_t n = 1 + small(&seed, MAXN - 1), i, k;
		bool floors = small(&seed, 3) != 0;
		uint64_t total = any_value(&seed);

		for (i = 0; i < n; i++) {
			d[i] = any_value(&seed);
			/* Floors mostly small, as configured in practice,
			 * sometimes of any size. */
			f[i] = small(&seed, 3) ? small(&seed, 100)
					       : any_value(&seed);
		}
		CU_ASSERT_EQUAL_FATAL(alloc_maxmin(total, d,
						   floors ? f : NULL, n, out),
				      0);
		check_invariants(total, d, floors ? f : NULL, n, out);

		/* I6: the same parties in another order. */
		for (i = 0; i < n; i++)
			perm[i] = i;
		for (i = n - 1; i > 0; i--) {
			size_t j = small(&seed, i), t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (k = 0; k < n; k++) {
			pd[k] = d[perm[k]];
			pf[k] = f[perm[k]];
		}
		CU_ASSERT_EQUAL_FATAL(alloc_maxmin(total, pd,
						   floors ? pf : NULL, n,
						   pout),
				      0);
		for (k = 0; k < n; k++) {
			uint64_t a = pout[k], b = out[perm[k]];

			CU_ASSERT((a > b ? a - b : b - a) <= 1);
		}
	}
}

/* Many parties, as for a cluster or a many-core box: still exact. */
static void test_many_parties(void)
{
	static uint64_t d[4096], f[4096], out[4096];
	uint64_t seed = 42;
	tg_u128 sum = 0;
	size_t i, n = TG_ARRAY_SIZE(d);

	for (i = 0; i < n; i++) {
		d[i] = small(&seed, 5000000);
		f[i] = 100;
	}
	CU_ASSERT_EQUAL_FATAL(alloc_maxmin(1000000000, d, f, n, out), 0);
	for (i = 0; i < n; i++)
		sum += out[i];
	CU_ASSERT(sum == 1000000000);
	for (i = 0; i < n; i++)
		CU_ASSERT(out[i] >= 100);
}

/* --- double rates --------------------------------------------------------- */

static void test_rates_basic(void)
{
	double d[3] = { 10.0, 50.0, 80.0 }, out[3];
	double z[3] = { 0.0, 0.0, 0.0 };

	CU_ASSERT_EQUAL(alloc_maxmin_rates(100.0, d, 0.0, 3, out), 0);
	CU_ASSERT(out[0] == 10.0 && out[1] == 45.0 && out[2] == 45.0);
	CU_ASSERT_EQUAL(alloc_maxmin_rates(100.0, d, 30.0, 3, out), 0);
	CU_ASSERT(out[0] == 30.0 && out[1] == 35.0 && out[2] == 35.0);
	/* Floors over the total: even split of the total. */
	CU_ASSERT_EQUAL(alloc_maxmin_rates(60.0, d, 30.0, 3, out), 0);
	CU_ASSERT(out[0] == 20.0 && out[1] == 20.0 && out[2] == 20.0);
	CU_ASSERT_EQUAL(alloc_maxmin_rates(0.0, d, 1.0, 3, out), 0);
	CU_ASSERT(out[0] == 0.0 && out[1] == 0.0 && out[2] == 0.0);
	/* The emergency floors of DESIGN.md: 0.5/s over 3 cores. */
	CU_ASSERT_EQUAL(alloc_maxmin_rates(0.5, z, 0.0, 3, out), 0);
	CU_ASSERT(out[0] + out[1] + out[2] == 0.5);
	CU_ASSERT(out[0] >= out[1] && out[1] >= out[2]);
	CU_ASSERT(out[0] - out[2] <= 0.5 / 4503599627370496.0);
}

static void test_rates_invalid(void)
{
	double d[2] = { 1.0, 2.0 }, out[2] = { 7.0, 7.0 };
	double bad[] = { -1.0, NAN, INFINITY, -INFINITY };
	size_t i;

	CU_ASSERT_EQUAL(alloc_maxmin_rates(1.0, NULL, 0.0, 0, NULL), 0);
	CU_ASSERT_EQUAL(alloc_maxmin_rates(1.0, NULL, 0.0, 2, out), -EINVAL);
	CU_ASSERT_EQUAL(alloc_maxmin_rates(1.0, d, 0.0, 2, NULL), -EINVAL);
	for (i = 0; i < TG_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(alloc_maxmin_rates(bad[i], d, 0.0, 2, out),
				-EINVAL);
		CU_ASSERT_EQUAL(alloc_maxmin_rates(1.0, d, bad[i], 2, out),
				-EINVAL);
		d[1] = bad[i];
		CU_ASSERT_EQUAL(alloc_maxmin_rates(1.0, d, 0.0, 2, out),
				-EINVAL);
		d[1] = 2.0;
	}
	CU_ASSERT(out[0] == 7.0 && out[1] == 7.0);
}

static double any_rate(uint64_t *seed)
{
	uint64_t v;

	switch (unit_rand(seed) % 6) {
	case 0:
		return 0.0;
	case 1:
		return (double)small(seed, 100) / 10.0;
	case 2:
		v = unit_rand(seed) >> 11;
		return ldexp((double)v, (int)small(seed, 100) - 80);
	case 3:
		return (double)unit_rand(seed);
	case 4:
		return 1e300 * (double)small(seed, 100);
	default:
		return 5e-324 * (double)small(seed, 1000);
	}
}

/* Whatever the magnitudes, out[] sums to total exactly, in any order of
 * summation, every out[i] is >= 0, and demands that fit are met. */
static void test_rates_random(void)
{
	uint64_t seed = 0xd0b1e;
	double d[MAXN], out[MAXN];
	int iter;

	for (iter = 0; iter < 20000; iter++) {
		size_t n = 1 + small(&seed, MAXN - 1), i;
		double total = any_rate(&seed), fl = 0.0;
		double fwd = 0.0, back = 0.0, dsum = 0.0;

		if (small(&seed, 3) == 0)
			fl = any_rate(&seed);
		for (i = 0; i < n; i++) {
			d[i] = any_rate(&seed);
			dsum += d[i];
		}
		CU_ASSERT_EQUAL_FATAL(alloc_maxmin_rates(total, d, fl, n, out),
				      0);
		for (i = 0; i < n; i++) {
			CU_ASSERT(out[i] >= 0.0);
			fwd += out[i];
			back += out[n - 1 - i];
		}
		CU_ASSERT(fwd == total);
		CU_ASSERT(back == total);
		/* Demands and floors that fit together are met. */
		if (dsum + fl * (double)n <= total * 0.999)
			for (i = 0; i < n; i++)
				CU_ASSERT(out[i] >= d[i] && out[i] >= fl);
	}
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("alloc", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "basic", test_basic) ||
	    !CU_add_test(s, "leftover spread", test_leftover) ||
	    !CU_add_test(s, "floors", test_floors) ||
	    !CU_add_test(s, "floors exceed total", test_floors_exceed) ||
	    !CU_add_test(s, "edge arguments", test_edge_args) ||
	    !CU_add_test(s, "near UINT64_MAX", test_u64_max) ||
	    !CU_add_test(s, "brute-force reference", test_reference) ||
	    !CU_add_test(s, "random invariants", test_random_invariants) ||
	    !CU_add_test(s, "many parties", test_many_parties) ||
	    !CU_add_test(s, "rates basic", test_rates_basic) ||
	    !CU_add_test(s, "rates invalid", test_rates_invalid) ||
	    !CU_add_test(s, "rates random", test_rates_random))
		return CU_get_error();
	return CUE_SUCCESS;
}
