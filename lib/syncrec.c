/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sync and control record codec (see syncrec.h and docs/kafka-records.md),
 * on jansson: DESIGN.md wants a JSON library for every JSON the program
 * reads or writes, so nothing here scans or escapes JSON text by hand.
 *
 * One table per record kind lists its members in the order they are
 * written, with where each lives in the record struct and how it maps to
 * JSON; the encoder builds a jansson object from it (jansson keeps the
 * insertion order when dumping), the decoder checks a parsed object
 * against it. "v" and then "type" are checked before any other member: a
 * record of a newer version may differ in anything, and a record of the
 * other kind is best reported as such.
 *
 * Every jansson value made here is released before returning: jansson
 * allocates, this codec holds nothing between calls.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "severity.h"
#include "syncrec.h"
#include "tg_common.h"

/* Integers go through json_int_t, which must hold every value up to
 * INT64_MAX (the range the format allows). */
_Static_assert(sizeof(json_int_t) == sizeof(int64_t),
	       "json_int_t is not 64 bits");

/* Compact (no spaces: one kcat line), insertion order. Rates print with
 * 15 significant digits while every rate of the record is below 10^12
 * tokens/s: a decimal of at most 15 digits (DBL_DIG) comes back from the
 * nearest double as itself, so 0.009 prints as "0.009", not
 * "0.008999999999999999". Above that, 16 digits, enough for every
 * thousandth up to SR_RATE_MILLI_MAX (2^50 thousandths has 16 digits),
 * some with a stray last digit; readers round to thousandths anyway. */
#define SR_DUMP_FLAGS(digits) (JSON_COMPACT | JSON_REAL_PRECISION(digits))
#define SR_CLEAN_MILLI_MAX UINT64_C(999999999999999) /* < 10^12 /s */

static const char *const op_names[SR_OP_MAX] = {"set-rate", "reset",
						"severity-force"};

const char *sr_op_name(enum sr_op op)
{
	return (unsigned)op < SR_OP_MAX ? op_names[op] : "?";
}

static int id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("._:@/-", ch) != NULL;
}

int sr_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (n >= SR_ID_LEN - 1 || !id_char(s[n]))
			return 0;
	return n > 0;
}

/* ------------------------------------------------------------------ */
/* Record fields                                                       */
/* ------------------------------------------------------------------ */

enum field_kind {
	F_VERSION, /* "v": integer >= 1; SR_VERSION when encoding */
	F_TYPE,	   /* "type": the record kind's name */
	F_ID,	   /* char[SR_ID_LEN], sr_id_valid() */
	F_U64,	   /* uint64_t, 0..INT64_MAX */
	F_RATE,	   /* uint64_t thousandths, <= SR_RATE_MILLI_MAX; a real */
	F_OP,	   /* enum sr_op, by name */
	F_LEVEL,   /* char[SR_LEVEL_LEN]; its fit with op checked apart */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off; /* of the member in the record struct */
};

/* A record kind: its "type" and its members, all required, in the order
 * the encoder writes them. */
struct rec_kind {
	const char *type;
	const char *other_type; /* the other kind, for a clearer error */
	const struct field *fields;
	size_t n_fields;
};

static const struct field sync_fields[] = {
    {"v", F_VERSION, 0},
    {"type", F_TYPE, 0},
    {"bucket", F_ID, offsetof(struct sr_sync, bucket)},
    {"node", F_ID, offsetof(struct sr_sync, node)},
    {"inc", F_U64, offsetof(struct sr_sync, inc)},
    {"seq", F_U64, offsetof(struct sr_sync, seq)},
    {"demand", F_RATE, offsetof(struct sr_sync, demand_milli)},
    {"admitted", F_RATE, offsetof(struct sr_sync, admitted_milli)},
    {"rate", F_RATE, offsetof(struct sr_sync, rate_milli)},
    {"ts", F_U64, offsetof(struct sr_sync, ts_ms)},
    {"interval_ms", F_U64, offsetof(struct sr_sync, interval_ms)},
    {"lease_ms", F_U64, offsetof(struct sr_sync, lease_ms)},
};

static const struct field ctl_fields[] = {
    {"v", F_VERSION, 0},
    {"type", F_TYPE, 0},
    {"key", F_ID, offsetof(struct sr_ctl, key)},
    {"op", F_OP, offsetof(struct sr_ctl, op)},
    {"rate", F_RATE, offsetof(struct sr_ctl, rate_milli)},
    {"burst", F_U64, offsetof(struct sr_ctl, burst)},
    {"level", F_LEVEL, offsetof(struct sr_ctl, level)},
    {"node", F_ID, offsetof(struct sr_ctl, node)},
    {"inc", F_U64, offsetof(struct sr_ctl, inc)},
    {"seq", F_U64, offsetof(struct sr_ctl, seq)},
    {"ts", F_U64, offsetof(struct sr_ctl, ts_ms)},
};

static const struct rec_kind sync_kind = {"sync", "control", sync_fields,
					  TG_ARRAY_SIZE(sync_fields)};
static const struct rec_kind ctl_kind = {"control", "sync", ctl_fields,
					 TG_ARRAY_SIZE(ctl_fields)};

/* Rates in messages: "units.thousandths", from the integer. */
#define RATE_INT(m)  ((m) / 1000)
#define RATE_FRAC(m) ((m) % 1000)

/* The largest rate in tokens/s, as a double: the decoder's bound. */
#define RATE_MAX ((double)SR_RATE_MILLI_MAX / 1000.0)

/* The level a control record may carry with its op: a severity name for
 * severity-force, "" for the others (the decoder checks the same). */
static bool ctl_level_ok(enum sr_op op, const char level[SR_LEVEL_LEN])
{
	enum sev_level lv;

	if (memchr(level, '\0', SR_LEVEL_LEN) == NULL)
		return false;
	if (op == SR_OP_SEVERITY)
		return sev_level_parse(level, &lv) == 0;
	return level[0] == '\0';
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/*
 * Adds field f of the record at rec to obj. Returns 0, -EINVAL when the
 * value is one the format cannot carry, -ENOMEM when jansson could not
 * allocate (json_object_set_new() takes v in every case and fails on a
 * NULL one, so nothing leaks).
 */
static int field_put(json_t *obj, const struct rec_kind *k,
		     const struct field *f, const void *rec)
{
	const char *src = (const char *)rec + f->off;
	uint64_t u;
	json_t *v;

	switch (f->kind) {
	case F_VERSION:
		v = json_integer(SR_VERSION);
		break;
	case F_TYPE:
		v = json_string(k->type);
		break;
	case F_ID:
		if (!sr_id_valid(src))
			return -EINVAL;
		v = json_string(src);
		break;
	case F_U64:
		u = *(const uint64_t *)(const void *)src;
		if (u > (uint64_t)INT64_MAX)
			return -EINVAL;
		v = json_integer((json_int_t)u);
		break;
	case F_RATE:
		u = *(const uint64_t *)(const void *)src;
		if (u > SR_RATE_MILLI_MAX)
			return -EINVAL;
		v = json_real((double)u / 1000.0);
		break;
	case F_OP: {
		enum sr_op op = *(const enum sr_op *)(const void *)src;

		if ((unsigned)op >= SR_OP_MAX)
			return -EINVAL;
		v = json_string(op_names[op]);
		break;
	}
	case F_LEVEL: /* checked by the caller, with the op */
		v = json_string(src);
		break;
	default:
		return -EINVAL;
	}
	return json_object_set_new(obj, f->name, v) == 0 ? 0 : -ENOMEM;
}

/* Encodes the record at rec of kind k; see sr_sync_encode(). */
static int encode(const struct rec_kind *k, const void *rec, char *buf,
		  size_t len)
{
	json_t *obj = json_object();
	size_t i, n;
	int rc = obj ? 0 : -ENOMEM, digits = 15;

	for (i = 0; rc == 0 && i < k->n_fields; i++) {
		const struct field *f = &k->fields[i];

		rc = field_put(obj, k, f, rec);
		if (f->kind == F_RATE &&
		    *(const uint64_t *)(const void *)((const char *)rec +
						      f->off) >
			    SR_CLEAN_MILLI_MAX)
			digits = 16;
	}
	if (rc)
		goto out;
	/* json_dumpb() writes at most len bytes, no NUL, and returns the
	 * size of the whole dump (0 on failure): it fits with its NUL only
	 * when that size is below len. */
	n = json_dumpb(obj, buf, len, SR_DUMP_FLAGS(digits));
	TG_ASSERT(n < SR_MAX_LEN); /* any valid record fits */
	if (n == 0) {
		rc = -ENOMEM;
	} else if (n >= len) {
		rc = -ENOSPC;
		if (len)
			buf[0] = '\0';
	} else {
		buf[n] = '\0';
		rc = (int)n;
	}
out:
	json_decref(obj);
	return rc;
}

int sr_sync_encode(const struct sr_sync *r, char *buf, size_t len)
{
	return encode(&sync_kind, r, buf, len);
}

int sr_ctl_encode(const struct sr_ctl *r, char *buf, size_t len)
{
	if (!ctl_level_ok(r->op, r->level))
		return -EINVAL;
	return encode(&ctl_kind, r, buf, len);
}

/* ------------------------------------------------------------------ */
/* Decoding                                                            */
/* ------------------------------------------------------------------ */

struct dec {
	char *err; /* message buffer, or NULL */
	size_t err_len;
};

static int set_err(const struct dec *d, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes the message (when there is room) and returns rc. */
static int set_err(const struct dec *d, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!d->err || d->err_len == 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(d->err, d->err_len, fmt, ap);
	va_end(ap);
	return rc;
}

static int field_err(const struct dec *d, const struct field *f,
		     const char *what)
{
	return set_err(d, -EINVAL, "field '%s': %s", f->name, what);
}

/* A rate: a JSON integer or real, finite, from 0 to RATE_MAX, rounded to
 * the nearest thousandth (a fourth decimal is not refused). */
static int take_rate(const struct dec *d, const struct field *f,
		     const json_t *v, uint64_t *out)
{
	double x;

	if (!json_is_number(v))
		return field_err(d, f, "not a rate >= 0");
	x = json_number_value(v);
	if (!isfinite(x) || !(x >= 0))
		return field_err(d, f, "not a rate >= 0");
	if (x > RATE_MAX)
		return set_err(d, -EINVAL,
			       "field '%s': above the largest rate, %" PRIu64
			       ".%03" PRIu64,
			       f->name, RATE_INT(SR_RATE_MILLI_MAX),
			       RATE_FRAC(SR_RATE_MILLI_MAX));
	/* Below 2^50 thousandths, x * 1000 is within 0.2 of the integer
	 * the sender had: llround() finds it again. */
	*out = (uint64_t)llround(x * 1000.0);
	TG_ASSERT(*out <= SR_RATE_MILLI_MAX);
	return 0;
}

/* A string member copied into dst[cap], or -EINVAL when it does not fit
 * (jansson refuses "\u0000" in strings, so the length is the C length). */
static int take_str(const json_t *v, char *dst, size_t cap)
{
	size_t n;

	if (!json_is_string(v))
		return -EINVAL;
	n = json_string_length(v);
	if (n >= cap)
		return -EINVAL;
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

static int take_type(const struct dec *d, const struct rec_kind *k,
		     const struct field *f, const json_t *v)
{
	const char *s = json_string_value(v);

	if (!s)
		return field_err(d, f, "not a string");
	if (strcmp(s, k->type) == 0)
		return 0;
	if (strcmp(s, k->other_type) == 0)
		return set_err(d, -EINVAL,
			       "field 'type': a %s record, not a %s record",
			       k->other_type, k->type);
	return set_err(d, -EINVAL, "field 'type': not \"%s\"", k->type);
}

static int take_op(const struct dec *d, const struct field *f, const json_t *v,
		   enum sr_op *op)
{
	const char *s = json_string_value(v);
	unsigned i;

	for (i = 0; s && i < SR_OP_MAX; i++) {
		if (strcmp(s, op_names[i]) == 0) {
			*op = (enum sr_op)i;
			return 0;
		}
	}
	return field_err(d, f,
			 "not one of \"set-rate\", \"reset\", "
			 "\"severity-force\"");
}

/* Reads the value v of member f (not "v") into the record at rec. */
static int take(const struct dec *d, const struct rec_kind *k,
		const struct field *f, const json_t *v, void *rec)
{
	char *dst = (char *)rec + f->off;

	switch (f->kind) {
	case F_TYPE:
		return take_type(d, k, f, v);
	case F_ID:
		if (!json_is_string(v))
			return field_err(d, f, "not a string");
		if (take_str(v, dst, SR_ID_LEN) != 0 || !sr_id_valid(dst))
			return field_err(
			    d, f,
			    "not an id (1 to 63 of A-Z a-z 0-9 . _ : @ / -)");
		return 0;
	case F_U64:
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return field_err(d, f,
					 "not an integer from 0 to 2^63-1");
		*(uint64_t *)(void *)dst = (uint64_t)json_integer_value(v);
		return 0;
	case F_RATE:
		return take_rate(d, f, v, (uint64_t *)(void *)dst);
	case F_OP:
		return take_op(d, f, v, (enum sr_op *)(void *)dst);
	case F_LEVEL:
		if (take_str(v, dst, SR_LEVEL_LEN) != 0)
			return field_err(d, f, "not a severity level");
		return 0;
	default: /* F_VERSION: see check_version() */
		return 0;
	}
}

/* "v" of the record obj: 0 when it is SR_VERSION or below. */
static int check_version(const struct dec *d, const json_t *obj)
{
	const json_t *v = json_object_get(obj, "v");
	json_int_t ver;

	if (!v)
		return set_err(d, -EINVAL, "missing field 'v'");
	ver = json_is_integer(v) ? json_integer_value(v) : 0;
	if (ver < 1)
		return set_err(d, -EINVAL,
			       "field 'v': not a version (an integer >= 1)");
	if (ver > SR_VERSION)
		return set_err(d, -ENOTSUP,
			       "version %" JSON_INTEGER_FORMAT
			       " is newer than this tidegate (%d)",
			       ver, SR_VERSION);
	return 0;
}

/* Decodes one record of kind k into rec (zeroed by the caller). */
static int decode(const struct rec_kind *k, const void *buf, size_t len,
		  void *rec, char *err, size_t err_len)
{
	const struct dec d = {err, err_len};
	json_error_t jerr;
	json_t *root;
	size_t i;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	/* json_loadb() refuses a NULL buffer, even empty; duplicates, NULs
	 * (without JSON_ALLOW_NUL) and bytes after the value are errors. */
	root = json_loadb(len ? buf : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return set_err(&d, -ENOMEM, "out of memory");
		return set_err(&d, -EINVAL, "malformed JSON at byte %d: %s",
			       jerr.position, jerr.text);
	}
	if (!json_is_object(root)) {
		rc = set_err(&d, -EINVAL, "not a JSON object");
		goto out;
	}
	rc = check_version(&d, root);
	for (i = 1; rc == 0 && i < k->n_fields; i++) {
		const struct field *f = &k->fields[i];
		const json_t *v = json_object_get(root, f->name);

		if (!v)
			rc =
			    set_err(&d, -EINVAL, "missing field '%s'", f->name);
		else
			rc = take(&d, k, f, v, rec);
	}
out:
	json_decref(root);
	return rc;
}

int sr_sync_decode(const void *buf, size_t len, struct sr_sync *r, char *err,
		   size_t err_len)
{
	memset(r, 0, sizeof(*r));
	return decode(&sync_kind, buf, len, r, err, err_len);
}

int sr_ctl_decode(const void *buf, size_t len, struct sr_ctl *r, char *err,
		  size_t err_len)
{
	const struct dec d = {err, err_len};
	enum sev_level lv;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = decode(&ctl_kind, buf, len, r, err, err_len);
	if (rc)
		return rc;
	/* Checked once every member is in: the level depends on the op. */
	if (r->op == SR_OP_SEVERITY && sev_level_parse(r->level, &lv) != 0)
		return set_err(&d, -EINVAL,
			       "field 'level': not \"normal\", \"warning\", "
			       "\"critical\" or \"emergency\"");
	if (r->op != SR_OP_SEVERITY && r->level[0] != '\0')
		return set_err(&d, -EINVAL,
			       "field 'level': must be \"\" unless op is "
			       "\"severity-force\"");
	return 0;
}
