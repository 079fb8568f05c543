/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discrete PID controller for the control loop, the alternative to the
 * utilization-step adjuster (aimd.h) when a bucket should hold a measured
 * signal (consumer lag, ring occupancy, utilization) at a setpoint. The
 * output is clamped to [out_min, out_max], typically the adaptive multiplier
 * of a bucket's configured rate.
 *
 * Form, with e = setpoint - measured and dt the time since the last step:
 *
 *     out = clamp(kp * e + I - kd * d(measured)/dt, out_min, out_max)
 *     I  += ki * e * dt            (unless held back, see below)
 *
 * - Derivative on measurement: a setpoint change moves the P term only, it
 *   never produces a derivative kick. The first step after init or reset
 *   has no previous measurement and uses a zero derivative.
 * - Anti-windup, two layers: the integral does not integrate while the
 *   output is saturated and the error would push it further into the rail
 *   (conditional integration), and the integral term I itself is clamped to
 *   [out_min, out_max], the most it can usefully contribute. After a long
 *   saturation the output therefore leaves the rail as soon as the error
 *   changes sign.
 * - I is stored already multiplied by ki, so it is in output units.
 *
 * Sign convention: with positive gains the output rises while the
 * measurement is below the setpoint. That suits a plant whose measurement
 * rises with the output (admitted rate -> lag, rate -> utilization): a lag
 * above target lowers the rate. For a plant that moves the other way, use
 * negative gains (all three of the same sign).
 *
 * Control thread only; time is a parameter (dt_s), never read here.
 */
#ifndef TG_PID_H
#define TG_PID_H

#include <stdbool.h>

/** Tunables of one controller. All fields must be finite. */
struct pid_config {
	/** Proportional gain, output units per measured unit. */
	double kp;
	/** Integral gain, output units per measured unit per second. */
	double ki;
	/** Derivative gain, output units x s per measured unit. */
	double kd;
	/** Target of the measurement, measured units. */
	double setpoint;
	/** Lowest output, output units; out_min < out_max. */
	double out_min;
	/** Highest output, output units. */
	double out_max;
};

/** State of one controller. Treat as opaque; embed by value. */
struct pid {
	struct pid_config cfg; /**< validated copy of the config */
	double integral;       /**< I term, output units, in [min, max] */
	double prev_measured;  /**< last accepted measurement (has_prev) */
	double last_out;       /**< last output, in [out_min, out_max] */
	bool has_prev;         /**< prev_measured valid: D term usable */
};

/**
 * Checks a config without using it.
 * @return 0, or -EINVAL if a field is not finite or out_min >= out_max.
 * Any thread.
 */
int pid_config_validate(const struct pid_config *cfg);

/**
 * Initializes @p pid from @p cfg (copied), as pid_reset() with an initial
 * output of 0 clamped to [out_min, out_max].
 * @return 0, or -EINVAL (see pid_config_validate()); @p pid is then
 *         untouched. Control thread.
 */
int pid_init(struct pid *pid, const struct pid_config *cfg);

/**
 * One controller step.
 * @param measured the current measurement, measured units.
 * @param dt_s seconds since the previous step (the control tick, 0.1 s by
 *        default). The caller measures it; nothing here reads a clock.
 * @return the new output, in [out_min, out_max]. If dt_s <= 0 or any input
 *         is not finite (or the arithmetic would overflow), the state is
 *         left untouched and the previous output is returned.
 * Control thread.
 */
double pid_step(struct pid *pid, double measured, double dt_s);

/**
 * Restarts the controller bumplessly at @p out_init: the integral is set so
 * that a zero error keeps the output at out_init (clamped to
 * [out_min, out_max]), and the previous measurement is forgotten, so the
 * next step has no derivative term. Use the rate currently in force to hand
 * over from another controller without a jump.
 * @return 0, or -EINVAL if @p out_init is not finite (state untouched).
 * Control thread.
 */
int pid_reset(struct pid *pid, double out_init);

/**
 * Changes the setpoint. Thanks to the derivative on measurement only the P
 * term reacts on the next step; integral and history are kept.
 * @return 0, or -EINVAL if @p setpoint is not finite (state untouched).
 * Control thread.
 */
int pid_set_setpoint(struct pid *pid, double setpoint);

/** @return the last output (the initial one before any step). */
double pid_output(const struct pid *pid);

#endif /* TG_PID_H */
