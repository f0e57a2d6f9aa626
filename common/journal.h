/* SPDX-License-Identifier: MIT */
/*
 * Journal entries: what changed between the published snapshot a writer
 * started from and the state it is about to publish.  One file per
 * generation, JSON lines: a header line, one line per change
 * ({"change":"add|change|delete|retire|counters", "kind", "name",
 * "before", "after"}), and an end line {"end":G,"changes":N}; a file
 * without its end line is incomplete.
 */
#ifndef ACCORD_JOURNAL_H
#define ACCORD_JOURNAL_H

#include <stdint.h>
#include <stdio.h>

#include <accord/registry.h>

struct jchange {
	uint8_t kind;     /* JK_* */
	uint8_t op;       /* JO_* */
	uint32_t old_off; /* record offset in the old snapshot */
	uint32_t idx;     /* index in the new state */
};

struct json_object;
struct journal_diff {
	struct jchange *v;
	size_t n, cap;
	struct json_object **cx; /* certificate objects' entries, ready made */
	size_t ncx;
};

/* Computes the changes; 0, -ENOMEM or -EBADMSG. */
int journal_diff(const struct accord_snapshot *old, const struct accord_state *st,
		 struct journal_diff *d);
void journal_diff_free(struct journal_diff *d);

/* Writes the whole entry; 0 or -errno. */
int journal_write(FILE *f, uint64_t gen, int64_t now,
		  const struct accord_actor *actor, const char *operation,
		  const struct accord_snapshot *old, const struct accord_state *st,
		  const struct journal_diff *d);

/* Writes the entry for a new registry (generation 1). */
int journal_write_init(FILE *f, int64_t now, const struct accord_actor *actor,
		       const char *uuid, const struct accord_range *uids,
		       const struct accord_range *gids);

#endif
