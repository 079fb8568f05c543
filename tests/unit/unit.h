/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the unit test programs: each tests/unit/test_<module>.c defines
 * unit_register(), which adds its suites to the CUnit registry; runner.c
 * holds the one main() that runs them and turns failures into an exit code.
 */
#ifndef TG_UNIT_H
#define TG_UNIT_H

#include <stdint.h>

#include <CUnit/CUnit.h>

/* Adds this program's suites; returns a CUE_* error code (CUE_SUCCESS). */
int unit_register(void);

/* A small deterministic PRNG (xorshift64*) for randomized invariant tests,
 * so every run sees the same inputs. */
static inline uint64_t unit_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif /* TG_UNIT_H */
