/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kafka for the control plane (see kafka.h). Two threads:
 *
 * - sync: sets up the topics (created when missing), then loops: consume
 *   the sync topic (every partition, from its end, no consumer group) and
 *   the control topic (from the beginning), produce this node's sync
 *   records every interval and the operators' commands queued by the
 *   control thread;
 * - lag: polls the configured consumer groups' committed offsets and the
 *   topics' high watermarks (calls that block for up to a few seconds when
 *   the broker is away, hence a thread of their own).
 *
 * The control thread sees plain copies under k->mu, which no thread holds
 * across a Kafka call.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "log.h"

#define KX_INQ 1024	     /* commands read, not yet taken */
#define KX_OUTQ 256	     /* commands to send */
#define KX_MAX_PARTS 1024    /* partitions per topic we read */
#define KX_CALL_TIMEOUT_MS 2000

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

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void set_error(struct kx *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct kx *k, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&k->mu);
	va_start(ap, fmt);
	vsnprintf(k->last_error, sizeof(k->last_error), fmt, ap);
	va_end(ap);
	k->last_error_ns = mono_ns();
	pthread_mutex_unlock(&k->mu);
}

/* ---- librdkafka callbacks (librdkafka's own threads, or poll) ---- */

static void log_cb(const rd_kafka_t *rk, int level, const char *fac,
		   const char *buf)
{
	(void)rk;
	/* librdkafka repeats a connection error on every retry: its words
	 * go to the debug level; tidegate logs the state changes itself */
	(void)level;
	tg_log(TG_LOG_DEBUG, "librdkafka %s: %s", fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason,
		     void *opaque)
{
	struct kx *k = opaque;

	(void)rk;
	set_error(k, "%s: %s", rd_kafka_err2name(err), reason);
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[256];

		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		tg_log(TG_LOG_ERROR, "kafka: fatal error: %s", buf);
	}
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kx *k = opaque;

	(void)rk;
	if (!m->err)
		return;
	pthread_mutex_lock(&k->mu);
	k->delivery_errors++;
	pthread_mutex_unlock(&k->mu);
	set_error(k, "delivery to %s: %s", rd_kafka_topic_name(m->rkt),
		  rd_kafka_err2str(m->err));
	if (m->rkt && strcmp(rd_kafka_topic_name(m->rkt), k->ctl_topic) == 0)
		tg_log(TG_LOG_ERROR,
		       "kafka: a command for %.*s was not delivered to %s: %s",
		       (int)m->key_len, (const char *)m->key, k->ctl_topic,
		       rd_kafka_err2str(m->err));
}

/* ---- set-up ---- */

static int conf_set(rd_kafka_conf_t *c, const char *name, const char *val,
		    char *err, size_t err_len)
{
	char e[256];

	if (rd_kafka_conf_set(c, name, val, e, sizeof(e)) == RD_KAFKA_CONF_OK)
		return 0;
	snprintf(err, err_len, "kafka: %s=%s: %s", name, val, e);
	return -EINVAL;
}

/* Our defaults, then the config's properties (which win). */
static rd_kafka_conf_t *make_conf(struct kx *k, const struct cfg_kafka *kc,
				  bool producer, const char *group, char *err,
				  size_t err_len)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char client[SR_ID_LEN + 32];
	unsigned i;

	snprintf(client, sizeof(client), "tidegate-%s", k->node);
	if (conf_set(c, "bootstrap.servers", kc->brokers, err, err_len) ||
	    conf_set(c, "client.id", client, err, err_len) ||
	    conf_set(c, "socket.nagle.disable", "true", err, err_len) ||
	    conf_set(c, "reconnect.backoff.ms", "100", err, err_len) ||
	    conf_set(c, "reconnect.backoff.max.ms", "1000", err, err_len))
		goto fail;
	if (producer && (conf_set(c, "enable.idempotence", "true", err,
				  err_len) ||
			 conf_set(c, "linger.ms", "0", err, err_len)))
		goto fail;
	if (group && (conf_set(c, "group.id", group, err, err_len) ||
		      conf_set(c, "enable.auto.commit", "false", err,
			       err_len) ||
		      conf_set(c, "enable.auto.offset.store", "false", err,
			       err_len) ||
		      conf_set(c, "enable.partition.eof", "true", err,
			       err_len) ||
		      conf_set(c, "fetch.wait.max.ms", "50", err, err_len)))
		goto fail;
	for (i = 0; i < kc->n_props; i++) {
		char name[256];
		const char *eq = strchr(kc->props[i], '=');
		size_t n = eq ? (size_t)(eq - kc->props[i]) : 0;

		if (!eq || n == 0 || n >= sizeof(name)) {
			snprintf(err, err_len,
				 "kafka.properties: '%s' is not name=value",
				 kc->props[i]);
			goto fail;
		}
		memcpy(name, kc->props[i], n);
		name[n] = '\0';
		/* a property of the other kind of client is not an error */
		if (conf_set(c, name, eq + 1, err, err_len) < 0 &&
		    !strstr(err, "No such configuration property"))
			goto fail;
	}
	rd_kafka_conf_set_opaque(c, k);
	rd_kafka_conf_set_log_cb(c, log_cb);
	rd_kafka_conf_set_error_cb(c, error_cb);
	if (producer)
		rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
	return c;
fail:
	rd_kafka_conf_destroy(c);
	return NULL;
}

static rd_kafka_t *make_client(struct kx *k, const struct cfg_kafka *kc,
			       rd_kafka_type_t type, const char *group,
			       char *err, size_t err_len)
{
	rd_kafka_conf_t *c = make_conf(k, kc, type == RD_KAFKA_PRODUCER, group,
				       err, err_len);
	char e[512];
	rd_kafka_t *rk;

	if (!c)
		return NULL;
	rk = rd_kafka_new(type, c, e, sizeof(e));
	if (!rk) {
		rd_kafka_conf_destroy(c);
		snprintf(err, err_len, "kafka: cannot create a client: %s", e);
	}
	return rk;
}

static rd_kafka_topic_t *make_topic(rd_kafka_t *rk, const char *name,
				    const char *timeout_ms)
{
	rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
	char e[256];

	if (timeout_ms &&
	    rd_kafka_topic_conf_set(tc, "message.timeout.ms", timeout_ms, e,
				    sizeof(e)) != RD_KAFKA_CONF_OK)
		tg_log(TG_LOG_WARNING, "kafka: %s: %s", name, e);
	return rd_kafka_topic_new(rk, name, tc);
}

struct kx *kx_new(const struct cfg *cfg, const char *const *shared,
		  unsigned n_shared, char *err, size_t err_len)
{
	const struct cfg_kafka *kc = &cfg->kafka;
	struct kx *k;
	char tmo[32];
	unsigned i;

	if (n_shared > KX_MAX_SHARED) {
		snprintf(err, err_len, "kafka: at most %d shared buckets",
			 KX_MAX_SHARED);
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	snprintf(k->node, sizeof(k->node), "%s", kc->node);
	k->inc = wall_us();
	snprintf(k->brokers, sizeof(k->brokers), "%s", kc->brokers);
	snprintf(k->sync_topic, sizeof(k->sync_topic), "%s", kc->sync_topic);
	snprintf(k->ctl_topic, sizeof(k->ctl_topic), "%s", kc->control_topic);
	k->interval_ns = (uint64_t)llround(kc->sync_interval_s * 1e9);
	k->lease_ns = (uint64_t)llround(kc->lease_s * 1e9);
	k->lag_interval_ns = (uint64_t)llround(kc->lag_interval_s * 1e9);
	k->tick_ns = (uint64_t)llround(cfg->policy.tick_s * 1e9);
	k->partitions = kc->partitions;
	k->replication = kc->replication;
	k->nb = n_shared;
	for (i = 0; i < n_shared; i++)
		snprintf(k->b[i].id, sizeof(k->b[i].id), "%s", shared[i]);
	k->n_lag = kc->n_lag;
	for (i = 0; i < kc->n_lag; i++)
		k->lag[i].cfg = kc->lag[i];
	k->prod = make_client(k, kc, RD_KAFKA_PRODUCER, NULL, err, err_len);
	if (!k->prod)
		goto fail;
	k->cons = make_client(k, kc, RD_KAFKA_CONSUMER, "tidegate-sync-reader",
			      err, err_len);
	if (!k->cons)
		goto fail;
	if (kc->n_lag) {
		k->lagrk = make_client(k, kc, RD_KAFKA_PRODUCER, NULL, err,
				       err_len);
		if (!k->lagrk)
			goto fail;
	}
	/* a sync record older than a lease is useless: never queue one for
	 * longer; a command waits for the broker as long as librdkafka's
	 * default (5 minutes) */
	snprintf(tmo, sizeof(tmo), "%" PRIu64, k->lease_ns / 1000000u);
	k->sync_t = make_topic(k->prod, k->sync_topic, tmo);
	k->ctl_t = make_topic(k->prod, k->ctl_topic, NULL);
	if (!k->sync_t || !k->ctl_t) {
		snprintf(err, err_len, "kafka: cannot create topic handles: %s",
			 rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	return k;
fail:
	kx_free(k);
	return NULL;
}

const char *kx_node(const struct kx *k)
{
	return k->node;
}

uint64_t kx_inc(const struct kx *k)
{
	return k->inc;
}

/* Create the topics when missing; "already exists" is success. */
static void create_topics(struct kx *k)
{
	rd_kafka_NewTopic_t *nt[2];
	rd_kafka_queue_t *q = rd_kafka_queue_new(k->prod);
	rd_kafka_AdminOptions_t *o =
		rd_kafka_AdminOptions_new(k->prod, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_event_t *ev;
	char e[256];
	unsigned i;

	nt[0] = rd_kafka_NewTopic_new(k->sync_topic, (int)k->partitions,
				      (int)k->replication, e, sizeof(e));
	nt[1] = rd_kafka_NewTopic_new(k->ctl_topic, (int)k->partitions,
				      (int)k->replication, e, sizeof(e));
	if (!nt[0] || !nt[1])
		goto out;
	/* sync records matter for a lease: keep them an hour for people
	 * reading them with kcat. Commands: the last per key, forever; a
	 * short segment so that compaction can work on it */
	rd_kafka_NewTopic_set_config(nt[0], "retention.ms", "3600000");
	rd_kafka_NewTopic_set_config(nt[0], "segment.ms", "600000");
	rd_kafka_NewTopic_set_config(nt[1], "cleanup.policy", "compact");
	rd_kafka_NewTopic_set_config(nt[1], "segment.ms", "60000");
	rd_kafka_NewTopic_set_config(nt[1], "min.cleanable.dirty.ratio",
				     "0.1");
	rd_kafka_AdminOptions_set_operation_timeout(o, KX_CALL_TIMEOUT_MS, e,
						    sizeof(e));
	rd_kafka_AdminOptions_set_request_timeout(o, KX_CALL_TIMEOUT_MS, e,
						  sizeof(e));
	rd_kafka_CreateTopics(k->prod, nt, 2, o, q);
	ev = rd_kafka_queue_poll(q, KX_CALL_TIMEOUT_MS + 1000);
	if (ev) {
		const rd_kafka_CreateTopics_result_t *res =
			rd_kafka_event_CreateTopics_result(ev);
		const rd_kafka_topic_result_t **tr;
		size_t n = 0;

		tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
		for (i = 0; tr && i < n; i++) {
			rd_kafka_resp_err_t er = rd_kafka_topic_result_error(tr[i]);

			if (er == RD_KAFKA_RESP_ERR_NO_ERROR)
				tg_log(TG_LOG_NOTICE,
				       "kafka: created topic %s (%u "
				       "partition(s), replication %u)",
				       rd_kafka_topic_result_name(tr[i]),
				       k->partitions, k->replication);
			else if (er != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
				tg_log(TG_LOG_WARNING,
				       "kafka: cannot create topic %s: %s",
				       rd_kafka_topic_result_name(tr[i]),
				       rd_kafka_topic_result_error_string(
					       tr[i]));
		}
		rd_kafka_event_destroy(ev);
	}
out:
	for (i = 0; i < 2; i++)
		if (nt[i])
			rd_kafka_NewTopic_destroy(nt[i]);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_queue_destroy(q);
}

/* The number of partitions of a topic, or -errno. */
static int topic_parts(rd_kafka_t *rk, rd_kafka_topic_t *t)
{
	const struct rd_kafka_metadata *md;
	int n;

	if (rd_kafka_metadata(rk, 0, t, &md, KX_CALL_TIMEOUT_MS))
		return -EAGAIN;
	if (md->topic_cnt != 1 || md->topics[0].err ||
	    md->topics[0].partition_cnt <= 0) {
		rd_kafka_metadata_destroy(md);
		return -ENOENT;
	}
	n = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	return n > KX_MAX_PARTS ? KX_MAX_PARTS : n;
}

/* Topics there, partitions known, control topic's ends noted, assigned:
 * the sync topic from its end, the control topic from its beginning. */
static int setup(struct kx *k)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t er;
	int i, ns, nc;

	create_topics(k);
	ns = topic_parts(k->prod, k->sync_t);
	nc = topic_parts(k->prod, k->ctl_t);
	if (ns < 0 || nc < 0)
		return -EAGAIN;
	for (i = 0; i < nc; i++) {
		int64_t lo, hi;

		er = rd_kafka_query_watermark_offsets(k->prod, k->ctl_topic, i,
						      &lo, &hi,
						      KX_CALL_TIMEOUT_MS);
		if (er)
			return -EAGAIN;
		/* done at the partition's end event, also when it is
		 * empty: then the consumer is fetching it for sure */
		k->ctl_high[i] = hi;
		k->ctl_done[i] = false;
		(void)lo;
	}
	/* the sync topic from a lease ago: a node that joins hears every
	 * live node at once (older records are stale anyway) */
	l = rd_kafka_topic_partition_list_new(ns);
	for (i = 0; i < ns; i++)
		rd_kafka_topic_partition_list_add(l, k->sync_topic, i)->offset =
			(int64_t)(wall_us() / 1000u - k->lease_ns / 1000000u);
	if (rd_kafka_offsets_for_times(k->cons, l, KX_CALL_TIMEOUT_MS))
		for (i = 0; i < ns; i++)
			l->elems[i].offset = RD_KAFKA_OFFSET_END;
	for (i = 0; i < ns; i++)
		if (l->elems[i].err || l->elems[i].offset < 0)
			l->elems[i].offset = RD_KAFKA_OFFSET_END;
	for (i = 0; i < nc; i++) {
		rd_kafka_topic_partition_t *p =
			rd_kafka_topic_partition_list_add(l, k->ctl_topic, i);

		p->offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	er = rd_kafka_assign(k->cons, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (er) {
		tg_log(TG_LOG_ERROR, "kafka: cannot assign partitions: %s",
		       rd_kafka_err2str(er));
		return -EAGAIN;
	}
	k->n_sync_parts = ns;
	k->n_ctl_parts = nc;
	pthread_mutex_lock(&k->mu);
	k->listen_ns = mono_ns();
	pthread_mutex_unlock(&k->mu);
	tg_log(TG_LOG_NOTICE,
	       "kafka: node %s reading %s (%d partition(s)) and %s (%d); "
	       "replaying commands",
	       k->node, k->sync_topic, ns, k->ctl_topic, nc);
	return 0;
}

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
static void self_put(struct kx *k, struct kx_bucket *b,
		     const struct sr_sync *r)
{
	unsigned i;

	for (i = 0; i < b->n; i++)
		if (b->peers[i].self) {
			b->peers[i].demand_milli = r->demand_milli;
			b->peers[i].admitted_milli = r->admitted_milli;
			b->peers[i].rate_milli = r->rate_milli;
			b->peers[i].seen_ns = mono_ns();
			return;
		}
	peer_put(k, b, r, mono_ns(), true);
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
	uint64_t wall_ms = wall_us() / 1000u;
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
	/* transit: the sender's clock to ours (both NTP-synced in
	 * production; one clock in tests) */
	if (wall_ms >= r.ts_ms) {
		k->transit_sum_ms += wall_ms - r.ts_ms;
		k->transit_n++;
		if (wall_ms - r.ts_ms > k->transit_max_ms)
			k->transit_max_ms = wall_ms - r.ts_ms;
	}
	for (i = 0; i < k->nb; i++)
		if (strcmp(k->b[i].id, r.bucket) == 0) {
			if (r.lease_ms == 0)
				peer_drop(&k->b[i], &r);
			else
				peer_put(k, &k->b[i], &r, now, false);
		}
	pthread_mutex_unlock(&k->mu);
}

static uint64_t rate_milli(double r)
{
	if (!(r > 0))
		return 0;
	if (r * 1000 >= (double)SR_RATE_MILLI_MAX)
		return SR_RATE_MILLI_MAX;
	return (uint64_t)llround(r * 1000);
}

/* bye: a last record per bucket with a lease of 0 (see peer_drop) */
static void send_sync(struct kx *k, bool bye)
{
	uint64_t ts = wall_us() / 1000u;
	unsigned i;

	for (i = 0; i < k->nb; i++) {
		struct sr_sync r;
		char buf[SR_MAX_LEN];
		int len;

		memset(&r, 0, sizeof(r));
		pthread_mutex_lock(&k->mu);
		snprintf(r.bucket, sizeof(r.bucket), "%s", k->b[i].id);
		r.demand_milli = rate_milli(k->b[i].demand_rate);
		r.admitted_milli = rate_milli(k->b[i].admitted_rate);
		r.rate_milli = rate_milli(k->b[i].cluster_rate);
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

static void send_ctl_queue(struct kx *k)
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
			set_error(k, "consume: %s", rd_kafka_message_errstr(m));
		} else if (strcmp(t, k->sync_topic) == 0) {
			on_sync(k, m, mono_ns());
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

static void *sync_main(void *arg)
{
	struct kx *k = arg;
	uint64_t next_setup = 0, last_sync = 0;
	bool reported;

	while (!k->stop) {
		uint64_t now = mono_ns();
		int wait_ms = 10;

		if (!k->set_up && now >= next_setup) {
			k->set_up = setup(k) == 0;
			next_setup = mono_ns() + 1000000000u;
			if (!k->set_up) {
				/* serve librdkafka, then try again */
				rd_kafka_poll(k->prod, 100);
				continue;
			}
			last_sync = 0;
		}
		now = mono_ns();
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
		send_ctl_queue(k);
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

/* ---- consumer-group lag ---- */

/* The lag of one (group, topic), or -errno with a reason. */
static int measure_lag(struct kx *k, rd_kafka_topic_t *t,
		       const struct cfg_kafka_lag *lc, uint64_t *out,
		       char *err, size_t err_len)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_ListConsumerGroupOffsets_t *req;
	rd_kafka_queue_t *q;
	rd_kafka_AdminOptions_t *o;
	rd_kafka_event_t *ev;
	const rd_kafka_group_result_t **gr;
	const rd_kafka_topic_partition_list_t *got;
	uint64_t lag = 0;
	size_t ng = 0;
	int i, np, rc = 0;

	np = topic_parts(k->lagrk, t);
	if (np < 0) {
		snprintf(err, err_len, "topic %s: %s", lc->topic,
			 np == -ENOENT ? "no such topic" : "no metadata");
		return np;
	}
	l = rd_kafka_topic_partition_list_new(np);
	for (i = 0; i < np; i++)
		rd_kafka_topic_partition_list_add(l, lc->topic, i);
	req = rd_kafka_ListConsumerGroupOffsets_new(lc->group, l);
	q = rd_kafka_queue_new(k->lagrk);
	o = rd_kafka_AdminOptions_new(k->lagrk,
				      RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
	rd_kafka_AdminOptions_set_request_timeout(o, KX_CALL_TIMEOUT_MS, err,
						  err_len);
	rd_kafka_ListConsumerGroupOffsets(k->lagrk, &req, 1, o, q);
	ev = rd_kafka_queue_poll(q, KX_CALL_TIMEOUT_MS + 1000);
	if (!ev || rd_kafka_event_error(ev)) {
		snprintf(err, err_len, "group %s: %s", lc->group,
			 ev ? rd_kafka_event_error_string(ev) : "timed out");
		rc = -EAGAIN;
		goto out;
	}
	gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
		rd_kafka_event_ListConsumerGroupOffsets_result(ev), &ng);
	if (ng != 1 || rd_kafka_group_result_error(gr[0])) {
		snprintf(err, err_len, "group %s: %s", lc->group,
			 ng == 1 ? rd_kafka_error_string(
					   rd_kafka_group_result_error(gr[0])) :
				   "no result");
		rc = -EAGAIN;
		goto out;
	}
	got = rd_kafka_group_result_partitions(gr[0]);
	for (i = 0; got && i < got->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &got->elems[i];
		int64_t lo, hi, from;

		if (rd_kafka_query_watermark_offsets(k->lagrk, lc->topic,
						     p->partition, &lo, &hi,
						     KX_CALL_TIMEOUT_MS)) {
			snprintf(err, err_len, "topic %s: no watermarks",
				 lc->topic);
			rc = -EAGAIN;
			goto out;
		}
		/* nothing committed yet: everything still there is lag */
		from = p->err || p->offset < 0 ? lo : p->offset;
		if (hi > from)
			lag += (uint64_t)(hi - from);
	}
	*out = lag;
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_queue_destroy(q);
	rd_kafka_ListConsumerGroupOffsets_destroy(req);
	rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

static void *lag_main(void *arg)
{
	struct kx *k = arg;
	rd_kafka_topic_t *t[CFG_KAFKA_MAX_LAG] = { 0 };
	unsigned i;

	for (i = 0; i < k->n_lag; i++)
		t[i] = rd_kafka_topic_new(k->lagrk, k->lag[i].cfg.topic, NULL);
	while (!k->stop) {
		uint64_t next = mono_ns() + k->lag_interval_ns;

		for (i = 0; i < k->n_lag && !k->stop; i++) {
			char err[160] = "";
			uint64_t lag = 0;
			int rc = t[i] ? measure_lag(k, t[i], &k->lag[i].cfg,
						    &lag, err, sizeof(err)) :
					-ENOMEM;

			pthread_mutex_lock(&k->mu);
			if (rc == 0) {
				k->lag[i].lag = lag;
				k->lag[i].at_ns = mono_ns();
				k->lag[i].err[0] = '\0';
			} else {
				snprintf(k->lag[i].err, sizeof(k->lag[i].err),
					 "%s", err);
			}
			pthread_mutex_unlock(&k->mu);
		}
		while (!k->stop && mono_ns() < next) {
			rd_kafka_poll(k->lagrk, 0);
			usleep(10000);
		}
	}
	for (i = 0; i < k->n_lag; i++)
		if (t[i])
			rd_kafka_topic_destroy(t[i]);
	return NULL;
}

/* ---- the control thread's side ---- */

int kx_start(struct kx *k)
{
	int rc = pthread_create(&k->sync_th, NULL, sync_main, k);

	if (rc)
		return -rc;
	k->sync_started = true;
	pthread_setname_np(k->sync_th, "tg-kafka");
	if (k->n_lag) {
		rc = pthread_create(&k->lag_th, NULL, lag_main, k);
		if (rc)
			return -rc;
		k->lag_started = true;
		pthread_setname_np(k->lag_th, "tg-kafka-lag");
	}
	return 0;
}

bool kx_ready(struct kx *k)
{
	bool r;

	pthread_mutex_lock(&k->mu);
	r = k->ready;
	pthread_mutex_unlock(&k->mu);
	return r;
}

int kx_wait_ready(struct kx *k, double timeout_s,
		  volatile const sig_atomic_t *stop)
{
	uint64_t end = mono_ns() + (uint64_t)llround(timeout_s * 1e9);
	int rc = -ETIMEDOUT;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		uint64_t now = mono_ns();
		struct timespec ts;

		/* commands replayed, and the cluster heard for 1.5
		 * intervals: no share handed out on a partial view */
		if (k->ready && k->listen_ns &&
		    now - k->listen_ns >= k->interval_ns * 3 / 2) {
			rc = 0;
			break;
		}
		if (now >= end)
			break;
		if (stop && *stop) {
			rc = -EINTR;
			break;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

void kx_report(struct kx *k, unsigned i, double demand_rate,
	       double admitted_rate, double cluster_rate)
{
	struct sr_sync r;

	if (i >= k->nb)
		return;
	memset(&r, 0, sizeof(r));
	snprintf(r.node, sizeof(r.node), "%s", k->node);
	r.inc = k->inc;
	r.demand_milli = rate_milli(demand_rate);
	r.admitted_milli = rate_milli(admitted_rate);
	r.rate_milli = rate_milli(cluster_rate);
	pthread_mutex_lock(&k->mu);
	k->b[i].demand_rate = demand_rate;
	k->b[i].admitted_rate = admitted_rate;
	k->b[i].cluster_rate = cluster_rate;
	/* the split of this very tick counts on what is about to be sent:
	 * the same numbers the others will see */
	r.seq = UINT64_MAX;
	self_put(k, &k->b[i], &r);
	k->reported = true;
	pthread_mutex_unlock(&k->mu);
}

void kx_view(struct kx *k, unsigned i, struct kx_view *v)
{
	v->n = 0;
	pthread_mutex_lock(&k->mu);
	if (i < k->nb) {
		v->n = k->b[i].n;
		memcpy(v->peers, k->b[i].peers, v->n * sizeof(v->peers[0]));
	}
	v->own_seen_ns = k->own_seen_ns;
	v->listen_ns = k->listen_ns;
	pthread_mutex_unlock(&k->mu);
}

int kx_next_op(struct kx *k, struct kx_op *op)
{
	int got = 0;

	pthread_mutex_lock(&k->mu);
	if (k->in_n) {
		*op = k->inq[k->in_head];
		k->in_head = (k->in_head + 1) % KX_INQ;
		k->in_n--;
		got = 1;
	}
	pthread_mutex_unlock(&k->mu);
	return got;
}

int kx_send_ctl(struct kx *k, const char *key, struct sr_ctl *r)
{
	struct kx_out o;
	int len = 0;

	memset(&o, 0, sizeof(o));
	if (!sr_id_valid(key))
		return -EINVAL;
	snprintf(o.key, sizeof(o.key), "%s", key);
	pthread_mutex_lock(&k->mu);
	if (k->out_n == KX_OUTQ) {
		pthread_mutex_unlock(&k->mu);
		return -ENOBUFS;
	}
	if (r) {
		snprintf(r->key, sizeof(r->key), "%s", key);
		snprintf(r->node, sizeof(r->node), "%s", k->node);
		r->inc = k->inc;
		r->seq = ++k->ctl_seq;
		r->ts_ms = wall_us() / 1000u;
		len = sr_ctl_encode(r, o.val, sizeof(o.val));
		if (len < 0) {
			pthread_mutex_unlock(&k->mu);
			return len;
		}
		o.len = (size_t)len;
	} else {
		o.tombstone = true;
	}
	k->outq[(k->out_head + k->out_n) % KX_OUTQ] = o;
	k->out_n++;
	pthread_mutex_unlock(&k->mu);
	return 0;
}

int kx_lag(struct kx *k, unsigned i, uint64_t *lag_msgs)
{
	uint64_t fresh = 3 * k->lag_interval_ns + 3000000000u;
	int rc = -EAGAIN;

	pthread_mutex_lock(&k->mu);
	if (i < k->n_lag && k->lag[i].at_ns &&
	    mono_ns() - k->lag[i].at_ns < fresh) {
		*lag_msgs = k->lag[i].lag;
		rc = 0;
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}

json_t *kx_status_json(struct kx *k)
{
	uint64_t now = mono_ns();
	json_t *r, *lags = json_array();
	unsigned i;

	pthread_mutex_lock(&k->mu);
	r = json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:b, s:o, s:I, s:I, "
		      "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
		      "node", k->node, "incarnation", (json_int_t)k->inc,
		      "brokers", k->brokers, "sync_topic", k->sync_topic,
		      "control_topic", k->ctl_topic, "connected",
		      k->own_seen_ns && now - k->own_seen_ns < k->lease_ns,
		      "commands_replayed", k->ready, "last_sync_back_ms",
		      k->own_seen_ns ?
			      json_real((double)(now - k->own_seen_ns) / 1e6) :
			      json_null(),
		      "sync_sent", (json_int_t)k->sync_sent, "sync_received",
		      (json_int_t)k->sync_recv, "sync_rejected",
		      (json_int_t)k->sync_bad, "sync_stale",
		      (json_int_t)k->sync_stale, "sync_dropped",
		      (json_int_t)k->sync_dropped, "commands_sent",
		      (json_int_t)k->ctl_sent, "commands_received",
		      (json_int_t)k->ctl_recv, "commands_rejected",
		      (json_int_t)k->ctl_bad, "delivery_errors",
		      (json_int_t)k->delivery_errors, "last_error",
		      k->last_error[0] ? json_string(k->last_error) :
					 json_null(),
		      "last_error_age_s",
		      k->last_error_ns ?
			      json_real((double)(now - k->last_error_ns) /
					1e9) :
			      json_null());
	for (i = 0; i < k->n_lag; i++)
		json_array_append_new(
			lags,
			json_pack("{s:s, s:s, s:o, s:o, s:o}", "group",
				  k->lag[i].cfg.group, "topic",
				  k->lag[i].cfg.topic, "lag",
				  k->lag[i].at_ns ?
					  json_integer((json_int_t)k->lag[i]
							       .lag) :
					  json_null(),
				  "age_s",
				  k->lag[i].at_ns ?
					  json_real((double)(now -
							     k->lag[i].at_ns) /
						    1e9) :
					  json_null(),
				  "error",
				  k->lag[i].err[0] ?
					  json_string(k->lag[i].err) :
					  json_null()));
	pthread_mutex_unlock(&k->mu);
	if (!r) /* a bug in the format above: say so rather than crash */
		r = json_pack("{s:s}", "error", "kafka status unavailable");
	pthread_mutex_lock(&k->mu);
	json_object_set_new(
		r, "sync_transit_ms",
		k->transit_n ?
			json_pack("{s:f, s:I}", "mean",
				  (double)k->transit_sum_ms /
					  (double)k->transit_n,
				  "max", (json_int_t)k->transit_max_ms) :
			json_null());
	pthread_mutex_unlock(&k->mu);
	json_object_set_new(r, "lag", lags);
	return r;
}

void kx_free(struct kx *k)
{
	if (!k)
		return;
	k->stop = 1;
	if (k->sync_started)
		pthread_join(k->sync_th, NULL);
	if (k->lag_started)
		pthread_join(k->lag_th, NULL);
	if (k->prod) {
		/* commands given just before a stop still go out */
		send_ctl_queue(k);
		rd_kafka_flush(k->prod, 1000);
	}
	if (k->sync_t)
		rd_kafka_topic_destroy(k->sync_t);
	if (k->ctl_t)
		rd_kafka_topic_destroy(k->ctl_t);
	if (k->cons)
		rd_kafka_destroy_flags(k->cons,
				       RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
	if (k->lagrk)
		rd_kafka_destroy(k->lagrk);
	if (k->prod)
		rd_kafka_destroy(k->prod);
	free(k->replay.ops);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
}
