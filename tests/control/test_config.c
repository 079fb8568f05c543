/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of the config loader (control/config.c) and the model's checks
 * (lib/cfg.c) for the kafka section and shared buckets: the defaults of a
 * minimal section, every setting parsed, every error naming the file, the
 * line and the setting, and what a reload may change. Config files are
 * written to a mkdtemp() directory, removed at the end; config_load() only
 * parses (no DPDK, no Kafka), so the ports' devices are never opened.
 *
 * The expected line of an error is found by a marker: the first line of
 * the file's text that contains a given string, so that the cases do not
 * depend on line numbers written by hand.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "config.h"
#include "syncrec.h"
#include "unit.h"

#define N_OF(x) (sizeof(x) / sizeof((x)[0]))

static char g_dir[] = "/tmp/tg-config-test-XXXXXX";
static bool g_have_dir;
static char g_text[65536];
static char g_err[CFG_ERR_LEN + 512];

/* An assertion whose failure message says what was seen. */
__attribute__((format(printf, 4, 5))) static void
check(bool ok, unsigned line, const char *file, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, line, msg, file, "",
				CU_FALSE);
}
#define CHECK(ok, ...) check((ok), __LINE__, __FILE__, __VA_ARGS__)

/* ---- fixtures ---- */

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static int suite_init(void)
{
	if (!mkdtemp(g_dir))
		return -1;
	g_have_dir = true;
	return 0;
}

static int suite_clean(void)
{
	if (g_have_dir && nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		return -1;
	g_have_dir = false;
	return 0;
}

/* ---- config text ---- */

/*
 * Two pipelines: "main" (global, one topic, consumers: each bucket with a
 * line for extra settings) and "side" (a global bucket); tail goes at the
 * end (the kafka section, usually).
 */
static const char *mk(const char *glob, const char *topic, const char *cons,
		      const char *tail)
{
	int n = snprintf(
	    g_text, sizeof(g_text),
	    "eal = [ \"--no-huge\", \"--vdev\", \"net_null0\", \"--vdev\", "
	    "\"net_null1\" ];\n"
	    "workers = 1;\n"
	    "ports = ( { name = \"in\"; device = \"net_null0\"; },\n"
	    "          { name = \"in2\"; device = \"net_null1\"; } );\n"
	    "pipelines = (\n"
	    "  { name = \"main\"; ingress = \"in\";\n"
	    "    egress = { type = \"reflect\"; };\n"
	    "    global = { rate = 1000.0; burst = 100;\n"
	    "      %s\n"
	    "    };\n"
	    "    topics = ( { name = \"orders\"; rate = 500.0; burst = 50;\n"
	    "      %s\n"
	    "      match = ( { dst_port = 9000; } ); } );\n"
	    "    consumers = { rate = 10.0; burst = 5;\n"
	    "      %s\n"
	    "    };\n"
	    "  },\n"
	    "  { name = \"side\"; ingress = \"in2\";\n"
	    "    egress = { type = \"reflect\"; };\n"
	    "    global = { rate = 10.0; burst = 10; };\n"
	    "  }\n"
	    ");\n"
	    "%s",
	    glob, topic, cons, tail);

	CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(g_text));
	return g_text;
}

/* A kafka section with brokers and the given lines. */
static const char *kafka(const char *lines)
{
	static char buf[32768];
	int n = snprintf(buf, sizeof(buf),
			 "kafka = {\n"
			 "  brokers = \"127.0.0.1:19092\";\n"
			 "%s\n"
			 "};\n",
			 lines);

	CU_ASSERT_FATAL(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

/* Every setting, none at its default. */
static const char KAFKA_FULL[] =
    "kafka = {\n"
    "  brokers = \"10.0.0.1:9092,10.0.0.2:9092\";\n"
    "  node = \"edge-1\";\n"
    "  sync_topic = \"tg.sync\";\n"
    "  control_topic = \"tg.control\";\n"
    "  sync_interval = 0.2;\n"
    "  lease = 2;\n"
    "  startup_timeout = 5.5;\n"
    "  demand_headroom = 1.2;\n"
    "  outage = \"closed\";\n"
    "  partitions = 12;\n"
    "  replication = 3;\n"
    "  expected_nodes = 5;\n"
    "  properties = ( \"security.protocol=SASL_SSL\",\n"
    "                 \"sasl.mechanisms=PLAIN\",\n"
    "                 \"sasl.password=\" );\n"
    "  lag = ( { pipeline = \"side\"; group = \"billing\"; topic = "
    "\"orders\"; },\n"
    "          { pipeline = \"main\"; group = \"audit group\"; topic = "
    "\"audit-log\"; } );\n"
    "  lag_interval = 0.5;\n"
    "};\n";

/* 1-based line of the first line of text containing marker; 0 if none. */
static int line_of(const char *text, const char *marker)
{
	const char *hit = strstr(text, marker), *p;
	int line = 1;

	if (!hit)
		return 0;
	for (p = text; p < hit; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* Write text to dir/name; returns the path (static). */
static const char *write_file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_FATAL(fputs(text, f) >= 0);
	CU_ASSERT_FATAL(fclose(f) == 0);
	return path;
}

/* Load text as a file; the caller frees c. */
static int load(const char *name, const char *text, struct cfg *c)
{
	return config_load(write_file(name, text), c, g_err, sizeof(g_err));
}

/*
 * Load text and expect an error that names the file, the line of marker,
 * the setting path and says what is wrong.
 */
static void expect_err_at(unsigned at, const char *what, const char *text,
			  const char *marker, const char *path,
			  const char *says)
{
	char where[PATH_MAX + 32];
	struct cfg c;
	int line = line_of(text, marker);
	const char *file;
	int rc;

	check(line > 0, at, __FILE__, "%s: marker '%s' is not in the text",
	      what, marker);
	file = write_file("bad.cfg", text);
	rc = config_load(file, &c, g_err, sizeof(g_err));
	cfg_free(&c);
	snprintf(where, sizeof(where), "%s:%d: ", file, line);
	check(rc == -EINVAL && strstr(g_err, where) && strstr(g_err, path) &&
		  strstr(g_err, says),
	      at, __FILE__, "%s: rc %d, error '%s' (want '%s', '%s', '%s')",
	      what, rc, rc ? g_err : "", where, path, says);
}
#define EXPECT_ERR(...) expect_err_at(__LINE__, __VA_ARGS__)

/* ---- the model's names ---- */

static void test_outage_names(void)
{
	static const char *const names[] = {"static", "open", "closed"};
	enum cfg_outage o;
	unsigned i;

	CU_ASSERT_EQUAL(N_OF(names), CFG_OUTAGE_MAX);
	for (i = 0; i < N_OF(names); i++) {
		CU_ASSERT_STRING_EQUAL(cfg_outage_name((enum cfg_outage)i),
				       names[i]);
		o = CFG_OUTAGE_MAX;
		CU_ASSERT_EQUAL(cfg_outage_parse(names[i], &o), 0);
		CU_ASSERT_EQUAL(o, (enum cfg_outage)i);
	}
	o = CFG_OUTAGE_OPEN;
	CU_ASSERT_EQUAL(cfg_outage_parse("Static", &o), -EINVAL);
	CU_ASSERT_EQUAL(cfg_outage_parse("", &o), -EINVAL);
	CU_ASSERT_EQUAL(o, CFG_OUTAGE_OPEN);
	CU_ASSERT_STRING_EQUAL(cfg_outage_name(CFG_OUTAGE_MAX), "?");
}

/* ---- defaults ---- */

static void assert_kafka_defaults(const struct cfg_kafka *k)
{
	CU_ASSERT_STRING_EQUAL(k->sync_topic, "tidegate.sync");
	CU_ASSERT_STRING_EQUAL(k->control_topic, "tidegate.control");
	CU_ASSERT_DOUBLE_EQUAL(k->sync_interval_s, 0.1, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->lease_s, 1.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->startup_timeout_s, 10.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->demand_headroom, 1.05, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->lag_interval_s, 1.0, 1e-12);
	CU_ASSERT_EQUAL(k->outage, CFG_OUTAGE_STATIC);
	CU_ASSERT_EQUAL(k->expected_nodes, 0);
	CU_ASSERT_EQUAL(k->partitions, 1);
	CU_ASSERT_EQUAL(k->replication, 1);
	CU_ASSERT_EQUAL(k->n_props, 0);
	CU_ASSERT_EQUAL(k->n_lag, 0);
}

static void test_init_defaults(void)
{
	struct cfg c;

	cfg_init(&c);
	CU_ASSERT_FALSE(c.kafka.enabled);
	CU_ASSERT_STRING_EQUAL(c.kafka.node, "");
	CU_ASSERT_STRING_EQUAL(c.kafka.brokers, "");
	assert_kafka_defaults(&c.kafka);
	cfg_free(&c);
}

static void test_no_kafka_section(void)
{
	struct cfg c;
	int rc = load("none.cfg", mk("", "", "", ""), &c);

	CHECK(rc == 0, "rc %d: %s", rc, g_err);
	CU_ASSERT_FALSE(c.kafka.enabled);
	CU_ASSERT_STRING_EQUAL(c.kafka.node, "");
	assert_kafka_defaults(&c.kafka);
	CU_ASSERT_STRING_EQUAL(c.pipelines[0].global.shared, "");
	CU_ASSERT_STRING_EQUAL(c.pipelines[0].topics[0].shared, "");
	CU_ASSERT_EQUAL(c.pipelines[0].global.shared_line, 0);
	cfg_free(&c);
}

static void test_minimal_kafka_defaults(void)
{
	char host[HOST_NAME_MAX + 1], *dot;
	const char *text = mk("", "", "", kafka(""));
	struct cfg c;
	int rc;

	CU_ASSERT_FATAL(gethostname(host, sizeof(host)) == 0);
	host[sizeof(host) - 1] = '\0';
	if ((dot = strchr(host, '.')))
		*dot = '\0';
	rc = load("min.cfg", text, &c);
	if (strlen(host) < CFG_NAME_LEN && sr_id_valid(host)) {
		CHECK(rc == 0, "rc %d: %s", rc, g_err);
		CU_ASSERT_TRUE(c.kafka.enabled);
		CU_ASSERT_STRING_EQUAL(c.kafka.brokers, "127.0.0.1:19092");
		/* the node defaults to the host name, up to its first '.' */
		CU_ASSERT_STRING_EQUAL(c.kafka.node, host);
		CU_ASSERT_EQUAL(c.kafka.line, line_of(text, "kafka = {"));
		assert_kafka_defaults(&c.kafka);
	} else {
		/* a host name that is no id: the error says what to do */
		CHECK(rc == -EINVAL && strstr(g_err, "set kafka.node"),
		      "host '%s': rc %d: %s", host, rc, g_err);
	}
	cfg_free(&c);
}

/* ---- every setting ---- */

static void test_all_fields(void)
{
	const char *text =
	    mk("shared = \"g.main\";", "shared = \"orders@eu/1:x_y-z\";", "",
	       KAFKA_FULL);
	const struct cfg_kafka *k;
	struct cfg c;
	int rc = load("full.cfg", text, &c);

	CHECK(rc == 0, "rc %d: %s", rc, g_err);
	if (rc)
		goto out;
	k = &c.kafka;
	CU_ASSERT_TRUE(k->enabled);
	CU_ASSERT_STRING_EQUAL(k->brokers, "10.0.0.1:9092,10.0.0.2:9092");
	CU_ASSERT_STRING_EQUAL(k->node, "edge-1");
	CU_ASSERT_STRING_EQUAL(k->sync_topic, "tg.sync");
	CU_ASSERT_STRING_EQUAL(k->control_topic, "tg.control");
	CU_ASSERT_DOUBLE_EQUAL(k->sync_interval_s, 0.2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->lease_s, 2.0, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->startup_timeout_s, 5.5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->demand_headroom, 1.2, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(k->lag_interval_s, 0.5, 1e-12);
	CU_ASSERT_EQUAL(k->outage, CFG_OUTAGE_CLOSED);
	CU_ASSERT_EQUAL(k->partitions, 12);
	CU_ASSERT_EQUAL(k->replication, 3);
	CU_ASSERT_EQUAL(k->expected_nodes, 5);
	CU_ASSERT_EQUAL_FATAL(k->n_props, 3);
	CU_ASSERT_STRING_EQUAL(k->props[0], "security.protocol=SASL_SSL");
	CU_ASSERT_STRING_EQUAL(k->props[1], "sasl.mechanisms=PLAIN");
	CU_ASSERT_STRING_EQUAL(k->props[2], "sasl.password=");
	CU_ASSERT_EQUAL_FATAL(k->n_lag, 2);
	CU_ASSERT_EQUAL(k->lag[0].pipeline, 1);
	CU_ASSERT_STRING_EQUAL(k->lag[0].group, "billing");
	CU_ASSERT_STRING_EQUAL(k->lag[0].topic, "orders");
	CU_ASSERT_EQUAL(k->lag[0].line, line_of(text, "group = \"billing\""));
	CU_ASSERT_EQUAL(k->lag[1].pipeline, 0);
	CU_ASSERT_STRING_EQUAL(k->lag[1].group, "audit group");
	CU_ASSERT_STRING_EQUAL(k->lag[1].topic, "audit-log");
	CU_ASSERT_EQUAL(k->lease_line, line_of(text, "lease = 2"));
	CU_ASSERT_STRING_EQUAL(c.pipelines[0].global.shared, "g.main");
	CU_ASSERT_EQUAL(c.pipelines[0].global.shared_line,
			line_of(text, "shared = \"g.main\""));
	CU_ASSERT_STRING_EQUAL(c.pipelines[0].topics[0].shared,
			       "orders@eu/1:x_y-z");
	CU_ASSERT_STRING_EQUAL(c.pipelines[0].consumers.bucket.shared, "");
	CU_ASSERT_STRING_EQUAL(c.pipelines[1].global.shared, "");
	/* each outage policy by name */
	cfg_free(&c);
	rc =
	    load("open.cfg", mk("", "", "", kafka("  outage = \"open\";")), &c);
	CHECK(rc == 0, "rc %d: %s", rc, g_err);
	CU_ASSERT_EQUAL(c.kafka.outage, CFG_OUTAGE_OPEN);
	cfg_free(&c);
	rc = load("static.cfg",
		  mk("", "", "",
		     kafka("  outage = \"static\";\n"
			   "  sync_interval = 0.01;\n"
			   "  lease = 600;\n"
			   "  startup_timeout = 0;\n"
			   "  demand_headroom = 2;\n"
			   "  lag_interval = 3600;\n"
			   "  partitions = 1024;\n"
			   "  replication = 32;")),
		  &c);
	CHECK(rc == 0, "the ranges' ends: rc %d: %s", rc, g_err);
	CU_ASSERT_EQUAL(c.kafka.outage, CFG_OUTAGE_STATIC);
	CU_ASSERT_EQUAL(c.kafka.partitions, 1024);
	CU_ASSERT_EQUAL(c.kafka.replication, 32);
out:
	cfg_free(&c);
}

/* A shared id may be a whole 31-character name; an id is not a bucket
 * name, so two nodes' different bucket names may share one id. */
static void test_shared_longest(void)
{
	struct cfg c;
	int rc = load("long.cfg",
		      mk("shared = \"abcdefghijklmnopqrstuvwxyz01234\";", "",
			 "", kafka("")),
		      &c);

	CHECK(rc == 0, "rc %d: %s", rc, g_err);
	CU_ASSERT_EQUAL(strlen(c.pipelines[0].global.shared), 31);
	cfg_free(&c);
}

/* ---- errors: file, line, setting ---- */

static void test_err_shared(void)
{
	const char *k = kafka("");

	EXPECT_ERR("shared on the consumer tier",
		   mk("", "", "shared = \"c1\";", k), "shared = \"c1\"",
		   "pipelines.main.consumers.shared",
		   "shared: only global and topic buckets can be shared");
	EXPECT_ERR("a shared id with a space",
		   mk("shared = \"a b\";", "", "", k), "shared = \"a b\"",
		   "pipelines.main.global.shared", "is not a valid id");
	EXPECT_ERR("a shared id with a comma",
		   mk("", "shared = \"x,y\";", "", k), "shared = \"x,y\"",
		   "topics.orders.shared", "is not a valid id");
	EXPECT_ERR(
	    "a shared id too long for the model",
	    mk("shared = \"abcdefghijklmnopqrstuvwxyz012345\";", "", "", k),
	    "shared = ", "pipelines[main].global.shared",
	    "must be 1 to 31 characters");
	EXPECT_ERR("an empty shared id", mk("", "shared = \"\";", "", k),
		   "shared = ", "pipelines[main].topics[orders].shared",
		   "must be 1 to 31 characters");
	EXPECT_ERR("a shared id that is not a string",
		   mk("shared = 5;", "", "", k), "shared = 5",
		   "pipelines[main].global.shared", "must be a string");
	EXPECT_ERR("one shared id on two buckets",
		   mk("shared = \"s1\";", "shared = \"s1\"; # again", "", k),
		   "# again", "topics.orders.shared",
		   "'s1' is already the shared id of bucket 'main/global'");
	EXPECT_ERR("a shared bucket without a kafka section",
		   mk("shared = \"s1\";", "", "", ""), "shared = \"s1\"",
		   "pipelines.main.global.shared",
		   "shared: needs a kafka section");
}

static void test_err_kafka_values(void)
{
	static const struct {
		const char *what, *lines, *marker, *path, *says;
	} cases[] = {
	    {"an invalid node id", "  node = \"a,b\";", "node =", "kafka.node",
	     "is not a valid node id"},
	    {"an empty node id", "  node = \"\";", "node =", "kafka.node",
	     "must be 1 to 31 characters"},
	    {"a node id too long",
	     "  node = \"abcdefghijklmnopqrstuvwxyz012345\";",
	     "node =", "kafka.node", "must be 1 to 31 characters"},
	    {"one topic for sync and control",
	     "  sync_topic = \"tg\";\n  control_topic = \"tg\";",
	     "control_topic =", "kafka.control_topic",
	     "must differ from sync_topic"},
	    {"the control topic named like the default sync topic",
	     "  control_topic = \"tidegate.sync\";", "control_topic =",
	     "kafka.control_topic", "must differ from sync_topic"},
	    {"a sync topic that is no Kafka topic name",
	     "  sync_topic = \"a b\";", "sync_topic =", "kafka.sync_topic",
	     "is not a Kafka topic name"},
	    {"an empty control topic", "  control_topic = \"\";",
	     "control_topic =", "kafka.control_topic",
	     "must be 1 to 255 characters"},
	    {"a lease equal to the sync interval",
	     "  sync_interval = 0.5;\n  lease = 0.5;", "lease =", "kafka.lease",
	     "must be longer than sync_interval"},
	    {"a lease shorter than the default sync interval",
	     "  lease = 0.05;", "lease =", "kafka.lease",
	     "must be longer than sync_interval"},
	    {"a lease too long", "  lease = 601;", "lease =", "kafka.lease",
	     "(sync_interval, 600]"},
	    {"a sync interval too short", "  sync_interval = 0.005;",
	     "sync_interval =", "kafka.sync_interval", "[0.01, 60]"},
	    {"a sync interval too long",
	     "  sync_interval = 61;\n  lease = 100;",
	     "sync_interval =", "kafka.sync_interval", "[0.01, 60]"},
	    {"a sync interval that is a string", "  sync_interval = \"fast\";",
	     "sync_interval =", "kafka.sync_interval", "must be a number"},
	    {"a negative startup timeout", "  startup_timeout = -1;",
	     "startup_timeout =", "kafka.startup_timeout", "[0, 3600]"},
	    {"a startup timeout too long", "  startup_timeout = 3601.0;",
	     "startup_timeout =", "kafka.startup_timeout", "[0, 3600]"},
	    {"a demand headroom below 1", "  demand_headroom = 0.99;",
	     "demand_headroom =", "kafka.demand_headroom", "[1, 2]"},
	    {"a demand headroom above 2", "  demand_headroom = 2.01;",
	     "demand_headroom =", "kafka.demand_headroom", "[1, 2]"},
	    {"a lag interval too short", "  lag_interval = 0.05;",
	     "lag_interval =", "kafka.lag_interval", "[0.1, 3600]"},
	    {"a lag interval too long", "  lag_interval = 3601;",
	     "lag_interval =", "kafka.lag_interval", "[0.1, 3600]"},
	    {"a negative expected node count", "  expected_nodes = -1;",
	     "expected_nodes =", "kafka.expected_nodes", "out of range"},
	    {"0 partitions", "  partitions = 0;",
	     "partitions =", "kafka.partitions", "out of range (1..1024)"},
	    {"too many partitions", "  partitions = 1025;",
	     "partitions =", "kafka.partitions", "out of range (1..1024)"},
	    {"fractional partitions", "  partitions = 1.5;",
	     "partitions =", "kafka.partitions", "must be a whole number"},
	    {"a replication of 0", "  replication = 0;",
	     "replication =", "kafka.replication", "out of range (1..32)"},
	    {"a replication too high", "  replication = 33;",
	     "replication =", "kafka.replication", "out of range (1..32)"},
	    {"an unknown outage policy", "  outage = \"fail\";",
	     "outage =", "kafka.outage",
	     "'fail' is not an outage policy (static, open or closed)"},
	    {"an unknown setting", "  leese = 1.0;", "leese", "kafka.leese",
	     "unknown setting (known here: brokers"},
	};
	unsigned i;

	for (i = 0; i < N_OF(cases); i++)
		EXPECT_ERR(cases[i].what, mk("", "", "", kafka(cases[i].lines)),
			   cases[i].marker, cases[i].path, cases[i].says);
}

static void test_err_kafka_section(void)
{
	char many[8192];
	size_t off;
	int i;

	EXPECT_ERR("no brokers",
		   mk("", "", "", "kafka = {\n  node = \"n1\";\n};\n"),
		   "kafka = {", "kafka.brokers", "is required");
	EXPECT_ERR("empty brokers",
		   mk("", "", "", "kafka = {\n  brokers = \"\";\n};\n"),
		   "brokers =", "kafka.brokers", "must be 1 to 255 characters");
	off = (size_t)snprintf(many, sizeof(many), "kafka = {\n  brokers = \"");
	for (i = 0; i < 256; i++)
		many[off++] = 'b';
	snprintf(many + off, sizeof(many) - off, "\";\n};\n");
	EXPECT_ERR("brokers too long for the model", mk("", "", "", many),
		   "brokers =", "kafka.brokers", "must be 1 to 255 characters");
	EXPECT_ERR("kafka that is not a group", mk("", "", "", "kafka = 5;\n"),
		   "kafka = 5", "kafka", "must be a group");
}

static void test_err_properties(void)
{
	static const struct {
		const char *what, *prop, *says;
	} cases[] = {
	    {"no '='", "linger.ms", "must be \"name=value\" (no '=')"},
	    {"no name", "=5", "must be \"name=value\" (no name)"},
	    {"a space before the name", " linger.ms=5",
	     "no spaces in the name, none around the '='"},
	    {"a space before the '='", "linger.ms =5",
	     "no spaces in the name, none around the '='"},
	    {"a space after the '='", "linger.ms= 5",
	     "no spaces in the name, none around the '='"},
	    {"a space in the name", "linger ms=5",
	     "no spaces in the name, none around the '='"},
	    {"the brokers as a property", "bootstrap.servers=h:1",
	     "give the brokers as kafka.brokers"},
	    /* librdkafka's own check, at load time */
	    {"a property librdkafka does not know", "no.such.thing=1",
	     "no.such.thing: No such configuration property"},
	    {"a value librdkafka refuses", "linger.ms=soon",
	     "linger.ms: Invalid value"},
	};
	char lines[8192];
	size_t off;
	unsigned i;

	for (i = 0; i < N_OF(cases); i++) {
		snprintf(lines, sizeof(lines),
			 "  properties = ( \"acks=all\",\n"
			 "    \"%s\" );",
			 cases[i].prop);
		EXPECT_ERR(cases[i].what, mk("", "", "", kafka(lines)),
			   cases[i].prop, "kafka.properties[1]", cases[i].says);
	}
	/* the value may be a secret: an error names the property only */
	EXPECT_ERR("a password after a space",
		   mk("", "", "",
		      kafka("  properties = ( \"sasl.password= hunter2\" );")),
		   "hunter2", "kafka.properties[0]",
		   "'sasl.password': no spaces");
	CHECK(!strstr(g_err, "hunter2"), "the error shows the value: %s",
	      g_err);
	EXPECT_ERR("a property that is not a string",
		   mk("", "", "",
		      kafka("  properties = ( \"acks=all\",\n"
			    "    42 );")),
		   "42 )", "kafka.properties[1]", "must be a string");
	EXPECT_ERR("properties that are not a list",
		   mk("", "", "", kafka("  properties = \"acks=all\";")),
		   "properties =", "kafka.properties", "must be a list");
	EXPECT_ERR("a property set twice",
		   mk("", "", "",
		      kafka("  properties = ( \"acks=all\",\n"
			    "    \"acks=1\" );")),
		   "\"acks=1\"", "kafka.properties[1]", "'acks' is set twice");
	off = (size_t)snprintf(lines, sizeof(lines), "  properties = (\n");
	for (i = 0; i <= CFG_KAFKA_MAX_PROPS; i++)
		off += (size_t)snprintf(lines + off, sizeof(lines) - off,
					"    \"p%u=1\"%s\n", i,
					i < CFG_KAFKA_MAX_PROPS ? "," : "");
	snprintf(lines + off, sizeof(lines) - off, "  );");
	EXPECT_ERR("too many properties", mk("", "", "", kafka(lines)),
		   "properties = (", "kafka.properties", "at most 64");
}

static void test_err_lag(void)
{
	char lines[8192];
	size_t off;
	unsigned i;

	EXPECT_ERR("a lag source naming no pipeline",
		   mk("", "", "",
		      kafka("  lag = ( { pipeline = \"nope\"; "
			    "group = \"g\"; topic = \"t\"; } );")),
		   "lag = (", "kafka.lag[0].pipeline",
		   "no pipeline is named 'nope'");
	EXPECT_ERR("a lag source without a group",
		   mk("", "", "",
		      kafka("  lag = (\n"
			    "    { pipeline = \"main\"; topic = "
			    "\"t\"; } );")),
		   "pipeline = \"main\"", "kafka.lag[0]",
		   "'group' is required");
	EXPECT_ERR("a lag source without a topic",
		   mk("", "", "",
		      kafka("  lag = (\n"
			    "    { pipeline = \"main\"; group = "
			    "\"g\"; } );")),
		   "pipeline = \"main\"", "kafka.lag[0]",
		   "'topic' is required");
	EXPECT_ERR("a lag source with an empty group",
		   mk("", "", "",
		      kafka("  lag = ( { pipeline = \"main\";\n"
			    "    group = \"\"; topic = \"t\"; } );")),
		   "group = \"\"", "kafka.lag[0].group",
		   "must be 1 to 255 characters");
	EXPECT_ERR("a lag source with an empty topic",
		   mk("", "", "",
		      kafka("  lag = ( { pipeline = \"main\";\n"
			    "    group = \"g\";\n"
			    "    topic = \"\"; } );")),
		   "topic = \"\"", "kafka.lag[0].topic",
		   "must be 1 to 255 characters");
	EXPECT_ERR("a lag source whose topic is no Kafka topic name",
		   mk("", "", "",
		      kafka("  lag = ( { pipeline = \"main\"; "
			    "group = \"g\"; topic = \"t\"; },\n"
			    "    { pipeline = \"main\"; group = "
			    "\"g\"; topic = \"a/b\"; } );")),
		   "\"a/b\"", "kafka.lag[1].topic",
		   "is not a Kafka topic name");
	EXPECT_ERR("a lag source with an unknown setting",
		   mk("", "", "",
		      kafka("  lag = ( { pipeline = \"main\"; "
			    "group = \"g\";\n"
			    "    topics = \"t\"; } );")),
		   "topics = \"t\"", "kafka.lag[0].topics", "unknown setting");
	EXPECT_ERR("a lag source that is not a group",
		   mk("", "", "", kafka("  lag = ( \"main\" );")), "lag = (",
		   "kafka.lag[0]", "must be a group");
	off = (size_t)snprintf(lines, sizeof(lines), "  lag = (\n");
	for (i = 0; i <= CFG_KAFKA_MAX_LAG; i++)
		off += (size_t)snprintf(
		    lines + off, sizeof(lines) - off,
		    "    { pipeline = \"main\"; group = \"g%u\"; topic = "
		    "\"t\"; }%s\n",
		    i, i < CFG_KAFKA_MAX_LAG ? "," : "");
	snprintf(lines + off, sizeof(lines) - off, "  );");
	EXPECT_ERR("too many lag sources", mk("", "", "", kafka(lines)),
		   "lag = (", "kafka.lag", "at most 16");
}

/* Checks of the model that a file cannot reach (the loader refuses first
 * or fills the value in): cfg_validate() on its own, with the lines. */
static void test_validate_model(void)
{
	const char *text = mk("", "", "", KAFKA_FULL);
	struct cfg_error e;
	struct cfg c;
	int rc = load("model.cfg", text, &c);

	CHECK(rc == 0, "rc %d: %s", rc, g_err);
	if (rc)
		goto out;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), 0);

	c.kafka.node[0] = '\0';
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "node ="));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "kafka.node: '' is not a valid"));
	snprintf(c.kafka.node, sizeof(c.kafka.node), "edge-1");

	c.kafka.brokers[0] = '\0';
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "brokers ="));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "kafka.brokers: is required"));
	c.kafka.brokers_line = 0; /* not in the file: the section's line */
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "kafka = {"));
	snprintf(c.kafka.brokers, sizeof(c.kafka.brokers), "h:1");

	c.kafka.lag[1].group[0] = '\0';
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "group = \"audit group\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(e.msg, "kafka.lag[1].group: must not be empty"));
	c.kafka.lag[1].group[0] = 'g';

	c.kafka.lag[0].pipeline = 2;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "group = \"billing\""));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(e.msg, "kafka.lag[0].pipeline: no such pipeline"));
	c.kafka.lag[0].pipeline = 1;

	c.kafka.outage = CFG_OUTAGE_MAX;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "outage ="));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "kafka.outage"));
	c.kafka.outage = CFG_OUTAGE_OPEN;

	c.kafka.partitions = 0;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "partitions ="));
	c.kafka.partitions = 1;
	c.kafka.replication = 33;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, line_of(text, "replication ="));
	c.kafka.replication = 1;

	/* a disabled section is not checked (its values are the defaults
	 * or leftovers), but shared buckets need it */
	c.kafka.enabled = false;
	c.kafka.lease_s = 0;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), 0);
	snprintf(c.pipelines[1].global.shared,
		 sizeof(c.pipelines[1].global.shared), "s");
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_EQUAL(e.line, c.pipelines[1].global.line);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "pipelines.side.global.shared: "
					     "needs a kafka section"));
	c.kafka.enabled = true;
	c.kafka.lease_s = 1;
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), 0);
	/* one id on buckets of two pipelines is one node's two buckets */
	snprintf(c.pipelines[0].global.shared,
		 sizeof(c.pipelines[0].global.shared), "s");
	CU_ASSERT_EQUAL(cfg_validate(&c, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "pipelines.side.global.shared: "
					     "'s' is already the shared id "
					     "of bucket 'main/global'"));
out:
	cfg_free(&c);
}

/* ---- reload ---- */

static void expect_reload(unsigned at, const char *what, const char *a,
			  const char *b, const char *says)
{
	struct cfg ca, cb;
	int ra, rb;

	ra = load("cur.cfg", a, &ca);
	check(ra == 0, at, __FILE__, "%s: cur: %s", what, g_err);
	rb = load("next.cfg", b, &cb);
	check(rb == 0, at, __FILE__, "%s: next: %s", what, g_err);
	if (ra == 0 && rb == 0) {
		char err[CFG_ERR_LEN] = "";
		int rc = cfg_reloadable(&ca, &cb, err, sizeof(err));

		if (says)
			check(rc == -EINVAL && strstr(err, says) &&
				  strstr(err, "changed: needs a restart"),
			      at, __FILE__, "%s: rc %d, '%s' (want '%s')", what,
			      rc, err, says);
		else
			check(rc == 0, at, __FILE__, "%s: rc %d, '%s'", what,
			      rc, err);
	}
	cfg_free(&ca);
	cfg_free(&cb);
}
#define EXPECT_RELOAD(...) expect_reload(__LINE__, __VA_ARGS__)

static void test_reload(void)
{
	/* lines added to a section of brokers and node "edge-1" */
	static const struct {
		const char *what, *lines, *says;
	} kcases[] = {
	    {"sync topic", "  sync_topic = \"x.sync\";", "kafka.sync_topic"},
	    {"control topic", "  control_topic = \"x.control\";",
	     "kafka.control_topic"},
	    {"sync interval", "  sync_interval = 0.2;", "kafka.sync_interval"},
	    {"lease", "  lease = 2.0;", "kafka.lease"},
	    {"startup timeout", "  startup_timeout = 1;",
	     "kafka.startup_timeout"},
	    {"headroom", "  demand_headroom = 1.1;", "kafka.demand_headroom"},
	    {"lag interval", "  lag_interval = 2;", "kafka.lag_interval"},
	    {"outage", "  outage = \"open\";", "kafka.outage"},
	    {"partitions", "  partitions = 2;", "kafka.partitions"},
	    {"replication", "  replication = 2;", "kafka.replication"},
	    {"a property", "  properties = ( \"acks=1\" );",
	     "kafka.properties"},
	    {"a lag source",
	     "  lag = ( { pipeline = \"side\"; group = \"g\"; topic = "
	     "\"t\"; } );",
	     "kafka.lag"},
	};
	char base[sizeof(g_text)], moved[sizeof(g_text) + 16];
	unsigned i;

	snprintf(base, sizeof(base), "%s",
		 mk("shared = \"s1\";", "", "",
		    kafka("  node = \"edge-1\";\n"
			  "  properties = ( \"acks=all\" );\n"
			  "  lag = ( { pipeline = \"main\"; group = \"g\"; "
			  "topic = \"t\"; } );")));
	EXPECT_RELOAD("the same file", base, base, NULL);
	/* lines are not settings: the same section further down */
	snprintf(moved, sizeof(moved), "\n\n# moved\n%s", base);
	EXPECT_RELOAD("the same settings on other lines", base, moved, NULL);
	EXPECT_RELOAD("a rate (reloadable) beside an unchanged kafka section",
		      base,
		      mk("shared = \"s1\"; shadow = true;", "", "",
			 kafka("  node = \"edge-1\";\n"
			       "  properties = ( \"acks=all\" );\n"
			       "  lag = ( { pipeline = \"main\"; group = "
			       "\"g\"; topic = \"t\"; } );")),
		      NULL);
	EXPECT_RELOAD("a shared id changed", base,
		      mk("shared = \"s2\";", "", "",
			 kafka("  node = \"edge-1\";\n"
			       "  properties = ( \"acks=all\" );\n"
			       "  lag = ( { pipeline = \"main\"; group = "
			       "\"g\"; topic = \"t\"; } );")),
		      "a bucket's shared id");
	EXPECT_RELOAD("a topic made shared", base,
		      mk("shared = \"s1\";", "shared = \"s2\";", "",
			 kafka("  node = \"edge-1\";\n"
			       "  properties = ( \"acks=all\" );\n"
			       "  lag = ( { pipeline = \"main\"; group = "
			       "\"g\"; topic = \"t\"; } );")),
		      "a bucket's shared id");
	/* mk() writes one buffer: copy the first file before the second */
	snprintf(base, sizeof(base), "%s", mk("", "", "", kafka("")));
	EXPECT_RELOAD("the kafka section removed", base, mk("", "", "", ""),
		      "kafka (added or removed)");
	snprintf(base, sizeof(base), "%s", mk("", "", "", ""));
	EXPECT_RELOAD("the kafka section added", base,
		      mk("", "", "", kafka("")), "kafka (added or removed)");
	for (i = 0; i < N_OF(kcases); i++) {
		char lines[1024];

		snprintf(lines, sizeof(lines), "  node = \"edge-1\";\n%s",
			 kcases[i].lines);
		snprintf(base, sizeof(base), "%s",
			 mk("", "", "", kafka("  node = \"edge-1\";")));
		EXPECT_RELOAD(kcases[i].what, base,
			      mk("", "", "", kafka(lines)), kcases[i].says);
	}
	snprintf(base, sizeof(base), "%s",
		 mk("", "", "", kafka("  node = \"edge-1\";")));
	EXPECT_RELOAD("brokers", base,
		      mk("", "", "",
			 "kafka = { brokers = \"h:1\"; node = \"edge-1\"; };"),
		      "kafka.brokers");
	EXPECT_RELOAD("node", base,
		      mk("", "", "", kafka("  node = \"edge-2\";")),
		      "kafka.node");
}

int unit_register(void)
{
	CU_pSuite s = CU_add_suite("config", suite_init, suite_clean);

	if (!s)
		return CU_get_error();
	if (!CU_add_test(s, "outage names", test_outage_names) ||
	    !CU_add_test(s, "cfg_init defaults", test_init_defaults) ||
	    !CU_add_test(s, "no kafka section", test_no_kafka_section) ||
	    !CU_add_test(s, "minimal kafka section: defaults",
			 test_minimal_kafka_defaults) ||
	    !CU_add_test(s, "every kafka setting", test_all_fields) ||
	    !CU_add_test(s, "longest shared id", test_shared_longest) ||
	    !CU_add_test(s, "errors: shared", test_err_shared) ||
	    !CU_add_test(s, "errors: kafka values", test_err_kafka_values) ||
	    !CU_add_test(s, "errors: kafka section", test_err_kafka_section) ||
	    !CU_add_test(s, "errors: properties", test_err_properties) ||
	    !CU_add_test(s, "errors: lag sources", test_err_lag) ||
	    !CU_add_test(s, "cfg_validate on the model", test_validate_model) ||
	    !CU_add_test(s, "reload", test_reload))
		return CU_get_error();
	return CUE_SUCCESS;
}
