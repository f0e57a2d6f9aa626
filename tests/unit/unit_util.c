/* SPDX-License-Identifier: MIT */
#include "unit_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "snapshot_format.h"

char *unit_mkdtemp(void)
{
	char tmpl[] = "/tmp/accord-unit-XXXXXX";
	char *p;

	assert_non_null(mkdtemp(tmpl));
	p = strdup(tmpl);
	assert_non_null(p);
	return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void unit_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *unit_path(const char *dir, const char *rel)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
	return p;
}

void unit_write_file(const char *path, const void *buf, size_t len)
{
	char *tmp = NULL;
	const char *p = buf;
	int fd;

	/* a new inode, renamed over the old one: never writes through a
	 * hard link into another file (sync may link the local snapshot to
	 * the registry's generation file) */
	assert_true(asprintf(&tmp, "%s.unit-tmp", path) > 0);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	while (len) {
		ssize_t n = write(fd, p, len);

		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(rename(tmp, path), 0);
	free(tmp);
}

char *unit_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			assert_non_null(nb);
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

bool unit_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

size_t unit_count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

struct accord_state *unit_state(void)
{
	struct accord_range r = { 1000, 1999 };
	struct accord_state *st = accord_state_new(&r, &r);

	assert_non_null(st);
	accord_state_set_actor(st, 1700000000, "tester");
	return st;
}

int unit_add(struct accord_state *st, const char *name, struct accord_err *err)
{
	struct accord_user_spec s = { .name = name };

	return accord_user_add(st, &s, NULL, err);
}

int unit_add_uid(struct accord_state *st, const char *name, uint32_t uid,
		 bool shared, struct accord_err *err)
{
	struct accord_user_spec s = { .name = name, .has_uid = true, .uid = uid,
				      .shared = shared };

	return accord_user_add(st, &s, NULL, err);
}

unsigned char *unit_build(const struct accord_state *st, uint64_t gen,
			  const unsigned char uuid[16], size_t *len)
{
	struct accord_err err = { 0 };
	unsigned char *img = NULL;
	int r = accord_snapshot_build(st, gen, uuid, 1700000000, &img, len, &err);

	if (r != 0)
		fail_msg("accord_snapshot_build: %d %s", r, err.msg);
	return img;
}

char *unit_state_fingerprint(const struct accord_state *st)
{
	struct accord_snapshot s;
	struct accord_snap_user u;
	struct accord_snap_group g;
	struct accord_snap_tomb t;
	struct accord_snap_meta m;
	struct accord_snap_appl a;
	struct accord_snap_ace e;
	struct accord_snap_swap w;
	struct accord_range ur, gr;
	accord_snap_why why = NULL;
	unsigned char *img;
	uint32_t nu, ng, i;
	uint64_t cur;
	size_t len, outlen = 0;
	char *out = NULL;
	FILE *f;

	img = unit_build(st, 1, NULL, &len);
	assert_int_equal(accord_snapshot_open_mem(&s, img, len, &why), 0);
	if (accord_snapshot_verify(&s, &why) != 0)
		fail_msg("snapshot of the state fails verification: %s", why);
	f = open_memstream(&out, &outlen);
	assert_non_null(f);
	accord_state_ranges(st, &ur, &gr, &nu, &ng);
	fprintf(f, "live %zu/%zu slots %zu/%zu/%zu/%zu tombs %zu ranges %u-%u %u-%u next %u %u\n",
		accord_state_user_count(st), accord_state_group_count(st),
		accord_state_user_slots(st), accord_state_group_slots(st),
		accord_state_appl_slots(st), accord_state_swap_slots(st),
		accord_state_tomb_count(st), ur.lo, ur.hi, gr.lo, gr.hi, nu, ng);
	for (cur = 0; accord_snap_user_next(&s, &cur, &u) == 0;) {
		fprintf(f, "user %s %u %u %#x [%s] [%s] [%s] [%s] %lld %lld gids", u.name,
			u.uid, u.gid, u.flags, u.gecos, u.home, u.shell, u.reason,
			(long long)u.created, (long long)u.changed);
		for (i = 0; i < u.ngroups; i++)
			fprintf(f, " %u", accord_snap_user_gid(&u, i));
		fprintf(f, " racf [%s] dates %lld %lld\n", u.racf_id,
			(long long)u.revoke_date, (long long)u.resume_date);
	}
	for (cur = 0; accord_snap_group_next(&s, &cur, &g) == 0;) {
		const char *mn;
		size_t pos = 0;

		fprintf(f, "group %s %u %#x %lld %lld members(%u)", g.name, g.gid, g.flags,
			(long long)g.created, (long long)g.changed, g.nmembers);
		while ((mn = accord_snap_group_member(&g, &pos)))
			fprintf(f, " %s", mn);
		fputc('\n', f);
	}
	for (cur = 0; accord_snap_tomb_next(&s, &cur, &t) == 0;)
		fprintf(f, "tomb %u %u %s %lld by %s\n", t.kind, t.id, t.name,
			(long long)t.deleted_at, t.by);
	for (cur = 0; accord_snap_appl_next(&s, &cur, &a) == 0;) {
		size_t pos = 0;

		fprintf(f, "appl %s uacc %u %lld %lld entries(%u)", a.name, a.uacc,
			(long long)a.created, (long long)a.changed, a.nentries);
		while (accord_snap_appl_entry(&a, &pos, &e) == 0)
			fprintf(f, " %u:%s:%u:%u", e.kind, e.name, e.access, e.id);
		fputc('\n', f);
	}
	for (cur = 0; accord_snap_swap_next(&s, &cur, &w) == 0;)
		fprintf(f, "swap %u %s -> %s %lld\n", w.kind, w.from, w.to,
			(long long)w.created);
	accord_snap_meta(&s, &m);
	fprintf(f, "meta %u-%u %u-%u next %u %u counts %u %u %u %u %u\n", m.uid_lo,
		m.uid_hi, m.gid_lo, m.gid_hi, m.next_uid, m.next_gid, s.user_count,
		s.group_count, s.tombstone_count, s.appl_count, s.swap_count);
	fclose(f);
	free(img);
	return out;
}

void unit_fix_checksums(unsigned char *img, size_t len)
{
	uint32_t nsec = snap_get32(img + 40);
	uint64_t table_end = SNAP_HEADER_SIZE + (uint64_t)nsec * SNAP_SECTION_ENTRY;

	if (nsec == 0 || nsec > SNAP_MAX_SECTIONS || table_end > len)
		return; /* open_mem refuses these before any checksum */
	snap_put64(img + 32, accord_checksum(img + table_end, len - table_end));
	snap_put64(img + SNAP_HDR_CHECKSUM_AT,
		   accord_hash64(img, SNAP_HDR_CHECKSUM_AT, 0) ^
			   accord_hash64(img + SNAP_HEADER_SIZE,
					 table_end - SNAP_HEADER_SIZE, 1));
}

/* p[0..len] lies inside the image and p[len] is its NUL. */
static void assert_in_image(const struct accord_snapshot *s, const char *p,
			    size_t len)
{
	uintptr_t b = (uintptr_t)s->base, q = (uintptr_t)p;

	assert_true(q >= b && q - b < s->size && len < s->size - (q - b));
	assert_int_equal(p[len], '\0');
	assert_int_equal(strlen(p), len);
}

static void assert_lookup_rc(int r)
{
	if (r != 0 && r != -ENOENT && r != -EBADMSG)
		fail_msg("lookup returned %d (want 0, -ENOENT or -EBADMSG)", r);
}

static void check_user(const struct accord_snapshot *s,
		       const struct accord_snap_user *u)
{
	volatile uint32_t sink = 0;
	uintptr_t b = (uintptr_t)s->base, q = (uintptr_t)u->gids;
	uint32_t i;

	assert_in_image(s, u->name, u->name_len);
	assert_in_image(s, u->gecos, u->gecos_len);
	assert_in_image(s, u->home, u->home_len);
	assert_in_image(s, u->shell, u->shell_len);
	assert_in_image(s, u->reason, u->reason_len);
	assert_true(q >= b && q - b <= s->size &&
		    4ull * u->ngroups <= s->size - (q - b));
	for (i = 0; i < u->ngroups; i++)
		sink += accord_snap_user_gid(u, i);
	(void)sink;
}

/* Members are walked with accord_snap_group_member(), bounded by
 * members_len; only the deep verify makes nmembers exact. */
static void check_group(const struct accord_snapshot *s,
			const struct accord_snap_group *g)
{
	const char *mn;
	size_t pos = 0, walked = 0;

	assert_in_image(s, g->name, g->name_len);
	if (g->members_len) {
		uintptr_t b = (uintptr_t)s->base, q = (uintptr_t)g->members;

		assert_true(q >= b && q - b < s->size && g->members_len <= s->size - (q - b));
		assert_int_equal(g->members[g->members_len - 1], '\0');
	}
	while ((mn = accord_snap_group_member(g, &pos))) {
		assert_in_image(s, mn, strlen(mn));
		assert_true(pos <= g->members_len);
		assert_true(++walked <= g->members_len);
	}
}

static void probe_user_keys(const struct accord_snapshot *s, const char *name,
			    uint32_t uid)
{
	struct accord_snap_user u;
	int r;

	if (name) {
		r = accord_snap_user_by_name(s, name, &u);
		assert_lookup_rc(r);
		if (r == 0) {
			check_user(s, &u);
			assert_string_equal(u.name, name);
		}
	}
	r = accord_snap_user_by_uid(s, uid, &u);
	assert_lookup_rc(r);
	if (r == 0) {
		check_user(s, &u);
		assert_int_equal(u.uid, uid);
	}
}

static void probe_group_keys(const struct accord_snapshot *s, const char *name,
			     uint32_t gid)
{
	struct accord_snap_group g;
	int r;

	if (name) {
		r = accord_snap_group_by_name(s, name, &g);
		assert_lookup_rc(r);
		if (r == 0) {
			check_group(s, &g);
			assert_string_equal(g.name, name);
		}
	}
	r = accord_snap_group_by_gid(s, gid, &g);
	assert_lookup_rc(r);
	if (r == 0) {
		check_group(s, &g);
		assert_int_equal(g.gid, gid);
	}
}

static void check_appl(const struct accord_snapshot *s,
		       const struct accord_snap_appl *a)
{
	struct accord_snap_ace e;
	size_t pos = 0, walked = 0;
	int r;

	assert_in_image(s, a->name, a->name_len);
	assert_true(a->uacc <= ACCORD_ACCESS_READ);
	if (a->entries_len) {
		uintptr_t b = (uintptr_t)s->base, q = (uintptr_t)a->entries;

		assert_true(q >= b && q - b < s->size && a->entries_len <= s->size - (q - b));
	}
	while ((r = accord_snap_appl_entry(a, &pos, &e)) == 0) {
		assert_in_image(s, e.name, e.name_len);
		assert_true(e.kind == ACCORD_ACE_USER || e.kind == ACCORD_ACE_GROUP);
		assert_true(e.access <= ACCORD_ACCESS_READ);
		assert_true(pos <= a->entries_len);
		assert_true(++walked <= a->entries_len / 8);
	}
	assert_true(r == -ENOENT || r == -EBADMSG);
}

static void probe_appl(const struct accord_snapshot *s, const char *name)
{
	struct accord_snap_appl a;
	int r = accord_snap_appl_by_name(s, name, &a);

	assert_lookup_rc(r);
	if (r == 0) {
		check_appl(s, &a);
		assert_string_equal(a.name, name);
	}
}

void unit_snapshot_exercise(const struct accord_snapshot *s)
{
	static const char *const names[] = { "alice", "bob", "carol", "staff", "root",
					     "", "x", "nobody-with-a-rather-long-name" };
	static const uint32_t ids[] = { 0, 1000, 1001, 1002, 1003, 1500, 65534,
					UINT32_MAX };
	struct accord_snap_user u, u2;
	struct accord_snap_group g;
	struct accord_snap_tomb t;
	struct accord_snap_meta m;
	struct accord_snap_appl a;
	struct accord_snap_swap w;
	uint64_t cur, steps, off;
	size_t i;
	int r;

	for (cur = 0, steps = 0; (r = accord_snap_user_next(s, &cur, &u)) == 0; steps++) {
		assert_true(steps < s->size / 8 + 1);
		check_user(s, &u);
		assert_true(accord_snap_user_in_gid(&u, u.gid));
		for (i = 0; i < u.ngroups; i++)
			(void)accord_snap_user_in_gid(&u, accord_snap_user_gid(&u, (uint32_t)i));
		(void)accord_snap_user_in_gid(&u, 4242);
		probe_user_keys(s, u.name, u.uid);
		probe_group_keys(s, NULL, u.gid);
		for (i = 0; i < u.ngroups; i++)
			probe_group_keys(s, NULL, accord_snap_user_gid(&u, (uint32_t)i));
		assert_int_equal(accord_snap_user_at(s, u.off, &u2), 0);
		assert_int_equal(u2.uid, u.uid);
	}
	assert_true(r == -ENOENT || r == -EBADMSG);
	for (cur = 0, steps = 0; (r = accord_snap_group_next(s, &cur, &g)) == 0; steps++) {
		const char *mn;
		size_t pos = 0;

		assert_true(steps < s->size / 8 + 1);
		check_group(s, &g);
		probe_group_keys(s, g.name, g.gid);
		while ((mn = accord_snap_group_member(&g, &pos)))
			probe_user_keys(s, mn, 0);
	}
	assert_true(r == -ENOENT || r == -EBADMSG);
	for (cur = 0, steps = 0; (r = accord_snap_tomb_next(s, &cur, &t)) == 0; steps++) {
		assert_true(steps < s->size / 8 + 1);
		assert_in_image(s, t.name, t.name_len);
		assert_in_image(s, t.by, t.by_len);
	}
	assert_true(r == -ENOENT || r == -EBADMSG);
	for (cur = 0, steps = 0; (r = accord_snap_appl_next(s, &cur, &a)) == 0; steps++) {
		struct accord_snap_ace e;
		size_t pos = 0;

		assert_true(steps < s->size / 8 + 1);
		check_appl(s, &a);
		probe_appl(s, a.name);
		while (accord_snap_appl_entry(&a, &pos, &e) == 0)
			if (e.kind == ACCORD_ACE_USER)
				probe_user_keys(s, e.name, e.id);
			else
				probe_group_keys(s, e.name, e.id);
	}
	assert_true(r == -ENOENT || r == -EBADMSG);
	for (cur = 0, steps = 0; (r = accord_snap_swap_next(s, &cur, &w)) == 0; steps++) {
		assert_true(steps < s->size / 8 + 1);
		assert_in_image(s, w.from, w.from_len);
		assert_in_image(s, w.to, w.to_len);
		assert_true(w.kind == ACCORD_SWAP_PERMIT || w.kind == ACCORD_SWAP_DENY);
		probe_group_keys(s, w.from, 0);
		probe_user_keys(s, w.to, 0);
	}
	assert_true(r == -ENOENT || r == -EBADMSG);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		probe_user_keys(s, names[i], ids[i]);
		probe_group_keys(s, names[i], ids[i]);
		probe_appl(s, names[i]);
	}
	probe_appl(s, "sshd");
	probe_appl(s, "login");
	/* the record parser at every offset, aligned or not, and past the end */
	if (s->users.size <= 65536)
		for (off = 0; off <= s->users.size + 8; off++) {
			r = accord_snap_user_at(s, off, &u);
			assert_lookup_rc(r);
			if (r == 0)
				check_user(s, &u);
		}
	assert_int_equal(accord_snap_meta(s, &m), 0);
}

void unit_actor(struct accord_actor *a)
{
	memset(a, 0, sizeof(*a));
	a->uid = 0;
	a->loginuid = UINT32_MAX;
	snprintf(a->user, sizeof(a->user), "tester");
	snprintf(a->host, sizeof(a->host), "testhost");
	a->pid = 4242;
}
