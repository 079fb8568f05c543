/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Consumer-group lag (see kafka.h): a thread of its own polls, for each
 * configured (group, topic), the group's committed offsets
 * (ListConsumerGroupOffsets) and the partitions' high watermarks; the lag
 * is their difference summed over the partitions (a partition with nothing
 * committed counts from its low watermark). These calls block for up to a
 * few seconds when the broker is away, hence not the sync thread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kafka_priv.h"

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

	np = kx_topic_parts(k->lagrk, t);
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
	for (i = 0, ev = NULL; !ev && !k->stop && i < 20; i++)
		ev = rd_kafka_queue_poll(q, 100);
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

		if (k->stop) {
			snprintf(err, err_len, "stopping");
			rc = -EINTR;
			goto out;
		}
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

void *kx_lag_main(void *arg)
{
	struct kx *k = arg;
	rd_kafka_topic_t *t[CFG_KAFKA_MAX_LAG] = { 0 };
	unsigned i;

	for (i = 0; i < k->n_lag; i++)
		t[i] = rd_kafka_topic_new(k->lagrk, k->lag[i].cfg.topic, NULL);
	while (!k->stop) {
		uint64_t next = tg_mono_ns() + k->lag_interval_ns;

		for (i = 0; i < k->n_lag && !k->stop; i++) {
			char err[160] = "";
			uint64_t lag = 0;
			int rc = t[i] ? measure_lag(k, t[i], &k->lag[i].cfg,
						    &lag, err, sizeof(err)) :
					-ENOMEM;

			pthread_mutex_lock(&k->mu);
			if (rc == 0) {
				k->lag[i].lag = lag;
				k->lag[i].at_ns = tg_mono_ns();
				k->lag[i].err[0] = '\0';
			} else {
				snprintf(k->lag[i].err, sizeof(k->lag[i].err),
					 "%s", err);
			}
			pthread_mutex_unlock(&k->mu);
		}
		while (!k->stop && tg_mono_ns() < next) {
			rd_kafka_poll(k->lagrk, 0);
			usleep(10000);
		}
	}
	for (i = 0; i < k->n_lag; i++)
		if (t[i])
			rd_kafka_topic_destroy(t[i]);
	return NULL;
}

int kx_lag(struct kx *k, unsigned i, uint64_t *lag_msgs)
{
	uint64_t fresh = 3 * k->lag_interval_ns + 3000000000u;
	int rc = -EAGAIN;

	pthread_mutex_lock(&k->mu);
	if (i < k->n_lag && k->lag[i].at_ns &&
	    tg_mono_ns() - k->lag[i].at_ns < fresh) {
		*lag_msgs = k->lag[i].lag;
		rc = 0;
	}
	pthread_mutex_unlock(&k->mu);
	return rc;
}
