/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core consumer table: insert, lookup and remove; a full table; keys
 * that only differ in their address family; randomized churn against a
 * reference, with a good hash and with a clustering one; backward-shift
 * deletion inside and across clusters and across the end of the array;
 * the incremental aging sweep (budget, wrap-around, idle boundary); the
 * probe bound; capacities 1 and 1M; allocator failure; iteration.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"
#include "unit.h"

/* A distinct key per index: even indexes IPv4 (v4-mapped), odd ones IPv6. */
static void key_of(uint32_t i, uint8_t key[CTAB_KEY_LEN])
{
	if (i % 2 == 0) {
		uint8_t a[4] = { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				 (uint8_t)i };

		ctab_key_v4(key, a);
	} else {
		static const uint8_t pfx[8] = { 0x20, 0x01, 0x0d, 0xb8 };

		memcpy(key, pfx, 8);
		memset(key + 8, 0, 4);
		key[12] = (uint8_t)(i >> 24);
		key[13] = (uint8_t)(i >> 16);
		key[14] = (uint8_t)(i >> 8);
		key[15] = (uint8_t)i;
	}
}

static uint32_t hash_of(uint32_t i)
{
	uint8_t k[CTAB_KEY_LEN];

	key_of(i, k);
	return ctab_hash(k);
}

/* The smallest hash whose home slot is `slot`. */
static uint32_t hash_for_home(const struct ctab *t, uint32_t slot)
{
	uint64_t h = (((uint64_t)slot << 32) + t->n_slots - 1) / t->n_slots;

	return (uint32_t)h;
}

/* The slot of an entry; UINT32_MAX (no slot) for NULL. */
static uint32_t slot_of(const struct ctab *t, const struct ctab_entry *e)
{
	return e == NULL ? UINT32_MAX : (uint32_t)(e - t->slots);
}

/* Insert key i with the given hash; the entry's bucket records i. */
static struct ctab_entry *put(struct ctab *t, uint32_t i, uint32_t hash,
			      uint64_t last)
{
	uint8_t k[CTAB_KEY_LEN];
	struct ctab_entry *e;
	bool ins = false;

	key_of(i, k);
	e = ctab_get(t, k, hash, (uint16_t)i, &ins);
	if (e != NULL && ins) {
		e->tb.tokens = i;
		e->tb.frac = 0;
		e->tb.last = last;
	}
	return e;
}

static struct ctab_entry *get(struct ctab *t, uint32_t i, uint32_t hash)
{
	uint8_t k[CTAB_KEY_LEN];

	key_of(i, k);
	return ctab_lookup(t, k, hash);
}

static int del(struct ctab *t, uint32_t i, uint32_t hash)
{
	uint8_t k[CTAB_KEY_LEN];

	key_of(i, k);
	return ctab_remove(t, k, hash);
}

/* key i is present, with its own bucket and profile */
static int found(struct ctab *t, uint32_t i, uint32_t hash)
{
	struct ctab_entry *e = get(t, i, hash);

	return e != NULL && e->tb.tokens == i && e->profile == (uint16_t)i;
}

static void test_insert_lookup_remove(void)
{
	struct ctab *t = ctab_create(100, NULL);
	struct ctab_entry *e;
	uint8_t k[CTAB_KEY_LEN];
	bool ins = false;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(ctab_count(t), 0);
	CU_ASSERT_EQUAL(ctab_capacity(t), 100);
	key_of(7, k);
	CU_ASSERT_PTR_NULL(ctab_lookup(t, k, ctab_hash(k)));
	e = ctab_get(t, k, ctab_hash(k), 3, &ins);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_TRUE(ins);
	/* a new entry: its key and profile set, its bucket zeroed */
	CU_ASSERT_EQUAL(memcmp(e->key, k, CTAB_KEY_LEN), 0);
	CU_ASSERT_EQUAL(e->profile, 3);
	CU_ASSERT_EQUAL(e->tb.tokens, 0);
	CU_ASSERT_EQUAL(e->tb.frac, 0);
	CU_ASSERT_EQUAL(e->tb.last, 0);
	CU_ASSERT_PTR_EQUAL(ctab_lookup(t, k, ctab_hash(k)), e);
	CU_ASSERT_EQUAL(ctab_count(t), 1);
	CU_ASSERT_EQUAL(ctab_remove(t, k, ctab_hash(k)), 0);
	CU_ASSERT_PTR_NULL(ctab_lookup(t, k, ctab_hash(k)));
	CU_ASSERT_EQUAL(ctab_remove(t, k, ctab_hash(k)), -ENOENT);
	CU_ASSERT_EQUAL(ctab_count(t), 0);

	for (i = 0; i < 100; i++)
		CU_ASSERT_PTR_NOT_NULL(put(t, i, hash_of(i), 1));
	for (i = 0; i < 100; i++)
		CU_ASSERT_TRUE(found(t, i, hash_of(i)));
	CU_ASSERT_PTR_NULL(get(t, 100, hash_of(100)));
	for (i = 0; i < 100; i += 2)
		CU_ASSERT_EQUAL(del(t, i, hash_of(i)), 0);
	for (i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(get(t, i, hash_of(i)) != NULL, i % 2 == 1);
	CU_ASSERT_EQUAL(ctab_count(t), 50);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/* the home slot is the address to prefetch: a key alone sits there */
static void test_prefetch_slot_is_home(void)
{
	struct ctab *t = ctab_create(1000, NULL);
	struct ctab_entry *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	e = put(t, 5, hash_of(5), 0);
	CU_ASSERT_PTR_EQUAL(ctab_prefetch_slot(t, hash_of(5)), e);
	CU_ASSERT_EQUAL(slot_of(t, e), ctab_home(t, hash_of(5)));
	CU_ASSERT_PTR_EQUAL(ctab_prefetch_slot(t, 0), &t->slots[0]);
	CU_ASSERT_PTR_EQUAL(ctab_prefetch_slot(t, UINT32_MAX),
			    &t->slots[t->n_slots - 1]);
	ctab_free(t);
}

static void test_same_key_twice_same_entry(void)
{
	struct ctab *t = ctab_create(10, NULL);
	struct ctab_entry *a, *b;
	uint8_t k[CTAB_KEY_LEN];
	bool ins = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	key_of(42, k);
	a = ctab_get(t, k, ctab_hash(k), 1, &ins);
	CU_ASSERT_TRUE(ins);
	a->tb.tokens = 99;
	/* the second get finds it: not inserted, profile and bucket kept */
	b = ctab_get(t, k, ctab_hash(k), 2, &ins);
	CU_ASSERT_PTR_EQUAL(a, b);
	CU_ASSERT_FALSE(ins);
	CU_ASSERT_EQUAL(b->profile, 1);
	CU_ASSERT_EQUAL(b->tb.tokens, 99);
	CU_ASSERT_EQUAL(ctab_count(t), 1);
	/* inserted may be NULL */
	CU_ASSERT_PTR_EQUAL(ctab_get(t, k, ctab_hash(k), 2, NULL), a);
	ctab_free(t);
}

/* ::ffff:192.0.2.1, ::192.0.2.1, 192.0.2.1:: and 2001:db8::c000:201 are
 * four consumers, with their own hashes or all with the same one */
static void test_v4_mapped_and_v6_distinct(void)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	uint8_t k[4][CTAB_KEY_LEN];
	struct ctab_entry *e[4];
	uint32_t pass, i, j;

	memset(k, 0, sizeof(k));
	ctab_key_v4(k[0], v4);
	memcpy(k[1] + 12, v4, 4);
	memcpy(k[2], v4, 4);
	k[3][0] = 0x20;
	k[3][1] = 0x01;
	k[3][2] = 0x0d;
	k[3][3] = 0xb8;
	memcpy(k[3] + 12, v4, 4);
	CU_ASSERT_EQUAL(k[0][10], 0xff);
	CU_ASSERT_EQUAL(k[0][11], 0xff);
	CU_ASSERT_EQUAL(memcmp(k[0] + 12, v4, 4), 0);
	for (pass = 0; pass < 2; pass++) {
		struct ctab *t = ctab_create(8, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		for (i = 0; i < 4; i++) {
			uint32_t h = pass ? 42 : ctab_hash(k[i]);
			bool ins = false;

			e[i] = ctab_get(t, k[i], h, (uint16_t)i, &ins);
			CU_ASSERT_PTR_NOT_NULL_FATAL(e[i]);
			CU_ASSERT_TRUE(ins);
		}
		CU_ASSERT_EQUAL(ctab_count(t), 4);
		for (i = 0; i < 4; i++) {
			uint32_t h = pass ? 42 : ctab_hash(k[i]);
			struct ctab_entry *f = ctab_lookup(t, k[i], h);

			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			CU_ASSERT_EQUAL(f->profile, i);
			for (j = 0; j < i; j++)
				CU_ASSERT_NOT_EQUAL(
					memcmp(k[i], k[j], CTAB_KEY_LEN), 0);
		}
		CU_ASSERT_EQUAL(ctab_validate(t), 0);
		ctab_free(t);
	}
	CU_ASSERT_NOT_EQUAL(ctab_hash(k[0]), ctab_hash(k[1]));
	CU_ASSERT_NOT_EQUAL(ctab_hash(k[0]), ctab_hash(k[2]));
	CU_ASSERT_NOT_EQUAL(ctab_hash(k[0]), ctab_hash(k[3]));
}

static void test_full_table(void)
{
	const uint32_t cap = 300;
	struct ctab *t = ctab_create(cap, NULL);
	uint8_t k[CTAB_KEY_LEN];
	bool ins = true;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < cap; i++)
		CU_ASSERT_PTR_NOT_NULL(put(t, i, hash_of(i), 1));
	CU_ASSERT_EQUAL(ctab_count(t), cap);
	/* full: a new key is not inserted, however often it is tried */
	for (i = cap; i < 3 * cap; i++) {
		key_of(i, k);
		CU_ASSERT_PTR_NULL(ctab_get(t, k, ctab_hash(k), 0, &ins));
		CU_ASSERT_FALSE(ins);
		CU_ASSERT_PTR_NULL(ctab_lookup(t, k, ctab_hash(k)));
		CU_ASSERT_EQUAL(ctab_count(t), cap);
	}
	/* ...but the keys already in are still found by get */
	for (i = 0; i < cap; i++) {
		key_of(i, k);
		CU_ASSERT_PTR_NOT_NULL(ctab_get(t, k, ctab_hash(k), 0, &ins));
		CU_ASSERT_FALSE(ins);
		CU_ASSERT_TRUE(found(t, i, hash_of(i)));
	}
	/* one out, one in */
	CU_ASSERT_EQUAL(del(t, 17, hash_of(17)), 0);
	CU_ASSERT_PTR_NOT_NULL(put(t, cap, hash_of(cap), 1));
	CU_ASSERT_PTR_NULL(put(t, cap + 1, hash_of(cap + 1), 1));
	CU_ASSERT_EQUAL(ctab_count(t), cap);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

static void test_capacity_one(void)
{
	struct ctab *t = ctab_create(1, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(ctab_capacity(t), 1);
	CU_ASSERT_PTR_NOT_NULL(put(t, 1, hash_of(1), 0));
	CU_ASSERT_PTR_NULL(put(t, 2, hash_of(2), 0));
	CU_ASSERT_TRUE(found(t, 1, hash_of(1)));
	CU_ASSERT_EQUAL(del(t, 1, hash_of(1)), 0);
	CU_ASSERT_PTR_NOT_NULL(put(t, 2, hash_of(2), 0));
	CU_ASSERT_PTR_NULL(get(t, 1, hash_of(1)));
	CU_ASSERT_TRUE(found(t, 2, hash_of(2)));
	/* the same with both keys on one home: the second slot stays empty */
	CU_ASSERT_EQUAL(del(t, 2, hash_of(2)), 0);
	CU_ASSERT_PTR_NOT_NULL(put(t, 1, UINT32_MAX, 0));
	CU_ASSERT_PTR_NULL(put(t, 2, UINT32_MAX, 0));
	CU_ASSERT_EQUAL(ctab_count(t), 1);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/*
 * 100k random gets, removes and lookups over 3000 keys in a table of 2000,
 * cross-checked against a plain presence array: every present key found
 * with its own bucket, every removed key absent, the count exact, the
 * table full exactly when the reference is. With clustered == true all
 * keys share 40 hashes, so runs are long and merge into each other.
 */
static void churn(bool clustered)
{
	enum { KEYS = 3000, CAP = 2000, OPS = 100000 };
	static bool present[KEYS];
	struct ctab *t = ctab_create(CAP, NULL);
	uint64_t seed = clustered ? 0x1234567 : 0x9abcdef;
	uint32_t n = 0, op, i, full = 0, max_dist = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	memset(present, 0, sizeof(present));
	for (op = 0; op < OPS; op++) {
		uint64_t r = unit_rand(&seed);
		uint32_t k = (uint32_t)(r >> 8) % KEYS;
		uint32_t h = clustered ? (k % 40) * 0x06666666u : hash_of(k);
		unsigned what = (unsigned)(r & 0xff) % 100;

		if (what < 50) {
			struct ctab_entry *e = put(t, k, h, op);

			if (present[k]) {
				CU_ASSERT_TRUE(found(t, k, h));
			} else if (n < CAP) {
				CU_ASSERT_PTR_NOT_NULL(e);
				present[k] = true;
				n++;
			} else {
				CU_ASSERT_PTR_NULL(e);
				full++;
			}
		} else if (what < 80) {
			CU_ASSERT_EQUAL(del(t, k, h), present[k] ? 0 : -ENOENT);
			n -= present[k];
			present[k] = false;
		} else {
			CU_ASSERT_EQUAL(found(t, k, h), present[k]);
			if (!present[k])
				CU_ASSERT_PTR_NULL(get(t, k, h));
		}
		CU_ASSERT_EQUAL(ctab_count(t), n);
		if (op % 5000 == 4999) {
			for (i = 0; i < KEYS; i++) {
				uint32_t hi = clustered ?
						      (i % 40) * 0x06666666u :
						      hash_of(i);

				CU_ASSERT_EQUAL(found(t, i, hi), present[i]);
			}
			for (i = 0; i < t->n_slots; i++)
				if (t->slots[i].dist > max_dist)
					max_dist = t->slots[i].dist;
			CU_ASSERT_EQUAL(ctab_validate(t), 0);
		}
	}
	/* the run did reach a full table, and long runs when clustered */
	CU_ASSERT(full > 1000);
	CU_ASSERT(max_dist >= (clustered ? 40u : 5u));
	ctab_free(t);
}

static void test_churn_against_reference(void)
{
	churn(false);
}

static void test_churn_clustered_hashes(void)
{
	churn(true);
}

/* 40 keys on one home fill the next 40 slots in order; removing any of
 * them shifts the rest back, keeping the run contiguous from the home */
static void test_backward_shift_one_cluster(void)
{
	static const uint32_t order[] = { 20, 0, 39, 1, 38, 10, 11, 12, 2 };
	struct ctab *t = ctab_create(100, NULL);
	uint32_t h, home, i, j, left = 40;
	bool gone[40] = { false };

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	home = 60;
	h = hash_for_home(t, home);
	CU_ASSERT_EQUAL(ctab_home(t, h), home);
	for (i = 0; i < 40; i++) {
		struct ctab_entry *e = put(t, i, h, 0);

		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		CU_ASSERT_EQUAL(slot_of(t, e), home + i);
		CU_ASSERT_EQUAL(e->dist, i + 1);
	}
	for (j = 0; j < TG_ARRAY_SIZE(order); j++) {
		uint32_t rank = 0;

		CU_ASSERT_EQUAL(del(t, order[j], h), 0);
		gone[order[j]] = true;
		left--;
		/* the survivors keep their order and close the gap */
		for (i = 0; i < 40; i++) {
			struct ctab_entry *e = get(t, i, h);

			if (gone[i]) {
				CU_ASSERT_PTR_NULL(e);
				continue;
			}
			CU_ASSERT_PTR_NOT_NULL_FATAL(e);
			CU_ASSERT_EQUAL(e->tb.tokens, i);
			CU_ASSERT_EQUAL(slot_of(t, e), home + rank);
			rank++;
		}
		CU_ASSERT_EQUAL(t->slots[home + left].dist, 0);
		CU_ASSERT_EQUAL(ctab_count(t), left);
		CU_ASSERT_EQUAL(ctab_validate(t), 0);
	}
	ctab_free(t);
}

/* a cluster whose home is the last slot wraps to slot 0 and shifts back
 * across the end of the array */
static void test_backward_shift_across_the_end(void)
{
	struct ctab *t = ctab_create(100, NULL);
	uint32_t last, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	last = t->n_slots - 1;
	CU_ASSERT_EQUAL(ctab_home(t, UINT32_MAX), last);
	for (i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(slot_of(t, put(t, i, UINT32_MAX, 0)),
				i == 0 ? last : i - 1);
	/* a key homed at slot 3 goes after the wrapped run */
	CU_ASSERT_EQUAL(slot_of(t, put(t, 100, hash_for_home(t, 3), 0)), 9);
	CU_ASSERT_EQUAL(del(t, 0, UINT32_MAX), 0);
	for (i = 1; i < 10; i++)
		CU_ASSERT_EQUAL(slot_of(t, get(t, i, UINT32_MAX)),
				i == 1 ? last : i - 2);
	CU_ASSERT_EQUAL(slot_of(t, get(t, 100, hash_for_home(t, 3))), 8);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	for (i = 1; i < 10; i++)
		CU_ASSERT_EQUAL(del(t, i, UINT32_MAX), 0);
	/* back home, and the rest of the array empty */
	CU_ASSERT_EQUAL(slot_of(t, get(t, 100, hash_for_home(t, 3))), 3);
	CU_ASSERT_EQUAL(t->slots[last].dist, 0);
	CU_ASSERT_EQUAL(ctab_count(t), 1);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/*
 * Robin Hood across clusters: A (5 keys, home 10) then B (5 keys, home 12)
 * then C (home 30). B runs after A; removing A pulls B back to its home
 * and stops there; C never moves.
 */
static void test_backward_shift_between_clusters(void)
{
	struct ctab *t = ctab_create(100, NULL);
	uint32_t ha, hb, hc, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	ha = hash_for_home(t, 10);
	hb = hash_for_home(t, 12);
	hc = hash_for_home(t, 30);
	for (i = 0; i < 5; i++)
		put(t, 100 + i, hb, 0);
	for (i = 0; i < 5; i++)
		put(t, i, ha, 0);
	put(t, 200, hc, 0);
	/* A, inserted last, still comes first: it is farther from home */
	for (i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(slot_of(t, get(t, i, ha)), 10 + i);
		CU_ASSERT_EQUAL(slot_of(t, get(t, 100 + i, hb)), 15 + i);
	}
	CU_ASSERT_EQUAL(slot_of(t, get(t, 200, hc)), 30);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(del(t, 4 - i, ha), 0);
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(slot_of(t, get(t, 100 + i, hb)), 12 + i);
	CU_ASSERT_EQUAL(t->slots[10].dist, 0);
	CU_ASSERT_EQUAL(t->slots[11].dist, 0);
	CU_ASSERT_EQUAL(t->slots[17].dist, 0);
	CU_ASSERT_EQUAL(slot_of(t, get(t, 200, hc)), 30);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/*
 * No entry ever sits more than CTAB_PROBE_MAX slots from home: keys made to
 * collide fail like a full table, whether the new key itself would be too
 * far or would push the end of a run too far; other keys still go in.
 */
static void test_probe_bound(void)
{
	struct ctab *t = ctab_create(1000, NULL);
	uint32_t h9, h10, hfar, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	h9 = hash_for_home(t, 9);
	h10 = hash_for_home(t, 10);
	hfar = hash_for_home(t, 10 + CTAB_PROBE_MAX + 10);
	CU_ASSERT_EQUAL(slot_of(t, put(t, 1000, h9, 0)), 9);
	for (i = 0; i < CTAB_PROBE_MAX; i++)
		CU_ASSERT_PTR_NOT_NULL(put(t, i, h10, 0));
	/* the next key of home 10 would sit CTAB_PROBE_MAX + 1 from home */
	CU_ASSERT_PTR_NULL(put(t, CTAB_PROBE_MAX, h10, 0));
	/* a second key of home 9 would take slot 10 and push the run's last
	 * entry to CTAB_PROBE_MAX + 1 */
	CU_ASSERT_PTR_NULL(put(t, 5000, h9, 0));
	CU_ASSERT_EQUAL(ctab_count(t), CTAB_PROBE_MAX + 1);
	/* a key homed past the run goes in */
	CU_ASSERT_PTR_NOT_NULL(put(t, 5001, hfar, 0));
	for (i = 0; i < CTAB_PROBE_MAX; i++)
		CU_ASSERT_TRUE(found(t, i, h10));
	CU_ASSERT_TRUE(found(t, 1000, h9));
	CU_ASSERT_TRUE(found(t, 5001, hfar));
	CU_ASSERT_PTR_NULL(get(t, CTAB_PROBE_MAX, h10));
	CU_ASSERT_PTR_NULL(get(t, 5000, h9));
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	/* one out of the run makes room for the key of home 9, at slot 10,
	 * and home 10's run is at the bound again */
	CU_ASSERT_EQUAL(del(t, 3, h10), 0);
	CU_ASSERT_EQUAL(slot_of(t, put(t, 5000, h9, 0)), 10);
	CU_ASSERT_PTR_NULL(put(t, CTAB_PROBE_MAX, h10, 0));
	CU_ASSERT_EQUAL(ctab_count(t), CTAB_PROBE_MAX + 2);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/* run the sweep until it has covered the table twice (a bound the header
 * promises), checking that each call does at most `budget` slots of work:
 * the sweep moves on by exactly budget - removed slots */
static unsigned age_rounds(struct ctab *t, uint64_t now, uint64_t idle,
			   unsigned budget)
{
	unsigned calls = 2 * (t->n_slots + budget - 1) / budget + 1;
	unsigned total = 0, c;

	for (c = 0; c < calls; c++) {
		uint32_t before = t->sweep, count = ctab_count(t);
		unsigned r = ctab_age(t, now, idle, budget);
		uint32_t moved = (t->sweep + t->n_slots - before) % t->n_slots;

		CU_ASSERT(r <= budget);
		CU_ASSERT_EQUAL(ctab_count(t), count - r);
		if (count != 0)
			CU_ASSERT_EQUAL(moved, (budget - r) % t->n_slots);
		total += r;
	}
	return total;
}

static void test_age_idle_go_recent_stay(void)
{
	const uint64_t t0 = 1000, idle = 3000;
	struct ctab *t = ctab_create(1000, NULL);
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 1000; i++)
		put(t, i, hash_of(i), t0);
	/* nothing is idle yet: a full sweep removes nothing */
	CU_ASSERT_EQUAL(age_rounds(t, t0 + idle, idle, 32), 0);
	CU_ASSERT_EQUAL(ctab_count(t), 1000);
	/* the even ones are seen again */
	for (i = 0; i < 1000; i += 2) {
		struct ctab_entry *e = get(t, i, hash_of(i));

		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		e->tb.last = t0 + 4000;
	}
	CU_ASSERT_EQUAL(age_rounds(t, t0 + 5000, idle, 32), 500);
	for (i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL(found(t, i, hash_of(i)), i % 2 == 0);
	CU_ASSERT_EQUAL(ctab_count(t), 500);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	/* idle exactly the timeout stays; one cycle more goes */
	CU_ASSERT_EQUAL(age_rounds(t, t0 + 4000 + idle, idle, 32), 0);
	CU_ASSERT_EQUAL(age_rounds(t, t0 + 4000 + idle + 1, idle, 7), 500);
	CU_ASSERT_EQUAL(ctab_count(t), 0);
	CU_ASSERT_EQUAL(ctab_age(t, UINT64_MAX, 0, 32), 0);
	ctab_free(t);
}

/* a budget of 0 does nothing; a bucket ahead of `now` is fresh; the clock
 * wrapping around 2^64 is a small step like any other */
static void test_age_budget_and_clock(void)
{
	struct ctab *t = ctab_create(50, NULL);
	uint32_t i, left;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; i < 50; i++)
		put(t, i, hash_of(i), i < 25 ? 1000 : UINT64_MAX - 5);
	CU_ASSERT_EQUAL(ctab_age(t, 1000000, 10, 0), 0);
	CU_ASSERT_EQUAL(t->sweep, 0);
	/* at now = 100: the first 25 are ahead (fresh), the other 25 were
	 * seen 106 cycles ago, across the wrap */
	CU_ASSERT_EQUAL(age_rounds(t, 100, 200, 16), 0);
	CU_ASSERT_EQUAL(age_rounds(t, 100, 105, 16), 25);
	for (i = 0; i < 50; i++)
		CU_ASSERT_EQUAL(found(t, i, hash_of(i)), i < 25);
	/* with everything idle, a budget of 1 removes one per call at most */
	for (i = 0; i < 25; i++)
		CU_ASSERT(ctab_age(t, 5000, 10, 1) <= 1);
	left = ctab_count(t);
	CU_ASSERT(left < 25);
	CU_ASSERT_EQUAL(age_rounds(t, 5000, 10, 1), left);
	CU_ASSERT_EQUAL(ctab_count(t), 0);
	ctab_free(t);
}

/*
 * The sweep wraps around the end of the array, and a removal that pulls
 * the rest of a run back (here across the end of the array) has those
 * entries examined in the same call: a 10-key idle run homed at the last
 * slot goes entirely in one call that starts three slots before it.
 */
static void test_age_wraps_around(void)
{
	struct ctab *t = ctab_create(100, NULL);
	uint32_t last, i, c;
	unsigned r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	last = t->n_slots - 1;
	for (i = 0; i < 10; i++)
		put(t, i, UINT32_MAX, 10); /* slots last, 0..8: idle later */
	for (i = 10; i < 20; i++)
		put(t, i, hash_for_home(t, 40 + 3 * i), 5000); /* fresh */
	/* walk the sweep, without removing anything, to three slots before
	 * the end: it advances by exactly the budget and wraps */
	for (c = 0; c < t->n_slots; c++) {
		uint32_t before = t->sweep;

		if (before == last - 3)
			break;
		CU_ASSERT_EQUAL(ctab_age(t, 5000, 1000000, 1), 0);
		CU_ASSERT_EQUAL(t->sweep, before == last ? 0 : before + 1);
	}
	CU_ASSERT_EQUAL_FATAL(t->sweep, last - 3);
	/* 3 empty slots, 10 removals at the last slot, then the emptied last
	 * slot and 6 more: 20 slots of work, across the end */
	r = ctab_age(t, 5000, 1000, 20);
	CU_ASSERT_EQUAL(r, 10);
	CU_ASSERT_EQUAL(t->sweep, 6);
	for (i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(found(t, i, i < 10 ? UINT32_MAX :
						       hash_for_home(t, 40 + 3 * i)),
				i >= 10);
	CU_ASSERT_EQUAL(ctab_count(t), 10);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/* an idle run with fresh entries in between: the sweep removes exactly the
 * idle ones and the fresh ones stay reachable in their new slots */
static void test_age_mixed_run(void)
{
	struct ctab *t = ctab_create(100, NULL);
	uint32_t h, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	h = hash_for_home(t, 20);
	for (i = 0; i < 30; i++)
		put(t, i, h, i % 3 == 0 ? 900 : 10);
	CU_ASSERT_EQUAL(ctab_age(t, 1000, 500, t->n_slots), 20);
	for (i = 0; i < 30; i++)
		CU_ASSERT_EQUAL(found(t, i, h), i % 3 == 0);
	for (i = 0; i < 30; i += 3)
		CU_ASSERT_EQUAL(slot_of(t, get(t, i, h)), 20 + i / 3);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

/* 1M consumers: all fit (no probe bound hit with a good hash), at 64 bytes
 * each, 1M in 64 MiB */
static void test_capacity_one_million(void)
{
	const uint32_t cap = 1000000;
	struct ctab *t = ctab_create(cap, NULL);
	uint8_t k[CTAB_KEY_LEN];
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(t->n_slots, 1333334);
	CU_ASSERT(ctab_bytes(t) <= (size_t)64 << 20);
	CU_ASSERT_EQUAL(ctab_bytes(t) / cap, 64);
	/* 64 per consumer, plus the header and rounding: 128 bytes */
	CU_ASSERT(ctab_bytes(t) <= (size_t)64 * cap + 128);
	for (i = 0; i < cap; i++)
		if (put(t, i, hash_of(i), 1) == NULL)
			break;
	CU_ASSERT_EQUAL(i, cap);
	CU_ASSERT_EQUAL(ctab_count(t), cap);
	CU_ASSERT_PTR_NULL(put(t, cap, hash_of(cap), 1));
	key_of(cap, k);
	CU_ASSERT_PTR_NULL(ctab_get(t, k, ctab_hash(k), 0, NULL));
	for (i = 0; i < cap; i++)
		if (!found(t, i, hash_of(i)))
			break;
	CU_ASSERT_EQUAL(i, cap);
	CU_ASSERT_EQUAL(ctab_validate(t), 0);
	ctab_free(t);
}

struct mem_log {
	unsigned allocs, releases;
	size_t size, align;
	void *block;
	bool fail;
};

static void *log_alloc(void *ctx, size_t size, size_t align)
{
	struct mem_log *m = ctx;

	m->allocs++;
	m->size = size;
	m->align = align;
	m->block = m->fail ? NULL : aligned_alloc(align, size);
	return m->block;
}

static void log_release(void *ctx, void *ptr)
{
	struct mem_log *m = ctx;

	m->releases++;
	CU_ASSERT_PTR_EQUAL(ptr, m->block);
	free(ptr);
}

static void test_allocator_and_errors(void)
{
	struct mem_log log = { 0 };
	const struct ctab_mem mem = { log_alloc, log_release, &log };
	const struct ctab_mem half = { log_alloc, NULL, &log };
	struct ctab *t;

	t = ctab_create(1000, &mem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(log.allocs, 1);
	CU_ASSERT_EQUAL(log.size, ctab_bytes(t));
	CU_ASSERT_EQUAL(log.align, 64);
	CU_ASSERT_EQUAL(log.size % log.align, 0);
	CU_ASSERT_EQUAL((uintptr_t)t->slots % 64, 0);
	CU_ASSERT_PTR_NOT_NULL(put(t, 1, hash_of(1), 0));
	ctab_free(t);
	CU_ASSERT_EQUAL(log.releases, 1);

	log.fail = true;
	errno = 0;
	CU_ASSERT_PTR_NULL(ctab_create(1000, &mem));
	CU_ASSERT_EQUAL(errno, ENOMEM);
	CU_ASSERT_EQUAL(log.allocs, 2);
	CU_ASSERT_EQUAL(log.releases, 1);

	errno = 0;
	CU_ASSERT_PTR_NULL(ctab_create(0, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(ctab_create(CTAB_CAPACITY_MAX + 1, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(ctab_create(10, &half));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_EQUAL(log.allocs, 2);
	ctab_free(NULL);
}

struct visit {
	uint8_t seen[600];
	unsigned calls, stop_after;
};

static int visit_fn(struct ctab_entry *e, void *arg)
{
	struct visit *v = arg;

	v->calls++;
	if (e->tb.tokens < TG_ARRAY_SIZE(v->seen))
		v->seen[e->tb.tokens]++;
	e->profile = (uint16_t)(e->profile + 1000); /* re-point */
	return v->calls == v->stop_after ? 7 : 0;
}

static void test_foreach_visits_each_once(void)
{
	struct ctab *t = ctab_create(600, NULL);
	struct visit v;
	uint32_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	memset(&v, 0, sizeof(v));
	CU_ASSERT_EQUAL(ctab_foreach(t, visit_fn, &v), 0);
	CU_ASSERT_EQUAL(v.calls, 0);
	for (i = 0; i < 600; i++)
		put(t, i, i < 100 ? 12345 : hash_of(i), 0);
	for (i = 0; i < 600; i += 3)
		del(t, i, i < 100 ? 12345 : hash_of(i));
	CU_ASSERT_EQUAL(ctab_foreach(t, visit_fn, &v), 0);
	CU_ASSERT_EQUAL(v.calls, 400);
	for (i = 0; i < 600; i++) {
		struct ctab_entry *e = get(t, i, i < 100 ? 12345 : hash_of(i));

		CU_ASSERT_EQUAL(v.seen[i], i % 3 != 0);
		if (e != NULL)
			CU_ASSERT_EQUAL(e->profile, (uint16_t)(i + 1000));
	}
	/* a non-zero return stops the walk and is passed on */
	memset(&v, 0, sizeof(v));
	v.stop_after = 10;
	CU_ASSERT_EQUAL(ctab_foreach(t, visit_fn, &v), 7);
	CU_ASSERT_EQUAL(v.calls, 10);
	ctab_free(t);
}

/* sequential addresses spread evenly: 65536 keys over 256 home ranges,
 * each within 25% of the mean (4 standard deviations) */
static void test_hash_spreads_sequential_keys(void)
{
	static unsigned bins[256];
	unsigned i, lo = UINT32_MAX, hi = 0;

	memset(bins, 0, sizeof(bins));
	for (i = 0; i < 65536; i++) {
		uint8_t a[4] = { 192, 168, (uint8_t)(i >> 8), (uint8_t)i };
		uint8_t k[CTAB_KEY_LEN];

		ctab_key_v4(k, a);
		bins[ctab_hash(k) >> 24]++;
	}
	for (i = 0; i < 256; i++) {
		lo = bins[i] < lo ? bins[i] : lo;
		hi = bins[i] > hi ? bins[i] : hi;
	}
	CU_ASSERT(lo >= 192);
	CU_ASSERT(hi <= 320);
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("consumer_table", NULL, NULL);

	if (!s)
		return CU_get_error();
	if (!CU_add_test(s, "insert, lookup, remove",
			 test_insert_lookup_remove) ||
	    !CU_add_test(s, "prefetch slot is the home slot",
			 test_prefetch_slot_is_home) ||
	    !CU_add_test(s, "same key twice, same entry",
			 test_same_key_twice_same_entry) ||
	    !CU_add_test(s, "v4-mapped and v6 keys distinct",
			 test_v4_mapped_and_v6_distinct) ||
	    !CU_add_test(s, "full table inserts nothing",
			 test_full_table) ||
	    !CU_add_test(s, "capacity 1", test_capacity_one) ||
	    !CU_add_test(s, "100k ops churn against a reference",
			 test_churn_against_reference) ||
	    !CU_add_test(s, "100k ops churn, clustered hashes",
			 test_churn_clustered_hashes) ||
	    !CU_add_test(s, "backward shift in one cluster",
			 test_backward_shift_one_cluster) ||
	    !CU_add_test(s, "backward shift across the end",
			 test_backward_shift_across_the_end) ||
	    !CU_add_test(s, "backward shift between clusters",
			 test_backward_shift_between_clusters) ||
	    !CU_add_test(s, "probe bound", test_probe_bound) ||
	    !CU_add_test(s, "aging: idle go, recent stay",
			 test_age_idle_go_recent_stay) ||
	    !CU_add_test(s, "aging: budget and clock",
			 test_age_budget_and_clock) ||
	    !CU_add_test(s, "aging: sweep wraps around",
			 test_age_wraps_around) ||
	    !CU_add_test(s, "aging: mixed run", test_age_mixed_run) ||
	    !CU_add_test(s, "capacity 1M at 64 bytes per consumer",
			 test_capacity_one_million) ||
	    !CU_add_test(s, "allocator and errors",
			 test_allocator_and_errors) ||
	    !CU_add_test(s, "foreach visits each entry once",
			 test_foreach_visits_each_once) ||
	    !CU_add_test(s, "hash spreads sequential keys",
			 test_hash_spreads_sequential_keys))
		return CU_get_error();
	return CUE_SUCCESS;
}
