/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the storage manifest parser (common/storage.c).
 *
 * Whatever the bytes, the parser either refuses with a message or returns
 * a manifest that passes its own checks; and a manifest it accepts, once
 * written again, parses to the same content (format -> parse is the
 * identity).  Most inputs fail the checksum, so the target also parses
 * the input with a correct checksum appended: the JSON and the field
 * checks behind the checksum get fuzzed too.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <accord/storage.h>

#include "hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, size_t len)
{
	struct accord_manifest m, back;
	struct accord_err err = { 0 };
	char *out = NULL;
	size_t olen = 0, i;
	int r = accord_manifest_parse(text, len, &m, &err);

	if (r < 0) {
		if (r != err.code || !err.msg[0] || !memchr(err.msg, '\0', sizeof(err.msg)))
			__builtin_trap();
		return;
	}
	for (i = 1; i < m.nowners; i++)
		if (m.owners[i - 1].kind > m.owners[i].kind ||
		    (m.owners[i - 1].kind == m.owners[i].kind &&
		     m.owners[i - 1].id >= m.owners[i].id))
			__builtin_trap();
	if (accord_manifest_format(&m, &out, &olen) == 0) {
		if (accord_manifest_parse(out, olen, &back, NULL) != 0)
			__builtin_trap();
		if (strcmp(back.name, m.name) || strcmp(back.path, m.path) ||
		    back.files != m.files || back.nowners != m.nowners)
			__builtin_trap();
		/* field by field: the bytes after a name's NUL and the padding
		 * are no part of the content */
		for (i = 0; i < m.nowners; i++)
			if (back.owners[i].kind != m.owners[i].kind ||
			    back.owners[i].id != m.owners[i].id ||
			    back.owners[i].files != m.owners[i].files ||
			    strcmp(back.owners[i].name, m.owners[i].name))
				__builtin_trap();
		accord_manifest_free(&back);
	}
	free(out);
	accord_manifest_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char key[] = ",\n  \"checksum\": \"";
	char *buf;

	if (size > (1u << 20))
		return 0;
	buf = malloc(size + sizeof(key) + 32);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	check(buf, size);
	/* the same body with the checksum it needs */
	memcpy(buf + size, key, sizeof(key) - 1);
	snprintf(buf + size + sizeof(key) - 1, 32, "%016llx\"\n}\n",
		 (unsigned long long)accord_checksum(buf, size));
	check(buf, size + sizeof(key) - 1 + 20);
	free(buf);
	return 0;
}
