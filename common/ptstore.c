/* SPDX-License-Identifier: MIT */
/*
 * PassTicket state in the secrets store: see include/accord/ptstore.h.
 *
 * The three directories (ptkeys/, ptauth/, replay/) are opened from the
 * store's checked descriptor with openat(O_NOFOLLOW) and checked like the
 * store's own (logon.c): owned by root (by the caller when the caller is
 * not root, for tests), no group or other bits; every file is checked
 * again on its own descriptor.  The small checks are copied from logon.c
 * rather than shared, so that the two files can change independently.
 *
 * Keys and permissions are replaced as whole files (tmp, fsync, rename,
 * fsync dir).  The replay cache is one file per accepted ticket, named by
 * a hash of (user, appl, ticket) and created with link(): on NFS as on a
 * local disk exactly one link() of a name succeeds, so exactly one of two
 * logons presenting the same ticket wins.  An entry's mtime is set to its
 * expiry, so that the sweep needs one fstatat() per entry and no read.
 */
#include <accord/ptstore.h>
#include <accord/snapshot.h>
#include <accord/state.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "secrets_dir.h"
#include "wguard.h"

#define KEY_MAGIC "accord-ptkey 1 "
#define KEY_FILE_MAX 1024          /* 512 hex digits and the settings */
#define AUTH_FILE_MAX 65536        /* a permission file */
#define AUTH_ENTRIES_MAX 1024      /* entries of one APPL */
#define DIR_ENTRIES_MAX 65536      /* keys or permission files listed */
#define REPLAY_FILE_MAX 32
#define LOCK_NAME ".lock"
#define LOCK_TIMEOUT_MS 10000
#define SWEEP_SCAN 64              /* directory entries looked at per claim */
#define SWEEP_REMOVE 16            /* expired entries removed per claim */
/* An entry stays this long past its expiry before a sweep removes it:
 * hosts sharing the cache over NFS may disagree on the time. */
#define SWEEP_GRACE ((int64_t)ACCORD_PT_WINDOW)
#define HASH_HEX 64                /* SHA-256 in hex */

/* ---- trust: common/secretfile.c ------------------------------------------ */

/* One of the store's subdirectories. */
struct sub {
	int fd;
	char path[PATH_MAX + 32];
};

/* Opens secrets/<name> (made 0700 when missing and create).  Missing
 * without create: -ENOENT. */
static int sub_open(struct accord_secrets *s, const char *name, bool create,
		    struct sub *d, struct accord_err *err)
{
	const char *spath;
	int sfd = accord_secrets_dirfd(s, &spath);
	struct stat st;
	bool made = false;
	int fd, r;

	d->fd = -1;
	snprintf(d->path, sizeof(d->path), "%s/%s", spath, name);
	for (;;) {
		fd = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || !create || made)
			break;
		if (mkdirat(sfd, name, 0700) < 0 && errno != EEXIST)
			return accord_err_set(err, errno == EACCES ? -EPERM : -errno,
					      "cannot create %s: %s", d->path, strerror(errno));
		made = true;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT, "%s does not exist", d->path);
		return secrets_open_error(errno, d->path, err);
	}
	if (made) {
		/* 0700 whatever the umask, and the new name durable */
		if (fchmod(fd, 0700) < 0) {
			r = accord_err_set(err, -errno, "cannot chmod %s: %s", d->path,
					   strerror(errno));
			goto fail;
		}
		fsync(sfd);
	}
	r = secrets_fd_trusted(fd, true, 1, d->path, &st, err);
	if (r < 0)
		goto fail;
	d->fd = fd;
	return 0;
fail:
	close(fd);
	return r;
}

static void sub_close(struct sub *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static int write_all(int fd, const char *b, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t m = write(fd, b + done, len - done);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0)
			return -errno;
		if (m == 0)
			return -EIO;
		done += (size_t)m;
	}
	return 0;
}

/*
 * Replaces d/<name> with buf as a whole: tmp (0600), fsync, rename, fsync
 * dir; under the write guard.  Temporary files a crash left are removed
 * on the way.
 */
static int replace_file(struct sub *d, const char *name, const char *buf, size_t len,
			struct accord_err *err)
{
	struct accord_wguard g;
	char tmp[64];
	int fd, r;

	secrets_sweep_tmp(d->fd, true);
	r = secrets_tmp_name(tmp, sizeof(tmp));
	if (r < 0)
		return accord_err_set(err, r, "cannot name a temporary file");
	fd = openat(d->fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return accord_err_set(err, errno == EACCES ? -EPERM : -errno,
				      "cannot create a file in %s: %s", d->path, strerror(errno));
	accord_wguard_begin(&g);
	r = write_all(fd, buf, len);
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	accord_wguard_end(&g);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(d->fd, tmp, d->fd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(d->fd, tmp, 0);
		return accord_err_set(err, r == -EACCES ? -EPERM : r, "cannot write %s/%s: %s",
				      d->path, name, strerror(-r));
	}
	if (fsync(d->fd) < 0 && errno != EINVAL)
		return accord_err_set(err, -errno, "cannot sync %s: %s", d->path,
				      strerror(errno));
	return 0;
}

/*
 * Reads d/<name> (checked: regular, owner, mode, one link) into buf of
 * size bytes, NUL-terminated.  -ENOENT when absent; -EFBIG when it does
 * not fit (size - 1 bytes at most); -EPERM, -EIO.
 */
static int read_small(struct sub *d, const char *name, char *buf, size_t size,
		      struct accord_err *err)
{
	char path[PATH_MAX + 64];
	struct stat st;
	size_t n = 0;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return secrets_open_error(errno, path, err);
	}
	r = secrets_fd_trusted(fd, false, 1, path, &st, err);
	if (r < 0)
		goto out;
	for (;;) {
		ssize_t m = read(fd, buf + n, size - n);

		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			r = accord_err_set(err, -EIO, "cannot read %s: %s", path,
					   strerror(errno));
			goto out;
		}
		if (m == 0)
			break;
		n += (size_t)m;
		if (n >= size) {
			r = accord_err_set(err, -EFBIG, "%s is longer than %zu bytes", path,
					   size - 1);
			goto out;
		}
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n))
		r = accord_err_set(err, -EBADMSG, "%s holds a NUL byte", path);
out:
	close(fd);
	return r;
}

/*
 * The canonical entry names of a directory (not starting with '.', and
 * equal to their normal form by `norm`), sorted; at most DIR_ENTRIES_MAX.
 * *names is malloc'd (free with free_names).
 */
typedef bool (*name_ok_fn)(const char *name);

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_names(struct sub *d, name_ok_fn ok, char ***names, size_t *count,
		      struct accord_err *err)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *dp;
	int fd, r = 0;

	*names = NULL;
	*count = 0;
	fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return secrets_open_error(errno, d->path, err);
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return accord_err_set(err, -ENOMEM, "out of memory");
	}
	for (;;) {
		errno = 0;
		e = readdir(dp);
		if (!e) {
			if (errno)
				r = accord_err_set(err, -EIO, "cannot read %s: %s", d->path,
						   strerror(errno));
			break;
		}
		if (e->d_name[0] == '.' || !ok(e->d_name))
			continue;
		if (n == DIR_ENTRIES_MAX) {
			r = accord_err_set(err, -E2BIG, "%s holds more than %d entries",
					   d->path, DIR_ENTRIES_MAX);
			break;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			char **nv = realloc(v, nc * sizeof(*v));

			if (!nv) {
				r = accord_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			v = nv;
			cap = nc;
		}
		v[n] = strdup(e->d_name);
		if (!v[n]) {
			r = accord_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		n++;
	}
	closedir(dp);
	if (r < 0) {
		free_names(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*names = v;
	*count = n;
	return 0;
}

/* ---- names -------------------------------------------------------------- */

int accord_pt_profile_name(const char *in, char out[ACCORD_PT_PROFILE_MAX + 1],
			   struct accord_err *err)
{
	static const char *const what[] = { "application name", "group or user ID",
					    "user ID" };
	const char *p = in;
	size_t o = 0;
	int i, r;

	out[0] = '\0';
	if (!in || !in[0])
		return accord_err_set(err, -EINVAL, "no PassTicket profile name given");
	for (i = 0;; i++) {
		char part[ACCORD_PT_ID_MAX + 2], id[ACCORD_PT_ID_MAX + 1];
		size_t len = strcspn(p, ".");

		if (i == 3) {
			r = accord_err_set(err, -EINVAL,
					   "PassTicket profile name '%.64s' has more than "
					   "three parts (APPL, APPL.GROUP, APPL.USER or "
					   "APPL.GROUP.USER)", in);
			goto wipe_fail;
		}
		if (len == 0 || len > ACCORD_PT_ID_MAX) {
			r = accord_err_set(err, -EINVAL,
					   "PassTicket profile name '%.64s': each part (APPL, "
					   "GROUP, USER) must be 1-8 characters", in);
			goto wipe_fail;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		r = accord_pt_racf_id(what[i], part, id, err);
		if (r < 0) {
			accord_err_prefix(err, r, "PassTicket profile name '%.64s'", in);
			goto wipe_fail;
		}
		if (i)
			out[o++] = '.';
		memcpy(out + o, id, strlen(id) + 1);
		o += strlen(id);
		p += len;
		if (!*p)
			break;
		p++; /* the '.' */
		if (!*p) {
			r = accord_err_set(err, -EINVAL,
					   "PassTicket profile name '%.64s' ends with '.'", in);
			goto wipe_fail;
		}
	}
	return 0;
wipe_fail:
	out[0] = '\0';
	return r;
}

static bool profile_canonical(const char *name)
{
	char norm[ACCORD_PT_PROFILE_MAX + 1];

	return strlen(name) <= ACCORD_PT_PROFILE_MAX &&
	       accord_pt_profile_name(name, norm, NULL) == 0 && !strcmp(norm, name);
}

static bool appl_canonical(const char *name)
{
	char norm[ACCORD_PT_ID_MAX + 1];

	return strlen(name) <= ACCORD_PT_ID_MAX &&
	       accord_pt_racf_id("application name", name, norm, NULL) == 0 &&
	       !strcmp(norm, name);
}

/* ---- keys --------------------------------------------------------------- */

/* The invariants of a key's settings (put and parse alike). */
static int key_check(const struct accord_pt_key *k, const char *profile,
		     struct accord_err *err)
{
	if (k->alg == ACCORD_PT_LEGACY) {
		if (k->len != 8)
			return accord_err_set(err, -EINVAL, "the legacy key of %s must be 8 "
					      "bytes (16 hex digits), not %zu", profile, k->len);
		if (k->type != ACCORD_PT_UPPER)
			return accord_err_set(err, -EINVAL, "a legacy key (%s) has no type "
					      "mixed: only enhanced keys do", profile);
		if (k->window != ACCORD_PT_WINDOW)
			return accord_err_set(err, -EINVAL, "a legacy key (%s) has RACF's "
					      "window of %u seconds; only enhanced keys take "
					      "another", profile, ACCORD_PT_WINDOW);
		return 0;
	}
	if (k->alg != ACCORD_PT_ENHANCED)
		return accord_err_set(err, -EINVAL, "unknown PassTicket algorithm %u (%s)",
				      k->alg, profile);
	if (k->len < ACCORD_PT_HMAC_MIN || k->len > ACCORD_PT_HMAC_MAX)
		return accord_err_set(err, -EINVAL, "the enhanced key of %s must be %u to "
				      "%u bytes, not %zu", profile, ACCORD_PT_HMAC_MIN,
				      ACCORD_PT_HMAC_MAX, k->len);
	if (k->type != ACCORD_PT_UPPER && k->type != ACCORD_PT_MIXED)
		return accord_err_set(err, -EINVAL, "unknown PassTicket type %u (%s)",
				      k->type, profile);
	if (k->window < 1 || k->window > ACCORD_PT_WINDOW)
		return accord_err_set(err, -EINVAL, "the window of %s must be 1 to %u "
				      "seconds, not %u", profile, ACCORD_PT_WINDOW, k->window);
	return 0;
}

static bool take(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n))
		return false;
	*p += n;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;  /* upper case is not what we write */
}

/*
 * "accord-ptkey 1 alg=legacy|enhanced type=upper|mixed window=N
 * replay=yes|no key=HEX\n", exactly: one space between fields, lower-case
 * hex, one newline, nothing after it.
 */
static int key_parse(const char *buf, struct accord_pt_key *k)
{
	const char *p = buf;
	unsigned w = 0;
	size_t n = 0;
	int digits = 0;

	memset(k, 0, sizeof(*k));
	if (!take(&p, KEY_MAGIC "alg="))
		return -EBADMSG;
	if (take(&p, "legacy "))
		k->alg = ACCORD_PT_LEGACY;
	else if (take(&p, "enhanced "))
		k->alg = ACCORD_PT_ENHANCED;
	else
		return -EBADMSG;
	if (take(&p, "type=upper "))
		k->type = ACCORD_PT_UPPER;
	else if (take(&p, "type=mixed "))
		k->type = ACCORD_PT_MIXED;
	else
		return -EBADMSG;
	if (!take(&p, "window=") || *p < '1' || *p > '9')
		return -EBADMSG;
	while (*p >= '0' && *p <= '9' && digits < 4) {
		w = w * 10 + (unsigned)(*p++ - '0');
		digits++;
	}
	if (digits > 3 || *p++ != ' ')
		return -EBADMSG;
	k->window = w;
	if (take(&p, "replay=yes "))
		k->replay_protection = true;
	else if (take(&p, "replay=no "))
		k->replay_protection = false;
	else
		return -EBADMSG;
	if (!take(&p, "key="))
		return -EBADMSG;
	while (hexval(p[0]) >= 0) {
		if (hexval(p[1]) < 0 || n == sizeof(k->key))
			goto bad;
		k->key[n++] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
		p += 2;
	}
	k->len = n;
	if (strcmp(p, "\n"))
		goto bad;
	if (key_check(k, "", NULL) < 0)
		goto bad;
	return 0;
bad:
	accord_pt_key_wipe(k);
	return -EBADMSG;
}

/* The file's text; buf has KEY_FILE_MAX bytes.  Returns its length. */
static size_t key_format(const struct accord_pt_key *k, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	int n = snprintf(buf, KEY_FILE_MAX, KEY_MAGIC "alg=%s type=%s window=%u replay=%s key=",
			 k->alg == ACCORD_PT_LEGACY ? "legacy" : "enhanced",
			 k->type == ACCORD_PT_MIXED ? "mixed" : "upper", k->window,
			 k->replay_protection ? "yes" : "no");
	size_t o = (size_t)n, i;

	for (i = 0; i < k->len; i++) {
		buf[o++] = hex[k->key[i] >> 4];
		buf[o++] = hex[k->key[i] & 15];
	}
	buf[o++] = '\n';
	buf[o] = '\0';
	return o;
}

int accord_pt_key_put(struct accord_secrets *s, const char *profile,
		      const struct accord_pt_key *k, struct accord_err *err)
{
	char name[ACCORD_PT_PROFILE_MAX + 1], buf[KEY_FILE_MAX];
	struct sub d = { .fd = -1 };
	size_t len;
	int r;

	r = accord_pt_profile_name(profile, name, err);
	if (r < 0)
		return r;
	r = key_check(k, name, err);
	if (r < 0)
		return r;
	r = sub_open(s, "ptkeys", true, &d, err);
	if (r < 0)
		return r;
	len = key_format(k, buf);
	r = replace_file(&d, name, buf, len, err);
	explicit_bzero(buf, sizeof(buf));
	sub_close(&d);
	return r;
}

/* The key of a canonical profile name in an open ptkeys/. */
static int key_load(struct sub *d, const char *name, struct accord_pt_key *k,
		    struct accord_err *err)
{
	char buf[KEY_FILE_MAX + 1];
	int r;

	memset(k, 0, sizeof(*k));
	r = read_small(d, name, buf, sizeof(buf), err);
	if (r == -ENOENT)
		r = accord_err_set(err, -ENOENT, "no PassTicket key for %s", name);
	else if (r == -EFBIG)
		r = accord_err_set(err, -EBADMSG, "PassTicket key file %s/%s is damaged "
				   "(too long); set the key again", d->path, name);
	else if (r == 0 && key_parse(buf, k) < 0)
		r = accord_err_set(err, -EBADMSG, "PassTicket key file %s/%s is damaged; "
				   "set the key again", d->path, name);
	explicit_bzero(buf, sizeof(buf));
	if (r < 0)
		accord_pt_key_wipe(k);
	return r;
}

int accord_pt_key_parse(const char *text, size_t len, struct accord_pt_key *k,
			struct accord_err *err)
{
	char buf[KEY_FILE_MAX + 1];
	int r;

	if (len == 0 || len > KEY_FILE_MAX || memchr(text, 0, len))
		return accord_err_set(err, -EBADMSG, "not a PassTicket key file");
	memcpy(buf, text, len);
	buf[len] = '\0';
	r = key_parse(buf, k);
	explicit_bzero(buf, sizeof(buf));
	if (r < 0) {
		explicit_bzero(k, sizeof(*k));
		return accord_err_set(err, -EBADMSG, "not a PassTicket key file");
	}
	return 0;
}

int accord_pt_key_get(struct accord_secrets *s, const char *profile,
		      struct accord_pt_key *k, struct accord_err *err)
{
	char name[ACCORD_PT_PROFILE_MAX + 1];
	struct sub d = { .fd = -1 };
	int r;

	memset(k, 0, sizeof(*k));
	r = accord_pt_profile_name(profile, name, err);
	if (r < 0)
		return r;
	r = sub_open(s, "ptkeys", false, &d, err);
	if (r == -ENOENT)
		return accord_err_set(err, -ENOENT, "no PassTicket key for %s", name);
	if (r < 0)
		return r;
	r = key_load(&d, name, k, err);
	sub_close(&d);
	return r;
}

int accord_pt_key_del(struct accord_secrets *s, const char *profile,
		      struct accord_err *err)
{
	char name[ACCORD_PT_PROFILE_MAX + 1];
	struct sub d = { .fd = -1 };
	int r;

	r = accord_pt_profile_name(profile, name, err);
	if (r < 0)
		return r;
	r = sub_open(s, "ptkeys", false, &d, err);
	if (r == -ENOENT)
		return accord_err_set(err, -ENOENT, "no PassTicket key for %s", name);
	if (r < 0)
		return r;
	if (unlinkat(d.fd, name, 0) < 0) {
		if (errno == ENOENT)
			r = accord_err_set(err, -ENOENT, "no PassTicket key for %s", name);
		else
			r = accord_err_set(err, errno == EACCES ? -EPERM : -errno,
					   "cannot remove %s/%s: %s", d.path, name,
					   strerror(errno));
	} else if (fsync(d.fd) < 0 && errno != EINVAL) {
		r = accord_err_set(err, -errno, "cannot sync %s: %s", d.path, strerror(errno));
	}
	sub_close(&d);
	return r;
}

int accord_pt_key_list(struct accord_secrets *s, accord_pt_key_cb cb,
		       void *ctx, struct accord_err *err)
{
	struct sub d = { .fd = -1 };
	struct accord_pt_key k;
	char **names = NULL;
	size_t n = 0, i;
	int r;

	r = sub_open(s, "ptkeys", false, &d, err);
	if (r == -ENOENT)
		return 0;  /* no key was ever stored */
	if (r < 0)
		return r;
	r = list_names(&d, profile_canonical, &names, &n, err);
	for (i = 0; r == 0 && i < n; i++) {
		r = key_load(&d, names[i], &k, err);
		if (r == -ENOENT) {  /* deleted meanwhile */
			r = 0;
			continue;
		}
		if (r == 0)
			r = cb(names[i], &k, ctx);
		accord_pt_key_wipe(&k);
	}
	free_names(names, n);
	sub_close(&d);
	return r;
}

int accord_pt_key_find(struct accord_secrets *s, const char *appl,
		       const char *group, const char *user,
		       struct accord_pt_key *k,
		       char found[ACCORD_PT_PROFILE_MAX + 1],
		       struct accord_err *err)
{
	char a[ACCORD_PT_ID_MAX + 1], g[ACCORD_PT_ID_MAX + 1], u[ACCORD_PT_ID_MAX + 1];
	char cand[4][ACCORD_PT_PROFILE_MAX + 1];
	struct sub d = { .fd = -1 };
	int r, i, n = 0;

	memset(k, 0, sizeof(*k));
	found[0] = '\0';
	r = accord_pt_racf_id("application name", appl, a, err);
	if (r == 0)
		r = accord_pt_racf_id("user ID", user, u, err);
	if (r == 0 && group)
		r = accord_pt_racf_id("group name", group, g, err);
	if (r < 0)
		return r;
	/* RACF's order: APPL.GROUP.USER > APPL.USER > APPL.GROUP > APPL */
	if (group)
		snprintf(cand[n++], sizeof(cand[0]), "%s.%s.%s", a, g, u);
	snprintf(cand[n++], sizeof(cand[0]), "%s.%s", a, u);
	if (group)
		snprintf(cand[n++], sizeof(cand[0]), "%s.%s", a, g);
	snprintf(cand[n++], sizeof(cand[0]), "%s", a);
	r = sub_open(s, "ptkeys", false, &d, err);
	if (r == -ENOENT)
		return accord_err_set(err, -ENOENT, "no PassTicket key for %s", a);
	if (r < 0)
		return r;
	for (i = 0; i < n; i++) {
		r = key_load(&d, cand[i], k, err);
		if (r != -ENOENT)
			break;  /* found, or an error: fail closed, never fall past it */
	}
	if (r == 0)
		snprintf(found, ACCORD_PT_PROFILE_MAX + 1, "%s", cand[i]);
	else if (r == -ENOENT)
		r = accord_err_set(err, -ENOENT, "no PassTicket key for %s (nor for %s)", a,
				   cand[0]);
	sub_close(&d);
	return r;
}

/* ---- permissions (IRRPTAUTH) ---------------------------------------------- */

struct auth_entry {
	uint32_t kind;
	char name[ACCORD_NAME_MAX + 1];
};

struct auth_list {
	struct auth_entry *v;
	size_t n;
};

static const char *kind_word(uint32_t kind)
{
	return kind == ACCORD_ACE_USER ? "user" : "group";
}

/* "user NAME\n" / "group NAME\n" lines, names valid, no duplicates. */
static int auth_parse(const char *buf, struct auth_list *l)
{
	const char *p = buf;

	l->v = NULL;
	l->n = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		struct auth_entry e = { 0 };
		size_t len, i;

		if (!nl)
			return -EBADMSG;
		if (take(&p, "user "))
			e.kind = ACCORD_ACE_USER;
		else if (take(&p, "group "))
			e.kind = ACCORD_ACE_GROUP;
		else
			return -EBADMSG;
		len = (size_t)(nl - p);
		if (len == 0 || len > ACCORD_NAME_MAX)
			return -EBADMSG;
		memcpy(e.name, p, len);
		e.name[len] = '\0';
		if (accord_check_name("name", e.name, NULL) < 0)
			return -EBADMSG;
		for (i = 0; i < l->n; i++)
			if (l->v[i].kind == e.kind && !strcmp(l->v[i].name, e.name))
				return -EBADMSG;
		if (l->n == AUTH_ENTRIES_MAX)
			return -EBADMSG;
		if (l->n % 16 == 0) {
			struct auth_entry *nv = realloc(l->v, (l->n + 16) * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			l->v = nv;
		}
		l->v[l->n++] = e;
		p = nl + 1;
	}
	return 0;
}

/* The entries of canonical APPL name in an open ptauth/ (none when it has
 * no file). */
static int auth_load(struct sub *d, const char *appl, struct auth_list *l,
		     struct accord_err *err)
{
	char *buf = malloc(AUTH_FILE_MAX + 1);
	int r;

	l->v = NULL;
	l->n = 0;
	if (!buf)
		return accord_err_set(err, -ENOMEM, "out of memory");
	r = read_small(d, appl, buf, AUTH_FILE_MAX + 1, err);
	if (r == -ENOENT) {
		r = 0;
	} else if (r == -EFBIG) {
		r = accord_err_set(err, -EBADMSG, "PassTicket permission file %s/%s is "
				   "damaged (too long)", d->path, appl);
	} else if (r == 0) {
		r = auth_parse(buf, l);
		if (r == -EBADMSG)
			r = accord_err_set(err, -EBADMSG, "PassTicket permission file %s/%s "
					   "is damaged", d->path, appl);
		else if (r < 0)
			r = accord_err_set(err, r, "out of memory");
		if (r < 0) {
			free(l->v);
			l->v = NULL;
			l->n = 0;
		}
	}
	free(buf);
	return r;
}

/*
 * An open file description lock on d/.lock (made 0600 when missing),
 * waiting at most timeout_ms (0: try once).  Returns the descriptor (the
 * lock goes with it), -EAGAIN when busy past the wait, or an error.
 */
static int lock_dir(struct sub *d, unsigned timeout_ms, struct accord_err *err)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX + 64];
	int64_t deadline = secrets_mono_ms() + timeout_ms;
	long sleep_us = 500;
	struct stat st;
	int fd, r;

	snprintf(path, sizeof(path), "%s/" LOCK_NAME, d->path);
	fd = openat(d->fd, LOCK_NAME, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return secrets_open_error(errno, path, err);
	r = secrets_fd_trusted(fd, false, 1, path, &st, err);
	if (r < 0)
		goto fail;
	for (;;) {
		if (fcntl(fd, F_OFD_SETLK, &lk) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES) {
			r = accord_err_set(err, -EIO, "cannot lock %s: %s", path, strerror(errno));
			goto fail;
		}
		if (secrets_mono_ms() >= deadline) {
			r = accord_err_set(err, timeout_ms ? -ETIMEDOUT : -EAGAIN,
					   "timed out after %u ms waiting for the lock on %s",
					   timeout_ms, path);
			goto fail;
		}
		nanosleep(&(struct timespec){ .tv_sec = 0, .tv_nsec = sleep_us * 1000 }, NULL);
		if (sleep_us < 20000)
			sleep_us *= 2;
	}
fail:
	close(fd);
	return r;
}

int accord_pt_permit(struct accord_secrets *s, const char *appl,
		     uint32_t kind, const char *who, bool on,
		     struct accord_err *err)
{
	char a[ACCORD_PT_ID_MAX + 1];
	struct sub d = { .fd = -1 };
	struct auth_list l = { 0 };
	char *buf = NULL;
	size_t i, len = 0;
	int r, lock = -1;

	r = accord_pt_racf_id("application name", appl, a, err);
	if (r < 0)
		return r;
	if (kind != ACCORD_ACE_USER && kind != ACCORD_ACE_GROUP)
		return accord_err_set(err, -EINVAL, "a permission names a user or a group");
	if (!who)
		return accord_err_set(err, -EINVAL, "no %s name given", kind_word(kind));
	r = accord_check_name(kind == ACCORD_ACE_USER ? "user name" : "group name", who, err);
	if (r < 0)
		return r;
	r = sub_open(s, "ptauth", on, &d, err);
	if (r == -ENOENT && !on)
		return 1;  /* nothing was ever permitted */
	if (r < 0)
		return r;
	/* read, change, replace: one writer at a time */
	lock = lock_dir(&d, LOCK_TIMEOUT_MS, err);
	if (lock < 0) {
		r = lock;
		goto out;
	}
	r = auth_load(&d, a, &l, err);
	if (r < 0)
		goto out;
	for (i = 0; i < l.n; i++)
		if (l.v[i].kind == kind && !strcmp(l.v[i].name, who))
			break;
	if (on == (i < l.n)) {
		r = 1;
		goto out;
	}
	if (on) {
		if (l.n == AUTH_ENTRIES_MAX) {
			r = accord_err_set(err, -ENOSPC, "application %s has %d PassTicket "
					   "permissions already (the most there may be); permit "
					   "groups rather than users", a, AUTH_ENTRIES_MAX);
			goto out;
		}
		if (l.n % 16 == 0) {
			struct auth_entry *nv = realloc(l.v, (l.n + 16) * sizeof(*nv));

			if (!nv) {
				r = accord_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			l.v = nv;
		}
		memset(&l.v[l.n], 0, sizeof(l.v[l.n]));
		l.v[l.n].kind = kind;
		snprintf(l.v[l.n].name, sizeof(l.v[l.n].name), "%s", who);
		l.n++;
	} else {
		memmove(&l.v[i], &l.v[i + 1], (l.n - i - 1) * sizeof(l.v[0]));
		l.n--;
	}
	if (l.n == 0) {
		if (unlinkat(d.fd, a, 0) < 0 && errno != ENOENT)
			r = accord_err_set(err, errno == EACCES ? -EPERM : -errno,
					   "cannot remove %s/%s: %s", d.path, a, strerror(errno));
		else if (fsync(d.fd) < 0 && errno != EINVAL)
			r = accord_err_set(err, -errno, "cannot sync %s: %s", d.path,
					   strerror(errno));
		else
			r = 0;
		goto out;
	}
	buf = malloc(AUTH_FILE_MAX);
	if (!buf) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < l.n; i++)
		len += (size_t)snprintf(buf + len, AUTH_FILE_MAX - len, "%s %s\n",
					kind_word(l.v[i].kind), l.v[i].name);
	r = replace_file(&d, a, buf, len, err);
out:
	free(buf);
	free(l.v);
	if (lock >= 0)
		close(lock);
	sub_close(&d);
	return r;
}

int accord_pt_permit_list(struct accord_secrets *s, const char *appl,
			  accord_pt_permit_cb cb, void *ctx,
			  struct accord_err *err)
{
	char a[ACCORD_PT_ID_MAX + 1];
	struct sub d = { .fd = -1 };
	char **names = NULL;
	size_t n = 0, i, j;
	int r;

	if (appl) {
		r = accord_pt_racf_id("application name", appl, a, err);
		if (r < 0)
			return r;
	}
	r = sub_open(s, "ptauth", false, &d, err);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (appl) {
		names = malloc(sizeof(*names));
		if (!names || !(names[0] = strdup(a))) {
			free(names);
			names = NULL;
			r = accord_err_set(err, -ENOMEM, "out of memory");
		} else {
			n = 1;
		}
	} else {
		r = list_names(&d, appl_canonical, &names, &n, err);
	}
	for (i = 0; r == 0 && i < n; i++) {
		struct auth_list l;

		r = auth_load(&d, names[i], &l, err);
		for (j = 0; r == 0 && j < l.n; j++)
			r = cb(names[i], l.v[j].kind, l.v[j].name, ctx);
		free(l.v);  /* NULL after an error of auth_load() */
	}
	free_names(names, n);
	sub_close(&d);
	return r;
}

int accord_pt_may_generate(struct accord_secrets *s, const struct accord_snapshot *snap,
			   const char *appl, const char *requester,
			   struct accord_err *err)
{
	char a[ACCORD_PT_ID_MAX + 1];
	struct accord_snap_user u;
	struct sub d = { .fd = -1 };
	struct auth_list l = { 0 };
	bool have_user = false, ok = false;
	size_t i;
	int r;

	r = accord_pt_racf_id("application name", appl, a, err);
	if (r < 0)
		return r;
	if (!requester)
		return 0;  /* root */
	r = sub_open(s, "ptauth", false, &d, err);
	if (r == 0) {
		r = auth_load(&d, a, &l, err);
		sub_close(&d);
	} else if (r == -ENOENT) {
		r = 0;
	}
	if (r < 0)
		return r;
	have_user = snap && accord_snap_user_by_name(snap, requester, &u) == 0;
	for (i = 0; i < l.n && !ok; i++) {
		struct accord_snap_group g;

		if (l.v[i].kind == ACCORD_ACE_USER)
			ok = !strcmp(l.v[i].name, requester);
		else if (have_user && accord_snap_group_by_name(snap, l.v[i].name, &g) == 0)
			ok = accord_snap_user_in_gid(&u, g.gid);
	}
	free(l.v);
	if (ok)
		return 0;
	return accord_err_set(err, -EACCES, "%s is not authorized to generate PassTickets "
			      "for %s (accordctl passticket permit %s --user %s, or --group "
			      "with one of its groups)", requester, a, a, requester);
}

/* ---- replay cache ------------------------------------------------------- */

/* The entry's name: hex SHA-256 of "USER\0APPL\0TICKET". */
static int replay_name(const char *user, const char *appl, const char *ticket,
		       char out[HASH_HEX + 1], struct accord_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char in[3 * (ACCORD_PT_ID_MAX + 1)], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	size_t n = 0, ul = strlen(user), al = strlen(appl), tl = strlen(ticket);
	int r = 0;

	memcpy(in + n, user, ul + 1);
	n += ul + 1;
	memcpy(in + n, appl, al + 1);
	n += al + 1;
	memcpy(in + n, ticket, tl);
	n += tl;
	if (!EVP_Digest(in, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != HASH_HEX / 2) {
		r = accord_err_set(err, -EIO, "cannot compute SHA-256 (OpenSSL)");
	} else {
		for (i = 0; i < mdlen; i++) {
			out[2 * i] = hex[md[i] >> 4];
			out[2 * i + 1] = hex[md[i] & 15];
		}
		out[HASH_HEX] = '\0';
	}
	explicit_bzero(in, sizeof(in));
	explicit_bzero(md, sizeof(md));
	return r;
}

static bool replay_entry_name(const char *name)
{
	size_t i;

	for (i = 0; i < HASH_HEX; i++)
		if (hexval(name[i]) < 0)
			return false;
	return name[HASH_HEX] == '\0';
}

/*
 * The expiry an existing entry records.  0: *expiry set; -ENOENT: gone
 * meanwhile; -EPERM (untrusted), -EIO.  A damaged entry (no whole number
 * in it: written by hand, or a store from elsewhere) counts as claimed
 * until its change time plus twice the longest window, which outlasts
 * every ticket it could stand for: fail closed, heal by itself.
 */
static int replay_read(struct sub *d, const char *name, int64_t *expiry, ino_t *ino,
		       struct accord_err *err)
{
	char path[PATH_MAX + 80], buf[REPLAY_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	fd = openat(d->fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return secrets_open_error(errno, path, err);
	}
	if (fstat(fd, &st) < 0) {
		r = accord_err_set(err, -EIO, "cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_nlink == 0) {
		r = -ENOENT;  /* a claim removed it (expired) since we opened it */
		goto out;
	}
	r = secrets_check_trust(&st, false, 2, path, err);
	if (r < 0)
		goto out;
	*ino = st.st_ino;
	do
		n = pread(fd, buf, REPLAY_FILE_MAX, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = accord_err_set(err, -EIO, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	{
		const char *p = buf;
		int64_t v = 0;
		int digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 19) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits && !strcmp(p, "\n"))
			*expiry = v;
		else
			*expiry = (int64_t)st.st_ctime + 2 * (int64_t)ACCORD_PT_WINDOW;
	}
out:
	close(fd);
	return r;
}

/*
 * Removes up to SWEEP_REMOVE entries expired for more than SWEEP_GRACE
 * among the first SWEEP_SCAN of the directory, and stale temporary files.
 * Only under the directory's lock, which claims that remove an entry take
 * too: so a name checked expired here is still that entry when it goes.
 * Best effort; a busy lock skips the sweep.
 */
static void replay_sweep(struct sub *d, int64_t now)
{
	struct accord_err ignored;
	int64_t wall = (int64_t)time(NULL);
	int lock, fd, scanned = 0, removed = 0;
	struct dirent *e;
	DIR *dp;

	lock = lock_dir(d, 0, &ignored);
	if (lock < 0)
		return;
	fd = openat(d->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dp = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dp) {
		if (fd >= 0)
			close(fd);
		close(lock);
		return;
	}
	while (scanned < SWEEP_SCAN && removed < SWEEP_REMOVE && (e = readdir(dp)) != NULL) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		scanned++;
		if (fstatat(d->fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (replay_entry_name(e->d_name)) {
			/* mtime is the expiry (set before the link) */
			if ((int64_t)st.st_mtime < now - SWEEP_GRACE &&
			    unlinkat(d->fd, e->d_name, 0) == 0)
				removed++;
		} else if (!strncmp(e->d_name, SECRETS_TMP_PREFIX, strlen(SECRETS_TMP_PREFIX)) &&
			   (int64_t)st.st_ctime < wall - SECRETS_TMP_STALE) {
			unlinkat(d->fd, e->d_name, 0);
		}
	}
	closedir(dp);
	close(lock);
}

/* The ticket as the cache keys it: 8 characters of the MIXED alphabet,
 * folded to upper case. */
static int replay_ticket(const char *ticket, char out[ACCORD_PT_LEN + 1],
			 struct accord_err *err)
{
	size_t i;

	if (!ticket || strlen(ticket) != ACCORD_PT_LEN)
		return accord_err_set(err, -EINVAL, "a PassTicket is %d characters",
				      ACCORD_PT_LEN);
	for (i = 0; i < ACCORD_PT_LEN; i++) {
		char c = ticket[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_'))
			return accord_err_set(err, -EINVAL, "a PassTicket has only letters, "
					      "digits, '-' and '_'");
		out[i] = c;
	}
	out[ACCORD_PT_LEN] = '\0';
	return 0;
}

int accord_pt_replay_claim(struct accord_secrets *s, const char *user,
			   const char *appl, const char *ticket,
			   int64_t expires, int64_t now,
			   struct accord_err *err)
{
	char u[ACCORD_PT_ID_MAX + 1], a[ACCORD_PT_ID_MAX + 1], t[ACCORD_PT_LEN + 1];
	char name[HASH_HEX + 1], tmp[64], line[32];
	struct sub d = { .fd = -1 };
	struct accord_wguard g;
	struct stat st;
	int fd = -1, lock = -1, r, attempt, len;
	bool reclaimed = false;

	r = accord_pt_racf_id("user ID", user, u, err);
	if (r == 0)
		r = accord_pt_racf_id("application name", appl, a, err);
	if (r == 0)
		r = replay_ticket(ticket, t, err);
	if (r == 0 && expires < 0)
		r = accord_err_set(err, -EINVAL, "a negative expiry");
	if (r == 0)
		r = replay_name(u, a, t, name, err);
	explicit_bzero(t, sizeof(t));
	if (r < 0)
		return r;
	r = sub_open(s, "replay", true, &d, err);
	if (r < 0)
		return r;

	/* the entry, complete and on disk under a temporary name */
	r = secrets_tmp_name(tmp, sizeof(tmp));
	if (r < 0) {
		r = accord_err_set(err, r, "cannot name a temporary file");
		goto out;
	}
	fd = openat(d.fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = accord_err_set(err, errno == EACCES ? -EPERM : -errno,
				   "cannot create a file in %s: %s", d.path, strerror(errno));
		goto out;
	}
	len = snprintf(line, sizeof(line), "%lld\n", (long long)expires);
	accord_wguard_begin(&g);
	r = write_all(fd, line, (size_t)len);
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = -errno;
	if (r == 0 && futimens(fd, (const struct timespec[2]){ { .tv_sec = (time_t)expires },
							      { .tv_sec = (time_t)expires } }) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	accord_wguard_end(&g);
	if (r < 0) {
		r = accord_err_set(err, r == -EACCES ? -EPERM : r, "cannot write %s/%s: %s",
				   d.path, tmp, strerror(-r));
		goto out;
	}

	for (attempt = 0;; attempt++) {
		int64_t old = 0;
		ino_t ino = 0, ino2 = 0;
		int e = 0;

		if (linkat(d.fd, tmp, d.fd, name, 0) < 0)
			e = errno;
		/* NFS: a retransmitted link() may report EEXIST for a link that
		 * was made; the link count of our own file says what happened */
		if (fstat(fd, &st) == 0 && st.st_nlink == 2) {
			r = 0;
			break;
		}
		if (e == 0)
			e = EIO;  /* linked, yet not to our file: never claim */
		if (e != EEXIST) {
			r = accord_err_set(err, e == EACCES ? -EPERM : -e,
					   "cannot record the PassTicket in %s: %s", d.path,
					   strerror(e));
			goto out;
		}
		r = replay_read(&d, name, &old, &ino, err);
		if (r == -ENOENT && attempt < 3)
			continue;  /* an expired entry removed meanwhile: again */
		if (r == -ENOENT)
			r = accord_err_set(err, -EIO, "the replay cache entry %s/%s keeps "
					   "changing", d.path, name);
		if (r < 0)
			goto out;
		if (old >= now) {
			r = accord_err_set(err, -EALREADY, "the PassTicket was used before "
					   "(replay protection)");
			goto out;
		}
		if (reclaimed) {
			r = accord_err_set(err, -EALREADY, "the PassTicket was used before "
					   "(replay protection; its entry could not be renewed)");
			goto out;
		}
		reclaimed = true;
		/* expired: remove it under the lock, checking again there, so
		 * that a fresh entry someone else just made is never removed */
		lock = lock_dir(&d, LOCK_TIMEOUT_MS, err);
		if (lock < 0) {
			r = lock;
			goto out;
		}
		r = replay_read(&d, name, &old, &ino2, err);
		if (r == 0 && ino2 == ino && old < now && unlinkat(d.fd, name, 0) < 0 &&
		    errno != ENOENT) {
			r = accord_err_set(err, errno == EACCES ? -EPERM : -errno,
					   "cannot remove %s/%s: %s", d.path, name,
					   strerror(errno));
			goto out;
		}
		if (r < 0 && r != -ENOENT)
			goto out;
	}
	/* the claim is made: make its name durable before saying so */
	if (fsync(d.fd) < 0 && errno != EINVAL) {
		/* the entry stays: the caller refuses this logon, and a later
		 * one with the same ticket is refused too (fail closed) */
		r = accord_err_set(err, -errno, "cannot sync %s: %s", d.path, strerror(errno));
		goto out;
	}
out:
	if (fd >= 0) {
		unlinkat(d.fd, tmp, 0);
		close(fd);
	}
	if (lock >= 0)
		close(lock);
	if (r == 0 || r == -EALREADY)
		replay_sweep(&d, now);
	sub_close(&d);
	explicit_bzero(line, sizeof(line));
	return r;
}
