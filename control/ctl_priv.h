/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control thread internals shared by ctl.c (the tick), cmd.c (the admin
 * commands) and reload.c (config reload).
 */
#ifndef TG_CONTROL_CTL_PRIV_H
#define TG_CONTROL_CTL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "admin.h"
#include "aimd.h"
#include "breaker.h"
#include "cfg.h"
#include "classify.h"
#include "credit.h"
#include "ctl.h"
#include "dp.h"
#include "kafka.h"
#include "pid.h"
#include "severity.h"
#include "share.h"
#include "split.h"

#define CTL_MAX_LAG_SOURCES 16
#define CTL_MAX_RETIRED 64

/* What the control thread knows of one bucket. */
struct ctl_bucket {
	const struct cfg_bucket *cfg; /* in the running config */
	double override;	      /* operator's rate cap, 0: none */
	uint64_t override_burst;      /* 0: the configured burst */
	struct aimd aimd;	      /* when cfg->controller is aimd */
	struct pid pid;		      /* when pid */
	double adapt_mult;	      /* adaptive multiplier of the ceiling */
	double eff_rate;	      /* effective rate in force, whole bucket */
	uint64_t eff_burst;
	/* last tick, whole bucket (all workers), per second */
	double demand_rate, admitted_rate, rejected_rate, util;
	struct dp_bucket_ctr prev, cur; /* summed over workers */
	int shared; /* index into ctl.shared, -1: local */
};

/* A bucket shared through Kafka. */
struct ctl_shared {
	unsigned b;		   /* bucket index */
	struct share_node node;	   /* how its share is decided (lib/share.h) */
	double cluster_rate;	   /* the whole cluster's rate, this tick */
	double share;		   /* this node's part of it, this tick */
	double share_changed_s;	   /* uptime of the last change > 1% */
	struct kx_view view;	   /* scratch */
	struct share_peer peers[KX_MAX_PEERS]; /* scratch */
};

/* A consumer-group lag source (the ctx of its ctl_lag_source). */
struct ctl_kx_lag {
	struct kx *kx;
	unsigned i;
	char name[96];
};

/* A metered consumer (credits). */
struct ctl_meter {
	uint8_t key[16];
	char name[48];
	struct credit ledger; /* granted and available */
	uint64_t used_prev;   /* used when the ledger was last updated */
	uint64_t used_w[64];  /* each worker's count at that moment */
};

/* Something workers may still be reading: freed once they are all past
 * the publication that replaced it. */
struct ctl_retired {
	void *ptr;
	void (*free_fn)(void *);
	uint64_t gen[64]; /* per worker */
};

struct ctl {
	struct dp *dp;
	struct cfg *cfg;
	char path[CFG_PATH_LEN];
	struct split *split;
	struct admin *admin;
	unsigned nw, nb;
	struct ctl_bucket *b;
	double *rate_buf;     /* [nb] effective rates, for split */
	uint64_t *burst_buf;  /* [nb] */
	struct cls *cls[CFG_MAX_PIPELINES]; /* rules published, owned (or
					      * the data plane's initial) */
	bool cls_owned[CFG_MAX_PIPELINES];

	/* time */
	uint64_t start_ns, last_tick_ns;
	uint64_t tick;
	double tick_delay_max_us;

	/* signals */
	struct dp_core_stats *core_prev, *core_cur; /* [nw] */
	struct dp_bucket_ctr *ctr_tmp;		    /* [nb] */
	double cpu_frac;			    /* busiest worker */
	double busy_pct[64];

	/* lag */
	bool lag_injected;
	uint64_t lag_inject;
	uint64_t lag;
	bool lag_valid;
	uint64_t lag_pipe[CFG_MAX_PIPELINES];
	bool lag_pipe_valid[CFG_MAX_PIPELINES];
	unsigned n_sources;
	struct ctl_lag_source sources[CTL_MAX_LAG_SOURCES];
	uint64_t source_lag[CTL_MAX_LAG_SOURCES];
	bool source_valid[CTL_MAX_LAG_SOURCES];

	/* policy state */
	struct sev_state sev;
	struct brk brk;
	bool brk_emerg;	   /* tripped by the current Emergency */
	bool flag_breaker; /* as last staged */
	uint8_t flag_shed;
	uint8_t shed_below;
	unsigned shed_ticks;
	uint64_t lag_last_tick;
	bool credit_block[CFG_MAX_PIPELINES];

	/* credits per consumer */
	unsigned n_meters;
	struct ctl_meter meters[DP_MAX_METERS];
	struct dp_meters *meter_set; /* published, owned */
	bool meters_dirty;

	/* reaction time: lag read at a severity change -> worker applied */
	uint64_t react_start_tsc;
	uint64_t react_gen[64];
	bool react_pending;
	double reaction_us, reaction_us_max;

	/* publications waiting for every worker to apply */
	bool dirty[64];
	unsigned n_retired;
	struct ctl_retired retired[CTL_MAX_RETIRED];

	/* stats line */
	double next_stats;

	/* Kafka (ctl_kafka.c); kx NULL without a kafka section */
	struct kx *kx;
	unsigned n_shared;
	struct ctl_shared shared[KX_MAX_SHARED];
	struct ctl_kx_lag kx_lag[CFG_KAFKA_MAX_LAG];
};

/* ---- ctl_kafka.c ---- */

/* Set up the Kafka side when the config has a kafka section (0 or -errno
 * with err). */
int ctl_kafka_init(struct ctl *c, char *err, size_t err_len);

/* Apply the commands other nodes sent (start of a tick). */
void ctl_kafka_ops(struct ctl *c);

/* Turn every shared bucket's cluster rate in rate_buf into this node's
 * share, and report the demand (after the effective rates). */
void ctl_kafka_rates(struct ctl *c, uint64_t now_ns);

/* Between ticks: apply new shares when another node's record arrived. */
void ctl_kafka_resplit(struct ctl *c);

/* Send an operator's command on bucket b to the control topic: set-rate
 * or reset with the bucket's override state, or (clear) a tombstone.
 * Returns a note for the reply, or NULL when Kafka is off. */
const char *ctl_kafka_send_bucket(struct ctl *c, unsigned b, enum sr_op op,
				  bool clear);

/* The same for a forced severity (level) or automatic (NULL). */
const char *ctl_kafka_send_severity(struct ctl *c, const char *level);

/* Status and per-bucket stats of the Kafka side. */
json_t *ctl_kafka_status(struct ctl *c);
void ctl_kafka_bucket_json(struct ctl *c, unsigned b, json_t *j);


/* The smallest burst a bucket may be cut to: one message (one full-size
 * frame in byte mode). */
static inline uint64_t ctl_min_burst(const struct cfg_bucket *bc)
{
	return bc->mode == TB_MODE_BYTES ? 1518 : 1;
}

/* The admin socket's request handler (cmd.c). */
void ctl_cmd(void *ctx, struct admin_client *c, const char *line);

/* Keep ptr until every worker applied what replaces it (ctl.c). */
void ctl_retire(struct ctl *c, void *ptr, void (*free_fn)(void *));
void ctl_retire_cls(struct ctl *c, struct cls *old);
void ctl_retire_cfg(struct ctl *c, struct cfg *old);

/* (Re)initialise bucket b's controller state from its config (ctl.c). */
void ctl_bucket_setup(struct ctl *c, unsigned b, bool keep_rate);

/* Set the policy's largest ceiling per tier from the buckets (ctl.c). */
void ctl_set_ceiling_max(struct cfg *cfg);

/* The running bucket index by name, or -1. */
int ctl_bucket_find(const struct ctl *c, const char *name);

/* Stage the bucket params and rules of every worker from the running
 * config, and mark all workers dirty (ctl.c). */
void ctl_stage_config(struct ctl *c);

/* Publish to every dirty worker now (ctl.c). */
void ctl_publish(struct ctl *c);

/* Monotonic nanoseconds. */
uint64_t ctl_now_ns(void);

/* JSON of status and stats (cmd.c). */
json_t *ctl_status_json(struct ctl *c);
json_t *ctl_stats_json(struct ctl *c);

#endif /* TG_CONTROL_CTL_PRIV_H */
