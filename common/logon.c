/* SPDX-License-Identifier: MIT */
/*
 * The secrets store: see include/accord/logon.h.
 *
 * Every file is reached with openat() from directory descriptors that
 * were opened without following links and checked once (owner, mode), and
 * every file is checked again on its own descriptor (owner, mode, one
 * link), so a link or a rename planted between check and use cannot
 * redirect a read or a write.
 *
 * A password file is replaced as a whole (tmp, fsync, rename, fsync dir).
 * A logon record is two 64-byte slots written alternately under an open
 * file description lock on the record itself: the lock is what makes
 * counting exact across processes, threads and, on NFS, hosts; the two
 * slots are what make a torn write harmless (the other slot still holds
 * the state before it); the checksums are what let a reader that takes
 * no lock tell a slot being written from a whole one.
 *
 * Every write runs under accord_wguard (wguard.h): RLIMIT_FSIZE and
 * SIGXFSZ are the caller's to choose, and the caller of su is the one
 * guessing passwords.
 */
#include <accord/logon.h>
#include <accord/state.h>

#include <crypt.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "secrets_dir.h"
#include "wguard.h"

struct accord_secrets {
	int dir_fd;       /* <registry>/secrets */
	int pw_fd;        /* .../password */
	int logon_fd;     /* .../logon */
	_Atomic unsigned lock_timeout_ms; /* a PAM module may share the
					     handle between threads */
	char path[PATH_MAX];
};

#define SECRET_MAGIC "accord-secret 1 "
#define SECRET_FILE_MAX 1024

/*
 * The logon record: a 128-byte file of two 64-byte slots.  A slot,
 * little-endian:
 *   0 magic "ACCLOGv2"   8 u32 seq (never 0)   12 u32 uid
 *  16 i64 created       24 u32 failures       28 u32 revoked
 *  32 i64 last_success  40 i64 last_failure   48 i64 revoked_at
 *  56 u64 accord_checksum of bytes [0, 56)
 * The valid slot with the newer seq (serial arithmetic) is the record; a
 * write goes to the other one.  See logon.h for empty and damaged files.
 */
#define LOGON_MAGIC "ACCLOGv2"
#define SLOT_SIZE 64
#define LOGON_SIZE (2 * SLOT_SIZE)
#define DAY 86400

/* A valid yescrypt setting of the cost crypt_gensalt_ra("$y$", 0) picks
 * (j9T), for the dummy verify. */
static const char dummy_setting[] = "$y$j9T$TyPyj6Eak7Yk3ziyFWCQ11";

/* ---- write guard (wguard.h) -------------------------------------------- */

static pthread_mutex_t wg_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned wg_users;
static bool wg_raised;
static struct rlimit wg_saved;

void accord_wguard_begin(struct accord_wguard *g)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGXFSZ);
	g->masked = pthread_sigmask(SIG_BLOCK, &set, &g->oldmask) == 0;
	g->entered = pthread_mutex_lock(&wg_mu) == 0;
	if (!g->entered)
		return;
	if (wg_users++ == 0 && geteuid() == 0) {
		struct rlimit old, inf = { RLIM_INFINITY, RLIM_INFINITY };

		if (getrlimit(RLIMIT_FSIZE, &old) == 0 &&
		    (old.rlim_cur != RLIM_INFINITY || old.rlim_max != RLIM_INFINITY)) {
			/* without CAP_SYS_RESOURCE (a container) the hard
			 * limit stays: the soft one up to it, at least */
			struct rlimit soft = { old.rlim_max, old.rlim_max };

			if (setrlimit(RLIMIT_FSIZE, &inf) == 0 ||
			    (old.rlim_cur != old.rlim_max &&
			     setrlimit(RLIMIT_FSIZE, &soft) == 0)) {
				wg_saved = old;
				wg_raised = true;
			}
		}
	}
	pthread_mutex_unlock(&wg_mu);
}

void accord_wguard_end(struct accord_wguard *g)
{
	if (g->entered && pthread_mutex_lock(&wg_mu) == 0) {
		if (--wg_users == 0 && wg_raised) {
			setrlimit(RLIMIT_FSIZE, &wg_saved);
			wg_raised = false;
		}
		pthread_mutex_unlock(&wg_mu);
	}
	g->entered = false;
	if (g->masked) {
		sigset_t set, pending;
		struct timespec zero = { 0, 0 };

		sigemptyset(&set);
		sigaddset(&set, SIGXFSZ);
		/* a SIGXFSZ of our own write (limit not raised): the write
		 * already failed with EFBIG, which the caller handles; the
		 * signal must not kill the process once unblocked.  One the
		 * caller had blocked itself stays theirs. */
		if (!sigismember(&g->oldmask, SIGXFSZ) && sigpending(&pending) == 0 &&
		    sigismember(&pending, SIGXFSZ)) {
			while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
				;
		}
		pthread_sigmask(SIG_SETMASK, &g->oldmask, NULL);
		g->masked = false;
	}
}

/* pwrite of the whole buffer, EINTR retried; 0 or -errno (-EIO for a
 * write that makes no progress). */
static int pwrite_all(int fd, const unsigned char *b, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t m = pwrite(fd, b + done, len - done, off + (off_t)done);

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

/* ---- trust -------------------------------------------------------------- */

static int open_dir(int parent, const char *name, const char *path, bool create,
		    struct accord_err *err)
{
	struct stat st;
	bool made = false;
	int fd, r;

	for (;;) {
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT || !create || made)
			break;
		if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST)
			return accord_err_set(err, -errno, "cannot create %s: %s", path,
					      strerror(errno));
		made = true;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT, "%s does not exist", path);
		return secrets_open_error(errno, path, err);
	}
	/* what we made is 0700 whatever the umask; what we found is checked */
	if (made && fchmod(fd, 0700) < 0) {
		r = accord_err_set(err, -errno, "cannot chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	r = secrets_fd_trusted(fd, true, 1, path, &st, err);
	if (r < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

/* The registry directory: not a link, a directory owned by root (or the
 * caller), not writable by group or others.  Readable by all is fine (the
 * snapshot lives there); it may be a mount point. */
static int open_registry(const char *dir, struct accord_err *err)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT, "cannot open the registry %s: %s",
					      dir, strerror(ENOENT));
		if (errno == ELOOP || errno == ENOTDIR)
			return accord_err_set(err, -EPERM,
					      "refusing the registry %s: a symbolic link or not a "
					      "directory", dir);
		return accord_err_set(err, errno == EACCES ? -EPERM : -errno,
				      "cannot open the registry %s: %s", dir, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return accord_err_set(err, -e, "cannot stat %s: %s", dir, strerror(e));
	}
	if (!secrets_owner_ok(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return accord_err_set(err, -EPERM,
				      "refusing the registry %s: it must be owned by root and not "
				      "writable by group or others (chown root %s; chmod go-w %s)",
				      dir, dir, dir);
	}
	return fd;
}

int accord_secrets_open(const char *registry_dir, bool create,
			struct accord_secrets **out, struct accord_err *err)
{
	struct accord_secrets *s;
	char sub[PATH_MAX + 16];
	int reg_fd, r;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return accord_err_set(err, -ENOMEM, "out of memory");
	s->dir_fd = s->pw_fd = s->logon_fd = -1;
	s->lock_timeout_ms = ACCORD_LOGON_LOCK_TIMEOUT_MS;
	if (snprintf(s->path, sizeof(s->path), "%s/secrets", registry_dir) >=
	    (int)sizeof(s->path)) {
		r = accord_err_set(err, -ENAMETOOLONG, "registry path %s is too long",
				   registry_dir);
		goto fail;
	}
	r = open_registry(registry_dir, err);
	if (r < 0)
		goto fail;
	reg_fd = r;
	r = open_dir(reg_fd, "secrets", s->path, create, err);
	close(reg_fd);
	if (r < 0)
		goto fail;
	s->dir_fd = r;
	snprintf(sub, sizeof(sub), "%s/password", s->path);
	r = open_dir(s->dir_fd, "password", sub, create, err);
	if (r < 0)
		goto fail;
	s->pw_fd = r;
	snprintf(sub, sizeof(sub), "%s/logon", s->path);
	r = open_dir(s->dir_fd, "logon", sub, create, err);
	if (r < 0)
		goto fail;
	s->logon_fd = r;
	*out = s;
	return 0;
fail:
	accord_secrets_close(s);
	return r;
}

void accord_secrets_close(struct accord_secrets *s)
{
	if (!s)
		return;
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->pw_fd >= 0)
		close(s->pw_fd);
	if (s->logon_fd >= 0)
		close(s->logon_fd);
	free(s);
}

void accord_secrets_set_lock_timeout(struct accord_secrets *s, unsigned ms)
{
	if (s)
		s->lock_timeout_ms = ms;
}

int accord_secrets_dirfd(const struct accord_secrets *s, const char **path)
{
	if (path)
		*path = s->path;
	return s->dir_fd;
}

static int check_profile_name(const char *name, struct accord_err *err)
{
	if (!name)
		return accord_err_set(err, -EINVAL, "no profile name");
	return accord_check_name("profile name", name, err);
}

/* ---- locks -------------------------------------------------------------- */

/*
 * An open file description lock (F_OFD_SETLK) on the whole file, retried
 * with short sleeps for at most timeout_ms: it belongs to this descriptor
 * only, so two threads of one process exclude each other and closing
 * some other descriptor of the file does not drop it.  It goes away with
 * the descriptor.  0, -ETIMEDOUT, or -errno (never -EACCES).
 */
static int lock_record(int fd, short type, unsigned timeout_ms, const char *path,
		       struct accord_err *err)
{
	struct flock lk = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0,
			    .l_len = 0, .l_pid = 0 };
	int64_t deadline = secrets_mono_ms() + timeout_ms;
	long sleep_us = 500;

	for (;;) {
		int64_t left;

		if (fcntl(fd, F_OFD_SETLK, &lk) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EACCES)
			return accord_err_set(err, errno == EPERM ? -EPERM : -EIO,
					      "cannot lock %s: %s", path, strerror(errno));
		left = deadline - secrets_mono_ms();
		if (left <= 0)
			return accord_err_set(err, -ETIMEDOUT,
					      "timed out after %u ms waiting for the lock on %s "
					      "(a stuck lock holder, or an NFS lock server that does "
					      "not answer)", timeout_ms, path);
		if (sleep_us / 1000 > left)
			sleep_us = (long)left * 1000;
		nanosleep(&(struct timespec){ .tv_sec = sleep_us / 1000000,
					      .tv_nsec = (sleep_us % 1000000) * 1000 }, NULL);
		if (sleep_us < 20000)
			sleep_us *= 2;
	}
}

/* ---- passwords ---------------------------------------------------------- */

static bool ct_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return d == 0;
}

void accord_secret_dummy_verify(const char *pw)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	if (!cd)
		return;
	crypt_rn(pw ? pw : "", dummy_setting, cd, sizeof(*cd));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
}

static int parse_i64(const char **p, int64_t *out)
{
	const char *s = *p;
	bool neg = false;
	uint64_t v = 0;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	*p = s;
	return 0;
}

/*
 * Reads the hash of p into hash[CRYPT_OUTPUT_SIZE]: 0, -ENOENT (none, or
 * one of an earlier profile), -EBADMSG, -EPERM (untrusted, or may not be
 * opened), -EIO (cannot be read).  Never -EACCES.
 */
static int load_secret(struct accord_secrets *s, const struct accord_profile_ref *p,
		       char *hash, struct accord_err *err)
{
	char path[PATH_MAX + 64], buf[SECRET_FILE_MAX + 1];
	const char *q;
	struct stat st;
	int64_t uid, created;
	ssize_t n;
	size_t hlen;
	int fd, r;

	snprintf(path, sizeof(path), "%s/password/%s", s->path, p->name);
	fd = openat(s->pw_fd, p->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return accord_err_set(err, -ENOENT, "no password is set for %s",
					      p->name);
		return secrets_open_error(errno, path, err);
	}
	r = secrets_fd_trusted(fd, false, 1, path, &st, err);
	if (r < 0)
		goto out;
	do
		n = pread(fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = accord_err_set(err, -EIO, "cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	buf[n] = '\0';
	if ((size_t)n >= sizeof(buf) - 1 || memchr(buf, '\0', (size_t)n) ||
	    strncmp(buf, SECRET_MAGIC, strlen(SECRET_MAGIC)))
		goto bad;
	q = buf + strlen(SECRET_MAGIC);
	if (*q == '-' || parse_i64(&q, &uid) < 0 || uid > UINT32_MAX || *q++ != ' ' ||
	    parse_i64(&q, &created) < 0 || *q++ != ' ' || *q != '$')
		goto bad;
	hlen = strcspn(q, " \n");
	if (hlen >= CRYPT_OUTPUT_SIZE || strcmp(q + hlen, "\n"))
		goto bad;
	if ((uint32_t)uid != p->uid || created != p->created) {
		r = accord_err_set(err, -ENOENT,
				   "no password is set for %s (the stored one belongs to an "
				   "earlier profile of that name)", p->name);
		goto out;
	}
	memcpy(hash, q, hlen);
	hash[hlen] = '\0';
	r = 0;
	goto out;
bad:
	r = accord_err_set(err, -EBADMSG,
			   "password file %s is damaged; set the password again", path);
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

/* One hash: 0 (match), -EACCES (no match), -EBADMSG (a hash this system
 * cannot compute), -ENOMEM. */
static int check_hash(struct accord_secrets *s, const struct accord_profile_ref *p,
		      const char *pw, const char *hash, struct accord_err *err)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	size_t n = strlen(hash);
	int r;

	if (!cd) {
		accord_secret_dummy_verify(pw);
		return accord_err_set(err, -ENOMEM, "out of memory");
	}
	out = crypt_rn(pw, hash, cd, sizeof(*cd));
	if (!out || out[0] == '*')
		r = accord_err_set(err, -EBADMSG,
				   "password file %s/password/%s holds a hash this system "
				   "cannot compute; set the password again", s->path, p->name);
	else if (strlen(out) == n && ct_equal(out, hash, n))
		r = 0;
	else
		r = accord_err_set(err, -EACCES, "wrong password for %s", p->name);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return r;
}

int accord_secret_verify(struct accord_secrets *s,
			 const struct accord_profile_ref *p, const char *pw,
			 struct accord_err *err)
{
	char hash[CRYPT_OUTPUT_SIZE];
	int r;

	r = check_profile_name(p->name, err);
	if (r == 0 && !pw)
		r = accord_err_set(err, -EINVAL, "no password given");
	if (r == 0)
		r = load_secret(s, p, hash, err);
	if (r < 0)
		/* every answer costs one hash */
		accord_secret_dummy_verify(pw);
	else
		r = check_hash(s, p, pw, hash, err);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

int accord_secret_set(struct accord_secrets *s,
		      const struct accord_profile_ref *p, const char *pw,
		      struct accord_err *err)
{
	char path[PATH_MAX + 64], tmp[64], line[CRYPT_OUTPUT_SIZE + 64];
	struct crypt_data *cd = NULL;
	struct accord_wguard g;
	char *setting = NULL;
	const char *out;
	int fd = -1, r, len;

	r = check_profile_name(p->name, err);
	if (r < 0)
		return r;
	if (!pw)
		return accord_err_set(err, -EINVAL, "no password given");
	snprintf(path, sizeof(path), "%s/password/%s", s->path, p->name);
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (!setting)
		return accord_err_set(err, errno ? -errno : -ENOMEM,
				      "cannot make a yescrypt salt: %s", strerror(errno));
	cd = calloc(1, sizeof(*cd));
	if (!cd) {
		r = accord_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	out = crypt_rn(pw, setting, cd, sizeof(*cd));
	if (!out || out[0] == '*') {
		r = accord_err_set(err, -EINVAL, "cannot hash the password with yescrypt");
		goto out;
	}
	len = snprintf(line, sizeof(line), SECRET_MAGIC "%u %lld %s\n", (unsigned)p->uid,
		       (long long)p->created, out);
	if (len < 0 || len >= (int)sizeof(line)) {
		r = accord_err_set(err, -EINVAL, "the password hash is too long");
		goto out;
	}
	secrets_sweep_tmp(s->pw_fd, false);
	r = secrets_tmp_name(tmp, sizeof(tmp));
	if (r < 0) {
		r = accord_err_set(err, r, "cannot name a temporary file");
		goto out;
	}
	fd = openat(s->pw_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = accord_err_set(err, -errno, "cannot create a file in %s/password: %s",
				   s->path, strerror(errno));
		goto out;
	}
	accord_wguard_begin(&g);
	r = pwrite_all(fd, (const unsigned char *)line, (size_t)len, 0);
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	accord_wguard_end(&g);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && renameat(s->pw_fd, tmp, s->pw_fd, p->name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(s->pw_fd, tmp, 0);
		r = accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r));
		goto out;
	}
	if (fsync(s->pw_fd) < 0 && errno != EINVAL)
		r = accord_err_set(err, -errno, "cannot sync %s/password: %s", s->path,
				   strerror(errno));
out:
	explicit_bzero(line, sizeof(line));
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	free(setting);
	return r;
}

/* accord_secret_set_hash(): a hash crypt(3) can verify with, nothing that
 * could break the one-line file format. */
static int check_stored_hash(const char *hash, struct accord_err *err)
{
	size_t i, n = strlen(hash);

	if (n < 2 || n >= CRYPT_OUTPUT_SIZE || hash[0] != '$')
		return accord_err_set(err, -EINVAL, "not a crypt(3) password hash");
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789./$=,-", hash[i]))
			return accord_err_set(err, -EINVAL, "not a crypt(3) password hash");
	if (crypt_checksalt(hash) == CRYPT_SALT_INVALID)
		return accord_err_set(err, -EINVAL, "the password hash has a method "
				      "this system's crypt(3) does not know");
	return 0;
}

int accord_secret_set_hash(struct accord_secrets *s,
			   const struct accord_profile_ref *p, const char *hash,
			   struct accord_err *err)
{
	char path[PATH_MAX + 64], tmp[64], line[CRYPT_OUTPUT_SIZE + 64];
	int fd = -1, r, len;
	struct accord_wguard g;

	r = check_profile_name(p->name, err);
	if (r == 0)
		r = check_stored_hash(hash, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/password/%s", s->path, p->name);
	len = snprintf(line, sizeof(line), SECRET_MAGIC "%u %lld %s\n", (unsigned)p->uid,
		       (long long)p->created, hash);
	if (len < 0 || len >= (int)sizeof(line))
		return accord_err_set(err, -EINVAL, "the password hash is too long");
	secrets_sweep_tmp(s->pw_fd, false);
	r = secrets_tmp_name(tmp, sizeof(tmp));
	if (r < 0) {
		r = accord_err_set(err, r, "cannot name a temporary file");
		goto out;
	}
	fd = openat(s->pw_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = accord_err_set(err, -errno, "cannot create a file in %s/password: %s",
				   s->path, strerror(errno));
		goto out;
	}
	accord_wguard_begin(&g);
	r = pwrite_all(fd, (const unsigned char *)line, (size_t)len, 0);
	if (r == 0 && fchmod(fd, 0600) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	accord_wguard_end(&g);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(s->pw_fd, tmp, s->pw_fd, p->name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(s->pw_fd, tmp, 0);
		r = accord_err_set(err, r, "cannot write %s: %s", path, strerror(-r));
		goto out;
	}
	if (fsync(s->pw_fd) < 0 && errno != EINVAL)
		r = accord_err_set(err, -errno, "cannot sync %s/password: %s", s->path,
				   strerror(errno));
out:
	explicit_bzero(line, sizeof(line));
	return r;
}

static int remove_file(int dir_fd, const char *dir, const char *name,
		       struct accord_err *err)
{
	if (unlinkat(dir_fd, name, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return accord_err_set(err, -errno, "cannot remove %s/%s: %s", dir, name,
				      strerror(errno));
	}
	if (fsync(dir_fd) < 0 && errno != EINVAL)
		return accord_err_set(err, -errno, "cannot sync %s: %s", dir,
				      strerror(errno));
	return 0;
}

int accord_secret_clear(struct accord_secrets *s, const char *name,
			struct accord_err *err)
{
	char dir[PATH_MAX + 16];
	int r = check_profile_name(name, err);

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/password", s->path);
	return remove_file(s->pw_fd, dir, name, err);
}

int accord_secrets_forget(struct accord_secrets *s, const char *name,
			  struct accord_err *err)
{
	char dir[PATH_MAX + 16];
	int r = check_profile_name(name, err);

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/password", s->path);
	r = remove_file(s->pw_fd, dir, name, err);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/logon", s->path);
	return remove_file(s->logon_fd, dir, name, err);
}

/* ---- logon records: encoding -------------------------------------------- */

static void put32(unsigned char *b, uint32_t v)
{
	v = htole32(v);
	memcpy(b, &v, 4);
}

static void put64(unsigned char *b, uint64_t v)
{
	v = htole64(v);
	memcpy(b, &v, 8);
}

static uint32_t get32(const unsigned char *b)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return le32toh(v);
}

static uint64_t get64(const unsigned char *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return le64toh(v);
}

static void slot_encode(unsigned char *b, uint32_t seq, const struct accord_profile_ref *p,
			const struct accord_logon_rec *r)
{
	memcpy(b, LOGON_MAGIC, 8);
	put32(b + 8, seq);
	put32(b + 12, p->uid);
	put64(b + 16, (uint64_t)p->created);
	put32(b + 24, r->failures);
	put32(b + 28, r->revoked);
	put64(b + 32, (uint64_t)r->last_success);
	put64(b + 40, (uint64_t)r->last_failure);
	put64(b + 48, (uint64_t)r->revoked_at);
	put64(b + 56, accord_checksum(b, 56));
}

static bool slot_valid(const unsigned char *b)
{
	return !memcmp(b, LOGON_MAGIC, 8) && get32(b + 8) != 0 &&
	       get64(b + 56) == accord_checksum(b, 56) &&
	       get32(b + 28) <= ACCORD_LOGON_REVOKED_INACTIVE;
}

static bool all_zero(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* seq a is newer than seq b (serial arithmetic: a wrap is harmless) */
static bool seq_newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

enum slot_state { SLOT_ABSENT, SLOT_EMPTY, SLOT_INVALID, SLOT_VALID };

/* What a read of the record file found; what a write needs. */
struct rec_view {
	enum slot_state st[2];
	uint32_t seq[2];
	int winner;     /* the valid slot holding the record, -1 none */
	size_t size;    /* bytes read, at most LOGON_SIZE + 1 */
};

/*
 * Parses the file's bytes.  0 with *out (all zero when nothing is stored
 * yet or the record belongs to an earlier profile of the same name), or
 * -EBADMSG (no valid slot, and not a file nothing was ever completely
 * written to).
 */
static int view_parse(const unsigned char *b, size_t n, const struct accord_profile_ref *p,
		      struct rec_view *v, struct accord_logon_rec *out)
{
	const unsigned char *w;
	int i;

	memset(v, 0, sizeof(*v));
	memset(out, 0, sizeof(*out));
	v->winner = -1;
	v->size = n;
	if (n > LOGON_SIZE)
		return -EBADMSG;
	for (i = 0; i < 2; i++) {
		size_t off = (size_t)i * SLOT_SIZE;

		if (n <= off)
			v->st[i] = SLOT_ABSENT;
		else if (n < off + SLOT_SIZE)
			v->st[i] = SLOT_INVALID;  /* a torn extension */
		else if (all_zero(b + off, SLOT_SIZE))
			v->st[i] = SLOT_EMPTY;
		else if (slot_valid(b + off))
			v->st[i] = SLOT_VALID;
		else
			v->st[i] = SLOT_INVALID;
		if (v->st[i] == SLOT_VALID) {
			v->seq[i] = get32(b + off + 8);
			if (v->winner < 0 || seq_newer(v->seq[i], v->seq[v->winner]))
				v->winner = i;
		}
	}
	if (v->winner < 0) {
		/* never written (empty file), or the first write was torn:
		 * the first write goes to slot 1, so slot 0 is still the
		 * hole of zeros it left */
		if (n == 0 || v->st[0] == SLOT_EMPTY)
			return 0;
		return -EBADMSG;
	}
	w = b + (size_t)v->winner * SLOT_SIZE;
	if (get32(w + 12) != p->uid || (int64_t)get64(w + 16) != p->created)
		return 0;  /* an earlier profile of the same name */
	out->failures = get32(w + 24);
	out->revoked = get32(w + 28);
	out->last_success = (int64_t)get64(w + 32);
	out->last_failure = (int64_t)get64(w + 40);
	out->revoked_at = (int64_t)get64(w + 48);
	return 0;
}

static int damaged(const char *path, const char *name, struct accord_err *err)
{
	return accord_err_set(err, -EBADMSG,
			      "logon record %s is damaged; accordctl user resume %s resets it",
			      path, name);
}

/* Reads up to LOGON_SIZE + 1 bytes at 0 (a longer file is damaged). */
static int read_view(int fd, const struct accord_profile_ref *p, struct rec_view *v,
		     struct accord_logon_rec *out, const char *path, struct accord_err *err)
{
	unsigned char b[LOGON_SIZE + 1];
	ssize_t n;

	do
		n = pread(fd, b, sizeof(b), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return accord_err_set(err, -EIO, "cannot read %s: %s", path, strerror(errno));
	return view_parse(b, (size_t)n, p, v, out);
}

/* The sequence number after s (never 0). */
static uint32_t seq_after(uint32_t s)
{
	return s + 1 ? s + 1 : 1;
}

/*
 * Writes rec into the slot that does not hold the current record (slot 1
 * when there is none yet, keeping slot 0 as the empty fallback), fsyncs,
 * and makes it the current one in *v.  With both, then writes the other
 * slot too (reset: repairs a damaged file; a tear in the second write
 * leaves the first, newer, as the record) and cuts a longer file to size.
 * Under the record's write lock.
 */
static int write_view(struct accord_secrets *s, int fd, struct rec_view *v,
		      const struct accord_profile_ref *p, const struct accord_logon_rec *rec,
		      bool both, const char *path, struct accord_err *err)
{
	unsigned char w[SLOT_SIZE];
	struct accord_wguard g;
	bool was_empty = v->size == 0;
	int i, r = 0;

	accord_wguard_begin(&g);
	for (i = 0; i < (both ? 2 : 1) && r == 0; i++) {
		int target = v->winner < 0 ? 1 : 1 - v->winner;
		uint32_t seq = seq_after(v->winner < 0 ? 0 : v->seq[v->winner]);

		slot_encode(w, seq, p, rec);
		r = pwrite_all(fd, w, SLOT_SIZE, (off_t)target * SLOT_SIZE);
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		if (r == 0) {
			v->st[target] = SLOT_VALID;
			v->seq[target] = seq;
			v->winner = target;
		}
	}
	if (r == 0 && v->size > LOGON_SIZE) {
		if (ftruncate(fd, LOGON_SIZE) < 0 || fsync(fd) < 0)
			r = -errno;
	}
	accord_wguard_end(&g);
	if (r < 0)
		return accord_err_set(err, r == -EACCES || r == -ENOENT ? -EIO : r,
				      "cannot write %s: %s", path, strerror(-r));
	if (v->size < (size_t)(v->winner + 1) * SLOT_SIZE || v->size > LOGON_SIZE)
		v->size = (size_t)(v->winner + 1) * SLOT_SIZE;
	/* a record this call created: make its name durable too */
	if (was_empty && fsync(s->logon_fd) < 0 && errno != EINVAL)
		return accord_err_set(err, -EIO, "cannot sync %s/logon: %s", s->path,
				      strerror(errno));
	return 0;
}

/*
 * Opens the record (creating it), checks it, takes its write lock within
 * the store's lock timeout.  The lock goes away with the descriptor.
 */
static int open_locked(struct accord_secrets *s, const struct accord_profile_ref *p,
		       const char *path, struct accord_err *err)
{
	struct stat st;
	int fd, r;

	fd = openat(s->logon_fd, p->name,
		    O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return secrets_open_error(errno, path, err);
	r = secrets_fd_trusted(fd, false, 1, path, &st, err);
	if (r < 0)
		goto fail;
	/* a new file has 0600 minus the umask: give the owner back rw */
	if ((st.st_mode & 0777) != 0600 && fchmod(fd, 0600) < 0) {
		r = accord_err_set(err, -EPERM, "cannot chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	r = lock_record(fd, F_WRLCK, s->lock_timeout_ms, path, err);
	if (r < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

/* ---- logon records: operations ------------------------------------------ */

int accord_logon_read(struct accord_secrets *s,
		      const struct accord_profile_ref *p,
		      struct accord_logon_rec *out, struct accord_err *err)
{
	char path[PATH_MAX + 64];
	struct rec_view v;
	struct stat st;
	int fd, r;

	memset(out, 0, sizeof(*out));
	r = check_profile_name(p->name, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/logon/%s", s->path, p->name);
	fd = openat(s->logon_fd, p->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return secrets_open_error(errno, path, err);
	}
	r = secrets_fd_trusted(fd, false, 1, path, &st, err);
	if (r < 0)
		goto out;
	/* no lock: a slot being written fails its checksum and the other
	 * one, the state before that write, is read */
	r = read_view(fd, p, &v, out, path, err);
	if (r != -EBADMSG)
		goto out;
	/* neither slot whole: read again under a read lock, which no
	 * writer holds its write lock against, before calling it damage */
	r = lock_record(fd, F_RDLCK, s->lock_timeout_ms, path, err);
	if (r < 0)
		goto out;
	r = read_view(fd, p, &v, out, path, err);
	if (r == -EBADMSG) {
		memset(out, 0, sizeof(*out));
		r = damaged(path, p->name, err);
	}
out:
	close(fd);
	return r;
}

enum logon_op {
	OP_FAILURE,
	OP_SUCCESS,
	OP_TOUCH,
	OP_REVOKE,
	OP_RESET,
};

/*
 * Open (creating), check, lock, read, change, write one slot, fsync.
 * Only OP_RESET overwrites a damaged record (both slots).
 */
static int logon_update(struct accord_secrets *s, const struct accord_profile_ref *p,
			enum logon_op op, unsigned arg, int64_t now,
			struct accord_logon_rec *after, struct accord_err *err)
{
	char path[PATH_MAX + 64];
	struct accord_logon_rec rec;
	struct rec_view v;
	bool write_it = true;
	int fd, r;

	r = check_profile_name(p->name, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/logon/%s", s->path, p->name);
	fd = open_locked(s, p, path, err);
	if (fd < 0)
		return fd;
	r = read_view(fd, p, &v, &rec, path, err);
	if (r == -EBADMSG && op != OP_RESET) {
		r = damaged(path, p->name, err);
		goto out;
	}
	if (r < 0 && r != -EBADMSG)
		goto out;
	r = 0;
	switch (op) {
	case OP_FAILURE:
		if (rec.failures < UINT32_MAX)
			rec.failures++;
		rec.last_failure = now;
		if (arg > 0 && rec.failures >= arg &&
		    rec.revoked == ACCORD_LOGON_NOT_REVOKED) {
			rec.revoked = ACCORD_LOGON_REVOKED_FAILURES;
			rec.revoked_at = now;
		}
		break;
	case OP_SUCCESS:
		rec.failures = 0;
		rec.last_success = now;
		break;
	case OP_TOUCH:
		if (rec.last_success > now - DAY)
			write_it = false;
		else
			rec.last_success = now;
		break;
	case OP_REVOKE:
		if (rec.revoked != ACCORD_LOGON_NOT_REVOKED) {
			write_it = false;
		} else {
			rec.revoked = arg;
			rec.revoked_at = now;
		}
		break;
	case OP_RESET:
		rec.failures = 0;
		rec.revoked = ACCORD_LOGON_NOT_REVOKED;
		rec.revoked_at = 0;
		rec.last_success = now;
		break;
	}
	if (write_it) {
		r = write_view(s, fd, &v, p, &rec, op == OP_RESET, path, err);
		if (r < 0)
			goto out;
	}
	if (after)
		*after = rec;
out:
	close(fd);
	return r;
}

int accord_logon_failure(struct accord_secrets *s,
			 const struct accord_profile_ref *p,
			 unsigned revoke_after, int64_t now,
			 struct accord_logon_rec *after,
			 struct accord_err *err)
{
	return logon_update(s, p, OP_FAILURE, revoke_after, now, after, err);
}

int accord_logon_success(struct accord_secrets *s,
			 const struct accord_profile_ref *p, int64_t now,
			 struct accord_err *err)
{
	return logon_update(s, p, OP_SUCCESS, 0, now, NULL, err);
}

int accord_logon_touch(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err)
{
	struct accord_logon_rec rec;
	int r;

	/* the common case, recent enough: one read, no lock, no write */
	r = accord_logon_read(s, p, &rec, err);
	if (r < 0)
		return r;
	if (rec.last_success > now - DAY)
		return 0;
	return logon_update(s, p, OP_TOUCH, 0, now, NULL, err);
}

int accord_logon_revoke(struct accord_secrets *s,
			const struct accord_profile_ref *p, uint32_t why,
			int64_t now, struct accord_err *err)
{
	if (why != ACCORD_LOGON_REVOKED_FAILURES && why != ACCORD_LOGON_REVOKED_INACTIVE)
		return accord_err_set(err, -EINVAL, "unknown revoke reason %u", why);
	return logon_update(s, p, OP_REVOKE, why, now, NULL, err);
}

int accord_logon_reset(struct accord_secrets *s,
		       const struct accord_profile_ref *p, int64_t now,
		       struct accord_err *err)
{
	return logon_update(s, p, OP_RESET, 0, now, NULL, err);
}

/* An error of the verify that is not a verdict must not read as one. */
static int not_a_verdict(int r)
{
	if (r == -EACCES || r == -EKEYREVOKED)
		return -EPERM;
	if (r == -ENOENT)
		return -EIO;
	return r;
}

int accord_logon_verify(struct accord_secrets *s, const struct accord_profile_ref *p,
			const char *pw, unsigned revoke_after, int64_t now,
			struct accord_logon_rec *after, struct accord_err *err)
{
	char path[PATH_MAX + 64], hash[CRYPT_OUTPUT_SIZE];
	struct accord_logon_rec rec, dummy;
	struct rec_view v;
	bool have_hash = false;
	int fd = -1, r, w;

	if (!after)
		after = &dummy;
	memset(after, 0, sizeof(*after));
	r = check_profile_name(p->name, err);
	if (r == 0 && !pw)
		r = accord_err_set(err, -EINVAL, "no password given");
	if (r < 0)
		goto no_verify;
	snprintf(path, sizeof(path), "%s/logon/%s", s->path, p->name);
	fd = open_locked(s, p, path, err);
	if (fd < 0) {
		r = fd;
		goto no_verify;
	}
	r = read_view(fd, p, &v, &rec, path, err);
	if (r == -EBADMSG)
		r = damaged(path, p->name, err);
	if (r < 0)
		goto no_verify;
	/* a revoke that came while the user typed (another host, another
	 * attempt): checked under the lock, never verified past */
	if (rec.revoked != ACCORD_LOGON_NOT_REVOKED) {
		*after = rec;
		accord_secret_dummy_verify(pw);
		r = accord_err_set(err, -EKEYREVOKED, "%s is revoked (%s, @%lld)", p->name,
				   rec.revoked == ACCORD_LOGON_REVOKED_FAILURES ?
				   "bad passwords" : "inactivity", (long long)rec.revoked_at);
		goto out;
	}
	/* the stored hash: a store we cannot read counts nothing, and
	 * verifies nothing */
	r = load_secret(s, p, hash, err);
	if (r == 0)
		have_hash = true;
	else if (r != -ENOENT)
		goto no_verify;

	/* count first: the attempt is on disk before its answer exists */
	if (rec.failures < UINT32_MAX)
		rec.failures++;
	rec.last_failure = now;
	w = write_view(s, fd, &v, p, &rec, false, path, err);
	if (w < 0) {
		r = accord_err_prefix(err, w,
				      "cannot count the attempt for %s, so its password was "
				      "not checked", p->name);
		goto no_verify;
	}
	*after = rec;

	if (have_hash) {
		r = check_hash(s, p, pw, hash, err);
	} else {
		accord_secret_dummy_verify(pw);
		/* r is -ENOENT, err says why */
	}
	if (r == 0) {
		struct accord_logon_rec ok = rec;

		ok.failures = 0;
		ok.last_success = now;
		w = write_view(s, fd, &v, p, &ok, false, path, err);
		if (w < 0) {
			/* counted, so allowed: the count stays until the next
			 * success */
			accord_err_prefix(err, w, "the success of %s was not recorded", p->name);
			r = 1;
			goto out;
		}
		*after = ok;
		goto out;
	}
	if (r != -EACCES && r != -ENOENT)
		goto out;  /* -EBADMSG, -ENOMEM: counted, not a verdict */
	if (revoke_after > 0 && rec.failures >= revoke_after) {
		int code = r;

		rec.revoked = ACCORD_LOGON_REVOKED_FAILURES;
		rec.revoked_at = now;
		w = write_view(s, fd, &v, p, &rec, false, path, err);
		if (w < 0) {
			r = accord_err_prefix(err, w,
					      "bad password for %s (%u in a row); the revoke "
					      "was not recorded", p->name, rec.failures);
			goto out;
		}
		*after = rec;
		r = code;
	}
	goto out;
no_verify:
	accord_secret_dummy_verify(pw);
	r = not_a_verdict(r);
	if (err)
		err->code = r;
out:
	explicit_bzero(hash, sizeof(hash));
	if (fd >= 0)
		close(fd);
	return r;
}

int accord_logon_check(struct accord_secrets *s, const struct accord_profile_ref *p,
		       accord_logon_check_fn check, void *arg,
		       unsigned revoke_after, int64_t now,
		       struct accord_logon_rec *after, struct accord_err *err)
{
	char path[PATH_MAX + 64];
	struct accord_logon_rec rec, dummy;
	struct rec_view v;
	int fd = -1, r, w;

	if (!after)
		after = &dummy;
	memset(after, 0, sizeof(*after));
	r = check_profile_name(p->name, err);
	if (r == 0 && !check)
		r = accord_err_set(err, -EINVAL, "no check given");
	if (r < 0)
		goto no_check;
	snprintf(path, sizeof(path), "%s/logon/%s", s->path, p->name);
	fd = open_locked(s, p, path, err);
	if (fd < 0) {
		r = fd;
		fd = -1;
		goto no_check;
	}
	r = read_view(fd, p, &v, &rec, path, err);
	if (r == -EBADMSG)
		r = damaged(path, p->name, err);
	if (r < 0)
		goto no_check;
	/* a revoke that came while the user typed: never checked past */
	if (rec.revoked != ACCORD_LOGON_NOT_REVOKED) {
		*after = rec;
		r = accord_err_set(err, -EKEYREVOKED, "%s is revoked (%s, @%lld)", p->name,
				   rec.revoked == ACCORD_LOGON_REVOKED_FAILURES ?
				   "bad secrets" : "inactivity", (long long)rec.revoked_at);
		goto out;
	}
	/* count first: the attempt is on disk before its answer exists */
	if (rec.failures < UINT32_MAX)
		rec.failures++;
	rec.last_failure = now;
	w = write_view(s, fd, &v, p, &rec, false, path, err);
	if (w < 0) {
		r = accord_err_prefix(err, w,
				      "cannot count the attempt for %s, so its secret was "
				      "not checked", p->name);
		goto no_check;
	}
	*after = rec;

	r = check(arg, err);
	if (r == 0) {
		struct accord_logon_rec ok = rec;

		ok.failures = 0;
		ok.last_success = now;
		w = write_view(s, fd, &v, p, &ok, false, path, err);
		if (w < 0) {
			accord_err_prefix(err, w, "the success of %s was not recorded", p->name);
			r = 1;
			goto out;
		}
		*after = ok;
		goto out;
	}
	if (r != -EACCES) {
		/* counted, not a verdict */
		r = not_a_verdict(r);
		if (err)
			err->code = r;
		goto out;
	}
	if (revoke_after > 0 && rec.failures >= revoke_after) {
		rec.revoked = ACCORD_LOGON_REVOKED_FAILURES;
		rec.revoked_at = now;
		w = write_view(s, fd, &v, p, &rec, false, path, err);
		if (w < 0) {
			r = accord_err_prefix(err, w,
					      "bad secret for %s (%u in a row); the revoke "
					      "was not recorded", p->name, rec.failures);
			goto out;
		}
		*after = rec;
	}
	goto out;
no_check:
	r = not_a_verdict(r);
	if (err)
		err->code = r;
out:
	if (fd >= 0)
		close(fd);
	return r;
}
