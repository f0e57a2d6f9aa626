/* SPDX-License-Identifier: MIT */
/*
 * The registry, independent of where it is stored: transactions (lock,
 * load the current generation, change the state, diff for the journal,
 * build the next snapshot, publish), sync to the host and check.
 */
#include <accord/logon.h>
#include <accord/registry.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "journal.h"
#include "snapshot_format.h"
#include "store.h"

struct accord_registry {
	struct accord_store *store;
	struct accord_config cfg;
};

struct accord_txn {
	struct accord_registry *reg;
	struct accord_snapshot old;
	struct accord_state *st;
	struct accord_actor actor;
	int64_t now;
};

/* ---- actor ---------------------------------------------------------- */

static void name_of(uint32_t uid, char *out, size_t len)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, len, "%s", res->pw_name);
	else
		snprintf(out, len, "%u", uid);
}

void accord_actor_self(struct accord_actor *a)
{
	char buf[32] = "";
	int fd;

	memset(a, 0, sizeof(*a));
	a->uid = (uint32_t)getuid();
	a->loginuid = UINT32_MAX;
	name_of(a->uid, a->user, sizeof(a->user));
	/* the kernel's audit login UID: who logged in, whatever su/sudo did */
	fd = open("/proc/self/loginuid", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		close(fd);
		if (n > 0) {
			unsigned long v;
			char *end;

			buf[n] = '\0';
			v = strtoul(buf, &end, 10);
			if (end != buf && v < UINT32_MAX) {
				a->loginuid = (uint32_t)v;
				name_of(a->loginuid, a->login_user, sizeof(a->login_user));
			}
		}
	}
	if (gethostname(a->host, sizeof(a->host) - 1) < 0)
		strcpy(a->host, "unknown");
	a->pid = (int)getpid();
}

void accord_actor_label(const struct accord_actor *a, char *buf, size_t len)
{
	if (a->loginuid != UINT32_MAX && a->loginuid != a->uid)
		snprintf(buf, len, "%s (login %s)", a->user, a->login_user);
	else
		snprintf(buf, len, "%s", a->user);
}

/* ---- init / open ---------------------------------------------------- */

struct init_ctx {
	const struct accord_actor *actor;
	const char *uuid;
	const struct accord_range *uids, *gids;
	int64_t now;
};

static int write_init_journal(FILE *f, void *p)
{
	struct init_ctx *c = p;

	return journal_write_init(f, c->now, c->actor, c->uuid, c->uids, c->gids);
}

int accord_registry_init(const char *dir, const struct accord_range *uids,
			 const struct accord_range *gids,
			 const struct accord_actor *actor,
			 struct accord_err *err)
{
	unsigned char uuid[16], *buf = NULL;
	char us[37];
	size_t len;
	struct accord_state *st;
	struct init_ctx ctx;
	struct accord_secrets *sec;
	int64_t now = (int64_t)time(NULL);
	int r;

	if ((r = accord_check_range("UID", uids, err)) < 0 ||
	    (r = accord_check_range("GID", gids, err)) < 0)
		return r;
	if (dir[0] != '/')
		return accord_err_set(err, -EINVAL, "the registry path '%s' must be absolute", dir);
	if (getrandom(uuid, sizeof(uuid), 0) != (ssize_t)sizeof(uuid))
		return accord_err_set(err, -EIO, "cannot get random bytes for the registry UUID");
	uuid[6] = (uuid[6] & 0x0f) | 0x40; /* RFC 4122 version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	accord_uuid_format(uuid, us);
	st = accord_state_new(uids, gids);
	if (!st)
		return accord_err_set(err, -ENOMEM, "out of memory");
	r = accord_snapshot_build(st, 1, uuid, now, &buf, &len, err);
	accord_state_free(st);
	if (r < 0)
		return r;
	ctx = (struct init_ctx){ actor, us, uids, gids, now };
	r = store_dir_create(dir, uuid, uids, gids, buf, len, write_init_journal, &ctx, err);
	free(buf);
	if (r < 0)
		return r;
	/* The secrets store (password hashes, logon records) comes with the
	 * registry: pam_accord never creates it, and refuses to decide
	 * without it. */
	r = accord_secrets_open(dir, true, &sec, err);
	if (r < 0)
		return r;
	accord_secrets_close(sec);
	return 0;
}

int accord_registry_open(const char *dir, const struct accord_config *cfg,
			 struct accord_registry **out, struct accord_err *err)
{
	struct accord_registry *reg;
	int r;

	if (!dir || !dir[0])
		return accord_err_set(err, -EINVAL,
				      "no registry configured: pass --registry DIR or set "
				      "'registry = DIR' in accord.conf");
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return accord_err_set(err, -ENOMEM, "out of memory");
	if (cfg)
		reg->cfg = *cfg;
	else
		accord_config_defaults(&reg->cfg);
	r = store_dir_open(dir, &reg->store, err);
	if (r < 0) {
		free(reg);
		return r;
	}
	reg->store->snapshot_grace = reg->cfg.snapshot_grace;
	*out = reg;
	return 0;
}

void accord_registry_close(struct accord_registry *reg)
{
	if (!reg)
		return;
	reg->store->ops->close(reg->store);
	free(reg);
}

const char *accord_registry_path(const struct accord_registry *reg)
{
	return store_dir_path(reg->store);
}

void accord_registry_uuid(const struct accord_registry *reg, char out[37])
{
	accord_uuid_format(reg->store->uuid, out);
}

int accord_registry_current(struct accord_registry *reg, bool verify,
			    struct accord_snapshot *snap, struct accord_err *err)
{
	accord_snap_why why = "";
	int r = reg->store->ops->current(reg->store, snap, err);

	if (r == 0 && verify && (r = accord_snapshot_verify(snap, &why)) < 0) {
		accord_err_set(err, r, "the registry's current snapshot (generation %" PRIu64
			       ") fails verification: %s", snap->generation, why);
		accord_snapshot_unmap(snap);
	}
	return r;
}

/* ---- transactions --------------------------------------------------- */

int accord_txn_begin(struct accord_registry *reg, const struct accord_actor *actor,
		     struct accord_txn **out, struct accord_err *err)
{
	struct accord_txn *tx = calloc(1, sizeof(*tx));
	char label[200];
	int r;

	if (!tx)
		return accord_err_set(err, -ENOMEM, "out of memory");
	tx->reg = reg;
	tx->actor = *actor;
	r = reg->store->ops->lock(reg->store, reg->cfg.lock_timeout, err);
	if (r < 0) {
		free(tx);
		return r;
	}
	/* a writer builds on what is published: its checksum must hold (the
	 * loader checks names, members and counts; the indexes are rebuilt) */
	r = accord_registry_current(reg, false, &tx->old, err);
	if (r == 0) {
		accord_snap_why why = "";

		r = accord_snapshot_verify_checksum(&tx->old, &why);
		if (r < 0)
			accord_err_set(err, r, "the registry's current snapshot (generation %"
				       PRIu64 ") is damaged: %s; nothing was changed",
				       tx->old.generation, why);
	}
	if (r == 0)
		r = accord_state_from_snapshot(&tx->old, &tx->st, err);
	if (r < 0) {
		if (tx->old.base)
			accord_snapshot_unmap(&tx->old);
		reg->store->ops->unlock(reg->store);
		free(tx);
		return r;
	}
	tx->now = (int64_t)time(NULL);
	accord_actor_label(actor, label, sizeof(label));
	accord_state_set_actor(tx->st, tx->now, label);
	*out = tx;
	return 0;
}

struct accord_state *accord_txn_state(struct accord_txn *tx)
{
	return tx->st;
}

uint64_t accord_txn_base_generation(const struct accord_txn *tx)
{
	return tx->old.generation;
}

void accord_txn_abort(struct accord_txn *tx)
{
	if (!tx)
		return;
	tx->reg->store->ops->unlock(tx->reg->store);
	accord_snapshot_unmap(&tx->old);
	accord_state_free(tx->st);
	free(tx);
}

struct commit_ctx {
	struct accord_txn *tx;
	const char *operation;
	struct journal_diff *diff;
};

static int write_commit_journal(FILE *f, void *p)
{
	struct commit_ctx *c = p;

	return journal_write(f, c->tx->old.generation + 1, c->tx->now, &c->tx->actor,
			     c->operation, &c->tx->old, c->tx->st, c->diff);
}

int accord_txn_commit(struct accord_txn *tx, const char *operation,
		      uint64_t *gen, size_t *nchanges, struct accord_err *err)
{
	struct journal_diff diff;
	struct commit_ctx ctx;
	unsigned char *buf = NULL;
	size_t len;
	int r;

	r = journal_diff(&tx->old, tx->st, &diff);
	if (r < 0) {
		accord_txn_abort(tx);
		return accord_err_set(err, r, r == -ENOMEM ? "out of memory" :
				      "the snapshot this change started from is damaged");
	}
	if (nchanges)
		*nchanges = diff.n;
	if (diff.n == 0) {
		if (gen)
			*gen = tx->old.generation;
		goto out;
	}
	r = accord_snapshot_build(tx->st, tx->old.generation + 1, tx->old.uuid, tx->now,
				  &buf, &len, err);
	if (r < 0)
		goto out;
	ctx = (struct commit_ctx){ tx, operation, &diff };
	r = tx->reg->store->ops->publish(tx->reg->store, tx->old.generation, buf, len,
					 write_commit_journal, &ctx, err);
	if (r == 0 && gen)
		*gen = tx->old.generation + 1;
out:
	free(buf);
	journal_diff_free(&diff);
	accord_txn_abort(tx);
	return r;
}

/* ---- sync ----------------------------------------------------------- */

static int dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash || path[0] != '/')
		return -EINVAL;
	if ((size_t)(slash - path) + 1 > len)
		return -ENAMETOOLONG;
	if (slash == path)
		strcpy(dir, "/");
	else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	return 0;
}

/* Under the host's sync lock no other installer is running: whatever a
 * killed one left behind (a link or a copy under a temporary name) goes. */
static void sweep_sync_leftovers(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dh = opendir(dir);

	if (!dh)
		return;
	while ((e = readdir(dh)))
		if ((!strncmp(e->d_name, ".accord-sync.", 13) &&
		     strcmp(e->d_name, ".accord-sync.lock")) ||
		    !strncmp(e->d_name, ".tmp-", 5))
			if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) <
			    (int)sizeof(path))
				unlink(path);
	closedir(dh);
}

int accord_registry_sync(struct accord_registry *reg, const char *target,
			 bool force, uint64_t trusted_gen,
			 struct accord_sync_result *res, struct accord_err *err)
{
	struct accord_snapshot cur = { 0 }, old = { 0 };
	char dir[PATH_MAX], lockpath[PATH_MAX], src[PATH_MAX];
	accord_snap_why why = "";
	int lockfd = -1, r;

	memset(res, 0, sizeof(*res));
	r = dir_of(target, dir, sizeof(dir));
	if (r < 0)
		return accord_err_set(err, r, "the snapshot path '%s' must be absolute", target);
	r = fu_mkdir(dir, 0755);
	if (r < 0)
		return accord_err_set(err, r, "cannot create %s: %s", dir, strerror(-r));
	if (snprintf(lockpath, sizeof(lockpath), "%s/.accord-sync.lock", dir) >=
	    (int)sizeof(lockpath))
		return accord_err_set(err, -ENAMETOOLONG, "snapshot path too long");
	/* one installer at a time on this host, so that a slower sync of an
	 * older generation cannot overwrite a newer one */
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd < 0)
		return accord_err_set(err, -errno, "cannot open %s: %s%s", lockpath,
				      strerror(errno),
				      errno == EACCES ? " (installing the snapshot needs root)" : "");
	if (flock(lockfd, LOCK_EX) < 0) {
		r = accord_err_set(err, -errno, "cannot lock %s: %s", lockpath, strerror(errno));
		goto out;
	}
	sweep_sync_leftovers(dir);
	r = accord_registry_current(reg, false, &cur, err);
	if (r == 0 && cur.generation != trusted_gen) {
		r = accord_snapshot_verify(&cur, &why);
		if (r < 0)
			accord_err_set(err, r, "the registry's current snapshot (generation %"
				       PRIu64 ") fails verification: %s; not installed",
				       cur.generation, why);
	}
	if (r < 0)
		goto out;
	res->generation = cur.generation;
	res->users = cur.user_count;
	res->groups = cur.group_count;
	if (accord_snapshot_map_file(target, 0, &old, &why) == 0) {
		res->previous = old.generation;
		if (!memcmp(old.uuid, cur.uuid, 16) && !force) {
			if (old.generation > cur.generation) {
				r = accord_err_set(err, -ESTALE,
						   "%s holds generation %" PRIu64 ", newer than the "
						   "registry's %" PRIu64 " (was the registry restored or "
						   "rolled back?); use --force to install it anyway",
						   target, old.generation, cur.generation);
				goto out;
			}
			if (old.generation == cur.generation && old.size == cur.size &&
			    snap_get64(old.base + 32) == snap_get64(cur.base + 32))
				goto out; /* up to date */
		}
	}
	/* same file system: a hard link to the immutable generation file; else
	 * a copy.  Either way the final step is an atomic rename. */
	if (snprintf(src, sizeof(src), "%s/.accord-sync.%ld", dir, (long)getpid()) >=
	    (int)sizeof(src)) {
		r = accord_err_set(err, -ENAMETOOLONG, "snapshot path too long");
		goto out;
	}
	unlink(src);
	{
		char gpath[PATH_MAX];

		int n = snprintf(gpath, sizeof(gpath), "%s/snap/gen-%010" PRIu64,
				 accord_registry_path(reg), cur.generation);

		if (n < (int)sizeof(gpath) && link(gpath, src) == 0) {
			if (rename(src, target) < 0) {
				r = accord_err_set(err, -errno, "cannot install %s: %s", target,
						   strerror(errno));
				unlink(src);
				goto out;
			}
			r = fu_fsync_dir(dir);
		} else {
			r = fu_publish(dir, target, cur.base, cur.size, 0644, false);
		}
	}
	if (r < 0) {
		accord_err_set(err, r, "cannot install %s: %s", target, strerror(-r));
		goto out;
	}
	res->changed = true;
out:
	if (old.base)
		accord_snapshot_unmap(&old);
	if (cur.base)
		accord_snapshot_unmap(&cur);
	close(lockfd);
	return r;
}

/* ---- check ---------------------------------------------------------- */

struct check_ctx {
	accord_check_cb cb;
	void *ctx;
	int errors;
};

static void count_cb(enum accord_finding lvl, const char *what, const char *detail,
		     void *p)
{
	struct check_ctx *c = p;

	if (lvl == ACCORD_FIND_ERROR)
		c->errors++;
	c->cb(lvl, what, detail, c->ctx);
}

int accord_registry_check(struct accord_registry *reg, const char *local,
			  accord_check_cb cb, void *ctx, struct accord_err *err)
{
	struct check_ctx c = { cb, ctx, 0 };
	struct accord_snapshot cur = { 0 }, loc = { 0 };
	struct accord_err e2 = { 0 };
	struct accord_snap_meta m;
	accord_snap_why why = "";
	char buf[1024];
	int r;

	reg->store->ops->check(reg->store, count_cb, &c);
	r = accord_registry_current(reg, true, &cur, &e2);
	if (r < 0) {
		count_cb(ACCORD_FIND_ERROR, "snapshot", e2.msg, &c);
		return c.errors;
	}
	snprintf(buf, sizeof(buf), "generation %" PRIu64 ": %u users, %u groups, %u "
		 "tombstones; checksum and indexes verified", cur.generation, cur.user_count,
		 cur.group_count, cur.tombstone_count);
	count_cb(ACCORD_FIND_OK, "snapshot", buf, &c);
	accord_snap_meta(&cur, &m);
	if (m.uid_lo != reg->store->uids.lo || m.uid_hi != reg->store->uids.hi ||
	    m.gid_lo != reg->store->gids.lo || m.gid_hi != reg->store->gids.hi)
		count_cb(ACCORD_FIND_ERROR, "ranges",
			 "the snapshot's UID/GID ranges differ from registry.meta", &c);
	if (local) {
		struct stat st;

		r = accord_snapshot_map_file(local, 0, &loc, &why);
		if (r == -ENOENT) {
			snprintf(buf, sizeof(buf), "%s does not exist: this host serves no "
				 "accord users; run 'accordctl sync'", local);
			count_cb(ACCORD_FIND_WARNING, "local snapshot", buf, &c);
		} else if (r < 0) {
			snprintf(buf, sizeof(buf), "%s cannot be used: %s (%s); the NSS module "
				 "keeps the last good one it had; run 'accordctl sync'", local, why,
				 strerror(-r));
			count_cb(ACCORD_FIND_ERROR, "local snapshot", buf, &c);
		} else {
			r = accord_snapshot_verify(&loc, &why);
			if (r < 0) {
				snprintf(buf, sizeof(buf), "%s fails verification: %s; run "
					 "'accordctl sync --force'", local, why);
				count_cb(ACCORD_FIND_ERROR, "local snapshot", buf, &c);
			} else if (memcmp(loc.uuid, cur.uuid, 16)) {
				snprintf(buf, sizeof(buf), "%s comes from another registry; "
					 "'accordctl sync' replaces it", local);
				count_cb(ACCORD_FIND_WARNING, "local snapshot", buf, &c);
			} else if (loc.generation != cur.generation) {
				snprintf(buf, sizeof(buf), "%s has generation %" PRIu64 ", the "
					 "registry %" PRIu64 "; run 'accordctl sync'", local,
					 loc.generation, cur.generation);
				count_cb(ACCORD_FIND_WARNING, "local snapshot", buf, &c);
			} else {
				snprintf(buf, sizeof(buf), "%s is generation %" PRIu64 " and verified",
					 local, loc.generation);
				count_cb(ACCORD_FIND_OK, "local snapshot", buf, &c);
			}
			if (stat(local, &st) == 0 && (fu_trusted(&st) < 0 || !(st.st_mode & S_IROTH))) {
				snprintf(buf, sizeof(buf), "%s must be owned by root, mode 0644: "
					 "the NSS module refuses it otherwise", local);
				count_cb(ACCORD_FIND_ERROR, "local snapshot", buf, &c);
			}
			accord_snapshot_unmap(&loc);
		}
	}
	accord_snapshot_unmap(&cur);
	(void)err;
	return c.errors;
}

int accord_registry_journal(struct accord_registry *reg, uint64_t since,
			    accord_journal_cb cb, void *ctx, struct accord_err *err)
{
	return reg->store->ops->journal(reg->store, since, cb, ctx, err);
}
