/* SPDX-License-Identifier: MIT */
/*
 * Import of passwd(5) and group(5) files into a state, all or nothing:
 * groups first (so primary GIDs resolve), then users with the UIDs and
 * GIDs the files give them, then memberships.  Any bad line refuses the
 * whole import with "FILE:LINE: what is wrong".
 */
#ifndef ACCORD_IMPORT_H
#define ACCORD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include <accord/state.h>

#define ACCORD_IMPORT_LINE_MAX 65536
#define ACCORD_IMPORT_FILE_MAX (1u << 30)

struct accord_import_stats {
	size_t users, groups, memberships;
	size_t hashes_ignored; /* passwd lines that carried a password hash */
};

/* Called now and then with the number of lines done (for progress). */
typedef void (*accord_progress_fn)(const char *what, size_t done, size_t total,
				   void *ctx);

/* Reads an input file (at most ACCORD_IMPORT_FILE_MAX bytes); *buf is
 * malloc'd and NUL-terminated.  0 or -errno (-EFBIG when too large). */
int accord_import_read(const char *path, char **buf, size_t *len);

/* shared: accept IDs outside the range or already taken (SHARED.IDS),
 * e.g. to migrate a host's existing accounts with their UIDs. */
int accord_import(struct accord_state *st, bool shared,
		  const char *passwd, size_t passwd_len, const char *passwd_name,
		  const char *group, size_t group_len, const char *group_name,
		  struct accord_import_stats *stats, accord_progress_fn progress,
		  void *pctx, struct accord_err *err);

#endif
