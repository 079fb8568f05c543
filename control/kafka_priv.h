/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Internals shared by kafka.c (set-up, the sync thread, the control
 * thread's calls) and kafka_lag.c (the consumer-group lag thread).
 */
#ifndef TG_CONTROL_KAFKA_PRIV_H
#define TG_CONTROL_KAFKA_PRIV_H

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "kafka.h"

#define KX_INQ 1024	     /* commands read, not yet taken */
#define KX_OUTQ 256	     /* commands to send */
#define KX_MAX_PARTS 1024    /* partitions per topic we read */
#define KX_CALL_TIMEOUT_MS 1000

struct kx_out {
	char key[SR_ID_LEN];
	bool tombstone;
	size_t len;
	char val[SR_MAX_LEN];
};

/* One shared bucket: what the control thread reported, what the cluster
 * said. Under mu. */
struct kx_bucket {
	char id[SR_ID_LEN];
	double demand_rate, admitted_rate, cluster_rate;
	unsigned n;
	struct kx_peer peers[KX_MAX_PEERS];
};

/* The state of the control topic being read back at start (sync thread
 * only): last value per key. */
struct kx_replay {
	unsigned n, cap;
	struct kx_op *ops;
};

struct kx_lag {
	struct cfg_kafka_lag cfg;
	uint64_t lag;
	uint64_t at_ns; /* when measured; 0: never */
	char err[160];
};

struct kx {
	/* settings, read only once the threads run */
	char node[SR_ID_LEN];
	uint64_t inc;
	char brokers[CFG_KAFKA_STR_LEN];
	char sync_topic[CFG_KAFKA_STR_LEN], ctl_topic[CFG_KAFKA_STR_LEN];
	uint64_t interval_ns, lease_ns, lag_interval_ns, tick_ns;
	uint32_t partitions, replication;

	rd_kafka_t *prod, *cons, *lagrk;
	rd_kafka_topic_t *sync_t, *ctl_t;
	pthread_t sync_th, lag_th;
	bool sync_started, lag_started;
	volatile int stop;

	/* sync thread only */
	bool set_up;
	int n_sync_parts, n_ctl_parts;
	int64_t ctl_high[KX_MAX_PARTS];
	bool ctl_done[KX_MAX_PARTS];
	struct kx_replay replay;
	uint64_t sync_seq;
	bool broker_up_logged, broker_down_logged;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	unsigned nb;
	struct kx_bucket b[KX_MAX_SHARED];
	uint64_t own_seen_ns, listen_ns;
	bool ready;
	struct kx_op inq[KX_INQ];
	unsigned in_head, in_n;
	struct kx_out outq[KX_OUTQ];
	unsigned out_head, out_n;
	uint64_t ctl_seq;
	bool reported; /* a tick reported since the last send */
	unsigned n_lag;
	struct kx_lag lag[CFG_KAFKA_MAX_LAG];
	/* counters, under mu */
	uint64_t sync_sent, sync_recv, sync_bad, sync_stale, sync_dropped;
	uint64_t ctl_sent, ctl_recv, ctl_bad, ctl_dropped;
	uint64_t delivery_errors, inq_dropped;
	uint64_t transit_sum_ms, transit_n, transit_max_ms; /* peers' records */
	char last_error[256];
	uint64_t last_error_ns;
};

static inline uint64_t kx_rate_milli(double r)
{
	if (!(r > 0))
		return 0;
	if (r * 1000 >= (double)SR_RATE_MILLI_MAX)
		return SR_RATE_MILLI_MAX;
	return (uint64_t)llround(r * 1000);
}

/* Note the last error, for status (any thread). */
void kx_set_error(struct kx *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The number of partitions of a topic, or -errno (blocks up to KX_CALL_TIMEOUT_MS). */
int kx_topic_parts(rd_kafka_t *rk, rd_kafka_topic_t *t);

/* Topics created when missing, partitions known, assigned: 0 or -EAGAIN
 * (kafka.c; sync thread). */
int kx_setup(struct kx *k);

/* This node's own entry of a bucket, as it will be sent (kafka_sync.c;
 * under mu). */
void kx_self_put(struct kx *k, struct kx_bucket *b, const struct sr_sync *r);

/* Produce the queued commands (kafka_sync.c; sync thread, or kx_free once
 * it stopped). */
void kx_send_ctl_queue(struct kx *k);

/* The sync thread (kafka_sync.c). */
void *kx_sync_main(void *arg);

/* The lag thread (kafka_lag.c). */
void *kx_lag_main(void *arg);

#endif /* TG_CONTROL_KAFKA_PRIV_H */
