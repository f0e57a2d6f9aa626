/* SPDX-License-Identifier: MIT */
/*
 * libnss_accord.so.2: passwd, group and initgroups from the host-local
 * accord snapshot.
 *
 * This code is loaded into every process that resolves a name, so it
 * links libc only, never logs, never starts a thread, never calls back
 * into NSS and takes no lock on the keyed lookup path.  The snapshot is
 * an immutable file replaced by rename(); we map it once and notice a new
 * one with at most one stat() a second.
 *
 * Mappings live in two slots.  A reader pins the current slot with a
 * reference count and re-checks that it is still current.  The refresher
 * (one thread at a time, never waited for) only rebuilds the other slot,
 * and only when nobody holds it, then flips `current`.  So a lookup never
 * blocks on a refresh, a mapping is never unmapped under a reader, and a
 * fork() at any moment leaves at worst counts that the child resets.
 */
#include "nss_accord.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <accord/snapshot.h>

#include "accord_config.h"

#define NSEC_PER_SEC 1000000000LL
/* How stale a process may be: at most one stat() of the path this often. */
#define REFRESH_INTERVAL_NS NSEC_PER_SEC
/* How long a lookup waits for another thread's first load of the
 * snapshot, so that concurrent first lookups do not fail spuriously.
 * Bounded, in case the loader is this very thread (a signal handler). */
#define FIRST_LOAD_WAIT_NS NSEC_PER_SEC
/* Names are at most ACCORD_NAME_MAX bytes; anything much longer cannot
 * be in a snapshot and is answered without touching it. */
#define LOOKUP_NAME_MAX 256

struct slot {
	alignas(64) atomic_uint refs; /* readers inside this mapping */
	atomic_bool mapped;           /* snap holds a mapping we own */
	struct accord_snapshot snap;  /* written by the refresher only,
					 while the slot is not current */
};

static struct slot slots[2];
static atomic_int current = -1;        /* -1 until the first good load */
static atomic_int load_error = ENOENT; /* why nothing was ever mapped */
static atomic_bool refreshing;
static atomic_llong next_check;        /* CLOCK_MONOTONIC_COARSE, ns */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static char snap_path[PATH_MAX];
static int path_error; /* set once in module_init() */

/*
 * Enumeration is process-global by API definition.  The cursor pins the
 * slot it started on until the end of the data or end*ent(), so one pass
 * never mixes two generations.
 */
enum ent_state {
	ENT_IDLE,   /* next get*ent_r starts a pass */
	ENT_ACTIVE, /* slot is pinned, pos is the next record */
	ENT_DONE,   /* pass finished: NOTFOUND until set*ent / end*ent */
};

struct ent_cursor {
	enum ent_state state;
	int slot;
	uint64_t pos;
};

static pthread_mutex_t ent_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ent_cursor pw_ent = { ENT_IDLE, -1, 0 };
static struct ent_cursor gr_ent = { ENT_IDLE, -1, 0 };

/* ---- process-level setup ------------------------------------------ */

static void atfork_prepare(void)
{
	/* The cursors must not be mid-update when the child copies them. */
	pthread_mutex_lock(&ent_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&ent_lock);
}

static unsigned cursor_pins(const struct ent_cursor *c, int idx)
{
	return c->state == ENT_ACTIVE && c->slot == idx;
}

static void atfork_child(void)
{
	int i;

	/* Only the forking thread lives on: pins held by the others, and a
	 * refresh one of them was running, are gone with them.  The cursors'
	 * pins belong to the process and stay. */
	for (i = 0; i < 2; i++)
		atomic_store(&slots[i].refs, cursor_pins(&pw_ent, i) +
					     cursor_pins(&gr_ent, i));
	atomic_store(&refreshing, false);
	pthread_mutex_init(&ent_lock, NULL);
}

static void module_init(void)
{
	const char *env = secure_getenv("ACCORD_SNAPSHOT");
	const char *path = env && *env ? env : ACCORD_SNAPSHOT_PATH;
	size_t len = strlen(path);

	if (len >= sizeof(snap_path))
		path_error = ENAMETOOLONG;
	else
		memcpy(snap_path, path, len + 1);
	/* Failure (ENOMEM) only costs fork safety of enumeration; lookups
	 * must still work, so there is nothing better to do than go on. */
	(void)pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- mapping management ------------------------------------------- */

static int64_t monotonic_ns(void)
{
	struct timespec ts = { 0, 0 };

	/* vDSO, no syscall; ~4 ms resolution is plenty for a 1 s period. */
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* glibc's file_change_detection identity of a published file. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	       a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void slot_unmap(struct slot *sl)
{
	struct accord_snapshot old;

	if (!atomic_load(&sl->mapped))
		return;
	/* Mark the slot empty before unmapping, so that a child forked in
	 * between leaks the mapping rather than unmapping it twice. */
	old = sl->snap;
	atomic_store(&sl->mapped, false);
	accord_snapshot_unmap(&old);
}

/* Runs with `refreshing` held.  Never waits: a spare slot still in use is
 * left alone and the refresh tried again at the next interval. */
static void refresh_locked(void)
{
	struct accord_snapshot fresh;
	struct stat st;
	int cur = atomic_load(&current), spare = 0, r;

	if (path_error) {
		atomic_store(&load_error, path_error);
		return;
	}
	if (cur >= 0) {
		/* gone or unreachable: keep serving the last good one */
		if (stat(snap_path, &st) < 0)
			return;
		if (same_file(&st, &slots[cur].snap.st))
			return;
		spare = !cur;
		if (atomic_load(&slots[spare].refs) != 0)
			return;
	}
	r = accord_snapshot_map_file(snap_path, ACCORD_SNAP_TRUSTED_OWNER,
				     &fresh, NULL);
	if (r < 0) {
		/* A bad new file is ignored; only a process that never had
		 * a snapshot reports why. */
		if (cur < 0)
			atomic_store(&load_error, -r);
		return;
	}
	slot_unmap(&slots[spare]);
	slots[spare].snap = fresh;
	atomic_store(&slots[spare].mapped, true);
	atomic_store(&current, spare);
}

static void refresh_maybe(void)
{
	int64_t now = monotonic_ns();

	if (now < atomic_load_explicit(&next_check, memory_order_relaxed))
		return;
	if (atomic_exchange(&refreshing, true))
		return; /* another thread is at it: use what is mapped */
	/* That other thread may just have done this interval's check. */
	if (now >= atomic_load(&next_check)) {
		atomic_store(&next_check, now + REFRESH_INTERVAL_NS);
		refresh_locked();
	}
	atomic_store(&refreshing, false);
}

/*
 * Pin the current mapping.  Returns the slot index, or a negative errno
 * when no snapshot was ever mapped in this process.
 */
static int pin_current(void)
{
	int64_t deadline = 0;
	bool waiting = false;
	int idx;

	refresh_maybe();
	for (;;) {
		idx = atomic_load(&current);
		if (idx < 0) {
			if (!atomic_load(&refreshing)) {
				/* The loader stores current before it
				 * clears the flag: look once more. */
				if (atomic_load(&current) >= 0)
					continue;
				return -atomic_load(&load_error);
			}
			/* Another thread is doing the first load. */
			if (!waiting) {
				waiting = true;
				deadline = monotonic_ns() + FIRST_LOAD_WAIT_NS;
			} else if (monotonic_ns() > deadline) {
				return -EAGAIN;
			}
			sched_yield();
			continue;
		}
		atomic_fetch_add(&slots[idx].refs, 1);
		if (atomic_load(&current) == idx)
			return idx;
		/* Swapped between the load and the pin: the refresher may be
		 * rebuilding that slot, so do not touch it. */
		atomic_fetch_sub(&slots[idx].refs, 1);
	}
}

static void unpin(int idx)
{
	atomic_fetch_sub(&slots[idx].refs, 1);
}

/* ---- results ------------------------------------------------------ */

/*
 * The one place where an internal result becomes an NSS status.
 * r is 0 or a negative errno; no_snapshot says that r is why no snapshot
 * was ever mapped (then, and only then, the answer is UNAVAIL).
 * errno is restored first because glibc passes errnop == &errno.
 */
static enum nss_status nss_status_of(int r, bool no_snapshot, int saved_errno,
				     int *errnop)
{
	enum nss_status st;

	errno = saved_errno;
	if (r == 0)
		return NSS_STATUS_SUCCESS;
	if (no_snapshot)
		st = NSS_STATUS_UNAVAIL;
	else if (r == -ENOENT)
		st = NSS_STATUS_NOTFOUND;
	else if (r == -ERANGE || r == -ENOMEM || r == -EAGAIN)
		st = NSS_STATUS_TRYAGAIN; /* ERANGE: glibc grows the buffer */
	else
		st = NSS_STATUS_UNAVAIL;  /* -EBADMSG: a damaged record */
	*errnop = -r;
	return st;
}

static bool name_ok(const char *name)
{
	return name && *name &&
	       strnlen(name, LOOKUP_NAME_MAX + 1) <= LOOKUP_NAME_MAX;
}

static char *put_str(char **p, const char *s, size_t len)
{
	char *dst = *p;

	memcpy(dst, s, len);
	dst[len] = '\0';
	*p += len + 1;
	return dst;
}

/* Copy a user into the caller's buffer; nothing is written unless all of
 * it fits. */
static int fill_passwd(const struct accord_snap_user *u, struct passwd *pw,
		       char *buf, size_t buflen)
{
	size_t need = u->name_len + 1 + sizeof("x") + u->gecos_len + 1 +
		      u->home_len + 1 + u->shell_len + 1;
	char *p = buf;

	if (need > buflen)
		return -ERANGE;
	pw->pw_name = put_str(&p, u->name, u->name_len);
	pw->pw_passwd = put_str(&p, "x", 1);
	pw->pw_gecos = put_str(&p, u->gecos, u->gecos_len);
	pw->pw_dir = put_str(&p, u->home, u->home_len);
	pw->pw_shell = put_str(&p, u->shell, u->shell_len);
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	return 0;
}

/* Layout in buf: padding to pointer alignment, gr_mem[nmembers + 1],
 * name, "x", the member names. */
static int fill_group(const struct accord_snap_group *g, struct group *gr,
		      char *buf, size_t buflen)
{
	size_t align = (size_t)(-(uintptr_t)buf & (alignof(char *) - 1));
	uint64_t need = (uint64_t)align +
			((uint64_t)g->nmembers + 1) * sizeof(char *) +
			g->name_len + 1 + sizeof("x") + g->members_len;
	char **mem, *p, *end;
	uint32_t i;

	if (need > (uint64_t)buflen)
		return -ERANGE;
	mem = (char **)(void *)(buf + align);
	p = (char *)(mem + g->nmembers + 1);
	gr->gr_name = put_str(&p, g->name, g->name_len);
	gr->gr_passwd = put_str(&p, "x", 1);
	memcpy(p, g->members, g->members_len);
	/* Walk our copy, bounded: the reader checked the mapping, but a
	 * file rewritten in place (not how we publish) could change it. */
	end = p + g->members_len;
	for (i = 0; i < g->nmembers; i++) {
		char *z = memchr(p, '\0', (size_t)(end - p));

		if (!z)
			return -EBADMSG;
		mem[i] = p;
		p = z + 1;
	}
	mem[g->nmembers] = NULL;
	gr->gr_mem = mem;
	gr->gr_gid = g->gid;
	return 0;
}

/* ---- keyed lookups ------------------------------------------------ */

struct pw_query {
	const char *name;
	uid_t uid;
	struct passwd *pw;
	char *buf;
	size_t buflen;
};

struct gr_query {
	const char *name;
	gid_t gid;
	struct group *gr;
	char *buf;
	size_t buflen;
};

struct ig_query {
	const char *user;
	gid_t skip;
	long int *start, *size;
	gid_t **groupsp;
	long int limit;
};

typedef int (*lookup_fn)(const struct accord_snapshot *s, void *q);

/* Pin, look up, unpin, translate: the frame of every keyed entry point. */
static enum nss_status run_lookup(lookup_fn fn, void *q, int *errnop)
{
	int saved_errno = errno, idx, r;
	bool no_snapshot = false;

	pthread_once(&init_once, module_init);
	idx = pin_current();
	if (idx < 0) {
		no_snapshot = true;
		r = idx;
	} else {
		r = fn(&slots[idx].snap, q);
		unpin(idx);
	}
	return nss_status_of(r, no_snapshot, saved_errno, errnop);
}

static int pw_by_name(const struct accord_snapshot *s, void *arg)
{
	struct pw_query *q = arg;
	struct accord_snap_user u;
	int r = accord_snap_user_by_name(s, q->name, &u);

	return r < 0 ? r : fill_passwd(&u, q->pw, q->buf, q->buflen);
}

static int pw_by_uid(const struct accord_snapshot *s, void *arg)
{
	struct pw_query *q = arg;
	struct accord_snap_user u;
	int r = accord_snap_user_by_uid(s, q->uid, &u);

	return r < 0 ? r : fill_passwd(&u, q->pw, q->buf, q->buflen);
}

static int gr_by_name(const struct accord_snapshot *s, void *arg)
{
	struct gr_query *q = arg;
	struct accord_snap_group g;
	int r = accord_snap_group_by_name(s, q->name, &g);

	return r < 0 ? r : fill_group(&g, q->gr, q->buf, q->buflen);
}

static int gr_by_gid(const struct accord_snapshot *s, void *arg)
{
	struct gr_query *q = arg;
	struct accord_snap_group g;
	int r = accord_snap_group_by_gid(s, q->gid, &g);

	return r < 0 ? r : fill_group(&g, q->gr, q->buf, q->buflen);
}

enum nss_status _nss_accord_getpwnam_r(const char *name, struct passwd *pw,
				       char *buf, size_t buflen, int *errnop)
{
	struct pw_query q = { .name = name, .pw = pw, .buf = buf,
			      .buflen = buflen };

	if (!name_ok(name))
		return nss_status_of(-ENOENT, false, errno, errnop);
	return run_lookup(pw_by_name, &q, errnop);
}

enum nss_status _nss_accord_getpwuid_r(uid_t uid, struct passwd *pw,
				       char *buf, size_t buflen, int *errnop)
{
	struct pw_query q = { .uid = uid, .pw = pw, .buf = buf,
			      .buflen = buflen };

	return run_lookup(pw_by_uid, &q, errnop);
}

enum nss_status _nss_accord_getgrnam_r(const char *name, struct group *gr,
				       char *buf, size_t buflen, int *errnop)
{
	struct gr_query q = { .name = name, .gr = gr, .buf = buf,
			      .buflen = buflen };

	if (!name_ok(name))
		return nss_status_of(-ENOENT, false, errno, errnop);
	return run_lookup(gr_by_name, &q, errnop);
}

enum nss_status _nss_accord_getgrgid_r(gid_t gid, struct group *gr,
				       char *buf, size_t buflen, int *errnop)
{
	struct gr_query q = { .gid = gid, .gr = gr, .buf = buf,
			      .buflen = buflen };

	return run_lookup(gr_by_gid, &q, errnop);
}

/* ---- initgroups --------------------------------------------------- */

static bool gid_listed(const gid_t *list, long int n, gid_t gid)
{
	long int i;

	for (i = 0; i < n; i++)
		if (list[i] == gid)
			return true;
	return false;
}

/* 1: grown, 0: already at the limit, -ENOMEM. */
static int grow_groups(struct ig_query *q)
{
	long int newsize;
	gid_t *ng;

	if (*q->size <= 0)
		newsize = 16;
	else if (*q->size > LONG_MAX / 2)
		newsize = LONG_MAX;
	else
		newsize = *q->size * 2;
	if (q->limit > 0 && newsize > q->limit)
		newsize = q->limit;
	if (newsize <= *q->size)
		return 0;
	if ((unsigned long)newsize > SIZE_MAX / sizeof(gid_t))
		return -ENOMEM;
	ng = realloc(*q->groupsp, (size_t)newsize * sizeof(gid_t));
	if (!ng)
		return -ENOMEM;
	*q->groupsp = ng;
	*q->size = newsize;
	return 1;
}

/*
 * The snapshot keeps each user's supplementary GIDs sorted, so a
 * duplicate inside our own list is the previous entry; only the caller's
 * prefix [0, start) needs a scan (glibc's nss_files scans the same way).
 */
static int ig_collect(const struct accord_snapshot *s, void *arg)
{
	struct ig_query *q = arg;
	struct accord_snap_user u;
	long int prefix = *q->start;
	uint32_t i;
	gid_t gid, prev = 0;
	bool have_prev = false;
	int r;

	if (*q->start < 0 || *q->size < *q->start)
		return -EINVAL;
	r = accord_snap_user_by_name(s, q->user, &u);
	if (r < 0)
		return r;
	for (i = 0; i < u.ngroups; i++) {
		gid = accord_snap_user_gid(&u, i);
		if (have_prev && gid == prev)
			continue;
		prev = gid;
		have_prev = true;
		if (gid == q->skip || gid_listed(*q->groupsp, prefix, gid))
			continue;
		if (q->limit > 0 && *q->start >= q->limit)
			break;
		if (*q->start >= *q->size) {
			r = grow_groups(q);
			if (r < 0)
				return r;
			if (r == 0)
				break;
		}
		(*q->groupsp)[(*q->start)++] = gid;
	}
	return 0;
}

enum nss_status _nss_accord_initgroups_dyn(const char *user, gid_t group,
					   long int *start, long int *size,
					   gid_t **groupsp, long int limit,
					   int *errnop)
{
	struct ig_query q = { .user = user, .skip = group, .start = start,
			      .size = size, .groupsp = groupsp,
			      .limit = limit };

	if (!name_ok(user))
		return nss_status_of(-ENOENT, false, errno, errnop);
	return run_lookup(ig_collect, &q, errnop);
}

/* ---- enumeration -------------------------------------------------- */

typedef int (*next_fn)(const struct accord_snapshot *s, uint64_t *pos,
		       void *q);

/* With ent_lock held. */
static int ent_start(struct ent_cursor *c)
{
	int idx = pin_current();

	if (idx < 0)
		return idx;
	c->state = ENT_ACTIVE;
	c->slot = idx;
	c->pos = 0;
	return 0;
}

/* With ent_lock held. */
static void ent_stop(struct ent_cursor *c, enum ent_state state)
{
	if (c->state == ENT_ACTIVE)
		unpin(c->slot);
	c->state = state;
	c->slot = -1;
	c->pos = 0;
}

static enum nss_status ent_set(struct ent_cursor *c)
{
	int saved_errno = errno, ignored, r;

	pthread_once(&init_once, module_init);
	pthread_mutex_lock(&ent_lock);
	ent_stop(c, ENT_IDLE);
	r = ent_start(c);
	pthread_mutex_unlock(&ent_lock);
	/* set*ent has no errnop: errno is left as the caller had it. */
	return nss_status_of(r, r < 0, saved_errno, &ignored);
}

static enum nss_status ent_end(struct ent_cursor *c)
{
	int saved_errno = errno;

	pthread_once(&init_once, module_init);
	pthread_mutex_lock(&ent_lock);
	ent_stop(c, ENT_IDLE);
	pthread_mutex_unlock(&ent_lock);
	return nss_status_of(0, false, saved_errno, NULL);
}

static enum nss_status ent_get(struct ent_cursor *c, next_fn next, void *q,
			       int *errnop)
{
	int saved_errno = errno, r;
	bool no_snapshot = false;

	pthread_once(&init_once, module_init);
	pthread_mutex_lock(&ent_lock);
	if (c->state == ENT_IDLE) {
		/* get*ent_r without set*ent starts a pass, as nss_files does */
		r = ent_start(c);
		if (r < 0) {
			no_snapshot = true;
			goto out;
		}
	}
	if (c->state == ENT_DONE) {
		r = -ENOENT;
		goto out;
	}
	r = next(&slots[c->slot].snap, &c->pos, q);
	/* End of data, or a damaged record the walk cannot get past:
	 * release the generation now rather than at end*ent. */
	if (r == -ENOENT || r == -EBADMSG)
		ent_stop(c, ENT_DONE);
out:
	pthread_mutex_unlock(&ent_lock);
	if (r == -ENOENT && !no_snapshot) {
		/* The end of the data is not an error.  glibc hands errnop
		 * (errno) straight back to getpwent()/getgrent() callers, who
		 * set errno to 0 and test it after a NULL (POSIX): leave 0. */
		errno = saved_errno;
		*errnop = 0;
		return NSS_STATUS_NOTFOUND;
	}
	return nss_status_of(r, no_snapshot, saved_errno, errnop);
}

/* The position only moves when the entry was delivered: after ERANGE the
 * caller retries the same entry with a bigger buffer. */
static int pw_next(const struct accord_snapshot *s, uint64_t *pos, void *arg)
{
	struct pw_query *q = arg;
	struct accord_snap_user u;
	uint64_t p = *pos;
	int r = accord_snap_user_next(s, &p, &u);

	if (r == 0)
		r = fill_passwd(&u, q->pw, q->buf, q->buflen);
	if (r == 0)
		*pos = p;
	return r;
}

static int gr_next(const struct accord_snapshot *s, uint64_t *pos, void *arg)
{
	struct gr_query *q = arg;
	struct accord_snap_group g;
	uint64_t p = *pos;
	int r = accord_snap_group_next(s, &p, &g);

	if (r == 0)
		r = fill_group(&g, q->gr, q->buf, q->buflen);
	if (r == 0)
		*pos = p;
	return r;
}

enum nss_status _nss_accord_setpwent(int stayopen)
{
	(void)stayopen;
	return ent_set(&pw_ent);
}

enum nss_status _nss_accord_endpwent(void)
{
	return ent_end(&pw_ent);
}

enum nss_status _nss_accord_getpwent_r(struct passwd *pw, char *buf,
				       size_t buflen, int *errnop)
{
	struct pw_query q = { .pw = pw, .buf = buf, .buflen = buflen };

	return ent_get(&pw_ent, pw_next, &q, errnop);
}

enum nss_status _nss_accord_setgrent(int stayopen)
{
	(void)stayopen;
	return ent_set(&gr_ent);
}

enum nss_status _nss_accord_endgrent(void)
{
	return ent_end(&gr_ent);
}

enum nss_status _nss_accord_getgrent_r(struct group *gr, char *buf,
				       size_t buflen, int *errnop)
{
	struct gr_query q = { .gr = gr, .buf = buf, .buflen = buflen };

	return ent_get(&gr_ent, gr_next, &q, errnop);
}
