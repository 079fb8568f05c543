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

static const char *const action_names[CFG_ACT_MAX] = { "drop", "mark",
						       "shape" };
static const char *const tier_names[CFG_TIER_MAX] = { "global", "topic",
						      "consumer" };
static const char *const egress_names[CFG_EGRESS_MAX] = { "port", "reflect",
							  "ring" };
static const char *const ctrl_names[CFG_CTRL_MAX] = { "none", "aimd", "pid" };

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
	return check_unique(c, err);
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
}

static int differ(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s changed: needs a restart", what);
	return -EINVAL;
}

static bool bucket_same_slot(const struct cfg_bucket *a,
			     const struct cfg_bucket *b)
{
	return strcmp(a->name, b->name) == 0 && a->tier == b->tier;
}

int cfg_reloadable(const struct cfg *cur, const struct cfg *next, char *err,
		   size_t err_len)
{
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
	}
	return 0;
}
