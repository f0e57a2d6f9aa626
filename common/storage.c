/* SPDX-License-Identifier: MIT */
/*
 * Storages (include/accord/storage.h): the manifest, the walk that counts
 * and converts ownership, the registry-side records, the attach plan and
 * the conversion journal.
 */
#include <accord/storage.h>

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fileutil.h"
#include "hash.h"

#define CHECKSUM_KEY ",\n  \"checksum\": \""
#define CHECKSUM_TAIL_LEN (sizeof(CHECKSUM_KEY) - 1 + 16 + 4) /* "\n}\n */
#define OWNERS_KEY ",\n  \"owners\": ["
#define SIDE_FILE_MAX (64u << 20) /* checkpoint and journal */

int accord_storage_check_name(const char *name, struct accord_err *err)
{
	size_t len = strlen(name), i;

	if (len == 0 || len > ACCORD_STORAGE_NAME_MAX)
		return accord_err_set(err, -EINVAL, "a storage name has 1 to %d characters",
				      ACCORD_STORAGE_NAME_MAX);
	for (i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return accord_err_set(err, -EINVAL,
					      "storage name '%.64s' may hold only a-z, 0-9, '.', "
					      "'_' and '-', and starts with a letter or digit", name);
	}
	return 0;
}

/* ---- manifest ---------------------------------------------------------- */

void accord_manifest_free(struct accord_manifest *m)
{
	free(m->owners);
	m->owners = NULL;
	m->nowners = 0;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct accord_owner *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_owner_name(const void *a, const void *b)
{
	const struct accord_owner *x = *(const struct accord_owner *const *)a,
				  *y = *(const struct accord_owner *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

static bool is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') ||
					   (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static int get_int(json_object *o, const char *key, int64_t min, int64_t max,
		   int64_t *out, struct accord_err *err)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return accord_err_set(err, -EINVAL, "'%s' is missing or not a number", key);
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno || *out < min || *out > max)
		return accord_err_set(err, -EINVAL, "'%s' is out of range", key);
	return 0;
}

static int get_str(json_object *o, const char *key, char *dst, size_t cap,
		   struct accord_err *err)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return accord_err_set(err, -EINVAL, "'%s' is missing or not a string", key);
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n >= cap || memchr(s, '\0', n))
		return accord_err_set(err, -EINVAL, "'%s' is too long or holds a NUL", key);
	memcpy(dst, s, n + 1);
	return 0;
}

static int only_keys(json_object *o, const char *const *keys, struct accord_err *err)
{
	struct json_object_iter it;

	/* the C form of the iteration (the other uses a GNU extension) */
	json_object_object_foreachC(o, it) {
		const char *k = it.key;
		size_t i;
		bool known = false;

		for (i = 0; keys[i] && !known; i++)
			known = !strcmp(k, keys[i]);
		if (!known)
			return accord_err_set(err, -EINVAL, "unknown member '%.64s'", k);
	}
	return 0;
}

/* A decimal number without sign or leading zero, at most max. */
static const char *scan_u64(const char *p, const char *end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == s || (p - s > 1 && *s == '0'))
		return NULL;
	*out = v;
	return p;
}

static const char *expect_lit(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) >= n && !memcmp(p, lit, n) ? p + n : NULL;
}

/*
 * The owners, one per line as accord_manifest_format() writes them (the
 * checksum holds the file to that layout; json-c for 200,000 owners
 * costs more than the rest of an attach):
 *     {"kind": "user", "name": "alice", "id": 1000, "files": 5}
 * p points after "[", end at the checksum member.
 */
static int parse_owners(const char *p, const char *end, struct accord_manifest *m,
			struct accord_err *err)
{
	size_t n = 0, cap = 0;
	const char *q;

	if ((q = expect_lit(p, end, "]")) && q == end)
		return 0;
	for (;;) {
		struct accord_owner *o;
		const char *nm;
		uint64_t v;
		size_t len;

		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			struct accord_owner *nv;

			if (n >= ACCORD_MANIFEST_OWNERS_MAX)
				return accord_err_set(err, -E2BIG, "more than %u owners",
						      ACCORD_MANIFEST_OWNERS_MAX);
			nv = realloc(m->owners, nc * sizeof(*nv));
			if (!nv)
				return accord_err_set(err, -ENOMEM, "out of memory");
			m->owners = nv;
			cap = nc;
		}
		o = &m->owners[n];
		memset(o, 0, sizeof(*o));
		if (!(p = expect_lit(p, end, "\n    {\"kind\": \"")))
			goto bad;
		if ((q = expect_lit(p, end, "user\"")))
			o->kind = ACCORD_OWNER_USER;
		else if ((q = expect_lit(p, end, "group\"")))
			o->kind = ACCORD_OWNER_GROUP;
		else
			goto bad;
		if (!(p = expect_lit(q, end, ", \"name\": \"")))
			goto bad;
		nm = p;
		while (p < end && *p != '"' && *p != '\\' && *p != '\n' && p - nm <= ACCORD_NAME_MAX)
			p++;
		len = (size_t)(p - nm);
		if (len > ACCORD_NAME_MAX || !(p = expect_lit(p, end, "\", \"id\": ")))
			goto bad;
		memcpy(o->name, nm, len);
		o->name[len] = '\0';
		if (len && accord_check_name("owner name", o->name, err) < 0)
			return accord_err_prefix(err, -EINVAL, "owner %zu", n + 1);
		if (!(p = scan_u64(p, end, UINT32_MAX - 1, &v)))
			goto bad;
		o->id = (uint32_t)v;
		if (!(p = expect_lit(p, end, ", \"files\": ")) ||
		    !(p = scan_u64(p, end, INT64_MAX, &o->files)) || !o->files ||
		    !(p = expect_lit(p, end, "}")))
			goto bad;
		if (n && cmp_owner(&m->owners[n - 1], o) >= 0)
			return accord_err_set(err, -EINVAL,
					      "owner %zu is out of order or repeats an ID", n + 1);
		m->nowners = ++n;
		if ((q = expect_lit(p, end, "\n  ]")) && q == end)
			return 0;
		if (!(p = expect_lit(p, end, ",")))
			goto bad;
	}
bad:
	return accord_err_set(err, -EINVAL, "owner %zu is not in the layout accordctl writes",
			      n + 1);
}

static int parse_body(json_object *root, struct accord_manifest *m, struct accord_err *err)
{
	static const char *const keys[] = { "format", "name", "registry", "path", "created",
					    "scanned", "files", "owners", NULL };
	json_object *arr;
	int64_t v;
	size_t i, n;
	uint64_t sum = 0;
	int r;

	if (!json_object_is_type(root, json_type_object))
		return accord_err_set(err, -EINVAL, "not a JSON object");
	r = only_keys(root, keys, err);
	if (r == 0)
		r = get_int(root, "format", 1, INT32_MAX, &v, err);
	if (r == 0 && v != ACCORD_MANIFEST_FORMAT)
		return accord_err_set(err, -EPROTONOSUPPORT,
				      "format %" PRId64 " is not one this accordctl knows (%d)", v,
				      ACCORD_MANIFEST_FORMAT);
	if (r == 0)
		r = get_str(root, "name", m->name, sizeof(m->name), err);
	if (r == 0)
		r = accord_storage_check_name(m->name, err);
	if (r == 0)
		r = get_str(root, "registry", m->registry, sizeof(m->registry), err);
	if (r == 0 && !is_uuid(m->registry))
		r = accord_err_set(err, -EINVAL, "'registry' is not a UUID");
	if (r == 0)
		r = get_str(root, "path", m->path, sizeof(m->path), err);
	if (r == 0 && m->path[0] != '/')
		r = accord_err_set(err, -EINVAL, "'path' is not an absolute path");
	if (r == 0)
		r = get_int(root, "created", 0, INT64_MAX, &m->created, err);
	if (r == 0)
		r = get_int(root, "scanned", 0, INT64_MAX, &m->scanned, err);
	if (r == 0)
		r = get_int(root, "files", 0, INT64_MAX, &v, err);
	if (r < 0)
		return r;
	m->files = (uint64_t)v;
	if (!json_object_object_get_ex(root, "owners", &arr) ||
	    !json_object_is_type(arr, json_type_array) || json_object_array_length(arr))
		return accord_err_set(err, -EINVAL, "'owners' is missing or not a list");
	n = m->nowners;
	/* each kind counts every file once */
	for (i = 0; i < n; i++)
		if (m->owners[i].kind == ACCORD_OWNER_USER)
			sum += m->owners[i].files;
	if (sum != m->files)
		return accord_err_set(err, -EINVAL, "the user owners' files (%" PRIu64 ") do not "
				      "add up to 'files' (%" PRIu64 ")", sum, m->files);
	sum = 0;
	for (i = 0; i < n; i++)
		if (m->owners[i].kind == ACCORD_OWNER_GROUP)
			sum += m->owners[i].files;
	if (sum != m->files)
		return accord_err_set(err, -EINVAL, "the group owners' files (%" PRIu64 ") do not "
				      "add up to 'files' (%" PRIu64 ")", sum, m->files);
	/* a name is one owner of its kind */
	if (n > 1) {
		const struct accord_owner **ix = malloc(n * sizeof(*ix));

		if (!ix)
			return accord_err_set(err, -ENOMEM, "out of memory");
		for (i = 0; i < n; i++)
			ix[i] = &m->owners[i];
		qsort(ix, n, sizeof(*ix), cmp_owner_name);
		for (i = 1; i < n && r == 0; i++)
			if (ix[i]->name[0] && ix[i]->kind == ix[i - 1]->kind &&
			    !strcmp(ix[i]->name, ix[i - 1]->name))
				r = accord_err_set(err, -EINVAL, "owner '%s' is listed twice",
						   ix[i]->name);
		free(ix);
	}
	return r;
}

static int hexval(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

int accord_manifest_parse(const char *text, size_t len, struct accord_manifest *m,
			  struct accord_err *err)
{
	const size_t klen = sizeof(CHECKSUM_KEY) - 1;
	json_tokener *tok = NULL;
	json_object *root = NULL;
	const char *tail, *owners;
	char *head = NULL;
	size_t hlen;
	uint64_t want;
	int r;

	memset(m, 0, sizeof(*m));
	if (len > ACCORD_MANIFEST_MAX)
		return accord_err_set(err, -EFBIG, "larger than %u bytes", ACCORD_MANIFEST_MAX);
	if (len < CHECKSUM_TAIL_LEN)
		return accord_err_set(err, -EBADMSG, "truncated (no checksum at the end)");
	tail = text + len - CHECKSUM_TAIL_LEN;
	if (memcmp(tail, CHECKSUM_KEY, klen) || memcmp(tail + klen + 16, "\"\n}\n", 4) ||
	    hexval(tail + klen, 16, &want) < 0)
		return accord_err_set(err, -EBADMSG, "truncated or not written by accordctl "
				      "(no checksum at the end)");
	if (accord_checksum(text, len - CHECKSUM_TAIL_LEN) != want)
		return accord_err_set(err, -EBADMSG, "checksum mismatch: the file was edited or "
				      "damaged");
	tok = json_tokener_new_ex(16);
	if (!tok)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if (len > INT_MAX) {
		r = accord_err_set(err, -EFBIG, "too large");
		goto out;
	}
	/* the header through json-c, the owners line by line */
	owners = memmem(text, (size_t)(tail - text), OWNERS_KEY, sizeof(OWNERS_KEY) - 1);
	if (!owners) {
		r = accord_err_set(err, -EINVAL, "'owners' is missing");
		goto out;
	}
	hlen = (size_t)(owners - text) + sizeof(OWNERS_KEY) - 1;
	head = malloc(hlen + 4);
	if (!head) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(head, text, hlen);
	memcpy(head + hlen, "]\n}", 3);
	root = json_tokener_parse_ex(tok, head, (int)(hlen + 3));
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != hlen + 3) {
		r = accord_err_set(err, -EINVAL, "not valid JSON");
		goto out;
	}
	r = parse_owners(text + hlen, tail, m, err);
	if (r == 0)
		r = parse_body(root, m, err);
out:
	if (r < 0)
		accord_manifest_free(m);
	json_object_put(root);
	json_tokener_free(tok);
	free(head);
	return r;
}

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t nc = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
			char *np = realloc(b->p, nc);

			if (!np) {
				b->oom = true;
				return;
			}
			b->p = np;
			b->cap = nc;
		}
	}
}

int accord_manifest_format(const struct accord_manifest *m, char **out, size_t *len)
{
	struct sbuf b = { 0 };
	json_object *path = json_object_new_string(m->path);
	size_t i;

	*out = NULL;
	if (!path)
		return -ENOMEM;
	sb_add(&b, "{\n  \"format\": %d,\n  \"name\": \"%s\",\n  \"registry\": \"%s\",\n"
	       "  \"path\": %s,\n  \"created\": %" PRId64 ",\n  \"scanned\": %" PRId64 ",\n"
	       "  \"files\": %" PRIu64 ",\n  \"owners\": [", ACCORD_MANIFEST_FORMAT, m->name,
	       m->registry, json_object_to_json_string_ext(path, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE),
	       m->created, m->scanned, m->files);
	json_object_put(path);
	for (i = 0; i < m->nowners; i++) {
		const struct accord_owner *o = &m->owners[i];

		sb_add(&b, "%s\n    {\"kind\": \"%s\", \"name\": \"%s\", \"id\": %u, "
		       "\"files\": %" PRIu64 "}", i ? "," : "",
		       o->kind == ACCORD_OWNER_USER ? "user" : "group", o->name, o->id, o->files);
	}
	sb_add(&b, "%s]", m->nowners ? "\n  " : "");
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	sb_add(&b, CHECKSUM_KEY "%016" PRIx64 "\"\n}\n", accord_checksum(b.p, b.len));
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int accord_manifest_read(const char *file, struct accord_manifest *m, struct accord_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	memset(m, 0, sizeof(*m));
	/* checked on the open file: a name swapped after a check is not read */
	r = fu_read_trusted(file, ACCORD_MANIFEST_MAX, &text, &len);
	if (r == -EPERM)
		return accord_err_set(err, -EPERM, "refusing %s: it must be owned by root, not "
				      "writable by group or others, and a regular file with one "
				      "link", file);
	if (r < 0)
		return accord_err_set(err, r, "cannot read %s: %s", file, strerror(-r));
	r = accord_manifest_parse(text, len, m, err);
	if (r < 0)
		accord_err_prefix(err, r, "%s", file);
	free(text);
	return r;
}

int accord_manifest_write(const char *dir, const char *file, const struct accord_manifest *m,
			  struct accord_err *err)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
		return accord_err_set(err, -ENAMETOOLONG, "path too long: %s", dir);
	r = accord_manifest_format(m, &text, &len);
	if (r < 0)
		return accord_err_set(err, r, "out of memory");
	r = fu_publish(dir, path, text, len, 0644, false);
	free(text);
	if (r < 0)
		return accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r));
	return 0;
}

int accord_storage_meta_check(const char *root, bool create, struct accord_err *err)
{
	char dir[PATH_MAX];
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s/" ACCORD_STORAGE_META, root) >= (int)sizeof(dir))
		return accord_err_set(err, -ENAMETOOLONG, "path too long: %s", root);
	if (lstat(root, &st) < 0)
		return accord_err_set(err, -errno, "%s: %s", root, strerror(errno));
	/* whoever may rename the root's entries may swap .accord for a link
	 * or a directory of their own between our check and our write */
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)))
		return accord_err_set(err, -EPERM, "refusing the storage %s: its root directory "
				      "must be owned by root and not writable by group or others "
				      "(unless sticky), or its " ACCORD_STORAGE_META " could be "
				      "replaced under accordctl", root);
	if (create && mkdir(dir, 0755) == 0 && chmod(dir, 0755) < 0)
		return accord_err_set(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? -ENOENT : accord_err_set(err, -errno, "%s: %s", dir,
								  strerror(errno));
	if (!S_ISDIR(st.st_mode) || fu_trusted(&st) < 0)
		return accord_err_set(err, -EPERM, "refusing %s: it must be a directory (not a "
				      "link) owned by root and not writable by group or others",
				      dir);
	return 0;
}

/* ---- counting ---------------------------------------------------------- */

/* Open addressing, key id+1 (0 = empty). */
struct ctab {
	uint64_t *key, *val;
	size_t cap, n;
	uint32_t last_id;
	size_t last_slot;
};

static int ctab_init(struct ctab *t)
{
	t->cap = 256;
	t->n = 0;
	t->key = calloc(t->cap, sizeof(*t->key));
	t->val = calloc(t->cap, sizeof(*t->val));
	t->last_slot = SIZE_MAX;
	return t->key && t->val ? 0 : -ENOMEM;
}

static void ctab_free(struct ctab *t)
{
	free(t->key);
	free(t->val);
	t->key = t->val = NULL;
}

static size_t ctab_slot(const struct ctab *t, uint32_t id)
{
	size_t i = (size_t)((id * 0x9e3779b97f4a7c15ull) >> 20) & (t->cap - 1);

	while (t->key[i] && t->key[i] != (uint64_t)id + 1)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int ctab_add(struct ctab *t, uint32_t id, uint64_t n)
{
	size_t i;

	if (t->last_slot != SIZE_MAX && t->last_id == id) {
		t->val[t->last_slot] += n;
		return 0;
	}
	if ((t->n + 1) * 2 > t->cap) {
		struct ctab g = { .cap = t->cap * 2 };
		size_t k;

		g.key = calloc(g.cap, sizeof(*g.key));
		g.val = calloc(g.cap, sizeof(*g.val));
		if (!g.key || !g.val) {
			ctab_free(&g);
			return -ENOMEM;
		}
		for (k = 0; k < t->cap; k++)
			if (t->key[k]) {
				size_t s = ctab_slot(&g, (uint32_t)(t->key[k] - 1));

				g.key[s] = t->key[k];
				g.val[s] = t->val[k];
			}
		g.n = t->n;
		ctab_free(t);
		*t = g;
	}
	i = ctab_slot(t, id);
	if (!t->key[i]) {
		t->key[i] = (uint64_t)id + 1;
		t->n++;
	}
	t->val[i] += n;
	t->last_id = id;
	t->last_slot = i;
	return 0;
}

static int cmp_idcount(const void *a, const void *b)
{
	const struct accord_idcount *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int ctab_export(const struct ctab *t, struct accord_idcount **out, size_t *n)
{
	size_t k, j = 0;

	*out = calloc(t->n ? t->n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (k = 0; k < t->cap; k++)
		if (t->key[k]) {
			(*out)[j].id = (uint32_t)(t->key[k] - 1);
			(*out)[j++].n = t->val[k];
		}
	qsort(*out, j, sizeof(**out), cmp_idcount);
	*n = j;
	return 0;
}

/* ---- the walk ---------------------------------------------------------- */

/* The kernel's record layout for getdents64(2): every member is there
 * for the layout, whether or not the walk reads it. */
struct linux_dirent64 {
	uint64_t d_ino;          /* cppcheck-suppress unusedStructMember */
	int64_t d_off;           /* cppcheck-suppress unusedStructMember */
	unsigned short d_reclen;
	unsigned char d_type;    /* cppcheck-suppress unusedStructMember */
	char d_name[];
};

#define DENTS_BUF (64 * 1024)

struct frame {
	int fd;
	char *buf;
	size_t pos, len;
};

struct walker {
	struct accord_walk *w;
	dev_t dev;
	struct ctab u, g;
	struct frame *stack;
	size_t depth, cap;
	uint64_t tick;
	struct timespec last_progress;
	const char *top; /* the top-level entry being walked */
	struct accord_err *err;
};

static int64_t ms_since(struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static uint32_t map_id(const struct accord_idpair *m, size_t n, uint32_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m[mid].from == id)
			return m[mid].to;
		if (m[mid].from < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return id;
}

/*
 * Changes the owner of dirfd/name as *st (from fstatat) saw it: the name
 * is opened with O_PATH | O_NOFOLLOW (no link followed, no device or FIFO
 * opened) and everything is decided again on that open file, which is the
 * one changed, so a name swapped after the fstatat changes nothing.
 * -EAGAIN: replaced or changed under us; -EMLINK: a file (not a
 * directory) with another hard link, which may live outside the storage
 * (changing its owner would change that file too): left as it is.
 * Set-ID bits that chown clears are put back.
 */
static int change_owner(int dirfd, const char *name, const struct stat *st, uid_t u, gid_t g)
{
	char proc[64];
	struct stat now;
	int fd, r = 0;

	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &now) < 0)
		r = -errno;
	else if (now.st_ino != st->st_ino || now.st_dev != st->st_dev ||
		 now.st_uid != st->st_uid || now.st_gid != st->st_gid ||
		 (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
		r = -EAGAIN;
	else if (!S_ISDIR(now.st_mode) && now.st_nlink != 1)
		r = -EMLINK;
	else if (fchownat(fd, "", u, g, AT_EMPTY_PATH) < 0)
		r = -errno;
	else if (S_ISREG(now.st_mode) && (now.st_mode & (S_ISUID | S_ISGID))) {
		/* the same inode through the descriptor, never the name */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, now.st_mode & 07777) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

static void report(struct walker *k, bool done)
{
	if (k->w->progress)
		k->w->progress(k->w->ctx, k->w->files, k->w->changed, done);
}

/* One entry: count it (after the change).  *isdir: descend. */
static int visit(struct walker *k, int dirfd, const char *name, bool *isdir,
		 struct stat *seen)
{
	struct accord_walk *w = k->w;
	struct stat st;
	uint32_t u, g;
	int r;

	*isdir = false;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0; /* gone since the directory was read */
		return accord_err_set(k->err, -errno, "cannot stat %s (in a directory of %s): %s",
				      name, w->root, strerror(errno));
	}
	if (st.st_dev != k->dev)
		return 0; /* another file system mounted here */
	u = (uint32_t)st.st_uid;
	g = (uint32_t)st.st_gid;
	if (w->numap || w->ngmap) {
		uint32_t nu = map_id(w->umap, w->numap, u), ng = map_id(w->gmap, w->ngmap, g);

		if (nu != u || ng != g) {
			r = change_owner(dirfd, name, &st, nu != u ? nu : (uint32_t)-1,
					 ng != g ? ng : (uint32_t)-1);
			if (r == -EMLINK) {
				/* left with its owner, counted so, reported */
				w->linked++;
				if (w->on_linked)
					w->on_linked(w->ctx, k->top, name, u, g);
			} else if (r < 0) {
				return accord_err_set(k->err, r, "cannot change the owner of %s "
						      "(under %s/%s): %s", name, w->root, k->top,
						      r == -EAGAIN ? "it changed during the walk"
								   : strerror(-r));
			} else {
				w->changed++;
				u = nu;
				g = ng;
			}
		}
	}
	if (ctab_add(&k->u, u, 1) < 0 || ctab_add(&k->g, g, 1) < 0)
		return accord_err_set(k->err, -ENOMEM, "out of memory");
	w->files++;
	if ((++k->tick & 4095) == 0 && w->progress && ms_since(&k->last_progress) >= 200) {
		report(k, false);
		clock_gettime(CLOCK_MONOTONIC, &k->last_progress);
	}
	*isdir = S_ISDIR(st.st_mode);
	*seen = st;
	return 0;
}

static int push_dir(struct walker *k, int dirfd, const char *name, const struct stat *seen)
{
	struct frame *f;
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);

	/* the directory visited, not one swapped in (or mounted on it) since */
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_dev != seen->st_dev ||
			st.st_ino != seen->st_ino)) {
		close(fd);
		return accord_err_set(k->err, -EAGAIN, "the directory %s (under %s) changed "
				      "during the walk", name, k->w->root);
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == EMFILE)
			return accord_err_set(k->err, -EMFILE, "%s: the tree is deeper than this "
					      "process may open directories (%zu levels)",
					      k->w->root, k->depth);
		return accord_err_set(k->err, -errno, "cannot open the directory %s (under %s): "
				      "%s", name, k->w->root, strerror(errno));
	}
	if (k->depth == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 16;
		struct frame *ns = realloc(k->stack, nc * sizeof(*ns));

		if (!ns) {
			close(fd);
			return accord_err_set(k->err, -ENOMEM, "out of memory");
		}
		memset(ns + k->cap, 0, (nc - k->cap) * sizeof(*ns));
		k->stack = ns;
		k->cap = nc;
	}
	f = &k->stack[k->depth];
	if (!f->buf && !(f->buf = malloc(DENTS_BUF))) {
		close(fd);
		return accord_err_set(k->err, -ENOMEM, "out of memory");
	}
	f->fd = fd;
	f->pos = f->len = 0;
	k->depth++;
	return 0;
}

/* Everything below one top-level entry. */
static int walk_subtree(struct walker *k, int rootfd, const char *name)
{
	struct stat seen;
	bool isdir;
	int r;

	k->top = name;
	r = visit(k, rootfd, name, &isdir, &seen);
	if (r < 0 || !isdir)
		return r;
	r = push_dir(k, rootfd, name, &seen);
	while (r == 0 && k->depth) {
		struct frame *f = &k->stack[k->depth - 1];
		struct linux_dirent64 *d;

		if (f->pos >= f->len) {
			long n = syscall(SYS_getdents64, f->fd, f->buf, DENTS_BUF);

			if (n < 0) {
				r = accord_err_set(k->err, -errno, "cannot read a directory under "
						   "%s: %s", k->w->root, strerror(errno));
				break;
			}
			if (n == 0) {
				close(f->fd);
				k->depth--;
				continue;
			}
			f->len = (size_t)n;
			f->pos = 0;
		}
		d = (struct linux_dirent64 *)(void *)(f->buf + f->pos);
		f->pos += d->d_reclen;
		if (d->d_name[0] == '.' && (!d->d_name[1] || (d->d_name[1] == '.' && !d->d_name[2])))
			continue;
		r = visit(k, f->fd, d->d_name, &isdir, &seen);
		if (r == 0 && isdir)
			r = push_dir(k, f->fd, d->d_name, &seen);
	}
	while (k->depth)
		close(k->stack[--k->depth].fd);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The root's entries but .accord, sorted (the checkpoint's order). */
static int top_entries(int rootfd, const char *root, char ***out, size_t *n,
		       struct accord_err *err)
{
	int fd = dup(rootfd);
	DIR *dir;
	struct dirent *d;
	char **v = NULL;
	size_t cnt = 0, cap = 0;
	int r = 0;

	if (fd < 0)
		return accord_err_set(err, -errno, "%s: %s", root, strerror(errno));
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return accord_err_set(err, -errno, "%s: %s", root, strerror(errno));
	}
	errno = 0;
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..") ||
		    !strcmp(d->d_name, ACCORD_STORAGE_META))
			continue;
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = nc;
		}
		if (!(v[cnt] = strdup(d->d_name))) {
			r = -ENOMEM;
			break;
		}
		cnt++;
		errno = 0;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(dir);
	if (r < 0) {
		while (cnt)
			free(v[--cnt]);
		free(v);
		return accord_err_set(err, r, "cannot read %s: %s", root, strerror(-r));
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_str);
	*out = v;
	*n = cnt;
	return 0;
}

/*
 * The checkpoint: text, last line "end <checksum of the lines before>".
 *   accord-walk 1
 *   tag <tag>
 *   root <dev> <ino>
 *   done <hex of the last finished top-level name>
 *   files <n> <changed>
 *   u <id> <n> ... / g <id> <n> ...
 * Anything that does not check out is ignored: the walk starts over,
 * which is always correct.
 */
static void hex_name(const char *s, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (; *s; s++) {
		*out++ = hx[(unsigned char)*s >> 4];
		*out++ = hx[(unsigned char)*s & 15];
	}
	*out = '\0';
}

static int save_checkpoint(struct walker *k, const struct stat *rst, const char *done)
{
	struct sbuf b = { 0 };
	char dir[PATH_MAX], *slash, hx[2 * NAME_MAX + 3];
	size_t i;
	int r;

	hex_name(done, hx);
	sb_add(&b, "accord-walk 1\ntag %s\nroot %ju %ju\ndone %s\nfiles %" PRIu64 " %" PRIu64
	       " %" PRIu64 "\n", k->w->tag, (uintmax_t)rst->st_dev, (uintmax_t)rst->st_ino, hx,
	       k->w->files, k->w->changed, k->w->linked);
	for (i = 0; i < k->u.cap; i++)
		if (k->u.key[i])
			sb_add(&b, "u %" PRIu64 " %" PRIu64 "\n", k->u.key[i] - 1, k->u.val[i]);
	for (i = 0; i < k->g.cap; i++)
		if (k->g.key[i])
			sb_add(&b, "g %" PRIu64 " %" PRIu64 "\n", k->g.key[i] - 1, k->g.val[i]);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	sb_add(&b, "end %016" PRIx64 "\n", accord_checksum(b.p, b.len));
	snprintf(dir, sizeof(dir), "%s", k->w->checkpoint);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	r = b.oom ? -ENOMEM : fu_publish(dir, k->w->checkpoint, b.p, b.len, 0644, false);
	free(b.p);
	return r;
}

/* Takes up a checkpoint: the counts go into k, *done gets the last
 * finished name (malloc'd).  0 taken, 1 none or not usable. */
static int load_checkpoint(struct walker *k, const struct stat *rst, char **done)
{
	char *text = NULL, *line, *save = NULL, *end;
	size_t len = 0;
	uint64_t sum, a, b, c;
	uintmax_t dev, ino;
	int r = 1, state = 0;

	*done = NULL;
	/* one we did not write (not root's, or writable by others): ignored */
	if (fu_read_trusted(k->w->checkpoint, SIDE_FILE_MAX, &text, &len) < 0)
		return 1;
	end = len >= 21 ? text + len - 21 : NULL;
	if (!end || strncmp(end, "end ", 4) || end[20] != '\n' ||
	    hexval(end + 4, 16, &sum) < 0 || accord_checksum(text, len - 21) != sum ||
	    memchr(text, '\0', len))
		goto out;
	*end = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char tag[256], hx[2 * NAME_MAX + 3];

		if (state == 0 && !strcmp(line, "accord-walk 1")) {
			state = 1;
		} else if (state == 1 && sscanf(line, "tag %255s", tag) == 1 &&
			   !strcmp(tag, k->w->tag)) {
			state = 2;
		} else if (state == 2 && sscanf(line, "root %ju %ju", &dev, &ino) == 2 &&
			   dev == (uintmax_t)rst->st_dev && ino == (uintmax_t)rst->st_ino) {
			state = 3;
		} else if (state == 3 && strlen(line) < sizeof(hx) + 5 &&
			   sscanf(line, "done %511s", hx) == 1 && strlen(hx) % 2 == 0 &&
			   strlen(hx) > 0) {
			size_t i, n = strlen(hx) / 2;

			free(*done);
			*done = malloc(n + 1);
			if (!*done)
				goto out;
			for (i = 0; i < n; i++) {
				uint64_t v;

				if (hexval(hx + 2 * i, 2, &v) < 0 || v == 0)
					goto out;
				(*done)[i] = (char)v;
			}
			(*done)[n] = '\0';
			state = 4;
		} else if (state == 4 && sscanf(line, "files %" SCNu64 " %" SCNu64 " %" SCNu64,
						&a, &b, &c) == 3) {
			k->w->files = a;
			k->w->changed = b;
			k->w->linked = c;
			state = 5;
		} else if (state == 5 && sscanf(line, "u %" SCNu64 " %" SCNu64, &a, &b) == 2 &&
			   a < UINT32_MAX) {
			if (ctab_add(&k->u, (uint32_t)a, b) < 0)
				goto out;
		} else if (state == 5 && sscanf(line, "g %" SCNu64 " %" SCNu64, &a, &b) == 2 &&
			   a < UINT32_MAX) {
			if (ctab_add(&k->g, (uint32_t)a, b) < 0)
				goto out;
		} else {
			goto out;
		}
	}
	if (state == 5)
		r = 0;
out:
	if (r) {
		free(*done);
		*done = NULL;
		/* start over from nothing */
		ctab_free(&k->u);
		ctab_free(&k->g);
		if (ctab_init(&k->u) < 0 || ctab_init(&k->g) < 0)
			r = -ENOMEM;
		k->w->files = k->w->changed = k->w->linked = 0;
	}
	free(text);
	return r;
}

void accord_walk_free(struct accord_walk *w)
{
	free(w->uids);
	free(w->gids);
	w->uids = w->gids = NULL;
	w->nuids = w->ngids = 0;
}

int accord_storage_walk(struct accord_walk *w, struct accord_err *err)
{
	struct walker k = { .w = w, .err = err };
	struct timespec last_ck;
	struct stat rst;
	char **top = NULL, *done = NULL;
	size_t ntop = 0, i = 0;
	int rootfd, r;

	w->files = w->changed = w->linked = 0;
	w->resumed = false;
	w->uids = w->gids = NULL;
	w->nuids = w->ngids = 0;
	rootfd = open(w->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0)
		return accord_err_set(err, -errno, "cannot open %s: %s", w->root, strerror(errno));
	if (fstat(rootfd, &rst) < 0) {
		r = accord_err_set(err, -errno, "%s: %s", w->root, strerror(errno));
		goto out;
	}
	k.dev = rst.st_dev;
	if (ctab_init(&k.u) < 0 || ctab_init(&k.g) < 0) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &k.last_progress);
	last_ck = k.last_progress;
	r = top_entries(rootfd, w->root, &top, &ntop, err);
	if (r < 0)
		goto out;
	if (w->checkpoint) {
		r = load_checkpoint(&k, &rst, &done);
		if (r < 0) {
			r = accord_err_set(err, r, "out of memory");
			goto out;
		}
		w->resumed = r == 0;
	}
	if (done) {
		while (i < ntop && strcmp(top[i], done) <= 0)
			i++;
	} else {
		bool isdir;

		struct stat seen;

		/* the root itself */
		k.top = ".";
		r = visit(&k, rootfd, ".", &isdir, &seen);
		if (r < 0)
			goto out;
	}
	r = 0;
	for (; i < ntop && r == 0; i++) {
		r = walk_subtree(&k, rootfd, top[i]);
		if (r == 0 && w->checkpoint && ms_since(&last_ck) >= 1000) {
			r = save_checkpoint(&k, &rst, top[i]);
			if (r < 0)
				r = accord_err_set(err, r, "cannot write %s: %s", w->checkpoint,
						   strerror(-r));
			clock_gettime(CLOCK_MONOTONIC, &last_ck);
		}
	}
	if (r < 0)
		goto out;
	if (ctab_export(&k.u, &w->uids, &w->nuids) < 0 ||
	    ctab_export(&k.g, &w->gids, &w->ngids) < 0) {
		accord_walk_free(w);
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	report(&k, true);
	if (w->checkpoint)
		unlink(w->checkpoint);
out:
	for (i = 0; i < k.cap; i++)
		free(k.stack[i].buf);
	free(k.stack);
	for (i = 0; i < ntop; i++)
		free(top[i]);
	free(top);
	free(done);
	ctab_free(&k.u);
	ctab_free(&k.g);
	close(rootfd);
	return r;
}

int accord_storage_owners(const struct accord_snapshot *snap, const struct accord_walk *w,
			  struct accord_owner **out, size_t *n, struct accord_err *err)
{
	struct accord_owner *v = calloc(w->nuids + w->ngids + 1, sizeof(*v));
	size_t i, j = 0;

	if (!v)
		return accord_err_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < w->nuids; i++) {
		struct accord_snap_user u;

		v[j].kind = ACCORD_OWNER_USER;
		v[j].id = w->uids[i].id;
		v[j].files = w->uids[i].n;
		if (snap && accord_snap_user_by_uid(snap, v[j].id, &u) == 0 &&
		    u.name_len <= ACCORD_NAME_MAX)
			memcpy(v[j].name, u.name, u.name_len + 1);
		j++;
	}
	for (i = 0; i < w->ngids; i++) {
		struct accord_snap_group g;

		v[j].kind = ACCORD_OWNER_GROUP;
		v[j].id = w->gids[i].id;
		v[j].files = w->gids[i].n;
		if (snap && accord_snap_group_by_gid(snap, v[j].id, &g) == 0 &&
		    strlen(g.name) <= ACCORD_NAME_MAX)
			strcpy(v[j].name, g.name);
		j++;
	}
	*out = v;
	*n = j;
	return 0;
}

/* ---- registry-side records ----------------------------------------------- */

static int record_dir(const char *registry, char *buf, size_t cap, struct accord_err *err)
{
	if (snprintf(buf, cap, "%s/storages", registry) >= (int)cap)
		return accord_err_set(err, -ENAMETOOLONG, "registry path too long");
	return 0;
}

int accord_storage_record_read(const char *registry, const char *name,
			       struct accord_manifest *m, struct accord_err *err)
{
	char path[PATH_MAX];
	int r = accord_storage_check_name(name, err);

	memset(m, 0, sizeof(*m));
	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/storages/%s.json", registry, name) >=
	    (int)sizeof(path))
		return accord_err_set(err, -ENAMETOOLONG, "registry path too long");
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return accord_err_set(err, -ENOENT, "no storage named '%s' is registered", name);
	r = accord_manifest_read(path, m, err);
	if (r == 0 && strcmp(m->name, name)) {
		accord_manifest_free(m);
		r = accord_err_set(err, -EBADMSG, "%s names storage '%s'", path, m->name);
	}
	return r;
}

int accord_storage_record_write(const char *registry, const struct accord_manifest *m,
				struct accord_err *err)
{
	char dir[PATH_MAX], file[ACCORD_STORAGE_NAME_MAX + 8];
	int r = record_dir(registry, dir, sizeof(dir), err);

	if (r < 0)
		return r;
	r = fu_mkdir(dir, 0755);
	if (r < 0)
		return accord_err_set(err, r, "cannot create %s: %s", dir, strerror(-r));
	snprintf(file, sizeof(file), "%s.json", m->name);
	return accord_manifest_write(dir, file, m, err);
}

int accord_storage_record_remove(const char *registry, const char *name,
				 struct accord_err *err)
{
	char path[PATH_MAX + ACCORD_STORAGE_NAME_MAX + 8], dir[PATH_MAX];
	int r = accord_storage_check_name(name, err);

	if (r < 0 || (r = record_dir(registry, dir, sizeof(dir), err)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s.idmap", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		return accord_err_set(err, -errno, "cannot remove %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	if (unlink(path) < 0)
		return accord_err_set(err, -errno, errno == ENOENT ? "no storage named '%s' is "
				      "registered" : "cannot remove the record of '%s'", name);
	return fu_fsync_dir(dir) < 0 ? accord_err_set(err, -EIO, "cannot sync %s", dir) : 0;
}

void accord_storage_records_free(struct accord_manifest *v, size_t n)
{
	size_t i;

	for (i = 0; i < n && v; i++)
		accord_manifest_free(&v[i]);
	free(v);
}

static int cmp_manifest_name(const void *a, const void *b)
{
	return strcmp(((const struct accord_manifest *)a)->name,
		      ((const struct accord_manifest *)b)->name);
}

int accord_storage_records(const char *registry, struct accord_manifest **out, size_t *n,
			   struct accord_err *err)
{
	char dir[PATH_MAX];
	struct accord_manifest *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *d;
	DIR *dh;
	int r = record_dir(registry, dir, sizeof(dir), err);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : accord_err_set(err, -errno, "cannot read %s: %s", dir,
							    strerror(errno));
	while (r == 0 && (d = readdir(dh))) {
		size_t l = strlen(d->d_name);
		char name[ACCORD_STORAGE_NAME_MAX + 1];

		if (d->d_name[0] == '.' || l < 6 || strcmp(d->d_name + l - 5, ".json") ||
		    l - 5 > ACCORD_STORAGE_NAME_MAX)
			continue;
		memcpy(name, d->d_name, l - 5);
		name[l - 5] = '\0';
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 8;
			struct accord_manifest *nv = realloc(v, nc * sizeof(*nv));

			if (!nv) {
				r = accord_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		r = accord_storage_record_read(registry, name, &v[cnt], err);
		if (r == 0)
			cnt++;
	}
	closedir(dh);
	if (r < 0) {
		accord_storage_records_free(v, cnt);
		return r;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_manifest_name);
	*out = v;
	*n = cnt;
	return 0;
}

int accord_storage_audit(const char *root, const char *storage, const char *actor,
			 const char *action, const char *kind, const char *name, int64_t from,
			 int64_t to, uint64_t files, struct accord_err *err)
{
	char path[PATH_MAX], when[32], host[256] = "";
	json_object *o = json_object_new_object();
	const char *line;
	struct tm tm;
	time_t now = time(NULL);
	int fd, r = 0;

	if (!o)
		return accord_err_set(err, -ENOMEM, "out of memory");
	r = accord_storage_meta_check(root, false, err);
	if (r < 0) {
		json_object_put(o);
		return r == -ENOENT ? accord_err_set(err, r, "%s has no " ACCORD_STORAGE_META,
						     root) : r;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gethostname(host, sizeof(host) - 1);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "storage", json_object_new_string(storage));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "actor", json_object_new_string(actor));
	json_object_object_add(o, "action", json_object_new_string(action));
	if (kind)
		json_object_object_add(o, "kind", json_object_new_string(kind));
	if (name)
		json_object_object_add(o, "name", json_object_new_string(name));
	if (from >= 0)
		json_object_object_add(o, "from", json_object_new_int64(from));
	if (to >= 0)
		json_object_object_add(o, "to", json_object_new_int64(to));
	json_object_object_add(o, "files", json_object_new_int64((int64_t)files));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(path, sizeof(path), "%s/" ACCORD_STORAGE_META "/audit.jsonl", root);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		r = accord_err_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
	} else {
		char *buf = NULL;

		if (asprintf(&buf, "%s\n", line) < 0)
			r = accord_err_set(err, -ENOMEM, "out of memory");
		else if ((r = fu_write_all(fd, buf, strlen(buf))) < 0 || fsync(fd) < 0)
			r = accord_err_set(err, r < 0 ? r : -errno, "cannot write %s", path);
		free(buf);
		close(fd);
	}
	json_object_put(o);
	return r;
}

/* ---- attach plan --------------------------------------------------------- */

static int plan_group(struct accord_state *st, const struct accord_owner *o,
		      struct accord_plan_entry *p, struct accord_err *err)
{
	const struct accord_group *g = accord_state_group(st, o->name);
	int r;

	if (g) {
		p->new_id = g->gid;
		p->action = g->gid == o->id ? ACCORD_PLAN_OK : ACCORD_PLAN_REMAP;
		return 0;
	}
	/* the manifest's GID when it is free here, else the next one */
	r = accord_group_add(st, o->name, true, o->id, false, NULL);
	if (r < 0)
		r = accord_group_add(st, o->name, false, 0, false, err);
	if (r < 0)
		return accord_err_prefix(err, r, "cannot create group '%s'", o->name);
	g = accord_state_group(st, o->name);
	p->new_id = g->gid;
	p->action = g->gid == o->id ? ACCORD_PLAN_CREATE : ACCORD_PLAN_CREATE_REMAP;
	return 0;
}

static int plan_user(struct accord_state *st, const struct accord_owner *o,
		     const struct accord_defaults *def, struct accord_plan_entry *p,
		     struct accord_err *err)
{
	const struct accord_user *u = accord_state_user(st, o->name);
	struct accord_user_spec s = { .name = o->name, .has_uid = true, .uid = o->id };
	int r;

	if (u) {
		p->new_id = u->uid;
		p->action = u->uid == o->id ? ACCORD_PLAN_OK : ACCORD_PLAN_REMAP;
		return 0;
	}
	if (accord_state_group(st, o->name))
		s.group = o->name;
	r = accord_user_add(st, &s, def, NULL);
	if (r < 0) {
		s.has_uid = false;
		r = accord_user_add(st, &s, def, err);
	}
	if (r >= 0)
		r = accord_user_status_op(st, o->name, ACCORD_OP_DISABLE, NULL, err);
	if (r >= 0)
		r = accord_user_set_flag(st, o->name, ACCORD_F_NO_PASSWORD, true, err);
	if (r < 0)
		return accord_err_prefix(err, r, "cannot create user '%s'", o->name);
	u = accord_state_user(st, o->name);
	p->new_id = u->uid;
	p->action = u->uid == o->id ? ACCORD_PLAN_CREATE : ACCORD_PLAN_CREATE_REMAP;
	return 0;
}

int accord_storage_plan(struct accord_state *st, const struct accord_manifest *m,
			const struct accord_defaults *def, struct accord_plan_entry **plan,
			struct accord_err *err)
{
	struct accord_plan_entry *v = calloc(m->nowners ? m->nowners : 1, sizeof(*v));
	size_t i;
	int pass, r = 0;

	*plan = NULL;
	if (!v)
		return accord_err_set(err, -ENOMEM, "out of memory");
	/* groups first: a created user takes the group of its name */
	for (pass = 0; pass < 2 && r == 0; pass++)
		for (i = 0; i < m->nowners && r == 0; i++) {
			const struct accord_owner *o = &m->owners[i];

			if (o->kind != (pass ? ACCORD_OWNER_USER : ACCORD_OWNER_GROUP))
				continue;
			v[i].owner = o;
			v[i].new_id = o->id;
			if (!o->name[0])
				v[i].action = ACCORD_PLAN_UNNAMED;
			else if (pass)
				r = plan_user(st, o, def, &v[i], err);
			else
				r = plan_group(st, o, &v[i], err);
		}
	if (r < 0) {
		free(v);
		return r;
	}
	*plan = v;
	return 0;
}

/* ---- conversion ---------------------------------------------------------- */

void accord_convert_free(struct accord_convert *cv)
{
	size_t i;

	for (i = 0; i < ACCORD_CONVERT_PHASES; i++) {
		free(cv->phase[i].u);
		free(cv->phase[i].g);
		cv->phase[i].u = cv->phase[i].g = NULL;
		cv->phase[i].nu = cv->phase[i].ng = 0;
	}
}

static int cmp_pair(const void *a, const void *b)
{
	const struct accord_idpair *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

static bool in_list(const uint32_t *v, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == id)
			return true;
	return false;
}

static bool is_to(const struct accord_idpair *m, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (m[i].to == id)
			return true;
	return false;
}

static bool is_from(const struct accord_idpair *m, size_t n, uint32_t id)
{
	struct accord_idpair key = { id, 0 };

	return n && bsearch(&key, m, n, sizeof(*m), cmp_pair);
}

/* One map into phases 0 and 1 (see storage.h). */
static int split_map(const struct accord_idpair *in, size_t n, const uint32_t *avoid,
		     size_t navoid, struct accord_idpair **p0, size_t *n0,
		     struct accord_idpair **p1, size_t *n1)
{
	struct accord_idpair *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b)),
			     *sorted = calloc(n + 1, sizeof(*sorted));
	uint32_t tmp = 4294900000u;
	size_t i;

	if (!a || !b || !sorted) {
		free(a);
		free(b);
		free(sorted);
		return -ENOMEM;
	}
	if (n) { /* in may be NULL when n is 0 */
		memcpy(sorted, in, n * sizeof(*in));
		qsort(sorted, n, sizeof(*sorted), cmp_pair);
	}
	*n0 = *n1 = 0;
	for (i = 0; i < n; i++) {
		if (sorted[i].from == sorted[i].to)
			continue;
		if (is_to(sorted, n, sorted[i].from)) {
			/* a swap: park it on an ID that is nowhere */
			while (in_list(avoid, navoid, tmp) || is_to(sorted, n, tmp) ||
			       is_from(sorted, n, tmp))
				tmp--;
			a[(*n0)++] = (struct accord_idpair){ sorted[i].from, tmp };
			b[(*n1)++] = (struct accord_idpair){ tmp, sorted[i].to };
			tmp--;
		} else {
			b[(*n1)++] = sorted[i];
		}
	}
	free(sorted);
	qsort(a, *n0, sizeof(*a), cmp_pair);
	qsort(b, *n1, sizeof(*b), cmp_pair);
	*p0 = a;
	*p1 = b;
	return 0;
}

int accord_convert_build(struct accord_convert *cv, const struct accord_idpair *u, size_t nu,
			 const struct accord_idpair *g, size_t ng, const uint32_t *avoid,
			 size_t navoid)
{
	struct accord_idpair *u0, *u1, *g0, *g1;
	size_t nu0, nu1, ng0, ng1;

	if (split_map(u, nu, avoid, navoid, &u0, &nu0, &u1, &nu1) < 0)
		return -ENOMEM;
	if (split_map(g, ng, avoid, navoid, &g0, &ng0, &g1, &ng1) < 0) {
		free(u0);
		free(u1);
		return -ENOMEM;
	}
	cv->current = 0;
	if (nu0 || ng0) {
		cv->nphases = 2;
		cv->phase[0].u = u0, cv->phase[0].nu = nu0;
		cv->phase[0].g = g0, cv->phase[0].ng = ng0;
		cv->phase[1].u = u1, cv->phase[1].nu = nu1;
		cv->phase[1].g = g1, cv->phase[1].ng = ng1;
	} else {
		free(u0);
		free(g0);
		cv->nphases = nu1 || ng1 ? 1 : 0;
		cv->phase[0].u = u1, cv->phase[0].nu = nu1;
		cv->phase[0].g = g1, cv->phase[0].ng = ng1;
	}
	return 0;
}

/*
 * The journal: text, last line "end <checksum>":
 *   accord-convert 1
 *   storage NAME / registry UUID / op OP
 *   phases N / current K
 *   map P u|g FROM TO        (P 0-based)
 *   plan <checksum of the map lines>
 */
static int format_journal(const struct accord_convert *cv, struct sbuf *b, uint64_t *plansum)
{
	struct sbuf maps = { 0 };
	size_t p, i;

	for (p = 0; p < cv->nphases; p++) {
		for (i = 0; i < cv->phase[p].nu; i++)
			sb_add(&maps, "map %zu u %u %u\n", p, cv->phase[p].u[i].from,
			       cv->phase[p].u[i].to);
		for (i = 0; i < cv->phase[p].ng; i++)
			sb_add(&maps, "map %zu g %u %u\n", p, cv->phase[p].g[i].from,
			       cv->phase[p].g[i].to);
	}
	sb_add(&maps, "%s", "");
	if (maps.oom)
		return -ENOMEM;
	*plansum = accord_checksum(maps.p, maps.len);
	sb_add(b, "accord-convert 1\nstorage %s\nregistry %s\nop %s\nphases %zu\ncurrent %zu\n"
	       "%splan %016" PRIx64 "\n", cv->storage, cv->registry, cv->op, cv->nphases,
	       cv->current, maps.p, *plansum);
	free(maps.p);
	if (b->oom)
		return -ENOMEM;
	sb_add(b, "end %016" PRIx64 "\n", accord_checksum(b->p, b->len));
	return b->oom ? -ENOMEM : 0;
}

int accord_convert_save(const char *root, struct accord_convert *cv,
			struct accord_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct sbuf b = { 0 };
	uint64_t sum;
	int r;

	r = accord_storage_meta_check(root, false, err);
	if (r < 0)
		return r == -ENOENT ? accord_err_set(err, r, "%s has no " ACCORD_STORAGE_META,
						     root) : r;
	snprintf(dir, sizeof(dir), "%s/" ACCORD_STORAGE_META, root);
	snprintf(path, sizeof(path), "%s/convert.journal", dir);
	r = format_journal(cv, &b, &sum);
	cv->sum = sum;
	if (r == 0)
		r = fu_publish(dir, path, b.p, b.len, 0644, false);
	free(b.p);
	return r < 0 ? accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

static int push_pair(struct accord_idpair **v, size_t *n, uint32_t from, uint32_t to)
{
	struct accord_idpair *nv;

	if (*n >= 2 * (size_t)ACCORD_MANIFEST_OWNERS_MAX)
		return -E2BIG;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	nv[*n].from = from;
	nv[*n].to = to;
	*v = nv;
	(*n)++;
	return 0;
}

int accord_convert_load(const char *root, struct accord_convert *cv, struct accord_err *err)
{
	char path[PATH_MAX], *text = NULL, *line, *save = NULL, *end;
	size_t len = 0, p;
	uint64_t sum;
	int r, state = 0;
	struct accord_convert chk;
	struct sbuf b = { 0 };

	memset(cv, 0, sizeof(*cv));
	snprintf(path, sizeof(path), "%s/" ACCORD_STORAGE_META "/convert.journal", root);
	r = accord_storage_meta_check(root, false, err);
	if (r < 0)
		return r;
	/* the journal says which IDs become which: only root's own */
	r = fu_read_trusted(path, SIDE_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return r;
	if (r == -EPERM)
		return accord_err_set(err, r, "refusing %s: it must be owned by root, not writable "
				      "by group or others, and a regular file with one link", path);
	if (r < 0)
		return accord_err_set(err, r, "cannot read %s: %s", path, strerror(-r));
	r = accord_err_set(err, -EBADMSG, "%s is damaged (edited or truncated); the "
			   "conversion it records cannot be resumed safely", path);
	end = len >= 21 ? text + len - 21 : NULL;
	if (!end || strncmp(end, "end ", 4) || end[20] != '\n' ||
	    hexval(end + 4, 16, &sum) < 0 || accord_checksum(text, len - 21) != sum ||
	    memchr(text, '\0', len))
		goto out;
	*end = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned a, c;
		char k;
		size_t ph;

		if (state == 0 && !strcmp(line, "accord-convert 1"))
			state = 1;
		else if (state == 1 && sscanf(line, "storage %64s", cv->storage) == 1)
			state = 2;
		else if (state == 2 && sscanf(line, "registry %36s", cv->registry) == 1 &&
			 is_uuid(cv->registry))
			state = 3;
		else if (state == 3 && sscanf(line, "op %15s", cv->op) == 1)
			state = 4;
		else if (state == 4 && sscanf(line, "phases %zu", &cv->nphases) == 1 &&
			 cv->nphases <= ACCORD_CONVERT_PHASES)
			state = 5;
		else if (state == 5 && sscanf(line, "current %zu", &cv->current) == 1 &&
			 cv->current <= cv->nphases)
			state = 6;
		else if (state == 6 && sscanf(line, "map %zu %c %u %u", &ph, &k, &a, &c) == 4 &&
			 ph < cv->nphases && (k == 'u' || k == 'g')) {
			int e = k == 'u' ? push_pair(&cv->phase[ph].u, &cv->phase[ph].nu, a, c)
					 : push_pair(&cv->phase[ph].g, &cv->phase[ph].ng, a, c);
			if (e < 0)
				goto out;
		} else if (state == 6 && sscanf(line, "plan %16" SCNx64, &cv->sum) == 1)
			state = 7;
		else
			goto out;
	}
	if (state != 7 || accord_storage_check_name(cv->storage, NULL) < 0)
		goto out;
	/* each phase sorted, and the plan checksum what we would write */
	for (p = 0; p < cv->nphases; p++) {
		size_t i;

		for (i = 1; i < cv->phase[p].nu; i++)
			if (cv->phase[p].u[i - 1].from >= cv->phase[p].u[i].from)
				goto out;
		for (i = 1; i < cv->phase[p].ng; i++)
			if (cv->phase[p].g[i - 1].from >= cv->phase[p].g[i].from)
				goto out;
	}
	chk = *cv;
	if (format_journal(&chk, &b, &sum) < 0 || sum != cv->sum)
		goto out;
	r = 0;
out:
	free(b.p);
	free(text);
	if (r < 0)
		accord_convert_free(cv);
	else if (err)
		err->msg[0] = '\0', err->code = 0;
	return r;
}

int accord_convert_remove(const char *root, struct accord_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];

	snprintf(dir, sizeof(dir), "%s/" ACCORD_STORAGE_META, root);
	snprintf(path, sizeof(path), "%s/convert.journal", dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return accord_err_set(err, -errno, "cannot remove %s: %s", path, strerror(errno));
	return fu_fsync_dir(dir) < 0 ? accord_err_set(err, -EIO, "cannot sync %s", dir) : 0;
}

int accord_convert_run(const char *root, struct accord_convert *cv, struct accord_walk *w,
		       struct accord_err *err)
{
	char ck[PATH_MAX], tag[64];
	bool walked = false;
	uint64_t linked = 0;
	int r = 0;

	snprintf(ck, sizeof(ck), "%s/" ACCORD_STORAGE_META "/convert.checkpoint", root);
	w->root = root;
	w->checkpoint = ck;
	while (cv->current < cv->nphases) {
		size_t p = cv->current;

		snprintf(tag, sizeof(tag), "convert-%016" PRIx64 "-%zu", cv->sum, p);
		w->tag = tag;
		w->umap = cv->phase[p].u;
		w->numap = cv->phase[p].nu;
		w->gmap = cv->phase[p].g;
		w->ngmap = cv->phase[p].ng;
		accord_walk_free(w);
		r = accord_storage_walk(w, err);
		if (r < 0)
			break;
		linked += w->linked;
		cv->current++;
		r = accord_convert_save(root, cv, err);
		if (r < 0)
			break;
		walked = true;
	}
	if (r == 0 && !walked) {
		/* killed after the last phase (or nothing to change): the counts
		 * come from a walk that changes nothing */
		snprintf(tag, sizeof(tag), "convert-%016" PRIx64 "-done", cv->sum);
		w->tag = tag;
		w->umap = w->gmap = NULL;
		w->numap = w->ngmap = 0;
		accord_walk_free(w);
		r = accord_storage_walk(w, err);
	}
	w->linked = linked; /* every phase's, not only the last one's */
	w->tag = NULL;
	w->checkpoint = NULL;
	return r;
}

/* ---- idmapped mounts ------------------------------------------------------ */

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

void accord_idmap_free(struct accord_idmap *im)
{
	free(im->u);
	free(im->g);
	im->u = im->g = NULL;
	im->nu = im->ng = 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int accord_idmap_text(const struct accord_idpair *m, size_t n, char **out, size_t *lines,
		      size_t *bytes)
{
	struct sbuf b = { 0 };
	uint32_t *x = calloc(2 * n + 1, sizeof(*x));
	uint64_t next = 0, end = UINT32_MAX; /* 4294967295 (-1) is never mapped */
	size_t i, nx = 0, nl = 0;

	*out = NULL;
	*lines = *bytes = 0;
	if (!x)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		x[nx++] = m[i].from;
		x[nx++] = m[i].to;
		sb_add(&b, "%" PRIu32 " %" PRIu32 " 1\n", m[i].from, m[i].to);
		nl++;
	}
	if (nx)
		qsort(x, nx, sizeof(*x), cmp_u32);
	for (i = 0; i <= nx; i++) {
		uint64_t stop = i < nx ? x[i] : end;

		if (stop > next) {
			sb_add(&b, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", next, next, stop - next);
			nl++;
		}
		if (i < nx && (uint64_t)x[i] + 1 > next)
			next = (uint64_t)x[i] + 1;
	}
	free(x);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*lines = nl;
	*bytes = b.len;
	*out = b.p;
	if (nl > ACCORD_IDMAP_LINES_MAX || b.len > ACCORD_IDMAP_TEXT_MAX)
		return -E2BIG;
	return 0;
}

void accord_fs_name(const char *path, char *buf, size_t len)
{
	static const struct {
		unsigned long magic;
		const char *name;
	} names[] = {
		{ 0xEF53, "ext4" }, { 0x58465342, "xfs" }, { 0x9123683E, "btrfs" },
		{ 0x01021994, "tmpfs" }, { 0xF2F52010, "f2fs" }, { 0x4d44, "vfat" },
		{ 0x794c7630, "overlay" }, { 0x65735546, "fuse" }, { 0x6969, "nfs" },
		{ 0xFF534D42, "cifs" }, { 0x2fc12fc1, "zfs" }, { 0x73717368, "squashfs" },
		{ 0xE0F5E1E2, "erofs" }, { 0x7366746e, "ntfs3" }, { 0x2011BAB0, "exfat" },
	};
	struct statfs sf;
	size_t i;

	if (statfs(path, &sf) < 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((unsigned long)sf.f_type == names[i].magic) {
			snprintf(buf, len, "%s", names[i].name);
			return;
		}
	snprintf(buf, len, "file system 0x%lx", (unsigned long)sf.f_type);
}

static int write_proc(pid_t pid, const char *what, const char *text)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

/* A user namespace with the maps, held by *nsfd (the process that made
 * it is gone when this returns). */
static int make_userns(const char *umap, const char *gmap, int *nsfd, struct accord_err *err)
{
	int ready[2], go[2], r = 0, st;
	char c = 0, path[64];
	pid_t pid;

	*nsfd = -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return accord_err_set(err, -errno, "pipe: %s", strerror(errno));
	if (pipe2(go, O_CLOEXEC) < 0) {
		r = -errno;
		close(ready[0]);
		close(ready[1]);
		return accord_err_set(err, r, "pipe: %s", strerror(-r));
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(go[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (pid < 0) {
		r = accord_err_set(err, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (read(ready[0], &c, 1) != 1) {
		r = accord_err_set(err, -EPERM, "cannot create a user namespace (unshare "
				   "CLONE_NEWUSER refused)");
		goto reap;
	}
	if ((r = write_proc(pid, "uid_map", umap)) < 0 ||
	    (r = write_proc(pid, "gid_map", gmap)) < 0) {
		r = accord_err_set(err, r, "cannot write the ID map of a user namespace: %s",
				   strerror(-r));
		goto reap;
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	*nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (*nsfd < 0)
		r = accord_err_set(err, -errno, "cannot open %s: %s", path, strerror(errno));
reap:
	close(go[1]);
	go[1] = -1;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
out:
	if (go[1] >= 0)
		close(go[1]);
	close(ready[0]);
	return r;
}

/* The detached, idmapped clone of root (never attached anywhere). */
static int idmapped_clone(const char *root, const struct accord_idmap *im, int *treefd,
			  struct accord_err *err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP };
	char *ut = NULL, *gt = NULL, fs[64], rel[128];
	size_t ul = 0, ub = 0, gl = 0, gb = 0;
	struct utsname un;
	int r, ns = -1, fd;

	*treefd = -1;
	accord_fs_name(root, fs, sizeof(fs));
	if (uname(&un) < 0)
		snprintf(un.release, sizeof(un.release), "?");
	snprintf(rel, sizeof(rel), "%s", un.release);
	if (geteuid() != 0)
		return accord_err_set(err, -EPERM, "idmapped mount not available: it needs root "
				      "(CAP_SYS_ADMIN)");
	r = accord_idmap_text(im->u, im->nu, &ut, &ul, &ub);
	if (r == 0)
		r = accord_idmap_text(im->g, im->ng, &gt, &gl, &gb);
	if (r == -E2BIG)
		r = accord_err_set(err, r, "idmapped mount not available: the map needs %zu uid "
				   "and %zu gid lines (%zu and %zu bytes); the kernel takes at "
				   "most %d lines in %d bytes", ul, gt ? gl : 0, ub, gt ? gb : 0,
				   ACCORD_IDMAP_LINES_MAX, ACCORD_IDMAP_TEXT_MAX);
	else if (r < 0)
		r = accord_err_set(err, r, "out of memory");
	if (r == 0)
		r = make_userns(ut, gt, &ns, err);
	free(ut);
	free(gt);
	if (r < 0)
		return r;
	fd = open_tree(AT_FDCWD, root, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0) {
		r = accord_err_set(err, -errno, "idmapped mount not available: open_tree(%s): %s "
				   "(Linux %s)", root, strerror(errno), rel);
		close(ns);
		return r;
	}
	attr.userns_fd = (uint64_t)ns;
	if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
		r = -errno;
		close(fd);
		close(ns);
		return accord_err_set(err, r, "idmapped mount not available: Linux %s refuses "
				      "it on %s (%s)%s", rel, root, fs, r == -EINVAL ?
				      ": the file system (or one mounted below it) does not "
				      "support idmapped mounts" : strerror(-r));
	}
	close(ns);
	*treefd = fd;
	return 0;
}

int accord_idmap_try(const char *root, const struct accord_idmap *im, struct accord_err *err)
{
	int fd, r = idmapped_clone(root, im, &fd, err);

	if (r == 0)
		close(fd);
	return r;
}

static void boot_id(char *buf, size_t len)
{
	char *t = NULL;
	size_t l = 0;

	buf[0] = '\0';
	if (fu_read_file("/proc/sys/kernel/random/boot_id", 64, &t, &l) == 0) {
		while (l && (t[l - 1] == '\n' || t[l - 1] == ' '))
			t[--l] = '\0';
		snprintf(buf, len, "%s", t);
	}
	free(t);
}

static uint64_t mount_id(const char *path)
{
	struct statx sx;

	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID_UNIQUE, &sx) == 0 &&
	    (sx.stx_mask & STATX_MNT_ID_UNIQUE))
		return sx.stx_mnt_id;
	if (statx(AT_FDCWD, path, AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) == 0 &&
	    (sx.stx_mask & STATX_MNT_ID))
		return sx.stx_mnt_id;
	return 0;
}

int accord_idmap_mount(const char *root, struct accord_idmap *im, struct accord_err *err)
{
	int fd, r = idmapped_clone(root, im, &fd, err);

	if (r < 0)
		return r;
	if (move_mount(fd, "", AT_FDCWD, root, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		r = accord_err_set(err, -errno, "cannot mount the idmapped clone over %s: %s",
				   root, strerror(errno));
		close(fd);
		return r;
	}
	close(fd);
	boot_id(im->boot_id, sizeof(im->boot_id));
	im->mnt_id = mount_id(root);
	return 0;
}

bool accord_idmap_is_ours(const char *root, const struct accord_idmap *im)
{
	char b[40];

	if (!im->mnt_id || !im->boot_id[0])
		return false;
	boot_id(b, sizeof(b));
	return !strcmp(b, im->boot_id) && mount_id(root) == im->mnt_id;
}

int accord_idmap_umount(const char *root, const struct accord_idmap *im,
			struct accord_err *err)
{
	if (!accord_idmap_is_ours(root, im))
		return 0;
	if (umount2(root, 0) < 0)
		return accord_err_set(err, -errno, "cannot unmount the idmapped mount over %s: %s",
				      root, strerror(errno));
	return 0;
}

bool accord_idmap_same(const struct accord_idmap *a, const struct accord_idmap *b)
{
	return a->nu == b->nu && a->ng == b->ng &&
	       (!a->nu || !memcmp(a->u, b->u, a->nu * sizeof(*a->u))) &&
	       (!a->ng || !memcmp(a->g, b->g, a->ng * sizeof(*a->g)));
}

int accord_idmap_save(const char *dir, const char *file, const struct accord_idmap *im,
		      struct accord_err *err)
{
	struct sbuf b = { 0 };
	char path[PATH_MAX + 80];
	size_t i;
	int r;

	sb_add(&b, "accord-idmap 1\nstorage %s\nregistry %s\n", im->storage, im->registry);
	if (im->mnt_id)
		sb_add(&b, "mount %s %" PRIu64 "\n", im->boot_id, im->mnt_id);
	for (i = 0; i < im->nu; i++)
		sb_add(&b, "u %" PRIu32 " %" PRIu32 "\n", im->u[i].from, im->u[i].to);
	for (i = 0; i < im->ng; i++)
		sb_add(&b, "g %" PRIu32 " %" PRIu32 "\n", im->g[i].from, im->g[i].to);
	sb_add(&b, "end\n");
	if (b.oom) {
		free(b.p);
		return accord_err_set(err, -ENOMEM, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	r = fu_publish(dir, path, b.p, b.len, 0644, false);
	free(b.p);
	return r < 0 ? accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r)) : 0;
}

int accord_idmap_load(const char *file, struct accord_idmap *im, struct accord_err *err)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	bool head = false, end = false;
	int r;

	memset(im, 0, sizeof(*im));
	r = fu_read_trusted(file, SIDE_FILE_MAX, &text, &len);
	if (r == -ENOENT)
		return accord_err_set(err, r, "%s: missing", file);
	if (r < 0)
		return accord_err_set(err, r, "%s: %s", file, r == -EPERM ? "it must be a "
				      "regular file owned by root, not writable by group or others" :
				      strerror(-r));
	for (line = strtok_r(text, "\n", &save); line && r == 0 && !end;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long a, b;
		char k, w1[80], w2[80];
		int used = 0;

		if (!head) {
			head = !strcmp(line, "accord-idmap 1");
			if (!head)
				r = -EBADMSG;
		} else if (!strcmp(line, "end")) {
			end = true;
		} else if (sscanf(line, "storage %64s%n", w1, &used) == 1 && !line[used]) {
			memcpy(im->storage, w1, strlen(w1) + 1);
		} else if (sscanf(line, "registry %36s%n", w1, &used) == 1 && !line[used]) {
			memcpy(im->registry, w1, strlen(w1) + 1);
		} else if (sscanf(line, "mount %39s %llu%n", w2, &a, &used) == 2 && !line[used]) {
			memcpy(im->boot_id, w2, strlen(w2) + 1);
			im->mnt_id = a;
		} else if (sscanf(line, "%c %llu %llu%n", &k, &a, &b, &used) == 3 && !line[used] &&
			   (k == 'u' || k == 'g') && a < UINT32_MAX && b < UINT32_MAX && a != b) {
			r = k == 'u' ? push_pair(&im->u, &im->nu, (uint32_t)a, (uint32_t)b)
				     : push_pair(&im->g, &im->ng, (uint32_t)a, (uint32_t)b);
		} else {
			r = -EBADMSG;
		}
	}
	free(text);
	if (r == 0 && (!end || !im->storage[0] || !im->registry[0]))
		r = -EBADMSG;
	if (r == 0 && im->nu > 1)
		qsort(im->u, im->nu, sizeof(*im->u), cmp_pair);
	if (r == 0 && im->ng > 1)
		qsort(im->g, im->ng, sizeof(*im->g), cmp_pair);
	if (r < 0) {
		accord_idmap_free(im);
		return accord_err_set(err, r, "%s: %s", file, r == -EBADMSG ? "damaged" :
				      strerror(-r));
	}
	return 0;
}
