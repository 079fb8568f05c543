/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the Kafka record codec (lib/syncrec.h). Feeds arbitrary
 * bytes to both decoders, the sync and the control one, and checks what
 * every answer promises: one of 0, -EINVAL, -ENOTSUP; a NUL-terminated
 * message, empty exactly on success, even in a one-byte buffer; the same
 * answer twice. When a decode succeeds the record must hold what the
 * decoder guarantees (valid ids, rates in range, integers below 2^63, a
 * level that fits the op), and it must survive the encoder: the re-encoding
 * fits SR_MAX_LEN, is refused with -ENOSPC one byte short, decodes to an
 * identical record, and re-encodes to the same bytes.
 *
 * libFuzzer (clang -fsanitize=fuzzer) calls LLVMFuzzerTestOneInput with an
 * exact-size heap copy of each input, so AddressSanitizer catches a read
 * one byte past the record; fuzz_main.c does the same without libFuzzer.
 * A broken invariant aborts after naming the line (a fuzz target may
 * print: it is a program, not a library).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "severity.h"
#include "syncrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* err after a decode that returned rc: terminated, empty iff success */
static void check_err(int rc, const char *err, size_t err_len)
{
	CHECK(rc == 0 || rc == -EINVAL || rc == -ENOTSUP);
	CHECK(memchr(err, '\0', err_len) != NULL);
	CHECK((rc == 0) == (err[0] == '\0'));
}

/* Identical: every field, and the string arrays byte for byte (the decoder
 * pads them with NULs). */
static bool same_sync(const struct sr_sync *a, const struct sr_sync *b)
{
	return memcmp(a->bucket, b->bucket, SR_ID_LEN) == 0 &&
	       memcmp(a->node, b->node, SR_ID_LEN) == 0 && a->inc == b->inc &&
	       a->seq == b->seq && a->demand_milli == b->demand_milli &&
	       a->admitted_milli == b->admitted_milli &&
	       a->rate_milli == b->rate_milli && a->ts_ms == b->ts_ms &&
	       a->interval_ms == b->interval_ms && a->lease_ms == b->lease_ms;
}

static bool same_ctl(const struct sr_ctl *a, const struct sr_ctl *b)
{
	return memcmp(a->key, b->key, SR_ID_LEN) == 0 && a->op == b->op &&
	       a->rate_milli == b->rate_milli && a->burst == b->burst &&
	       memcmp(a->level, b->level, SR_LEVEL_LEN) == 0 &&
	       memcmp(a->node, b->node, SR_ID_LEN) == 0 && a->inc == b->inc &&
	       a->seq == b->seq && a->ts_ms == b->ts_ms;
}

static void fuzz_sync(const uint8_t *data, size_t size)
{
	char err[128], tiny[1], buf[SR_MAX_LEN], again[SR_MAX_LEN];
	struct sr_sync r, back;
	int rc, n;

	memset(err, 0x5a, sizeof(err));
	rc = sr_sync_decode(data, size, &r, err, sizeof(err));
	check_err(rc, err, sizeof(err));
	tiny[0] = 'x';
	CHECK(sr_sync_decode(data, size, &back, tiny, sizeof(tiny)) == rc);
	CHECK(tiny[0] == '\0');
	CHECK(sr_sync_decode(data, size, &back, NULL, 0) == rc);
	if (rc != 0)
		return;
	CHECK(same_sync(&r, &back));
	CHECK(sr_id_valid(r.bucket) && sr_id_valid(r.node));
	CHECK(r.demand_milli <= SR_RATE_MILLI_MAX);
	CHECK(r.admitted_milli <= SR_RATE_MILLI_MAX);
	CHECK(r.rate_milli <= SR_RATE_MILLI_MAX);
	CHECK(r.inc <= INT64_MAX && r.seq <= INT64_MAX &&
	      r.ts_ms <= INT64_MAX && r.interval_ms <= INT64_MAX &&
	      r.lease_ms <= INT64_MAX);

	n = sr_sync_encode(&r, buf, sizeof(buf));
	CHECK(n > 0 && n < SR_MAX_LEN && strlen(buf) == (size_t)n);
	CHECK(sr_sync_encode(&r, again, (size_t)n) == -ENOSPC);
	CHECK(sr_sync_decode(buf, (size_t)n, &back, err, sizeof(err)) == 0);
	CHECK(same_sync(&r, &back));
	CHECK(sr_sync_encode(&back, again, sizeof(again)) == n);
	CHECK(memcmp(buf, again, (size_t)n + 1) == 0);
	/* the other decoder refuses a sync record */
	{
		struct sr_ctl c;

		CHECK(sr_ctl_decode(buf, (size_t)n, &c, NULL, 0) == -EINVAL);
	}
}

static void fuzz_ctl(const uint8_t *data, size_t size)
{
	char err[128], tiny[1], buf[SR_MAX_LEN], again[SR_MAX_LEN];
	struct sr_ctl r, back;
	enum sev_level lv;
	int rc, n;

	memset(err, 0x5a, sizeof(err));
	rc = sr_ctl_decode(data, size, &r, err, sizeof(err));
	check_err(rc, err, sizeof(err));
	tiny[0] = 'x';
	CHECK(sr_ctl_decode(data, size, &back, tiny, sizeof(tiny)) == rc);
	CHECK(tiny[0] == '\0');
	CHECK(sr_ctl_decode(data, size, &back, NULL, 0) == rc);
	if (rc != 0)
		return;
	CHECK(same_ctl(&r, &back));
	CHECK(sr_id_valid(r.key) && sr_id_valid(r.node));
	CHECK((unsigned)r.op < SR_OP_MAX);
	CHECK(r.rate_milli <= SR_RATE_MILLI_MAX);
	CHECK(r.burst <= INT64_MAX && r.inc <= INT64_MAX &&
	      r.seq <= INT64_MAX && r.ts_ms <= INT64_MAX);
	if (r.op == SR_OP_SEVERITY)
		CHECK(sev_level_parse(r.level, &lv) == 0);
	else
		CHECK(r.level[0] == '\0');

	n = sr_ctl_encode(&r, buf, sizeof(buf));
	CHECK(n > 0 && n < SR_MAX_LEN && strlen(buf) == (size_t)n);
	CHECK(sr_ctl_encode(&r, again, (size_t)n) == -ENOSPC);
	CHECK(sr_ctl_decode(buf, (size_t)n, &back, err, sizeof(err)) == 0);
	CHECK(same_ctl(&r, &back));
	CHECK(sr_ctl_encode(&back, again, sizeof(again)) == n);
	CHECK(memcmp(buf, again, (size_t)n + 1) == 0);
	{
		struct sr_sync s;

		CHECK(sr_sync_decode(buf, (size_t)n, &s, NULL, 0) == -EINVAL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_sync(data, size);
	fuzz_ctl(data, size);
	return 0;
}
