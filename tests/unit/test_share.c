/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of a node's share of a shared bucket (lib/share.c), with a
 * fake clock: the split over live nodes (max-min, headroom, floors, the
 * shares of one set of records adding up to the rate exactly), nodes
 * expiring after a lease, joining, holding the last share, each outage
 * policy, and the way back.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "share.h"
#include "unit.h"

#define MS 1000000ull

static const struct share_config cfg0 = {
	.lease_ns = 1000 * MS,
	.fresh_ns = 300 * MS,
	.headroom = 1.0,
	.floor_frac = 0.01,
	.outage = CFG_OUTAGE_STATIC,
	.rate_min = 1e-3,
	.rate_max = 0x1p40,
};

/* A view of n nodes with the given demands (per second), all seen at
 * `seen`, node `self` being this one. */
static void view(struct share_peer *p, const double *demand, unsigned n,
		 unsigned self, uint64_t seen)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		p[i].demand_milli = (uint64_t)llround(demand[i] * 1000);
		p[i].seen_ns = seen;
		p[i].self = i == self;
	}
}

static double step(struct share_node *s, const struct share_config *c,
		   double rate, const struct share_peer *p, unsigned n,
		   uint64_t own, uint64_t listen, uint64_t now)
{
	struct share_input in = { rate, p, n, own, listen, now };

	return share_step(s, c, &in);
}

static void test_split_sums_exactly(void)
{
	static const double demand[][4] = {
		{ 1e9, 1e9, 1e9, 0 },	 /* all saturated: equal */
		{ 100, 100, 1e9, 0 },	 /* max-min */
		{ 0, 0, 0, 0 },		 /* idle: floors, leftover equal */
		{ 5, 2999.5, 7, 1e6 },	 /* mixed */
		{ 0.001, 1e12, 3, 3 },	 /* extremes */
	};
	static const double rates[] = { 3000, 1, 0.5, 1e6, 123456.789 };
	struct share_peer p[4];
	unsigned d, r, self, n;

	for (d = 0; d < 5; d++)
		for (r = 0; r < 5; r++) {
			n = demand[d][3] == 0 && d < 3 ? 3 : 4;
			double sum = 0;

			for (self = 0; self < n; self++) {
				struct share_node s;

				share_init(&s, 0);
				view(p, demand[d], n, self, 10 * MS);
				sum += step(&s, &cfg0, rates[r], p, n, 10 * MS,
					    1, 20 * MS);
				CU_ASSERT_EQUAL(s.state, SHARE_SYNCED);
				CU_ASSERT_EQUAL(s.live, n);
			}
			/* one set of records: the parts make the rate */
			CU_ASSERT_DOUBLE_EQUAL(sum, rates[r], rates[r] * 1e-12);
		}
}

static void test_maxmin(void)
{
	static const double demand[] = { 100, 100, 1e9 };
	struct share_peer p[3];
	struct share_node s;
	double got[3];
	unsigned self;

	for (self = 0; self < 3; self++) {
		share_init(&s, 0);
		view(p, demand, 3, self, 0);
		got[self] = step(&s, &cfg0, 3000, p, 3, 1, 1, 2);
	}
	CU_ASSERT_DOUBLE_EQUAL(got[0], 100, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(got[1], 100, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(got[2], 2800, 1e-6);

	/* headroom: the light nodes claim 10% more */
	{
		struct share_config c = cfg0;

		c.headroom = 1.1;
		share_init(&s, 0);
		view(p, demand, 3, 0, 0);
		CU_ASSERT_DOUBLE_EQUAL(step(&s, &c, 3000, p, 3, 1, 1, 2), 110,
				       1e-6);
	}
	/* floors: an idle node keeps 1% of an equal part */
	{
		static const double d2[] = { 0, 1e9, 1e9 };

		share_init(&s, 0);
		view(p, d2, 3, 0, 0);
		CU_ASSERT_DOUBLE_EQUAL(step(&s, &cfg0, 3000, p, 3, 1, 1, 2),
				       10, 1e-6);
	}
}

static void test_expiry(void)
{
	static const double demand[] = { 1e9, 1e9, 1e9 };
	struct share_peer p[3];
	struct share_node s;
	uint64_t now = 5000 * MS;
	double r;

	share_init(&s, 0);
	view(p, demand, 3, 0, now - 10 * MS);
	r = step(&s, &cfg0, 3000, p, 3, now - 10 * MS, 1, now);
	CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
	/* node 2 silent for exactly a lease: gone */
	p[2].seen_ns = now - cfg0.lease_ns;
	r = step(&s, &cfg0, 3000, p, 3, now - 10 * MS, 1, now);
	CU_ASSERT_DOUBLE_EQUAL(r, 1500, 1e-6);
	CU_ASSERT_EQUAL(s.live, 2);
	/* a hair less: still there */
	p[2].seen_ns = now - cfg0.lease_ns + 1;
	r = step(&s, &cfg0, 3000, p, 3, now - 10 * MS, 1, now);
	CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
	/* this node is live whatever its entry's age */
	p[0].seen_ns = 0;
	r = step(&s, &cfg0, 3000, p, 3, now - 10 * MS, 1, now);
	CU_ASSERT_EQUAL(s.live, 3);
}

static void test_joining(void)
{
	static const double demand[] = { 1e9, 1e9 };
	struct share_peer p[2];
	struct share_node s;
	double r;

	share_init(&s, 0);
	CU_ASSERT_EQUAL(s.state, SHARE_JOINING);
	/* not even listening (Kafka away at start): the policy, and with
	 * no node count known, static means the whole rate */
	view(p, demand, 1, 0, 0);
	r = step(&s, &cfg0, 3000, p, 1, 0, 0, 100 * MS);
	CU_ASSERT_EQUAL(s.state, SHARE_OUTAGE);
	CU_ASSERT_DOUBLE_EQUAL(r, 3000, 1e-6);

	/* the same with the expected node count configured */
	share_init(&s, 4);
	r = step(&s, &cfg0, 3000, p, 1, 0, 0, 100 * MS);
	CU_ASSERT_EQUAL(s.state, SHARE_OUTAGE);
	CU_ASSERT_DOUBLE_EQUAL(r, 750, 1e-6);

	/* listening, nothing of ours back yet: the nodes heard so far */
	share_init(&s, 0);
	view(p, demand, 2, 1, 50 * MS);
	r = step(&s, &cfg0, 3000, p, 2, 0, 10 * MS, 60 * MS);
	CU_ASSERT_EQUAL(s.state, SHARE_JOINING);
	CU_ASSERT_DOUBLE_EQUAL(r, 1500, 1e-6);
	/* ours back: synced */
	r = step(&s, &cfg0, 3000, p, 2, 70 * MS, 10 * MS, 80 * MS);
	CU_ASSERT_EQUAL(s.state, SHARE_SYNCED);
	/* joining never lasts past a lease of listening */
	share_init(&s, 0);
	r = step(&s, &cfg0, 3000, p, 2, 0, 10 * MS, 10 * MS + cfg0.lease_ns);
	CU_ASSERT_EQUAL(s.state, SHARE_OUTAGE);
}

static void test_hold_then_policy(void)
{
	static const double demand[] = { 1e9, 1e9, 1e9 };
	static const enum cfg_outage pol[] = { CFG_OUTAGE_STATIC,
					       CFG_OUTAGE_OPEN,
					       CFG_OUTAGE_CLOSED };
	struct share_peer p[3];
	unsigned k;

	for (k = 0; k < 3; k++) {
		struct share_config c = cfg0;
		struct share_node s;
		uint64_t t = 10000 * MS, own = t - 5 * MS;
		double r;

		c.outage = pol[k];
		share_init(&s, 0);
		view(p, demand, 3, 0, own);
		r = step(&s, &c, 3000, p, 3, own, 1, t);
		CU_ASSERT_EQUAL(s.state, SHARE_SYNCED);
		CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
		/* ours stop coming back: in sync until fresh_ns */
		r = step(&s, &c, 3000, p, 3, own, 1, own + c.fresh_ns - 1);
		CU_ASSERT_EQUAL(s.state, SHARE_SYNCED);
		/* then the last share, as a part of the rate (which may
		 * move: a severity cut applies to it) */
		r = step(&s, &c, 3000, p, 3, own, 1, own + c.fresh_ns);
		CU_ASSERT_EQUAL(s.state, SHARE_HOLDING);
		CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
		r = step(&s, &c, 300, p, 3, own, 1, own + 500 * MS);
		CU_ASSERT_DOUBLE_EQUAL(r, 100, 1e-6);
		/* a lease after the last record back: the policy */
		r = step(&s, &c, 3000, p, 3, own, 1, own + c.lease_ns);
		CU_ASSERT_EQUAL(s.state, SHARE_OUTAGE);
		if (pol[k] == CFG_OUTAGE_STATIC)
			CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6); /* 3 known */
		if (pol[k] == CFG_OUTAGE_OPEN)
			CU_ASSERT_EQUAL(r, c.rate_max);
		if (pol[k] == CFG_OUTAGE_CLOSED)
			CU_ASSERT_EQUAL(r, c.rate_min);
		/* back: the split again */
		t = own + 5000 * MS;
		view(p, demand, 3, 0, t);
		r = step(&s, &c, 3000, p, 3, t, 1, t + 1);
		CU_ASSERT_EQUAL(s.state, SHARE_SYNCED);
		CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
	}
}

static void test_static_counts_live_nodes(void)
{
	/* static divides by the nodes live when last in sync, not by the
	 * nodes ever seen */
	static const double demand[] = { 1e9, 1e9, 1e9, 1e9 };
	struct share_peer p[4];
	struct share_node s;
	uint64_t t = 10000 * MS;
	double r;

	share_init(&s, 0);
	view(p, demand, 4, 0, t);
	p[3].seen_ns = t - 2000 * MS; /* dead before the outage */
	r = step(&s, &cfg0, 3000, p, 4, t, 1, t);
	CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
	r = step(&s, &cfg0, 3000, p, 4, t, 1, t + cfg0.lease_ns);
	CU_ASSERT_EQUAL(s.state, SHARE_OUTAGE);
	CU_ASSERT_DOUBLE_EQUAL(r, 1000, 1e-6);
}

static void test_self_missing(void)
{
	/* our record back, but our entry not in the view (cannot happen
	 * with kafka.c; must not crash or invent a share) */
	static const double demand[] = { 1e9, 1e9 };
	struct share_peer p[2];
	struct share_node s;
	double r;

	share_init(&s, 0);
	view(p, demand, 2, 5, 0); /* nobody is self */
	r = step(&s, &cfg0, 3000, p, 2, 1, 1, 2);
	CU_ASSERT_EQUAL(s.state, SHARE_OUTAGE);
	CU_ASSERT(r >= cfg0.rate_min && r <= 3000);
	CU_ASSERT_STRING_EQUAL(share_state_name(SHARE_HOLDING), "holding");
	CU_ASSERT_STRING_EQUAL(share_state_name(SHARE_STATE_MAX), "?");
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("share", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "split sums to the rate", test_split_sums_exactly) ||
	    !CU_add_test(s, "max-min, headroom, floors", test_maxmin) ||
	    !CU_add_test(s, "expiry", test_expiry) ||
	    !CU_add_test(s, "joining", test_joining) ||
	    !CU_add_test(s, "hold, then the policy", test_hold_then_policy) ||
	    !CU_add_test(s, "static counts live nodes",
			 test_static_counts_live_nodes) ||
	    !CU_add_test(s, "self missing", test_self_missing))
		return CU_get_error();
	return CUE_SUCCESS;
}
