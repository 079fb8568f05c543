/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Discrete PID controller with derivative on measurement and two-layer
 * anti-windup (conditional integration plus a clamped integral term). Every
 * step computes into locals and commits only when all results are finite,
 * so a bad input or an overflow can never leave a half-updated state.
 */
#include <errno.h>
#include <math.h>

#include "pid.h"
#include "tg_common.h"

static double pid_clamp(const struct pid_config *cfg, double v)
{
	if (v > cfg->out_max)
		return cfg->out_max;
	if (v < cfg->out_min)
		return cfg->out_min;
	return v;
}

int pid_config_validate(const struct pid_config *cfg)
{
	if (!isfinite(cfg->kp) || !isfinite(cfg->ki) || !isfinite(cfg->kd) ||
	    !isfinite(cfg->setpoint) || !isfinite(cfg->out_min) ||
	    !isfinite(cfg->out_max))
		return -EINVAL;
	if (!(cfg->out_min < cfg->out_max))
		return -EINVAL;
	return 0;
}

int pid_init(struct pid *pid, const struct pid_config *cfg)
{
	int rc = pid_config_validate(cfg);

	if (rc)
		return rc;
	pid->cfg = *cfg;
	return pid_reset(pid, 0.0);
}

int pid_reset(struct pid *pid, double out_init)
{
	if (!isfinite(out_init))
		return -EINVAL;
	pid->integral = pid_clamp(&pid->cfg, out_init);
	pid->last_out = pid->integral;
	pid->prev_measured = 0.0;
	pid->has_prev = false;
	return 0;
}

int pid_set_setpoint(struct pid *pid, double setpoint)
{
	if (!isfinite(setpoint))
		return -EINVAL;
	pid->cfg.setpoint = setpoint;
	return 0;
}

double pid_output(const struct pid *pid)
{
	return pid->last_out;
}

double pid_step(struct pid *pid, double measured, double dt_s)
{
	const struct pid_config *cfg = &pid->cfg;
	double err, p, d, di, integral, u;
	bool into_rail;

	/* !(dt_s > 0) also rejects NaN. */
	if (!(dt_s > 0.0) || !isfinite(dt_s) || !isfinite(measured))
		return pid->last_out;

	err = cfg->setpoint - measured;
	p = cfg->kp * err;
	/* Derivative of the measurement, not of the error: a setpoint step
	 * changes the error but not the measurement, so it gives no kick. */
	d = pid->has_prev ? -cfg->kd * (measured - pid->prev_measured) / dt_s
			  : 0.0;
	di = cfg->ki * err * dt_s;

	/*
	 * Conditional integration: when the output, computed with the
	 * integral as it stands, is already on a rail and this step's
	 * increment would push it further into that rail, the integral holds.
	 * The increment's sign (not the error's) decides, so this also holds
	 * for negative gains.
	 */
	integral = pid->integral;
	u = p + integral + d;
	into_rail = (u >= cfg->out_max && di > 0.0) ||
		    (u <= cfg->out_min && di < 0.0);
	if (!into_rail)
		integral = pid_clamp(cfg, integral + di);

	u = pid_clamp(cfg, p + integral + d);
	/* p, d or di may overflow to +-inf (or inf - inf = NaN) on extreme
	 * inputs; the clamps hide an infinity, so test the parts. */
	if (!isfinite(p) || !isfinite(d) || !isfinite(di) || isnan(u))
		return pid->last_out;

	pid->integral = integral;
	pid->prev_measured = measured;
	pid->has_prev = true;
	pid->last_out = u;
	TG_ASSERT(u >= cfg->out_min && u <= cfg->out_max);
	return u;
}
