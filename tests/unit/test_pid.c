/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the PID controller (lib/pid.c): validation, exact P, I and D
 * terms, convergence on a simulated first-order plant, output clamping,
 * anti-windup against a controller without it, derivative on measurement
 * (no setpoint kick), bumpless reset, and rejection of bad inputs without
 * touching the state. The plant is simulated; nothing sleeps.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "pid.h"
#include "tg_common.h"
#include "unit.h"

#define DT 0.1 /* s, the default control tick */

/* First-order plant: y' = (gain * u - y) / tau, integrated with Euler. */
struct plant {
	double y;
	double gain;
	double tau_s;
};

static void plant_step(struct plant *pl, double u, double dt_s)
{
	pl->y += dt_s * (pl->gain * u - pl->y) / pl->tau_s;
}

static struct pid_config cfg_of(double kp, double ki, double kd, double sp,
				double lo, double hi)
{
	struct pid_config c = {
		.kp = kp, .ki = ki, .kd = kd, .setpoint = sp,
		.out_min = lo, .out_max = hi,
	};
	return c;
}

static void test_validate(void)
{
	struct pid_config ok = cfg_of(1, 1, 1, 0, 0, 1), c;
	struct pid pid;
	double *fields[] = { &c.kp, &c.ki, &c.kd, &c.setpoint, &c.out_min,
			     &c.out_max };
	size_t i;

	CU_ASSERT_EQUAL(pid_config_validate(&ok), 0);
	for (i = 0; i < TG_ARRAY_SIZE(fields); i++) {
		c = ok;
		*fields[i] = NAN;
		CU_ASSERT_EQUAL(pid_config_validate(&c), -EINVAL);
		c = ok;
		*fields[i] = INFINITY;
		CU_ASSERT_EQUAL(pid_config_validate(&c), -EINVAL);
	}
	c = cfg_of(1, 1, 1, 0, 1, 1);		/* empty range */
	CU_ASSERT_EQUAL(pid_config_validate(&c), -EINVAL);
	c = cfg_of(1, 1, 1, 0, 2, 1);
	CU_ASSERT_EQUAL(pid_config_validate(&c), -EINVAL);
	CU_ASSERT_EQUAL(pid_init(&pid, &c), -EINVAL);
	c = cfg_of(-1, -2, 0, -5, -3, -2);	/* negative gains are fine */
	CU_ASSERT_EQUAL(pid_init(&pid, &c), 0);
	/* Initial output: 0 clamped into the range. */
	CU_ASSERT(pid_output(&pid) == -2.0);
	c = cfg_of(1, 1, 1, 0, 0.01, 1);
	CU_ASSERT_EQUAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_output(&pid) == 0.01);
	c = cfg_of(1, 1, 1, 0, -1, 1);
	CU_ASSERT_EQUAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_output(&pid) == 0.0);
}

static void test_terms_exact(void)
{
	struct pid_config c = cfg_of(2.0, 0.0, 0.0, 10.0, -100.0, 100.0);
	struct pid pid;

	/* P only: out = kp * (sp - measured). */
	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_step(&pid, 4.0, DT) == 12.0);
	CU_ASSERT(pid_step(&pid, 13.0, DT) == -6.0);

	/* I only: the integral of ki * e * dt, in output units. */
	c = cfg_of(0.0, 4.0, 0.0, 10.0, -100.0, 100.0);
	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_step(&pid, 5.0, 0.5) == 10.0);	/* 4 * 5 * 0.5 */
	CU_ASSERT(pid_step(&pid, 5.0, 0.25) == 15.0);	/* + 4 * 5 * 0.25 */
	CU_ASSERT(pid_step(&pid, 12.5, 1.0) == 5.0);	/* + 4 * -2.5 */

	/* D only, on the measurement: -kd * dy / dt; none on the first. */
	c = cfg_of(0.0, 0.0, 0.5, 10.0, -100.0, 100.0);
	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_step(&pid, 1000.0, 0.5) == 0.0);
	CU_ASSERT(pid_step(&pid, 1004.0, 0.5) == -4.0);
	CU_ASSERT(pid_step(&pid, 1002.0, 0.25) == 4.0);
	CU_ASSERT(pid_step(&pid, 1002.0, 0.25) == 0.0);
}

static void test_clamp(void)
{
	struct pid_config c = cfg_of(1.0, 0.0, 0.0, 0.0, 0.01, 1.0);
	struct pid pid;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_step(&pid, -1e9, DT) == 1.0);
	CU_ASSERT(pid_step(&pid, 1e9, DT) == 0.01);
	/* Inside the range: P plus the initial integral, which is the
	 * initial output 0 clamped into the range, i.e. out_min. */
	CU_ASSERT(pid_step(&pid, -0.5, DT) == 0.5 + 0.01);
	CU_ASSERT(pid_output(&pid) == 0.5 + 0.01);
}

/* Runs a PID on a first-order plant; returns the plant output. */
static double run_plant(struct pid *pid, struct plant *pl, int ticks)
{
	int i;

	for (i = 0; i < ticks; i++)
		plant_step(pl, pid_step(pid, pl->y, DT), DT);
	return pl->y;
}

static void test_convergence(void)
{
	struct pid_config c = cfg_of(0.01, 0.02, 0.001, 50.0, 0.0, 1.0);
	struct plant pl = { .y = 0.0, .gain = 100.0, .tau_s = 1.0 };
	struct pid pid;
	int i;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	run_plant(&pid, &pl, 200);
	/* Settled, and stays settled. */
	for (i = 0; i < 200; i++) {
		plant_step(&pl, pid_step(&pid, pl.y, DT), DT);
		CU_ASSERT(fabs(pl.y - 50.0) < 0.05);
	}
	CU_ASSERT(fabs(pid_output(&pid) - 0.5) < 0.001);

	/* A new setpoint is reached too. */
	CU_ASSERT_EQUAL(pid_set_setpoint(&pid, 80.0), 0);
	CU_ASSERT(fabs(run_plant(&pid, &pl, 400) - 80.0) < 0.05);

	/* Without the integral the same loop keeps an offset:
	 * y = gain * kp * (sp - y), i.e. 25 for a setpoint of 50. */
	c = cfg_of(0.01, 0.0, 0.0, 50.0, 0.0, 1.0);
	pl.y = 0.0;
	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(fabs(run_plant(&pid, &pl, 400) - 25.0) < 0.05);
}

/* Reverse-acting plant (more output, lower measurement: a consumer rate
 * draining a backlog), held with negative gains. */
static void test_negative_gains(void)
{
	struct pid_config c = cfg_of(-0.01, -0.02, 0.0, 30.0, 0.0, 1.0);
	struct plant pl = { .y = 100.0, .gain = 1.0, .tau_s = 1.0 };
	struct pid pid;
	int i;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	for (i = 0; i < 600; i++) {
		double u = pid_step(&pid, pl.y, DT);

		/* y' = (100 - 100 u - y) / tau */
		pl.y += DT * (100.0 - 100.0 * u - pl.y) / pl.tau_s;
		CU_ASSERT(pid.integral >= 0.0 && pid.integral <= 1.0);
	}
	CU_ASSERT(fabs(pl.y - 30.0) < 0.05);
	CU_ASSERT(fabs(pid_output(&pid) - 0.7) < 0.001);
}

/* A PI controller with the same clamp on its output but no anti-windup:
 * the reference the real one is compared with. */
struct naive_pi {
	double kp, ki, sp, lo, hi, integral;
};

static double naive_step(struct naive_pi *n, double y, double dt_s)
{
	double e = n->sp - y, u;

	n->integral += n->ki * e * dt_s;
	u = n->kp * e + n->integral;
	return u > n->hi ? n->hi : (u < n->lo ? n->lo : u);
}

static void test_anti_windup(void)
{
	struct pid_config c = cfg_of(0.01, 0.05, 0.0, 500.0, 0.0, 1.0);
	struct naive_pi naive = { 0.01, 0.05, 500.0, 0.0, 1.0, 0.0 };
	struct plant pl = { .y = 0.0, .gain = 100.0, .tau_s = 1.0 };
	struct plant pn = pl;
	struct pid pid;
	int i, off_pid = -1, off_naive = -1;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	/* The setpoint is out of reach (the plant tops out at 100): both sit
	 * on the upper rail for 100 s. */
	for (i = 0; i < 1000; i++) {
		double u = pid_step(&pid, pl.y, DT);

		plant_step(&pl, u, DT);
		plant_step(&pn, naive_step(&naive, pn.y, DT), DT);
		CU_ASSERT(pid.integral <= 1.0);
		if (i > 10)
			CU_ASSERT(u == 1.0);
	}
	CU_ASSERT(naive.integral > 100.0);	/* wound up */

	/* The error flips sign. */
	CU_ASSERT_EQUAL(pid_set_setpoint(&pid, 20.0), 0);
	naive.sp = 20.0;
	for (i = 0; i < 2000; i++) {
		double u = pid_step(&pid, pl.y, DT);
		double un = naive_step(&naive, pn.y, DT);

		plant_step(&pl, u, DT);
		plant_step(&pn, un, DT);
		if (off_pid < 0 && u < 1.0)
			off_pid = i;
		if (off_naive < 0 && un < 1.0)
			off_naive = i;
	}
	/* Off the rail on the first tick with anti-windup; the naive one
	 * needs hundreds of ticks to unwind its integral. */
	CU_ASSERT_EQUAL(off_pid, 0);
	CU_ASSERT(off_naive < 0 || off_naive > 200);
	CU_ASSERT(fabs(pl.y - 20.0) < 0.05);
}

/* The integral never leaves the output range, even when a large
 * derivative term keeps the output off the rail while the error pushes. */
static void test_integral_clamp(void)
{
	struct pid_config c = cfg_of(0.0, 10.0, 5.0, 100.0, -1.0, 1.0);
	struct pid pid;
	double y = 0.0;
	int i;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	for (i = 0; i < 100; i++) {
		/* A measurement rising fast: the D term pulls the output
		 * down while the positive error integrates up. */
		y += 1.0;
		pid_step(&pid, y, DT);
		CU_ASSERT(pid.integral >= -1.0 && pid.integral <= 1.0);
	}
	CU_ASSERT(pid.integral == 1.0);
}

static void test_no_setpoint_kick(void)
{
	struct pid_config c = cfg_of(0.0, 0.0, 2.0, 0.0, -100.0, 100.0);
	struct pid pid;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_step(&pid, 5.0, DT) == 0.0);
	CU_ASSERT(pid_step(&pid, 5.0, DT) == 0.0);
	CU_ASSERT_EQUAL(pid_set_setpoint(&pid, 50.0), 0);
	/* Derivative on error would give kd * 45 / dt = 900 here. */
	CU_ASSERT(pid_step(&pid, 5.0, DT) == 0.0);
	CU_ASSERT(pid_step(&pid, 6.0, 0.5) == -4.0);	/* -2 * 1 / 0.5 */

	/* With P and D: the setpoint step moves the output by kp * step. */
	c = cfg_of(0.5, 0.0, 2.0, 0.0, -100.0, 100.0);
	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	CU_ASSERT(pid_step(&pid, 5.0, DT) == -2.5);
	CU_ASSERT(pid_step(&pid, 5.0, DT) == -2.5);
	CU_ASSERT_EQUAL(pid_set_setpoint(&pid, 10.0), 0);
	CU_ASSERT(pid_step(&pid, 5.0, DT) == 2.5);
	CU_ASSERT_EQUAL(pid_set_setpoint(&pid, NAN), -EINVAL);
	CU_ASSERT(pid.cfg.setpoint == 10.0);
}

static void test_bad_input(void)
{
	struct pid_config c = cfg_of(0.3, 0.2, 0.1, 10.0, -5.0, 5.0);
	double bad_dt[] = { 0.0, -0.1, -0.0, NAN, INFINITY, -INFINITY };
	double bad_y[] = { NAN, INFINITY, -INFINITY };
	struct pid pid, before;
	double last;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	pid_step(&pid, 3.0, DT);
	last = pid_step(&pid, 4.0, DT);
	before = pid;
	for (i = 0; i < TG_ARRAY_SIZE(bad_dt); i++) {
		CU_ASSERT(pid_step(&pid, 4.5, bad_dt[i]) == last);
		CU_ASSERT(memcmp(&pid, &before, sizeof(pid)) == 0);
	}
	for (i = 0; i < TG_ARRAY_SIZE(bad_y); i++) {
		CU_ASSERT(pid_step(&pid, bad_y[i], DT) == last);
		CU_ASSERT(memcmp(&pid, &before, sizeof(pid)) == 0);
	}
	/* Finite inputs whose arithmetic overflows: also refused. */
	CU_ASSERT(pid_step(&pid, 1.0e300, 1e-300) == last);	/* D = -inf */
	CU_ASSERT(memcmp(&pid, &before, sizeof(pid)) == 0);
	/* And the controller still works afterwards. */
	CU_ASSERT(isfinite(pid_step(&pid, 4.5, DT)));

	c.kp = 10.0;
	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	last = pid_step(&pid, 4.0, DT);
	before = pid;
	CU_ASSERT(pid_step(&pid, -1.7e308, DT) == last);	/* P = inf */
	CU_ASSERT(memcmp(&pid, &before, sizeof(pid)) == 0);
}

static void test_reset(void)
{
	struct pid_config c = cfg_of(0.5, 0.3, 1.0, 10.0, 0.0, 1.0);
	struct pid pid;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	pid_step(&pid, 0.0, DT);
	pid_step(&pid, 3.0, DT);
	/* Bumpless: with zero error and no derivative history, the output
	 * is the one given. */
	CU_ASSERT_EQUAL(pid_reset(&pid, 0.7), 0);
	CU_ASSERT(pid_output(&pid) == 0.7);
	CU_ASSERT(pid_step(&pid, 10.0, DT) == 0.7);
	CU_ASSERT(pid_step(&pid, 10.0, DT) == 0.7);
	/* Out of range: clamped. */
	CU_ASSERT_EQUAL(pid_reset(&pid, 7.0), 0);
	CU_ASSERT(pid_output(&pid) == 1.0);
	CU_ASSERT_EQUAL(pid_reset(&pid, NAN), -EINVAL);
	CU_ASSERT_EQUAL(pid_reset(&pid, -INFINITY), -EINVAL);
	CU_ASSERT(pid_output(&pid) == 1.0);
	/* After a reset the first step has no derivative: a measurement far
	 * from the last one gives no D term. */
	CU_ASSERT_EQUAL(pid_reset(&pid, 0.5), 0);
	CU_ASSERT(pid_step(&pid, 10.0, DT) == 0.5);
}

/* Random measurements and steps, some invalid: the output and the
 * integral stay in range, and an invalid step returns the last output. */
static void test_random(void)
{
	struct pid_config c = cfg_of(0.7, 3.0, 0.05, 0.0, -2.0, 3.0);
	struct pid pid;
	uint64_t seed = 0xfeedf00d;
	double last;
	int i;

	CU_ASSERT_EQUAL_FATAL(pid_init(&pid, &c), 0);
	last = pid_output(&pid);
	for (i = 0; i < 20000; i++) {
		uint64_t r = unit_rand(&seed);
		double y = (double)(int64_t)(r % 2001) / 100.0 - 10.0;
		double dt = (r >> 20) % 8 == 0 ? 0.0 : DT;
		double u;

		if ((r >> 40) % 97 == 0)
			pid_set_setpoint(&pid, y);
		u = pid_step(&pid, y, dt);
		CU_ASSERT(u >= -2.0 && u <= 3.0);
		CU_ASSERT(pid.integral >= -2.0 && pid.integral <= 3.0);
		if (dt == 0.0)
			CU_ASSERT(u == last);
		last = u;
	}
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("pid", NULL, NULL);

	if (!s ||
	    !CU_add_test(s, "validate and init", test_validate) ||
	    !CU_add_test(s, "exact terms", test_terms_exact) ||
	    !CU_add_test(s, "output clamp", test_clamp) ||
	    !CU_add_test(s, "convergence", test_convergence) ||
	    !CU_add_test(s, "negative gains", test_negative_gains) ||
	    !CU_add_test(s, "anti-windup", test_anti_windup) ||
	    !CU_add_test(s, "integral clamp", test_integral_clamp) ||
	    !CU_add_test(s, "no setpoint kick", test_no_setpoint_kick) ||
	    !CU_add_test(s, "bad input", test_bad_input) ||
	    !CU_add_test(s, "reset", test_reset) ||
	    !CU_add_test(s, "random", test_random))
		return CU_get_error();
	return CUE_SUCCESS;
}
