/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config's kafka section (see config/README.md, "Kafka"): brokers,
 * node id, topics, sync interval and lease, outage policy, librdkafka
 * properties, consumer-group lag sources. The helpers and the error style
 * are config.c's (config_priv.h).
 */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "config_priv.h"
#include "syncrec.h"

/* A librdkafka property: "name=value", the name non-empty and without
 * spaces, nothing blank around the '=' (a value may be empty). The
 * brokers have their own setting. Errors never repeat the value: it may be
 * a password. */
static int check_prop(struct ld *ld, const config_setting_t *e,
		      const char *v)
{
	const char *eq = strchr(v, '=');
	const char *p;
	int nl;

	if (!eq || eq == v)
		return ld_fail(ld, e, "must be \"name=value\" (%s)",
			       eq ? "no name" : "no '='");
	nl = (int)(eq - v);
	for (p = v; p < eq; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			break;
	if (p < eq || isspace((unsigned char)eq[1]))
		return ld_fail(ld, e,
			       "'%.*s': no spaces in the name, none around "
			       "the '='",
			       nl > 64 ? 64 : nl, v);
	if ((nl == 17 && strncmp(v, "bootstrap.servers", 17) == 0) ||
	    (nl == 20 && strncmp(v, "metadata.broker.list", 20) == 0))
		return ld_fail(ld, e, "give the brokers as kafka.brokers");
	return 0;
}

/* librdkafka's own check of a property (name, then its value): a typo or
 * a bad value is a config error with its line, at load and at reload, not
 * a surprise when the client starts. The value is never in the message
 * (it may be a password). */
static int check_rdkafka(struct ld *ld, const config_setting_t *e,
			 const char *v, size_t name_len)
{
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	char name[256], why[256];
	rd_kafka_conf_res_t r;

	if (!c)
		return ld_fail(ld, e, "out of memory");
	snprintf(name, sizeof(name), "%.*s", (int)name_len, v);
	r = rd_kafka_conf_set(c, name, v + name_len + 1, why, sizeof(why));
	rd_kafka_conf_destroy(c);
	if (r != RD_KAFKA_CONF_OK)
		return ld_fail(ld, e, "%s: %s", name, why);
	return 0;
}

static int load_props(struct ld *ld, const config_setting_t *g,
		      struct cfg_kafka *k)
{
	const config_setting_t *s = ld_get_list(ld, g, "properties");
	int i, j, n;

	if (ld->failed)
		return -EINVAL;
	if (!s)
		return 0;
	n = config_setting_length(s);
	if (n > CFG_KAFKA_MAX_PROPS)
		return ld_fail(ld, s, "at most %d properties",
			       CFG_KAFKA_MAX_PROPS);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v;
		size_t nl;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return ld_fail(ld, e, "must be a string: "
					      "\"name=value\"");
		v = config_setting_get_string(e);
		if (check_prop(ld, e, v) < 0)
			return -EINVAL;
		/* librdkafka keeps the last of two: say so instead */
		nl = (size_t)(strchr(v, '=') - v) + 1;
		for (j = 0; j < i; j++)
			if (strncmp(k->props[j], v, nl) == 0)
				return ld_fail(ld, e,
					       "'%.*s' is set twice (also "
					       "properties[%d])",
					       (int)nl - 1, v, j);
		if (check_rdkafka(ld, e, v, nl - 1) < 0)
			return -EINVAL;
		k->props[i] = strdup(v);
		if (!k->props[i])
			return ld_fail(ld, e, "out of memory");
		k->n_props = (unsigned)i + 1;
	}
	return 0;
}

static int load_kafka_lag(struct ld *ld, const config_setting_t *g,
			  struct cfg *c)
{
	static const char *const keys[] = { "pipeline", "group", "topic",
					    NULL };
	const config_setting_t *s = ld_get_list(ld, g, "lag");
	struct cfg_kafka *k = &c->kafka;
	int i, n;

	if (ld->failed)
		return -EINVAL;
	if (!s)
		return 0;
	n = config_setting_length(s);
	if (n > CFG_KAFKA_MAX_LAG)
		return ld_fail(ld, s, "at most %d lag sources",
			       CFG_KAFKA_MAX_LAG);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		struct cfg_kafka_lag *l = &k->lag[i];
		const char *pl = NULL;
		unsigned p;

		if (!config_setting_is_group(e))
			return ld_fail(ld, e, "a lag source must be a group: { "
					      "pipeline = ...; group = ...; "
					      "topic = ...; }");
		if (ld_check_known(ld, e, keys) < 0 ||
		    ld_get_str(ld, e, "pipeline", &pl, 1) < 0 ||
		    ld_copy_str(ld, e, "group", l->group, sizeof(l->group), 1) <
			    0 ||
		    ld_copy_str(ld, e, "topic", l->topic, sizeof(l->topic), 1) < 0)
			return -EINVAL;
		for (p = 0; p < c->n_pipelines; p++)
			if (strcmp(c->pipelines[p].name, pl) == 0)
				break;
		if (p == c->n_pipelines)
			return ld_fail(ld, config_setting_get_member(e,
								     "pipeline"),
				       "no pipeline is named '%s'", pl);
		l->pipeline = (uint16_t)p;
		l->line = config_setting_source_line(e);
		k->n_lag = (unsigned)i + 1;
	}
	return 0;
}

/* The default node id: the host name up to its first '.'. */
static int default_node(struct ld *ld, const config_setting_t *g,
			struct cfg_kafka *k)
{
	char host[HOST_NAME_MAX + 1];
	char *dot;

	if (gethostname(host, sizeof(host)) != 0)
		return ld_fail(ld, g,
			       "cannot read the host name (%s): set "
			       "kafka.node",
			       strerror(errno));
	host[sizeof(host) - 1] = '\0';
	dot = strchr(host, '.');
	if (dot)
		*dot = '\0';
	if (strlen(host) >= sizeof(k->node) || !sr_id_valid(host))
		return ld_fail(ld, g,
			       "the host name '%s' is not a valid node id (1 "
			       "to %zu characters of A-Z a-z 0-9 . _ : @ / -): "
			       "set kafka.node",
			       host, sizeof(k->node) - 1);
	snprintf(k->node, sizeof(k->node), "%s", host);
	return 0;
}

/* The kafka section; after the pipelines, which lag sources name. */
int config_load_kafka(struct ld *ld, const config_setting_t *g,
		      struct cfg *c)
{
	static const char *const keys[] = {
		"brokers",	   "node",	       "sync_topic",
		"control_topic",   "sync_interval",    "lease",
		"startup_timeout", "demand_headroom",  "outage",
		"partitions",	   "replication",      "properties",
		"lag",		   "lag_interval",     "expected_nodes",
		NULL
	};
	struct cfg_kafka *k = &c->kafka;
	const char *outage = NULL;
	uint64_t parts = k->partitions, repl = k->replication;
	uint64_t expect = k->expected_nodes;

	k->enabled = true;
	k->line = config_setting_source_line(g);
	k->brokers_line = ld_member_line(g, "brokers");
	k->node_line = ld_member_line(g, "node");
	k->sync_topic_line = ld_member_line(g, "sync_topic");
	k->control_topic_line = ld_member_line(g, "control_topic");
	k->sync_interval_line = ld_member_line(g, "sync_interval");
	k->lease_line = ld_member_line(g, "lease");
	k->startup_timeout_line = ld_member_line(g, "startup_timeout");
	k->demand_headroom_line = ld_member_line(g, "demand_headroom");
	k->lag_interval_line = ld_member_line(g, "lag_interval");
	k->partitions_line = ld_member_line(g, "partitions");
	k->replication_line = ld_member_line(g, "replication");
	k->outage_line = ld_member_line(g, "outage");
	/* ranges are the model's to check (cfg_validate), with these lines;
	 * whole numbers are bounded here too, as everywhere in this file */
	if (ld_check_known(ld, g, keys) < 0 ||
	    ld_copy_str(ld, g, "brokers", k->brokers, sizeof(k->brokers), 0) <
		    0 ||
	    ld_copy_str(ld, g, "node", k->node, sizeof(k->node), 0) < 0 ||
	    ld_copy_str(ld, g, "sync_topic", k->sync_topic,
		     sizeof(k->sync_topic), 0) < 0 ||
	    ld_copy_str(ld, g, "control_topic", k->control_topic,
		     sizeof(k->control_topic), 0) < 0 ||
	    ld_get_num(ld, g, "sync_interval", &k->sync_interval_s, 0) < 0 ||
	    ld_get_num(ld, g, "lease", &k->lease_s, 0) < 0 ||
	    ld_get_num(ld, g, "startup_timeout", &k->startup_timeout_s, 0) < 0 ||
	    ld_get_num(ld, g, "demand_headroom", &k->demand_headroom, 0) < 0 ||
	    ld_get_num(ld, g, "lag_interval", &k->lag_interval_s, 0) < 0 ||
	    ld_get_uint(ld, g, "partitions", &parts, 1, 1024, 0) < 0 ||
	    ld_get_uint(ld, g, "replication", &repl, 1, 32, 0) < 0 ||
	    ld_get_uint(ld, g, "expected_nodes", &expect, 0, 1000000, 0) < 0 ||
	    ld_get_str(ld, g, "outage", &outage, 0) < 0)
		return -EINVAL;
	k->partitions = (uint32_t)parts;
	k->replication = (uint32_t)repl;
	k->expected_nodes = (uint32_t)expect;
	if (outage && cfg_outage_parse(outage, &k->outage) < 0)
		return ld_fail(ld, config_setting_get_member(g, "outage"),
			       "'%s' is not an outage policy (static, open or "
			       "closed)",
			       outage);
	if (load_props(ld, g, k) < 0 || load_kafka_lag(ld, g, c) < 0)
		return -EINVAL;
	if (!k->node_line && default_node(ld, g, k) < 0)
		return -EINVAL;
	return 0;
}
