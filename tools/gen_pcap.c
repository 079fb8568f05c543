/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate-gen-pcap: write a pcap of synthetic messages, one Ethernet frame
 * each, for replay through DPDK's net_pcap PMD (infinite_rx=1) in demos and
 * tests. The traffic has the shape the gate is built for: topics (UDP or TCP
 * destination ports, weighted), consumers (source addresses, IPv4 or IPv6,
 * sending with a Zipf skew so that a few are heavy and most are light),
 * VLAN and QinQ tags, DSCP classes, IPv4 options, IPv6 extension headers,
 * and, on request, malformed frames of named kinds. Every well-formed frame
 * carries correct IPv4, UDP and TCP checksums.
 *
 * The output depends only on the flags and the seed (a private xoshiro256**
 * generator and a fixed start time), so tests can regenerate a file instead
 * of storing it. A consumer's rank is its Zipf rank: rank 0 has the largest
 * expected share. The optional manifest (JSON, written with jansson) counts
 * what was written per topic and per consumer rank, for tests that check
 * per-topic and per-consumer limits. Bad flags exit with 2, I/O errors with
 * 1. This is a tool, not a library: it prints, and main() exits.
 *
 * One file, longer than the house ~800 lines, because the tool was asked
 * for as one file; its halves split cleanly if it grows: frames (random
 * numbers, checksums, frame_pick/build/break) above "flags", the command
 * line, the manifest and main() below.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "tidegate-gen-pcap"

#define GEN_FRAME_MIN	  60u		       /* bytes, Ethernet without FCS */
#define GEN_FRAME_MAX	  9000u		       /* bytes, jumbo */
#define GEN_MAX_CONSUMERS (1u << 24)	       /* CDF of 128 MiB at most */
#define GEN_MAX_COUNT	  UINT64_C(4000000000) /* per-consumer counts: u32 */
#define GEN_MAX_CLASSES	  8u		       /* DSCP CS0..CS7 */
#define GEN_MAX_SIZES	  64u
#define GEN_VLAN_BASE	  100u /* VLAN id of topic 0 */
#define GEN_VLAN_MAX	  4094u
#define GEN_T0_S	  1704067200u /* first timestamp: 2024-01-01 00:00 UTC */
#define GEN_TAG_LEN	  14u	/* seq, rank, topic at the payload start */
#define GEN_FRAG_REST_MAX 64u	/* later fragments: up to 64 x 8 bytes */
#define GEN_EXT_LONG_CAP  1000u /* frame size cap of ipv6-ext-long */

#define ETH_P_IPV4    0x0800
#define ETH_P_IPV6    0x86dd
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88a8
#define IPPROTO_HBH_  0
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17
#define IPPROTO_RTG_  43
#define IPPROTO_FRAG_ 44
#define IPPROTO_DST_  60

/* IPv6 extension headers a frame may carry, in RFC 8200 order. */
enum ext_bit { EXT_HBH = 1, EXT_DST = 2, EXT_RTG = 4, EXT_FRAG = 8 };

/* Malformed kinds; names and help in the tables below, same order. */
enum mal_kind {
	MAL_ETH_TRUNC,
	MAL_IPV4_TRUNC,
	MAL_IHL_SHORT,
	MAL_IHL_LONG,
	MAL_IPV4_LEN_LONG,
	MAL_UDP_LEN_SHORT,
	MAL_UDP_LEN_LONG,
	MAL_TCP_DOFF_SHORT,
	MAL_VLAN3,
	MAL_IPV6_EXT_LONG,
	MAL_IP_VERSION,
	MAL_MAX
};

static const char *const mal_names[MAL_MAX] = {
    "eth-trunc",     "ipv4-trunc",    "ihl-short",    "ihl-long",
    "ipv4-len-long", "udp-len-short", "udp-len-long", "tcp-doff-short",
    "vlan3",	     "ipv6-ext-long", "ip-version",
};

static const char *const mal_help[MAL_MAX] = {
    "frame ends inside the Ethernet header (1-13 bytes)",
    "frame ends inside the IPv4 header",
    "IPv4 IHL below 5",
    "IPv4 IHL runs past the end of the frame",
    "IPv4 total length larger than the frame",
    "UDP length below 8",
    "UDP length larger than the IP payload",
    "TCP data offset below 5",
    "three VLAN tags (0x88a8, 0x8100, 0x8100)",
    "IPv6 hop-by-hop header runs past the payload",
    "IP version nibble other than 4 (or 6 for IPv6)",
};

/* What the flags say, and what is derived from them once. */
struct gen {
	const char *out_path, *manifest_path;
	uint64_t count, seed;
	uint32_t topics, consumers, flows;
	uint32_t base_port;
	double *topic_w; /* owned, topic_n entries, or NULL: equal */
	uint32_t topic_n;
	double zipf;
	double ipv6_share, vlan_share, qinq_share, tcp_share;
	double mal_share, opt_share, ext_share;
	unsigned classes;
	double class_w[GEN_MAX_CLASSES];
	unsigned class_n; /* weights given with --dscp-weights; 0: none */
	bool topics_set, priorities_set, kinds_set;
	uint32_t size_lo, size_hi; /* bytes, range or bounds of the list */
	uint32_t sizes[GEN_MAX_SIZES];
	unsigned n_sizes;  /* 0: uniform in [size_lo, size_hi] */
	unsigned mal_mask; /* bit per enum mal_kind */
	uint8_t dst_mac[6], src_mac[6];
	uint32_t dst4, src4; /* host order */
	uint8_t dst6[16], src6[16];

	/* derived */
	double *rank_cdf;  /* owned, consumers entries; NULL: uniform */
	double *topic_cdf; /* owned, topics entries */
	double class_cdf[GEN_MAX_CLASSES];
	uint8_t mal_list[MAL_MAX];
	unsigned n_mal;
};

/* What was written; per-topic and per-rank counts are well-formed only. */
struct tally {
	uint64_t frames, bytes, malformed;
	uint64_t mal[MAL_MAX];
	uint64_t wf_frames, wf_bytes, ipv4, ipv6, udp, tcp, opts, exts;
	uint64_t tags[3];
	uint64_t cls[GEN_MAX_CLASSES];
	uint64_t *topic_frames, *topic_bytes; /* owned, topics entries */
	uint32_t *rank_frames;		      /* owned, consumers entries */
	uint64_t *rank_bytes;		      /* owned, only with a manifest */
};

/* One frame's choices, then its layout once built. */
struct frame {
	uint64_t seq;
	uint32_t topic, rank, size;
	uint16_t sport;
	uint8_t tags, cls, opt_words, ext;
	bool v6, tcp;
	int mal;	      /* enum mal_kind, or -1 */
	uint32_t l3, l4, len; /* offsets and length, bytes */
};

/* ---- random numbers: xoshiro256**, seeded through splitmix64 ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static inline double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n >= 1 (multiply-shift; bias below 2^-32 * n). */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* ---- weighted picks ---- */

/* Fill cdf[i] = w[0] + ... + w[i] (w NULL: all 1). */
static void cdf_fill(double *cdf, const double *w, uint32_t n)
{
	double acc = 0;

	for (uint32_t i = 0; i < n; i++) {
		acc += w ? w[i] : 1.0;
		cdf[i] = acc;
	}
}

/* The index i of the first cdf[i] > u * total: index i is picked with
 * probability w[i] / total, a zero weight never. */
static inline uint32_t cdf_pick(const double *cdf, uint32_t n, double u)
{
	double x = u * cdf[n - 1];
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (cdf[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* u * total rounded up to total: the last index of positive weight
	 * (elsewhere cdf[lo] > x >= cdf[lo - 1], so the loop never runs) */
	if (lo == n)
		lo = n - 1;
	while (lo > 0 && cdf[lo] == cdf[lo - 1])
		lo--;
	return lo;
}

/* ---- checksums ---- */

/* One's-complement sum of big-endian 16-bit words, added to acc. */
static inline uint64_t sum16(const uint8_t *p, size_t n, uint64_t acc)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static inline uint16_t sum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static inline uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static void ip4_csum(uint8_t *ip, uint32_t hlen)
{
	put16(ip + 10, 0);
	put16(ip + 10, sum_fold(sum16(ip, hlen, 0)));
}

/* ---- addresses of a consumer ---- */

/* Consumer ranks are IPv6 evenly: rank r is IPv6 when floor((r+1)F) >
 * floor(rF), so exactly floor(C * F) of C consumers are, at every scale. */
static inline bool rank_is_v6(const struct gen *g, uint32_t r)
{
	return floor((r + 1.0) * g->ipv6_share) > floor(r * g->ipv6_share);
}

/* Each family counts up from its base: the n-th IPv4 consumer is
 * --src-base + n, the n-th IPv6 one --src6-base + n. */
static inline uint32_t rank_v6_index(const struct gen *g, uint32_t r)
{
	return (uint32_t)floor(r * g->ipv6_share);
}

static void rank_src6(const struct gen *g, uint32_t r, uint8_t out[16])
{
	uint64_t lo = 0;

	memcpy(out, g->src6, 16);
	for (int i = 8; i < 16; i++)
		lo = lo << 8 | out[i];
	lo += rank_v6_index(g, r); /* no carry: checked against --consumers */
	for (int i = 15; i >= 8; i--, lo >>= 8)
		out[i] = (uint8_t)lo;
}

static uint32_t rank_src4(const struct gen *g, uint32_t r)
{
	return g->src4 + (r - rank_v6_index(g, r));
}

static void rank_src_str(const struct gen *g, uint32_t r, char *buf, size_t len)
{
	uint8_t a[16];

	if (rank_is_v6(g, r)) {
		rank_src6(g, r, a);
		inet_ntop(AF_INET6, a, buf, (socklen_t)len);
	} else {
		uint32_t v = htonl(rank_src4(g, r));

		inet_ntop(AF_INET, &v, buf, (socklen_t)len);
	}
}

/* ---- building a frame ---- */

static uint32_t put_l2(const struct gen *g, const struct frame *f, uint8_t *b)
{
	static const uint16_t tpid[4][3] = {
	    {0},
	    {ETH_P_8021Q},
	    {ETH_P_8021AD, ETH_P_8021Q},
	    {ETH_P_8021AD, ETH_P_8021Q, ETH_P_8021Q},
	};
	uint32_t off = 12;

	memcpy(b, g->dst_mac, 6);
	memcpy(b + 6, g->src_mac, 6);
	/* every tag carries the topic's VLAN id, so a rule on the outer VLAN
	 * classifies a frame the same whatever its tagging; PCP = class */
	for (unsigned t = 0; t < f->tags; t++, off += 4) {
		put16(b + off, tpid[f->tags][t]);
		put16(b + off + 2,
		      (uint32_t)f->cls << 13 | (GEN_VLAN_BASE + f->topic));
	}
	put16(b + off, f->v6 ? ETH_P_IPV6 : ETH_P_IPV4);
	return off + 2;
}

/* Writes the IPv6 extension headers at p; returns the first's protocol
 * number and sets *len to their bytes. HBH and DST are 8 bytes with one
 * PadN option; RTG is a 24-byte segment routing header (type 4) at its
 * last segment (segments left 0, the one segment being dst); FRAG is a
 * first fragment (offset 0, more fragments) with id `id`. */
static uint8_t put_ext(uint8_t ext, uint8_t l4proto, uint32_t id,
		       const uint8_t dst[16], uint8_t *p, uint32_t *len)
{
	static const uint8_t proto[4] = {IPPROTO_HBH_, IPPROTO_DST_,
					 IPPROTO_RTG_, IPPROTO_FRAG_};
	uint8_t *prev_nh = NULL, first = l4proto;

	*len = 0;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t *h = p + *len;

		if (!(ext & (1u << i)))
			continue;
		memset(h, 0, 8);
		if (prev_nh)
			*prev_nh = proto[i];
		else
			first = proto[i];
		prev_nh = h;
		if (i < 2) { /* PadN, 4 bytes of data */
			h[2] = 1;
			h[3] = 4;
		} else if (i == 2) {
			h[1] = 2; /* 8-byte units past the first 8 */
			h[2] = 4;
			memcpy(h + 8, dst, 16);
			*len += 16;
		} else {
			put16(h + 2, 1); /* offset 0, M = 1 */
			put32(h + 4, id);
		}
		*len += 8;
	}
	if (prev_nh)
		*prev_nh = l4proto;
	return first;
}

/* A first fragment's fragmentable part (everything after the fragment
 * header) must be a multiple of 8: move the size by at most 7 bytes, up
 * unless that passes the largest size asked for. */
static uint32_t frag_align(uint32_t size, uint32_t frag_start, uint32_t hdr,
			   uint32_t size_hi)
{
	uint32_t r = (size - frag_start) % 8;

	if (r == 0)
		return size;
	if (size + (8 - r) <= size_hi || size - r < hdr)
		return size + (8 - r);
	return size - r;
}

/* Payload: the frame's sequence number (8 bytes), consumer rank (4) and
 * topic (2), big-endian, as far as they fit, then a fixed byte pattern. */
static void put_payload(const struct frame *f, uint8_t *p, uint32_t len,
			const uint8_t *pattern)
{
	uint8_t tag[GEN_TAG_LEN];

	put32(tag, (uint32_t)(f->seq >> 32));
	put32(tag + 4, (uint32_t)f->seq);
	put32(tag + 8, f->rank);
	put16(tag + 12, f->topic);
	memcpy(p, tag, len < GEN_TAG_LEN ? len : GEN_TAG_LEN);
	if (len > GEN_TAG_LEN)
		memcpy(p + GEN_TAG_LEN, pattern, len - GEN_TAG_LEN);
}

/* Builds the well-formed frame f describes into b (GEN_FRAME_MAX + 64
 * bytes); sets f->l3, f->l4 and f->len. Frames are never shorter than their
 * headers (the size grows to fit them) nor than 60 bytes. */
static void frame_build(const struct gen *g, struct frame *f, struct rng *r,
			uint8_t *b, const uint8_t *pattern)
{
	uint8_t src6[16], *ip, *l4;
	uint8_t l4proto = f->tcp ? IPPROTO_TCP_ : IPPROTO_UDP_;
	uint32_t l3hdr, ext_len = 0, l4hdr = f->tcp ? 20 : 8, l4len, rest = 0;
	uint64_t acc;

	f->l3 = put_l2(g, f, b);
	ip = b + f->l3;
	if (f->v6) {
		ip[6] = put_ext(f->ext, l4proto, (uint32_t)f->seq, g->dst6,
				ip + 40, &ext_len);
		l3hdr = 40 + ext_len;
	} else {
		l3hdr = 20 + 4u * f->opt_words;
	}
	f->l4 = f->l3 + l3hdr;
	f->len = f->size > f->l4 + l4hdr ? f->size : f->l4 + l4hdr;
	if (f->len < GEN_FRAME_MIN)
		f->len = GEN_FRAME_MIN;
	if (f->v6 && (f->ext & EXT_FRAG)) {
		f->len = frag_align(f->len, f->l4, f->l4 + l4hdr, g->size_hi);
		rest = 8 * (1 + rng_below(r, GEN_FRAG_REST_MAX));
	}
	l4 = b + f->l4;
	l4len = f->len - f->l4;

	/* L4 header and payload; the checksum last, over all of it */
	put16(l4, f->sport);
	put16(l4 + 2, g->base_port + f->topic);
	if (f->tcp) {
		put32(l4 + 4, (uint32_t)(f->seq * 1460));
		put32(l4 + 8, 1);
		l4[12] = 5 << 4;
		l4[13] = 0x18; /* PSH, ACK */
		put16(l4 + 14, 65535);
		put32(l4 + 16, 0);
	} else {
		put16(l4 + 4, l4len + rest); /* the whole datagram's */
		put16(l4 + 6, 0);
	}
	put_payload(f, l4 + l4hdr, l4len - l4hdr, pattern);

	if (f->v6) {
		put32(ip, 6u << 28 | (uint32_t)f->cls << 25);
		put16(ip + 4, f->len - f->l3 - 40);
		ip[7] = 64;
		rank_src6(g, f->rank, src6);
		memcpy(ip + 8, src6, 16);
		memcpy(ip + 24, g->dst6, 16);
		acc = sum16(ip + 8, 32, 0);
	} else {
		ip[0] = (uint8_t)(0x40 | (l3hdr / 4));
		ip[1] = (uint8_t)(f->cls << 5);
		put16(ip + 2, f->len - f->l3);
		put16(ip + 4, (uint32_t)f->seq & 0xffff);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = l4proto;
		put32(ip + 12, rank_src4(g, f->rank));
		put32(ip + 16, g->dst4);
		if (l3hdr > 20) { /* NOPs, then one EOL */
			memset(ip + 20, 1, l3hdr - 21);
			ip[l3hdr - 1] = 0;
		}
		ip4_csum(ip, l3hdr);
		acc = sum16(ip + 12, 8, 0);
	}
	/* pseudo-header: upper-layer length of the whole datagram; the
	 * fragments never written count as zeros, which add nothing */
	acc += l4proto + ((l4len + rest) >> 16) + ((l4len + rest) & 0xffff);
	{
		uint16_t c = sum_fold(sum16(l4, l4len, acc));

		if (!f->tcp && c == 0)
			c = 0xffff;
		put16(l4 + (f->tcp ? 16 : 6), c);
	}
}

/* Turns the frame just built into one of kind f->mal (frame_pick forced
 * what the kind needs: the family, the L4 protocol, the tags). */
static void frame_break(struct frame *f, struct rng *r, uint8_t *b)
{
	uint8_t *ip = b + f->l3, *l4 = b + f->l4;
	uint32_t v, hlen = f->l4 - f->l3;

	switch ((enum mal_kind)f->mal) {
	case MAL_ETH_TRUNC:
		f->len = 1 + rng_below(r, 13);
		break;
	case MAL_IPV4_TRUNC:
		f->len = f->l3 + 1 + rng_below(r, 19);
		break;
	case MAL_IHL_SHORT:
		ip[0] = (uint8_t)(0x40 | rng_below(r, 5));
		ip4_csum(ip, hlen);
		break;
	case MAL_IHL_LONG: /* built without options: hlen is 20 */
		v = 6 + rng_below(r, 10);
		ip[0] = (uint8_t)(0x40 | v);
		v = 20 + rng_below(r, v * 4 - 20); /* bytes left: < IHL * 4 */
		put16(ip + 2, v);
		f->len = f->l3 + v;
		ip4_csum(ip, 20);
		break;
	case MAL_IPV4_LEN_LONG:
		v = get16(ip + 2);
		put16(ip + 2, v + 1 + rng_below(r, 65535 - v));
		ip4_csum(ip, hlen);
		break;
	case MAL_UDP_LEN_SHORT:
		put16(l4 + 4, rng_below(r, 8));
		break;
	case MAL_UDP_LEN_LONG:
		v = get16(l4 + 4);
		put16(l4 + 4, v + 1 + rng_below(r, 65535 - v));
		break;
	case MAL_TCP_DOFF_SHORT:
		l4[12] = (uint8_t)(rng_below(r, 5) << 4);
		break;
	case MAL_VLAN3:
		break;
	case MAL_IPV6_EXT_LONG: /* built with HBH only, payload < 2040 */
		v = (f->len - f->l3 - 40) / 8;
		ip[41] = (uint8_t)(v + rng_below(r, 256 - v));
		break;
	case MAL_IP_VERSION:
		v = rng_below(r, 15);
		if (v >= (f->v6 ? 6u : 4u))
			v++;
		ip[0] = (uint8_t)(v << 4 | (ip[0] & 0x0f));
		if (!f->v6)
			ip4_csum(ip, hlen);
		break;
	case MAL_MAX:
		break;
	}
}

/* Draws every choice of frame number seq. */
static void frame_pick(const struct gen *g, struct rng *r, uint64_t seq,
		       struct frame *f)
{
	double u;

	memset(f, 0, sizeof(*f));
	f->seq = seq;
	f->mal = -1;
	if (g->mal_share > 0 && rng_unit(r) < g->mal_share)
		f->mal = g->mal_list[rng_below(r, g->n_mal)];
	f->topic =
	    g->topics == 1 ? 0 : cdf_pick(g->topic_cdf, g->topics, rng_unit(r));
	f->rank = g->rank_cdf ? cdf_pick(g->rank_cdf, g->consumers, rng_unit(r))
			      : rng_below(r, g->consumers);
	f->v6 = rank_is_v6(g, f->rank);
	u = rng_unit(r);
	if (u < g->vlan_share)
		f->tags = 1;
	else if (u < g->vlan_share + g->qinq_share)
		f->tags = 2;
	f->cls = (uint8_t)(g->classes == 1 ? 0
					   : cdf_pick(g->class_cdf, g->classes,
						      rng_unit(r)));
	f->tcp = g->tcp_share > 0 && rng_unit(r) < g->tcp_share;
	if (!f->v6 && g->opt_share > 0 && rng_unit(r) < g->opt_share)
		f->opt_words = (uint8_t)(1 + rng_below(r, 10));
	if (f->v6 && g->ext_share > 0 && rng_unit(r) < g->ext_share)
		f->ext = (uint8_t)(1 + rng_below(r, 15));
	f->size = g->n_sizes
		      ? g->sizes[rng_below(r, g->n_sizes)]
		      : g->size_lo + rng_below(r, g->size_hi - g->size_lo + 1);
	f->sport = (uint16_t)(1024 + ((uint64_t)f->rank * g->flows +
				      rng_below(r, g->flows)) %
					 64512);
	if (f->mal < 0)
		return;
	/* what each kind needs; no extension headers but where asked for,
	 * since a first fragment legitimately has UDP length > payload */
	f->ext = 0;
	switch ((enum mal_kind)f->mal) {
	case MAL_IHL_LONG:
		f->opt_words = 0;
		/* fall through */
	case MAL_IPV4_TRUNC:
	case MAL_IHL_SHORT:
	case MAL_IPV4_LEN_LONG:
		f->v6 = false;
		break;
	case MAL_UDP_LEN_SHORT:
	case MAL_UDP_LEN_LONG:
		f->tcp = false;
		break;
	case MAL_TCP_DOFF_SHORT:
		f->tcp = true;
		break;
	case MAL_VLAN3:
		f->tags = 3;
		break;
	case MAL_IPV6_EXT_LONG:
		f->v6 = true;
		f->ext = EXT_HBH;
		if (f->size > GEN_EXT_LONG_CAP)
			f->size = GEN_EXT_LONG_CAP;
		break;
	default:
		break;
	}
	if (f->v6)
		f->opt_words = 0;
}

static void tally_add(struct tally *t, const struct frame *f)
{
	t->frames++;
	t->bytes += f->len;
	if (f->mal >= 0) {
		t->malformed++;
		t->mal[f->mal]++;
		return;
	}
	t->wf_frames++;
	t->wf_bytes += f->len;
	t->ipv4 += !f->v6;
	t->ipv6 += f->v6;
	t->udp += !f->tcp;
	t->tcp += f->tcp;
	t->opts += f->opt_words > 0;
	t->exts += f->ext > 0;
	t->tags[f->tags]++;
	t->cls[f->cls]++;
	t->topic_frames[f->topic]++;
	t->topic_bytes[f->topic] += f->len;
	t->rank_frames[f->rank]++;
	if (t->rank_bytes)
		t->rank_bytes[f->rank] += f->len;
}

/* ---- flags ---- */

/* The help text is laid out as it prints. */
/* clang-format off */
static void usage(FILE *f)
{
	fputs(
"usage: " PROG " -o FILE [options]\n"
"\n"
"Writes a pcap (Ethernet, microsecond timestamps 1 us apart) of synthetic\n"
"messages, one per frame, for DPDK's net_pcap PMD (infinite_rx=1). The same\n"
"flags and seed give the same bytes.\n"
"\n"
"  -o, --output FILE        pcap to write (\"-\": stdout); required\n"
"  --count N                frames (default 100000)\n"
"  --seed S                 random seed, a whole number (default 1)\n"
"  --topics T               topics (default 4; or the number of weights):\n"
"                           topic i goes to port --base-port + i\n"
"  --topic-weights W,W,...  relative weight of each topic (default equal)\n"
"  --base-port P            destination port of topic 0 (default 9000)\n"
"  --dst A.B.C.D            IPv4 destination (default 10.0.0.1)\n"
"  --dst6 X:Y::Z            IPv6 destination (default 2001:db8::1)\n"
"  --consumers C            distinct sources (default 1000, max 16777216)\n"
"  --src-base A.B.C.D       first IPv4 source; they count up (10.1.0.1)\n"
"  --src6-base X:Y::Z       first IPv6 source (default 2001:db8:1::1)\n"
"  --ipv6-share F           fraction of consumers that are IPv6 (0)\n"
"  --zipf S                 Zipf exponent of consumer activity (default 1;\n"
"                           0 = uniform); consumer rank r sends in\n"
"                           proportion to 1/(r+1)^S\n"
"  --flows N                source ports per consumer (default 1)\n"
"  --sizes MIN-MAX|A,B,...  frame size in bytes without FCS, uniform in a\n"
"                           range or picked from a list, 60..9000\n"
"                           (default 64-512)\n"
"  --vlan-share F           fraction with one 802.1Q tag (default 0)\n"
"  --qinq-share F           fraction with two tags, 0x88a8 outer (0)\n"
"  --priorities P           DSCP classes CS0..CS(P-1), 1..8 (default 3);\n"
"                           class c has weight 2^-c\n"
"  --dscp-weights W,W,...   weights of CS0, CS1, ... instead\n"
"  --tcp-share F            fraction of TCP instead of UDP (default 0)\n"
"  --ipv4-options-share F   fraction of IPv4 frames with options (0)\n"
"  --ipv6-ext-share F       fraction of IPv6 frames with extension\n"
"                           headers (0)\n"
"  --malformed F            fraction of malformed frames (default 0)\n"
"  --malformed-kinds K,K,.. kinds --malformed draws from (default all)\n"
"  --only-malformed         every frame malformed (--malformed 1)\n"
"  --dst-mac M, --src-mac M MACs (02:00:00:00:00:01, 02:00:00:00:00:02)\n"
"  --manifest FILE          also write per-topic and per-consumer counts\n"
"  -h, --help               this text\n"
"\n"
"Fractions F are numbers in 0..1; weights are numbers >= 0, not all 0.\n"
"\n"
"Frames: Ethernet, optional tags (VLAN id 100 + topic on every tag, PCP =\n"
"DSCP class), IPv4 (TTL 64, DF, DSCP = class * 8) or IPv6, UDP or TCP\n"
"(PSH|ACK) to port --base-port + topic. A frame grows to hold its\n"
"headers; every checksum of a well-formed frame is correct.\n"
"\n"
"Consumers: rank r (0 = heaviest) is IPv6 when floor((r+1)F) > floor(rF),\n"
"F = --ipv6-share; the n-th IPv4 consumer (n from 0) is --src-base + n,\n"
"the n-th IPv6 one --src6-base + n; its source ports are\n"
"1024 + (r * flows + k) % 64512, k in 0..flows-1.\n"
"\n"
"IPv4 options: NOPs ending in an EOL (IHL 6..15). IPv6 extension headers:\n"
"a non-empty subset, in this order, of hop-by-hop, destination options,\n"
"routing (segment routing, type 4, at its last segment) and a first\n"
"fragment; a first fragment's size moves by up to 7 bytes to make its\n"
"fragmentable part a multiple of 8, and its UDP length and L4 checksum\n"
"cover the whole datagram (the later fragments, never written, count as\n"
"zeros).\n"
"\n"
"Payload: the frame number (8 bytes), the consumer rank (4) and the topic\n"
"(2), big-endian, as far as they fit, then a fixed pattern.\n"
"\n"
"Malformed kinds (--malformed-kinds needs --malformed or --only-malformed;\n"
"a malformed frame's size need not respect --sizes, nor its source be its\n"
"consumer's when the kind needs the other IP version):\n",
	      f);
	for (unsigned k = 0; k < MAL_MAX; k++)
		fprintf(f, "  %-15s %s\n", mal_names[k], mal_help[k]);
	fputs(
"\n"
"Manifest (JSON): {\"generator\", \"manifest_version\": 1, \"pcap\", \"seed\",\n"
"\"frames\", \"bytes\", \"malformed\", \"malformed_kinds\": {kind: n},\n"
"\"well_formed\": {\"frames\", \"bytes\", \"ipv4\", \"ipv6\", \"udp\", \"tcp\",\n"
"\"untagged\", \"vlan\", \"qinq\", \"ipv4_options\", \"ipv6_ext\",\n"
"\"dscp\": {\"0\": n, \"8\": n, ...}}, \"topics\": [{\"topic\", \"dst_port\",\n"
"\"vlan\", \"frames\", \"bytes\"}], \"consumers\": {\"configured\", \"used\",\n"
"\"by_rank\": [[rank, \"source address\", frames, bytes], ...]}}.\n"
"Per-topic and per-consumer counts are of well-formed frames only; by_rank\n"
"lists, by rank, the consumers that sent at least one.\n"
"\n"
"Exit status: 0 done, 1 I/O error, 2 bad flags. A summary line goes to\n"
"stderr.\n",
	      f);
}

/* clang-format on */

static bool bad_flag(const char *flag, const char *arg, const char *what)
{
	fprintf(stderr, PROG ": %s: '%s' is not %s\n", flag, arg, what);
	return false;
}

/* A whole decimal number in [lo, hi]. */
static bool parse_uint(const char *flag, const char *s, uint64_t lo,
		       uint64_t hi, uint64_t *out)
{
	char buf[96];
	const char *p = s;
	uint64_t v = 0;

	while (*p >= '0' && *p <= '9') {
		unsigned d = (unsigned)(*p++ - '0');

		if (v > (UINT64_MAX - d) / 10) {
			v = UINT64_MAX;
			break;
		}
		v = v * 10 + d;
	}
	if (p == s || *p || v < lo || v > hi) {
		snprintf(buf, sizeof(buf),
			 "a whole number in %" PRIu64 "..%" PRIu64, lo, hi);
		return bad_flag(flag, s, buf);
	}
	*out = v;
	return true;
}

/* A finite number in [lo, hi], ending at *end (NULL: at the string end). */
static bool parse_num(const char *flag, const char *s, double lo, double hi,
		      double *out, const char **end)
{
	char buf[96], *e;
	double v;

	errno = 0;
	v = strtod(s, &e);
	/* digits first: no sign, space, "inf" or "nan" */
	if (errno || e == s || (!end && *e) || !isfinite(v) || v < lo ||
	    v > hi || ((*s < '0' || *s > '9') && *s != '.')) {
		snprintf(buf, sizeof(buf), "a number in %g..%g", lo, hi);
		return bad_flag(flag, s, buf);
	}
	if (end)
		*end = e;
	*out = v;
	return true;
}

/* "W,W,...": 1..max weights >= 0, at least one positive. */
static bool parse_weights(const char *flag, const char *s, double *w,
			  uint32_t max, uint32_t *n)
{
	const char *p = s;
	double sum = 0;

	*n = 0;
	for (;;) {
		if (*n == max) {
			fprintf(stderr,
				PROG ": %s: more than %" PRIu32 " weights\n",
				flag, max);
			return false;
		}
		if (!parse_num(flag, p, 0, 1e12, &w[*n], &p))
			return false;
		sum += w[(*n)++];
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return bad_flag(flag, s, "a list of weights W,W,...");
	}
	if (sum <= 0)
		return bad_flag(flag, s, "a list with a positive weight");
	return true;
}

/* A frame size at *p, moving *p past it; false if none or out of range. */
static bool size_at(const char **p, uint32_t *out)
{
	uint32_t v = 0;
	const char *q = *p;

	while (*q >= '0' && *q <= '9' && v <= GEN_FRAME_MAX)
		v = v * 10 + (uint32_t)(*q++ - '0');
	if (q == *p || v < GEN_FRAME_MIN || v > GEN_FRAME_MAX)
		return false;
	*p = q;
	*out = v;
	return true;
}

/* "MIN-MAX", "A,B,..." or "N". */
static bool parse_sizes(struct gen *g, const char *s)
{
	static const char what[] =
	    "MIN-MAX or a list A,B,... of whole sizes in 60..9000";
	const char *p = s;
	uint32_t v;

	g->n_sizes = 0;
	g->size_lo = GEN_FRAME_MAX;
	g->size_hi = 0;
	for (;;) {
		if (g->n_sizes == GEN_MAX_SIZES || !size_at(&p, &v))
			return bad_flag("--sizes", s, what);
		g->sizes[g->n_sizes++] = v;
		g->size_lo = v < g->size_lo ? v : g->size_lo;
		g->size_hi = v > g->size_hi ? v : g->size_hi;
		if (*p == '\0')
			break;
		if (*p == '-' && g->n_sizes == 1) {
			p++;
			if (!size_at(&p, &v) || *p || v < g->size_lo)
				return bad_flag("--sizes", s, what);
			g->size_hi = v;
			g->n_sizes = 0; /* a range */
			return true;
		}
		if (*p++ != ',')
			return bad_flag("--sizes", s, what);
	}
	if (g->n_sizes == 1) /* one size: the range [n, n] */
		g->n_sizes = 0;
	return true;
}

static bool parse_kinds(struct gen *g, const char *s)
{
	char *copy = strdup(s), *save = NULL, *tok;
	bool ok = copy != NULL;

	g->mal_mask = 0;
	for (tok = ok ? strtok_r(copy, ",", &save) : NULL; tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned k;

		for (k = 0; k < MAL_MAX && strcmp(tok, mal_names[k]); k++)
			;
		if (k == MAL_MAX) {
			fprintf(stderr,
				PROG ": --malformed-kinds: unknown kind '%s' "
				     "(see --help)\n",
				tok);
			ok = false;
		}
		g->mal_mask |= 1u << (k % MAL_MAX);
	}
	free(copy);
	if (ok && !g->mal_mask)
		return bad_flag("--malformed-kinds", s, "a list of kinds");
	return ok;
}

static bool parse_mac(const char *flag, const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) != 6 ||
	    strlen(s) != 17)
		return bad_flag(flag, s, "a MAC address xx:xx:xx:xx:xx:xx");
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return true;
}

static bool parse_ip4(const char *flag, const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return bad_flag(flag, s, "an IPv4 address");
	*out = ntohl(a.s_addr);
	return true;
}

static bool parse_ip6(const char *flag, const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET6, s, out) != 1)
		return bad_flag(flag, s, "an IPv6 address");
	return true;
}

enum {
	OPT_COUNT = 256,
	OPT_SEED,
	OPT_TOPICS,
	OPT_TOPIC_W,
	OPT_BASE_PORT,
	OPT_DST,
	OPT_DST6,
	OPT_CONSUMERS,
	OPT_SRC_BASE,
	OPT_SRC6_BASE,
	OPT_IPV6_SHARE,
	OPT_ZIPF,
	OPT_FLOWS,
	OPT_SIZES,
	OPT_VLAN,
	OPT_QINQ,
	OPT_PRIO,
	OPT_DSCP_W,
	OPT_TCP,
	OPT_OPTS,
	OPT_EXT,
	OPT_MAL,
	OPT_MAL_KINDS,
	OPT_ONLY_MAL,
	OPT_DST_MAC,
	OPT_SRC_MAC,
	OPT_MANIFEST,
};

static const struct option long_opts[] = {
    {"output", required_argument, NULL, 'o'},
    {"count", required_argument, NULL, OPT_COUNT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"topics", required_argument, NULL, OPT_TOPICS},
    {"topic-weights", required_argument, NULL, OPT_TOPIC_W},
    {"base-port", required_argument, NULL, OPT_BASE_PORT},
    {"dst", required_argument, NULL, OPT_DST},
    {"dst6", required_argument, NULL, OPT_DST6},
    {"consumers", required_argument, NULL, OPT_CONSUMERS},
    {"src-base", required_argument, NULL, OPT_SRC_BASE},
    {"src6-base", required_argument, NULL, OPT_SRC6_BASE},
    {"ipv6-share", required_argument, NULL, OPT_IPV6_SHARE},
    {"zipf", required_argument, NULL, OPT_ZIPF},
    {"flows", required_argument, NULL, OPT_FLOWS},
    {"sizes", required_argument, NULL, OPT_SIZES},
    {"vlan-share", required_argument, NULL, OPT_VLAN},
    {"qinq-share", required_argument, NULL, OPT_QINQ},
    {"priorities", required_argument, NULL, OPT_PRIO},
    {"dscp-weights", required_argument, NULL, OPT_DSCP_W},
    {"tcp-share", required_argument, NULL, OPT_TCP},
    {"ipv4-options-share", required_argument, NULL, OPT_OPTS},
    {"ipv6-ext-share", required_argument, NULL, OPT_EXT},
    {"malformed", required_argument, NULL, OPT_MAL},
    {"malformed-kinds", required_argument, NULL, OPT_MAL_KINDS},
    {"only-malformed", no_argument, NULL, OPT_ONLY_MAL},
    {"dst-mac", required_argument, NULL, OPT_DST_MAC},
    {"src-mac", required_argument, NULL, OPT_SRC_MAC},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void gen_defaults(struct gen *g)
{
	static const uint8_t dmac[6] = {2, 0, 0, 0, 0, 1};
	static const uint8_t smac[6] = {2, 0, 0, 0, 0, 2};

	memset(g, 0, sizeof(*g));
	g->count = 100000;
	g->seed = 1;
	g->topics = 4;
	g->base_port = 9000;
	g->consumers = 1000;
	g->flows = 1;
	g->zipf = 1.0;
	g->classes = 3;
	g->size_lo = 64;
	g->size_hi = 512;
	g->mal_mask = (1u << MAL_MAX) - 1;
	memcpy(g->dst_mac, dmac, 6);
	memcpy(g->src_mac, smac, 6);
	g->dst4 = 0x0a000001;
	g->src4 = 0x0a010001;
	inet_pton(AF_INET6, "2001:db8::1", g->dst6);
	inet_pton(AF_INET6, "2001:db8:1::1", g->src6);
}

/* One flag; false (message printed) when its value is bad. */
static bool parse_one(struct gen *g, int c, const char *a)
{
	uint64_t v = 0;
	uint32_t n;

	switch (c) {
	case 'o':
		g->out_path = a;
		return true;
	case OPT_COUNT:
		return parse_uint("--count", a, 1, GEN_MAX_COUNT, &g->count);
	case OPT_SEED:
		return parse_uint("--seed", a, 0, UINT64_MAX, &g->seed);
	case OPT_TOPICS:
		g->topics_set = true;
		if (!parse_uint("--topics", a, 1, 65536, &v))
			return false;
		g->topics = (uint32_t)v;
		return true;
	case OPT_TOPIC_W:
		free(g->topic_w);
		g->topic_w = calloc(65536, sizeof(double));
		if (!g->topic_w) {
			perror(PROG);
			exit(1);
		}
		return parse_weights("--topic-weights", a, g->topic_w, 65536,
				     &g->topic_n);
	case OPT_BASE_PORT:
		if (!parse_uint("--base-port", a, 1, 65535, &v))
			return false;
		g->base_port = (uint32_t)v;
		return true;
	case OPT_DST:
		return parse_ip4("--dst", a, &g->dst4);
	case OPT_DST6:
		return parse_ip6("--dst6", a, g->dst6);
	case OPT_CONSUMERS:
		if (!parse_uint("--consumers", a, 1, GEN_MAX_CONSUMERS, &v))
			return false;
		g->consumers = (uint32_t)v;
		return true;
	case OPT_SRC_BASE:
		return parse_ip4("--src-base", a, &g->src4);
	case OPT_SRC6_BASE:
		return parse_ip6("--src6-base", a, g->src6);
	case OPT_IPV6_SHARE:
		return parse_num("--ipv6-share", a, 0, 1, &g->ipv6_share, NULL);
	case OPT_ZIPF:
		return parse_num("--zipf", a, 0, 20, &g->zipf, NULL);
	case OPT_FLOWS:
		if (!parse_uint("--flows", a, 1, 64512, &v))
			return false;
		g->flows = (uint32_t)v;
		return true;
	case OPT_SIZES:
		return parse_sizes(g, a);
	case OPT_VLAN:
		return parse_num("--vlan-share", a, 0, 1, &g->vlan_share, NULL);
	case OPT_QINQ:
		return parse_num("--qinq-share", a, 0, 1, &g->qinq_share, NULL);
	case OPT_PRIO:
		g->priorities_set = true;
		if (!parse_uint("--priorities", a, 1, GEN_MAX_CLASSES, &v))
			return false;
		g->classes = (unsigned)v;
		return true;
	case OPT_DSCP_W:
		if (!parse_weights("--dscp-weights", a, g->class_w,
				   GEN_MAX_CLASSES, &n))
			return false;
		g->class_n = n;
		return true;
	case OPT_TCP:
		return parse_num("--tcp-share", a, 0, 1, &g->tcp_share, NULL);
	case OPT_OPTS:
		return parse_num("--ipv4-options-share", a, 0, 1, &g->opt_share,
				 NULL);
	case OPT_EXT:
		return parse_num("--ipv6-ext-share", a, 0, 1, &g->ext_share,
				 NULL);
	case OPT_MAL:
		return parse_num("--malformed", a, 0, 1, &g->mal_share, NULL);
	case OPT_MAL_KINDS:
		g->kinds_set = true;
		return parse_kinds(g, a);
	case OPT_ONLY_MAL:
		g->mal_share = 1;
		return true;
	case OPT_DST_MAC:
		return parse_mac("--dst-mac", a, g->dst_mac);
	case OPT_SRC_MAC:
		return parse_mac("--src-mac", a, g->src_mac);
	case OPT_MANIFEST:
		g->manifest_path = a;
		return true;
	default: /* getopt_long returns only what long_opts lists */
		return false;
	}
}

/* Checks between flags; false (message printed) when they disagree. */
static bool check_flags(struct gen *g)
{
	uint64_t lo6 = 0;

	if (!g->out_path) {
		fprintf(stderr, PROG ": -o/--output: required (see --help)\n");
		return false;
	}
	if (g->topic_w) {
		if (g->topics_set && g->topic_n != g->topics) {
			fprintf(stderr,
				PROG ": --topic-weights: %" PRIu32 " weights "
				     "for --topics %" PRIu32 "\n",
				g->topic_n, g->topics);
			return false;
		}
		g->topics = g->topic_n;
	}
	if (g->class_n) {
		if (g->priorities_set && g->class_n != g->classes) {
			fprintf(stderr,
				PROG ": --dscp-weights: %u weights for "
				     "--priorities %u\n",
				g->class_n, g->classes);
			return false;
		}
		g->classes = g->class_n;
	}
	if (g->kinds_set && g->mal_share == 0) {
		fprintf(stderr, PROG ": --malformed-kinds: needs --malformed "
				     "or --only-malformed\n");
		return false;
	}
	if (g->base_port + g->topics - 1 > 65535) {
		fprintf(stderr,
			PROG ": --topics: %" PRIu32 " topics from --base-port "
			     "%" PRIu32 " pass port 65535\n",
			g->topics, g->base_port);
		return false;
	}
	if (g->vlan_share + g->qinq_share > 1) {
		fprintf(stderr, PROG ": --qinq-share: --vlan-share + "
				     "--qinq-share is above 1\n");
		return false;
	}
	if ((g->vlan_share > 0 || g->qinq_share > 0 ||
	     (g->mal_share > 0 && (g->mal_mask & 1u << MAL_VLAN3))) &&
	    GEN_VLAN_BASE + g->topics - 1 > GEN_VLAN_MAX) {
		fprintf(stderr,
			PROG ": --topics: VLAN ids (100 + topic) pass 4094; "
			     "use at most 3995 topics with tags\n");
		return false;
	}
	if ((uint64_t)g->src4 + g->consumers - 1 > UINT32_MAX) {
		fprintf(stderr, PROG ": --src-base: --consumers addresses "
				     "from it pass 255.255.255.255\n");
		return false;
	}
	for (int i = 8; i < 16; i++)
		lo6 = lo6 << 8 | g->src6[i];
	if (lo6 > UINT64_MAX - g->consumers) {
		fprintf(stderr, PROG ": --src6-base: --consumers addresses "
				     "from it overflow its low 64 bits\n");
		return false;
	}
	return true;
}

static int parse_flags(struct gen *g, int argc, char **argv)
{
	int c;

	gen_defaults(g);
	while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, PROG ": see --help\n");
			return -1;
		}
		if (!parse_one(g, c, optarg))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	return check_flags(g) ? 0 : -1;
}

/* The CDFs and the kind list; -ENOMEM. */
static int gen_derive(struct gen *g)
{
	double w[GEN_MAX_CLASSES];

	g->topic_cdf = malloc(g->topics * sizeof(double));
	if (!g->topic_cdf)
		return -ENOMEM;
	cdf_fill(g->topic_cdf, g->topic_w, g->topics);
	if (g->zipf > 0) {
		g->rank_cdf = malloc(g->consumers * sizeof(double));
		if (!g->rank_cdf)
			return -ENOMEM;
		for (uint32_t r = 0; r < g->consumers; r++)
			g->rank_cdf[r] = pow(r + 1.0, -g->zipf);
		cdf_fill(g->rank_cdf, g->rank_cdf, g->consumers);
	}
	for (unsigned c = 0; c < g->classes; c++)
		w[c] = g->class_n ? g->class_w[c] : ldexp(1.0, -(int)c);
	cdf_fill(g->class_cdf, w, g->classes);
	for (unsigned k = 0; k < MAL_MAX; k++)
		if (g->mal_mask & (1u << k))
			g->mal_list[g->n_mal++] = (uint8_t)k;
	return 0;
}

static void gen_free(struct gen *g, struct tally *t)
{
	free(g->topic_w);
	free(g->topic_cdf);
	free(g->rank_cdf);
	free(t->topic_frames);
	free(t->topic_bytes);
	free(t->rank_frames);
	free(t->rank_bytes);
}

/* ---- manifest ---- */

/* Sets o[k] = v (stolen); counts a failure (v NULL included) in *bad. */
static void jset(json_t *o, const char *k, json_t *v, int *bad)
{
	if (json_object_set_new(o, k, v) < 0)
		(*bad)++;
}

static void jpush(json_t *a, json_t *v, int *bad)
{
	if (json_array_append_new(a, v) < 0)
		(*bad)++;
}

static json_t *jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *manifest_well_formed(const struct gen *g, const struct tally *t,
				    int *bad)
{
	json_t *o = json_object(), *d = json_object();
	char key[8];

	jset(o, "frames", jint(t->wf_frames), bad);
	jset(o, "bytes", jint(t->wf_bytes), bad);
	jset(o, "ipv4", jint(t->ipv4), bad);
	jset(o, "ipv6", jint(t->ipv6), bad);
	jset(o, "udp", jint(t->udp), bad);
	jset(o, "tcp", jint(t->tcp), bad);
	jset(o, "untagged", jint(t->tags[0]), bad);
	jset(o, "vlan", jint(t->tags[1]), bad);
	jset(o, "qinq", jint(t->tags[2]), bad);
	jset(o, "ipv4_options", jint(t->opts), bad);
	jset(o, "ipv6_ext", jint(t->exts), bad);
	for (unsigned c = 0; c < g->classes; c++) {
		snprintf(key, sizeof(key), "%u", c * 8);
		jset(d, key, jint(t->cls[c]), bad);
	}
	jset(o, "dscp", d, bad);
	return o;
}

static json_t *manifest_consumers(const struct gen *g, const struct tally *t,
				  uint32_t used, int *bad)
{
	json_t *o = json_object(), *by = json_array();
	char addr[INET6_ADDRSTRLEN];

	jset(o, "configured", jint(g->consumers), bad);
	jset(o, "used", jint(used), bad);
	for (uint32_t r = 0; r < g->consumers && !*bad; r++) {
		json_t *e;

		if (!t->rank_frames[r])
			continue;
		rank_src_str(g, r, addr, sizeof(addr));
		e = json_pack("[I,s,I,I]", (json_int_t)r, addr,
			      (json_int_t)t->rank_frames[r],
			      (json_int_t)t->rank_bytes[r]);
		jpush(by, e, bad);
	}
	jset(o, "by_rank", by, bad);
	return o;
}

/* Writes the manifest; 0, or -1 (message printed) on any failure. */
static int manifest_write(const struct gen *g, const struct tally *t,
			  uint32_t used)
{
	json_t *m = json_object(), *kinds = json_object(), *tops = json_array();
	int bad = 0, rc;

	jset(m, "generator", json_string(PROG), &bad);
	jset(m, "manifest_version", jint(1), &bad);
	jset(m, "pcap", json_string(g->out_path), &bad);
	jset(m, "seed", jint(g->seed), &bad);
	jset(m, "frames", jint(t->frames), &bad);
	jset(m, "bytes", jint(t->bytes), &bad);
	jset(m, "malformed", jint(t->malformed), &bad);
	for (unsigned k = 0; k < MAL_MAX; k++)
		jset(kinds, mal_names[k], jint(t->mal[k]), &bad);
	jset(m, "malformed_kinds", kinds, &bad);
	jset(m, "well_formed", manifest_well_formed(g, t, &bad), &bad);
	for (uint32_t i = 0; i < g->topics; i++)
		jpush(tops,
		      json_pack("{s:I,s:I,s:I,s:I,s:I}", "topic", (json_int_t)i,
				"dst_port", (json_int_t)(g->base_port + i),
				"vlan", (json_int_t)(GEN_VLAN_BASE + i),
				"frames", (json_int_t)t->topic_frames[i],
				"bytes", (json_int_t)t->topic_bytes[i]),
		      &bad);
	jset(m, "topics", tops, &bad);
	jset(m, "consumers", manifest_consumers(g, t, used, &bad), &bad);
	rc = bad ? -1
		 : json_dump_file(m, g->manifest_path,
				  JSON_INDENT(1) | JSON_COMPACT);
	json_decref(m);
	if (bad)
		fprintf(stderr, PROG ": --manifest: out of memory\n");
	else if (rc < 0)
		fprintf(stderr, PROG ": %s: cannot write the manifest\n",
			g->manifest_path);
	return rc < 0 ? -1 : 0;
}

/* ---- main ---- */

static int tally_init(const struct gen *g, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	t->topic_frames = calloc(g->topics, sizeof(uint64_t));
	t->topic_bytes = calloc(g->topics, sizeof(uint64_t));
	t->rank_frames = calloc(g->consumers, sizeof(uint32_t));
	if (g->manifest_path)
		t->rank_bytes = calloc(g->consumers, sizeof(uint64_t));
	if (!t->topic_frames || !t->topic_bytes || !t->rank_frames ||
	    (g->manifest_path && !t->rank_bytes))
		return -ENOMEM;
	return 0;
}

/* Writes every frame; 0, or -1 (message printed) on a write error. */
static int write_frames(const struct gen *g, struct tally *t, pcap_dumper_t *d)
{
	static uint8_t buf[GEN_FRAME_MAX + 64], pattern[GEN_FRAME_MAX];
	struct pcap_pkthdr h;
	struct frame f;
	struct rng r;

	for (uint32_t i = 0; i < GEN_FRAME_MAX; i++)
		pattern[i] = (uint8_t)(i * 7 + 1);
	rng_seed(&r, g->seed);
	memset(&h, 0, sizeof(h));
	for (uint64_t seq = 0; seq < g->count; seq++) {
		frame_pick(g, &r, seq, &f);
		frame_build(g, &f, &r, buf, pattern);
		if (f.mal >= 0)
			frame_break(&f, &r, buf);
		h.ts.tv_sec = (time_t)(GEN_T0_S + seq / 1000000);
		h.ts.tv_usec = (suseconds_t)(seq % 1000000);
		h.caplen = h.len = f.len;
		pcap_dump((u_char *)d, &h, buf);
		tally_add(t, &f);
		/* stop soon on a full disk rather than after the last frame */
		if ((seq & 0xffff) == 0xffff && ferror(pcap_dump_file(d)))
			break;
	}
	/* fflush() sets errno; a failure seen only by ferror() may not have */
	errno = 0;
	if (pcap_dump_flush(d) < 0 || ferror(pcap_dump_file(d))) {
		fprintf(stderr, PROG ": %s: write error%s%s\n", g->out_path,
			errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen g;
	struct tally t;
	pcap_t *p = NULL;
	pcap_dumper_t *d = NULL;
	uint32_t used = 0, topics_used = 0;
	int rc = 1;

	memset(&t, 0, sizeof(t));
	if (parse_flags(&g, argc, argv) < 0) {
		free(g.topic_w);
		return 2;
	}
	if (gen_derive(&g) < 0 || tally_init(&g, &t) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		fprintf(stderr, PROG ": pcap_open_dead failed\n");
		goto out;
	}
	d = pcap_dump_open(p, g.out_path);
	if (!d) {
		fprintf(stderr, PROG ": %s\n", pcap_geterr(p));
		goto out;
	}
	if (write_frames(&g, &t, d) < 0)
		goto out;
	for (uint32_t r = 0; r < g.consumers; r++)
		used += t.rank_frames[r] > 0;
	for (uint32_t i = 0; i < g.topics; i++)
		topics_used += t.topic_frames[i] > 0;
	if (g.manifest_path && manifest_write(&g, &t, used) < 0)
		goto out;
	fprintf(stderr,
		PROG ": %s: %" PRIu64 " frames, %" PRIu64 " bytes, %" PRIu32
		     " topics, %" PRIu32 " consumers used, %" PRIu64
		     " malformed\n",
		g.out_path, t.frames, t.bytes, topics_used, used, t.malformed);
	rc = 0;
out:
	if (d)
		pcap_dump_close(d);
	if (p)
		pcap_close(p);
	gen_free(&g, &t);
	return rc;
}
