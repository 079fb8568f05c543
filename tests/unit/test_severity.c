/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Severity state machine: the thresholds of DESIGN.md's control loop table
 * to the message, the Emergency latch, the recovery climb step by step,
 * hysteresis and dwell on every signal, forced levels, unknown lag, and
 * rates that stay exact however long a level is held.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "severity.h"
#include "tg_common.h"
#include "unit.h"

/* Relative tolerance for rates built with pow(): a few ulps. */
#define REL_TOL 1e-12

static void tick(struct sev_state *st, const struct sev_config *cfg,
		 uint64_t lag, double cpu, double util)
{
	struct sev_input in = {
	    .lag_msgs = lag,
	    .lag_valid = 1,
	    .cpu_frac = cpu,
	    .util_frac = util,
	};

	sev_step(st, cfg, &in);
}

/* One tick with only the lag moving (CPU idle, utilization 50%). */
static void lag_tick(struct sev_state *st, const struct sev_config *cfg,
		     uint64_t lag)
{
	tick(st, cfg, lag, 0.10, 0.50);
}

static void unknown_lag_tick(struct sev_state *st, const struct sev_config *cfg)
{
	struct sev_input in = {.lag_valid = 0, .cpu_frac = 0.10};

	sev_step(st, cfg, &in);
}

static void fresh(struct sev_state *st, struct sev_config *cfg)
{
	sev_config_default(cfg);
	sev_init(st, cfg);
}

/* Drives a fresh machine into Emergency and out again at lag 800. */
static void enter_recovery(struct sev_state *st, const struct sev_config *cfg)
{
	lag_tick(st, cfg, 25000);
	CU_ASSERT_EQUAL_FATAL(sev_level(st), SEV_EMERGENCY);
	lag_tick(st, cfg, 800);
	CU_ASSERT_EQUAL_FATAL(sev_level(st), SEV_NORMAL);
	CU_ASSERT_TRUE_FATAL(sev_in_recovery(st));
}

static void test_level_names_and_parse_round_trip(void)
{
	const char *names[] = {"normal", "warning", "critical", "emergency"};
	enum sev_level l, out;

	for (l = SEV_NORMAL; l < SEV_LEVEL_MAX; l++) {
		CU_ASSERT_STRING_EQUAL(sev_level_name(l), names[l]);
		CU_ASSERT_EQUAL(sev_level_parse(names[l], &out), 0);
		CU_ASSERT_EQUAL(out, l);
	}
	CU_ASSERT_STRING_EQUAL(sev_level_name(SEV_LEVEL_MAX), "?");
	out = SEV_WARNING;
	CU_ASSERT_EQUAL(sev_level_parse("Critical", &out), -EINVAL);
	CU_ASSERT_EQUAL(sev_level_parse("", &out), -EINVAL);
	CU_ASSERT_EQUAL(sev_level_parse("emergencyx", &out), -EINVAL);
	CU_ASSERT_EQUAL(sev_level_parse(NULL, &out), -EINVAL);
	CU_ASSERT_EQUAL(out, SEV_WARNING);
}

static void test_defaults_follow_design_table(void)
{
	struct sev_config c;

	sev_config_default(&c);
	CU_ASSERT_EQUAL(sev_config_validate(&c), 0);
	CU_ASSERT_EQUAL(c.lag_warn_msgs, 5000);
	CU_ASSERT_EQUAL(c.lag_crit_msgs, 10000);
	CU_ASSERT_EQUAL(c.lag_emerg_msgs, 20000);
	CU_ASSERT_EQUAL(c.lag_recover_msgs, 1000);
	CU_ASSERT_EQUAL(c.lag_climb_msgs, 5000);
	CU_ASSERT_EQUAL(c.climb_factor, 1.2);
	CU_ASSERT_EQUAL(c.cpu_warn_frac, 0.85);
	CU_ASSERT_EQUAL(c.util_warn_frac, 0.0);
	CU_ASSERT_EQUAL(c.mult_normal, 1.0);
	CU_ASSERT_EQUAL(c.mult_warn, 0.8);
	CU_ASSERT_EQUAL(c.mult_crit, 0.1);
	CU_ASSERT_EQUAL(c.floor_rate[SEV_TIER_GLOBAL], 1.0);
	CU_ASSERT_EQUAL(c.floor_rate[SEV_TIER_TOPIC], 0.5);
	CU_ASSERT_EQUAL(c.floor_rate[SEV_TIER_CONSUMER], 0.1);
	CU_ASSERT_EQUAL(c.ceiling_max_rate[SEV_TIER_CONSUMER], SEV_RATE_MAX);
	CU_ASSERT_EQUAL(c.hyst_frac, 0.10);
	CU_ASSERT_EQUAL(c.dwell_ticks, 0);
}

static void test_config_validation_rejects_each_bad_field(void)
{
	struct sev_config c;

#define REJECTS(edit)                                                          \
	do {                                                                   \
		sev_config_default(&c);                                        \
		edit;                                                          \
		CU_ASSERT_EQUAL(sev_config_validate(&c), -EINVAL);             \
	} while (0)
	REJECTS(c.lag_warn_msgs = 10000);
	REJECTS(c.lag_crit_msgs = 20000);
	REJECTS(c.lag_emerg_msgs = 9000);
	REJECTS(c.lag_recover_msgs = 5000);
	REJECTS(c.lag_recover_msgs = 0);
	REJECTS(c.lag_climb_msgs = 0);
	REJECTS(c.climb_factor = 1.0);
	REJECTS(c.climb_factor = NAN);
	REJECTS(c.climb_factor = INFINITY);
	REJECTS(c.cpu_warn_frac = 0);
	REJECTS(c.cpu_warn_frac = NAN);
	REJECTS(c.util_warn_frac = -0.1);
	REJECTS(c.util_warn_frac = NAN);
	REJECTS(c.mult_normal = 1.1);
	REJECTS(c.mult_warn = 0);
	REJECTS(c.mult_warn = NAN);
	REJECTS(c.mult_crit = -0.1);
	REJECTS(c.mult_crit = 0.9);   /* cuts less than Warning */
	REJECTS(c.mult_normal = 0.5); /* below Warning's 0.8 */
	REJECTS(c.floor_rate[SEV_TIER_TOPIC] = 0);
	REJECTS(c.floor_rate[SEV_TIER_CONSUMER] = INFINITY);
	REJECTS(c.ceiling_max_rate[SEV_TIER_GLOBAL] = 0);
	REJECTS(c.hyst_frac = 1.0);
	REJECTS(c.hyst_frac = -0.01);
	REJECTS(c.hyst_frac = NAN);
#undef REJECTS
	/* the edges that are allowed */
	sev_config_default(&c);
	c.hyst_frac = 0;
	c.util_warn_frac = 2.5;
	c.mult_normal = c.mult_warn = c.mult_crit = 1.0;
	c.lag_recover_msgs = 4999;
	c.dwell_ticks = 1000;
	CU_ASSERT_EQUAL(sev_config_validate(&c), 0);
}

static void test_warning_above_5000_not_at_5000(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	lag_tick(&s, &c, 5000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	CU_ASSERT_FALSE(sev_changed(&s));
	lag_tick(&s, &c, 5001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_TRUE(sev_changed(&s));
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_NORMAL);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000),
			1000 * 0.8);
}

static void test_critical_above_10000_sheds_low_priority(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	lag_tick(&s, &c, 10000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_FALSE(sev_shed_low_priority(&s));
	lag_tick(&s, &c, 10001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_CRITICAL);
	CU_ASSERT_TRUE(sev_shed_low_priority(&s));
	CU_ASSERT_FALSE(sev_breaker_should_open(&s));
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_TOPIC, 1000),
			1000 * 0.1);
}

static void test_emergency_above_20000_opens_breaker(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	lag_tick(&s, &c, 20000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_CRITICAL);
	CU_ASSERT_FALSE(sev_breaker_should_open(&s));
	lag_tick(&s, &c, 20001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	CU_ASSERT_TRUE(sev_breaker_should_open(&s));
	CU_ASSERT_TRUE(sev_shed_low_priority(&s));
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_CRITICAL);
	/* and straight from Normal in a single tick */
	fresh(&s, &c);
	lag_tick(&s, &c, 1000000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_NORMAL);
}

static void test_emergency_latches_until_lag_below_1000(void)
{
	const uint64_t lags[] = {15000, 19999, 9000, 5000, 1001, 1000};
	struct sev_config c;
	struct sev_state s;
	unsigned i;

	fresh(&s, &c);
	lag_tick(&s, &c, 20001);
	for (i = 0; i < TG_ARRAY_SIZE(lags); i++) {
		tick(&s, &c, lags[i], 0.10, 0.50);
		CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
		CU_ASSERT_FALSE(sev_changed(&s));
		CU_ASSERT_FALSE(sev_in_recovery(&s));
	}
	lag_tick(&s, &c, 999);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	CU_ASSERT_TRUE(sev_changed(&s));
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_EMERGENCY);
	CU_ASSERT_TRUE(sev_in_recovery(&s));
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 0);
	CU_ASSERT_FALSE(sev_breaker_should_open(&s));
}

/* Leaving Emergency lands on what the signals say, not on Normal blindly */
static void test_emergency_exit_lands_on_level_signals_call_for(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	tick(&s, &c, 30000, 0.95, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	tick(&s, &c, 800, 0.95, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_TRUE(sev_in_recovery(&s));
}

static void test_recovery_climbs_x1_2_per_step_from_floor_to_ceiling(void)
{
	const double ceiling = 100;
	struct sev_config c;
	struct sev_state s;
	double prev[SEV_TIER_MAX], r;
	unsigned k, t;

	fresh(&s, &c);
	for (t = 0; t < SEV_TIER_MAX; t++)
		c.ceiling_max_rate[t] = ceiling;
	enter_recovery(&s, &c);
	for (t = 0; t < SEV_TIER_MAX; t++) {
		prev[t] = sev_tier_rate(&s, &c, t, ceiling);
		CU_ASSERT_EQUAL(prev[t], c.floor_rate[t]);
	}
	/*
	 * Global (floor 1) reaches 100 after ceil(log 100 / log 1.2) = 26
	 * steps; consumer (floor 0.1) after 38, which ends the recovery.
	 */
	for (k = 1; k <= 38; k++) {
		CU_ASSERT_TRUE_FATAL(sev_in_recovery(&s));
		lag_tick(&s, &c, 4999);
		CU_ASSERT_EQUAL(sev_recovery_steps(&s), k);
		CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
		for (t = 0; t < SEV_TIER_MAX; t++) {
			r = sev_tier_rate(&s, &c, t, ceiling);
			if (prev[t] * 1.2 < ceiling) {
				CU_ASSERT_DOUBLE_EQUAL(r, prev[t] * 1.2,
						       r * REL_TOL);
			} else {
				CU_ASSERT_EQUAL(r, ceiling);
			}
			CU_ASSERT_DOUBLE_EQUAL(
			    r, fmin(c.floor_rate[t] * pow(1.2, k), ceiling),
			    r * REL_TOL);
			prev[t] = r;
		}
	}
	CU_ASSERT_FALSE(sev_in_recovery(&s));
	/* it stops there: more ticks change nothing */
	for (k = 0; k < 10; k++)
		lag_tick(&s, &c, 0);
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 38);
	for (t = 0; t < SEV_TIER_MAX; t++)
		CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, t, ceiling), ceiling);
}

/* a bucket with a small ceiling stops climbing at it, others go on */
static void test_recovery_caps_each_bucket_at_its_own_ceiling(void)
{
	struct sev_config c;
	struct sev_state s;
	unsigned k;

	fresh(&s, &c);
	enter_recovery(&s, &c);
	for (k = 0; k < 20; k++)
		lag_tick(&s, &c, 0);
	CU_ASSERT_TRUE(sev_in_recovery(&s)); /* SEV_RATE_MAX is far */
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 10), 10);
	CU_ASSERT_DOUBLE_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1e6),
			       pow(1.2, 20), pow(1.2, 20) * REL_TOL);
}

static void test_recovery_holds_while_lag_at_or_above_5000(void)
{
	struct sev_config c;
	struct sev_state s;
	double r;

	fresh(&s, &c);
	enter_recovery(&s, &c);
	lag_tick(&s, &c, 100);
	lag_tick(&s, &c, 100);
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 2);
	r = sev_tier_rate(&s, &c, SEV_TIER_TOPIC, 1000);
	CU_ASSERT_DOUBLE_EQUAL(r, 0.5 * 1.44, REL_TOL);
	lag_tick(&s, &c, 5000);
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 2);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_TOPIC, 1000), r);
	lag_tick(&s, &c, 5001); /* Warning, and still holding */
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 2);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_TOPIC, 1000), r);
	unknown_lag_tick(&s, &c); /* unknown lag is no reason to climb */
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 2);
	lag_tick(&s, &c, 4999); /* Warning holds down to 4500, climb resumes */
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 3);
	CU_ASSERT_DOUBLE_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_TOPIC, 1000),
			       0.5 * 1.728, REL_TOL);
	CU_ASSERT_TRUE(sev_in_recovery(&s));
}

/* during recovery the cap is the current level's: Warning caps at 0.8 */
static void test_recovery_caps_at_current_level_multiplier(void)
{
	struct sev_config c;
	struct sev_state s;
	unsigned k;

	fresh(&s, &c);
	for (k = 0; k < SEV_TIER_MAX; k++)
		c.ceiling_max_rate[k] = 10;
	enter_recovery(&s, &c);
	for (k = 0; k < 30; k++)
		tick(&s, &c, 0, 0.90, 0.5); /* CPU holds Warning */
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 10), 10 * 0.8);
	/* consumer 0.1 x 1.2^k reaches 8 at k = 25: recovery over */
	CU_ASSERT_FALSE(sev_in_recovery(&s));
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 25);
}

static void test_recovery_re_escalates(void)
{
	struct sev_config c;
	struct sev_state s;
	double r;

	fresh(&s, &c);
	enter_recovery(&s, &c);
	lag_tick(&s, &c, 0);
	lag_tick(&s, &c, 0);
	lag_tick(&s, &c, 0);
	r = sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000);
	CU_ASSERT_DOUBLE_EQUAL(r, 1.728, REL_TOL);
	/* Critical: ceiling x 0.1 = 100 is above the climb, the climb rules */
	lag_tick(&s, &c, 10001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_CRITICAL);
	CU_ASSERT_TRUE(sev_in_recovery(&s));
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000), r);
	/* a bucket whose Critical rate is below the climb gets that */
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 15), 15 * 0.1);
	/* Emergency again: recovery over, floors */
	lag_tick(&s, &c, 20001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	CU_ASSERT_FALSE(sev_in_recovery(&s));
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 0);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000), 1.0);
	/* and the next exit starts again from the floor */
	lag_tick(&s, &c, 500);
	CU_ASSERT_TRUE(sev_in_recovery(&s));
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000), 1.0);
}

static void test_hysteresis_lag_flapping_around_5000_stays_warning(void)
{
	const uint64_t flap[] = {4990, 5001, 4990, 5001, 4600, 4500};
	struct sev_config c;
	struct sev_state s;
	unsigned i;

	fresh(&s, &c);
	lag_tick(&s, &c, 5001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	for (i = 0; i < TG_ARRAY_SIZE(flap); i++) {
		lag_tick(&s, &c, flap[i]);
		CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
		CU_ASSERT_FALSE(sev_changed(&s));
	}
	lag_tick(&s, &c, 4499);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	CU_ASSERT_TRUE(sev_changed(&s));
	/* and back up needs > 5000 again, not > 4500 */
	lag_tick(&s, &c, 4990);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
}

static void test_hysteresis_on_critical_and_multi_level_step_down(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	lag_tick(&s, &c, 10001);
	lag_tick(&s, &c, 9000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_CRITICAL);
	lag_tick(&s, &c, 8999);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	/* from Critical, a lag in Warning's band lands on Warning */
	lag_tick(&s, &c, 10001);
	lag_tick(&s, &c, 4700);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	/* and a lag below every band drops straight to Normal */
	lag_tick(&s, &c, 10001);
	lag_tick(&s, &c, 3000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_CRITICAL);
	/* hyst 0: step down as soon as the lag is below the threshold */
	c.hyst_frac = 0;
	lag_tick(&s, &c, 5001);
	lag_tick(&s, &c, 5000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	lag_tick(&s, &c, 4999);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
}

static void test_dwell_ticks_delay_every_step_down(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	c.dwell_ticks = 2;
	lag_tick(&s, &c, 6000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	lag_tick(&s, &c, 4000);
	lag_tick(&s, &c, 4000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	lag_tick(&s, &c, 4000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	/* a tick in the hysteresis band restarts the count */
	lag_tick(&s, &c, 6000);
	lag_tick(&s, &c, 4000);
	lag_tick(&s, &c, 4000);
	lag_tick(&s, &c, 4600);
	lag_tick(&s, &c, 4000);
	lag_tick(&s, &c, 4000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	/* so does a tick with unknown lag */
	unknown_lag_tick(&s, &c);
	lag_tick(&s, &c, 4000);
	lag_tick(&s, &c, 4000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	lag_tick(&s, &c, 4000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	/* escalation never waits */
	lag_tick(&s, &c, 10001);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_CRITICAL);
	/* and the Emergency exit waits too */
	lag_tick(&s, &c, 20001);
	lag_tick(&s, &c, 999);
	lag_tick(&s, &c, 999);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	lag_tick(&s, &c, 999);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	CU_ASSERT_TRUE(sev_in_recovery(&s));
}

static void test_cpu_above_85_percent_raises_warning_only(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	tick(&s, &c, 0, 0.85, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	tick(&s, &c, 0, 0.86, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	tick(&s, &c, 0, 1.0, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 500), 500 * 0.8);
	/* hysteresis: stays until CPU < 0.85 x 0.9 = 0.765 */
	tick(&s, &c, 0, 0.80, 0.5);
	tick(&s, &c, 0, 0.77, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	tick(&s, &c, 0, 0.76, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	/* the level is the highest of lag and CPU */
	tick(&s, &c, 12000, 0.95, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_CRITICAL);
	tick(&s, &c, 0, 0.95, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	/* a NaN reading keeps CPU's level */
	tick(&s, &c, 0, NAN, 0.5);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
}

static void test_utilization_ignored_by_default(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	tick(&s, &c, 0, 0.1, 1.0);
	tick(&s, &c, 0, 0.1, 50.0);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
}

static void test_utilization_raises_warning_when_enabled(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	c.util_warn_frac = 0.9;
	tick(&s, &c, 0, 0.1, 0.9);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	tick(&s, &c, 0, 0.1, 0.95);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	tick(&s, &c, 0, 0.1, 3.0);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	tick(&s, &c, 0, 0.1, 0.82); /* >= 0.81: held */
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	tick(&s, &c, 0, 0.1, 0.80);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	/* disabling it by reload drops its Warning on the next tick */
	tick(&s, &c, 0, 0.1, 0.95);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	c.util_warn_frac = 0;
	tick(&s, &c, 0, 0.1, 0.95);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
}

static void test_forced_level_then_auto_resumes_tracked_level(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	lag_tick(&s, &c, 6000);
	sev_force(&s, SEV_EMERGENCY);
	CU_ASSERT_TRUE(sev_is_forced(&s));
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	CU_ASSERT_TRUE(sev_changed(&s));
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_WARNING);
	CU_ASSERT_TRUE(sev_breaker_should_open(&s));
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_CONSUMER, 50), 0.1);
	/* signals are tracked underneath: the lag latches Emergency */
	lag_tick(&s, &c, 30000);
	CU_ASSERT_FALSE(sev_changed(&s));
	CU_ASSERT_EQUAL(sev_auto_level(&s), SEV_EMERGENCY);
	sev_force(&s, SEV_NORMAL);
	lag_tick(&s, &c, 15000);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 300), 300);
	sev_auto(&s);
	CU_ASSERT_FALSE(sev_is_forced(&s));
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	CU_ASSERT_TRUE(sev_changed(&s));
	CU_ASSERT_EQUAL(sev_prev_level(&s), SEV_NORMAL);
	/* forcing the level it already has is no change */
	sev_force(&s, SEV_EMERGENCY);
	CU_ASSERT_FALSE(sev_changed(&s));
}

/* a forced level gives its own rate, whatever recovery runs underneath */
static void test_forced_level_ignores_recovery_ramp(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	enter_recovery(&s, &c);
	lag_tick(&s, &c, 0);
	sev_force(&s, SEV_NORMAL);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000), 1000);
	lag_tick(&s, &c, 0);
	CU_ASSERT_EQUAL(sev_recovery_steps(&s), 2);
	sev_auto(&s);
	CU_ASSERT_FALSE(sev_changed(&s)); /* Normal both ways */
	CU_ASSERT_DOUBLE_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1000),
			       1.44, REL_TOL);
}

static void test_unknown_lag_neither_raises_nor_lowers(void)
{
	struct sev_config c;
	struct sev_state s;
	struct sev_input in = {.lag_msgs = 999999, .lag_valid = 0};

	fresh(&s, &c);
	sev_step(&s, &c, &in);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_NORMAL);
	lag_tick(&s, &c, 7000);
	in.lag_msgs = 0;
	sev_step(&s, &c, &in);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
	lag_tick(&s, &c, 25000);
	sev_step(&s, &c, &in);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_EMERGENCY);
	/* CPU still counts with no lag source */
	fresh(&s, &c);
	in.cpu_frac = 0.9;
	sev_step(&s, &c, &in);
	CU_ASSERT_EQUAL(sev_level(&s), SEV_WARNING);
}

/* 100 ticks at a steady lag give exactly the first tick's rate */
static void test_steady_lag_never_compounds_at_any_level(void)
{
	const uint64_t lags[] = {0, 6000, 12000, 30000};
	const double ceiling = 1000;
	struct sev_config c;
	struct sev_state s;
	double want[SEV_LEVEL_MAX][SEV_TIER_MAX];
	unsigned i, n, t;

	sev_config_default(&c);
	for (t = 0; t < SEV_TIER_MAX; t++) {
		want[SEV_NORMAL][t] = ceiling;
		want[SEV_WARNING][t] = ceiling * 0.8;
		want[SEV_CRITICAL][t] = ceiling * 0.1;
		want[SEV_EMERGENCY][t] = c.floor_rate[t];
	}
	for (i = 0; i < TG_ARRAY_SIZE(lags); i++) {
		sev_init(&s, &c);
		for (n = 0; n < 100; n++) {
			lag_tick(&s, &c, lags[i]);
			CU_ASSERT_EQUAL(sev_level(&s), (enum sev_level)i);
			for (t = 0; t < SEV_TIER_MAX; t++)
				CU_ASSERT_EQUAL(
				    sev_tier_rate(&s, &c, t, ceiling),
				    want[i][t]);
		}
	}
	CU_ASSERT_EQUAL(want[SEV_WARNING][0], 800.0);
	CU_ASSERT_DOUBLE_EQUAL(want[SEV_CRITICAL][0], 100.0, 1e-12);
}

static void test_emergency_floors_per_tier(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	lag_tick(&s, &c, 20001);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 1e6), 1.0);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_TOPIC, 1e6), 0.5);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_CONSUMER, 1e6), 0.1);
	/* a ceiling below the floor is never exceeded */
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 0.25), 0.25);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 0), 0);
}

/* no level is stricter than Emergency: Critical stops at the floor */
static void test_no_level_cuts_below_emergency_floor(void)
{
	struct sev_config c;
	struct sev_state s;

	fresh(&s, &c);
	lag_tick(&s, &c, 15000);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_GLOBAL, 5), 1.0);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_CONSUMER, 5), 0.5);
	CU_ASSERT_EQUAL(sev_tier_rate(&s, &c, SEV_TIER_CONSUMER, 0.05), 0.05);
}

static void test_changed_flag_reports_each_transition_once(void)
{
	const struct {
		uint64_t lag;
		enum sev_level level;
		int changed;
		enum sev_level prev;
	} seq[] = {
	    {100, SEV_NORMAL, 0, SEV_NORMAL},
	    {5001, SEV_WARNING, 1, SEV_NORMAL},
	    {5002, SEV_WARNING, 0, SEV_NORMAL},
	    {10001, SEV_CRITICAL, 1, SEV_WARNING},
	    {10001, SEV_CRITICAL, 0, SEV_WARNING},
	    {25000, SEV_EMERGENCY, 1, SEV_CRITICAL},
	    {500, SEV_NORMAL, 1, SEV_EMERGENCY},
	    {500, SEV_NORMAL, 0, SEV_EMERGENCY},
	};
	struct sev_config c;
	struct sev_state s;
	unsigned i;

	fresh(&s, &c);
	for (i = 0; i < TG_ARRAY_SIZE(seq); i++) {
		lag_tick(&s, &c, seq[i].lag);
		CU_ASSERT_EQUAL(sev_level(&s), seq[i].level);
		CU_ASSERT_EQUAL(!!sev_changed(&s), seq[i].changed);
		CU_ASSERT_EQUAL(sev_prev_level(&s), seq[i].prev);
	}
}

/* two machines fed the same ticks agree to the bit: nothing drifts */
static void test_recovery_is_exactly_reproducible(void)
{
	struct sev_config c;
	struct sev_state a, b;
	uint64_t seed = 42;
	unsigned n;

	fresh(&a, &c);
	sev_init(&b, &c);
	for (n = 0; n < 2000; n++) {
		uint64_t lag = unit_rand(&seed) % 26000;

		lag_tick(&a, &c, lag);
		lag_tick(&b, &c, lag);
		CU_ASSERT_EQUAL(sev_level(&a), sev_level(&b));
		CU_ASSERT_EQUAL(sev_tier_rate(&a, &c, SEV_TIER_TOPIC, 1e4),
				sev_tier_rate(&b, &c, SEV_TIER_TOPIC, 1e4));
		/* invariant: never above the ceiling, never below the floor */
		CU_ASSERT(sev_tier_rate(&a, &c, SEV_TIER_TOPIC, 1e4) <= 1e4);
		CU_ASSERT(sev_tier_rate(&a, &c, SEV_TIER_TOPIC, 1e4) >= 0.5);
	}
}

int unit_register(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
#define T(f) {#f, f}
	    T(test_level_names_and_parse_round_trip),
	    T(test_defaults_follow_design_table),
	    T(test_config_validation_rejects_each_bad_field),
	    T(test_warning_above_5000_not_at_5000),
	    T(test_critical_above_10000_sheds_low_priority),
	    T(test_emergency_above_20000_opens_breaker),
	    T(test_emergency_latches_until_lag_below_1000),
	    T(test_emergency_exit_lands_on_level_signals_call_for),
	    T(test_recovery_climbs_x1_2_per_step_from_floor_to_ceiling),
	    T(test_recovery_caps_each_bucket_at_its_own_ceiling),
	    T(test_recovery_holds_while_lag_at_or_above_5000),
	    T(test_recovery_caps_at_current_level_multiplier),
	    T(test_recovery_re_escalates),
	    T(test_hysteresis_lag_flapping_around_5000_stays_warning),
	    T(test_hysteresis_on_critical_and_multi_level_step_down),
	    T(test_dwell_ticks_delay_every_step_down),
	    T(test_cpu_above_85_percent_raises_warning_only),
	    T(test_utilization_ignored_by_default),
	    T(test_utilization_raises_warning_when_enabled),
	    T(test_forced_level_then_auto_resumes_tracked_level),
	    T(test_forced_level_ignores_recovery_ramp),
	    T(test_unknown_lag_neither_raises_nor_lowers),
	    T(test_steady_lag_never_compounds_at_any_level),
	    T(test_emergency_floors_per_tier),
	    T(test_no_level_cuts_below_emergency_floor),
	    T(test_changed_flag_reports_each_transition_once),
	    T(test_recovery_is_exactly_reproducible),
#undef T
	};
	CU_pSuite suite = CU_add_suite("severity", NULL, NULL);
	unsigned i;

	if (suite == NULL)
		return CU_get_error();
	for (i = 0; i < TG_ARRAY_SIZE(tests); i++) {
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			return CU_get_error();
	}
	return CUE_SUCCESS;
}
