/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Topic classification: the rules of a pipeline compiled for the hot path.
 * The first rule (in config order) whose every condition matches picks the
 * topic. When every rule is a plain port rule (the common case) a 64K-entry
 * table answers in one load; otherwise the rules are scanned in order, with
 * the port table still answering port-only rules first-match-correctly.
 *
 * Pure C (no DPDK): unit tests include it directly. Built once per config
 * by the control side (cls_build), read-only for the workers.
 */
#ifndef TG_CLASSIFY_H
#define TG_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "parse.h"

#define CLS_NONE 0xffff

struct cls_rule {
	uint32_t kinds;
	uint16_t topic;
	uint16_t port_lo, port_hi;
	uint16_t vlan;
	struct cfg_prefix prefix;
};

struct cls {
	uint32_t n_rules;
	bool port_only;		 /**< every rule is a port-only rule */
	uint16_t *port_topic;	 /**< [65536]: topic of the first port-only
				  *   rule covering the port, or CLS_NONE */
	struct cls_rule *rules;	 /**< all rules, config order */
};

/** Compile a pipeline's rules. Returns 0 or -ENOMEM. Control side. */
int cls_build(struct cls *c, const struct cfg_pipeline *p);

/** Free what cls_build() allocated; a zeroed cls is fine. */
void cls_free(struct cls *c);

static inline bool cls_rule_match(const struct cls_rule *r,
				  const struct pkt_info *pi)
{
	if ((r->kinds & CFG_RULE_PORT) &&
	    (pi->l4_off == 0 || pi->dst_port < r->port_lo ||
	     pi->dst_port > r->port_hi))
		return false;
	if ((r->kinds & CFG_RULE_VLAN) &&
	    (pi->n_vlans == 0 || pi->vlan[0] != r->vlan))
		return false;
	if ((r->kinds & CFG_RULE_PREFIX) &&
	    !pkt_addr_in_prefix(pi->dst, r->prefix.addr, r->prefix.len))
		return false;
	return true;
}

/** The topic of a parsed message, or CLS_NONE. Worker. */
static inline uint16_t cls_topic(const struct cls *c, const struct pkt_info *pi)
{
	uint32_t i;

	if (tg_likely(c->port_only))
		return pi->l4_off ? c->port_topic[pi->dst_port] : CLS_NONE;
	for (i = 0; i < c->n_rules; i++)
		if (cls_rule_match(&c->rules[i], pi))
			return c->rules[i].topic;
	return CLS_NONE;
}

#endif /* TG_CLASSIFY_H */
