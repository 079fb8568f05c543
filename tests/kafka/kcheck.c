/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * kcheck: the smallest librdkafka client the broker smoke test needs.
 *
 *   kcheck BOOTSTRAP TOPIC produce VALUE   create TOPIC (1 partition, 1
 *                                          replica; "already exists" is
 *                                          fine), produce VALUE to
 *                                          partition 0, wait for the ack
 *   kcheck BOOTSTRAP TOPIC consume VALUE   read partition 0 from the
 *                                          beginning (assign, no group
 *                                          join) until VALUE is seen
 *
 * Exit 0 on success, 1 on failure (with the reason on stderr), 2 on usage.
 * Prints one line on stdout: what it did, e.g. "produced offset 0" or
 * "found at offset 0 after 1 message(s)". KCHECK_TIMEOUT_MS bounds each
 * wait (default 20000).
 */
#include <librdkafka/rdkafka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int timeout_ms(void)
{
	const char *s = getenv("KCHECK_TIMEOUT_MS");
	int v = s ? atoi(s) : 0;

	return v > 0 ? v : 20000;
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kcheck: %s=%s: %s\n", k, v, errstr);
		return -1;
	}
	return 0;
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char errstr[512];
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));

	if (!rk) {
		fprintf(stderr, "kcheck: rd_kafka_new: %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

static int create_topic(rd_kafka_t *rk, const char *topic)
{
	char errstr[512];
	rd_kafka_NewTopic_t *nt;
	rd_kafka_AdminOptions_t *opt;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr;
	size_t n;
	int rc = -1;

	nt = rd_kafka_NewTopic_new(topic, 1, 1, errstr, sizeof(errstr));
	if (!nt) {
		fprintf(stderr, "kcheck: NewTopic: %s\n", errstr);
		return -1;
	}
	opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opt, timeout_ms(), errstr,
						    sizeof(errstr));
	rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms(), errstr,
						  sizeof(errstr));
	q = rd_kafka_queue_new(rk);
	rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
	ev = rd_kafka_queue_poll(q, timeout_ms() + 5000);
	if (!ev) {
		fprintf(stderr, "kcheck: CreateTopics: no answer\n");
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		fprintf(stderr, "kcheck: CreateTopics: %s\n",
			rd_kafka_event_error_string(ev));
		goto out;
	}
	res = rd_kafka_event_CreateTopics_result(ev);
	tr = rd_kafka_CreateTopics_result_topics(res, &n);
	if (n != 1) {
		fprintf(stderr, "kcheck: CreateTopics: %zu results\n", n);
		goto out;
	}
	switch (rd_kafka_topic_result_error(tr[0])) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
	case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
		rc = 0;
		break;
	default:
		fprintf(stderr, "kcheck: CreateTopics %s: %s\n", topic,
			rd_kafka_topic_result_error_string(tr[0]));
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

struct dr {
	int done;
	rd_kafka_resp_err_t err;
	int64_t offset;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
			void *opaque)
{
	struct dr *dr = opaque;

	(void)rk;
	dr->done = 1;
	dr->err = m->err;
	dr->offset = m->offset;
}

static int produce(const char *bootstrap, const char *topic,
		   const char *value)
{
	struct dr dr = { 0, RD_KAFKA_RESP_ERR_NO_ERROR, -1 };
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_resp_err_t err;
	rd_kafka_t *rk;
	char tmo[32];
	int rc = 1;

	snprintf(tmo, sizeof(tmo), "%d", timeout_ms());
	if (conf_set(conf, "bootstrap.servers", bootstrap) ||
	    conf_set(conf, "acks", "all") ||
	    conf_set(conf, "linger.ms", "0") ||
	    conf_set(conf, "message.timeout.ms", tmo)) {
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, &dr);
	rk = client(RD_KAFKA_PRODUCER, conf);
	if (!rk)
		return 1;
	if (create_topic(rk, topic))
		goto out;
	err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
				RD_KAFKA_V_PARTITION(0),
				RD_KAFKA_V_KEY("kcheck", 6),
				RD_KAFKA_V_VALUE((void *)(uintptr_t)value,
						 strlen(value)),
				RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				RD_KAFKA_V_END);
	if (err) {
		fprintf(stderr, "kcheck: produce: %s\n", rd_kafka_err2str(err));
		goto out;
	}
	rd_kafka_flush(rk, timeout_ms() + 5000);
	if (!dr.done)
		fprintf(stderr, "kcheck: no delivery report\n");
	else if (dr.err)
		fprintf(stderr, "kcheck: delivery: %s\n",
			rd_kafka_err2str(dr.err));
	else {
		printf("produced offset %lld\n", (long long)dr.offset);
		rc = 0;
	}
out:
	rd_kafka_destroy(rk);
	return rc;
}

static int consume(const char *bootstrap, const char *topic,
		   const char *value)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_resp_err_t err;
	rd_kafka_t *rk;
	size_t vlen = strlen(value);
	long seen = 0;
	int waited = 0, rc = 1;

	/* librdkafka 2.0.2: assign() needs a group.id even though no group
	 * is joined; nothing is committed or stored */
	if (conf_set(conf, "bootstrap.servers", bootstrap) ||
	    conf_set(conf, "group.id", "tidegate-kcheck") ||
	    conf_set(conf, "enable.auto.commit", "false") ||
	    conf_set(conf, "enable.auto.offset.store", "false") ||
	    conf_set(conf, "auto.offset.reset", "earliest")) {
		rd_kafka_conf_destroy(conf);
		return 1;
	}
	rk = client(RD_KAFKA_CONSUMER, conf);
	if (!rk)
		return 1;
	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, topic, 0)->offset =
		RD_KAFKA_OFFSET_BEGINNING;
	err = rd_kafka_assign(rk, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	if (err) {
		fprintf(stderr, "kcheck: assign: %s\n", rd_kafka_err2str(err));
		goto out;
	}
	while (waited < timeout_ms()) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		waited += 200;
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "kcheck: consume: %s\n",
					rd_kafka_message_errstr(m));
		} else {
			seen++;
			if (m->len == vlen && !memcmp(m->payload, value, vlen)) {
				printf("found at offset %lld after %ld "
				       "message(s)\n",
				       (long long)m->offset, seen);
				rc = 0;
			}
		}
		rd_kafka_message_destroy(m);
		if (rc == 0)
			break;
	}
	if (rc)
		fprintf(stderr, "kcheck: \"%s\" not found in %s[0] within "
			"%d ms (%ld message(s) read)\n", value, topic,
			timeout_ms(), seen);
out:
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: kcheck BOOTSTRAP TOPIC produce|consume "
			"VALUE\n");
		return 2;
	}
	if (!strcmp(argv[3], "produce"))
		return produce(argv[1], argv[2], argv[4]);
	if (!strcmp(argv[3], "consume"))
		return consume(argv[1], argv[2], argv[4]);
	fprintf(stderr, "kcheck: unknown mode %s\n", argv[3]);
	return 2;
}
