/* SPDX-License-Identifier: MIT */
/*
 * The registry as a directory, safe on local file systems, NFSv4 and
 * cluster file systems:
 *
 *   registry.meta        format, UUID, UID and GID ranges (written once)
 *   LOCK                 fcntl() write lock of the writer (NFSv4 locks are
 *                        lease-based; the generation check is the fence)
 *   CURRENT              "generation = G" + size + checksum, replaced by
 *                        rename: the commit point
 *   snap/gen-G           immutable snapshots, published by link()
 *   journal/G.txn        one immutable journal entry per generation,
 *                        written before CURRENT moves
 *   aborted/             what an interrupted commit left (never published)
 *
 * A commit writes the journal entry and the snapshot under new names and
 * then replaces CURRENT; a crash before that rename leaves the previous
 * generation whole and current, after it the new one.  Files of a
 * generation that never became current are moved aside by the next writer.
 */
#include "store.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"
#include "snapshot_format.h"

#define META_MAX 4096
#define JOURNAL_LINE_MAX (64u << 20)

struct store_dir {
	struct accord_store base;
	char dir[PATH_MAX];
	int lock_fd;
};

static const struct accord_store_ops dir_ops;

static int path_of(const struct store_dir *d, char *buf, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_of(const struct store_dir *d, char *buf, const char *fmt, ...)
{
	char rel[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (snprintf(buf, PATH_MAX, "%s/%s", d->dir, rel) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

void accord_uuid_format(const unsigned char u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		 u[11], u[12], u[13], u[14], u[15]);
}

int accord_uuid_parse(const char *s, unsigned char u[16])
{
	int i = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	while (*s && i < 16) {
		unsigned v;

		if (*s == '-') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1)
			return -EINVAL;
		u[i++] = (unsigned char)v;
		s += 2;
	}
	return i == 16 && !*s ? 0 : -EINVAL;
}

/* ---- metadata and CURRENT ------------------------------------------ */

static int parse_kv(char *text, const char *key, char *out, size_t outlen)
{
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t kl = strlen(key);

		if (strncmp(line, key, kl) == 0 && line[kl] == ' ' && line[kl + 1] == '=' &&
		    line[kl + 2] == ' ') {
			if (strlen(line + kl + 3) >= outlen)
				return -EINVAL;
			strcpy(out, line + kl + 3);
			return 0;
		}
	}
	return -ENOENT;
}

/* One number from a copy of text (parse_kv cuts its input). */
static int kv_u64(const char *text, const char *key, int base, uint64_t *out)
{
	char *t = strdup(text), v[64], *end;
	int r;

	if (!t)
		return -ENOMEM;
	r = parse_kv(t, key, v, sizeof(v));
	free(t);
	if (r < 0)
		return -EBADMSG;
	*out = strtoull(v, &end, base);
	return *end ? -EBADMSG : 0;
}

/* CURRENT is read once: a writer may replace it between two reads, and
 * generation, size and checksum must come from the same file. */
static int read_current(const struct store_dir *d, uint64_t *gen, uint64_t *size,
			uint64_t *sum)
{
	char path[PATH_MAX], *text;
	size_t len;
	int r;

	if ((r = path_of(d, path, "CURRENT")) < 0)
		return r;
	if ((r = fu_read_file(path, META_MAX, &text, &len)) < 0)
		return r;
	r = kv_u64(text, "generation", 10, gen);
	if (r == 0 && *gen == 0)
		r = -EBADMSG;
	if (r == 0)
		r = kv_u64(text, "size", 10, size);
	if (r == 0)
		r = kv_u64(text, "checksum", 16, sum);
	free(text);
	return r;
}

static int write_current(const struct store_dir *d, uint64_t gen,
			 const unsigned char *snap, size_t len)
{
	char text[256], path[PATH_MAX];
	int n, r;

	n = snprintf(text, sizeof(text),
		     "# accord registry: the published generation (replaced atomically)\n"
		     "generation = %" PRIu64 "\nsize = %zu\nchecksum = %016" PRIx64 "\n",
		     gen, len, snap_get64(snap + 32));
	if ((r = path_of(d, path, "CURRENT")) < 0)
		return r;
	return fu_publish(d->dir, path, text, (size_t)n, 0644, false);
}

static int load_meta(struct store_dir *d, struct accord_err *err)
{
	char path[PATH_MAX], *text = NULL, v[128];
	size_t len;
	struct stat st;
	int r;

	path_of(d, path, "registry.meta");
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT,
					      "%s is not an accord registry (no registry.meta); "
					      "create one with 'accordctl init'", d->dir);
		return accord_err_set(err, -errno, "cannot read %s: %s", path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode) || fu_trusted(&st) < 0)
		return accord_err_set(err, -EPERM,
				      "refusing %s: it must be a regular file owned by root and "
				      "not writable by group or others", path);
	r = fu_read_file(path, META_MAX, &text, &len);
	if (r < 0)
		return accord_err_set(err, r, "cannot read %s: %s", path, strerror(-r));
	r = -EBADMSG;
	{
		char *t = strdup(text);

		if (!t || parse_kv(t, "format", v, sizeof(v)) || strcmp(v, "1")) {
			free(t);
			accord_err_set(err, -EBADMSG, "%s: unsupported or missing format "
				       "(this accordctl reads format 1)", path);
			goto out;
		}
		free(t);
	}
	{
		char *t1 = strdup(text), *t2 = strdup(text), *t3 = strdup(text);
		char u[64] = "", ur[64] = "", gr[64] = "";
		int bad = !t1 || !t2 || !t3 || parse_kv(t1, "uuid", u, sizeof(u)) ||
			  parse_kv(t2, "uid_range", ur, sizeof(ur)) ||
			  parse_kv(t3, "gid_range", gr, sizeof(gr)) ||
			  accord_uuid_parse(u, d->base.uuid) ||
			  accord_parse_range(ur, &d->base.uids) ||
			  accord_parse_range(gr, &d->base.gids);

		free(t1);
		free(t2);
		free(t3);
		if (bad) {
			accord_err_set(err, -EBADMSG, "%s is damaged (uuid, uid_range or "
				       "gid_range missing or malformed)", path);
			goto out;
		}
	}
	r = 0;
out:
	free(text);
	return r;
}

/* ---- open / create -------------------------------------------------- */

static struct store_dir *dir_new(const char *dir, struct accord_err *err)
{
	struct store_dir *d;

	if (strlen(dir) >= PATH_MAX - 64) {
		accord_err_set(err, -ENAMETOOLONG, "registry path is too long");
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		accord_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	d->base.ops = &dir_ops;
	d->lock_fd = -1;
	strcpy(d->dir, dir);
	return d;
}

int store_dir_open(const char *dir, struct accord_store **out,
		   struct accord_err *err)
{
	struct store_dir *d = dir_new(dir, err);
	struct stat st;
	int r;

	if (!d)
		return err ? err->code : -ENOMEM;
	if (stat(dir, &st) < 0) {
		r = accord_err_set(err, -errno, "cannot open registry %s: %s", dir,
				   strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		r = accord_err_set(err, -ENOTDIR, "registry %s is not a directory", dir);
		goto fail;
	}
	if (fu_trusted(&st) < 0) {
		r = accord_err_set(err, -EPERM,
				   "refusing registry %s: the directory must be owned by root "
				   "and not writable by group or others", dir);
		goto fail;
	}
	r = load_meta(d, err);
	if (r < 0)
		goto fail;
	*out = &d->base;
	return 0;
fail:
	free(d);
	return r;
}

static int write_journal_file(struct store_dir *d, uint64_t gen,
			      store_journal_writer wj, void *ctx,
			      struct accord_err *err)
{
	char tmp[PATH_MAX], final[PATH_MAX], jdir[PATH_MAX];
	FILE *f = NULL;
	int fd, r;

	path_of(d, jdir, "journal");
	path_of(d, tmp, "journal/.tmp-%" PRIu64 "-%ld", gen, (long)getpid());
	path_of(d, final, "journal/%010" PRIu64 ".txn", gen);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return accord_err_set(err, -errno, "cannot create %s: %s", tmp, strerror(errno));
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		goto out;
	}
	r = wj(f, ctx);
	if (r == 0 && fflush(f) != 0)
		r = -errno;
	if (r == 0 && fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && link(tmp, final) < 0)
		r = errno == EEXIST ? -ESTALE : -errno;
	if (r == 0)
		r = fu_fsync_dir(jdir);
out:
	unlink(tmp);
	if (r == -ESTALE)
		return accord_err_set(err, r, "journal entry %s appeared while we held the "
				      "lock: another writer is publishing (lock lost?)", final);
	if (r < 0)
		return accord_err_set(err, r, "cannot write the journal entry %s: %s", final,
				      strerror(-r));
	return 0;
}

static int publish_snapshot(struct store_dir *d, uint64_t gen,
			    const unsigned char *snap, size_t len,
			    struct accord_err *err)
{
	char sdir[PATH_MAX], final[PATH_MAX];
	int r;

	path_of(d, sdir, "snap");
	path_of(d, final, "snap/gen-%010" PRIu64, gen);
	r = fu_publish(sdir, final, snap, len, 0644, true);
	if (r == -EEXIST)
		return accord_err_set(err, -ESTALE, "snapshot %s appeared while we held the "
				      "lock: another writer is publishing (lock lost?)", final);
	if (r < 0)
		return accord_err_set(err, r, "cannot write snapshot %s: %s", final,
				      strerror(-r));
	return 0;
}

int store_dir_create(const char *dir, const unsigned char uuid[16],
		     const struct accord_range *uids,
		     const struct accord_range *gids,
		     const unsigned char *snap, size_t len,
		     store_journal_writer wj, void *ctx,
		     struct accord_err *err)
{
	struct store_dir *d = dir_new(dir, err);
	char path[PATH_MAX], meta[512], u[37], t[40];
	struct stat st;
	DIR *dh;
	int r, n, fd;

	if (!d)
		return err ? err->code : -ENOMEM;
	r = fu_mkdir(dir, 0755);
	if (r < 0) {
		r = accord_err_set(err, r, "cannot create registry directory %s: %s", dir,
				   strerror(-r));
		goto out;
	}
	dh = opendir(dir);
	if (!dh) {
		r = accord_err_set(err, -errno, "cannot read %s: %s", dir, strerror(errno));
		goto out;
	}
	for (struct dirent *e; (e = readdir(dh));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			closedir(dh);
			path_of(d, path, "registry.meta");
			r = accord_err_set(err, -EEXIST,
					   stat(path, &st) == 0
						   ? "%s is already an accord registry"
						   : "%s is not empty; a registry needs a new or empty "
						     "directory (an interrupted 'accordctl init' leaves "
						     "files but no registry.meta: empty the directory "
						     "and run init again)", dir);
			goto out;
		}
	closedir(dh);
	if (stat(dir, &st) == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) && chmod(dir, 0755) < 0) {
		r = accord_err_set(err, -errno, "cannot chmod %s: %s", dir, strerror(errno));
		goto out;
	}
	accord_uuid_format(uuid, u);
	{
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	n = snprintf(meta, sizeof(meta),
		     "# accord registry metadata: written once by 'accordctl init', do not edit\n"
		     "format = 1\nuuid = %s\nuid_range = %u-%u\ngid_range = %u-%u\ncreated = %s\n",
		     u, uids->lo, uids->hi, gids->lo, gids->hi, t);
	r = 0;
	if (path_of(d, path, "snap") || fu_mkdir(path, 0755) ||
	    path_of(d, path, "journal") || fu_mkdir(path, 0755) ||
	    path_of(d, path, "aborted") || fu_mkdir(path, 0755))
		r = accord_err_set(err, -errno, "cannot create the registry's directories in %s",
				   dir);
	if (r == 0) {
		path_of(d, path, "LOCK");
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			r = accord_err_set(err, -errno, "cannot create %s: %s", path,
					   strerror(errno));
		else
			close(fd);
	}
	if (r == 0)
		r = write_journal_file(d, 1, wj, ctx, err);
	if (r == 0)
		r = publish_snapshot(d, 1, snap, len, err);
	if (r == 0) {
		r = write_current(d, 1, snap, len);
		if (r < 0)
			accord_err_set(err, r, "cannot write CURRENT: %s", strerror(-r));
	}
	/* registry.meta last: a directory without it is not a registry, so an
	 * interrupted init can simply be run again on an emptied directory */
	if (r == 0) {
		path_of(d, path, "registry.meta");
		r = fu_publish(dir, path, meta, (size_t)n, 0644, true);
		if (r < 0)
			accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r));
	}
out:
	free(d);
	return r;
}

const char *store_dir_path(const struct accord_store *s)
{
	return ((const struct store_dir *)s)->dir;
}

/* ---- operations ----------------------------------------------------- */

static int dir_current(struct accord_store *s, struct accord_snapshot *snap,
		       struct accord_err *err)
{
	struct store_dir *d = (struct store_dir *)s;
	char path[PATH_MAX];
	uint64_t gen, size, sum;
	accord_snap_why why = "";
	int r;

	r = read_current(d, &gen, &size, &sum);
	if (r < 0)
		return accord_err_set(err, r, "cannot read %s/CURRENT: %s", d->dir,
				      r == -EBADMSG ? "damaged" : strerror(-r));
	path_of(d, path, "snap/gen-%010" PRIu64, gen);
	r = accord_snapshot_map_file(path, ACCORD_SNAP_TRUSTED_OWNER, snap, &why);
	if (r < 0)
		return accord_err_set(err, r, "cannot use snapshot %s: %s (%s)", path, why,
				      strerror(-r));
	if (snap->generation != gen || snap->size != size ||
	    snap_get64(snap->base + 32) != sum || memcmp(snap->uuid, s->uuid, 16)) {
		accord_snapshot_unmap(snap);
		return accord_err_set(err, -EBADMSG,
				      "snapshot %s does not match CURRENT (generation, size, "
				      "checksum or registry UUID differ)", path);
	}
	return 0;
}

static int dir_lock(struct accord_store *s, unsigned timeout, struct accord_err *err)
{
	struct store_dir *d = (struct store_dir *)s;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct timespec start, now, nap = { 0, 1000000 };
	char path[PATH_MAX], info[160];
	int fd, n;

	path_of(d, path, "LOCK");
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return accord_err_set(err, -errno, "cannot open %s: %s%s", path,
				      strerror(errno),
				      errno == EACCES ? " (registry changes need root)" : "");
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN && errno != EINTR) {
			int e = errno;

			close(fd);
			return accord_err_set(err, -e, "cannot lock %s: %s", path, strerror(e));
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout) {
			char holder[160] = "";
			ssize_t got = pread(fd, holder, sizeof(holder) - 1, 0);

			holder[got > 0 ? got : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			close(fd);
			return accord_err_set(err, -EAGAIN,
					      "the registry is busy: another writer holds %s%s%s "
					      "(waited %u s); try again", path,
					      holder[0] ? ", " : "", holder, timeout);
		}
		nanosleep(&nap, NULL);
		if (nap.tv_nsec < 50000000)
			nap.tv_nsec *= 2;
	}
	/* who holds it, for the message of whoever waits */
	{
		char host[128] = "";

		gethostname(host, sizeof(host) - 1);
		n = snprintf(info, sizeof(info), "pid %ld on %s\n", (long)getpid(), host);
		if (ftruncate(fd, 0) == 0 && pwrite(fd, info, (size_t)n, 0) < 0) {
			/* informational only */
		}
	}
	d->lock_fd = fd;
	return 0;
}

static void dir_unlock(struct accord_store *s)
{
	struct store_dir *d = (struct store_dir *)s;

	if (d->lock_fd >= 0) {
		close(d->lock_fd); /* releases the fcntl lock */
		d->lock_fd = -1;
	}
}

/* Moves files of generation `gen` (never published) into aborted/. */
static void set_aside(struct store_dir *d, uint64_t gen)
{
	char from[PATH_MAX], to[PATH_MAX];
	const char *rel[2][2] = { { "journal", ".txn" }, { "snap", "" } };
	int i;

	for (i = 0; i < 2; i++) {
		if (i == 0)
			path_of(d, from, "journal/%010" PRIu64 ".txn", gen);
		else
			path_of(d, from, "snap/gen-%010" PRIu64, gen);
		if (access(from, F_OK) == 0) {
			path_of(d, to, "aborted/%s-%010" PRIu64 "%s.%ld", rel[i][0], gen,
				rel[i][1], (long)time(NULL));
			if (rename(from, to) < 0)
				unlink(from);
		}
	}
}

/* Removes temporary files that a killed writer left in dir. */
static void sweep_tmp(struct store_dir *d, const char *sub)
{
	char dir[PATH_MAX], path[PATH_MAX];
	DIR *dh;
	struct dirent *e;

	path_of(d, dir, "%s", sub);
	dh = opendir(dir);
	if (!dh)
		return;
	while ((e = readdir(dh)))
		if (strncmp(e->d_name, ".tmp-", 5) == 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	closedir(dh);
}

struct gen_file {
	uint64_t gen;
	time_t mtime;
};

static int cmp_gen_file(const void *a, const void *b)
{
	uint64_t x = ((const struct gen_file *)a)->gen, y = ((const struct gen_file *)b)->gen;

	return x < y ? -1 : x > y;
}

/*
 * Deletes generations older than keep_from once they have been superseded
 * for the grace period: NFS clients may still have them open.  A
 * generation was superseded when the next one was written, so its age is
 * taken from its successor's mtime, not its own.
 */
static void gc_snapshots(struct store_dir *d, uint64_t keep_from)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct gen_file *v = NULL;
	size_t n = 0, cap = 0, i;
	time_t now = time(NULL);
	struct dirent *e;
	DIR *dh;

	path_of(d, dir, "snap");
	dh = opendir(dir);
	if (!dh)
		return;
	while ((e = readdir(dh))) {
		struct stat st;
		char *end;
		uint64_t g;

		if (strncmp(e->d_name, "gen-", 4) != 0)
			continue;
		g = strtoull(e->d_name + 4, &end, 10);
		if (*end || snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
				    (int)sizeof(path) || stat(path, &st) < 0)
			continue;
		if (n == cap) {
			struct gen_file *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n++] = (struct gen_file){ g, st.st_mtime };
	}
	closedir(dh);
	if (n > 1) /* v is NULL when n == 0: qsort's argument is nonnull */
		qsort(v, n, sizeof(*v), cmp_gen_file);
	for (i = 0; i + 1 < n; i++) {
		if (v[i].gen >= keep_from)
			break;
		if (now - v[i + 1].mtime < (time_t)d->base.snapshot_grace)
			continue;
		if (snprintf(path, sizeof(path), "%s/gen-%010" PRIu64, dir, v[i].gen) <
		    (int)sizeof(path))
			unlink(path);
	}
	free(v);
}

static int dir_publish(struct accord_store *s, uint64_t base,
		       const unsigned char *snap, size_t len,
		       store_journal_writer wj, void *ctx, struct accord_err *err)
{
	struct store_dir *d = (struct store_dir *)s;
	uint64_t gen, size, sum;
	int r;

	if (d->lock_fd < 0)
		return accord_err_set(err, -ENOLCK, "internal error: publish without the lock");
	/* the fence: nobody may have published since we loaded */
	r = read_current(d, &gen, &size, &sum);
	if (r < 0)
		return accord_err_set(err, r, "cannot read %s/CURRENT", d->dir);
	if (gen != base)
		return accord_err_set(err, -ESTALE,
				      "the registry moved from generation %" PRIu64 " to %" PRIu64
				      " while this change was prepared (lock lost?); nothing "
				      "was written, try again", base, gen);
	set_aside(d, base + 1);
	sweep_tmp(d, ".");
	sweep_tmp(d, "journal");
	sweep_tmp(d, "snap");
	r = write_journal_file(d, base + 1, wj, ctx, err);
	if (r < 0)
		return r;
	r = publish_snapshot(d, base + 1, snap, len, err);
	if (r < 0)
		return r;
	r = write_current(d, base + 1, snap, len);
	if (r < 0)
		return accord_err_set(err, r, "cannot replace %s/CURRENT: %s", d->dir,
				      strerror(-r));
	gc_snapshots(d, base);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Generations that have a journal file, sorted. */
static int list_journal(struct store_dir *d, uint64_t **out, size_t *n)
{
	char dir[PATH_MAX];
	DIR *dh;
	struct dirent *e;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;

	path_of(d, dir, "journal");
	dh = opendir(dir);
	if (!dh)
		return -errno;
	while ((e = readdir(dh))) {
		char *end;
		unsigned long long g;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		g = strtoull(e->d_name, &end, 10);
		if (strcmp(end, ".txn"))
			continue;
		if (cnt == cap) {
			uint64_t *nv;

			cap = cap ? cap * 2 : 256;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dh);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = g;
	}
	closedir(dh);
	if (cnt > 1) /* v is NULL when cnt == 0: qsort's argument is nonnull */
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*out = v;
	*n = cnt;
	return 0;
}

/* Reads one journal file line by line; returns 1 if it had its end line,
 * 0 if not, negative on error or when cb stopped. */
static int read_txn(struct store_dir *d, uint64_t gen, accord_journal_cb cb, void *ctx)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int r = 0, complete = 0;

	path_of(d, path, "journal/%010" PRIu64 ".txn", gen);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		if ((size_t)n > JOURNAL_LINE_MAX) {
			r = -EFBIG;
			break;
		}
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		complete = strncmp(line, "{\"end\":", 7) == 0;
		if (cb && (r = cb(gen, line, ctx)) != 0) {
			r = r < 0 ? r : -ECANCELED;
			break;
		}
	}
	free(line);
	fclose(f);
	return r < 0 ? r : complete;
}

static int dir_journal(struct accord_store *s, uint64_t since, accord_journal_cb cb,
		       void *ctx, struct accord_err *err)
{
	struct store_dir *d = (struct store_dir *)s;
	uint64_t *gens = NULL, cur, size, sum;
	size_t n = 0, i;
	int r;

	r = read_current(d, &cur, &size, &sum);
	if (r < 0)
		return accord_err_set(err, r, "cannot read %s/CURRENT", d->dir);
	r = list_journal(d, &gens, &n);
	if (r < 0)
		return accord_err_set(err, r, "cannot list %s/journal: %s", d->dir,
				      strerror(-r));
	for (i = 0; i < n; i++) {
		if (gens[i] < since || gens[i] > cur)
			continue;
		r = read_txn(d, gens[i], cb, ctx);
		if (r == -ECANCELED) {
			r = 0;
			break;
		}
		if (r < 0) {
			accord_err_set(err, r, "cannot read journal entry %" PRIu64 ": %s",
				       gens[i], strerror(-r));
			break;
		}
		r = 0;
	}
	free(gens);
	return r;
}

static void report(accord_check_cb cb, void *ctx, enum accord_finding lvl,
		   const char *what, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void report(accord_check_cb cb, void *ctx, enum accord_finding lvl,
		   const char *what, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cb(lvl, what, buf, ctx);
}

/* Does another process hold the writer lock right now?  Then files past
 * CURRENT belong to a commit in progress, not to an interrupted one. */
static bool writer_active(struct store_dir *d)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	bool held = false;
	int fd;

	if (d->lock_fd >= 0)
		return false; /* we are the writer */
	path_of(d, path, "LOCK");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	/* F_GETLK on a read-only fd is allowed and takes no lock */
	if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
		held = true;
	close(fd);
	return held;
}

static int dir_check(struct accord_store *s, accord_check_cb cb, void *ctx)
{
	struct store_dir *d = (struct store_dir *)s;
	uint64_t *gens = NULL, cur, size, sum, expect = 1;
	size_t n = 0, i;
	char path[PATH_MAX];
	struct stat st;
	int errors = 0, r, missing = 0, incomplete = 0;
	bool busy = writer_active(d);
	DIR *dh;
	struct dirent *e;

	r = read_current(d, &cur, &size, &sum);
	if (r < 0) {
		report(cb, ctx, ACCORD_FIND_ERROR, "CURRENT", "cannot read %s/CURRENT: %s",
		       d->dir, r == -EBADMSG ? "damaged" : strerror(-r));
		return 1;
	}
	report(cb, ctx, ACCORD_FIND_OK, "CURRENT", "generation %" PRIu64, cur);
	if (list_journal(d, &gens, &n) < 0) {
		report(cb, ctx, ACCORD_FIND_ERROR, "journal", "cannot list %s/journal", d->dir);
		return errors + 1;
	}
	for (i = 0; i < n; i++) {
		if (gens[i] > cur) {
			if (busy)
				report(cb, ctx, ACCORD_FIND_NOTE, "journal",
				       "entry %" PRIu64 " belongs to a commit in progress (another "
				       "process holds the lock)", gens[i]);
			else
				report(cb, ctx, ACCORD_FIND_NOTE, "journal",
				       "entry %" PRIu64 " belongs to a commit that was interrupted "
				       "before it was published; the next write moves it to aborted/",
				       gens[i]);
			continue;
		}
		while (expect < gens[i]) {
			missing++;
			if (missing <= 5)
				report(cb, ctx, ACCORD_FIND_ERROR, "journal",
				       "entry %" PRIu64 " is missing", expect);
			expect++;
		}
		expect = gens[i] + 1;
		r = read_txn(d, gens[i], NULL, NULL);
		if (r <= 0) {
			incomplete++;
			if (incomplete <= 5)
				report(cb, ctx, ACCORD_FIND_ERROR, "journal",
				       "entry %" PRIu64 " is %s", gens[i],
				       r == 0 ? "incomplete (no end line)" : "unreadable");
		}
	}
	while (expect <= cur) {
		missing++;
		if (missing <= 5)
			report(cb, ctx, ACCORD_FIND_ERROR, "journal", "entry %" PRIu64 " is missing",
			       expect);
		expect++;
	}
	free(gens);
	errors += missing + incomplete;
	if (!missing && !incomplete)
		report(cb, ctx, ACCORD_FIND_OK, "journal",
		       "entries 1-%" PRIu64 " present and complete", cur);
	path_of(d, path, "snap/gen-%010" PRIu64, cur + 1);
	if (access(path, F_OK) == 0 && busy)
		report(cb, ctx, ACCORD_FIND_NOTE, "snapshots",
		       "gen-%010" PRIu64 " is being written by a commit in progress", cur + 1);
	else if (access(path, F_OK) == 0)
		report(cb, ctx, ACCORD_FIND_NOTE, "snapshots",
		       "gen-%010" PRIu64 " was written by an interrupted commit and never "
		       "published; the next write moves it to aborted/", cur + 1);
	for (i = 0; i < 3; i++) {
		static const char *const sub[3] = { "journal", "snap", "." };

		path_of(d, path, "%s", sub[i]);
		dh = opendir(path);
		if (!dh)
			continue;
		while ((e = readdir(dh)))
			if (strncmp(e->d_name, ".tmp-", 5) == 0)
				report(cb, ctx, ACCORD_FIND_NOTE, "leftovers",
				       "%s/%s is a temporary file of an interrupted writer; "
				       "the next write removes it", sub[i], e->d_name);
		closedir(dh);
	}
	path_of(d, path, "snap/gen-%010" PRIu64, cur);
	if (lstat(path, &st) == 0 && (fu_trusted(&st) < 0 || (st.st_mode & S_IROTH) == 0)) {
		report(cb, ctx, ACCORD_FIND_ERROR, "permissions",
		       "%s must be owned by root, readable by all and writable only by its "
		       "owner (0644)", path);
		errors++;
	}
	return errors;
}

static void dir_close(struct accord_store *s)
{
	dir_unlock(s);
	free(s);
}

static const struct accord_store_ops dir_ops = {
	.current = dir_current,
	.lock = dir_lock,
	.unlock = dir_unlock,
	.publish = dir_publish,
	.journal = dir_journal,
	.check = dir_check,
	.close = dir_close,
};
