/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kafka for the control plane (DESIGN.md, "One bucket, many servers"): the
 * sync of shared buckets, the control topic of operator overrides, and
 * consumer-group lag. Everything that talks to Kafka runs on two threads
 * of its own (sync and lag), never on a worker nor on the control thread:
 * the control thread only exchanges plain numbers with them under a mutex
 * that neither holds across a Kafka call, so a dead broker cannot stall a
 * tick.
 *
 * The control thread, each tick: kx_report() its shared buckets' demand,
 * kx_view() what the cluster said, kx_next_op() the operators' commands
 * from other nodes; and kx_send_ctl() the commands given here. The sync
 * thread produces one record per shared bucket every sync interval,
 * consumes every partition of the sync topic (no consumer group) and keeps
 * the latest record of each node; the control topic is read from the
 * beginning at start (kx_wait_ready) and followed after that.
 */
#ifndef TG_CONTROL_KAFKA_H
#define TG_CONTROL_KAFKA_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cfg.h"
#include "share.h"
#include "syncrec.h"

#define KX_MAX_SHARED 64 /* shared buckets per node */
#define KX_MAX_PEERS SHARE_MAX_PEERS /* nodes per shared bucket */

struct kx;

/** The latest record of one node for one shared bucket. */
struct kx_peer {
	char node[SR_ID_LEN];
	uint64_t inc, seq;
	uint64_t demand_milli, admitted_milli, rate_milli;
	uint64_t seen_ns; /**< when it arrived, monotonic ns */
	bool self;	  /**< this node's own (last sent) record */
};

/** What the cluster said about one shared bucket, copied for the tick. */
struct kx_view {
	unsigned n; /**< peers[0..n), sorted by node id; self among them
		     *   once this node sent a record */
	struct kx_peer peers[KX_MAX_PEERS];
	uint64_t own_seen_ns; /**< last time a record of ours came back: the
			       *   broker answers (0: never) */
	uint64_t listen_ns;   /**< since when the sync topic is read */
};

/** An operator's command from the control topic. */
struct kx_op {
	char key[SR_ID_LEN];
	bool tombstone;	 /**< override cleared / severity automatic */
	bool replay;	 /**< read back at start: state only, no action */
	bool self;	 /**< sent by this very process */
	struct sr_ctl r; /**< the record (unset for a tombstone) */
};

/**
 * Set up (no thread, no connection yet). shared[] are the shared ids of
 * the node's shared buckets, in the order kx_report()/kx_view() index them.
 * Returns NULL with a message in err (a bad librdkafka property, ...).
 * Control thread (or main).
 */
struct kx *kx_new(const struct cfg *cfg, const char *const *shared,
		  unsigned n_shared, char *err, size_t err_len);

/** Start the threads. Returns 0 or -errno. */
int kx_start(struct kx *k);

/**
 * Wait until the control topic was read to its end and the sync topic was
 * listened to for 1.5 sync intervals, or timeout_s passed. Returns 0 when
 * ready, -ETIMEDOUT otherwise (the threads go on trying), -EINTR when
 * *stop (may be NULL) became non-zero. Main, before the data plane
 * starts.
 */
int kx_wait_ready(struct kx *k, double timeout_s,
		  volatile const sig_atomic_t *stop);

/** This node's id. */
const char *kx_node(const struct kx *k);

/** Report shared bucket i's last tick (per second rates). Control thread. */
void kx_report(struct kx *k, unsigned i, double demand_rate,
	       double admitted_rate, double cluster_rate);

/** Copy what the cluster said of shared bucket i. Control thread. */
void kx_view(struct kx *k, unsigned i, struct kx_view *v);

/** Take the next command from the control topic: 1, or 0 when none. */
int kx_next_op(struct kx *k, struct kx_op *op);

/**
 * Send a command to the control topic: the state of key after it, or a
 * tombstone when r is NULL. Fills r's node, inc, seq and ts. Queued; never
 * blocks. Returns 0, or -ENOBUFS when the queue is full. Control thread.
 */
int kx_send_ctl(struct kx *k, const char *key, struct sr_ctl *r);

/** Consumer-group lag source i (cfg->kafka.lag[i]): 0 and the lag, or
 *  -EAGAIN when not known recently. Control thread. */
int kx_lag(struct kx *k, unsigned i, uint64_t *lag_msgs);

/** Counters and connection state as JSON, for status. Control thread. */
json_t *kx_status_json(struct kx *k);

/** Stop the threads, flush for up to a second, free. NULL is fine. */
void kx_free(struct kx *k);

#endif /* TG_CONTROL_KAFKA_H */
