/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate-bench-ctable: cost and memory of the per-core consumer table
 * (dataplane/ctable.h), against DPDK's rte_hash (plus a data array) doing
 * the same job in the same run.
 *
 * For each table size (default 64K and 1M consumers; any sizes can be given
 * on the command line) the table is filled to capacity, its worst load, and
 * a stream of packet keys is pushed through it the way a worker does: per
 * burst of 32, one clock read, hash every key (CRC32C, as the data plane
 * does, except on the ctab_hash row), prefetch every home slot, then per
 * packet find-or-insert its consumer and take a token from its bucket.
 * Keys are 70% IPv4 (v4-mapped) and 30% IPv6; the stream is Zipf-skewed
 * (s = 0.99, hot consumers scattered over the table) or uniform (every
 * packet a cache miss at 1M). The figures are the median (and the best) of
 * 5 rounds, in nanoseconds and TSC cycles per packet, hashing included.
 *
 * Rows:
 *   zipf hit        every key present; the normal case
 *   zipf no-pf      the same without the prefetch stage
 *   zipf ctab_hash  the same hashed with the portable ctab_hash()
 *   uniform hit     every key present, no skew: the cache-miss bound
 *   churn           Zipf over 1.25x capacity keys, aging (budget 32 per
 *                   burst, idle timeout 8x capacity packets, the stream
 *                   16x capacity packets at least): the table settles
 *                   near 80% full with a few % of packets from a new
 *                   consumer and as many removals; the clock is the
 *                   packet count
 *   full flood      every key new on a full table (spoofed sources): all
 *                   go to the overflow bucket
 * rte_hash rows use rte_hash_lookup_with_hash_bulk_data on the same keys and
 * hashes, the buckets in a separate array indexed by key position.
 *
 * Memory: bytes per consumer (table bytes / capacity), and the process RSS
 * growth (VmRSS from /proc/self/status) across the creation of the table
 * from libc memory, which touches all of it. On the DPDK heap, bytes
 * allocated per table (rte_malloc heap statistics) for both tables.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ctable.h"
#include "tb.h"

#define BURST 32
#define ROUNDS 5
#define STREAM (UINT32_C(1) << 21) /* packet keys per pass */
#define ZIPF_S 0.99

struct key {
	uint8_t b[CTAB_KEY_LEN];
};

/* what rte_hash's data pointer points to: the same per-consumer state */
struct consumer {
	struct tb_state tb;
	uint16_t profile;
};

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* VmRSS of this process in bytes, or 0 */
static uint64_t rss_bytes(void)
{
	char line[256];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * Key number i of a family: distinct for distinct (fam, i). 70% of them
 * IPv4 in fam.0.0.0/8 (a bijection of i below 2^24), the rest IPv6 in
 * 2001:db8::/32 with the family and i in the low bits and random middle.
 */
static void make_key(struct key *k, unsigned fam, uint32_t i)
{
	if (rnd() % 10 < 7) {
		uint32_t v = (i * 2654435761u) & 0xffffff;
		uint8_t a[4] = { (uint8_t)(10 + fam), (uint8_t)(v >> 16),
				 (uint8_t)(v >> 8), (uint8_t)v };

		ctab_key_v4(k->b, a);
	} else {
		uint64_t mid = rnd();

		k->b[0] = 0x20;
		k->b[1] = 0x01;
		k->b[2] = 0x0d;
		k->b[3] = 0xb8;
		memcpy(k->b + 4, &mid, 6);
		k->b[10] = (uint8_t)fam;
		k->b[11] = (uint8_t)(i >> 24);
		k->b[12] = (uint8_t)(i >> 16);
		k->b[13] = (uint8_t)(i >> 8);
		k->b[14] = (uint8_t)i;
		k->b[15] = 0x5a;
	}
}

static uint32_t crc_hash(const struct key *k)
{
	return rte_hash_crc(k->b, CTAB_KEY_LEN, 0);
}

static uint32_t portable_hash(const struct key *k)
{
	return ctab_hash(k->b);
}

/* rte_hash's hash function: the same CRC32C */
static uint32_t crc_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	return rte_hash_crc(key, len, init);
}

/*
 * Fill `out` with n keys drawn from keys[0..m): Zipf(s) over ranks when
 * zipf, uniform otherwise; ranks map to keys through a random permutation
 * so that hot consumers are scattered over the table.
 */
static void make_stream(struct key *out, uint32_t n, const struct key *keys,
			uint32_t m, bool zipf)
{
	uint32_t *perm = malloc(sizeof(*perm) * m);
	double *cdf = zipf ? malloc(sizeof(*cdf) * m) : NULL;
	uint32_t i;

	if (perm == NULL || (zipf && cdf == NULL)) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	for (i = 0; i < m; i++)
		perm[i] = i;
	for (i = m - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd() % (i + 1)), x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	if (zipf) {
		double sum = 0;

		for (i = 0; i < m; i++)
			cdf[i] = sum += pow((double)(i + 1), -ZIPF_S);
		for (i = 0; i < m; i++)
			cdf[i] /= sum;
	}
	for (i = 0; i < n; i++) {
		uint32_t r;

		if (zipf) {
			double u = (double)(rnd() >> 11) * 0x1p-53;
			uint32_t lo = 0, hi = m - 1;

			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (cdf[mid] < u)
					lo = mid + 1;
				else
					hi = mid;
			}
			r = lo;
		} else {
			r = (uint32_t)(rnd() % m);
		}
		out[i] = keys[perm[r]];
	}
	free(perm);
	free(cdf);
}

struct run {
	uint64_t ns, cyc, pkts;
	uint64_t inserted, overflow, aged;
};

enum mode { M_PREFETCH, M_NO_PREFETCH, M_CTAB_HASH, M_CHURN };

static struct tb_profile prof;
static struct tb_state overflow_tb;
static volatile uint64_t sink; /* keeps the admission results alive */

/*
 * One pass of the stream through a ctab, the worker's way. In churn mode the
 * clock is the packet count times 100 (so an idle timeout is a packet
 * count) and the table is aged once per burst.
 */
static void __attribute__((noinline))
pass_ctab(struct ctab *t, const struct key *s, uint32_t n, enum mode mode,
	  uint64_t idle_pkts, uint64_t *clock, struct run *r)
{
	uint64_t t0 = now_ns(), c0 = rte_rdtsc_precise(), adm = 0;
	uint32_t i, j;

	for (i = 0; i + BURST <= n; i += BURST) {
		uint64_t now = mode == M_CHURN ? (*clock += 100 * BURST) :
						 rte_rdtsc();
		uint32_t h[BURST];

		for (j = 0; j < BURST; j++) {
			h[j] = mode == M_CTAB_HASH ? ctab_hash(s[i + j].b) :
						     crc_hash(&s[i + j]);
			if (mode != M_NO_PREFETCH) {
				const char *p = ctab_prefetch_slot(t, h[j]);

				rte_prefetch0(p);
				rte_prefetch0(p + 64);
			}
		}
		for (j = 0; j < BURST; j++) {
			bool ins;
			struct ctab_entry *e =
				ctab_get(t, s[i + j].b, h[j], 0, &ins);
			struct tb_state *b = &overflow_tb;

			if (e != NULL) {
				if (ins) {
					tb_init(&prof, &e->tb, now);
					r->inserted++;
				}
				b = &e->tb;
			} else {
				r->overflow++;
			}
			adm += tb_take(&prof, b, now, 1);
		}
		if (mode == M_CHURN)
			r->aged += ctab_age(t, now, 100 * idle_pkts, 32);
	}
	r->cyc += rte_rdtsc_precise() - c0;
	r->ns += now_ns() - t0;
	r->pkts += n - n % BURST;
	sink += adm;
}

/* The same through rte_hash + a data array (no inserts: every key hits). */
static void __attribute__((noinline))
pass_rte(const struct rte_hash *hs, const struct key *s, uint32_t n,
	 struct run *r)
{
	uint64_t t0 = now_ns(), c0 = rte_rdtsc_precise(), adm = 0;
	uint32_t i, j;

	for (i = 0; i + BURST <= n; i += BURST) {
		uint64_t now = rte_rdtsc();
		const void *kp[BURST];
		hash_sig_t h[BURST];
		void *data[BURST];
		uint64_t hit = 0;

		for (j = 0; j < BURST; j++) {
			kp[j] = s[i + j].b;
			h[j] = crc_hash(&s[i + j]);
		}
		rte_hash_lookup_with_hash_bulk_data(hs, kp, h, BURST, &hit,
						    data);
		for (j = 0; j < BURST; j++) {
			struct tb_state *b = &overflow_tb;

			if (hit & (UINT64_C(1) << j))
				b = &((struct consumer *)data[j])->tb;
			else
				r->overflow++;
			adm += tb_take(&prof, b, now, 1);
		}
	}
	r->cyc += rte_rdtsc_precise() - c0;
	r->ns += now_ns() - t0;
	r->pkts += n - n % BURST;
	sink += adm;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void report(const char *table, const char *row, struct run *rs)
{
	uint64_t ns[ROUNDS], cyc[ROUNDS];
	struct run tot = { 0 };
	unsigned i;

	for (i = 0; i < ROUNDS; i++) {
		ns[i] = rs[i].ns * 1000 / rs[i].pkts; /* picoseconds */
		cyc[i] = rs[i].cyc * 1000 / rs[i].pkts;
		tot.pkts += rs[i].pkts;
		tot.inserted += rs[i].inserted;
		tot.overflow += rs[i].overflow;
		tot.aged += rs[i].aged;
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	qsort(cyc, ROUNDS, sizeof(cyc[0]), cmp_u64);
	printf("  %-8s %-15s %6.1f ns %6.1f cycles (best %5.1f ns %6.1f)",
	       table, row, (double)ns[ROUNDS / 2] / 1000,
	       (double)cyc[ROUNDS / 2] / 1000, (double)ns[0] / 1000,
	       (double)cyc[0] / 1000);
	if (tot.inserted || tot.overflow || tot.aged)
		printf(" insert %.2f%% overflow %.2f%% aged %.2f%%",
		       100.0 * (double)tot.inserted / (double)tot.pkts,
		       100.0 * (double)tot.overflow / (double)tot.pkts,
		       100.0 * (double)tot.aged / (double)tot.pkts);
	printf("\n");
}

static void *heap_alloc(void *ctx, size_t size, size_t align)
{
	(void)ctx;
	return rte_zmalloc_socket("ctab", size, (unsigned)align, SOCKET_ID_ANY);
}

static void heap_release(void *ctx, void *p)
{
	(void)ctx;
	rte_free(p);
}

static size_t heap_used(void)
{
	struct rte_malloc_socket_stats st;
	size_t used = 0;
	unsigned s;

	for (s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats((int)s, &st) == 0)
			used += st.heap_allocsz_bytes;
	return used;
}

static int max_dist_fn(struct ctab_entry *e, void *arg)
{
	unsigned *m = arg;

	if (e->dist > *m)
		*m = e->dist;
	return 0;
}

/* Fill a table with keys[0..n), hashed by hf. Returns 0 or -1. */
static int fill(struct ctab *t, const struct key *keys, uint32_t n,
		uint32_t (*hf)(const struct key *))
{
	uint32_t k;

	for (k = 0; k < n; k++) {
		bool ins;
		struct ctab_entry *e =
			ctab_get(t, keys[k].b, hf(&keys[k]), 0, &ins);

		if (e == NULL) {
			fprintf(stderr, "bench: insert %u of %u failed\n", k,
				n);
			return -1;
		}
		tb_init(&prof, &e->tb, rte_rdtsc());
	}
	return 0;
}

static int bench_size(uint32_t cap, bool with_rte)
{
	const uint32_t extra = cap / 4;
	struct key *keys = malloc(sizeof(*keys) * (cap + extra));
	struct key *zipf = malloc(sizeof(*zipf) * STREAM);
	struct key *unif = malloc(sizeof(*unif) * STREAM);
	const uint32_t churn_len = 16 * cap > STREAM ? 16 * cap : STREAM;
	struct key *churn = malloc(sizeof(*churn) * churn_len);
	struct key *flood = malloc(sizeof(*flood) * STREAM);
	struct run rs[ROUNDS];
	uint64_t rss0, rss1, rss2, clock = 0;
	struct ctab *t, *t2;
	unsigned maxd = 0, i;
	uint32_t k;

	if (!keys || !zipf || !unif || !churn || !flood) {
		fprintf(stderr, "bench: out of memory\n");
		return 1;
	}
	for (k = 0; k < cap + extra; k++)
		make_key(&keys[k], 0, k);
	for (k = 0; k < STREAM; k++)
		make_key(&flood[k], 1, k);
	make_stream(zipf, STREAM, keys, cap, true);
	make_stream(unif, STREAM, keys, cap, false);
	make_stream(churn, churn_len, keys, cap + extra, true);

	/* memory, from libc: creation touches every page */
	rss0 = rss_bytes();
	t = ctab_create(cap, NULL);
	if (t == NULL) {
		perror("bench: ctab_create");
		return 1;
	}
	rss1 = rss_bytes();
	if (fill(t, keys, cap, crc_hash) < 0)
		return 1;
	rss2 = rss_bytes();
	ctab_foreach(t, max_dist_fn, &maxd);
	printf("\n%u consumers (ctab: %u slots, load %.3f, farthest entry %u "
	       "slots from home)\n",
	       cap, t->n_slots, (double)ctab_count(t) / t->n_slots, maxd - 1);
	printf("  memory: %zu B table, %.2f B per consumer bucket; RSS +%.1f "
	       "MiB at create (%.2f B per consumer), +%.1f MiB filling\n",
	       ctab_bytes(t), (double)ctab_bytes(t) / cap,
	       (double)(rss1 - rss0) / 1048576.0,
	       (double)(rss1 - rss0) / cap, (double)(rss2 - rss1) / 1048576.0);

	/* one warm-up pass per row, then ROUNDS measured passes */
#define ROW(tab, name, stream, len, mode)                                      \
	do {                                                                   \
		struct run w = { 0 };                                          \
		pass_ctab(tab, stream, len, mode, 8 * (uint64_t)cap, &clock,   \
			  &w);                                                 \
		memset(rs, 0, sizeof(rs));                                     \
		for (i = 0; i < ROUNDS; i++)                                   \
			pass_ctab(tab, stream, len, mode, 8 * (uint64_t)cap,   \
				  &clock, &rs[i]);                             \
		report("ctab", name, rs);                                      \
	} while (0)
	ROW(t, "zipf hit", zipf, STREAM, M_PREFETCH);
	ROW(t, "zipf no-pf", zipf, STREAM, M_NO_PREFETCH);
	/* the same keys in a table hashed the portable way */
	t2 = ctab_create(cap, NULL);
	if (t2 == NULL || fill(t2, keys, cap, portable_hash) < 0)
		return 1;
	ROW(t2, "zipf ctab_hash", zipf, STREAM, M_CTAB_HASH);
	ctab_free(t2);
	ROW(t, "uniform hit", unif, STREAM, M_PREFETCH);
	ROW(t, "full flood", flood, STREAM, M_PREFETCH);
	/* churn: from a full table, in fake time */
	clock = 1u << 30;
	for (k = 0; k < t->n_slots; k++)
		if (t->slots[k].dist != 0)
			t->slots[k].tb.last = clock;
	ROW(t, "churn", churn, churn_len, M_CHURN);
	maxd = 0;
	ctab_foreach(t, max_dist_fn, &maxd);
	printf("  after churn: %u consumers, farthest entry %u slots from "
	       "home, table %s\n",
	       ctab_count(t), maxd - 1, ctab_validate(t) == 0 ? "valid" :
								"INVALID");
#undef ROW
	ctab_free(t);

	if (with_rte) {
		const struct ctab_mem mem = { heap_alloc, heap_release, NULL };
		struct rte_hash_parameters hp = {
			.name = "bench",
			.entries = cap,
			.key_len = CTAB_KEY_LEN,
			.hash_func = crc_hash_fn,
			.socket_id = (int)rte_socket_id(),
		};
		size_t h0 = heap_used(), h1, h2, h3;
		struct consumer *data;
		struct rte_hash *hs;
		uint32_t added = 0;

		t = ctab_create(cap, &mem);
		h1 = heap_used();
		hs = rte_hash_create(&hp);
		data = rte_zmalloc_socket("data", sizeof(*data) * cap, 64,
					  SOCKET_ID_ANY);
		h2 = heap_used();
		if (t == NULL || hs == NULL || data == NULL) {
			fprintf(stderr, "bench: DPDK heap too small (%s)\n",
				rte_strerror(rte_errno));
			return 1;
		}
		for (k = 0; k < cap; k++) {
			int32_t pos = rte_hash_add_key_with_hash_data(
				hs, keys[k].b, crc_hash(&keys[k]),
				&data[added]);

			if (pos >= 0) {
				tb_init(&prof, &data[added].tb, rte_rdtsc());
				added++;
			}
		}
		h3 = heap_used();
		printf("  DPDK heap: ctab %.2f B per consumer; rte_hash %.2f B "
		       "+ data array %.2f B = %.2f B per consumer (%u of %u "
		       "keys fit)\n",
		       (double)(h1 - h0) / cap,
		       (double)(h2 - h1 - sizeof(*data) * cap) / cap,
		       (double)sizeof(*data),
		       (double)(h2 - h1 + h3 - h2) / cap, added, cap);
		memset(rs, 0, sizeof(rs));
		pass_rte(hs, zipf, STREAM, &rs[0]);
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < ROUNDS; i++)
			pass_rte(hs, zipf, STREAM, &rs[i]);
		report("rte_hash", "zipf hit", rs);
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < ROUNDS; i++)
			pass_rte(hs, unif, STREAM, &rs[i]);
		report("rte_hash", "uniform hit", rs);
		rte_hash_free(hs);
		rte_free(data);
		ctab_free(t);
	}
	free(keys);
	free(zipf);
	free(unif);
	free(churn);
	free(flood);
	return 0;
}

int main(int argc, char **argv)
{
	static const uint32_t dflt[] = { 65536, 1000000 };
	char *eal_args[] = { argv[0],	    "--no-huge",   "--no-pci",
			     "--no-shconf", "-l",	   "0",
			     "-m",	    "1024",	   "--log-level",
			     "lib.*:error", NULL };
	uint64_t t0, c0;
	bool with_rte = true;
	int i, first = 1, rc = 0;

	if (argc > 1 && strcmp(argv[1], "--no-rte-hash") == 0) {
		with_rte = false;
		first = 2;
	}
	/* DPDK first, so its memory is in the RSS before any measurement */
	if (with_rte &&
	    rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])) - 1,
			 eal_args) < 0) {
		fprintf(stderr, "bench: EAL init failed; try --no-rte-hash\n");
		return 1;
	}
	if (tb_profile_init(&prof, TB_MODE_PACKETS, 1e6, 1000, 1000000000) <
	    0)
		return 1;
	tb_init(&prof, &overflow_tb, 0);
	t0 = now_ns();
	c0 = rte_rdtsc_precise();
	while (now_ns() - t0 < 100000000)
		;
	printf("tidegate consumer table: TSC %.3f GHz, burst %d, %u packets "
	       "per pass, median of %d passes; Zipf s = %.2f; keys 70%% IPv4 "
	       "/ 30%% IPv6; hash CRC32C unless said\n",
	       (double)(rte_rdtsc_precise() - c0) / (double)(now_ns() - t0),
	       BURST, STREAM, ROUNDS, ZIPF_S);
	if (argc > first) {
		for (i = first; i < argc && rc == 0; i++)
			rc = bench_size((uint32_t)strtoul(argv[i], NULL, 0),
					with_rte);
	} else {
		for (i = 0; i < 2 && rc == 0; i++)
			rc = bench_size(dflt[i], with_rte);
	}
	if (with_rte)
		rte_eal_cleanup();
	return rc;
}
