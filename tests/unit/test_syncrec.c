/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the Kafka record codec (lib/syncrec.c, on jansson): the
 * exact encoding of both record kinds (field order and number forms), round
 * trips at the extremes of every field, rates that come back as the very
 * thousandths that were sent (near the bound and at random), every field
 * missing, repeated or of a wrong type or range, unknown members skipped
 * (nested ones too), newer versions refused as such, -ENOSPC at every size
 * too small, the worst case that SR_MAX_LEN must hold, ids the encoder
 * refuses, and hostile input: every prefix of a record, every byte replaced
 * by several values, random bytes. Inputs are decoded from heap blocks of
 * exactly their size, so the sanitizer build catches any read past the end.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syncrec.h"
#include "tg_common.h"
#include "unit.h"

#define BUF_LEN 4096

static const char sync_text[] =
    "{\"v\":1,\"type\":\"sync\",\"bucket\":\"orders-1\","
    "\"node\":\"node-a01\",\"inc\":1733350000123456,\"seq\":42,"
    "\"demand\":1234.567,\"admitted\":1000.0,\"rate\":3000.0,"
    "\"ts\":1733350000123,\"interval_ms\":100,\"lease_ms\":1000}";

static const char ctl_text[] =
    "{\"v\":1,\"type\":\"control\",\"key\":\"orders-1\",\"op\":\"set-rate\","
    "\"rate\":500.0,\"burst\":0,\"level\":\"\",\"node\":\"node-a01\","
    "\"inc\":1733350000123456,\"seq\":7,\"ts\":1733350000123}";

/* A valid sync record that uses what the reader accepts: whitespace, any
 * member order, escapes in names and ids, and unknown members of every
 * JSON type (so that its prefixes and edits reach every part of it). */
static const char rich_text[] =
    " {\"lease_ms\" : 1000,\t\"interval_ms\":100 ,\"ts\":1733350000123,\n"
    "\"x\":{\"a\":[true,false,null,-0.5e+3,1E-2,0,{}],\"b\":[[],{\"c\":\"\"}]},"
    "\"rate\":3000,\"admitted\":1000.5,\"demand\":0.001,\"seq\":42,"
    "\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00 "
    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
    "\"in\\u0063\":1733350000123456,\"node\":\"n\\u0031\\/a\","
    "\"bucket\":\"orders-1\",\"type\":\"sync\",\"v\":1,\"y\":null} \r\n";

static struct sr_sync sync_example(void)
{
	struct sr_sync r = {
	    .bucket = "orders-1",
	    .node = "node-a01",
	    .inc = UINT64_C(1733350000123456),
	    .seq = 42,
	    .demand_milli = 1234567,
	    .admitted_milli = 1000000,
	    .rate_milli = 3000000,
	    .ts_ms = UINT64_C(1733350000123),
	    .interval_ms = 100,
	    .lease_ms = 1000,
	};
	return r;
}

static struct sr_ctl ctl_example(void)
{
	struct sr_ctl r = {
	    .key = "orders-1",
	    .op = SR_OP_SET_RATE,
	    .rate_milli = 500000,
	    .burst = 0,
	    .level = "",
	    .node = "node-a01",
	    .inc = UINT64_C(1733350000123456),
	    .seq = 7,
	    .ts_ms = UINT64_C(1733350000123),
	};
	return r;
}

static bool sync_eq(const struct sr_sync *a, const struct sr_sync *b)
{
	return strcmp(a->bucket, b->bucket) == 0 &&
	       strcmp(a->node, b->node) == 0 && a->inc == b->inc &&
	       a->seq == b->seq && a->demand_milli == b->demand_milli &&
	       a->admitted_milli == b->admitted_milli &&
	       a->rate_milli == b->rate_milli && a->ts_ms == b->ts_ms &&
	       a->interval_ms == b->interval_ms && a->lease_ms == b->lease_ms;
}

static bool ctl_eq(const struct sr_ctl *a, const struct sr_ctl *b)
{
	return strcmp(a->key, b->key) == 0 && a->op == b->op &&
	       a->rate_milli == b->rate_milli && a->burst == b->burst &&
	       strcmp(a->level, b->level) == 0 &&
	       strcmp(a->node, b->node) == 0 && a->inc == b->inc &&
	       a->seq == b->seq && a->ts_ms == b->ts_ms;
}

/* Decoders over an exact-size heap copy of len bytes of s. */
static int dec_sync_n(const void *s, size_t len, struct sr_sync *r, char *err,
		      size_t err_len)
{
	void *copy = malloc(len ? len : 1);
	int rc;

	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, s, len);
	rc = sr_sync_decode(copy, len, r, err, err_len);
	free(copy);
	return rc;
}

static int dec_ctl_n(const void *s, size_t len, struct sr_ctl *r, char *err,
		     size_t err_len)
{
	void *copy = malloc(len ? len : 1);
	int rc;

	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, s, len);
	rc = sr_ctl_decode(copy, len, r, err, err_len);
	free(copy);
	return rc;
}

static char last_err[256];

static int dec_sync(const char *s, struct sr_sync *r)
{
	return dec_sync_n(s, strlen(s), r, last_err, sizeof(last_err));
}

static int dec_ctl(const char *s, struct sr_ctl *r)
{
	return dec_ctl_n(s, strlen(s), r, last_err, sizeof(last_err));
}

static bool err_has(const char *what)
{
	return strstr(last_err, what) != NULL;
}

/* The members of the example records, as JSON text, for building variants. */
struct member {
	const char *name, *value;
};

static const struct member sync_members[] = {
    {"v", "1"},
    {"type", "\"sync\""},
    {"bucket", "\"orders-1\""},
    {"node", "\"node-a01\""},
    {"inc", "1733350000123456"},
    {"seq", "42"},
    {"demand", "1234.567"},
    {"admitted", "1000.000"},
    {"rate", "3000.000"},
    {"ts", "1733350000123"},
    {"interval_ms", "100"},
    {"lease_ms", "1000"},
};

static const struct member ctl_members[] = {
    {"v", "1"},
    {"type", "\"control\""},
    {"key", "\"orders-1\""},
    {"op", "\"set-rate\""},
    {"rate", "500.000"},
    {"burst", "0"},
    {"level", "\"\""},
    {"node", "\"node-a01\""},
    {"inc", "1733350000123456"},
    {"seq", "7"},
    {"ts", "1733350000123"},
};

/*
 * Writes into out (BUF_LEN) a record with the members m[0..n), member
 * `name` having the JSON text `value` instead (NULL: left out), then the
 * raw text `extra` (e.g. ",\"x\":1") before the closing brace.
 */
static const char *build(char *out, const struct member *m, size_t n,
			 const char *name, const char *value, const char *extra)
{
	size_t i, pos = 0;
	bool first = true;

	pos += (size_t)snprintf(out + pos, BUF_LEN - pos, "{");
	for (i = 0; i < n; i++) {
		const char *v = m[i].value;

		if (name && strcmp(name, m[i].name) == 0)
			v = value;
		if (!v)
			continue;
		pos += (size_t)snprintf(out + pos, BUF_LEN - pos, "%s\"%s\":%s",
					first ? "" : ",", m[i].name, v);
		first = false;
	}
	pos += (size_t)snprintf(out + pos, BUF_LEN - pos, "%s}",
				extra ? extra : "");
	CU_ASSERT_FATAL(pos < BUF_LEN);
	return out;
}

static const char *sync_with(char *out, const char *name, const char *value)
{
	return build(out, sync_members, TG_ARRAY_SIZE(sync_members), name,
		     value, NULL);
}

static const char *ctl_with(char *out, const char *name, const char *value)
{
	return build(out, ctl_members, TG_ARRAY_SIZE(ctl_members), name, value,
		     NULL);
}

/* Encodes r, decodes the text, checks equality; returns the length. */
static int sync_round_trip(const struct sr_sync *r)
{
	char buf[SR_MAX_LEN], again[SR_MAX_LEN];
	struct sr_sync back;
	int n;

	n = sr_sync_encode(r, buf, sizeof(buf));
	CU_ASSERT(n > 0 && n < SR_MAX_LEN);
	if (n <= 0)
		return n;
	CU_ASSERT_EQUAL(strlen(buf), (size_t)n);
	CU_ASSERT_EQUAL(
	    dec_sync_n(buf, (size_t)n, &back, last_err, sizeof(last_err)), 0);
	CU_ASSERT(sync_eq(r, &back));
	/* The encoding is canonical: the same bytes again. */
	CU_ASSERT_EQUAL(sr_sync_encode(&back, again, sizeof(again)), n);
	CU_ASSERT_STRING_EQUAL(again, buf);
	return n;
}

static int ctl_round_trip(const struct sr_ctl *r)
{
	char buf[SR_MAX_LEN], again[SR_MAX_LEN];
	struct sr_ctl back;
	int n;

	n = sr_ctl_encode(r, buf, sizeof(buf));
	CU_ASSERT(n > 0 && n < SR_MAX_LEN);
	if (n <= 0)
		return n;
	CU_ASSERT_EQUAL(strlen(buf), (size_t)n);
	CU_ASSERT_EQUAL(
	    dec_ctl_n(buf, (size_t)n, &back, last_err, sizeof(last_err)), 0);
	CU_ASSERT(ctl_eq(r, &back));
	CU_ASSERT_EQUAL(sr_ctl_encode(&back, again, sizeof(again)), n);
	CU_ASSERT_STRING_EQUAL(again, buf);
	return n;
}

/* The longest valid id: 63 characters, every allowed one at least once. */
static void long_id(char id[SR_ID_LEN], char first)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				    "qrstuvwxyz0123456789._:@/-";
	int i;

	for (i = 0; i < SR_ID_LEN - 1; i++)
		id[i] = chars[(i * 7) % (sizeof(chars) - 1)];
	id[0] = first;
	id[SR_ID_LEN - 1] = '\0';
}

static void test_encode_exact(void)
{
	struct sr_sync s = sync_example();
	struct sr_ctl c = ctl_example();
	char buf[SR_MAX_LEN];

	/* The field order and number forms of the header, byte for byte:
	 * other tidegate versions and kcat users read exactly this (jansson
	 * dumps the members in the order they were added). */
	CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, sizeof(buf)),
			(int)strlen(sync_text));
	CU_ASSERT_STRING_EQUAL(buf, sync_text);
	/* The typical size docs/kafka-records.md quotes. */
	CU_ASSERT_EQUAL(strlen(sync_text), 194);
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, sizeof(buf)),
			(int)strlen(ctl_text));
	CU_ASSERT_STRING_EQUAL(buf, ctl_text);
	/* Rates are reals: their decimal form, ".0" when whole. */
	s.demand_milli = 1;
	s.admitted_milli = 12500;
	s.rate_milli = 7000;
	CU_ASSERT(sr_sync_encode(&s, buf, sizeof(buf)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"demand\":0.001,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"admitted\":12.5,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"rate\":7.0,"));
	/* below 10^12/s every thousandth prints as itself, with no stray
	 * last digit (15 significant digits) */
	{
		static const struct {
			uint64_t milli;
			const char *text;
		} clean[] = {
			{ 9, "\"demand\":0.009," },
			{ 70, "\"demand\":0.07," },
			{ 1999999, "\"demand\":1999.999," },
			{ 123456789012345, "\"demand\":123456789012.345," },
			{ 999999999999999, "\"demand\":999999999999.999," },
		};
		unsigned j;
		uint64_t m;

		s.admitted_milli = 0;
		s.rate_milli = 0;
		for (j = 0; j < sizeof(clean) / sizeof(clean[0]); j++) {
			s.demand_milli = clean[j].milli;
			CU_ASSERT(sr_sync_encode(&s, buf, sizeof(buf)) > 0);
			CU_ASSERT_PTR_NOT_NULL(strstr(buf, clean[j].text));
		}
		/* and no rate below 2000/s needs more than its 3 decimals */
		for (m = 0; m < 2000000; m += 7) {
			const char *d;

			s.demand_milli = m;
			CU_ASSERT_FATAL(sr_sync_encode(&s, buf, sizeof(buf)) >
					0);
			d = strstr(buf, "\"demand\":");
			CU_ASSERT_FATAL(d != NULL);
			d = strchr(d + 9, '.');
			CU_ASSERT_FATAL(d != NULL);
			if (strcspn(d + 1, ",") > 3) {
				CU_FAIL("a rate printed with more than 3 "
					"decimals");
				break;
			}
		}
	}
	s.demand_milli = 1234567;
	s.admitted_milli = 0;
	s.rate_milli = SR_RATE_MILLI_MAX;
	CU_ASSERT(sr_sync_encode(&s, buf, sizeof(buf)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"demand\":1234.567,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"admitted\":0.0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"rate\":1125899906842.624,"));
	c.op = SR_OP_SEVERITY;
	strcpy(c.key, "@severity");
	strcpy(c.level, "emergency");
	c.rate_milli = 0;
	CU_ASSERT(sr_ctl_encode(&c, buf, sizeof(buf)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"key\":\"@severity\","
					   "\"op\":\"severity-force\","
					   "\"rate\":0.0,\"burst\":0,"
					   "\"level\":\"emergency\","));
}

static void test_sync_round_trip(void)
{
	struct sr_sync r = sync_example();
	int n;

	sync_round_trip(&r);
	/* Everything at zero, the shortest ids. */
	memset(&r, 0, sizeof(r));
	strcpy(r.bucket, "b");
	strcpy(r.node, "n");
	sync_round_trip(&r);
	/* Everything at its largest, the longest ids: still fits. */
	long_id(r.bucket, 'b');
	long_id(r.node, 'n');
	r.inc = r.seq = r.ts_ms = r.interval_ms = r.lease_ms = INT64_MAX;
	r.demand_milli = r.admitted_milli = r.rate_milli = SR_RATE_MILLI_MAX;
	n = sync_round_trip(&r);
	CU_ASSERT(n > 0 && n < SR_MAX_LEN);
	/* Every last digit of a rate survives. */
	r.demand_milli = SR_RATE_MILLI_MAX - 1;
	r.admitted_milli = 999;
	r.rate_milli = 1001;
	sync_round_trip(&r);
}

static void test_ctl_round_trip(void)
{
	static const char *const levels[] = {"normal", "warning", "critical",
					     "emergency"};
	struct sr_ctl r = ctl_example();
	unsigned i;
	int n;

	ctl_round_trip(&r);
	r.op = SR_OP_RESET;
	strcpy(r.key, "node/node-a01/orders-1");
	ctl_round_trip(&r);
	r.op = SR_OP_SEVERITY;
	strcpy(r.key, "@severity");
	for (i = 0; i < TG_ARRAY_SIZE(levels); i++) {
		strcpy(r.level, levels[i]);
		ctl_round_trip(&r);
	}
	/* Zeros, then everything at its largest. */
	memset(&r, 0, sizeof(r));
	strcpy(r.key, "k");
	strcpy(r.node, "n");
	ctl_round_trip(&r);
	long_id(r.key, 'k');
	long_id(r.node, 'n');
	r.rate_milli = SR_RATE_MILLI_MAX;
	r.burst = r.inc = r.seq = r.ts_ms = INT64_MAX;
	n = ctl_round_trip(&r);
	CU_ASSERT(n > 0 && n < SR_MAX_LEN);
	r.op = SR_OP_SEVERITY;
	strcpy(r.level, "emergency");
	ctl_round_trip(&r);
}

/* The sync record with demand written as text; its decoded thousandths. */
static int demand_of(const char *text, uint64_t *milli)
{
	char buf[BUF_LEN];
	struct sr_sync r;
	int rc = dec_sync(sync_with(buf, "demand", text), &r);

	*milli = r.demand_milli;
	return rc;
}

static void test_rates(void)
{
	static const struct {
		const char *text;
		uint64_t milli;
	} good[] = {
	    {"0", 0},
	    {"-0", 0},
	    {"0.0", 0},
	    {"-0.0", 0},
	    {"0.000", 0},
	    {"0.001", 1},
	    {"0.01", 10},
	    {"0.12", 120},
	    {"12.5", 12500},
	    {"7", 7000},
	    {"7.0", 7000},
	    {"7.000", 7000},
	    {"7e0", 7000},
	    {"1E3", 1000000},
	    {"1.5e0", 1500},
	    {"1e-3", 1},
	    {"1234.567", 1234567},
	    /* More than three decimals: the nearest thousandth. */
	    {"1.0000", 1000},
	    {"12.5000", 12500},
	    {"0.0001", 0},
	    {"0.0004", 0},
	    {"0.0006", 1},
	    {"1.2344", 1234},
	    {"1.2346", 1235},
	    {"0.9999", 1000},
	    {"1125899906842.624", SR_RATE_MILLI_MAX},
	    {"1125899906842.623", SR_RATE_MILLI_MAX - 1},
	    {"1125899906842.62", SR_RATE_MILLI_MAX - 4},
	    {"1125899906842", SR_RATE_MILLI_MAX - 624},
	    {"1099511627776", UINT64_C(1099511627776000)}, /* 2^40 */
	};
	static const char *const bad_form[] = {
	    "-1",   "-0.5", "-0.001", "-1e-9", "\"1\"",
	    "true", "null", "{}",     "[1]",   "\"\"",
	};
	static const char *const bad_range[] = {
	    "1125899906842.625",
	    "1125899906843",
	    "1125899906843.000",
	    "1e13",
	    "9007199254740.992",
	    "9223372036854775807",
	    "99999999999999999999999999999999999999.5",
	    "1e300",
	};
	/* Not JSON (or not within jansson's numbers): refused by the reader
	 * before the rate. */
	static const char *const bad_json[] = {
	    "+1",
	    "1.",
	    ".5",
	    "01",
	    "00.5",
	    "1..2",
	    "0x10",
	    "1,5",
	    "Infinity",
	    "NaN",
	    "1 2",
	    "1e400",
	    "18446744073709551616",
	};
	uint64_t m;
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(good); i++) {
		CU_ASSERT_EQUAL(demand_of(good[i].text, &m), 0);
		CU_ASSERT_EQUAL(m, good[i].milli);
	}
	for (i = 0; i < TG_ARRAY_SIZE(bad_form); i++) {
		CU_ASSERT_EQUAL(demand_of(bad_form[i], &m), -EINVAL);
		CU_ASSERT_STRING_EQUAL(last_err,
				       "field 'demand': not a rate >= 0");
	}
	for (i = 0; i < TG_ARRAY_SIZE(bad_range); i++) {
		CU_ASSERT_EQUAL(demand_of(bad_range[i], &m), -EINVAL);
		CU_ASSERT_STRING_EQUAL(last_err,
				       "field 'demand': above the largest "
				       "rate, 1125899906842.624");
	}
	for (i = 0; i < TG_ARRAY_SIZE(bad_json); i++) {
		CU_ASSERT_EQUAL(demand_of(bad_json[i], &m), -EINVAL);
		CU_ASSERT(err_has("malformed JSON at byte "));
	}
	/* The encoder refuses what the decoder would. */
	{
		struct sr_sync s = sync_example();
		struct sr_ctl c = ctl_example();
		char buf[SR_MAX_LEN];

		s.rate_milli = SR_RATE_MILLI_MAX + 1;
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, sizeof(buf)), -EINVAL);
		s = sync_example();
		s.demand_milli = UINT64_MAX;
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, sizeof(buf)), -EINVAL);
		s = sync_example();
		s.admitted_milli = SR_RATE_MILLI_MAX + 1;
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, sizeof(buf)), -EINVAL);
		c.rate_milli = SR_RATE_MILLI_MAX + 1;
		CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, sizeof(buf)), -EINVAL);
	}
}

/* The longest a rate prints: at most 16 significant digits and a point,
 * after "0.00" below 0.01 (jansson writes an exponent only below 1e-4). */
#define RATE_TEXT_MAX 20

/* Whether milli goes through the encoder and the decoder unchanged; the
 * length of its text goes to *text_len. */
static bool rate_exact(uint64_t milli, size_t *text_len)
{
	static const char key[] = "\"demand\":";
	struct sr_sync r = sync_example(), back;
	char buf[SR_MAX_LEN];
	const char *p;
	int n;

	r.demand_milli = milli;
	n = sr_sync_encode(&r, buf, sizeof(buf));
	if (n <= 0 || sr_sync_decode(buf, (size_t)n, &back, NULL, 0) != 0)
		return false;
	p = strstr(buf, key);
	if (!p)
		return false;
	p += strlen(key);
	*text_len = strcspn(p, ",");
	/* The double nearest milli / 1000 comes back by itself too. */
	return back.demand_milli == milli &&
	       (uint64_t)llround((double)milli / 1000.0 * 1000.0) == milli;
}

/* Rates come back as the very thousandths that were sent: every value near
 * the bound and near 0, and random ones below the bound, uniform and
 * log-uniform; none prints longer than RATE_TEXT_MAX. */
static void test_rate_exact(void)
{
	uint64_t seed = 0x7a7e5, m, bad = 0;
	size_t len, longest = 0;
	int i;

	for (m = SR_RATE_MILLI_MAX - 100000; m <= SR_RATE_MILLI_MAX; m++) {
		bad += !rate_exact(m, &len);
		longest = len > longest ? len : longest;
	}
	for (m = 0; m <= 100000; m++) {
		bad += !rate_exact(m, &len);
		longest = len > longest ? len : longest;
	}
	for (i = 0; i < 200000; i++) {
		uint64_t r = unit_rand(&seed);

		if (i % 2)
			m = r % (SR_RATE_MILLI_MAX + 1);
		else /* 2^0 .. 2^50, so every decade gets its share */
			m = (r >> 8) & ((UINT64_C(1) << (r % 51)) - 1);
		bad += !rate_exact(m, &len);
		longest = len > longest ? len : longest;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(longest <= RATE_TEXT_MAX);
	/* The bound itself and 2^40 tokens/s, tidegate's largest rate. */
	CU_ASSERT(rate_exact(SR_RATE_MILLI_MAX, &len));
	CU_ASSERT(rate_exact(UINT64_C(1099511627776000), &len));
}

static void test_integers(void)
{
	static const char *const bad[] = {
	    "1.0",   "1.5",  "1e2",  "-1", "-9223372036854775808",
	    "\"5\"", "true", "null", "{}", "[]",
	};
	/* Beyond jansson's json_int_t, or not JSON. */
	static const char *const bad_json[] = {
	    "9223372036854775808",
	    "18446744073709551615",
	    "99999999999999999999",
	    "007",
	    "+7",
	};
	static const size_t sync_ints[] = {
	    offsetof(struct sr_sync, inc),
	    offsetof(struct sr_sync, seq),
	    offsetof(struct sr_sync, ts_ms),
	    offsetof(struct sr_sync, interval_ms),
	    offsetof(struct sr_sync, lease_ms),
	};
	static const size_t ctl_ints[] = {
	    offsetof(struct sr_ctl, burst),
	    offsetof(struct sr_ctl, inc),
	    offsetof(struct sr_ctl, seq),
	    offsetof(struct sr_ctl, ts_ms),
	};
	char buf[BUF_LEN];
	struct sr_sync s;
	struct sr_ctl c;
	unsigned i;

	CU_ASSERT_EQUAL(
	    dec_sync(sync_with(buf, "seq", "9223372036854775807"), &s), 0);
	CU_ASSERT_EQUAL(s.seq, INT64_MAX);
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "seq", "0"), &s), 0);
	CU_ASSERT_EQUAL(s.seq, 0);
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "seq", "-0"), &s), 0);
	CU_ASSERT_EQUAL(s.seq, 0);
	CU_ASSERT_EQUAL(
	    dec_ctl(ctl_with(buf, "burst", "9223372036854775807"), &c), 0);
	CU_ASSERT_EQUAL(c.burst, INT64_MAX);
	for (i = 0; i < TG_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(
		    dec_sync(sync_with(buf, "lease_ms", bad[i]), &s), -EINVAL);
		CU_ASSERT_STRING_EQUAL(last_err,
				       "field 'lease_ms': not an integer "
				       "from 0 to 2^63-1");
		CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "burst", bad[i]), &c),
				-EINVAL);
		CU_ASSERT(err_has("field 'burst'"));
	}
	for (i = 0; i < TG_ARRAY_SIZE(bad_json); i++) {
		CU_ASSERT_EQUAL(
		    dec_sync(sync_with(buf, "seq", bad_json[i]), &s), -EINVAL);
		CU_ASSERT(err_has("malformed JSON at byte "));
	}
	/* The encoder refuses every integer above INT64_MAX. */
	for (i = 0; i < TG_ARRAY_SIZE(sync_ints); i++) {
		uint64_t *f;

		s = sync_example();
		f = (uint64_t *)(void *)((char *)&s + sync_ints[i]);
		*f = INT64_MAX;
		CU_ASSERT(sr_sync_encode(&s, buf, BUF_LEN) > 0);
		*f = (uint64_t)INT64_MAX + 1;
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, BUF_LEN), -EINVAL);
		*f = UINT64_MAX;
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, BUF_LEN), -EINVAL);
	}
	for (i = 0; i < TG_ARRAY_SIZE(ctl_ints); i++) {
		uint64_t *f;

		c = ctl_example();
		f = (uint64_t *)(void *)((char *)&c + ctl_ints[i]);
		*f = INT64_MAX;
		CU_ASSERT(sr_ctl_encode(&c, buf, BUF_LEN) > 0);
		*f = (uint64_t)INT64_MAX + 1;
		CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
		*f = UINT64_MAX;
		CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
	}
}

static void test_missing(void)
{
	char buf[BUF_LEN], want[64];
	struct sr_sync s;
	struct sr_ctl c;
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(sync_members); i++) {
		CU_ASSERT_EQUAL(
		    dec_sync(sync_with(buf, sync_members[i].name, NULL), &s),
		    -EINVAL);
		snprintf(want, sizeof(want), "missing field '%s'",
			 sync_members[i].name);
		CU_ASSERT_STRING_EQUAL(last_err, want);
	}
	for (i = 0; i < TG_ARRAY_SIZE(ctl_members); i++) {
		CU_ASSERT_EQUAL(
		    dec_ctl(ctl_with(buf, ctl_members[i].name, NULL), &c),
		    -EINVAL);
		snprintf(want, sizeof(want), "missing field '%s'",
			 ctl_members[i].name);
		CU_ASSERT_STRING_EQUAL(last_err, want);
	}
	CU_ASSERT_EQUAL(dec_sync("{}", &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "missing field 'v'");
	CU_ASSERT_EQUAL(dec_ctl(" { } ", &c), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "missing field 'v'");
}

/* A repeated name is refused by jansson (JSON_REJECT_DUPLICATES), with its
 * message, which names it. */
static void test_duplicate(void)
{
	char buf[BUF_LEN], extra[128], want[64];
	struct sr_sync s;
	struct sr_ctl c;
	unsigned i;

	/* Repeated with the same value or another: refused either way. */
	for (i = 0; i < TG_ARRAY_SIZE(sync_members); i++) {
		snprintf(extra, sizeof(extra), ",\"%s\":%s",
			 sync_members[i].name, sync_members[i].value);
		build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL,
		      NULL, extra);
		CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
		CU_ASSERT(err_has("malformed JSON at byte "));
		CU_ASSERT(err_has("duplicate object key"));
		snprintf(want, sizeof(want), "'\"%s\"'", sync_members[i].name);
		CU_ASSERT(err_has(want));
	}
	for (i = 0; i < TG_ARRAY_SIZE(ctl_members); i++) {
		snprintf(extra, sizeof(extra), ",\"%s\":null",
			 ctl_members[i].name);
		build(buf, ctl_members, TG_ARRAY_SIZE(ctl_members), NULL, NULL,
		      extra);
		CU_ASSERT_EQUAL(dec_ctl(buf, &c), -EINVAL);
		CU_ASSERT(err_has("duplicate object key"));
	}
	/* A name spelt with an escape is the same name. */
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"s\\u0065q\":43");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	CU_ASSERT(err_has("duplicate object key"));
	/* Unknown names too, and inside unknown members. */
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":1,\"x\":1");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	CU_ASSERT(err_has("duplicate object key"));
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":[{\"v\":2,\"v\":3}]");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	CU_ASSERT(err_has("duplicate object key"));
}

/* Every field given a value of every wrong JSON type. */
static void test_wrong_type(void)
{
	static const char *const not_num[] = {"\"1\"", "true", "false",
					      "null",  "{}",   "[1]"};
	static const char *const not_str[] = {"1", "true", "null", "{}",
					      "[\"orders\"]"};
	char buf[BUF_LEN], want[32];
	struct sr_sync s;
	struct sr_ctl c;
	unsigned i, j;

	for (i = 0; i < TG_ARRAY_SIZE(sync_members); i++) {
		bool is_str = sync_members[i].value[0] == '"';
		const char *const *bad = is_str ? not_str : not_num;
		unsigned n =
		    is_str ? TG_ARRAY_SIZE(not_str) : TG_ARRAY_SIZE(not_num);

		snprintf(want, sizeof(want),
			 "field '%s': ", sync_members[i].name);
		for (j = 0; j < n; j++) {
			CU_ASSERT_EQUAL(
			    dec_sync(
				sync_with(buf, sync_members[i].name, bad[j]),
				&s),
			    -EINVAL);
			CU_ASSERT_NSTRING_EQUAL(last_err, want, strlen(want));
		}
	}
	for (i = 0; i < TG_ARRAY_SIZE(ctl_members); i++) {
		bool is_str = ctl_members[i].value[0] == '"';
		const char *const *bad = is_str ? not_str : not_num;
		unsigned n =
		    is_str ? TG_ARRAY_SIZE(not_str) : TG_ARRAY_SIZE(not_num);

		snprintf(want, sizeof(want),
			 "field '%s': ", ctl_members[i].name);
		for (j = 0; j < n; j++) {
			CU_ASSERT_EQUAL(
			    dec_ctl(ctl_with(buf, ctl_members[i].name, bad[j]),
				    &c),
			    -EINVAL);
			CU_ASSERT_NSTRING_EQUAL(last_err, want, strlen(want));
		}
	}
}

static void test_type_field(void)
{
	struct sr_sync s;
	struct sr_ctl c;
	char buf[BUF_LEN];

	/* The other kind of record: said so, not "missing field". */
	CU_ASSERT_EQUAL(dec_sync(ctl_text, &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'type': a control record, not a sync "
			       "record");
	CU_ASSERT_EQUAL(dec_ctl(sync_text, &c), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'type': a sync record, not a control "
			       "record");
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "type", "\"Sync\""), &s),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "field 'type': not \"sync\"");
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "type", "\"\""), &s), -EINVAL);
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "type", "\"sync \""), &s),
			-EINVAL);
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "type", "\"control \""), &c),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "field 'type': not \"control\"");
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "type", "7"), &c), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "field 'type': not a string");
	/* No NUL in a string (jansson without JSON_ALLOW_NUL). */
	CU_ASSERT_EQUAL(
	    dec_ctl(ctl_with(buf, "type", "\"control\\u0000\""), &c), -EINVAL);
	CU_ASSERT(err_has("malformed JSON at byte "));
	/* The wrong type wins over an earlier error in another field. */
	CU_ASSERT_EQUAL(dec_sync("{\"v\":1,\"bucket\":\"bad id\","
				 "\"type\":\"control\"}",
				 &s),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'type': a control record, not a sync "
			       "record");
	/* Escaped, the right type is still right. */
	CU_ASSERT_EQUAL(
	    dec_sync(sync_with(buf, "type", "\"\\u0073\\u0079nc\""), &s), 0);
}

static void test_version(void)
{
	char buf[BUF_LEN], extra[64];
	struct sr_sync s;
	struct sr_ctl c;

	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "2"), &s), -ENOTSUP);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "version 2 is newer than this tidegate (1)");
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "v", "2"), &c), -ENOTSUP);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "version 2 is newer than this tidegate (1)");
	CU_ASSERT_EQUAL(
	    dec_sync(sync_with(buf, "v", "9223372036854775807"), &s), -ENOTSUP);
	CU_ASSERT_STRING_EQUAL(last_err, "version 9223372036854775807 is "
					 "newer than this tidegate (1)");
	/* A newer record may change anything: it is refused as newer, not
	 * as malformed, whatever its fields say and wherever "v" stands. */
	CU_ASSERT_EQUAL(dec_sync("{\"v\":3}", &s), -ENOTSUP);
	CU_ASSERT_EQUAL(dec_ctl("{\"type\":\"control2\",\"rate\":\"fast\","
				"\"key\":[],\"v\":2}",
				&c),
			-ENOTSUP);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "version 2 is newer than this tidegate (1)");
	CU_ASSERT_EQUAL(dec_sync(ctl_text, &s), -EINVAL);
	/* ... but it must still be JSON. */
	CU_ASSERT_EQUAL(dec_sync("{\"v\":2,}", &s), -EINVAL);
	CU_ASSERT_EQUAL(dec_sync("{\"v\":2,\"x\":1,\"x\":2}", &s), -EINVAL);
	/* Not versions. */
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "0"), &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'v': not a version (an integer >= 1)");
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "1.0"), &s), -EINVAL);
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "\"1\""), &s), -EINVAL);
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "-1"), &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'v': not a version (an integer >= 1)");
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "null"), &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'v': not a version (an integer >= 1)");
	CU_ASSERT_EQUAL(dec_sync(sync_with(buf, "v", "1e0"), &s), -EINVAL);
	CU_ASSERT_EQUAL(
	    dec_sync(sync_with(buf, "v", "18446744073709551616"), &s), -EINVAL);
	/* "v" last is as good as first. */
	snprintf(extra, sizeof(extra), ",\"v\":%d", SR_VERSION);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), "v", NULL, extra);
	CU_ASSERT_EQUAL(dec_sync(buf, &s), 0);
}

static void test_unknown_fields(void)
{
	/* Every kind of JSON value, in members this version does not know. */
	static const char *const extras[] = {
	    ",\"x\":1",
	    ",\"x\":-1.5e+300",
	    ",\"x\":0.0E-0",
	    ",\"x\":\"\"",
	    ",\"x\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 "
	    "\\uD83D\\uDE00\"",
	    ",\"x\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
	    ",\"x\":true,\"y\":false,\"z\":null",
	    ",\"x\":{}",
	    ",\"x\":[]",
	    ",\"x\":{\"a\":[1,2,{\"b\":null}],\"c\":{\"d\":\"}]\"}}",
	    ",\"x\":[[[[]]],{},[{}],\"]\"]",
	    ",\"\":0",
	    ",\"vv\":2,\"V\":2,\"v \":2,\"type2\":\"control\"",
	    ",\"rate_milli\":\"fast\",\"Rate\":null,\"demand \":1",
	    ",\"seq\\\"\":{\"seq\":1,\"v\":2}",
	    ",\"x\":{\"v\":2,\"type\":\"control\",\"rate\":-1}",
	    ",\"interval_ms_\":[] ,\"long_name_that_is_longer_than_any\":1",
	};
	static const char *const bad_extras[] = {
	    ",\"x\":\"\t\"", /* a raw control character */
	    ",\"x\":\"\x1f\"",
	    ",\"x\":\"\x7f\xff\"", /* not UTF-8 */
	    ",\"x\":\"\x80\"",
	    ",\"x\":\"\xc0\xaf\"", /* overlong */
	    ",\"x\":\"\xe0\x80\xaf\"",
	    ",\"x\":\"\xed\xa0\x80\"",	   /* a surrogate */
	    ",\"x\":\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
	    ",\"x\":\"\xe2\x82\"",	   /* cut short */
	    ",\"x\":\"\\x\"",		   /* unknown escapes */
	    ",\"x\":\"\\U0041\"",
	    ",\"x\":\"\\u00G1\"",
	    ",\"x\":\"\\u12\"",
	    ",\"x\":\"\\u0000\"", /* NUL, refused by jansson */
	    ",\"x\\u0000\":1",
	    ",\"x\":\"\\ud800\"", /* a lone surrogate */
	    ",\"x\":tru",
	    ",\"x\":nul",
	    ",\"x\":True",
	    ",\"x\":-",
	    ",\"x\":1.",
	    ",\"x\":1e",
	    ",\"x\":.1",
	    ",\"x\":01",
	    ",\"x\":+1",
	    ",\"x\":'a'",
	    ",\"x\":",
	    ",\"x\"",
	    ",x:1",
	    ",,\"x\":1",
	    ",",
	};
	char buf[BUF_LEN];
	struct sr_sync s, want = sync_example();
	struct sr_ctl c, cwant = ctl_example();
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(extras); i++) {
		build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL,
		      NULL, extras[i]);
		CU_ASSERT_EQUAL(dec_sync(buf, &s), 0);
		CU_ASSERT(sync_eq(&s, &want));
		build(buf, ctl_members, TG_ARRAY_SIZE(ctl_members), NULL, NULL,
		      extras[i]);
		CU_ASSERT_EQUAL(dec_ctl(buf, &c), 0);
		CU_ASSERT(ctl_eq(&c, &cwant));
	}
	/* Unknown members must still be JSON. */
	for (i = 0; i < TG_ARRAY_SIZE(bad_extras); i++) {
		build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL,
		      NULL, bad_extras[i]);
		CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
		CU_ASSERT(err_has("malformed JSON at byte "));
	}
	/* A sync record's own members are unknown to the control decoder,
	 * and the other way round. */
	build(buf, ctl_members, TG_ARRAY_SIZE(ctl_members), NULL, NULL,
	      ",\"bucket\":7,\"demand\":\"x\",\"lease_ms\":[]");
	CU_ASSERT_EQUAL(dec_ctl(buf, &c), 0);
	/* Whitespace between every token, members in reverse order. */
	CU_ASSERT_EQUAL(
	    dec_sync(" \t\r\n{ \"lease_ms\" : 1000 ,\n\"interval_ms\":100,"
		     "\"ts\"\t:\t1733350000123,\"rate\":3000.000,"
		     "\"admitted\":1000.000,\"demand\":1234.567,"
		     "\"seq\":42,\"inc\":1733350000123456,"
		     "\"node\":\"node-a01\",\"bucket\":\"orders-1\","
		     "\"type\":\"sync\",\"v\":1 } \r\n\t",
		     &s),
	    0);
	CU_ASSERT(sync_eq(&s, &want));
}

/* Unknown members may nest (jansson's limit is 2048 levels); a very deep
 * run is refused, without exhausting the stack. */
static void test_nesting(void)
{
	static char buf[1 << 17];
	char head[BUF_LEN];
	struct sr_sync s;
	size_t n, depth, i;

	build(head, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":");
	n = strlen(head) - 1; /* without the closing brace */
	/* Alternating {"a":[{"a":[...0...]}]}. */
	for (depth = 1; depth <= 40; depth++) {
		size_t pos = n;
		int rc;

		memcpy(buf, head, n);
		for (i = 0; i < depth; i++) {
			if (i % 2 == 0) {
				memcpy(buf + pos, "{\"a\":", 5);
				pos += 5;
			} else {
				buf[pos++] = '[';
			}
		}
		buf[pos++] = '0';
		for (i = depth; i-- > 0;)
			buf[pos++] = i % 2 == 0 ? '}' : ']';
		buf[pos++] = '}';
		buf[pos] = '\0';
		rc = dec_sync(buf, &s);
		CU_ASSERT_EQUAL(rc, 0);
	}
	/* A very deep opening run: refused at the limit, quickly. */
	memcpy(buf, head, n);
	memset(buf + n, '[', sizeof(buf) - n - 1);
	buf[sizeof(buf) - 1] = '\0';
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	CU_ASSERT(err_has("malformed JSON at byte "));
	/* Mismatched brackets. */
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":[}");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":{]");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":{\"a\"}");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":{1:2}");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":[1,]");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":[1 2]");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
	build(buf, sync_members, TG_ARRAY_SIZE(sync_members), NULL, NULL,
	      ",\"x\":{\"a\":1,}");
	CU_ASSERT_EQUAL(dec_sync(buf, &s), -EINVAL);
}

static void test_ids(void)
{
	static const char *const bad_ids[] = {
	    "",	    "a b",  "a\"b", "a\\b", "a,b", "caf\xc3\xa9",
	    "a\tb", "a\nb", "a+b",  "a*b",  "a#b", "a%b",
	    "a~b",  "a!b",  "a=b",  "a;b",  "a?b", "a[b",
	};
	static const char *const bad_json_ids[] = {
	    "\"\"",
	    "\"a b\"",
	    "\"a\\\"b\"",
	    "\"a\\\\b\"",
	    "\"caf\\u00e9\"",
	    "\"caf\xc3\xa9\"",
	    "\"a\\nb\"",
	    "\"0123456789012345678901234567890123456789012345678901234567890123"
	    "\"",
	};
	struct sr_sync s, back;
	struct sr_ctl c;
	char buf[BUF_LEN], id[SR_ID_LEN];
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(bad_ids); i++) {
		CU_ASSERT(!sr_id_valid(bad_ids[i]));
		s = sync_example();
		strcpy(s.bucket, bad_ids[i]);
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, BUF_LEN), -EINVAL);
		s = sync_example();
		strcpy(s.node, bad_ids[i]);
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, BUF_LEN), -EINVAL);
		c = ctl_example();
		strcpy(c.key, bad_ids[i]);
		CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
		c = ctl_example();
		strcpy(c.node, bad_ids[i]);
		CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
	}
	/* 63 characters fit; 64 without a NUL do not, and are not read past
	 * the array. */
	long_id(id, 'x');
	CU_ASSERT(sr_id_valid(id));
	s = sync_example();
	memset(s.bucket, 'b', SR_ID_LEN);
	CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, BUF_LEN), -EINVAL);
	c = ctl_example();
	memset(c.node, 'n', SR_ID_LEN);
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);

	for (i = 0; i < TG_ARRAY_SIZE(bad_json_ids); i++) {
		CU_ASSERT_EQUAL(
		    dec_sync(sync_with(buf, "bucket", bad_json_ids[i]), &back),
		    -EINVAL);
		CU_ASSERT_STRING_EQUAL(last_err,
				       "field 'bucket': not an id (1 to 63 of "
				       "A-Z a-z 0-9 . _ : @ / -)");
		CU_ASSERT_EQUAL(
		    dec_ctl(ctl_with(buf, "key", bad_json_ids[i]), &c),
		    -EINVAL);
		CU_ASSERT(err_has("field 'key': not an id"));
	}
	/* A NUL is refused before the id is looked at. */
	CU_ASSERT_EQUAL(
	    dec_sync(sync_with(buf, "bucket", "\"a\\u0000\""), &back), -EINVAL);
	CU_ASSERT(err_has("malformed JSON at byte "));
	/* Escapes that spell valid characters are read as them. */
	CU_ASSERT_EQUAL(
	    dec_sync(sync_with(buf, "node", "\"\\u006e\\u0031\\/x\""), &back),
	    0);
	CU_ASSERT_STRING_EQUAL(back.node, "n1/x");
	/* The control keys of the three kinds. */
	CU_ASSERT_EQUAL(
	    dec_ctl(ctl_with(buf, "key", "\"node/node-a01/orders-1\""), &c), 0);
	CU_ASSERT_STRING_EQUAL(c.key, "node/node-a01/orders-1");
}

static void test_ctl_fields(void)
{
	char buf[BUF_LEN], text[BUF_LEN];
	struct sr_ctl c = ctl_example(), back;

	/* Ops by name. */
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "op", "\"reset\""), &back), 0);
	CU_ASSERT_EQUAL(back.op, SR_OP_RESET);
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "op", "\"Reset\""), &back),
			-EINVAL);
	CU_ASSERT(err_has("field 'op'"));
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "op", "\"\""), &back), -EINVAL);
	CU_ASSERT_EQUAL(
	    dec_ctl(ctl_with(buf, "op", "\"set-rate-and-more\""), &back),
	    -EINVAL);
	CU_ASSERT_EQUAL(dec_ctl(ctl_with(buf, "op", "0"), &back), -EINVAL);
	CU_ASSERT_STRING_EQUAL(sr_op_name(SR_OP_MAX), "?");
	CU_ASSERT_STRING_EQUAL(sr_op_name((enum sr_op) - 1), "?");
	c.op = SR_OP_MAX;
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);

	/* The level goes with the op, in both directions. */
	build(text, ctl_members, TG_ARRAY_SIZE(ctl_members), "level",
	      "\"warning\"", NULL);
	CU_ASSERT_EQUAL(dec_ctl(text, &back), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "field 'level': must be \"\" unless "
					 "op is \"severity-force\"");
	build(text, ctl_members, TG_ARRAY_SIZE(ctl_members), "op",
	      "\"severity-force\"", NULL);
	CU_ASSERT_EQUAL(dec_ctl(text, &back), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err,
			       "field 'level': not \"normal\", \"warning\", "
			       "\"critical\" or \"emergency\"");
	CU_ASSERT_EQUAL(dec_ctl("{\"v\":1,\"type\":\"control\",\"key\":\"@s\","
				"\"op\":\"severity-force\",\"rate\":0,"
				"\"burst\":0,\"level\":\"critical\","
				"\"node\":\"n\",\"inc\":1,\"seq\":2,\"ts\":3}",
				&back),
			0);
	CU_ASSERT_STRING_EQUAL(back.level, "critical");
	CU_ASSERT_EQUAL(back.op, SR_OP_SEVERITY);
	CU_ASSERT_EQUAL(dec_ctl("{\"v\":1,\"type\":\"control\",\"key\":\"@s\","
				"\"op\":\"severity-force\",\"rate\":0,"
				"\"burst\":0,\"level\":\"Critical\","
				"\"node\":\"n\",\"inc\":1,\"seq\":2,\"ts\":3}",
				&back),
			-EINVAL);
	CU_ASSERT_EQUAL(
	    dec_ctl(ctl_with(buf, "level", "\"a-level-name-too-long\""), &back),
	    -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "field 'level': not a severity level");

	c = ctl_example();
	strcpy(c.level, "warning");
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
	c.op = SR_OP_SEVERITY;
	CU_ASSERT(sr_ctl_encode(&c, buf, BUF_LEN) > 0);
	strcpy(c.level, "");
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
	strcpy(c.level, "loud");
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
	memset(c.level, 'w', SR_LEVEL_LEN); /* no NUL: not read past */
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, BUF_LEN), -EINVAL);
}

static void test_enospc(void)
{
	struct sr_sync s = sync_example();
	struct sr_ctl c = ctl_example();
	char buf[SR_MAX_LEN + 8];
	size_t len, n, i;

	n = strlen(sync_text);
	CU_ASSERT_EQUAL(sr_sync_encode(&s, NULL, 0), -ENOSPC);
	for (len = 0; len <= n; len++) {
		memset(buf, 0x5a, sizeof(buf));
		CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, len), -ENOSPC);
		CU_ASSERT(len == 0 || buf[0] == '\0');
		for (i = len; i < sizeof(buf); i++)
			CU_ASSERT_FATAL(buf[i] == 0x5a);
	}
	CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, n + 1), (int)n);
	CU_ASSERT_STRING_EQUAL(buf, sync_text);

	n = strlen(ctl_text);
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, NULL, 0), -ENOSPC);
	for (len = 0; len <= n; len++) {
		memset(buf, 0x5a, sizeof(buf));
		CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, len), -ENOSPC);
		CU_ASSERT(len == 0 || buf[0] == '\0');
		for (i = len; i < sizeof(buf); i++)
			CU_ASSERT_FATAL(buf[i] == 0x5a);
	}
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, n + 1), (int)n);
	CU_ASSERT_STRING_EQUAL(buf, ctl_text);
	/* -EINVAL is reported before -ENOSPC: the record is wrong anyway. */
	c.op = SR_OP_MAX;
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, 1), -EINVAL);
}

/*
 * SR_MAX_LEN holds the longest record of either kind: the longest ids, the
 * longest op and level, integers at INT64_MAX (19 digits, the most), and
 * each rate given RATE_TEXT_MAX characters, the most any rate prints
 * (test_rate_exact) though the largest prints shorter.
 */
static void test_max_len(void)
{
	static const char max_rate[] = "1125899906842.624";
	const int rate_extra = RATE_TEXT_MAX - (int)strlen(max_rate);
	struct sr_sync s;
	struct sr_ctl c;
	char buf[BUF_LEN];
	int n;

	memset(&s, 0, sizeof(s));
	long_id(s.bucket, 'b');
	long_id(s.node, 'n');
	s.inc = s.seq = s.ts_ms = s.interval_ms = s.lease_ms = INT64_MAX;
	s.demand_milli = s.admitted_milli = s.rate_milli = SR_RATE_MILLI_MAX;
	n = sr_sync_encode(&s, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, 392);
	CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, (size_t)n + 1), n);
	CU_ASSERT_EQUAL(sr_sync_encode(&s, buf, (size_t)n), -ENOSPC);
	CU_ASSERT(n + 3 * rate_extra + 1 <= SR_MAX_LEN);

	memset(&c, 0, sizeof(c));
	long_id(c.key, 'k');
	long_id(c.node, 'n');
	c.op = SR_OP_SEVERITY;
	strcpy(c.level, "emergency");
	c.rate_milli = SR_RATE_MILLI_MAX;
	c.burst = c.inc = c.seq = c.ts_ms = INT64_MAX;
	n = sr_ctl_encode(&c, buf, sizeof(buf));
	CU_ASSERT(n > 0);
	CU_ASSERT(n + rate_extra + 1 <= SR_MAX_LEN);
	CU_ASSERT_EQUAL(sr_ctl_encode(&c, buf, SR_MAX_LEN), n);
}

static void test_truncated(void)
{
	char text[BUF_LEN];
	struct sr_sync s;
	struct sr_ctl c;
	size_t n, len;

	/* Every proper prefix is refused (the last one lacks the brace). */
	n = strlen(sync_text);
	for (len = 0; len < n; len++) {
		CU_ASSERT_EQUAL(
		    dec_sync_n(sync_text, len, &s, last_err, sizeof(last_err)),
		    -EINVAL);
		CU_ASSERT(last_err[0] != '\0');
	}
	CU_ASSERT_EQUAL(dec_sync_n(sync_text, n, &s, NULL, 0), 0);
	n = strlen(ctl_text);
	for (len = 0; len < n; len++) {
		CU_ASSERT_EQUAL(
		    dec_ctl_n(ctl_text, len, &c, last_err, sizeof(last_err)),
		    -EINVAL);
		CU_ASSERT(last_err[0] != '\0');
	}
	CU_ASSERT_EQUAL(dec_ctl_n(ctl_text, n, &c, NULL, 0), 0);
	/* The rich record ends with whitespace: its prefixes are refused up
	 * to the closing brace. */
	n = strlen(rich_text);
	for (len = 0; len < n; len++) {
		int rc =
		    dec_sync_n(rich_text, len, &s, last_err, sizeof(last_err));

		bool closed =
		    len > (size_t)(strrchr(rich_text, '}') - rich_text);

		CU_ASSERT_EQUAL(rc, closed ? 0 : -EINVAL);
	}
	/* A NULL buffer of length 0. */
	CU_ASSERT_EQUAL(sr_sync_decode(NULL, 0, &s, last_err, sizeof(last_err)),
			-EINVAL);
	CU_ASSERT_EQUAL(sr_ctl_decode(NULL, 0, &c, NULL, 0), -EINVAL);

	/* Trailing bytes: whitespace only. */
	snprintf(text, sizeof(text), "%s \r\n\t", sync_text);
	CU_ASSERT_EQUAL(dec_sync(text, &s), 0);
	snprintf(text, sizeof(text), "%s x", sync_text);
	CU_ASSERT_EQUAL(dec_sync(text, &s), -EINVAL);
	CU_ASSERT(err_has("malformed JSON at byte "));
	snprintf(text, sizeof(text), "%s%s", sync_text, sync_text);
	CU_ASSERT_EQUAL(dec_sync(text, &s), -EINVAL);
	/* A NUL inside or after the record is a byte like any other. */
	n = strlen(sync_text);
	memcpy(text, sync_text, n);
	text[n] = '\0';
	CU_ASSERT_EQUAL(dec_sync_n(text, n + 1, &s, last_err, sizeof(last_err)),
			-EINVAL);
	CU_ASSERT(err_has("malformed JSON at byte "));
	text[10] = '\0';
	CU_ASSERT_EQUAL(dec_sync_n(text, n, &s, last_err, sizeof(last_err)),
			-EINVAL);
}

static void test_not_records(void)
{
	static const char *const bad[] = {
	    "",
	    " ",
	    "null",
	    "[]",
	    "1",
	    "\"{}\"",
	    "{",
	    "}",
	    "{\"v\"",
	    "{\"v\":",
	    "{\"v\":1",
	    "{\"v\":1,",
	    "{,}",
	    "{\"v\":1,,\"x\":1}",
	    "{v:1}",
	    "{'v':1}",
	    "{\"v\"=1}",
	    "{\"v\":tru}",
	    "{\"v\":nul}",
	    "{\"v\":True}",
	    "{\"v\":\"\\x\"}",
	    "{\"v\":\"\\u12G4\"}",
	    "{\"v\":\"\\u12\"}",
	    "{\"v\":\"\t\"}",
	    "{\"v\":\"\x01\"}",
	    "{\"v\":\"\xff\"}",
	    "{\"v\":\"\xc0\xaf\"}",
	    "{\"v\":\"\xed\xa0\x80\"}",
	    "{\"v\":\"\xf4\x90\x80\x80\"}",
	    "{\"v\":\"\xe2\x82\"}",
	    "\xef\xbb\xbf{}",
	    "{}\x00",
	};
	struct sr_sync s;
	struct sr_ctl c;
	char err[4];
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(dec_sync(bad[i], &s), -EINVAL);
		CU_ASSERT_EQUAL(dec_ctl(bad[i], &c), -EINVAL);
	}
	/* One JSON value, but not an object. */
	CU_ASSERT_EQUAL(dec_sync("[1,{}]", &s), -EINVAL);
	CU_ASSERT_STRING_EQUAL(last_err, "not a JSON object");
	/* A short error buffer holds the start of the message. */
	CU_ASSERT_EQUAL(dec_sync_n("x", 1, &s, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "mal");
	err[0] = 'z';
	CU_ASSERT_EQUAL(dec_sync_n("{}", 2, &s, err, 1), -EINVAL);
	CU_ASSERT_EQUAL(err[0], '\0');
	CU_ASSERT_EQUAL(dec_sync_n("{}", 2, &s, NULL, 100), -EINVAL);
	CU_ASSERT_EQUAL(dec_sync_n("{\"v\":9}", 7, &s, NULL, 0), -ENOTSUP);
	/* A success leaves an empty message. */
	strcpy(last_err, "stale");
	CU_ASSERT_EQUAL(dec_sync(sync_text, &s), 0);
	CU_ASSERT_STRING_EQUAL(last_err, "");
}

/* Whatever a decoder accepts, the encoder writes back and the decoder reads
 * again to the same record. */
static void check_any_sync(const void *p, size_t len)
{
	char err[96], buf[SR_MAX_LEN];
	struct sr_sync r, back;
	int rc, n;

	memset(err, 0x5a, sizeof(err));
	rc = dec_sync_n(p, len, &r, err, sizeof(err));
	CU_ASSERT_FATAL(rc == 0 || rc == -EINVAL || rc == -ENOTSUP);
	CU_ASSERT_FATAL(memchr(err, '\0', sizeof(err)) != NULL);
	CU_ASSERT_FATAL((rc == 0) == (err[0] == '\0'));
	if (rc)
		return;
	n = sr_sync_encode(&r, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(sr_sync_decode(buf, (size_t)n, &back, NULL, 0) == 0);
	CU_ASSERT_FATAL(sync_eq(&r, &back));
}

static void check_any_ctl(const void *p, size_t len)
{
	char err[96], buf[SR_MAX_LEN];
	struct sr_ctl r, back;
	int rc, n;

	memset(err, 0x5a, sizeof(err));
	rc = dec_ctl_n(p, len, &r, err, sizeof(err));
	CU_ASSERT_FATAL(rc == 0 || rc == -EINVAL || rc == -ENOTSUP);
	CU_ASSERT_FATAL(memchr(err, '\0', sizeof(err)) != NULL);
	CU_ASSERT_FATAL((rc == 0) == (err[0] == '\0'));
	if (rc)
		return;
	n = sr_ctl_encode(&r, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(sr_ctl_decode(buf, (size_t)n, &back, NULL, 0) == 0);
	CU_ASSERT_FATAL(ctl_eq(&r, &back));
}

/* Every byte of both records replaced by each of these values. */
static void test_byte_flips(void)
{
	static const unsigned char vals[] = {
	    0x00, 0x01, '\t', ' ',  '"',  '\\', '{',  '}', '[',
	    ']',  ',',	':',  '0',  '1',  '9',	'.',  'e', '-',
	    '+',  'a',	'u',  0x7f, 0x80, 0xc3, 0xff,
	};
	const char *texts[] = {sync_text, ctl_text, rich_text};
	unsigned char buf[BUF_LEN];
	size_t t, i, j;

	for (t = 0; t < TG_ARRAY_SIZE(texts); t++) {
		size_t n = strlen(texts[t]);

		for (i = 0; i < n; i++) {
			for (j = 0; j < sizeof(vals); j++) {
				memcpy(buf, texts[t], n);
				buf[i] = vals[j];
				check_any_sync(buf, n);
				check_any_ctl(buf, n);
			}
		}
	}
}

/* Random edits of valid records, and random bytes. */
static void test_random(void)
{
	static const char alphabet[] = "{}[]\":,\\ 0123456789.-eEtrufalsn";
	const char *texts[] = {sync_text, ctl_text, rich_text};
	unsigned char buf[BUF_LEN];
	uint64_t seed = 0x5ec0de;
	size_t n, k, pos;
	int i;

	for (i = 0; i < 100000; i++) {
		uint64_t r = unit_rand(&seed);

		n = strlen(texts[r % 3]);
		memcpy(buf, texts[r % 3], n);
		for (k = 0; k < 1 + (r >> 8) % 4; k++) {
			uint64_t e = unit_rand(&seed);

			pos = (size_t)(e % (n + 1));
			switch ((e >> 32) % 4) {
			case 0: /* replace */
				if (pos < n)
					buf[pos] =
					    alphabet[(e >> 40) %
						     (sizeof(alphabet) - 1)];
				break;
			case 1: /* insert */
				memmove(buf + pos + 1, buf + pos, n - pos);
				buf[pos] = alphabet[(e >> 40) %
						    (sizeof(alphabet) - 1)];
				n++;
				break;
			case 2: /* delete */
				if (pos < n) {
					memmove(buf + pos, buf + pos + 1,
						n - pos - 1);
					n--;
				}
				break;
			default: /* any byte */
				if (pos < n)
					buf[pos] = (unsigned char)(e >> 40);
				break;
			}
		}
		check_any_sync(buf, n);
		check_any_ctl(buf, n);
	}
	for (i = 0; i < 20000; i++) {
		n = (size_t)(unit_rand(&seed) % 64);
		for (k = 0; k < n; k++)
			buf[k] = (unsigned char)unit_rand(&seed);
		check_any_sync(buf, n);
		check_any_ctl(buf, n);
	}
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("syncrec", NULL, NULL);

	if (!s || !CU_add_test(s, "exact encoding", test_encode_exact) ||
	    !CU_add_test(s, "sync round trip", test_sync_round_trip) ||
	    !CU_add_test(s, "control round trip", test_ctl_round_trip) ||
	    !CU_add_test(s, "rates", test_rates) ||
	    !CU_add_test(s, "exact rates", test_rate_exact) ||
	    !CU_add_test(s, "integers", test_integers) ||
	    !CU_add_test(s, "missing fields", test_missing) ||
	    !CU_add_test(s, "duplicate fields", test_duplicate) ||
	    !CU_add_test(s, "wrong value types", test_wrong_type) ||
	    !CU_add_test(s, "type field", test_type_field) ||
	    !CU_add_test(s, "version", test_version) ||
	    !CU_add_test(s, "unknown fields", test_unknown_fields) ||
	    !CU_add_test(s, "nesting", test_nesting) ||
	    !CU_add_test(s, "ids", test_ids) ||
	    !CU_add_test(s, "control fields", test_ctl_fields) ||
	    !CU_add_test(s, "ENOSPC", test_enospc) ||
	    !CU_add_test(s, "longest record", test_max_len) ||
	    !CU_add_test(s, "truncated and trailing", test_truncated) ||
	    !CU_add_test(s, "not records", test_not_records) ||
	    !CU_add_test(s, "byte flips", test_byte_flips) ||
	    !CU_add_test(s, "random edits", test_random))
		return CU_get_error();
	return CUE_SUCCESS;
}
