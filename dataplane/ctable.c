/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-core consumer table: the cold half (creation, insertion, removal,
 * aging, iteration, validation). Lookup is static inline in ctable.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctable.h"

#define CTAB_ALIGN 64

/* the header, rounded up to a cache line; the slots follow it */
#define CTAB_HDR_SIZE                                                          \
	((sizeof(struct ctab) + CTAB_ALIGN - 1) & ~(size_t)(CTAB_ALIGN - 1))

static void *ctab_default_alloc(void *ctx, size_t size, size_t align)
{
	(void)ctx;
	return aligned_alloc(align, size);
}

static void ctab_default_release(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static inline uint32_t ctab_next(const struct ctab *t, uint32_t i)
{
	return i + 1 == t->n_slots ? 0 : i + 1;
}

static inline uint32_t ctab_prev(const struct ctab *t, uint32_t i)
{
	return i == 0 ? t->n_slots - 1 : i - 1;
}

static inline void ctab_count_set(struct ctab *t, uint32_t n)
{
	/* a plain store: this thread is the only writer */
	atomic_store_explicit(&t->count, n, memory_order_relaxed);
}

struct ctab *ctab_create(uint32_t capacity, const struct ctab_mem *mem)
{
	static const struct ctab_mem dflt = { ctab_default_alloc,
					      ctab_default_release, NULL };
	uint64_t n_slots, bytes;
	struct ctab *t;

	if (mem == NULL)
		mem = &dflt;
	if (capacity < 1 || capacity > CTAB_CAPACITY_MAX ||
	    mem->alloc == NULL || mem->release == NULL) {
		errno = EINVAL;
		return NULL;
	}
	/* ceil(capacity / 0.75): the load factor never exceeds 0.75, and
	 * n_slots > capacity leaves an empty slot to end every run */
	n_slots = ((uint64_t)capacity * 4 + 2) / 3;
	bytes = CTAB_HDR_SIZE + n_slots * sizeof(struct ctab_entry);
	bytes = (bytes + CTAB_ALIGN - 1) & ~(uint64_t)(CTAB_ALIGN - 1);
	if (bytes > SIZE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	t = mem->alloc(mem->ctx, (size_t)bytes, CTAB_ALIGN);
	if (t == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/*
	 * Zero everything (dist 0 marks an empty slot), which also faults
	 * every page in now rather than on the worker's hot path.
	 */
	memset(t, 0, (size_t)bytes);
	t->slots = (struct ctab_entry *)(void *)((char *)t + CTAB_HDR_SIZE);
	t->n_slots = (uint32_t)n_slots;
	t->capacity = capacity;
	t->bytes = (size_t)bytes;
	t->mem = *mem;
	ctab_count_set(t, 0);
	t->sweep = 0;
	return t;
}

/* One block holds the header and the slots, so there is no half-built
 * table: a table exists whole or not at all. */
void ctab_free(struct ctab *t)
{
	struct ctab_mem mem;

	if (t == NULL)
		return;
	mem = t->mem; /* copied out: the block holding it is about to go */
	mem.release(mem.ctx, t);
}

struct ctab_entry *ctab_insert_new(struct ctab *t,
				   const uint8_t key[CTAB_KEY_LEN],
				   uint32_t hash, uint16_t profile)
{
	uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
	uint32_t i, j, d;
	struct ctab_entry *e;

	if (count >= t->capacity)
		return NULL;
	TG_ASSERT(ctab_lookup(t, key, hash) == NULL);
	/*
	 * The insertion point: the first slot that is empty or whose entry
	 * sits closer to its home than we would (Robin Hood takes the slot
	 * from the richer entry). Entries of equal distance share our home
	 * and stay ahead of us.
	 */
	i = ctab_home(t, hash);
	for (d = 1; t->slots[i].dist >= d; d++) {
		if (d == CTAB_PROBE_MAX)
			return NULL;
		i = ctab_next(t, i);
	}
	/*
	 * The run from i to the next empty slot j moves one slot right, each
	 * of its entries one slot farther from home: first check that none
	 * is already at the bound. count < capacity < n_slots, so j exists.
	 */
	for (j = i; t->slots[j].dist != 0; j = ctab_next(t, j))
		if (t->slots[j].dist >= CTAB_PROBE_MAX)
			return NULL;
	/* shift from the far end so that nothing is overwritten */
	for (; j != i; j = ctab_prev(t, j)) {
		uint32_t p = ctab_prev(t, j);

		t->slots[j] = t->slots[p];
		t->slots[j].dist++;
	}
	e = &t->slots[i];
	memcpy(e->key, key, CTAB_KEY_LEN);
	e->hash = hash;
	e->profile = profile;
	e->dist = (uint16_t)d;
	memset(&e->tb, 0, sizeof(e->tb));
	ctab_count_set(t, count + 1);
	return e;
}

/*
 * Empty slot i by backward shift: every following entry of the run that
 * is not at its home moves back one slot, one slot nearer its home. The
 * run then ends one slot earlier and the Robin Hood order still holds,
 * with no tombstone left behind.
 */
static void ctab_remove_at(struct ctab *t, uint32_t i)
{
	uint32_t j = ctab_next(t, i);
	uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);

	TG_ASSERT(t->slots[i].dist != 0 && count > 0);
	while (t->slots[j].dist > 1) {
		t->slots[i] = t->slots[j];
		t->slots[i].dist--;
		i = j;
		j = ctab_next(t, j);
	}
	t->slots[i].dist = 0;
	ctab_count_set(t, count - 1);
}

int ctab_remove(struct ctab *t, const uint8_t key[CTAB_KEY_LEN],
		uint32_t hash)
{
	struct ctab_entry *e = ctab_lookup(t, key, hash);

	if (e == NULL)
		return -ENOENT;
	ctab_remove_at(t, (uint32_t)(e - t->slots));
	return 0;
}

unsigned ctab_age(struct ctab *t, uint64_t now, uint64_t idle_cycles,
		  unsigned budget)
{
	uint32_t i = t->sweep;
	unsigned removed = 0;

	if (ctab_count(t) == 0)
		return 0;
	for (; budget > 0; budget--) {
		const struct ctab_entry *e = &t->slots[i];
		uint64_t idle = now - e->tb.last;

		/* (int64_t)idle < 0: the entry is ahead of now, hence fresh */
		if (e->dist != 0 && (int64_t)idle > 0 && idle > idle_cycles) {
			/* the next entry of the run moves into slot i:
			 * examine slot i again, not the one after */
			ctab_remove_at(t, i);
			removed++;
		} else {
			i = ctab_next(t, i);
		}
	}
	t->sweep = i;
	return removed;
}

int ctab_foreach(struct ctab *t, int (*fn)(struct ctab_entry *e, void *arg),
		 void *arg)
{
	uint32_t i;
	int rc;

	for (i = 0; i < t->n_slots; i++) {
		if (t->slots[i].dist == 0)
			continue;
		rc = fn(&t->slots[i], arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int ctab_validate(const struct ctab *t)
{
	uint32_t i, j, n = 0;

	if (t->n_slots <= t->capacity || t->sweep >= t->n_slots)
		return -EINVAL;
	for (i = 0; i < t->n_slots; i++) {
		const struct ctab_entry *e = &t->slots[i];
		const struct ctab_entry *prev = &t->slots[ctab_prev(t, i)];
		uint32_t home, d;

		if (e->dist == 0)
			continue;
		n++;
		if (e->dist > CTAB_PROBE_MAX)
			return -EINVAL;
		/* the stored distance matches the home of the stored hash */
		home = ctab_home(t, e->hash);
		d = (i >= home ? i - home : i + t->n_slots - home) + 1;
		if (d != e->dist)
			return -EINVAL;
		/* Robin Hood: at most one farther than the slot before */
		if (e->dist > prev->dist + 1)
			return -EINVAL;
		/* no duplicate among the entries of the same home, which
		 * follow e with distances e->dist + 1, + 2... */
		for (j = ctab_next(t, i), d = e->dist + 1u;
		     d <= CTAB_PROBE_MAX && t->slots[j].dist == d;
		     j = ctab_next(t, j), d++)
			if (ctab_key_eq(t->slots[j].key, e->key))
				return -EINVAL;
	}
	if (n != ctab_count(t) || n > t->capacity)
		return -EINVAL;
	return 0;
}
