/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Circuit breaker: the automatic closed / open / half-open machine, driven by
 * recorded outcomes and the caller's clock, under an operator mode that can
 * pin the reported state. Timed transitions (open -> half-open when the open
 * period ends, half-open -> open when spent probes stay silent) are applied
 * lazily by whichever call comes next; brk_state() computes the same answer
 * without changing anything, so a query never disagrees with the next call.
 */
#include <errno.h>
#include <string.h>

#include "breaker.h"
#include "tg_common.h"

static const char *const state_names[BRK_STATE_MAX] = {
    [BRK_CLOSED] = "closed",
    [BRK_OPEN] = "open",
    [BRK_HALF_OPEN] = "half-open",
};

static const char *const mode_words[BRK_MODE_MAX] = {
    [BRK_AUTO] = "auto",
    [BRK_FORCED_OPEN] = "open",
    [BRK_FORCED_CLOSED] = "close",
};

void brk_config_default(struct brk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->open_ns = UINT64_C(1000000000);
	cfg->max_probes = 10;
	cfg->successes_to_close = 3;
	cfg->failures_to_open = 5;
}

int brk_config_validate(const struct brk_config *cfg)
{
	if (cfg->open_ns == 0 || cfg->max_probes == 0 ||
	    cfg->failures_to_open == 0)
		return -EINVAL;
	if (cfg->successes_to_close == 0 ||
	    cfg->successes_to_close > cfg->max_probes)
		return -EINVAL;
	return 0;
}

int brk_init(struct brk *b, const struct brk_config *cfg, uint64_t now_ns)
{
	if (brk_config_validate(cfg))
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->cfg = *cfg;
	b->state = BRK_CLOSED;
	b->mode = BRK_AUTO;
	b->retry_ns = now_ns; /* unused while closed */
	return 0;
}

int brk_set_config(struct brk *b, const struct brk_config *cfg)
{
	if (brk_config_validate(cfg))
		return -EINVAL;
	b->cfg = *cfg;
	return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The automatic state at @now_ns, with the timed transitions applied. */
static enum brk_state auto_state(const struct brk *b, uint64_t now_ns)
{
	if (b->state == BRK_OPEN && now_ns >= b->retry_ns)
		return BRK_HALF_OPEN;
	if (b->state == BRK_HALF_OPEN && b->probes >= b->cfg.max_probes &&
	    now_ns >= b->retry_ns)
		return BRK_OPEN; /* probes spent, no verdict: a failure */
	return b->state;
}

static void go_closed(struct brk *b)
{
	b->state = BRK_CLOSED;
	b->fail_streak = 0;
	b->probes = 0;
	b->successes = 0;
}

/* Opens (or re-arms an open breaker); the open period starts at @now_ns. */
static void go_open(struct brk *b, uint64_t now_ns)
{
	if (b->state != BRK_OPEN)
		b->trips++;
	b->state = BRK_OPEN;
	b->retry_ns = add_sat(now_ns, b->cfg.open_ns);
	b->fail_streak = 0;
	b->probes = 0;
	b->successes = 0;
}

/* Applies the timed transition due at @now_ns, if any. */
static void advance(struct brk *b, uint64_t now_ns)
{
	enum brk_state s = auto_state(b, now_ns);

	if (s == b->state)
		return;
	if (s == BRK_HALF_OPEN) {
		b->state = BRK_HALF_OPEN;
		b->probes = 0;
		b->successes = 0;
	} else {
		go_open(b, now_ns);
	}
}

void brk_trip(struct brk *b, uint64_t now_ns)
{
	advance(b, now_ns);
	go_open(b, now_ns);
}

void brk_reset(struct brk *b)
{
	go_closed(b);
}

/*
 * Half-open: hands out a probe if one is left. Each probe restarts the
 * silence timer, so that a period whose probes are all out and have brought
 * no verdict ends open_ns after the last one left (see auto_state()).
 */
static bool take_probe(struct brk *b, uint64_t now_ns)
{
	if (b->probes >= b->cfg.max_probes)
		return false;
	b->probes++;
	b->retry_ns = add_sat(now_ns, b->cfg.open_ns);
	return true;
}

bool brk_allow(struct brk *b, uint64_t now_ns)
{
	if (b->mode == BRK_FORCED_OPEN)
		return false;
	if (b->mode == BRK_FORCED_CLOSED)
		return true;
	advance(b, now_ns);
	switch (b->state) {
	case BRK_CLOSED:
		return true;
	case BRK_HALF_OPEN:
		return take_probe(b, now_ns);
	default:
		return false;
	}
}

void brk_record(struct brk *b, bool success, uint64_t now_ns)
{
	advance(b, now_ns);
	switch (b->state) {
	case BRK_CLOSED:
		if (success)
			b->fail_streak = 0;
		else if (++b->fail_streak >= b->cfg.failures_to_open)
			go_open(b, now_ns);
		break;
	case BRK_HALF_OPEN:
		if (!success)
			go_open(b, now_ns);
		else if (++b->successes >= b->cfg.successes_to_close)
			go_closed(b);
		break;
	default:
		break;
	}
}

void brk_force(struct brk *b, enum brk_mode mode)
{
	TG_ASSERT((unsigned)mode < BRK_MODE_MAX);
	b->mode = mode;
}

enum brk_state brk_state(const struct brk *b, uint64_t now_ns)
{
	if (b->mode == BRK_FORCED_OPEN)
		return BRK_OPEN;
	if (b->mode == BRK_FORCED_CLOSED)
		return BRK_CLOSED;
	return auto_state(b, now_ns);
}

enum brk_mode brk_mode(const struct brk *b)
{
	return b->mode;
}

uint32_t brk_probes_used(const struct brk *b)
{
	return b->state == BRK_HALF_OPEN ? b->probes : 0;
}

uint32_t brk_fail_streak(const struct brk *b)
{
	return b->fail_streak;
}

uint64_t brk_trips(const struct brk *b)
{
	return b->trips;
}

const char *brk_state_name(enum brk_state state)
{
	if ((unsigned)state >= BRK_STATE_MAX)
		return "?";
	return state_names[state];
}

const char *brk_mode_name(enum brk_mode mode)
{
	if ((unsigned)mode >= BRK_MODE_MAX)
		return "?";
	return mode_words[mode];
}

int brk_mode_parse(const char *s, enum brk_mode *out)
{
	unsigned i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < BRK_MODE_MAX; i++) {
		if (strcmp(s, mode_words[i]) == 0) {
			*out = (enum brk_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}
