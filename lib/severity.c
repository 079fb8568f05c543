/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Severity state machine: per-signal levels with hysteresis and dwell, the
 * Emergency latch, the recovery climb as a count of steps, and the rate of a
 * tier computed afresh from the configured ceiling on every call. The rate is
 * never stored: that is what keeps a cut from compounding tick after tick,
 * and a recovery from drifting (floor x climb^k is recomputed, not multiplied
 * in place).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "severity.h"
#include "tg_common.h"

static const char *const level_names[SEV_LEVEL_MAX] = {
    [SEV_NORMAL] = "normal",
    [SEV_WARNING] = "warning",
    [SEV_CRITICAL] = "critical",
    [SEV_EMERGENCY] = "emergency",
};

const char *sev_level_name(enum sev_level level)
{
	if ((unsigned)level >= SEV_LEVEL_MAX)
		return "?";
	return level_names[level];
}

int sev_level_parse(const char *s, enum sev_level *out)
{
	unsigned i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < SEV_LEVEL_MAX; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum sev_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void sev_config_default(struct sev_config *cfg)
{
	unsigned t;

	memset(cfg, 0, sizeof(*cfg));
	cfg->lag_warn_msgs = 5000;
	cfg->lag_crit_msgs = 10000;
	cfg->lag_emerg_msgs = 20000;
	cfg->lag_recover_msgs = 1000;
	cfg->lag_climb_msgs = 5000;
	cfg->climb_factor = 1.2;
	cfg->cpu_warn_frac = 0.85;
	cfg->util_warn_frac = 0.0;
	cfg->mult_normal = 1.0;
	cfg->mult_warn = 0.8;
	cfg->mult_crit = 0.1;
	cfg->floor_rate[SEV_TIER_GLOBAL] = 1.0;
	cfg->floor_rate[SEV_TIER_TOPIC] = 0.5;
	cfg->floor_rate[SEV_TIER_CONSUMER] = 0.1;
	for (t = 0; t < SEV_TIER_MAX; t++)
		cfg->ceiling_max_rate[t] = SEV_RATE_MAX;
	cfg->hyst_frac = 0.10;
	cfg->dwell_ticks = 0;
}

/* x > 0 and finite; false for NaN. */
static bool positive(double x)
{
	return x > 0 && isfinite(x);
}

/* x in (0, 1]; false for NaN. */
static bool unit_frac(double x)
{
	return x > 0 && x <= 1;
}

static int validate_lag(const struct sev_config *cfg)
{
	if (cfg->lag_warn_msgs >= cfg->lag_crit_msgs ||
	    cfg->lag_crit_msgs >= cfg->lag_emerg_msgs)
		return -EINVAL;
	if (cfg->lag_recover_msgs == 0 ||
	    cfg->lag_recover_msgs >= cfg->lag_warn_msgs)
		return -EINVAL;
	if (cfg->lag_climb_msgs == 0)
		return -EINVAL;
	return 0;
}

static int validate_rates(const struct sev_config *cfg)
{
	unsigned t;

	if (!unit_frac(cfg->mult_normal) || !unit_frac(cfg->mult_warn) ||
	    !unit_frac(cfg->mult_crit))
		return -EINVAL;
	if (cfg->mult_crit > cfg->mult_warn ||
	    cfg->mult_warn > cfg->mult_normal)
		return -EINVAL;
	if (!(cfg->climb_factor > 1) || !isfinite(cfg->climb_factor))
		return -EINVAL;
	for (t = 0; t < SEV_TIER_MAX; t++) {
		if (!positive(cfg->floor_rate[t]) ||
		    !positive(cfg->ceiling_max_rate[t]))
			return -EINVAL;
	}
	return 0;
}

int sev_config_validate(const struct sev_config *cfg)
{
	if (validate_lag(cfg) || validate_rates(cfg))
		return -EINVAL;
	if (!positive(cfg->cpu_warn_frac))
		return -EINVAL;
	if (!(cfg->util_warn_frac >= 0) || !isfinite(cfg->util_warn_frac))
		return -EINVAL;
	if (!(cfg->hyst_frac >= 0 && cfg->hyst_frac < 1))
		return -EINVAL;
	return 0;
}

void sev_init(struct sev_state *st, const struct sev_config *cfg)
{
	TG_ASSERT(sev_config_validate(cfg) == 0);
	(void)cfg;
	memset(st, 0, sizeof(*st));
	st->lag.level = SEV_NORMAL;
	st->cpu.level = SEV_NORMAL;
	st->util.level = SEV_NORMAL;
	st->forced = SEV_NORMAL;
	st->prev_level = SEV_NORMAL;
}

static enum sev_level level_max(enum sev_level a, enum sev_level b)
{
	return a > b ? a : b;
}

/*
 * Moves one signal's level. @up is the level the signal calls for when
 * rising (strictly above each threshold), @hold the lowest level it may
 * stay at (not below threshold x (1 - hyst)); up <= hold. Escalation is
 * immediate; a step down, to @hold, happens on the (dwell + 1)-th
 * consecutive tick it is due.
 */
static void track_step(struct sev_track *t, enum sev_level up,
		       enum sev_level hold, unsigned dwell_ticks)
{
	TG_ASSERT(up <= hold);
	if (up >= t->level) {
		t->level = up;
		t->down_ticks = 0;
	} else if (hold >= t->level) {
		t->down_ticks = 0;
	} else if (t->down_ticks++ >= dwell_ticks) {
		t->level = hold;
		t->down_ticks = 0;
	}
}

static uint64_t lag_threshold(const struct sev_config *cfg,
			      enum sev_level level)
{
	switch (level) {
	case SEV_WARNING:
		return cfg->lag_warn_msgs;
	case SEV_CRITICAL:
		return cfg->lag_crit_msgs;
	default:
		return cfg->lag_emerg_msgs;
	}
}

/* The highest level whose lag threshold @lag exceeds (strictly). */
static enum sev_level lag_up(const struct sev_config *cfg, uint64_t lag)
{
	enum sev_level l = SEV_EMERGENCY;

	while (l > SEV_NORMAL && !(lag > lag_threshold(cfg, l)))
		l--;
	return l;
}

/* The highest level whose lag threshold x (1 - hyst) @lag is not below. */
static enum sev_level lag_hold(const struct sev_config *cfg, uint64_t lag)
{
	double keep = 1.0 - cfg->hyst_frac;
	enum sev_level l = SEV_EMERGENCY;

	while (l > SEV_NORMAL &&
	       (double)lag < (double)lag_threshold(cfg, l) * keep)
		l--;
	return l;
}

/*
 * Emergency is left only when lag < lag_recover_msgs, and then for the
 * level the lag calls for on the way up: hysteresis plays no part there.
 */
static void lag_step(struct sev_track *t, const struct sev_config *cfg,
		     uint64_t lag)
{
	enum sev_level up = lag_up(cfg, lag);
	enum sev_level hold;

	if (t->level == SEV_EMERGENCY)
		hold = lag < cfg->lag_recover_msgs ? up : SEV_EMERGENCY;
	else
		hold = lag_hold(cfg, lag);
	track_step(t, up, hold, cfg->dwell_ticks);
}

/* CPU and utilization: one threshold, raising Warning at most. */
static void warn_step(struct sev_track *t, const struct sev_config *cfg,
		      double x, double thr)
{
	enum sev_level up, hold;

	if (!isfinite(x))
		return; /* a broken measurement says nothing */
	up = x > thr ? SEV_WARNING : SEV_NORMAL;
	hold = x < thr * (1.0 - cfg->hyst_frac) ? SEV_NORMAL : SEV_WARNING;
	track_step(t, up, hold, cfg->dwell_ticks);
}

static double level_mult(const struct sev_config *cfg, enum sev_level level)
{
	switch (level) {
	case SEV_NORMAL:
		return cfg->mult_normal;
	case SEV_WARNING:
		return cfg->mult_warn;
	default:
		return cfg->mult_crit;
	}
}

/* floor x climb^k: recomputed from k every time, so it never drifts. */
static double climb_rate(const struct sev_config *cfg, enum sev_tier tier,
			 unsigned k)
{
	return cfg->floor_rate[tier] * pow(cfg->climb_factor, (double)k);
}

/* Recovery is over once every tier's climb reached its largest cap. */
static bool recovery_done(const struct sev_config *cfg, enum sev_level level,
			  unsigned k)
{
	double mult = level_mult(cfg, level);
	unsigned t;

	if (k == UINT_MAX)
		return true;
	for (t = 0; t < SEV_TIER_MAX; t++) {
		if (climb_rate(cfg, (enum sev_tier)t, k) <
		    cfg->ceiling_max_rate[t] * mult)
			return false;
	}
	return true;
}

/*
 * Entering Emergency cancels a recovery; leaving it starts one at k = 0
 * (the floor). The tick that starts it does not climb: the rate starts at
 * the floor and grows from the next tick on.
 */
static void recovery_step(struct sev_state *st, const struct sev_config *cfg,
			  const struct sev_input *in, bool was_emerg)
{
	if (st->lag.level == SEV_EMERGENCY) {
		st->recovering = 0;
		st->climb_steps = 0;
		return;
	}
	if (was_emerg) {
		st->recovering = 1;
		st->climb_steps = 0;
	} else if (st->recovering && in->lag_valid &&
		   in->lag_msgs < cfg->lag_climb_msgs) {
		st->climb_steps++;
	}
	if (st->recovering &&
	    recovery_done(cfg, sev_auto_level(st), st->climb_steps))
		st->recovering = 0;
}

/* Records a change point: reported level before vs after. */
static void note_change(struct sev_state *st, enum sev_level before)
{
	enum sev_level after = sev_level(st);

	st->changed = after != before;
	if (st->changed)
		st->prev_level = before;
}

void sev_step(struct sev_state *st, const struct sev_config *cfg,
	      const struct sev_input *in)
{
	enum sev_level before = sev_level(st);
	bool was_emerg = st->lag.level == SEV_EMERGENCY;

	if (in->lag_valid)
		lag_step(&st->lag, cfg, in->lag_msgs);
	else
		st->lag.down_ticks = 0; /* an unknown tick breaks a dwell */
	warn_step(&st->cpu, cfg, in->cpu_frac, cfg->cpu_warn_frac);
	if (cfg->util_warn_frac > 0) {
		warn_step(&st->util, cfg, in->util_frac, cfg->util_warn_frac);
	} else {
		st->util.level = SEV_NORMAL;
		st->util.down_ticks = 0;
	}
	recovery_step(st, cfg, in, was_emerg);
	note_change(st, before);
}

double sev_tier_rate(const struct sev_state *st, const struct sev_config *cfg,
		     enum sev_tier tier, double ceiling_rate)
{
	enum sev_level level = sev_level(st);
	double low, rate;

	TG_ASSERT((unsigned)tier < SEV_TIER_MAX);
	TG_ASSERT(ceiling_rate >= 0);
	low = fmin(cfg->floor_rate[tier], ceiling_rate);
	if (level == SEV_EMERGENCY)
		return low;
	rate = ceiling_rate * level_mult(cfg, level);
	if (st->recovering && !st->is_forced)
		rate = fmin(rate, climb_rate(cfg, tier, st->climb_steps));
	return fmax(rate, low);
}

void sev_force(struct sev_state *st, enum sev_level level)
{
	enum sev_level before = sev_level(st);

	TG_ASSERT((unsigned)level < SEV_LEVEL_MAX);
	st->forced = level;
	st->is_forced = 1;
	note_change(st, before);
}

void sev_auto(struct sev_state *st)
{
	enum sev_level before = sev_level(st);

	st->is_forced = 0;
	note_change(st, before);
}

enum sev_level sev_auto_level(const struct sev_state *st)
{
	return level_max(st->lag.level,
			 level_max(st->cpu.level, st->util.level));
}

enum sev_level sev_level(const struct sev_state *st)
{
	return st->is_forced ? st->forced : sev_auto_level(st);
}

int sev_is_forced(const struct sev_state *st)
{
	return st->is_forced;
}

int sev_in_recovery(const struct sev_state *st)
{
	return st->recovering;
}

unsigned sev_recovery_steps(const struct sev_state *st)
{
	return st->climb_steps;
}

int sev_changed(const struct sev_state *st)
{
	return st->changed;
}

enum sev_level sev_prev_level(const struct sev_state *st)
{
	return st->prev_level;
}

bool sev_shed_low_priority(const struct sev_state *st)
{
	return sev_level(st) >= SEV_CRITICAL;
}

bool sev_breaker_should_open(const struct sev_state *st)
{
	return sev_level(st) == SEV_EMERGENCY;
}
