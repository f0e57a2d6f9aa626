/* SPDX-License-Identifier: MIT */
#include "idmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static size_t pow2_at_least(size_t n)
{
	size_t c = 16;

	while (c < n)
		c <<= 1;
	return c;
}

static uint64_t str_hash(const char *name)
{
	return accord_hash64(name, strlen(name), 0x5eed);
}

static uint32_t slot_val(uint64_t slot)
{
	return (uint32_t)slot - 1;
}

int strmap_init(struct strmap *m, strmap_key_fn key, const void *ctx,
		size_t hint)
{
	m->cap = pow2_at_least(hint * 2);
	m->count = 0;
	m->key = key;
	m->ctx = ctx;
	m->slot = calloc(m->cap, sizeof(*m->slot));
	return m->slot ? 0 : -ENOMEM;
}

void strmap_free(struct strmap *m)
{
	free(m->slot);
	m->slot = NULL;
	m->cap = m->count = 0;
}

/* The slot holding name (true), or the empty slot where it would go. */
static bool strmap_find(const struct strmap *m, const char *name, uint64_t h,
			size_t *pos)
{
	size_t i = (size_t)h & (m->cap - 1), n;
	uint32_t tag = (uint32_t)(h >> 32);

	for (n = 0; n < m->cap; n++, i = (i + 1) & (m->cap - 1)) {
		uint64_t s = m->slot[i];

		if (!s) {
			*pos = i;
			return false;
		}
		/* the tag spares a string compare on almost every probe */
		if ((uint32_t)(s >> 32) == tag && strcmp(m->key(m->ctx, slot_val(s)), name) == 0) {
			*pos = i;
			return true;
		}
	}
	*pos = m->cap;
	return false;
}

bool strmap_get(const struct strmap *m, const char *name, uint32_t *v)
{
	size_t pos;

	if (!strmap_find(m, name, str_hash(name), &pos))
		return false;
	*v = slot_val(m->slot[pos]);
	return true;
}

static int strmap_grow(struct strmap *m)
{
	size_t ncap = m->cap * 2, i;
	uint64_t *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++) {
		uint64_t s = m->slot[i];
		size_t j;

		if (!s)
			continue;
		/* rehash from the stored tag's key: recompute the full hash */
		j = (size_t)str_hash(m->key(m->ctx, slot_val(s))) & (ncap - 1);
		while (n[j])
			j = (j + 1) & (ncap - 1);
		n[j] = s;
	}
	free(m->slot);
	m->slot = n;
	m->cap = ncap;
	return 0;
}

int strmap_put(struct strmap *m, uint32_t v)
{
	const char *name;
	uint64_t h;
	size_t pos;

	if ((m->count + 1) * 2 > m->cap && strmap_grow(m) < 0)
		return -ENOMEM;
	name = m->key(m->ctx, v);
	h = str_hash(name);
	if (strmap_find(m, name, h, &pos))
		return -EEXIST;
	m->slot[pos] = (h >> 32) << 32 | ((uint64_t)v + 1);
	m->count++;
	return 0;
}

void strmap_del(struct strmap *m, const char *name)
{
	size_t i, j;

	if (!strmap_find(m, name, str_hash(name), &i))
		return;
	m->slot[i] = 0;
	m->count--;
	/* backward shift: move later chain members into the hole */
	for (j = (i + 1) & (m->cap - 1); m->slot[j]; j = (j + 1) & (m->cap - 1)) {
		size_t home = (size_t)str_hash(m->key(m->ctx, slot_val(m->slot[j]))) &
			      (m->cap - 1);

		if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->slot[i] = m->slot[j];
			m->slot[j] = 0;
			i = j;
		}
	}
}

static size_t id_home(const struct idmap *m, uint32_t k)
{
	return (size_t)accord_hash_id(k, 0x5eed) & (m->cap - 1);
}

int idmap_init(struct idmap *m, size_t hint)
{
	m->cap = pow2_at_least(hint * 2);
	m->count = 0;
	m->key = calloc(m->cap, sizeof(*m->key));
	m->val = calloc(m->cap, sizeof(*m->val));
	m->used = calloc(m->cap, 1);
	if (!m->key || !m->val || !m->used) {
		idmap_free(m);
		return -ENOMEM;
	}
	return 0;
}

void idmap_free(struct idmap *m)
{
	free(m->key);
	free(m->val);
	free(m->used);
	m->key = m->val = NULL;
	m->used = NULL;
	m->cap = m->count = 0;
}

static bool idmap_find(const struct idmap *m, uint32_t k, size_t *pos)
{
	size_t i = id_home(m, k), n;

	for (n = 0; n < m->cap; n++, i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i]) {
			*pos = i;
			return false;
		}
		if (m->key[i] == k) {
			*pos = i;
			return true;
		}
	}
	*pos = m->cap;
	return false;
}

bool idmap_get(const struct idmap *m, uint32_t k, uint32_t *v)
{
	size_t pos;

	if (!m->cap || !idmap_find(m, k, &pos))
		return false;
	*v = m->val[pos];
	return true;
}

static int idmap_grow(struct idmap *m)
{
	struct idmap n;
	size_t i;

	if (idmap_init(&n, m->cap) < 0)
		return -ENOMEM;
	for (i = 0; i < m->cap; i++)
		if (m->used[i]) {
			size_t pos;

			idmap_find(&n, m->key[i], &pos);
			n.used[pos] = 1;
			n.key[pos] = m->key[i];
			n.val[pos] = m->val[i];
			n.count++;
		}
	idmap_free(m);
	*m = n;
	return 0;
}

int idmap_put(struct idmap *m, uint32_t k, uint32_t v)
{
	size_t pos;

	if ((m->count + 1) * 2 > m->cap && idmap_grow(m) < 0)
		return -ENOMEM;
	if (!idmap_find(m, k, &pos)) {
		m->used[pos] = 1;
		m->key[pos] = k;
		m->count++;
	}
	m->val[pos] = v;
	return 0;
}

void idmap_del(struct idmap *m, uint32_t k)
{
	size_t i, j;

	if (!m->cap || !idmap_find(m, k, &i))
		return;
	m->used[i] = 0;
	m->count--;
	for (j = (i + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)) {
		size_t home = id_home(m, m->key[j]);

		if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->used[i] = 1;
			m->key[i] = m->key[j];
			m->val[i] = m->val[j];
			m->used[j] = 0;
			i = j;
		}
	}
}

int idmap_inc(struct idmap *m, uint32_t k)
{
	uint32_t v = 0;

	idmap_get(m, k, &v);
	return idmap_put(m, k, v + 1);
}

void idmap_dec(struct idmap *m, uint32_t k)
{
	uint32_t v = 0;

	if (!idmap_get(m, k, &v))
		return;
	if (v <= 1)
		idmap_del(m, k);
	else
		idmap_put(m, k, v - 1);
}

uint32_t idmap_count(const struct idmap *m, uint32_t k)
{
	uint32_t v = 0;

	idmap_get(m, k, &v);
	return v;
}
