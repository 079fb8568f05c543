/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser of the hot path: Ethernet II with up to two VLAN tags, IPv4
 * (options skipped) or IPv6 (extension headers walked), then the UDP or TCP
 * ports. One call per received packet, at 10+ Mpps per core, so the common
 * case (untagged IPv4 UDP) is straight-line code and the only loops are the
 * bounded IPv6 extension-header walk; the result is a small struct that the
 * classifier reads (addresses, ports, VLANs, DSCP) instead of the frame.
 *
 * Safety: every byte is bounds checked against `len` before it is read, so
 * nothing past frame[len - 1] is ever touched, whatever the frame holds;
 * multi-byte fields are assembled from bytes (no unaligned casts). A frame
 * that is not what its headers say is PKT_MALFORMED; a well-formed frame
 * this gate does not handle (ARP, LLDP, 802.3/LLC...) is PKT_UNSUPPORTED.
 *
 * Not checked, on purpose: the IPv4 header checksum (the NIC verifies it,
 * and software verification would cost a loop per packet), UDP and TCP
 * checksums, and TCP flags. The parser reads only the first segment of an
 * mbuf chain: callers pass rte_pktmbuf_data_len(), not pkt_len() (and
 * charge byte-mode buckets by pkt_len(), which frame_len may be short of).
 *
 * Pure C11 without DPDK, so that unit tests and fuzzers include it directly;
 * builds with -std=c11 -Wpedantic and inside DPDK code (-std=gnu11).
 * Threads: every function is reentrant (no state), any thread may call it.
 */
#ifndef TG_PARSE_H
#define TG_PARSE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tg_common.h"

/** Outcome of pkt_parse(). */
enum pkt_status {
	PKT_OK,		 /**< IPv4/IPv6, every field of pkt_info valid */
	PKT_MALFORMED,	 /**< truncated or inconsistent headers: drop */
	PKT_UNSUPPORTED, /**< well-formed but not IP (ARP, 802.3...) */
	PKT_STATUS_MAX
};

#define PKT_ETH_HLEN	 14u /**< Ethernet II header, bytes */
#define PKT_VLAN_HLEN	 4u  /**< one 802.1Q/802.1ad tag, bytes */
#define PKT_IPV4_HLEN	 20u /**< IPv4 header without options, bytes */
#define PKT_IPV6_HLEN	 40u /**< IPv6 fixed header, bytes */
#define PKT_UDP_HLEN	 8u  /**< bytes */
#define PKT_TCP_HLEN	 20u /**< TCP header without options, bytes */
#define PKT_IPV6_MAX_EXT 8u  /**< extension headers walked, at most */

#define PKT_ETHERTYPE_MIN  0x0600u /**< below: an 802.3 length field */
#define PKT_ETHERTYPE_IPV4 0x0800u
#define PKT_ETHERTYPE_IPV6 0x86DDu
#define PKT_TPID_8021Q	   0x8100u /**< customer tag (C-tag) */
#define PKT_TPID_8021AD	   0x88A8u /**< service tag (S-tag), outer only */
#define PKT_TPID_QINQ_OLD  0x9100u /**< pre-802.1ad S-tag, outer only */

#define PKT_PROTO_HOPOPTS  0u
#define PKT_PROTO_TCP	   6u
#define PKT_PROTO_UDP	   17u
#define PKT_PROTO_ROUTING  43u
#define PKT_PROTO_FRAGMENT 44u
#define PKT_PROTO_ESP	   50u
#define PKT_PROTO_AH	   51u
#define PKT_PROTO_NONE	   59u /**< IPv6 No Next Header */
#define PKT_PROTO_DSTOPTS  60u

/**
 * What pkt_parse() found. Addresses and offsets come first so that the
 * fields the classifier reads (dst, src, ports, vlan) share one cache line;
 * 60 bytes, 4-byte aligned (checked below).
 *
 * On PKT_OK every field is valid. On PKT_UNSUPPORTED frame_len, n_vlans,
 * vlan[] and l3_off (the offset of what follows the tags) are valid and
 * every other field is zero. On PKT_MALFORMED only frame_len is
 * meaningful.
 *
 * Invariants on PKT_OK: l3_off == 14 + 4 * n_vlans; l4_off == 0, or
 * l4_proto is UDP or TCP and the whole UDP or TCP header (options included)
 * lies in [l4_off, frame_len); payload_off + payload_len <= frame_len;
 * l4_off == 0 implies ports, payload_off and payload_len are all 0.
 */
struct pkt_info {
	uint8_t src[16];      /**< source; IPv4 as v4-mapped ::ffff:a.b.c.d */
	uint8_t dst[16];      /**< destination, same form */
	uint32_t frame_len;   /**< bytes (the len given to pkt_parse) */
	uint16_t l3_off;      /**< offset of the IP header, bytes */
	uint16_t l4_off;      /**< offset of the UDP/TCP header, 0 if none */
	uint16_t src_port;    /**< host order; 0 when l4_off == 0 */
	uint16_t dst_port;    /**< host order; 0 when l4_off == 0 */
	uint16_t vlan[2];     /**< VLAN ids (12 bits), outer first, 0 unused */
	uint16_t payload_off; /**< first byte after the UDP/TCP header, or 0 */
	uint16_t payload_len; /**< L4 payload bytes in this frame (UDP: from
			       *   the UDP length; no Ethernet padding) */
	uint8_t n_vlans;      /**< 0, 1 or 2 */
	uint8_t ip_ver;	      /**< 4 or 6 */
	uint8_t l4_proto;     /**< final protocol (after IPv6 ext headers) */
	uint8_t dscp;	      /**< 6-bit DSCP from the TOS / traffic class */
	uint8_t is_fragment;  /**< IPv4 MF or offset != 0; IPv6 fragment hdr */
};

_Static_assert(sizeof(struct pkt_info) <= 64, "pkt_info fits a cache line");

/* ---- internal helpers (pkt_ prefix, not part of the contract) ---------- */

/* Big-endian 16-bit field at p. The caller has checked p[0..1]. */
static inline uint16_t pkt_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

/* Big-endian 64-bit field at p; compilers turn this into load + bswap. */
static inline uint64_t pkt_be64(const uint8_t *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	       (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	       (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/* A TPID allowed as the outer (first) tag. */
static inline bool pkt_is_tpid(unsigned etype)
{
	return etype == PKT_TPID_8021Q || etype == PKT_TPID_8021AD ||
	       etype == PKT_TPID_QINQ_OLD;
}

/* ---- addresses ---------------------------------------------------------- */

/**
 * Write the v4-mapped form ::ffff:a.b.c.d of the IPv4 address v4 (4 bytes,
 * network order) into out: two constant stores and one 4-byte copy.
 */
static inline void pkt_addr_v4map(uint8_t out[16], const uint8_t v4[4])
{
	/* a static constant (not a compound literal, which gcc 12 copies
	 * through the stack): gcc and clang turn the copy into two
	 * immediate stores */
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};

	memcpy(out, v4mapped, sizeof(v4mapped));
	memcpy(out + 12, v4, 4);
}

/** True when addr is a v4-mapped IPv4 address (::ffff:0:0/96). */
static inline bool pkt_addr_is_v4(const uint8_t addr[16])
{
	return pkt_be64(addr) == 0 && pkt_be16(addr + 8) == 0 &&
	       pkt_be16(addr + 10) == 0xffff;
}

/** True when the two 16-byte addresses are equal. */
static inline bool pkt_addr_eq(const uint8_t a[16], const uint8_t b[16])
{
	return memcmp(a, b, 16) == 0;
}

/**
 * True when the first pfx_len_bits bits of addr and pfx are equal (the
 * host bits of pfx are ignored). IPv4 prefixes are stored v4-mapped with
 * pfx_len_bits = IPv4 length + 96, so that they never match an IPv6
 * address. pfx_len_bits 0 matches everything; above 128 nothing matches.
 */
static inline bool pkt_addr_in_prefix(const uint8_t addr[16],
				      const uint8_t pfx[16],
				      unsigned pfx_len_bits)
{
	uint64_t hi_mask, lo_mask;

	if (tg_unlikely(pfx_len_bits > 128))
		return false;
	/* shifts by 64 are undefined: the 0 and 64 cases take a branch */
	if (pfx_len_bits >= 64)
		hi_mask = ~UINT64_C(0);
	else if (pfx_len_bits == 0)
		hi_mask = 0;
	else
		hi_mask = ~UINT64_C(0) << (64 - pfx_len_bits);
	if (pfx_len_bits <= 64)
		lo_mask = 0;
	else if (pfx_len_bits == 128)
		lo_mask = ~UINT64_C(0);
	else
		lo_mask = ~UINT64_C(0) << (128 - pfx_len_bits);
	return ((pkt_be64(addr) ^ pkt_be64(pfx)) & hi_mask) == 0 &&
	       ((pkt_be64(addr + 8) ^ pkt_be64(pfx + 8)) & lo_mask) == 0;
}

/* ---- parser ------------------------------------------------------------- */

/*
 * UDP or TCP header at off, inside an IP payload ending at end (exclusive).
 * Callers guarantee off <= end <= frame length and out->l4_proto set.
 * partial: the datagram continues in later fragments (first fragment), so
 * the UDP length may exceed what this packet holds.
 */
static inline enum pkt_status pkt_parse_l4(const uint8_t *frame, uint32_t off,
					   uint32_t end, bool partial,
					   struct pkt_info *out)
{
	const uint8_t *l4 = frame + off;
	uint32_t avail = end - off;
	uint32_t ulen, hlen;

	if (tg_likely(out->l4_proto == PKT_PROTO_UDP)) {
		if (tg_unlikely(avail < PKT_UDP_HLEN))
			return PKT_MALFORMED;
		/* 0 means "see the jumbogram length" (RFC 2675): not handled */
		ulen = pkt_be16(l4 + 4);
		if (tg_unlikely(ulen < PKT_UDP_HLEN))
			return PKT_MALFORMED;
		if (tg_unlikely(ulen > avail)) {
			if (!partial)
				return PKT_MALFORMED;
			ulen = avail;
		}
		out->src_port = pkt_be16(l4);
		out->dst_port = pkt_be16(l4 + 2);
		out->l4_off = (uint16_t)off;
		out->payload_off = (uint16_t)(off + PKT_UDP_HLEN);
		out->payload_len = (uint16_t)(ulen - PKT_UDP_HLEN);
		return PKT_OK;
	}
	if (out->l4_proto == PKT_PROTO_TCP) {
		if (tg_unlikely(avail < PKT_TCP_HLEN))
			return PKT_MALFORMED;
		hlen = (uint32_t)(l4[12] >> 4) * 4;
		if (tg_unlikely(hlen < PKT_TCP_HLEN || hlen > avail))
			return PKT_MALFORMED;
		out->src_port = pkt_be16(l4);
		out->dst_port = pkt_be16(l4 + 2);
		out->l4_off = (uint16_t)off;
		out->payload_off = (uint16_t)(off + hlen);
		out->payload_len = (uint16_t)(avail - hlen);
		return PKT_OK;
	}
	/* ICMP, SCTP, GRE, ESP, No Next Header...: no ports */
	return PKT_OK;
}

/* IPv4 header at l3; the caller guarantees l3 <= len. */
static inline enum pkt_status pkt_parse_ipv4(const uint8_t *frame, uint32_t len,
					     uint32_t l3, struct pkt_info *out)
{
	const uint8_t *ip = frame + l3;
	uint32_t ihl, tot, frag;

	if (tg_unlikely(len - l3 < PKT_IPV4_HLEN))
		return PKT_MALFORMED;
	ihl = PKT_IPV4_HLEN;
	if (tg_unlikely(ip[0] != 0x45)) {
		/* options, or a bad version / IHL */
		if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
			return PKT_MALFORMED;
		ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	}
	/* ihl <= tot <= len - l3: the header (options too) is in the frame;
	 * bytes past l3 + tot are Ethernet padding and are ignored */
	tot = pkt_be16(ip + 2);
	if (tg_unlikely(tot < ihl || tot > len - l3))
		return PKT_MALFORMED;

	out->l3_off = (uint16_t)l3;
	out->ip_ver = 4;
	out->dscp = ip[1] >> 2;
	out->l4_proto = ip[9];
	pkt_addr_v4map(out->src, ip + 12);
	pkt_addr_v4map(out->dst, ip + 16);

	frag = pkt_be16(ip + 6);
	if (tg_unlikely(frag & 0x3fff)) { /* MF or fragment offset */
		out->is_fragment = 1;
		if (frag & 0x1fff) /* not the first: no L4 header here */
			return PKT_OK;
		return pkt_parse_l4(frame, l3 + ihl, l3 + tot, true, out);
	}
	return pkt_parse_l4(frame, l3 + ihl, l3 + tot, false, out);
}

/* Protocol numbers pkt_parse_ipv6() walks through. */
static inline bool pkt_ipv6_is_ext(unsigned nh)
{
	return nh == PKT_PROTO_HOPOPTS || nh == PKT_PROTO_ROUTING ||
	       nh == PKT_PROTO_FRAGMENT || nh == PKT_PROTO_DSTOPTS ||
	       nh == PKT_PROTO_AH;
}

/*
 * IPv6 extension headers from off (first header type nh) to end, the end
 * of the payload. At most PKT_IPV6_MAX_EXT headers, each wholly inside the
 * payload; hop-by-hop only first (RFC 8200 4.1); one fragment header.
 * Rare (a few percent of IPv6 traffic at most), hence out of the fast path.
 */
static inline enum pkt_status pkt_parse_ipv6_ext(const uint8_t *frame,
						 uint32_t off, uint32_t end,
						 unsigned nh,
						 struct pkt_info *out)
{
	bool partial = false;
	uint32_t hlen;
	unsigned i, fo;

	for (i = 0; i < PKT_IPV6_MAX_EXT && pkt_ipv6_is_ext(nh); i++) {
		if (end - off < 2)
			return PKT_MALFORMED;
		if (nh == PKT_PROTO_FRAGMENT) {
			hlen = 8;
			if (end - off < hlen || out->is_fragment)
				return PKT_MALFORMED;
			out->is_fragment = 1;
			fo = pkt_be16(frame + off + 2);
			if (fo & 0xfff8) { /* not the first fragment */
				out->l4_proto = frame[off];
				return PKT_OK;
			}
			partial = fo & 1; /* M: more fragments follow */
		} else if (nh == PKT_PROTO_AH) {
			hlen = ((uint32_t)frame[off + 1] + 2) * 4;
		} else {
			if (nh == PKT_PROTO_HOPOPTS && i != 0)
				return PKT_MALFORMED;
			hlen = ((uint32_t)frame[off + 1] + 1) * 8;
		}
		if (hlen > end - off)
			return PKT_MALFORMED;
		nh = frame[off];
		off += hlen;
	}
	if (pkt_ipv6_is_ext(nh)) /* a 9th extension header */
		return PKT_MALFORMED;
	out->l4_proto = (uint8_t)nh;
	return pkt_parse_l4(frame, off, end, partial, out);
}

/* IPv6 header at l3; the caller guarantees l3 <= len. */
static inline enum pkt_status pkt_parse_ipv6(const uint8_t *frame, uint32_t len,
					     uint32_t l3, struct pkt_info *out)
{
	const uint8_t *ip = frame + l3;
	uint32_t end;
	unsigned nh;

	if (tg_unlikely(len - l3 < PKT_IPV6_HLEN || (ip[0] >> 4) != 6))
		return PKT_MALFORMED;
	/* payload length 0 with hop-by-hop is a jumbogram (RFC 2675): not
	 * supported, and malformed here because the hop-by-hop header does
	 * not fit in a 0-byte payload */
	end = l3 + PKT_IPV6_HLEN + pkt_be16(ip + 4);
	if (tg_unlikely(end > len))
		return PKT_MALFORMED;

	out->l3_off = (uint16_t)l3;
	out->ip_ver = 6;
	out->dscp = (uint8_t)((ip[0] & 0x0f) << 2 | ip[1] >> 6);
	memcpy(out->src, ip + 8, 16);
	memcpy(out->dst, ip + 24, 16);

	nh = ip[6];
	if (tg_likely(nh == PKT_PROTO_UDP || nh == PKT_PROTO_TCP)) {
		out->l4_proto = (uint8_t)nh;
		return pkt_parse_l4(frame, l3 + PKT_IPV6_HLEN, end, false, out);
	}
	return pkt_parse_ipv6_ext(frame, l3 + PKT_IPV6_HLEN, end, nh, out);
}

/**
 * Parse the frame[0..len) received from the wire into *out (see struct
 * pkt_info for which fields are valid on each outcome).
 *
 * Accepted: Ethernet II; zero, one or two VLAN tags (outer TPID 0x8100,
 * 0x88A8 or 0x9100, inner 0x8100); IPv4 (IHL 5..15, total length within
 * the frame, Ethernet padding after it ignored) or IPv6 (up to 8 extension
 * headers: hop-by-hop, routing, fragment, destination options, AH); then
 * UDP (length 8..payload) or TCP (data offset 5..payload), whose ports are
 * read. Other IP protocols, ESP, No Next Header and non-first fragments
 * are PKT_OK without ports.
 *
 * Returns PKT_OK; PKT_UNSUPPORTED for an 802.3 length field or a non-IP
 * EtherType after the tags; PKT_MALFORMED for anything truncated or
 * inconsistent (a third tag or an inner S-tag, a bad IP version, IHL,
 * total or payload length, 9 extension headers, a UDP or TCP header that
 * does not fit...). Never reads outside frame[0..len).
 * Caller: any thread (worker, once per packet).
 */
static inline enum pkt_status pkt_parse(const uint8_t *frame, uint32_t len,
					struct pkt_info *out)
{
	uint32_t off = PKT_ETH_HLEN;
	unsigned etype;

	/* the compiler merges these into a few wide stores */
	out->frame_len = len;
	out->l3_off = 0;
	out->l4_off = 0;
	out->src_port = 0;
	out->dst_port = 0;
	out->vlan[0] = 0;
	out->vlan[1] = 0;
	out->payload_off = 0;
	out->payload_len = 0;
	out->n_vlans = 0;
	out->ip_ver = 0;
	out->l4_proto = 0;
	out->dscp = 0;
	out->is_fragment = 0;

	if (tg_unlikely(len < PKT_ETH_HLEN))
		return PKT_MALFORMED;
	etype = pkt_be16(frame + 12);
	/* no hint: on a VLAN trunk every frame is tagged */
	if (pkt_is_tpid(etype)) {
		if (len < PKT_ETH_HLEN + PKT_VLAN_HLEN)
			return PKT_MALFORMED;
		out->vlan[0] = pkt_be16(frame + 14) & 0x0fff;
		out->n_vlans = 1;
		etype = pkt_be16(frame + 16);
		off += PKT_VLAN_HLEN;
		if (etype == PKT_TPID_8021Q) {
			if (len < PKT_ETH_HLEN + 2 * PKT_VLAN_HLEN)
				return PKT_MALFORMED;
			out->vlan[1] = pkt_be16(frame + 18) & 0x0fff;
			out->n_vlans = 2;
			etype = pkt_be16(frame + 20);
			off += PKT_VLAN_HLEN;
		}
		/* a third tag, or an S-tag inside: odd VLAN stack */
		if (pkt_is_tpid(etype))
			return PKT_MALFORMED;
	}
	if (tg_likely(etype == PKT_ETHERTYPE_IPV4))
		return pkt_parse_ipv4(frame, len, off, out);
	if (etype == PKT_ETHERTYPE_IPV6)
		return pkt_parse_ipv6(frame, len, off, out);
	/* 802.3 length (< 0x0600), ARP, LLDP, MPLS...: what follows the
	 * tags is at off, for whoever counts them */
	out->l3_off = (uint16_t)off;
	memset(out->src, 0, sizeof(out->src));
	memset(out->dst, 0, sizeof(out->dst));
	return PKT_UNSUPPORTED;
}

/** Name of a status, for logs and counters ("ok", "malformed"...). */
static inline const char *pkt_status_name(enum pkt_status st)
{
	switch (st) {
	case PKT_OK:
		return "ok";
	case PKT_MALFORMED:
		return "malformed";
	case PKT_UNSUPPORTED:
		return "unsupported";
	case PKT_STATUS_MAX:
		break;
	}
	return "?";
}

/* ---- priority and DSCP -------------------------------------------------- */

/**
 * Priority of a parsed packet: the DSCP class selector (dscp >> 3), 0..7,
 * higher is more important (CS7 network control ... CS0 best effort).
 */
static inline uint8_t pkt_priority(const struct pkt_info *pi)
{
	return pi->dscp >> 3;
}

/**
 * IPv4 header checksum of ip[0..ihl_bytes), computed as if the checksum
 * field (bytes 10..11) were zero: the value to store there, host order.
 * A header is valid when this equals the stored field. ihl_bytes >= 12.
 * Loops over the header: for tests and tools, not for the hot path.
 */
static inline uint16_t pkt_ipv4_checksum(const uint8_t *ip, unsigned ihl_bytes)
{
	uint32_t sum = 0;
	unsigned i;

	for (i = 0; i + 1 < ihl_bytes; i += 2)
		if (i != 10)
			sum += pkt_be16(ip + i);
	if (ihl_bytes & 1)
		sum += (uint32_t)ip[ihl_bytes - 1] << 8;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/**
 * Rewrite the DSCP of the packet pi describes to dscp (0..63), keeping the
 * two ECN bits: in the IPv4 TOS, whose header checksum is then updated
 * incrementally (RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m')), so a valid
 * checksum stays valid and a bad one stays bad; or in the IPv6 traffic
 * class. pi->dscp is not updated (pi is the caller's, and const).
 * Returns 0, or -EINVAL when dscp > 63 or pi does not describe an IPv4 or
 * IPv6 header (of the version pi says, its fixed part inside
 * frame[0..len)); the frame is then unchanged.
 * Caller: the thread that owns the frame (worker, mark action).
 */
static inline int pkt_set_dscp(uint8_t *frame, uint32_t len,
			       const struct pkt_info *pi, uint8_t dscp)
{
	uint32_t l3 = pi->l3_off;
	uint32_t old, new, sum;
	uint8_t *ip;

	if (dscp > 63 || l3 > len)
		return -EINVAL;
	ip = frame + l3;
	if (pi->ip_ver == 4) {
		if (len - l3 < PKT_IPV4_HLEN || (ip[0] >> 4) != 4)
			return -EINVAL;
		old = pkt_be16(ip);
		ip[1] = (uint8_t)(dscp << 2 | (ip[1] & 0x03));
		new = pkt_be16(ip);
		sum = (~(uint32_t)pkt_be16(ip + 10) & 0xffff) +
		      (~old & 0xffff) + new;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = ~sum & 0xffff;
		ip[10] = (uint8_t)(sum >> 8);
		ip[11] = (uint8_t)sum;
		return 0;
	}
	if (pi->ip_ver == 6) {
		if (len - l3 < PKT_IPV6_HLEN || (ip[0] >> 4) != 6)
			return -EINVAL;
		/* traffic class = low nibble of byte 0, high nibble of byte 1;
		 * DSCP is its top 6 bits, ECN bits 5..4 of byte 1 */
		ip[0] = (uint8_t)((ip[0] & 0xf0) | dscp >> 2);
		ip[1] = (uint8_t)((ip[1] & 0x3f) | (dscp & 0x03) << 6);
		return 0;
	}
	return -EINVAL;
}

#endif /* TG_PARSE_H */
