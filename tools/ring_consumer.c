/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate-consumer: the local downstream consumer of a pipeline whose
 * egress is a ring. A DPDK secondary process: it attaches to a running
 * tidegate (same --file-prefix; DPDK multi-process needs hugepages), finds
 * the ring by name and dequeues from it at a configurable rate, freeing
 * what it takes. Set slower than what tidegate admits, it is the slow
 * consumer whose backlog (the ring's occupancy) the control loop reads as
 * lag.
 *
 *   tidegate-consumer [EAL args] -- --ring NAME [--rate R] [--rate-file F]
 *                     [--duration S] [--stats S]
 *
 * --rate R: messages per second (0: as fast as it can); --rate-file F: a
 * file holding a rate, read every 100 ms when it changes (so a test or a
 * person can speed the consumer up or slow it down while it runs).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "tb.h"

#define BURST 32

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

struct opts {
	const char *ring;
	const char *rate_file;
	double rate;
	double duration_s;
	double stats_s;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tidegate-consumer [EAL args] -- --ring NAME "
		   "[--rate R] [--rate-file F] [--duration S] [--stats S]\n"
		   "Dequeues a tidegate egress ring at R messages/s (0: "
		   "unlimited). Needs the EAL's --proc-type=secondary and the\n"
		   "same --file-prefix as the tidegate it attaches to.\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "ring", required_argument, NULL, 'r' },
		{ "rate", required_argument, NULL, 'R' },
		{ "rate-file", required_argument, NULL, 'f' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stats", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	double *dst;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->ring = optarg;
			continue;
		case 'f':
			o->rate_file = optarg;
			continue;
		case 'R':
			dst = &o->rate;
			break;
		case 'd':
			dst = &o->duration_s;
			break;
		case 's':
			dst = &o->stats_s;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
		errno = 0;
		*dst = strtod(optarg, &end);
		if (errno || *end || *dst < 0) {
			fprintf(stderr, "tidegate-consumer: '%s' is not a "
					"number >= 0\n", optarg);
			return -1;
		}
	}
	if (!o->ring) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The rate in the file, or -1 when it is missing or unreadable. */
static double read_rate(const char *path)
{
	char buf[64], *end;
	double r;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	r = strtod(buf, &end);
	if (end == buf || r < 0)
		return -1;
	return r;
}

static int set_rate(struct tb_profile *p, struct tb_state *s, double rate,
		    uint64_t hz, uint64_t now)
{
	struct tb_profile np;

	if (rate <= 0)
		return 0;
	if (tb_profile_init(&np, TB_MODE_PACKETS, rate, BURST, hz) < 0)
		return -EINVAL;
	if (p->hz)
		tb_switch(p, &np, s, now);
	else
		tb_init(&np, s, now);
	*p = np;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .stats_s = 1.0 };
	struct tb_profile prof = { 0 };
	struct tb_state st = { 0 };
	struct rte_ring *ring;
	void *objs[BURST];
	uint64_t hz, start, next_stats, next_file, got = 0, last_got = 0;
	double rate, file_rate = -1;
	int n;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "tidegate-consumer: EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	if (parse(argc, argv, &o) < 0)
		return 2;
	ring = rte_ring_lookup(o.ring);
	if (!ring) {
		fprintf(stderr, "tidegate-consumer: no ring '%s' (is tidegate "
				"running with the same --file-prefix?)\n",
			o.ring);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	hz = rte_get_tsc_hz();
	start = rte_rdtsc();
	rate = o.rate;
	if (set_rate(&prof, &st, rate, hz, start) < 0) {
		fprintf(stderr, "tidegate-consumer: bad rate %g\n", rate);
		return 2;
	}
	next_stats = start + (uint64_t)(o.stats_s * (double)hz);
	next_file = start;
	while (!quit) {
		uint64_t now = rte_rdtsc();
		unsigned want = BURST, i;

		n = 0;
		if (o.duration_s > 0 &&
		    now - start >= (uint64_t)(o.duration_s * (double)hz))
			break;
		if (o.rate_file && now >= next_file) {
			double r = read_rate(o.rate_file);

			if (r >= 0 && r != file_rate) {
				file_rate = rate = r;
				set_rate(&prof, &st, rate, hz, now);
				printf("rate %g/s\n", rate);
				fflush(stdout);
			}
			next_file = now + hz / 10;
		}
		if (rate > 0) {
			uint64_t t = tb_tokens(&prof, &st, now);

			want = t < BURST ? (unsigned)t : BURST;
		}
		if (want) {
			n = (int)rte_ring_dequeue_burst(ring, objs, want, NULL);
			for (i = 0; i < (unsigned)n; i++)
				rte_pktmbuf_free(objs[i]);
			if (rate > 0 && n > 0)
				tb_take(&prof, &st, now, (uint64_t)n);
			got += (uint64_t)n;
		}
		if (o.stats_s > 0 && now >= next_stats) {
			printf("consumed %" PRIu64 " (%.0f/s), ring backlog %u\n",
			       got, (double)(got - last_got) / o.stats_s,
			       rte_ring_count(ring));
			fflush(stdout);
			last_got = got;
			next_stats += (uint64_t)(o.stats_s * (double)hz);
		}
		if (!want || !n)
			rte_delay_us_sleep(100);
	}
	printf("consumed %" PRIu64 " in all\n", got);
	rte_eal_cleanup();
	return 0;
}
