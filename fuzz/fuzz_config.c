/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the accord.conf parser (common/config.c).  Any input
 * is either refused with a message or gives a configuration whose paths
 * are NUL-terminated absolute paths and whose numbers are in range.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/registry.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p, size_t cap, int may_be_empty)
{
	const char *z = memchr(p, '\0', cap);

	if (!z)
		__builtin_trap();
	if (z == p ? !may_be_empty : p[0] != '/')
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accord_config cfg;
	struct accord_err err = { 0 };
	char *text = malloc(size ? size : 1);
	int r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	accord_config_defaults(&cfg);
	r = accord_config_parse(text, size, "fuzz.conf", &cfg, &err);
#ifdef FUZZ_VERBOSE
	fprintf(stderr, "config: %d %s\n", r, err.msg);
#endif
	if (r < 0) {
		if (r != err.code || err.msg[0] == '\0' ||
		    !memchr(err.msg, '\0', sizeof(err.msg)))
			__builtin_trap();
	} else if (r > 0) {
		__builtin_trap();
	}
	/* on success and on a refusal alike: nothing half-written */
	check_path(cfg.registry, sizeof(cfg.registry), 1);
	check_path(cfg.snapshot, sizeof(cfg.snapshot), 0);
	check_path(cfg.default_home, sizeof(cfg.default_home), 0);
	check_path(cfg.default_shell, sizeof(cfg.default_shell), 0);
	if (cfg.lock_timeout > 3600 || cfg.snapshot_grace > 30u * 86400)
		__builtin_trap();
	free(text);
	return 0;
}
