/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Severity state machine of the control loop (step 4 in DESIGN.md). Once per
 * tick the control thread feeds it the consumer lag, the worker CPU load and
 * the bucket utilization; it keeps a level (normal, warning, critical,
 * emergency) with hysteresis and an optional dwell time on every step down,
 * latches Emergency until the backlog has cleared, and then climbs the rates
 * back from the emergency floors by a fixed factor per tick. The output is a
 * rate per tier computed from the configured ceiling, never from the current
 * rate, so that holding a level for many ticks never compounds a cut.
 *
 * Each signal is tracked on its own (lag up to Emergency, CPU and utilization
 * up to Warning only) and the level is the highest of the three. An operator
 * may force a level; the signals keep being tracked underneath so that
 * releasing the force returns to the level they call for.
 *
 * Use, once per tick: sev_step(), then sev_tier_rate() for every bucket,
 * sev_changed() to log a transition, sev_shed_low_priority() and
 * sev_breaker_should_open() for the other policies.
 *
 * Control thread only (doubles are fine there); nothing here is shared with
 * the workers, which only see the integer rates derived from the output.
 */
#ifndef TG_SEVERITY_H
#define TG_SEVERITY_H

#include <stdbool.h>
#include <stdint.h>

/** Severity levels, in increasing order of severity. */
enum sev_level {
	SEV_NORMAL,    /**< full rate: ceiling x mult_normal */
	SEV_WARNING,   /**< ceiling x mult_warn */
	SEV_CRITICAL,  /**< ceiling x mult_crit; shed the lowest priority */
	SEV_EMERGENCY, /**< the tier's floor rate; breaker open */
	SEV_LEVEL_MAX
};

/** Bucket tiers, each with its own emergency floor. */
enum sev_tier {
	SEV_TIER_GLOBAL,
	SEV_TIER_TOPIC,
	SEV_TIER_CONSUMER,
	SEV_TIER_MAX
};

/** Above any rate tidegate enforces (100 Gb/s is 1.25e10 bytes/s). */
#define SEV_RATE_MAX 1e12

/**
 * Tunables. Fill with sev_config_default(), edit, check with
 * sev_config_validate(). Passed by pointer to every call rather than copied
 * into the state, so a reload takes effect on the next tick.
 */
struct sev_config {
	/** Warning when lag_msgs > this (default 5000). */
	uint64_t lag_warn_msgs;
	/** Critical when lag_msgs > this (default 10000). */
	uint64_t lag_crit_msgs;
	/** Emergency when lag_msgs > this (default 20000). */
	uint64_t lag_emerg_msgs;
	/** Emergency latches until lag_msgs < this (default 1000), whatever
	 *  the other signals and the hysteresis say. */
	uint64_t lag_recover_msgs;
	/** During recovery the rate climbs on every tick where
	 *  lag_msgs < this, and holds otherwise (default 5000). */
	uint64_t lag_climb_msgs;
	/** Recovery multiplies the rate by this per climbing tick (> 1,
	 *  default 1.2). */
	double climb_factor;
	/** Worker CPU fraction above which the level is at least Warning
	 *  (default 0.85). A value >= 1 effectively disables it. */
	double cpu_warn_frac;
	/**
	 * Utilization fraction above which the level is at least Warning;
	 * 0 disables it, which is the default: a bucket that is limiting runs
	 * near 100% utilization by definition, and the adaptive controller
	 * already acts on utilization, so raising Warning too would cut twice.
	 */
	double util_warn_frac;
	/** Multipliers of the configured ceiling, each in (0, 1] and
	 *  non-increasing: normal 1.0, warning 0.8, critical 0.1. */
	double mult_normal;
	double mult_warn;
	double mult_crit;
	/** Emergency rate of each tier, units/s, > 0 (defaults: global 1.0,
	 *  topic 0.5, consumer 0.1). Also where recovery starts, and the
	 *  lowest rate any level yields (never above the ceiling). */
	double floor_rate[SEV_TIER_MAX];
	/**
	 * The largest configured ceiling of any bucket of each tier, units/s.
	 * Only decides when the recovery phase is over: once floor x climb^k
	 * reaches it (times the level's multiplier) for every tier, every
	 * bucket is back at its own cap. sev_tier_rate() caps each bucket by
	 * its own ceiling regardless. Default SEV_RATE_MAX; the control thread
	 * should set the real value so that recovery ends on time.
	 */
	double ceiling_max_rate[SEV_TIER_MAX];
	/** Hysteresis, in [0, 1) (default 0.10): a signal must fall below
	 *  threshold x (1 - hyst_frac) to step down from that level. */
	double hyst_frac;
	/** Extra consecutive ticks the step-down condition must hold before
	 *  stepping down (default 0: on the first tick it holds). Escalation
	 *  is always immediate. */
	unsigned dwell_ticks;
};

/** One tick's measurements. */
struct sev_input {
	uint64_t lag_msgs; /**< consumer lag, messages */
	int lag_valid;	   /**< 0: lag unknown, neither raises nor lowers */
	double cpu_frac;   /**< busiest worker's busy fraction, 0..1 */
	double util_frac;  /**< bucket utilization fraction, 0..n */
};

/** The level one signal calls for, with its step-down dwell counter. */
struct sev_track {
	enum sev_level level; /**< current level for this signal */
	unsigned down_ticks;  /**< consecutive ticks a step down was due */
};

/** State of the machine. Treat as opaque; embed by value. */
struct sev_state {
	struct sev_track lag;	   /**< SEV_NORMAL..SEV_EMERGENCY */
	struct sev_track cpu;	   /**< SEV_NORMAL or SEV_WARNING */
	struct sev_track util;	   /**< SEV_NORMAL or SEV_WARNING */
	enum sev_level forced;	   /**< forced level, if is_forced */
	int is_forced;		   /**< nonzero while an operator forces */
	int recovering;		   /**< nonzero while climbing back */
	unsigned climb_steps;	   /**< k: recovery rate = floor x climb^k */
	enum sev_level prev_level; /**< reported level before the most
				    *   recent change */
	int changed;		   /**< the last step, force or auto changed
				    *   the reported level */
};

/** @return "normal", "warning", "critical", "emergency", or "?" when out
 *  of range. Any thread. */
const char *sev_level_name(enum sev_level level);

/**
 * Parses a level name as returned by sev_level_name() (lower case, exact).
 * @return 0 and *out set, or -EINVAL (*out untouched). Any thread.
 */
int sev_level_parse(const char *s, enum sev_level *out);

/**
 * Fills @p cfg with the defaults of DESIGN.md's control loop table (see the
 * field comments). Any thread; cannot fail.
 */
void sev_config_default(struct sev_config *cfg);

/**
 * Checks a config without using it.
 * @return 0 if valid; -EINVAL unless lag_warn < lag_crit < lag_emerg,
 *         0 < lag_recover < lag_warn, lag_climb > 0, climb_factor > 1,
 *         cpu_warn_frac > 0, util_warn_frac >= 0, every multiplier in
 *         (0, 1] with normal >= warn >= crit, every floor and ceiling_max
 *         > 0, hyst_frac in [0, 1), and every double finite.
 * Any thread.
 */
int sev_config_validate(const struct sev_config *cfg);

/**
 * Starts @p st at Normal, automatic, not recovering. @p cfg must be valid
 * (asserted in test builds). Control thread.
 */
void sev_init(struct sev_state *st, const struct sev_config *cfg);

/**
 * One control tick. Escalation is immediate; a step down needs the signal
 * below threshold x (1 - hyst_frac) for 1 + dwell_ticks consecutive ticks;
 * Emergency ends only when lag < lag_recover_msgs (with the same dwell),
 * landing on the level the lag calls for and starting a recovery. A
 * non-finite cpu_frac or util_frac, like an invalid lag, leaves that
 * signal's level as it is; with util_warn_frac 0 the utilization level is
 * Normal at once. The recovery climbs on each later tick with a valid
 * lag < lag_climb_msgs. Control thread.
 */
void sev_step(struct sev_state *st, const struct sev_config *cfg,
	      const struct sev_input *in);

/**
 * The severity-adjusted rate of one bucket, in the unit of @p ceiling_rate
 * (>= 0, the bucket's configured ceiling): Normal, Warning and Critical
 * give ceiling x multiplier, Emergency gives min(floor, ceiling); during an
 * automatic recovery the rate is also capped at floor x climb^k. No level
 * yields less than min(floor, ceiling). A forced level gives exactly that
 * level's rate, without recovery. Pure: calling it never changes anything.
 * Control thread.
 */
double sev_tier_rate(const struct sev_state *st, const struct sev_config *cfg,
		     enum sev_tier tier, double ceiling_rate);

/** Forces the reported level (operator). Signals keep being tracked.
 *  Control thread. */
void sev_force(struct sev_state *st, enum sev_level level);

/** Releases a force: the reported level is again the tracked one.
 *  Control thread. */
void sev_auto(struct sev_state *st);

/** @return the reported level: the forced one, or the highest of the
 *  levels the lag, CPU and utilization call for. Control thread. */
enum sev_level sev_level(const struct sev_state *st);

/** @return the level the signals call for, ignoring any force.
 *  Control thread. */
enum sev_level sev_auto_level(const struct sev_state *st);

/** @return nonzero while a level is forced. */
int sev_is_forced(const struct sev_state *st);

/** @return nonzero during the climb back after an Emergency. */
int sev_in_recovery(const struct sev_state *st);

/** @return k, the climbing ticks of the current (or last) recovery. */
unsigned sev_recovery_steps(const struct sev_state *st);

/** @return nonzero if the last sev_step(), sev_force() or sev_auto()
 *  changed the reported level; sev_prev_level() is then the old one.
 *  For logging transitions. Control thread. */
int sev_changed(const struct sev_state *st);

/** @return the reported level before the most recent change (Normal if
 *  it never changed). */
enum sev_level sev_prev_level(const struct sev_state *st);

/** @return true at Critical and above: shed the lowest priority class. */
bool sev_shed_low_priority(const struct sev_state *st);

/** @return true in Emergency: the breaker should be open. */
bool sev_breaker_should_open(const struct sev_state *st);

#endif /* TG_SEVERITY_H */
