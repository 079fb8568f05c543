/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target for the packet parser (dataplane/parse.h). Parses arbitrary
 * bytes and, whatever the verdict, checks it against an independent,
 * slower reading of the same bytes: every offset inside the frame, every
 * field equal to what the frame holds there, the status consistent with
 * the headers. On PKT_OK it also rewrites the DSCP of a copy and checks
 * that only the TOS / traffic-class bits and the IPv4 checksum changed,
 * that the ECN bits and checksum validity were kept, and that the copy
 * parses to the same result with the new DSCP; then it exercises the
 * address helpers on the parsed addresses.
 *
 * libFuzzer (clang -fsanitize=fuzzer) calls LLVMFuzzerTestOneInput with an
 * exact-size heap copy of each input, so AddressSanitizer catches a read
 * one byte past the frame; fuzz_main.c does the same without libFuzzer.
 * A broken invariant aborts after naming the line (a fuzz target may
 * print: it is a program, not a library).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",       \
				__FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

static unsigned rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* receiver-style IPv4 header check: one's complement sum of all words */
static bool ck4_valid(const uint8_t *ip, unsigned ihl_bytes)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i < ihl_bytes; i += 2)
		sum += rd16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* The parts of pkt_info that pkt_parse fills, compared field by field
 * (padding bytes are never compared). */
static bool same_info(const struct pkt_info *a, const struct pkt_info *b,
		      bool with_dscp)
{
	return memcmp(a->src, b->src, 16) == 0 &&
	       memcmp(a->dst, b->dst, 16) == 0 &&
	       a->frame_len == b->frame_len && a->l3_off == b->l3_off &&
	       a->l4_off == b->l4_off && a->src_port == b->src_port &&
	       a->dst_port == b->dst_port && a->vlan[0] == b->vlan[0] &&
	       a->vlan[1] == b->vlan[1] && a->payload_off == b->payload_off &&
	       a->payload_len == b->payload_len && a->n_vlans == b->n_vlans &&
	       a->ip_ver == b->ip_ver && a->l4_proto == b->l4_proto &&
	       (!with_dscp || a->dscp == b->dscp) &&
	       a->is_fragment == b->is_fragment;
}

/* L2 fields, valid on PKT_OK and PKT_UNSUPPORTED */
static void check_l2(const uint8_t *f, uint32_t len, const struct pkt_info *pi)
{
	unsigned i;

	CHECK(pi->n_vlans <= 2);
	CHECK(pi->l3_off == 14 + 4 * pi->n_vlans);
	CHECK(pi->l3_off <= len);
	for (i = 0; i < 2; i++) {
		if (i < pi->n_vlans) {
			CHECK(pkt_is_tpid(rd16(f + 12 + 4 * i)));
			CHECK(pi->vlan[i] == (rd16(f + 14 + 4 * i) & 0xfff));
		} else {
			CHECK(pi->vlan[i] == 0);
		}
	}
	if (pi->n_vlans == 2)
		CHECK(rd16(f + 16) == PKT_TPID_8021Q);
	/* what follows the tags is never another tag */
	CHECK(!pkt_is_tpid(rd16(f + pi->l3_off - 2)));
}

static void check_no_l4(const struct pkt_info *pi)
{
	CHECK(pi->l4_off == 0);
	CHECK(pi->src_port == 0 && pi->dst_port == 0);
	CHECK(pi->payload_off == 0 && pi->payload_len == 0);
}

/* everything PKT_OK promises, re-derived from the bytes */
static void check_ok(const uint8_t *f, uint32_t len, const struct pkt_info *pi)
{
	const uint8_t *ip;
	uint32_t l3 = pi->l3_off, ip_end, ihl = 0, frag = 0;
	uint8_t want[16];

	check_l2(f, len, pi);
	ip = f + l3;
	CHECK(pi->dscp < 64);
	CHECK(pkt_priority(pi) == pi->dscp >> 3 && pkt_priority(pi) <= 7);
	if (pi->ip_ver == 4) {
		CHECK(rd16(f + l3 - 2) == PKT_ETHERTYPE_IPV4);
		CHECK(l3 + 20 <= len);
		CHECK(ip[0] >> 4 == 4);
		ihl = (ip[0] & 0x0fu) * 4;
		CHECK(ihl >= 20);
		CHECK(rd16(ip + 2) >= ihl);
		ip_end = l3 + rd16(ip + 2);
		CHECK(ip_end <= len);
		CHECK(pi->dscp == ip[1] >> 2);
		CHECK(pi->l4_proto == ip[9]);
		pkt_addr_v4map(want, ip + 12);
		CHECK(pkt_addr_eq(pi->src, want));
		pkt_addr_v4map(want, ip + 16);
		CHECK(pkt_addr_eq(pi->dst, want));
		CHECK(pkt_addr_is_v4(pi->src) && pkt_addr_is_v4(pi->dst));
		frag = rd16(ip + 6);
		CHECK(pi->is_fragment == ((frag & 0x3fff) != 0));
		if (frag & 0x1fff)
			CHECK(pi->l4_off == 0);
		else if (pi->l4_proto == PKT_PROTO_UDP ||
			 pi->l4_proto == PKT_PROTO_TCP)
			CHECK(pi->l4_off == l3 + ihl);
	} else {
		CHECK(pi->ip_ver == 6);
		CHECK(rd16(f + l3 - 2) == PKT_ETHERTYPE_IPV6);
		CHECK(l3 + 40 <= len);
		CHECK(ip[0] >> 4 == 6);
		ip_end = l3 + 40 + rd16(ip + 4);
		CHECK(ip_end <= len);
		CHECK(pi->dscp == (((ip[0] & 0x0fu) << 4 | ip[1] >> 4) >> 2));
		CHECK(memcmp(pi->src, ip + 8, 16) == 0);
		CHECK(memcmp(pi->dst, ip + 24, 16) == 0);
		CHECK(pi->is_fragment <= 1);
		if (ip[6] == PKT_PROTO_UDP || ip[6] == PKT_PROTO_TCP) {
			CHECK(pi->l4_proto == ip[6]);
			CHECK(pi->l4_off == l3 + 40);
		}
		if (pi->l4_off)
			CHECK(pi->l4_off >= l3 + 40);
		/* a fragment needs a fragment header: 8 bytes of payload */
		if (pi->is_fragment)
			CHECK(ip_end >= l3 + 48);
	}

	if (pi->l4_off == 0) {
		check_no_l4(pi);
		/* UDP/TCP without ports only in a non-first fragment */
		if (pi->l4_proto == PKT_PROTO_UDP ||
		    pi->l4_proto == PKT_PROTO_TCP)
			CHECK(pi->is_fragment);
		return;
	}
	CHECK(pi->l4_off >= l3 + 20);
	CHECK(pi->src_port == rd16(f + pi->l4_off));
	CHECK(pi->dst_port == rd16(f + pi->l4_off + 2));
	if (pi->l4_proto == PKT_PROTO_UDP) {
		uint32_t ulen;

		CHECK(pi->l4_off + 8u <= ip_end);
		ulen = rd16(f + pi->l4_off + 4);
		CHECK(ulen >= 8);
		CHECK(pi->payload_off == pi->l4_off + 8u);
		if (ulen <= ip_end - pi->l4_off)
			CHECK(pi->payload_len == ulen - 8);
		else /* only a first fragment may claim more than it holds */
			CHECK(pi->is_fragment &&
			      pi->payload_len == ip_end - pi->l4_off - 8);
	} else {
		uint32_t doff;

		CHECK(pi->l4_proto == PKT_PROTO_TCP);
		CHECK(pi->l4_off + 20u <= ip_end);
		doff = (f[pi->l4_off + 12] >> 4) * 4u;
		CHECK(doff >= 20);
		CHECK(pi->payload_off == pi->l4_off + doff);
		CHECK(pi->payload_off + pi->payload_len == ip_end);
	}
	CHECK(pi->payload_off <= ip_end);
	CHECK(pi->payload_off + pi->payload_len <= ip_end);
}

/* rewrite the DSCP of a copy: only the DSCP bits and the checksum change */
static void check_set_dscp(const uint8_t *f, uint32_t len,
			   const struct pkt_info *pi, uint8_t dscp)
{
	uint8_t *c = malloc(len);
	struct pkt_info after;
	uint32_t l3 = pi->l3_off, i;
	bool valid_before = false;
	unsigned ihl = (f[l3] & 0x0fu) * 4;

	CHECK(c != NULL);
	memcpy(c, f, len);
	if (pi->ip_ver == 4)
		valid_before = ck4_valid(f + l3, ihl);
	CHECK(pkt_set_dscp(c, len, pi, dscp) == 0);
	for (i = 0; i < len; i++) {
		bool may_change =
		    pi->ip_ver == 4
			? (i == l3 + 1 || i == l3 + 10 || i == l3 + 11)
			: (i == l3 || i == l3 + 1);

		if (!may_change)
			CHECK(c[i] == f[i]);
	}
	if (pi->ip_ver == 4) {
		CHECK(c[l3 + 1] >> 2 == dscp);
		CHECK((c[l3 + 1] & 3) == (f[l3 + 1] & 3));
		CHECK(ck4_valid(c + l3, ihl) == valid_before);
		if (valid_before)
			CHECK(rd16(c + l3 + 10) ==
			      pkt_ipv4_checksum(c + l3, ihl));
	} else {
		CHECK((c[l3] & 0xf0) == (f[l3] & 0xf0));
		CHECK((c[l3 + 1] & 0x3f) == (f[l3 + 1] & 0x3f));
	}
	CHECK(pkt_parse(c, len, &after) == PKT_OK);
	CHECK(after.dscp == dscp);
	CHECK(same_info(&after, pi, false));
	/* setting it back restores the frame exactly, checksum included,
	 * unless the checksum field was 0xffff or 0x0000 (the two zeros of
	 * one's complement: the update may swap one for the other) */
	CHECK(pkt_set_dscp(c, len, &after, pi->dscp) == 0);
	if (pi->ip_ver == 6 ||
	    (rd16(f + l3 + 10) != 0 && rd16(f + l3 + 10) != 0xffff))
		CHECK(memcmp(c, f, len) == 0);
	free(c);
}

/* pkt_set_dscp on a pkt_info built from raw bytes: 0 or -EINVAL, and a
 * refused call leaves the frame alone */
static void check_set_dscp_any(const uint8_t *f, uint32_t len,
			       const uint8_t *arg)
{
	struct pkt_info pi;
	uint8_t *c = malloc(len ? len : 1);
	int rc;

	CHECK(c != NULL);
	if (len)
		memcpy(c, f, len);
	memset(&pi, 0, sizeof(pi));
	pi.ip_ver = arg[0] & 7;
	pi.l3_off = (uint16_t)rd16(arg + 1);
	rc = pkt_set_dscp(c, len, &pi, arg[3]);
	CHECK(rc == 0 || rc == -EINVAL);
	if (rc != 0)
		CHECK(len == 0 || memcmp(c, f, len) == 0);
	else
		CHECK(arg[3] < 64 && (pi.ip_ver == 4 || pi.ip_ver == 6));
	free(c);
}

static void check_prefixes(const struct pkt_info *pi, unsigned k)
{
	unsigned j;

	CHECK(pkt_addr_in_prefix(pi->src, pi->src, k));
	CHECK(pkt_addr_in_prefix(pi->src, pi->dst, 0));
	CHECK(!pkt_addr_in_prefix(pi->src, pi->src, 129 + k));
	/* a match at k is a match at every shorter length */
	if (pkt_addr_in_prefix(pi->src, pi->dst, k))
		for (j = 0; j <= k; j++)
			CHECK(pkt_addr_in_prefix(pi->src, pi->dst, j));
	CHECK(pkt_addr_in_prefix(pi->src, pi->dst, 128) ==
	      pkt_addr_eq(pi->src, pi->dst));
	if (pi->ip_ver == 4)
		CHECK(pkt_addr_in_prefix(pi->src, pi->dst, 96));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi, again;
	enum pkt_status st;
	uint32_t len;
	uint8_t tail[4] = {0};

	if (size > 0xffffff)
		return 0;
	len = (uint32_t)size;
	memset(&pi, 0xa5, sizeof(pi));
	st = pkt_parse(data, len, &pi);
	CHECK(st < PKT_STATUS_MAX);
	CHECK(pi.frame_len == len);
	CHECK(strcmp(pkt_status_name(st), "?") != 0);
	/* deterministic, and independent of what *out held before */
	memset(&again, 0x00, sizeof(again));
	CHECK(pkt_parse(data, len, &again) == st);
	if (st != PKT_MALFORMED)
		CHECK(same_info(&pi, &again, true));
	if (len < 14)
		CHECK(st == PKT_MALFORMED);

	/* the last bytes of the input drive the helpers' arguments */
	if (len)
		memcpy(tail, data + (len > 4 ? len - 4 : 0), len < 4 ? len : 4);
	check_set_dscp_any(data, len, tail);

	if (st == PKT_UNSUPPORTED) {
		unsigned et;

		check_l2(data, len, &pi);
		et = rd16(data + pi.l3_off - 2);
		CHECK(et != PKT_ETHERTYPE_IPV4 && et != PKT_ETHERTYPE_IPV6);
		CHECK(pi.ip_ver == 0 && pi.l4_proto == 0 && pi.dscp == 0);
		CHECK(pi.is_fragment == 0);
		check_no_l4(&pi);
	} else if (st == PKT_OK) {
		check_ok(data, len, &pi);
		check_set_dscp(data, len, &pi, tail[3] & 63);
		check_prefixes(&pi, tail[2] % 129);
	}
	return 0;
}
