/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config loader: libconfig file -> struct cfg. Strict by design: an unknown
 * setting, a wrong type or an impossible value is an error with the file,
 * the line and the setting's path, never a silent default, because a typo
 * in a rate limit ("burts = 100") must not pass unnoticed.
 */
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_priv.h"


/* "pipelines[demo].topics[orders].rate": list elements by their name
 * member when they have one, else by index. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
	const config_setting_t *chain[16];
	size_t n = 0, off = 0;

	buf[0] = '\0';
	while (s && config_setting_parent(s) && n < 16) {
		chain[n++] = s;
		s = config_setting_parent(s);
	}
	while (n-- > 0 && off < len) {
		const config_setting_t *c = chain[n];
		const char *name = config_setting_name(c);
		const char *ename = NULL;
		int w;

		if (name) {
			w = snprintf(buf + off, len - off, "%s%s",
				     off ? "." : "", name);
		} else {
			if (config_setting_is_group(c))
				config_setting_lookup_string(c, "name",
							     &ename);
			if (ename)
				w = snprintf(buf + off, len - off, "[%s]",
					     ename);
			else
				w = snprintf(buf + off, len - off, "[%d]",
					     config_setting_index(c));
		}
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

int ld_fail(struct ld *ld, const config_setting_t *s, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	int n;

	if (ld->failed)
		return -EINVAL;
	ld->failed = 1;
	setting_path(s, path, sizeof(path));
	n = snprintf(ld->err, ld->err_len, "%s:%d: %s%s", ld->file,
		     s ? config_setting_source_line(s) : 0, path,
		     path[0] ? ": " : "");
	if (n < 0 || (size_t)n >= ld->err_len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ld->err + n, ld->err_len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Every member of group must be one of the names in known (NULL-ended). */
int ld_check_known(struct ld *ld, const config_setting_t *g,
		       const char *const *known)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(g, i);
		const char *name = config_setting_name(c);
		const char *const *k;
		char list[256];
		size_t off = 0;

		for (k = known; *k; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k)
			continue;
		list[0] = '\0';
		for (k = known; *k && off < sizeof(list); k++) {
			int w = snprintf(list + off, sizeof(list) - off,
					 "%s%s", off ? ", " : "", *k);

			if (w < 0)
				break;
			off += (size_t)w;
		}
		return ld_fail(ld, c, "unknown setting (known here: %s)",
			       list);
	}
	return 0;
}

static int is_number(const config_setting_t *s)
{
	int t = config_setting_type(s);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ||
	       t == CONFIG_TYPE_FLOAT;
}

/* Optional number (int or float); required makes absence an error. */
int ld_get_num(struct ld *ld, const config_setting_t *g, const char *name,
		   double *out, int required)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s) {
		if (required)
			return ld_fail(ld, g, "'%s' is required", name);
		return 0;
	}
	if (!is_number(s))
		return ld_fail(ld, s, "must be a number");
	*out = config_setting_type(s) == CONFIG_TYPE_FLOAT ?
		       config_setting_get_float(s) :
		       (double)config_setting_get_int64(s);
	return 0;
}

/* Optional whole number in [lo, hi]. */
int ld_get_uint(struct ld *ld, const config_setting_t *g, const char *name,
		    uint64_t *out, uint64_t lo, uint64_t hi, int required)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	long long v;

	if (!s) {
		if (required)
			return ld_fail(ld, g, "'%s' is required", name);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return ld_fail(ld, s, "must be a whole number");
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < lo || (uint64_t)v > hi)
		return ld_fail(ld, s, "%lld is out of range (%llu..%llu)", v,
			       (unsigned long long)lo, (unsigned long long)hi);
	*out = (uint64_t)v;
	return 0;
}

int ld_get_str(struct ld *ld, const config_setting_t *g, const char *name,
		   const char **out, int required)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s) {
		if (required)
			return ld_fail(ld, g, "'%s' is required", name);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return ld_fail(ld, s, "must be a string (in double quotes)");
	*out = config_setting_get_string(s);
	return 0;
}

int ld_get_bool(struct ld *ld, const config_setting_t *g, const char *name,
		    bool *out)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return ld_fail(ld, s, "must be true or false");
	*out = config_setting_get_bool(s);
	return 0;
}

int ld_copy_name(struct ld *ld, const config_setting_t *g,
		     const char *name, char *dst, size_t len, int required)
{
	const char *v = NULL;
	const char *p;

	if (ld_get_str(ld, g, name, &v, required) < 0)
		return -EINVAL;
	if (!v)
		return 0;
	if (v[0] == '\0' || strlen(v) >= len)
		return ld_fail(ld, config_setting_get_member(g, name),
			       "must be 1 to %zu characters", len - 1);
	for (p = v; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p > '~')
			return ld_fail(ld, config_setting_get_member(g, name),
				       "'%s': no spaces, quotes or control "
				       "characters in a name",
				       v);
	snprintf(dst, len, "%s", v);
	return 0;
}

/* The line of member name of g, or 0 when it is absent. */
int ld_member_line(const config_setting_t *g, const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	return s ? config_setting_source_line(s) : 0;
}

/* An optional string that must fit dst whole (1 to len - 1 characters):
 * too long is an error, never a truncation. Any characters; the model's
 * validation judges the content. */
int ld_copy_str(struct ld *ld, const config_setting_t *g,
		    const char *name, char *dst, size_t len, int required)
{
	const char *v = NULL;

	if (ld_get_str(ld, g, name, &v, required) < 0)
		return -EINVAL;
	if (!v)
		return 0;
	if (v[0] == '\0' || strlen(v) >= len)
		return ld_fail(ld, config_setting_get_member(g, name),
			       "must be 1 to %zu characters", len - 1);
	snprintf(dst, len, "%s", v);
	return 0;
}

const config_setting_t *ld_get_group(struct ld *ld,
					 const config_setting_t *g,
					 const char *name, int required)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s) {
		if (required)
			ld_fail(ld, g, "'%s' is required", name);
		return NULL;
	}
	if (!config_setting_is_group(s)) {
		ld_fail(ld, s, "must be a group: { ... }");
		return NULL;
	}
	return s;
}

const config_setting_t *ld_get_list(struct ld *ld,
					const config_setting_t *g,
					const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return NULL;
	if (!config_setting_is_list(s) && !config_setting_is_array(s)) {
		ld_fail(ld, s, "must be a list: ( ... )");
		return NULL;
	}
	return s;
}

static const char *const bucket_keys[] = {
	"name",	     "rate",	 "burst",	    "mode",
	"action",    "shadow",	 "mark_dscp",	    "shape_max_delay",
	"controller", "floor",	 "match",	    "shared",
	NULL
};

/* Fill a bucket from a group; the caller has set its defaults. */
static int load_bucket(struct ld *ld, const config_setting_t *g,
		       struct cfg_bucket *b, const char *const *known)
{
	const char *s = NULL;
	uint64_t v;

	if (ld_check_known(ld, g, known) < 0)
		return -EINVAL;
	b->line = config_setting_source_line(g);
	if (config_setting_get_member(g, "rate"))
		b->rate_line = config_setting_source_line(
			config_setting_get_member(g, "rate"));
	if (config_setting_get_member(g, "burst"))
		b->burst_line = config_setting_source_line(
			config_setting_get_member(g, "burst"));
	b->shared_line = ld_member_line(g, "shared");
	if (ld_copy_name(ld, g, "name", b->name, sizeof(b->name), 0) < 0 ||
	    ld_copy_str(ld, g, "shared", b->shared, sizeof(b->shared), 0) < 0 ||
	    ld_get_num(ld, g, "rate", &b->rate, 1) < 0 ||
	    ld_get_uint(ld, g, "burst", &b->burst, 0, UINT64_MAX, 1) < 0 ||
	    ld_get_bool(ld, g, "shadow", &b->shadow) < 0 ||
	    ld_get_num(ld, g, "shape_max_delay", &b->shape_max_delay_s, 0) < 0)
		return -EINVAL;
	if (ld_get_str(ld, g, "mode", &s, 0) < 0)
		return -EINVAL;
	if (s && cfg_mode_parse(s, &b->mode) < 0)
		return ld_fail(ld, config_setting_get_member(g, "mode"),
			       "'%s' is not a mode (packets or bytes)", s);
	s = NULL;
	if (ld_get_str(ld, g, "action", &s, 0) < 0)
		return -EINVAL;
	if (s && cfg_action_parse(s, &b->action) < 0)
		return ld_fail(ld, config_setting_get_member(g, "action"),
			       "'%s' is not an action (drop, mark or shape)",
			       s);
	v = b->mark_dscp;
	if (ld_get_uint(ld, g, "mark_dscp", &v, 0, 63, 0) < 0)
		return -EINVAL;
	b->mark_dscp = (uint8_t)v;
	s = NULL;
	if (ld_get_str(ld, g, "controller", &s, 0) < 0 ||
	    ld_get_num(ld, g, "floor", &b->floor, 0) < 0)
		return -EINVAL;
	if (s && cfg_ctrl_parse(s, &b->controller) < 0)
		return ld_fail(ld, config_setting_get_member(g, "controller"),
			       "'%s' is not a controller (none, aimd or pid)",
			       s);
	if (!(b->rate > 0))
		return ld_fail(ld, config_setting_get_member(g, "rate"),
			       "must be > 0 (got %g)", b->rate);
	return 0;
}

static int load_rule(struct ld *ld, const config_setting_t *g,
		     struct cfg_rule *r, uint16_t topic)
{
	static const char *const keys[] = { "dst_port", "dst_ports",
					    "dst_prefix", "vlan", NULL };
	const config_setting_t *s;
	const char *pfx = NULL;
	uint64_t v;

	if (!config_setting_is_group(g))
		return ld_fail(ld, g, "a rule must be a group: { dst_port = "
				      "9000; }");
	if (ld_check_known(ld, g, keys) < 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->topic = topic;
	r->line = config_setting_source_line(g);
	if (config_setting_get_member(g, "dst_port")) {
		if (ld_get_uint(ld, g, "dst_port", &v, 0, 65535, 1) < 0)
			return -EINVAL;
		r->kinds |= CFG_RULE_PORT;
		r->port_lo = r->port_hi = (uint16_t)v;
	}
	s = config_setting_get_member(g, "dst_ports");
	if (s) {
		const config_setting_t *a, *b;

		if (r->kinds & CFG_RULE_PORT)
			return ld_fail(ld, s, "give dst_port or dst_ports, "
					      "not both");
		if (config_setting_length(s) != 2 ||
		    !(a = config_setting_get_elem(s, 0)) ||
		    !(b = config_setting_get_elem(s, 1)) ||
		    config_setting_type(a) != CONFIG_TYPE_INT ||
		    config_setting_type(b) != CONFIG_TYPE_INT ||
		    config_setting_get_int(a) < 0 ||
		    config_setting_get_int(b) > 65535 ||
		    config_setting_get_int(a) > config_setting_get_int(b))
			return ld_fail(ld, s, "must be [first, last], whole "
					      "numbers, 0 <= first <= last "
					      "<= 65535");
		r->kinds |= CFG_RULE_PORT;
		r->port_lo = (uint16_t)config_setting_get_int(a);
		r->port_hi = (uint16_t)config_setting_get_int(b);
	}
	if (ld_get_str(ld, g, "dst_prefix", &pfx, 0) < 0)
		return -EINVAL;
	if (pfx) {
		if (cfg_prefix_parse(pfx, &r->prefix) < 0)
			return ld_fail(ld,
				       config_setting_get_member(g,
								 "dst_prefix"),
				       "'%s' is not an address or prefix "
				       "(10.0.0.0/8, 2001:db8::/32)",
				       pfx);
		r->kinds |= CFG_RULE_PREFIX;
	}
	if (config_setting_get_member(g, "vlan")) {
		if (ld_get_uint(ld, g, "vlan", &v, 0, 4095, 1) < 0)
			return -EINVAL;
		r->kinds |= CFG_RULE_VLAN;
		r->vlan = (uint16_t)v;
	}
	if (!r->kinds)
		return ld_fail(ld, g, "a rule needs a condition: dst_port, "
				      "dst_ports, dst_prefix or vlan");
	return 0;
}

static int load_topics(struct ld *ld, const config_setting_t *list,
		       struct cfg_pipeline *p)
{
	int i, j, n = config_setting_length(list), nr = 0;

	if (n > CFG_MAX_TOPICS)
		return ld_fail(ld, list, "at most %d topics per pipeline",
			       CFG_MAX_TOPICS);
	for (i = 0; i < n; i++) {
		const config_setting_t *t = config_setting_get_elem(list, i);
		const config_setting_t *m;

		if (!config_setting_is_group(t))
			return ld_fail(ld, t, "a topic must be a group: "
					      "{ name = ...; rate = ...; }");
		m = config_setting_get_member(t, "match");
		if (m)
			nr += config_setting_length(m);
	}
	if (nr > CFG_MAX_RULES)
		return ld_fail(ld, list, "at most %d rules per pipeline",
			       CFG_MAX_RULES);
	p->topics = calloc((size_t)n + 1, sizeof(*p->topics));
	p->rules = calloc((size_t)nr + 1, sizeof(*p->rules));
	if (!p->topics || !p->rules)
		return ld_fail(ld, list, "out of memory");
	for (i = 0; i < n; i++) {
		const config_setting_t *t = config_setting_get_elem(list, i);
		const config_setting_t *m;
		struct cfg_bucket *b = &p->topics[i];

		cfg_bucket_init(b, CFG_TIER_TOPIC);
		if (load_bucket(ld, t, b, bucket_keys) < 0)
			return -EINVAL;
		if (!b->name[0])
			return ld_fail(ld, t, "a topic needs a name");
		p->n_topics = (uint16_t)(i + 1);
		m = ld_get_list(ld, t, "match");
		if (ld->failed)
			return -EINVAL;
		if (!m || config_setting_length(m) == 0)
			return ld_fail(ld, t, "a topic needs match = ( { "
					      "dst_port = ...; } ) with at "
					      "least one rule");
		for (j = 0; j < config_setting_length(m); j++) {
			if (load_rule(ld, config_setting_get_elem(m, j),
				      &p->rules[p->n_rules], (uint16_t)i) < 0)
				return -EINVAL;
			p->n_rules++;
		}
	}
	return 0;
}

static int load_consumers(struct ld *ld, const config_setting_t *g,
			  struct cfg_pipeline *p)
{
	static const char *const keys[] = {
		"name",	      "rate",	     "burst",	   "mode",
		"action",     "shadow",	     "mark_dscp",  "shape_max_delay",
		"controller", "floor",	     "max",	   "idle_timeout",
		"overrides",
		/* read so that validation can say why it is refused */
		"shared",     NULL
	};
	struct cfg_consumers *cc = &p->consumers;
	const config_setting_t *ov;
	uint64_t v = 65536;
	int i, n;

	cc->enabled = true;
	cfg_bucket_init(&cc->bucket, CFG_TIER_CONSUMER);
	snprintf(cc->bucket.name, sizeof(cc->bucket.name), "%.20s/consumers",
		 p->name);
	cc->idle_timeout_s = 60;
	if (load_bucket(ld, g, &cc->bucket, keys) < 0 ||
	    ld_get_uint(ld, g, "max", &v, 1, UINT32_MAX / 2, 0) < 0 ||
	    ld_get_num(ld, g, "idle_timeout", &cc->idle_timeout_s, 0) < 0)
		return -EINVAL;
	cc->max_per_core = (uint32_t)v;
	ov = ld_get_list(ld, g, "overrides");
	if (ld->failed)
		return -EINVAL;
	if (!ov)
		return 0;
	n = config_setting_length(ov);
	if (n > CFG_MAX_OVERRIDES)
		return ld_fail(ld, ov, "at most %d overrides",
			       CFG_MAX_OVERRIDES);
	cc->overrides = calloc((size_t)n + 1, sizeof(*cc->overrides));
	if (!cc->overrides)
		return ld_fail(ld, ov, "out of memory");
	for (i = 0; i < n; i++) {
		static const char *const okeys[] = { "match", "rate", "burst",
						     NULL };
		const config_setting_t *o = config_setting_get_elem(ov, i);
		struct cfg_override *x = &cc->overrides[i];
		const char *m = NULL;

		if (!config_setting_is_group(o))
			return ld_fail(ld, o, "an override must be a group: "
					      "{ match = \"10.0.0.1\"; rate = "
					      "...; }");
		if (ld_check_known(ld, o, okeys) < 0 ||
		    ld_get_str(ld, o, "match", &m, 1) < 0)
			return -EINVAL;
		if (cfg_prefix_parse(m, &x->prefix) < 0)
			return ld_fail(ld, config_setting_get_member(o, "match"),
				       "'%s' is not an address or prefix", m);
		x->rate = cc->bucket.rate;
		x->burst = cc->bucket.burst;
		x->line = config_setting_source_line(o);
		if (ld_get_num(ld, o, "rate", &x->rate, 0) < 0 ||
		    ld_get_uint(ld, o, "burst", &x->burst, 0, UINT64_MAX, 0) < 0)
			return -EINVAL;
		if (!(x->rate > 0))
			return ld_fail(ld, config_setting_get_member(o, "rate"),
				       "must be > 0 (got %g)", x->rate);
		cc->n_overrides = (uint32_t)(i + 1);
	}
	return 0;
}

static int port_index(const struct cfg *c, const char *name)
{
	unsigned i;

	for (i = 0; i < c->n_ports; i++)
		if (strcmp(c->ports[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int load_egress(struct ld *ld, const config_setting_t *p_g,
		       struct cfg *c, struct cfg_pipeline *p)
{
	static const char *const keys[] = { "type", "port", "ring", "size",
					    NULL };
	const config_setting_t *g = ld_get_group(ld, p_g, "egress", 1);
	const char *type = NULL, *port = NULL;
	uint64_t size = 65536;
	int idx;

	if (!g || ld_check_known(ld, g, keys) < 0 ||
	    ld_get_str(ld, g, "type", &type, 1) < 0)
		return -EINVAL;
	if (cfg_egress_parse(type, &p->egress) < 0)
		return ld_fail(ld, config_setting_get_member(g, "type"),
			       "'%s' is not an egress type (port, reflect or "
			       "ring)",
			       type);
	switch (p->egress) {
	case CFG_EGRESS_PORT:
		if (ld_get_str(ld, g, "port", &port, 1) < 0)
			return -EINVAL;
		idx = port_index(c, port);
		if (idx < 0)
			return ld_fail(ld, config_setting_get_member(g, "port"),
				       "no port is named '%s'", port);
		p->egress_port = (uint16_t)idx;
		break;
	case CFG_EGRESS_RING:
		if (ld_copy_name(ld, g, "ring", p->ring, sizeof(p->ring), 1) < 0 ||
		    ld_get_uint(ld, g, "size", &size, 64, 1u << 28, 0) < 0)
			return -EINVAL;
		if (size & (size - 1))
			return ld_fail(ld, config_setting_get_member(g, "size"),
				       "%llu is not a power of 2",
				       (unsigned long long)size);
		p->ring_size = (uint32_t)size;
		break;
	default:
		break;
	}
	if (p->egress != CFG_EGRESS_PORT && config_setting_get_member(g, "port"))
		return ld_fail(ld, config_setting_get_member(g, "port"),
			       "only a 'port' egress takes a port");
	return 0;
}

static int load_pipeline(struct ld *ld, const config_setting_t *g,
			 struct cfg *c, struct cfg_pipeline *p)
{
	static const char *const keys[] = { "name",   "ingress", "egress",
					    "global", "topics",	 "consumers",
					    "lag",    NULL };
	static const char *const lkeys[] = { "ring", NULL };
	const config_setting_t *s;
	const char *in = NULL;
	int idx;

	if (!config_setting_is_group(g))
		return ld_fail(ld, g, "a pipeline must be a group: { ... }");
	if (ld_check_known(ld, g, keys) < 0 ||
	    ld_copy_name(ld, g, "name", p->name, sizeof(p->name), 1) < 0 ||
	    ld_get_str(ld, g, "ingress", &in, 1) < 0)
		return -EINVAL;
	p->line = config_setting_source_line(g);
	idx = port_index(c, in);
	if (idx < 0)
		return ld_fail(ld, config_setting_get_member(g, "ingress"),
			       "no port is named '%s'", in);
	p->ingress = (uint16_t)idx;
	if (load_egress(ld, g, c, p) < 0)
		return -EINVAL;
	s = ld_get_group(ld, g, "global", 0);
	if (ld->failed)
		return -EINVAL;
	if (s) {
		static const char *const gkeys[] = {
			"name",	      "rate",	"burst",     "mode",
			"action",     "shadow", "mark_dscp", "shape_max_delay",
			"controller", "floor",	"shared",    NULL
		};

		p->has_global = true;
		cfg_bucket_init(&p->global, CFG_TIER_GLOBAL);
		snprintf(p->global.name, sizeof(p->global.name), "%.24s/global",
			 p->name);
		if (load_bucket(ld, s, &p->global, gkeys) < 0)
			return -EINVAL;
	}
	s = ld_get_list(ld, g, "topics");
	if (ld->failed || (s && load_topics(ld, s, p) < 0))
		return -EINVAL;
	s = ld_get_group(ld, g, "consumers", 0);
	if (ld->failed || (s && load_consumers(ld, s, p) < 0))
		return -EINVAL;
	/* a ring egress's backlog is the pipeline's lag unless told not */
	p->lag_from_ring = p->egress == CFG_EGRESS_RING;
	s = ld_get_group(ld, g, "lag", 0);
	if (ld->failed)
		return -EINVAL;
	if (s && (ld_check_known(ld, s, lkeys) < 0 ||
		  ld_get_bool(ld, s, "ring", &p->lag_from_ring) < 0))
		return -EINVAL;
	if (p->lag_from_ring && p->egress != CFG_EGRESS_RING)
		return ld_fail(ld, config_setting_get_member(s, "ring"),
			       "only a pipeline with a ring egress has a ring "
			       "backlog to read");
	return 0;
}

static int get_frac(struct ld *ld, const config_setting_t *g,
		    const char *name, double *out, double lo, double hi)
{
	if (ld_get_num(ld, g, name, out, 0) < 0)
		return -EINVAL;
	if (!(*out >= lo && *out <= hi))
		return ld_fail(ld, config_setting_get_member(g, name),
			       "must be in [%g, %g] (got %g)", lo, hi, *out);
	return 0;
}

static int load_policy(struct ld *ld, const config_setting_t *g,
		       struct cfg_policy *p)
{
	static const char *const keys[] = {
		"tick_ms",	"lag",	       "cpu_warning", "utilization_warning",
		"multipliers", "floors",      "aimd",	      "pid",
		"breaker",	"credits",     "shed_step_ticks", NULL
	};
	static const char *const lag_keys[] = {
		"warning", "critical",	  "emergency",	  "recover",
		"climb_below", "climb_factor", "hysteresis", "dwell_ticks",
		NULL
	};
	static const char *const mult_keys[] = { "warning", "critical", NULL };
	static const char *const floor_keys[] = { "global", "topic",
						  "consumer", NULL };
	static const char *const aimd_keys[] = { "high", "low", "decrease",
						 "increase", NULL };
	static const char *const pid_keys[] = { "kp", "ki", "kd", "target",
						NULL };
	static const char *const brk_keys[] = { "open_ms", "probes",
						"successes", NULL };
	static const char *const cr_keys[] = { "block_below", NULL };
	struct sev_config *sv = &p->sev;
	const config_setting_t *s;
	uint64_t v;
	double tick_ms = p->tick_s * 1000;

	if (ld_check_known(ld, g, keys) < 0 ||
	    get_frac(ld, g, "tick_ms", &tick_ms, 1, 10000) < 0 ||
	    get_frac(ld, g, "cpu_warning", &sv->cpu_warn_frac, 0.01, 1) < 0 ||
	    get_frac(ld, g, "utilization_warning", &sv->util_warn_frac, 0,
		     100) < 0)
		return -EINVAL;
	p->tick_s = tick_ms / 1000;
	v = p->shed_step_ticks;
	if (ld_get_uint(ld, g, "shed_step_ticks", &v, 1, 1000000, 0) < 0)
		return -EINVAL;
	p->shed_step_ticks = (unsigned)v;
	if ((s = ld_get_group(ld, g, "lag", 0))) {
		uint64_t d = sv->dwell_ticks;

		if (ld_check_known(ld, s, lag_keys) < 0 ||
		    ld_get_uint(ld, s, "warning", &sv->lag_warn_msgs, 1,
			     UINT64_MAX / 2, 0) < 0 ||
		    ld_get_uint(ld, s, "critical", &sv->lag_crit_msgs, 1,
			     UINT64_MAX / 2, 0) < 0 ||
		    ld_get_uint(ld, s, "emergency", &sv->lag_emerg_msgs, 1,
			     UINT64_MAX / 2, 0) < 0 ||
		    ld_get_uint(ld, s, "recover", &sv->lag_recover_msgs, 1,
			     UINT64_MAX / 2, 0) < 0 ||
		    ld_get_uint(ld, s, "climb_below", &sv->lag_climb_msgs, 1,
			     UINT64_MAX / 2, 0) < 0 ||
		    get_frac(ld, s, "climb_factor", &sv->climb_factor, 1.0001,
			     100) < 0 ||
		    get_frac(ld, s, "hysteresis", &sv->hyst_frac, 0, 0.99) <
			    0 ||
		    ld_get_uint(ld, s, "dwell_ticks", &d, 0, 1000000, 0) < 0)
			return -EINVAL;
		sv->dwell_ticks = (unsigned)d;
	}
	if (ld->failed)
		return -EINVAL;
	if ((s = ld_get_group(ld, g, "multipliers", 0)) &&
	    (ld_check_known(ld, s, mult_keys) < 0 ||
	     get_frac(ld, s, "warning", &sv->mult_warn, 1e-6, 1) < 0 ||
	     get_frac(ld, s, "critical", &sv->mult_crit, 1e-6, 1) < 0))
		return -EINVAL;
	if (ld->failed)
		return -EINVAL;
	if ((s = ld_get_group(ld, g, "floors", 0)) &&
	    (ld_check_known(ld, s, floor_keys) < 0 ||
	     get_frac(ld, s, "global", &sv->floor_rate[SEV_TIER_GLOBAL],
		      TB_RATE_MIN, TB_RATE_MAX) < 0 ||
	     get_frac(ld, s, "topic", &sv->floor_rate[SEV_TIER_TOPIC],
		      TB_RATE_MIN, TB_RATE_MAX) < 0 ||
	     get_frac(ld, s, "consumer", &sv->floor_rate[SEV_TIER_CONSUMER],
		      TB_RATE_MIN, TB_RATE_MAX) < 0))
		return -EINVAL;
	if (ld->failed)
		return -EINVAL;
	if ((s = ld_get_group(ld, g, "aimd", 0)) &&
	    (ld_check_known(ld, s, aimd_keys) < 0 ||
	     get_frac(ld, s, "high", &p->aimd.hi_util, 0, 100) < 0 ||
	     get_frac(ld, s, "low", &p->aimd.lo_util, 0, 100) < 0 ||
	     get_frac(ld, s, "decrease", &p->aimd.dec_factor, 1e-6, 1) < 0 ||
	     get_frac(ld, s, "increase", &p->aimd.inc_factor, 1, 100) < 0))
		return -EINVAL;
	if (ld->failed)
		return -EINVAL;
	if ((s = ld_get_group(ld, g, "pid", 0)) &&
	    (ld_check_known(ld, s, pid_keys) < 0 ||
	     get_frac(ld, s, "kp", &p->pid_kp, -1e6, 1e6) < 0 ||
	     get_frac(ld, s, "ki", &p->pid_ki, -1e6, 1e6) < 0 ||
	     get_frac(ld, s, "kd", &p->pid_kd, -1e6, 1e6) < 0 ||
	     get_frac(ld, s, "target", &p->pid_target, 0.01, 1) < 0))
		return -EINVAL;
	if (ld->failed)
		return -EINVAL;
	if ((s = ld_get_group(ld, g, "breaker", 0))) {
		uint64_t ms = p->brk.open_ns / 1000000, pr = p->brk.max_probes,
			 su = p->brk.successes_to_close;

		if (ld_check_known(ld, s, brk_keys) < 0 ||
		    ld_get_uint(ld, s, "open_ms", &ms, 1, 3600000, 0) < 0 ||
		    ld_get_uint(ld, s, "probes", &pr, 1, 1000000, 0) < 0 ||
		    ld_get_uint(ld, s, "successes", &su, 1, 1000000, 0) < 0)
			return -EINVAL;
		p->brk.open_ns = ms * 1000000;
		p->brk.max_probes = (uint32_t)pr;
		p->brk.successes_to_close = (uint32_t)su;
	}
	if (ld->failed)
		return -EINVAL;
	if ((s = ld_get_group(ld, g, "credits", 0)) &&
	    (ld_check_known(ld, s, cr_keys) < 0 ||
	     get_frac(ld, s, "block_below", &p->credit_block_frac, 0, 0.99) <
		     0))
		return -EINVAL;
	return ld->failed ? -EINVAL : 0;
}

static int load_ids(struct ld *ld, const config_setting_t *g,
		    const char *name, uint32_t *ids, unsigned *n)
{
	const config_setting_t *s = config_setting_get_member(g, name);
	int i;

	if (!s)
		return 0;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return ld_fail(ld, s, "must be a list of numbers: [ 1000 ]");
	if (config_setting_length(s) > CFG_MAX_IDS)
		return ld_fail(ld, s, "at most %d ids", CFG_MAX_IDS);
	for (i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_INT ||
		    config_setting_get_int(e) < 0)
			return ld_fail(ld, e, "must be a number >= 0");
		ids[i] = (uint32_t)config_setting_get_int(e);
		*n = (unsigned)i + 1;
	}
	return 0;
}

static int load_admin(struct ld *ld, const config_setting_t *g,
		      struct cfg_admin *a)
{
	static const char *const keys[] = { "socket", "uids", "gids",
					    "max_clients", NULL };
	const char *path = NULL;
	uint64_t v = a->max_clients;

	if (ld_check_known(ld, g, keys) < 0 ||
	    ld_get_str(ld, g, "socket", &path, 0) < 0 ||
	    load_ids(ld, g, "uids", a->uids, &a->n_uids) < 0 ||
	    load_ids(ld, g, "gids", a->gids, &a->n_gids) < 0 ||
	    ld_get_uint(ld, g, "max_clients", &v, 1, 100000, 0) < 0)
		return -EINVAL;
	a->max_clients = (unsigned)v;
	if (path) {
		if (!path[0] || strlen(path) >= sizeof(a->socket))
			return ld_fail(ld, config_setting_get_member(g,
								     "socket"),
				       "must be 1 to %zu characters (a UNIX "
				       "socket path)",
				       sizeof(a->socket) - 1);
		snprintf(a->socket, sizeof(a->socket), "%s", path);
	}
	return 0;
}

static int load_port(struct ld *ld, const config_setting_t *g,
		     struct cfg_port *p)
{
	static const char *const keys[] = { "name",    "device",      "rx_desc",
					    "tx_desc", "promiscuous", NULL };
	const char *dev = NULL;
	uint64_t rx = 1024, tx = 1024;

	if (!config_setting_is_group(g))
		return ld_fail(ld, g, "a port must be a group: { name = ...; "
				      "device = ...; }");
	p->promiscuous = true;
	if (ld_check_known(ld, g, keys) < 0 ||
	    ld_copy_name(ld, g, "name", p->name, sizeof(p->name), 1) < 0 ||
	    ld_get_str(ld, g, "device", &dev, 1) < 0 ||
	    ld_get_uint(ld, g, "rx_desc", &rx, 64, 16384, 0) < 0 ||
	    ld_get_uint(ld, g, "tx_desc", &tx, 64, 16384, 0) < 0 ||
	    ld_get_bool(ld, g, "promiscuous", &p->promiscuous) < 0)
		return -EINVAL;
	if (!dev[0] || strlen(dev) >= sizeof(p->device))
		return ld_fail(ld, config_setting_get_member(g, "device"),
			       "must be 1 to %zu characters",
			       sizeof(p->device) - 1);
	snprintf(p->device, sizeof(p->device), "%s", dev);
	p->rx_desc = (uint16_t)rx;
	p->tx_desc = (uint16_t)tx;
	p->line = config_setting_source_line(g);
	return 0;
}

static int load_top(struct ld *ld, const config_setting_t *root,
		    struct cfg *c)
{
	static const char *const keys[] = {
		"eal",	       "workers",	 "burst",     "mbufs",
		"shape_queue", "stats_interval", "log_level", "idle_sleep_us",
		"ports",       "pipelines",	 "policy",    "admin",
		"kafka",       NULL
	};
	const config_setting_t *s;
	const char *lvl = NULL;
	uint64_t v;
	int i, n;

	if (ld_check_known(ld, root, keys) < 0)
		return -EINVAL;
	s = ld_get_list(ld, root, "eal");
	if (ld->failed)
		return -EINVAL;
	n = s ? config_setting_length(s) : 0;
	if (n > CFG_MAX_EAL_ARGS)
		return ld_fail(ld, s, "at most %d EAL arguments",
			       CFG_MAX_EAL_ARGS);
	for (i = 0; i < n; i++) {
		const config_setting_t *a = config_setting_get_elem(s, i);

		if (config_setting_type(a) != CONFIG_TYPE_STRING)
			return ld_fail(ld, a, "EAL arguments are strings");
		c->eal[i] = strdup(config_setting_get_string(a));
		if (!c->eal[i])
			return ld_fail(ld, a, "out of memory");
		c->n_eal = (unsigned)i + 1;
	}
	v = c->workers;
	if (ld_get_uint(ld, root, "workers", &v, 0, 1024, 0) < 0)
		return -EINVAL;
	c->workers = (unsigned)v;
	s = config_setting_get_member(root, "workers");
	c->workers_line = s ? config_setting_source_line(s) : 0;
	v = c->burst_size;
	if (ld_get_uint(ld, root, "burst", &v, 1, 512, 0) < 0)
		return -EINVAL;
	c->burst_size = (uint16_t)v;
	v = c->mbufs;
	if (ld_get_uint(ld, root, "mbufs", &v, 1023, 1u << 26, 0) < 0)
		return -EINVAL;
	c->mbufs = (uint32_t)v;
	v = c->shape_queue;
	if (ld_get_uint(ld, root, "shape_queue", &v, 1, 1u << 24, 0) < 0)
		return -EINVAL;
	c->shape_queue = (uint32_t)v;
	v = c->idle_sleep_us;
	if (ld_get_uint(ld, root, "idle_sleep_us", &v, 0, 100000, 0) < 0)
		return -EINVAL;
	c->idle_sleep_us = (uint32_t)v;
	if (ld_get_num(ld, root, "stats_interval", &c->stats_interval_s, 0) < 0 ||
	    ld_get_str(ld, root, "log_level", &lvl, 0) < 0)
		return -EINVAL;
	if (c->stats_interval_s < 0)
		return ld_fail(ld,
			       config_setting_get_member(root,
							 "stats_interval"),
			       "must be >= 0 (0 turns the stats line off)");
	if (lvl) {
		static const char *const lv[] = { "error", "warning", "notice",
						  "info",  "debug",   NULL };
		const char *const *k;

		for (k = lv; *k && strcmp(*k, lvl); k++)
			;
		if (!*k)
			return ld_fail(ld,
				       config_setting_get_member(root,
								 "log_level"),
				       "'%s' is not a level (error, warning, "
				       "notice, info, debug)",
				       lvl);
		snprintf(c->log_level, sizeof(c->log_level), "%s", lvl);
	}
	s = ld_get_group(ld, root, "policy", 0);
	if (ld->failed || (s && load_policy(ld, s, &c->policy) < 0))
		return -EINVAL;
	s = ld_get_group(ld, root, "admin", 0);
	if (ld->failed || (s && load_admin(ld, s, &c->admin) < 0))
		return -EINVAL;
	s = ld_get_list(ld, root, "ports");
	if (ld->failed)
		return -EINVAL;
	if (!s || config_setting_length(s) == 0)
		return ld_fail(ld, s ? s : root,
			       "ports = ( { name = ...; device = ...; } ) is "
			       "required");
	n = config_setting_length(s);
	if (n > CFG_MAX_PORTS)
		return ld_fail(ld, s, "at most %d ports", CFG_MAX_PORTS);
	for (i = 0; i < n; i++) {
		if (load_port(ld, config_setting_get_elem(s, i),
			      &c->ports[i]) < 0)
			return -EINVAL;
		c->n_ports = (unsigned)i + 1;
	}
	s = ld_get_list(ld, root, "pipelines");
	if (ld->failed)
		return -EINVAL;
	if (!s || config_setting_length(s) == 0)
		return ld_fail(ld, s ? s : root,
			       "pipelines = ( { ... } ) is required");
	n = config_setting_length(s);
	if (n > CFG_MAX_PIPELINES)
		return ld_fail(ld, s, "at most %d pipelines",
			       CFG_MAX_PIPELINES);
	for (i = 0; i < n; i++) {
		c->n_pipelines = (unsigned)i + 1;
		if (load_pipeline(ld, config_setting_get_elem(s, i), c,
				  &c->pipelines[i]) < 0)
			return -EINVAL;
	}
	s = ld_get_group(ld, root, "kafka", 0);
	if (ld->failed || (s && config_load_kafka(ld, s, c) < 0))
		return -EINVAL;
	return 0;
}

int config_load(const char *path, struct cfg *out, char *err, size_t err_len)
{
	struct ld ld = { .file = path, .err = err, .err_len = err_len };
	struct cfg_error ve;
	config_t lc;
	int rc = 0;

	cfg_init(out);
	snprintf(out->source, sizeof(out->source), "%s", path);
	config_init(&lc);
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			snprintf(err, err_len, "%s: cannot read: %s", path,
				 strerror(errno ? errno : EIO));
		else
			snprintf(err, err_len, "%s:%d: %s",
				 config_error_file(&lc) ?
					 config_error_file(&lc) :
					 path,
				 config_error_line(&lc),
				 config_error_text(&lc));
		config_destroy(&lc);
		return -EINVAL;
	}
	if (load_top(&ld, config_root_setting(&lc), out) < 0) {
		rc = -EINVAL;
	} else if (cfg_validate(out, &ve) < 0) {
		if (ve.line > 0)
			snprintf(err, err_len, "%s:%d: %s", path, ve.line,
				 ve.msg);
		else
			snprintf(err, err_len, "%s: %s", path, ve.msg);
		rc = -EINVAL;
	}
	config_destroy(&lc);
	return rc;
}
