/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Circuit breaker: every transition on a simulated nanosecond clock, the
 * exact number of probes in half-open, the open timer restarting on a failed
 * probe, forced modes over an automatic machine that keeps running, and
 * consecutive-failure counting under flapping outcomes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "breaker.h"
#include "tg_common.h"
#include "unit.h"

#define SEC UINT64_C(1000000000)
#define T0  (UINT64_C(5) * SEC + 12345) /* an arbitrary start time */

static void fresh(struct brk *b)
{
	struct brk_config c;

	brk_config_default(&c);
	CU_ASSERT_EQUAL_FATAL(brk_init(b, &c, T0), 0);
}

static void fail_n(struct brk *b, unsigned n, uint64_t now_ns)
{
	while (n--)
		brk_record(b, false, now_ns);
}

/* how many of @n calls brk_allow() lets through */
static unsigned allow_n(struct brk *b, unsigned n, uint64_t now_ns)
{
	unsigned ok = 0;

	while (n--)
		ok += brk_allow(b, now_ns);
	return ok;
}

/* trips a fresh breaker at T0 and lets the open period run out */
static void half_open_at(struct brk *b, uint64_t *now_ns)
{
	fresh(b);
	brk_trip(b, T0);
	*now_ns = T0 + SEC;
	CU_ASSERT_EQUAL_FATAL(brk_state(b, *now_ns), BRK_HALF_OPEN);
}

static void test_names_and_operator_words_round_trip(void)
{
	enum brk_mode m, out;

	CU_ASSERT_STRING_EQUAL(brk_state_name(BRK_CLOSED), "closed");
	CU_ASSERT_STRING_EQUAL(brk_state_name(BRK_OPEN), "open");
	CU_ASSERT_STRING_EQUAL(brk_state_name(BRK_HALF_OPEN), "half-open");
	CU_ASSERT_STRING_EQUAL(brk_state_name(BRK_STATE_MAX), "?");
	CU_ASSERT_STRING_EQUAL(brk_mode_name(BRK_AUTO), "auto");
	CU_ASSERT_STRING_EQUAL(brk_mode_name(BRK_FORCED_OPEN), "open");
	CU_ASSERT_STRING_EQUAL(brk_mode_name(BRK_FORCED_CLOSED), "close");
	CU_ASSERT_STRING_EQUAL(brk_mode_name(BRK_MODE_MAX), "?");
	for (m = BRK_AUTO; m < BRK_MODE_MAX; m++) {
		CU_ASSERT_EQUAL(brk_mode_parse(brk_mode_name(m), &out), 0);
		CU_ASSERT_EQUAL(out, m);
	}
	out = BRK_AUTO;
	CU_ASSERT_EQUAL(brk_mode_parse("closed", &out), -EINVAL);
	CU_ASSERT_EQUAL(brk_mode_parse("OPEN", &out), -EINVAL);
	CU_ASSERT_EQUAL(brk_mode_parse("", &out), -EINVAL);
	CU_ASSERT_EQUAL(brk_mode_parse(NULL, &out), -EINVAL);
	CU_ASSERT_EQUAL(out, BRK_AUTO);
}

static void test_defaults_and_validation(void)
{
	struct brk_config c;
	struct brk b;

	brk_config_default(&c);
	CU_ASSERT_EQUAL(c.open_ns, SEC);
	CU_ASSERT_EQUAL(c.max_probes, 10);
	CU_ASSERT_EQUAL(c.successes_to_close, 3);
	CU_ASSERT_EQUAL(c.failures_to_open, 5);
	CU_ASSERT_EQUAL(brk_config_validate(&c), 0);
#define REJECTS(edit)                                                          \
	do {                                                                   \
		brk_config_default(&c);                                        \
		edit;                                                          \
		CU_ASSERT_EQUAL(brk_config_validate(&c), -EINVAL);             \
		CU_ASSERT_EQUAL(brk_init(&b, &c, T0), -EINVAL);                \
	} while (0)
	REJECTS(c.open_ns = 0);
	REJECTS(c.max_probes = 0);
	REJECTS(c.successes_to_close = 0);
	REJECTS(c.successes_to_close = 11); /* could never close */
	REJECTS(c.failures_to_open = 0);
#undef REJECTS
	brk_config_default(&c);
	c.successes_to_close = c.max_probes = 1;
	c.failures_to_open = 1;
	CU_ASSERT_EQUAL(brk_config_validate(&c), 0);
}

static void test_new_breaker_is_closed_and_allows_everything(void)
{
	struct brk b;

	fresh(&b);
	CU_ASSERT_EQUAL(brk_state(&b, T0), BRK_CLOSED);
	CU_ASSERT_EQUAL(brk_mode(&b), BRK_AUTO);
	CU_ASSERT_EQUAL(allow_n(&b, 1000, T0), 1000);
	CU_ASSERT_EQUAL(brk_trips(&b), 0);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 0);
}

static void test_five_consecutive_failures_trip_it(void)
{
	struct brk b;

	fresh(&b);
	fail_n(&b, 4, T0);
	CU_ASSERT_EQUAL(brk_fail_streak(&b), 4);
	CU_ASSERT_EQUAL(brk_state(&b, T0), BRK_CLOSED);
	CU_ASSERT_TRUE(brk_allow(&b, T0));
	brk_record(&b, false, T0 + 7);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 7), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
	CU_ASSERT_EQUAL(brk_fail_streak(&b), 0);
	CU_ASSERT_FALSE(brk_allow(&b, T0 + 7));
}

/* a success ends the streak: F F F F S, repeated, never trips */
static void test_flapping_outcomes_never_trip(void)
{
	struct brk b;
	uint64_t now = T0;
	unsigned i;

	fresh(&b);
	for (i = 0; i < 100; i++, now += SEC / 10) {
		fail_n(&b, 4, now);
		brk_record(&b, true, now);
		CU_ASSERT_EQUAL(brk_fail_streak(&b), 0);
	}
	CU_ASSERT_EQUAL(brk_state(&b, now), BRK_CLOSED);
	CU_ASSERT_EQUAL(brk_trips(&b), 0);
	/* S F S F ...: the streak never passes 1 */
	for (i = 0; i < 100; i++) {
		brk_record(&b, i % 2 == 0, now);
		CU_ASSERT(brk_fail_streak(&b) <= 1);
	}
	CU_ASSERT_EQUAL(brk_state(&b, now), BRK_CLOSED);
	/* but five in a row after a success still trip it */
	brk_record(&b, true, now);
	fail_n(&b, 5, now);
	CU_ASSERT_EQUAL(brk_state(&b, now), BRK_OPEN);
}

static void test_open_blocks_until_open_ns_then_half_open(void)
{
	struct brk b;

	fresh(&b);
	brk_trip(&b, T0);
	CU_ASSERT_EQUAL(brk_state(&b, T0), BRK_OPEN);
	CU_ASSERT_EQUAL(allow_n(&b, 100, T0), 0);
	CU_ASSERT_FALSE(brk_allow(&b, T0 + SEC - 1));
	CU_ASSERT_EQUAL(brk_state(&b, T0 + SEC - 1), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + SEC), BRK_HALF_OPEN);
	CU_ASSERT_TRUE(brk_allow(&b, T0 + SEC));
	CU_ASSERT_EQUAL(brk_probes_used(&b), 1);
}

/* a clock that goes back never shortens the open period */
static void test_open_period_ignores_clock_going_back(void)
{
	struct brk b;

	fresh(&b);
	brk_trip(&b, T0);
	CU_ASSERT_FALSE(brk_allow(&b, T0 - SEC));
	CU_ASSERT_FALSE(brk_allow(&b, 0));
	CU_ASSERT_EQUAL(brk_state(&b, T0 + SEC / 2), BRK_OPEN);
}

static void test_half_open_allows_exactly_max_probes(void)
{
	struct brk b;
	uint64_t now;

	half_open_at(&b, &now);
	CU_ASSERT_EQUAL(allow_n(&b, 10, now), 10);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 10);
	CU_ASSERT_FALSE(brk_allow(&b, now));
	CU_ASSERT_EQUAL(allow_n(&b, 1000, now + SEC / 2), 0);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 10);
	CU_ASSERT_EQUAL(brk_state(&b, now + SEC / 2), BRK_HALF_OPEN);
}

static void test_probe_successes_close_it(void)
{
	struct brk b;
	uint64_t now;

	half_open_at(&b, &now);
	CU_ASSERT_EQUAL(allow_n(&b, 3, now), 3);
	brk_record(&b, true, now + 1);
	brk_record(&b, true, now + 2);
	CU_ASSERT_EQUAL(brk_state(&b, now + 2), BRK_HALF_OPEN);
	brk_record(&b, true, now + 3);
	CU_ASSERT_EQUAL(brk_state(&b, now + 3), BRK_CLOSED);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 0);
	CU_ASSERT_EQUAL(allow_n(&b, 100, now + 3), 100);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
}

static void test_failed_probe_reopens_and_restarts_timer(void)
{
	struct brk b;
	uint64_t now, t_fail;

	half_open_at(&b, &now);
	CU_ASSERT_EQUAL(allow_n(&b, 4, now), 4);
	brk_record(&b, true, now);
	brk_record(&b, true, now);
	t_fail = now + SEC / 4;
	brk_record(&b, false, t_fail);
	CU_ASSERT_EQUAL(brk_state(&b, t_fail), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_trips(&b), 2);
	/* a full open period from the failure, not from the first trip */
	CU_ASSERT_FALSE(brk_allow(&b, t_fail + SEC - 1));
	CU_ASSERT_EQUAL(brk_state(&b, t_fail + SEC - 1), BRK_OPEN);
	/* the new half-open period has all its probes, and no successes */
	CU_ASSERT_EQUAL(allow_n(&b, 20, t_fail + SEC), 10);
	brk_record(&b, true, t_fail + SEC);
	brk_record(&b, true, t_fail + SEC);
	CU_ASSERT_EQUAL(brk_state(&b, t_fail + SEC), BRK_HALF_OPEN);
	brk_record(&b, true, t_fail + SEC);
	CU_ASSERT_EQUAL(brk_state(&b, t_fail + SEC), BRK_CLOSED);
}

/* probes that never report back count as a failure after open_ns */
static void test_silent_probes_reopen_after_open_ns(void)
{
	struct brk b;
	uint64_t now, t_last;

	half_open_at(&b, &now);
	CU_ASSERT_EQUAL(allow_n(&b, 9, now), 9);
	t_last = now + SEC / 2;
	CU_ASSERT_TRUE(brk_allow(&b, t_last));
	CU_ASSERT_EQUAL(brk_state(&b, t_last + SEC - 1), BRK_HALF_OPEN);
	CU_ASSERT_EQUAL(brk_state(&b, t_last + SEC), BRK_OPEN);
	CU_ASSERT_FALSE(brk_allow(&b, t_last + SEC));
	CU_ASSERT_EQUAL(brk_trips(&b), 2);
	CU_ASSERT_EQUAL(allow_n(&b, 20, t_last + 2 * SEC), 10);
	/* an idle half-open with probes left never times out */
	half_open_at(&b, &now);
	CU_ASSERT_EQUAL(brk_state(&b, now + 3600 * SEC), BRK_HALF_OPEN);
	CU_ASSERT_TRUE(brk_allow(&b, now + 3600 * SEC));
}

static void test_results_while_open_are_ignored(void)
{
	struct brk b;

	fresh(&b);
	brk_trip(&b, T0);
	brk_record(&b, true, T0 + 1);
	brk_record(&b, true, T0 + 2);
	brk_record(&b, true, T0 + 3);
	fail_n(&b, 10, T0 + 4);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 4), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + SEC), BRK_HALF_OPEN);
}

static void test_trip_and_reset(void)
{
	struct brk b;

	fresh(&b);
	brk_trip(&b, T0);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
	/* tripping an open breaker re-arms it without counting a trip */
	brk_trip(&b, T0 + SEC / 2);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + SEC), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + SEC / 2 + SEC), BRK_HALF_OPEN);
	/* tripping a half-open breaker counts */
	CU_ASSERT_TRUE(brk_allow(&b, T0 + 2 * SEC));
	brk_trip(&b, T0 + 2 * SEC);
	CU_ASSERT_EQUAL(brk_trips(&b), 2);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 0);
	brk_reset(&b);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 2 * SEC), BRK_CLOSED);
	CU_ASSERT_EQUAL(brk_trips(&b), 2);
	CU_ASSERT_TRUE(brk_allow(&b, T0 + 2 * SEC));
	/* reset clears the failure streak */
	fail_n(&b, 4, T0 + 3 * SEC);
	brk_reset(&b);
	brk_record(&b, false, T0 + 3 * SEC);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 3 * SEC), BRK_CLOSED);
	CU_ASSERT_EQUAL(brk_fail_streak(&b), 1);
}

static void test_forced_open_blocks_and_auto_resumes(void)
{
	struct brk b;

	fresh(&b);
	brk_force(&b, BRK_FORCED_OPEN);
	CU_ASSERT_EQUAL(brk_mode(&b), BRK_FORCED_OPEN);
	CU_ASSERT_EQUAL(brk_state(&b, T0), BRK_OPEN);
	CU_ASSERT_EQUAL(allow_n(&b, 100, T0 + 10 * SEC), 0);
	CU_ASSERT_EQUAL(brk_trips(&b), 0); /* forcing is not a trip */
	/* the automatic machine keeps counting underneath */
	fail_n(&b, 5, T0 + 10 * SEC);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 20 * SEC), BRK_OPEN);
	brk_force(&b, BRK_AUTO);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 10 * SEC), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 11 * SEC), BRK_HALF_OPEN);
	CU_ASSERT_EQUAL(allow_n(&b, 20, T0 + 11 * SEC), 10);
}

static void test_forced_closed_allows_and_auto_resumes(void)
{
	struct brk b;

	fresh(&b);
	brk_trip(&b, T0);
	brk_force(&b, BRK_FORCED_CLOSED);
	CU_ASSERT_EQUAL(brk_state(&b, T0), BRK_CLOSED);
	CU_ASSERT_EQUAL(allow_n(&b, 100, T0 + 2 * SEC), 100);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 0); /* no probe spent */
	/* brk_reset while forced closes the automatic state too */
	brk_reset(&b);
	brk_trip(&b, T0 + 3 * SEC); /* e.g. Emergency while forced */
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 3 * SEC), BRK_CLOSED);
	brk_force(&b, BRK_AUTO);
	CU_ASSERT_EQUAL(brk_state(&b, T0 + 3 * SEC), BRK_OPEN);
	CU_ASSERT_FALSE(brk_allow(&b, T0 + 3 * SEC));
	CU_ASSERT_EQUAL(brk_trips(&b), 2);
	/* forced open over a closed automatic state, then back */
	brk_reset(&b);
	brk_force(&b, BRK_FORCED_OPEN);
	CU_ASSERT_FALSE(brk_allow(&b, T0 + 4 * SEC));
	brk_force(&b, BRK_AUTO);
	CU_ASSERT_TRUE(brk_allow(&b, T0 + 4 * SEC));
}

/* brk_state() is a query: asking never moves the machine */
static void test_state_query_changes_nothing(void)
{
	struct brk b, copy;
	uint64_t now;

	half_open_at(&b, &now);
	copy = b;
	CU_ASSERT_EQUAL(brk_state(&b, now + 5 * SEC), BRK_HALF_OPEN);
	CU_ASSERT_EQUAL(brk_mode(&b), BRK_AUTO);
	CU_ASSERT_EQUAL(brk_probes_used(&b), 0);
	CU_ASSERT_EQUAL(brk_trips(&b), 1);
	CU_ASSERT_EQUAL(brk_fail_streak(&b), 0);
	CU_ASSERT_EQUAL(b.state, copy.state);
	CU_ASSERT_EQUAL(b.retry_ns, copy.retry_ns);
	CU_ASSERT_EQUAL(b.probes, copy.probes);
}

static void test_reload_keeps_state_and_applies_new_counts(void)
{
	struct brk_config c;
	struct brk b;
	uint64_t now;

	half_open_at(&b, &now);
	CU_ASSERT_EQUAL(allow_n(&b, 2, now), 2);
	brk_config_default(&c);
	c.max_probes = 2;
	c.successes_to_close = 2;
	c.open_ns = 5 * SEC;
	CU_ASSERT_EQUAL(brk_set_config(&b, &c), 0);
	CU_ASSERT_EQUAL(brk_state(&b, now), BRK_HALF_OPEN);
	CU_ASSERT_FALSE(brk_allow(&b, now)); /* 2 of 2 probes spent */
	brk_record(&b, false, now);
	CU_ASSERT_EQUAL(brk_state(&b, now + 5 * SEC - 1), BRK_OPEN);
	CU_ASSERT_EQUAL(brk_state(&b, now + 5 * SEC), BRK_HALF_OPEN);
	c.max_probes = 0;
	CU_ASSERT_EQUAL(brk_set_config(&b, &c), -EINVAL);
	CU_ASSERT_EQUAL(b.cfg.max_probes, 2);
}

/* an open period that reaches past the end of the clock saturates */
static void test_huge_open_period_does_not_wrap(void)
{
	struct brk_config c;
	struct brk b;

	brk_config_default(&c);
	c.open_ns = UINT64_MAX - 1;
	CU_ASSERT_EQUAL_FATAL(brk_init(&b, &c, T0), 0);
	brk_trip(&b, T0);
	CU_ASSERT_EQUAL(brk_state(&b, UINT64_MAX - 1), BRK_OPEN);
	CU_ASSERT_FALSE(brk_allow(&b, UINT64_MAX - 1));
	CU_ASSERT_EQUAL(brk_state(&b, UINT64_MAX), BRK_HALF_OPEN);
}

int unit_register(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
#define T(f) {#f, f}
	    T(test_names_and_operator_words_round_trip),
	    T(test_defaults_and_validation),
	    T(test_new_breaker_is_closed_and_allows_everything),
	    T(test_five_consecutive_failures_trip_it),
	    T(test_flapping_outcomes_never_trip),
	    T(test_open_blocks_until_open_ns_then_half_open),
	    T(test_open_period_ignores_clock_going_back),
	    T(test_half_open_allows_exactly_max_probes),
	    T(test_probe_successes_close_it),
	    T(test_failed_probe_reopens_and_restarts_timer),
	    T(test_silent_probes_reopen_after_open_ns),
	    T(test_results_while_open_are_ignored),
	    T(test_trip_and_reset),
	    T(test_forced_open_blocks_and_auto_resumes),
	    T(test_forced_closed_allows_and_auto_resumes),
	    T(test_state_query_changes_nothing),
	    T(test_reload_keeps_state_and_applies_new_counts),
	    T(test_huge_open_period_does_not_wrap),
#undef T
	};
	CU_pSuite suite = CU_add_suite("breaker", NULL, NULL);
	unsigned i;

	if (suite == NULL)
		return CU_get_error();
	for (i = 0; i < TG_ARRAY_SIZE(tests); i++) {
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			return CU_get_error();
	}
	return CUE_SUCCESS;
}
