/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Utilization-driven rate adjuster for the control loop (step 5 of the
 * control loop in DESIGN.md). Once per tick the control thread feeds it the
 * utilization of a bucket; above a high-water mark the rate is cut by a
 * factor, below a low-water mark it is raised by a factor, in between it is
 * held. The rate never leaves [floor, ceiling]. The name is the usual one for
 * this family of controllers although, as the reference guide asks, both
 * moves are multiplicative (x 0.9 down, x 1.1 up by default).
 *
 * The rate produced here is only the adaptive part of the effective rate: the
 * caller combines it as min(ceiling x severity x adaptive, override), so a
 * severity cut and an adaptive cut never compound inside this module. Each
 * call to aimd_step() moves the rate by at most one step, whatever the input.
 *
 * Control thread only; doubles are fine there. No state is shared with the
 * workers, which only ever see the integer rates derived from this value.
 */
#ifndef TG_AIMD_H
#define TG_AIMD_H

/** Tunables of one adjuster. Fill with aimd_config_default(), then edit. */
struct aimd_config {
	/** Utilization fraction above which the rate is cut (strictly above;
	 *  default 0.90). Utilization may exceed 1.0 (demand over rate). */
	double hi_util;
	/** Utilization fraction below which the rate is raised (strictly
	 *  below; default 0.50). 0 <= lo_util <= hi_util. */
	double lo_util;
	/** Multiplier applied on a cut, in (0, 1] (default 0.9). */
	double dec_factor;
	/** Multiplier applied on a raise, >= 1 (default 1.1). */
	double inc_factor;
	/** Lowest rate, > 0, in the caller's unit (msg/s, bytes/s, or a
	 *  dimensionless multiplier). Must be positive: a rate of 0 could
	 *  never be raised again by a multiplicative step. Default 0.01. */
	double floor;
	/** Highest rate, >= floor, same unit as floor. Default 1.0, i.e. the
	 *  defaults describe a multiplier of the configured ceiling rate. */
	double ceiling;
};

/** State of one adjuster. Treat as opaque; embed by value. */
struct aimd {
	struct aimd_config cfg; /**< validated copy of the config */
	double rate;            /**< current rate; floor <= rate <= ceiling */
};

/**
 * Fills @p cfg with the defaults of the reference guide: hi 0.90, lo 0.50,
 * x 0.9 down, x 1.1 up, floor 0.01, ceiling 1.0 (a multiplier).
 * Any thread; cannot fail.
 */
void aimd_config_default(struct aimd_config *cfg);

/**
 * Checks a config without using it.
 * @return 0 if valid; -EINVAL if any field is not finite, if
 *         !(0 <= lo_util <= hi_util), if dec_factor is not in (0, 1], if
 *         inc_factor < 1, if floor <= 0 or if floor > ceiling.
 * Any thread.
 */
int aimd_config_validate(const struct aimd_config *cfg);

/**
 * Initializes @p a from @p cfg (copied) and starts it at the ceiling, the
 * rate of an unloaded pipeline.
 * @return 0, or -EINVAL (see aimd_config_validate()); @p a is then untouched.
 * Control thread.
 */
int aimd_init(struct aimd *a, const struct aimd_config *cfg);

/**
 * One adjustment, normally once per control tick.
 * @param util_frac utilization as a fraction (0.93 for 93%). If
 *        util_frac > hi_util the rate is multiplied by dec_factor; if
 *        util_frac < lo_util it is multiplied by inc_factor; otherwise (the
 *        boundaries included) it is held. The result is clamped to
 *        [floor, ceiling]. A non-finite util_frac holds the rate.
 * @return the new rate, in the unit of floor and ceiling.
 * Control thread.
 */
double aimd_step(struct aimd *a, double util_frac);

/**
 * Changes the ceiling, e.g. after a config reload. The current rate is
 * clamped down to the new ceiling but is not raised to it: a pipeline under
 * pressure stays where the controller brought it.
 * @return 0, or -EINVAL if @p ceiling is not finite or is below the floor;
 *         the adjuster is then untouched.
 * Control thread.
 */
int aimd_set_ceiling(struct aimd *a, double ceiling);

/** Puts the rate back at the ceiling. Control thread. */
void aimd_reset(struct aimd *a);

/** @return the current rate, in [floor, ceiling]. Control thread. */
double aimd_rate(const struct aimd *a);

#endif /* TG_AIMD_H */
