/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of the admin socket server (control/admin.c): the server runs in
 * this process, real client sockets drive it, and admin_poll() runs between
 * their steps (no threads). Framing, limits, slow and silent clients, many
 * clients, SO_PEERCRED checks (from a child that setuid()s to nobody, so
 * these tests need root), and the socket file's life. Sockets live in a
 * mkdtemp() directory that is removed at the end, failed tests included.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "admin.h"
#include "unit.h"

#define N_OF(x)	 (sizeof(x) / sizeof((x)[0]))
#define NOBODY	 65534 /* uid and gid of nobody/nogroup on Debian */
#define MAX_FDS	 256
#define MAX_ADMS 4

enum { CL_EOF = -1, CL_RESET = -2, CL_TIMEOUT = -3, CL_OVER = -4 };

static char g_dir[] = "/tmp/tg-admin-test-XXXXXX";
static bool g_have_dir;
static int g_fds[MAX_FDS];
static size_t g_nfds;
static struct admin *g_adms[MAX_ADMS];
static int64_t g_poll_max_late_ms; /* worst admin_poll() overrun */

/* What the handler saw. */
static struct {
	int calls;
	char last[8192];
	uid_t last_uid;
} g_h;

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
	/* A child running as nobody must reach sockets in here. */
	return chmod(g_dir, 0711);
}

static int suite_clean(void)
{
	if (g_have_dir && nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
		return -1;
	g_have_dir = false;
	return 0;
}

static void test_setup(void)
{
	memset(&g_h, 0, sizeof(g_h));
	g_poll_max_late_ms = 0;
}

/* Closes what a failed (longjmp'ed out) test left open. */
static void test_teardown(void)
{
	size_t i;

	for (i = 0; i < g_nfds; i++)
		close(g_fds[i]);
	g_nfds = 0;
	for (i = 0; i < MAX_ADMS; i++) {
		admin_close(g_adms[i]);
		g_adms[i] = NULL;
	}
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
}

/* ---- the handler ---- */

static json_t *big_reply(size_t n)
{
	char *s = malloc(n);
	json_t *o;

	if (!s)
		return NULL;
	memset(s, 'x', n);
	o = json_pack("{s:s%}", "big", s, n);
	free(s);
	return o;
}

/*
 * Echoes the line as {"echo": line, "uid": peer uid}; a few lines do other
 * things: "bad" an error, "big N" a reply of N bytes, "none" no reply,
 * "twice" two replies, "int" and "latin1" replies JSON cannot encode as a
 * line, "err X" an error whose message is X.
 */
static void handler(void *ctx, struct admin_client *c, const char *line)
{
	(void)ctx;
	g_h.calls++;
	snprintf(g_h.last, sizeof(g_h.last), "%s", line);
	g_h.last_uid = admin_client_uid(c);
	if (!strcmp(line, "bad")) {
		admin_reply_error(c, "unknown command '%s'", line);
	} else if (!strncmp(line, "big ", 4)) {
		admin_reply(c, big_reply(strtoul(line + 4, NULL, 10)));
	} else if (!strcmp(line, "none")) {
		return;
	} else if (!strcmp(line, "twice")) {
		admin_reply(c, json_pack("{s:i}", "n", 1));
		admin_reply(c, json_pack("{s:i}", "n", 2));
	} else if (!strcmp(line, "int")) {
		admin_reply(c, json_integer(1));
	} else if (!strcmp(line, "latin1")) {
		admin_reply(c, json_pack("{s:o}", "s",
					 json_stringn_nocheck("\xe9t\xe9", 3)));
	} else if (!strncmp(line, "err ", 4)) {
		admin_reply_error(c, "%s", line + 4);
	} else {
		/* NULL when line is not UTF-8: admin_reply() copes. */
		admin_reply(c, json_pack("{s:s,s:i}", "echo", line, "uid",
					 (int)admin_client_uid(c)));
	}
}

/* ---- server and client helpers ---- */

static struct admin *adm_open(const struct admin_opts *o, char *err, size_t len)
{
	struct admin *a = admin_open(o, handler, NULL, err, len);
	size_t i;

	for (i = 0; a && i < MAX_ADMS; i++) {
		if (!g_adms[i]) {
			g_adms[i] = a;
			break;
		}
	}
	return a;
}

static void adm_close(struct admin *a)
{
	size_t i;

	for (i = 0; i < MAX_ADMS; i++)
		if (g_adms[i] == a)
			g_adms[i] = NULL;
	admin_close(a);
}

static struct admin *adm_open_at(const char *name, struct admin_opts *o)
{
	static char path[200];
	struct admin_opts def = {0};
	char err[256];

	path_of(path, sizeof(path), name);
	if (!o)
		o = &def;
	o->path = path;
	return adm_open(o, err, sizeof(err));
}

/* admin_poll(), noting by how much it overran its timeout. */
static int srv_poll(struct admin *a, int timeout_ms)
{
	int64_t t0 = mono_ms(), late;
	int n = admin_poll(a, timeout_ms);

	late = mono_ms() - t0 - timeout_ms;
	if (late > g_poll_max_late_ms)
		g_poll_max_late_ms = late;
	return n;
}

static void srv_run(struct admin *a, int calls)
{
	while (calls-- > 0)
		srv_poll(a, 1);
}

static int track(int fd)
{
	if (fd >= 0 && g_nfds < MAX_FDS)
		g_fds[g_nfds++] = fd;
	return fd;
}

static void cl_close(int fd)
{
	size_t i;

	for (i = 0; i < g_nfds; i++) {
		if (g_fds[i] == fd) {
			g_fds[i] = g_fds[--g_nfds];
			break;
		}
	}
	close(fd);
}

/* A non-blocking client socket connected to path, or -1. */
static int cl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	size_t n = strlen(path);

	if (fd < 0)
		return -1;
	if (n >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, n + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return track(fd);
}

static int cl_connect_to(const char *name)
{
	char path[200];

	path_of(path, sizeof(path), name);
	return cl_connect(path);
}

/* Sends all of buf, serving a meanwhile when the socket is full. */
static bool cl_send(struct admin *a, int fd, const void *buf, size_t len)
{
	const char *p = buf;
	int64_t end = mono_ms() + 3000;
	ssize_t w;

	while (len && mono_ms() < end) {
		w = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			len -= (size_t)w;
		} else if (w < 0 && errno != EAGAIN) {
			return false;
		} else {
			srv_poll(a, 1);
		}
	}
	return len == 0;
}

static bool cl_sends(struct admin *a, int fd, const char *s)
{
	return cl_send(a, fd, s, strlen(s));
}

/*
 * Reads one line (its "\n" dropped) into buf, serving a meanwhile, for up
 * to 3 s. Returns its length, or CL_EOF, CL_RESET, CL_TIMEOUT, or CL_OVER
 * when it does not fit.
 */
static int cl_line(struct admin *a, int fd, char *buf, size_t cap)
{
	int64_t end = mono_ms() + 3000;
	size_t n = 0;
	ssize_t r;
	char ch;

	while (mono_ms() < end) {
		r = recv(fd, &ch, 1, MSG_DONTWAIT);
		if (r == 1) {
			if (ch == '\n') {
				buf[n] = '\0';
				return (int)n;
			}
			if (n + 1 >= cap)
				return CL_OVER;
			buf[n++] = ch;
		} else if (r == 0) {
			return CL_EOF;
		} else if (errno != EAGAIN) {
			return CL_RESET;
		} else if (a) {
			srv_poll(a, 2);
		} else {
			poll(NULL, 0, 2);
		}
	}
	return CL_TIMEOUT;
}

/* Does the JSON object in line have member key equal to the string val? */
static bool json_is(const char *line, const char *key, const char *val)
{
	json_t *o = json_loads(line, 0, NULL);
	json_t *v = json_object_get(o, key);
	bool ok = json_is_string(v) && !strcmp(json_string_value(v), val);

	json_decref(o);
	return ok;
}

/* Is the next line from fd {"echo": want, ...}? */
static bool cl_echo_is(struct admin *a, int fd, const char *want)
{
	static char buf[16384];

	return cl_line(a, fd, buf, sizeof(buf)) >= 0 &&
	       json_is(buf, "echo", want);
}

/* Is the next line from fd {"error": want}, exactly? */
static bool cl_error_is(struct admin *a, int fd, const char *want)
{
	char buf[1024];
	json_t *o;
	bool ok;

	if (cl_line(a, fd, buf, sizeof(buf)) < 0)
		return false;
	o = json_loads(buf, 0, NULL);
	ok = json_object_size(o) == 1 && json_is(buf, "error", want);
	json_decref(o);
	return ok;
}

/* A send + receive round trip of "ping". */
static bool cl_ping(struct admin *a, int fd)
{
	return cl_sends(a, fd, "ping\n") && cl_echo_is(a, fd, "ping");
}

/* ---- framing ---- */

static void test_round_trip(void)
{
	struct admin *a = adm_open_at("rt.sock", NULL);
	char path[200], buf[256];
	struct stat st;
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	path_of(path, sizeof(path), "rt.sock");
	CU_ASSERT_FATAL(lstat(path, &st) == 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	fd = cl_connect(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "hello\n"));
	CU_ASSERT_FATAL(cl_line(a, fd, buf, sizeof(buf)) > 0);
	CU_ASSERT(json_is(buf, "echo", "hello"));
	CU_ASSERT_EQUAL(g_h.calls, 1);
	CU_ASSERT_STRING_EQUAL(g_h.last, "hello");
	CU_ASSERT_EQUAL(g_h.last_uid, geteuid());
	CU_ASSERT_EQUAL(admin_n_clients(a), 1);
	/* An error reply is one member, "error". */
	CU_ASSERT(cl_sends(a, fd, "bad\n"));
	CU_ASSERT(cl_error_is(a, fd, "unknown command 'bad'"));
	/* The connection stays usable after an error. */
	CU_ASSERT(cl_ping(a, fd));
	cl_close(fd);
	srv_run(a, 3);
	CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	adm_close(a);
	admin_close(NULL);
}

static void test_two_in_one_write(void)
{
	struct admin *a = adm_open_at("two.sock", NULL);
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("two.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "one\ntwo\n"));
	CU_ASSERT(cl_echo_is(a, fd, "one"));
	CU_ASSERT(cl_echo_is(a, fd, "two"));
	CU_ASSERT_EQUAL(g_h.calls, 2);
	adm_close(a);
}

static void test_split_over_three_writes(void)
{
	struct admin *a = adm_open_at("split.sock", NULL);
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("split.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "spl"));
	srv_run(a, 3);
	CU_ASSERT(cl_sends(a, fd, "it req"));
	srv_run(a, 3);
	CU_ASSERT_EQUAL(g_h.calls, 0);
	CU_ASSERT(cl_sends(a, fd, "uest\n"));
	CU_ASSERT(cl_echo_is(a, fd, "split request"));
	CU_ASSERT_EQUAL(g_h.calls, 1);
	adm_close(a);
}

static void test_empty_lines_ignored(void)
{
	struct admin *a = adm_open_at("empty.sock", NULL);
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("empty.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "\n\n\r\nx\n\n\r\n"));
	CU_ASSERT(cl_echo_is(a, fd, "x"));
	/* No reply came for the empty lines: the next one is y's. */
	CU_ASSERT(cl_sends(a, fd, "y\n"));
	CU_ASSERT(cl_echo_is(a, fd, "y"));
	CU_ASSERT_EQUAL(g_h.calls, 2);
	adm_close(a);
}

static void test_crlf(void)
{
	struct admin *a = adm_open_at("crlf.sock", NULL);
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("crlf.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "abc\r\n"));
	CU_ASSERT(cl_echo_is(a, fd, "abc"));
	CU_ASSERT_STRING_EQUAL(g_h.last, "abc");
	/* Only the "\r" before the newline goes. */
	CU_ASSERT(cl_sends(a, fd, "a\rb\r\n"));
	CU_ASSERT(cl_echo_is(a, fd, "a\rb"));
	CU_ASSERT_STRING_EQUAL(g_h.last, "a\rb");
	adm_close(a);
}

static void test_handler_gets_exact_line(void)
{
	static const char *const lines[] = {
	    "  leading and trailing  ",
	    "\ttabs\tinside\t",
	    "{\"cmd\":\"rate\",\"topic\":\"orders\",\"pps\":1000}",
	    "caf\xc3\xa9 \xe2\x82\xac",
	    "x",
	};
	struct admin *a = adm_open_at("exact.sock", NULL);
	char buf[256];
	size_t i;
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("exact.sock");
	CU_ASSERT_FATAL(fd >= 0);
	for (i = 0; i < N_OF(lines); i++) {
		snprintf(buf, sizeof(buf), "%s\n", lines[i]);
		CU_ASSERT(cl_sends(a, fd, buf));
		CU_ASSERT(cl_echo_is(a, fd, lines[i]));
		CU_ASSERT_STRING_EQUAL(g_h.last, lines[i]);
	}
	CU_ASSERT_EQUAL(g_h.calls, (int)N_OF(lines));
	adm_close(a);
}

/* ---- limits on lines ---- */

static void test_line_4096_accepted(void)
{
	struct admin *a = adm_open_at("l4096.sock", NULL);
	char *req = malloc(4096 + 3);
	int fd;

	CU_ASSERT_FATAL(a != NULL && req != NULL);
	fd = cl_connect_to("l4096.sock");
	CU_ASSERT(fd >= 0);
	memset(req, 'a', 4096);
	memcpy(req + 4096, "\n", 2);
	CU_ASSERT(cl_sends(a, fd, req));
	req[4096] = '\0';
	CU_ASSERT(cl_echo_is(a, fd, req));
	CU_ASSERT_EQUAL(strlen(g_h.last), 4096);
	/* The "\r" of a "\r\n" does not count either. */
	memset(req, 'b', 4096);
	memcpy(req + 4096, "\r\n", 3);
	CU_ASSERT(cl_sends(a, fd, req));
	req[4096] = '\0';
	CU_ASSERT(cl_echo_is(a, fd, req));
	CU_ASSERT(cl_ping(a, fd));
	CU_ASSERT_EQUAL(g_h.calls, 3);
	free(req);
	adm_close(a);
}

static void test_line_4097_refused(void)
{
	struct admin *a = adm_open_at("l4097.sock", NULL);
	char *req = malloc(10000);
	char buf[256];
	int fd;

	CU_ASSERT_FATAL(a != NULL && req != NULL);
	fd = cl_connect_to("l4097.sock");
	CU_ASSERT(fd >= 0);
	memset(req, 'a', 4097);
	memcpy(req + 4097, "\n", 2);
	CU_ASSERT(cl_sends(a, fd, req));
	CU_ASSERT(cl_error_is(a, fd, "request line longer than 4096 bytes"));
	/* Closed by the server: EOF, not a reset. */
	CU_ASSERT_EQUAL(cl_line(a, fd, buf, sizeof(buf)), CL_EOF);
	cl_close(fd);

	/* No newline at all, and more than fits: the same. */
	fd = cl_connect_to("l4097.sock");
	CU_ASSERT(fd >= 0);
	memset(req, 'c', 9999);
	req[9999] = '\0';
	CU_ASSERT(cl_sends(a, fd, req));
	CU_ASSERT(cl_error_is(a, fd, "request line longer than 4096 bytes"));
	CU_ASSERT_EQUAL(cl_line(a, fd, buf, sizeof(buf)), CL_EOF);
	CU_ASSERT_EQUAL(g_h.calls, 0);
	srv_run(a, 2);
	CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	free(req);
	adm_close(a);
}

static void test_small_max_line(void)
{
	struct admin_opts o = {.max_line = 8};
	struct admin *a = adm_open_at("ml.sock", &o);
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("ml.sock");
	CU_ASSERT(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "12345678\n123456789\n"));
	CU_ASSERT(cl_echo_is(a, fd, "12345678"));
	CU_ASSERT(cl_error_is(a, fd, "request line longer than 8 bytes"));
	adm_close(a);
}

static void test_nul_byte(void)
{
	struct admin *a = adm_open_at("nul.sock", NULL);
	char buf[256];
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("nul.sock");
	CU_ASSERT(fd >= 0);
	/* The good request before it is served first. */
	CU_ASSERT(cl_send(a, fd, "ok\nab\0cd\nlater\n", 15));
	CU_ASSERT(cl_echo_is(a, fd, "ok"));
	CU_ASSERT(cl_error_is(a, fd, "request contains a NUL byte"));
	CU_ASSERT_EQUAL(cl_line(a, fd, buf, sizeof(buf)), CL_EOF);
	CU_ASSERT_EQUAL(g_h.calls, 1);
	adm_close(a);
}

/* ---- the handler's side of the contract ---- */

static void test_reply_contract(void)
{
	struct admin *a = adm_open_at("contract.sock", NULL);
	char buf[256];
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("contract.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "none\n"));
	CU_ASSERT(cl_error_is(a, fd, "internal: the command sent no reply"));
	/* A second reply is dropped: one line per request. */
	CU_ASSERT(cl_sends(a, fd, "twice\nping\n"));
	CU_ASSERT(cl_line(a, fd, buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "{\"n\":1}");
	CU_ASSERT(cl_echo_is(a, fd, "ping"));
	CU_ASSERT(cl_sends(a, fd, "int\n"));
	CU_ASSERT(cl_error_is(a, fd, "internal: reply not encodable"));
	CU_ASSERT(cl_sends(a, fd, "latin1\n"));
	CU_ASSERT(cl_error_is(a, fd, "internal: reply not encodable"));
	/* Not UTF-8: the handler's json_pack() fails, reply(NULL). */
	CU_ASSERT(cl_sends(a, fd, "\xff\xfe\n"));
	CU_ASSERT(cl_error_is(a, fd, "internal: reply not encodable"));
	CU_ASSERT_STRING_EQUAL(g_h.last, "\xff\xfe");
	/* An error message with such bytes keeps the rest readable. */
	CU_ASSERT(cl_sends(a, fd, "err bad \xff byte\n"));
	CU_ASSERT(cl_error_is(a, fd, "bad ? byte"));
	CU_ASSERT(cl_ping(a, fd));
	/* admin_reply outside a handler is dropped, not crashed on. */
	admin_reply(NULL, json_object());
	adm_close(a);
}

/* ---- clients that do not play along ---- */

static void test_silent_client_does_not_block(void)
{
	struct admin *a = adm_open_at("silent.sock", NULL);
	int silent, partial, active, i;
	int64_t t0, dt;

	CU_ASSERT_FATAL(a != NULL);
	silent = cl_connect_to("silent.sock");
	partial = cl_connect_to("silent.sock");
	active = cl_connect_to("silent.sock");
	CU_ASSERT_FATAL(silent >= 0 && partial >= 0 && active >= 0);
	CU_ASSERT(cl_sends(a, partial, "stat")); /* and never the rest */
	srv_run(a, 3);
	CU_ASSERT_EQUAL(admin_n_clients(a), 3);
	for (i = 0; i < 3; i++) {
		t0 = mono_ms();
		CU_ASSERT_EQUAL(admin_poll(a, 50), 0);
		dt = mono_ms() - t0;
		CU_ASSERT(dt < 150);
		CU_ASSERT(dt >= 45); /* it slept: nothing spins */
	}
	CU_ASSERT(cl_ping(a, active));
	t0 = mono_ms();
	admin_poll(a, 50);
	CU_ASSERT(mono_ms() - t0 < 150);
	CU_ASSERT_EQUAL(g_h.calls, 1);
	CU_ASSERT_EQUAL(admin_n_clients(a), 3);
	adm_close(a);
}

static void test_slow_reader_dropped(void)
{
	struct admin_opts o = {.max_out = 4096};
	struct admin *a = adm_open_at("slow.sock", &o);
	static const char req[] = "big 1000\n";
	char buf[4096];
	int slow, good, i;
	ssize_t r;

	CU_ASSERT_FATAL(a != NULL);
	good = cl_connect_to("slow.sock");
	slow = cl_connect_to("slow.sock");
	CU_ASSERT_FATAL(good >= 0 && slow >= 0);
	CU_ASSERT(cl_ping(a, good));
	CU_ASSERT_EQUAL(admin_n_clients(a), 2);
	/* Flood requests for 1 KB replies and never read one. */
	for (i = 0; i < 20000 && admin_n_clients(a) == 2; i++) {
		(void)send(slow, req, sizeof(req) - 1,
			   MSG_DONTWAIT | MSG_NOSIGNAL);
		CU_ASSERT(admin_poll(a, 0) >= 0);
	}
	CU_ASSERT_EQUAL(admin_n_clients(a), 1);
	CU_ASSERT(g_h.calls > 1);
	/* The others are still served. */
	CU_ASSERT(cl_ping(a, good));
	CU_ASSERT(cl_ping(a, good));
	/* And the slow one's socket is closed at the far end: reading it
	 * comes to an end (EOF or reset), never to "would block". */
	do
		r = recv(slow, buf, sizeof(buf), MSG_DONTWAIT);
	while (r > 0);
	CU_ASSERT(r == 0 || errno != EAGAIN);
	adm_close(a);
}

static void test_half_close(void)
{
	struct admin *a = adm_open_at("half.sock", NULL);
	char buf[256];
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("half.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "a\nb\n"));
	CU_ASSERT(shutdown(fd, SHUT_WR) == 0);
	CU_ASSERT(cl_echo_is(a, fd, "a"));
	CU_ASSERT(cl_echo_is(a, fd, "b"));
	CU_ASSERT_EQUAL(cl_line(a, fd, buf, sizeof(buf)), CL_EOF);
	cl_close(fd);

	/* A last line without its newline still counts at EOF. */
	fd = cl_connect_to("half.sock");
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(cl_sends(a, fd, "x\ny"));
	CU_ASSERT(shutdown(fd, SHUT_WR) == 0);
	CU_ASSERT(cl_echo_is(a, fd, "x"));
	CU_ASSERT(cl_echo_is(a, fd, "y"));
	CU_ASSERT_EQUAL(cl_line(a, fd, buf, sizeof(buf)), CL_EOF);
	srv_run(a, 2);
	CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	CU_ASSERT_EQUAL(g_h.calls, 4);
	adm_close(a);
}

/* A chatty client gets at most 16 requests a call, the rest wait without
 * the next call sleeping, and another client is served meanwhile. */
static void test_chatty_client_bounded(void)
{
	struct admin *a = adm_open_at("chatty.sock", NULL);
	char burst[200 * 2 + 1];
	int chatty, other, n, i, total;
	int64_t t0;

	CU_ASSERT_FATAL(a != NULL);
	chatty = cl_connect_to("chatty.sock");
	other = cl_connect_to("chatty.sock");
	CU_ASSERT_FATAL(chatty >= 0 && other >= 0);
	srv_run(a, 2);
	for (i = 0; i < 200; i++)
		memcpy(burst + 2 * i, "p\n", 3);
	CU_ASSERT(send(chatty, burst, 400, MSG_DONTWAIT) == 400);
	CU_ASSERT_EQUAL(admin_poll(a, 0), 16);
	/* All 400 bytes were read: only the backlog wakes this call. */
	t0 = mono_ms();
	CU_ASSERT_EQUAL(admin_poll(a, 1000), 16);
	CU_ASSERT(mono_ms() - t0 < 100);
	CU_ASSERT(send(other, "ping\n", 5, MSG_DONTWAIT) == 5);
	for (total = 32, i = 0; i < 2; i++) {
		n = admin_poll(a, 10);
		CU_ASSERT(n >= 0 && n <= 17);
		total += n;
	}
	CU_ASSERT(total < 200); /* the chatty one is not done... */
	CU_ASSERT(cl_echo_is(NULL, other, "ping")); /* ...other is */
	for (i = 0; i < 200; i++)
		CU_ASSERT(cl_echo_is(a, chatty, "p"));
	CU_ASSERT_EQUAL(g_h.calls, 201);
	adm_close(a);
}

/* 20 clients with 20 requests each: 256 requests a call at most. */
static void test_per_call_bound(void)
{
	struct admin *a = adm_open_at("bound.sock", NULL);
	char burst[20 * 2 + 1];
	int fds[20], i, j, n, ok = 0;

	CU_ASSERT_FATAL(a != NULL);
	for (i = 0; i < 20; i++) {
		fds[i] = cl_connect_to("bound.sock");
		CU_ASSERT_FATAL(fds[i] >= 0);
	}
	srv_run(a, 3);
	CU_ASSERT_EQUAL(admin_n_clients(a), 20);
	for (i = 0; i < 20; i++)
		memcpy(burst + 2 * i, "q\n", 3);
	for (i = 0; i < 20; i++)
		CU_ASSERT(send(fds[i], burst, 40, MSG_DONTWAIT) == 40);
	CU_ASSERT_EQUAL(admin_poll(a, 0), 256);
	n = admin_poll(a, 0);
	CU_ASSERT(n > 0 && n <= 256);
	for (i = 0; i < 20; i++)
		for (j = 0; j < 20; j++)
			ok += cl_echo_is(a, fds[i], "q");
	CU_ASSERT_EQUAL(ok, 400);
	CU_ASSERT_EQUAL(g_h.calls, 400);
	adm_close(a);
}

/* ---- many clients ---- */

static void test_hundred_clients(void)
{
	struct admin_opts o = {.max_clients = 128};
	struct admin *a = adm_open_at("many.sock", &o);
	int fds[100], i, ok = 0;
	char want[32];

	CU_ASSERT_FATAL(a != NULL);
	for (i = 0; i < 100; i++) {
		fds[i] = cl_connect_to("many.sock");
		CU_ASSERT_FATAL(fds[i] >= 0);
	}
	for (i = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "client %d\n", i);
		CU_ASSERT(send(fds[i], want, strlen(want), MSG_DONTWAIT) ==
			  (ssize_t)strlen(want));
	}
	for (i = 0; i < 100; i++) {
		snprintf(want, sizeof(want), "client %d", i);
		ok += cl_echo_is(a, fds[i], want);
	}
	CU_ASSERT_EQUAL(ok, 100);
	CU_ASSERT_EQUAL(admin_n_clients(a), 100);
	/* All of them at once, again, in one burst each. */
	for (i = 0; i < 100; i++)
		CU_ASSERT(send(fds[i], "a\nb\n", 4, MSG_DONTWAIT) == 4);
	for (ok = 0, i = 0; i < 100; i++)
		ok += cl_echo_is(a, fds[i], "a") && cl_echo_is(a, fds[i], "b");
	CU_ASSERT_EQUAL(ok, 100);
	CU_ASSERT(g_poll_max_late_ms < 100);
	for (i = 0; i < 100; i++)
		cl_close(fds[i]);
	for (i = 0; i < 100 && admin_n_clients(a); i++)
		srv_poll(a, 2);
	CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	adm_close(a);
}

static void test_too_many_clients(void)
{
	struct admin_opts o = {.max_clients = 10};
	struct admin *a = adm_open_at("ten.sock", &o);
	int fds[10], extra, i;
	char buf[256];

	CU_ASSERT_FATAL(a != NULL);
	for (i = 0; i < 10; i++) {
		fds[i] = cl_connect_to("ten.sock");
		CU_ASSERT_FATAL(fds[i] >= 0);
		CU_ASSERT(cl_ping(a, fds[i]));
	}
	CU_ASSERT_EQUAL(admin_n_clients(a), 10);
	extra = cl_connect_to("ten.sock");
	CU_ASSERT_FATAL(extra >= 0);
	CU_ASSERT(cl_error_is(a, extra,
			      "too many clients (10 connected); "
			      "try again later"));
	CU_ASSERT_EQUAL(cl_line(a, extra, buf, sizeof(buf)), CL_EOF);
	cl_close(extra);
	CU_ASSERT_EQUAL(admin_n_clients(a), 10);
	for (i = 0; i < 10; i++)
		CU_ASSERT(cl_ping(a, fds[i]));
	/* One leaves, a new one gets its place. */
	cl_close(fds[0]);
	srv_run(a, 3);
	CU_ASSERT_EQUAL(admin_n_clients(a), 9);
	fds[0] = cl_connect_to("ten.sock");
	CU_ASSERT(fds[0] >= 0 && cl_ping(a, fds[0]));
	CU_ASSERT_EQUAL(admin_n_clients(a), 10);
	adm_close(a);
}

/* Out of file descriptors: the listener rests instead of waking every
 * call for connections it cannot accept, and takes them later. */
static void test_out_of_fds(void)
{
	struct admin *a = adm_open_at("emfile.sock", NULL);
	struct rlimit old, low;
	int first, i, n = 0;
	int64_t t0;

	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &old) == 0);
	first = open("/dev/null", O_RDONLY | O_CLOEXEC); /* lowest free */
	CU_ASSERT_FATAL(first >= 0);
	close(first);
	low = old;
	low.rlim_cur = (rlim_t)first + 4;
	CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &low) == 0);
	/* Our clients take every descriptor left; none was accepted. */
	while (n < 16 && cl_connect_to("emfile.sock") >= 0)
		n++;
	CU_ASSERT(n >= 1 && n < 16);
	CU_ASSERT_EQUAL(admin_poll(a, 0), 0);
	CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	for (i = 0; i < 2; i++) {
		t0 = mono_ms();
		CU_ASSERT_EQUAL(admin_poll(a, 30), 0);
		CU_ASSERT(mono_ms() - t0 >= 25); /* slept, did not spin */
	}
	CU_ASSERT(setrlimit(RLIMIT_NOFILE, &old) == 0);
	for (i = 0; i < 50 && admin_n_clients(a) < (unsigned)n; i++)
		srv_poll(a, 10);
	CU_ASSERT_EQUAL(admin_n_clients(a), (unsigned)n);
	adm_close(a);
}

/* ---- permissions ---- */

/* An allow list without our uid: root is let in anyway, others not. */
static void test_allow_list_without_us(void)
{
	uid_t other = geteuid() + 12345;
	struct admin_opts o = {.uids = &other, .n_uids = 1};
	struct admin *a = adm_open_at("list.sock", &o);
	char want[256];
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	fd = cl_connect_to("list.sock");
	CU_ASSERT_FATAL(fd >= 0);
	if (geteuid() == 0) {
		CU_ASSERT(cl_ping(a, fd));
	} else {
		snprintf(want, sizeof(want),
			 "permission denied: uid %u (gid %u) may not use "
			 "this socket; allowed: root, uids %u",
			 (unsigned)geteuid(), (unsigned)getegid(),
			 (unsigned)other);
		CU_ASSERT(cl_error_is(a, fd, want));
		CU_ASSERT_EQUAL(cl_line(a, fd, want, sizeof(want)), CL_EOF);
		CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	}
	adm_close(a);
}

/*
 * Forks a child that becomes uid/gid (no supplementary groups), sends req,
 * shuts its writing side and reads until EOF; the server runs here in the
 * meantime. out gets what the child read. Returns the child's exit status:
 * 0 when it read to EOF, else the step that failed.
 */
static int child_exchange(struct admin *a, const char *path, uid_t uid,
			  gid_t gid, const char *req, char *out, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int p[2], fd, st = -1;
	int64_t end;
	ssize_t r;
	size_t n = 0;
	pid_t pid;
	char buf[512];

	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
			_exit(10);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(11);
		/* A refused peer may be closed already: no check. */
		(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
		for (;;) {
			struct pollfd pf = {.fd = fd, .events = POLLIN};

			if (poll(&pf, 1, 5000) != 1)
				_exit(12);
			r = recv(fd, buf, sizeof(buf), 0);
			if (r == 0)
				_exit(0);
			if (r < 0)
				_exit(13);
			if (write(p[1], buf, (size_t)r) != r)
				_exit(14);
		}
	}
	close(p[1]);
	end = mono_ms() + 10000;
	while (mono_ms() < end && waitpid(pid, &st, WNOHANG) == 0)
		srv_poll(a, 5);
	if (mono_ms() >= end) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	while (n + 1 < len && (r = read(p[0], out + n, len - n - 1)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(p[0]);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

/* The path of a socket a child running as nobody can connect to. */
static struct admin *adm_for_nobody(const char *name, struct admin_opts *o,
				    char *path, size_t len)
{
	struct admin *a;

	CU_ASSERT_FATAL(geteuid() == 0); /* these tests need root: fail */
	a = adm_open_at(name, o);
	path_of(path, len, name);
	return a;
}

static void test_setuid_denied(void)
{
	struct admin_opts o = {.mode = 0666};
	char path[200], out[1024];
	struct admin *a = adm_for_nobody("deny.sock", &o, path, sizeof(path));

	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(
	    child_exchange(a, path, NOBODY, NOBODY, "ping\n", out, sizeof(out)),
	    0);
	CU_ASSERT_STRING_EQUAL(out, "{\"error\":\"permission denied: uid 65534 "
				    "(gid 65534) may not use this socket; "
				    "allowed: root, uid 0 (the server's)\"}\n");
	CU_ASSERT_EQUAL(g_h.calls, 0);
	CU_ASSERT_EQUAL(admin_n_clients(a), 0);
	adm_close(a);

	/* Lists that name neither its uid nor its gid. */
	{
		uid_t u[2] = {1000, 1001};
		gid_t g = 12345;
		struct admin_opts o2 = {.mode = 0666,
					.uids = u,
					.n_uids = 2,
					.gids = &g,
					.n_gids = 1};

		a = adm_for_nobody("deny2.sock", &o2, path, sizeof(path));
		CU_ASSERT_FATAL(a != NULL);
		CU_ASSERT_EQUAL(child_exchange(a, path, NOBODY, NOBODY,
					       "ping\n", out, sizeof(out)),
				0);
		CU_ASSERT(json_is(out, "error",
				  "permission denied: uid 65534 (gid 65534) "
				  "may not use this socket; allowed: root, "
				  "uids 1000 1001, gids 12345"));
		CU_ASSERT_EQUAL(g_h.calls, 0);
		adm_close(a);
	}
}

static void test_setuid_allowed_by_uid(void)
{
	uid_t u = NOBODY;
	struct admin_opts o = {.mode = 0666, .uids = &u, .n_uids = 1};
	char path[200], out[1024];
	struct admin *a = adm_for_nobody("byuid.sock", &o, path, sizeof(path));

	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_EQUAL(child_exchange(a, path, NOBODY, NOBODY, "hello\nbad\n",
				       out, sizeof(out)),
			0);
	CU_ASSERT_STRING_EQUAL(out, "{\"echo\":\"hello\",\"uid\":65534}\n"
				    "{\"error\":\"unknown command 'bad'\"}\n");
	CU_ASSERT_EQUAL(g_h.calls, 2);
	CU_ASSERT_EQUAL(g_h.last_uid, NOBODY);
	adm_close(a);
}

static void test_setuid_allowed_by_gid(void)
{
	gid_t g[2] = {NOBODY, 4242};
	struct admin_opts o = {.gids = g, .n_gids = 2}; /* mode 0660 */
	char path[200], out[1024];
	struct admin *a = adm_for_nobody("bygid.sock", &o, path, sizeof(path));
	struct stat st;

	CU_ASSERT_FATAL(a != NULL);
	/* The first gid owns the file, so the group can connect. */
	CU_ASSERT_FATAL(lstat(path, &st) == 0);
	CU_ASSERT_EQUAL(st.st_gid, NOBODY);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	CU_ASSERT_EQUAL(
	    child_exchange(a, path, 4343, NOBODY, "hi\n", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "{\"echo\":\"hi\",\"uid\":4343}\n");
	/* Same uid, another group: neither allowed nor let in by mode. */
	CU_ASSERT_EQUAL(
	    child_exchange(a, path, 4343, 4343, "hi\n", out, sizeof(out)), 11);
	CU_ASSERT_EQUAL(g_h.calls, 1);
	adm_close(a);
}

/* ---- the socket file ---- */

static void test_mode_option(void)
{
	struct admin_opts o = {.mode = 0600};
	struct admin *a;
	char path[200];
	struct stat st;
	mode_t before = umask(022), after;

	umask(before);
	a = adm_open_at("mode.sock", &o);
	CU_ASSERT_FATAL(a != NULL);
	after = umask(before);
	CU_ASSERT_EQUAL(after, before); /* put back */
	path_of(path, sizeof(path), "mode.sock");
	CU_ASSERT_FATAL(lstat(path, &st) == 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	adm_close(a);
}

static void test_stale_socket_replaced(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct admin *a;
	struct stat before, after;
	int fd;

	path_of(sa.sun_path, sizeof(sa.sun_path), "stale.sock");
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT(listen(fd, 1) == 0);
	close(fd); /* the file stays, nobody listens: a crashed server */
	CU_ASSERT_FATAL(lstat(sa.sun_path, &before) == 0);
	a = adm_open_at("stale.sock", NULL);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT_FATAL(lstat(sa.sun_path, &after) == 0);
	CU_ASSERT(after.st_ino != before.st_ino ||
		  after.st_ctim.tv_nsec != before.st_ctim.tv_nsec);
	fd = cl_connect(sa.sun_path);
	CU_ASSERT(fd >= 0 && cl_ping(a, fd));
	adm_close(a);
}

static void test_live_socket_refused(void)
{
	struct admin_opts o = {0};
	struct admin *a = adm_open_at("live.sock", NULL), *b;
	char path[200], err[256], want[300];
	struct stat st;
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	path_of(path, sizeof(path), "live.sock");
	o.path = path;
	err[0] = '\0';
	errno = 0;
	b = adm_open(&o, err, sizeof(err));
	CU_ASSERT_FATAL(b == NULL);
	CU_ASSERT_EQUAL(errno, EADDRINUSE);
	snprintf(want, sizeof(want), "another process is listening on %s",
		 path);
	CU_ASSERT(strstr(err, want) != NULL);
	/* The first one is untouched. */
	CU_ASSERT(lstat(path, &st) == 0);
	fd = cl_connect(path);
	CU_ASSERT(fd >= 0 && cl_ping(a, fd));
	adm_close(a);
}

static void test_not_a_socket_kept(void)
{
	struct admin_opts o = {0};
	char path[200], err[256];
	struct stat st;
	int fd;

	path_of(path, sizeof(path), "file.sock");
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	o.path = path;
	CU_ASSERT(adm_open(&o, err, sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "is not a socket") != NULL);
	CU_ASSERT(lstat(path, &st) == 0 && S_ISREG(st.st_mode));
}

static void test_close_removes_file(void)
{
	struct admin *a = adm_open_at("close.sock", NULL), *b;
	char path[200], buf[64];
	struct stat st;
	int fd;

	CU_ASSERT_FATAL(a != NULL);
	path_of(path, sizeof(path), "close.sock");
	fd = cl_connect(path);
	CU_ASSERT(fd >= 0 && cl_ping(a, fd));
	adm_close(a);
	CU_ASSERT(lstat(path, &st) != 0 && errno == ENOENT);
	CU_ASSERT_EQUAL(cl_line(NULL, fd, buf, sizeof(buf)), CL_EOF);

	/* Someone removed our file and a second server took the path:
	 * closing the first must not remove the second's socket. */
	a = adm_open_at("close.sock", NULL);
	CU_ASSERT_FATAL(a != NULL);
	CU_ASSERT(unlink(path) == 0);
	b = adm_open_at("close.sock", NULL);
	CU_ASSERT_FATAL(b != NULL);
	adm_close(a);
	CU_ASSERT(lstat(path, &st) == 0);
	fd = cl_connect(path);
	CU_ASSERT(fd >= 0 && cl_ping(b, fd));
	adm_close(b);
	CU_ASSERT(lstat(path, &st) != 0 && errno == ENOENT);
}

static void test_path_errors(void)
{
	struct admin_opts o = {0};
	char path[300], err[512], want[300];

	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	o.path = path;
	errno = 0;
	CU_ASSERT(adm_open(&o, err, sizeof(err)) == NULL);
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
	CU_ASSERT(strstr(err, "too long") != NULL);

	snprintf(path, sizeof(path), "%s/no/such/dir/x.sock", g_dir);
	CU_ASSERT(adm_open(&o, err, sizeof(err)) == NULL);
	CU_ASSERT_EQUAL(errno, ENOENT);
	snprintf(want, sizeof(want),
		 "the directory %s/no/such/dir does not "
		 "exist",
		 g_dir);
	CU_ASSERT(strstr(err, want) != NULL);

	o.path = "";
	CU_ASSERT(adm_open(&o, err, sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "no path") != NULL);
}

int unit_register(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
	    {"round trip, mode 0660", test_round_trip},
	    {"two requests in one write", test_two_in_one_write},
	    {"a request over three writes", test_split_over_three_writes},
	    {"empty lines ignored", test_empty_lines_ignored},
	    {"CRLF", test_crlf},
	    {"handler gets the exact line", test_handler_gets_exact_line},
	    {"4096-byte line accepted", test_line_4096_accepted},
	    {"4097-byte line refused, closed", test_line_4097_refused},
	    {"max_line option", test_small_max_line},
	    {"NUL byte", test_nul_byte},
	    {"handler reply contract", test_reply_contract},
	    {"silent client never blocks", test_silent_client_does_not_block},
	    {"slow reader dropped", test_slow_reader_dropped},
	    {"half-close gets its replies", test_half_close},
	    {"chatty client bounded", test_chatty_client_bounded},
	    {"256 requests a call", test_per_call_bound},
	    {"100 clients at once", test_hundred_clients},
	    {"too many clients", test_too_many_clients},
	    {"out of file descriptors", test_out_of_fds},
	    {"allow list without us", test_allow_list_without_us},
	    {"setuid nobody: denied", test_setuid_denied},
	    {"setuid nobody: allowed by uid", test_setuid_allowed_by_uid},
	    {"setuid: allowed by gid", test_setuid_allowed_by_gid},
	    {"mode option, umask kept", test_mode_option},
	    {"stale socket replaced", test_stale_socket_replaced},
	    {"live socket refused", test_live_socket_refused},
	    {"a non-socket is kept", test_not_a_socket_kept},
	    {"close removes only our file", test_close_removes_file},
	    {"path errors", test_path_errors},
	};
	CU_pSuite s;
	size_t i;

	s = CU_add_suite_with_setup_and_teardown(
	    "admin", suite_init, suite_clean, test_setup, test_teardown);
	if (!s)
		return CU_get_error();
	for (i = 0; i < N_OF(tests); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return CU_get_error();
	return CUE_SUCCESS;
}
