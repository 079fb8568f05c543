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
#include "ctl.h"

#define TIDEGATE_VERSION "0.1.0"

static volatile sig_atomic_t stop_signal, reload_signal;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_signal = 1;
	else
		stop_signal = sig;
}

struct opts {
	const char *config;
	const char *summary;
	const char *admin_socket;
	double duration_s;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tidegate -c FILE [--duration S] [--summary-json FILE]\n"
		"                [--admin-socket PATH]\n"
		"       tidegate [EAL args] -- -c FILE [options]\n"
		"\n"
		"  -c, --config FILE        the config (libconfig; see "
		"config/README.md)\n"
		"  -d, --duration S         run S seconds, then stop cleanly\n"
		"  -j, --summary-json FILE  write the final counters as JSON\n"
		"  -a, --admin-socket PATH  the admin socket (overrides the "
		"config)\n"
		"  -h, --help               this text\n"
		"\n"
		"EAL arguments come from the config's eal list; given on the\n"
		"command line before \"--\" they replace it. SIGHUP reloads the\n"
		"config; SIGINT and SIGTERM stop cleanly.\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "summary-json", required_argument, NULL, 'j' },
		{ "admin-socket", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:d:j:a:h", lo, NULL)) != -1) {
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
		case 'a':
			o->admin_socket = optarg;
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
	struct cfg *cfg = calloc(1, sizeof(*cfg));
	struct dp *dp = NULL;
	struct ctl *ctl = NULL;
	struct report_snap fin = { 0 };
	struct sigaction sa;
	char err[1024], **ea = NULL;
	int i, dd = -1, n_ea = 0, rc = 1;
	double t0;

	if (!cfg)
		return 1;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	if (parse_opts(dd > 0 ? argc - dd : argc, dd > 0 ? argv + dd : argv,
		       &o) < 0) {
		free(cfg);
		return 2;
	}
	if (config_load(o.config, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "tidegate: %s\n", err);
		cfg_free(cfg);
		free(cfg);
		return 1;
	}
	ea = eal_argv(argc, argv, dd, cfg, &n_ea);
	if (!ea || rte_eal_init(n_ea, ea) < 0) {
		fprintf(stderr, "tidegate: EAL initialisation failed: %s (EAL "
				"arguments from %s; without hugepages, add "
				"--no-huge)\n",
			rte_strerror(rte_errno),
			dd > 0 ? "the command line" : o.config);
		free(ea);
		cfg_free(cfg);
		free(cfg);
		return 1;
	}
	rte_log_set_global_level(log_level_of(cfg->log_level));
	dp = dp_create(cfg, cfg->workers, err, sizeof(err));
	if (!dp) {
		fprintf(stderr, "tidegate: %s\n", err);
		goto out;
	}
	/* from here the control thread owns the config */
	ctl = ctl_new(dp, cfg, o.config, o.admin_socket, err, sizeof(err));
	if (!ctl) {
		fprintf(stderr, "tidegate: %s\n", err);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the overrides of the control topic and the cluster's shares are
	 * in force before the first packet (a no-op without Kafka) */
	(void)ctl_kafka_start(ctl, &stop_signal);
	if (stop_signal)
		goto out;
	if (dp_start(dp) < 0) {
		fprintf(stderr, "tidegate: cannot start the ports\n");
		goto out;
	}
	printf("tidegate %s: %u worker(s), %u bucket(s), config %s, admin "
	       "socket %s\n",
	       TIDEGATE_VERSION, dp_n_workers(dp), dp_n_buckets(dp), o.config,
	       o.admin_socket ? o.admin_socket : ctl_cfg(ctl)->admin.socket);
	fflush(stdout);
	t0 = now_s();
	ctl_run(ctl, &stop_signal, &reload_signal, o.duration_s);
	dp_stop(dp);
	if (report_snap_init(&fin, dp) < 0) {
		fprintf(stderr, "tidegate: out of memory\n");
		goto out;
	}
	report_snap_take(&fin, dp, now_s() - t0);
	printf("stopped after %.1f s%s: rx %llu, admitted %llu\n", fin.t_s,
	       stop_signal ? " (signal)" : "", (unsigned long long)fin.total.rx,
	       (unsigned long long)fin.total.outcome[DP_ADMITTED]);
	rc = 0;
	if (o.summary &&
	    report_json(o.summary, dp, &fin, TIDEGATE_VERSION) < 0) {
		fprintf(stderr, "tidegate: cannot write %s\n", o.summary);
		rc = 1;
	}
out:
	report_snap_free(&fin);
	dp_destroy(dp);
	if (ctl)
		ctl_free(ctl);
	else {
		cfg_free(cfg);
		free(cfg);
	}
	rte_eal_cleanup();
	free(ea);
	return rc;
}
