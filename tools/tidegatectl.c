/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tidegatectl: the command-line client of tidegate's admin socket. It
 * connects to the UNIX stream socket (-s, else $TIDEGATE_SOCKET, else
 * /run/tidegate/admin.sock), writes one request line (the command words
 * joined by single spaces), reads one reply line (a JSON object of at most
 * 16 MiB) and prints it: aligned tables and "key: value" lines by default,
 * the object itself, indented, with --json. The client does not keep a list
 * of the server's commands: it picks a rendering by the shape of the reply,
 * so a command the server learns later works at once (as "key: value"
 * lines). `top` is drawn here, from `status` and `stats` asked on one
 * connection every second. Exit status: 0 success, 1 the server answered
 * {"error": ...}, 2 usage, connection, timeout or protocol errors.
 * Everything the server sends is untrusted: its strings reach the terminal
 * only through sbuf_san(), which makes control characters visible, and
 * never serve as a format. This is a tool, not a library: it prints, and
 * main() decides the exit status.
 *
 * One file, longer than the house ~800 lines, because the tool was asked
 * for as one file. It splits cleanly if it grows: text (sbuf, numbers,
 * tables), the connection, the renderers, and top with main().
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PROG	       "tidegatectl"
#define CTL_SOCKET     "/run/tidegate/admin.sock"
#define CTL_SOCKET_ENV "TIDEGATE_SOCKET"
#define CTL_TIMEOUT_S  5.0	   /* s, connect + reply, by default */
#define CTL_MAX_REPLY  (16u << 20) /* bytes in a reply line, without \n */
#define CTL_MAX_S      86400.0	   /* s, the longest timeout or interval */
#define CTL_RETRY_NS   10000000	   /* ns between tries on a full queue */
#define NS_PER_S       1000000000.0
#define TBL_COLS       12 /* columns of a table, at most */
#define TOP_BAR	       10 /* cells of a utilization bar */
#define TOP_NAME       24 /* code points of a bucket name, top */

enum ctl_exit {
	CTL_EXIT_OK = 0,    /* the command succeeded */
	CTL_EXIT_ERROR = 1, /* the server answered with an error */
	CTL_EXIT_FAIL = 2,  /* usage, connection or protocol error */
};

/* Set by signal handlers and the q key in top; read by ctl_wait(). */
static volatile sig_atomic_t g_quit;   /* nonzero: stop waiting, quit */
static volatile sig_atomic_t g_signal; /* the signal that asked, or 0 */
static sigset_t g_waitmask;	       /* the mask to wait with (top) */
static bool g_masked;		       /* top blocked its signals */

/* ---------------------------------------------------------------- text */

/* A growing string. Everything printed on stdout is built in one first. */
struct sbuf {
	char *s;    /* owned; NUL terminated once anything was added */
	size_t len; /* bytes before the NUL */
	size_t cap; /* bytes allocated */
	bool oom;   /* an allocation failed: the text is incomplete */
};

/*
 * Make room for more bytes and a NUL. Returns false, and sets b->oom (which
 * sticks), when memory runs out: callers then drop what they meant to add,
 * and whoever prints the buffer checks oom once instead of every append.
 */
static bool sbuf_room(struct sbuf *b, size_t more)
{
	size_t cap;
	char *s;

	if (b->oom)
		return false;
	if (more < b->cap - b->len)
		return true;
	cap = b->cap ? b->cap : 128;
	while (cap - b->len <= more)
		cap *= 2;
	s = realloc(b->s, cap);
	if (!s) {
		b->oom = true;
		return false;
	}
	b->s = s;
	b->cap = cap;
	return true;
}

/* Append n bytes of s (which may include NULs). */
static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (!sbuf_room(b, n))
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Append the C string s. */
static void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

/* Append one byte. */
static void sbuf_putc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

/* Append c n times. */
static void sbuf_fill(struct sbuf *b, char c, size_t n)
{
	if (!sbuf_room(b, n))
		return;
	memset(b->s + b->len, c, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* Append printf output; fmt is always ours, never the server's text. */
static void sbuf_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!sbuf_room(b, (size_t)n))
		return;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

__attribute__((format(printf, 2, 3))) static void
sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(b, fmt, ap);
	va_end(ap);
}

/*
 * Append text from the server for a terminal: C0 controls, DEL and the C1
 * controls U+0080..U+009F (which some terminals obey like ESC sequences)
 * become a visible \xNN or \u00NN; the rest, UTF-8 that jansson checked, is
 * copied. Works on a length because the server's strings may hold NULs.
 */
static void sbuf_san(struct sbuf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned char d = i + 1 < n ? (unsigned char)s[i + 1] : 0;

		if (c < 0x20 || c == 0x7f) {
			sbuf_printf(b, "\\x%02x", c);
		} else if (c == 0xc2 && d >= 0x80 && d <= 0x9f) {
			sbuf_printf(b, "\\u%04x", d);
			i++;
		} else {
			sbuf_putc(b, (char)c);
		}
	}
}

/* Empty the buffer, keeping its memory; forget an earlier failure. */
static void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->s)
		b->s[0] = '\0';
}

/* Free the text; b is empty and reusable after. */
static void sbuf_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

/*
 * Bytes of the escape sequence (ESC [ parameters final-byte) at s, or 0 when
 * s does not start one. Only this program writes them: the server's text
 * has no ESC left once sanitized.
 */
static size_t esc_len(const char *s, size_t n)
{
	size_t i = 2;

	if (n < 2 || s[0] != '\033' || s[1] != '[')
		return 0;
	while (i < n && (s[i] < 0x40 || s[i] > 0x7e))
		i++;
	return i < n ? i + 1 : n;
}

/*
 * Columns a string takes on a terminal: one per UTF-8 code point, none for
 * escape sequences. East Asian wide characters count one: a misaligned
 * column is the price of not depending on the locale.
 */
static size_t disp_width(const char *s, size_t n)
{
	size_t i = 0, w = 0, e;

	while (i < n) {
		e = esc_len(s + i, n - i);
		if (e) {
			i += e;
			continue;
		}
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
		i++;
	}
	return w;
}

/*
 * Append the first cols columns of s (n bytes, no newline) to out. Escape
 * sequences past the cut are still copied, so a colour is always reset.
 */
static void sbuf_clip(struct sbuf *out, const char *s, size_t n, size_t cols)
{
	size_t i = 0, w = 0, e;
	bool copy = true;

	while (i < n) {
		e = esc_len(s + i, n - i);
		if (e) {
			sbuf_add(out, s + i, e);
			i += e;
			continue;
		}
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			copy = w++ < cols;
		if (copy)
			sbuf_putc(out, s[i]);
		i++;
	}
}

/*
 * Cut the text after offset from to at most maxw columns, ending with '~'
 * when something was cut. For names that would push a table off screen.
 */
static void sbuf_cut(struct sbuf *b, size_t from, size_t maxw)
{
	size_t i, w = 0;

	if (b->oom || disp_width(b->s + from, b->len - from) <= maxw)
		return;
	for (i = from; i < b->len; i++) {
		if (((unsigned char)b->s[i] & 0xc0) != 0x80 && w++ == maxw - 1)
			break;
	}
	b->len = i;
	b->s[i] = '\0';
	sbuf_putc(b, '~');
}

/* ------------------------------------------------------------- numbers */

/*
 * Copy num, a decimal ("-1234567.25"), into buf with a comma every three
 * digits of its integer part ("-1,234,567.25"). Returns buf. The commas are
 * always commas: output does not change with the locale.
 */
static const char *group_digits(char *buf, size_t n, const char *num)
{
	size_t o = 0, i, digits;

	if (*num == '-' && n > 1)
		buf[o++] = *num++;
	digits = strspn(num, "0123456789");
	for (i = 0; num[i] && o + 2 < n; i++) {
		if (i && i < digits && (digits - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = num[i];
	}
	buf[o] = '\0';
	return buf;
}

/* An integer with thousands separators. Returns buf. */
static const char *fmt_ll(char *buf, size_t n, long long v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%lld", v);
	return group_digits(buf, n, tmp);
}

/*
 * A real number for people: grouped, at most three decimals, no trailing
 * zeros ("1,234.5"); %g beyond 1e15, where digits stop meaning anything.
 * Returns buf.
 */
static const char *fmt_real(char *buf, size_t n, double x)
{
	char tmp[48];
	size_t len;

	if (!(x > -1e15 && x < 1e15)) {
		snprintf(buf, n, "%.6g", x);
		return buf;
	}
	snprintf(tmp, sizeof(tmp), "%.3f", x);
	len = strlen(tmp);
	while (tmp[len - 1] == '0')
		tmp[--len] = '\0';
	if (tmp[len - 1] == '.')
		tmp[--len] = '\0';
	if (!strcmp(tmp, "-0"))
		strcpy(tmp, "0");
	return group_digits(buf, n, tmp);
}

/*
 * A JSON number as fmt_ll() or fmt_real() write it; "-" for null or a
 * missing member, "?" for anything else. Returns buf.
 */
static const char *fmt_num(char *buf, size_t n, const json_t *v)
{
	if (json_is_integer(v))
		return fmt_ll(buf, n, json_integer_value(v));
	if (json_is_real(v))
		return fmt_real(buf, n, json_real_value(v));
	snprintf(buf, n, "%s", !v || json_is_null(v) ? "-" : "?");
	return buf;
}

/*
 * A quantity with an SI prefix and a unit: "800/s", "42.5/s", "1.20k/s",
 * "12.3M/s" (three significant digits past 1000, one decimal below,
 * dropped when it is 0). Returns buf.
 */
static const char *fmt_si(char *buf, size_t n, double x, const char *unit)
{
	static const char prefix[] = "kMGTPE";
	double a = x < 0 ? -x : x;
	int i = -1, prec;
	size_t len;

	if (!(a < 1e21)) {
		snprintf(buf, n, "%.3g%s", x, unit);
		return buf;
	}
	if (a < 999.95) {
		snprintf(buf, n, "%.1f", x);
		len = strlen(buf);
		if (len > 2 && !strcmp(buf + len - 2, ".0"))
			buf[len - 2] = '\0';
		if (!strcmp(buf, "-0"))
			strcpy(buf, "0");
		len = strlen(buf);
		snprintf(buf + len, n - len, "%s", unit);
		return buf;
	}
	while (a >= 999.5 && i < 5) {
		a /= 1000;
		x /= 1000;
		i++;
	}
	prec = a < 9.995 ? 2 : a < 99.95 ? 1 : 0;
	snprintf(buf, n, "%.*f%c%s", prec, x, prefix[i], unit);
	return buf;
}

/* A JSON number through fmt_si(); "-" when it is not a number. */
static const char *fmt_si_json(char *buf, size_t n, const json_t *v,
			       const char *unit)
{
	if (!json_is_number(v)) {
		snprintf(buf, n, "-");
		return buf;
	}
	return fmt_si(buf, n, json_number_value(v), unit);
}

/* A fraction (0.93) as a percentage ("93%"), decimals after the point. */
static const char *fmt_frac(char *buf, size_t n, const json_t *v, int decimals)
{
	if (!json_is_number(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.*f%%", decimals,
			 json_number_value(v) * 100.0);
	return buf;
}

/* A percentage (99.5) with one decimal ("99.5%"). */
static const char *fmt_pct(char *buf, size_t n, const json_t *v)
{
	if (!json_is_number(v))
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%.1f%%", json_number_value(v));
	return buf;
}

/* Seconds as "12.3s", "5m 03s", "2h 05m 03s" or "3d 04h 05m". */
static const char *fmt_duration(char *buf, size_t n, double s)
{
	unsigned long long t, d, h, m;

	if (!(s >= 0 && s < 1e15)) {
		snprintf(buf, n, "-");
		return buf;
	}
	if (s < 60) {
		snprintf(buf, n, "%.1fs", s);
		return buf;
	}
	t = (unsigned long long)s;
	d = t / 86400;
	h = t / 3600 % 24;
	m = t / 60 % 60;
	if (d)
		snprintf(buf, n, "%llud %02lluh %02llum", d, h, m);
	else if (h)
		snprintf(buf, n, "%lluh %02llum %02llus", h, m, t % 60);
	else
		snprintf(buf, n, "%llum %02llus", m, t % 60);
	return buf;
}

/* ---------------------------------------------------------------- json */

/* Member k of o; NULL when o is not an object or has no k. Borrowed. */
static json_t *jget(const json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

/* Member k of o as a double, when it is a number. */
static bool jnum(const json_t *o, const char *k, double *x)
{
	json_t *v = jget(o, k);

	if (!json_is_number(v))
		return false;
	*x = json_number_value(v);
	return true;
}

/*
 * Append any JSON value for people: strings sanitized and unquoted,
 * numbers grouped, null as "-", an array of scalars as "a, b, c" ("(none)"
 * when empty), anything deeper as compact JSON (sanitized too: the dump
 * keeps non-ASCII characters, C1 controls among them).
 */
static void put_value(struct sbuf *b, const json_t *v)
{
	char num[64];
	json_t *e;
	size_t i;
	char *dump;

	switch (json_typeof(v)) {
	case JSON_STRING:
		sbuf_san(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
	case JSON_REAL:
		sbuf_puts(b, fmt_num(num, sizeof(num), v));
		return;
	case JSON_TRUE:
		sbuf_puts(b, "true");
		return;
	case JSON_FALSE:
		sbuf_puts(b, "false");
		return;
	case JSON_NULL:
		sbuf_puts(b, "-");
		return;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			if (json_is_array(e) || json_is_object(e))
				break;
		}
		if (i < json_array_size(v))
			break;
		if (!json_array_size(v))
			sbuf_puts(b, "(none)");
		json_array_foreach(v, i, e) {
			if (i)
				sbuf_puts(b, ", ");
			put_value(b, e);
		}
		return;
	case JSON_OBJECT:
		break;
	}
	dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!dump) {
		b->oom = true;
		return;
	}
	sbuf_san(b, dump, strlen(dump));
	free(dump);
}

/* ---------------------------------------------------------------- tables */

/*
 * A table of text cells, printed with aligned columns. Cells are added row
 * by row; the first row is the header, when there is one. A cell is written
 * between cell_open() and cell_close() with any sbuf function.
 */
struct table {
	unsigned ncol;	   /* columns, 1..TBL_COLS */
	const char *align; /* per column 'l' or 'r'; borrowed literal */
	struct sbuf text;  /* every cell, NUL terminated */
	size_t *cell;	   /* offset of each cell in text, row-major */
	size_t n;	   /* cells closed */
	size_t cap;	   /* slots in cell */
	size_t open;	   /* where the open cell starts in text */
	bool oom;	   /* a cell was lost for want of memory */
};

/* A table whose columns are aligned as align says ("llr": 3 columns). */
static void table_init(struct table *t, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->align = align;
	t->ncol = (unsigned)strlen(align);
	if (t->ncol > TBL_COLS)
		t->ncol = TBL_COLS;
}

/* Start a cell; returns the buffer to write it into until cell_close(). */
static struct sbuf *cell_open(struct table *t)
{
	t->open = t->text.len;
	return &t->text;
}

/* End the open cell (a NUL after it) and record where it starts. */
static void cell_close(struct table *t)
{
	size_t *c, cap;

	sbuf_add(&t->text, "", 1);
	if (t->n == t->cap) {
		cap = t->cap ? 2 * t->cap : 64;
		c = realloc(t->cell, cap * sizeof(*c));
		if (!c) {
			t->oom = true;
			return;
		}
		t->cell = c;
		t->cap = cap;
	}
	t->cell[t->n++] = t->open;
}

/* A cell with our own text s (not the server's: s is not sanitized). */
static void cell_str(struct table *t, const char *s)
{
	sbuf_puts(cell_open(t), s);
	cell_close(t);
}

/* A cell with text from the server (n bytes of s), sanitized. */
static void cell_san(struct table *t, const char *s, size_t n)
{
	sbuf_san(cell_open(t), s, n);
	cell_close(t);
}

/* A cell with a JSON value as put_value() writes it, cut to maxw columns
 * unless maxw is 0; "-" for a missing member. */
static void cell_value(struct table *t, const json_t *v, size_t maxw)
{
	struct sbuf *b = cell_open(t);

	if (v)
		put_value(b, v);
	else
		sbuf_puts(b, "-");
	if (maxw)
		sbuf_cut(b, t->open, maxw);
	cell_close(t);
}

/* Rows added so far, the header included. */
static size_t table_rows(const struct table *t)
{
	return t->n / t->ncol;
}

/*
 * Append the table to out, each row after indent, columns two spaces apart,
 * no trailing blanks. An incomplete last row is not printed.
 */
static void table_print(const struct table *t, struct sbuf *out,
			const char *indent)
{
	size_t w[TBL_COLS] = {0};
	size_t r, c, dw, start;
	const char *s;

	if (t->oom || t->text.oom) {
		out->oom = true;
		return;
	}
	for (r = 0; r < table_rows(t); r++) {
		for (c = 0; c < t->ncol; c++) {
			s = t->text.s + t->cell[r * t->ncol + c];
			dw = disp_width(s, strlen(s));
			if (dw > w[c])
				w[c] = dw;
		}
	}
	for (r = 0; r < table_rows(t); r++) {
		start = out->len;
		sbuf_puts(out, indent);
		for (c = 0; c < t->ncol; c++) {
			s = t->text.s + t->cell[r * t->ncol + c];
			dw = disp_width(s, strlen(s));
			if (c)
				sbuf_puts(out, "  ");
			if (t->align[c] == 'r')
				sbuf_fill(out, ' ', w[c] - dw);
			sbuf_puts(out, s);
			if (t->align[c] != 'r')
				sbuf_fill(out, ' ', w[c] - dw);
		}
		while (!out->oom && out->len > start &&
		       out->s[out->len - 1] == ' ')
			out->s[--out->len] = '\0';
		sbuf_putc(out, '\n');
	}
}

/* Free the cells; t may be reused after table_init(). */
static void table_free(struct table *t)
{
	sbuf_free(&t->text);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

/*
 * Print a table under a title, after a blank line; "title: none" when it
 * has nothing but its header. Frees the table.
 */
static void section(struct sbuf *out, const char *title, struct table *t)
{
	sbuf_printf(out, "%s%s", out->len ? "\n" : "", title);
	if (table_rows(t) < 2) {
		sbuf_puts(out, ": none\n");
	} else {
		sbuf_puts(out, "\n");
		table_print(t, out, "  ");
	}
	table_free(t);
}

/* Add a header row: one cell per argument, ncol of them. */
static void table_head(struct table *t, ...)
{
	va_list ap;
	unsigned c;

	va_start(ap, t);
	for (c = 0; c < t->ncol; c++)
		cell_str(t, va_arg(ap, const char *));
	va_end(ap);
}

/* ---------------------------------------------------------- connection */

/* What a connection step ended with. */
enum conn_rc {
	CONN_OK,   /* done */
	CONN_FAIL, /* connect, I/O or protocol error: see the message */
	CONN_TIME, /* the deadline passed */
	CONN_QUIT, /* a signal or the q key asked to quit (top only) */
};

/* A connection to the admin socket, with the bytes read ahead of a reply. */
struct conn {
	int fd;		  /* -1 when closed */
	int key_fd;	  /* read for 'q' while waiting (top on a
			   * terminal), else -1 */
	double timeout_s; /* the timeout, for messages */
	char *buf;	  /* bytes received, not yet consumed; owned */
	size_t len;	  /* bytes in buf */
	size_t cap;	  /* bytes allocated, <= CTL_MAX_REPLY + 1 */
};

/* Now on the monotonic clock, in ns: every deadline is on it. */
static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read the keys waiting on *key_fd: 'q' sets g_quit. Stops watching
 * (*key_fd = -1) when the terminal is gone. */
static void read_keys(int *key_fd)
{
	char k[64];
	ssize_t n, i;

	n = read(*key_fd, k, sizeof(k));
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		*key_fd = -1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (k[i] == 'q' || k[i] == 'Q')
			g_quit = 1;
	}
}

/*
 * Wait until fd (unless -1) has one of events, or deadline_ns (monotonic)
 * passes, meanwhile reading keys from *key_fd (unless -1). Returns 1 when
 * fd is ready (or has an error the next call will report), 0 at the
 * deadline, -EINTR when g_quit is set, another -errno if poll fails. In top
 * the quit signals are blocked except inside ppoll(), so none is lost
 * between the check of g_quit and the wait.
 */
static int ctl_wait(int fd, short events, int *key_fd, int64_t deadline_ns)
{
	struct pollfd p[2];
	struct timespec ts;
	int64_t left;
	nfds_t n;
	int r;

	for (;;) {
		if (g_quit)
			return -EINTR;
		left = deadline_ns - mono_ns();
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000000000;
		ts.tv_nsec = left % 1000000000;
		n = 0;
		if (fd >= 0)
			p[n++] = (struct pollfd){.fd = fd, .events = events};
		if (*key_fd >= 0)
			p[n++] =
			    (struct pollfd){.fd = *key_fd, .events = POLLIN};
		r = ppoll(p, n, &ts, g_masked ? &g_waitmask : NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (*key_fd >= 0 && p[n - 1].revents)
			read_keys(key_fd);
		if (fd >= 0 && p[0].revents)
			return g_quit ? -EINTR : 1;
	}
}

/* A closed connection, nothing allocated; timeout_s only for messages. */
static void conn_init(struct conn *c, double timeout_s)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->key_fd = -1;
	c->timeout_s = timeout_s;
}

/* Close the socket and drop what was read ahead; the buffer stays. */
static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Close and free the buffer; c may be init'ed again. */
static void conn_free(struct conn *c)
{
	conn_close(c);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

/* The message for a connect() that failed with errno e. */
static void connect_msg(char *err, size_t n, const char *path, int e)
{
	const char *hint = "";

	if (e == ENOENT || e == ECONNREFUSED || e == ENOTDIR)
		hint = " (is tidegate running? -s PATH)";
	else if (e == EACCES || e == EPERM)
		hint = " (only root and the socket's group may connect)";
	snprintf(err, n, "cannot connect to %s: %s%s", path, strerror(e), hint);
}

/*
 * Connect c (closed) to the socket at path before deadline_ns. Returns a
 * conn_rc, with a message in err for CONN_FAIL and CONN_TIME.
 */
static int conn_connect(struct conn *c, const char *path, int64_t deadline_ns,
			char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(path);
	socklen_t sl = sizeof(int);
	int fd, e, r;

	if (plen >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "socket path too long (%zu bytes, at most %zu): %s",
			 plen, sizeof(sa.sun_path) - 1, path);
		return CONN_FAIL;
	}
	memcpy(sa.sun_path, path, plen + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s",
			 strerror(errno));
		return CONN_FAIL;
	}
	c->fd = fd;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		if (e == EAGAIN) {
			/* The listen queue is full, and a non-blocking UNIX
			 * socket does not wait in it: try again shortly. */
			r = ctl_wait(-1, 0, &c->key_fd,
				     mono_ns() + CTL_RETRY_NS);
		} else if (e == EINPROGRESS || e == EINTR) {
			r = ctl_wait(fd, POLLOUT, &c->key_fd, deadline_ns);
			if (r == 1 &&
			    !getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) &&
			    !e)
				return CONN_OK;
			if (r == 1)
				r = -(e ? e : errno);
		} else {
			r = -e;
		}
		if (r == -EINTR)
			goto quit;
		if (r < 0) {
			connect_msg(err, errlen, path, -r);
			conn_close(c);
			return CONN_FAIL;
		}
		if (mono_ns() >= deadline_ns) {
			snprintf(err, errlen,
				 "cannot connect to %s: no answer within %g s",
				 path, c->timeout_s);
			conn_close(c);
			return CONN_TIME;
		}
	}
	return CONN_OK;
quit:
	conn_close(c);
	return CONN_QUIT;
}

/* Write all n bytes of s before deadline_ns. Returns a conn_rc. */
static int conn_send(struct conn *c, const char *s, size_t n,
		     int64_t deadline_ns, char *err, size_t errlen)
{
	ssize_t w;
	int r;

	while (n) {
		w = send(c->fd, s, n, MSG_NOSIGNAL);
		if (w >= 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			r = ctl_wait(c->fd, POLLOUT, &c->key_fd, deadline_ns);
			if (r == 1)
				continue;
			if (r == 0) {
				snprintf(err, errlen, "cannot send within %g s",
					 c->timeout_s);
				return CONN_TIME;
			}
			if (r == -EINTR)
				return CONN_QUIT;
			errno = -r;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			snprintf(err, errlen, "tidegate closed the connection");
		else
			snprintf(err, errlen, "cannot send: %s",
				 strerror(errno));
		return CONN_FAIL;
	}
	return CONN_OK;
}

/* Make room to read into: at least 64 KiB free, buf never past the limit
 * of a line and its newline. Returns false when out of memory. */
static bool conn_room(struct conn *c)
{
	size_t cap = c->cap ? c->cap : 65536;
	char *b;

	while (cap - c->len < 65536 && cap < CTL_MAX_REPLY + 1)
		cap *= 2;
	if (cap > CTL_MAX_REPLY + 1)
		cap = CTL_MAX_REPLY + 1;
	if (cap == c->cap)
		return true;
	b = realloc(c->buf, cap);
	if (!b)
		return false;
	c->buf = b;
	c->cap = cap;
	return true;
}

/*
 * Read until buf holds a whole line; *len is its length, without the
 * newline (buf[*len] is the newline). Returns a conn_rc. A line longer than
 * CTL_MAX_REPLY fails as soon as that many bytes came without a newline.
 */
static int conn_line(struct conn *c, int64_t deadline_ns, size_t *len,
		     char *err, size_t errlen)
{
	size_t scan = 0;
	char *nl;
	ssize_t n;
	int r;

	for (;;) {
		nl = c->len > scan ? memchr(c->buf + scan, '\n', c->len - scan)
				   : NULL;
		if (nl) {
			*len = (size_t)(nl - c->buf);
			return CONN_OK;
		}
		if (c->len > CTL_MAX_REPLY) {
			snprintf(err, errlen,
				 "reply longer than %u MiB: is this "
				 "tidegate's admin socket?",
				 CTL_MAX_REPLY >> 20);
			return CONN_FAIL;
		}
		scan = c->len;
		if (!conn_room(c)) {
			snprintf(err, errlen, "out of memory");
			return CONN_FAIL;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0) {
			snprintf(err, errlen,
				 c->len
				     ? "tidegate closed the connection in the "
				       "middle of a reply"
				     : "tidegate closed the connection "
				       "without a reply");
			return CONN_FAIL;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(err, errlen, "cannot read the reply: %s",
				 strerror(errno));
			return CONN_FAIL;
		}
		r = ctl_wait(c->fd, POLLIN, &c->key_fd, deadline_ns);
		if (r == 0) {
			snprintf(err, errlen, "no reply within %g s",
				 c->timeout_s);
			return CONN_TIME;
		}
		if (r == -EINTR)
			return CONN_QUIT;
		if (r < 0) {
			snprintf(err, errlen, "cannot wait for the reply: %s",
				 strerror(-r));
			return CONN_FAIL;
		}
	}
}

/* Copy a short message (jansson's, which quotes the input) into dst with
 * control characters made '?'. */
static void san_copy(char *dst, size_t n, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < n; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f
			     ? '?'
			     : src[i];
	dst[i] = '\0';
}

/*
 * Send one request (a line, with its newline) and read its reply before
 * deadline_ns. On CONN_OK, *reply is a JSON object the caller owns;
 * otherwise a message is in err. Bytes after the reply line stay in the
 * buffer for the next call.
 */
static int conn_call(struct conn *c, const char *req, int64_t deadline_ns,
		     json_t **reply, char *err, size_t errlen)
{
	json_error_t je;
	char text[JSON_ERROR_TEXT_LENGTH];
	size_t len;
	int rc;

	*reply = NULL;
	rc = conn_send(c, req, strlen(req), deadline_ns, err, errlen);
	if (rc == CONN_OK)
		rc = conn_line(c, deadline_ns, &len, err, errlen);
	if (rc != CONN_OK)
		return rc;
	*reply = json_loadb(c->buf, len, JSON_ALLOW_NUL, &je);
	c->len -= len + 1;
	memmove(c->buf, c->buf + len + 1, c->len);
	if (!*reply) {
		san_copy(text, sizeof(text), je.text);
		snprintf(err, errlen, "reply is not JSON: %s (at byte %d)",
			 text, je.position);
		return CONN_FAIL;
	}
	if (!json_is_object(*reply)) {
		json_decref(*reply);
		*reply = NULL;
		snprintf(err, errlen, "reply is not a JSON object");
		return CONN_FAIL;
	}
	return CONN_OK;
}

/* ----------------------------------------------------------- renderers */

/* How to draw: colours only on a terminal that wants them. */
struct ui {
	bool color;
};

/* The colour of a severity or breaker state, or NULL. */
static const char *level_color(const char *s)
{
	if (!strcmp(s, "normal") || !strcmp(s, "closed"))
		return "\033[32m";
	if (!strcmp(s, "warning") || !strcmp(s, "half-open"))
		return "\033[33m";
	if (!strcmp(s, "critical") || !strcmp(s, "open"))
		return "\033[31m";
	if (!strcmp(s, "emergency"))
		return "\033[1;31m";
	return NULL;
}

/* Append a severity or breaker state, coloured when ui says so. */
static void put_level(struct sbuf *b, const json_t *v, const struct ui *ui)
{
	const char *col = NULL;

	if (ui->color && json_is_string(v))
		col = level_color(json_string_value(v));
	if (col)
		sbuf_puts(b, col);
	if (v)
		put_value(b, v);
	else
		sbuf_puts(b, "-");
	if (col)
		sbuf_puts(b, "\033[0m");
}

/* A "key value" row of a two-column table, when v is there. */
static void kv_value(struct table *t, const char *key, const json_t *v)
{
	if (!v)
		return;
	cell_str(t, key);
	cell_value(t, v, 0);
}

/* Each member of r but skip as "key: value" lines. */
static void render_kv(struct sbuf *out, const json_t *r, const char *skip)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)r, k, v) {
		if (skip && !strcmp(k, skip))
			continue;
		sbuf_san(out, k, strlen(k));
		sbuf_puts(out, ": ");
		put_value(out, v);
		sbuf_putc(out, '\n');
	}
}

/* {"ok": true, ...}: "ok", then the other members. */
static void render_ok(struct sbuf *out, const json_t *r)
{
	sbuf_puts(out, "ok\n");
	render_kv(out, r, "ok");
}

/* help: usage and help of each command, aligned, then the client's own. */
static void render_help(struct sbuf *out, const json_t *r)
{
	struct table t;
	json_t *e;
	size_t i;

	table_init(&t, "ll");
	json_array_foreach(jget(r, "commands"), i, e) {
		cell_value(
		    &t, jget(e, "usage") ? jget(e, "usage") : jget(e, "name"),
		    0);
		if (jget(e, "help"))
			cell_value(&t, jget(e, "help"), 0);
		else
			cell_str(&t, "");
	}
	cell_str(&t, "top [--interval S] [--iterations N]");
	cell_str(&t, "a live view of status and stats (q quits)");
	table_print(&t, out, "");
	table_free(&t);
}

/* status: a "name value" list, then lag sources, ports and workers; a
 * member that is missing leaves its line out. */
static void render_kafka(struct sbuf *out, const json_t *k);

static void render_status(struct sbuf *out, const json_t *r,
			  const struct ui *ui)
{
	char a[64], b[64];
	struct table t;
	struct sbuf *c;
	json_t *v, *e;
	double x;
	size_t i;

	table_init(&t, "ll");
	kv_value(&t, "version", jget(r, "version"));
	if (jnum(r, "uptime_s", &x)) {
		cell_str(&t, "uptime");
		cell_str(&t, fmt_duration(a, sizeof(a), x));
	}
	kv_value(&t, "config", jget(r, "config"));
	if ((v = jget(r, "severity"))) {
		cell_str(&t, "severity");
		c = cell_open(&t);
		put_level(c, v, ui);
		if (json_is_true(jget(r, "severity_forced")))
			sbuf_puts(c, " (forced)");
		cell_close(&t);
	}
	if ((v = jget(r, "breaker"))) {
		cell_str(&t, "breaker");
		c = cell_open(&t);
		put_level(c, v, ui);
		if ((v = jget(r, "breaker_mode"))) {
			sbuf_puts(c, " (mode ");
			put_value(c, v);
			sbuf_puts(c, ")");
		}
		cell_close(&t);
	}
	if ((v = jget(r, "lag"))) {
		cell_str(&t, "lag");
		if (json_is_null(v))
			cell_str(&t, "unknown (no source)");
		else
			cell_value(&t, v, 0);
	}
	if ((v = jget(r, "tick"))) {
		cell_str(&t, "tick");
		c = cell_open(&t);
		put_value(c, v);
		if (jnum(r, "tick_ms", &x))
			sbuf_printf(c, " (every %s ms)",
				    fmt_real(a, sizeof(a), x));
		cell_close(&t);
	}
	if (jnum(r, "reaction_us", &x)) {
		cell_str(&t, "reaction");
		c = cell_open(&t);
		sbuf_printf(c, "%s us", fmt_real(a, sizeof(a), x));
		cell_close(&t);
	}
	if (jnum(r, "tick_delay_max_us", &x)) {
		cell_str(&t, "tick delay max");
		c = cell_open(&t);
		sbuf_printf(c, "%s us", fmt_real(a, sizeof(a), x));
		cell_close(&t);
	}
	kv_value(&t, "shed below", jget(r, "shed_below"));
	table_print(&t, out, "");
	table_free(&t);

	if (json_array_size(jget(r, "lag_sources"))) {
		table_init(&t, "llr");
		table_head(&t, "PIPELINE", "SOURCE", "LAG");
		json_array_foreach(jget(r, "lag_sources"), i, e) {
			cell_value(&t, jget(e, "pipeline"), 0);
			cell_value(&t, jget(e, "source"), 0);
			cell_value(&t, jget(e, "lag"), 0);
		}
		section(out, "lag sources", &t);
	}

	table_init(&t, "llrrrrr");
	table_head(&t, "PORT", "DEVICE", "RX", "MISSED", "NO MBUF", "TX",
		   "TX ERRORS");
	json_array_foreach(jget(r, "ports"), i, e) {
		cell_value(&t, jget(e, "name"), 0);
		cell_value(&t, jget(e, "device"), 0);
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "ipackets")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "imissed")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "rx_nombuf")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "opackets")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "oerrors")));
	}
	section(out, "ports", &t);

	table_init(&t, "rrr");
	table_head(&t, "WORKER", "LCORE", "BUSY");
	json_array_foreach(jget(r, "workers"), i, e) {
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "id")));
		cell_str(&t, fmt_num(b, sizeof(b), jget(e, "lcore")));
		cell_str(&t, fmt_pct(a, sizeof(a), jget(e, "busy_pct")));
	}
	section(out, "workers", &t);
	render_kafka(out, jget(r, "kafka"));
}

/* status's kafka member: the connection, then each shared bucket. */
static void render_kafka(struct sbuf *out, const json_t *k)
{
	char a[64];
	struct table t;
	json_t *e, *v;
	size_t i;

	if (!json_is_object(k))
		return;
	table_init(&t, "ll");
	kv_value(&t, "node", jget(k, "node"));
	kv_value(&t, "brokers", jget(k, "brokers"));
	cell_str(&t, "connected");
	cell_str(&t, json_is_true(jget(k, "connected")) ? "yes" : "NO");
	cell_str(&t, "commands replayed");
	cell_str(&t, json_is_true(jget(k, "commands_replayed")) ? "yes" :
								  "not yet");
	kv_value(&t, "outage policy", jget(k, "outage_policy"));
	kv_value(&t, "last record back (ms)", jget(k, "last_sync_back_ms"));
	kv_value(&t, "sync sent", jget(k, "sync_sent"));
	kv_value(&t, "sync received", jget(k, "sync_received"));
	kv_value(&t, "sync rejected", jget(k, "sync_rejected"));
	kv_value(&t, "sync stale", jget(k, "sync_stale"));
	kv_value(&t, "commands sent", jget(k, "commands_sent"));
	kv_value(&t, "commands received", jget(k, "commands_received"));
	if ((v = jget(k, "last_error")) && !json_is_null(v))
		kv_value(&t, "last error", v);
	section(out, "kafka", &t);

	if (json_array_size(jget(k, "shared"))) {
		table_init(&t, "llllrr");
		table_head(&t, "BUCKET", "SHARED ID", "STATE", "NODES",
			   "CLUSTER RATE", "THIS NODE");
		json_array_foreach(jget(k, "shared"), i, e) {
			cell_value(&t, jget(e, "bucket"), 0);
			cell_value(&t, jget(e, "shared"), 0);
			cell_value(&t, jget(e, "sync_state"), 0);
			cell_value(&t, jget(e, "live_nodes"), 0);
			cell_str(&t, fmt_si_json(a, sizeof(a),
						 jget(e, "cluster_rate"), "/s"));
			cell_str(&t, fmt_si_json(a, sizeof(a),
						 jget(e, "node_share"), "/s"));
		}
		section(out, "shared buckets", &t);
	}
	if (json_array_size(jget(k, "lag"))) {
		table_init(&t, "lllr");
		table_head(&t, "GROUP", "TOPIC", "LAG", "ERROR");
		json_array_foreach(jget(k, "lag"), i, e) {
			cell_value(&t, jget(e, "group"), 0);
			cell_value(&t, jget(e, "topic"), 0);
			cell_value(&t, jget(e, "lag"), 0);
			v = jget(e, "error");
			cell_str(&t, json_is_string(v) ? json_string_value(v) :
							 "");
		}
		section(out, "consumer groups", &t);
	}
}

/* The sum of the members of outcomes whose name starts with prefix. */
static double outcome_sum(const json_t *outcomes, const char *prefix)
{
	double sum = 0;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)outcomes, k, v) {
		if (json_is_number(v) && !strncmp(k, prefix, strlen(prefix)))
			sum += json_number_value(v);
	}
	return sum;
}

/* stats: buckets (limits), traffic (rates and totals), workers, and the
 * outcomes of all workers with their share of rx. */
static void render_stats(struct sbuf *out, const json_t *r)
{
	char a[64];
	struct table t;
	json_t *e, *v;
	const char *k;
	double rx = 0;
	size_t i;

	table_init(&t, "lllllrrrrr");
	table_head(&t, "BUCKET", "TIER", "PIPELINE", "MODE", "CONTROL",
		   "CONFIGURED", "EFFECTIVE", "OVERRIDE", "BURST", "TOKENS");
	json_array_foreach(jget(r, "buckets"), i, e) {
		cell_value(&t, jget(e, "name"), 0);
		cell_value(&t, jget(e, "tier"), 0);
		cell_value(&t, jget(e, "pipeline"), 0);
		cell_value(&t, jget(e, "mode"), 0);
		cell_value(&t, jget(e, "controller"), 0);
		cell_str(&t, fmt_si_json(a, sizeof(a),
					 jget(e, "configured_rate"), "/s"));
		cell_str(&t, fmt_si_json(a, sizeof(a),
					 jget(e, "effective_rate"), "/s"));
		cell_str(&t, fmt_si_json(a, sizeof(a), jget(e, "override_rate"),
					 "/s"));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "burst")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "tokens")));
	}
	section(out, "buckets", &t);

	table_init(&t, "lrrrrrrr");
	table_head(&t, "BUCKET", "UTIL", "DEMAND", "ADMITTED", "REJECTED",
		   "ADM TOTAL", "REJ TOTAL", "SHADOW REJ");
	json_array_foreach(jget(r, "buckets"), i, e) {
		cell_value(&t, jget(e, "name"), 0);
		cell_str(&t, fmt_frac(a, sizeof(a), jget(e, "utilization"), 0));
		cell_str(&t, fmt_si_json(a, sizeof(a), jget(e, "demand_rate"),
					 "/s"));
		cell_str(&t, fmt_si_json(a, sizeof(a), jget(e, "admitted_rate"),
					 "/s"));
		cell_str(&t, fmt_si_json(a, sizeof(a), jget(e, "rejected_rate"),
					 "/s"));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "admitted")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "rejected")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "shadow_rejected")));
	}
	section(out, "traffic", &t);

	table_init(&t, "rrrrrrr");
	table_head(&t, "WORKER", "BUSY", "RX", "ADMITTED", "MARKED", "SHAPED",
		   "DROPPED");
	json_array_foreach(jget(r, "workers"), i, e) {
		v = jget(e, "outcomes");
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "id")));
		cell_str(&t, fmt_pct(a, sizeof(a), jget(e, "busy_pct")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "rx")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(v, "admitted")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(v, "marked")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(v, "shaped")));
		cell_str(&t,
			 fmt_real(a, sizeof(a), outcome_sum(v, "dropped_")));
	}
	section(out, "workers", &t);

	jnum(r, "rx", &rx);
	table_init(&t, "lrr");
	table_head(&t, "OUTCOME", "COUNT", "SHARE");
	cell_str(&t, "rx");
	cell_str(&t, fmt_num(a, sizeof(a), jget(r, "rx")));
	cell_str(&t, "");
	json_object_foreach(jget(r, "outcomes"), k, v) {
		cell_san(&t, k, strlen(k));
		cell_str(&t, fmt_num(a, sizeof(a), v));
		if (rx > 0 && json_is_number(v))
			snprintf(a, sizeof(a), "%.1f%%",
				 json_number_value(v) * 100.0 / rx);
		else
			snprintf(a, sizeof(a), "-");
		cell_str(&t, a);
	}
	section(out, "outcomes", &t);
}

/* "yes" for true, "no" for false, put_value() for anything else. */
static void cell_bool(struct table *t, const json_t *v)
{
	if (json_is_boolean(v))
		cell_str(t, json_is_true(v) ? "yes" : "no");
	else
		cell_value(t, v, 0);
}

/* credits show: a table of consumers, a table of pipelines. */
static void render_credits(struct sbuf *out, const json_t *r)
{
	char a[64];
	struct table t;
	json_t *e;
	size_t i;

	table_init(&t, "lrrrl");
	table_head(&t, "CONSUMER", "AVAILABLE", "GRANTED", "LEFT", "BLOCKED");
	json_array_foreach(jget(r, "consumers"), i, e) {
		cell_value(&t, jget(e, "consumer"), 0);
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "available")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "granted")));
		cell_str(&t,
			 fmt_frac(a, sizeof(a), jget(e, "fraction_left"), 0));
		cell_bool(&t, jget(e, "blocked"));
	}
	section(out, "consumers", &t);

	table_init(&t, "lrrrl");
	table_head(&t, "PIPELINE", "RING FREE", "RING SIZE", "FREE", "BLOCKED");
	json_array_foreach(jget(r, "pipelines"), i, e) {
		cell_value(&t, jget(e, "name"), 0);
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "ring_free")));
		cell_str(&t, fmt_num(a, sizeof(a), jget(e, "ring_size")));
		cell_str(&t,
			 fmt_frac(a, sizeof(a), jget(e, "fraction_free"), 0));
		cell_bool(&t, jget(e, "blocked"));
	}
	section(out, "pipelines", &t);
}

/* severity or breaker: their state (coloured), then the other members. */
static void render_level(struct sbuf *out, const json_t *r, const char *key,
			 const struct ui *ui)
{
	const char *k;
	struct table t;
	struct sbuf *c;
	json_t *v;

	table_init(&t, "ll");
	cell_str(&t, key);
	c = cell_open(&t);
	put_level(c, jget(r, key), ui);
	cell_close(&t);
	json_object_foreach((json_t *)r, k, v) {
		if (!strcmp(k, key))
			continue;
		c = cell_open(&t);
		sbuf_san(c, k, strlen(k));
		cell_close(&t);
		cell_bool(&t, v);
	}
	table_print(&t, out, "");
	table_free(&t);
}

/*
 * Render a reply (an object that is not an error) by its shape: the
 * members a kind of reply always has pick the rendering, so it does not
 * matter which command asked, and an unknown shape prints as "key: value"
 * lines. Members a rendering does not know are ignored.
 */
static void render(struct sbuf *out, const json_t *r, const struct ui *ui)
{
	if (jget(r, "ok"))
		render_ok(out, r);
	else if (json_is_array(jget(r, "commands")))
		render_help(out, r);
	else if (json_is_array(jget(r, "buckets")))
		render_stats(out, r);
	else if (jget(r, "uptime_s") ||
		 (jget(r, "version") && jget(r, "severity")))
		render_status(out, r, ui);
	else if (json_is_array(jget(r, "consumers")) ||
		 json_is_array(jget(r, "pipelines")))
		render_credits(out, r);
	else if (json_is_string(jget(r, "severity")) &&
		 (jget(r, "forced") || jget(r, "auto_level")))
		render_level(out, r, "severity", ui);
	else if (json_is_string(jget(r, "breaker")) && jget(r, "mode"))
		render_level(out, r, "breaker", ui);
	else
		render_kv(out, r, NULL);
}

/* --------------------------------------------------------------- options */

struct opts {
	const char *socket; /* path; borrowed from argv or environ */
	bool json;	    /* --json */
	double timeout_s;   /* --timeout */
	double interval_s;  /* --interval (top) */
	long iterations;    /* --iterations (top); 0: until q */
	bool top_opts;	    /* --interval or --iterations given */
	char **words;	    /* the command; borrowed from argv */
	int n_words;
};

/* clang-format off */
static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " [-s SOCKET] [--json] [--timeout S] COMMAND [ARGS...]\n"
"       " PROG " [-s SOCKET] top [--interval S] [--iterations N]\n"
"\n"
"Sends one command to tidegate's admin socket and prints the reply.\n"
"\n"
"  -s, --socket PATH   the admin socket (default: $" CTL_SOCKET_ENV ",\n"
"                      else " CTL_SOCKET ")\n"
"  -j, --json          print the reply as JSON (one indented object)\n"
"  -t, --timeout S     seconds for connecting and the reply (default 5)\n"
"  -i, --interval S    top: seconds between refreshes (default 1)\n"
"  -n, --iterations N  top: draw N screens, then exit (default: until q)\n"
"  -h, --help          this text\n"
"\n"
"Commands (`" PROG " help` asks tidegate for its list):\n"
"  status | stats | help | config reload\n"
"  set-rate BUCKET RATE [BURST] | clear-override BUCKET | reset BUCKET\n"
"  severity [force LEVEL | auto] | breaker [open | close | auto]\n"
"  lag inject N | lag clear | credits show [CONSUMER]\n"
"  credits grant CONSUMER N | top (drawn here: q or Ctrl-C quits)\n"
"Options may follow the command; \"--\" ends them, for an argument that\n"
"starts with \"-\".\n"
"\n"
"Exit status: 0 success, 1 tidegate answered with an error, 2 usage,\n"
"connection or protocol error.\n");
}
/* clang-format on */

/* A number of seconds in (0, CTL_MAX_S]. */
static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s || *end || !(x > 0 && x <= CTL_MAX_S))
		return false;
	*out = x;
	return true;
}

/*
 * Parse the command line into o. Returns -1 to go on, or the exit status
 * to end with (after --help, or a usage error already reported).
 */
static int opts_parse(struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"timeout", required_argument, NULL, 't'},
	    {"interval", required_argument, NULL, 'i'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *env = getenv(CTL_SOCKET_ENV);
	char *end;
	int c, i;
	size_t j;

	memset(o, 0, sizeof(*o));
	o->socket = env && *env ? env : CTL_SOCKET;
	o->timeout_s = CTL_TIMEOUT_S;
	o->interval_s = 1.0;
	while ((c = getopt_long(argc, argv, "s:jt:i:n:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			if (!*optarg)
				goto bad_arg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			if (!parse_seconds(optarg, &o->timeout_s))
				goto bad_arg;
			break;
		case 'i':
			if (!parse_seconds(optarg, &o->interval_s))
				goto bad_arg;
			o->top_opts = true;
			break;
		case 'n':
			errno = 0;
			o->iterations = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || o->iterations < 0)
				goto bad_arg;
			o->top_opts = true;
			break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		default:
			goto usage;
		}
	}
	o->words = argv + optind;
	o->n_words = argc - optind;
	if (!o->n_words) {
		fprintf(stderr,
			PROG ": no command (try: " PROG " help; or " PROG
			     " -h for the options)\n");
		return CTL_EXIT_FAIL;
	}
	for (i = 0; i < o->n_words; i++) {
		for (j = 0; o->words[i][j]; j++) {
			if ((unsigned char)o->words[i][j] <= ' ' ||
			    o->words[i][j] == 0x7f)
				break;
		}
		if (!j || o->words[i][j]) {
			fprintf(stderr,
				PROG ": argument %d is empty or "
				     "holds a space or a control character: a "
				     "request is one line of words\n",
				i + 1);
			return CTL_EXIT_FAIL;
		}
	}
	if (!strcmp(o->words[0], "top")) {
		if (o->n_words > 1 || o->json) {
			fprintf(stderr, PROG ": top takes no arguments and "
					     "no --json, only --interval and "
					     "--iterations\n");
			return CTL_EXIT_FAIL;
		}
	} else if (o->top_opts) {
		fprintf(stderr, PROG ": --interval and --iterations are "
				     "for top\n");
		return CTL_EXIT_FAIL;
	}
	return -1;
bad_arg:
	for (i = 0; lo[i].val != c; i++)
		;
	fprintf(stderr, PROG ": bad value for --%s: '%s' (%s)\n", lo[i].name,
		optarg,
		c == 'n'   ? "a count, 0 for no end"
		: c == 's' ? "a path"
			   : "seconds, more than 0, at most 86400");
	return CTL_EXIT_FAIL;
usage:
	usage(stderr);
	return CTL_EXIT_FAIL;
}

/* The request line for the command: its words joined by single spaces,
 * and a newline. Caller frees; NULL when out of memory. */
static char *request_line(const struct opts *o)
{
	struct sbuf b = {0};
	int i;

	for (i = 0; i < o->n_words; i++) {
		if (i)
			sbuf_putc(&b, ' ');
		sbuf_puts(&b, o->words[i]);
	}
	sbuf_putc(&b, '\n');
	if (b.oom) {
		sbuf_free(&b);
		return NULL;
	}
	return b.s;
}

/* Colours on stdout: a terminal, not "dumb", and no $NO_COLOR. */
static bool want_color(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
	       !(term && !strcmp(term, "dumb"));
}

/* Flush stdout; CTL_EXIT_FAIL with a message when the output was lost. */
static int flush_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return CTL_EXIT_OK;
	fprintf(stderr, PROG ": cannot write the output: %s\n",
		strerror(errno));
	return CTL_EXIT_FAIL;
}

/*
 * Print r as indented JSON and a newline. jansson escapes the C0 controls
 * only; on a terminal, non-ASCII is escaped too (\uXXXX: the C1 controls
 * among it) and so is DEL, the one control jansson leaves, which can only
 * be inside a string. Into a pipe the text stays as jansson wrote it.
 * Returns 0, or -ENOMEM.
 */
static int print_json(const json_t *r)
{
	bool tty = isatty(STDOUT_FILENO);
	char *dump, *p;

	dump = json_dumps(r, JSON_INDENT(2) | (tty ? JSON_ENSURE_ASCII : 0));
	if (!dump)
		return -ENOMEM;
	for (p = dump; *p; p++) {
		if (*p == 0x7f)
			fputs("\\u007F", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	free(dump);
	return 0;
}

/*
 * Print a reply as o asks and say how it went: an "error" member (any
 * type) goes to stderr and makes it CTL_EXIT_ERROR, as does "ok": false;
 * with --json the object is printed on stdout in every case, so scripts
 * see the error too.
 */
static int show_reply(const struct opts *o, const json_t *r)
{
	struct ui ui = {.color = want_color()};
	struct sbuf out = {0};
	json_t *err = jget(r, "error");
	int rc = CTL_EXIT_OK;

	if (o->json && print_json(r) != 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return CTL_EXIT_FAIL;
	}
	if (err || json_is_false(jget(r, "ok"))) {
		if (err)
			put_value(&out, err);
		else
			sbuf_puts(&out, "tidegate answered \"ok\": false");
		if (!out.oom)
			fprintf(stderr, PROG ": %s\n", out.s);
		rc = out.oom ? CTL_EXIT_FAIL : CTL_EXIT_ERROR;
	} else if (!o->json) {
		render(&out, r, &ui);
		if (!out.oom)
			fwrite(out.s, 1, out.len, stdout);
		rc = out.oom ? CTL_EXIT_FAIL : CTL_EXIT_OK;
	}
	if (out.oom)
		fprintf(stderr, PROG ": out of memory\n");
	sbuf_free(&out);
	if (flush_stdout() != CTL_EXIT_OK)
		return CTL_EXIT_FAIL;
	return rc;
}

/* One command, one reply: the whole run but for top. */
static int ctl_once(const struct opts *o)
{
	int64_t deadline = mono_ns() + (int64_t)(o->timeout_s * NS_PER_S);
	char err[512];
	json_t *reply = NULL;
	struct conn c;
	char *req;
	int rc;

	req = request_line(o);
	if (!req) {
		fprintf(stderr, PROG ": out of memory\n");
		return CTL_EXIT_FAIL;
	}
	conn_init(&c, o->timeout_s);
	rc = conn_connect(&c, o->socket, deadline, err, sizeof(err));
	if (rc == CONN_OK)
		rc = conn_call(&c, req, deadline, &reply, err, sizeof(err));
	conn_free(&c);
	free(req);
	if (rc != CONN_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		return CTL_EXIT_FAIL;
	}
	rc = show_reply(o, reply);
	json_decref(reply);
	return rc;
}

/* ------------------------------------------------------------------- top */

/* The state of top between refreshes. */
struct top {
	const struct opts *o;
	struct conn conn; /* kept open across refreshes */
	struct ui ui;
	bool tty;	      /* stdout is a terminal: redraw in place */
	bool raw;	      /* stdin is a terminal we put in raw mode */
	struct termios saved; /* its mode before */
	json_t *prev;	      /* outcomes of the last stats, or NULL */
	json_t *prev_rx;      /* rx of the last stats, or NULL */
	int64_t prev_ns;      /* when they came, monotonic */
	struct sbuf frame;    /* the screen being drawn */
	struct sbuf screen;   /* the frame clipped, with escapes */
};

/* SIGINT, SIGTERM, SIGHUP in top: remember it; the loop quits. */
static void on_signal(int sig)
{
	g_signal = sig;
	g_quit = 1;
}

/*
 * Catch the signals that end top, and block them outside ctl_wait() (whose
 * ppoll() opens them), so that one arriving while a frame is drawn ends
 * the next wait instead of being lost.
 */
static void top_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;
	sigset_t set;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&set, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &set, &g_waitmask);
	g_masked = true;
}

/*
 * Ask for status and stats. A connection kept from the last refresh may
 * have been closed by the server meanwhile: then connect again and ask
 * once more. Returns a conn_rc; on CONN_OK the caller owns both replies.
 */
static int top_fetch(struct top *t, json_t **st, json_t **sx, char *err,
		     size_t errlen)
{
	struct conn *c = &t->conn;
	int64_t deadline;
	bool fresh;
	int attempt, rc = CONN_FAIL;

	deadline = mono_ns() + (int64_t)(t->o->timeout_s * NS_PER_S);
	for (attempt = 0; attempt < 2; attempt++) {
		fresh = c->fd < 0;
		if (fresh) {
			rc = conn_connect(c, t->o->socket, deadline, err,
					  errlen);
			if (rc != CONN_OK)
				return rc;
		}
		rc = conn_call(c, "status\n", deadline, st, err, errlen);
		if (rc == CONN_OK)
			rc = conn_call(c, "stats\n", deadline, sx, err, errlen);
		if (rc == CONN_OK)
			return rc;
		json_decref(*st);
		*st = NULL;
		conn_close(c);
		if (rc != CONN_FAIL || fresh)
			return rc;
	}
	return rc;
}

/* The first line of every screen: what, where, when. */
static void top_title(struct top *t, struct sbuf *f, const json_t *st)
{
	char now[16] = "", a[64];
	struct tm tm;
	time_t tt = time(NULL);
	double x;

	if (localtime_r(&tt, &tm))
		strftime(now, sizeof(now), "%H:%M:%S", &tm);
	sbuf_puts(f, "tidegate ");
	if (jget(st, "version"))
		put_value(f, jget(st, "version"));
	if (jnum(st, "uptime_s", &x))
		sbuf_printf(f, "   up %s", fmt_duration(a, sizeof(a), x));
	sbuf_puts(f, "   ");
	sbuf_san(f, t->o->socket, strlen(t->o->socket));
	sbuf_printf(f, "   %s\n", now);
}

/* The busiest worker of status (or else stats): "99.5% (worker 0)". */
static void put_busiest(struct sbuf *f, const json_t *st, const json_t *sx)
{
	json_t *ws = jget(st, "workers"), *e, *best = NULL;
	double x, max = -1;
	char a[64];
	size_t i;

	if (!json_array_size(ws))
		ws = jget(sx, "workers");
	json_array_foreach(ws, i, e) {
		if (jnum(e, "busy_pct", &x) && x > max) {
			max = x;
			best = e;
		}
	}
	if (!best) {
		sbuf_puts(f, "-");
		return;
	}
	sbuf_puts(f, fmt_pct(a, sizeof(a), jget(best, "busy_pct")));
	sbuf_printf(f, " (worker %s)", fmt_num(a, sizeof(a), jget(best, "id")));
}

/* Lines 2 and 3: severity, breaker, lag; ticks, busiest worker. */
static void top_header(struct top *t, struct sbuf *f, const json_t *st,
		       const json_t *sx)
{
	char a[64];
	json_t *v;
	double x;

	if ((v = jget(st, "error"))) {
		sbuf_puts(f, "status: ");
		put_value(f, v);
		sbuf_putc(f, '\n');
		return;
	}
	sbuf_puts(f, "severity ");
	put_level(f, jget(st, "severity"), &t->ui);
	if (json_is_true(jget(st, "severity_forced")))
		sbuf_puts(f, " (forced)");
	sbuf_puts(f, "   breaker ");
	put_level(f, jget(st, "breaker"), &t->ui);
	if ((v = jget(st, "breaker_mode"))) {
		sbuf_puts(f, " (");
		put_value(f, v);
		sbuf_puts(f, ")");
	}
	sbuf_puts(f, "   lag ");
	v = jget(st, "lag");
	if (json_is_number(v))
		put_value(f, v);
	else
		sbuf_puts(f, "unknown");
	sbuf_printf(f, "\nticks %s", fmt_num(a, sizeof(a), jget(st, "tick")));
	if (jnum(st, "tick_ms", &x))
		sbuf_printf(f, " every %s ms", fmt_real(a, sizeof(a), x));
	sbuf_puts(f, "   busiest worker ");
	put_busiest(f, st, sx);
	if (jnum(st, "reaction_us", &x))
		sbuf_printf(f, "   reaction %s us", fmt_real(a, sizeof(a), x));
	sbuf_putc(f, '\n');
}

/* A utilization bar, "[#######---]  72%"; past 100% the bar is full. */
static void put_bar(struct sbuf *b, const json_t *u)
{
	double x = json_is_number(u) ? json_number_value(u) : -1;
	size_t full = 0;

	if (x > 0)
		full = x >= 1 ? TOP_BAR : (size_t)(x * TOP_BAR + 0.5);
	sbuf_putc(b, '[');
	sbuf_fill(b, '#', full);
	sbuf_fill(b, '-', TOP_BAR - full);
	if (x < 0 || !(x < 1e6))
		sbuf_puts(b, "]    -");
	else
		sbuf_printf(b, "] %3.0f%%", x * 100);
}

/* One row per bucket: rates without their "/s", which the header says. */
static void top_buckets(struct sbuf *f, const json_t *sx)
{
	char a[64];
	struct table t;
	json_t *e;
	size_t i;

	if (jget(sx, "error")) {
		sbuf_puts(f, "stats: ");
		put_value(f, jget(sx, "error"));
		sbuf_putc(f, '\n');
		return;
	}
	table_init(&t, "llrrlrrr");
	table_head(&t, "BUCKET", "TIER", "CONF/s", "EFF/s", "UTILIZATION",
		   "DEMAND/s", "ADMIT/s", "REJECT/s");
	json_array_foreach(jget(sx, "buckets"), i, e) {
		cell_value(&t, jget(e, "name"), TOP_NAME);
		cell_value(&t, jget(e, "tier"), 0);
		cell_str(&t, fmt_si_json(a, sizeof(a),
					 jget(e, "configured_rate"), ""));
		cell_str(&t, fmt_si_json(a, sizeof(a),
					 jget(e, "effective_rate"), ""));
		put_bar(cell_open(&t), jget(e, "utilization"));
		cell_close(&t);
		cell_str(&t,
			 fmt_si_json(a, sizeof(a), jget(e, "demand_rate"), ""));
		cell_str(&t, fmt_si_json(a, sizeof(a), jget(e, "admitted_rate"),
					 ""));
		cell_str(&t, fmt_si_json(a, sizeof(a), jget(e, "rejected_rate"),
					 ""));
	}
	if (table_rows(&t) < 2)
		sbuf_puts(f, "no buckets\n");
	else
		table_print(&t, f, "");
	table_free(&t);
}

/*
 * The rate of a counter (now v, prev dt seconds ago) into buf: "-" when
 * either is not a number, or when the counter went back (a reset).
 */
static const char *top_rate(char *buf, size_t n, const json_t *v,
			    const json_t *prev, double dt)
{
	double d;

	if (!json_is_number(v) || !json_is_number(prev) || !(dt > 0))
		return strcpy(buf, "-");
	d = json_number_value(v) - json_number_value(prev);
	if (d < 0)
		return strcpy(buf, "-");
	return fmt_si(buf, n, d / dt, "");
}

/*
 * rx and the outcomes that happened (admitted always), each as a rate over
 * the time since the last refresh and a total; then remember these counts
 * for the next refresh.
 */
static void top_outcomes(struct top *t, struct sbuf *f, const json_t *sx,
			 int64_t now)
{
	json_t *oc = jget(sx, "outcomes"), *v, *rx;
	double dt = t->prev ? (double)(now - t->prev_ns) / NS_PER_S : 0;
	char a[64], b[64];
	struct table tb;
	const char *k;

	if (!json_is_object(oc))
		return;
	rx = jget(sx, "rx");
	table_init(&tb, "lrr");
	table_head(&tb, "OUTCOME", "RATE/s", "TOTAL");
	cell_str(&tb, "rx");
	cell_str(&tb, top_rate(a, sizeof(a), rx, t->prev_rx, dt));
	cell_str(&tb, fmt_num(b, sizeof(b), rx));
	json_object_foreach(oc, k, v) {
		if (strcmp(k, "admitted") &&
		    !(json_is_number(v) && json_number_value(v) != 0))
			continue;
		cell_san(&tb, k, strlen(k));
		cell_str(&tb, top_rate(a, sizeof(a), v, jget(t->prev, k), dt));
		cell_str(&tb, fmt_num(b, sizeof(b), v));
	}
	sbuf_putc(f, '\n');
	table_print(&tb, f, "");
	table_free(&tb);
	if (!t->prev)
		sbuf_puts(f, "(rates from the next refresh)\n");
	json_decref(t->prev);
	t->prev = json_incref(oc);
	json_decref(t->prev_rx);
	t->prev_rx = json_incref(rx);
	t->prev_ns = now;
}

/* Write the frame: on a terminal over the last one, each line clipped to
 * the width and no more lines than fit; elsewhere as it is, then a blank
 * line. */
static void top_show(struct top *t)
{
	struct winsize ws = {0};
	struct sbuf *s = &t->screen;
	const char *p = t->frame.s, *nl;
	size_t rows = 0, cols = (size_t)-1, line = 0;

	if (t->frame.oom) {
		sbuf_reset(&t->frame);
		sbuf_puts(&t->frame, "out of memory\n");
		p = t->frame.s;
	}
	if (!t->tty) {
		if (p)
			fputs(p, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		return;
	}
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		rows = ws.ws_row;
		cols = (size_t)ws.ws_col - 1;
	}
	sbuf_reset(s);
	sbuf_puts(s, "\033[H");
	while (p && *p && (!rows || line + 1 < rows)) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		sbuf_clip(s, p, (size_t)(nl - p), cols);
		sbuf_puts(s, "\033[K\n");
		line++;
		p = *nl ? nl + 1 : nl;
	}
	sbuf_puts(s, "\033[J");
	if (!s->oom)
		fwrite(s->s, 1, s->len, stdout);
	fflush(stdout);
}

/* Draw one refresh into t->frame: the screen, or why there is none. */
static void top_refresh(struct top *t)
{
	json_t *st = NULL, *sx = NULL;
	char err[512];
	int rc;

	rc = top_fetch(t, &st, &sx, err, sizeof(err));
	if (rc == CONN_QUIT)
		return;
	sbuf_reset(&t->frame);
	if (rc != CONN_OK) {
		top_title(t, &t->frame, NULL);
		if (t->ui.color)
			sbuf_puts(&t->frame, "\033[33m");
		sbuf_printf(&t->frame, "disconnected, retrying every %g s",
			    t->o->interval_s);
		if (t->ui.color)
			sbuf_puts(&t->frame, "\033[0m");
		sbuf_puts(&t->frame, ": ");
		sbuf_san(&t->frame, err, strlen(err));
		sbuf_putc(&t->frame, '\n');
		/* Counters after a reconnect may be another process's. */
		json_decref(t->prev);
		t->prev = NULL;
	} else {
		top_title(t, &t->frame, st);
		top_header(t, &t->frame, st, sx);
		sbuf_putc(&t->frame, '\n');
		top_buckets(&t->frame, sx);
		top_outcomes(t, &t->frame, sx, mono_ns());
	}
	if (t->conn.key_fd >= 0)
		sbuf_puts(&t->frame, "\nq quits\n");
	json_decref(st);
	json_decref(sx);
	top_show(t);
}

/*
 * Run top until q, a signal, or the iterations are done. Returns
 * CTL_EXIT_OK, or minus the signal that ended it, for main() to re-raise
 * once the terminal is back as it was.
 */
static int top_run(const struct opts *o)
{
	int64_t next, interval = (int64_t)(o->interval_s * NS_PER_S);
	struct termios raw;
	struct top t;
	long n;

	memset(&t, 0, sizeof(t));
	t.o = o;
	t.ui.color = want_color();
	t.tty = isatty(STDOUT_FILENO);
	conn_init(&t.conn, o->timeout_s);
	top_signals();
	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &t.saved)) {
		raw = t.saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (!tcsetattr(STDIN_FILENO, TCSANOW, &raw)) {
			t.raw = true;
			t.conn.key_fd = STDIN_FILENO;
		}
	}
	if (t.tty)
		fputs("\033[?1049h\033[?25l", stdout);

	next = mono_ns();
	for (n = 0; !g_quit;) {
		top_refresh(&t);
		if (o->iterations && ++n >= o->iterations)
			break;
		next += interval;
		if (next < mono_ns())
			next = mono_ns();
		if (ctl_wait(-1, 0, &t.conn.key_fd, next) == -EINTR)
			break;
	}

	if (t.tty)
		fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (t.raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &t.saved);
	conn_free(&t.conn);
	json_decref(t.prev);
	json_decref(t.prev_rx);
	sbuf_free(&t.frame);
	sbuf_free(&t.screen);
	sigprocmask(SIG_SETMASK, &g_waitmask, NULL);
	return g_signal ? -g_signal : CTL_EXIT_OK;
}

/* Exit status: enum ctl_exit, or death by the signal that ended top. */
int main(int argc, char **argv)
{
	struct opts o;
	int rc;

	rc = opts_parse(&o, argc, argv);
	if (rc >= 0)
		return rc;
	if (strcmp(o.words[0], "top"))
		return ctl_once(&o);
	rc = top_run(&o);
	if (rc < 0) {
		/* Die of the signal, as a shell expects of a program that
		 * was interrupted, now that the terminal is restored. */
		signal(-rc, SIG_DFL);
		raise(-rc);
		return 128 - rc;
	}
	return rc;
}
