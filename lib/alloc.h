/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Max-min fair allocator (water-filling) that splits a rate over parties:
 * a node's rate over its worker cores, and a cluster's rate over its live
 * nodes ("One bucket, many cores" and "One bucket, many servers" in
 * DESIGN.md). Every node computes the same split from the same records, so
 * the result is exact integer arithmetic and fully deterministic.
 *
 * What a party gets, for n >= 1 parties (total T, demand d[i], floor f[i]):
 *
 * 1. Floors first. If the floors fit (sum f <= T), every party gets at
 *    least its floor, demand or not, so an idle core or node can start.
 *    If they do not fit, T is water-filled over the floors instead (each
 *    party gets min(f[i], level), the level as high as T allows) and
 *    nobody gets more than its floor.
 * 2. Then the water level rises over the demands: party i gets
 *    max(f[i], min(d[i], L)) for the highest integer level L that fits in
 *    T. The units left after that (fewer than the parties still below
 *    their demand) go one each to the first such parties, in index order.
 *    This is the max-min fair allocation subject to the floors.
 * 3. Work conservation (a decision of this module): when every demand is
 *    met and units are left over, the leftover is spread equally over all
 *    parties (the division remainder one unit each to the first parties).
 *    A core or node whose traffic suddenly grows can use its extra share on
 *    the very next packet instead of waiting a tick for a new split, and
 *    the aggregate still never exceeds T.
 *
 * Guarantees, for every input (n >= 1):
 * - sum(out) == T exactly (hence never more), with no overflow for any
 *   values up to UINT64_MAX (sums are kept in 128 bits);
 * - out[i] >= min(f[i], T / n); out[i] >= f[i] whenever sum f <= T;
 * - while some party is below its demand, nobody gets more than
 *   max(d[j], f[j]), and for any i with out[i] < d[i] and any j:
 *   out[j] <= max(out[i] + 1, f[j]) (the +1 is a remainder unit);
 * - the result depends on the order of the parties only through which
 *   parties get the remainder units (at most 1 unit each).
 *
 * No allocation and no scratch buffer: the level is found by binary search,
 * each probe a pass over the parties, so the cost is O(n log2(min(T, max
 * demand))) <= O(64 n). Control thread (or tools); never a worker.
 */
#ifndef TG_ALLOC_H
#define TG_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/**
 * Splits @p total over @p n parties, max-min fair by demand, with floors.
 * @param total units to hand out (msg/s, bytes/s, tokens, any integer unit).
 * @param demand n demands, same unit; borrowed, read only.
 * @param floors n floors, same unit, or NULL for no floors; borrowed.
 * @param n number of parties; 0 is valid and writes nothing.
 * @param out n results, written by this call; must not overlap the inputs.
 * @return 0, or -EINVAL if n > 0 and @p demand or @p out is NULL.
 * Control thread.
 */
int alloc_maxmin(uint64_t total, const uint64_t *demand,
		 const uint64_t *floors, size_t n, uint64_t *out);

/**
 * The same split for rates held as doubles (per-second rates computed by the
 * control loop). The rates are scaled to integer units of u = 2^k, the
 * largest power of two for which total / u is an integer below 2^53 (so
 * total is exactly a whole number of units); demands and the floor are
 * rounded up to whole units (and capped at total), which may make them up
 * to u larger. Every
 * out[i] is an exact multiple of u, and the exact sum of out[] is exactly
 * @p total, so summing out[] in doubles, in any order, gives total with no
 * rounding and never more.
 * @param total rate to hand out, finite and >= 0.
 * @param demand n demand rates, finite and >= 0; borrowed.
 * @param floor_rate one floor for every party, finite and >= 0.
 * @param n number of parties; 0 is valid and writes nothing.
 * @param out n results; must not overlap @p demand.
 * @return 0, or -EINVAL for a NULL array with n > 0 or a negative or
 *         non-finite value (@p out is then untouched).
 * Control thread.
 */
int alloc_maxmin_rates(double total, const double *demand,
		       double floor_rate, size_t n, double *out);

#endif /* TG_ALLOC_H */
