/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side's clocks, one definition for the control thread, the
 * admin server and the Kafka threads. Any thread.
 */
#ifndef TG_CONTROL_CLOCK_H
#define TG_CONTROL_CLOCK_H

#include <stdint.h>
#include <time.h>

/** CLOCK_MONOTONIC in nanoseconds: intervals, leases, deadlines. */
static inline uint64_t tg_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/** CLOCK_REALTIME in microseconds since the epoch: what other nodes read
 *  (record timestamps, incarnations). */
static inline uint64_t tg_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif /* TG_CONTROL_CLOCK_H */
