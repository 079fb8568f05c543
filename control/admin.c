/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The admin socket server (see admin.h): one epoll set holds the listening
 * socket and every client, every socket is non-blocking, and one
 * admin_poll() does a bounded amount of work (ADMIN_* below), so that the
 * control thread's tick never waits on a client, however many there are and
 * whatever they do. Each client has a fixed input buffer of max_line + 2
 * bytes (a line and its "\r\n": a line that does not fit is too long by
 * construction) and a growing output buffer that is written as the socket
 * accepts it and that may not pass max_out. POSIX and jansson only;
 * everything runs on the control thread.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4(), struct ucred */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "clock.h"

#define ADMIN_DEF_MODE	      0660
#define ADMIN_DEF_MAX_CLIENTS 128
#define ADMIN_DEF_MAX_LINE    4096
#define ADMIN_DEF_MAX_OUT     (4u << 20)
#define ADMIN_MAX_LINE_LIMIT  (16u << 20) /* input buffers are per client */

/*
 * The work one admin_poll() may do, besides the handler calls themselves:
 * at most ADMIN_EVENTS ready sockets, ADMIN_ACCEPTS new connections, one
 * read of at most max_line + 2 bytes and one flush per client, and
 * ADMIN_REQS_CLIENT requests of one client, ADMIN_REQS_CALL in all. Lines
 * left over wait on the backlog list and go first in the next call (which
 * then does not sleep), so one chatty client cannot starve the others.
 */
#define ADMIN_EVENTS	  64
#define ADMIN_ACCEPTS	  64
#define ADMIN_REQS_CLIENT 16
#define ADMIN_REQS_CALL	  256
/* Unread input discarded before a close, so that the peer reads our last
 * line and then EOF, not ECONNRESET (AF_UNIX resets a peer whose data was
 * left unread). Bounded: a flooding client gets its reset. */
#define ADMIN_DRAIN_BYTES 65536
/* Out of file descriptors: the listener rests this long (or until a client
 * leaves) instead of waking every call for a connection it cannot take. */
#define ADMIN_PAUSE_NS 100000000LL
/* uids or gids listed in the permission error, the rest counted. */
#define ADMIN_DESC_IDS 16

/* Circular intrusive list, as in the Linux kernel. */
struct alink {
	struct alink *prev, *next;
};

struct admin_client {
	struct admin *a; /* borrowed: the server */
	int fd;		 /* -1 once closed */
	uid_t uid;	 /* SO_PEERCRED at accept */
	gid_t gid;
	struct alink node; /* a->clients, then a->dead once closed */
	struct alink bl;   /* a->backlog while lines wait */
	uint32_t events;   /* epoll interest now */
	uint64_t gen;	   /* admin_poll() call that last ran it */
	unsigned served;   /* requests handled in call gen */
	unsigned replies;  /* replies to the request in the handler */
	bool in_handler;   /* the handler runs for this client */
	bool eof;	   /* the peer shut down its writing side */
	bool closing;	   /* no more requests; close once out sent */
	bool broken;	   /* out of memory: drop at settle */
	bool dead;	   /* closed, freed at the end of the call */
	char *out;	   /* owned: replies not yet written */
	size_t out_off;	   /* out[out_off, out_len) is pending */
	size_t out_len;
	size_t out_cap;
	size_t in_start; /* in[in_start, in_len) is unprocessed */
	size_t in_len;
	char in[]; /* max_line + 2 bytes */
};

struct admin {
	int fd;	    /* listening socket, -1 if none */
	int epfd;   /* -1 if none */
	char *path; /* owned copy of the socket path */
	unsigned mode;
	uid_t *uids; /* owned copies of the allow lists */
	size_t n_uids;
	gid_t *gids;
	size_t n_gids;
	char *allowed; /* owned: "root, uids 1 2, gids 3" */
	uid_t euid;    /* allowed when both lists are empty */
	unsigned max_clients;
	size_t max_line; /* bytes, newline not counted */
	size_t max_out;	 /* bytes pending per client */
	admin_handler_fn fn;
	void *ctx;  /* borrowed: the handler's */
	bool bound; /* the file at path was ours: dev, ino, ctime */
	dev_t dev;
	ino_t ino;
	struct timespec ctime;
	bool paused;	    /* listener out of epoll after EMFILE */
	bool left;	    /* a client left since the pause */
	int64_t resume_ns;  /* CLOCK_MONOTONIC */
	unsigned n_clients; /* on a->clients */
	struct alink clients;
	struct alink backlog;
	struct alink dead;
	uint64_t gen;	 /* admin_poll() calls */
	unsigned budget; /* requests left in this call */
	int handled;	 /* requests handled in this call */
};

/* The client that holds link l as its member node or bl. */
static struct admin_client *client_of_node(struct alink *l)
{
	char *p = (char *)l - offsetof(struct admin_client, node);

	return (struct admin_client *)(void *)p;
}

static struct admin_client *client_of_bl(struct alink *l)
{
	char *p = (char *)l - offsetof(struct admin_client, bl);

	return (struct admin_client *)(void *)p;
}

/* l as an empty list head, or as a link on no list. */
static void alink_init(struct alink *l)
{
	l->prev = l;
	l->next = l;
}

/* Is the list at head l empty (or the link l on no list)? */
static bool alink_empty(const struct alink *l)
{
	return l->next == l;
}

/* Appends l, which must be on no list, to the list at head. */
static void alink_add_tail(struct alink *head, struct alink *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

/* Unlinks l (a no-op when it is on no list) and leaves it on none. */
static void alink_del(struct alink *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	alink_init(l);
}

/* Formats a message into err (NULL or err_len 0: none wanted). */
static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/* CLOCK_MONOTONIC in nanoseconds. */
static int64_t now_ns(void)
{
	return (int64_t)tg_mono_ns();
}

/*
 * {"error": message} from a printf format. Returns a new reference, or
 * NULL when memory runs out. The message may carry request bytes that are
 * not UTF-8, which JSON cannot hold: they become '?', so that a person
 * still reads the rest.
 */
static json_t *error_vbuild(const char *fmt, va_list ap)
{
	va_list ap2;
	json_t *obj = NULL, *s;
	char *msg, *p;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return NULL;
	msg = malloc((size_t)n + 1);
	if (!msg)
		return NULL;
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	s = json_string(msg);
	if (!s) {
		for (p = msg; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		s = json_string(msg);
	}
	free(msg);
	if (s)
		obj = json_pack("{s:o}", "error", s);
	return obj;
}

/* error_vbuild() with the arguments inline. */
static json_t *error_build(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static json_t *error_build(const char *fmt, ...)
{
	va_list ap;
	json_t *obj;

	va_start(ap, fmt);
	obj = error_vbuild(fmt, ap);
	va_end(ap);
	return obj;
}

/*
 * One reply line from obj (reference stolen; NULL allowed): compact JSON
 * and "\n". Returns a malloc'ed string the caller frees, or NULL when
 * memory runs out. A reply jansson cannot encode (not an object, a string
 * that is not UTF-8) becomes an internal error, so a request always gets
 * one line.
 */
static char *reply_line(json_t *obj, size_t *len)
{
	static const char fallback[] =
	    "{\"error\":\"internal: reply not encodable\"}";
	char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	char *line;
	size_t n;

	json_decref(obj);
	n = s ? strlen(s) : sizeof(fallback) - 1;
	line = malloc(n + 2);
	if (line) {
		memcpy(line, s ? s : fallback, n);
		line[n] = '\n';
		line[n + 1] = '\0';
		*len = n + 1;
	}
	free(s);
	return line;
}

/* Bytes of replies queued and not yet written. */
static size_t out_pending(const struct admin_client *c)
{
	return c->out_len - c->out_off;
}

/* Queues obj (stolen) on c's output. Never writes: client_settle() does. */
static void client_queue(struct admin_client *c, json_t *obj)
{
	size_t len, need;
	char *line;

	if (c->dead || c->broken) {
		json_decref(obj);
		return;
	}
	line = reply_line(obj, &len);
	if (!line)
		goto nomem;
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + len;
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p) {
			free(line);
			goto nomem;
		}
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, line, len);
	c->out_len += len;
	free(line);
	return;
nomem:
	c->broken = true;
}

/* Queues an error for a garbage request and stops reading: the client is
 * closed once its output is written. */
static void client_fail(struct admin_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void client_fail(struct admin_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_queue(c, error_vbuild(fmt, ap));
	va_end(ap);
	c->closing = true;
	c->in_start = c->in_len;
}

/* Reads and throws away what the peer sent, up to ADMIN_DRAIN_BYTES. */
static void fd_drain(int fd)
{
	char buf[4096];
	size_t total = 0;
	ssize_t r;

	while (total < ADMIN_DRAIN_BYTES) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r <= 0)
			break;
		total += (size_t)r;
	}
}

/*
 * Closes c's socket and moves it to the dead list; it is freed at the end
 * of the admin_poll() call, as epoll events of this call may still point
 * at it. drain: discard unread input first, so the peer sees a clean EOF
 * after our last reply (a graceful close, not a drop).
 */
static void client_close(struct admin_client *c, bool drain)
{
	struct admin *a = c->a;

	if (c->dead)
		return;
	if (drain)
		fd_drain(c->fd);
	epoll_ctl(a->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->dead = true;
	alink_del(&c->bl);
	alink_del(&c->node);
	alink_add_tail(&a->dead, &c->node);
	a->n_clients--;
	a->left = true;
}

/* Frees a closed client and its output. */
static void client_free(struct admin_client *c)
{
	free(c->out);
	free(c);
}

/* Frees the clients closed in this call; none may be referenced after. */
static void free_dead(struct admin *a)
{
	while (!alink_empty(&a->dead)) {
		struct admin_client *c = client_of_node(a->dead.next);

		alink_del(&c->node);
		client_free(c);
	}
}

/* Writes pending output until the socket would block. Drops c on a write
 * error (the peer is gone). */
static void client_flush(struct admin_client *c)
{
	ssize_t w;

	while (out_pending(c)) {
		w = send(c->fd, c->out + c->out_off, out_pending(c),
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			c->out_off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		client_close(c, false);
		return;
	}
	c->out_off = 0;
	c->out_len = 0;
	if (c->out_cap > 65536) { /* one big reply: do not keep its buffer */
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
}

/* Size of a client's input buffer in bytes: a line and "\r\n". */
static size_t in_cap(const struct admin *a)
{
	return a->max_line + 2;
}

/* One read into the free end of the input buffer (moved to its start
 * first). Sets eof at end of input; drops c on a read error. */
static void client_read(struct admin_client *c)
{
	size_t cap = in_cap(c->a);
	ssize_t r;

	if (c->in_start) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_start = 0;
	}
	if (c->in_len == cap)
		return;
	r = recv(c->fd, c->in + c->in_len, cap - c->in_len, MSG_DONTWAIT);
	if (r > 0)
		c->in_len += (size_t)r;
	else if (r == 0)
		c->eof = true;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		client_close(c, false);
}

/* Runs the handler on one line and makes sure it answered exactly once;
 * counts the request against c's and the call's bounds. */
static void client_dispatch(struct admin_client *c, const char *line)
{
	struct admin *a = c->a;

	c->replies = 0;
	c->in_handler = true;
	a->fn(a->ctx, c, line);
	c->in_handler = false;
	if (!c->replies)
		client_queue(c, error_build("internal: the command sent no "
					    "reply"));
	c->served++;
	a->budget--;
	a->handled++;
}

/*
 * Hands c's complete lines to the handler, within the per-client and
 * per-call bounds; a client stopped by a bound goes on the backlog. A
 * final line without a newline counts once the peer has shut down its
 * writing side (so "printf status | socat" works).
 */
static void client_run(struct admin_client *c)
{
	struct admin *a = c->a;
	size_t cap = in_cap(a);

	if (c->gen != a->gen) {
		c->gen = a->gen;
		c->served = 0;
	}
	while (!c->dead && !c->closing && !c->broken) {
		char *p = c->in + c->in_start;
		size_t avail = c->in_len - c->in_start;
		char *nl = memchr(p, '\n', avail);
		size_t len;

		if (!nl && avail < cap && !(c->eof && avail))
			break; /* need more input */
		if (c->served >= ADMIN_REQS_CLIENT || !a->budget) {
			if (alink_empty(&c->bl))
				alink_add_tail(&a->backlog, &c->bl);
			return;
		}
		if (nl) {
			len = (size_t)(nl - p);
			c->in_start += len + 1;
		} else if (avail == cap) {
			len = avail; /* too long, below */
		} else {
			len = avail;
			c->in_start = c->in_len;
		}
		if (len && p[len - 1] == '\r')
			len--;
		if (len > a->max_line) {
			client_fail(c, "request line longer than %zu bytes",
				    a->max_line);
			break;
		}
		if (!len)
			continue;
		if (memchr(p, '\0', len)) {
			client_fail(c, "request contains a NUL byte");
			break;
		}
		p[len] = '\0';
		client_dispatch(c, p);
	}
	alink_del(&c->bl);
}

/* Sets the epoll interest to what c can take now: input while it has room
 * and reads, output while some is pending. */
static void client_update_events(struct admin_client *c)
{
	struct admin *a = c->a;
	struct epoll_event ev = {.data.ptr = c};
	size_t used = c->in_len - c->in_start;

	if (!c->closing && !c->eof && used < in_cap(a))
		ev.events |= EPOLLIN;
	if (out_pending(c))
		ev.events |= EPOLLOUT;
	if (ev.events == c->events)
		return;
	if (epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
		client_close(c, false);
		return;
	}
	c->events = ev.events;
}

/* After c ran: write, then drop it if it does not read, close it if it is
 * done, else wait for what it can take. */
static void client_settle(struct admin_client *c)
{
	if (c->dead)
		return;
	if (c->broken) {
		client_close(c, false);
		return;
	}
	client_flush(c);
	if (c->dead)
		return;
	if (out_pending(c) > c->a->max_out) {
		client_close(c, false);
		return;
	}
	if (!out_pending(c) &&
	    (c->closing || (c->eof && alink_empty(&c->bl)))) {
		client_close(c, true);
		return;
	}
	client_update_events(c);
}

/* Serves a client epoll reported: read once, run its lines, write. */
static void client_event(struct admin_client *c, uint32_t events)
{
	if (c->dead)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing &&
	    !c->eof)
		client_read(c);
	if (c->dead)
		return;
	client_run(c);
	client_settle(c);
}

/* Runs the clients whose lines waited since the last call, oldest first. */
static void backlog_run(struct admin *a)
{
	struct alink todo;

	if (alink_empty(&a->backlog))
		return;
	/* Move the list aside: client_run() re-queues at a->backlog. */
	todo = a->backlog;
	todo.next->prev = &todo;
	todo.prev->next = &todo;
	alink_init(&a->backlog);
	while (!alink_empty(&todo)) {
		struct admin_client *c = client_of_bl(todo.next);

		alink_del(&c->bl);
		client_run(c);
		client_settle(c);
	}
}

/* Sends one line best effort and closes: for peers we do not serve. */
static void refuse(int fd, json_t *obj)
{
	size_t len;
	char *line = reply_line(obj, &len);

	if (line) {
		(void)send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(line);
	}
	fd_drain(fd);
	close(fd);
}

/* The SO_PEERCRED rule of admin.h: root, else the lists (both empty:
 * our own euid). Only the peer's primary gid is known here. */
static bool peer_allowed(const struct admin *a, const struct ucred *cr)
{
	size_t i;

	if (cr->uid == 0)
		return true;
	if (!a->n_uids && !a->n_gids)
		return cr->uid == a->euid;
	for (i = 0; i < a->n_uids; i++)
		if (a->uids[i] == cr->uid)
			return true;
	for (i = 0; i < a->n_gids; i++)
		if (a->gids[i] == cr->gid)
			return true;
	return false;
}

/* Takes over a new connection fd: refuses it (with a reason) or adds a
 * client listening for input. */
static void client_accept(struct admin *a, int fd)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	struct epoll_event ev = {.events = EPOLLIN};
	struct admin_client *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) != 0) {
		refuse(fd, error_build("internal: cannot read the peer's "
				       "credentials: %s",
				       strerror(errno)));
		return;
	}
	/* Permission first: a stranger learns nothing of our clients. */
	if (!peer_allowed(a, &cr)) {
		refuse(fd, error_build("permission denied: uid %u (gid %u) "
				       "may not use this socket; allowed: %s",
				       (unsigned)cr.uid, (unsigned)cr.gid,
				       a->allowed));
		return;
	}
	if (a->n_clients >= a->max_clients) {
		refuse(fd, error_build("too many clients (%u connected); try "
				       "again later",
				       a->n_clients));
		return;
	}
	c = calloc(1, sizeof(*c) + in_cap(a));
	if (!c) {
		refuse(fd, error_build("internal: out of memory"));
		return;
	}
	c->a = a;
	c->fd = fd;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->events = ev.events;
	alink_init(&c->bl);
	ev.data.ptr = c;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		refuse(fd, error_build("internal: %s", strerror(errno)));
		free(c);
		return;
	}
	alink_add_tail(&a->clients, &c->node);
	a->n_clients++;
}

/* The listener's epoll interest: EPOLLIN, or 0 while paused. */
static void listener_set(struct admin *a, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = NULL};

	epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->fd, &ev);
}

/* Accepts up to ADMIN_ACCEPTS connections. Returns 0, or -errno when the
 * listening socket itself is broken. */
static int listener_event(struct admin *a, uint32_t events)
{
	int i, fd, e = 0;
	socklen_t len = sizeof(e);

	if (events & EPOLLERR) {
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
			e = errno;
		return -(e ? e : EIO);
	}
	for (i = 0; i < ADMIN_ACCEPTS; i++) {
		fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			client_accept(a, fd);
			continue;
		}
		switch (errno) {
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
			return 0;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* The connection stays queued; level-triggered epoll
			 * would wake us for it on every call. */
			listener_set(a, 0);
			a->paused = true;
			a->left = false;
			a->resume_ns = now_ns() + ADMIN_PAUSE_NS;
			return 0;
		default:
			return -errno;
		}
	}
	return 0;
}

/* See admin.h. A negative timeout_ms waits without end (as epoll_wait);
 * waiting lines from the last call make it 0. */
int admin_poll(struct admin *a, int timeout_ms)
{
	struct epoll_event ev[ADMIN_EVENTS];
	int i, n, ret = 0;

	a->gen++;
	a->budget = ADMIN_REQS_CALL;
	a->handled = 0;
	if (a->paused && (a->left || now_ns() >= a->resume_ns)) {
		listener_set(a, EPOLLIN);
		a->paused = false;
	}
	n = epoll_wait(a->epfd, ev, ADMIN_EVENTS,
		       alink_empty(&a->backlog) ? timeout_ms : 0);
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	backlog_run(a);
	for (i = 0; i < n; i++) {
		if (ev[i].data.ptr)
			client_event(ev[i].data.ptr, ev[i].events);
		else if (!ret)
			ret = listener_event(a, ev[i].events);
	}
	free_dead(a);
	return ret < 0 ? ret : a->handled;
}

/* See admin.h. obj may be NULL (its builder failed): the client gets an
 * internal error. Outside the handler, or a second time: obj is dropped. */
void admin_reply(struct admin_client *c, json_t *obj)
{
	/* One reply per request: a second one, or one outside the handler,
	 * would break the line-for-line protocol. */
	if (!c || !c->in_handler || c->replies++) {
		json_decref(obj);
		return;
	}
	client_queue(c, obj);
}

/* See admin.h. Bytes of the message that are not UTF-8 become '?'. */
void admin_reply_error(struct admin_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	admin_reply(c, error_vbuild(fmt, ap));
	va_end(ap);
}

/* See admin.h. */
uid_t admin_client_uid(const struct admin_client *c)
{
	return c->uid;
}

/* See admin.h. Refused connections are never counted. */
unsigned admin_n_clients(const struct admin *a)
{
	return a->n_clients;
}

/* "root, uids 1000 1001, gids 27" for the permission error. */
static char *allowed_desc(const struct admin *a)
{
	char *buf;
	size_t len = 64 + 2 * ADMIN_DESC_IDS * 12, off;
	size_t i;

	buf = malloc(len);
	if (!buf)
		return NULL;
	if (!a->n_uids && !a->n_gids) {
		snprintf(buf, len, "root, uid %u (the server's)",
			 (unsigned)a->euid);
		return buf;
	}
	off = (size_t)snprintf(buf, len, "root");
	if (a->n_uids)
		off += (size_t)snprintf(buf + off, len - off, ", uids");
	for (i = 0; i < a->n_uids && i < ADMIN_DESC_IDS; i++)
		off += (size_t)snprintf(buf + off, len - off, " %u",
					(unsigned)a->uids[i]);
	if (a->n_uids > ADMIN_DESC_IDS)
		off += (size_t)snprintf(buf + off, len - off, " (+%zu)",
					a->n_uids - ADMIN_DESC_IDS);
	if (a->n_gids)
		off += (size_t)snprintf(buf + off, len - off, ", gids");
	for (i = 0; i < a->n_gids && i < ADMIN_DESC_IDS; i++)
		off += (size_t)snprintf(buf + off, len - off, " %u",
					(unsigned)a->gids[i]);
	if (a->n_gids > ADMIN_DESC_IDS)
		snprintf(buf + off, len - off, " (+%zu)",
			 a->n_gids - ADMIN_DESC_IDS);
	return buf;
}

/*
 * bind() said EADDRINUSE. Returns 0 when the path is free now (a stale
 * socket, removed, or gone), else -errno with a message. Only a socket is
 * ever removed: a path that names a config file by mistake is kept.
 */
static int stale_remove(const struct admin *a, const struct sockaddr_un *sa,
			char *err, size_t err_len)
{
	struct stat st;
	int fd, r, e;

	if (lstat(a->path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		set_err(err, err_len, "admin socket %s: %s", a->path,
			strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, err_len,
			"admin socket %s: the path exists and "
			"is not a socket; not replacing it",
			a->path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		set_err(err, err_len, "admin socket: socket: %s", strerror(e));
		return -e;
	}
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN) {
		set_err(err, err_len,
			"another process is listening on %s "
			"(is tidegate already running?)",
			a->path);
		return -EADDRINUSE;
	}
	if (e == ENOENT)
		return 0;
	if (e != ECONNREFUSED) {
		set_err(err, err_len,
			"admin socket %s: cannot tell whether it "
			"is in use: %s",
			a->path, strerror(e));
		return -e;
	}
	if (unlink(a->path) != 0 && errno != ENOENT) {
		e = errno;
		set_err(err, err_len,
			"admin socket %s: cannot remove the "
			"stale socket: %s",
			a->path, strerror(e));
		return -e;
	}
	return 0;
}

/* The message for a failed bind(): a missing directory by its name. */
static void bind_error(const struct admin *a, int e, char *err, size_t err_len)
{
	const char *slash = strrchr(a->path, '/');
	int dlen = slash ? (int)(slash - a->path) : 1;
	const char *dir = slash ? a->path : ".";

	if (slash == a->path)
		dlen = 1; /* "/sock": the directory is "/" */
	if (e == ENOENT || e == ENOTDIR)
		set_err(err, err_len,
			"admin socket %s: the directory %.*s "
			"does not exist",
			a->path, dlen, dir);
	else
		set_err(err, err_len, "admin socket %s: bind: %s", a->path,
			strerror(e));
}

/* Creates the socket file with the configured mode and group, and
 * listens. Returns 0 or -errno with a message; on failure no file of ours
 * is left behind. */
static int listener_open(struct admin *a, char *err, size_t err_len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	struct stat st;
	mode_t old;
	int r, e, tries;

	memcpy(sa.sun_path, a->path, strlen(a->path) + 1);
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		e = errno;
		set_err(err, err_len, "admin socket: %s", strerror(e));
		return -e;
	}
	for (tries = 0;; tries++) {
		/* The umask is per process; this runs at startup, before
		 * other threads create files. The chmod() below makes
		 * sure, but the socket is never wider than mode. */
		old = umask(~a->mode & 0777);
		r = bind(a->fd, (struct sockaddr *)&sa, sizeof(sa));
		e = errno;
		umask(old);
		if (r == 0)
			break;
		if (e == EADDRINUSE && tries == 0) {
			r = stale_remove(a, &sa, err, err_len);
			if (r)
				return r;
			continue;
		}
		bind_error(a, e, err, err_len);
		return -e;
	}
	/* From here on the file is ours: remove it on failure. */
	if (chmod(a->path, a->mode) != 0)
		goto path_err;
	if (a->n_gids && chown(a->path, (uid_t)-1, a->gids[0]) != 0) {
		e = errno;
		set_err(err, err_len,
			"admin socket %s: cannot give it group "
			"%u: %s",
			a->path, (unsigned)a->gids[0], strerror(e));
		goto unlink;
	}
	/* Identity after our last chmod/chown: the ctime tells our file
	 * from a later one that reuses the inode number. */
	if (lstat(a->path, &st) != 0)
		goto path_err;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->ctime = st.st_ctim;
	if (listen(a->fd, SOMAXCONN) != 0)
		goto path_err;
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0 || epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->fd, &ev) != 0)
		goto path_err;
	a->bound = true;
	return 0;
path_err:
	e = errno;
	set_err(err, err_len, "admin socket %s: %s", a->path, strerror(e));
unlink:
	unlink(a->path);
	return -e;
}

/* A malloc'ed copy of n bytes at p; NULL when n is 0 or on ENOMEM. */
static void *memdup(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

/* See admin.h. Zero fields of o take their defaults; o and its arrays
 * are copied (borrowed for the call only). errno is set on NULL. */
struct admin *admin_open(const struct admin_opts *o, admin_handler_fn fn,
			 void *ctx, char *err, size_t err_len)
{
	struct sockaddr_un sa;
	struct admin *a;
	size_t plen;
	int e;

	if (!o || !fn || !o->path || !o->path[0]) {
		set_err(err, err_len, "admin socket: %s",
			fn ? "no path configured" : "no handler");
		errno = EINVAL;
		return NULL;
	}
	plen = strlen(o->path);
	if (plen >= sizeof(sa.sun_path)) {
		set_err(err, err_len,
			"admin socket path is too long (%zu "
			"bytes, at most %zu): %s",
			plen, sizeof(sa.sun_path) - 1, o->path);
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (o->max_line > ADMIN_MAX_LINE_LIMIT) {
		set_err(err, err_len,
			"admin socket: max_line %zu is over "
			"%u bytes",
			o->max_line, ADMIN_MAX_LINE_LIMIT);
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		goto nomem;
	a->fd = -1;
	a->epfd = -1;
	alink_init(&a->clients);
	alink_init(&a->backlog);
	alink_init(&a->dead);
	a->fn = fn;
	a->ctx = ctx;
	a->euid = geteuid();
	a->mode = o->mode ? o->mode & 07777 : ADMIN_DEF_MODE;
	a->max_clients =
	    o->max_clients ? o->max_clients : ADMIN_DEF_MAX_CLIENTS;
	a->max_line = o->max_line ? o->max_line : ADMIN_DEF_MAX_LINE;
	a->max_out = o->max_out ? o->max_out : ADMIN_DEF_MAX_OUT;
	a->path = strdup(o->path);
	a->n_uids = o->uids ? o->n_uids : 0;
	a->n_gids = o->gids ? o->n_gids : 0;
	a->uids = memdup(o->uids, a->n_uids * sizeof(uid_t));
	a->gids = memdup(o->gids, a->n_gids * sizeof(gid_t));
	if (!a->path || (a->n_uids && !a->uids) || (a->n_gids && !a->gids))
		goto nomem;
	a->allowed = allowed_desc(a);
	if (!a->allowed)
		goto nomem;
	e = listener_open(a, err, err_len);
	if (e) {
		admin_close(a);
		errno = -e;
		return NULL;
	}
	return a;
nomem:
	set_err(err, err_len, "admin socket: out of memory");
	admin_close(a);
	errno = ENOMEM;
	return NULL;
}

/* See admin.h. Pending replies get one non-blocking write. Not from
 * inside the handler. Also frees a half-built a (admin_open's errors). */
void admin_close(struct admin *a)
{
	struct stat st;

	if (!a)
		return;
	while (!alink_empty(&a->clients)) {
		struct admin_client *c = client_of_node(a->clients.next);

		client_flush(c); /* best effort: a last reply goes out */
		client_close(c, true);
	}
	free_dead(a);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->fd >= 0)
		close(a->fd);
	/* Only our own file: a second instance may have replaced it. */
	if (a->bound && lstat(a->path, &st) == 0 && st.st_dev == a->dev &&
	    st.st_ino == a->ino && st.st_ctim.tv_sec == a->ctime.tv_sec &&
	    st.st_ctim.tv_nsec == a->ctime.tv_nsec)
		unlink(a->path);
	free(a->allowed);
	free(a->uids);
	free(a->gids);
	free(a->path);
	free(a);
}
