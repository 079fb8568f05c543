/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A node's share of a shared bucket (see share.h).
 */
#include "share.h"
#include "alloc.h"

static const char *const state_names[SHARE_STATE_MAX] = {
	"joining", "synced", "holding", "outage"
};

const char *share_state_name(enum share_state st)
{
	return (unsigned)st < SHARE_STATE_MAX ? state_names[st] : "?";
}

void share_init(struct share_node *s, unsigned expected_nodes)
{
	s->state = SHARE_JOINING;
	s->frac = 0;
	s->live = 0;
	s->last_live = expected_nodes ? expected_nodes : 1;
	s->synced_ns = 0;
}

/* The max-min split over the live nodes: this node's part, or -1 when it
 * is not among them. */
static double split(struct share_node *s, const struct share_config *c,
		    const struct share_input *in)
{
	double claim[SHARE_MAX_PEERS], out[SHARE_MAX_PEERS];
	unsigned i, n = 0;
	int self = -1;

	for (i = 0; i < in->n && i < SHARE_MAX_PEERS; i++) {
		const struct share_peer *p = &in->peers[i];

		if (!p->self && in->now_ns - p->seen_ns >= c->lease_ns)
			continue;
		if (p->self)
			self = (int)n;
		claim[n++] = (double)p->demand_milli / 1000.0 * c->headroom;
	}
	s->live = n;
	if (self < 0 || alloc_maxmin_rates(in->rate, claim,
					   in->rate * c->floor_frac / n, n,
					   out) < 0)
		return -1;
	return out[self];
}

static double clamp(const struct share_config *c, double r)
{
	if (!(r >= c->rate_min)) /* NaN too */
		return c->rate_min;
	return r > c->rate_max ? c->rate_max : r;
}

double share_step(struct share_node *s, const struct share_config *c,
		  const struct share_input *in)
{
	uint64_t now = in->now_ns;
	bool back = in->own_seen_ns && now - in->own_seen_ns < c->fresh_ns;
	bool joining = s->state == SHARE_JOINING && !in->own_seen_ns &&
		       in->listen_ns && now - in->listen_ns < c->lease_ns;
	double r = -1;

	if (back || joining)
		r = split(s, c, in);
	if (r >= 0) {
		s->state = back ? SHARE_SYNCED : SHARE_JOINING;
		s->frac = in->rate > 0 ? r / in->rate : 0;
		s->last_live = s->live;
		s->synced_ns = now;
		return clamp(c, r);
	}
	if (s->synced_ns && in->own_seen_ns &&
	    now - in->own_seen_ns < c->lease_ns) {
		s->state = SHARE_HOLDING;
		return clamp(c, s->frac * in->rate);
	}
	s->state = SHARE_OUTAGE;
	switch (c->outage) {
	case CFG_OUTAGE_OPEN:
		return c->rate_max;
	case CFG_OUTAGE_CLOSED:
		return c->rate_min;
	default:
		return clamp(c, in->rate / (s->last_live ? s->last_live : 1));
	}
}
