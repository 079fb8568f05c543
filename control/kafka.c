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
 * across a Kafka call. The lag thread is in kafka_lag.c.
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

#include "kafka_priv.h"

void kx_set_error(struct kx *k, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&k->mu);
	va_start(ap, fmt);
	vsnprintf(k->last_error, sizeof(k->last_error), fmt, ap);
	va_end(ap);
	k->last_error_ns = tg_mono_ns();
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
	kx_set_error(k, "%s: %s", rd_kafka_err2name(err), reason);
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
	kx_set_error(k, "delivery to %s: %s", rd_kafka_topic_name(m->rkt),
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
	(void)val; /* may be a password: never in a message */
	snprintf(err, err_len, "kafka.properties: %s: %s", name, e);
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
		/* librdkafka takes producer and consumer properties on either
		 * kind of client: anything it refuses is a mistake */
		if (conf_set(c, name, eq + 1, err, err_len) < 0)
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
	k->inc = tg_wall_us();
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
	/* in slices: a stop does not wait for a dead broker's timeout */
	for (i = 0, ev = NULL; !ev && !k->stop && i < 30; i++)
		ev = rd_kafka_queue_poll(q, 100);
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
int kx_topic_parts(rd_kafka_t *rk, rd_kafka_topic_t *t)
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
int kx_setup(struct kx *k)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t er;
	int i, ns, nc;

	create_topics(k);
	if (k->stop)
		return -EAGAIN;
	ns = kx_topic_parts(k->prod, k->sync_t);
	nc = ns < 0 || k->stop ? -EAGAIN : kx_topic_parts(k->prod, k->ctl_t);
	if (ns < 0 || nc < 0 || k->stop)
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
			(int64_t)(tg_wall_us() / 1000u - k->lease_ns / 1000000u);
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
	k->listen_ns = tg_mono_ns();
	pthread_mutex_unlock(&k->mu);
	tg_log(TG_LOG_NOTICE,
	       "kafka: node %s reading %s (%d partition(s)) and %s (%d); "
	       "replaying commands",
	       k->node, k->sync_topic, ns, k->ctl_topic, nc);
	return 0;
}

/* ---- the control thread's side ---- */

int kx_start(struct kx *k)
{
	int rc = pthread_create(&k->sync_th, NULL, kx_sync_main, k);

	if (rc)
		return -rc;
	k->sync_started = true;
	pthread_setname_np(k->sync_th, "tg-kafka");
	if (k->n_lag) {
		rc = pthread_create(&k->lag_th, NULL, kx_lag_main, k);
		if (rc)
			return -rc;
		k->lag_started = true;
		pthread_setname_np(k->lag_th, "tg-kafka-lag");
	}
	return 0;
}

int kx_wait_ready(struct kx *k, double timeout_s,
		  volatile const sig_atomic_t *stop)
{
	uint64_t end = tg_mono_ns() + (uint64_t)llround(timeout_s * 1e9);
	int rc = -ETIMEDOUT;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		uint64_t now = tg_mono_ns();
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
	r.demand_milli = kx_rate_milli(demand_rate);
	r.admitted_milli = kx_rate_milli(admitted_rate);
	r.rate_milli = kx_rate_milli(cluster_rate);
	pthread_mutex_lock(&k->mu);
	k->b[i].demand_rate = demand_rate;
	k->b[i].admitted_rate = admitted_rate;
	k->b[i].cluster_rate = cluster_rate;
	/* the split of this very tick counts on what is about to be sent:
	 * the same numbers the others will see */
	r.seq = UINT64_MAX;
	kx_self_put(k, &k->b[i], &r);
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
		r->ts_ms = tg_wall_us() / 1000u;
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

json_t *kx_status_json(struct kx *k)
{
	uint64_t now = tg_mono_ns();
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
		kx_send_ctl_queue(k);
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
