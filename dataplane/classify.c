/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Topic classification: compiling a pipeline's rules (see classify.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

int cls_build(struct cls *c, const struct cfg_pipeline *p)
{
	uint32_t i, port;

	memset(c, 0, sizeof(*c));
	c->port_topic = malloc(65536 * sizeof(uint16_t));
	c->rules = calloc(p->n_rules + 1, sizeof(*c->rules));
	if (!c->port_topic || !c->rules) {
		free(c->port_topic);
		free(c->rules);
		return -ENOMEM;
	}
	for (port = 0; port < 65536; port++)
		c->port_topic[port] = CLS_NONE;
	c->n_rules = p->n_rules;
	c->port_only = true;
	for (i = 0; i < p->n_rules; i++) {
		const struct cfg_rule *r = &p->rules[i];

		c->rules[i].kinds = r->kinds;
		c->rules[i].topic = r->topic;
		c->rules[i].port_lo = r->port_lo;
		c->rules[i].port_hi = r->port_hi;
		c->rules[i].vlan = r->vlan;
		c->rules[i].prefix = r->prefix;
		if (r->kinds != CFG_RULE_PORT) {
			c->port_only = false;
			continue;
		}
		for (port = r->port_lo; port <= r->port_hi; port++)
			if (c->port_topic[port] == CLS_NONE)
				c->port_topic[port] = r->topic;
	}
	return 0;
}

void cls_free(struct cls *c)
{
	free(c->port_topic);
	free(c->rules);
	c->port_topic = NULL;
	c->rules = NULL;
}

