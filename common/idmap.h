/* SPDX-License-Identifier: MIT */
/*
 * In-memory hash maps for the state model: open addressing with linear
 * probing and backward-shift deletion.  A strmap stores only table
 * indexes; the key (a name) is read back through a callback, so names are
 * stored once.  An idmap maps a 32-bit ID to a 32-bit value.
 */
#ifndef ACCORD_IDMAP_H
#define ACCORD_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef const char *(*strmap_key_fn)(const void *ctx, uint32_t v);

struct strmap {
	uint64_t *slot;          /* hash tag << 32 | (value + 1); 0 = empty */
	size_t cap, count;
	strmap_key_fn key;
	const void *ctx;
};

int strmap_init(struct strmap *m, strmap_key_fn key, const void *ctx,
		size_t hint);
void strmap_free(struct strmap *m);
bool strmap_get(const struct strmap *m, const char *name, uint32_t *v);
int strmap_put(struct strmap *m, uint32_t v); /* the key must be absent */
void strmap_del(struct strmap *m, const char *name);

struct idmap {
	uint32_t *key, *val;
	uint8_t *used;
	size_t cap, count;
};

int idmap_init(struct idmap *m, size_t hint);
void idmap_free(struct idmap *m);
bool idmap_get(const struct idmap *m, uint32_t k, uint32_t *v);
int idmap_put(struct idmap *m, uint32_t k, uint32_t v);
void idmap_del(struct idmap *m, uint32_t k);
/* count maps: += 1 / -= 1, removing the key at 0 */
int idmap_inc(struct idmap *m, uint32_t k);
void idmap_dec(struct idmap *m, uint32_t k);
uint32_t idmap_count(const struct idmap *m, uint32_t k);

#endif
