/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The configuration model: defaults, names, prefixes and validation.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "syncrec.h"

static const char *const action_names[CFG_ACT_MAX] = { "drop", "mark",
						       "shape" };
static const char *const tier_names[CFG_TIER_MAX] = { "global", "topic",
						      "consumer" };
static const char *const egress_names[CFG_EGRESS_MAX] = { "port", "reflect",
							  "ring" };
static const char *const ctrl_names[CFG_CTRL_MAX] = { "none", "aimd", "pid" };
static const char *const outage_names[CFG_OUTAGE_MAX] = { "static", "open",
							  "closed" };

const char *cfg_ctrl_name(enum cfg_ctrl c)
{
	return c < CFG_CTRL_MAX ? ctrl_names[c] : "?";
}

int cfg_ctrl_parse(const char *s, enum cfg_ctrl *out)
{
	int i = 0;

	while (i < CFG_CTRL_MAX && strcmp(s, ctrl_names[i]) != 0)
		i++;
	if (i == CFG_CTRL_MAX)
		return -EINVAL;
	*out = (enum cfg_ctrl)i;
	return 0;
}

double cfg_bucket_floor(const struct cfg *c, const struct cfg_bucket *b)
{
	double f = b->floor > 0 ? b->floor : c->policy.sev.floor_rate[b->tier];

	return f < b->rate ? f : b->rate;
}

void cfg_policy_init(struct cfg_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->tick_s = 0.1;
	sev_config_default(&p->sev);
	brk_config_default(&p->brk);
	aimd_config_default(&p->aimd);
	p->pid_kp = 0.5;
	p->pid_ki = 0.5;
	p->pid_kd = 0;
	p->pid_target = 0.8;
	p->credit_block_frac = 0.10;
	p->shed_step_ticks = 10;
}

const char *cfg_action_name(enum cfg_action a)
{
	return a < CFG_ACT_MAX ? action_names[a] : "?";
}

const char *cfg_tier_name(enum cfg_tier t)
{
	return t < CFG_TIER_MAX ? tier_names[t] : "?";
}

const char *cfg_egress_name(enum cfg_egress e)
{
	return e < CFG_EGRESS_MAX ? egress_names[e] : "?";
}

static int parse_name(const char *s, const char *const *names, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

int cfg_action_parse(const char *s, enum cfg_action *out)
{
	int i = parse_name(s, action_names, CFG_ACT_MAX);

	if (i < 0)
		return i;
	*out = (enum cfg_action)i;
	return 0;
}

int cfg_egress_parse(const char *s, enum cfg_egress *out)
{
	int i = parse_name(s, egress_names, CFG_EGRESS_MAX);

	if (i < 0)
		return i;
	*out = (enum cfg_egress)i;
	return 0;
}

const char *cfg_outage_name(enum cfg_outage o)
{
	return o < CFG_OUTAGE_MAX ? outage_names[o] : "?";
}

int cfg_outage_parse(const char *s, enum cfg_outage *out)
{
	int i = parse_name(s, outage_names, CFG_OUTAGE_MAX);

	if (i < 0)
		return i;
	*out = (enum cfg_outage)i;
	return 0;
}

int cfg_mode_parse(const char *s, enum tb_mode *out)
{
	if (strcmp(s, "packets") == 0 || strcmp(s, "messages") == 0)
		*out = TB_MODE_PACKETS;
	else if (strcmp(s, "bytes") == 0)
		*out = TB_MODE_BYTES;
	else
		return -EINVAL;
	return 0;
}

void cfg_bucket_init(struct cfg_bucket *b, enum cfg_tier tier)
{
	memset(b, 0, sizeof(*b));
	b->tier = tier;
	b->mode = TB_MODE_PACKETS;
	b->action = CFG_ACT_DROP;
	b->shape_max_delay_s = 0.1;
}

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->burst_size = 32;
	c->mbufs = 16383;
	c->shape_queue = 4096;
	c->stats_interval_s = 1.0;
	snprintf(c->log_level, sizeof(c->log_level), "info");
	cfg_policy_init(&c->policy);
	snprintf(c->admin.socket, sizeof(c->admin.socket),
		 "/run/tidegate/admin.sock");
	c->admin.max_clients = 128;
	/* The kafka section's defaults, used once the section is present.
	 * node stays "": the loader fills in the host name (lib/ does no
	 * I/O). */
	c->kafka.enabled = false;
	snprintf(c->kafka.sync_topic, sizeof(c->kafka.sync_topic),
		 "tidegate.sync");
	snprintf(c->kafka.control_topic, sizeof(c->kafka.control_topic),
		 "tidegate.control");
	c->kafka.sync_interval_s = 0.1;
	c->kafka.lease_s = 1.0;
	c->kafka.startup_timeout_s = 10;
	c->kafka.demand_headroom = 1.05;
	c->kafka.lag_interval_s = 1.0;
	c->kafka.outage = CFG_OUTAGE_STATIC;
	c->kafka.partitions = 1;
	c->kafka.replication = 1;
}

int cfg_prefix_parse(const char *s, struct cfg_prefix *out)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned max_len, len;
	uint8_t a4[4];
	char *end;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, a4) == 1) {
		out->addr[10] = 0xff;
		out->addr[11] = 0xff;
		memcpy(&out->addr[12], a4, 4);
		max_len = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		max_len = 128;
	} else {
		return -EINVAL;
	}
	len = max_len;
	if (slash) {
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		errno = 0;
		v = strtoul(slash + 1, &end, 10);
		if (errno || *end || v > max_len)
			return -EINVAL;
		len = (unsigned)v;
	}
	out->len = (uint8_t)(len + (max_len == 32 ? 96 : 0));
	return 0;
}

bool cfg_prefix_match(const struct cfg_prefix *p, const uint8_t addr[16])
{
	unsigned full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		if ((p->addr[full] ^ addr[full]) & mask)
			return false;
	}
	return true;
}

const struct cfg_override *cfg_override_find(const struct cfg_consumers *cc,
					     const uint8_t addr[16])
{
	const struct cfg_override *best = NULL;
	uint32_t i;

	for (i = 0; i < cc->n_overrides; i++) {
		const struct cfg_override *o = &cc->overrides[i];

		if (cfg_prefix_match(&o->prefix, addr) &&
		    (!best || o->prefix.len > best->prefix.len))
			best = o;
	}
	return best;
}

__attribute__((format(printf, 3, 4))) static int
fail(struct cfg_error *err, int line, const char *fmt, ...)
{
	va_list ap;

	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The smallest burst that holds one message: 1, or a minimum frame. */
static uint64_t min_burst(enum tb_mode m)
{
	return m == TB_MODE_BYTES ? 64 : 1;
}

static int check_bucket(const struct cfg_bucket *b, const char *where,
			struct cfg_error *err)
{
	int rl = b->rate_line ? b->rate_line : b->line;
	int bl = b->burst_line ? b->burst_line : b->line;
	struct tb_profile p;

	if (!(b->rate > 0) || !isfinite(b->rate))
		return fail(err, rl,
			    "%s.rate: must be a number > 0 (got %g)", where,
			    b->rate);
	if (b->rate < TB_RATE_MIN || b->rate > TB_RATE_MAX)
		return fail(err, rl,
			    "%s.rate: %g is out of range (%g to %g per second)",
			    where, b->rate, TB_RATE_MIN, TB_RATE_MAX);
	if (b->burst < min_burst(b->mode))
		return fail(err, bl,
			    "%s.burst: %llu is smaller than one message (at "
			    "least %llu in %s mode)",
			    where, (unsigned long long)b->burst,
			    (unsigned long long)min_burst(b->mode),
			    tb_mode_name(b->mode));
	if (tb_profile_init(&p, b->mode, b->rate, b->burst, 1000000000) < 0)
		return fail(err, b->line,
			    "%s: rate %g with burst %llu is out of range", where,
			    b->rate, (unsigned long long)b->burst);
	if (b->mark_dscp > 63)
		return fail(err, b->line,
			    "%s.mark_dscp: %u is not a DSCP (0..63)", where,
			    b->mark_dscp);
	if (!(b->shape_max_delay_s > 0) || b->shape_max_delay_s > 60)
		return fail(err, b->line,
			    "%s.shape_max_delay: must be in (0, 60] seconds",
			    where);
	if (b->floor < 0 || (b->floor > 0 && b->floor > b->rate))
		return fail(err, b->line,
			    "%s.floor: must be in (0, rate] (got %g)", where,
			    b->floor);
	return 0;
}

/* Bucket names are unique across the whole file: the admin socket and the
 * stats address a bucket by name alone. Reports the later of two. */
static int check_unique(const struct cfg *c, struct cfg_error *err)
{
	const struct cfg_bucket *all[CFG_MAX_PIPELINES *
					    (CFG_MAX_TOPICS + 2)];
	size_t n = 0, i, j;
	unsigned pi, t;

	for (pi = 0; pi < c->n_pipelines; pi++) {
		const struct cfg_pipeline *p = &c->pipelines[pi];

		if (p->has_global)
			all[n++] = &p->global;
		for (t = 0; t < p->n_topics && t < CFG_MAX_TOPICS; t++)
			all[n++] = &p->topics[t];
		if (p->consumers.enabled)
			all[n++] = &p->consumers.bucket;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(all[i]->name, all[j]->name) == 0)
				return fail(err, all[i]->line,
					    "bucket name '%s' is used twice "
					    "(also line %d; bucket names are "
					    "unique across all pipelines)",
					    all[i]->name, all[j]->line);
	return 0;
}

static int check_pipeline(const struct cfg *c, const struct cfg_pipeline *p,
			  struct cfg_error *err)
{
	char where[CFG_NAME_LEN + 64];
	uint32_t i;
	int rc;

	if (p->ingress >= c->n_ports)
		return fail(err, p->line,
			    "pipeline '%s': ingress port does not exist",
			    p->name);
	if (p->egress == CFG_EGRESS_PORT && p->egress_port >= c->n_ports)
		return fail(err, p->line,
			    "pipeline '%s': egress port does not exist",
			    p->name);
	if (p->egress == CFG_EGRESS_RING &&
	    (p->ring[0] == '\0' || p->ring_size < 64 ||
	     (p->ring_size & (p->ring_size - 1))))
		return fail(err, p->line,
			    "pipeline '%s': a ring egress needs a ring name and "
			    "a size that is a power of 2, >= 64",
			    p->name);
	if (!p->has_global && p->n_topics == 0 && !p->consumers.enabled)
		return fail(err, p->line,
			    "pipeline '%s': no tier is configured (global, "
			    "topics or consumers)",
			    p->name);
	if (p->has_global) {
		snprintf(where, sizeof(where), "pipelines.%s.global", p->name);
		if ((rc = check_bucket(&p->global, where, err)) < 0)
			return rc;
	}
	for (i = 0; i < p->n_topics; i++) {
		snprintf(where, sizeof(where), "topics.%s", p->topics[i].name);
		if ((rc = check_bucket(&p->topics[i], where, err)) <
		    0)
			return rc;
	}
	for (i = 0; i < p->n_rules; i++) {
		const struct cfg_rule *r = &p->rules[i];

		if (r->topic >= p->n_topics)
			return fail(err, r->line,
				    "rule names a topic that does not exist");
		if (r->kinds == 0)
			return fail(err, r->line,
				    "rule has no condition (dst_port, "
				    "dst_ports, dst_prefix or vlan)");
		if ((r->kinds & CFG_RULE_PORT) && r->port_lo > r->port_hi)
			return fail(err, r->line,
				    "dst_ports: [%u, %u] is an empty range",
				    r->port_lo, r->port_hi);
		if ((r->kinds & CFG_RULE_VLAN) && r->vlan > 4095)
			return fail(err, r->line,
				    "vlan: %u is not a VLAN id (0..4095)",
				    r->vlan);
	}
	if (p->consumers.enabled) {
		const struct cfg_consumers *cc = &p->consumers;

		snprintf(where, sizeof(where), "pipelines.%s.consumers",
			 p->name);
		if ((rc = check_bucket(&cc->bucket, where, err)) < 0)
			return rc;
		if (cc->max_per_core < 1)
			return fail(err, cc->bucket.line,
				    "%s.max: must be >= 1", where);
		if (!(cc->idle_timeout_s > 0))
			return fail(err, cc->bucket.line,
				    "%s.idle_timeout: must be > 0 seconds",
				    where);
		for (i = 0; i < cc->n_overrides; i++) {
			struct cfg_bucket ob = cc->bucket;

			ob.rate = cc->overrides[i].rate;
			ob.burst = cc->overrides[i].burst;
			ob.line = cc->overrides[i].line;
			ob.rate_line = ob.burst_line = 0;
			snprintf(where, sizeof(where), "consumer override");
			if ((rc = check_bucket(&ob, where, err)) < 0)
				return rc;
		}
	}
	return 0;
}

static int check_policy(const struct cfg *c, struct cfg_error *err)
{
	const struct cfg_policy *p = &c->policy;
	struct aimd_config a = p->aimd;

	if (!(p->tick_s >= 0.001) || p->tick_s > 10)
		return fail(err, 0, "policy.tick_ms: must be in 1..10000");
	if (sev_config_validate(&p->sev) < 0)
		return fail(err, 0,
			    "policy: lag thresholds must rise (recover < "
			    "warning < critical < emergency), factors be in "
			    "(0, 1] and fall (normal >= warning >= critical), "
			    "climb_factor > 1, floors > 0, hysteresis in "
			    "[0, 1)");
	if (brk_config_validate(&p->brk) < 0)
		return fail(err, 0,
			    "policy.breaker: open_ms > 0, probes >= 1, "
			    "successes in 1..probes");
	a.floor = 1;
	a.ceiling = 2;
	if (aimd_config_validate(&a) < 0)
		return fail(err, 0,
			    "policy.aimd: 0 <= low <= high, decrease in (0, "
			    "1], increase >= 1");
	if (!(p->pid_target > 0) || p->pid_target > 1 ||
	    !isfinite(p->pid_kp) || !isfinite(p->pid_ki) ||
	    !isfinite(p->pid_kd))
		return fail(err, 0,
			    "policy.pid: target in (0, 1], finite gains");
	if (!(p->credit_block_frac >= 0) || p->credit_block_frac >= 1)
		return fail(err, 0, "policy.credits.block_below: in [0, 1)");
	return 0;
}

/* A legal Kafka topic name: 1..249 of [A-Za-z0-9._-], not "." or "..". */
static bool kafka_topic_valid(const char *s)
{
	size_t n;

	for (n = 0; s[n]; n++)
		if (n >= 249 ||
		    !((s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || strchr("._-", s[n])))
			return false;
	return n > 0 && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* A setting's line, or the section's when the setting was not given. */
static int kline(const struct cfg_kafka *k, int line)
{
	return line ? line : k->line;
}

/* Whether x is in [lo, hi] (false for NaN). */
static bool in_range(double x, double lo, double hi)
{
	return x >= lo && x <= hi;
}

static int check_kafka(const struct cfg *c, struct cfg_error *err)
{
	const struct cfg_kafka *k = &c->kafka;
	unsigned i;

	if (!k->enabled)
		return 0;
	if (!k->brokers[0])
		return fail(err, kline(k, k->brokers_line),
			    "kafka.brokers: is required (bootstrap servers, "
			    "\"host:port[,host:port...]\")");
	if (!sr_id_valid(k->node))
		return fail(err, kline(k, k->node_line),
			    "kafka.node: '%s' is not a valid node id (1 to %d "
			    "characters of A-Z a-z 0-9 . _ : @ / -)",
			    k->node, CFG_NAME_LEN - 1);
	if (!kafka_topic_valid(k->sync_topic))
		return fail(err, kline(k, k->sync_topic_line),
			    "kafka.sync_topic: '%s' is not a Kafka topic name "
			    "(1 to 249 characters of A-Z a-z 0-9 . _ -)",
			    k->sync_topic);
	if (!kafka_topic_valid(k->control_topic))
		return fail(err, kline(k, k->control_topic_line),
			    "kafka.control_topic: '%s' is not a Kafka topic "
			    "name (1 to 249 characters of A-Z a-z 0-9 . _ -)",
			    k->control_topic);
	if (strcmp(k->sync_topic, k->control_topic) == 0)
		return fail(err, kline(k, k->control_topic_line),
			    "kafka.control_topic: must differ from sync_topic "
			    "(both are '%s')",
			    k->sync_topic);
	if (!in_range(k->sync_interval_s, 0.01, 60))
		return fail(err, kline(k, k->sync_interval_line),
			    "kafka.sync_interval: must be in [0.01, 60] "
			    "seconds (got %g)",
			    k->sync_interval_s);
	if (!(k->lease_s > k->sync_interval_s))
		return fail(err, kline(k, k->lease_line),
			    "kafka.lease: must be longer than sync_interval "
			    "(got %g s, sync_interval %g s; 3 times "
			    "sync_interval or more is recommended)",
			    k->lease_s, k->sync_interval_s);
	if (!(k->lease_s <= 600))
		return fail(err, kline(k, k->lease_line),
			    "kafka.lease: must be in (sync_interval, 600] "
			    "seconds (got %g)",
			    k->lease_s);
	if (!in_range(k->startup_timeout_s, 0, 3600))
		return fail(err, kline(k, k->startup_timeout_line),
			    "kafka.startup_timeout: must be in [0, 3600] "
			    "seconds (got %g)",
			    k->startup_timeout_s);
	if (!in_range(k->demand_headroom, 1, 2))
		return fail(err, kline(k, k->demand_headroom_line),
			    "kafka.demand_headroom: must be in [1, 2] (got %g)",
			    k->demand_headroom);
	if (!in_range(k->lag_interval_s, 0.1, 3600))
		return fail(err, kline(k, k->lag_interval_line),
			    "kafka.lag_interval: must be in [0.1, 3600] "
			    "seconds (got %g)",
			    k->lag_interval_s);
	if (k->outage >= CFG_OUTAGE_MAX)
		return fail(err, kline(k, k->outage_line),
			    "kafka.outage: not a policy (static, open or "
			    "closed)");
	if (k->partitions < 1 || k->partitions > 1024)
		return fail(err, kline(k, k->partitions_line),
			    "kafka.partitions: must be in 1..1024 (got %u)",
			    k->partitions);
	if (k->replication < 1 || k->replication > 32)
		return fail(err, kline(k, k->replication_line),
			    "kafka.replication: must be in 1..32 (got %u)",
			    k->replication);
	if (k->n_props > CFG_KAFKA_MAX_PROPS)
		return fail(err, k->line, "kafka.properties: at most %d",
			    CFG_KAFKA_MAX_PROPS);
	if (k->n_lag > CFG_KAFKA_MAX_LAG)
		return fail(err, k->line, "kafka.lag: at most %d entries",
			    CFG_KAFKA_MAX_LAG);
	for (i = 0; i < k->n_lag; i++) {
		const struct cfg_kafka_lag *l = &k->lag[i];
		int ln = kline(k, l->line);

		if (l->pipeline >= c->n_pipelines)
			return fail(err, ln,
				    "kafka.lag[%u].pipeline: no such pipeline",
				    i);
		if (!l->group[0])
			return fail(err, ln,
				    "kafka.lag[%u].group: must not be empty",
				    i);
		if (!kafka_topic_valid(l->topic))
			return fail(err, ln,
				    "kafka.lag[%u].topic: '%s' is not a Kafka "
				    "topic name (1 to 249 characters of A-Z "
				    "a-z 0-9 . _ -)",
				    i, l->topic);
	}
	return 0;
}

static int shared_line(const struct cfg_bucket *b)
{
	return b->shared_line ? b->shared_line : b->line;
}

/* Shared ids: global and topic buckets only, valid ids, one bucket per id
 * on a node (a node claims one share per id), and a kafka section to share
 * them through. */
static int check_shared(const struct cfg *c, struct cfg_error *err)
{
	const struct cfg_bucket *seen[CFG_MAX_PIPELINES * (CFG_MAX_TOPICS + 2)];
	const struct cfg_bucket *b;
	char where[CFG_NAME_LEN + 64];
	size_t n = 0, j;
	unsigned pi, t;

	for (pi = 0; pi < c->n_pipelines; pi++) {
		const struct cfg_pipeline *p = &c->pipelines[pi];

		/* in file order: global, topics, consumers */
		for (t = 0; t < (unsigned)p->n_topics + 2; t++) {
			int ln;

			if (t == 0) {
				if (!p->has_global)
					continue;
				b = &p->global;
				snprintf(where, sizeof(where),
					 "pipelines.%s.global", p->name);
			} else if (t <= p->n_topics) {
				if (t > CFG_MAX_TOPICS)
					continue;
				b = &p->topics[t - 1];
				snprintf(where, sizeof(where), "topics.%s",
					 b->name);
			} else {
				if (!p->consumers.enabled)
					continue;
				b = &p->consumers.bucket;
				snprintf(where, sizeof(where),
					 "pipelines.%s.consumers", p->name);
			}
			if (!b->shared[0])
				continue;
			ln = shared_line(b);
			if (b->tier != CFG_TIER_GLOBAL &&
			    b->tier != CFG_TIER_TOPIC)
				return fail(err, ln,
					    "%s.shared: only global and topic "
					    "buckets can be shared",
					    where);
			if (!sr_id_valid(b->shared))
				return fail(err, ln,
					    "%s.shared: '%s' is not a valid id "
					    "(1 to %d characters of A-Z a-z 0-9 "
					    ". _ : @ / -)",
					    where, b->shared, CFG_NAME_LEN - 1);
			if (!c->kafka.enabled)
				return fail(err, ln,
					    "%s.shared: needs a kafka section "
					    "(kafka = { brokers = ...; })",
					    where);
			for (j = 0; j < n; j++)
				if (strcmp(seen[j]->shared, b->shared) == 0)
					return fail(err, ln,
						    "%s.shared: '%s' is already "
						    "the shared id of bucket "
						    "'%s' (line %d); a node "
						    "has one bucket per id",
						    where, b->shared,
						    seen[j]->name,
						    shared_line(seen[j]));
			seen[n++] = b;
		}
	}
	return 0;
}

int cfg_validate(const struct cfg *c, struct cfg_error *err)
{
	unsigned i, j;
	int rc;

	if ((rc = check_policy(c, err)) < 0)
		return rc;
	if (c->n_ports == 0)
		return fail(err, 0, "ports: at least one is needed");
	if (c->n_pipelines == 0)
		return fail(err, 0,
			    "pipelines: at least one is needed");
	if (c->burst_size < 1 || c->burst_size > 512)
		return fail(err, 0, "burst: must be in 1..512");
	if (c->shape_queue < 1)
		return fail(err, 0, "shape_queue: must be >= 1");
	for (i = 0; i < c->n_ports; i++)
		for (j = 0; j < i; j++)
			if (strcmp(c->ports[i].name, c->ports[j].name) == 0 ||
			    strcmp(c->ports[i].device, c->ports[j].device) == 0)
				return fail(err, c->ports[i].line,
					    "port '%s' (%s) is defined twice",
					    c->ports[i].name,
					    c->ports[i].device);
	for (i = 0; i < c->n_pipelines; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(c->pipelines[i].name,
				   c->pipelines[j].name) == 0)
				return fail(err,
					    c->pipelines[i].line,
					    "pipeline name '%s' is used twice",
					    c->pipelines[i].name);
			if (c->pipelines[i].ingress == c->pipelines[j].ingress)
				return fail(err,
					    c->pipelines[i].line,
					    "pipelines '%s' and '%s' share an "
					    "ingress port",
					    c->pipelines[j].name,
					    c->pipelines[i].name);
		}
		if ((rc = check_pipeline(c, &c->pipelines[i], err)) <
		    0)
			return rc;
	}
	if ((rc = check_unique(c, err)) < 0 ||
	    (rc = check_kafka(c, err)) < 0)
		return rc;
	return check_shared(c, err);
}

void cfg_free(struct cfg *c)
{
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < c->n_eal; i++) {
		free(c->eal[i]);
		c->eal[i] = NULL;
	}
	c->n_eal = 0;
	for (i = 0; i < c->n_pipelines; i++) {
		struct cfg_pipeline *p = &c->pipelines[i];

		free(p->topics);
		free(p->rules);
		free(p->consumers.overrides);
		p->topics = NULL;
		p->rules = NULL;
		p->consumers.overrides = NULL;
		p->n_topics = 0;
		p->n_rules = 0;
		p->consumers.n_overrides = 0;
	}
	c->n_pipelines = 0;
	for (i = 0; i < c->kafka.n_props && i < CFG_KAFKA_MAX_PROPS; i++) {
		free(c->kafka.props[i]);
		c->kafka.props[i] = NULL;
	}
	c->kafka.n_props = 0;
}

static int differ(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s changed: needs a restart", what);
	return -EINVAL;
}

/* The first setting of the kafka section that differs, or NULL. Lines are
 * not settings: moving the section in the file changes nothing. */
static const char *kafka_diff(const struct cfg_kafka *a,
			      const struct cfg_kafka *b)
{
	unsigned i;

	if (a->enabled != b->enabled)
		return "kafka (added or removed)";
	if (!a->enabled)
		return NULL;
	if (strcmp(a->brokers, b->brokers))
		return "kafka.brokers";
	if (strcmp(a->node, b->node))
		return "kafka.node";
	if (strcmp(a->sync_topic, b->sync_topic))
		return "kafka.sync_topic";
	if (strcmp(a->control_topic, b->control_topic))
		return "kafka.control_topic";
	if (a->sync_interval_s != b->sync_interval_s)
		return "kafka.sync_interval";
	if (a->lease_s != b->lease_s)
		return "kafka.lease";
	if (a->startup_timeout_s != b->startup_timeout_s)
		return "kafka.startup_timeout";
	if (a->demand_headroom != b->demand_headroom)
		return "kafka.demand_headroom";
	if (a->lag_interval_s != b->lag_interval_s)
		return "kafka.lag_interval";
	if (a->outage != b->outage)
		return "kafka.outage";
	if (a->partitions != b->partitions)
		return "kafka.partitions";
	if (a->expected_nodes != b->expected_nodes)
		return "kafka.expected_nodes";
	if (a->replication != b->replication)
		return "kafka.replication";
	if (a->n_props != b->n_props)
		return "kafka.properties";
	for (i = 0; i < a->n_props && i < CFG_KAFKA_MAX_PROPS; i++)
		if (strcmp(a->props[i], b->props[i]))
			return "kafka.properties";
	if (a->n_lag != b->n_lag)
		return "kafka.lag";
	for (i = 0; i < a->n_lag && i < CFG_KAFKA_MAX_LAG; i++)
		if (a->lag[i].pipeline != b->lag[i].pipeline ||
		    strcmp(a->lag[i].group, b->lag[i].group) ||
		    strcmp(a->lag[i].topic, b->lag[i].topic))
			return "kafka.lag";
	return NULL;
}

static bool bucket_same_slot(const struct cfg_bucket *a,
			     const struct cfg_bucket *b)
{
	return strcmp(a->name, b->name) == 0 && a->tier == b->tier;
}

int cfg_reloadable(const struct cfg *cur, const struct cfg *next, char *err,
		   size_t err_len)
{
	const char *kd;
	unsigned i, t;

	if (cur->n_eal != next->n_eal)
		return differ(err, err_len, "eal");
	for (i = 0; i < cur->n_eal; i++)
		if (strcmp(cur->eal[i], next->eal[i]) != 0)
			return differ(err, err_len, "eal");
	if (cur->workers != next->workers)
		return differ(err, err_len, "workers");
	if (cur->burst_size != next->burst_size)
		return differ(err, err_len, "burst");
	if (cur->mbufs != next->mbufs)
		return differ(err, err_len, "mbufs");
	if (cur->shape_queue != next->shape_queue)
		return differ(err, err_len, "shape_queue");
	if (strcmp(cur->admin.socket, next->admin.socket) != 0)
		return differ(err, err_len, "admin.socket");
	if ((kd = kafka_diff(&cur->kafka, &next->kafka)))
		return differ(err, err_len, kd);
	if (cur->n_ports != next->n_ports)
		return differ(err, err_len, "ports");
	for (i = 0; i < cur->n_ports; i++) {
		const struct cfg_port *a = &cur->ports[i], *b = &next->ports[i];

		if (strcmp(a->name, b->name) || strcmp(a->device, b->device) ||
		    a->rx_desc != b->rx_desc || a->tx_desc != b->tx_desc ||
		    a->promiscuous != b->promiscuous)
			return differ(err, err_len, "ports");
	}
	if (cur->n_pipelines != next->n_pipelines)
		return differ(err, err_len, "pipelines (added or removed)");
	for (i = 0; i < cur->n_pipelines; i++) {
		const struct cfg_pipeline *a = &cur->pipelines[i],
					  *b = &next->pipelines[i];

		if (strcmp(a->name, b->name) || a->ingress != b->ingress ||
		    a->egress != b->egress || a->egress_port != b->egress_port ||
		    strcmp(a->ring, b->ring) || a->ring_size != b->ring_size)
			return differ(err, err_len,
				      "a pipeline's name, ports or egress");
		if (a->has_global != b->has_global ||
		    (a->has_global && !bucket_same_slot(&a->global, &b->global)))
			return differ(err, err_len,
				      "a global bucket (added, removed or "
				      "renamed)");
		if (a->n_topics != b->n_topics)
			return differ(err, err_len, "topics (added or removed)");
		for (t = 0; t < a->n_topics; t++)
			if (!bucket_same_slot(&a->topics[t], &b->topics[t]))
				return differ(err, err_len,
					      "topics (renamed or reordered)");
		if (a->consumers.enabled != b->consumers.enabled ||
		    (a->consumers.enabled &&
		     (!bucket_same_slot(&a->consumers.bucket,
					&b->consumers.bucket) ||
		      a->consumers.max_per_core != b->consumers.max_per_core)))
			return differ(err, err_len,
				      "the consumer tier (added, removed, "
				      "renamed, or its max)");
		if ((a->has_global && a->global.mode != b->global.mode) ||
		    (a->consumers.enabled &&
		     a->consumers.bucket.mode != b->consumers.bucket.mode))
			return differ(err, err_len, "a bucket's mode");
		for (t = 0; t < a->n_topics; t++)
			if (a->topics[t].mode != b->topics[t].mode)
				return differ(err, err_len, "a bucket's mode");
		/* a shared id joins or leaves a cluster-wide split */
		if ((a->has_global &&
		     strcmp(a->global.shared, b->global.shared)) ||
		    (a->consumers.enabled &&
		     strcmp(a->consumers.bucket.shared,
			    b->consumers.bucket.shared)))
			return differ(err, err_len, "a bucket's shared id");
		for (t = 0; t < a->n_topics; t++)
			if (strcmp(a->topics[t].shared, b->topics[t].shared))
				return differ(err, err_len,
					      "a bucket's shared id");
	}
	return 0;
}
