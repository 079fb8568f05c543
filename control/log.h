/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's one logging helper: timestamped lines on stderr,
 * "2026-12-04T20:30:00.123Z tidegate: warning: severity warning -> critical
 * (lag 12000)", filtered by the configured level. Control thread (and main).
 */
#ifndef TG_CONTROL_LOG_H
#define TG_CONTROL_LOG_H

enum tg_log_level {
	TG_LOG_ERROR,
	TG_LOG_WARNING,
	TG_LOG_NOTICE,
	TG_LOG_INFO,
	TG_LOG_DEBUG,
	TG_LOG_MAX
};

/** Set the level from a config name ("error" ... "debug"); unknown: info. */
void tg_log_set_level(const char *name);

void tg_log(enum tg_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* TG_CONTROL_LOG_H */
