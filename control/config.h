/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading a tidegate config file (libconfig syntax) into the model of
 * lib/cfg.h. The schema is documented in config/README.md. Every error
 * names the file, the line and the setting: "FILE:LINE: SETTING: what".
 */
#ifndef TG_CONTROL_CONFIG_H
#define TG_CONTROL_CONFIG_H

#include <stddef.h>

#include "cfg.h"

/**
 * Parse and validate the whole file into *out (initialised here; free with
 * cfg_free() also after an error). Returns 0, or -EINVAL with a message in
 * err. Nothing is applied anywhere: a caller keeps its running config
 * until this succeeded. Control thread (or main before start-up).
 */
int config_load(const char *path, struct cfg *out, char *err, size_t err_len);

#endif /* TG_CONTROL_CONFIG_H */
