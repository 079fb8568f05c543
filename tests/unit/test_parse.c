/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser (dataplane/parse.h): every header layout it accepts, with
 * every field checked; every way a header can lie about its length; every
 * prefix of valid frames, each parsed from a heap copy of exactly that
 * length so that AddressSanitizer catches a read one byte too far; DSCP
 * rewriting against a full checksum recompute; priority; prefix matching.
 * Frames are built byte by byte here, never captured.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "unit.h"

/* ---- frame builder ------------------------------------------------------ */

static const uint8_t SRC4[4] = {192, 0, 2, 1};
static const uint8_t DST4[4] = {198, 51, 100, 7};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				 0,    0,    0,	   0,	 0, 0, 0, 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0,
				 0,    0,    0,	   0,	 0,    0, 0, 2};

static const uint8_t ZERO16[16];

struct fb {
	uint8_t b[4096];
	uint32_t n;  /* bytes written */
	uint32_t l3; /* offset of the IP header */
	uint32_t l4; /* offset of the UDP/TCP header */
	int ipv;     /* 4 or 6, 0 before an IP header */
};

static void put8(struct fb *f, unsigned v)
{
	CU_ASSERT_FATAL(f->n < sizeof(f->b));
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct fb *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void put_bytes(struct fb *f, const uint8_t *p, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		put8(f, p[i]);
}

static void set16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Ethernet header with n_tags tags (tpid[i], vid[i]); PCP 5 and DEI set in
 * every tag, so that the parser must mask them out of the VLAN id. */
static void eth(struct fb *f, unsigned n_tags, const unsigned *tpid,
		const unsigned *vid, unsigned etype)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	unsigned i;

	memset(f, 0, sizeof(*f));
	put_bytes(f, macs, sizeof(macs));
	for (i = 0; i < n_tags; i++) {
		put16(f, tpid[i]);
		put16(f, 0xb000 | vid[i]);
	}
	put16(f, etype);
	f->l3 = f->n;
}

static void eth0(struct fb *f, unsigned etype)
{
	eth(f, 0, NULL, NULL, etype);
}

/* IPv4 header of ihl_words 32-bit words (options are NOPs); the total
 * length and checksum are set by finish(). */
static void ip4(struct fb *f, unsigned ihl_words, unsigned tos, unsigned frag,
		unsigned proto)
{
	unsigned i;

	f->l3 = f->n;
	f->ipv = 4;
	put8(f, 0x40 | ihl_words);
	put8(f, tos);
	put16(f, 0); /* total length */
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0); /* checksum */
	put_bytes(f, SRC4, 4);
	put_bytes(f, DST4, 4);
	for (i = 20; i < ihl_words * 4; i++)
		put8(f, 1);
}

/* IPv6 header with traffic class tc, flow label 0xabcde; the payload
 * length is set by finish(). */
static void ip6(struct fb *f, unsigned tc, unsigned nh)
{
	f->l3 = f->n;
	f->ipv = 6;
	put8(f, 0x60 | tc >> 4);
	put8(f, (tc & 0x0f) << 4 | 0x0a);
	put16(f, 0xbcde);
	put16(f, 0); /* payload length */
	put8(f, nh);
	put8(f, 64);
	put_bytes(f, SRC6, 16);
	put_bytes(f, DST6, 16);
}

/* IPv6 extension header of `bytes` bytes (hop-by-hop, routing, dest
 * options: multiple of 8; AH: multiple of 4, >= 8) whose next header is nh */
static void ext6(struct fb *f, unsigned type, unsigned nh, unsigned bytes)
{
	unsigned i;

	put8(f, nh);
	put8(f, type == PKT_PROTO_AH ? bytes / 4 - 2 : bytes / 8 - 1);
	for (i = 2; i < bytes; i++)
		put8(f, type == PKT_PROTO_AH ? 0x55 : 0);
}

/* IPv6 fragment header: offset in 8-byte units, M flag */
static void frag6(struct fb *f, unsigned nh, unsigned offset, bool more)
{
	put8(f, nh);
	put8(f, 0);
	put16(f, offset << 3 | (more ? 1 : 0));
	put16(f, 0xcafe);
	put16(f, 0xf00d);
}

static void payload(struct fb *f, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		put8(f, 0xa0 + (i & 0x0f));
}

static void udp(struct fb *f, unsigned sport, unsigned dport, unsigned n)
{
	f->l4 = f->n;
	put16(f, sport);
	put16(f, dport);
	put16(f, 8 + n);
	put16(f, 0);
	payload(f, n);
}

static void tcp(struct fb *f, unsigned sport, unsigned dport,
		unsigned doff_words, unsigned n)
{
	unsigned i;

	f->l4 = f->n;
	put16(f, sport);
	put16(f, dport);
	put16(f, 0x0102);
	put16(f, 0x0304); /* seq */
	put16(f, 0);
	put16(f, 0); /* ack */
	put8(f, doff_words << 4);
	put8(f, 0x18); /* PSH ACK */
	put16(f, 0xffff);
	put16(f, 0);
	put16(f, 0);
	for (i = 20; i < doff_words * 4; i++)
		put8(f, 1); /* NOP options */
	payload(f, n);
}

/* Set the IP length fields from what was written, and the IPv4 checksum. */
static void finish(struct fb *f)
{
	uint8_t *ip = f->b + f->l3;
	uint16_t ck;

	if (f->ipv == 4) {
		set16(ip + 2, f->n - f->l3);
		ck = pkt_ipv4_checksum(ip, (ip[0] & 0x0f) * 4u);
		set16(ip + 10, ck);
	} else if (f->ipv == 6) {
		set16(ip + 4, f->n - f->l3 - PKT_IPV6_HLEN);
	}
}

/* Rewrite the IPv4 checksum after a test changed the header. */
static void fix_ck4(struct fb *f)
{
	uint8_t *ip = f->b + f->l3;

	set16(ip + 10, pkt_ipv4_checksum(ip, (ip[0] & 0x0f) * 4u));
}

/* Parse from a heap copy of exactly len bytes, so that ASan flags any read
 * past the end; then check the offset invariants that hold on PKT_OK. */
static enum pkt_status parse_n(const uint8_t *frame, uint32_t len,
			       struct pkt_info *pi)
{
	uint8_t *copy = malloc(len);
	enum pkt_status st;

	CU_ASSERT_FATAL(copy != NULL || len == 0);
	if (len)
		memcpy(copy, frame, len);
	memset(pi, 0x5a, sizeof(*pi));
	st = pkt_parse(copy, len, pi);
	free(copy);

	CU_ASSERT(st < PKT_STATUS_MAX);
	CU_ASSERT_EQUAL(pi->frame_len, len);
	if (st == PKT_OK) {
		CU_ASSERT(pi->n_vlans <= 2);
		CU_ASSERT_EQUAL(pi->l3_off, 14 + 4 * pi->n_vlans);
		CU_ASSERT(pi->ip_ver == 4 || pi->ip_ver == 6);
		CU_ASSERT(pi->dscp < 64);
		CU_ASSERT(pi->l3_off + (pi->ip_ver == 4 ? 20u : 40u) <= len);
		if (pi->l4_off) {
			CU_ASSERT(pi->l4_proto == PKT_PROTO_UDP ||
				  pi->l4_proto == PKT_PROTO_TCP);
			CU_ASSERT(pi->l4_off >= pi->l3_off + 20u);
			CU_ASSERT(pi->payload_off >= pi->l4_off + 8u);
			CU_ASSERT(pi->payload_off <= len);
			CU_ASSERT(pi->payload_off + pi->payload_len <= len);
		} else {
			CU_ASSERT_EQUAL(pi->src_port, 0);
			CU_ASSERT_EQUAL(pi->dst_port, 0);
			CU_ASSERT_EQUAL(pi->payload_off, 0);
			CU_ASSERT_EQUAL(pi->payload_len, 0);
		}
	}
	return st;
}

static enum pkt_status parse_fb(const struct fb *f, struct pkt_info *pi)
{
	return parse_n(f->b, f->n, pi);
}

static void assert_v4_addrs(const struct pkt_info *pi)
{
	uint8_t want[16];

	pkt_addr_v4map(want, SRC4);
	CU_ASSERT(pkt_addr_eq(pi->src, want));
	pkt_addr_v4map(want, DST4);
	CU_ASSERT(pkt_addr_eq(pi->dst, want));
	CU_ASSERT(pkt_addr_is_v4(pi->src));
	CU_ASSERT(pkt_addr_is_v4(pi->dst));
}

static void assert_v6_addrs(const struct pkt_info *pi)
{
	CU_ASSERT_EQUAL(memcmp(pi->src, SRC6, 16), 0);
	CU_ASSERT_EQUAL(memcmp(pi->dst, DST6, 16), 0);
	CU_ASSERT(!pkt_addr_is_v4(pi->src));
}

static void assert_no_l4(const struct pkt_info *pi)
{
	CU_ASSERT_EQUAL(pi->l4_off, 0);
	CU_ASSERT_EQUAL(pi->src_port, 0);
	CU_ASSERT_EQUAL(pi->dst_port, 0);
	CU_ASSERT_EQUAL(pi->payload_off, 0);
	CU_ASSERT_EQUAL(pi->payload_len, 0);
}

static const unsigned TPIDS[3] = {PKT_TPID_8021Q, PKT_TPID_8021AD,
				  PKT_TPID_QINQ_OLD};

/* ---- Ethernet and VLANs ------------------------------------------------- */

/* every field of untagged IPv4 UDP, the common case */
static void test_ipv4_udp_untagged(void)
{
	struct pkt_info pi;
	struct fb f;

	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0xb9 /* EF, ECN 01 */, 0x4000 /* DF */, PKT_PROTO_UDP);
	udp(&f, 40000, 9092, 32);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.frame_len, 14 + 20 + 8 + 32);
	CU_ASSERT_EQUAL(pi.n_vlans, 0);
	CU_ASSERT_EQUAL(pi.vlan[0], 0);
	CU_ASSERT_EQUAL(pi.vlan[1], 0);
	CU_ASSERT_EQUAL(pi.l3_off, 14);
	CU_ASSERT_EQUAL(pi.ip_ver, 4);
	CU_ASSERT_EQUAL(pi.dscp, 46);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_UDP);
	CU_ASSERT_EQUAL(pi.l4_off, 34);
	CU_ASSERT_EQUAL(pi.src_port, 40000);
	CU_ASSERT_EQUAL(pi.dst_port, 9092);
	CU_ASSERT_EQUAL(pi.payload_off, 42);
	CU_ASSERT_EQUAL(pi.payload_len, 32);
	CU_ASSERT_EQUAL(pi.is_fragment, 0);
	assert_v4_addrs(&pi);
}

/* every field of untagged IPv4 TCP, without and with TCP options */
static void test_ipv4_tcp_untagged(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned doff;

	for (doff = 5; doff <= 15; doff++) {
		eth0(&f, PKT_ETHERTYPE_IPV4);
		ip4(&f, 5, 0x20, 0, PKT_PROTO_TCP);
		tcp(&f, 443, 51000, doff, 10);
		finish(&f);
		CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
		CU_ASSERT_EQUAL(pi.frame_len, f.n);
		CU_ASSERT_EQUAL(pi.n_vlans, 0);
		CU_ASSERT_EQUAL(pi.l3_off, 14);
		CU_ASSERT_EQUAL(pi.ip_ver, 4);
		CU_ASSERT_EQUAL(pi.dscp, 8);
		CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_TCP);
		CU_ASSERT_EQUAL(pi.l4_off, 34);
		CU_ASSERT_EQUAL(pi.src_port, 443);
		CU_ASSERT_EQUAL(pi.dst_port, 51000);
		CU_ASSERT_EQUAL(pi.payload_off, 34 + doff * 4);
		CU_ASSERT_EQUAL(pi.payload_len, 10);
		CU_ASSERT_EQUAL(pi.is_fragment, 0);
		assert_v4_addrs(&pi);
	}
}

/* one tag of each TPID, then two tags (each outer TPID, inner 802.1Q),
 * UDP and TCP: VLAN ids masked to 12 bits, offsets shifted */
static void test_vlan_tags(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned t, n, tcpp;

	for (n = 1; n <= 2; n++)
		for (t = 0; t < 3; t++)
			for (tcpp = 0; tcpp < 2; tcpp++) {
				unsigned tp[2] = {TPIDS[t], PKT_TPID_8021Q};
				unsigned vid[2] = {0xfff, 0x001};
				unsigned l3 = 14 + 4 * n;

				eth(&f, n, tp, vid, PKT_ETHERTYPE_IPV4);
				ip4(&f, 5, 0xe0, 0,
				    tcpp ? PKT_PROTO_TCP : PKT_PROTO_UDP);
				if (tcpp)
					tcp(&f, 1, 2, 6, 3);
				else
					udp(&f, 1, 2, 3);
				finish(&f);
				CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi),
						      PKT_OK);
				CU_ASSERT_EQUAL(pi.n_vlans, n);
				CU_ASSERT_EQUAL(pi.vlan[0], 0xfff);
				CU_ASSERT_EQUAL(pi.vlan[1], n == 2 ? 1 : 0);
				CU_ASSERT_EQUAL(pi.l3_off, l3);
				CU_ASSERT_EQUAL(pi.l4_off, l3 + 20);
				CU_ASSERT_EQUAL(pi.payload_off,
						l3 + 20 + (tcpp ? 24 : 8));
				CU_ASSERT_EQUAL(pi.payload_len, 3);
				CU_ASSERT_EQUAL(pi.l4_proto, tcpp ? 6 : 17);
				CU_ASSERT_EQUAL(pi.src_port, 1);
				CU_ASSERT_EQUAL(pi.dst_port, 2);
				CU_ASSERT_EQUAL(pi.dscp, 56);
				CU_ASSERT_EQUAL(pi.frame_len, f.n);
				assert_v4_addrs(&pi);
			}
	/* IPv6 behind two tags too */
	{
		unsigned tp[2] = {PKT_TPID_8021AD, PKT_TPID_8021Q};
		unsigned vid[2] = {100, 200};

		eth(&f, 2, tp, vid, PKT_ETHERTYPE_IPV6);
		ip6(&f, 0, PKT_PROTO_UDP);
		udp(&f, 5, 6, 0);
		finish(&f);
		CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
		CU_ASSERT_EQUAL(pi.vlan[0], 100);
		CU_ASSERT_EQUAL(pi.vlan[1], 200);
		CU_ASSERT_EQUAL(pi.l4_off, 22 + 40);
		CU_ASSERT_EQUAL(pi.payload_len, 0);
	}
}

/* a third tag of any TPID, or an inner S-tag: an odd VLAN stack */
static void test_odd_vlan_stacks(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned a, b, c;

	for (a = 0; a < 3; a++)
		for (c = 0; c < 3; c++) {
			unsigned tp[3] = {TPIDS[a], PKT_TPID_8021Q, TPIDS[c]};
			unsigned vid[3] = {1, 2, 3};

			eth(&f, 3, tp, vid, PKT_ETHERTYPE_IPV4);
			ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
			udp(&f, 1, 2, 8);
			finish(&f);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
	/* inner 0x88A8 or 0x9100 after any outer tag */
	for (a = 0; a < 3; a++)
		for (b = 1; b < 3; b++) {
			unsigned tp[2] = {TPIDS[a], TPIDS[b]};
			unsigned vid[2] = {1, 2};

			eth(&f, 2, tp, vid, PKT_ETHERTYPE_IPV4);
			ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
			udp(&f, 1, 2, 8);
			finish(&f);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
}

/* ARP, LLDP, MPLS, 802.3 length fields: unsupported, L2 fields kept */
static void test_non_ip_unsupported(void)
{
	static const unsigned types[] = {0x0806, 0x88cc, 0x8847, 0x0000,
					 0x002e, 0x05dc, 0x05ff, 0x0600,
					 0x86dc, 0x0801, 0xffff};
	struct pkt_info pi;
	struct fb f;
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(types); i++) {
		eth0(&f, types[i]);
		payload(&f, 46);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_UNSUPPORTED);
		CU_ASSERT_EQUAL(pi.n_vlans, 0);
		CU_ASSERT_EQUAL(pi.l3_off, 14);
		CU_ASSERT_EQUAL(pi.ip_ver, 0);
		CU_ASSERT_EQUAL(pi.l4_proto, 0);
		CU_ASSERT_EQUAL(pi.dscp, 0);
		CU_ASSERT_EQUAL(pi.is_fragment, 0);
		CU_ASSERT(pkt_addr_eq(pi.src, ZERO16));
		CU_ASSERT(pkt_addr_eq(pi.dst, ZERO16));
		assert_no_l4(&pi);
	}
	/* ARP behind a tag: the VLAN is still reported */
	{
		unsigned tp[1] = {PKT_TPID_8021Q};
		unsigned vid[1] = {42};

		eth(&f, 1, tp, vid, 0x0806);
		payload(&f, 28);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_UNSUPPORTED);
		CU_ASSERT_EQUAL(pi.n_vlans, 1);
		CU_ASSERT_EQUAL(pi.vlan[0], 42);
		CU_ASSERT_EQUAL(pi.l3_off, 18);
	}
	/* exactly a header, nothing after it */
	eth0(&f, 0x0806);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_UNSUPPORTED);
}

/* frames shorter than the Ethernet header or than their tags */
static void test_short_l2(void)
{
	unsigned tp[2] = {PKT_TPID_8021Q, PKT_TPID_8021Q};
	unsigned vid[2] = {1, 2};
	struct pkt_info pi;
	struct fb f;
	uint32_t n;

	eth(&f, 2, tp, vid, 0x0806);
	for (n = 0; n < 14; n++)
		CU_ASSERT_EQUAL(parse_n(f.b, n, &pi), PKT_MALFORMED);
	for (n = 14; n < 22; n++)
		CU_ASSERT_EQUAL(parse_n(f.b, n, &pi), PKT_MALFORMED);
	CU_ASSERT_EQUAL(parse_n(f.b, 22, &pi), PKT_UNSUPPORTED);
	CU_ASSERT_EQUAL(parse_n(NULL, 0, &pi), PKT_MALFORMED);
}

/* bytes after the IP total length (Ethernet minimum-size padding, or
 * trailers) are ignored */
static void test_ethernet_padding(void)
{
	struct pkt_info pi;
	struct fb f;

	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
	udp(&f, 7, 8, 2);
	finish(&f);
	while (f.n < 60)
		put8(&f, 0);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.frame_len, 60);
	CU_ASSERT_EQUAL(pi.payload_off, 42);
	CU_ASSERT_EQUAL(pi.payload_len, 2);

	/* a large trailer (e.g. a trailer the NIC appends) is fine too */
	payload(&f, 1000);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.payload_len, 2);

	/* IPv6 with padding after the payload length */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_TCP);
	tcp(&f, 1, 2, 5, 0);
	finish(&f);
	payload(&f, 17);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.payload_len, 0);
}

/* ---- IPv4 --------------------------------------------------------------- */

/* options are skipped: the L4 header starts at IHL * 4 */
static void test_ipv4_options(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned ihl;

	for (ihl = 5; ihl <= 15; ihl++) {
		eth0(&f, PKT_ETHERTYPE_IPV4);
		ip4(&f, ihl, 0x04, 0, PKT_PROTO_UDP);
		udp(&f, 1000 + ihl, 2000, 5);
		finish(&f);
		CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
		CU_ASSERT_EQUAL(pi.l4_off, 14 + ihl * 4);
		CU_ASSERT_EQUAL(pi.src_port, 1000 + ihl);
		CU_ASSERT_EQUAL(pi.dst_port, 2000);
		CU_ASSERT_EQUAL(pi.payload_len, 5);
		CU_ASSERT_EQUAL(pi.dscp, 1);
		assert_v4_addrs(&pi);
	}
}

/* a bad version, IHL < 5, IHL past the frame or the total length */
static void test_ipv4_bad_header(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned v, ihl;

	for (v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		eth0(&f, PKT_ETHERTYPE_IPV4);
		ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
		udp(&f, 1, 2, 8);
		finish(&f);
		f.b[f.l3] = (uint8_t)(v << 4 | 5);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	}
	for (ihl = 0; ihl < 5; ihl++) {
		eth0(&f, PKT_ETHERTYPE_IPV4);
		ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
		udp(&f, 1, 2, 8);
		finish(&f);
		f.b[f.l3] = (uint8_t)(0x40 | ihl);
		fix_ck4(&f);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	}
	/* IHL 15 (60 bytes) in a frame holding a 20-byte header only */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0, 1);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	f.b[f.l3] = 0x4f;
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	set16(f.b + f.l3 + 2, 60); /* total length says 60 too */
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* IPv6 version inside an IPv4 EtherType, and the reverse */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip6(&f, 0, PKT_PROTO_UDP);
	udp(&f, 1, 2, 8);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
	udp(&f, 1, 2, 40);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
}

/* total length below IHL * 4 or above the bytes after l3_off */
static void test_ipv4_total_length(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned ihl, tot;

	for (ihl = 5; ihl <= 15; ihl += 5) {
		eth0(&f, PKT_ETHERTYPE_IPV4);
		ip4(&f, ihl, 0, 0, 47);
		payload(&f, 8);
		finish(&f);
		for (tot = 0; tot < ihl * 4; tot++) {
			set16(f.b + f.l3 + 2, tot);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
		/* from exactly the header up to the whole frame: OK */
		for (; tot <= f.n - 14; tot++) {
			set16(f.b + f.l3 + 2, tot);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
		}
		for (; tot < f.n + 4; tot++) {
			set16(f.b + f.l3 + 2, tot);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
		set16(f.b + f.l3 + 2, 0xffff);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	}
}

/* first fragment: ports (the UDP length covers the whole datagram);
 * later fragments: no L4 header at all */
static void test_ipv4_fragments(void)
{
	struct pkt_info pi;
	struct fb f;

	/* first fragment: MF, offset 0; UDP length 1008 > 24 bytes here */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0x2000, PKT_PROTO_UDP);
	udp(&f, 53, 5353, 16);
	set16(f.b + f.l4 + 4, 1008);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	CU_ASSERT_EQUAL(pi.l4_off, 34);
	CU_ASSERT_EQUAL(pi.src_port, 53);
	CU_ASSERT_EQUAL(pi.dst_port, 5353);
	CU_ASSERT_EQUAL(pi.payload_len, 16);
	/* ... but the same lie without MF is malformed */
	set16(f.b + f.l3 + 6, 0);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* ... and a first fragment too short for the UDP header is too */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0x2000, PKT_PROTO_UDP);
	payload(&f, 7);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* first fragment of a TCP segment needs the whole TCP header */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0x2000, PKT_PROTO_TCP);
	tcp(&f, 80, 8080, 5, 0);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	CU_ASSERT_EQUAL(pi.dst_port, 8080);
	f.b[f.l4 + 12] = 0x60; /* options past the fragment */
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);

	/* middle (MF, offset 185) and last (offset 370) fragments: whatever
	 * the payload holds, no ports */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0x10, 0x2000 | 185, PKT_PROTO_UDP);
	payload(&f, 3);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_UDP);
	CU_ASSERT_EQUAL(pi.dscp, 4);
	assert_no_l4(&pi);
	assert_v4_addrs(&pi);
	set16(f.b + f.l3 + 6, 370);
	fix_ck4(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	assert_no_l4(&pi);
	/* an empty non-first fragment is fine too */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 1, PKT_PROTO_TCP);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);

	/* DF alone and the reserved bit are not fragmentation */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0xc000, PKT_PROTO_UDP);
	udp(&f, 1, 2, 0);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 0);
	CU_ASSERT_EQUAL(pi.l4_off, 34);
}

/* ICMP, GRE, SCTP, AH in IPv4...: OK without ports */
static void test_ipv4_other_protocols(void)
{
	static const unsigned protos[] = {1,  2,  4,   41,  47,	 50,
					  51, 58, 132, 136, 255, 0};
	struct pkt_info pi;
	struct fb f;
	unsigned i;

	for (i = 0; i < TG_ARRAY_SIZE(protos); i++) {
		eth0(&f, PKT_ETHERTYPE_IPV4);
		ip4(&f, 5, 0, 0, protos[i]);
		payload(&f, 12);
		finish(&f);
		CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
		CU_ASSERT_EQUAL(pi.l4_proto, protos[i]);
		CU_ASSERT_EQUAL(pi.is_fragment, 0);
		assert_no_l4(&pi);
		assert_v4_addrs(&pi);
	}
}

/* ---- UDP and TCP -------------------------------------------------------- */

/* UDP length < 8 or > payload; a UDP length shorter than the IP payload is
 * fine (the rest is ignored) and sets payload_len */
static void test_udp_length(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned ulen, ipv;

	for (ipv = 4; ipv <= 6; ipv += 2) {
		if (ipv == 4) {
			eth0(&f, PKT_ETHERTYPE_IPV4);
			ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
		} else {
			eth0(&f, PKT_ETHERTYPE_IPV6);
			ip6(&f, 0, PKT_PROTO_UDP);
		}
		udp(&f, 1, 2, 20);
		finish(&f);
		for (ulen = 0; ulen < 8; ulen++) {
			set16(f.b + f.l4 + 4, ulen);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
		for (; ulen <= 28; ulen++) {
			set16(f.b + f.l4 + 4, ulen);
			CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
			CU_ASSERT_EQUAL(pi.payload_len, ulen - 8);
		}
		for (; ulen < 40; ulen++) {
			set16(f.b + f.l4 + 4, ulen);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
		set16(f.b + f.l4 + 4, 0xffff);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	}
	/* the UDP header itself cut by the IP total length */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
	udp(&f, 1, 2, 0);
	finish(&f);
	set16(f.b + f.l3 + 2, 27);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
}

/* TCP data offset < 5 or past the payload; header cut short */
static void test_tcp_header(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned doff, ipv;

	for (ipv = 4; ipv <= 6; ipv += 2) {
		if (ipv == 4) {
			eth0(&f, PKT_ETHERTYPE_IPV4);
			ip4(&f, 5, 0, 0, PKT_PROTO_TCP);
		} else {
			eth0(&f, PKT_ETHERTYPE_IPV6);
			ip6(&f, 0, PKT_PROTO_TCP);
		}
		tcp(&f, 1, 2, 5, 12); /* 32 bytes of TCP in all */
		finish(&f);
		for (doff = 0; doff < 16; doff++) {
			f.b[f.l4 + 12] = (uint8_t)(doff << 4);
			if (doff >= 5 && doff <= 8) {
				CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi),
						      PKT_OK);
				CU_ASSERT_EQUAL(pi.payload_off,
						f.l4 + doff * 4);
				CU_ASSERT_EQUAL(pi.payload_len, 32 - doff * 4);
			} else {
				CU_ASSERT_EQUAL(parse_fb(&f, &pi),
						PKT_MALFORMED);
			}
		}
	}
	/* 19 bytes of TCP header: malformed, with or without padding */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0, PKT_PROTO_TCP);
	tcp(&f, 1, 2, 5, 0);
	f.n--;
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	payload(&f, 30);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
}

/* ---- IPv6 --------------------------------------------------------------- */

static void test_ipv6_udp_tcp(void)
{
	struct pkt_info pi;
	struct fb f;

	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0xb8 /* EF, ECN 00 */, PKT_PROTO_UDP);
	udp(&f, 12345, 443, 100);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.frame_len, 14 + 40 + 8 + 100);
	CU_ASSERT_EQUAL(pi.n_vlans, 0);
	CU_ASSERT_EQUAL(pi.l3_off, 14);
	CU_ASSERT_EQUAL(pi.ip_ver, 6);
	CU_ASSERT_EQUAL(pi.dscp, 46);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_UDP);
	CU_ASSERT_EQUAL(pi.l4_off, 54);
	CU_ASSERT_EQUAL(pi.src_port, 12345);
	CU_ASSERT_EQUAL(pi.dst_port, 443);
	CU_ASSERT_EQUAL(pi.payload_off, 62);
	CU_ASSERT_EQUAL(pi.payload_len, 100);
	CU_ASSERT_EQUAL(pi.is_fragment, 0);
	assert_v6_addrs(&pi);

	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0x2b /* CS1 + 0b11: DSCP 10, ECN 3 */, PKT_PROTO_TCP);
	tcp(&f, 22, 60000, 8, 1);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.dscp, 10);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_TCP);
	CU_ASSERT_EQUAL(pi.l4_off, 54);
	CU_ASSERT_EQUAL(pi.src_port, 22);
	CU_ASSERT_EQUAL(pi.dst_port, 60000);
	CU_ASSERT_EQUAL(pi.payload_off, 54 + 32);
	CU_ASSERT_EQUAL(pi.payload_len, 1);
	assert_v6_addrs(&pi);

	/* ICMPv6: OK without ports */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, 58);
	payload(&f, 8);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_proto, 58);
	assert_no_l4(&pi);
}

/* bad version, payload length past the frame, short fixed header */
static void test_ipv6_bad_header(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned v;

	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_UDP);
	udp(&f, 1, 2, 4);
	finish(&f);
	for (v = 0; v < 16; v++) {
		f.b[f.l3] = (uint8_t)(v << 4);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi),
				v == 6 ? PKT_OK : PKT_MALFORMED);
	}
	f.b[f.l3] = 0x60;
	set16(f.b + f.l3 + 4, 13);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	set16(f.b + f.l3 + 4, 0xffff);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* payload length 0 with UDP: the UDP header is not in the payload */
	set16(f.b + f.l3 + 4, 0);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* No Next Header with an empty payload is a complete packet */
	f.b[f.l3 + 6] = PKT_PROTO_NONE;
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_NONE);
	assert_no_l4(&pi);
}

/* each extension header kind alone, before UDP; sizes small and large */
static void test_ipv6_each_ext(void)
{
	static const unsigned kinds[] = {PKT_PROTO_HOPOPTS, PKT_PROTO_ROUTING,
					 PKT_PROTO_DSTOPTS, PKT_PROTO_AH};
	static const unsigned sizes[] = {8, 16, 24, 2048};
	struct pkt_info pi;
	struct fb f;
	unsigned k, s, bytes;

	for (k = 0; k < TG_ARRAY_SIZE(kinds); k++)
		for (s = 0; s < TG_ARRAY_SIZE(sizes); s++) {
			bytes = sizes[s];
			if (kinds[k] == PKT_PROTO_AH && bytes > 1028)
				bytes = 1028; /* (255 + 2) * 4 */
			eth0(&f, PKT_ETHERTYPE_IPV6);
			ip6(&f, 0, kinds[k]);
			ext6(&f, kinds[k], PKT_PROTO_UDP, bytes);
			udp(&f, 7, 9, 1);
			finish(&f);
			CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
			CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_UDP);
			CU_ASSERT_EQUAL(pi.l4_off, 54 + bytes);
			CU_ASSERT_EQUAL(pi.src_port, 7);
			CU_ASSERT_EQUAL(pi.dst_port, 9);
			CU_ASSERT_EQUAL(pi.payload_len, 1);
			CU_ASSERT_EQUAL(pi.is_fragment, 0);
			assert_v6_addrs(&pi);
		}
	/* AH of 12 bytes (length field 1), then TCP */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_AH);
	ext6(&f, PKT_PROTO_AH, PKT_PROTO_TCP, 12);
	tcp(&f, 3, 4, 5, 0);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_off, 54 + 12);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_TCP);
	/* an atomic fragment (offset 0, no M): a fragment header, so
	 * is_fragment, but the whole datagram is here */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_FRAGMENT);
	frag6(&f, PKT_PROTO_UDP, 0, false);
	udp(&f, 7, 9, 0);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	CU_ASSERT_EQUAL(pi.l4_off, 62);
	CU_ASSERT_EQUAL(pi.dst_port, 9);
}

/* a chain of every kind, then exactly 8 headers, then 9 */
static void test_ipv6_ext_chain(void)
{
	struct pkt_info pi;
	struct fb f;
	unsigned i, n;

	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_HOPOPTS);
	ext6(&f, PKT_PROTO_HOPOPTS, PKT_PROTO_DSTOPTS, 8);
	ext6(&f, PKT_PROTO_DSTOPTS, PKT_PROTO_ROUTING, 16);
	ext6(&f, PKT_PROTO_ROUTING, PKT_PROTO_FRAGMENT, 24);
	frag6(&f, PKT_PROTO_AH, 0, true);
	ext6(&f, PKT_PROTO_AH, PKT_PROTO_DSTOPTS, 24);
	ext6(&f, PKT_PROTO_DSTOPTS, PKT_PROTO_TCP, 8);
	tcp(&f, 100, 200, 5, 4);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_off, 54 + 8 + 16 + 24 + 8 + 24 + 8);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_TCP);
	CU_ASSERT_EQUAL(pi.src_port, 100);
	CU_ASSERT_EQUAL(pi.dst_port, 200);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);

	for (n = 8; n <= 9; n++) {
		eth0(&f, PKT_ETHERTYPE_IPV6);
		ip6(&f, 0, PKT_PROTO_HOPOPTS);
		ext6(&f, PKT_PROTO_HOPOPTS, PKT_PROTO_DSTOPTS, 8);
		for (i = 1; i < n; i++)
			ext6(&f, PKT_PROTO_DSTOPTS,
			     i + 1 < n ? PKT_PROTO_DSTOPTS : PKT_PROTO_UDP, 8);
		udp(&f, 1, 2, 0);
		finish(&f);
		if (n == 8) {
			CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
			CU_ASSERT_EQUAL(pi.l4_off, 54 + 8 * 8);
			CU_ASSERT_EQUAL(pi.dst_port, 2);
		} else {
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
		}
	}
	/* 8 headers then ESP: the walk ends there, OK */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_DSTOPTS);
	for (i = 0; i < 8; i++)
		ext6(&f, PKT_PROTO_DSTOPTS,
		     i < 7 ? PKT_PROTO_DSTOPTS : PKT_PROTO_ESP, 8);
	payload(&f, 16);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_ESP);
}

/* extension headers that do not fit the payload length; hop-by-hop not
 * first; two fragment headers; a jumbogram */
static void test_ipv6_ext_bad(void)
{
	struct pkt_info pi;
	struct fb f;

	/* the routing header claims 16 bytes, the payload has 8 (the rest
	 * of the frame is padding, so it is the payload length that counts) */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_ROUTING);
	ext6(&f, PKT_PROTO_ROUTING, PKT_PROTO_NONE, 8);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	f.b[f.l3 + 41] = 1;
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	payload(&f, 64);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* AH claims (255 + 2) * 4 */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_AH);
	ext6(&f, PKT_PROTO_AH, PKT_PROTO_NONE, 16);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	f.b[f.l3 + 41] = 255;
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* a fragment header cut short: 7 bytes of payload */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_FRAGMENT);
	frag6(&f, PKT_PROTO_UDP, 3, false);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	set16(f.b + f.l3 + 4, 7);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* one byte of an extension header */
	set16(f.b + f.l3 + 4, 1);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* a UDP header past the end of the payload after an ext header */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_DSTOPTS);
	ext6(&f, PKT_PROTO_DSTOPTS, PKT_PROTO_UDP, 8);
	udp(&f, 1, 2, 0);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
	set16(f.b + f.l3 + 4, 15);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);

	/* hop-by-hop after another header */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_DSTOPTS);
	ext6(&f, PKT_PROTO_DSTOPTS, PKT_PROTO_HOPOPTS, 8);
	ext6(&f, PKT_PROTO_HOPOPTS, PKT_PROTO_UDP, 8);
	udp(&f, 1, 2, 0);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
	/* two fragment headers */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_FRAGMENT);
	frag6(&f, PKT_PROTO_FRAGMENT, 0, true);
	frag6(&f, PKT_PROTO_UDP, 0, false);
	udp(&f, 1, 2, 0);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);

	/* jumbogram: payload length 0, hop-by-hop with the jumbo option */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_HOPOPTS);
	put8(&f, PKT_PROTO_UDP);
	put8(&f, 0);
	put8(&f, 0xc2); /* Jumbo Payload option */
	put8(&f, 4);
	put16(&f, 0);
	put16(&f, 8 + 8);
	udp(&f, 1, 2, 0);
	finish(&f);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK); /* as a plain HBH */
	set16(f.b + f.l3 + 4, 0);
	set16(f.b + f.l4 + 4, 0);
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);
}

/* ESP and No Next Header end the walk: OK without ports */
static void test_ipv6_esp(void)
{
	struct pkt_info pi;
	struct fb f;

	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0x40, PKT_PROTO_ESP);
	payload(&f, 40);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_ESP);
	CU_ASSERT_EQUAL(pi.dscp, 16);
	assert_no_l4(&pi);
	assert_v6_addrs(&pi);
	/* after a hop-by-hop header */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_HOPOPTS);
	ext6(&f, PKT_PROTO_HOPOPTS, PKT_PROTO_ESP, 8);
	payload(&f, 3);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_ESP);
	assert_no_l4(&pi);
	/* No Next Header after a destination options header */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_DSTOPTS);
	ext6(&f, PKT_PROTO_DSTOPTS, PKT_PROTO_NONE, 8);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_NONE);
	assert_no_l4(&pi);
}

/* IPv6 fragments: the first has ports, the others none */
static void test_ipv6_fragments(void)
{
	struct pkt_info pi;
	struct fb f;

	/* first fragment: UDP length 2008 covers the whole datagram */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_FRAGMENT);
	frag6(&f, PKT_PROTO_UDP, 0, true);
	udp(&f, 4789, 4790, 32);
	set16(f.b + f.l4 + 4, 2008);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_UDP);
	CU_ASSERT_EQUAL(pi.l4_off, 62);
	CU_ASSERT_EQUAL(pi.src_port, 4789);
	CU_ASSERT_EQUAL(pi.dst_port, 4790);
	CU_ASSERT_EQUAL(pi.payload_len, 32);
	/* the same UDP length without M is malformed */
	f.b[f.l3 + 43] = 0;
	CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_MALFORMED);

	/* non-first fragments, with and without M: no L4, and the protocol
	 * is the fragment header's next header */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_HOPOPTS);
	ext6(&f, PKT_PROTO_HOPOPTS, PKT_PROTO_FRAGMENT, 8);
	frag6(&f, PKT_PROTO_TCP, 1, true);
	payload(&f, 24);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	CU_ASSERT_EQUAL(pi.l4_proto, PKT_PROTO_TCP);
	assert_no_l4(&pi);
	assert_v6_addrs(&pi);
	f.b[f.l3 + 48 + 3] = 0xf8; /* offset 0x1fff, no M */
	f.b[f.l3 + 48 + 2] = 0xff;
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	CU_ASSERT_EQUAL(pi.is_fragment, 1);
	assert_no_l4(&pi);
}

/* ---- truncation --------------------------------------------------------- */

/*
 * Every prefix of a valid frame, each from a heap block of exactly that
 * length: shorter than the frame's headers say is malformed; from the end
 * of the IP packet on (padding), the same result as the whole frame.
 */
static void check_prefixes(const struct fb *f, uint32_t ip_end)
{
	struct pkt_info full, pi;
	uint32_t n;

	CU_ASSERT_EQUAL_FATAL(parse_fb(f, &full), PKT_OK);
	for (n = 0; n <= f->n; n++) {
		enum pkt_status st = parse_n(f->b, n, &pi);

		if (n < ip_end) {
			CU_ASSERT_EQUAL(st, PKT_MALFORMED);
		} else {
			CU_ASSERT_EQUAL_FATAL(st, PKT_OK);
			pi.frame_len = full.frame_len;
			CU_ASSERT_EQUAL(
			    memcmp(&pi, &full,
				   offsetof(struct pkt_info, is_fragment) + 1),
			    0);
		}
	}
}

static void test_truncated_every_length(void)
{
	unsigned tp[2] = {PKT_TPID_8021AD, PKT_TPID_8021Q};
	unsigned vid[2] = {10, 20};
	struct fb f;

	/* untagged IPv4 UDP, padded to 60 bytes */
	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
	udp(&f, 1, 2, 4);
	finish(&f);
	while (f.n < 60)
		put8(&f, 0);
	check_prefixes(&f, 14 + 20 + 12);
	/* QinQ IPv4 with options, TCP with options */
	eth(&f, 2, tp, vid, PKT_ETHERTYPE_IPV4);
	ip4(&f, 9, 0, 0, PKT_PROTO_TCP);
	tcp(&f, 1, 2, 10, 7);
	finish(&f);
	check_prefixes(&f, f.n);
	/* IPv4 non-first fragment, one tag */
	eth(&f, 1, tp + 1, vid, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 100, PKT_PROTO_UDP);
	payload(&f, 5);
	finish(&f);
	check_prefixes(&f, f.n);
	/* IPv6 with a chain, UDP */
	eth(&f, 1, tp, vid, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_HOPOPTS);
	ext6(&f, PKT_PROTO_HOPOPTS, PKT_PROTO_ROUTING, 16);
	ext6(&f, PKT_PROTO_ROUTING, PKT_PROTO_FRAGMENT, 8);
	frag6(&f, PKT_PROTO_AH, 0, false);
	ext6(&f, PKT_PROTO_AH, PKT_PROTO_DSTOPTS, 12);
	ext6(&f, PKT_PROTO_DSTOPTS, PKT_PROTO_UDP, 8);
	udp(&f, 1, 2, 9);
	finish(&f);
	check_prefixes(&f, f.n);
	/* IPv6 TCP, padded */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_TCP);
	tcp(&f, 1, 2, 6, 0);
	finish(&f);
	payload(&f, 6);
	check_prefixes(&f, f.n - 6);
	/* IPv6 non-first fragment, ESP */
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_FRAGMENT);
	frag6(&f, PKT_PROTO_UDP, 7, false);
	payload(&f, 3);
	finish(&f);
	check_prefixes(&f, f.n);
	eth0(&f, PKT_ETHERTYPE_IPV6);
	ip6(&f, 0, PKT_PROTO_ESP);
	payload(&f, 3);
	finish(&f);
	check_prefixes(&f, f.n);
}

/* random bytes in valid frames: whatever the parser says, it stays inside
 * the frame (parse_n checks the offsets; ASan the reads) */
static void test_random_corruption(void)
{
	struct pkt_info pi;
	struct fb base[3], f;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned i, k, nflip;
	unsigned tp[2] = {PKT_TPID_8021Q, PKT_TPID_8021Q};
	unsigned vid[2] = {1, 2};

	eth(&base[0], 1, tp, vid, PKT_ETHERTYPE_IPV4);
	ip4(&base[0], 7, 0, 0, PKT_PROTO_TCP);
	tcp(&base[0], 1, 2, 6, 8);
	finish(&base[0]);
	eth0(&base[1], PKT_ETHERTYPE_IPV6);
	ip6(&base[1], 0, PKT_PROTO_HOPOPTS);
	ext6(&base[1], PKT_PROTO_HOPOPTS, PKT_PROTO_FRAGMENT, 8);
	frag6(&base[1], PKT_PROTO_AH, 0, true);
	ext6(&base[1], PKT_PROTO_AH, PKT_PROTO_UDP, 12);
	udp(&base[1], 1, 2, 8);
	finish(&base[1]);
	eth(&base[2], 2, tp, vid, PKT_ETHERTYPE_IPV6);
	ip6(&base[2], 0, PKT_PROTO_UDP);
	udp(&base[2], 1, 2, 8);
	finish(&base[2]);

	for (i = 0; i < 30000; i++) {
		f = base[i % 3];
		nflip = 1 + unit_rand(&seed) % 4;
		for (k = 0; k < nflip; k++) {
			uint64_t r = unit_rand(&seed);

			f.b[r % f.n] = (uint8_t)(r >> 32);
		}
		f.n -= (uint32_t)(unit_rand(&seed) % 8);
		(void)parse_fb(&f, &pi);
	}
}

/* ---- DSCP, priority, checksum ------------------------------------------- */

/* receiver-style check: the one's complement sum of every word is 0xffff */
static bool ck4_valid(const uint8_t *ip, unsigned ihl_bytes)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i < ihl_bytes; i += 2)
		sum += get16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* a known header (RFC 1071 style example): 0xb861 */
static void test_ipv4_checksum_known(void)
{
	static const uint8_t hdr[20] = {
	    0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	    0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	CU_ASSERT_EQUAL(pkt_ipv4_checksum(hdr, 20), 0xb861);
	CU_ASSERT(ck4_valid(hdr, 20));
}

/* random IPv4 headers (IHL 5..15, random TOS and contents) with a valid
 * checksum: after every DSCP rewrite the stored checksum equals a full
 * recompute, the ECN bits and every other byte are kept */
static void test_set_dscp_ipv4_checksum(void)
{
	uint64_t seed = 12345;
	struct pkt_info pi;
	struct fb f, before;
	unsigned i, j, ihl, ecn;
	uint8_t dscp;

	for (i = 0; i < 20000; i++) {
		unsigned tp[1] = {PKT_TPID_8021Q};
		unsigned vid[1] = {5};

		ihl = 5 + unit_rand(&seed) % 11;
		eth(&f, i & 1, tp, vid, PKT_ETHERTYPE_IPV4);
		ip4(&f, ihl, 0, 0, PKT_PROTO_UDP);
		for (j = 1; j < ihl * 4; j++)
			if (j != 2 && j != 3 && j != 6 && j != 7 && j != 9)
				f.b[f.l3 + j] = (uint8_t)unit_rand(&seed);
		udp(&f, 1, 2, 0);
		finish(&f);
		CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
		CU_ASSERT_FATAL(ck4_valid(f.b + f.l3, ihl * 4));
		ecn = f.b[f.l3 + 1] & 3;
		before = f;
		dscp = (uint8_t)(unit_rand(&seed) % 64);
		CU_ASSERT_EQUAL_FATAL(pkt_set_dscp(f.b, f.n, &pi, dscp), 0);
		CU_ASSERT_EQUAL(f.b[f.l3 + 1] >> 2, dscp);
		CU_ASSERT_EQUAL(f.b[f.l3 + 1] & 3, ecn);
		CU_ASSERT_EQUAL(get16(f.b + f.l3 + 10),
				pkt_ipv4_checksum(f.b + f.l3, ihl * 4));
		CU_ASSERT(ck4_valid(f.b + f.l3, ihl * 4));
		for (j = 0; j < f.n; j++)
			if (j != f.l3 + 1 && j != f.l3 + 10 && j != f.l3 + 11)
				CU_ASSERT_EQUAL(f.b[j], before.b[j]);
		CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
		CU_ASSERT_EQUAL(pi.dscp, dscp);
		CU_ASSERT_EQUAL(pkt_priority(&pi), dscp >> 3);

		/* a corrupted checksum stays wrong */
		f.b[f.l3 + 10] ^= (uint8_t)(1 + unit_rand(&seed) % 255);
		if (!ck4_valid(f.b + f.l3, ihl * 4)) {
			CU_ASSERT_EQUAL(
			    pkt_set_dscp(f.b, f.n, &pi, (uint8_t)(dscp ^ 0x2a)),
			    0);
			CU_ASSERT(!ck4_valid(f.b + f.l3, ihl * 4));
		}
	}
}

/* every DSCP on every traffic class in IPv6: ECN and flow label kept */
static void test_set_dscp_ipv6(void)
{
	struct pkt_info pi;
	struct fb f, before;
	unsigned tc, d, j;

	for (tc = 0; tc < 256; tc += 7) {
		for (d = 0; d < 64; d++) {
			eth0(&f, PKT_ETHERTYPE_IPV6);
			ip6(&f, tc, PKT_PROTO_UDP);
			udp(&f, 1, 2, 0);
			finish(&f);
			CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
			CU_ASSERT_EQUAL(pi.dscp, tc >> 2);
			before = f;
			CU_ASSERT_EQUAL_FATAL(
			    pkt_set_dscp(f.b, f.n, &pi, (uint8_t)d), 0);
			CU_ASSERT_EQUAL(f.b[f.l3] >> 4, 6);
			/* traffic class = (b0 & 0xf) << 4 | b1 >> 4 */
			CU_ASSERT_EQUAL((unsigned)((f.b[f.l3] & 0x0f) << 4 |
						   f.b[f.l3 + 1] >> 4),
					d << 2 | (tc & 3));
			CU_ASSERT_EQUAL(f.b[f.l3 + 1] & 0x0f, 0x0a);
			for (j = 0; j < f.n; j++)
				if (j != f.l3 && j != f.l3 + 1)
					CU_ASSERT_EQUAL(f.b[j], before.b[j]);
			CU_ASSERT_EQUAL(parse_fb(&f, &pi), PKT_OK);
			CU_ASSERT_EQUAL(pi.dscp, d);
		}
	}
}

/* a pkt_info that does not describe an IP header in the frame, or a DSCP
 * above 63: -EINVAL and the frame untouched */
static void test_set_dscp_rejects(void)
{
	struct pkt_info pi, bad;
	struct fb f, before;

	eth0(&f, PKT_ETHERTYPE_IPV4);
	ip4(&f, 5, 0, 0, PKT_PROTO_UDP);
	udp(&f, 1, 2, 0);
	finish(&f);
	CU_ASSERT_EQUAL_FATAL(parse_fb(&f, &pi), PKT_OK);
	before = f;
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &pi, 64), -EINVAL);
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &pi, 255), -EINVAL);
	bad = pi;
	bad.ip_ver = 0;
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &bad, 1), -EINVAL);
	bad.ip_ver = 6; /* the header there is IPv4 */
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &bad, 1), -EINVAL);
	bad = pi;
	bad.l3_off = 30; /* 20 bytes from 30 exceed the 42-byte frame */
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &bad, 1), -EINVAL);
	/* volatile: a constant offset here makes gcc -O2 warn
	 * (-Warray-bounds) about the path the length check excludes */
	{
		volatile uint16_t far = 0xffff;

		bad.l3_off = far;
		CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &bad, 1), -EINVAL);
	}
	bad = pi;
	bad.l3_off = 0; /* the MAC address is not an IPv4 header */
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &bad, 1), -EINVAL);
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, 33, &pi, 1), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(f.b, before.b, f.n), 0);
	CU_ASSERT_EQUAL(pkt_set_dscp(f.b, f.n, &pi, 63), 0);
}

static void test_priority(void)
{
	struct pkt_info pi;
	unsigned d;

	memset(&pi, 0, sizeof(pi));
	for (d = 0; d < 64; d++) {
		pi.dscp = (uint8_t)d;
		CU_ASSERT_EQUAL(pkt_priority(&pi), d / 8);
	}
	pi.dscp = 0; /* best effort */
	CU_ASSERT_EQUAL(pkt_priority(&pi), 0);
	pi.dscp = 8; /* CS1, low priority */
	CU_ASSERT_EQUAL(pkt_priority(&pi), 1);
	pi.dscp = 34; /* AF41 */
	CU_ASSERT_EQUAL(pkt_priority(&pi), 4);
	pi.dscp = 46; /* EF */
	CU_ASSERT_EQUAL(pkt_priority(&pi), 5);
	pi.dscp = 48; /* CS6 network control */
	CU_ASSERT_EQUAL(pkt_priority(&pi), 6);
	pi.dscp = 56; /* CS7 */
	CU_ASSERT_EQUAL(pkt_priority(&pi), 7);
}

/* ---- addresses ---------------------------------------------------------- */

static void test_addr_helpers(void)
{
	static const uint8_t v4[4] = {10, 1, 2, 3};
	static const uint8_t want[16] = {0, 0, 0,    0,	   0,  0, 0, 0,
					 0, 0, 0xff, 0xff, 10, 1, 2, 3};
	uint8_t a[16], b[16];

	memset(a, 0x77, sizeof(a));
	pkt_addr_v4map(a, v4);
	CU_ASSERT_EQUAL(memcmp(a, want, 16), 0);
	CU_ASSERT(pkt_addr_is_v4(a));
	CU_ASSERT(pkt_addr_eq(a, want));
	memcpy(b, a, 16);
	b[15] ^= 1;
	CU_ASSERT(!pkt_addr_eq(a, b));
	b[15] ^= 1;
	b[0] = 0x20; /* not v4-mapped any more */
	CU_ASSERT(!pkt_addr_is_v4(b));
	memcpy(b, a, 16);
	b[10] = 0; /* ::a.b.c.d (deprecated v4-compatible) is not mapped */
	CU_ASSERT(!pkt_addr_is_v4(b));
	CU_ASSERT(!pkt_addr_is_v4(SRC6));
	CU_ASSERT_STRING_EQUAL(pkt_status_name(PKT_OK), "ok");
	CU_ASSERT_STRING_EQUAL(pkt_status_name(PKT_MALFORMED), "malformed");
	CU_ASSERT_STRING_EQUAL(pkt_status_name(PKT_UNSUPPORTED), "unsupported");
	CU_ASSERT_STRING_EQUAL(pkt_status_name(PKT_STATUS_MAX), "?");
}

/* flip bit `bit` (0 = most significant) of a 16-byte address */
static void flip(uint8_t a[16], unsigned bit)
{
	a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

/*
 * For a prefix of length L, an address that differs from the prefix only
 * at bit L or later matches; one that differs at bit L - 1 does not.
 */
static void check_prefix_len(const uint8_t pfx[16], unsigned len)
{
	uint8_t a[16];
	unsigned bit;

	CU_ASSERT(pkt_addr_in_prefix(pfx, pfx, len));
	for (bit = 0; bit < 128; bit++) {
		memcpy(a, pfx, 16);
		flip(a, bit);
		CU_ASSERT_EQUAL(pkt_addr_in_prefix(a, pfx, len), bit >= len);
	}
	/* host bits of the prefix itself are ignored */
	if (len < 128) {
		memcpy(a, pfx, 16);
		flip(a, 127);
		CU_ASSERT(pkt_addr_in_prefix(pfx, a, len));
	}
}

static void test_prefix_v6(void)
{
	static const unsigned lens[] = {0,  1,	7,  8,	9,  31,	 32, 63,
					64, 65, 95, 96, 97, 127, 128};
	uint8_t all1[16], all0[16];
	unsigned i;

	memset(all1, 0xff, sizeof(all1));
	memset(all0, 0, sizeof(all0));
	for (i = 0; i < TG_ARRAY_SIZE(lens); i++) {
		check_prefix_len(SRC6, lens[i]);
		check_prefix_len(DST6, lens[i]);
		check_prefix_len(all1, lens[i]);
		check_prefix_len(all0, lens[i]);
	}
	/* ::/0 matches anything, including v4-mapped */
	CU_ASSERT(pkt_addr_in_prefix(all1, all0, 0));
	/* 2001:db8::/32 */
	CU_ASSERT(pkt_addr_in_prefix(DST6, SRC6, 32));
	CU_ASSERT(!pkt_addr_in_prefix(DST6, SRC6, 33));
	CU_ASSERT(!pkt_addr_in_prefix(all1, all0, 1));
	/* lengths above 128 match nothing */
	CU_ASSERT(!pkt_addr_in_prefix(SRC6, SRC6, 129));
	CU_ASSERT(!pkt_addr_in_prefix(SRC6, SRC6, 1000));
}

static void test_prefix_v4(void)
{
	static const uint8_t net[4] = {10, 128, 0, 0};
	static const unsigned lens[] = {0, 1, 8, 9, 24, 31, 32};
	uint8_t pfx[16], a[16];
	unsigned i;

	pkt_addr_v4map(pfx, net);
	for (i = 0; i < TG_ARRAY_SIZE(lens); i++)
		check_prefix_len(pfx, 96 + lens[i]);

	/* 10.128.0.0/9 holds 10.255.1.2, not 10.127.255.255 */
	pkt_addr_v4map(a, (const uint8_t[4]){10, 255, 1, 2});
	CU_ASSERT(pkt_addr_in_prefix(a, pfx, 96 + 9));
	pkt_addr_v4map(a, (const uint8_t[4]){10, 127, 255, 255});
	CU_ASSERT(!pkt_addr_in_prefix(a, pfx, 96 + 9));
	CU_ASSERT(pkt_addr_in_prefix(a, pfx, 96 + 8));
	/* 0.0.0.0/0 is ::ffff:0:0/96: every IPv4, no IPv6 */
	CU_ASSERT(pkt_addr_in_prefix(a, pfx, 96));
	CU_ASSERT(!pkt_addr_in_prefix(SRC6, pfx, 96));
	/* /31 and /32 */
	pkt_addr_v4map(pfx, (const uint8_t[4]){192, 0, 2, 254});
	pkt_addr_v4map(a, (const uint8_t[4]){192, 0, 2, 255});
	CU_ASSERT(pkt_addr_in_prefix(a, pfx, 96 + 31));
	CU_ASSERT(!pkt_addr_in_prefix(a, pfx, 96 + 32));
	CU_ASSERT(pkt_addr_in_prefix(pfx, pfx, 96 + 32));
	/* /1: 0.0.0.0/1 vs 128.0.0.0/1 */
	pkt_addr_v4map(pfx, (const uint8_t[4]){0, 0, 0, 0});
	pkt_addr_v4map(a, (const uint8_t[4]){127, 255, 255, 255});
	CU_ASSERT(pkt_addr_in_prefix(a, pfx, 96 + 1));
	pkt_addr_v4map(a, (const uint8_t[4]){128, 0, 0, 0});
	CU_ASSERT(!pkt_addr_in_prefix(a, pfx, 96 + 1));
}

/* the struct the classifier reads stays within a cache line */
static void test_layout(void)
{
	CU_ASSERT(sizeof(struct pkt_info) <= 64);
	CU_ASSERT_EQUAL(offsetof(struct pkt_info, src), 0);
	CU_ASSERT_EQUAL(offsetof(struct pkt_info, dst), 16);
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("parse", NULL, NULL);

	if (!s)
		return CU_get_error();
	if (!CU_add_test(s, "ipv4 udp untagged", test_ipv4_udp_untagged) ||
	    !CU_add_test(s, "ipv4 tcp untagged", test_ipv4_tcp_untagged) ||
	    !CU_add_test(s, "vlan tags", test_vlan_tags) ||
	    !CU_add_test(s, "odd vlan stacks", test_odd_vlan_stacks) ||
	    !CU_add_test(s, "non-ip unsupported", test_non_ip_unsupported) ||
	    !CU_add_test(s, "short l2", test_short_l2) ||
	    !CU_add_test(s, "ethernet padding", test_ethernet_padding) ||
	    !CU_add_test(s, "ipv4 options", test_ipv4_options) ||
	    !CU_add_test(s, "ipv4 bad header", test_ipv4_bad_header) ||
	    !CU_add_test(s, "ipv4 total length", test_ipv4_total_length) ||
	    !CU_add_test(s, "ipv4 fragments", test_ipv4_fragments) ||
	    !CU_add_test(s, "ipv4 other protocols",
			 test_ipv4_other_protocols) ||
	    !CU_add_test(s, "udp length", test_udp_length) ||
	    !CU_add_test(s, "tcp header", test_tcp_header) ||
	    !CU_add_test(s, "ipv6 udp tcp", test_ipv6_udp_tcp) ||
	    !CU_add_test(s, "ipv6 bad header", test_ipv6_bad_header) ||
	    !CU_add_test(s, "ipv6 each ext header", test_ipv6_each_ext) ||
	    !CU_add_test(s, "ipv6 ext chain, 8 and 9", test_ipv6_ext_chain) ||
	    !CU_add_test(s, "ipv6 ext bad", test_ipv6_ext_bad) ||
	    !CU_add_test(s, "ipv6 esp", test_ipv6_esp) ||
	    !CU_add_test(s, "ipv6 fragments", test_ipv6_fragments) ||
	    !CU_add_test(s, "truncated at every length",
			 test_truncated_every_length) ||
	    !CU_add_test(s, "random corruption", test_random_corruption) ||
	    !CU_add_test(s, "ipv4 checksum known", test_ipv4_checksum_known) ||
	    !CU_add_test(s, "set dscp ipv4 checksum",
			 test_set_dscp_ipv4_checksum) ||
	    !CU_add_test(s, "set dscp ipv6", test_set_dscp_ipv6) ||
	    !CU_add_test(s, "set dscp rejects", test_set_dscp_rejects) ||
	    !CU_add_test(s, "priority", test_priority) ||
	    !CU_add_test(s, "addr helpers", test_addr_helpers) ||
	    !CU_add_test(s, "prefix v6", test_prefix_v6) ||
	    !CU_add_test(s, "prefix v4", test_prefix_v4) ||
	    !CU_add_test(s, "layout", test_layout))
		return CU_get_error();
	return CUE_SUCCESS;
}
