/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate: the program. Loads the config, starts DPDK with the EAL
 * arguments from the config (or from the command line, DPDK-style, before
 * "--"), runs the workers, and on the main lcore splits the shared buckets
 * over the cores by demand and prints a stats line every second. Stops
 * after --duration seconds or on SIGINT/SIGTERM, and writes the final
 * counters as JSON with --summary-json.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "config.h"
#include "dp.h"
#include "report.h"
#include "split.h"

#define TIDEGATE_VERSION "0.1.0"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct opts {
	const char *config;
	const char *summary;
	double duration_s;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tidegate -c FILE [--duration S] [--summary-json FILE]\n"
		"       tidegate [EAL args] -- -c FILE [options]\n"
		"\n"
		"  -c, --config FILE        the config (libconfig; see "
		"config/README.md)\n"
		"  -d, --duration S         run S seconds, then stop cleanly\n"
		"  -j, --summary-json FILE  write the final counters as JSON\n"
		"  -h, --help               this text\n"
		"\n"
		"EAL arguments come from the config's eal list; given on the\n"
		"command line before \"--\" they replace it.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "summary-json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:j:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'd':
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno || *end || !(o->duration_s > 0)) {
				fprintf(stderr,
					"tidegate: --duration: '%s' is not a "
					"number of seconds > 0\n",
					optarg);
				return -1;
			}
			break;
		case 'j':
			o->summary = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tidegate: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!o->config) {
		fprintf(stderr, "tidegate: -c FILE is required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static uint32_t log_level_of(const char *s)
{
	if (!strcmp(s, "error"))
		return RTE_LOG_ERR;
	if (!strcmp(s, "warning"))
		return RTE_LOG_WARNING;
	if (!strcmp(s, "notice"))
		return RTE_LOG_NOTICE;
	if (!strcmp(s, "debug"))
		return RTE_LOG_DEBUG;
	return RTE_LOG_INFO;
}

/* The main lcore's loop until a stop: rebalance, stats. */
static void run(struct dp *dp, const struct cfg *cfg, const struct opts *o,
		struct split *sp, struct report_snap *prev,
		struct report_snap *cur, double t0)
{
	double next_stats = cfg->stats_interval_s, next_split = 0,
	       last_split = 0;

	for (;;) {
		double t = now_s() - t0, wake;

		if (stop_signal || (o->duration_s > 0 && t >= o->duration_s))
			break;
		if (t >= next_split) {
			split_tick(sp, t - last_split, NULL, NULL);
			last_split = t;
			next_split = t + cfg->rebalance_s;
		}
		if (cfg->stats_interval_s > 0 && t >= next_stats) {
			struct report_snap tmp;

			report_snap_take(cur, dp, t);
			report_line(stdout, dp, prev, cur);
			tmp = *prev;
			*prev = *cur;
			*cur = tmp;
			next_stats += cfg->stats_interval_s;
		}
		wake = next_split;
		if (cfg->stats_interval_s > 0 && next_stats < wake)
			wake = next_stats;
		if (o->duration_s > 0 && o->duration_s < wake)
			wake = o->duration_s;
		sleep_s(fmin(wake - (now_s() - t0), 0.05));
	}
}

/* Build the EAL argv: argv[0], then the command line's EAL part (before
 * "--") when there is one, else the config's list. */
static char **eal_argv(int argc, char **argv, int dd, const struct cfg *cfg,
		       int *n)
{
	char **a = calloc((size_t)argc + CFG_MAX_EAL_ARGS + 2, sizeof(char *));
	int i, k = 0;
	unsigned j;

	if (!a)
		return NULL;
	a[k++] = argv[0];
	if (dd > 0)
		for (i = 1; i < dd; i++)
			a[k++] = argv[i];
	else
		for (j = 0; j < cfg->n_eal; j++)
			a[k++] = cfg->eal[j];
	*n = k;
	return a;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct cfg cfg;
	struct dp *dp = NULL;
	struct split *sp = NULL;
	struct report_snap prev = { 0 }, cur = { 0 };
	char err[1024], **ea = NULL;
	int i, dd = -1, n_ea = 0, rc = 1;
	double t0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (parse_opts(dd > 0 ? argc - dd : argc, dd > 0 ? argv + dd : argv,
		       &o) < 0)
		return 2;
	if (config_load(o.config, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tidegate: %s\n", err);
		cfg_free(&cfg);
		return 1;
	}
	ea = eal_argv(argc, argv, dd, &cfg, &n_ea);
	if (!ea || rte_eal_init(n_ea, ea) < 0) {
		fprintf(stderr, "tidegate: EAL initialisation failed: %s (EAL "
				"arguments from %s; without hugepages, add "
				"--no-huge)\n",
			rte_strerror(rte_errno),
			dd > 0 ? "the command line" : o.config);
		free(ea);
		cfg_free(&cfg);
		return 1;
	}
	rte_log_set_global_level(log_level_of(cfg.log_level));
	dp = dp_create(&cfg, cfg.workers, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "tidegate: %s\n", err);
		goto out;
	}
	sp = split_new(dp);
	if (!sp || report_snap_init(&prev, dp) < 0 ||
	    report_snap_init(&cur, dp) < 0) {
		fprintf(stderr, "tidegate: out of memory\n");
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (dp_start(dp) < 0) {
		fprintf(stderr, "tidegate: cannot start the ports\n");
		goto out;
	}
	printf("tidegate %s: %u worker(s), %u bucket(s), config %s\n",
	       TIDEGATE_VERSION, dp_n_workers(dp), dp_n_buckets(dp), o.config);
	fflush(stdout);
	t0 = now_s();
	report_snap_take(&prev, dp, 0);
	run(dp, &cfg, &o, sp, &prev, &cur, t0);
	dp_stop(dp);
	report_snap_take(&cur, dp, now_s() - t0);
	printf("stopped after %.1f s%s: rx %llu, admitted %llu\n", cur.t_s,
	       stop_signal ? " (signal)" : "", (unsigned long long)cur.total.rx,
	       (unsigned long long)cur.total.outcome[DP_ADMITTED]);
	rc = 0;
	if (o.summary &&
	    report_json(o.summary, dp, &cur, TIDEGATE_VERSION) < 0) {
		fprintf(stderr, "tidegate: cannot write %s\n", o.summary);
		rc = 1;
	}
out:
	report_snap_free(&prev);
	report_snap_free(&cur);
	split_free(sp);
	dp_destroy(dp);
	rte_eal_cleanup();
	free(ea);
	cfg_free(&cfg);
	return rc;
}
