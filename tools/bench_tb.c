/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate-bench-tb: cycles per admission decision of tidegate's token
 * bucket against DPDK's rte_meter srTCM (colour blind, EBS 0), in the same
 * harness and the same run; plus the worst error of the bucket accuracy
 * sweep (the one the unit tests assert).
 *
 * Harness: a saturating stream of frames of mixed sizes (64..1518 B) at a
 * 10 Gbit/s byte-mode bucket; the clock (TSC) is read once per burst of 32
 * decisions, as a DPDK worker does. Each run works on a local copy of the
 * meter's profile and state, as a worker does for a bucket it hits many
 * times in a burst, the same for both. Rounds alternate between the two
 * meters; the figures are medians over the rounds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_meter.h>

#include "tb.h"
#include "tb_sweep.h"

#define BURST 32
#define N_LENS 1024
#define ROUNDS 9

static uint32_t lens[N_LENS];

static uint64_t __attribute__((noinline))
run_ours(const struct tb_profile *p, struct tb_state *s, uint64_t n,
	 uint64_t *admitted)
{
	struct tb_profile lp = *p;
	struct tb_state ls = *s;
	uint64_t i, t0, adm = 0;

	t0 = rte_rdtsc_precise();
	for (i = 0; i < n; i += BURST) {
		uint64_t now = rte_rdtsc();
		const uint32_t *l = &lens[i % N_LENS];
		unsigned j;

		for (j = 0; j < BURST; j++)
			adm += tb_take(&lp, &ls, now, tb_cost(&lp, l[j]));
	}
	t0 = rte_rdtsc_precise() - t0;
	*s = ls;
	*admitted += adm;
	return t0;
}

static uint64_t __attribute__((noinline))
run_meter(struct rte_meter_srtcm_profile *p, struct rte_meter_srtcm *m,
	  uint64_t n, uint64_t *admitted)
{
	struct rte_meter_srtcm_profile lp = *p;
	struct rte_meter_srtcm lm = *m;
	uint64_t i, t0, adm = 0;

	t0 = rte_rdtsc_precise();
	for (i = 0; i < n; i += BURST) {
		uint64_t now = rte_rdtsc();
		const uint32_t *l = &lens[i % N_LENS];
		unsigned j;

		for (j = 0; j < BURST; j++)
			adm += rte_meter_srtcm_color_blind_check(&lm, &lp, now,
								 l[j]) ==
			       RTE_COLOR_GREEN;
	}
	t0 = rte_rdtsc_precise() - t0;
	*m = lm;
	*admitted += adm;
	return t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	char *eal_args[] = { argv[0],	    "--no-huge",  "--no-pci",
			     "--no-shconf", "-l",	  "0",
			     "--log-level", "lib.*:error", NULL };
	const uint64_t n = UINT64_C(1) << 24;
	const uint64_t rate_bytes = 1250000000; /* 10 Gbit/s */
	const uint64_t burst_bytes = 1 << 20;
	struct rte_meter_srtcm_params mp = {
		.cir = rate_bytes, .cbs = burst_bytes, .ebs = 0
	};
	struct rte_meter_srtcm_profile mprof;
	struct rte_meter_srtcm meter;
	struct tb_profile prof;
	struct tb_state st;
	double ours[ROUNDS], theirs[ROUNDS], o, t, worst;
	uint64_t adm_o = 0, adm_t = 0, seed = 88172645463325252ULL, hz;
	unsigned i, cases, bad;

	(void)argc;
	if (rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])) - 1,
			 eal_args) < 0) {
		fprintf(stderr, "bench: EAL init failed\n");
		return 1;
	}
	hz = rte_get_tsc_hz();
	for (i = 0; i < N_LENS; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		lens[i] = 64 + (uint32_t)(seed % (1518 - 64 + 1));
	}
	if (tb_profile_init(&prof, TB_MODE_BYTES, (double)rate_bytes,
			    burst_bytes, hz) < 0 ||
	    rte_meter_srtcm_profile_config(&mprof, &mp) != 0 ||
	    rte_meter_srtcm_config(&meter, &mprof) != 0) {
		fprintf(stderr, "bench: cannot configure the meters\n");
		return 1;
	}
	tb_init(&prof, &st, rte_rdtsc());
	/* warm up both, then alternate rounds */
	run_ours(&prof, &st, n, &adm_o);
	run_meter(&mprof, &meter, n, &adm_t);
	for (i = 0; i < ROUNDS; i++) {
		ours[i] = (double)run_ours(&prof, &st, n, &adm_o) / (double)n;
		theirs[i] =
			(double)run_meter(&mprof, &meter, n, &adm_t) / (double)n;
	}
	qsort(ours, ROUNDS, sizeof(double), cmp_double);
	qsort(theirs, ROUNDS, sizeof(double), cmp_double);
	o = ours[ROUNDS / 2];
	t = theirs[ROUNDS / 2];
	printf("tsc: %.3f GHz; %u rounds of %" PRIu64
	       " decisions each, clock read once per %d\n",
	       (double)hz / 1e9, ROUNDS, n, BURST);
	printf("rte_meter srTCM (colour blind, EBS 0): %6.2f cycles/decision "
	       "(min %.2f, max %.2f)\n",
	       t, theirs[0], theirs[ROUNDS - 1]);
	printf("tidegate token bucket:                 %6.2f cycles/decision "
	       "(min %.2f, max %.2f)\n",
	       o, ours[0], ours[ROUNDS - 1]);
	printf("ratio tidegate / rte_meter: %.3f (goal <= 0.333: %s)\n", o / t,
	       o / t <= 1.0 / 3 ? "met" : "NOT met");
	worst = tb_sweep_all(0.001, NULL, &cases, &bad);
	printf("accuracy sweep: %u cases, worst error %.3g (%.7f%%), %u over "
	       "0.1%%\n",
	       cases, worst, worst * 100, bad);
	printf("(admitted: %" PRIu64 " vs %" PRIu64 ")\n", adm_o, adm_t);
	rte_eal_cleanup();
	return 0;
}
