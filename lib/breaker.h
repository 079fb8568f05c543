/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Circuit breaker (Nygard's closed / open / half-open machine) for the
 * control plane. Closed lets everything through and counts consecutive
 * failures; enough of them open it. Open lets nothing through for open_ns,
 * then it turns half-open and lets a bounded number of probes through: one
 * failed probe re-opens it (and restarts the open timer), enough successful
 * ones close it. The severity machine also trips it directly (Emergency) and
 * resets it (Emergency over), and an operator may force it open or closed;
 * while forced, the automatic machine keeps running underneath, so that
 * "breaker auto" resumes from where the signals have brought it.
 *
 * Why a bounded number of probes: half-open means "the pipeline behind us was
 * failing a moment ago, is it back?". Letting all traffic through to find out
 * would send the full backlog into a pipeline that may still be down (and the
 * flood alone could knock over one that just recovered). A fixed number of
 * probes bounds what a wrong guess costs to max_probes messages and keeps the
 * test load small and known, whatever the ingress rate.
 *
 * Time is a parameter (now_ns, nanoseconds, monotonic). Control thread only:
 * the state is plain memory, not shared with workers, which see only the
 * resulting action in their parameters.
 */
#ifndef TG_BREAKER_H
#define TG_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

/** Reported states. */
enum brk_state {
	BRK_CLOSED,    /**< everything passes */
	BRK_OPEN,      /**< nothing passes */
	BRK_HALF_OPEN, /**< up to max_probes pass, to test the pipeline */
	BRK_STATE_MAX
};

/** Operator modes. */
enum brk_mode {
	BRK_AUTO,	   /**< the automatic machine decides */
	BRK_FORCED_OPEN,   /**< reported open, nothing passes */
	BRK_FORCED_CLOSED, /**< reported closed, everything passes */
	BRK_MODE_MAX
};

/** Tunables. Fill with brk_config_default(), then edit. */
struct brk_config {
	/** Time spent open before turning half-open, ns, > 0 (default 1 s). */
	uint64_t open_ns;
	/** Probes let through per half-open period, >= 1 (default 10). */
	uint32_t max_probes;
	/**
	 * Probe successes that close it, in [1, max_probes] (default 3).
	 * Not max_probes: three successes in a row with no failure is
	 * already good evidence, and closing sooner restores the rate sooner;
	 * any failure among the probes re-opens it anyway.
	 */
	uint32_t successes_to_close;
	/** Consecutive failures while closed that open it, >= 1 (default 5). */
	uint32_t failures_to_open;
};

/** One breaker. Treat as opaque; embed by value. */
struct brk {
	struct brk_config cfg; /**< validated copy */
	enum brk_state state;  /**< automatic state; BRK_OPEN may be due to
				*   turn half-open (see retry_ns) */
	enum brk_mode mode;    /**< operator mode */
	uint64_t retry_ns;     /**< open: when it turns half-open;
				*   half-open: last probe out + open_ns */
	uint32_t fail_streak;  /**< consecutive failures while closed */
	uint32_t probes;       /**< probes let through, this half-open */
	uint32_t successes;    /**< probe successes, this half-open */
	uint64_t trips;	       /**< times it went open (automatic state) */
};

/** Fills @p cfg with the defaults above. Any thread; cannot fail. */
void brk_config_default(struct brk_config *cfg);

/**
 * Checks a config without using it.
 * @return 0, or -EINVAL if open_ns, max_probes or failures_to_open is 0,
 *         or successes_to_close is not in [1, max_probes] (more would leave
 *         it half-open for ever, its probes spent). Any thread.
 */
int brk_config_validate(const struct brk_config *cfg);

/**
 * Starts @p b closed, automatic, with no trips; copies @p cfg.
 * @return 0, or -EINVAL (@p b untouched). Control thread.
 */
int brk_init(struct brk *b, const struct brk_config *cfg, uint64_t now_ns);

/**
 * Replaces the config (reload). The state is kept; a running open period
 * keeps its deadline, the new counts apply from the next event.
 * @return 0, or -EINVAL (@p b untouched). Control thread.
 */
int brk_set_config(struct brk *b, const struct brk_config *cfg);

/**
 * Opens the automatic breaker now (e.g. severity reached Emergency), or
 * restarts the open timer if it is already open. Counts a trip unless it
 * was already open. Control thread.
 */
void brk_trip(struct brk *b, uint64_t now_ns);

/** Closes the automatic breaker and clears its counts (e.g. Emergency is
 *  over). The trip count and the mode are kept. Control thread. */
void brk_reset(struct brk *b);

/**
 * Asks whether one message (or one batch, the caller's unit) may pass.
 * Forced open: false; forced closed: true. Automatic: closed, true; open,
 * false until open_ns has passed since it opened, when it turns half-open;
 * half-open, true for the first max_probes calls of the period (each
 * consumes a probe), false after. Half-open with every probe spent and no
 * verdict open_ns after the last one went out (results lost) counts as a
 * failure and re-opens.
 * Control thread.
 */
bool brk_allow(struct brk *b, uint64_t now_ns);

/**
 * Reports the outcome of something let through. Closed: a failure extends
 * the streak of consecutive failures and failures_to_open of them open it;
 * a success ends the streak. Half-open: a failure re-opens it (the open
 * timer restarts at @p now_ns); successes_to_close successes close it.
 * Open: ignored (late results of what passed before it opened). Updates the
 * automatic state in every mode. Control thread.
 */
void brk_record(struct brk *b, bool success, uint64_t now_ns);

/** Sets the operator mode; the automatic state is untouched and resumes
 *  with BRK_AUTO. Control thread. */
void brk_force(struct brk *b, enum brk_mode mode);

/** @return the reported state at @p now_ns (forced, or automatic with an
 *  expired open period shown as half-open). Pure. Control thread. */
enum brk_state brk_state(const struct brk *b, uint64_t now_ns);

/** @return the operator mode. */
enum brk_mode brk_mode(const struct brk *b);

/** @return probes let through in the current half-open period (0 when
 *  not half-open). */
uint32_t brk_probes_used(const struct brk *b);

/** @return consecutive failures recorded while closed. */
uint32_t brk_fail_streak(const struct brk *b);

/** @return how many times the automatic breaker opened. */
uint64_t brk_trips(const struct brk *b);

/** @return "closed", "open", "half-open", or "?" when out of range. */
const char *brk_state_name(enum brk_state state);

/** @return the operator word of a mode: "auto", "open", "close" (so that
 *  brk_mode_parse() reads it back), or "?" when out of range. */
const char *brk_mode_name(enum brk_mode mode);

/**
 * Parses the operator words of `breaker open|close|auto` (lower case,
 * exact). @return 0 and *out set, or -EINVAL (*out untouched). Any thread.
 */
int brk_mode_parse(const char *s, enum brk_mode *out);

#endif /* TG_BREAKER_H */
