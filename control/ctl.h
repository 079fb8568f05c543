/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: it runs on the main lcore, never on a worker. Every
 * tick (100 ms by default) it aggregates the per-core counters, reads the
 * lag sources and the workers' load, steps the severity machine and the
 * breaker, runs each bucket's adaptive controller, works out credits and
 * shedding, computes every bucket's effective rate, splits it over the
 * cores and publishes; between ticks it serves the admin socket. The data
 * plane applies a decision at its next burst.
 *
 * Effective rate of a bucket = min(ceiling x severity x adaptive, operator
 * override); in Emergency the tier's floor (and the breaker opens). Every
 * multiplier applies to the configured ceiling, so nothing compounds.
 *
 * Threads: everything here from the main lcore only.
 */
#ifndef TG_CONTROL_CTL_H
#define TG_CONTROL_CTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "dp.h"

struct ctl;

/**
 * A lag source beyond the built-in ones (the egress ring's backlog, the
 * admin socket's injected value): e.g. Kafka consumer-group lag. read()
 * returns 0 and the lag in messages, or -errno when it has no value now
 * (it must not block: it reports what it last learned). Called once per
 * tick from the control thread.
 */
struct ctl_lag_source {
	const char *name;  /**< "kafka", shown in status */
	unsigned pipeline; /**< which pipeline's lag it is */
	int (*read)(void *ctx, uint64_t *lag_msgs);
	void *ctx;
};

/**
 * Take over a running data plane. cfg is the config dp was created from;
 * ownership of it passes to the control thread (it is replaced on reload,
 * and freed by ctl_free). path is the file to reload from. admin_path
 * overrides cfg->admin.socket when not NULL. Returns NULL with a message
 * in err.
 */
struct ctl *ctl_new(struct dp *dp, struct cfg *cfg, const char *path,
		    const char *admin_path, char *err, size_t err_len);

/** Add a lag source (borrowed until ctl_free). Returns 0 or -ENOSPC. */
int ctl_add_lag_source(struct ctl *c, const struct ctl_lag_source *src);

/**
 * With a kafka section: wait (up to kafka.startup_timeout) until the
 * control topic was replayed and the cluster heard, and apply what it
 * says, so that the data plane starts under the overrides in force.
 * Returns 0, or -ETIMEDOUT (logged; the node starts under its outage
 * policy and catches up when Kafka answers), or -EINTR when *stop became
 * non-zero while waiting. A no-op without Kafka.
 */
int ctl_kafka_start(struct ctl *c, volatile const sig_atomic_t *stop);

/**
 * Run until *stop becomes non-zero or duration_s passes (0: forever).
 * *reload non-zero (SIGHUP) reloads the config and is cleared.
 */
void ctl_run(struct ctl *c, volatile sig_atomic_t *stop,
	     volatile sig_atomic_t *reload, double duration_s);

/** One tick by hand (tests and the loop). */
void ctl_tick(struct ctl *c);

/** Reload the config file. Returns 0, or -EINVAL with the reason in err
 *  (the running config stays). changed (if not NULL) gets a JSON array
 *  of what changed. */
int ctl_reload(struct ctl *c, char *err, size_t err_len, json_t **changed);

/** The running config (owned by the control thread). */
const struct cfg *ctl_cfg(const struct ctl *c);

/** Seconds since the control thread started. */
double ctl_uptime(const struct ctl *c);

/** Free everything but the data plane; NULL is fine. */
void ctl_free(struct ctl *c);

#endif /* TG_CONTROL_CTL_H */
