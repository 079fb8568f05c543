/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the credit ledger (lib/credit.c): the unmetered state,
 * grants and all-or-nothing consumption, the fraction left and the blocking
 * threshold, ring-driven windows through credit_set(), saturation at
 * UINT64_MAX, and a random sequence checked against a 128-bit model.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "credit.h"
#include "tg_common.h"
#include "unit.h"

static void test_unmetered(void)
{
	struct credit c = { 0, 0 };

	CU_ASSERT(!credit_metered(&c));
	CU_ASSERT(credit_fraction_left(&c) == 1.0);
	CU_ASSERT(!credit_blocked(&c, 0.10));
	CU_ASSERT(!credit_blocked(&c, 2.0));	/* whatever the threshold */
	CU_ASSERT(credit_consume(&c, 1000));	/* no credit control */
	CU_ASSERT_EQUAL(credit_available(&c), 0);
	CU_ASSERT(!credit_metered(&c));
	credit_grant(&c, 0);			/* a zero grant: still so */
	CU_ASSERT(!credit_metered(&c));
}

static void test_grant_consume(void)
{
	struct credit c;

	credit_reset(&c);
	credit_grant(&c, 100);
	CU_ASSERT(credit_metered(&c));
	CU_ASSERT_EQUAL(credit_available(&c), 100);
	CU_ASSERT(credit_fraction_left(&c) == 1.0);
	CU_ASSERT(credit_consume(&c, 30));
	CU_ASSERT_EQUAL(credit_available(&c), 70);
	CU_ASSERT(credit_fraction_left(&c) == 0.7);
	/* All or nothing. */
	CU_ASSERT(!credit_consume(&c, 71));
	CU_ASSERT_EQUAL(credit_available(&c), 70);
	CU_ASSERT(credit_consume(&c, 70));
	CU_ASSERT_EQUAL(credit_available(&c), 0);
	CU_ASSERT(credit_fraction_left(&c) == 0.0);
	CU_ASSERT(!credit_consume(&c, 1));
	CU_ASSERT(credit_consume(&c, 0));	/* zero always fits */
	/* A new grant adds to the window's total too. */
	credit_grant(&c, 100);
	CU_ASSERT_EQUAL(credit_available(&c), 100);
	CU_ASSERT_EQUAL(c.granted, 200);
	CU_ASSERT(credit_fraction_left(&c) == 0.5);
	/* Reset: back to unmetered. */
	credit_reset(&c);
	CU_ASSERT(!credit_metered(&c));
	CU_ASSERT_EQUAL(credit_available(&c), 0);
	CU_ASSERT(credit_fraction_left(&c) == 1.0);
}

static void test_blocked(void)
{
	struct credit c;
	int i;

	credit_reset(&c);
	credit_grant(&c, 1000);
	/* Default rule: < 10% left blocks; exactly 10% does not. */
	for (i = 0; i < 900; i++)
		CU_ASSERT(credit_consume(&c, 1));
	CU_ASSERT_EQUAL(credit_available(&c), 100);
	CU_ASSERT(!credit_blocked(&c, 0.10));
	CU_ASSERT(credit_consume(&c, 1));
	CU_ASSERT(credit_blocked(&c, 0.10));
	/* Other thresholds. */
	CU_ASSERT(!credit_blocked(&c, 0.0));
	CU_ASSERT(credit_blocked(&c, 1.0));
	CU_ASSERT(!credit_blocked(&c, NAN));
	/* A grant unblocks. */
	credit_grant(&c, 200);	/* 299 of 1200 */
	CU_ASSERT(!credit_blocked(&c, 0.10));
	/* Empty: blocked for any positive threshold. */
	CU_ASSERT(credit_consume(&c, 299));
	CU_ASSERT(credit_blocked(&c, 1e-12));
	CU_ASSERT(!credit_blocked(&c, 0.0));
}

/* Credits from an egress ring: available = free slots, capacity = size. */
static void test_set(void)
{
	struct credit c;

	credit_reset(&c);
	CU_ASSERT_EQUAL(credit_set(&c, 1024, 1024), 0);
	CU_ASSERT(credit_fraction_left(&c) == 1.0);
	CU_ASSERT_EQUAL(credit_set(&c, 50, 1024), 0);
	CU_ASSERT(credit_blocked(&c, 0.10));		/* 4.9% free */
	CU_ASSERT(credit_consume(&c, 50));
	CU_ASSERT(!credit_consume(&c, 1));
	CU_ASSERT_EQUAL(credit_set(&c, 512, 1024), 0);
	CU_ASSERT(credit_fraction_left(&c) == 0.5);
	CU_ASSERT(!credit_blocked(&c, 0.10));
	/* Free space above the capacity is a caller bug: refused. */
	CU_ASSERT_EQUAL(credit_set(&c, 1025, 1024), -EINVAL);
	CU_ASSERT_EQUAL(credit_available(&c), 512);
	CU_ASSERT_EQUAL(c.granted, 1024);
	/* Capacity 0: no credit control. */
	CU_ASSERT_EQUAL(credit_set(&c, 0, 0), 0);
	CU_ASSERT(!credit_metered(&c));
	CU_ASSERT(!credit_blocked(&c, 0.10));
	/* A full ring: metered, nothing available. */
	CU_ASSERT_EQUAL(credit_set(&c, 0, 1024), 0);
	CU_ASSERT(credit_metered(&c));
	CU_ASSERT(credit_blocked(&c, 0.10));
	CU_ASSERT(!credit_consume(&c, 1));
}

static void test_saturation(void)
{
	struct credit c;

	credit_reset(&c);
	credit_grant(&c, UINT64_MAX - 5);
	credit_grant(&c, 10);
	CU_ASSERT_EQUAL(credit_available(&c), UINT64_MAX);
	CU_ASSERT_EQUAL(c.granted, UINT64_MAX);
	credit_grant(&c, UINT64_MAX);
	CU_ASSERT_EQUAL(credit_available(&c), UINT64_MAX);
	CU_ASSERT(credit_fraction_left(&c) == 1.0);
	CU_ASSERT(credit_consume(&c, UINT64_MAX));
	CU_ASSERT_EQUAL(credit_available(&c), 0);
	CU_ASSERT(credit_fraction_left(&c) == 0.0);
	/* Saturating the total while some was consumed: available stays
	 * below the total. */
	credit_grant(&c, UINT64_MAX / 2);
	CU_ASSERT_EQUAL(credit_available(&c), UINT64_MAX / 2);
	CU_ASSERT_EQUAL(c.granted, UINT64_MAX);
	CU_ASSERT(credit_fraction_left(&c) == 0.5);
	CU_ASSERT_EQUAL(credit_set(&c, UINT64_MAX, UINT64_MAX), 0);
	CU_ASSERT(credit_consume(&c, UINT64_MAX - 1));
	CU_ASSERT_EQUAL(credit_available(&c), 1);
	CU_ASSERT(credit_fraction_left(&c) > 0.0);
	CU_ASSERT(credit_fraction_left(&c) < 1e-18);
}

/* Random grants, sets and consumptions against a 128-bit model. */
static void test_random(void)
{
	struct credit c;
	uint64_t seed = 0xc4ed17;
	tg_u128 avail = 0, granted = 0;
	int i;

	credit_reset(&c);
	for (i = 0; i < 50000; i++) {
		uint64_t r = unit_rand(&seed);
		uint64_t n = unit_rand(&seed) >> (r % 64);
		bool ok;

		switch ((r >> 8) % 8) {
		case 0:
			credit_grant(&c, n);
			avail += n;
			granted += n;
			if (avail > UINT64_MAX)
				avail = UINT64_MAX;
			if (granted > UINT64_MAX)
				granted = UINT64_MAX;
			break;
		case 1:
			if ((r >> 16) % 16 == 0) {
				credit_reset(&c);
				avail = granted = 0;
				break;
			}
			CU_ASSERT_EQUAL(credit_set(&c, n / 2, n), 0);
			avail = n / 2;
			granted = n;
			break;
		default:
			ok = credit_consume(&c, n);
			if (granted == 0) {
				CU_ASSERT(ok);
			} else if (n <= avail) {
				CU_ASSERT(ok);
				avail -= n;
			} else {
				CU_ASSERT(!ok);
			}
			break;
		}
		CU_ASSERT(c.available == avail && c.granted == granted);
		CU_ASSERT(c.available <= c.granted);
		CU_ASSERT(credit_fraction_left(&c) >= 0.0 &&
			  credit_fraction_left(&c) <= 1.0);
		CU_ASSERT(credit_blocked(&c, 0.10) ==
			  (granted != 0 &&
			   (double)avail / (double)granted < 0.10));
	}
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("credit", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "unmetered", test_unmetered) ||
	    !CU_add_test(s, "grant and consume", test_grant_consume) ||
	    !CU_add_test(s, "blocked", test_blocked) ||
	    !CU_add_test(s, "set from a ring", test_set) ||
	    !CU_add_test(s, "saturation", test_saturation) ||
	    !CU_add_test(s, "random", test_random))
		return CU_get_error();
	return CUE_SUCCESS;
}
