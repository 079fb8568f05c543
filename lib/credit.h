/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Credit ledger of one consumer, for credit-based flow control (step 6 of
 * the control loop in DESIGN.md). Credits come either from explicit grants
 * (the admin socket, a downstream that announces its capacity) or from an
 * egress ring's free space; the control thread consumes them for what was
 * admitted and blocks new admissions for a consumer whose fraction left
 * falls under a threshold (10% by default).
 *
 * A ledger holds the credits still available and the total granted in the
 * current window, the denominator of the fraction left. Grants accumulate
 * in the window until credit_set() starts a new one (or credit_reset()).
 *
 * A ledger that has never been granted anything (granted == 0) is
 * unmetered: the consumer is not under credit control. It reads a fraction
 * left of 1.0, is never blocked, and credit_consume() on it succeeds
 * without taking anything. The first grant (or a credit_set() with a
 * non-zero capacity) puts the consumer under credit control; credit_reset()
 * takes it out again.
 *
 * Invariant: available <= granted. Counts are in messages (or whatever
 * unit the caller grants in); all arithmetic saturates at UINT64_MAX.
 *
 * Control thread only: a ledger is plain memory, without atomics.
 */
#ifndef TG_CREDIT_H
#define TG_CREDIT_H

#include <stdbool.h>
#include <stdint.h>

/** One consumer's ledger. Zero-initialized (or credit_reset()) means
 *  unmetered. */
struct credit {
	uint64_t available; /**< credits that may still be consumed, msgs */
	uint64_t granted;   /**< total granted in this window, msgs */
};

/** Empties the ledger: unmetered, nothing available. Control thread. */
void credit_reset(struct credit *c);

/**
 * Adds @p n credits to both available and granted, each saturating at
 * UINT64_MAX. Granting 0 changes nothing (an unmetered ledger stays so).
 * Control thread.
 */
void credit_grant(struct credit *c, uint64_t n);

/**
 * Starts a new window with @p available credits out of @p capacity, e.g.
 * from an egress ring: available = free slots, capacity = ring size.
 * A capacity of 0 (with available 0) makes the ledger unmetered.
 * @return 0, or -EINVAL if available > capacity (ledger untouched).
 * Control thread.
 */
int credit_set(struct credit *c, uint64_t available, uint64_t capacity);

/**
 * Takes @p n credits if at least @p n are available.
 * @return true if taken (always, taking nothing, on an unmetered ledger, and
 *         for n == 0); false if fewer than @p n are available, in which
 *         case nothing is taken. Control thread.
 */
bool credit_consume(struct credit *c, uint64_t n);

/** @return the credits available, msgs. Control thread. */
uint64_t credit_available(const struct credit *c);

/** @return true if the ledger is under credit control (granted > 0). */
bool credit_metered(const struct credit *c);

/**
 * @return available / granted, in [0, 1]; 1.0 for an unmetered ledger.
 * Control thread.
 */
double credit_fraction_left(const struct credit *c);

/**
 * @return true if the consumer must be blocked: the ledger is metered and
 *         its fraction left is strictly below @p threshold_frac (0.10 for
 *         the default "< 10% left"). An unmetered ledger is never blocked;
 *         a NaN threshold blocks nothing. Control thread.
 */
bool credit_blocked(const struct credit *c, double threshold_frac);

#endif /* TG_CREDIT_H */
