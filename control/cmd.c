/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The admin commands: one request line in, one JSON object out. Each
 * command checks its arguments fully before it changes anything, and says
 * what is wrong in words a person understands.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"
#include "ctl_priv.h"
#include "log.h"

#define TIDEGATE_VERSION "0.1.0"
#define MAX_ARGS 8

struct cmd {
	const char *name;
	const char *usage;
	const char *help;
	void (*fn)(struct ctl *c, struct admin_client *cl, int argc,
		   char **argv);
};

/* ---- argument parsing ---- */

static bool parse_rate(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && isfinite(*out) && *out > 0;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

static int find_bucket(struct ctl *c, struct admin_client *cl,
		       const char *name)
{
	int b = ctl_bucket_find(c, name);

	if (b < 0)
		admin_reply_error(cl,
				  "no bucket named '%s' (see stats for the "
				  "names)",
				  name);
	return b;
}

/* Say in a reply where a command went besides this node. */
static void cluster_note(json_t *r, const char *note)
{
	if (note)
		json_object_set_new(r, "cluster", json_string(note));
}

static json_t *num_or_null(double v, bool valid)
{
	return valid ? json_real(v) : json_null();
}

/* ---- status and stats ---- */

static json_t *outcomes_json(const struct dp_core_stats *s)
{
	json_t *o = json_object();
	unsigned i;

	for (i = 0; i < DP_OUTCOME_MAX; i++)
		json_object_set_new(o, dp_outcome_name(i),
				    json_integer((json_int_t)s->outcome[i]));
	return o;
}

json_t *ctl_status_json(struct ctl *c)
{
	json_t *r = json_object(), *ports = json_array(),
	       *workers = json_array(), *src = json_array();
	const struct cfg *cfg = c->cfg;
	uint64_t now = ctl_now_ns();
	unsigned i;

	json_object_set_new(r, "version", json_string(TIDEGATE_VERSION));
	json_object_set_new(r, "uptime_s", json_real(ctl_uptime(c)));
	json_object_set_new(r, "severity",
			    json_string(sev_level_name(sev_level(&c->sev))));
	json_object_set_new(r, "severity_forced",
			    json_boolean(sev_is_forced(&c->sev)));
	json_object_set_new(r, "recovering",
			    json_boolean(sev_in_recovery(&c->sev)));
	json_object_set_new(r, "breaker", json_string(brk_state_name(
						  brk_state(&c->brk, now))));
	json_object_set_new(r, "breaker_mode",
			    json_string(brk_mode_name(brk_mode(&c->brk))));
	json_object_set_new(r, "tick", json_integer((json_int_t)c->tick));
	json_object_set_new(r, "tick_ms",
			    json_real(cfg->policy.tick_s * 1000));
	json_object_set_new(r, "lag",
			    c->lag_valid ? json_integer((json_int_t)c->lag) :
					   json_null());
	for (i = 0; i < cfg->n_pipelines; i++) {
		unsigned used, size;

		if (!cfg->pipelines[i].lag_from_ring)
			continue;
		dp_ring_fill(c->dp, i, &used, &size);
		json_array_append_new(
			src, json_pack("{s:s, s:s, s:I}", "pipeline",
				       cfg->pipelines[i].name, "source", "ring",
				       "lag", (json_int_t)used));
	}
	for (i = 0; i < c->n_sources; i++)
		json_array_append_new(
			src, json_pack("{s:s, s:s, s:o}", "pipeline",
				       c->sources[i].pipeline <
						       cfg->n_pipelines ?
					       cfg->pipelines[c->sources[i]
								      .pipeline]
						       .name :
					       "?",
				       "source", c->sources[i].name, "lag",
				       c->source_valid[i] ?
					       json_integer((json_int_t)c
							    ->source_lag[i]) :
					       json_null()));
	if (c->lag_injected)
		json_array_append_new(src,
				      json_pack("{s:s, s:s, s:I}", "pipeline",
						"*", "source", "injected", "lag",
						(json_int_t)c->lag_inject));
	json_object_set_new(r, "lag_sources", src);
	for (i = 0; i < cfg->n_ports; i++) {
		struct dp_port_stats ps;

		dp_port_stats(c->dp, i, &ps);
		json_array_append_new(
			ports,
			json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
				  "name", cfg->ports[i].name, "device",
				  cfg->ports[i].device, "ipackets",
				  (json_int_t)ps.ipackets, "imissed",
				  (json_int_t)ps.imissed, "ierrors",
				  (json_int_t)ps.ierrors, "rx_nombuf",
				  (json_int_t)ps.rx_nombuf, "opackets",
				  (json_int_t)ps.opackets, "oerrors",
				  (json_int_t)ps.oerrors));
	}
	json_object_set_new(r, "ports", ports);
	for (i = 0; i < c->nw; i++)
		json_array_append_new(
			workers,
			json_pack("{s:i, s:i, s:f}", "id", (int)i, "lcore",
				  (int)dp_worker_lcore(c->dp, i), "busy_pct",
				  c->busy_pct[i]));
	json_object_set_new(r, "workers", workers);
	json_object_set_new(r, "config", json_string(c->path));
	json_object_set_new(r, "reaction_us",
			    num_or_null(c->reaction_us, c->reaction_us > 0));
	json_object_set_new(r, "reaction_us_max",
			    num_or_null(c->reaction_us_max,
					c->reaction_us_max > 0));
	json_object_set_new(r, "tick_delay_max_us",
			    json_real(c->tick_delay_max_us));
	json_object_set_new(r, "shed_below", json_integer(c->shed_below));
	json_object_set_new(r, "admin_clients",
			    json_integer(admin_n_clients(c->admin)));
	json_object_set_new(r, "kafka", ctl_kafka_status(c));
	return r;
}

json_t *ctl_stats_json(struct ctl *c)
{
	json_t *r = json_object(), *buckets = json_array(),
	       *workers = json_array();
	struct dp_core_stats tot = { 0 };
	unsigned b, w, i;

	for (b = 0; b < c->nb; b++) {
		const struct ctl_bucket *cb = &c->b[b];
		const struct dp_bucket_info *bi = dp_bucket(c->dp, b);
		uint64_t tokens = 0;
		json_t *j;

		for (w = 0; w < c->nw; w++)
			tokens += dp_bucket_tokens(c->dp, w, b);
		j = json_pack(
			"{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:o, s:I, "
			"s:f, s:f, s:f, s:f, s:I, s:I, s:I, s:I}",
			"name", cb->cfg->name, "tier", cfg_tier_name(bi->tier),
			"pipeline", c->cfg->pipelines[bi->pipeline].name,
			"mode", tb_mode_name(cb->cfg->mode), "action",
			cfg_action_name(cb->cfg->action), "controller",
			cfg_ctrl_name(cb->cfg->controller), "configured_rate",
			cb->cfg->rate, "effective_rate", cb->eff_rate,
			"override_rate",
			num_or_null(cb->override, cb->override > 0), "burst",
			(json_int_t)cb->eff_burst, "utilization", cb->util,
			"demand_rate", cb->demand_rate, "admitted_rate",
			cb->admitted_rate, "rejected_rate", cb->rejected_rate,
			"admitted", (json_int_t)cb->cur.admitted_msgs,
			"rejected", (json_int_t)cb->cur.rejected_msgs,
			"shadow_rejected", (json_int_t)cb->cur.shadow_msgs,
			"demand", (json_int_t)cb->cur.demand_msgs);
		json_object_set_new(j, "shadow", json_boolean(cb->cfg->shadow));
		ctl_kafka_bucket_json(c, b, j);
		json_object_set_new(j, "tokens",
				    bi->split ? json_integer((json_int_t)tokens) :
						json_null());
		json_array_append_new(buckets, j);
	}
	for (w = 0; w < c->nw; w++) {
		struct dp_core_stats s;

		dp_snapshot(c->dp, w, &s, NULL);
		tot.rx += s.rx;
		for (i = 0; i < DP_OUTCOME_MAX; i++)
			tot.outcome[i] += s.outcome[i];
		json_array_append_new(
			workers,
			json_pack("{s:i, s:f, s:I, s:o, s:I}", "id", (int)w,
				  "busy_pct", c->busy_pct[w], "rx",
				  (json_int_t)s.rx, "outcomes",
				  outcomes_json(&s), "consumers",
				  (json_int_t)s.consumers));
	}
	json_object_set_new(r, "buckets", buckets);
	json_object_set_new(r, "workers", workers);
	json_object_set_new(r, "rx", json_integer((json_int_t)tot.rx));
	json_object_set_new(r, "outcomes", outcomes_json(&tot));
	return r;
}

static bool no_args(struct admin_client *cl, int argc, char **argv)
{
	if (argc == 1)
		return true;
	admin_reply_error(cl, "%s takes no arguments", argv[0]);
	return false;
}

static void cmd_status(struct ctl *c, struct admin_client *cl, int argc,
		       char **argv)
{
	if (no_args(cl, argc, argv))
		admin_reply(cl, ctl_status_json(c));
}

static void cmd_stats(struct ctl *c, struct admin_client *cl, int argc,
		      char **argv)
{
	if (no_args(cl, argc, argv))
		admin_reply(cl, ctl_stats_json(c));
}

/* ---- rates ---- */

static void cmd_set_rate(struct ctl *c, struct admin_client *cl, int argc,
			 char **argv)
{
	double rate;
	uint64_t burst = 0;
	struct ctl_bucket *cb;
	json_t *r;
	int b;

	if (argc < 3 || argc > 4) {
		admin_reply_error(cl, "usage: set-rate BUCKET RATE [BURST]");
		return;
	}
	if ((b = find_bucket(c, cl, argv[1])) < 0)
		return;
	if (!parse_rate(argv[2], &rate) || rate < TB_RATE_MIN ||
	    rate > TB_RATE_MAX) {
		admin_reply_error(cl,
				  "RATE '%s' is not a rate: a number of "
				  "tokens per second, %g to %g",
				  argv[2], TB_RATE_MIN, TB_RATE_MAX);
		return;
	}
	cb = &c->b[b];
	if (argc == 4 &&
	    (!parse_u64(argv[3], &burst) ||
	     burst < (cb->cfg->mode == TB_MODE_BYTES ? 64u : 1u) ||
	     burst >= (UINT64_C(1) << 62))) {
		admin_reply_error(cl,
				  "BURST '%s' is not a burst: a whole number "
				  "of tokens, at least one message (%s)",
				  argv[3],
				  cb->cfg->mode == TB_MODE_BYTES ? "64 bytes" :
								   "1");
		return;
	}
	cb->override = rate;
	cb->override_burst = burst;
	tg_log(TG_LOG_NOTICE, "set-rate %s %g%s%s (uid %u)", cb->cfg->name,
	       rate, burst ? " burst " : "", burst ? argv[3] : "",
	       (unsigned)admin_client_uid(cl));
	r = json_pack("{s:b, s:s, s:f, s:I, s:f, s:s}", "ok", 1, "bucket",
		      cb->cfg->name, "override_rate", rate, "burst",
		      (json_int_t)(burst ? burst : cb->cfg->burst),
		      "configured_rate", cb->cfg->rate, "applies",
		      "at the next tick");
	if (rate > cb->cfg->rate)
		json_object_set_new(r, "note",
				    json_string("above the configured rate: "
						"the configured rate still "
						"caps it (edit the config to "
						"raise it)"));
	cluster_note(r, ctl_kafka_send_bucket(c, (unsigned)b, SR_OP_SET_RATE,
					      false));
	admin_reply(cl, r);
}

static void cmd_clear_override(struct ctl *c, struct admin_client *cl,
			       int argc, char **argv)
{
	json_t *r;
	int b;

	if (argc != 2) {
		admin_reply_error(cl, "usage: clear-override BUCKET");
		return;
	}
	if ((b = find_bucket(c, cl, argv[1])) < 0)
		return;
	c->b[b].override = 0;
	c->b[b].override_burst = 0;
	tg_log(TG_LOG_NOTICE, "clear-override %s", c->b[b].cfg->name);
	r = json_pack("{s:b, s:s, s:f}", "ok", 1, "bucket", c->b[b].cfg->name,
		      "configured_rate", c->b[b].cfg->rate);
	cluster_note(r, ctl_kafka_send_bucket(c, (unsigned)b, SR_OP_SET_RATE,
					      true));
	admin_reply(cl, r);
}

static void cmd_reset(struct ctl *c, struct admin_client *cl, int argc,
		      char **argv)
{
	json_t *r;
	unsigned w;
	int b;

	if (argc != 2) {
		admin_reply_error(cl, "usage: reset BUCKET");
		return;
	}
	if ((b = find_bucket(c, cl, argv[1])) < 0)
		return;
	for (w = 0; w < c->nw; w++) {
		dp_stage_reset(c->dp, w, (unsigned)b);
		c->dirty[w] = true;
	}
	ctl_publish(c);
	tg_log(TG_LOG_NOTICE, "reset %s", c->b[b].cfg->name);
	r = json_pack("{s:b, s:s, s:s}", "ok", 1, "bucket", c->b[b].cfg->name,
		      "tokens", "full");
	cluster_note(r, ctl_kafka_send_bucket(c, (unsigned)b, SR_OP_RESET,
					      false));
	admin_reply(cl, r);
}

/* ---- severity, breaker, lag ---- */

static void cmd_severity(struct ctl *c, struct admin_client *cl, int argc,
			 char **argv)
{
	const char *note = NULL;
	enum sev_level lvl;
	json_t *r;

	if (argc == 3 && strcmp(argv[1], "force") == 0) {
		if (sev_level_parse(argv[2], &lvl) < 0) {
			admin_reply_error(cl,
					  "'%s' is not a level: normal, "
					  "warning, critical or emergency",
					  argv[2]);
			return;
		}
		sev_force(&c->sev, lvl);
		tg_log(TG_LOG_WARNING, "severity forced to %s",
		       sev_level_name(lvl));
		note = ctl_kafka_send_severity(c, sev_level_name(lvl));
	} else if (argc == 2 && strcmp(argv[1], "auto") == 0) {
		sev_auto(&c->sev);
		tg_log(TG_LOG_WARNING, "severity back to automatic (%s)",
		       sev_level_name(sev_level(&c->sev)));
		note = ctl_kafka_send_severity(c, NULL);
	} else if (argc != 1) {
		admin_reply_error(cl, "usage: severity | severity force LEVEL "
				      "| severity auto");
		return;
	}
	r = json_pack("{s:b, s:s, s:b, s:s}", "ok", 1, "severity",
		      sev_level_name(sev_level(&c->sev)), "forced",
		      sev_is_forced(&c->sev), "auto_level",
		      sev_level_name(sev_auto_level(&c->sev)));
	cluster_note(r, note);
	admin_reply(cl, r);
}

static void cmd_breaker(struct ctl *c, struct admin_client *cl, int argc,
			char **argv)
{
	enum brk_mode m;
	uint64_t now = ctl_now_ns();
	bool open;
	unsigned w;

	if (argc == 2) {
		if (brk_mode_parse(argv[1], &m) < 0) {
			admin_reply_error(cl, "'%s' is not a breaker mode: "
					      "open, close or auto",
					  argv[1]);
			return;
		}
		brk_force(&c->brk, m);
		open = brk_state(&c->brk, now) == BRK_OPEN;
		for (w = 0; w < c->nw; w++) {
			dp_stage_flags(c->dp, w, open, c->shed_below);
			c->dirty[w] = true;
		}
		c->flag_breaker = open;
		ctl_publish(c);
		tg_log(TG_LOG_WARNING, "breaker %s by the operator",
		       brk_mode_name(m));
	} else if (argc != 1) {
		admin_reply_error(cl, "usage: breaker [open|close|auto]");
		return;
	}
	admin_reply(cl, json_pack("{s:b, s:s, s:s}", "ok", 1, "breaker",
				  brk_state_name(brk_state(&c->brk, now)),
				  "mode", brk_mode_name(brk_mode(&c->brk))));
}

static void cmd_lag(struct ctl *c, struct admin_client *cl, int argc,
		    char **argv)
{
	uint64_t n;

	if (argc == 3 && strcmp(argv[1], "inject") == 0) {
		if (!parse_u64(argv[2], &n) || n > (UINT64_C(1) << 62)) {
			admin_reply_error(cl,
					  "'%s' is not a lag: a whole number "
					  "of messages",
					  argv[2]);
			return;
		}
		c->lag_injected = true;
		c->lag_inject = n;
		tg_log(TG_LOG_NOTICE, "lag injected: %llu",
		       (unsigned long long)n);
	} else if (argc == 2 && strcmp(argv[1], "clear") == 0) {
		c->lag_injected = false;
		tg_log(TG_LOG_NOTICE, "injected lag cleared");
	} else if (argc != 1) {
		admin_reply_error(cl, "usage: lag | lag inject N | lag clear");
		return;
	}
	admin_reply(cl, json_pack("{s:b, s:o, s:o}", "ok", 1, "lag",
				  c->lag_valid ? json_integer((json_int_t)c->lag) :
						 json_null(),
				  "injected",
				  c->lag_injected ?
					  json_integer((json_int_t)c->lag_inject) :
					  json_null()));
}

/* ---- credits ---- */

static bool parse_consumer(const char *s, uint8_t key[16])
{
	struct cfg_prefix p;

	if (cfg_prefix_parse(s, &p) < 0 || strchr(s, '/'))
		return false;
	memcpy(key, p.addr, 16);
	return true;
}

static int meter_find(const struct ctl *c, const uint8_t key[16])
{
	unsigned i;

	for (i = 0; i < c->n_meters; i++)
		if (memcmp(c->meters[i].key, key, 16) == 0)
			return (int)i;
	return -1;
}

/* A new metered set with one more consumer; the old one is retired. */
static int meter_add(struct ctl *c, const uint8_t key[16], const char *name)
{
	struct dp_meters *m;
	unsigned i, w;

	if (c->n_meters == DP_MAX_METERS)
		return -ENOSPC;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m->slot, 0xff, sizeof(m->slot));
	memcpy(c->meters[c->n_meters].key, key, 16);
	snprintf(c->meters[c->n_meters].name,
		 sizeof(c->meters[c->n_meters].name), "%s", name);
	credit_reset(&c->meters[c->n_meters].ledger);
	c->meters[c->n_meters].used_prev = 0;
	for (w = 0; w < c->nw; w++) {
		c->meters[c->n_meters].used_w[w] =
			dp_meter_used(c->dp, w, c->n_meters);
		c->meters[c->n_meters].used_prev +=
			c->meters[c->n_meters].used_w[w];
	}
	c->n_meters++;
	for (i = 0; i < c->n_meters; i++) {
		uint32_t h = ctab_hash(c->meters[i].key) &
			     (DP_METER_SLOTS - 1);

		while (m->slot[h] >= 0)
			h = (h + 1) & (DP_METER_SLOTS - 1);
		m->slot[h] = (int16_t)i;
		memcpy(m->key[i], c->meters[i].key, 16);
	}
	m->n = c->n_meters;
	ctl_retire(c, c->meter_set, free);
	c->meter_set = m;
	return 0;
}

static json_t *meter_json(const struct ctl *c, const struct ctl_meter *m)
{
	double frac = credit_fraction_left(&m->ledger);

	return json_pack("{s:s, s:I, s:I, s:f, s:b}", "consumer", m->name,
			 "available", (json_int_t)m->ledger.available,
			 "granted", (json_int_t)m->ledger.granted,
			 "fraction_left", frac, "blocked",
			 credit_blocked(&m->ledger,
					c->cfg->policy.credit_block_frac));
}

static void cmd_credits(struct ctl *c, struct admin_client *cl, int argc,
			char **argv)
{
	uint8_t key[16];
	uint64_t n;
	json_t *r, *list, *pipes;
	unsigned i;
	int k;

	if (argc == 4 && strcmp(argv[1], "grant") == 0) {
		if (!parse_consumer(argv[2], key)) {
			admin_reply_error(cl,
					  "'%s' is not a consumer: its source "
					  "address, IPv4 or IPv6",
					  argv[2]);
			return;
		}
		if (!parse_u64(argv[3], &n) || n == 0 ||
		    n > (UINT64_C(1) << 62)) {
			admin_reply_error(cl,
					  "'%s' is not a number of credits "
					  "(messages): a whole number > 0",
					  argv[3]);
			return;
		}
		k = meter_find(c, key);
		if (k < 0) {
			if (meter_add(c, key, argv[2]) < 0) {
				admin_reply_error(cl,
						  "at most %d consumers can "
						  "have credits",
						  DP_MAX_METERS);
				return;
			}
			k = (int)c->n_meters - 1;
		}
		credit_grant(&c->meters[k].ledger, n);
		tg_log(TG_LOG_NOTICE, "credits: granted %llu to %s",
		       (unsigned long long)n, argv[2]);
		r = meter_json(c, &c->meters[k]);
		json_object_set_new(r, "ok", json_true());
		admin_reply(cl, r);
		return;
	}
	if (argc < 2 || strcmp(argv[1], "show") != 0 || argc > 3) {
		admin_reply_error(cl, "usage: credits grant CONSUMER N | "
				      "credits show [CONSUMER]");
		return;
	}
	if (argc == 3 && !parse_consumer(argv[2], key)) {
		admin_reply_error(cl, "'%s' is not a consumer address",
				  argv[2]);
		return;
	}
	list = json_array();
	for (i = 0; i < c->n_meters; i++)
		if (argc == 2 || memcmp(c->meters[i].key, key, 16) == 0)
			json_array_append_new(list,
					      meter_json(c, &c->meters[i]));
	if (argc == 3 && json_array_size(list) == 0) {
		json_decref(list);
		admin_reply_error(cl,
				  "consumer %s has no credits (it is not "
				  "metered: grant some first)",
				  argv[2]);
		return;
	}
	pipes = json_array();
	for (i = 0; i < c->cfg->n_pipelines; i++) {
		unsigned used, size;

		dp_ring_fill(c->dp, i, &used, &size);
		if (!size)
			continue;
		json_array_append_new(
			pipes, json_pack("{s:s, s:I, s:I, s:f, s:b}", "name",
					 c->cfg->pipelines[i].name, "ring_free",
					 (json_int_t)(size - used), "ring_size",
					 (json_int_t)size, "fraction_free",
					 (double)(size - used) / size,
					 "blocked", c->credit_block[i]));
	}
	admin_reply(cl, json_pack("{s:o, s:o}", "consumers", list,
				  "pipelines", pipes));
}

static void cmd_config(struct ctl *c, struct admin_client *cl, int argc,
		       char **argv)
{
	char err[1024];
	json_t *changed = NULL;

	if (argc != 2 || strcmp(argv[1], "reload") != 0) {
		admin_reply_error(cl, "usage: config reload");
		return;
	}
	if (ctl_reload(c, err, sizeof(err), &changed) < 0) {
		admin_reply_error(cl, "reload refused, the running config "
				      "stays: %s",
				  err);
		return;
	}
	admin_reply(cl, json_pack("{s:b, s:s, s:o}", "ok", 1, "config",
				  c->path, "changed",
				  changed ? changed : json_array()));
}

static void cmd_help(struct ctl *c, struct admin_client *cl, int argc,
		     char **argv);

static const struct cmd cmds[] = {
	{ "status", "status",
	  "version, uptime, severity, breaker, tick, lag, ports, workers",
	  cmd_status },
	{ "stats", "stats",
	  "per bucket: rates, tokens, utilization, counters; per worker",
	  cmd_stats },
	{ "set-rate", "set-rate BUCKET RATE [BURST]",
	  "cap a bucket's rate (and burst) until clear-override",
	  cmd_set_rate },
	{ "clear-override", "clear-override BUCKET",
	  "back to the configured rate", cmd_clear_override },
	{ "reset", "reset BUCKET", "refill a bucket (every consumer bucket "
				   "for the consumer tier)",
	  cmd_reset },
	{ "severity", "severity [force LEVEL | auto]",
	  "show, force (normal, warning, critical, emergency) or release",
	  cmd_severity },
	{ "breaker", "breaker [open | close | auto]",
	  "show, force open or closed, or back to automatic", cmd_breaker },
	{ "lag", "lag [inject N | clear]",
	  "show, or stand in for every lag source", cmd_lag },
	{ "credits", "credits grant CONSUMER N | credits show [CONSUMER]",
	  "per-consumer credits (by source address) and ring room",
	  cmd_credits },
	{ "config", "config reload",
	  "re-read the config file (as SIGHUP); on error nothing changes",
	  cmd_config },
	{ "help", "help", "this list", cmd_help },
};

static void cmd_help(struct ctl *c, struct admin_client *cl, int argc,
		     char **argv)
{
	json_t *list = json_array();
	size_t i;

	(void)c;
	if (!no_args(cl, argc, argv))
		return;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s}", "name",
						cmds[i].name, "usage",
						cmds[i].usage, "help",
						cmds[i].help));
	admin_reply(cl, json_pack("{s:o}", "commands", list));
}

void ctl_cmd(void *ctx, struct admin_client *cl, const char *line)
{
	struct ctl *c = ctx;
	char buf[4096 + 1], *argv[MAX_ARGS + 1], *save = NULL, *tok;
	int argc = 0;
	size_t i;

	for (i = 0; line[i]; i++)
		if ((unsigned char)line[i] < ' ' && line[i] != '\t') {
			admin_reply_error(cl, "requests are printable text: "
					      "control byte 0x%02x at "
					      "column %zu",
					  (unsigned char)line[i], i + 1);
			return;
		} else if ((unsigned char)line[i] > '~') {
			admin_reply_error(cl, "requests are ASCII: byte 0x%02x "
					      "at column %zu",
					  (unsigned char)line[i], i + 1);
			return;
		}
	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc == MAX_ARGS) {
			admin_reply_error(cl, "too many arguments");
			return;
		}
		argv[argc++] = tok;
	}
	if (argc == 0) {
		admin_reply_error(cl, "empty request (try help)");
		return;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			cmds[i].fn(c, cl, argc, argv);
			return;
		}
	admin_reply_error(cl, "unknown command '%.64s' (try help)", argv[0]);
}
