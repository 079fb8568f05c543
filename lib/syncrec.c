/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sync and control record codec (see syncrec.h).
 */
#include <errno.h>
#include <string.h>

#include "syncrec.h"

static const char *const op_names[SR_OP_MAX] = { "set-rate", "reset",
						 "severity-force" };

const char *sr_op_name(enum sr_op op)
{
	return (unsigned)op < SR_OP_MAX ? op_names[op] : "?";
}

static int id_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || strchr("._:@/-", ch) != NULL;
}

int sr_id_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++)
		if (n >= SR_ID_LEN - 1 || !id_char(s[n]))
			return 0;
	return n > 0;
}
