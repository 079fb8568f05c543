/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegate-kafka-load: the load and the slow consumer of the consumer-group
 * lag tests, and the reference for the lag tidegate measures. Three
 * commands, all against a real broker through librdkafka 2.0.2 (C API):
 * `produce` creates a topic if missing and writes COUNT messages, paced or
 * as fast as possible; `consume` is a real consumer-group member that takes
 * at most RATE messages a second (0: paused, still in the group) and
 * commits what it took every 100 ms, its rate changeable at run time
 * through "rate N" lines on stdin; `lag` prints a group's lag on a topic,
 * the sum over partitions of the high watermark minus the committed offset
 * (the low watermark where nothing is committed). `--help` tells the
 * options. Exit status: 0 success, 1 a Kafka or system failure (the reason
 * on stderr), 2 bad usage. This is a tool, not a library: it prints, and
 * main() decides the exit status.
 *
 * One file, longer than the house ~800 lines, because the tool was asked
 * for as one file. It splits cleanly if it grows: the command line and the
 * librdkafka glue, then one file per command.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG		"tidegate-kafka-load"
#define NS_PER_S	1000000000LL
#define NS_PER_MS	1000000LL
#define LOAD_TIMEOUT_MS 10000	    /* ms, each admin or metadata request */
#define LOAD_COMMIT_NS	100000000LL /* ns between commits of the consumed */
#define LOAD_REPORT_NS	NS_PER_S    /* ns between progress lines */
#define LOAD_POLL_MS	100	    /* ms, longest block in one poll */
#define LOAD_SLACK_NS	20000000LL  /* ns of pace a stalled loop may catch up */
#define LOAD_PAUSE_NS	NS_PER_S    /* a longer wait pauses the assignment */
#define LOAD_FLUSH_NS	(5 * NS_PER_S) /* ns a flush may still take after ^C */
#define LOAD_SIZE	100	       /* bytes in a produced value, default */
#define LOAD_SIZE_MAX	(64u << 20)    /* bytes, the largest --size */
#define LOAD_PARTITIONS 3	       /* partitions of a created topic */
#define LOAD_CTL_LINE	256	       /* bytes in a control line, with \n */
#define LOAD_ERRSTR	512

enum load_exit {
	LOAD_EXIT_OK = 0,    /* done */
	LOAD_EXIT_FAIL = 1,  /* Kafka or system failure */
	LOAD_EXIT_USAGE = 2, /* bad command line */
};

enum load_cmd {
	LOAD_CMD_PRODUCE,
	LOAD_CMD_CONSUME,
	LOAD_CMD_LAG,
	LOAD_CMD_MAX,
};

/* Options seen on the command line, as bits: each command says which it
 * needs and which it takes. */
enum load_opt {
	LOAD_OPT_BROKERS = 1u << 0,
	LOAD_OPT_TOPIC = 1u << 1,
	LOAD_OPT_GROUP = 1u << 2,
	LOAD_OPT_COUNT = 1u << 3,
	LOAD_OPT_RATE = 1u << 4,
	LOAD_OPT_SIZE = 1u << 5,
	LOAD_OPT_PARTITIONS = 1u << 6,
	LOAD_OPT_DURATION = 1u << 7,
	LOAD_OPT_MAX = 1u << 8,
	LOAD_OPT_STDIN = 1u << 9,
	LOAD_OPT_PROP = 1u << 10,
};
#define LOAD_OPT_CNT 11 /* bits in enum load_opt */

static const char *const load_opt_names[LOAD_OPT_CNT] = {
    "-b BROKERS", "-t TOPIC",	     "-g GROUP",     "-n COUNT",
    "--rate",	  "--size",	     "--partitions", "--duration",
    "--max",	  "--stdin-control", "-X",
};

static const char *const load_cmd_names[LOAD_CMD_MAX] = {
    [LOAD_CMD_PRODUCE] = "produce",
    [LOAD_CMD_CONSUME] = "consume",
    [LOAD_CMD_LAG] = "lag",
};

static const unsigned load_cmd_needs[LOAD_CMD_MAX] = {
    [LOAD_CMD_PRODUCE] = LOAD_OPT_BROKERS | LOAD_OPT_TOPIC | LOAD_OPT_COUNT,
    [LOAD_CMD_CONSUME] =
	LOAD_OPT_BROKERS | LOAD_OPT_TOPIC | LOAD_OPT_GROUP | LOAD_OPT_RATE,
    [LOAD_CMD_LAG] = LOAD_OPT_BROKERS | LOAD_OPT_TOPIC | LOAD_OPT_GROUP,
};

static const unsigned load_cmd_takes[LOAD_CMD_MAX] = {
    [LOAD_CMD_PRODUCE] = LOAD_OPT_BROKERS | LOAD_OPT_TOPIC | LOAD_OPT_COUNT |
			 LOAD_OPT_RATE | LOAD_OPT_SIZE | LOAD_OPT_PARTITIONS |
			 LOAD_OPT_PROP,
    [LOAD_CMD_CONSUME] = LOAD_OPT_BROKERS | LOAD_OPT_TOPIC | LOAD_OPT_GROUP |
			 LOAD_OPT_RATE | LOAD_OPT_DURATION | LOAD_OPT_MAX |
			 LOAD_OPT_STDIN | LOAD_OPT_PROP,
    [LOAD_CMD_LAG] =
	LOAD_OPT_BROKERS | LOAD_OPT_TOPIC | LOAD_OPT_GROUP | LOAD_OPT_PROP,
};

/* The command line. Strings are borrowed from argv. */
struct load_args {
	enum load_cmd cmd;
	unsigned seen; /* enum load_opt bits */
	const char *brokers;
	const char *topic;
	const char *group;
	uint64_t count_msgs; /* produce -n */
	double rate_mps;     /* msgs/s; produce: unpaced when not seen */
	size_t size_bytes;   /* produce: bytes per value */
	int partitions;	     /* produce: of a created topic */
	double duration_s;   /* consume: s before exit, when seen */
	uint64_t max_msgs;   /* consume: messages before exit, when seen */
	const char **props;  /* -X name=value, in order */
	size_t props_cnt;
};

/* Set by the SIGINT/SIGTERM handler, read by the loops. */
static volatile sig_atomic_t load_quit;

static void load_on_signal(int sig)
{
	(void)sig;
	load_quit = 1;
}

/* Returns CLOCK_MONOTONIC in ns. */
static int64_t load_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ------------------------------------------------------------ command line */

#define LOAD_SYNOPSIS                                                          \
	"usage: " PROG                                                         \
	" produce -b BROKERS -t TOPIC -n COUNT [--rate MSGS_PER_S]\n"          \
	"           [--size BYTES] [--partitions N] [-X name=value]...\n"      \
	"       " PROG                                                         \
	" consume -b BROKERS -g GROUP -t TOPIC --rate MSGS_PER_S\n"            \
	"           [--duration SECONDS] [--max N] [--stdin-control]\n"        \
	"           [-X name=value]...\n"                                      \
	"       " PROG                                                         \
	" lag -b BROKERS -g GROUP -t TOPIC [-X name=value]...\n"               \
	"       " PROG " --help\n"

static void load_usage(FILE *f)
{
	fprintf(f,
		LOAD_SYNOPSIS
		"\n"
		"produce  creates TOPIC if missing (--partitions, default %d; "
		"replication\n"
		"         1), writes COUNT values of --size bytes (default %d) "
		"without key,\n"
		"         at --rate messages/s or as fast as possible, waits "
		"for every\n"
		"         delivery and prints \"produced COUNT\".\n"
		"consume  joins GROUP (subscribe; auto.offset.reset=earliest, "
		"no auto\n"
		"         commit) and takes at most --rate messages/s (0: "
		"paused, still in\n"
		"         the group), committing what it took every 100 ms and "
		"once more at\n"
		"         exit. Prints \"consumed N total, rate R/s\" every "
		"second and at exit.\n"
		"         Stops on SIGINT/SIGTERM, after --duration seconds or "
		"--max messages.\n"
		"         --stdin-control: lines \"rate N\" on stdin change "
		"the rate.\n"
		"lag      prints GROUP's lag on TOPIC: the sum over partitions "
		"of the high\n"
		"         watermark minus the committed offset (minus the low "
		"watermark\n"
		"         where the group committed nothing).\n"
		"\n"
		"-b, --brokers     bootstrap.servers\n"
		"-X name=value     any librdkafka property (they come after "
		"this tool's\n"
		"                  defaults, so they win; "
		"socket.nagle.disable=true is one)\n"
		"-h, --help        this text\n"
		"Exit status: 0 success, 1 failure, 2 bad usage.\n",
		LOAD_PARTITIONS, LOAD_SIZE);
}

/* Prints why the command line is bad and the synopsis; returns
 * LOAD_EXIT_USAGE. */
__attribute__((format(printf, 1, 2))) static int load_bad(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n" LOAD_SYNOPSIS);
	return LOAD_EXIT_USAGE;
}

/* Parses a decimal count into *v; returns 0 or -EINVAL. */
static int load_parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

/* Parses a finite number >= 0 into *v (messages/s, seconds); returns 0 or
 * -EINVAL. */
static int load_parse_num(const char *s, double *v)
{
	char *end;
	double x;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (errno || *end || !isfinite(x) || x < 0)
		return -EINVAL;
	*v = x;
	return 0;
}

/* Fills *a from argv; returns -1 when --help was asked (the usage is
 * printed), else 0 or LOAD_EXIT_USAGE (the reason printed). */
static int load_args_parse(int argc, char **argv, struct load_args *a)
{
	static const struct option longs[] = {
	    {"brokers", required_argument, NULL, 'b'},
	    {"topic", required_argument, NULL, 't'},
	    {"group", required_argument, NULL, 'g'},
	    {"count", required_argument, NULL, 'n'},
	    {"rate", required_argument, NULL, 'r'},
	    {"size", required_argument, NULL, 's'},
	    {"partitions", required_argument, NULL, 'p'},
	    {"duration", required_argument, NULL, 'd'},
	    {"max", required_argument, NULL, 'm'},
	    {"stdin-control", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t u;
	int c, i;

	if (argc < 2)
		return load_bad("a command is needed: produce, consume or lag");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		load_usage(stdout);
		return -1;
	}
	for (i = 0; i < LOAD_CMD_MAX; i++)
		if (!strcmp(argv[1], load_cmd_names[i]))
			break;
	if (i == LOAD_CMD_MAX)
		return load_bad("unknown command: %s", argv[1]);
	a->cmd = (enum load_cmd)i;
	a->props = calloc((size_t)argc, sizeof(*a->props));
	if (!a->props) {
		fprintf(stderr, PROG ": out of memory\n");
		return LOAD_EXIT_FAIL;
	}

	/* the command is argv[0] of what getopt sees */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":b:t:g:n:X:h", longs,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			a->brokers = optarg;
			a->seen |= LOAD_OPT_BROKERS;
			break;
		case 't':
			a->topic = optarg;
			a->seen |= LOAD_OPT_TOPIC;
			break;
		case 'g':
			a->group = optarg;
			a->seen |= LOAD_OPT_GROUP;
			break;
		case 'n':
			if (load_parse_u64(optarg, &a->count_msgs))
				return load_bad("-n: not a count: %s", optarg);
			a->seen |= LOAD_OPT_COUNT;
			break;
		case 'r':
			if (load_parse_num(optarg, &a->rate_mps))
				return load_bad("--rate: not a rate: %s",
						optarg);
			a->seen |= LOAD_OPT_RATE;
			break;
		case 's':
			if (load_parse_u64(optarg, &u) || u > LOAD_SIZE_MAX)
				return load_bad("--size: not a size of at "
						"most 64 MiB: %s",
						optarg);
			a->size_bytes = (size_t)u;
			a->seen |= LOAD_OPT_SIZE;
			break;
		case 'p':
			if (load_parse_u64(optarg, &u) || u < 1 ||
			    u > INT32_MAX)
				return load_bad("--partitions: not a "
						"partition count: %s",
						optarg);
			a->partitions = (int)u;
			a->seen |= LOAD_OPT_PARTITIONS;
			break;
		case 'd':
			if (load_parse_num(optarg, &a->duration_s))
				return load_bad("--duration: not a number of "
						"seconds: %s",
						optarg);
			a->seen |= LOAD_OPT_DURATION;
			break;
		case 'm':
			if (load_parse_u64(optarg, &a->max_msgs))
				return load_bad("--max: not a count: %s",
						optarg);
			a->seen |= LOAD_OPT_MAX;
			break;
		case 'c':
			a->seen |= LOAD_OPT_STDIN;
			break;
		case 'X':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return load_bad("-X wants name=value: %s",
						optarg);
			a->props[a->props_cnt++] = optarg;
			a->seen |= LOAD_OPT_PROP;
			break;
		case 'h':
			load_usage(stdout);
			return -1;
		case ':':
			return load_bad("option %s needs a value",
					argv[optind]);
		default:
			return load_bad("unknown option %s", argv[optind]);
		}
	}
	if (optind < argc - 1)
		return load_bad("unexpected argument: %s", argv[optind + 1]);
	for (i = 0; i < LOAD_OPT_CNT; i++) {
		if ((a->seen & ~load_cmd_takes[a->cmd]) & (1u << i))
			return load_bad("%s does not take %s",
					load_cmd_names[a->cmd],
					load_opt_names[i]);
		if ((load_cmd_needs[a->cmd] & ~a->seen) & (1u << i))
			return load_bad("%s needs %s", load_cmd_names[a->cmd],
					load_opt_names[i]);
	}
	if (a->cmd == LOAD_CMD_PRODUCE && (a->seen & LOAD_OPT_RATE) &&
	    a->rate_mps <= 0)
		return load_bad("produce: --rate must be above 0");
	if (!(a->seen & LOAD_OPT_SIZE))
		a->size_bytes = LOAD_SIZE;
	if (!(a->seen & LOAD_OPT_PARTITIONS))
		a->partitions = LOAD_PARTITIONS;
	return 0;
}

/* ------------------------------------------------------- librdkafka glue */

static void load_on_error(rd_kafka_t *rk, int err, const char *reason,
			  void *opaque)
{
	(void)rk;
	(void)opaque;
	fprintf(stderr, PROG ": kafka: %s: %s\n",
		rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Sets one property; returns 0, or -EINVAL after printing librdkafka's
 * message. */
static int load_conf_set(rd_kafka_conf_t *conf, const char *name,
			 const char *value)
{
	char errstr[LOAD_ERRSTR];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, PROG ": %s=%s: %s\n", name, value, errstr);
		return -EINVAL;
	}
	return 0;
}

/* Returns a new configuration with bootstrap.servers, the tool's defaults,
 * the command's (defs: name, value, ..., NULL; may be NULL) and then every
 * -X (so they win), or NULL after printing why (a bad -X is bad usage:
 * *bad is set). The caller owns the result. */
static rd_kafka_conf_t *load_conf_new(const struct load_args *a,
				      const char *const *defs, bool *bad)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char name[LOAD_ERRSTR];
	size_t i, n;

	*bad = false;
	if (!conf) {
		fprintf(stderr, PROG ": out of memory\n");
		return NULL;
	}
	rd_kafka_conf_set_error_cb(conf, load_on_error);
	if (load_conf_set(conf, "bootstrap.servers", a->brokers) ||
	    load_conf_set(conf, "socket.nagle.disable", "true"))
		goto bad;
	for (i = 0; defs && defs[i]; i += 2)
		if (load_conf_set(conf, defs[i], defs[i + 1]))
			goto bad;
	for (i = 0; i < a->props_cnt; i++) {
		n = (size_t)(strchr(a->props[i], '=') - a->props[i]);
		if (n >= sizeof(name)) {
			fprintf(stderr, PROG ": -X %s: name too long\n",
				a->props[i]);
			goto bad;
		}
		memcpy(name, a->props[i], n);
		name[n] = '\0';
		if (load_conf_set(conf, name, a->props[i] + n + 1))
			goto bad;
	}
	return conf;
bad:
	*bad = true;
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* Returns a client made of conf (taken in every case), or NULL after
 * printing why. */
static rd_kafka_t *load_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
	char errstr[LOAD_ERRSTR];
	rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));

	if (!rk) {
		fprintf(stderr, PROG ": %s\n", errstr);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

/* Sets an admin request's timeouts to LOAD_TIMEOUT_MS; returns the options
 * (the caller frees them) or NULL. */
static rd_kafka_AdminOptions_t *load_admin_options(rd_kafka_t *rk,
						   rd_kafka_admin_op_t op)
{
	rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, op);
	char errstr[LOAD_ERRSTR];

	if (!opt) {
		fprintf(stderr, PROG ": out of memory\n");
		return NULL;
	}
	rd_kafka_AdminOptions_set_request_timeout(opt, LOAD_TIMEOUT_MS, errstr,
						  sizeof(errstr));
	if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
		rd_kafka_AdminOptions_set_operation_timeout(
		    opt, LOAD_TIMEOUT_MS, errstr, sizeof(errstr));
	return opt;
}

/* --------------------------------------------------------------- produce */

/* Counts of the delivery reports, written by the callback (served in this
 * thread by rd_kafka_poll/flush). */
struct load_dr {
	uint64_t delivered;
	uint64_t failed;
	char first_err[LOAD_ERRSTR]; /* "" until a delivery fails */
};

static void load_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
			     void *opaque)
{
	struct load_dr *dr = opaque;

	(void)rk;
	if (!m->err) {
		dr->delivered++;
		return;
	}
	if (!dr->failed++)
		snprintf(dr->first_err, sizeof(dr->first_err),
			 "%s [%" PRId32 "]: %s", rd_kafka_topic_name(m->rkt),
			 m->partition, rd_kafka_err2str(m->err));
}

/* Creates topic with the given partitions and one replica; a topic that
 * exists already is fine. Returns 0 or -EIO (the reason printed). */
static int load_topic_create(rd_kafka_t *rk, const char *topic, int partitions)
{
	const rd_kafka_CreateTopics_result_t *res;
	const rd_kafka_topic_result_t **tr;
	rd_kafka_AdminOptions_t *opt = NULL;
	rd_kafka_NewTopic_t *nt;
	rd_kafka_queue_t *q = NULL;
	rd_kafka_event_t *ev = NULL;
	char errstr[LOAD_ERRSTR];
	size_t n;
	int rc = -EIO;

	nt =
	    rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof(errstr));
	if (!nt) {
		fprintf(stderr, PROG ": topic %s: %s\n", topic, errstr);
		return -EIO;
	}
	opt = load_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	q = rd_kafka_queue_new(rk);
	if (!opt || !q)
		goto out;
	rd_kafka_CreateTopics(rk, &nt, 1, opt, q);
	ev = rd_kafka_queue_poll(q, LOAD_TIMEOUT_MS + 5000);
	if (!ev) {
		fprintf(stderr, PROG ": CreateTopics %s: no answer\n", topic);
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		fprintf(stderr, PROG ": CreateTopics %s: %s\n", topic,
			rd_kafka_event_error_string(ev));
		goto out;
	}
	res = rd_kafka_event_CreateTopics_result(ev);
	tr = rd_kafka_CreateTopics_result_topics(res, &n);
	if (n != 1) {
		fprintf(stderr, PROG ": CreateTopics %s: %zu results\n", topic,
			n);
		goto out;
	}
	switch (rd_kafka_topic_result_error(tr[0])) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
	case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
		rc = 0;
		break;
	default:
		fprintf(stderr, PROG ": CreateTopics %s: %s\n", topic,
			rd_kafka_topic_result_error_string(tr[0]));
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (q)
		rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_NewTopic_destroy(nt);
	return rc;
}

/* Waits until slot_ns (CLOCK_MONOTONIC ns, the next message's turn) or a
 * signal, serving delivery reports meanwhile. */
static void load_produce_wait(rd_kafka_t *rk, int64_t slot_ns)
{
	int64_t left;
	struct timespec ts;

	while (!load_quit && (left = slot_ns - load_now_ns()) > 0) {
		if (left >= NS_PER_MS) {
			rd_kafka_poll(rk, (int)(left / NS_PER_MS > LOAD_POLL_MS
						    ? LOAD_POLL_MS
						    : left / NS_PER_MS));
			continue;
		}
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

/* The produce command; returns the exit status. */
static int load_produce(const struct load_args *a)
{
	struct load_dr dr = {0, 0, ""};
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
	char *value = NULL;
	int64_t interval_ns = 0, slot_ns, now, quit_at = 0;
	uint64_t i = 0;
	int hdr, rc = LOAD_EXIT_FAIL;
	bool bad;

	conf = load_conf_new(a, NULL, &bad);
	if (!conf)
		return bad ? LOAD_EXIT_USAGE : LOAD_EXIT_FAIL;
	rd_kafka_conf_set_dr_msg_cb(conf, load_on_delivery);
	rd_kafka_conf_set_opaque(conf, &dr);
	rk = load_client_new(RD_KAFKA_PRODUCER, conf);
	if (!rk)
		return LOAD_EXIT_FAIL;
	if (load_topic_create(rk, a->topic, a->partitions))
		goto out;
	value = malloc(a->size_bytes + 1);
	if (!value) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	memset(value, 'x', a->size_bytes);

	if (a->seen & LOAD_OPT_RATE)
		interval_ns = (int64_t)((double)NS_PER_S / a->rate_mps);
	slot_ns = load_now_ns();
	while (i < a->count_msgs && !load_quit) {
		if (interval_ns) {
			/* a stalled loop catches up LOAD_SLACK_NS at most */
			now = load_now_ns();
			if (slot_ns < now - LOAD_SLACK_NS)
				slot_ns = now - LOAD_SLACK_NS;
			load_produce_wait(rk, slot_ns);
			slot_ns += interval_ns;
		}
		/* the value: "tidegate-kafka-load N" then 'x's, cut to size;
		 * snprintf's '\0' lands in the spare byte at worst */
		hdr = snprintf(value, a->size_bytes + 1, PROG " %" PRIu64, i);
		if (hdr >= 0 && (size_t)hdr < a->size_bytes)
			value[hdr] = 'x';
		err = rd_kafka_producev(
		    rk, RD_KAFKA_V_TOPIC(a->topic),
		    RD_KAFKA_V_VALUE(a->size_bytes ? value : NULL,
				     a->size_bytes),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
			rd_kafka_poll(rk, LOAD_POLL_MS);
			continue;
		}
		if (err) {
			fprintf(stderr, PROG ": produce: %s\n",
				rd_kafka_err2str(err));
			break;
		}
		i++;
		rd_kafka_poll(rk, 0);
	}

	/* every delivery report, or LOAD_FLUSH_NS more after a signal */
	while (rd_kafka_outq_len(rk) > 0) {
		if (load_quit) {
			now = load_now_ns();
			if (!quit_at)
				quit_at = now;
			else if (now - quit_at > LOAD_FLUSH_NS)
				break;
		}
		rd_kafka_flush(rk, LOAD_POLL_MS);
	}
	if (load_quit)
		fprintf(stderr,
			PROG ": interrupted: %" PRIu64 " of %" PRIu64
			     " produced, %" PRIu64 " delivered\n",
			i, a->count_msgs, dr.delivered);
	else if (dr.failed)
		fprintf(stderr,
			PROG ": %" PRIu64 " of %" PRIu64 " deliveries "
			     "failed, the first: %s\n",
			dr.failed, a->count_msgs, dr.first_err);
	else if (err)
		; /* said above */
	else if (dr.delivered != a->count_msgs)
		fprintf(stderr, PROG ": %" PRIu64 " of %" PRIu64 " delivered\n",
			dr.delivered, a->count_msgs);
	else {
		printf("produced %" PRIu64 "\n", dr.delivered);
		fflush(stdout);
		rc = LOAD_EXIT_OK;
	}
out:
	free(value);
	rd_kafka_destroy(rk);
	return rc;
}

/* --------------------------------------------------------------- consume */

/*
 * The consumer takes a message out of librdkafka (rd_kafka_consumer_poll)
 * before its pace allows it to be consumed, and holds it meanwhile: poll
 * also serves the group (rebalances, commit results, the
 * max.poll.interval.ms clock), so it must go on while nothing may be
 * consumed. Holding stays short: poll asks for a message only when none is
 * held, and when the next one may not be consumed within LOAD_PAUSE_NS
 * (rate 0 or a very slow rate) the assignment is paused and poll serves the
 * group alone. librdkafka resumes a paused partition after the last
 * message it handed out, so held messages are neither lost nor repeated.
 * Only consumed messages have their offsets stored (rd_kafka_offset_store,
 * with enable.auto.offset.store=false), so a commit never covers a held one.
 */

/* The held messages, oldest first. Normally at most one; a message that
 * arrives while paused (librdkafka should not deliver one) joins the end. */
struct load_held {
	rd_kafka_message_t **v; /* owned, v[head..cnt) */
	size_t head;
	size_t cnt;
	size_t cap;
};

struct load_consumer {
	rd_kafka_t *rk;
	struct load_held held;
	bool paused; /* the application paused the assignment */
	bool dirty;  /* offsets stored since the last commit */
	uint64_t consumed_msgs;
};

/* Appends m (taken); returns 0 or -ENOMEM (m destroyed). */
static int load_held_push(struct load_held *h, rd_kafka_message_t *m)
{
	if (h->cnt == h->cap && h->head) {
		memmove(h->v, h->v + h->head,
			(h->cnt - h->head) * sizeof(*h->v));
		h->cnt -= h->head;
		h->head = 0;
	}
	if (h->cnt == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 4;
		rd_kafka_message_t **v = realloc(h->v, cap * sizeof(*v));

		if (!v) {
			rd_kafka_message_destroy(m);
			return -ENOMEM;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->cnt++] = m;
	return 0;
}

/* Returns the oldest held message (the caller takes it), or NULL. */
static rd_kafka_message_t *load_held_pop(struct load_held *h)
{
	rd_kafka_message_t *m;

	if (h->head == h->cnt)
		return NULL;
	m = h->v[h->head++];
	if (h->head == h->cnt)
		h->head = h->cnt = 0;
	return m;
}

/* Destroys the held messages of the partitions in parts (all of them when
 * parts is NULL), keeping the order of the others. */
static void load_held_drop(struct load_held *h,
			   const rd_kafka_topic_partition_list_t *parts)
{
	size_t i, n = 0;
	rd_kafka_message_t *m;

	for (i = h->head; i < h->cnt; i++) {
		m = h->v[i];
		if (!parts ||
		    rd_kafka_topic_partition_list_find(
			parts, rd_kafka_topic_name(m->rkt), m->partition))
			rd_kafka_message_destroy(m);
		else
			h->v[n++] = m;
	}
	h->head = 0;
	h->cnt = n;
}

/* Commits the stored offsets; sync waits for the broker. Nothing new to
 * commit is not an error. Returns 0 or -EIO (the reason printed). */
static int load_commit(struct load_consumer *c, bool sync)
{
	rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, !sync);

	c->dirty = false;
	if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		fprintf(stderr, PROG ": commit: %s\n", rd_kafka_err2str(err));
		return -EIO;
	}
	return 0;
}

static void load_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			   rd_kafka_topic_partition_list_t *offsets,
			   void *opaque)
{
	int i;

	(void)rk;
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return;
	if (err) {
		fprintf(stderr, PROG ": commit: %s\n", rd_kafka_err2str(err));
		return;
	}
	for (i = 0; offsets && i < offsets->cnt; i++)
		if (offsets->elems[i].err)
			fprintf(stderr, PROG ": commit %s [%" PRId32 "]: %s\n",
				offsets->elems[i].topic,
				offsets->elems[i].partition,
				rd_kafka_err2str(offsets->elems[i].err));
}

/* Pauses or resumes the partitions in parts (the whole assignment when
 * NULL). */
static void load_pause_set(struct load_consumer *c,
			   rd_kafka_topic_partition_list_t *parts, bool pause)
{
	rd_kafka_topic_partition_list_t *own = NULL;
	rd_kafka_resp_err_t err;

	if (!parts) {
		err = rd_kafka_assignment(c->rk, &own);
		if (err) {
			fprintf(stderr, PROG ": assignment: %s\n",
				rd_kafka_err2str(err));
			return;
		}
		parts = own;
	}
	if (parts->cnt > 0) {
		err = pause ? rd_kafka_pause_partitions(c->rk, parts)
			    : rd_kafka_resume_partitions(c->rk, parts);
		if (err)
			fprintf(stderr, PROG ": %s: %s\n",
				pause ? "pause" : "resume",
				rd_kafka_err2str(err));
	}
	if (own)
		rd_kafka_topic_partition_list_destroy(own);
}

/* The group's rebalances, both protocols (the default range,roundrobin is
 * eager; -X partition.assignment.strategy=cooperative-sticky is not).
 * Revoked partitions: their held messages go (the next owner starts at the
 * committed offset), the consumed ones are committed first. New ones stay
 * paused while the application pauses. Served inside consumer_poll and
 * consumer_close. */
static void load_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			      rd_kafka_topic_partition_list_t *parts,
			      void *opaque)
{
	struct load_consumer *c = opaque;
	bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
	rd_kafka_error_t *error = NULL;
	rd_kafka_resp_err_t ret;

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		if (coop)
			error = rd_kafka_incremental_assign(rk, parts);
		else if ((ret = rd_kafka_assign(rk, parts)))
			fprintf(stderr, PROG ": assign: %s\n",
				rd_kafka_err2str(ret));
		if (c->paused)
			load_pause_set(c, parts, true);
	} else {
		load_held_drop(&c->held, parts);
		if (!rd_kafka_assignment_lost(rk))
			load_commit(c, true);
		if (coop)
			error = rd_kafka_incremental_unassign(rk, parts);
		else if ((ret = rd_kafka_assign(rk, NULL)))
			fprintf(stderr, PROG ": unassign: %s\n",
				rd_kafka_err2str(ret));
	}
	if (error) {
		fprintf(stderr, PROG ": rebalance: %s\n",
			rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
}

/* Reads what stdin has (one read, only when poll says it would not block)
 * and applies complete "rate N" lines to *rate_mps. Returns true when the
 * rate changed. At end of input *open turns false. */
static bool load_ctl_read(char *buf, size_t *len, bool *open, double *rate_mps)
{
	struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
	char *line, *nl;
	double r;
	ssize_t n;
	bool changed = false;

	if (poll(&pfd, 1, 0) <= 0 || !pfd.revents)
		return false;
	n = read(STDIN_FILENO, buf + *len, LOAD_CTL_LINE - 1 - *len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (n <= 0) {
		*open = false;
		return false;
	}
	*len += (size_t)n;
	buf[*len] = '\0';
	line = buf;
	while ((nl = strchr(line, '\n'))) {
		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (!strncmp(line, "rate ", 5) &&
		    !load_parse_num(line + 5 + strspn(line + 5, " "), &r)) {
			*rate_mps = r;
			changed = true;
			fprintf(stderr, PROG ": rate %g msg/s\n", r);
		} else if (*line) {
			fprintf(stderr,
				PROG ": ignored control line \"%s\" "
				     "(want \"rate N\")\n",
				line);
		}
		line = nl + 1;
	}
	*len -= (size_t)(line - buf);
	memmove(buf, line, *len);
	if (*len == LOAD_CTL_LINE - 1) {
		fprintf(stderr, PROG ": control line too long: dropped\n");
		*len = 0;
	}
	return changed;
}

static void load_report(uint64_t total, uint64_t last, int64_t ns)
{
	double r = ns > 0 ? (double)(total - last) * NS_PER_S / (double)ns : 0;

	printf("consumed %" PRIu64 " total, rate %.0f/s\n", total, r);
	fflush(stdout);
}

/* A group member's defaults; group.id comes from -g, after these. */
static const char *const load_group_defaults[] = {
    "auto.offset.reset",
    "earliest",
    "enable.auto.commit",
    "false",
    /* offsets are stored when consumed, not when polled */
    "enable.auto.offset.store",
    "false",
    NULL,
};

/* Consumes the held message at the front: its offset is stored for the
 * next commit. */
static void load_consume_one(struct load_consumer *c)
{
	rd_kafka_message_t *m = load_held_pop(&c->held);
	rd_kafka_resp_err_t err;

	err = rd_kafka_offset_store(m->rkt, m->partition, m->offset);
	if (err)
		fprintf(stderr,
			PROG ": store offset %s [%" PRId32 "] %" PRId64
			     ": %s\n",
			rd_kafka_topic_name(m->rkt), m->partition, m->offset,
			rd_kafka_err2str(err));
	rd_kafka_message_destroy(m);
	c->consumed_msgs++;
	c->dirty = true;
}

static int64_t load_min(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The consume command; returns the exit status. */
static int load_consume(const struct load_args *a)
{
	struct load_consumer c = {0};
	rd_kafka_topic_partition_list_t *topics;
	rd_kafka_message_t *m;
	rd_kafka_resp_err_t err;
	rd_kafka_conf_t *conf;
	char ctl[LOAD_CTL_LINE];
	size_t ctl_len = 0;
	bool ctl_open = (a->seen & LOAD_OPT_STDIN) != 0, bad, held, pause;
	double rate_mps = a->rate_mps;
	int64_t now, start, end, next_ns, interval_ns, commit_at, report_at,
	    reported_at, until, wait;
	uint64_t reported = 0;
	int rc = LOAD_EXIT_FAIL;
	struct timespec ts;

	conf = load_conf_new(a, load_group_defaults, &bad);
	if (!conf)
		return bad ? LOAD_EXIT_USAGE : LOAD_EXIT_FAIL;
	if (load_conf_set(conf, "group.id", a->group)) {
		rd_kafka_conf_destroy(conf);
		return LOAD_EXIT_USAGE;
	}
	rd_kafka_conf_set_rebalance_cb(conf, load_on_rebalance);
	rd_kafka_conf_set_offset_commit_cb(conf, load_on_commit);
	rd_kafka_conf_set_opaque(conf, &c);
	c.rk = load_client_new(RD_KAFKA_CONSUMER, conf);
	if (!c.rk)
		return LOAD_EXIT_FAIL;
	rd_kafka_poll_set_consumer(c.rk);
	topics = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(topics, a->topic,
					  RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(c.rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);
	if (err) {
		fprintf(stderr, PROG ": subscribe %s: %s\n", a->topic,
			rd_kafka_err2str(err));
		goto out;
	}

	start = now = load_now_ns();
	end = (a->seen & LOAD_OPT_DURATION)
		  ? start + (int64_t)(a->duration_s * NS_PER_S)
		  : INT64_MAX;
	next_ns = now;
	interval_ns = rate_mps > 0 ? (int64_t)(NS_PER_S / rate_mps) : 0;
	commit_at = now + LOAD_COMMIT_NS;
	report_at = reported_at = now;
	report_at += LOAD_REPORT_NS;
	rc = LOAD_EXIT_OK;
	while (!load_quit) {
		now = load_now_ns();
		if (ctl_open &&
		    load_ctl_read(ctl, &ctl_len, &ctl_open, &rate_mps)) {
			interval_ns =
			    rate_mps > 0 ? (int64_t)(NS_PER_S / rate_mps) : 0;
			next_ns = now;
		}
		if (now >= end)
			break;
		if ((a->seen & LOAD_OPT_MAX) && c.consumed_msgs >= a->max_msgs)
			break;

		/* consume what the pace allows; time without messages
		 * earns LOAD_SLACK_NS of catching up at most */
		if (next_ns < now - LOAD_SLACK_NS)
			next_ns = now - LOAD_SLACK_NS;
		while (interval_ns && now >= next_ns &&
		       c.held.head < c.held.cnt &&
		       !((a->seen & LOAD_OPT_MAX) &&
			 c.consumed_msgs >= a->max_msgs)) {
			load_consume_one(&c);
			next_ns += interval_ns;
		}
		held = c.held.head < c.held.cnt;
		pause = !interval_ns || (held && next_ns - now > LOAD_PAUSE_NS);
		if (pause != c.paused) {
			c.paused = pause;
			load_pause_set(&c, NULL, pause);
		}
		if (now >= commit_at) {
			if (c.dirty)
				load_commit(&c, false);
			commit_at = now + LOAD_COMMIT_NS;
		}
		if (now >= report_at) {
			load_report(c.consumed_msgs, reported,
				    now - reported_at);
			reported = c.consumed_msgs;
			reported_at = now;
			report_at += LOAD_REPORT_NS;
			if (report_at <= now)
				report_at = now + LOAD_REPORT_NS;
		}

		until = load_min(load_min(commit_at, report_at), end);
		if (held && interval_ns)
			until = load_min(until, next_ns);
		wait = until - now;
		if (wait < 0)
			wait = 0;
		if (!held || c.paused) {
			/* serve the group; a message found is held */
			m = rd_kafka_consumer_poll(
			    c.rk,
			    (int)load_min(wait / NS_PER_MS, LOAD_POLL_MS));
			if (!m)
				continue;
			if (!m->err) {
				if (load_held_push(&c.held, m)) {
					fprintf(stderr, PROG ": out of "
							     "memory\n");
					rc = LOAD_EXIT_FAIL;
					break;
				}
				continue;
			}
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, PROG ": consume: %s\n",
					rd_kafka_message_errstr(m));
			if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
				rd_kafka_message_destroy(m);
				rc = LOAD_EXIT_FAIL;
				break;
			}
			rd_kafka_message_destroy(m);
		} else if (ctl_open) {
			/* a message waits for its turn: wake early for
			 * a control line */
			struct pollfd pfd = {.fd = STDIN_FILENO,
					     .events = POLLIN};

			ts.tv_sec = (time_t)(wait / NS_PER_S);
			ts.tv_nsec = (long)(wait % NS_PER_S);
			ppoll(&pfd, 1, &ts, NULL);
		} else if (wait > 0) {
			ts.tv_sec = (time_t)(wait / NS_PER_S);
			ts.tv_nsec = (long)(wait % NS_PER_S);
			nanosleep(&ts, NULL);
		}
	}

	/* the held messages were not consumed: librdkafka forgets them with
	 * the assignment, and the next owner starts at the committed offset */
	load_held_drop(&c.held, NULL);
	if (c.dirty && load_commit(&c, true))
		rc = LOAD_EXIT_FAIL;
	now = load_now_ns();
	load_report(c.consumed_msgs, reported, now - reported_at);
out:
	err = rd_kafka_consumer_close(c.rk);
	if (err) {
		fprintf(stderr, PROG ": close: %s\n", rd_kafka_err2str(err));
		rc = LOAD_EXIT_FAIL;
	}
	rd_kafka_destroy(c.rk);
	free(c.held.v);
	return rc;
}

/* ------------------------------------------------------------------- lag */

/* Returns the group's committed offsets for every partition in parts (the
 * caller frees the copy), or NULL after printing why. */
static rd_kafka_topic_partition_list_t *
load_committed(rd_kafka_t *rk, const char *group,
	       const rd_kafka_topic_partition_list_t *parts)
{
	const rd_kafka_ListConsumerGroupOffsets_result_t *res;
	const rd_kafka_group_result_t **gr;
	const rd_kafka_error_t *gerr;
	rd_kafka_topic_partition_list_t *out = NULL;
	rd_kafka_ListConsumerGroupOffsets_t *req;
	rd_kafka_AdminOptions_t *opt;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev = NULL;
	size_t n;

	req = rd_kafka_ListConsumerGroupOffsets_new(group, parts);
	opt =
	    load_admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
	q = rd_kafka_queue_new(rk);
	if (!req || !opt || !q) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	/* librdkafka 2.0.2 takes exactly one group per call */
	rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, opt, q);
	ev = rd_kafka_queue_poll(q, LOAD_TIMEOUT_MS + 5000);
	if (!ev) {
		fprintf(stderr,
			PROG ": ListConsumerGroupOffsets %s: no "
			     "answer\n",
			group);
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		fprintf(stderr, PROG ": ListConsumerGroupOffsets %s: %s\n",
			group, rd_kafka_event_error_string(ev));
		goto out;
	}
	res = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
	gr = res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &n)
		 : NULL;
	if (!gr || n != 1) {
		fprintf(stderr,
			PROG ": ListConsumerGroupOffsets %s: no group "
			     "in the answer\n",
			group);
		goto out;
	}
	gerr = rd_kafka_group_result_error(gr[0]);
	if (gerr) {
		fprintf(stderr, PROG ": ListConsumerGroupOffsets %s: %s\n",
			group, rd_kafka_error_string(gerr));
		goto out;
	}
	if (!rd_kafka_group_result_partitions(gr[0])) {
		fprintf(stderr,
			PROG ": ListConsumerGroupOffsets %s: no "
			     "partitions in the answer\n",
			group);
		goto out;
	}
	out = rd_kafka_topic_partition_list_copy(
	    rd_kafka_group_result_partitions(gr[0]));
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	if (q)
		rd_kafka_queue_destroy(q);
	if (opt)
		rd_kafka_AdminOptions_destroy(opt);
	if (req)
		rd_kafka_ListConsumerGroupOffsets_destroy(req);
	return out;
}

/* Returns a list of topic's partitions, from the cluster's metadata (the
 * caller frees it), or NULL after printing why. */
static rd_kafka_topic_partition_list_t *load_partitions(rd_kafka_t *rk,
							const char *topic)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	const struct rd_kafka_metadata *md = NULL;
	const struct rd_kafka_metadata_topic *mt;
	rd_kafka_resp_err_t err;
	rd_kafka_topic_t *rkt;
	int i;

	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (!rkt) {
		fprintf(stderr, PROG ": topic %s: %s\n", topic,
			rd_kafka_err2str(rd_kafka_last_error()));
		return NULL;
	}
	err = rd_kafka_metadata(rk, 0, rkt, &md, LOAD_TIMEOUT_MS);
	if (err) {
		fprintf(stderr, PROG ": metadata of %s: %s\n", topic,
			rd_kafka_err2str(err));
		goto out;
	}
	if (md->topic_cnt != 1 || strcmp(md->topics[0].topic, topic)) {
		fprintf(stderr, PROG ": metadata of %s: not in the answer\n",
			topic);
		goto out;
	}
	mt = &md->topics[0];
	if (mt->err) {
		fprintf(stderr, PROG ": topic %s: %s\n", topic,
			rd_kafka_err2str(mt->err));
		goto out;
	}
	parts = rd_kafka_topic_partition_list_new(mt->partition_cnt);
	for (i = 0; i < mt->partition_cnt; i++)
		rd_kafka_topic_partition_list_add(parts, topic,
						  mt->partitions[i].id);
out:
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(rkt);
	return parts;
}

/* The lag command; returns the exit status. */
static int load_lag(const struct load_args *a)
{
	rd_kafka_topic_partition_list_t *parts = NULL, *committed = NULL;
	const rd_kafka_topic_partition_t *cp;
	rd_kafka_resp_err_t err;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	int64_t low, high, from, lag_msgs = 0;
	int i, rc = LOAD_EXIT_FAIL;
	bool bad;

	conf = load_conf_new(a, NULL, &bad);
	if (!conf)
		return bad ? LOAD_EXIT_USAGE : LOAD_EXIT_FAIL;
	/* a consumer, not a producer: its metadata requests never ask the
	 * broker to create the topic (allow.auto.create.topics is false) */
	rk = load_client_new(RD_KAFKA_CONSUMER, conf);
	if (!rk)
		return LOAD_EXIT_FAIL;
	parts = load_partitions(rk, a->topic);
	if (!parts)
		goto out;
	/* committed offsets first: a message produced meanwhile makes the
	 * lag larger, never negative */
	committed = load_committed(rk, a->group, parts);
	if (!committed)
		goto out;
	for (i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &parts->elems[i];

		cp = rd_kafka_topic_partition_list_find(committed, p->topic,
							p->partition);
		if (cp && cp->err) {
			fprintf(
			    stderr,
			    PROG ": committed offset of %s [%" PRId32 "]: %s\n",
			    p->topic, p->partition, rd_kafka_err2str(cp->err));
			goto out;
		}
		err = rd_kafka_query_watermark_offsets(
		    rk, p->topic, p->partition, &low, &high, LOAD_TIMEOUT_MS);
		if (err) {
			fprintf(stderr,
				PROG ": watermarks of %s [%" PRId32 "]: %s\n",
				p->topic, p->partition, rd_kafka_err2str(err));
			goto out;
		}
		/* no commit (RD_KAFKA_OFFSET_INVALID): from the low mark */
		from = cp && cp->offset >= 0 ? cp->offset : low;
		if (high > from)
			lag_msgs += high - from;
	}
	printf("%" PRId64 "\n", lag_msgs);
	fflush(stdout);
	rc = LOAD_EXIT_OK;
out:
	if (committed)
		rd_kafka_topic_partition_list_destroy(committed);
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	rd_kafka_destroy(rk);
	return rc;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct load_args a = {0};
	struct sigaction sa = {0};
	int rc;

	rc = load_args_parse(argc, argv, &a);
	if (rc) {
		free(a.props);
		return rc < 0 ? LOAD_EXIT_OK : rc;
	}
	/* no SA_RESTART: a signal ends a sleep at once */
	sa.sa_handler = load_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	switch (a.cmd) {
	case LOAD_CMD_PRODUCE:
		rc = load_produce(&a);
		break;
	case LOAD_CMD_CONSUME:
		rc = load_consume(&a);
		break;
	default:
		rc = load_lag(&a);
		break;
	}
	free(a.props);
	return rc;
}
