/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The admin socket server: a UNIX stream socket, one request per line, one
 * JSON object per response line. It never blocks the control thread: every
 * socket is non-blocking, admin_poll() returns within its timeout, a client
 * that says nothing costs nothing, a client that does not read its replies
 * is dropped once its pending output passes a bound, a line over max_line
 * bytes gets an error and the connection is closed, and clients beyond
 * max_clients are told so and closed.
 *
 * Peers are checked with SO_PEERCRED when they connect: root is always
 * allowed; otherwise the peer's uid must be in uids or its gid in gids
 * (both empty: only root and the server's own uid). Others get a
 * permission error and are closed. The socket file is created with mode
 * 0660 (and the first gid as its group, when gids are given).
 *
 * Threads: everything from the control thread only.
 */
#ifndef TG_CONTROL_ADMIN_H
#define TG_CONTROL_ADMIN_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct admin;
struct admin_client;

/**
 * Called once per complete request line (without its newline, NUL
 * terminated, at most max_line bytes). The handler answers with exactly one
 * admin_reply() or admin_reply_error() before it returns.
 */
typedef void (*admin_handler_fn)(void *ctx, struct admin_client *c,
				 const char *line);

struct admin_opts {
	const char *path;     /**< socket path */
	unsigned mode;	      /**< file mode, default 0660 */
	const uid_t *uids;    /**< allowed uids besides root */
	size_t n_uids;
	const gid_t *gids;    /**< allowed gids */
	size_t n_gids;
	unsigned max_clients; /**< default 128 */
	size_t max_line;      /**< default 4096 bytes */
	size_t max_out;	      /**< pending output per client, default 4 MiB */
};

/**
 * Create, bind and listen. A stale socket file (nobody listening) is
 * replaced; a live one is an error (another tidegate is running).
 * Returns NULL with a message in err on failure.
 */
struct admin *admin_open(const struct admin_opts *o, admin_handler_fn fn,
			 void *ctx, char *err, size_t err_len);

/**
 * Serve: wait up to timeout_ms for events, then accept, read, dispatch
 * complete lines, write pending output. Returns the number of requests
 * handled, or -errno on a fatal error of the listening socket.
 */
int admin_poll(struct admin *a, int timeout_ms);

/** Reply with a JSON object (stolen: the reply takes the reference). */
void admin_reply(struct admin_client *c, json_t *obj);

/** Reply {"error": msg}. */
void admin_reply_error(struct admin_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** The uid of a client (from SO_PEERCRED). */
uid_t admin_client_uid(const struct admin_client *c);

/** Clients connected now. */
unsigned admin_n_clients(const struct admin *a);

/** Close every client and the socket, unlink the file. NULL is fine. */
void admin_close(struct admin *a);

#endif /* TG_CONTROL_ADMIN_H */
