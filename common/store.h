/* SPDX-License-Identifier: MIT */
/*
 * The registry's write path, behind one small interface.  Today there is
 * one implementation, a directory (store_dir.c) that may live on NFSv4 or
 * a cluster file system; the scale-out path (an LDAP directory, DESIGN.md)
 * is a second implementation of the same operations.  registry.c holds
 * everything that does not depend on where the data lives: loading the
 * state, the diff for the journal, building snapshots, sync and check.
 */
#ifndef ACCORD_STORE_H
#define ACCORD_STORE_H

#include <stdint.h>
#include <stdio.h>

#include <accord/registry.h>

struct accord_store;

typedef int (*store_journal_writer)(FILE *f, void *ctx);

struct accord_store_ops {
	/* the current generation, mapped read-only (header-checked) */
	int (*current)(struct accord_store *s, struct accord_snapshot *snap,
		       struct accord_err *err);
	/* take the writer lock (waits up to timeout seconds) */
	int (*lock)(struct accord_store *s, unsigned timeout,
		    struct accord_err *err);
	void (*unlock)(struct accord_store *s);
	/* publish snapshot bytes as base + 1 with its journal entry; refuses
	 * (-ESTALE) if the current generation is no longer base */
	int (*publish)(struct accord_store *s, uint64_t base,
		       const unsigned char *snap, size_t len,
		       store_journal_writer wj, void *ctx,
		       struct accord_err *err);
	int (*journal)(struct accord_store *s, uint64_t since,
		       accord_journal_cb cb, void *ctx, struct accord_err *err);
	/* checks of the storage itself (files, modes, leftovers) */
	int (*check)(struct accord_store *s, accord_check_cb cb, void *ctx);
	void (*close)(struct accord_store *s);
};

struct accord_store {
	const struct accord_store_ops *ops;
	unsigned char uuid[16];
	struct accord_range uids, gids; /* from the registry metadata */
	unsigned snapshot_grace;
};

int store_dir_open(const char *dir, struct accord_store **out,
		   struct accord_err *err);
int store_dir_create(const char *dir, const unsigned char uuid[16],
		     const struct accord_range *uids,
		     const struct accord_range *gids,
		     const unsigned char *snap, size_t len,
		     store_journal_writer wj, void *ctx,
		     struct accord_err *err);
const char *store_dir_path(const struct accord_store *s);

void accord_uuid_format(const unsigned char uuid[16], char out[37]);
int accord_uuid_parse(const char *s, unsigned char uuid[16]);

#endif
