/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate-trace: replay a trace through one token bucket.
 *
 * Reads lines "<t_ns> <cost>" from stdin and prints, for each, 1 (admitted)
 * or 0 (rejected), one per line and nothing else on stdout, so the output
 * can be diffed against any other implementation fed the same trace. The
 * bucket starts full at the first line's time, on a 1 GHz clock (the
 * timestamps are nanoseconds). A malformed line stops the replay with its
 * line number on stderr and exit status 1; bad flags exit with 2.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb.h"

#define NS_PER_S UINT64_C(1000000000)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tidegate-trace --rate R --burst B [--bytes] < trace\n"
		"\n"
		"Replays lines \"<t_ns> <cost>\" through one token bucket and\n"
		"prints 1 (admitted) or 0 (rejected) for each line.\n"
		"\n"
		"  --rate R    tokens per second (fractions allowed), > 0\n"
		"  --burst B   bucket capacity in tokens, a whole number >= 1\n"
		"  --bytes     byte mode (cost is bytes; the default is packet\n"
		"              mode, where cost is a number of messages)\n"
		"  -h, --help  this text\n"
		"\n"
		"Timestamps are nanoseconds and must not decrease; the bucket\n"
		"is full at the first timestamp.\n");
}

/* Parse a whole decimal u64 at *p, moving *p past it; false if none or
 * out of range. No sign, no spaces inside. */
static bool parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		s++;
	}
	*p = s;
	*out = v;
	return true;
}

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* One line of the trace into t and cost; an error message, or NULL. */
static const char *parse_line(const char *line, uint64_t *t, uint64_t *cost)
{
	const char *s = skip_blank(line);

	if (!parse_u64(&s, t))
		return "expected a timestamp in ns (a whole number)";
	if (*s != ' ' && *s != '\t')
		return "expected a space after the timestamp";
	s = skip_blank(s);
	if (!parse_u64(&s, cost))
		return "expected a cost (a whole number)";
	s = skip_blank(s);
	if (*s == '\r')
		s++;
	if (*s != '\n' && *s != '\0')
		return "unexpected text after the cost";
	return NULL;
}

static int parse_flags(int argc, char **argv, double *rate, uint64_t *burst,
		       enum tb_mode *mode)
{
	static const struct option opts[] = {
		{ "rate", required_argument, NULL, 'r' },
		{ "burst", required_argument, NULL, 'b' },
		{ "bytes", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_rate = false, have_burst = false;
	const char *s;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			errno = 0;
			*rate = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(*rate) ||
			    *rate <= 0) {
				fprintf(stderr,
					"tidegate-trace: --rate: '%s' is not a "
					"positive number\n",
					optarg);
				return -1;
			}
			have_rate = true;
			break;
		case 'b':
			s = optarg;
			if (!parse_u64(&s, burst) || *s || *burst < 1) {
				fprintf(stderr,
					"tidegate-trace: --burst: '%s' is not a "
					"whole number >= 1\n",
					optarg);
				return -1;
			}
			have_burst = true;
			break;
		case 'B':
			*mode = TB_MODE_BYTES;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tidegate-trace: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!have_rate || !have_burst) {
		fprintf(stderr, "tidegate-trace: --rate and --burst are "
				"required (see --help)\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum tb_mode mode = TB_MODE_PACKETS;
	struct tb_profile prof;
	struct tb_state st;
	double rate = 0;
	uint64_t burst = 0, t, cost, last_t = 0, lineno = 0;
	char line[256];

	if (parse_flags(argc, argv, &rate, &burst, &mode) < 0)
		return 2;
	if (tb_profile_init(&prof, mode, rate, burst, NS_PER_S) < 0) {
		fprintf(stderr,
			"tidegate-trace: rate %g or burst %" PRIu64
			" is out of range (rate up to 5e11/s, burst below "
			"2^62)\n",
			rate, burst);
		return 2;
	}
	while (fgets(line, sizeof(line), stdin)) {
		const char *err;

		lineno++;
		if (!strchr(line, '\n') && !feof(stdin)) {
			fprintf(stderr, "tidegate-trace: line %" PRIu64
					": line too long\n", lineno);
			return 1;
		}
		err = parse_line(line, &t, &cost);
		if (!err && lineno > 1 && t < last_t)
			err = "timestamp goes backwards";
		if (err) {
			fprintf(stderr, "tidegate-trace: line %" PRIu64 ": %s\n",
				lineno, err);
			return 1;
		}
		if (lineno == 1)
			tb_init(&prof, &st, t);
		last_t = t;
		if (putchar(tb_take(&prof, &st, t, cost) ? '1' : '0') == EOF ||
		    putchar('\n') == EOF)
			break;
	}
	if (ferror(stdin) || fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "tidegate-trace: I/O error: %s\n",
			strerror(errno));
		return 1;
	}
	return 0;
}
