/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging helper (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum tg_log_level log_level = TG_LOG_INFO;
static const char *const names[TG_LOG_MAX] = { "error", "warning", "notice",
					       "info", "debug" };

void tg_log_set_level(const char *name)
{
	int i;

	for (i = 0; i < TG_LOG_MAX; i++)
		if (strcmp(name, names[i]) == 0) {
			log_level = (enum tg_log_level)i;
			return;
		}
	log_level = TG_LOG_INFO;
}

void tg_log(enum tg_log_level lvl, const char *fmt, ...)
{
	struct timespec ts;
	struct tm tm;
	char when[32];
	va_list ap;

	if (lvl > log_level || lvl >= TG_LOG_MAX)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ tidegate: %s: ", when,
		ts.tv_nsec / 1000000, names[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}
