/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The token bucket accuracy sweep, shared by the unit test (which asserts
 * every case) and the benchmark tool (which prints the worst case).
 *
 * Each case offers a saturating load to one bucket on a simulated clock:
 * at every step of the clock it takes `cost` tokens again and again until
 * the bucket says no. Over the interval T it must admit what an ideal
 * bucket admits, rate * T + burst, floored to whole messages (a count of
 * messages is an integer). The error of a case is its relative distance
 * from [floor(ideal), ideal].
 */
#ifndef TG_TB_SWEEP_H
#define TG_TB_SWEEP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "tb.h"

struct tb_sweep_case {
	enum tb_mode mode;
	double rate;	/* tokens per second */
	uint64_t burst; /* tokens */
	uint64_t hz;
	double secs; /* interval, at least 1 s (1000 s under 1/s) */
	uint64_t admitted;
	long double ideal;
	double err;
	int ok; /* profile built */
};

/* Simulate one case; fills admitted, ideal, err. */
#define TB_SWEEP_STEPS 50000

static inline void tb_sweep_run(struct tb_sweep_case *c, uint64_t t0)
{
	const uint64_t steps = TB_SWEEP_STEPS;
	struct tb_profile p;
	struct tb_state s;
	uint64_t dt, i, cost, adm = 0;
	long double t, ideal;

	c->ok = tb_profile_init(&p, c->mode, c->rate, c->burst, c->hz) == 0;
	if (!c->ok)
		return;
	dt = (uint64_t)llroundl((long double)c->secs * c->hz / steps);
	t = (long double)(dt * steps) / c->hz;
	ideal = (long double)c->rate * t + c->burst;
	/*
	 * Big takes keep the simulation short (a quantum of at most 1e-5 of
	 * the total); at most half the burst, so that what one step adds
	 * (a quarter of the burst at most, see tb_sweep_all) never overflows
	 * a bucket that was just drained below one take.
	 */
	cost = (uint64_t)(ideal / 1e5L);
	if (cost > c->burst / 2)
		cost = c->burst / 2;
	if (cost < 1)
		cost = 1;
	tb_init(&p, &s, t0);
	for (i = 0; i <= steps; i++) {
		uint64_t now = t0 + i * dt;

		while (tb_take(&p, &s, now, cost))
			adm += cost;
	}
	/*
	 * An exact bucket admits whole takes: anything from ideal floored to
	 * the cost quantum up to ideal itself is exact; the error is the
	 * distance from that range.
	 */
	c->admitted = adm;
	c->ideal = ideal;
	if ((long double)adm > ideal) {
		c->err = (double)(((long double)adm - ideal) / ideal);
	} else {
		long double lo = floorl(ideal / cost) * cost;

		c->err = (long double)adm >= lo ?
			0 : (double)((lo - (long double)adm) / lo);
	}
}

static const double tb_sweep_pkt_rates[] = {
	0.1, 0.25, 0.5, 0.7, 1, 3, 7.5, 10, 100, 1234.5, 1e4, 99999.9,
	1e5, 1e6, 1.5e7, 3.3e7, 1e8,
};
static const double tb_sweep_byte_rates[] = {
	1, 3, 64, 1500, 1.25e5, 1.25e6, 1.25e8, 1.25e9, 3.3e9, 1.25e10,
};
static const uint64_t tb_sweep_hz[] = {
	UINT64_C(1000000000), UINT64_C(2000000000), UINT64_C(2600000000),
	UINT64_C(3300000123), UINT64_C(4000000000),
};

/*
 * Run the whole sweep; calls `each` for every case (may be NULL).
 * Returns the worst error seen; *n_cases and *n_bad (profile refused or
 * error over max_err) are filled.
 */
static inline double
tb_sweep_all(double max_err, void (*each)(const struct tb_sweep_case *),
	     unsigned *n_cases, unsigned *n_bad)
{
	double worst = 0;
	unsigned cases = 0, bad = 0;
	size_t m, r, h, k;

	for (m = 0; m < 2; m++) {
		enum tb_mode mode = m ? TB_MODE_BYTES : TB_MODE_PACKETS;
		const double *rates =
			m ? tb_sweep_byte_rates : tb_sweep_pkt_rates;
		size_t nr = m ? sizeof(tb_sweep_byte_rates) / sizeof(double)
			      : sizeof(tb_sweep_pkt_rates) / sizeof(double);

		for (r = 0; r < nr; r++) {
			for (h = 0; h < sizeof(tb_sweep_hz) / 8; h++) {
				for (k = 0; k < 3; k++) {
					struct tb_sweep_case c = { 0 };
					double base = rates[r] < 1 ? 1000 : 1;
					double b;

					c.mode = mode;
					c.rate = rates[r];
					c.hz = tb_sweep_hz[h];
					/* intervals: the minimum, 1.37x, 3x */
					c.secs = base * (k == 0 ? 1
							 : k == 1 ? 1.37
								  : 3);
					/*
					 * bursts: the smallest that a sender
					 * stepping the clock in 1/50000 of the
					 * interval keeps from overflowing
					 * between two steps (two messages for
					 * slow rates: with one, a token that
					 * comes due between two steps would
					 * overflow the bucket until the next
					 * step, which a continuous sender
					 * would not let happen), a tenth of a
					 * second, a full second
					 */
					b = k == 0 ? fmax(2, ceil(4 * rates[r] *
							  c.secs /
							  TB_SWEEP_STEPS))
					    : rates[r] * (k == 1 ? 0.1 : 1);
					if (b < 2)
						b = 2;
					if (mode == TB_MODE_BYTES && b < 1500)
						b = 1500;
					c.burst = b < 1 ? 1 : (uint64_t)b;
					tb_sweep_run(&c, (UINT64_C(1) << 40) *
							 (k + 1) + h * 7777);
					cases++;
					if (!c.ok || !(c.err <= max_err))
						bad++;
					if (c.ok && c.err > worst)
						worst = c.err;
					if (each)
						each(&c);
				}
			}
		}
	}
	*n_cases = cases;
	*n_bad = bad;
	return worst;
}

#endif /* TG_TB_SWEEP_H */
