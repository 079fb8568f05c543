/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sync thread (see kafka.h): it consumes the sync topic (every node's
 * records, kept as the latest per node and bucket) and the control topic
 * (replayed at start, then followed), and produces this node's sync
 * records right after each tick's report (at least every interval) and
 * the commands the control thread queued. The set-up and the control
 * thread's calls are in kafka.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_priv.h"
#include "log.h"

/* ---- the control topic ---- */

static void inq_push(struct kx *k, const struct kx_op *op)
{
	/* under mu */
	if (k->in_n == KX_INQ) {
		k->inq_dropped++;
		return;
	}
	k->inq[(k->in_head + k->in_n) % KX_INQ] = *op;
	k->in_n++;
}

static void replay_put(struct kx *k, const struct kx_op *op)
{
	struct kx_replay *r = &k->replay;
	unsigned i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->ops[i].key, op->key) == 0) {
			r->ops[i] = *op;
			return;
		}
	if (r->n == r->cap) {
		unsigned cap = r->cap ? r->cap * 2 : 64;
		struct kx_op *n = cap <= 65536 ?
					  realloc(r->ops, cap * sizeof(*n)) :
					  NULL;

		if (!n) {
			tg_log(TG_LOG_ERROR, "kafka: too many control keys; "
					     "ignoring %s",
			       op->key);
			return;
		}
		r->ops = n;
		r->cap = cap;
	}
	r->ops[r->n++] = *op;
}

/* Read back to the end: hand the state over, in key order of arrival. */
static void replay_check_done(struct kx *k)
{
	unsigned i;
	int p;

	for (p = 0; p < k->n_ctl_parts; p++)
		if (!k->ctl_done[p])
			return;
	pthread_mutex_lock(&k->mu);
	for (i = 0; i < k->replay.n; i++)
		inq_push(k, &k->replay.ops[i]);
	k->ready = true;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	tg_log(TG_LOG_NOTICE,
	       "kafka: %u command key(s) replayed from %s", k->replay.n,
	       k->ctl_topic);
	free(k->replay.ops);
	k->replay.ops = NULL;
	k->replay.n = k->replay.cap = 0;
}

static void on_ctl(struct kx *k, const rd_kafka_message_t *m)
{
	struct kx_op op;
	char err[160];
	bool ready;

	memset(&op, 0, sizeof(op));
	if (!m->key || m->key_len == 0 || m->key_len >= sizeof(op.key))
		goto bad;
	memcpy(op.key, m->key, m->key_len);
	op.key[m->key_len] = '\0';
	if (!sr_id_valid(op.key))
		goto bad;
	if (!m->payload) {
		op.tombstone = true;
	} else if (sr_ctl_decode(m->payload, m->len, &op.r, err,
				 sizeof(err)) < 0 ||
		   strcmp(op.r.key, op.key) != 0) {
		tg_log(TG_LOG_WARNING,
		       "kafka: %s partition %d offset %" PRId64
		       ": ignoring a command: %s",
		       k->ctl_topic, m->partition, m->offset,
		       strcmp(op.r.key, op.key) ? "key differs from the "
						  "record's" :
						  err);
		goto bad_counted;
	} else {
		op.self = strcmp(op.r.node, k->node) == 0 &&
			  op.r.inc == k->inc;
	}
	pthread_mutex_lock(&k->mu);
	k->ctl_recv++;
	ready = k->ready;
	if (ready)
		inq_push(k, &op);
	pthread_mutex_unlock(&k->mu);
	if (!ready) {
		op.replay = true;
		replay_put(k, &op);
	}
	return;
bad:
	tg_log(TG_LOG_WARNING,
	       "kafka: %s partition %d offset %" PRId64
	       ": ignoring a record without a valid key",
	       k->ctl_topic, m->partition, m->offset);
bad_counted:
	pthread_mutex_lock(&k->mu);
	k->ctl_bad++;
	pthread_mutex_unlock(&k->mu);
}

/* ---- the sync topic ---- */

/* Keep r as its node's latest record for bucket b (under mu). */
static void peer_put(struct kx *k, struct kx_bucket *b,
		     const struct sr_sync *r, uint64_t now, bool self)
{
	unsigned i, at;
	int c = 1;

	for (i = 0; i < b->n; i++) {
		c = strcmp(b->peers[i].node, r->node);
		if (c >= 0)
			break;
	}
	if (i < b->n && c == 0) {
		struct kx_peer *p = &b->peers[i];

		/* an older incarnation, or a record already seen */
		if (r->inc < p->inc || (r->inc == p->inc && r->seq <= p->seq))
			return;
		at = i;
	} else {
		if (b->n == KX_MAX_PEERS) {
			/* make room: the longest silent, if past 10 leases */
			unsigned j, old = 0;

			for (j = 1; j < b->n; j++)
				if (b->peers[j].seen_ns < b->peers[old].seen_ns)
					old = j;
			if (now - b->peers[old].seen_ns < 10 * k->lease_ns ||
			    b->peers[old].self)
				return;
			memmove(&b->peers[old], &b->peers[old + 1],
				(b->n - old - 1) * sizeof(b->peers[0]));
			b->n--;
			if (old < i)
				i--;
		}
		memmove(&b->peers[i + 1], &b->peers[i],
			(b->n - i) * sizeof(b->peers[0]));
		b->n++;
		at = i;
	}
	snprintf(b->peers[at].node, sizeof(b->peers[at].node), "%s", r->node);
	b->peers[at].inc = r->inc;
	b->peers[at].seq = r->seq;
	b->peers[at].demand_milli = r->demand_milli;
	b->peers[at].admitted_milli = r->admitted_milli;
	b->peers[at].rate_milli = r->rate_milli;
	b->peers[at].seen_ns = now;
	b->peers[at].self = self;
}

/* This node's own entry, as it will be sent (under mu). */
void kx_self_put(struct kx *k, struct kx_bucket *b,
		     const struct sr_sync *r)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		if (b->peers[i].self) {
			b->peers[i].demand_milli = r->demand_milli;
			b->peers[i].admitted_milli = r->admitted_milli;
			b->peers[i].rate_milli = r->rate_milli;
			b->peers[i].seen_ns = tg_mono_ns();
			return;
		}
	peer_put(k, b, r, tg_mono_ns(), true);
}

/* A node that stops says goodbye with a lease of 0: its share is free at
 * once rather than a lease later (under mu). */
static void peer_drop(struct kx_bucket *b, const struct sr_sync *r)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->peers[i].node, r->node) == 0 &&
		    b->peers[i].inc <= r->inc) {
			memmove(&b->peers[i], &b->peers[i + 1],
				(b->n - i - 1) * sizeof(b->peers[0]));
			b->n--;
			return;
		}
}

static void on_sync(struct kx *k, const rd_kafka_message_t *m, uint64_t now)
{
	struct sr_sync r;
	char err[160];
	uint64_t wall_ms = tg_wall_us() / 1000u, age_ms, seen = now;
	unsigned i;
	bool self;

	if (!m->payload ||
	    sr_sync_decode(m->payload, m->len, &r, err, sizeof(err)) < 0) {
		pthread_mutex_lock(&k->mu);
		k->sync_bad++;
		pthread_mutex_unlock(&k->mu);
		tg_log(TG_LOG_INFO,
		       "kafka: %s partition %d offset %" PRId64
		       ": ignoring a record: %s",
		       k->sync_topic, m->partition, m->offset,
		       m->payload ? err : "no value");
		return;
	}
	self = strcmp(r.node, k->node) == 0;
	if (self && r.inc != k->inc) {
		/* our node id from another process: a misconfiguration */
		if (r.inc > k->inc)
			tg_log(TG_LOG_ERROR,
			       "kafka: another process syncs as node %s: "
			       "node ids must be unique",
			       k->node);
		return;
	}
	pthread_mutex_lock(&k->mu);
	k->sync_recv++;
	if (self) {
		/* our own record back: the broker takes and gives */
		k->own_seen_ns = now;
		pthread_mutex_unlock(&k->mu);
		return;
	}
	/* queued during an outage and delivered late: stale */
	if (r.ts_ms + k->lease_ns / 1000000u < wall_ms) {
		k->sync_stale++;
		pthread_mutex_unlock(&k->mu);
		return;
	}
	age_ms = wall_ms > r.ts_ms ? wall_ms - r.ts_ms : 0;
	if (now - k->listen_ns < k->lease_ns) {
		/* the last lease's records, read back when we joined: a
		 * record is as old as it says, so a node that died just
		 * before we came is not live a lease longer */
		seen = now - age_ms * 1000000u;
	} else {
		/* transit, live records only: the sender's clock to ours
		 * (NTP-synced in production; one clock in tests) */
		k->transit_sum_ms += age_ms;
		k->transit_n++;
		if (age_ms > k->transit_max_ms)
			k->transit_max_ms = age_ms;
	}
	for (i = 0; i < k->nb; i++)
		if (strcmp(k->b[i].id, r.bucket) == 0) {
			if (r.lease_ms == 0)
				peer_drop(&k->b[i], &r);
			else
				peer_put(k, &k->b[i], &r, seen, false);
		}
	pthread_mutex_unlock(&k->mu);
}

/* bye: a last record per bucket with a lease of 0 (see peer_drop) */
static void send_sync(struct kx *k, bool bye)
{
	uint64_t ts = tg_wall_us() / 1000u;
	unsigned i;

	for (i = 0; i < k->nb; i++) {
		struct sr_sync r;
		char buf[SR_MAX_LEN];
		int len;

		memset(&r, 0, sizeof(r));
		pthread_mutex_lock(&k->mu);
		snprintf(r.bucket, sizeof(r.bucket), "%s", k->b[i].id);
		r.demand_milli = kx_rate_milli(k->b[i].demand_rate);
		r.admitted_milli = kx_rate_milli(k->b[i].admitted_rate);
		r.rate_milli = kx_rate_milli(k->b[i].cluster_rate);
		pthread_mutex_unlock(&k->mu);
		snprintf(r.node, sizeof(r.node), "%s", k->node);
		r.inc = k->inc;
		r.seq = ++k->sync_seq;
		r.ts_ms = ts;
		r.interval_ms = k->interval_ns / 1000000u;
		r.lease_ms = bye ? 0 : k->lease_ns / 1000000u;
		len = sr_sync_encode(&r, buf, sizeof(buf));
		if (len < 0)
			continue;
		if (rd_kafka_produce(k->sync_t, RD_KAFKA_PARTITION_UA,
				     RD_KAFKA_MSG_F_COPY, buf, (size_t)len,
				     r.bucket, strlen(r.bucket), NULL) < 0) {
			pthread_mutex_lock(&k->mu);
			k->sync_dropped++;
			pthread_mutex_unlock(&k->mu);
			continue;
		}
		pthread_mutex_lock(&k->mu);
		k->sync_sent++;
		pthread_mutex_unlock(&k->mu);
	}
}

void kx_send_ctl_queue(struct kx *k)
{
	for (;;) {
		struct kx_out o;

		pthread_mutex_lock(&k->mu);
		if (!k->out_n) {
			pthread_mutex_unlock(&k->mu);
			return;
		}
		o = k->outq[k->out_head];
		pthread_mutex_unlock(&k->mu);
		if (rd_kafka_produce(k->ctl_t, RD_KAFKA_PARTITION_UA,
				     RD_KAFKA_MSG_F_COPY,
				     o.tombstone ? NULL : o.val,
				     o.tombstone ? 0 : o.len, o.key,
				     strlen(o.key), NULL) < 0) {
			if (rd_kafka_last_error() ==
			    RD_KAFKA_RESP_ERR__QUEUE_FULL)
				return; /* try again next loop */
			tg_log(TG_LOG_ERROR,
			       "kafka: cannot send a command for %s: %s",
			       o.key, rd_kafka_err2str(rd_kafka_last_error()));
			pthread_mutex_lock(&k->mu);
			k->ctl_dropped++;
		} else {
			pthread_mutex_lock(&k->mu);
			k->ctl_sent++;
		}
		k->out_head = (k->out_head + 1) % KX_OUTQ;
		k->out_n--;
		pthread_mutex_unlock(&k->mu);
	}
}

static void consume(struct kx *k, int timeout_ms)
{
	unsigned i;

	for (i = 0; i < 4096; i++) {
		rd_kafka_message_t *m =
			rd_kafka_consumer_poll(k->cons, i ? 0 : timeout_ms);
		const char *t;

		if (!m)
			return;
		t = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (strcmp(t, k->ctl_topic) == 0 &&
			    m->partition < k->n_ctl_parts &&
			    m->offset >= k->ctl_high[m->partition])
				k->ctl_done[m->partition] = true;
		} else if (m->err) {
			kx_set_error(k, "consume: %s", rd_kafka_message_errstr(m));
		} else if (strcmp(t, k->sync_topic) == 0) {
			on_sync(k, m, tg_mono_ns());
		} else if (strcmp(t, k->ctl_topic) == 0) {
			if (m->partition < k->n_ctl_parts &&
			    m->offset + 1 >= k->ctl_high[m->partition])
				k->ctl_done[m->partition] = true;
			on_ctl(k, m);
		}
		rd_kafka_message_destroy(m);
	}
}

/* Log when the broker stops or starts taking and giving our records. */
static void watch_broker(struct kx *k, uint64_t now)
{
	uint64_t seen;
	char err[256];

	pthread_mutex_lock(&k->mu);
	seen = k->own_seen_ns;
	snprintf(err, sizeof(err), "%s", k->last_error);
	pthread_mutex_unlock(&k->mu);
	if (seen && now - seen < k->lease_ns) {
		if (!k->broker_up_logged)
			tg_log(TG_LOG_NOTICE,
			       "kafka: in sync through %s as node %s",
			       k->brokers, k->node);
		k->broker_up_logged = true;
		k->broker_down_logged = false;
	} else if (!k->broker_down_logged &&
		   (k->broker_up_logged || !k->listen_ns ||
		    now - k->listen_ns > 2 * k->lease_ns)) {
		tg_log(TG_LOG_ERROR,
		       "kafka: no sync record came back for a lease (%.1f "
		       "s): Kafka unreachable%s%s",
		       (double)k->lease_ns / 1e9, err[0] ? ": " : "", err);
		k->broker_down_logged = true;
		k->broker_up_logged = false;
	}
}

void *kx_sync_main(void *arg)
{
	struct kx *k = arg;
	uint64_t next_setup = 0, last_sync = 0;
	bool reported;

	while (!k->stop) {
		uint64_t now = tg_mono_ns();
		int wait_ms = 10;

		if (!k->set_up && now >= next_setup) {
			k->set_up = kx_setup(k) == 0;
			next_setup = tg_mono_ns() + 1000000000u;
			if (!k->set_up) {
				/* serve librdkafka, then try again */
				rd_kafka_poll(k->prod, 100);
				continue;
			}
			last_sync = 0;
		}
		now = tg_mono_ns();
		pthread_mutex_lock(&k->mu);
		reported = k->reported;
		pthread_mutex_unlock(&k->mu);
		/* send right after a tick's report (the numbers are fresh
		 * and the others get them a tick sooner), at the interval;
		 * and at the interval anyway should the ticks stop */
		if (k->set_up &&
		    (now >= last_sync + k->interval_ns ||
		     (reported &&
		      now + k->tick_ns / 2 >= last_sync + k->interval_ns))) {
			pthread_mutex_lock(&k->mu);
			k->reported = false;
			pthread_mutex_unlock(&k->mu);
			send_sync(k, false);
			last_sync = now;
			watch_broker(k, now);
		}
		kx_send_ctl_queue(k);
		rd_kafka_poll(k->prod, 0);
		if (k->set_up && !k->ready)
			replay_check_done(k);
		if (k->set_up)
			consume(k, wait_ms);
		else
			rd_kafka_poll(k->prod, wait_ms);
	}
	if (k->set_up)
		send_sync(k, true);
	return NULL;
}
