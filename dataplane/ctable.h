/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core consumer table: maps a consumer key (a 16-byte address, IPv4
 * stored v4-mapped as ::ffff:a.b.c.d) to the consumer's token bucket state
 * and profile index. One table per worker core, written by that core only:
 * no locks and no atomic read-modify-write anywhere.
 *
 * Layout: one flat array of 48-byte entries, open addressing with linear
 * probing, Robin Hood ordering and backward-shift deletion (no tombstones,
 * so removals and aging never slow lookups down). The slot count is
 * ceil(capacity * 4 / 3), not a power of two, so the load factor never
 * exceeds 0.75 and the memory is 64 bytes per consumer at full capacity.
 * A 32-bit hash, computed by the caller (CRC32C in the data plane,
 * ctab_hash() here), picks the home slot by the multiply-shift range
 * reduction (hash * n_slots) >> 32: no division.
 *
 * Robin Hood invariant: along a run, an entry's distance from its home slot
 * never exceeds the previous slot's distance + 1, so a lookup stops at the
 * first slot whose entry is closer to its home than the probe is to ours
 * (or empty). No entry is ever more than CTAB_PROBE_MAX slots from home:
 * an insert that would break that bound fails like a full table, so the
 * work per lookup stays bounded even under keys crafted to collide.
 *
 * Capacity is fixed at creation and the table never allocates afterwards;
 * memory comes from a caller-supplied allocator (aligned_alloc by default,
 * rte_zmalloc_socket in the data plane), all of it touched at creation so
 * the worker never takes a page fault.
 *
 * Entry pointers move: an insert that creates an entry, ctab_remove() and
 * ctab_age() shift entries by a slot, so a pointer returned by ctab_lookup()
 * or ctab_get() is valid only until the next such call on the same table.
 * Finish with one packet's entry before looking up (and maybe inserting)
 * the next one.
 *
 * Threads: every function is worker only (the table's one writer), except
 * ctab_count(), ctab_capacity() and ctab_bytes(), which any thread may call
 * at any time, and ctab_create()/ctab_free(), called by whoever sets the
 * worker up before it starts or after it stopped.
 */
#ifndef TG_CTABLE_H
#define TG_CTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tb.h"
#include "tg_common.h"

/** Bytes of a consumer key. */
#define CTAB_KEY_LEN 16
/** Largest capacity ctab_create() accepts (the slot index stays 32-bit). */
#define CTAB_CAPACITY_MAX (UINT32_C(1) << 28)
/**
 * Farthest an entry may sit from its home slot, in slots (home = 1). With a
 * good hash at load 0.75 the farthest entry of a million-entry table is
 * 20-30 slots away, so this bound only ever bites on keys made to collide,
 * which then go to the overflow bucket instead of lengthening every probe.
 */
#define CTAB_PROBE_MAX 128

/**
 * One consumer: 48 bytes, 8-byte aligned; four entries span three cache
 * lines. The caller owns `tb` and `profile` (reads and writes them freely);
 * the other fields belong to the table and must not be written.
 */
struct ctab_entry {
	uint8_t key[CTAB_KEY_LEN]; /**< consumer address, v4-mapped for IPv4 */
	uint32_t hash;	    /**< caller's hash of key; table-owned */
	uint16_t profile;   /**< index of the rate/burst profile to apply */
	uint16_t dist;	    /**< 0: empty slot; else 1 + slots from home */
	struct tb_state tb; /**< the consumer's bucket; tb.last drives aging */
};

_Static_assert(sizeof(struct ctab_entry) == 48, "ctab_entry is 48 bytes");
_Static_assert(offsetof(struct ctab_entry, tb) == 24,
	       "the compared fields come first, the bucket last");

/**
 * Where the table's memory comes from. alloc returns `size` bytes aligned to
 * `align` (a power of two, at most 64, `size` a multiple of it) or NULL;
 * the table calls it once, at creation. release gives that block back, once,
 * from ctab_free(). The table zeroes the block itself, so alloc may, but
 * need not, return zeroed memory.
 */
struct ctab_mem {
	void *(*alloc)(void *ctx, size_t size, size_t align);
	void (*release)(void *ctx, void *ptr);
	void *ctx; /**< passed back to both; borrowed, never freed */
};

/**
 * A table. The fields are private: use the functions. The first ones are
 * read-only after creation; count and sweep are written by the worker only.
 */
struct ctab {
	struct ctab_entry *slots; /**< n_slots entries, after this header */
	uint32_t n_slots;	  /**< ceil(capacity * 4 / 3) */
	uint32_t capacity;	  /**< max entries */
	size_t bytes;		  /**< size of the one allocated block */
	struct ctab_mem mem;	  /**< how to give the block back */
	/*
	 * Entries in use, <= capacity. Written only by the worker, with
	 * relaxed atomic stores (plain stores on x86 and ARM: no lock, no
	 * fence); the control thread reads it with a relaxed atomic load,
	 * which sees the worker's latest or a slightly older value and never
	 * a torn one.
	 */
	_Atomic uint32_t count;
	uint32_t sweep; /**< next slot ctab_age() examines */
};

/**
 * Create a table for up to `capacity` consumers (1..CTAB_CAPACITY_MAX),
 * taking its memory from `mem` (NULL: aligned_alloc and free). All memory
 * is allocated and touched here; nothing is allocated later.
 * Returns the table, owned by the caller (ctab_free() it), or NULL with
 * errno EINVAL (bad capacity, half a mem) or ENOMEM (alloc failed).
 */
struct ctab *ctab_create(uint32_t capacity, const struct ctab_mem *mem);

/** Give a table's memory back through its allocator. NULL is a no-op. */
void ctab_free(struct ctab *t);

/**
 * A good portable 32-bit hash of a key (two 64-bit multiply-xorshift
 * rounds, one per half), for callers without CRC32C hardware. Any 32-bit
 * hash works as long as a table always sees the same hash for a key.
 */
static inline uint32_t ctab_hash(const uint8_t key[CTAB_KEY_LEN])
{
	uint64_t a, b, x;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	/* splitmix64's finalizer: a bijection with full avalanche */
	x = a + UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	x ^= (x >> 31) ^ b;
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (uint32_t)(x >> 32) ^ (uint32_t)x;
}

/** Build the key of an IPv4 address (4 bytes, network order): ::ffff:a.b.c.d */
static inline void ctab_key_v4(uint8_t key[CTAB_KEY_LEN], const uint8_t a[4])
{
	memset(key, 0, 10);
	key[10] = 0xff;
	key[11] = 0xff;
	memcpy(key + 12, a, 4);
}

/** Home slot of a hash: (hash * n_slots) >> 32, in [0, n_slots). */
static inline uint32_t ctab_home(const struct ctab *t, uint32_t hash)
{
	return (uint32_t)(((uint64_t)hash * t->n_slots) >> 32);
}

/**
 * Address of the home slot of `hash`, for the worker to prefetch while it
 * hashes the rest of a burst, before looking the keys up. An entry spans at
 * most two cache lines, and a found key sits on average 1.5 slots past its
 * home at full load: prefetch this address and the next line (+64).
 */
static inline const void *ctab_prefetch_slot(const struct ctab *t,
					     uint32_t hash)
{
	return &t->slots[ctab_home(t, hash)];
}

static inline bool ctab_key_eq(const uint8_t a[CTAB_KEY_LEN],
			       const uint8_t b[CTAB_KEY_LEN])
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/**
 * Find a key. `hash` must be the hash the key was inserted with.
 * Returns its entry (valid until the next insert, remove or age on this
 * table), or NULL when absent. Worker only.
 */
static inline struct ctab_entry *
ctab_lookup(struct ctab *t, const uint8_t key[CTAB_KEY_LEN], uint32_t hash)
{
	uint32_t i = ctab_home(t, hash);
	uint32_t d;

	/* ends by d > CTAB_PROBE_MAX at the latest: no entry is farther */
	for (d = 1;; d++) {
		struct ctab_entry *e = &t->slots[i];

		if (e->dist < d) /* empty, or the key would sit before e */
			return NULL;
		if (e->hash == hash && ctab_key_eq(e->key, key))
			return e;
		if (tg_unlikely(++i == t->n_slots))
			i = 0;
	}
}

/**
 * Insert a key known to be absent (ctab_get()'s slow path: a consumer's
 * first packet, or any new one while the table is full). Returns the new
 * entry, its bucket zeroed (tb_init() it), or NULL when the table is full:
 * count == capacity, or no room within CTAB_PROBE_MAX of the home slot.
 * Moves entries: earlier entry pointers become invalid. Worker only.
 */
struct ctab_entry *ctab_insert_new(struct ctab *t,
				   const uint8_t key[CTAB_KEY_LEN],
				   uint32_t hash, uint16_t profile);

/**
 * Find a key, inserting it with `profile` when absent. Returns its entry,
 * with *inserted (if not NULL) telling whether it was just created: a new
 * entry's bucket is zeroed and the caller must tb_init() it. Returns NULL
 * when the key is absent and the table full (see ctab_insert_new()): the
 * caller then charges the tier's shared overflow bucket. Worker only.
 */
static inline struct ctab_entry *ctab_get(struct ctab *t,
					  const uint8_t key[CTAB_KEY_LEN],
					  uint32_t hash, uint16_t profile,
					  bool *inserted)
{
	struct ctab_entry *e = ctab_lookup(t, key, hash);
	bool added = false;

	if (tg_unlikely(e == NULL)) {
		e = ctab_insert_new(t, key, hash, profile);
		added = e != NULL;
	}
	if (inserted != NULL)
		*inserted = added;
	return e;
}

/**
 * Remove a key. Returns 0, or -ENOENT when absent. Moves entries.
 * Worker only.
 */
int ctab_remove(struct ctab *t, const uint8_t key[CTAB_KEY_LEN],
		uint32_t hash);

/**
 * Incremental aging sweep: examines at most `budget` slots, continuing
 * where the previous call stopped and wrapping around, and removes every
 * entry idle for longer than idle_cycles: now - tb.last > idle_cycles (an
 * entry whose `last` is ahead of `now` counts as fresh). Returns the number
 * removed (<= budget).
 *
 * A removal pulls the following entries back a slot; the sweep examines the
 * slot it just emptied again, so nothing it has not yet seen slips behind
 * it. Entries moved by inserts and removals between calls may be examined
 * twice or skipped for one round; every entry idle for longer than
 * idle_cycles is removed within two full rounds (2 * n_slots / budget
 * calls). Worker only, e.g. once per burst with a budget of 32.
 *
 * A consumer that comes back after being aged out starts with a full
 * bucket, so idle_cycles should be at least the time any consumer profile
 * takes to refill from empty (burst / rate): an aged-out bucket would then
 * have been full anyway, and aging never hands out tokens.
 */
unsigned ctab_age(struct ctab *t, uint64_t now, uint64_t idle_cycles,
		  unsigned budget);

/**
 * Call fn(entry, arg) once for each entry, in slot order, until fn returns
 * non-zero. fn may change the entry's tb and profile (re-point profiles
 * after a config reload) but must not insert or remove. Returns fn's last
 * return value, or 0. Worker only.
 */
int ctab_foreach(struct ctab *t, int (*fn)(struct ctab_entry *e, void *arg),
		 void *arg);

/** Entries in use. Any thread (a relaxed atomic load; see struct ctab). */
static inline uint32_t ctab_count(const struct ctab *t)
{
	return atomic_load_explicit(&t->count, memory_order_relaxed);
}

/** Max entries, as created. Any thread. */
static inline uint32_t ctab_capacity(const struct ctab *t)
{
	return t->capacity;
}

/** Bytes of memory the table holds (header and slots). Any thread. */
static inline size_t ctab_bytes(const struct ctab *t)
{
	return t->bytes;
}

/**
 * Check every invariant (Robin Hood order, distances match the stored
 * hashes, count, no duplicate in a run). O(n): tests and debugging only.
 * Returns 0 or -EINVAL. Worker only, or any thread while the worker is
 * stopped.
 */
int ctab_validate(const struct ctab *t);

#endif /* TG_CTABLE_H */
