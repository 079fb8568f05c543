/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sync and control record codec (see syncrec.h and docs/kafka-records.md).
 *
 * Encoding is one snprintf() per record. Ids are restricted to characters
 * that JSON never escapes and levels and op names are fixed words, so no
 * string needs escaping; rates are printed from integer thousandths as
 * "units.thousandths", so no float and no locale is involved.
 *
 * Decoding is a strict reader of one flat JSON object, in two layers. The
 * scanner checks the JSON syntax (RFC 8259, UTF-8 included) and yields the
 * span of each member's value; it skips nested objects and arrays with an
 * explicit stack of at most SR_NEST_MAX brackets, never by recursion, so no
 * input can exhaust the C stack. A table per record kind then interprets the
 * members it knows and ignores the others. Errors in known members are kept
 * until the whole object has been read: a record of a newer version is then
 * refused as such (-ENOTSUP), whatever else changed in it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "severity.h"
#include "syncrec.h"
#include "tg_common.h"

/* Objects and arrays nested in a record, the record itself included. */
#define SR_NEST_MAX 16

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
/* Encoding                                                            */
/* ------------------------------------------------------------------ */

/* Rates go out as "%" PRIu64 ".%03" PRIu64 of these two halves. */
#define RATE_INT(m)  ((m) / 1000)
#define RATE_FRAC(m) ((m) % 1000)

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

/* snprintf's count, or -ENOSPC when it did not fit with its NUL. */
static int encoded(int n, size_t len)
{
	TG_ASSERT(n > 0 && n < SR_MAX_LEN);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int sr_sync_encode(const struct sr_sync *r, char *buf, size_t len)
{
	int n;

	if (!sr_id_valid(r->bucket) || !sr_id_valid(r->node) ||
	    r->demand_milli > SR_RATE_MILLI_MAX ||
	    r->admitted_milli > SR_RATE_MILLI_MAX ||
	    r->rate_milli > SR_RATE_MILLI_MAX)
		return -EINVAL;
	n = snprintf(buf, len,
		     "{\"v\":%d,\"type\":\"sync\",\"bucket\":\"%s\","
		     "\"node\":\"%s\",\"inc\":%" PRIu64 ",\"seq\":%" PRIu64
		     ",\"demand\":%" PRIu64 ".%03" PRIu64
		     ",\"admitted\":%" PRIu64 ".%03" PRIu64 ",\"rate\":%" PRIu64
		     ".%03" PRIu64 ",\"ts\":%" PRIu64
		     ",\"interval_ms\":%" PRIu64 ",\"lease_ms\":%" PRIu64 "}",
		     SR_VERSION, r->bucket, r->node, r->inc, r->seq,
		     RATE_INT(r->demand_milli), RATE_FRAC(r->demand_milli),
		     RATE_INT(r->admitted_milli), RATE_FRAC(r->admitted_milli),
		     RATE_INT(r->rate_milli), RATE_FRAC(r->rate_milli),
		     r->ts_ms, r->interval_ms, r->lease_ms);
	return encoded(n, len);
}

int sr_ctl_encode(const struct sr_ctl *r, char *buf, size_t len)
{
	int n;

	if (!sr_id_valid(r->key) || !sr_id_valid(r->node) ||
	    (unsigned)r->op >= SR_OP_MAX || r->rate_milli > SR_RATE_MILLI_MAX ||
	    !ctl_level_ok(r->op, r->level))
		return -EINVAL;
	n = snprintf(buf, len,
		     "{\"v\":%d,\"type\":\"control\",\"key\":\"%s\","
		     "\"op\":\"%s\",\"rate\":%" PRIu64 ".%03" PRIu64
		     ",\"burst\":%" PRIu64 ",\"level\":\"%s\",\"node\":\"%s\","
		     "\"inc\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"ts\":%" PRIu64
		     "}",
		     SR_VERSION, r->key, op_names[r->op],
		     RATE_INT(r->rate_milli), RATE_FRAC(r->rate_milli),
		     r->burst, r->level, r->node, r->inc, r->seq, r->ts_ms);
	return encoded(n, len);
}

/* ------------------------------------------------------------------ */
/* JSON scanner                                                        */
/* ------------------------------------------------------------------ */

enum val_kind { VAL_STRING, VAL_NUMBER, VAL_OTHER };

/* A value as it stands in the input: a string's contents between the
 * quotes (escapes not yet decoded, but valid), a number's characters. */
struct span {
	const unsigned char *p;
	size_t n;
	enum val_kind kind;
};

struct dec {
	const unsigned char *start; /* the input, for byte offsets */
	const unsigned char *p;	    /* next byte to read, <= end */
	const unsigned char *end;   /* one past the last byte */
	char *err;		    /* message buffer, or NULL */
	size_t err_len;
	bool failed;	  /* err holds a known member's error */
	uint64_t version; /* "v" once read, else 0 */
};

static void set_err(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->err || d->err_len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(d->err, d->err_len, fmt, ap);
	va_end(ap);
}

/* A syntax error ends decoding at once: nothing after it can be trusted. */
static int syntax(struct dec *d, const char *what)
{
	set_err(d, "malformed JSON at byte %zu: %s", (size_t)(d->p - d->start),
		what);
	return -EINVAL;
}

static bool at(const struct dec *d, unsigned char ch)
{
	return d->p < d->end && *d->p == ch;
}

static bool is_digit(unsigned ch)
{
	return ch >= '0' && ch <= '9';
}

static int hex_val(unsigned ch)
{
	if (is_digit(ch))
		return (int)(ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (int)(ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (int)(ch - 'A' + 10);
	return -1;
}

/* The code unit of four hex digits at p, or -1. */
static long hex4(const unsigned char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int h = hex_val(p[i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static void skip_ws(struct dec *d)
{
	while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' ||
				 *d->p == '\n' || *d->p == '\r'))
		d->p++;
}

/* Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		lo = p[0] == 0xe0 ? 0xa0 : 0x80;
		hi = p[0] == 0xed ? 0x9f : 0xbf;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		lo = p[0] == 0xf0 ? 0x90 : 0x80;
		hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The string at d->p (on its opening quote). */
static int scan_string(struct dec *d, struct span *sp)
{
	const unsigned char *q = d->p + 1;
	size_t n;

	sp->p = q;
	sp->kind = VAL_STRING;
	while (q < d->end && *q != '"') {
		d->p = q;
		if (*q < 0x20)
			return syntax(d, "control character in a string");
		if (*q == '\\') {
			if (d->end - q < 2)
				break;
			if (q[1] == 'u') {
				if (d->end - q < 6 || hex4(q + 2) < 0)
					return syntax(d, "bad \\u escape");
				q += 6;
			} else if (q[1] && strchr("\"\\/bfnrt", q[1])) {
				q += 2;
			} else {
				return syntax(d, "bad escape");
			}
			continue;
		}
		n = utf8_len(q, d->end);
		if (n == 0)
			return syntax(d, "invalid UTF-8 in a string");
		q += n;
	}
	if (q >= d->end) {
		d->p = d->end;
		return syntax(d, "unterminated string");
	}
	sp->n = (size_t)(q - sp->p);
	d->p = q + 1;
	return 0;
}

/* Past a run of at least one digit at q, or NULL when there is none. */
static const unsigned char *digits(const unsigned char *q,
				   const unsigned char *e)
{
	if (q >= e || !is_digit(*q))
		return NULL;
	while (q < e && is_digit(*q))
		q++;
	return q;
}

/* The number at d->p, by JSON's grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
 * What follows it is the caller's business ("01" is "0" then junk). */
static int scan_number(struct dec *d, struct span *sp)
{
	const unsigned char *q = d->p, *e = d->end;

	sp->p = q;
	sp->kind = VAL_NUMBER;
	if (q < e && *q == '-')
		q++;
	if (q < e && *q == '0')
		q++;
	else
		q = digits(q, e);
	if (q && q < e && *q == '.')
		q = digits(q + 1, e);
	if (q && q < e && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < e && (*q == '+' || *q == '-'))
			q++;
		q = digits(q, e);
	}
	if (!q)
		return syntax(d, "bad number");
	sp->n = (size_t)(q - sp->p);
	d->p = q;
	return 0;
}

static int scan_literal(struct dec *d, const char *word, struct span *sp)
{
	size_t n = strlen(word);

	if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
		return syntax(d, "expected a value");
	sp->p = d->p;
	sp->n = n;
	sp->kind = VAL_OTHER;
	d->p += n;
	return 0;
}

/* A string, number, true, false or null at d->p. */
static int scan_scalar(struct dec *d, struct span *sp)
{
	if (d->p >= d->end)
		return syntax(d, "expected a value");
	switch (*d->p) {
	case '"':
		return scan_string(d, sp);
	case 't':
		return scan_literal(d, "true", sp);
	case 'f':
		return scan_literal(d, "false", sp);
	case 'n':
		return scan_literal(d, "null", sp);
	default:
		if (*d->p == '-' || is_digit(*d->p))
			return scan_number(d, sp);
		return syntax(d, "expected a value");
	}
}

/* A member's name and its colon; d->p is left on the value. */
static int scan_key(struct dec *d, struct span *key)
{
	int rc;

	if (!at(d, '"'))
		return syntax(d, "expected a member name");
	rc = scan_string(d, key);
	if (rc)
		return rc;
	skip_ws(d);
	if (!at(d, ':'))
		return syntax(d, "expected ':'");
	d->p++;
	skip_ws(d);
	return 0;
}

static unsigned char closer(unsigned char open)
{
	return open == '{' ? '}' : ']';
}

/*
 * Skips the object or array at d->p (a member of the record) without
 * recursion: stack[1..depth-1] holds the brackets still open, stack[0]
 * stands for the record itself. Deeper than SR_NEST_MAX is refused.
 */
static int skip_nested(struct dec *d)
{
	unsigned char stack[SR_NEST_MAX];
	unsigned depth = 1;
	struct span sp;
	int rc;

	for (;;) {
		/* At a value. */
		if (at(d, '{') || at(d, '[')) {
			if (depth == SR_NEST_MAX)
				return syntax(d, "nested too deep");
			stack[depth++] = *d->p++;
			skip_ws(d);
			if (at(d, closer(stack[depth - 1]))) {
				d->p++;
				depth--;
			} else {
				if (stack[depth - 1] == '{') {
					rc = scan_key(d, &sp);
					if (rc)
						return rc;
				}
				continue;
			}
		} else {
			rc = scan_scalar(d, &sp);
			if (rc)
				return rc;
		}
		/* After a value: close what ends here, or go to the next. */
		for (;;) {
			if (depth == 1)
				return 0;
			skip_ws(d);
			if (at(d, closer(stack[depth - 1]))) {
				d->p++;
				depth--;
				continue;
			}
			if (!at(d, ','))
				return syntax(d, stack[depth - 1] == '{'
						     ? "expected ',' or '}'"
						     : "expected ',' or ']'");
			d->p++;
			skip_ws(d);
			if (stack[depth - 1] == '{') {
				rc = scan_key(d, &sp);
				if (rc)
					return rc;
			}
			break;
		}
	}
}

/*
 * Copies the (valid) string of sp, escapes decoded, into buf[cap], padded
 * with NULs. Returns its length, or cap when it does not fit or holds a NUL
 * or a non-ASCII character: no value this codec knows has those, so the
 * caller reports it as invalid without having to look further.
 */
static size_t str_get(const struct span *sp, char *buf, size_t cap)
{
	static const char esc_names[] = "bfnrt", esc_chars[] = "\b\f\n\r\t";
	const unsigned char *q = sp->p, *e = sp->p + sp->n;
	size_t n = 0;

	memset(buf, 0, cap);
	while (q < e) {
		long ch = *q++;

		if (ch == '\\' && *q == 'u') {
			ch = hex4(q + 1);
			q += 5;
		} else if (ch == '\\') {
			/* '"', '\\' and '/' stand for themselves */
			const char *c = strchr(esc_names, *q);

			ch = c ? esc_chars[c - esc_names] : *q;
			q++;
		}
		if (ch <= 0 || ch >= 0x80 || n == cap - 1) {
			memset(buf, 0, cap);
			return cap;
		}
		buf[n++] = (char)ch;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Record fields                                                       */
/* ------------------------------------------------------------------ */

enum field_kind {
	F_VERSION, /* "v": integer >= 1 */
	F_TYPE,	   /* "type": the record kind's name */
	F_ID,	   /* char[SR_ID_LEN], sr_id_valid() */
	F_U64,	   /* uint64_t */
	F_RATE,	   /* uint64_t thousandths, <= SR_RATE_MILLI_MAX */
	F_OP,	   /* enum sr_op, by name */
	F_LEVEL,   /* char[SR_LEVEL_LEN]; checked against op afterwards */
};

struct field {
	const char *name;
	enum field_kind kind;
	size_t off; /* of the member in the record struct */
};

/* A record kind: its "type" and its members, all required. */
struct rec_kind {
	const char *type;
	const char *other_type; /* the other kind, for a clearer error */
	const struct field *fields;
	size_t n_fields;
};

#define KEY_LEN 16 /* longer than any known member name */

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

/* The first error in a known member is kept; a wrong "type" replaces it,
 * being the one that explains the others. */
static void field_err(struct dec *d, const struct field *f, const char *what)
{
	if (d->failed)
		return;
	d->failed = true;
	set_err(d, "field '%s': %s", f->name, what);
}

/* A decimal integer below 2^64 (the scanner has checked the grammar). */
static bool get_u64(const struct span *sp, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (sp->kind != VAL_NUMBER)
		return false;
	for (i = 0; i < sp->n; i++) {
		unsigned dg = sp->p[i] - '0';

		if (!is_digit(sp->p[i]))
			return false;
		if (v > (UINT64_MAX - dg) / 10)
			return false;
		v = v * 10 + dg;
	}
	*out = v;
	return true;
}

/* A rate "N" or "N.D" with 1..3 decimals, into thousandths. Returns 0,
 * -EINVAL for another form, -ERANGE above SR_RATE_MILLI_MAX. */
static int get_rate(const struct span *sp, uint64_t *out)
{
	const uint64_t int_max = SR_RATE_MILLI_MAX / 1000;
	uint64_t ip = 0, frac = 0;
	size_t i = 0, nfrac = 0;
	bool big = false;

	if (sp->kind != VAL_NUMBER)
		return -EINVAL;
	for (; i < sp->n && is_digit(sp->p[i]); i++) {
		/* Past int_max the value is too big whatever follows: stop
		 * counting, keep checking the form. */
		if (ip > int_max)
			big = true;
		else
			ip = ip * 10 + (sp->p[i] - '0');
	}
	if (i < sp->n && sp->p[i] == '.') {
		for (i++; i < sp->n && is_digit(sp->p[i]); i++, nfrac++)
			if (nfrac < 3)
				frac = frac * 10 + (sp->p[i] - '0');
		if (nfrac > 3)
			return -EINVAL;
	}
	if (i != sp->n)
		return -EINVAL; /* a sign or an exponent */
	for (; nfrac < 3; nfrac++)
		frac *= 10;
	if (big || ip > int_max || ip * 1000 + frac > SR_RATE_MILLI_MAX)
		return -ERANGE;
	*out = ip * 1000 + frac;
	return 0;
}

static void take_rate(struct dec *d, const struct field *f,
		      const struct span *sp, uint64_t *out)
{
	char what[80];
	int rc = get_rate(sp, out);

	if (rc == -EINVAL) {
		field_err(d, f, "not a rate with at most 3 decimals");
	} else if (rc == -ERANGE) {
		snprintf(what, sizeof(what),
			 "above the largest rate, %" PRIu64 ".%03" PRIu64,
			 RATE_INT(SR_RATE_MILLI_MAX),
			 RATE_FRAC(SR_RATE_MILLI_MAX));
		field_err(d, f, what);
	}
}

static void take_type(struct dec *d, const struct rec_kind *k,
		      const struct field *f, const struct span *sp)
{
	char s[KEY_LEN];

	if (sp->kind != VAL_STRING) {
		field_err(d, f, "not a string");
		return;
	}
	str_get(sp, s, sizeof(s));
	if (strcmp(s, k->type) == 0)
		return;
	d->failed = true;
	if (strcmp(s, k->other_type) == 0)
		set_err(d, "field 'type': a %s record, not a %s record",
			k->other_type, k->type);
	else
		set_err(d, "field 'type': not \"%s\"", k->type);
}

static void take_op(struct dec *d, const struct field *f, const struct span *sp,
		    enum sr_op *op)
{
	char s[KEY_LEN];

	if (sp->kind == VAL_STRING && str_get(sp, s, sizeof(s)) < sizeof(s)) {
		for (unsigned i = 0; i < SR_OP_MAX; i++) {
			if (strcmp(s, op_names[i]) == 0) {
				*op = (enum sr_op)i;
				return;
			}
		}
	}
	field_err(d, f,
		  "not one of \"set-rate\", \"reset\", "
		  "\"severity-force\"");
}

/* Reads the value of known member f into the record at rec. */
static void take(struct dec *d, const struct rec_kind *k, const struct field *f,
		 const struct span *sp, void *rec)
{
	char *dst = (char *)rec + f->off;
	uint64_t v;

	switch (f->kind) {
	case F_VERSION:
		if (!get_u64(sp, &v) || v == 0)
			field_err(d, f, "not a version (an integer >= 1)");
		else
			d->version = v;
		break;
	case F_TYPE:
		take_type(d, k, f, sp);
		break;
	case F_ID:
		if (sp->kind != VAL_STRING)
			field_err(d, f, "not a string");
		else if (str_get(sp, dst, SR_ID_LEN) == SR_ID_LEN ||
			 !sr_id_valid(dst))
			field_err(
			    d, f,
			    "not an id (1 to 63 of A-Z a-z 0-9 . _ : @ / -)");
		break;
	case F_U64:
		if (!get_u64(sp, (uint64_t *)(void *)dst))
			field_err(d, f, "not an integer from 0 to 2^64-1");
		break;
	case F_RATE:
		take_rate(d, f, sp, (uint64_t *)(void *)dst);
		break;
	case F_OP:
		take_op(d, f, sp, (enum sr_op *)(void *)dst);
		break;
	case F_LEVEL:
		if (sp->kind != VAL_STRING ||
		    str_get(sp, dst, SR_LEVEL_LEN) == SR_LEVEL_LEN)
			field_err(d, f, "not a severity level");
		break;
	}
}

static const struct field *find_field(const struct rec_kind *k,
				      const struct span *key)
{
	char name[KEY_LEN];
	size_t n = str_get(key, name, sizeof(name)), i;

	if (n == sizeof(name))
		return NULL;
	for (i = 0; i < k->n_fields; i++)
		if (strcmp(name, k->fields[i].name) == 0)
			return &k->fields[i];
	return NULL;
}

/* A member's value: a scalar, or a nested object or array (skipped). */
static int scan_value(struct dec *d, struct span *val)
{
	if (at(d, '{') || at(d, '[')) {
		val->p = d->p;
		val->n = 0;
		val->kind = VAL_OTHER;
		return skip_nested(d);
	}
	return scan_scalar(d, val);
}

/* The members of the record, d->p just past its '{', up to its '}'. Sets
 * bit i of *seen for each known member i met. */
static int scan_members(struct dec *d, const struct rec_kind *k, void *rec,
			uint32_t *seen)
{
	skip_ws(d);
	if (at(d, '}')) {
		d->p++;
		return 0;
	}
	for (;;) {
		const struct field *f;
		struct span key, val;
		uint32_t bit;
		int rc;

		rc = scan_key(d, &key);
		if (rc == 0)
			rc = scan_value(d, &val);
		if (rc)
			return rc;
		f = find_field(k, &key);
		if (f) {
			bit = UINT32_C(1) << (f - k->fields);
			if (*seen & bit)
				field_err(d, f, "appears twice");
			else
				take(d, k, f, &val, rec);
			*seen |= bit;
		}
		skip_ws(d);
		if (at(d, '}')) {
			d->p++;
			return 0;
		}
		if (!at(d, ','))
			return syntax(d, "expected ',' or '}'");
		d->p++;
		skip_ws(d);
	}
}

/* Decodes one record of kind k into rec; the common part of both kinds. */
static int decode(const struct rec_kind *k, const void *buf, size_t len,
		  void *rec, char *err, size_t err_len)
{
	struct dec d = {
	    .start = buf, .p = buf, .end = buf, .err = err, .err_len = err_len};
	uint32_t seen = 0;
	size_t i;
	int rc;

	if (len) /* buf may be NULL when len is 0 */
		d.end = d.start + len;
	if (err && err_len)
		err[0] = '\0';
	skip_ws(&d);
	if (!at(&d, '{'))
		return syntax(&d, "expected '{'");
	d.p++;
	rc = scan_members(&d, k, rec, &seen);
	if (rc)
		return rc;
	skip_ws(&d);
	if (d.p != d.end)
		return syntax(&d, "trailing bytes after the record");
	/* Only now: a newer record may differ in any member. */
	if (d.version > SR_VERSION) {
		set_err(&d,
			"version %" PRIu64 " is newer than this tidegate (%d)",
			d.version, SR_VERSION);
		return -ENOTSUP;
	}
	if (d.failed)
		return -EINVAL;
	for (i = 0; i < k->n_fields; i++) {
		if (!(seen & UINT32_C(1) << i)) {
			set_err(&d, "missing field '%s'", k->fields[i].name);
			return -EINVAL;
		}
	}
	return 0;
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
	enum sev_level lv;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = decode(&ctl_kind, buf, len, r, err, err_len);
	if (rc)
		return rc;
	/* Checked once every member is in: the level depends on the op. */
	if (r->op == SR_OP_SEVERITY && sev_level_parse(r->level, &lv) != 0) {
		if (err && err_len)
			snprintf(err, err_len,
				 "field 'level': not \"normal\", \"warning\", "
				 "\"critical\" or \"emergency\"");
		return -EINVAL;
	}
	if (r->op != SR_OP_SEVERITY && r->level[0] != '\0') {
		if (err && err_len)
			snprintf(err, err_len,
				 "field 'level': must be \"\" unless op is "
				 "\"severity-force\"");
		return -EINVAL;
	}
	return 0;
}
