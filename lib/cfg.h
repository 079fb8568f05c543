/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration model: what a tidegate config file says, as plain C
 * structs, with defaults and validation that need no parser. control/ fills
 * it from a libconfig file (control/config.c); the data plane and the
 * control thread read it. Validation errors name the setting and the line
 * it came from (each item keeps the line of its definition), so a person
 * can fix the file without guessing.
 *
 * Ownership: a struct cfg owns every array it points to; cfg_free() frees
 * them all (and works on a half-built config). Any thread, no sharing: the
 * running config is replaced whole on reload, never edited in place.
 */
#ifndef TG_CFG_H
#define TG_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aimd.h"
#include "breaker.h"
#include "pid.h"
#include "severity.h"
#include "tb.h"

#define CFG_NAME_LEN 32
#define CFG_DEV_LEN 128
#define CFG_PATH_LEN 256
#define CFG_ERR_LEN 512
#define CFG_MAX_EAL_ARGS 64
#define CFG_MAX_PORTS 16
#define CFG_MAX_PIPELINES 8
#define CFG_MAX_TOPICS 255 /* per pipeline; topic ids fit a byte */
#define CFG_MAX_RULES 1024 /* per pipeline */
#define CFG_MAX_OVERRIDES 16384
#define CFG_MAX_IDS 16 /* admin uids, gids */

/** What happens to a message a tier rejects. */
enum cfg_action {
	CFG_ACT_DROP,  /**< drop it (the default) */
	CFG_ACT_MARK,  /**< rewrite its DSCP and forward it */
	CFG_ACT_SHAPE, /**< hold it until it may leave; drop if full */
	CFG_ACT_MAX
};

/** Tiers, in the order a message meets them (same order as sev_tier). */
enum cfg_tier {
	CFG_TIER_GLOBAL,
	CFG_TIER_TOPIC,
	CFG_TIER_CONSUMER,
	CFG_TIER_MAX
};

/** Where admitted messages of a pipeline go. */
enum cfg_egress {
	CFG_EGRESS_PORT,    /**< out of another port (forward) */
	CFG_EGRESS_REFLECT, /**< back out of the ingress port */
	CFG_EGRESS_RING,    /**< into a named rte_ring for a local consumer */
	CFG_EGRESS_MAX
};

/** How the control loop adapts a bucket's rate to its utilization. */
enum cfg_ctrl {
	CFG_CTRL_NONE, /**< static: ceiling x severity only (the default) */
	CFG_CTRL_AIMD, /**< > hi: x dec, < lo: x inc, within [floor, ceiling] */
	CFG_CTRL_PID,  /**< toward a target utilization */
	CFG_CTRL_MAX
};

/** An address prefix; IPv4 is kept v4-mapped (::ffff:a.b.c.d/96+len). */
struct cfg_prefix {
	uint8_t addr[16];
	uint8_t len; /**< bits, 0..128 (IPv4: 96..128) */
};

/** One token bucket as configured (a tier of a pipeline, or a topic). */
struct cfg_bucket {
	char name[CFG_NAME_LEN];
	enum cfg_tier tier;
	double rate;	/**< ceiling, tokens per second (> 0) */
	uint64_t burst; /**< capacity, tokens (>= one message) */
	enum tb_mode mode;
	enum cfg_action action;
	uint8_t mark_dscp;	   /**< DSCP the mark action writes, 0..63 */
	double shape_max_delay_s;  /**< longest hold of the shape action */
	bool shadow;		   /**< admit all, count would-be rejects */
	enum cfg_ctrl controller;  /**< adaptive controller */
	double floor;		   /**< controller's lowest rate; 0: the
				    *   tier's emergency floor */
	int line;		   /**< line of its definition, 0 if none */
	int rate_line, burst_line; /**< lines of those settings, 0: line */
	/** Cluster-wide id of a bucket shared through Kafka ("" = local):
	 *  every node with this id shares one rate. Global and topic tiers
	 *  only. */
	char shared[CFG_NAME_LEN];
	int shared_line;
};

/** Rule kinds: a topic rule is the conjunction of the conditions set. */
#define CFG_RULE_PORT (1u << 0)	  /**< dst port in [port_lo, port_hi] */
#define CFG_RULE_PREFIX (1u << 1) /**< dst address in prefix */
#define CFG_RULE_VLAN (1u << 2)	  /**< outer VLAN id equals vlan */

/** A topic rule: a message matching every condition goes to `topic`. */
struct cfg_rule {
	uint32_t kinds; /**< CFG_RULE_* bits, at least one */
	uint16_t topic; /**< index into the pipeline's topics */
	uint16_t port_lo, port_hi;
	uint16_t vlan;
	struct cfg_prefix prefix;
	int line;
};

/** A per-consumer rate, for the source addresses in a prefix. */
struct cfg_override {
	struct cfg_prefix prefix;
	double rate;	/**< tokens per second */
	uint64_t burst; /**< tokens */
	int line;
};

/** The consumer tier of a pipeline. */
struct cfg_consumers {
	bool enabled;
	struct cfg_bucket bucket; /**< the default rate and burst */
	uint32_t max_per_core;	  /**< table capacity on each worker */
	double idle_timeout_s;	  /**< a bucket idle this long goes away */
	uint32_t n_overrides;
	struct cfg_override *overrides; /**< owned */
};

/** A port: any ethdev, by its DPDK name (vdev name or PCI address). */
struct cfg_port {
	char name[CFG_NAME_LEN];
	char device[CFG_DEV_LEN];
	uint16_t rx_desc, tx_desc;
	bool promiscuous;
	int line;
};

/** A pipeline: an ingress port, its tiers, and an egress. */
struct cfg_pipeline {
	char name[CFG_NAME_LEN];
	uint16_t ingress; /**< index into ports */
	enum cfg_egress egress;
	uint16_t egress_port; /**< index into ports, for CFG_EGRESS_PORT */
	char ring[CFG_NAME_LEN];
	uint32_t ring_size; /**< for CFG_EGRESS_RING, a power of 2 */
	bool has_global;
	struct cfg_bucket global;
	uint16_t n_topics;
	struct cfg_bucket *topics; /**< owned */
	uint32_t n_rules;
	struct cfg_rule *rules; /**< owned, first match wins */
	struct cfg_consumers consumers;
	bool lag_from_ring; /**< the egress ring's backlog is a lag source */
	int line;
};

/** The control loop: tick, thresholds, factors, floors, controllers. */
struct cfg_policy {
	double tick_s;		  /**< control tick (default 0.1) */
	struct sev_config sev;	  /**< severity thresholds and factors */
	struct brk_config brk;	  /**< breaker */
	struct aimd_config aimd;  /**< AIMD factors (floor/ceiling per bucket) */
	double pid_kp, pid_ki, pid_kd;
	double pid_target;	  /**< target utilization of PID buckets */
	double credit_block_frac; /**< block a consumer below this (0.10) */
	unsigned shed_step_ticks; /**< shed one more class after this long */
};

/** The admin socket. */
struct cfg_admin {
	char socket[108]; /**< path (sun_path length) */
	unsigned n_uids, n_gids;
	uint32_t uids[CFG_MAX_IDS];
	uint32_t gids[CFG_MAX_IDS];
	unsigned max_clients;
};

#define CFG_KAFKA_MAX_PROPS 64
#define CFG_KAFKA_MAX_LAG 16
#define CFG_KAFKA_STR_LEN 256

/** What a node does with a shared bucket while Kafka is unreachable (after
 *  keeping its last share for one lease). */
enum cfg_outage {
	CFG_OUTAGE_STATIC, /**< global rate / last known number of nodes */
	CFG_OUTAGE_OPEN,   /**< the bucket stops limiting */
	CFG_OUTAGE_CLOSED, /**< the bucket admits nothing */
	CFG_OUTAGE_MAX
};

/** A consumer group whose lag (high watermark - committed offset, summed
 *  over the topic's partitions) is a lag source of a pipeline. */
struct cfg_kafka_lag {
	char group[CFG_KAFKA_STR_LEN];
	char topic[CFG_KAFKA_STR_LEN];
	uint16_t pipeline; /**< index into pipelines */
	int line;
};

/** The kafka section: cluster sync, control topic, lag sources. */
struct cfg_kafka {
	bool enabled; /**< the section is present */
	char brokers[CFG_KAFKA_STR_LEN]; /**< bootstrap.servers */
	char node[CFG_NAME_LEN];	  /**< node id; default: host name */
	char sync_topic[CFG_KAFKA_STR_LEN];    /**< "tidegate.sync" */
	char control_topic[CFG_KAFKA_STR_LEN]; /**< "tidegate.control" */
	double sync_interval_s;	     /**< 0.1 */
	double lease_s;		     /**< 1.0; > sync interval */
	double startup_timeout_s;    /**< wait for the control topic, 10 */
	double demand_headroom;	     /**< claim demand x this, 1.05 */
	double lag_interval_s;	     /**< consumer-group lag poll, 1.0 */
	enum cfg_outage outage;	     /**< static */
	uint32_t partitions;	     /**< of topics created here, 1 */
	uint32_t replication;	     /**< of topics created here, 1 */
	uint32_t expected_nodes;     /**< nodes the static outage policy
				      *   assumes before any sync (Kafka
				      *   away at start); 0: unknown (1) */
	unsigned n_props;
	char *props[CFG_KAFKA_MAX_PROPS]; /**< owned "name=value" strings,
					   *   passed to librdkafka as is */
	unsigned n_lag;
	struct cfg_kafka_lag lag[CFG_KAFKA_MAX_LAG];
	int line;
	/* Lines of the settings, for validation errors; 0: not in the file
	 * (an error then names `line`, the section's). */
	int brokers_line, node_line, sync_topic_line, control_topic_line;
	int sync_interval_line, lease_line, startup_timeout_line;
	int demand_headroom_line, lag_interval_line;
	int partitions_line, replication_line, outage_line;
};

const char *cfg_outage_name(enum cfg_outage o);
int cfg_outage_parse(const char *s, enum cfg_outage *out);

/** The whole file. */
struct cfg {
	char source[CFG_PATH_LEN]; /**< file it came from */
	unsigned n_eal;
	char *eal[CFG_MAX_EAL_ARGS]; /**< owned strings */
	unsigned workers;	     /**< 0: every lcore but the main one */
	uint16_t burst_size;	     /**< rx/tx burst, 1..512 */
	uint32_t mbufs;		     /**< mempool size per socket */
	uint32_t shape_queue;	     /**< shape queue, messages per core */
	double stats_interval_s;     /**< per-second stats line; 0: off */
	uint32_t idle_sleep_us;	     /**< a worker that found nothing in 64
				      *   polls in a row sleeps this long;
				      *   0: pure polling (the default) */
	char log_level[16];
	int workers_line; /**< line of `workers`, for start-up errors */
	unsigned n_ports;
	struct cfg_port ports[CFG_MAX_PORTS];
	unsigned n_pipelines;
	struct cfg_pipeline pipelines[CFG_MAX_PIPELINES];
	struct cfg_policy policy;
	struct cfg_admin admin;
	struct cfg_kafka kafka;
};

/** Names as they appear in a config and in the admin output. */
const char *cfg_action_name(enum cfg_action a);
const char *cfg_tier_name(enum cfg_tier t);
const char *cfg_egress_name(enum cfg_egress e);
int cfg_action_parse(const char *s, enum cfg_action *out);
int cfg_egress_parse(const char *s, enum cfg_egress *out);
int cfg_mode_parse(const char *s, enum tb_mode *out);
const char *cfg_ctrl_name(enum cfg_ctrl c);
int cfg_ctrl_parse(const char *s, enum cfg_ctrl *out);

/** The lowest rate the controller of bucket b may set (its floor, or the
 *  tier's emergency floor), never above the bucket's rate. */
double cfg_bucket_floor(const struct cfg *c, const struct cfg_bucket *b);

/** Fill the policy with the defaults of DESIGN.md's control loop. */
void cfg_policy_init(struct cfg_policy *p);

/**
 * Whether `next` can replace the running `cur` in place (a reload): same
 * EAL arguments, workers, ports, pipelines (names, ports, egress) and
 * buckets (names, tiers, order), same admin socket path. Returns 0, or
 * -EINVAL with the first difference in err ("... changed: needs a
 * restart").
 */
int cfg_reloadable(const struct cfg *cur, const struct cfg *next, char *err,
		   size_t err_len);

/** Fill the global settings with their defaults (no ports, pipelines). */
void cfg_init(struct cfg *c);

/** A bucket's defaults for a tier: drop, packets, 100 ms shape delay. */
void cfg_bucket_init(struct cfg_bucket *b, enum cfg_tier tier);

/**
 * Parse "a.b.c.d[/len]" or an IPv6 address "x:y::z[/len]" (no len: a host).
 * Returns 0 or -EINVAL.
 */
int cfg_prefix_parse(const char *s, struct cfg_prefix *out);

/** Whether a 16-byte (v4-mapped) address lies in a prefix. */
bool cfg_prefix_match(const struct cfg_prefix *p, const uint8_t addr[16]);

/** Where and what: a validation error. line is 0 when it has none. */
struct cfg_error {
	int line;
	char msg[CFG_ERR_LEN]; /**< "setting: what is wrong" */
};

/**
 * Check the whole model: names unique (buckets across every pipeline),
 * rates > 0 and within the bucket's range, bursts >= one message (1 in
 * packet mode, 64 bytes in byte mode), rules naming existing topics, ports
 * existing, egress rings named. Returns 0, or -EINVAL with *err filled.
 */
int cfg_validate(const struct cfg *c, struct cfg_error *err);

/**
 * Find the override of the longest prefix containing addr, or NULL.
 * Linear: called once per new consumer, not per message.
 */
const struct cfg_override *cfg_override_find(const struct cfg_consumers *cc,
					     const uint8_t addr[16]);

/** Free what a config owns; the struct itself is the caller's. */
void cfg_free(struct cfg *c);

#endif /* TG_CFG_H */
