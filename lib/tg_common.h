/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small shared definitions for lib/: branch hints, the 128-bit integer type
 * used by the exact bucket arithmetic, and the project assert macro. lib/ is
 * pure C11 plus two GCC/Clang extensions that every supported compiler has
 * (__builtin_expect and unsigned __int128), each marked __extension__ so that
 * -Wpedantic stays quiet.
 */
#ifndef TG_COMMON_H
#define TG_COMMON_H

#include <stdint.h>

#ifndef tg_likely
#define tg_likely(x) __builtin_expect(!!(x), 1)
#define tg_unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* 128-bit unsigned integer: the bucket keeps tokens scaled by the clock
 * frequency, which needs more than 64 bits for slow rates with big bursts. */
__extension__ typedef unsigned __int128 tg_u128;

/*
 * TG_ASSERT(cond): checks an invariant. On in test and debug builds
 * (TG_ASSERTS defined, which meson does unless buildtype=release); compiled
 * out of release hot paths. A failed assert aborts: an invariant that does
 * not hold means the accounting can no longer be trusted.
 */
#ifdef TG_ASSERTS
#include <stdlib.h>
#define TG_ASSERT(cond)                                                        \
	do {                                                                   \
		if (tg_unlikely(!(cond)))                                      \
			abort();                                               \
	} while (0)
#else
#define TG_ASSERT(cond) ((void)0)
#endif

#define TG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* TG_COMMON_H */
