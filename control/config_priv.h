/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the config loader's files share (config.c, config_kafka.c): the
 * load state and the helpers that read one setting each, failing with
 * "FILE:LINE: setting.path: what" in ld->err. Each returns 0, or -EINVAL
 * with ld->failed set; a setting that is absent is not an error unless
 * `required`.
 */
#ifndef TG_CONTROL_CONFIG_PRIV_H
#define TG_CONTROL_CONFIG_PRIV_H

#include <libconfig.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

struct ld {
	const char *file;
	char *err;
	size_t err_len;
	int failed;
};

/* Fail with a message about setting s (its line and path). */
int ld_fail(struct ld *ld, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Every member of group g is one of known (NULL-terminated). */
int ld_check_known(struct ld *ld, const config_setting_t *g,
		   const char *const *known);

int ld_get_num(struct ld *ld, const config_setting_t *g, const char *name,
	       double *out, int required);
int ld_get_uint(struct ld *ld, const config_setting_t *g, const char *name,
		uint64_t *out, uint64_t lo, uint64_t hi, int required);
int ld_get_str(struct ld *ld, const config_setting_t *g, const char *name,
	       const char **out, int required);
int ld_get_bool(struct ld *ld, const config_setting_t *g, const char *name,
		bool *out);
int ld_copy_name(struct ld *ld, const config_setting_t *g, const char *name,
		 char *dst, size_t len, int required);
int ld_copy_str(struct ld *ld, const config_setting_t *g, const char *name,
		char *dst, size_t len, int required);
/* The line of member name of g, or g's own line when it is absent. */
int ld_member_line(const config_setting_t *g, const char *name);
const config_setting_t *ld_get_group(struct ld *ld, const config_setting_t *g,
				     const char *name, int required);
const config_setting_t *ld_get_list(struct ld *ld, const config_setting_t *g,
				    const char *name);

/* The kafka section into c->kafka (config_kafka.c). */
int config_load_kafka(struct ld *ld, const config_setting_t *g,
		      struct cfg *c);

#endif /* TG_CONTROL_CONFIG_PRIV_H */
