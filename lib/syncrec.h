/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The records tidegate nodes exchange through Kafka (DESIGN.md, "One bucket,
 * many servers"), as one-line JSON objects so that kcat shows them as they
 * are. The formats are documented in docs/kafka-records.md.
 *
 * Sync record (sync topic, key = the shared bucket id), every sync interval
 * from every node, per shared bucket:
 *
 *   {"v":1,"type":"sync","bucket":"orders","node":"n1","inc":17333...,
 *    "seq":42,"demand":1234.567,"admitted":1000.0,"rate":3000.0,
 *    "ts":1733350000123,"interval_ms":100,"lease_ms":1000}
 *
 * Control record (control topic, compacted, key = the record's "key"): the
 * override state of one key after an operator's command, with the command
 * that made it. A cleared override is a tombstone (a null value), which the
 * codec does not see.
 *
 *   {"v":1,"type":"control","key":"orders","op":"set-rate","rate":500.0,
 *    "burst":0,"level":"","node":"n1","inc":17333...,"seq":7,
 *    "ts":1733350000123}
 *
 * Numbers: rates are held here as integer thousandths of a token/s, at most
 * SR_RATE_MILLI_MAX, and written as JSON reals ("7.0", "0.009",
 * "1234.567": exactly their decimal below 10^12/s, 16 significant digits
 * above); below 2^50 thousandths a real read back
 * rounds to exactly the thousandths that were written, so every node
 * computes with the same numbers. A rate read with more than three
 * decimals is rounded to the nearest thousandth. The others are unsigned
 * integers below 2^63 (jansson's json_int_t is a signed 64-bit integer).
 * Ids are 1..63 characters of [A-Za-z0-9._:@/-]. Decoding is strict about
 * what it needs (every field present once, right type, in range) and
 * ignores fields it does not know, so a later minor change can add fields;
 * a record with "v" above SR_VERSION is refused with -ENOTSUP.
 *
 * Details of the codec (lib/syncrec.c): no hand-written JSON reader or
 * writer; jansson does both. The encoder writes the members in the order
 * above, compact (no spaces), rates as reals (a whole rate gets ".0"). The
 * decoder takes any one JSON object jansson reads (RFC 8259, UTF-8): members
 * in any order, whitespace between tokens, escapes, unknown members of any
 * type and nesting (up to jansson's depth limit). It refuses a repeated
 * name anywhere in the record, "\u0000" in a string and bytes after the
 * object. A rate is any JSON number ("7", "7.5", "7.500", "7e0"). The
 * "level" of a control record must be a severity name (lib/severity.h)
 * when op is severity-force, and "" otherwise; both sides check it.
 *
 * C11 and jansson: each call builds or parses a jansson value and frees it
 * before returning (so -ENOMEM is possible); no I/O; any thread.
 */
#ifndef TG_SYNCREC_H
#define TG_SYNCREC_H

#include <stddef.h>
#include <stdint.h>

#define SR_VERSION 1
#define SR_ID_LEN 64	/* ids: 1..63 characters, NUL-terminated */
#define SR_LEVEL_LEN 16 /* severity level names */
#define SR_MAX_LEN 512	/* longest encoded record, with the NUL */
/* Largest rate a record holds: 2^50 thousandths (1.126e12 tokens/s), above
 * tidegate's largest rate (2^40 tokens/s) and low enough that a rate survives
 * the trip through a double exactly. */
#define SR_RATE_MILLI_MAX (UINT64_C(1) << 50)

/** One node's view of one shared bucket, for one sync interval. */
struct sr_sync {
	char bucket[SR_ID_LEN]; /**< shared bucket id */
	char node[SR_ID_LEN];	/**< node id */
	uint64_t inc;		/**< incarnation: the node's start time, µs
				 *   since the epoch (a restart is newer) */
	uint64_t seq;		/**< per (node, inc), +1 per record sent */
	uint64_t demand_milli;	 /**< demand, thousandths of a token/s */
	uint64_t admitted_milli; /**< admitted, thousandths of a token/s */
	uint64_t rate_milli;	 /**< the cluster rate this node splits */
	uint64_t ts_ms;		 /**< sender's wall clock, ms since epoch */
	uint64_t interval_ms;	 /**< sender's sync interval */
	uint64_t lease_ms;	 /**< sender's lease */
};

/** Operator commands carried by control records. */
enum sr_op {
	SR_OP_SET_RATE, /**< "set-rate": rate (and burst) are the override */
	SR_OP_RESET,	/**< "reset": refill the bucket; rate/burst: state */
	SR_OP_SEVERITY, /**< "severity-force": level is forced */
	SR_OP_MAX
};

/** The state of one control key after a command. */
struct sr_ctl {
	char key[SR_ID_LEN];	  /**< shared id, "@severity", or
				   *   "node/NODE/BUCKET" for a local bucket */
	enum sr_op op;		  /**< the command that wrote this state */
	uint64_t rate_milli;	  /**< override rate; 0: none */
	uint64_t burst;		  /**< override burst; 0: the configured */
	char level[SR_LEVEL_LEN]; /**< forced level (SR_OP_SEVERITY), else "" */
	char node[SR_ID_LEN];	  /**< who sent it */
	uint64_t inc, seq, ts_ms; /**< as in sr_sync */
};

/** "set-rate", "reset", "severity-force"; "?" when out of range. */
const char *sr_op_name(enum sr_op op);

/** Whether s is a valid id (1..63 characters of [A-Za-z0-9._:@/-]). */
int sr_id_valid(const char *s);

/**
 * Encode r as one JSON object, NUL-terminated, into buf. Returns the length
 * without the NUL, or -EINVAL (an invalid id, a rate above
 * SR_RATE_MILLI_MAX, an integer above INT64_MAX, an unknown op, a level
 * that does not go with the op), -ENOSPC (buf too small; SR_MAX_LEN always
 * fits; buf may be NULL when len is 0) or -ENOMEM (jansson could not
 * allocate). -EINVAL is checked first; after -ENOSPC buf holds "" (when len
 * is not 0) and nothing past buf[len - 1] was written.
 */
int sr_sync_encode(const struct sr_sync *r, char *buf, size_t len);
int sr_ctl_encode(const struct sr_ctl *r, char *buf, size_t len);

/**
 * Decode len bytes (not NUL-terminated; any bytes at all) into *r. Returns
 * 0; -EINVAL with the reason in err (malformed JSON, a repeated name, a
 * field missing or of the wrong type or range, a wrong "type", an invalid
 * id, trailing bytes); -ENOTSUP for a newer version, whatever else is
 * wrong with the record as long as it is one well-formed JSON object;
 * -ENOMEM when jansson could not allocate. *r is unspecified after an
 * error; on success it was zeroed, then filled (so its strings are padded
 * with NULs). err may be NULL; otherwise it gets a NUL-terminated message
 * (truncated to err_len), "" on success. buf may be NULL when len is 0.
 */
int sr_sync_decode(const void *buf, size_t len, struct sr_sync *r, char *err,
		   size_t err_len);
int sr_ctl_decode(const void *buf, size_t len, struct sr_ctl *r, char *err,
		  size_t err_len);

#endif /* TG_SYNCREC_H */
